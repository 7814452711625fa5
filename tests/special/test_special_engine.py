"""The compiled row engine (expfam/special/_engine.c): exact error-free transformations (no
FMA contraction), the GIL released, results independent of the thread count and of the
segmentation of long rows, and the kernel defects found by adversarial inputs.

Expected values are exact rational arithmetic (fractions) or mpmath (``mpref``)."""

from __future__ import annotations

import threading
import time
from fractions import Fraction

import mpmath
import mpref
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import expfam
import expfam.special as es
from expfam.special import _engine

_finite = st.floats(allow_nan=False, allow_infinity=False)
# Products whose exact value and rounding error are both normal numbers.
_factor = st.floats(min_value=2.0**-450, max_value=2.0**450) | st.floats(
    min_value=-(2.0**450), max_value=-(2.0**-450)
)


@given(_finite, _finite)
def test_two_sum_is_exact(a, b):
    """TwoSum holds only if every operation is rounded as written (no reassociation)."""
    s, err = _engine.two_sum(a, b)
    if np.isfinite(s):
        assert s == a + b
        assert Fraction(s) + Fraction(err) == Fraction(a) + Fraction(b)


@given(_factor, _factor)
def test_two_prod_is_exact(a, b):
    """Dekker's product through the compiled module equals the exact product. Veltkamp's split
    ``c - (c - a)`` contracted into an FMA (``-ffp-contract=fast`` with FMA hardware) splits
    wrongly and leaves an error term that is off here."""
    p, err = _engine.two_prod(a, b)
    assert p == a * b
    assert Fraction(p) + Fraction(err) == Fraction(a) * Fraction(b)


@pytest.mark.parametrize(
    ("a", "b"), [(1.4e300, 0.9999999999999999), (-3.0e307, 1.0 / 3.0), (1.7e308, 1e-300)]
)
def test_two_prod_of_a_factor_beyond_two_to_the_995_is_exact(a, b):
    """Veltkamp's split of such a factor overflows; the engine scales it by 2**-64 first."""
    p, err = _engine.two_prod(a, b)
    assert Fraction(p) + Fraction(err) == Fraction(a) * Fraction(b)


@given(st.floats(-740.0, 709.0), st.floats(-1e-13, 1e-13))
def test_exp_dd_within_2_to_the_minus_58(hi, lo):
    e_hi, e_lo = _engine.exp_dd(hi, lo)
    with mpmath.workdps(40):
        exact = mpmath.exp(mpmath.mpf(hi) + mpmath.mpf(lo))
        if exact > 2.0**-1000:
            assert abs((mpmath.mpf(e_hi) + mpmath.mpf(e_lo)) / exact - 1) < 2.0**-58


def test_the_engine_releases_the_gil():
    """Python code runs on another thread while a kernel computes."""
    x = np.random.default_rng(0).standard_normal((256, 50_000))
    window = []

    def work():
        start = time.perf_counter()
        es.entropy(x)
        window.extend([start, time.perf_counter()])

    ticks = []
    with es.set_num_threads(1):
        worker = threading.Thread(target=work)
        worker.start()
        while worker.is_alive():
            ticks.append(time.perf_counter())
        worker.join()
    start, stop = window
    inside = [t for t in ticks if start < t < stop]
    assert len(inside) > 10


