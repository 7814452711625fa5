"""e-, m-, alpha- and Fisher-Rao geodesics of the simplex.

The alpha-geodesic is held against an independent numerical solution of the geodesic
equation theta'' = -((1 - alpha)/2) g^-1 T(theta', theta') in minimal natural
coordinates (scipy's solve_ivp, shot to the end point), the others against their closed
forms in mpmath and against Categorical.tempered.
"""

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.integrate import solve_ivp
from scipy.optimize import root

from expfam import Categorical
from expfam.geometry import (
    alpha_geodesic,
    e_geodesic,
    fisher_rao_distance,
    fisher_rao_geodesic,
    m_geodesic,
)

RNG = np.random.default_rng(90)
P = np.array([0.7, 0.2, 0.1])
Q = np.array([0.1, 0.3, 0.6])


# ------------------------------------------------------------------------- e and m
@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0, 2.5, 40.0])
def test_e_geodesic_from_uniform_through_p_is_the_temperature_path(beta):
    d = Categorical(logits=[1.0, -2.0, 0.5, 3.0])
    uniform = np.full(4, 0.25)
    got = e_geodesic(uniform, d, beta)
    assert np.allclose(got, d.tempered(beta).probs, rtol=1e-13, atol=1e-300)


def test_e_geodesic_of_distributions_uses_their_logits_where_probabilities_underflow():
    d = Categorical(logits=[0.0, -800.0, 5.0])  # p_1 = exp(-805) underflows to 0
    got = e_geodesic(np.full(3, 1 / 3), d, 0.5)
    assert got[1] > 0
    assert np.allclose(got, d.tempered(0.5).probs, rtol=1e-13, atol=0)


def test_e_geodesic_is_the_normalized_geometric_mixture_in_mpmath():
    t = np.array([-0.5, 0.0, 0.3, 1.0, 1.7])
    got = e_geodesic(P, Q, t)
    with mpmath.workdps(50):
        for row, tt in zip(got, t, strict=True):
            w = [
                mpmath.mpf(a) ** (1 - tt) * mpmath.mpf(b) ** tt for a, b in zip(P, Q, strict=True)
            ]
            ref = [x / mpmath.fsum(w) for x in w]
            assert (
                max(abs(mpmath.mpf(g) - r) / r for g, r in zip(row, ref, strict=True)) < 1e-15
            )  # 4 ULP


def test_e_geodesic_on_the_boundary():
    p, q = [0.5, 0.5, 0.0], [0.0, 0.5, 0.5]
    assert np.array_equal(e_geodesic(p, q, [0.0, 1.0]), [p, q])
    assert np.array_equal(e_geodesic(p, q, 0.5), [0.0, 1.0, 0.0])  # the common support
    with pytest.raises(ValueError, match="leaves the simplex"):
        e_geodesic(p, q, 1.5)
    with pytest.raises(ValueError, match="disjoint supports"):
        e_geodesic([1.0, 0.0], [0.0, 1.0], 0.5)


def test_m_geodesic_extends_to_its_exact_ends_and_no_further():
    t_max = min(P[k] / (P[k] - Q[k]) for k in range(3) if Q[k] < P[k])
    t_min = max(P[k] / (P[k] - Q[k]) for k in range(3) if Q[k] > P[k])
    ends = m_geodesic(P, Q, [t_min, t_max])
    assert np.min(ends) == 0.0 and np.all(ends >= 0)
    assert np.allclose(m_geodesic(P, Q, 0.25), 0.75 * P + 0.25 * Q, rtol=1e-15)
    with pytest.raises(ValueError, match=r"t = \[1.2\] leaves the simplex"):
        m_geodesic(P, Q, 1.2)
    with pytest.raises(ValueError, match="leaves the simplex"):
        m_geodesic(P, Q, -0.25)


