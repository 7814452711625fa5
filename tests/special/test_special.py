"""expfam.special: the worked vectors of DESIGN.md, identities as properties, and the scipy bugs
we fix.

Expected values come from the worked examples of DESIGN.md, closed forms, finite
differences or mpmath (``mpref``); the accuracy catalogue itself is in
test_special_accuracy.py and the special values in test_special_values.py.
"""

from __future__ import annotations

import math

import mpref
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import expfam

F64, F32 = np.float64, np.float32
TINY = 5e-324


def within_ulps(a, b, n, dtype=F64):
    """|a - b| <= n spacings of the larger in magnitude (subnormal spacing near 0)."""
    a = np.asarray(a, dtype=dtype)
    b = np.asarray(b, dtype=dtype)
    gap = np.abs(a.astype(F64) - b.astype(F64))
    spacing = np.spacing(np.maximum(np.abs(a), np.abs(b))).astype(F64)
    return bool(np.all(gap <= n * spacing))


# ---------------------------------------------------------------- seed 002


SCORES = np.array([0.1, -2.0, 3.4, 3.3], dtype=F32)


def test_seed002_softmax_of_scores():
    p = expfam.softmax(SCORES)
    assert p.dtype == F32
    np.testing.assert_allclose(p, [0.01895101, 0.00232067, 0.513812, 0.4649163], rtol=3e-6)
    np.testing.assert_allclose(p.sum(dtype=F64), 1.0, rtol=4e-7)


def test_seed002_log_loss_of_true_class():
    loss = expfam.cross_entropy(SCORES, 2)
    assert loss.dtype == F32
    np.testing.assert_allclose(loss, 0.66589785, rtol=2e-7)


def test_seed002_scaled_logits_are_more_confident():
    # the example multiplies in float32 (rounded products); softmax(SCORES, beta=10) would be the
    # exact softmax of 10 * SCORES, 3e-7 away, and is held to mpmath in the accuracy tests
    np.testing.assert_allclose(expfam.softmax(SCORES * 10)[2], 0.7310586, rtol=2e-7)


def test_seed002_large_scores_do_not_overflow():
    big = np.array([1000.0, 1001.0, 1002.0], dtype=F32)
    p = expfam.softmax(big)  # a naive exp gives [inf, inf, inf] with a warning
    np.testing.assert_allclose(p, [0.09003057, 0.24472848, 0.66524094], rtol=2e-7)
    # subtracting any constant leaves softmax unchanged: the stability trick
    np.testing.assert_array_equal(p, expfam.softmax(big - big.max()))


# ---------------------------------------------------------------- seed 004

Z004 = np.array([0.95, 0.99, 0.98])


def test_seed004_beta_1_percentages():
    np.testing.assert_array_equal(np.round(100 * expfam.softmax(Z004), 2), [32.56, 33.89, 33.55])


def test_seed004_beta_500_percentages():
    p = expfam.softmax(Z004, beta=500.0)
    np.testing.assert_array_equal(np.round(100 * p, 2), [0.00, 99.33, 0.67])
    assert p[0] > 0  # e^-20 of the mass: small, not zero


def test_seed004_exponentials_and_their_sum():
    """The worked table prints e^(500 z_i) and their sum (JavaScript doubles, 16 digits)."""
    exps = [1.9493009930840557e206, 9.457329972221242e214, 6.372298810568915e212]
    total = 9.521052979819942e214
    log_partition = expfam.logsumexp(Z004 * 500.0)
    np.testing.assert_allclose(log_partition, math.log(total), rtol=1e-15)
    log_p = expfam.log_softmax(Z004, beta=500.0)
    np.testing.assert_allclose(log_p + log_partition, [math.log(e) for e in exps], rtol=1e-15)


# ---------------------------------------------------------------- properties

_logits = st.lists(
    st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False), min_size=1, max_size=8
).map(np.array)
_wide = st.lists(
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False), min_size=1, max_size=8
).map(np.array)
_logits32 = hnp.arrays(
    F32, st.integers(1, 8), elements=st.floats(-80.0, 80.0, width=32, allow_subnormal=False)
)


