"""expfam.geometry.divergences against mpmath at 50+ digits, at its limits and on the boundary."""

from __future__ import annotations

import math
import warnings

import divref
import mpref
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr

from expfam import Bernoulli, Categorical
from expfam.geometry import (
    alpha_divergence,
    bhattacharyya_coefficient,
    bhattacharyya_distance,
    chernoff_information,
    hellinger,
    jeffreys,
    jensen_shannon,
    jensen_shannon_distance,
    kl,
    renyi_divergence,
    tsallis_divergence,
)

LOG2 = math.log(2.0)


def _chernoff_value(p, q):
    return chernoff_information(p, q).information


# name -> (function of (p, q), reference of (zp, zq), ULP bound stated in its docstring)
PLAIN = {
    "kl": (kl, divref.kl, 3),
    "jeffreys": (jeffreys, divref.jeffreys, 4),
    "jensen_shannon": (jensen_shannon, divref.jensen_shannon, 6),
    "hellinger": (hellinger, divref.hellinger, 3),
    "bhattacharyya_coefficient": (bhattacharyya_coefficient, divref.bhattacharyya_coefficient, 2),
    "bhattacharyya_distance": (bhattacharyya_distance, divref.bhattacharyya_distance, 5),
    "chernoff": (_chernoff_value, lambda zp, zq: divref.chernoff_information(zp, zq)[0], 8),
}
ALPHAS = (
    -7.0,
    -3.0,
    -1.5,
    -1.0,
    -1.0 + 1e-9,
    -0.999,
    -0.5,
    0.0,
    0.7,
    1.0 - 1e-7,
    1.0,
    1.0 + 1e-6,
    2.5,
    7.0,
)
ORDERS = (0.05, 0.5, 1.0 - 1e-8, 1.0, 1.0 + 1e-8, 2.0, 4.0)
ALPHA_ULPS = 10


def _cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """Logit pairs: far apart, close (q -> p down to 1e-13), shifted, on the boundary."""
    rng = np.random.default_rng(20261130)
    cases = []
    for k in (2, 3, 7):
        for eps in (3.0, 1e-2, 1e-5, 1e-9, 1e-13):
            zp = rng.normal(size=k) * rng.choice([1.0, 6.0])
            zq = zp + eps * rng.normal(size=k) + rng.choice([0.0, 30.0])
            cases.append((zp, zq))
    for _ in range(5):
        zp, zq = rng.normal(size=5), rng.normal(size=5)
        zp[rng.integers(5)] = -np.inf
        zq[rng.integers(5)] = -np.inf
        cases.append((zp, zq))
    cases.append((np.array([0.0, -np.inf, 1.0]), np.array([0.0, -np.inf, 1.0 + 1e-10])))
    cases.append((np.array([0.0, -np.inf]), np.array([-np.inf, 0.0])))  # disjoint
    cases.append((np.array([0.0, -40.0, 2.0]), np.array([-40.0, 0.0, 2.0])))
    return cases


CASES = _cases()


def _points(zp, zq):
    return Categorical(logits=zp), Categorical(logits=zq)


def _worst(fn, ref, cases=CASES) -> tuple[float, object]:
    worst, where = 0.0, None
    for zp, zq in cases:
        err = mpref.ulp_error(fn(*_points(zp, zq)), ref(zp, zq), np.float64)
        if err > worst:
            worst, where = err, (zp, zq)
    return worst, where


@pytest.mark.parametrize("name", PLAIN)
def test_divergence_matches_mpmath(name):
    fn, ref, bound = PLAIN[name]
    worst, where = _worst(fn, ref)
    assert worst <= bound, (name, worst, where)


def _prob_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """Probability arrays: far apart, close (relative 1e-6 .. 1e-14), with zeros."""
    rng = np.random.default_rng(7)
    cases = []
    for k in (2, 5):
        for eps in (1.0, 1e-6, 1e-10, 1e-14):
            p = rng.dirichlet(np.ones(k))
            q = p * (1 + eps * rng.standard_normal(k)) if eps < 1 else rng.dirichlet(np.ones(k))
            cases.append((p, q / q.sum()))
    cases.append((np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])))
    cases.append((np.array([0.2, 0.0, 0.8]), np.array([0.2, 0.3, 0.5])))
    cases.append((np.array([1e-300, 1.0 - 1e-300]), np.array([0.5, 0.5])))
    return cases


PROB_CASES = _prob_cases()


def _with(fn, ref, value):
    return (lambda p, q: fn(p, q, value)), (lambda a, b: ref(a, b, value)), ALPHA_ULPS


