"""The dask tier of expfam.special against the numpy tier on the same data.

A row whose classes sit in one chunk runs the numpy tier itself: the result
must be the same bits. A class axis split across chunks goes through the
tree reduction of (max, double-double sum) partials: within a few ULP of the
numpy tier, with the same special values (-inf classes, +inf ties, NaN rows,
masked and empty rows).
"""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import expfam  # noqa: E402
from expfam import special  # noqa: E402


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def ulp_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance in ULPs of ``b`` between finite entries; inf if the
    special values (NaN, +-inf) differ in place."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return np.inf
    finite = np.isfinite(b)
    if not np.array_equal(a[~finite & ~np.isnan(b)], b[~finite & ~np.isnan(b)]):
        return np.inf
    if not np.array_equal(np.isfinite(a), finite):
        return np.inf
    if not finite.any():
        return 0.0
    diff = np.abs(a[finite].astype(np.float64) - b[finite].astype(np.float64))
    return float(np.max(diff / np.spacing(np.abs(b[finite])).astype(np.float64)))


def logits(dtype=np.float64) -> np.ndarray:
    """Rows with every special case of the contract, beside plain random rows."""
    rng = np.random.default_rng(7)
    z = rng.normal(scale=6.0, size=(12, 37))
    z[1, ::3] = -np.inf  # classes of probability 0
    z[2] = -np.inf  # no distribution
    z[3, 5] = np.inf  # one class takes the mass
    z[4, [0, 30]] = np.inf  # two share it
    z[5, 11] = np.nan
    z[6] = 0.0  # uniform
    z[7] = rng.normal(scale=1e-3, size=37) + 800.0  # large, near-tied
    z[8, 0] = 40.0  # one dominant class: log_softmax ~ -4e-18
    z[8, 1:] = -5.0
    return z.astype(dtype)


ROW_CHUNKS = (5, 37)  # classes of a row in one chunk: the numpy tier per block
SPLIT_CHUNKS = (5, 8)  # the class axis split in five chunks


def test_import_expfam_does_not_import_dask():
    import subprocess
    import sys

    code = "import sys, expfam; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax", "entropy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_kernels_match_numpy(name, dtype):
    z = logits(dtype)
    fn = getattr(special, name)
    expected = fn(z)
    whole = fn(da.from_array(z, chunks=ROW_CHUNKS))
    assert isinstance(whole, da.Array)
    assert whole.dtype == expected.dtype
    np.testing.assert_array_equal(whole.compute(), expected)  # bitwise, NaN in place
    split = fn(da.from_array(z, chunks=SPLIT_CHUNKS))
    assert isinstance(split, da.Array) and split.dtype == expected.dtype
    assert split.chunks[0] == (5, 5, 2)
    assert ulp_distance(split.compute(), expected) <= (4 if dtype == np.float64 else 1)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_temperatures_match_numpy(name):
    z = logits()
    beta = np.array([0.0, 1.0, 2.5, np.inf, 0.5, 1.0, 3.0, 0.1, 7.0, 1.0, np.inf, 0.0])
    fn = getattr(special, name)
    for b in (2.5, 0.0, np.inf, beta, da.from_array(beta, chunks=5)):
        expected = fn(z, beta=np.asarray(b))
        for chunks, ulps in ((ROW_CHUNKS, 0), (SPLIT_CHUNKS, 4)):
            got = fn(da.from_array(z, chunks=chunks), beta=b).compute()
            assert ulp_distance(got, expected) <= ulps, (b, chunks)


def test_masks_match_numpy():
    z = logits()
    rng = np.random.default_rng(1)
    where = rng.random(z.shape) < 0.6
    where[9] = False  # the empty distribution
    where[10, 17] = False
    for name in ("logsumexp", "softmax", "log_softmax", "entropy"):
        fn = getattr(special, name)
        expected = fn(z, where=where)
        for chunks, ulps in ((ROW_CHUNKS, 0), (SPLIT_CHUNKS, 4)):
            for mask in (where, da.from_array(where, chunks=chunks)):
                got = fn(da.from_array(z, chunks=chunks), where=mask).compute()
                assert ulp_distance(got, expected) <= ulps, (name, chunks)