@given(_wide)
def test_softmax_sums_to_one(x):
    p = expfam.softmax(x)
    assert np.all(p >= 0)
    assert abs(math.fsum(p) - 1.0) <= (3 + x.size) * np.finfo(F64).eps


@given(_logits32)
def test_softmax_sums_to_one_float32(x):
    p = expfam.softmax(x)
    assert p.dtype == F32
    assert abs(math.fsum(p.astype(F64)) - 1.0) <= (3 + x.size) * np.finfo(F32).eps


_dyadic = st.lists(st.integers(-(2**18), 2**18), min_size=1, max_size=8).map(
    lambda v: np.array(v, dtype=F64) / 2**8
)


@given(_dyadic, st.integers(-(2**20), 2**20))
def test_shift_invariance(x, c):
    """x + c is exact for these dyadic logits, so the exact results are equal (or shifted)."""
    shifted = x + c
    assert np.array_equal(shifted - c, x)
    assert within_ulps(expfam.softmax(shifted), expfam.softmax(x), 6)
    assert within_ulps(expfam.log_softmax(shifted), expfam.log_softmax(x), 2)
    lse, lse_shifted = expfam.logsumexp(x), expfam.logsumexp(shifted)
    tol = 2 * (np.spacing(abs(lse)) + np.spacing(abs(lse_shifted)))
    assert abs(lse_shifted - (lse + c)) <= tol
    assert expfam.kl_divergence(x, shifted) <= 2 * TINY
    assert within_ulps(expfam.entropy(shifted), expfam.entropy(x), 2)


@given(_logits)
def test_softmax_is_exp_of_log_softmax(x):
    p, log_p = expfam.softmax(x), expfam.log_softmax(x)
    eps = np.finfo(F64).eps
    # p within 3 ULP, log p within 1 ULP of |log p|: exp turns that into |log p| eps relative
    np.testing.assert_allclose(p, np.exp(log_p), rtol=(4 + 2 * np.abs(log_p).max()) * eps)


@given(st.lists(st.floats(-20.0, 20.0, allow_nan=False), min_size=1, max_size=6).map(np.array))
def test_gradient_of_logsumexp_is_softmax(x):
    grad = np.empty_like(x)
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up[i] += 2.0**-20
        down[i] -= 2.0**-20
        grad[i] = (expfam.logsumexp(up) - expfam.logsumexp(down)) / (up[i] - down[i])
    np.testing.assert_allclose(grad, expfam.softmax(x), rtol=0, atol=1e-8)


@given(
    st.lists(st.floats(-20.0, 20.0, allow_nan=False), min_size=2, max_size=5).map(np.array),
    st.floats(0.05, 20.0),
)
def test_derivative_of_log_partition_in_beta_is_mean_logit(x, beta):
    """d/dbeta logsumexp(beta z) = E_softmax(beta z)[z] (004, 002)."""
    h = 2.0**-20
    deriv = (expfam.logsumexp((beta + h) * x) - expfam.logsumexp((beta - h) * x)) / (2 * h)
    mean = np.dot(expfam.softmax(x, beta=beta), x)
    np.testing.assert_allclose(deriv, mean, rtol=0, atol=1e-6 * (1 + np.abs(x).max()))


_real = st.floats(-800.0, 800.0, allow_nan=False)


@given(_real)
def test_sigmoid_is_two_class_softmax(w):
    assert within_ulps(expfam.sigmoid(w), expfam.softmax(np.array([w, 0.0]))[0], 5)
    assert within_ulps(expfam.log_sigmoid(w), expfam.log_softmax(np.array([w, 0.0]))[0], 2)


@given(_real)
def test_softplus_is_two_class_logsumexp(w):
    assert within_ulps(expfam.softplus(w), expfam.logsumexp(np.array([w, 0.0])), 2)
    assert within_ulps(expfam.log_sigmoid(w), -expfam.softplus(-w), 2)


@given(_real, _real)
def test_two_class_softmax_is_sigmoid_of_difference(w1, w2):
    """003: softmax((w1, w2))_1 = sigmoid(w1 - w2), exactly when w1 - w2 is exact."""
    d = w1 - w2
    if math.fsum([w1, -w2, -d]) != 0:  # only where the difference is exact
        return
    assert within_ulps(expfam.softmax(np.array([w1, w2]))[0], expfam.sigmoid(d), 5)


