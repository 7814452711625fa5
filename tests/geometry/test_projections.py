"""m- and e-projections, Pythagoras, maximum entropy, independence and IPF.

References: mpmath at 50 digits (Jaynes' die, mutual information from entropies, the
Pythagorean sum), scipy.optimize.minimize of the KL objective as an independent
optimizer, exact closed forms (the product of the marginals).
"""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space
from scipy.optimize import minimize

from expfam import Categorical, special
from expfam.geometry import (
    ConvergenceWarning,
    LinearFamily,
    LogLinearFamily,
    independence_projection,
    iterative_proportional_fitting,
    mutual_information,
)

RNG = np.random.default_rng(99)


def kl(a, b):
    with np.errstate(divide="ignore"):
        return float(special.kl_divergence(np.log(a), np.log(b)))


def kl_mp(a, b):
    with mpmath.workdps(50):
        return mpmath.fsum(
            mpmath.mpf(float(x)) * mpmath.log(mpmath.mpf(float(x)) / mpmath.mpf(float(y)))
            for x, y in zip(a, b, strict=True)
            if x > 0
        )


# ------------------------------------------------------------------------- m-projection
def test_m_projection_matches_moments_is_idempotent_and_satisfies_pythagoras():
    f = RNG.standard_normal((7, 3))
    fam = LogLinearFamily(f, base=RNG.random(7) + 0.1)
    p = RNG.dirichlet(np.ones(7), 5)
    q = fam.m_project(p).probs
    assert np.allclose(q @ f, p @ f, rtol=0, atol=1e-15)
    assert np.allclose(fam.m_project(q).probs, q, rtol=1e-14, atol=0)
    for i in range(5):
        for _ in range(3):
            r = fam.probs(2 * RNG.standard_normal(3))
            lhs = kl_mp(p[i], r)
            rhs = kl_mp(p[i], q[i]) + kl_mp(q[i], r)
            # the gap is (E_p F - E_q F) . (theta_q - theta_r): the moment residual (a few
            # eps) times the distance to r in theta; ~80 ULP at |theta_r| ~ 4
            assert abs(lhs - rhs) <= 128 * np.finfo(float).eps * lhs


def test_m_projection_is_the_maximum_likelihood_fit_found_by_scipy():
    f = RNG.standard_normal((5, 2))
    fam = LogLinearFamily(f)
    p = RNG.dirichlet(np.ones(5))
    q = fam.m_project(p).probs
    best = minimize(lambda th: kl(p, fam.probs(th)), np.zeros(2), method="BFGS", tol=1e-12)
    assert kl(p, q) <= best.fun + 1e-15
    assert np.allclose(q, fam.probs(best.x), atol=1e-6)


def test_m_projection_batched_equals_the_loop_and_keeps_float32():
    fam = LogLinearFamily(RNG.standard_normal((4, 2)))
    p = RNG.dirichlet(np.ones(4), (3, 2))
    q = fam.m_project(p).probs
    for i in range(3):
        for j in range(2):
            assert np.allclose(q[i, j], fam.m_project(p[i, j]).probs, rtol=1e-14, atol=0)
    assert fam.m_project(p.astype(np.float32)).probs.dtype == np.float32
    assert np.allclose(fam.m_project(Categorical.from_probs(p)).probs, q, rtol=1e-13)


def test_m_projection_onto_a_face_is_the_limit_in_the_closure():
    # q_k ~ exp(theta k) on 0..3; p on {0, 1} has mean 0.5, but the family's mean 0.5
    # needs mass on 2, 3 too: fine. A point on the vertex 0 has mean 0: the MLE is the limit
    # theta -> -inf, the vertex.
    fam = LogLinearFamily([0.0, 1.0, 2.0, 3.0])
    assert np.array_equal(fam.m_project([1.0, 0.0, 0.0, 0.0]).probs, [1.0, 0.0, 0.0, 0.0])
    # a saturated-in-pairs family: indicators of classes 0 and 1; p empty on class 1 gives 0
    fam = LogLinearFamily(np.eye(4)[:, :2])
    q = fam.m_project([0.5, 0.0, 0.25, 0.25]).probs
    assert q[1] == 0.0 and np.allclose(q, [0.5, 0.0, 0.25, 0.25], rtol=1e-15)


