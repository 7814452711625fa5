"""expfam.learn's calibration metrics on array-API arrays: the portable tier against numpy.

ECE, MCE, the reliability curve, the Brier score, the log loss and
``fit_temperature`` on array-api-strict, torch and JAX arrays agree with the
numpy tier (itself held against scikit-learn and hand computations in
tests/learn) and, for the curve, with scikit-learn's ``calibration_curve``;
return arrays of the input's kind; and have the gradients of their closed
forms: ``softmax - onehot`` for the log loss, ``2 w (p - onehot)`` for the
Brier score, the implicit-function gradient of the fitted temperature, and
finite differences of the numpy ECE inside a bin.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import grad

import expfam.learn as L
from expfam.exceptions import CalibrationWarning

RNG = np.random.default_rng(19)
METRICS = ["expected_calibration_error", "max_calibration_error"]


def forecasts(n=400, k=4, seed=0):
    """Logits, their probabilities and labels right about half the time, and weights."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, k)) * 2.0
    y = rng.integers(0, k, n)
    y[: n // 2] = np.argmax(z[: n // 2], axis=1)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return z, p, y, rng.uniform(0.0, 2.0, n)


def same_kind(out, like):
    assert type(out) is type(like)
    assert out.dtype == like.dtype


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"binning": "quantile"},
        {"n_bins": 7, "weights": True},
        {"binning": "quantile", "n_bins": 5, "weights": True},
    ],
)
def test_binned_metrics_agree_with_numpy(backend, name, options):
    z, p, y, w = forecasts()
    kw = {k: v for k, v in options.items() if k != "weights"}
    f = getattr(L, name)
    for given, x in (("probs", p), ("logits", z)):
        want = f(**{given: x}, labels=y, sample_weight=w if options.get("weights") else None, **kw)
        xb = backend.asarray(x)
        wb = backend.asarray(w) if options.get("weights") else None
        out = f(**{given: xb}, labels=backend.asarray(y), sample_weight=wb, **kw)
        same_kind(out, xb)
        assert out.ndim == 0
        assert float(out) == pytest.approx(want, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("binning", ["uniform", "quantile"])
def test_reliability_curve_agrees_with_numpy(backend, binning):
    _z, p, y, w = forecasts(n=300, k=3, seed=1)
    p[:100] = np.array([0.6, 0.3, 0.1])  # a tie straddling equal-mass edges: bins merge
    for sample_weight in (None, w):
        want = L.reliability_curve(
            probs=p, labels=y, n_bins=8, binning=binning, sample_weight=sample_weight
        )
        wb = None if sample_weight is None else backend.asarray(sample_weight)
        pb = backend.asarray(p)
        curve = L.reliability_curve(
            probs=pb, labels=backend.asarray(y), n_bins=8, binning=binning, sample_weight=wb
        )
        same_kind(curve.confidence, pb)
        np.testing.assert_array_equal(backend.numpy(curve.edges), want.edges)
        np.testing.assert_array_equal(backend.numpy(curve.count), want.count)
        for field in ("confidence", "accuracy") + (() if sample_weight is None else ("weight",)):
            np.testing.assert_allclose(
                backend.numpy(getattr(curve, field)), getattr(want, field), rtol=1e-13
            )
        assert curve.ece == pytest.approx(want.ece, rel=1e-13)
        assert curve.mce == pytest.approx(want.mce, rel=1e-13)
    if binning == "quantile":
        assert len(want.count) < 8  # the tie merged bins


def test_float32_bins_compare_as_numpy(backend):
    # float32 confidences equal to float32(edge) lie above the float64 edge: the bin above
    p = np.array([[0.1, 0.1] + [0.8 / 8] * 8, [0.7, 0.3] + [0.0] * 8], dtype=np.float32)
    p[0] = np.float32(0.1)
    p[0, 2:] = (1 - np.float32(0.2)) / 8
    y = np.array([0, 1])
    want = L.reliability_curve(probs=p, labels=y, n_bins=10)
    curve = L.reliability_curve(probs=backend.asarray(p), labels=backend.asarray(y), n_bins=10)
    np.testing.assert_array_equal(backend.numpy(curve.count), want.count)


def test_reliability_curve_matches_scikit_learn(backend):
    calibration_curve = pytest.importorskip("sklearn.calibration").calibration_curve
    _, p, y, _ = forecasts(n=500, k=4, seed=3)
    curve = L.reliability_curve(probs=backend.asarray(p), labels=backend.asarray(y), n_bins=10)
    prob_true, prob_pred = calibration_curve(
        (p.argmax(1) == y).astype(int), p.max(1), n_bins=10, strategy="uniform"
    )
    used = backend.numpy(curve.count) > 0
    np.testing.assert_allclose(backend.numpy(curve.accuracy)[used], prob_true, atol=1e-15)
    np.testing.assert_allclose(backend.numpy(curve.confidence)[used], prob_pred, atol=1e-15)


def test_scores_agree_with_numpy(backend):
    z, p, y, w = forecasts(seed=2)
    p[0, y[0]] = 0.0  # a label of probability 0 with weight 0: no inf
    p[0] /= p[0].sum()
    w[0] = 0.0
    for name in ("brier_score", "log_loss"):
        f = getattr(L, name)
        for given, x in (("probs", p), ("logits", z)):
            for sw in (None, w):
                want = f(**{given: x}, labels=y, sample_weight=sw)
                xb = backend.asarray(x)
                out = f(
                    **{given: xb},
                    labels=backend.asarray(y),
                    sample_weight=None if sw is None else backend.asarray(sw),
                )
                same_kind(out, xb)
                if given == "probs" and sw is None and name == "log_loss":
                    assert want == np.inf
                    assert float(out) == np.inf
                else:
                    assert float(out) == pytest.approx(want, rel=1e-13)


def test_float32_stays_float32(backend):
    z, _p, y, _ = forecasts(seed=4)
    zb = backend.asarray(z, "float32")
    for name in [*METRICS, "brier_score", "log_loss"]:
        out = getattr(L, name)(logits=zb, labels=backend.asarray(y))
        same_kind(out, zb)
        want = getattr(L, name)(logits=z.astype(np.float32), labels=y)
        assert float(out) == pytest.approx(want, rel=1e-5, abs=1e-6)


def test_errors_name_the_argument(backend):
    z, p, y, _ = forecasts(n=10)
    zb, pb, yb = backend.asarray(z), backend.asarray(p), backend.asarray(y)
    with pytest.raises(TypeError, match=r"^probs, logits: expected exactly one"):
        L.expected_calibration_error(probs=pb, logits=zb, labels=yb)
    with pytest.raises(ValueError, match=r"^logits: expected logits, got an array whose"):
        L.expected_calibration_error(logits=pb, labels=yb)
    with pytest.raises(ValueError, match=r"^probs: expected rows that are probability"):
        L.brier_score(probs=zb, labels=yb)
    with pytest.raises(ValueError, match=r"^labels: expected class indices in \[0, 4\)"):
        L.log_loss(logits=zb, labels=backend.asarray(y + 4))
    with pytest.raises(ValueError, match=r"^labels: expected shape \(10,\)"):
        L.log_loss(logits=zb, labels=backend.asarray(y[:3]))
    with pytest.raises(ValueError, match=r"^sample_weight: expected finite weights >= 0"):
        L.brier_score(probs=pb, labels=yb, sample_weight=backend.asarray(-np.ones(10)))
    with pytest.raises(ValueError, match=r"^n_bins: expected an integer >= 1"):
        L.expected_calibration_error(probs=pb, labels=yb, n_bins=0)
    with pytest.raises(ValueError, match=r"^binning: expected 'uniform' or 'quantile'"):
        L.expected_calibration_error(probs=pb, labels=yb, binning="equal")
    with pytest.raises(ValueError, match=r"^binning: equal-mass bins need at least 2"):
        same = backend.asarray(np.tile([[0.7, 0.3]], (5, 1)))
        L.reliability_curve(
            probs=same, labels=backend.asarray(np.zeros(5, int)), binning="quantile"
        )
    with pytest.raises(TypeError, match=r"^labels: expected a .* array like the other"):
        L.expected_calibration_error(probs=pb, labels=y)


# ---------------------------------------------------------------- gradients


def test_grad_log_loss_and_brier_closed_forms(autodiff):
    z, p, y, w = forecasts(n=50, seed=5)
    hot = np.eye(4)[y]
    g = grad(autodiff, lambda t, yy: L.log_loss(logits=t, labels=yy), z, y)
    np.testing.assert_allclose(g, (p - hot) / len(y), rtol=1e-12, atol=1e-17)
    g = grad(
        autodiff, lambda t, yy, ww: L.brier_score(probs=t, labels=yy, sample_weight=ww), p, y, w
    )
    np.testing.assert_allclose(g, 2 * w[:, None] * (p - hot) / w.sum(), rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize("name", METRICS)
def test_grad_ece_is_the_numpy_finite_difference(autodiff, name):
    z, _, y, _ = forecasts(n=200, seed=6)
    f = getattr(L, name)
    v = RNG.standard_normal(z.shape)
    h = 1e-7  # small enough that no confidence crosses an edge or changes argmax
    fd = (f(logits=z + h * v, labels=y) - f(logits=z - h * v, labels=y)) / (2 * h)
    g = grad(autodiff, lambda t, yy: f(logits=t, labels=yy), z, y)
    assert np.all(np.isfinite(g))
    assert float(np.sum(g * v)) == pytest.approx(fd, rel=1e-6, abs=1e-9)


def _temperature_gradient(z, y, w, beta):
    """d beta* / d z by the implicit function theorem on NLL'(beta) = 0."""
    w = w / w.sum()
    p = np.exp(beta * z - (beta * z).max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    mean = (p * z).sum(1, keepdims=True)
    var = (p * (z - mean) ** 2).sum(1)
    dslope = w[:, None] * (p * (1 + beta * (z - mean)) - np.eye(z.shape[1])[y])
    return -dslope / np.dot(w, var)


def test_fit_temperature_agrees_with_numpy_and_has_the_implicit_gradient(backend):
    z, _, y, w = forecasts(n=300, seed=7)
    z *= 3.0  # overconfident: beta* < 1
    want = L.fit_temperature(z, y, w)
    zb = backend.asarray(z)
    fit = L.fit_temperature(zb, backend.asarray(y), backend.asarray(w))
    same_kind(fit.beta, zb)
    assert fit.converged
    for field in ("beta", "temperature", "nll"):
        assert float(getattr(fit, field)) == pytest.approx(getattr(want, field), rel=1e-13)
    assert abs(float(fit.gradient)) <= 1e-12
    if backend.name == "torch":  # jax.grad cannot run the solve (it reads values)
        g = grad(backend, lambda t, yy, ww: L.fit_temperature(t, yy, ww).beta, z, y, w)
        want_g = _temperature_gradient(z, y, w, want.beta)
        np.testing.assert_allclose(g, want_g, rtol=1e-9, atol=1e-12 * np.abs(want_g).max())


def test_fit_temperature_boundaries(backend):
    z = backend.asarray(np.array([[2.0, 0.0, 0.0]] * 4))
    with pytest.warns(CalibrationWarning, match="top logit"):
        fit = L.fit_temperature(z, backend.asarray(np.zeros(4, dtype=np.int64)))
    assert float(fit.beta) == np.inf and float(fit.temperature) == 0.0
    with pytest.warns(CalibrationWarning, match="no better than chance"):
        fit = L.fit_temperature(z, backend.asarray(np.array([1, 2, 1, 2])))
    assert float(fit.beta) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = L.fit_temperature(z, backend.asarray(np.array([0, 0, 0, 1])))
    assert float(fit.beta) == pytest.approx(np.log(6) / 2, rel=1e-14)


def test_jit_calibration_metrics(autodiff):
    if autodiff.name != "jax":
        pytest.skip("jax.jit only")
    import jax

    z, _, y, w = forecasts(n=100, seed=8)
    args = [autodiff.asarray(a) for a in (z, y, w)]
    for name in [*METRICS, "brier_score", "log_loss"]:
        f = getattr(L, name)
        for binning in ("uniform", "quantile") if name in METRICS else ("uniform",):
            extra = {"binning": binning} if name in METRICS else {}

            def g(t, yy, ww, f=f, extra=extra):
                return f(logits=t, labels=yy, sample_weight=ww, **extra)

            want = f(logits=z, labels=y, sample_weight=w, **extra)
            assert float(jax.jit(g)(*args)) == pytest.approx(want, rel=1e-13)
            assert np.all(np.isfinite(np.asarray(jax.jit(jax.grad(g))(*args))))


# ---------------------------------------------------------------- classwise, debiased, Murphy,
# bootstrap


def grouped_forecasts(n=300, seed=9):
    """Probabilities rounded to tenths (so forecasts repeat), some entries 0, labels, weights."""
    rng = np.random.default_rng(seed)
    p = np.round(rng.dirichlet([1.0, 1.0, 1.0], n), 1)
    p[:, 2] = np.round(1.0 - p[:, 0] - p[:, 1], 1)
    p = np.clip(p, 0.0, 1.0)
    p /= p.sum(1, keepdims=True)
    y = rng.integers(0, 3, n)
    w = rng.uniform(0.0, 2.0, n)
    w[:5] = 0.0
    return p, y, w


def _classwise_reference(p, y, w, n_bins):
    """cwECE with equal-width bins, one class and one bin at a time (a test-only loop)."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)  # the documented edges
    total = 0.0
    for c in range(p.shape[1]):
        for m in range(n_bins):
            lo, hi = edges[m], edges[m + 1]
            inside = (p[:, c] > lo) & (p[:, c] <= hi) | ((m == 0) & (p[:, c] == 0))
            gap = np.sum(w[inside] * ((y[inside] == c) - p[inside, c]))
            total += abs(gap) / np.sum(w)
    return total / p.shape[1]


@pytest.mark.parametrize("binning", ["uniform", "quantile"])
def test_classwise_agrees_with_numpy(backend, binning):
    z, p, y, w = forecasts(n=300, k=4, seed=10)
    for given, x in (("probs", p), ("logits", z)):
        for sw in (None, w):
            want = L.classwise_calibration_error(
                **{given: x}, labels=y, n_bins=7, binning=binning, sample_weight=sw
            )
            xb = backend.asarray(x)
            out = L.classwise_calibration_error(
                **{given: xb},
                labels=backend.asarray(y),
                n_bins=7,
                binning=binning,
                sample_weight=None if sw is None else backend.asarray(sw),
            )
            same_kind(out, xb)
            assert out.ndim == 0
            assert float(out) == pytest.approx(want, rel=1e-13)


def test_classwise_matches_a_bin_by_bin_loop(backend):
    p, y, w = grouped_forecasts(seed=11)
    out = L.classwise_calibration_error(
        probs=backend.asarray(p),
        labels=backend.asarray(y),
        n_bins=10,
        sample_weight=backend.asarray(w),
    )
    # probabilities on the edges (tenths) fall in the bin below them
    assert float(out) == pytest.approx(_classwise_reference(p, y, w, 10), rel=1e-12)


@pytest.mark.parametrize("mode", ["top-label", "marginal"])
@pytest.mark.parametrize("binning", ["uniform", "quantile"])
def test_debiased_agrees_with_numpy(backend, mode, binning):
    z, p, y, w = forecasts(n=400, k=3, seed=12)
    for given, x in (("probs", p), ("logits", z)):
        for sw in (None, w):
            want = L.debiased_calibration_error(
                **{given: x}, labels=y, n_bins=6, binning=binning, mode=mode, sample_weight=sw
            )
            xb = backend.asarray(x)
            out = L.debiased_calibration_error(
                **{given: xb},
                labels=backend.asarray(y),
                n_bins=6,
                binning=binning,
                mode=mode,
                sample_weight=None if sw is None else backend.asarray(sw),
            )
            same_kind(out, xb)
            assert want > 0
            assert float(out) == pytest.approx(want, rel=1e-12)


def test_debiased_closed_form_one_bin(backend):
    # one bin holding every sample: CE^2 = (ybar - pbar)^2 - ybar (1 - ybar) / (n - 1)
    p = np.array([[0.9, 0.1]] * 6 + [[0.7, 0.3]] * 4)
    y = np.array([0, 1, 1, 1, 1, 1, 0, 1, 0, 1])  # the top label (class 0) right 3 times
    ybar, pbar, n = 3 / 10, (6 * 0.9 + 4 * 0.7) / 10, 10
    square = (ybar - pbar) ** 2 - ybar * (1 - ybar) / (n - 1)
    assert square > 0
    want = np.sqrt(square)
    out = L.debiased_calibration_error(
        probs=backend.asarray(p), labels=backend.asarray(y), n_bins=1
    )
    assert float(out) == pytest.approx(want, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("score", ["brier", "log"])
def test_score_decomposition_agrees_with_numpy(backend, score):
    p, y, w = grouped_forecasts(seed=13)
    if score == "log":  # a forecast of 0 for an observed class is an infinite log score
        p = 0.9 * p + 0.1 / 3
    for sw in (None, w):
        want = L.score_decomposition(probs=p, labels=y, score=score, sample_weight=sw)
        pb = backend.asarray(p)
        parts = L.score_decomposition(
            probs=pb,
            labels=backend.asarray(y),
            score=score,
            sample_weight=None if sw is None else backend.asarray(sw),
        )
        for field in ("score", "reliability", "resolution", "uncertainty"):
            same_kind(getattr(parts, field), pb)
            assert float(getattr(parts, field)) == pytest.approx(getattr(want, field), rel=1e-12)
        total = parts.reliability - parts.resolution + parts.uncertainty
        assert float(total) == pytest.approx(float(parts.score), rel=1e-13)


def test_score_decomposition_from_logits_and_zero_forecasts(backend):
    z, _, y, w = forecasts(n=60, k=3, seed=14)
    z = np.round(z)  # repeated logits: repeated forecasts
    for score in ("brier", "log"):
        want = L.score_decomposition(logits=z, labels=y, score=score, sample_weight=w)
        parts = L.score_decomposition(
            logits=backend.asarray(z),
            labels=backend.asarray(y),
            score=score,
            sample_weight=backend.asarray(w),
        )
        assert float(parts.score) == pytest.approx(want.score, rel=1e-12)
        assert float(parts.reliability) == pytest.approx(want.reliability, rel=1e-12)
    p, y, _ = grouped_forecasts(seed=15)  # zeros in p, some under an observed class: inf
    want = L.score_decomposition(probs=p, labels=y, score="log")
    parts = L.score_decomposition(probs=backend.asarray(p), labels=backend.asarray(y), score="log")
    assert want.reliability == np.inf
    assert float(parts.reliability) == np.inf
    assert float(parts.resolution) == pytest.approx(want.resolution, rel=1e-12)


@pytest.mark.parametrize("weights", [False, True])
def test_bootstrap_matches_numpy_for_the_same_seed(backend, weights):
    z, p, y, w = forecasts(n=120, k=3, seed=16)
    sw = w if weights else None
    for metric, given, x in (
        (L.brier_score, "probs", p),
        (L.expected_calibration_error, "logits", z),
        (L.classwise_calibration_error, "probs", p),
    ):
        want = L.bootstrap_interval(
            metric, **{given: x}, labels=y, sample_weight=sw, n_resamples=12, rng=5
        )
        xb = backend.asarray(x)
        out = L.bootstrap_interval(
            metric,
            **{given: xb},
            labels=backend.asarray(y),
            sample_weight=None if sw is None else backend.asarray(sw),
            n_resamples=12,
            confidence_level=0.95,
            rng=np.random.default_rng(5),
        )
        for a, b in zip(out, want, strict=True):
            same_kind(a, xb)
            assert float(a) == pytest.approx(b, rel=1e-12)
        assert float(out[1]) < float(out[2])


def test_new_metrics_float32_and_errors(backend):
    z, p, y, _w = forecasts(n=60, k=3, seed=17)
    zb, yb = backend.asarray(z, "float32"), backend.asarray(y)
    for f in (L.classwise_calibration_error, L.debiased_calibration_error):
        out = f(logits=zb, labels=yb, n_bins=3)
        same_kind(out, zb)
        assert float(out) == pytest.approx(
            f(logits=z.astype(np.float32), labels=y, n_bins=3), rel=1e-5, abs=1e-6
        )
    same_kind(L.score_decomposition(logits=zb, labels=yb).reliability, zb)
    pb = backend.asarray(p)
    with pytest.raises(ValueError, match=r"^mode: expected 'top-label' or 'marginal'"):
        L.debiased_calibration_error(probs=pb, labels=yb, mode="classwise")
    with pytest.raises(ValueError, match=r"^score: expected 'brier' or 'log'"):
        L.score_decomposition(probs=pb, labels=yb, score="spherical")
    with pytest.raises(ValueError, match=r"^n_resamples: expected an integer >= 1"):
        L.bootstrap_interval(L.brier_score, probs=pb, labels=yb, n_resamples=0)
    with pytest.raises(ValueError, match=r"^confidence_level: expected a number in \(0, 1\)"):
        L.bootstrap_interval(L.brier_score, probs=pb, labels=yb, confidence_level=1.5)
    with pytest.raises(TypeError, match=r"^metric: expected a callable metric"):
        L.bootstrap_interval("ece", probs=pb, labels=yb)
    same = backend.asarray(np.tile([[0.7, 0.3]], (5, 1)))
    with pytest.raises(
        ValueError,
        match=r"^binning: equal-mass bins need at least 2 distinct "
        r"probabilities of class 0, got all 5 equal",
    ):
        L.classwise_calibration_error(
            probs=same, labels=backend.asarray(np.zeros(5, int)), binning="quantile"
        )
    with pytest.raises(ValueError, match=r"^labels: expected class indices in \[0, 3\)"):
        L.score_decomposition(probs=pb, labels=backend.asarray(y + 3))


def test_grad_classwise_and_debiased_are_numpy_finite_differences(autodiff):
    z, _, y, _w = forecasts(n=200, k=3, seed=18)
    v = RNG.standard_normal(z.shape)
    h = 1e-7  # no probability crosses an edge
    for f, kw in (
        (L.classwise_calibration_error, {"n_bins": 5}),
        (L.debiased_calibration_error, {"n_bins": 4, "binning": "uniform"}),
        (L.debiased_calibration_error, {"n_bins": 4, "mode": "marginal"}),
    ):
        fd = (f(logits=z + h * v, labels=y, **kw) - f(logits=z - h * v, labels=y, **kw)) / (2 * h)
        g = grad(autodiff, lambda t, yy, f=f, kw=kw: f(logits=t, labels=yy, **kw), z, y)
        assert np.all(np.isfinite(g))
        assert float(np.sum(g * v)) == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_grad_debiased_is_zero_not_nan_where_the_estimate_is_zero(autodiff):
    p = np.array([[0.8, 0.2]] * 4 + [[0.4, 0.6]] * 4)
    y = np.array([0, 0, 0, 1, 1, 1, 0, 0])  # the numpy docstring's example: estimate 0
    assert L.debiased_calibration_error(probs=p, labels=y, n_bins=2) == 0.0
    g = grad(
        autodiff, lambda t, yy: L.debiased_calibration_error(probs=t, labels=yy, n_bins=2), p, y
    )
    np.testing.assert_array_equal(g, 0.0)


@pytest.mark.parametrize("score", ["brier", "log"])
def test_grad_score_decomposition(autodiff, score):
    p, y, w = grouped_forecasts(n=60, seed=19)
    p = 0.9 * p + 0.1 / 3  # no zeros (the log score would be inf)
    # a direction equal on the rows of each forecast group: the groups stay, the rows stay
    # probabilities
    _, group = np.unique(p, axis=0, return_inverse=True)
    d = RNG.standard_normal((group.max() + 1, 3))
    v = (d - d.mean(1, keepdims=True))[group.reshape(-1)]
    h = 1e-7
    for field in ("reliability", "score"):

        def numpy_f(t, field=field):
            return getattr(
                L.score_decomposition(probs=t, labels=y, score=score, sample_weight=w), field
            )

        fd = (numpy_f(p + h * v) - numpy_f(p - h * v)) / (2 * h)
        g = grad(
            autodiff,
            lambda t, yy, ww, field=field: getattr(
                L.score_decomposition(probs=t, labels=yy, score=score, sample_weight=ww), field
            ),
            p,
            y,
            w,
        )
        assert np.all(np.isfinite(g))
        assert float(np.sum(g * v)) == pytest.approx(fd, rel=1e-6)


def test_grad_score_decomposition_finite_at_zero_probabilities(autodiff):
    p, y, _w = grouped_forecasts(n=150, seed=20)
    assert np.any(p == 0)
    for score in ("brier", "log"):
        g = grad(
            autodiff,
            lambda t, yy, score=score: (
                L.score_decomposition(probs=t, labels=yy, score=score).resolution
            ),
            p,
            y,
        )
        assert np.all(np.isfinite(g))


def test_grad_bootstrap_estimate_is_the_metric_gradient(autodiff):
    z, p, y, _w = forecasts(n=50, k=3, seed=21)
    hot = np.eye(3)[y]
    g = grad(
        autodiff,
        lambda t, yy: L.bootstrap_interval(
            L.brier_score, probs=t, labels=yy, n_resamples=3, rng=0
        )[0],
        p,
        y,
    )
    np.testing.assert_allclose(g, 2 * (p - hot) / len(y), rtol=1e-12, atol=1e-17)
    g = grad(
        autodiff,
        lambda t, yy: L.bootstrap_interval(L.log_loss, logits=t, labels=yy, n_resamples=3, rng=0)[
            2
        ],
        z,
        y,
    )
    assert np.all(np.isfinite(g)) and np.any(g != 0)


def test_jit_new_metrics(autodiff):
    if autodiff.name != "jax":
        pytest.skip("jax.jit only")
    import jax

    p, y, w = grouped_forecasts(n=120, seed=22)
    args = [autodiff.asarray(a) for a in (p, y, w)]
    cases = [
        (L.classwise_calibration_error, {"binning": "uniform"}),
        (L.classwise_calibration_error, {"binning": "quantile", "n_bins": 4}),
        (L.debiased_calibration_error, {"mode": "top-label", "n_bins": 4}),
        (L.debiased_calibration_error, {"mode": "marginal", "binning": "uniform"}),
    ]
    for f, kw in cases:

        def g(t, yy, ww, f=f, kw=kw):
            return f(probs=t, labels=yy, sample_weight=ww, **kw)

        want = f(probs=p, labels=y, sample_weight=w, **kw)
        assert float(jax.jit(g)(*args)) == pytest.approx(want, rel=1e-12)
        assert np.all(np.isfinite(np.asarray(jax.jit(jax.grad(g))(*args))))
    for score in ("brier", "log"):

        def parts(t, yy, ww, score=score):
            d = L.score_decomposition(probs=t, labels=yy, score=score, sample_weight=ww)
            return d.score, d.reliability, d.resolution, d.uncertainty

        want = L.score_decomposition(probs=p, labels=y, score=score, sample_weight=w)
        got = jax.jit(parts)(*args)
        np.testing.assert_allclose(
            [float(a) for a in got],
            [want.score, want.reliability, want.resolution, want.uncertainty],
            rtol=1e-12,
        )
    est = jax.jit(
        lambda t, yy: L.bootstrap_interval(L.brier_score, probs=t, labels=yy, n_resamples=5, rng=3)
    )(*args[:2])
    want = L.bootstrap_interval(L.brier_score, probs=p, labels=y, n_resamples=5, rng=3)
    np.testing.assert_allclose([float(a) for a in est], want, rtol=1e-12)
