"""The gradient of the softmax-regression objective is C (P - Y)^T X + W, step by step.

The objective of expfam.learn (scikit-learn's multinomial L2 objective) for
N samples x_n in R^D, K classes, logits z_n = W x_n + b:

    f(W, b) = C sum_n [logsumexp(z_n) - z_{n, y_n}] + (1/2) ||W||^2.

The hand-written backprop chain (derivation 03) walks
one sample back to dl/dz = p - y. Here the chain goes on to the parameters,
one link per check:

1. dl_n / dz_n = p_n - e_{y_n} (the log-loss of a categorical in its
   natural parameters: the mean minus the observed statistic);
2. dz_{n,j} / dW_{kd} = [j = k] x_{nd}, so dl_n / dW_{kd} = (p_nk - y_nk) x_nd,
   i.e. dl_n / dW = (p_n - y_n) x_n^T, and dl_n / db = p_n - y_n;
3. summing the samples and adding the penalty's W (the intercept is not
   penalized): grad f = C (P - Y)^T X1 + W * mask, with X1 = [X, 1] and
   mask = (1, ..., 1, 0), which is ``expfam.learn.gradient``;
4. the loss part of every column sums to 0 over the classes (sum_k (p - y)_k = 0):
   the gradient of the data never moves the sum of the class rows.

sympy differentiates f for N = 2, K = 3, D = 2 (with intercept) and proves
each link; the numeric side is ``expfam.learn.gradient`` at random and
large weights and features (logits out to 1e6).
"""

import numpy as np
import sympy

from expfam import learn
from expfam.symbolic import Arg, Check, Logits, Positive, Reals, logsumexp, softmax

N, K, D = 2, 3, 2
LABELS = (0, 2)


def checks():
    W = sympy.Matrix(K, D + 1, sympy.symbols(f"w1:{K * (D + 1) + 1}", real=True))
    X = sympy.Matrix(N, D, sympy.symbols(f"x1:{N * D + 1}", real=True))
    C = sympy.Symbol("C", positive=True)
    X1 = X.row_join(sympy.ones(N, 1))
    Y = sympy.Matrix(N, K, lambda n, k: 1 if LABELS[n] == k else 0)
    Z = X1 * W.T
    rows = [list(Z.row(n)) for n in range(N)]
    losses = [logsumexp(rows[n]) - rows[n][LABELS[n]] for n in range(N)]
    mask = sympy.Matrix(K, D + 1, lambda k, d: 1 if d < D else 0)
    penalty = sum(W.multiply_elementwise(mask).applyfunc(lambda w: w**2)) / 2
    f = C * sum(losses) + penalty
    P = sympy.Matrix([list(softmax(rows[n]).T) for n in range(N)])

    z = sympy.symbols(f"z1:{K + 1}", real=True)
    yield Check(
        name="dl_dz",
        claim="d/dz [logsumexp(z) - z_y] = p - e_y",
        args=[Arg(z, Logits())],
        derived=sympy.Matrix([sympy.diff(logsumexp(z) - z[0], t) for t in z]),
        closed_form=softmax(z) - sympy.Matrix([1, 0, 0]),
    )
    yield Check(
        name="dl_dW_one_sample",
        claim="d l_n / dW = (p_n - y_n) x1_n^T (chain through z_n = W x1_n)",
        args=[Arg(list(W), Reals(0.5)), Arg(list(X), Reals())],
        derived=sympy.Matrix(K, D + 1, lambda k, d: sympy.diff(losses[0], W[k, d])),
        closed_form=(P.row(0) - Y.row(0)).T * X1.row(0),
    )
    gradient = sympy.Matrix(K, D + 1, lambda k, d: sympy.diff(f, W[k, d]))
    closed = C * (P - Y).T * X1 + W.multiply_elementwise(mask)

    def numeric(w, x, c):
        return learn.gradient(
            w.reshape(K, D + 1), x.reshape(N, D), np.array(LABELS), C=c, fit_intercept=True
        )

    yield Check(
        name="gradient",
        claim="grad f = C (P - Y)^T [X, 1] + W * mask (expfam.learn.gradient)",
        args=[Arg(list(W), Reals(0.5)), Arg(list(X), Reals()), Arg(C, Positive())],
        derived=gradient,
        closed_form=closed,
        numeric=numeric,
        rtol=1e-12,
        atol=1e-12,
        points=40,
    )
    yield Check(
        name="class_sum",
        claim="sum_k (grad f)_k = sum_k w_k * mask: the data moves no class-row sum",
        args=[Arg(list(W), Reals(0.5)), Arg(list(X), Reals()), Arg(C, Positive())],
        derived=sympy.ones(1, K) * gradient,
        closed_form=sympy.ones(1, K) * W.multiply_elementwise(mask),
    )