@given(_wide, _wide)
def test_kl_is_nonnegative_and_zero_at_equality(x, y):
    if x.size != y.size:
        y = np.resize(y, x.size)
    assert expfam.kl_divergence(x, y) >= 0
    assert 0 <= expfam.kl_divergence(x, x) <= 2 * TINY


@given(_logits, st.floats(-1e-6, 1e-6))
def test_kl_is_nonnegative_as_q_tends_to_p(x, delta):
    r = np.cos(np.arange(x.size) + 1.0)
    assert expfam.kl_divergence(x, x + delta * r) >= 0


@given(_wide)
def test_entropy_is_between_zero_and_log_k(x):
    h = expfam.entropy(x)
    assert 0 <= h <= math.log(x.size) * (1 + 4 * np.finfo(F64).eps)


@given(_wide, st.integers(0, 7))
def test_cross_entropy_is_minus_log_softmax_of_target(x, y):
    y = y % x.size
    ce = expfam.cross_entropy(x, y)
    assert within_ulps(ce, -expfam.log_softmax(x)[y], 2)
    onehot = np.zeros(x.size)
    onehot[y] = 1.0
    assert within_ulps(expfam.cross_entropy(x, onehot), ce, 2)


@given(_wide)
def test_cross_entropy_with_itself_is_entropy(x):
    """H(p, p) = H(p), evaluated with target p = softmax(x) (a float vector near p)."""
    p = expfam.softmax(x)
    ce, h = expfam.cross_entropy(x, p), expfam.entropy(x)
    # p is rounded (3 ULP) and no longer sums to 1 exactly: allow a relative K * eps
    np.testing.assert_allclose(ce, h, rtol=(6 + x.size) * 2.3e-16, atol=1e-300)


# ---------------------------------------------------------------- scipy's failures we fix
# Each input below is one where scipy.special (1.17) is far outside the bound; we assert only
# that expfam is within its bound there, against mpmath, not what scipy does.


def test_log_softmax_does_not_round_a_tiny_log_probability_to_zero():
    """scipy.special.log_softmax([0, -40])[0] is exactly 0; the answer is -4.25e-18."""
    x = np.array([0.0, -40.0])
    got = expfam.log_softmax(x)
    assert got[0] < 0
    assert mpref.ulp_errors(got, mpref.log_softmax_ref(x)).max() <= 1
    assert mpref.ulp_error(expfam.cross_entropy(x, 0), -mpref.log_softmax_ref(x)[0], F64) <= 1


@pytest.mark.parametrize("w", [-709.0, -720.0, -740.0, -744.0, -745.0])
def test_sigmoid_keeps_subnormal_results(w):
    """scipy.special.expit flushes these to 0 (below about -709)."""
    got = expfam.sigmoid(np.float64(w))
    assert mpref.ulp_error(got, mpref.sigmoid_ref(w)[()], F64) <= 2
    assert got > 0


def test_softmax_within_3_ulp_where_scipy_is_30_ulp_off():
    """A spread of ~37 with a non-zero max: scipy.special.softmax is ~31 ULP off here."""
    x = np.array([18.005400484492696, -18.77871713665778, -17.35558965707122, -18.88736375210923])
    assert mpref.ulp_errors(expfam.softmax(x), mpref.softmax_ref(x)).max() <= 3


def test_logsumexp_signed_cancellation_where_scipy_loses_half_the_digits():
    """log(e^1e-10 - 1): scipy.special.logsumexp(b=[1, -1]) is ~2e7 ULP off."""
    a, b = np.array([1e-10, 0.0]), np.array([1.0, -1.0])
    value, sign = expfam.logsumexp(a, b=b, return_sign=True)
    ref, ref_sign = mpref.logsumexp_ref(a, b)
    assert sign == ref_sign == 1
    assert mpref.ulp_error(value, ref, F64) <= 4


def test_tempered_softmax_scales_after_the_shift():
    """softmax(x, beta) is the exact softmax of beta * x, not of the rounded product."""
    x = np.array([1000.0, np.nextafter(1000.0, 0.0), 999.0])
    assert mpref.ulp_errors(expfam.softmax(x, beta=3.7), mpref.softmax_ref(x, 3.7)).max() <= 3
