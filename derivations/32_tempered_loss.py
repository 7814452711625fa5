"""The tempered log-loss is squeezed onto the perceptron loss, and its gradient onto the update.

With inverse temperature beta > 0, the log-loss of the categorical with
logits beta z, divided by beta, is

    l_beta(z, y) = (1/beta) [logsumexp(beta z) - beta z_y].

Let z_1 be the largest logit (relabel the classes). Taking e^{beta z_1} out
of the sum,

    l_beta = (z_1 - z_y) + (1/beta) log(1 + sum_{k > 1} e^{beta (z_k - z_1)}),

and each term of the sum lies in (0, 1], so the logarithm lies in
[0, log K]: max z - z_y <= l_beta <= max z - z_y + log K / beta. As beta
grows the loss tends to the perceptron loss max z - z_y, at the rate
log(#ties) / beta. Its gradient is d l_beta / dz = softmax(beta z) - e_y,
which tends to e_argmax - e_y: nothing when the prediction is right, the
perceptron's update when it is wrong (the perceptron is the hard limit of the
softmax classifier).

sympy proves the factored form and the gradient for K = 3, and takes the
limits beta -> inf of the loss and the gradient at the logits (1, 3, 2)
(the slack term is checked to vanish, the gradient to become (0, 1, -1)
for y = 3). The numeric side is ``expfam.learn.tempered_cross_entropy`` and
its gradient, at random and extreme logits, beta from 0.05 to 50.
"""

import sympy

from expfam import learn
from expfam.symbolic import Arg, Check, Logits, Positive, logsumexp, softmax

K, Y = 3, 2


def checks():
    z = sympy.symbols(f"z1:{K + 1}", real=True)
    beta = sympy.Symbol("beta", positive=True)
    loss = (logsumexp([beta * t for t in z]) - beta * z[Y]) / beta
    factored = (z[0] - z[Y]) + sympy.log(
        1 + sum(sympy.exp(beta * (z[k] - z[0])) for k in range(1, K))
    ) / beta
    args = [Arg(z, Logits(3.0)), Arg(beta, Positive(0.05, 50.0))]
    yield Check(
        name="factored",
        claim="l_beta = (z_1 - z_y) + log(1 + sum_{k>1} exp(beta (z_k - z_1))) / beta",
        args=args,
        derived=loss,
        closed_form=factored,
        numeric=lambda z, beta: learn.tempered_cross_entropy(z, Y, beta),
        rtol=1e-13,
        atol=1e-14,
        points=60,
    )
    gradient = sympy.Matrix([sympy.diff(loss, t) for t in z])
    yield Check(
        name="gradient",
        claim="d l_beta / dz = softmax(beta z) - e_y (tempered_cross_entropy_gradient)",
        args=args,
        derived=gradient,
        closed_form=softmax([beta * t for t in z]) - sympy.eye(K)[:, Y],
        numeric=lambda z, beta: learn.tempered_cross_entropy_gradient(z, Y, beta),
        rtol=1e-13,
        atol=1e-15,
        points=60,
    )
    point = dict(zip(z, (1, 3, 2), strict=True))
    slack = sympy.log(1 + sum(sympy.exp(beta * (z[k] - z[1])) for k in (0, 2))) / beta
    yield Check(
        name="loss_limit",
        claim="at z = (1, 3, 2): l_beta - (max z - z_y) -> 0 as beta -> inf",
        args=[],
        derived=sympy.limit(slack.subs(point), beta, sympy.oo),
        closed_form=sympy.Integer(0),
    )
    yield Check(
        name="gradient_limit",
        claim="at z = (1, 3, 2), y = 3: softmax(beta z) - e_y -> (0, 1, -1), the perceptron step",
        args=[],
        derived=gradient.subs(point).applyfunc(lambda g: sympy.limit(g, beta, sympy.oo)),
        closed_form=sympy.Matrix([0, 1, -1]),
    )
