"""sparsemax is the Euclidean projection onto the simplex: its KKT conditions.

sparsemax(z) = argmin_{p in simplex} ||p - z||^2. With a multiplier nu for
sum p = 1 and mu_k >= 0 for p_k >= 0, stationarity reads p_k = z_k - nu + mu_k,
and complementary slackness (mu_k p_k = 0) gives p_k = [z_k - tau]_+ with
tau = nu fixed by sum p = 1. On a support S: tau = (sum_{k in S} z_k - 1) / |S|.

sympy solves the KKT system for K = 3 with support {1, 2} (logits z_1, z_2 in
[0, 0.4], z_3 <= -0.6, so that z_3 <= tau) and for full support, and checks
the entmax family's alpha = 1.5 closed form for two classes: p_1 = u^2 with
u = (d + sqrt(2 - d^2)) / 2, d = (z_1 - z_2) / 2, for |z_1 - z_2| <= 2.
The numeric side is expfam.special.sparsemax / entmax.
"""

import sympy

from expfam.special import entmax, sparsemax
from expfam.symbolic import Arg, Check, Interval


def checks():
    z1, z2, z3 = sympy.symbols("z1 z2 z3", real=True)
    p1, p2, p3, nu = sympy.symbols("p1 p2 p3 nu", real=True)
    # support {1, 2}: stationarity on the support, p_3 = 0, sum = 1
    solution = sympy.solve([p1 - z1 + nu, p2 - z2 + nu, p1 + p2 - 1], [p1, p2, nu], dict=True)[0]
    yield Check(
        name="kkt_support_two",
        claim="K = 3, S = {1, 2}: p = (z_1 - tau, z_2 - tau, 0), tau = (z_1 + z_2 - 1) / 2",
        args=[
            Arg(z1, Interval(0.0, 0.4)),
            Arg(z2, Interval(0.0, 0.4)),
            Arg(z3, Interval(-5, -0.6)),
        ],
        derived=sympy.Matrix([solution[p1], solution[p2], 0]),
        closed_form=sympy.Matrix([z1 - (z1 + z2 - 1) / 2, z2 - (z1 + z2 - 1) / 2, 0]),
        numeric=lambda a, b, c: sparsemax([a, b, c]),
        rtol=1e-14,
        atol=1e-15,
        points=40,
    )
    full = sympy.solve(
        [p1 - z1 + nu, p2 - z2 + nu, p3 - z3 + nu, p1 + p2 + p3 - 1], [p1, p2, p3, nu], dict=True
    )[0]
    near = Interval(-0.2, 0.2)
    yield Check(
        name="kkt_full_support",
        claim="K = 3, full support: p_k = z_k - (z_1 + z_2 + z_3 - 1) / 3",
        args=[Arg(z1, near), Arg(z2, near), Arg(z3, near)],
        derived=sympy.Matrix([full[p1], full[p2], full[p3]]),
        closed_form=sympy.Matrix([z - (z1 + z2 + z3 - 1) / 3 for z in (z1, z2, z3)]),
        numeric=lambda a, b, c: sparsemax([a, b, c]),
        rtol=1e-14,
        atol=1e-15,
        points=40,
    )
    # alpha = 1.5, two classes: p_k = (z_k / 2 - tau)^2, sum 1
    tau = sympy.Symbol("tau", real=True)
    d = (z1 - z2) / 2
    roots = sympy.solve((z1 / 2 - tau) ** 2 + (z2 / 2 - tau) ** 2 - 1, tau)
    # the smaller root: tau <= z_k / 2 on the support (at z = 0 the roots are -+1/sqrt 2)
    tau_star = min(roots, key=lambda r: float(r.subs({z1: 0, z2: 0})))
    yield Check(
        name="entmax15_two_classes",
        claim="alpha = 1.5, K = 2: p_1 = ((d + sqrt(2 - d^2)) / 2)^2, d = (z_1 - z_2) / 2",
        args=[Arg(z1, Interval(-0.9, 0.9)), Arg(z2, Interval(-0.9, 0.9))],
        derived=(z1 / 2 - tau_star) ** 2,
        closed_form=((d + sympy.sqrt(2 - d**2)) / 2) ** 2,
        numeric=lambda a, b: entmax([a, b], alpha=1.5)[0],
        batch=False,  # written for one point
        rtol=1e-13,
        points=40,
    )
