"""Adversarial inputs to expfam.geometry (issue 21): the boundary of the simplex, the
ends of the float range, extreme orders and scales. References are mpmath at high
precision or closed forms; each test names the class of defect it pins.
"""

from __future__ import annotations

import itertools

import mpmath
import mpref
import numpy as np
import pytest
from mpmath import mpf

from expfam import Categorical
from expfam.geometry import (
    alpha_divergence,
    alpha_geodesic,
    bhattacharyya_distance,
    chernoff_information,
    kl,
    renyi_divergence,
    tsallis_divergence,
)

# entries that reach the ends of the float range: tiny normals, subnormals, 0
TINY = (1e-20, 1e-150, 1e-200, 1e-300, 2.5e-310, 5e-324, 0.0)
ALPHAS = (-9.0, -5.0, -3.0, -1.5, -0.5, 0.5, 1.5, 3.0, 5.0, 9.0)
ORDERS = (0.1, 0.5, 2.0, 3.0, 5.0)
_MAX = mpf(np.finfo(np.float64).max)


def _exact(p) -> list:
    """The float probabilities divided by their exact sum."""
    entries = [mpf(float(v)) for v in p]
    total = sum(entries)
    return [v / total for v in entries]


def _power(x, lam):
    if x == 0:
        return mpf(0) if lam > 0 else (mpf(1) if lam == 0 else mpf("inf"))
    return x**lam


def _power_sum(p, q, lam):
    lam = mpf(lam)
    pairs = zip(_exact(p), _exact(q), strict=True)
    return sum(_power(a, lam) * _power(b, 1 - lam) for a, b in pairs if a > 0 or b > 0)


def alpha_reference(p, q, alpha):
    """``4 / (1 - a^2) (1 - sum p^((1-a)/2) q^((1+a)/2))``, at 1000 digits."""
    with mpmath.workdps(1000):
        lam = (1 - mpf(alpha)) / 2
        return (1 - _power_sum(p, q, lam)) / (lam * (1 - lam))


def renyi_reference(p, q, order):
    with mpmath.workdps(1000):
        s = _power_sum(p, q, order)
        return mpf("inf") if s == 0 or mpmath.isinf(s) else mpmath.log(s) / (mpf(order) - 1)


def _rows():
    for a, b in itertools.product(TINY, TINY):
        yield [0.9, 0.1 - a, a], [0.9, 0.1 - b, b]
        yield [1.0 - a, a], [1.0 - b, b]


def _assert_close(got, ref, where):
    got = float(got)
    assert not np.isnan(got) and got >= 0.0, where
    if mpmath.isinf(ref) or ref > _MAX:
        assert got == np.inf, (where, got, ref)
        return
    # a few ULP, or the float below the normal range (subnormal results carry fewer bits)
    assert abs(mpf(got) - ref) <= 1e-13 * abs(ref) + mpf(1e-322), (where, got, float(ref))


def test_issue_examples_near_the_boundary():
    """NaN, -1e-250 and 0 where the divergence is a tiny positive number (closed forms)."""
    # tsallis of order 3: (sum p^3 q^-2 - 1) / 2, the third class gives 1e-50
    got = tsallis_divergence([0.9, 0.1, 1e-150], [0.9, 0.1, 1e-200], 3.0)
    assert got == pytest.approx(5e-51, rel=1e-13)
    # alpha = 5: -(1/6)(1 - sum p^-2 q^3) = 1e-50 / 6
    got = alpha_divergence([0.9, 0.1, 1e-200], [0.9, 0.1, 1e-150], 5.0)
    assert got == pytest.approx(1e-50 / 6, rel=1e-13)
    # alpha = 3: -(1/2)(1 - sum p^-1 q^2) = 1e-200 / 2 (the sums 1 + 1e-300, 1 + 1e-250)
    got = alpha_divergence([1.0, 1e-300], [1.0, 1e-250], 3.0)
    assert got == pytest.approx(float(alpha_reference([1.0, 1e-300], [1.0, 1e-250], 3.0)))
    assert got == pytest.approx(5e-201, rel=1e-10)
    # Renyi of order 3: log(1 + 1e-50) / 2
    got = renyi_divergence([0.9, 0.1, 1e-150], [0.9, 0.1, 1e-200], 3.0)
    assert got == pytest.approx(5e-51, rel=1e-13)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_alpha_divergence_at_the_ends_of_the_float_range(alpha):
    """Powers of tiny entries under- or overflow where their product does not."""
    for p, q in _rows():
        _assert_close(alpha_divergence(p, q, alpha), alpha_reference(p, q, alpha), (p, q))


