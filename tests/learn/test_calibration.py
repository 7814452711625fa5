"""Temperature scaling and calibration error against closed forms and scikit-learn."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expfam.learn import (
    CalibrationWarning,
    expected_calibration_error,
    fit_temperature,
    reliability_curve,
)
from expfam.special import logsumexp, softmax


def synthetic(seed, n=400, k=5, scale=3.0, true_beta=0.4):
    """Overconfident logits: the labels are drawn from softmax(true_beta z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * scale
    p = softmax(true_beta * z)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return z, y


def nll(beta, z, y, w=None):
    w = np.full(len(y), 1 / len(y)) if w is None else w / np.sum(w)
    return float(np.dot(w, logsumexp(beta * z) - beta * z[np.arange(len(y)), y]))


@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("c", [0.5, 2.0, 30.0])
@pytest.mark.parametrize("a", [0.3, 0.75, 0.99])
def test_closed_form_for_logits_c_0_0(k, c, a):
    """Logits (c, 0, ..., 0), top class right in a fraction a: beta* = log(a (K-1) / (1-a)) / c."""
    n = 200
    right = round(a * n)
    z = np.zeros((n, k))
    z[:, 0] = c
    y = np.where(np.arange(n) < right, 0, 1)
    a = right / n
    expected = math.log(a * (k - 1) / (1 - a)) / c
    if expected <= 0:
        with pytest.warns(CalibrationWarning):
            assert fit_temperature(z, y).beta == 0.0
        return
    fit = fit_temperature(z, y)
    assert fit.converged and fit.beta > 0
    assert fit.beta == pytest.approx(expected, rel=1e-13)
    assert fit.temperature == pytest.approx(1 / expected, rel=1e-13)
    # after scaling every confidence is a, the accuracy: the ECE is 0
    ece = expected_calibration_error(logits=fit.beta * z, labels=y)
    assert ece == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_the_optimum_matches_moments(seed):
    z, y = synthetic(seed)
    fit = fit_temperature(z, y)
    p = softmax(fit.beta * z)
    model_mean = np.mean(np.sum(p * z, axis=1))
    data_mean = np.mean(z[np.arange(len(y)), y])
    assert model_mean == pytest.approx(data_mean, rel=1e-12, abs=1e-12)
    assert abs(fit.gradient) < 1e-12
    assert fit.nll == pytest.approx(nll(fit.beta, z, y), rel=1e-14)
    for delta in (1e-4, 1e-2):
        assert nll(fit.beta, z, y) <= min(nll(fit.beta + delta, z, y), nll(fit.beta - delta, z, y))


@settings(max_examples=50)
@given(st.integers(0, 10**6), st.floats(0.05, 3.0))
def test_nll_is_convex_in_beta_and_the_fit_is_its_minimum(seed, true_beta):
    z, y = synthetic(seed, n=60, k=4, true_beta=true_beta)
    betas = np.linspace(0.0, 4.0, 41)
    values = np.array([nll(b, z, y) for b in betas])
    assert np.all(values[:-2] - 2 * values[1:-1] + values[2:] >= -1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        fit = fit_temperature(z, y)
    assert fit.converged and fit.beta >= 0  # inf where every label is a top logit
    assert fit.nll <= values.min() + 1e-12


def test_temperature_scaling_fixes_the_overconfidence():
    z, y = synthetic(0, n=2000, true_beta=0.4)
    fit = fit_temperature(z, y)
    assert 0.3 < fit.beta < 0.5
    before = expected_calibration_error(logits=z, labels=y)
    after = expected_calibration_error(logits=fit.beta * z, labels=y)
    assert after < before / 3


def test_sample_weights_are_repetitions():
    z, y = synthetic(1, n=50)
    w = np.random.default_rng(2).integers(0, 4, 50)
    weighted = fit_temperature(z, y, sample_weight=w)
    repeated = fit_temperature(np.repeat(z, w, axis=0), np.repeat(y, w))
    assert weighted.beta == pytest.approx(repeated.beta, rel=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_scikit_learn_temperature_scaling(seed):
    sklearn_calibration = pytest.importorskip("sklearn.calibration")
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.frozen import FrozenEstimator

    class Logits(ClassifierMixin, BaseEstimator):
        """A classifier whose decision function is its input: the logits themselves."""

        def fit(self, x, y):
            self.classes_ = np.unique(y)
            return self

        def decision_function(self, x):
            return x

        def predict(self, x):
            return np.argmax(x, axis=1)

    z, y = synthetic(seed, n=300, k=4)
    model = sklearn_calibration.CalibratedClassifierCV(
        FrozenEstimator(Logits().fit(z, y)), method="temperature", ensemble=False
    ).fit(z, y)
    beta_sklearn = float(model.calibrated_classifiers_[0].calibrators[0].beta_)
    assert fit_temperature(z, y).beta == pytest.approx(beta_sklearn, rel=1e-6)


def test_boundaries_are_reported_not_crossed():
    z = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    with pytest.warns(CalibrationWarning, match="no better than chance"):
        fit = fit_temperature(z, [1, 0, 1])  # the labels are the low logits
    assert fit.beta == 0.0 and fit.temperature == math.inf
    with pytest.warns(CalibrationWarning, match="without bound"):
        fit = fit_temperature(z, [0, 1, 0])  # every label is the top logit
    assert fit.beta == math.inf and fit.temperature == 0.0 and fit.nll == 0.0


def test_reliability_bins_are_half_open_and_deterministic_on_edges():
    n_bins = 5
    edges = np.linspace(0, 1, n_bins + 1)
    conf = np.array([edges[1], edges[2], np.nextafter(edges[2], 1), edges[3], 1.0, 0.5])
    probs = np.stack([conf, 1 - conf], axis=1)
    curve = reliability_curve(probs=probs, labels=np.zeros(6, dtype=int), n_bins=n_bins)
    # (0, .2] holds .2 and .5 (top label is then class 1 at .8 / .5 ties to class 0)
    expected = np.zeros(n_bins, dtype=int)
    for c in np.max(probs, axis=1):
        expected[next(m for m in range(n_bins) if edges[m] < c <= edges[m + 1])] += 1
    np.testing.assert_array_equal(curve.count, expected)


@given(st.integers(0, 10**6), st.integers(1, 20))
def test_ece_by_brute_force(seed, n_bins):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(3) * 0.5, 40)
    y = rng.integers(0, 3, 40)
    edges = np.linspace(0, 1, n_bins + 1)
    conf, pred = probs.max(1), probs.argmax(1)
    total = 0.0
    for m in range(n_bins):
        inside = (conf > edges[m]) & (conf <= edges[m + 1])
        if inside.any():
            total += (
                inside.sum() / 40 * abs(np.mean(pred[inside] == y[inside]) - conf[inside].mean())
            )
    ece = expected_calibration_error(probs=probs, labels=y, n_bins=n_bins)
    assert ece == pytest.approx(total, abs=1e-15)


def test_logits_and_probs_give_the_same_curve():
    z, y = synthetic(3, n=100)
    a = reliability_curve(logits=z, labels=y)
    b = reliability_curve(probs=softmax(z), labels=y)
    np.testing.assert_array_equal(a.count, b.count)
    assert a.ece == b.ece


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: fit_temperature([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], [0, 2]),
            "probability vector",
        ),
        (lambda: expected_calibration_error(probs=[[2.0, 0.0]], labels=[0]), "logits="),
        (
            lambda: expected_calibration_error(probs=[[1.0, 0.0]], logits=[[1, 0]], labels=[0]),
            "exactly one",
        ),
        (lambda: expected_calibration_error(labels=[0]), "exactly one"),
        (lambda: fit_temperature([[2.0, 0.0]], [2]), "labels"),
        (lambda: fit_temperature([[2.0, 0.0]], [0.0]), "labels"),
        (lambda: fit_temperature([[2.0, 0.0]], [0, 1]), "labels"),
        (lambda: fit_temperature([1.0, 0.0], [0]), "logits"),
        (lambda: fit_temperature([[1.0, np.inf]], [0]), "logits"),
        (lambda: fit_temperature([[2.0, 0.0]], [0], sample_weight=[-1.0]), "sample_weight"),
        (lambda: reliability_curve(probs=[[1.0, 0.0]], labels=[0], n_bins=0), "n_bins"),
        (lambda: reliability_curve(probs=[[1.0, 0.0]], labels=[0], n_bins=2.5), "n_bins"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@settings(max_examples=30)
@given(st.integers(0, 10**6), st.floats(1e-3, 1e3))
def test_beta_scales_inversely_with_the_logits(seed, c):
    """NLL_{c z}(beta) = NLL_z(c beta): the fit of c z is beta* / c, the same NLL."""
    z, y = synthetic(seed, n=80, k=4)
    fit, scaled = fit_temperature(z, y), fit_temperature(c * z, y)
    assert scaled.beta == pytest.approx(fit.beta / c, rel=1e-10)
    assert scaled.nll == pytest.approx(fit.nll, rel=1e-12)


# ------------------------------------------------------------------ issue 21: scale, max_iter


@pytest.mark.parametrize("s", [1e300, 1e-300, 1e30, 1e-30, 1e307, 2.0**-1000])
def test_fit_temperature_is_scale_equivariant_at_extreme_scales(s):
    """fit(s z) = beta* / s with the same NLL, with no warning, at any representable scale."""
    z, y = synthetic(11, n=120, k=4)
    fit, scaled = fit_temperature(z, y), fit_temperature(s * z, y)
    assert scaled.converged
    assert scaled.beta * s == pytest.approx(fit.beta, rel=1e-12)
    assert scaled.temperature / s == pytest.approx(fit.temperature, rel=1e-12)
    assert scaled.nll == pytest.approx(fit.nll, rel=1e-12)
    assert scaled.gradient / s == pytest.approx(fit.gradient, abs=1e-12)


@pytest.mark.parametrize("s", [1e-300, 1.0, 1e30, 1e300])
def test_fit_temperature_closed_form_at_scale(s):
    """Logits s [[1, 0], [0, 1], [1, 0]], labels 0: NLL = [2 log(1 + e^-b) + log(1 + e^b)] / 3.

    Its slope vanishes at e^b = 2: beta* = log 2 / s.
    """
    z = s * np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    fit = fit_temperature(z, [0, 0, 0])
    assert fit.converged
    assert fit.beta * s == pytest.approx(math.log(2.0), rel=1e-14)
    assert fit.nll == pytest.approx((2 * math.log(1.5) + math.log(3.0)) / 3, rel=1e-14)


def test_fit_temperature_warns_when_it_stops_short():
    from expfam.learn import ConvergenceWarning

    z, y = synthetic(2, n=200)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        fit = fit_temperature(z, y, max_iter=1)
    assert not fit.converged and fit.iterations == 1


@pytest.mark.parametrize("max_iter", [0, -1, 2.5, True, "10", None])
def test_fit_temperature_max_iter_must_be_a_positive_integer(max_iter):
    with pytest.raises(ValueError, match="max_iter: expected a positive integer"):
        fit_temperature([[2.0, 0.0], [0.0, 1.0]], [0, 1], max_iter=max_iter)


def test_probabilities_passed_as_logits_are_refused_by_the_curve_and_ece():
    probs = softmax(synthetic(4, n=50)[0])
    y = synthetic(4, n=50)[1]
    for call in (expected_calibration_error, reliability_curve):
        with pytest.raises(ValueError, match=r"logits: expected logits.*probs="):
            call(logits=probs, labels=y)
    with pytest.raises(ValueError, match="logits: expected logits"):
        fit_temperature(probs, y)
