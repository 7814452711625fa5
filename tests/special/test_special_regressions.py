"""Regression tests, each named after a bug found while building the kernels.

References are mpmath at 80 digits on the exact binary values of the inputs.
"""

import mpmath
import mpref
import numpy as np
import pytest

import expfam


@pytest.fixture(autouse=True)
def _eighty_digits():
    """mpmath at 80 digits inside these tests only (a global setting leaked into the
    verifier's tests when this module was collected first)."""
    with mpmath.workdps(80):
        yield


def _lse_ref(a):
    """m + log1p(sum of the other terms): no 1 + tiny to lose at any precision."""
    k = int(np.argmax(a))
    rest = mpmath.fsum(mpmath.exp(mpmath.mpf(v) - a[k]) for i, v in enumerate(a) if i != k)
    return mpmath.mpf(a[k]) + mpmath.log1p(rest)


def _ulps(computed: float, exact) -> float:
    spacing = np.spacing(abs(float(exact))) if exact != 0 else 5e-324
    return abs(float((mpmath.mpf(float(computed)) - exact) / mpmath.mpf(float(spacing))))


@pytest.mark.parametrize("gap", [700.0, 737.0, 745.0, 800.0])
def test_logsumexp_whose_other_terms_underflow_is_not_log2(gap):
    """The double-double correction once picked the zeroed maximal term when the
    threshold t * 2**-k underflowed to 0, so logsumexp([0, -737]) gave log 2."""
    a = [0.0, -gap]
    exact = _lse_ref(a)
    assert _ulps(expfam.logsumexp(a), exact) <= 1
    assert _ulps(expfam.logsumexp([gap, 0.0]), exact + gap) <= 1
    assert _ulps(expfam.log_softmax(a)[0], -(exact)) <= 1


def test_tempered_log_softmax_of_huge_spread_is_finite():
    """beta * (x - m) with x - m = -2e300 overflowed Dekker's split and the NaN
    correction reached the double-double exp: every log-probability came out NaN."""
    x = np.array([1e300, 0.0, -1e300])
    out = expfam.log_softmax(x, beta=3.7)
    assert out[0] == 0.0
    assert out[1] == pytest.approx(-3.7e300, rel=1e-15)
    assert out[2] == pytest.approx(-7.4e300, rel=1e-15)


@pytest.mark.parametrize("b", [1e-300, 2.2833053376258318e-246])
def test_logsumexp_of_one_tiny_weight(b):
    """log1p(b - 1) was NaN for a weight far below 1; such sums take log(S) in double-double."""
    exact = mpmath.log(mpmath.mpf(b))
    assert _ulps(expfam.logsumexp([0.0], b=[b]), exact) <= 1


def test_log_softmax_row_with_minus_inf_beside_an_all_minus_inf_row():
    """A block holding an all -inf row hid the -inf entries of its neighbours (min was NaN)."""
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 0.0, -np.inf]])
    out = expfam.log_softmax(x)
    assert np.isnan(out[0]).all()
    np.testing.assert_array_equal(out[1], [-np.log(2.0), -np.log(2.0), -np.inf])


def test_kl_of_shifted_logits_is_exactly_zero():
    """Centring at the weighted mean left a residue of order eps**3 (1e-80)."""
    z = np.array([0.0, 1.0, 0.0, -1.0]) / 2**8
    assert expfam.kl_divergence(z, z + 1.0) == 0.0


def test_kl_with_q_mass_off_the_support_of_p():
    """KL([1, 0] || [1/2, 1/2]) is log 2: the mass q puts where p has none counts."""
    assert expfam.kl_divergence([0.0, -np.inf], [0.0, 0.0]) == pytest.approx(np.log(2), rel=1e-16)