@pytest.mark.parametrize("order", ORDERS)
def test_tsallis_and_renyi_at_the_ends_of_the_float_range(order):
    for p, q in _rows():
        tsallis = order * alpha_reference(p, q, 1 - 2 * order)
        _assert_close(tsallis_divergence(p, q, order), tsallis, (p, q))
        _assert_close(renyi_divergence(p, q, order), renyi_reference(p, q, order), (p, q))


def test_chernoff_at_the_ends_of_the_float_range():
    """Never NaN, never below the Bhattacharyya distance (l = 1/2 is a candidate)."""
    p, q = zip(*_rows(), strict=True)
    for k in (2, 3):
        ps = np.array([r for r in p if len(r) == k])
        qs = np.array([r for r in q if len(r) == k])
        result = chernoff_information(ps, qs)
        assert result.converged
        assert not np.any(np.isnan(result.information))
        assert np.all(result.information >= 0)
        bd = bhattacharyya_distance(ps, qs)
        assert np.all(result.information >= bd * (1 - 1e-13))


def test_kl_of_probability_arrays_holds_its_ulp_bound():
    """The documented bound (6 ULP) over random pairs, far apart and nearby."""
    rng = np.random.default_rng(21)
    worst = 0.0
    for _ in range(400):
        k = int(rng.integers(2, 8))
        p = rng.dirichlet(np.ones(k) * rng.choice([0.1, 1.0, 10.0]))
        q = rng.dirichlet(np.ones(k) * rng.choice([0.1, 1.0, 10.0]))
        if rng.random() < 0.4:
            q = p * (1 + 1e-6 * rng.normal(size=k))
            q /= q.sum()
        with mpmath.workdps(60):
            ref = sum(a * mpmath.log(a / b) for a, b in zip(_exact(p), _exact(q), strict=True))
        worst = max(worst, mpref.ulp_error(kl(p, q), ref, np.float64))
    assert worst <= 6.0


def test_kl_of_distributions_and_arrays_agree_at_extreme_logits():
    """±1e308 logits: classes of probability 0 and 1, no warning, no NaN. The reverse
    divergence is finite: log p = (0, -2e308, -1e308) exactly, so KL(q || p) =
    0.25 * 2e308 + 0.25 * 1e308 + O(1) = 7.5e307 (issue 17: not inf)."""
    p = Categorical(logits=[1e308, -1e308, 0.0])
    q = np.array([0.5, 0.25, 0.25])
    assert float(kl(p, q)) == pytest.approx(np.log(2.0), rel=1e-15)
    assert float(kl(q, p)) == pytest.approx(7.5e307, rel=1e-15)


# ------------------------------------------------------------------ alpha geodesics
def alpha_geodesic_reference(p, q, t, alpha, dps=25):
    """The docstring's formula in mpmath: ``t(s) = int_0^s Z^(-2b) / int_0^1 Z^(-2b)``.

    Integrals by mpmath's adaptive tanh-sinh quadrature, split where the integrand
    may turn (near the ends, at every scale down to 1e-30); ``s`` by bisection
    safeguarded Newton steps to 20 digits.
    """
    with mpmath.workdps(dps):
        b = (1 - mpf(alpha)) / 2
        pb = [_power(mpf(float(v)), b) for v in p]
        qb = [_power(mpf(float(v)), b) for v in q]

        def mean(s):
            return [((1 - s) * x + s * y) ** (1 / b) for x, y in zip(pb, qb, strict=True)]

        def f(s):
            return mpmath.fsum(mean(s)) ** (-2 * b)

        ends = [mpf(10) ** -e for e in (30, 20, 12, 8, 4, 2)]
        cuts = [mpf(0), *ends, mpf(0.5), *(1 - e for e in reversed(ends)), mpf(1)]

        def integral(s):
            return mpmath.quad(f, [c for c in cuts if c < s] + [s])

        goal = mpf(t) * integral(mpf(1))
        lo, hi, s = mpf(0), mpf(1), mpf(t)
        for _ in range(200):
            g = integral(s) - goal
            if abs(g) <= goal * mpf(10) ** -20:
                break
            lo, hi = (s, hi) if g < 0 else (lo, s)
            step = s - g / f(s)
            s = step if lo < step < hi else (lo + hi) / 2
        m = mean(s)
        z = mpmath.fsum(m)
        return np.array([float(v / z) for v in m])