WITH_PARAMETER = {
    "alpha(-1)": _with(alpha_divergence, divref.alpha_divergence, -1.0),
    "alpha(0.3)": _with(alpha_divergence, divref.alpha_divergence, 0.3),
    "alpha(1-1e-9)": _with(alpha_divergence, divref.alpha_divergence, 1.0 - 1e-9),
    "renyi(2)": _with(renyi_divergence, divref.renyi_divergence, 2.0),
    "tsallis(0.5)": _with(tsallis_divergence, divref.tsallis_divergence, 0.5),
}


@pytest.mark.parametrize("name", [*PLAIN, *WITH_PARAMETER])
def test_probability_arrays_are_read_as_given(name):
    """Arrays are the points themselves (divided by their sum), not their rounded logs."""
    fn, ref, bound = PLAIN[name] if name in PLAIN else WITH_PARAMETER[name]
    for p, q in PROB_CASES:
        err = mpref.ulp_error(fn(p, q), ref(divref.Probs(p), divref.Probs(q)), np.float64)
        assert err <= bound, (name, err, p, q)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_alpha_divergence_matches_mpmath(alpha):
    worst, where = _worst(
        lambda p, q: alpha_divergence(p, q, alpha),
        lambda zp, zq: divref.alpha_divergence(zp, zq, alpha),
    )
    assert worst <= ALPHA_ULPS, (alpha, worst, where)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("kind", ["renyi", "tsallis"])
def test_renyi_and_tsallis_match_mpmath(kind, order):
    fn = renyi_divergence if kind == "renyi" else tsallis_divergence
    ref = divref.renyi_divergence if kind == "renyi" else divref.tsallis_divergence
    worst, where = _worst(lambda p, q: fn(p, q, order), lambda zp, zq: ref(zp, zq, order))
    assert worst <= ALPHA_ULPS, (kind, order, worst, where)


@pytest.mark.parametrize("name", [*PLAIN, "alpha", "renyi", "tsallis"])
def test_probabilities_below_the_float_range(name):
    """p_1 = e^-10000 underflows with a finite logit, log(q/p) ~ 1e4 (found by derivation 21).

    No warning and no NaN; the error is eps * max |log(q/p)| (about 1e-12 here), not ULPs:
    even a log-ratio rounded to double-double leaves its shift at that scale.
    """
    zp, zq = np.array([-5000.0, 5000.0, 0.0]), np.array([-2.2, -2.1, 0.3])
    if name in PLAIN:
        fn, ref, _ = PLAIN[name]
    else:
        order = {"alpha": -0.4, "renyi": 0.7, "tsallis": 1.3}[name]
        fn = {"alpha": alpha_divergence, "renyi": renyi_divergence, "tsallis": tsallis_divergence}
        fn = (lambda f, o: lambda p, q: f(p, q, o))(fn[name], order)
        ref = (lambda f, o: lambda a, b: f(a, b, o))(getattr(divref, f"{name}_divergence"), order)
    got = fn(*_points(zp, zq))
    assert float(got) == pytest.approx(float(ref(zp, zq)), rel=2e-12)


def test_chernoff_exponent_matches_mpmath():
    for zp, zq in CASES:
        _, lam = chernoff_information(*_points(zp, zq))
        _, ref = divref.chernoff_information(zp, zq)
        if ref is not None:
            assert abs(float(lam) - float(ref)) <= 1e-6, (zp, zq, lam, ref)


# ------------------------------------------------------------ limits, both sides


@pytest.mark.parametrize("end", [-1.0, 1.0])
def test_alpha_divergence_is_continuous_into_kl(end):
    p, q = [0.2, 0.3, 0.5], [0.5, 0.1, 0.4]
    limit = kl(p, q) if end == -1.0 else kl(q, p)
    for h in (1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12):
        for side in (-1.0, 1.0):
            value = alpha_divergence(p, q, end + side * h)
            # d D / d alpha is finite at the ends: the gap is O(h), no jump
            assert abs(value - limit) <= 2.0 * h * limit + 4e-16 * limit
    assert alpha_divergence(p, q, end) == pytest.approx(limit, rel=4e-16)


@pytest.mark.parametrize("kind", ["renyi", "tsallis"])
def test_order_one_is_kl_from_both_sides(kind):
    fn = renyi_divergence if kind == "renyi" else tsallis_divergence
    p, q = [0.2, 0.3, 0.5], [0.5, 0.1, 0.4]
    limit = kl(p, q)
    for h in (1e-3, 1e-6, 1e-9, 1e-12):
        for side in (-1.0, 1.0):
            assert abs(fn(p, q, 1.0 + side * h) - limit) <= 2.0 * h * limit + 4e-16 * limit
    assert fn(p, q, 1.0) == pytest.approx(limit, rel=4e-16)


