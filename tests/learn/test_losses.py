"""Tempered cross-entropy and the perceptron limit; binary margin losses and their psi-transforms.

Oracles: mpmath at 60 digits for the tempered loss, central finite
differences for every gradient and derivative, bounded numerical
minimization of the conditional risk for the psi table.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
import scipy.optimize
from hypothesis import given
from hypothesis import strategies as st
from mpref import log_softmax_ref, ulp_error

import expfam
from expfam.datasets import make_blobs
from expfam.learn import (
    MARGIN_LOSSES,
    perceptron,
    tempered_cross_entropy,
    tempered_cross_entropy_gradient,
)

BETAS = [0.01, 0.5, 1.0, 7.5, 1e3, 1e8]
logit_rows = st.lists(st.floats(-50, 50), min_size=2, max_size=7)


@pytest.mark.parametrize("beta", BETAS)
def test_tempered_cross_entropy_within_2_ulp_of_mpmath(beta):
    rng = np.random.default_rng(int(beta * 100) % 2**31)
    worst = 0.0
    for _ in range(40):
        k = int(rng.integers(2, 8))
        z = rng.standard_normal(k) * rng.choice([0.1, 3.0, 40.0])
        y = int(rng.integers(k))
        exact = -log_softmax_ref(z, beta)[y] / mpmath.mpf(beta)
        worst = max(worst, ulp_error(tempered_cross_entropy(z, y, beta), exact, np.float64))
    assert worst <= 2.0


@given(logit_rows, st.integers(0, 6), st.sampled_from([*BETAS, 1e15, math.inf]))
def test_tempered_loss_lies_in_the_sandwich(z, y, beta):
    z = np.array(z)
    y = y % len(z)
    gap = np.max(z) - z[y]
    loss = float(tempered_cross_entropy(z, y, beta))
    slack = 4 * np.finfo(float).eps * (abs(gap) + np.max(np.abs(z)) + 1)
    assert gap - slack <= loss <= gap + math.log(len(z)) / beta + slack


def test_tempered_loss_tends_to_the_perceptron_loss():
    z, y = np.array([0.3, 2.0, -1.0, 2.0]), 0  # a tie at the maximum: log 2 / beta above
    gaps = [float(tempered_cross_entropy(z, y, b)) - 1.7 for b in (10.0, 1e3, 1e6)]
    np.testing.assert_allclose(gaps, [math.log(2) / b for b in (10.0, 1e3, 1e6)], rtol=1e-6)
    assert tempered_cross_entropy(z, y, math.inf) == pytest.approx(1.7, abs=1e-15)
    assert tempered_cross_entropy(z, 1, math.inf) == 0.0


def test_beta_one_is_the_cross_entropy():
    rng = np.random.default_rng(3)
    z, y = rng.standard_normal((20, 5)) * 5, rng.integers(0, 5, 20)
    np.testing.assert_array_equal(tempered_cross_entropy(z, y), expfam.cross_entropy(z, y))


@pytest.mark.parametrize("beta", [0.3, 1.0, 4.0])
def test_tempered_gradient_by_finite_differences(beta):
    rng = np.random.default_rng(4)
    z, y, h = rng.standard_normal(5), 2, 1e-6
    fd = [
        (tempered_cross_entropy(z + h * e, y, beta) - tempered_cross_entropy(z - h * e, y, beta))
        / (2 * h)
        for e in np.eye(5)
    ]
    np.testing.assert_allclose(tempered_cross_entropy_gradient(z, y, beta), fd, atol=1e-8)


def test_tempered_gradient_tends_to_the_perceptron_update():
    z = np.array([0.5, 2.0, 1.0, 2.0])
    update = np.array([-1.0, 0.5, 0.0, 0.5])  # e_argmax - e_y, the tie sharing
    np.testing.assert_array_equal(tempered_cross_entropy_gradient(z, 0, math.inf), update)
    for beta in (10.0, 100.0, 1000.0):
        gap = np.abs(tempered_cross_entropy_gradient(z, 0, beta) - update).max()
        assert gap <= 2 * math.exp(-beta)  # the runner-up at distance 1 in the logits
    right = tempered_cross_entropy_gradient([3.0, 1.0], 0, math.inf)
    np.testing.assert_array_equal(right, [0.0, 0.0])  # a right prediction: no update


def test_beta_and_labels_broadcast_over_the_batch():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 3, 6)) * 3
    y = rng.integers(0, 6, (4, 3))
    beta = np.array([0.5, 2.0, math.inf])
    loss = tempered_cross_entropy(z, y, beta)
    grad = tempered_cross_entropy_gradient(z, y, beta)
    assert loss.shape == (4, 3) and grad.shape == (4, 3, 6)
    for i in range(4):
        for j in range(3):
            assert loss[i, j] == tempered_cross_entropy(z[i, j], y[i, j], beta[j])
            np.testing.assert_array_equal(
                grad[i, j], tempered_cross_entropy_gradient(z[i, j], y[i, j], beta[j])
            )
    assert tempered_cross_entropy(z.astype(np.float32), y).dtype == np.float32


@pytest.mark.parametrize(
    ("args", "error", "word"),
    [
        (([1.0, 2.0], 0, 0.0), ValueError, "beta"),
        (([1.0, 2.0], 0, -1.0), ValueError, "beta"),
        (([1.0, 2.0], 2, 1.0), ValueError, "y: class indices"),
        (([1.0, 2.0], 0.5, 1.0), TypeError, "y: expected integer"),
        (([1.0, np.nan], 0, 1.0), ValueError, "logits: expected finite"),
        ((1.0, 0, 1.0), ValueError, "logits"),
        (([[1.0, 2.0], [3.0, 4.0]], [0, 1, 0], 1.0), ValueError, "do not broadcast"),
    ],
)
def test_tempered_bad_input_names_the_argument(args, error, word):
    with pytest.raises(error, match=word):
        tempered_cross_entropy(*args)


def reference_perceptron(X, y, order, k):
    """The multiclass perceptron written out: mistakes only, ties share the blame."""
    W = np.zeros((k, X.shape[1] + 1))
    X1 = np.hstack([X, np.ones((len(X), 1))])
    for n in order:
        z = W @ X1[n]
        tied = np.flatnonzero(z == z.max())
        if len(tied) == 1 and tied[0] == y[n]:
            continue
        W[y[n]] += X1[n]
        W[tied] -= X1[n] / len(tied)
    return W


def test_perceptron_at_infinite_beta_is_the_classical_perceptron():
    X, y = make_blobs(60, centers=3, cluster_std=1.0, rng=8)
    coef, intercept = perceptron(X, y, epochs=3, rng=1)
    rng = np.random.default_rng(1)
    order = np.concatenate([rng.permutation(60) for _ in range(3)])
    W = reference_perceptron(X, y, order, 3)
    np.testing.assert_allclose(np.column_stack([coef, intercept]), W, rtol=1e-13, atol=1e-12)


def test_perceptron_separates_separable_blobs_and_finite_beta_learns_too():
    X, y = make_blobs(90, centers=[[0.0, 5.0], [5.0, -3.0], [-5.0, -3.0]], rng=9)
    for beta in (1.0, math.inf):
        coef, intercept = perceptron(X, y, beta=beta, epochs=20, rng=0)
        accuracy = np.mean(np.argmax(X @ coef.T + intercept, axis=1) == y)
        assert accuracy == 1.0


# ------------------------------------------------------------------ margin losses

MARGINS = np.array([-800.0, -3.0, -0.7, -1e-9, 0.25, 0.9, 1.6, 30.0, 800.0])


@pytest.mark.parametrize("name", [n for n in MARGIN_LOSSES if n != "zero_one"])
def test_derivatives_by_finite_differences(name):
    phi = MARGIN_LOSSES[name]
    m = np.array([-3.0, -0.7, 0.25, 0.9, 1.6, 5.0])  # away from the kinks at 0 and 1
    h = 1e-6
    fd = (phi.loss(m + h) - phi.loss(m - h)) / (2 * h)
    np.testing.assert_allclose(phi.derivative(m), fd, rtol=1e-7, atol=1e-9)


def test_losses_at_known_values():
    L = MARGIN_LOSSES
    assert L["logistic2"].loss(np.array(0.0)) == 1.0
    assert L["logistic"].loss(np.array(0.0)) == pytest.approx(math.log(2), rel=1e-16)
    assert L["logistic"].loss(np.array(-800.0)) == 800.0
    assert L["exponential"].loss(np.array(-800.0)) == math.inf  # the value, no warning
    assert L["hinge"].loss(np.array(0.25)) == 0.75
    assert L["squared_hinge"].loss(np.array(-1.0)) == 4.0
    assert L["perceptron"].loss(np.array(-2.5)) == 2.5
    for name in ("hinge", "logistic2", "exponential", "squared_hinge"):
        assert (L[name].loss(MARGINS) >= L["zero_one"].loss(MARGINS)).all(), name
    assert L["logistic"].loss(MARGINS.astype(np.float32)).dtype == np.float32


def conditional_risk(phi, eta, wrong_sign):
    """``H(eta)`` (or ``H^-(eta)``): a grid over the score a, then bounded minimization."""
    lo, hi = (-20.0, 20.0) if not wrong_sign else ((-20.0, 0.0) if eta >= 0.5 else (0.0, 20.0))

    def risk(a):
        a = np.asarray(a, dtype=float)
        return eta * phi.loss(a) + (1 - eta) * phi.loss(-a)

    grid = np.linspace(lo, hi, 4001)
    values = risk(grid)
    best, step = grid[np.argmin(values)], (hi - lo) / 4000
    res = scipy.optimize.minimize_scalar(
        lambda a: float(risk(a)),
        bounds=(max(lo, best - step), min(hi, best + step)),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return min(res.fun, values.min())


@pytest.mark.parametrize("name", list(MARGIN_LOSSES))
def test_psi_transform_against_numerical_minimization(name):
    phi = MARGIN_LOSSES[name]
    for theta in (-0.8, -0.3, 0.1, 0.45, 0.7, 0.9):
        eta = (1 + theta) / 2
        numeric = conditional_risk(phi, eta, True) - conditional_risk(phi, eta, False)
        assert float(phi.psi(np.array(theta))) == pytest.approx(numeric, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", list(MARGIN_LOSSES))
def test_calibrated_exactly_when_psi_is_positive_off_zero(name):
    phi = MARGIN_LOSSES[name]
    theta = np.array([-1.0, -0.5, -1e-3, 1e-3, 0.5, 1.0])
    assert bool((phi.psi(theta) > 0).all()) == phi.calibrated
    assert phi.psi(np.array(0.0)) == 0.0


def test_psi_closed_forms_keep_their_digits_near_zero_and_one():
    with mpmath.workdps(50):
        for t in (1e-12, 1e-5, 0.3, 0.5, 0.75, 0.999999, 1.0):
            tm = mpmath.mpf(t)
            logistic = (1 + tm) / 2 * mpmath.log(1 + tm) + (
                (1 - tm) / 2 * mpmath.log(1 - tm) if t < 1 else 0
            )
            exponential = 1 - mpmath.sqrt(1 - tm**2)
            assert ulp_error(MARGIN_LOSSES["logistic"].psi(np.array(t)), logistic, np.float64) <= 4
            assert (
                ulp_error(MARGIN_LOSSES["exponential"].psi(np.array(t)), exponential, np.float64)
                <= 3
            )


def test_psi_outside_its_domain_is_an_error():
    with pytest.raises(ValueError, match="theta"):
        MARGIN_LOSSES["hinge"].psi(np.array(1.5))


@pytest.mark.parametrize("name", list(MARGIN_LOSSES))
def test_margin_losses_give_nan_for_nan_and_limits_beyond_the_float_range(name):
    phi = MARGIN_LOSSES[name]
    big = np.finfo(np.float64).max
    m = np.array([np.nan, big, -big, np.inf, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, slope = phi.loss(m), phi.derivative(m)
    assert np.isnan(value[0]) and np.isnan(slope[0])
    # the exact values, in mpmath, rounded to float64 (inf beyond the range)
    exact = {
        "zero_one": (lambda t: float(t <= 0), lambda t: 0.0),
        "hinge": (lambda t: max(0, 1 - t), lambda t: -1.0 if t < 1 else 0.0),
        "squared_hinge": (lambda t: max(0, 1 - t) ** 2, lambda t: 2 * min(0, t - 1)),
        "logistic": (lambda t: mpmath.log1p(mpmath.exp(-t)), lambda t: -1 / (1 + mpmath.exp(t))),
        "logistic2": (
            lambda t: mpmath.log1p(mpmath.exp(-t)) / mpmath.log(2),
            lambda t: -1 / (1 + mpmath.exp(t)) / mpmath.log(2),
        ),
        "exponential": (lambda t: mpmath.exp(-t), lambda t: -mpmath.exp(-t)),
        "perceptron": (lambda t: max(0, -t), lambda t: -1.0 if t < 0 else 0.0),
    }[name]
    with mpmath.workdps(30):
        for i, t in enumerate(m[1:3], start=1):
            for got, fn in ((value[i], exact[0]), (slope[i], exact[1])):
                ref = mpmath.mpf(fn(mpmath.mpf(float(t))))
                want = float(ref) if abs(ref) <= big else float(mpmath.sign(ref)) * np.inf
                np.testing.assert_allclose(got, want, rtol=1e-15)
                assert not (got == 0 and np.signbit(got))  # no -0.0
