"""Fisher-Rao distance, inner product, exp and log maps, and the Karcher mean.

References: the arccos form 2 acos(sum sqrt(p q)) in mpmath at 50+ digits (with the
precision raised past the cancellation), the unit-sphere formulas in mpmath, and a
direct minimization of sum w d^2 by scipy for the mean.
"""

import mpmath
import mpref
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import minimize

from expfam import Bernoulli, Categorical
from expfam.geometry import (
    ConvergenceWarning,
    exp_map,
    fisher_rao_distance,
    fisher_rao_inner,
    fisher_rao_mean,
    fisher_rao_norm,
    log_map,
)

RNG = np.random.default_rng(9)


def distance_ref(p, q) -> mpmath.mpf:
    """4 asin(||sqrt p - sqrt q|| / 2) of the floats taken exactly, in mpmath at 60 digits."""
    with mpmath.workdps(60):
        chord = mpmath.sqrt(
            mpmath.fsum(
                (mpmath.sqrt(mpmath.mpf(float(a))) - mpmath.sqrt(mpmath.mpf(float(b)))) ** 2
                for a, b in zip(p, q, strict=True)
            )
        )
        return 4 * mpmath.asin(chord / 2)


def arccos_ref(p, q) -> mpmath.mpf:
    """2 acos(sum sqrt(p q)) at 50 digits past the cancellation (inputs summing to 1 exactly)."""
    with mpmath.workdps(400):
        bc = mpmath.fsum(
            mpmath.sqrt(mpmath.mpf(float(a)) * mpmath.mpf(float(b)))
            for a, b in zip(p, q, strict=True)
        )
        return 2 * mpmath.acos(bc)


def probs(*shape, zeros=False):
    p = RNG.dirichlet(np.full(shape[-1], 0.7), shape[:-1] or None)
    if zeros:
        p = np.where(RNG.random(p.shape) < 0.3, 0.0, p)
        p[..., 0] += 1e-3
        p = p / p.sum(-1, keepdims=True)
    return p


def near(p, scale):
    """A point at Fisher-Rao distance about ``scale`` from ``p`` (interior p)."""
    v = RNG.standard_normal(p.shape) * p
    v -= v.sum() * p
    return p + scale * v


# ------------------------------------------------------------------------- distance
@pytest.mark.parametrize("scale", [1.0, 1e-3, 1e-8, 1e-12, 1e-15, 1e-40, 1e-200])
def test_distance_within_4_ulp_of_mpmath_at_every_scale(scale):
    worst = 0.0
    for _ in range(30):
        p = probs(6)
        q = near(p, scale) if scale < 1 else probs(6)
        q = np.maximum(q, 0)
        q /= q.sum()
        worst = max(worst, mpref.ulp_error(fisher_rao_distance(p, q), distance_ref(p, q), "f8"))
    assert worst <= 4


@pytest.mark.parametrize("step", [2.0**-3, 2.0**-20, 2.0**-40, 2.0**-52, 2.0**-1000])
def test_distance_agrees_with_the_arccos_form_at_high_precision(step):
    # entries summing to 1 exactly, so the two forms of the distance are the same number
    p = np.array([0.25, 0.5, 0.125, 0.125])
    q = p + step * np.array([1.0, -1.0, 0.0, 0.0])
    assert mpref.ulp_error(fisher_rao_distance(p, q), arccos_ref(p, q), "f8") <= 4


def test_distance_arccos_form_fails_where_the_chord_form_does_not():
    p = np.array([0.5, 0.5])
    q = np.array([0.5 + 2**-40, 0.5 - 2**-40])
    assert 2 * np.arccos(np.sum(np.sqrt(p * q))) == 0.0
    assert mpref.ulp_error(fisher_rao_distance(p, q), arccos_ref(p, q), "f8") <= 2


def test_distance_boundary_values():
    assert fisher_rao_distance([1.0, 0.0, 0.0], [0.0, 0.5, 0.5]) == np.pi
    assert fisher_rao_distance([0.3, 0.7, 0.0], [0.3, 0.7, 0.0]) == 0.0
    p, q = [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]
    assert mpref.ulp_error(fisher_rao_distance(p, q), distance_ref(p, q), "f8") <= 2
    p, q = [1.0, 0.0], [1 - 1e-300, 1e-300]  # d ~ 2e-150, squares underflow
    assert mpref.ulp_error(fisher_rao_distance(p, q), distance_ref(p, q), "f8") <= 4


def test_distance_of_bernoulli_is_that_of_its_categorical():
    a, b = Bernoulli.from_mean([0.2]), Bernoulli.from_mean([0.9])
    assert fisher_rao_distance(a, b) == pytest.approx(
        fisher_rao_distance([0.2, 0.8], [0.9, 0.1]), rel=1e-15
    )