def test_alpha_divergence_near_equality_keeps_relative_accuracy():
    """1 - sum p^l q^(1-l) would be 0 here; the divergence is ~ (1/2) chi^2."""
    p = np.array([0.25, 0.25, 0.5])
    q = p + np.array([1e-12, -1e-12, 0.0])
    zp, zq = np.log(p), np.log(q)
    for alpha in (-1.0, -0.3, 0.0, 0.9):
        got = alpha_divergence(*_points(zp, zq), alpha)
        ref = divref.alpha_divergence(zp, zq, alpha)
        assert mpref.ulp_error(got, ref, np.float64) <= ALPHA_ULPS
        assert got > 1e-24


# ------------------------------------------------------------ special cases


def test_closed_forms_at_alpha_zero_and_order_half():
    p, q = [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]
    h2 = hellinger(p, q) ** 2
    assert alpha_divergence(p, q, 0.0) == pytest.approx(4 * h2, rel=1e-15)
    bd = bhattacharyya_distance(p, q)
    assert renyi_divergence(p, q, 0.5) == pytest.approx(2 * bd, rel=1e-15)
    assert tsallis_divergence(p, q, 0.25) == pytest.approx(
        0.25 * alpha_divergence(p, q, 0.5), rel=1e-15
    )
    assert 1 - bhattacharyya_coefficient(p, q) == pytest.approx(h2, rel=1e-14)


def test_boundary_values():
    p, q = [0.5, 0.5, 0.0], [0.5, 0.0, 0.5]  # each has a class the other lacks
    assert kl(p, q) == np.inf and kl(q, p) == np.inf and jeffreys(p, q) == np.inf
    assert np.isfinite(alpha_divergence(p, q, 0.3))
    assert alpha_divergence(p, q, -1.0) == np.inf and alpha_divergence(p, q, 1.0) == np.inf
    assert renyi_divergence(p, q, 2.0) == np.inf and tsallis_divergence(p, q, 2.0) == np.inf
    assert np.isfinite(renyi_divergence(p, q, 0.5))
    # q = 0 < p only: KL(p||q) infinite, KL(q||p) finite
    p, q = [0.5, 0.5], [1.0, 0.0]
    assert kl(p, q) == np.inf and kl(q, p) == pytest.approx(LOG2, rel=1e-15)
    assert alpha_divergence(p, q, 1.0) == pytest.approx(LOG2, rel=1e-15)
    assert alpha_divergence(p, q, 0.999999) == pytest.approx(LOG2, rel=1e-5)
    # disjoint supports
    p, q = [1.0, 0.0], [0.0, 1.0]
    assert jensen_shannon(p, q) == LOG2 and hellinger(p, q) == 1.0
    assert bhattacharyya_coefficient(p, q) == 0.0 and bhattacharyya_distance(p, q) == np.inf
    assert chernoff_information(p, q).information == np.inf
    assert renyi_divergence(p, q, 0.5) == np.inf
    assert alpha_divergence(p, q, 0.0) == 4.0


def test_chernoff_at_an_end_when_supports_differ():
    """q puts mass where p has none: the best exponent can be l = 1, C = -log p(S)."""
    p, q = [0.5, 0.5, 0.0], [0.01, 0.01, 0.98]
    c, lam = chernoff_information(p, q)
    ref_c, ref_lam = divref.chernoff_information(
        Categorical.from_probs(p).logits, Categorical.from_probs(q).logits
    )
    assert float(lam) == pytest.approx(float(ref_lam), abs=1e-9)
    assert mpref.ulp_error(c, ref_c, np.float64) <= 8


def test_chernoff_point_is_equidistant_on_the_e_geodesic():
    p, q = np.array([0.7, 0.2, 0.1]), np.array([0.1, 0.3, 0.6])
    c, lam = chernoff_information(p, q)
    mid = p**lam * q ** (1 - lam)
    mid /= mid.sum()
    assert kl(mid, p) == pytest.approx(c, rel=1e-13)
    assert kl(mid, q) == pytest.approx(c, rel=1e-13)