def test_m_projection_rejects_mass_outside_the_base():
    fam = LogLinearFamily(np.eye(3)[:, :1], base=[1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="p: expected no mass where the base measure is 0"):
        fam.m_project([0.2, 0.2, 0.6])
    assert fam.m_project([0.5, 0.5, 0.0]).probs[2] == 0.0


# ------------------------------------------------------------------------- e-projection
def test_jaynes_die_against_mpmath():
    die = LinearFamily([1, 2, 3, 4, 5, 6], 4.5)
    got = die.max_entropy().probs
    with mpmath.workdps(50):
        k = range(1, 7)

        def mean(lam):
            w = [mpmath.exp(lam * i) for i in k]
            return mpmath.fsum(i * x for i, x in zip(k, w, strict=True)) / mpmath.fsum(w) - 4.5

        lam = mpmath.findroot(mean, 0.37)
        w = [mpmath.exp(lam * i) for i in k]
        ref = [x / mpmath.fsum(w) for x in w]
    assert abs(lam - mpmath.mpf("0.371048")) < 1e-6
    assert max(abs(mpmath.mpf(g) - r) / r for g, r in zip(got, ref, strict=True)) < 1e-14
    # the multiplier itself: q_k ~ exp(lambda k), lambda = 0.37105
    result = die.max_entropy()
    assert abs(result.multipliers[0] - lam) < 1e-14 and result.converged


def members(fam, q, n):
    """n members of the linear family: q plus small moves in the null space of [F^T; 1^T]."""
    basis = null_space(np.vstack([fam.statistics.T, np.ones(len(q))]))
    out = []
    while len(out) < n:
        r = q + basis @ RNG.standard_normal(basis.shape[1]) * 0.3 * q.min()
        if np.all(r > 0):
            out.append(r)
    return out


def test_e_projection_is_the_tilt_matches_moments_and_satisfies_pythagoras():
    f = RNG.standard_normal((6, 2))
    c = RNG.dirichlet(np.ones(6)) @ f
    fam = LinearFamily(f, c)
    p = RNG.dirichlet(np.ones(6), 3)
    q = fam.e_project(p).probs
    assert np.allclose(q @ f, c, rtol=0, atol=1e-15)
    assert np.allclose(fam.e_project(q).probs, q, rtol=1e-14, atol=0)
    for i in range(3):
        ratio = np.log(q[i] / p[i])  # log q*/p is affine in F: a tilt
        coef, *_ = np.linalg.lstsq(np.c_[f, np.ones(6)], ratio, rcond=None)
        assert np.allclose(np.c_[f, np.ones(6)] @ coef, ratio, atol=1e-13)
        for r in members(fam, q[i], 3):
            lhs = kl_mp(r, p[i])
            rhs = kl_mp(r, q[i]) + kl_mp(q[i], p[i])
            assert abs(lhs - rhs) <= 8 * np.finfo(float).eps * lhs  # 3 ULP seen


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1))
def test_max_entropy_beats_every_member(seed):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((5, 2))
    fam = LinearFamily(f, rng.dirichlet(np.ones(5)) @ f)
    best = fam.max_entropy().probs
    h = Categorical.from_probs(best).entropy()
    for r in members(fam, best, 2):
        assert Categorical.from_probs(r / r.sum()).entropy() <= h + 1e-14


def test_e_projection_on_a_face_and_infeasible_constraints():
    # mean 3 of a 3-sided die: only the vertex 3
    assert np.array_equal(LinearFamily([1, 2, 3], 3.0).max_entropy().probs, [0.0, 0.0, 1.0])
    # mean 2.5 from p without class 3: the face {2, 3} is needed, p has no mass on 3
    fam = LinearFamily([1, 2, 3], 2.5)
    with pytest.raises(
        ValueError, match="p: expected a point on which some member of the family is absolutely"
    ):
        fam.e_project([0.5, 0.5, 0.0])
    # mean 1.5 from the same p: the tilt lives on {1, 2}
    q = LinearFamily([1, 2, 3], 1.5).e_project([0.5, 0.5, 0.0]).probs
    assert np.allclose(q, [0.5, 0.5, 0.0], rtol=1e-15)
    with pytest.raises(ValueError, match="values: expected moments inside the convex hull"):
        LinearFamily([1, 2, 3], 3.5)
    with pytest.raises(ValueError, match="values: expected moments inside the convex hull"):
        LinearFamily([[1, 0], [0, 1], [0, 0]], [0.6, 0.6])


