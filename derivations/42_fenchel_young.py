"""Fenchel-Young losses: the gradient is y_hat - y, and alpha = 1 is the cross-entropy.

For a regularizer Omega on the simplex, the Fenchel-Young loss is
L(z, y) = Omega*(z) + Omega(y) - <z, y> >= 0, with Omega*(z) = <z, y_hat> - Omega(y_hat)
and y_hat = argmax_p <z, p> - Omega(p); its gradient is y_hat - y (Danskin).
Omega = Tsallis negentropy (sum p^alpha - 1) / (alpha (alpha - 1)) gives
alpha-entmax; Omega = sum p log p (its limit alpha -> 1) gives softmax, with
Omega*(z) = logsumexp(z), and then L = cross-entropy for a one-hot y.

sympy derives both closed cases for two classes: alpha = 2 (sparsemax, in the
region |z_1 - z_2| < 1 where both classes are in the support:
y_hat_1 = (1 + z_1 - z_2) / 2) and alpha = 1, takes the Tsallis limit, and
the numeric side is expfam.special.fenchel_young_loss.
"""

import sympy

from expfam.special import fenchel_young_loss, sparsemax
from expfam.symbolic import Arg, Check, Interval, Logits, logsumexp, softmax


def checks():
    z1, z2 = sympy.symbols("z1 z2", real=True)
    y1 = sympy.Symbol("y1", nonnegative=True)
    y = (y1, 1 - y1)
    # alpha = 2 on the full-support region
    p1 = (1 + z1 - z2) / 2
    p = (p1, 1 - p1)

    def omega2(q):
        return (q[0] ** 2 + q[1] ** 2 - 1) / 2

    loss2 = omega2(y) - omega2(p) - (z1 * (y[0] - p[0]) + z2 * (y[1] - p[1]))
    inside = Interval(-0.45, 0.45)
    yield Check(
        name="sparsemax_loss_value",
        claim="alpha = 2: Omega(y) - Omega(y_hat) - <z, y - y_hat> = "
        "1/2 ||y - z||^2 - 1/2 ||y_hat - z||^2",
        args=[Arg(z1, inside), Arg(z2, inside), Arg(y1, Interval(0.0, 1.0))],
        derived=loss2,
        closed_form=((y[0] - z1) ** 2 + (y[1] - z2) ** 2 - (p[0] - z1) ** 2 - (p[1] - z2) ** 2)
        / 2,
        numeric=lambda a, b, t: fenchel_young_loss([a, b], [t, 1 - t], alpha=2),
        rtol=1e-12,
        atol=1e-15,
        points=40,
    )
    yield Check(
        name="sparsemax_loss_gradient",
        claim="alpha = 2: dL/dz = y_hat - y",
        args=[Arg(z1, inside), Arg(z2, inside), Arg(y1, Interval(0.0, 1.0))],
        derived=sympy.Matrix([sympy.diff(loss2, z1), sympy.diff(loss2, z2)]),
        closed_form=sympy.Matrix([p[0] - y[0], p[1] - y[1]]),
        numeric=lambda a, b, t: sparsemax([a, b]) - [t, 1 - t],
        rtol=1e-12,
        atol=1e-15,
        points=40,
    )
    # alpha = 1: Shannon
    z = (z1, z2)
    q = softmax(z)
    loss1 = logsumexp(z) + sum(t * sympy.log(t) for t in y) - (z1 * y[0] + z2 * y[1])
    yield Check(
        name="shannon_loss_gradient",
        claim="alpha = 1: d/dz [logsumexp(z) + sum y log y - <z, y>] = softmax(z) - y",
        args=[Arg(z, Logits(limit=30.0)), Arg(y1, Interval(0.01, 0.99))],
        derived=sympy.Matrix([sympy.diff(loss1, z1), sympy.diff(loss1, z2)]),
        closed_form=sympy.Matrix([q[0] - y[0], q[1] - y[1]]),
    )
    yield Check(
        name="shannon_loss_is_cross_entropy",
        claim="alpha = 1, y = e_1: L = Omega*(z) - z_1 = logsumexp(z) - z_1 = -log softmax(z)_1",
        args=[Arg(z, Logits(limit=700.0))],
        derived=logsumexp(z) - z1,  # Omega(e_1) = 0
        closed_form=-sympy.log(q[0]),
        numeric=lambda z: fenchel_young_loss(z, 0, alpha=1),
        rtol=1e-14,
        atol=1e-300,
    )
    alpha, t = sympy.Symbol("alpha", positive=True), sympy.Symbol("t", positive=True)
    tsallis = (t**alpha + (1 - t) ** alpha - 1) / (alpha * (alpha - 1))
    yield Check(
        name="tsallis_limit_is_shannon",
        claim="(sum p^alpha - 1) / (alpha (alpha - 1)) -> sum p log p as alpha -> 1",
        args=[Arg(t, Interval(0.01, 0.99))],
        derived=sympy.limit(tsallis, alpha, 1),
        closed_form=t * sympy.log(t) + (1 - t) * sympy.log(1 - t),
    )
