"""The softplus loss is -log softmax((m, 0)) of the margin: convex, with gradient bounded by 1.

Softmax gives a likelihood loss that is convex, so easy to optimize, with
bounded gradients; its margin form is the softplus loss = log(1 + exp(-m)) = -log softmax((m, 0))
for the margin m = y w . x (y = +-1). Indeed softmax((m, 0))_1 = sigmoid(m),
so L(m) = -log sigmoid(m) = log(1 + exp(-m)) = softplus(-m).

Differentiating, L'(m) = -exp(-m) / (1 + exp(-m)) = -sigmoid(-m), which lies
in (-1, 0): the gradient is bounded by 1 in absolute value, with L' -> -1 as
m -> -oo (a confidently wrong prediction) and L' -> 0 as m -> oo. Again,
L''(m) = sigmoid(m) sigmoid(-m) > 0: L is convex. Unlike the hinge loss
max(0, 1 - m) it is smooth and never exactly 0.

The loss of the other class is L(-m) = log(1 - sigmoid(m)): computed from
log sigmoid(m) as log(1 - exp(log sigmoid(m))) = log1mexp(log sigmoid(m)),
the complement taken in log space.

sympy proves each formula and takes both limits of L'. The numeric side is
``expfam.softplus``, ``expfam.log_sigmoid``, ``expfam.cross_entropy``,
``expfam.sigmoid`` and ``expfam.log1mexp``, at margins out to +-1e4.
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Logits, softmax


def checks():
    m = sympy.Symbol("m", real=True)
    loss = -sympy.log(softmax((m, 0))[0])
    gradient = sympy.diff(loss, m)
    curvature = sympy.diff(loss, m, 2)
    sig = 1 / (1 + sympy.exp(-m))
    margins = [Arg(m, Logits(10.0))]
    yield Check(
        name="loss_is_softplus",
        claim="-log softmax((m, 0))_1 = log(1 + exp(-m)) (expfam.softplus(-m))",
        args=margins,
        derived=loss,
        closed_form=sympy.log(1 + sympy.exp(-m)),
        numeric=lambda m: expfam.softplus(-m),
        points=200,
    )
    yield Check(
        name="loss_is_log_sigmoid",
        claim="the softplus loss is -log sigmoid(m) (expfam.log_sigmoid)",
        args=margins,
        derived=loss,
        closed_form=-sympy.log(sig),
        numeric=lambda m: -expfam.log_sigmoid(m),
        points=200,
    )
    yield Check(
        name="loss_is_cross_entropy",
        claim="the softplus loss is the cross-entropy of class 0 at logits (m, 0)",
        args=margins,
        derived=loss,
        numeric=lambda m: expfam.cross_entropy(np.array([m, 0.0]), 0),
        points=200,
    )
    yield Check(
        name="gradient",
        claim="L'(m) = -sigmoid(-m), in (-1, 0)",
        args=margins,
        derived=gradient,
        closed_form=-1 / (1 + sympy.exp(m)),
        numeric=lambda m: -expfam.sigmoid(-m),
        points=200,
    )
    yield Check(
        name="gradient_bounds",
        claim="L'(m) -> -1 as m -> -oo and -> 0 as m -> oo",
        args=[],
        derived=sympy.Matrix(
            [sympy.limit(gradient, m, -sympy.oo), sympy.limit(gradient, m, sympy.oo)]
        ),
        closed_form=sympy.Matrix([-1, 0]),
    )
    yield Check(
        name="convexity",
        claim="L''(m) = sigmoid(m) sigmoid(-m) > 0",
        args=margins,
        derived=curvature,
        closed_form=sig * (1 - sig),
        numeric=lambda m: expfam.sigmoid(m) * expfam.sigmoid(-m),
        rtol=1e-12,
        points=200,
    )
    yield Check(
        name="complement_in_log_space",
        claim="log(1 - sigmoid(m)) = log1mexp(log sigmoid(m)) = -softplus(m)",
        args=[Arg(m, Logits(10.0, limit=700.0))],  # beyond, log sigmoid(m) underflows to 0
        derived=sympy.log(1 - sig),
        closed_form=-sympy.log(1 + sympy.exp(m)),
        numeric=lambda m: expfam.log1mexp(expfam.log_sigmoid(m)),
        rtol=1e-12,
        points=200,
    )
