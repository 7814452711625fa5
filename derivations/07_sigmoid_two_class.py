"""Sigmoid is the two-class softmax; a two-class softmax classifier is logistic regression.

With logits (w, 0), softmax gives exp(w) / (exp(w) + 1) = 1 / (1 + exp(-w))
= sigmoid(w) for the first class, and the log-partition
logsumexp((w, 0)) = log(1 + exp(w)) = softplus(w): the Bernoulli family is
the categorical with K = 2 and the second logit pinned to 0 (its minimal
natural coordinate is w = z_1 - z_2).

More generally softmax is shift-invariant, so softmax((z_1, z_2)) =
softmax((z_1 - z_2, 0)) = (sigmoid(z_1 - z_2), sigmoid(z_2 - z_1)). For a
classifier z = W x with rows w_1, w_2,
Pr(Y = 1 | x) = sigmoid((w_1 - w_2) . x): a two-class softmax regression is
logistic regression with weight w = w_1 - w_2. (Defining w = w_2 - w_1
instead, Pr(Y = 1 | x) is sigmoid(-(w . x + b)), not sigmoid(w . x + b): a
sign slip that is easy to make.
The checks below use w_1 - w_2.)

The inverse of the sigmoid is the logit, log(p / (1 - p)): the minimal
natural coordinate of the Bernoulli distribution with mean p.

sympy proves each identity; the numeric side is ``expfam.sigmoid``,
``expfam.softplus``, ``expfam.softmax`` and ``expfam.logit``.
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Interval, Logits, Reals, logsumexp, softmax


def sigmoid(t):
    return 1 / (1 + sympy.exp(-t))


def checks():
    w = sympy.Symbol("w", real=True)
    z = sympy.symbols("z1:3", real=True)
    yield Check(
        name="sigmoid_is_softmax",
        claim="softmax((w, 0))_1 = sigmoid(w) (expfam.sigmoid)",
        args=[Arg(w, Logits(8.0))],
        derived=softmax((w, 0))[0],
        closed_form=sigmoid(w),
        numeric=expfam.sigmoid,
        points=200,
    )
    yield Check(
        name="softplus_is_log_partition",
        claim="logsumexp((w, 0)) = log(1 + exp(w)) (expfam.softplus)",
        args=[Arg(w, Logits(8.0))],
        derived=logsumexp((w, 0)),
        closed_form=sympy.log(1 + sympy.exp(w)),
        numeric=expfam.softplus,
        points=200,
    )
    yield Check(
        name="two_class_softmax",
        claim="softmax((z1, z2)) = (sigmoid(z1 - z2), sigmoid(z2 - z1)) (expfam.softmax)",
        args=[Arg(z, Logits())],
        derived=softmax(z),
        closed_form=sympy.Matrix([sigmoid(z[0] - z[1]), sigmoid(z[1] - z[0])]),
        numeric=expfam.softmax,
    )
    yield Check(
        name="two_class_via_sigmoid",
        claim="expfam.sigmoid(z1 - z2) is the two-class softmax",
        args=[Arg(z, Logits(3.0))],
        derived=softmax(z),
        numeric=lambda z: expfam.sigmoid(np.array([z[0] - z[1], z[1] - z[0]])),
        rtol=1e-12,  # z1 - z2 is rounded in float64 before the sigmoid sees it
        extremes=False,  # at |z| ~ 1e4 that rounding alone is 1e-12 relative
    )
    d = 3
    w1 = sympy.Matrix(sympy.symbols(f"u1:{d + 1}", real=True))
    w2 = sympy.Matrix(sympy.symbols(f"v1:{d + 1}", real=True))
    x = sympy.Matrix(sympy.symbols(f"x1:{d + 1}", real=True))
    logits = (w1.T * x)[0], (w2.T * x)[0]
    yield Check(
        name="logistic_regression",
        claim="softmax((w1 . x, w2 . x))_1 = sigmoid((w1 - w2) . x)",
        args=[Arg(list(w1), Reals()), Arg(list(w2), Reals()), Arg(list(x), Reals())],
        derived=softmax(logits)[0],
        closed_form=sigmoid(((w1 - w2).T * x)[0]),
        numeric=lambda w1, w2, x: expfam.sigmoid((w1 - w2) @ x),
        rtol=1e-11,
        atol=1e-15,
        extremes=False,  # (w1 - w2) . x rounds differently from w1 . x - w2 . x
    )
    p = sympy.Symbol("p", positive=True)
    logit = sympy.log(p / (1 - p))
    yield Check(
        name="logit_inverts_sigmoid",
        claim="sigmoid(log(p / (1 - p))) = p (expfam.logit)",
        args=[Arg(p, Interval(0.0, 1.0, (1e-300, 1e-12, 0.5, 1 - 2.0**-53)))],
        derived=logit,
        numeric=expfam.logit,
        rtol=1e-13,
    )
    yield Check(
        name="sigmoid_of_logit",
        claim="sigmoid(logit(p)) = p",
        args=[Arg(p, Interval(0.0, 1.0))],
        derived=sigmoid(logit),
        closed_form=p,
    )