@pytest.mark.parametrize("chunks,ulps", [(ROW_CHUNKS, 0), (SPLIT_CHUNKS, 4)])
def test_cross_entropy_with_class_indices(chunks, ulps):
    z = logits()
    z[5, 11] = 0.0  # keep NaN out of this one: it is tested above
    y = np.arange(12) * 3 % 37
    y[1] = 3  # a -inf class: +inf loss
    where = np.ones(z.shape, bool)
    where[9] = False
    for kwargs in ({}, {"beta": 2.0}, {"beta": np.inf}, {"where": where}, {"keepdims": True}):
        expected = special.cross_entropy(z, y, **kwargs)
        got = special.cross_entropy(da.from_array(z, chunks=chunks), y, **kwargs).compute()
        assert ulp_distance(got, expected) <= ulps, kwargs
    dy = da.from_array(y, chunks=chunks[0])
    got = special.cross_entropy(da.from_array(z, chunks=chunks), dy).compute()
    assert ulp_distance(got, special.cross_entropy(z, y)) <= ulps


def test_cross_entropy_index_out_of_range_raises_when_computed():
    z = da.zeros((4, 6), chunks=(2, 3))
    with pytest.raises(ValueError, match="target: class index 6 is out of range"):
        special.cross_entropy(z, np.array([0, 1, 6, 2])).compute()


@pytest.mark.parametrize("chunks,ulps", [(ROW_CHUNKS, 0), (SPLIT_CHUNKS, 4)])
def test_cross_entropy_with_probability_targets(chunks, ulps):
    rng = np.random.default_rng(3)
    z = logits()
    q = special.softmax(2 * rng.normal(size=z.shape))
    q[1, ::3] = 0.0  # no weight on the -inf classes: finite
    q[4] = 0.0
    q[4, [0, 30]] = [0.25, 0.75]  # weight only on the tied +inf classes: log 2
    q[10] = 0.0  # no weight at all: 0
    q[11, :] = 1.0  # unnormalized weights
    z[7, :20] += 3000.0  # classes of log-probability -3000 or so
    where = rng.random(z.shape) < 0.7
    where[9] = False
    dz = da.from_array(z, chunks=chunks)
    for kwargs in ({}, {"beta": 2.0}, {"beta": np.inf}, {"beta": 0.0}, {"where": where}):
        expected = special.cross_entropy(z, q, **kwargs)
        assert np.isinf(expected).any() and np.isnan(expected).any()
        for target in (q, da.from_array(q, chunks=chunks)):
            got = special.cross_entropy(dz, target, **kwargs).compute()
            assert ulp_distance(got, expected) <= ulps, kwargs
    with pytest.raises(ValueError, match="target: class weights must be non-negative"):
        special.cross_entropy(dz, -q).compute()
    with pytest.raises(ValueError, match="target: shape"):
        special.cross_entropy(dz, q[:, :1])


def test_kl_divergence_blockwise():
    rng = np.random.default_rng(4)
    zp, zq = rng.normal(size=(2, 10, 6))
    zq[3] = zp[3] + 1e-9
    expected = special.kl_divergence(zp, zq)
    dp = da.from_array(zp, chunks=(3, 6))
    got = special.kl_divergence(dp, da.from_array(zq, chunks=(3, 6))).compute()
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(special.kl_divergence(dp, zq).compute(), expected)
    with pytest.raises(ValueError, match="logits_q: expected the chunks of logits_p"):
        special.kl_divergence(dp, da.from_array(zq, chunks=(5, 6)))
    with pytest.raises(ValueError, match="logits_p: expected the class axis in one chunk"):
        special.kl_divergence(
            da.from_array(x3 := rng.normal(size=(2, 3, 4)), chunks=1), x3, (1, 2)
        )


def kl_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Pairs of logit rows with every case of KL's contract."""
    rng = np.random.default_rng(8)
    zp, zq = rng.normal(scale=4.0, size=(2, 14, 37))
    zq[1] = zp[1] + 1e-9 * rng.normal(size=37)  # q -> p: no cancellation allowed
    zq[2] = zp[2] + 0.3  # the same distribution, up to the rounding of the shift
    zp[3, ::4] = -np.inf  # p on a face of the simplex
    zq[4, 5] = -np.inf  # q = 0 < p: inf
    zp[5] = -np.inf  # p has no class
    zq[6] = -np.inf  # q has none
    zp[7, 3] = np.inf  # p a vertex
    zp[8, [1, 2, 3]] = np.inf  # ties at +inf in both
    zq[8, [1, 2]] = np.inf
    zp[9, 4] = np.nan
    zq[10, ::3] = -np.inf
    zp[11] = zq[11]
    zq[12, ::2] = -np.inf  # q has mass off p's support, and p none off q's
    zp[12, 1::2] = -np.inf
    zp[13], zq[13] = 900.0 + zp[13], zq[13] - 900.0  # far apart
    return zp, zq


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kl_divergence_over_a_split_class_axis(dtype):
    zp, zq = (z.astype(dtype) for z in kl_pairs())
    expected = special.kl_divergence(zp, zq)
    dp, dq = da.from_array(zp, chunks=SPLIT_CHUNKS), da.from_array(zq, chunks=SPLIT_CHUNKS)
    got = special.kl_divergence(dp, dq)
    assert isinstance(got, da.Array) and got.dtype == expected.dtype
    assert ulp_distance(got.compute(), expected) <= (4 if dtype == np.float64 else 1)
    where = np.random.default_rng(2).random(zp.shape) < 0.6
    where[3] = False
    got = special.kl_divergence(dp, zq, where=where, keepdims=True).compute()
    assert ulp_distance(got, special.kl_divergence(zp, zq, where=where, keepdims=True)) <= 4
    got = special.kl_divergence(dp.T, dq.T, axis=0).compute()
    assert ulp_distance(got, expected) <= (4 if dtype == np.float64 else 1)


