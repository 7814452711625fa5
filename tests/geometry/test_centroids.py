"""KL and Jeffreys centroids: minimizers of weighted divergence sums, closed forms by oracles."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import minimize
from scipy.special import lambertw, softmax

from expfam import Categorical
from expfam.geometry import (
    jeffreys,
    jeffreys_centroid,
    kl,
    left_kl_centroid,
    right_kl_centroid,
)

RNG = np.random.default_rng(9)
POINTS = RNG.dirichlet(np.ones(4), size=5)
WEIGHTS = np.array([0.1, 0.4, 0.2, 0.2, 0.1])


def _minimize_over_simplex(objective, k: int) -> np.ndarray:
    """argmin over the simplex by BFGS in logits (an independent numerical oracle)."""
    res = minimize(lambda z: objective(softmax(np.append(z, 0.0))), np.zeros(k - 1), tol=1e-14)
    return softmax(np.append(res.x, 0.0))


def test_right_centroid_minimizes_the_weighted_kl_to_it():
    c = right_kl_centroid(POINTS, WEIGHTS)
    oracle = _minimize_over_simplex(lambda m: np.sum(WEIGHTS * kl(POINTS, m)), 4)
    np.testing.assert_allclose(c, oracle, atol=1e-6)
    np.testing.assert_allclose(c, WEIGHTS @ POINTS, rtol=1e-15)


def test_left_centroid_minimizes_the_weighted_kl_from_it():
    c = left_kl_centroid(POINTS, WEIGHTS)
    oracle = _minimize_over_simplex(lambda m: np.sum(WEIGHTS * kl(m, POINTS)), 4)
    np.testing.assert_allclose(c, oracle, atol=1e-6)
    geometric = np.prod(POINTS ** WEIGHTS[:, None], axis=0)
    np.testing.assert_allclose(c, geometric / geometric.sum(), rtol=1e-14)


def test_centroids_are_pythagorean():
    """sum w KL(p_i || c) = sum w KL(p_i || c*) + KL(c* || c) for the right centroid c*."""
    c_star = right_kl_centroid(POINTS, WEIGHTS)
    other = Categorical.from_probs([0.1, 0.2, 0.3, 0.4])
    lhs = np.sum(WEIGHTS * kl(POINTS, other))
    rhs = np.sum(WEIGHTS * kl(POINTS, c_star)) + kl(c_star, other)
    assert lhs == pytest.approx(rhs, rel=1e-14)


def test_left_centroid_of_points_with_zeros():
    c = left_kl_centroid([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5]])
    np.testing.assert_allclose(c, [0.5, 0.5, 0.0])
    # zero weight: the point's zeros do not count
    c = left_kl_centroid([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5]], weights=[0.0, 1.0])
    np.testing.assert_allclose(c, [0.25, 0.25, 0.5], rtol=1e-15)


def test_batched_centroids_equal_the_loop():
    pts = RNG.dirichlet(np.ones(3), size=(4, 6))  # set of 4, batch of 6
    w = RNG.random((4, 6))  # a weight per point and batch entry
    right, left = right_kl_centroid(pts, w), left_kl_centroid(pts, w)
    jc = jeffreys_centroid(pts, w)
    assert right.shape == left.shape == jc.shape == (6, 3)
    for j in range(6):
        np.testing.assert_allclose(right[j], right_kl_centroid(pts[:, j], w[:, j]))
        np.testing.assert_allclose(left[j], left_kl_centroid(pts[:, j], w[:, j]))
        np.testing.assert_allclose(jc[j], jeffreys_centroid(pts[:, j], w[:, j]), rtol=1e-15)


# ------------------------------------------------------------ Jeffreys


def _jeffreys_positive(h, c):
    """J(h, c) = sum (h - c) log(h / c) for positive histograms."""
    return np.sum((h - c) * np.log(h / c), axis=-1)


def test_jeffreys_centroid_matches_lambertw_and_mpmath():
    h = RNG.gamma(2.0, size=(3, 5)) + 0.01
    w = np.array([0.5, 0.3, 0.2])
    c = jeffreys_centroid(h, w)
    a = w @ h
    g = np.exp(w @ np.log(h))
    np.testing.assert_allclose(c, a / lambertw(np.e * a / g).real, rtol=4e-16)
    with mpmath.workdps(50):
        for k in range(5):
            pairs = [
                (mpmath.mpf(float(wi)), mpmath.mpf(float(hi)))
                for wi, hi in zip(w, h[:, k], strict=True)
            ]
            ak = sum(wi * hi for wi, hi in pairs)
            lg = sum(wi * mpmath.log(hi) for wi, hi in pairs)
            ref = ak / mpmath.lambertw(mpmath.e * ak / mpmath.exp(lg))
            assert abs(c[k] - ref) <= 4 * 2.0**-52 * abs(ref)


def test_jeffreys_centroid_is_the_minimizer():
    h = RNG.gamma(2.0, size=(4, 3)) + 0.05
    w = np.full(4, 0.25)
    c = jeffreys_centroid(h, w)
    res = minimize(
        lambda v: np.sum(w * _jeffreys_positive(h, np.exp(v))), np.log(h.mean(0)), tol=1e-14
    )
    np.testing.assert_allclose(c, np.exp(res.x), rtol=1e-6)
    a, g = w @ h, np.exp(w @ np.log(h))
    assert np.all((g <= c * (1 + 1e-15)) & (c <= a * (1 + 1e-15)))


def test_jeffreys_centroid_of_equal_histograms_is_that_histogram():
    h = np.array([[0.2, 3.0, 7.0]] * 3)
    np.testing.assert_allclose(jeffreys_centroid(h), h[0], rtol=2e-16)


def test_jeffreys_centroid_far_apart_does_not_overflow():
    c = jeffreys_centroid([[1e-300, 1.0], [1e300, 1.0]])
    assert np.all(np.isfinite(c)) and c[1] == pytest.approx(1.0, rel=1e-15)


def test_normalized_jeffreys_centroid_is_near_the_frequency_centroid():
    """Nielsen (2013): normalizing the positive centroid approximates the simplex one."""
    h = RNG.dirichlet(np.ones(3), size=4)
    c = jeffreys_centroid(h)
    approx = c / c.sum()
    exact = _minimize_over_simplex(lambda m: np.sum(jeffreys(h, m)), 3)
    np.testing.assert_allclose(approx, exact, atol=0.05)


@given(hnp.arrays(np.float64, (3, 4), elements=st.floats(1e-3, 1e3)))
def test_jeffreys_centroid_is_stationary(h):
    c = jeffreys_centroid(h)
    a, log_g = h.mean(0), np.log(h).mean(0)
    # d/dc sum_i J(h_i, c) / n = log c - log g + 1 - a / c
    gradient = np.log(c) - log_g + 1 - a / c
    assert np.all(np.abs(gradient) <= 1e-12 * (1 + np.abs(np.log(c)) + np.abs(log_g)))


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: right_kl_centroid([0.5, 0.5]), "set of N >= 1 points"),
        (lambda: right_kl_centroid(POINTS, [1.0, 2.0]), "weights: expected 5 entries"),
        (lambda: right_kl_centroid(POINTS, -WEIGHTS), "weights: expected finite weights >= 0"),
        (
            lambda: left_kl_centroid(POINTS, np.zeros(5)),
            "weights: expected weights that are not all 0",
        ),
        (lambda: left_kl_centroid([[1.0, 0.0], [0.0, 1.0]]), "share no class"),
        (
            lambda: jeffreys_centroid([[1.0, 0.0], [1.0, 2.0]]),
            "histograms: expected positive, finite",
        ),
        (lambda: jeffreys_centroid([1.0, 2.0]), "histograms: expected at least 2 axes"),
        (lambda: right_kl_centroid([[0.5, 0.6]]), "points: expected rows that sum to 1"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