@pytest.mark.parametrize("alpha", [3.0, 9.0, -3.0, -7.0, 2.0])
def test_alpha_geodesic_midpoint_of_swapped_classes(alpha):
    """Class swap and t <-> 1 - t: the midpoint of (a, 1 - a) and (1 - a, a) is uniform."""
    for a in (0.001, 0.3, 1e-8):
        mid = alpha_geodesic([a, 1 - a], [1 - a, a], 0.5, alpha)
        np.testing.assert_allclose(mid, [0.5, 0.5], rtol=1e-14)


@pytest.mark.parametrize("alpha", [3.0, -3.0, 7.0, -0.5])
def test_alpha_geodesic_is_reversible(alpha):
    """gamma(p, q; t) = gamma(q, p; 1 - t)."""
    rng = np.random.default_rng(7)
    p, q = rng.dirichlet(np.ones(4), size=2)
    t = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    forward = alpha_geodesic(p, q, t[:, None], alpha)
    backward = alpha_geodesic(q, p, 1 - t[:, None], alpha)
    np.testing.assert_allclose(forward, backward, rtol=1e-13)


@pytest.mark.parametrize(
    ("p", "q", "alpha", "t"),
    [
        ([0.2, 0.5, 0.3], [0.6, 0.1, 0.3], 3.0, 0.3),
        ([0.001, 0.999], [0.999, 0.001], 9.0, 0.2),
        ([1e-6, 0.4, 0.6 - 1e-6], [0.5, 0.5 - 1e-9, 1e-9], 5.0, 0.7),
        ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], -3.0, 0.2),
        ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], -7.0, 0.35),
        ([1.0, 0.0, 0.0], [0.0, 0.5, 0.5], -1.5, 0.8),
    ],
)
def test_alpha_geodesic_matches_mpmath(p, q, alpha, t):
    """Far from +-1, at the vertices and near them: the docstring's 1e-12."""
    got = alpha_geodesic(p, q, t, alpha)
    ref = alpha_geodesic_reference(p, q, t, alpha)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300)


# ------------------------------------------------------------------ points by protocol
class TwoOutcomes:
    """A family unknown to geometry: a point through ``logits`` alone (no ``probs``)."""

    def __init__(self, w):
        self.logits = np.stack([np.asarray(w, float), np.zeros_like(np.asarray(w, float))], -1)


class ViaCategorical:
    """A family unknown to geometry that converts itself with ``to_categorical``."""

    def __init__(self, w):
        self.w = np.asarray(w, float)

    def to_categorical(self):
        return Categorical(logits=np.stack([self.w, np.zeros_like(self.w)], -1))


@pytest.mark.parametrize("point", [TwoOutcomes, ViaCategorical])
def test_a_new_family_is_a_point_without_a_geometry_edit(point):
    """Anything with logits (or a to_categorical) is read as its categorical."""
    from expfam import Bernoulli
    from expfam import geometry as g

    w = np.array([0.3, -2.0])
    q = np.array([0.6, 0.4])
    expected = Bernoulli(logit=w).to_categorical()
    for fn in (g.kl, g.hellinger, g.jensen_shannon, g.fisher_rao_distance):
        np.testing.assert_allclose(fn(point(w), q), fn(expected, q), rtol=1e-15)
    np.testing.assert_allclose(
        g.e_geodesic(point(w), q, 0.5), g.e_geodesic(expected, q, 0.5), rtol=1e-15
    )
    np.testing.assert_allclose(g.left_kl_centroid(point(w)), g.left_kl_centroid(expected))
    assert isinstance(point(w), g.SimplexPoint) == (point is TwoOutcomes)


def test_a_distribution_over_the_simplex_is_not_a_point():
    from expfam import Dirichlet

    with pytest.raises(TypeError, match="p: expected real probabilities"):
        kl(Dirichlet(concentration=[1.0, 2.0]), [0.5, 0.5])


def test_ragged_input_names_the_argument():
    with pytest.raises(ValueError, match="q: expected a rectangular array"):
        kl([0.5, 0.5], [[0.5, 0.5], [1.0]])


# ------------------------------------------------------------------ Karcher mean
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tol": -1.0}, ValueError, "tol: expected a finite number >= 0"),
        ({"tol": float("nan")}, ValueError, "tol: expected a finite number >= 0"),
        ({"tol": "1e-3"}, TypeError, "tol: expected a real number"),
        ({"max_iter": -1}, ValueError, "max_iter: expected a positive integer"),
        ({"max_iter": 1.5}, TypeError, "max_iter: expected a positive integer"),
    ],
)
def test_fisher_rao_mean_validates_its_options(kwargs, error, match):
    from expfam.geometry import fisher_rao_mean

    with pytest.raises(error, match=match):
        fisher_rao_mean([[0.5, 0.5], [0.9, 0.1]], **kwargs)