def test_kl_where_one_class_carries_e_minus_700():
    """A term p_k g(x_k) with p_k = e^-700, g = e^700 overflowed Dekker's split (NaN);
    found by derivation 06 of `expfam verify`."""
    assert expfam.kl_divergence([700.0, 0.0], [0.0, 0.0]) == pytest.approx(np.log(2), rel=2e-16)


@pytest.mark.parametrize("gap", [30.0, 800.0])
def test_kl_when_q_puts_almost_all_mass_off_the_support_of_p(gap):
    """-log q(S) was -log1p(-q_out), which loses everything as q_out -> 1 (inf at 800)."""
    exact = mpmath.log1p(mpmath.exp(mpmath.mpf(gap)))  # KL([1, 0] || softmax([0, gap]))
    assert _ulps(expfam.kl_divergence([0.0, -np.inf], [0.0, gap]), exact) <= 2


def test_cross_entropy_with_weight_beside_an_infinite_logit_is_infinite():
    """A +inf logit makes the other classes impossible: weight on them costs inf (was NaN)."""
    assert expfam.cross_entropy([np.inf, 0.0], [0.5, 0.5]) == np.inf
    assert expfam.cross_entropy([np.inf, 0.0], [1.0, 0.0]) == 0.0


def test_entropy_of_a_nearly_one_hot_row_is_never_negative():
    """Found by hypothesis after the move to tests/special/ changed its seed: the entropy of
    ``[2.72e169, 5.10e170]`` (exactly 3.4e-209793415..., 0 in float64) came out -1e-323."""
    h = expfam.entropy([2.7239983647541547e169, 5.103071740246989e170])
    assert h == 0.0
    assert not np.signbit(h)


# ---------------------------------------------------------------- issue 12


def test_kl_of_opposite_logits_at_1e308_is_inf_not_nan():
    """The logit difference 2e308 overflowed inside the centred series: NaN, where the
    divergence itself (about 2e308) is beyond the float range."""
    assert expfam.kl_divergence([1e308, -1e308], [-1e308, 1e308]) == np.inf


@pytest.mark.parametrize(
    ("p", "q"),
    [([1e308, 0.0], [-1e308, 0.0]), ([1e308, 0.0], [0.0, 1e308]), ([0.0, -1e308], [0.0, 1e308])],
)
def test_kl_with_logit_differences_past_the_float_range_is_finite(p, q):
    """KL = 1e308 (p puts its mass where log q = -1e308): finite, though d = z_p - z_q
    overflows. The reference: the one class of p's mass, log p - log q to 80 digits."""
    zp, zq = [mpmath.mpf(v) for v in p], [mpmath.mpf(v) for v in q]
    k = int(np.argmax(p))
    exact = (zp[k] - _lse_ref(p)) - (zq[k] - _lse_ref(q))
    assert _ulps(expfam.kl_divergence(p, q), exact) <= 2


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([0.0, -40.0], [-1.0, 1.0]),
        ([0.0, -40.0], [1.0, -1.0]),
        ([0.0, -700.0], [1.0, -1.0]),
        ([0.0, 0.0, -40.0], [2.0, -1.0, -1.0]),
        ([0.0, -40.0, -41.0], [-1.0, 1.0, 1.0]),
    ],
)
def test_signed_logsumexp_of_a_sum_near_one_keeps_its_digits(a, b):
    """logsumexp([0, -40], b=[-1, 1], return_sign=True) was (0.0, -1.0): the signed sum
    1 - e^-40 was rounded to 1 before its log. The answer is log1p(-e^-40) = -4.25e-18."""
    exact, exact_sign = mpref.logsumexp_ref(a, b)
    value, sign = expfam.logsumexp(a, b=b, return_sign=True)
    assert sign == exact_sign
    assert mpref.ulp_error(value, exact, np.float64) <= 1