def test_other_axes_and_keepdims():
    z = logits()[:, :20]
    z[5, 11] = 0.0
    zt = np.ascontiguousarray(z.T)  # classes on axis 0
    for name in ("logsumexp", "entropy"):
        fn = getattr(special, name)
        for chunks in ((20, 4), (7, 4)):
            got = fn(da.from_array(zt, chunks=chunks), axis=0, keepdims=True).compute()
            assert got.shape == (1, 12)
            assert ulp_distance(got, fn(zt, axis=0, keepdims=True)) <= 4
    for chunks in ((20, 4), (7, 4)):
        got = special.softmax(da.from_array(zt, chunks=chunks), axis=0).compute()
        assert ulp_distance(got, special.softmax(zt, axis=0)) <= 4
    x3 = np.random.default_rng(5).normal(size=(3, 4, 5))
    got = special.logsumexp(da.from_array(x3, chunks=(1, 4, 5)), axis=(1, 2)).compute()
    np.testing.assert_array_equal(got, special.logsumexp(x3, axis=(1, 2)))
    with pytest.raises(ValueError, match="a: expected the class axis in one chunk"):
        special.logsumexp(da.from_array(x3, chunks=(1, 2, 5)), axis=(1, 2))


def test_logsumexp_weights_and_sign():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(6, 5))
    b = rng.normal(size=(6, 5))
    expected = special.logsumexp(a, b=b, return_sign=True)
    got = special.logsumexp(da.from_array(a, chunks=(2, 5)), b=b, return_sign=True)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g.compute(), e)
    value, sign = special.logsumexp(da.from_array(a, chunks=(2, 2)), return_sign=True)
    assert ulp_distance(value.compute(), special.logsumexp(a)) <= 4
    np.testing.assert_array_equal(sign.compute(), np.ones(6))
    with pytest.raises(ValueError, match="a: expected the class axis in one chunk when weights"):
        special.logsumexp(da.from_array(a, chunks=(2, 2)), b=b)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "log_sigmoid", "log1mexp"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_elementwise_is_the_numpy_tier(name, dtype):
    x = np.linspace(-50, -1e-3, 23) if name == "log1mexp" else np.linspace(-50, 50, 23)
    x = (
        x.astype(dtype)
        if dtype != np.int64
        else np.arange(-11, 12) * (-1 if name == "log1mexp" else 1)
    )
    fn = getattr(special, name)
    got = fn(da.from_array(x, chunks=5))
    expected = fn(x)
    assert got.dtype == expected.dtype and got.chunks == ((5, 5, 5, 5, 3),)
    np.testing.assert_array_equal(got.compute(), expected)
    np.testing.assert_array_equal(
        special.logit(da.from_array(np.linspace(0, 1, 9), chunks=4)).compute(),
        special.logit(np.linspace(0, 1, 9)),
    )


def test_lazy_until_computed():
    calls = []

    def count(block):
        if block.size:  # (dask calls it on empty arrays to learn the output type)
            calls.append(1)
        return block

    x = da.from_array(logits(), chunks=SPLIT_CHUNKS).map_blocks(count, dtype=np.float64)
    out = special.softmax(x)
    assert calls == [] and isinstance(out, da.Array)
    out.compute()
    assert calls


def test_unknown_chunks_are_refused():
    x = da.from_array(np.arange(12.0).reshape(3, 4), chunks=(2, 4))
    unknown = x[x[:, 0] > 1]  # NaN chunk sizes
    for fn, name in (
        (special.softmax, "x"),
        (special.entropy, "logits"),
        (special.logsumexp, "a"),
        (special.sigmoid, "x"),
    ):
        with pytest.raises(ValueError, match=f"{name}: expected a dask array with known chunk"):
            fn(unknown)


def test_public_names_dispatch_to_this_tier():
    z = da.from_array(logits(), chunks=SPLIT_CHUNKS)
    assert isinstance(expfam.softmax(z), da.Array)