def test_equal_points_give_exactly_zero():
    p = Categorical(logits=[0.3, -1.0, 2.0, -np.inf])
    for value in (
        kl(p, p),
        jeffreys(p, p),
        jensen_shannon(p, p),
        hellinger(p, p),
        bhattacharyya_distance(p, p),
        alpha_divergence(p, p, 0.4),
        renyi_divergence(p, p, 3.0),
        tsallis_divergence(p, p, 0.2),
        chernoff_information(p, p).information,
    ):
        assert value == 0.0
    assert bhattacharyya_coefficient(p, p) == pytest.approx(1.0, abs=2e-16)
    assert chernoff_information(p, p).exponent == 0.5


def test_bernoulli_pairs():
    a, b = Bernoulli.from_probs(0.3), Bernoulli.from_probs(0.8)
    expected = 0.3 * math.log(0.3 / 0.8) + 0.7 * math.log(0.7 / 0.2)
    assert kl(a, b) == pytest.approx(expected, rel=1e-15)
    assert hellinger(a, b) == pytest.approx(hellinger([0.7, 0.3], [0.2, 0.8]), rel=1e-15)


def test_dtype_float32_in_float32_out():
    p = np.array([0.25, 0.75], dtype=np.float32)
    q = np.array([0.5, 0.5], dtype=np.float32)
    assert jensen_shannon(p, q).dtype == np.float32
    assert alpha_divergence(p, q, 0.5).dtype == np.float32
    assert kl(p, q).dtype == np.float32


# ------------------------------------------------------------ scipy as an oracle


def test_jensen_shannon_distance_agrees_with_scipy():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(6), size=50)
    q = rng.dirichlet(np.ones(6) * 0.3, size=50)
    ours = jensen_shannon_distance(p, q)
    theirs = jensenshannon(p, q, axis=-1)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)
    np.testing.assert_allclose(kl(p, q), rel_entr(p, q).sum(axis=-1), rtol=1e-13)


# ------------------------------------------------------------ batching


def test_batching_equals_the_loop():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(4), size=(3, 5))
    q = rng.dirichlet(np.ones(4), size=(5,))  # broadcasts against p's batch (3, 5)
    p[0, 0, 1] = 0.0
    p[0, 0] /= p[0, 0].sum()
    functions = [
        kl,
        jeffreys,
        jensen_shannon,
        hellinger,
        bhattacharyya_distance,
        lambda a, b: alpha_divergence(a, b, 0.3),
        lambda a, b: renyi_divergence(a, b, 2.5),
        lambda a, b: tsallis_divergence(a, b, 0.4),
        lambda a, b: chernoff_information(a, b).information,
        lambda a, b: chernoff_information(a, b).exponent,
    ]
    for fn in functions:
        batched = fn(p, q)
        assert batched.shape == (3, 5)
        for i in range(3):
            for j in range(5):
                assert batched[i, j] == pytest.approx(fn(p[i, j], q[j]), rel=1e-14, abs=1e-300)


def test_batches_of_many_blocks_equal_the_loop():
    """Rows of 20000 classes make blocks of a few rows: zeros, ratios beyond the float
    range and far-apart rows fall in some blocks and not others (the lean path, the
    boundary rows and the log-domain fallbacks mix within a block)."""
    rng = np.random.default_rng(5)
    k = 20_000
    p = rng.dirichlet(np.ones(k), size=10)
    q = p * (1 + 1e-6 * rng.standard_normal(p.shape))
    q[1] = rng.dirichlet(np.full(k, 0.05))  # far from p[1]: Renyi, Bhattacharyya in logs
    q[4, :5] = 0.0  # zeros in q
    p[7, 0], p[7, 1] = 1e-305, p[7, 1] + p[7, 0]  # a ratio beyond the float range
    q /= q.sum(axis=1, keepdims=True)
    functions = [
        kl,
        jeffreys,
        jensen_shannon,
        hellinger,
        bhattacharyya_coefficient,
        bhattacharyya_distance,
        lambda a, b: alpha_divergence(a, b, 0.3),
        lambda a, b: renyi_divergence(a, b, 2.5),
        lambda a, b: tsallis_divergence(a, b, 0.4),
    ]
    for fn in functions:
        batched = fn(p, q)
        for i in range(len(p)):
            assert batched[i] == pytest.approx(fn(p[i], q[i]), rel=1e-14, abs=1e-300)


def test_hellinger_where_the_squares_underflow():
    p = np.array([1 - 2e-200, 1e-200, 1e-200])
    q = np.array([1 - 2e-200, 1.5e-200, 0.5e-200])
    exact = divref.hellinger(divref.Probs(p), divref.Probs(q))
    assert mpref.ulp_error(hellinger(p, q), exact, np.float64) <= 3