def test_distance_float32_in_float32_out():
    p = probs(5).astype(np.float32)
    q = probs(5).astype(np.float32)
    d = fisher_rao_distance(p, q)
    assert d.dtype == np.float32
    assert mpref.ulp_error(d, distance_ref(p, q), "f4") <= 4


def test_distance_batched_equals_the_loop():
    p, q = probs(4, 3, 5, zeros=True), probs(3, 5)
    d = fisher_rao_distance(p, q)
    assert d.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            assert d[i, j] == fisher_rao_distance(p[i, j], q[j])


simplex = hnp.arrays(np.float64, 4, elements=st.floats(0, 1, allow_subnormal=False)).filter(
    lambda x: x.sum() > 1e-3
)


@given(simplex, simplex, simplex)
def test_triangle_inequality_and_symmetry(a, b, c):
    a, b, c = a / a.sum(), b / b.sum(), c / c.sum()
    dab, dbc, dac = (fisher_rao_distance(x, y) for x, y in ((a, b), (b, c), (a, c)))
    assert dac <= dab + dbc + 4e-16 * np.pi
    assert fisher_rao_distance(b, a) == dab
    assert 0 <= dab <= np.pi


# ------------------------------------------------------------------------- inner, norm
def test_inner_product_in_probs_and_logits_agree_and_match_the_metric():
    p = Categorical.from_probs(probs(5))
    dz = RNG.standard_normal((2, 5))
    dp = p.fisher_vp(dz, coords="logits")
    assert np.isclose(
        fisher_rao_inner(p, dp[0], dp[1]),
        fisher_rao_inner(p, dz[0], dz[1], coords="logits"),
        rtol=1e-13,
    )
    assert np.isclose(
        fisher_rao_inner(p, dz[0], dz[1], coords="logits"),
        dz[0] @ p.fisher("logits") @ dz[1],
        rtol=1e-13,
    )
    assert np.isclose(fisher_rao_norm(p, dp[0]) ** 2, fisher_rao_inner(p, dp[0], dp[0]))


def test_norm_has_no_underflow():
    assert fisher_rao_norm([0.5, 0.5], [1e-300, -1e-300]) == pytest.approx(2e-300 * 2**0.5)


# ------------------------------------------------------------------------- log and exp
def log_ref(p, q):
    """Log map at p in probabilities by the sphere formula in mpmath at 60 digits.

    ``cos a = 1 - ||w - u||^2 / 2`` is ``sum sqrt(p q)`` for normalized inputs; this
    form takes the float inputs exactly even where their sums are 1 +- eps.
    """
    with mpmath.workdps(60):
        u = [mpmath.sqrt(mpmath.mpf(float(x))) for x in p]
        w = [mpmath.sqrt(mpmath.mpf(float(x))) for x in q]
        c = 1 - mpmath.fsum((b - a) ** 2 for a, b in zip(u, w, strict=True)) / 2
        a = mpmath.acos(c)
        f = 2 * a / mpmath.sin(a)
        return [f * x * (y - c * x) for x, y in zip(u, w, strict=True)]


@pytest.mark.parametrize("scale", [1.0, 1e-4, 1e-9])
def test_log_map_matches_mpmath(scale):
    p = probs(5)
    q = near(p, scale) if scale < 1 else probs(5)
    q /= q.sum()
    got, ref = log_map(p, q), log_ref(p, q)
    big = max(abs(r) for r in ref)
    err = max(abs(mpmath.mpf(float(g)) - r) for g, r in zip(got, ref, strict=True)) / big
    assert err < 1e-14


@given(simplex, simplex)
def test_exp_of_log_is_the_identity_and_norm_of_log_is_the_distance(a, b):
    p, q = a / a.sum(), b / b.sum()
    assume(not np.any((p == 0) & (q > 0)))
    v = log_map(p, q)
    # v is formed from p and q, which sum to 1: its sum is 0 up to their rounding
    assert abs(v.sum()) <= 4 * len(v) * np.finfo(float).eps
    d = fisher_rao_distance(p, q)
    assert fisher_rao_norm(p, v) == pytest.approx(d, rel=1e-12, abs=1e-300)
    assert np.allclose(exp_map(p, v), q, rtol=1e-9, atol=1e-12)


def test_log_map_in_logits_is_log_map_in_probs_over_p():
    p, q = probs(4), probs(4)
    assert np.allclose(log_map(p, q, coords="logits") * p, log_map(p, q), rtol=1e-14)
    assert np.allclose(exp_map(p, log_map(p, q, coords="logits"), coords="logits"), q)