def test_fisher_rao_mean_of_no_points_is_an_error():
    from expfam.geometry import fisher_rao_mean

    with pytest.raises(ValueError, match="points: expected n >= 1 points"):
        fisher_rao_mean(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="points: expected"):
        fisher_rao_mean([])


def test_karcher_mean_iterations_is_a_deprecated_alias():
    from expfam.geometry import fisher_rao_mean

    result = fisher_rao_mean([[0.5, 0.5], [0.9, 0.1]])
    with pytest.warns(DeprecationWarning, match="use n_iter"):
        assert result.iterations == result.n_iter


def test_chernoff_result_is_a_frozen_dataclass_that_unpacks():
    import dataclasses

    result = chernoff_information([0.5, 0.5], [0.25, 0.75])
    c, lam = result
    assert c is result.information and lam is result.exponent
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.information = 0.0
    assert result.converged and result.n_iter >= 1


# ------------------------------------------------------------------ extreme orders and K
@pytest.mark.parametrize("alpha", [1e308, -1e308, 1e20, -1e20])
def test_extreme_alpha_is_infinite_or_zero(alpha):
    """D_alpha = 4 / (1 - a^2) (1 - sum p (q/p)^((1+a)/2)) overflows for p != q, is 0 at p = q."""
    p, q = [0.6, 0.3, 0.1], [0.2, 0.5, 0.3]
    assert alpha_divergence(p, q, alpha) == np.inf
    assert alpha_divergence(p, p, alpha) == 0.0
    # a difference of one ULP is enough: (1 + 1.9e-16)^(5e19) = e^9250
    near = [0.6 + 1e-16, 0.3, 0.1 - 1e-16]
    assert alpha_divergence(p, near, alpha) == np.inf


@pytest.mark.parametrize("alpha", [30.0, -30.0, 1000.0, -1000.0])
def test_large_alpha_against_mpmath(alpha):
    """Error of order eps |alpha log(q/p)| (documented), no NaN, no overflow before its time."""
    for p, q in (([0.6, 0.3, 0.1], [0.2, 0.5, 0.3]), ([0.5, 0.25, 0.25], [0.25, 0.5, 0.25])):
        ref = alpha_reference(p, q, alpha)
        got = alpha_divergence(p, q, alpha)
        assert abs(mpf(float(got)) - ref) <= 1e-16 * abs(alpha) * 2 * abs(ref)


@pytest.mark.parametrize("order", [1e3, 1e20, 1e300])
def test_huge_orders(order):
    """Renyi tends to log max(p/q); exactly 0 at p = q; Tsallis overflows to +inf."""
    p, q = [0.6, 0.3, 0.1], [0.2, 0.5, 0.3]
    assert renyi_divergence(p, p, order) == 0.0 and tsallis_divergence(p, p, order) == 0.0
    limit = np.log(3.0)  # max p/q = 0.6/0.2
    assert renyi_divergence(p, q, order) == pytest.approx(
        limit, rel=1e-2 if order < 1e4 else 1e-15
    )
    assert tsallis_divergence(p, q, order) == np.inf


@pytest.mark.parametrize("order", [1e-300, 1e-20])
def test_tiny_orders(order):
    """T_l and R_l -> l KL(q || p) as l -> 0 (first order in l)."""
    p, q = [0.6, 0.3, 0.1], [0.2, 0.5, 0.3]
    expected = order * float(kl(q, p))
    assert tsallis_divergence(p, q, order) == pytest.approx(expected, rel=1e-13)
    assert renyi_divergence(p, q, order) == pytest.approx(expected, rel=1e-13)


def test_huge_k_and_empty_batches():
    """K = 10^5 against the plain formula (which is fine far from equality); no rows at all."""
    rng = np.random.default_rng(5)
    p, q = rng.dirichlet(np.ones(100_000), size=2)
    plain = float(np.sum(p * np.log(p / q)))
    assert float(kl(p, q)) == pytest.approx(plain, rel=1e-12)
    assert float(chernoff_information(p, q).information) >= float(bhattacharyya_distance(p, q))
    empty = np.zeros((0, 3))
    assert kl(empty, empty).shape == (0,)
    assert chernoff_information(empty, empty).information.shape == (0,)
