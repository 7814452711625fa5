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
