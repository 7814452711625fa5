"""Evaluation metrics on dask arrays against the numpy tier and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from expfam import learn  # noqa: E402
from expfam.learn import CalibrationWarning  # noqa: E402
from expfam.special import softmax  # noqa: E402


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def synthetic(seed=0, n=600, k=7, scale=3.0, true_beta=0.4):
    """Overconfident logits: labels drawn from softmax(true_beta z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * scale
    p = softmax(true_beta * z)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return z, np.minimum(y, k - 1)


ROWS = (128, 7)  # rows chunked, the classes of a row in one chunk
SPLIT = (100, 3)  # the class axis split as well


@pytest.mark.parametrize("beta", [1.0, 0.3, 5.0, np.inf])
def test_tempered_cross_entropy_and_its_mean(beta):
    z, y = synthetic()
    expected = learn.tempered_cross_entropy(z, y, beta=beta)
    got = learn.tempered_cross_entropy(da.from_array(z, chunks=ROWS), y, beta=beta)
    assert isinstance(got, da.Array) and got.dtype == expected.dtype
    np.testing.assert_array_equal(got.compute(), expected)
    nll = float(got.mean().compute())
    assert nll == pytest.approx(float(np.mean(expected)), rel=1e-15)
    dy = da.from_array(y, chunks=ROWS[0])
    np.testing.assert_array_equal(
        learn.tempered_cross_entropy(da.from_array(z, chunks=ROWS), dy, beta).compute(), expected
    )
    if np.isfinite(beta):  # a split class axis: the tree reduction, within a few ULP
        split = learn.tempered_cross_entropy(da.from_array(z, chunks=SPLIT), y, beta).compute()
        np.testing.assert_allclose(split, expected, rtol=8 * np.finfo(float).eps, atol=0)
    else:
        with pytest.raises(ValueError, match="logits: expected the class axis in one chunk"):
            learn.tempered_cross_entropy(da.from_array(z, chunks=SPLIT), y, beta)


def test_tempered_cross_entropy_refuses_infinite_logits_when_computed():
    z, y = synthetic(n=20)
    z[3, 2] = np.inf
    for chunks in ((8, 7), (8, 3)):
        with pytest.raises(ValueError, match="logits: expected finite values"):
            learn.tempered_cross_entropy(da.from_array(z, chunks=chunks), y, 2.0).compute()


@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_reliability_curve_bins_add_across_blocks(n_bins):
    z, y = synthetic(1)
    expected = learn.reliability_curve(logits=z, labels=y, n_bins=n_bins)
    p = softmax(z)
    for kwargs in (
        {"logits": da.from_array(z, chunks=ROWS)},
        {"logits": da.from_array(z, chunks=SPLIT)},
        {"probs": da.from_array(p, chunks=ROWS)},
    ):
        got = learn.reliability_curve(labels=y, n_bins=n_bins, **kwargs)
        np.testing.assert_array_equal(got.edges, expected.edges)
        np.testing.assert_array_equal(got.count, expected.count)  # exact
        np.testing.assert_array_equal(got.accuracy, expected.accuracy)  # exact
        np.testing.assert_allclose(got.confidence, expected.confidence, rtol=1e-14)
        assert got.ece == pytest.approx(expected.ece, rel=1e-12, abs=1e-15)
        ece = learn.expected_calibration_error(labels=y, n_bins=n_bins, **kwargs)
        assert ece == got.ece


def test_reliability_curve_does_not_depend_on_the_chunking():
    z, y = synthetic(2)
    curves = [
        learn.reliability_curve(logits=da.from_array(z, chunks=(c, 7)), labels=y)
        for c in (600, 77, 5)
    ]
    for curve in curves[1:]:
        np.testing.assert_array_equal(curve.confidence, curves[0].confidence)


def test_ece_against_a_hand_count():
    """Confidences 0.9 (right), 0.6 (wrong), 0.7 (right), all in the bin (0.5, 1]:
    |2/3 - 2.2/3|."""
    p = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    ece = learn.expected_calibration_error(
        probs=da.from_array(p, chunks=(2, 2)), labels=np.array([0, 1, 1]), n_bins=2
    )
    assert ece == pytest.approx(0.2 / 3, rel=1e-14)


def test_calibration_input_errors():
    z, y = synthetic(n=20)
    dz = da.from_array(z, chunks=(8, 7))
    with pytest.raises(TypeError, match="exactly one of probs= or logits="):
        learn.expected_calibration_error(labels=y)
    with pytest.raises(ValueError, match="labels: expected shape"):
        learn.reliability_curve(logits=dz, labels=y[:5])
    with pytest.raises(ValueError, match="labels: expected the chunks of the logits"):
        learn.reliability_curve(logits=dz, labels=da.from_array(y, chunks=5))
    bad = y.copy()
    bad[4] = 9
    with pytest.raises(ValueError, match=r"labels: class indices must lie in \[0, 7\)"):
        learn.reliability_curve(logits=dz, labels=bad)
    with pytest.raises(ValueError, match="probs: rows must be probability vectors"):
        learn.reliability_curve(probs=dz, labels=y)
    with pytest.raises(ValueError, match="n_bins"):
        learn.reliability_curve(logits=dz, labels=y, n_bins=0)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("weighted", [False, True])
def test_fit_temperature_is_the_numpy_optimum(seed, weighted):
    z, y = synthetic(seed)
    w = np.random.default_rng(seed).random(len(y)) if weighted else None
    expected = learn.fit_temperature(z, y, w)
    dw = None if w is None else da.from_array(w, chunks=ROWS[0])
    got = learn.fit_temperature(da.from_array(z, chunks=ROWS), y, dw)
    assert got.converged
    assert got.beta == pytest.approx(expected.beta, rel=1e-12)
    assert got.temperature == pytest.approx(expected.temperature, rel=1e-12)
    assert got.nll == pytest.approx(expected.nll, rel=1e-13)
    # the optimum matches moments: the mean logit under the model is that of the labels
    assert abs(got.gradient) <= 1e-13 * float(np.mean(np.abs(z)))


def test_fit_temperature_closed_form():
    """Logits (c, 0, 0), top class right in 3 of 4: beta* = log(a (K-1) / (1-a)) / c."""
    z = np.zeros((400, 3))
    z[:, 0] = 2.0
    y = np.where(np.arange(400) % 4 == 3, 1, 0)
    fit = learn.fit_temperature(da.from_array(z, chunks=(64, 3)), y)
    assert fit.beta == pytest.approx(math.log(3 * 2) / 2, rel=1e-13)


def test_fit_temperature_limits_warn_as_numpy_does():
    z, _ = synthetic(n=40)
    dz = da.from_array(z, chunks=(16, 7))
    top = np.argmax(z, axis=1)
    with pytest.warns(CalibrationWarning, match="every label is a top logit"):
        fit = learn.fit_temperature(dz, top)
    with pytest.warns(CalibrationWarning):
        want = learn.fit_temperature(z, top)
    assert (fit.beta, fit.temperature) == (math.inf, 0.0)
    assert fit.nll == pytest.approx(want.nll, abs=1e-15)
    worst = np.argmin(z, axis=1)
    with pytest.warns(CalibrationWarning, match="no better than chance"):
        fit = learn.fit_temperature(dz, worst)
    assert fit.beta == 0.0 and fit.nll == pytest.approx(math.log(7), rel=1e-15)


def test_fit_temperature_input_errors():
    z, y = synthetic(n=40)
    with pytest.raises(ValueError, match="logits: expected the class axis in one chunk"):
        learn.fit_temperature(da.from_array(z, chunks=(16, 3)), y)
    with pytest.raises(ValueError, match="logits: every row is a probability vector"):
        learn.fit_temperature(da.from_array(softmax(z), chunks=(16, 7)), y)
    with pytest.raises(ValueError, match="sample_weight: must be finite"):
        learn.fit_temperature(da.from_array(z, chunks=(16, 7)), y, -np.ones(40))
    z[0, 0] = np.nan
    with pytest.raises(ValueError, match="logits: must be finite"):
        learn.fit_temperature(da.from_array(z, chunks=(16, 7)), y)
