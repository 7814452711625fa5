"""The two-class Concrete (binary Gumbel-softmax) density and its normalization.

A two-class Concrete sample is x_1 = softmax((z + G) / lambda)_1 with G_1, G_2
independent standard Gumbel. G_1 - G_2 is standard logistic, so with
delta = z_1 - z_2, logit(x_1) = (delta + L) / lambda and the distribution
function is P(x_1 <= t) = sigmoid(lambda logit(t) - delta). Its derivative is
the density; sympy proves that it is Maddison, Mnih and Teh's Concrete density
for K = 2, with a_k = exp(z_k),

    p(t) = lambda a_1 a_2 t^(-lambda-1) (1-t)^(-lambda-1) / (a_1 t^-lambda + a_2 (1-t)^-lambda)^2,

that it integrates to 1 (the distribution function runs from
0 to 1), and that the argmax law is exact: P(x_1 > 1/2) = sigmoid(delta) =
softmax(z)_1. The numeric side is RelaxedCategorical.log_prob, computed in
log space.
"""

import numpy as np
import sympy

from expfam.families import RelaxedCategorical
from expfam.symbolic import Arg, Check, Interval, Positive


def checks():
    t = sympy.Symbol("t", positive=True)
    lam = sympy.Symbol("lambda", positive=True)
    delta = sympy.Symbol("delta", real=True)
    a1, a2 = sympy.exp(delta), sympy.S.One
    x1, x2 = t, 1 - t
    # sigmoid(lambda logit(t) - delta) = 1 / (1 + a1 x1^-lambda / (a2 x2^-lambda)), 0 < t < 1
    cdf = 1 / (1 + a1 * x1**-lam / (a2 * x2**-lam))
    # x^(-lambda-1) written as x^-lambda / x: one power per coordinate, so cancel() proves it
    concrete = (
        lam * a1 * a2 * (x1**-lam / x1) * (x2**-lam / x2) / (a1 * x1**-lam + a2 * x2**-lam) ** 2
    )

    def density(t, lam, delta):
        d = RelaxedCategorical(logits=[delta, 0.0], temperature=lam)
        return np.exp(d.log_prob([t, 1.0 - t]))

    yield Check(
        name="density_is_cdf_derivative",
        claim="d/dt sigmoid(lambda logit t - delta) = the Concrete density for K = 2",
        args=[
            Arg(t, Interval(0.01, 0.99, (1e-6, 0.5, 1 - 1e-6))),
            Arg(lam, Positive(0.1, 10.0)),
            Arg(delta, Interval(-5.0, 5.0)),
        ],
        derived=sympy.diff(cdf, t),
        closed_form=concrete,
        numeric=density,
        rtol=1e-9,
        points=60,
    )
    yield Check(
        name="normalization",
        claim="integral of the density over (0, 1) = F(1-) - F(0+) = 1",
        args=[],
        derived=sympy.limit(cdf, t, 1, "-") - sympy.limit(cdf, t, 0, "+"),
        closed_form=sympy.S.One,
    )
    yield Check(
        name="argmax_law",
        claim="P(x_1 > 1/2) = 1 - F(1/2) = sigmoid(delta) = softmax(z)_1",
        args=[Arg(delta, Interval(-5.0, 5.0))],
        derived=1 - cdf.subs(t, sympy.Rational(1, 2)),
        closed_form=a1 / (a1 + a2),
    )