def test_softmax_of_a_long_row_of_large_spread_within_3_ulp():
    """2 * 10**4 logits from N(0, 5**2): the float64 sum of the terms and 1 + t, rounded
    separately, took softmax to 3.17 ULP (bound 3)."""
    x = np.random.default_rng(1).normal(0.0, 5.0, 20_000)
    err = mpref.ulp_errors(expfam.softmax(x), mpref.softmax_ref(x))
    assert err.max() <= 3


def test_softmax_of_a_short_row_of_small_spread_within_3_ulp():
    """Not only long rows: this row of 30 logits from N(0, 1), found by a random search
    while fixing the long ones, took the old division to 3.30 ULP."""
    x = np.array(
        [
            -1.2977277428343776, -0.11975421160582049, 1.5624662764333062, -1.1027162945691869,
            -0.9560647580483199, 0.2633349360718236, 0.24842308389527806, -0.4009319761592683,
            0.047404294320278165, -0.9831269464222367, 1.9166907747311868, 0.2585241003075181,
            -1.203454465468639, 1.8874324302037213, 1.1794785674397823, 0.031534174302590985,
            0.6582983242963618, 0.9570791795670932, -0.44838482920743095, -0.026398191229274313,
            0.8840187593875316, -0.8482189310156655, -0.867168600346029, -1.0126996006638849,
            0.057830666537548675, -0.878342290442299, -0.046838703661637705, -0.06007825851386789,
            0.8147591544145276, -2.2816172206651344,
        ]
    )  # fmt: skip
    err = mpref.ulp_errors(expfam.softmax(x), mpref.softmax_ref(x))
    assert err.max() <= 3


def test_sigmoid_near_minus_6_94_within_2_ulp():
    """e^w / (1 + e^w) rounded three times reached 2.06 ULP at w = -6.9393753 (bound 2)."""
    w = np.float64(-6.9393753)
    assert mpref.ulp_error(expfam.sigmoid(w), mpref.sigmoid_ref(w)[()], np.float64) <= 2


def test_float_labels_are_not_read_as_probability_vectors():
    """cross_entropy(Z, y.astype(float)) read the labels [0, 1, 2] as one weight vector
    broadcast over the rows ([6.72, 4.72, 2.72] instead of [0.2395] * 3), and
    cross_entropy(z, 2.0) returned a number. Floats of the batch shape are an error."""
    z = np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 0.0], [2.0, 0.0, 1.0]])
    y = np.array([2, 1, 0])
    with pytest.raises(ValueError, match=r"\btarget\b.*integers"):
        expfam.cross_entropy(z, y.astype(float))
    with pytest.raises(ValueError, match=r"\btarget\b.*integers"):
        expfam.cross_entropy(z[0], 2.0)
    one_hot = np.eye(3)[y]
    np.testing.assert_array_equal(expfam.cross_entropy(z, one_hot), expfam.cross_entropy(z, y))


@pytest.mark.parametrize(
    ("zp", "zq"),
    [
        ([-5000.0, 5000.0, 0.0], [-2.2, -2.1, 0.3]),
        ([-900.0, 900.0, 0.0], [-2.2, -2.1, 0.3]),
        ([700.0, -700.0, 3.0], [1.0, 2.0, 3.0]),
        ([1e4, 0.0, -1e4], [0.5, 0.1, -0.2]),
    ],
)
def test_kl_where_p_makes_a_class_negligible_that_q_does_not(zp, zq):
    """Found by the geometry tests: log p_k + x_k (both about 1e4, the sum near 0) was rounded
    in float64, 755 ULP off at logits (-5000, 5000, 0) against (-2.2, -2.1, 0.3)."""
    with mpmath.workdps(60):
        a = [mpmath.mpf(v) for v in zp]
        b = [mpmath.mpf(v) for v in zq]
        la = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in a))
        lb = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in b))
        exact = mpmath.fsum(
            mpmath.exp(u - la) * ((u - la) - (v - lb)) for u, v in zip(a, b, strict=True)
        )
    assert _ulps(expfam.kl_divergence(zp, zq), exact) <= 2