def test_t_broadcasts_one_call_gives_a_curve_and_a_batch_of_curves():
    t = np.linspace(0, 1, 7)
    assert m_geodesic(P, Q, t).shape == (7, 3)
    ps, qs = RNG.dirichlet(np.ones(3), 4), RNG.dirichlet(np.ones(3), 4)
    for fn in (e_geodesic, m_geodesic, fisher_rao_geodesic):
        curves = fn(ps, qs, t[:, None])
        assert curves.shape == (7, 4, 3)
        for i in range(4):
            assert np.allclose(curves[:, i], fn(ps[i], qs[i], t), rtol=1e-15, atol=0)
    curves = alpha_geodesic(ps, qs, t[:, None], 0.5)
    for i in range(4):
        assert np.allclose(curves[:, i], alpha_geodesic(ps[i], qs[i], t, 0.5), rtol=1e-14)


# ------------------------------------------------------------------------- Fisher-Rao
def test_fisher_rao_geodesic_is_the_great_circle_in_mpmath():
    t = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    got = fisher_rao_geodesic(P, Q, t)
    with mpmath.workdps(50):
        u = [mpmath.sqrt(mpmath.mpf(x)) for x in P]
        w = [mpmath.sqrt(mpmath.mpf(x)) for x in Q]
        a = mpmath.acos(mpmath.fsum(x * y for x, y in zip(u, w, strict=True)))
        for row, tt in zip(got, t, strict=True):
            r = [
                (mpmath.sin((1 - tt) * a) * x + mpmath.sin(tt * a) * y) / mpmath.sin(a)
                for x, y in zip(u, w, strict=True)
            ]
            ref = [x * x for x in r]
            assert max(abs(mpmath.mpf(g) - v) / v for g, v in zip(row, ref, strict=True)) < 1e-15


def test_fisher_rao_geodesic_has_arc_length_parameter():
    t = np.linspace(0, 1, 11)
    curve = fisher_rao_geodesic(P, Q, t)
    d = fisher_rao_distance(P, Q)
    assert np.allclose(fisher_rao_distance(P, curve), t * d, rtol=1e-13, atol=1e-15)
    assert np.allclose(fisher_rao_distance(curve, Q), (1 - t) * d, rtol=1e-13, atol=1e-15)


def test_fisher_rao_geodesic_leaves_through_a_face():
    with pytest.raises(ValueError, match="Fisher-Rao geodesic stays in it only for t in"):
        fisher_rao_geodesic(P, Q, 2.0)
    assert np.all(fisher_rao_geodesic(P, Q, [-0.3, 1.3]) >= 0)


simplex = hnp.arrays(np.float64, 3, elements=st.floats(0, 1, allow_subnormal=False)).filter(
    lambda x: x.sum() > 1e-3
)


@given(simplex, simplex, st.floats(0, 1), st.sampled_from([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0]))
def test_geodesics_stay_in_the_simplex(a, b, t, alpha):
    p, q = a / a.sum(), b / b.sum()
    if alpha == 1.0 and not np.any((p > 0) & (q > 0)):
        return  # no e-geodesic between disjoint supports (tested above)
    for x in (fisher_rao_geodesic(p, q, t), m_geodesic(p, q, t), alpha_geodesic(p, q, t, alpha)):
        assert np.all(x >= 0) and abs(x.sum() - 1) < 1e-14


# ------------------------------------------------------------------------- alpha
def geodesic_ode(alpha, p, q):
    """Solve theta'' = -((1 - alpha)/2) g^-1 T(theta', theta') from p to q by shooting."""
    tp, tq = np.log(p[:-1] / p[-1]), np.log(q[:-1] / q[-1])

    def rhs(_, y):
        n = len(y) // 2
        theta, v = y[:n], y[n:]
        z = np.append(theta, 0.0)
        pr = np.exp(z - z.max())
        pr /= pr.sum()
        c = np.append(v, 0.0) - pr[:-1] @ v  # one-hot statistic, centred, along v
        t_vv = (pr * c**2 - pr * (pr @ c**2))[:-1]  # third cumulant T(v, v)
        g = np.diag(pr[:-1]) - np.outer(pr[:-1], pr[:-1])
        return np.r_[v, -(1 - alpha) / 2 * np.linalg.solve(g, t_vv)]

    def solve(v0):
        return solve_ivp(
            rhs, (0, 1), np.r_[tp, v0], method="DOP853", rtol=1e-12, atol=1e-13, dense_output=True
        )

    v0 = root(lambda v: solve(v).y[: len(tp), -1] - tq, tq - tp, tol=1e-14).x
    sol = solve(v0)

    def at(t):
        z = np.append(sol.sol(t)[: len(tp)], 0.0)
        e = np.exp(z - z.max())
        return e / e.sum()

    return at