def test_exp_map_raises_past_the_exit_length_and_reaches_the_face_at_it():
    p = np.array([0.5, 0.3, 0.2])
    v = np.array([-0.5, 0.2, 0.3])
    xi = v / (2 * np.sqrt(p))
    unit = xi / np.linalg.norm(xi)
    exit_length = 2 * np.arctan2(np.sqrt(p[0]), -unit[0])  # class 0 empties first
    v = v * (exit_length / fisher_rao_norm(p, v))
    edge = exp_map(p, v)
    assert edge[0] < 1e-15
    assert fisher_rao_distance(p, edge) == pytest.approx(exit_length, rel=1e-12)
    with pytest.raises(ValueError, match=f"leaves the simplex at length.*{exit_length:.4f}"):
        exp_map(p, 1.01 * v)


def test_exp_map_in_logits_leaves_the_simplex_too_and_stays_on_a_face():
    p = np.array([0.6, 0.4, 0.0])
    dz = np.array([-10.0, 10.0, 3.0])  # the logit of an empty class moves nothing
    with pytest.raises(ValueError, match="leaves the simplex at length"):
        exp_map(p, dz, coords="logits")
    q = exp_map(p, 0.1 * dz, coords="logits")
    assert q[2] == 0.0
    assert fisher_rao_distance(p, q) == pytest.approx(
        fisher_rao_norm(p, 0.1 * dz, coords="logits"), rel=1e-13
    )
    assert fisher_rao_inner(p, [0.1, -0.1, 0.0], [0.2, -0.2, 0.0]) == pytest.approx(
        0.02 / 0.6 + 0.02 / 0.4, rel=1e-15
    )


def test_log_map_rejects_a_point_outside_the_face_of_p():
    with pytest.raises(ValueError, match="q puts mass where p has none"):
        log_map([0.5, 0.5, 0.0], [0.2, 0.3, 0.5])


@pytest.mark.parametrize(
    ("v", "match"),
    [
        ([0.1, 0.1, 0.0], "v: expected entries summing to 0"),
        ([0.1, -0.2, 0.1], "v: expected 0 where p is 0"),
        ([np.nan, 0.0, 0.0], "v: expected finite entries"),
        ([0.1, -0.1], "K = 3"),
    ],
)
def test_exp_map_rejects_bad_tangent_vectors(v, match):
    with pytest.raises(ValueError, match=match):
        exp_map([0.5, 0.5, 0.0], v)


def test_bad_coords_and_bad_points():
    with pytest.raises(ValueError, match="coords"):
        fisher_rao_norm([0.5, 0.5], [0.1, -0.1], coords="natural")
    with pytest.raises(ValueError, match="q: expected rows that sum to 1"):
        fisher_rao_distance([0.5, 0.5], [0.5, 0.6])
    with pytest.raises(ValueError, match="same K"):
        fisher_rao_distance([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="p: expected probabilities finite and >= 0"):
        fisher_rao_distance([1.5, -0.5], [0.5, 0.5])


# ------------------------------------------------------------------------- the mean
def test_mean_minimizes_the_weighted_sum_of_squared_distances():
    pts = probs(5, 4)
    w = RNG.random(5)
    result = fisher_rao_mean(pts, w)
    assert result.converged and result.gradient_norm <= 1e-13

    def objective(x):
        m = np.exp(x - x.max())
        m /= m.sum()
        return np.sum(w * fisher_rao_distance(m, pts) ** 2)

    best = minimize(
        objective,
        np.log(result.mean),
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 4000},
    )
    assert objective(np.log(result.mean)) <= best.fun * (1 + 1e-12)
    # first-order condition: the weighted mean of the log maps vanishes
    grad = sum(wi * log_map(result.mean, x) for wi, x in zip(w / w.sum(), pts, strict=True))
    assert fisher_rao_norm(result.mean, grad) <= 1e-12


def test_mean_of_two_points_is_on_their_geodesic():
    from expfam.geometry import fisher_rao_geodesic

    p, q = probs(4), probs(4)
    result = fisher_rao_mean(np.stack([p, q]), [0.7, 0.3])
    assert np.allclose(result.mean, fisher_rao_geodesic(p, q, 0.3), rtol=1e-11, atol=1e-14)


def test_mean_batched_equals_the_loop_and_handles_faces():
    pts = probs(3, 4, 3, zeros=True)
    result = fisher_rao_mean(pts)
    for i in range(3):
        assert np.allclose(result.mean[i], fisher_rao_mean(pts[i]).mean, rtol=1e-12, atol=1e-15)


def test_mean_reports_non_convergence():
    with pytest.warns(ConvergenceWarning, match="after 1 iterations"):
        result = fisher_rao_mean(probs(4, 3), max_iter=1)
    assert not result.converged and result.n_iter == 1


def test_mean_rejects_bad_weights():
    with pytest.raises(ValueError, match="weights: expected finite weights >= 0"):
        fisher_rao_mean(probs(2, 3), [1.0, -1.0])
    with pytest.raises(ValueError, match="weights: expected weights that are not all 0"):
        fisher_rao_mean(probs(2, 3), [0.0, 0.0])