def test_non_convergence_is_reported():
    fam = LinearFamily(RNG.standard_normal((5, 2)), [0.1, -0.1])
    with pytest.warns(ConvergenceWarning, match="e_project"):
        result = fam.e_project(RNG.dirichlet(np.ones(5)), max_iter=1)
    assert not result.converged and result.n_iter == 1


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: LogLinearFamily(np.ones((1, 2))), "K >= 2"),
        (lambda: LogLinearFamily([[np.inf], [0.0]]), "finite"),
        (
            lambda: LogLinearFamily([[1.0], [0.0]], base=[1.0, -1.0]),
            "base: expected finite entries >= 0",
        ),
        (lambda: LogLinearFamily([[1.0], [0.0]]).m_project([0.2, 0.3, 0.5]).probs, "K = 2"),
        (
            lambda: LogLinearFamily([[1.0], [0.0]]).m_project([0.2, 0.3]).probs,
            "p: expected rows that sum to 1",
        ),
        (lambda: LinearFamily([[1.0], [0.0]], [0.5, 0.5]), "values: expected d = 1"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------------- tables
def test_independence_projection_is_the_product_and_its_kl_the_mutual_information():
    joint = RNG.dirichlet(np.ones(12)).reshape(3, 4)
    prod = independence_projection(joint)
    assert np.allclose(prod, np.outer(joint.sum(1), joint.sum(0)), rtol=1e-15)
    with mpmath.workdps(50):
        j = [[mpmath.mpf(float(x)) for x in row] for row in joint]
        px = [mpmath.fsum(row) for row in j]
        py = [mpmath.fsum(col) for col in zip(*j, strict=True)]

        def h(ps):
            return -mpmath.fsum(x * mpmath.log(x) for x in ps if x > 0)

        ref = h(px) + h(py) - h([x for row in j for x in row])
    # the logs of the table are rounded: error up to ~eps * max|log p| absolute
    assert abs(mutual_information(joint) - ref) <= 4 * np.finfo(float).eps * 8
    fam = LogLinearFamily(np.c_[np.kron(np.eye(3), np.ones((4, 1))), np.tile(np.eye(4), (3, 1))])
    assert np.allclose(fam.m_project(joint.ravel()).probs.reshape(3, 4), prod, rtol=1e-13)


def test_mutual_information_boundary_and_three_way():
    assert mutual_information([[0.5, 0.0], [0.0, 0.5]]) == pytest.approx(np.log(2), rel=1e-15)
    assert mutual_information(np.full((2, 3), 1 / 6)) == 0.0
    joint = RNG.dirichlet(np.ones(8)).reshape(2, 2, 2)
    assert mutual_information(joint) == pytest.approx(
        kl(joint.ravel(), independence_projection(joint).ravel()), rel=1e-15
    )


def test_ipf_no_three_way_model_matches_the_log_linear_m_projection():
    table = RNG.dirichlet(np.ones(24)).reshape(2, 3, 4)
    margins = [(0, 1), (1, 2), (0, 2)]
    result = iterative_proportional_fitting(table, margins)
    assert result.converged
    assert np.all(np.diff(result.kl) <= 8 * np.finfo(float).eps * result.kl[0])
    for keep in margins:
        drop = tuple(a for a in range(3) if a not in keep)
        assert np.allclose(result.fitted.sum(drop), table.sum(drop), rtol=0, atol=1e-13)
    cells = np.indices(table.shape).reshape(3, -1).T
    stats = np.concatenate(
        [
            np.stack(
                [
                    np.all(cells[:, keep] == idx, axis=1)
                    for idx in np.ndindex(*(table.shape[a] for a in keep))
                ],
                axis=1,
            )
            for keep in margins
        ],
        axis=1,
    ).astype(float)
    q = LogLinearFamily(stats).m_project(table.ravel()).probs
    assert np.allclose(result.fitted.ravel(), q, rtol=1e-10)


def test_ipf_independence_in_one_cycle_and_reports_non_convergence():
    joint = RNG.dirichlet(np.ones(6)).reshape(2, 3)
    result = iterative_proportional_fitting(joint, [(0,), (1,)])
    assert np.allclose(result.fitted, independence_projection(joint), rtol=1e-15)
    assert result.n_iter <= 2
    table = RNG.dirichlet(np.ones(8)).reshape(2, 2, 2)
    with pytest.warns(ConvergenceWarning, match="after 1 cycles"):
        result = iterative_proportional_fitting(table, [(0, 1), (1, 2), (0, 2)], max_iter=1)
    assert not result.converged


def test_ipf_bad_margins():
    with pytest.raises(ValueError, match="distinct axes"):
        iterative_proportional_fitting(np.full((2, 2), 0.25), [(0, 2)])
    with pytest.raises(ValueError, match="distinct axes"):
        iterative_proportional_fitting(np.full((2, 2), 0.25), [(0, 0)])
    with pytest.raises(ValueError, match="at least 2 axes"):
        independence_projection([0.5, 0.5])


# ------------------------------------------------------------------------- scale (issue 21)
@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1.0, 1e150, 1e300])
def test_projections_do_not_depend_on_the_scale_of_the_statistics(scale):
    """An affine change of a statistic changes nothing but the multipliers (by 1/scale)."""
    f = np.array([[0.0], [1.0], [2.0]])
    p = np.array([0.2, 0.2, 0.6])
    ref = LogLinearFamily(f).m_project(p)
    got = LogLinearFamily(f * scale).m_project(p)
    np.testing.assert_allclose(got.probs, ref.probs, rtol=1e-13)
    np.testing.assert_allclose(got.multipliers * scale, ref.multipliers, rtol=1e-13)
    # closed form: q_k ~ x^k with mean 1.4: x solves x + 2 x^2 = 1.4 (1 + x + x^2)
    x = (0.4 + np.sqrt(0.16 + 4 * 0.6 * 1.4)) / (2 * 0.6)
    np.testing.assert_allclose(got.probs, np.array([1, x, x * x]) / (1 + x + x * x), rtol=1e-13)
    die = LinearFamily(np.arange(1.0, 7.0) * scale, 4.5 * scale).max_entropy()
    np.testing.assert_allclose(die.multipliers * scale, [0.3710489380810334], rtol=1e-13)


