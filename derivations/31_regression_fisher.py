"""The Hessian of the softmax-regression objective is its Fisher information: no labels in it.

Differentiating the gradient C (P - Y)^T X1 + W * mask of derivation 30 once
more, Y drops out (it enters the gradient linearly and is constant), and
d p_n / d z_n = diag(p_n) - p_n p_n^T (derivation 01) with z_n = W x1_n gives

    hess f = C sum_n (diag p_n - p_n p_n^T) (x) x1_n x1_n^T + diag(mask),

a Kronecker sum over samples, in row-major order of W. The first term is
the Fisher information of the model (the expected outer product of the
score, sum_n E_{y ~ p_n}[(p_n - e_y)(p_n - e_y)^T] (x) x1_n x1_n^T): the
log-likelihood's Hessian is its Fisher because z = W x is a canonical link.
So Newton's method is the exact natural gradient, and the labels never
enter the curvature. Applied to a direction V (shape of W), the Kronecker
structure gives the Fisher-vector product without the (K D)^2 matrix:

    F V = sum_n [(diag p_n - p_n p_n^T) V x1_n] x1_n^T.

sympy differentiates f for N = 2, K = 3, D = 1 with an intercept (6
parameters) and proves that the Hessian equals the Kronecker sum and is the
same for two different labellings, and proves the product rule
(A (x) x x^T) vec V = vec(A V x x^T) for a generic symmetric A (that
diag p - p p^T is the expected outer product of the score p - e_y is
derivation 04). The numeric side is ``expfam.learn.hessian`` and
``expfam.learn.regression_fisher_vp``.
"""

import sympy

from expfam import learn
from expfam.symbolic import Arg, Check, Positive, Reals, logsumexp, softmax

N, K, D = 2, 3, 1


def kron(a: sympy.Matrix, b: sympy.Matrix) -> sympy.Matrix:
    return sympy.Matrix(
        a.rows * b.rows,
        a.cols * b.cols,
        lambda i, j: a[i // b.rows, j // b.cols] * b[i % b.rows, j % b.cols],
    )


def checks():
    W = sympy.Matrix(K, D + 1, sympy.symbols(f"w1:{K * (D + 1) + 1}", real=True))
    X = sympy.Matrix(N, D, sympy.symbols(f"x1:{N * D + 1}", real=True))
    V = sympy.Matrix(K, D + 1, sympy.symbols(f"v1:{K * (D + 1) + 1}", real=True))
    C = sympy.Symbol("C", positive=True)
    X1 = X.row_join(sympy.ones(N, 1))
    params = list(W)  # row-major, as expfam's flattening
    rows = [list(X1.row(n) * W.T) for n in range(N)]
    mask = [1 if d < D else 0 for d in range(D + 1)] * K

    def objective(labels):
        loss = sum(logsumexp(rows[n]) - rows[n][labels[n]] for n in range(N))
        return C * loss + sum(m * w**2 for m, w in zip(mask, params, strict=True)) / 2

    hess = sympy.hessian(objective((0, 2)), params)
    P = [softmax(rows[n]) for n in range(N)]
    covariances = [sympy.diag(*P[n]) - P[n] * P[n].T for n in range(N)]
    fisher = sum(
        (kron(covariances[n], X1.row(n).T * X1.row(n)) for n in range(N)),
        sympy.zeros(K * (D + 1)),
    )
    args = [Arg(list(W), Reals(0.7)), Arg(list(X), Reals()), Arg(C, Positive())]

    def dense(w, x, c):
        return learn.hessian(w.reshape(K, D + 1), x.reshape(N, D), C=c, fit_intercept=True)

    yield Check(
        name="hessian_is_kronecker_sum",
        claim="hess f = C sum_n (diag p_n - p_n p_n^T) (x) x1 x1^T + diag(mask) (learn.hessian)",
        args=args,
        derived=hess,
        closed_form=C * fisher + sympy.diag(*mask),
        numeric=dense,
        rtol=1e-12,
        atol=1e-12,
        points=10,
    )
    yield Check(
        name="hessian_has_no_labels",
        claim="hess f is the same for labels (0, 2) and (1, 1)",
        args=args,
        derived=hess,
        closed_form=sympy.hessian(objective((1, 1)), params),
    )
    A = sympy.Matrix(K, K, lambda i, j: sympy.Symbol(f"a{min(i, j)}{max(i, j)}", real=True))
    x = sympy.Matrix(sympy.symbols(f"u1:{D + 2}", real=True))
    yield Check(
        name="kronecker_product_rule",
        claim="(A (x) x x^T) vec(V) = vec(A V x x^T), A symmetric (row-major vec)",
        args=[Arg(list(A), Reals()), Arg(list(x), Reals()), Arg(list(V), Reals())],
        derived=kron(A, x * x.T) * sympy.Matrix(list(V)),
        closed_form=sympy.Matrix(list(A * V * x * x.T)),
    )
    product = sum(
        (((covariances[n] * V * X1.row(n).T) * X1.row(n)) for n in range(N)),
        sympy.zeros(K, D + 1),
    )

    def fvp(w, x, v):
        return learn.regression_fisher_vp(
            w.reshape(K, D + 1), x.reshape(N, D), v.reshape(K, D + 1), fit_intercept=True
        )

    yield Check(
        name="fisher_vp",
        claim="F vec(V) = vec(sum_n [(diag p_n - p_n p_n^T) V x1_n] x1_n^T)",
        args=[*args[:2], Arg(list(V), Reals())],
        derived=sympy.Matrix(list(product)),
        numeric=fvp,
        rtol=1e-12,
        atol=1e-12,
        points=20,
    )
