"""The dask tier of expfam.geometry: every block runs the numpy tier, so the same bits."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from expfam import geometry  # noqa: E402


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    p = rng.dirichlet(np.full(6, 0.7), size=14)
    q = rng.dirichlet(np.full(6, 0.7), size=14)
    p[2, 1:] = 0.0  # a vertex
    p[2, 0] = 1.0
    q[3, 4] = 0.0  # q = 0 < p: infinite KL
    q[3] /= q[3].sum()
    q[5] = p[5]  # p = q: 0
    return p, q


PAIRWISE = [
    ("kl", ()),
    ("jeffreys", ()),
    ("jensen_shannon", ()),
    ("jensen_shannon_distance", ()),
    ("hellinger", ()),
    ("bhattacharyya_coefficient", ()),
    ("bhattacharyya_distance", ()),
    ("fisher_rao_distance", ()),
    ("alpha_divergence", (0.3,)),
    ("tsallis_divergence", (2.0,)),
    ("renyi_divergence", (0.5,)),
]


@pytest.mark.parametrize("name,args", PAIRWISE, ids=[n for n, _ in PAIRWISE])
def test_divergences_are_the_numpy_tier(name, args):
    p, q = points()
    fn = getattr(geometry, name)
    expected = fn(p, q, *args)
    dp = da.from_array(p, chunks=(4, 6))
    cases = (
        (q, expected),
        (da.from_array(q, chunks=(4, 6)), expected),
        (q[0], fn(p, q[0], *args)),
    )
    for other, want in cases:
        got = fn(dp, other, *args)
        assert isinstance(got, da.Array) and got.dtype == np.float64
        np.testing.assert_array_equal(got.compute(), want)


def test_chernoff_information_is_the_numpy_tier():
    p, q = points()
    info, exponent = geometry.chernoff_information(da.from_array(p, chunks=(5, 6)), q)
    want_info, want_exponent = geometry.chernoff_information(p, q)
    np.testing.assert_array_equal(info.compute(), want_info)
    np.testing.assert_array_equal(exponent.compute(), want_exponent)


def test_bad_input_names_the_argument():
    p, q = points()
    with pytest.raises(ValueError, match="q: expected the chunks of p"):
        geometry.kl(da.from_array(p, chunks=(4, 6)), da.from_array(q, chunks=(5, 6)))
    with pytest.raises(ValueError, match="p: expected the class axis in one chunk"):
        geometry.hellinger(da.from_array(p, chunks=(4, 3)), q)
    with pytest.raises(ValueError, match="q: shape"):
        geometry.kl(da.from_array(p, chunks=(4, 6)), q[:, :5])
    bad = p.copy()
    bad[0, 0] = -0.1
    with pytest.raises(ValueError, match="p"):
        geometry.kl(da.from_array(bad, chunks=(4, 6)), q).compute()