@pytest.mark.parametrize(
    ("alpha", "p", "q"),
    [
        (0.5, P, Q),
        (-0.5, P, Q),
        (2.0, P, Q),
        (-2.0, P, Q),
        (0.0, P, Q),
        (0.9, [0.05, 0.15, 0.3, 0.5], [0.4, 0.4, 0.1, 0.1]),
    ],
)
def test_alpha_geodesic_solves_the_geodesic_equation(alpha, p, q):
    p, q = np.asarray(p), np.asarray(q)
    ode = geodesic_ode(alpha, p, q)
    for t in (0.1, 0.35, 0.5, 0.8):
        assert np.allclose(alpha_geodesic(p, q, t, alpha), ode(t), rtol=1e-10, atol=0)


def test_alpha_geodesic_parameter_is_not_the_mixing_weight():
    b = (1 - 0.5) / 2
    mean = (0.7 * P**b + 0.3 * Q**b) ** (1 / b)
    assert not np.allclose(alpha_geodesic(P, Q, 0.3, 0.5), mean / mean.sum(), atol=1e-3)


@pytest.mark.parametrize("alpha", [-1.0, 0.0, 1.0])
def test_alpha_geodesic_is_continuous_into_its_closed_forms(alpha):
    t = np.array([0.2, 0.5, 0.7])[:, None]
    exact = alpha_geodesic(P, Q, t, alpha)
    for h in (1e-4, 1e-7):
        for side in (-1, 1):
            if abs(alpha + side * h) <= 1 or alpha == 0:
                got = alpha_geodesic(P, Q, t, alpha + side * h)
                assert np.max(np.abs(got - exact)) < 10 * h


def test_alpha_geodesic_on_the_boundary_and_float32():
    p, q = np.array([0.6, 0.4, 0.0]), np.array([0.0, 0.3, 0.7])
    curve = alpha_geodesic(p, q, np.linspace(0, 1, 5), -0.5)
    assert np.array_equal(curve[0], p) and np.allclose(curve[-1], q, rtol=1e-15, atol=0)
    out = alpha_geodesic(P.astype(np.float32), Q.astype(np.float32), 0.5, 0.5)
    assert out.dtype == np.float32
    assert np.allclose(out, alpha_geodesic(P, Q, 0.5, 0.5), rtol=1e-6)


# ------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: alpha_geodesic(P, Q, 1.5, 0.5), ValueError, r"t: expected values in \[0, 1\]"),
        (lambda: alpha_geodesic(P, Q, 0.5, np.inf), ValueError, "alpha: expected a finite number"),
        (
            lambda: alpha_geodesic([1.0, 0.0], Q[:2] / Q[:2].sum(), 0.5, 2.0),
            ValueError,
            "open simplex",
        ),
        (lambda: m_geodesic(P, Q, np.nan), ValueError, "t: expected finite numbers"),
        (lambda: m_geodesic(P, Q, "a"), TypeError, "t: expected real numbers"),
        (lambda: m_geodesic(np.stack([P] * 3), Q, np.zeros(2)), ValueError, "does not broadcast"),
        (lambda: e_geodesic(P, [0.5, 0.5], 0.5), ValueError, "same K"),
        (
            lambda: fisher_rao_geodesic([0.5, 0.6], [0.5, 0.5], 0.5),
            ValueError,
            "p: expected rows that sum to 1",
        ),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