@pytest.mark.parametrize("fn", [kl, hellinger, bhattacharyya_coefficient, jensen_shannon])
def test_bad_values_in_a_large_batch_raise_from_every_thread(fn):
    """Values are checked from the block sums, after the loop: a ValueError, no warning."""
    p = np.full((12_000, 100), 0.01)  # over 2**20 entries: shared among threads
    q = p.copy()
    q[7000, :2] = (-0.01, 0.03)
    with pytest.raises(ValueError, match="q: expected probabilities finite and >= 0"):
        fn(p, q)


# ------------------------------------------------------------ properties

probabilities = hnp.arrays(
    np.float64, 4, elements=st.floats(0.0, 1.0, allow_subnormal=False)
).filter(lambda v: v.sum() > 1e-3)


def _normalized(v: np.ndarray) -> np.ndarray:
    return v / v.sum()


@given(probabilities, probabilities, st.floats(-4.0, 4.0))
def test_alpha_duality_and_positivity(a, b, alpha):
    p, q = _normalized(a), _normalized(b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = alpha_divergence(p, q, alpha)
        dual = alpha_divergence(q, p, -alpha)
    assert d >= 0.0
    assert d == pytest.approx(dual, rel=1e-12) or (d == dual == np.inf)


@given(probabilities, probabilities, probabilities)
def test_jensen_shannon_distance_is_a_metric(a, b, c):
    p, q, r = _normalized(a), _normalized(b), _normalized(c)
    d = jensen_shannon_distance
    assert d(p, q) == pytest.approx(d(q, p), rel=1e-15)
    assert d(p, r) <= d(p, q) + d(q, r) + 1e-15
    assert 0.0 <= jensen_shannon(p, q) <= LOG2


@given(probabilities, probabilities)
def test_zero_iff_equal_and_symmetries(a, b):
    p, q = _normalized(a), _normalized(b)
    equal = bool(np.all(p == q))
    for fn in (kl, jensen_shannon, hellinger, lambda x, y: alpha_divergence(x, y, 0.6)):
        assert (fn(p, q) == 0.0) == equal or fn(p, q) < 1e-300
    assert jeffreys(p, q) == pytest.approx(jeffreys(q, p), rel=1e-13)
    assert hellinger(p, q) == pytest.approx(hellinger(q, p), rel=1e-13)
    assert chernoff_information(p, q).information == pytest.approx(
        chernoff_information(q, p).information, rel=1e-12, abs=1e-300
    )


@given(probabilities, probabilities)
def test_chernoff_is_at_least_bhattacharyya(a, b):
    p, q = _normalized(a), _normalized(b)
    c, lam = chernoff_information(p, q)
    bd = bhattacharyya_distance(p, q)
    assert c >= bd * (1 - 1e-14)
    assert 0.0 <= lam <= 1.0
    assert c <= min(kl(p, q), kl(q, p)) * (1 + 1e-13) or not np.isfinite(c)


@given(probabilities, probabilities, st.floats(0.05, 5.0), st.floats(0.05, 5.0))
def test_renyi_is_monotone_in_the_order(a, b, o1, o2):
    p, q = _normalized(a), _normalized(b)
    lo, hi = sorted((o1, o2))
    assert renyi_divergence(p, q, lo) <= renyi_divergence(p, q, hi) * (1 + 1e-12)


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: kl([0.5, 0.6], [0.5, 0.5]), ValueError, "p: expected rows that sum to 1"),
        (
            lambda: kl([0.5, 0.5], [1.5, -0.5]),
            ValueError,
            "q: expected probabilities finite and >= 0",
        ),
        (lambda: kl([0.5, 0.5], [0.2, 0.3, 0.5]), ValueError, "same K"),
        (lambda: alpha_divergence([0.5, 0.5], [0.5, 0.5], np.nan), ValueError, "alpha"),
        (lambda: alpha_divergence([0.5, 0.5], [0.5, 0.5], "x"), TypeError, "alpha"),
        (lambda: renyi_divergence([0.5, 0.5], [0.5, 0.5], 0.0), ValueError, "order"),
        (lambda: tsallis_divergence([0.5, 0.5], [0.5, 0.5], -1.0), ValueError, "order"),
        (lambda: renyi_divergence([0.5, 0.5], [0.5, 0.5], np.inf), ValueError, "order"),
        (lambda: hellinger(np.ones((2, 2)) / 2, np.ones((3, 2)) / 2), ValueError, "broadcast"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
