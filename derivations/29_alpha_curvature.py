"""The alpha-connection on the simplex has constant curvature (1 - alpha^2) / 4.

In the minimal natural coordinates theta (K = 3: theta_i = log(p_i / p_3), i = 1, 2)
the log-partition psi(theta) = log(1 + e^theta_1 + e^theta_2) gives the Fisher metric
g_ij = d_i d_j psi = p_i delta_ij - p_i p_j and the cubic tensor T_ijk = d_i d_j d_k psi.
theta is affine for the e-connection (alpha = 1), and Amari's alpha-connection has
Christoffel symbols of the first kind

    Gamma^(alpha)_{ij,k} = (1 - alpha)/2 T_ijk,   Gamma^l_ij = g^{lk} Gamma_{ij,k},

so alpha = 0 is the Levi-Civita connection (Gamma_{ij,k} = T_ijk / 2 = the metric's)
and alpha = -1 the m-connection. The curvature tensor
R^l_{kij} = d_i Gamma^l_jk - d_j Gamma^l_ik + Gamma^l_im Gamma^m_jk - Gamma^l_jm Gamma^m_ik
(derivatives d_i = d/d theta_i = sum_m g_mi d/dp_m, as dp_m / d theta_i = g_mi) is, at
every point and for every alpha,

    R^l_{kij} = (1 - alpha^2)/4 (delta^l_i g_jk - delta^l_j g_ik):

constant curvature (1 - alpha^2)/4. At alpha = 0 that is 1/4, the curvature of the
sphere of radius 2 onto which p -> 2 sqrt p maps the simplex (see 25); alpha = +-1 are
flat, the e- and m-connections of the dually flat structure.

sympy derives every component from psi and proves the identity (rational functions of
p_1, p_2 and alpha). There is no numeric curvature function in expfam; the geodesic
equation built from the same Christoffel symbols is what tests/geometry/test_geodesics.py
integrates to check ``expfam.geometry.alpha_geodesic``.
"""

import itertools

import sympy

from expfam.symbolic import Arg, Check, Interval, Simplex


def checks():
    p1, p2 = sympy.symbols("p1 p2", positive=True)
    alpha = sympy.Symbol("alpha", real=True)
    p = [p1, p2]
    g = sympy.Matrix(2, 2, lambda i, j: (p[i] if i == j else 0) - p[i] * p[j])
    g_inv = g.inv()

    def d(expr, i):  # d / d theta_i
        return sum(g[m, i] * sympy.diff(expr, p[m]) for m in range(2))

    t = [[[sympy.cancel(d(g[i, j], k)) for k in range(2)] for j in range(2)] for i in range(2)]
    gamma = [
        [
            [
                sympy.cancel(sum(g_inv[l, k] * (1 - alpha) / 2 * t[i][j][k] for k in range(2)))
                for j in range(2)
            ]
            for i in range(2)
        ]
        for l in range(2)
    ]  # gamma[l][i][j] = Gamma^l_ij

    def curvature(l, k, i, j):  # R^l_{kij}
        return sympy.cancel(
            d(gamma[l][j][k], i)
            - d(gamma[l][i][k], j)
            + sum(
                gamma[l][i][m] * gamma[m][j][k] - gamma[l][j][m] * gamma[m][i][k] for m in range(2)
            )
        )

    delta = sympy.KroneckerDelta
    indices = [(l, k, i, j) for l, k, i, j in itertools.product(range(2), repeat=4) if i < j]
    riemann = [curvature(*ix) for ix in indices]
    constant = [
        (1 - alpha**2) / 4 * (delta(l, i) * g[j, k] - delta(l, j) * g[i, k])
        for l, k, i, j in indices
    ]
    yield Check(
        name="cubic_tensor_k3",
        claim="T_ijk = d_k g_ij is symmetric: the third cumulant of the one-hot statistic",
        args=[Arg((p1, p2), Simplex())],
        derived=sympy.Matrix([t[0][0][1], t[0][1][1], t[0][0][0]]),
        closed_form=sympy.Matrix([t[0][1][0], t[1][1][0], p1 * (1 - p1) * (1 - 2 * p1)]),
    )
    yield Check(
        name="alpha_curvature_k3",
        claim="R^l_kij = (1 - alpha^2)/4 (delta^l_i g_jk - delta^l_j g_ik): constant curvature",
        args=[Arg((p1, p2), Simplex()), Arg(alpha, Interval(-3.0, 3.0))],
        derived=sympy.Matrix(riemann),
        closed_form=sympy.Matrix(constant),
    )
    sectional = sympy.cancel(sum(g[0, m] * curvature(m, 1, 0, 1) for m in range(2)) / g.det())
    yield Check(
        name="sectional_curvature_k3",
        claim="K = g(R(d1, d2) d2, d1) / det g = (1 - alpha^2) / 4",
        args=[Arg((p1, p2), Simplex()), Arg(alpha, Interval(-3.0, 3.0))],
        derived=sectional,
        closed_form=(1 - alpha**2) / 4,
    )