_KERNELS = {
    "softmax": es.softmax,
    "log_softmax": es.log_softmax,
    "logsumexp": es.logsumexp,
    "entropy": es.entropy,
    "cross_entropy": lambda x: es.cross_entropy(x, np.arange(len(x)) % x.shape[-1]),
    "kl_divergence": lambda x: es.kl_divergence(x, x[::-1] * 0.5),
    "tempered_log_softmax": lambda x: es.log_softmax(x, beta=np.linspace(0.5, 3.0, len(x))),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel", _KERNELS)
def test_long_rows_do_not_depend_on_threads_or_segments(kernel, dtype):
    """Rows cut into segments give the same bits on 1, 2 and 3 threads; the segments' partial
    sums change only the last bits of the rows path (all within the accuracy bounds)."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((3, 5000)) * 8).astype(dtype)
    x[1, 17] = 90.0  # a dominant class: the double-double pass
    saved = _engine.set_segments(1000, 700)
    try:
        results = []
        for n in (1, 2, 3):
            with es.set_num_threads(n):
                results.append(_KERNELS[kernel](x))
    finally:
        _engine.set_segments(*saved)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)
    np.testing.assert_allclose(results[0], _KERNELS[kernel](x), rtol=4 * np.finfo(dtype).eps)


def test_kl_of_a_long_row_needs_no_copies_of_it():
    import tracemalloc

    rng = np.random.default_rng(3)
    zp, zq = rng.standard_normal((2, 1 << 21))
    tracemalloc.start()
    es.kl_divergence(zp, zq)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < zp.nbytes / 4


# ---------------------------------------------------------------- defects (issue 17)


def _ulps(computed, exact) -> float:
    return mpref.ulp_error(computed, exact, np.float64)


def test_log_softmax_at_beta_beyond_dekker_range():
    """beta = 1.4e300 overflowed Dekker's split: log_softmax([1, 0]) was [-1, -1.4e300]."""
    for beta in (1.4e300, 1e307):
        got = es.log_softmax([1.0, 0.0], beta=beta)
        exact = mpref.log_softmax_ref([1.0, 0.0], beta)
        assert got[0] == 0.0
        assert _ulps(got[1], exact[1]) <= 1
        assert _ulps(es.cross_entropy([1.0, 0.0], 1, beta=beta), -exact[1]) <= 1


def test_tempered_shift_past_the_float_range():
    """x - m overflows but beta (x - m) does not: log_softmax([1e308, -1e308], beta=0.5)."""
    got = es.log_softmax([1e308, -1e308], beta=0.5)
    np.testing.assert_array_equal(got, [0.0, -1e308])


@pytest.mark.parametrize(
    ("zp", "zq"),
    [
        ([-685.0, 0.0], [-1.33938575e300, 0.0]),  # raised "cannot convert float NaN to integer"
        ([0.0, 5.0, -np.inf], [0.0, -800.0, 0.0]),  # counted -log q(supp p) twice
        ([0.0, 5.0, -np.inf, 1.0], [0.0, -760.0, 3.0, -2.0]),
    ],
)
def test_kl_far_tails_within_2_ulp(zp, zq):
    exact = mpref.kl_ref(zp, zq)
    assert _ulps(es.kl_divergence(zp, zq), exact) <= 2
    batch = es.kl_divergence(np.array([zp, zp]), np.array([zq, zq]))  # a batch: no NaN
    assert _ulps(batch[1], exact) <= 2


def test_empty_rows_have_entropy_and_kl_zero():
    """K = 0 and a fully masked row are both the empty distribution: the empty sum."""
    empty = np.empty((2, 0))
    np.testing.assert_array_equal(es.entropy(empty), [0.0, 0.0])
    np.testing.assert_array_equal(es.kl_divergence(empty, empty), [0.0, 0.0])
    masked = es.entropy([1.0, 2.0], where=[False, False])
    assert masked == 0.0 == expfam.kl_divergence([1.0, 2.0], [0.0, 0.0], where=[False, False])


@pytest.mark.parametrize(
    ("logits", "target"),
    [([0.0, -1e308], [0.0, 1e308]), ([1.0, 2.0], [np.inf, 1.0]), ([0.0, 1.0], [1e308, 1.7e308])],
)
def test_cross_entropy_with_a_weight_past_the_float_range_is_inf(logits, target):
    """q_k (-log p_k) overflows: the sum is +inf (it was NaN: Dekker's split overflowed)."""
    assert es.cross_entropy(logits, target) == np.inf


def test_cross_entropy_with_no_classes_is_the_empty_sum():
    np.testing.assert_array_equal(es.cross_entropy(np.empty((2, 0)), np.empty((2, 0))), [0, 0])


def test_logsumexp_ignores_masked_weights_whatever_their_value():
    got = es.logsumexp([0.0, 1.0], b=[np.nan, 1.0], where=[False, True])
    assert got == 1.0
    rows = es.logsumexp(np.zeros((2, 3)), b=[np.inf, 1.0, 2.0], where=[False, True, True])
    np.testing.assert_allclose(rows, [np.log(3.0)] * 2, rtol=2.3e-16)


@pytest.mark.parametrize("signed", [False, True])
def test_weighted_logsumexp_does_not_depend_on_threads_and_rows_are_one_row_calls(signed):
    """The compiled weighted kernel shares rows among threads past 65536 entries."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((300, 301)) * 20
    b = rng.standard_normal(a.shape) if signed else rng.random(a.shape)
    b[:, ::7] = 0.0
    a[::5, 3] = -np.inf
    with es.set_num_threads(1):
        one, one_sign = es.logsumexp(a, axis=-1, b=b, return_sign=True)
    with es.set_num_threads(3):
        many, many_sign = es.logsumexp(a, axis=-1, b=b, return_sign=True)
    assert one.tobytes() == many.tobytes() and one_sign.tobytes() == many_sign.tobytes()
    for i in (0, 5, 299):
        value, sign = es.logsumexp(a[i], b=b[i], return_sign=True)
        assert (value, sign) == (one[i], one_sign[i])
        _, exact_sign = mpref.logsumexp_ref(a[i], b[i])
        assert sign == exact_sign


def test_weighted_logsumexp_limits():
    """Infinite terms: their weights decide (the sign of their sum; NaN where it is 0);
    an infinite weight on a finite term, a NaN term or weight: NaN, and the sign NaN;
    no term (all weights 0, or only e^-inf): the empty sum, -inf with sign 0."""
    cases = [
        ([np.inf, 0.0, np.inf], [1.0, -5.0, 2.0], np.inf, 1.0),
        ([np.inf, 0.0, np.inf], [1.0, 5.0, -2.0], np.inf, -1.0),
        ([np.inf, 0.0, np.inf], [1.0, 5.0, -1.0], np.nan, np.nan),
        ([1.0, 0.0], [np.inf, 1.0], np.nan, np.nan),
        ([1.0, 0.0], [-np.inf, 1.0], np.nan, np.nan),
        ([np.nan, 0.0], [1.0, 1.0], np.nan, np.nan),
        ([np.nan, 0.0], [0.0, 1.0], 0.0, 1.0),
        ([1.0, 0.0], [np.nan, 1.0], np.nan, np.nan),
        ([1.0, 2.0], [0.0, 0.0], -np.inf, 0.0),
        ([-np.inf, 2.0], [1.0, 0.0], -np.inf, 0.0),
        ([0.0, 0.0], [1.0, -1.0], -np.inf, 0.0),
    ]
    for a, b, value, sign in cases:
        got = es.logsumexp(a, b=b, return_sign=True)
        np.testing.assert_array_equal(got, (value, sign), err_msg=f"a={a} b={b}")


def test_soft_cross_entropy_does_not_depend_on_threads_and_rows_are_one_row_calls():
    """The compiled probability-target kernel shares rows among threads past 65536 entries;
    each row is within 1 ULP of mpmath."""
    rng = np.random.default_rng(6)
    z = rng.standard_normal((300, 301)) * 20
    q = rng.random(z.shape) * (rng.random(z.shape) < 0.5)
    with es.set_num_threads(1):
        one = es.cross_entropy(z, q, beta=0.7)
    with es.set_num_threads(3):
        many = es.cross_entropy(z, q, beta=0.7)
    assert one.tobytes() == many.tobytes()
    for i in (0, 150, 299):
        assert es.cross_entropy(z[i], q[i], beta=0.7) == one[i]
        with mpmath.workdps(60):
            logits = [mpmath.mpf(0.7) * mpmath.mpf(v) for v in z[i]]
            log_z = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in logits))
            terms = zip(q[i], logits, strict=True)
            exact = mpmath.fsum(mpmath.mpf(w) * (log_z - v) for w, v in terms)
        assert _ulps(one[i], exact) <= 1


def test_soft_cross_entropy_whose_tempered_log_probability_overflows():
    """-log p_1 = 3 (5.6 + 1e308) passes float64, a quarter of it does not; the halves
    left beta out (the result was a third of the truth)."""
    got = es.cross_entropy([5.6, -1e308], [0.75, 0.25], beta=3.0)
    exact = mpmath.mpf(0.25) * 3 * (mpmath.mpf(5.6) + mpmath.mpf(1e308))
    assert abs(got - exact) <= 4 * np.spacing(got)


def test_kl_whose_log_q_overflows_but_not_the_divergence():
    """KL([0, 0] || [1e308, -1e308]) is about 1e308; it was inf (log q = -2e308 overflowed)."""
    exact = mpref.kl_ref([0.0, 0.0], [1e308, -1e308])
    assert _ulps(es.kl_divergence([0.0, 0.0], [1e308, -1e308]), exact) <= 2