def test_huge_and_mixed_statistics():
    """0 is one of the statistics: inside the hull; a huge column beside small ones."""
    fam = LinearFamily([1e100, -1e100, 0.0], 0.0)
    np.testing.assert_allclose(fam.max_entropy().probs, [1 / 3, 1 / 3, 1 / 3], rtol=1e-15)
    q = LogLinearFamily([[0.0], [1e200], [2.0]]).m_project([0.2, 0.2, 0.6])
    assert q.converged
    # E_q[F] = E_p[F] fixes q_1 = 0.2 + 2 (0.6 - q_2) / 1e200 = 0.2; q_0 / q_2 = e^(-2 theta) = 1
    np.testing.assert_allclose(q.probs, [0.4, 0.2, 0.4], rtol=1e-15)


@pytest.mark.parametrize("value", [1.0 - 1e-7, 1.0 - 1e-12, 6.0 + 1e-9, -1e300])
def test_moments_just_outside_the_hull_are_refused(value):
    """The linear program's tolerance does not let moments outside the hull through."""
    with pytest.raises(ValueError, match="values: expected moments inside the convex hull"):
        LinearFamily([1, 2, 3, 4, 5, 6], value)


@pytest.mark.parametrize("value", [1.0, 6.0, 1.0 + 1e-12, 6.0 - 1e-9])
def test_moments_at_and_near_a_vertex(value):
    """At a vertex the answer is the vertex; just inside, a member matching the moment."""
    best = LinearFamily([1, 2, 3, 4, 5, 6], value).max_entropy()
    assert best.converged
    assert abs(best.probs @ np.arange(1, 7) - value) <= 1e-14 * 6


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tol": -1.0}, ValueError, "tol: expected a finite number >= 0"),
        ({"tol": np.nan}, ValueError, "tol: expected a finite number >= 0"),
        ({"tol": "a"}, TypeError, "tol: expected a real number"),
        ({"max_iter": -1}, ValueError, "max_iter: expected a positive integer"),
        ({"max_iter": 2.5}, TypeError, "max_iter: expected a positive integer"),
    ],
)
def test_solver_options_are_validated(kwargs, error, match):
    fam = LogLinearFamily([[0.0], [1.0]])
    with pytest.raises(error, match=match):
        fam.m_project([0.5, 0.5], **kwargs)
    with pytest.raises(error, match=match):
        iterative_proportional_fitting([[0.25, 0.25], [0.25, 0.25]], [(0,), (1,)], **kwargs)


@pytest.mark.parametrize(
    ("margins", "error"),
    [
        (None, TypeError),
        ([0, 1], TypeError),
        ("ab", TypeError),
        ([], ValueError),
        ([(0, 0)], ValueError),
        ([(2,)], ValueError),
        ([(0.5,)], TypeError),
    ],
)
def test_ipf_margins_are_named_in_errors(margins, error):
    with pytest.raises(error, match="margins: expected"):
        iterative_proportional_fitting([[0.25, 0.25], [0.25, 0.25]], margins)


def test_deprecated_iterations_alias():
    result = iterative_proportional_fitting([[0.4, 0.1], [0.1, 0.4]], [(0,), (1,)])
    with pytest.warns(DeprecationWarning, match="use n_iter"):
        assert result.iterations == result.n_iter
