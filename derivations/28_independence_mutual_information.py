"""The m-projection onto the independence model is the product of the marginals.

For a joint table p(x, y) and an independent q(x, y) = a(x) b(y),

    KL(p || a b) = sum p log p - sum_x p_X(x) log a(x) - sum_y p_Y(y) log b(y),

so the x- and y-parts separate, and each is a cross-entropy minimized (Gibbs) at
a = p_X, b = p_Y: the Lagrange conditions d/da_x [-sum p_X log a + mu (sum a - 1)] = 0
give a = p_X. At the optimum the divergence is the mutual information

    KL(p || p_X p_Y) = H(X) + H(Y) - H(X, Y) = I(X; Y).

The independence model is log-linear (statistics: the indicators of the two
marginals), so this is moment matching: the product of the marginals has p's
marginals. sympy proves the stationarity and the entropy identity for a 2 x 3
table; numerically ``independence_projection`` and ``mutual_information`` are
compared with the closed forms at random and extreme tables.
"""

import numpy as np
import sympy

from expfam.geometry import independence_projection, mutual_information
from expfam.symbolic import Arg, Check, Simplex

ROWS, COLS = 2, 3


def table(eta: np.ndarray) -> np.ndarray:
    return np.append(eta, 1 - np.sum(eta)).reshape(ROWS, COLS)


def checks():
    eta = sympy.symbols(f"eta1:{ROWS * COLS}", positive=True)
    p = sympy.Matrix(ROWS, COLS, [*eta, 1 - sum(eta)])
    px = [sum(p[i, :]) for i in range(ROWS)]
    py = [sum(p[:, j]) for j in range(COLS)]
    a = sympy.symbols(f"a1:{ROWS}", positive=True)
    b = sympy.symbols(f"b1:{COLS}", positive=True)
    a_full, b_full = [*a, 1 - sum(a)], [*b, 1 - sum(b)]
    # the part of KL(p || a b) that depends on (a, b): the two cross-entropies
    cross = -sum(
        p[i, j] * (sympy.log(a_full[i]) + sympy.log(b_full[j]))
        for i in range(ROWS)
        for j in range(COLS)
    )
    gradient = sympy.Matrix([sympy.diff(cross, v) for v in (*a, *b)])
    at_marginals = dict(zip((*a, *b), (*px[:-1], *py[:-1]), strict=True))
    yield Check(
        name="marginals_are_stationary_2x3",
        claim="grad_(a, b) KL(p || a b) = 0 at a = p_X, b = p_Y",
        args=[Arg(eta, Simplex())],
        derived=gradient.subs(at_marginals),
        closed_form=sympy.zeros(len(a) + len(b), 1),
    )

    def entropy(ps):
        return -sum(x * sympy.log(x) for x in ps)

    kl = sum(
        p[i, j] * (sympy.log(p[i, j]) - sympy.log(px[i]) - sympy.log(py[j]))
        for i in range(ROWS)
        for j in range(COLS)
    )
    yield Check(
        name="kl_is_mutual_information_2x3",
        claim="KL(p || p_X p_Y) = H(X) + H(Y) - H(X, Y) (mutual_information)",
        args=[Arg(eta, Simplex())],
        derived=sympy.expand(kl),
        closed_form=sympy.expand(entropy(px) + entropy(py) - entropy(list(p))),
        numeric=lambda eta: mutual_information(table(eta)),
        rtol=1e-11,
        atol=1e-15,
        points=40,
    )
    yield Check(
        name="product_of_marginals_2x3",
        claim="independence_projection(p) = p_X p_Y^T",
        args=[Arg(eta, Simplex())],
        derived=sympy.Matrix([px[i] * py[j] for i in range(ROWS) for j in range(COLS)]),
        numeric=lambda eta: independence_projection(table(eta)),
        rtol=1e-13,
        atol=1e-15,
        points=40,
    )
