"""The hand-written backprop chain equals the gradient, step by step.

A developer's hand-written backprop computes the softmax forward as z = W x, e = exp(z),
n = sum(e), p = e / n and the log-loss L = -sum_k y_k log p_k, then walks back by hand:

    dl_dp = -y / p
    dl_dn = -dl_dp . e / n^2
    dl_de = dl_dp / n + dl_dn
    dl_dz = dl_de * e
    dl_dw = outer(dl_dz, x)

Each line is a chain rule through one node of the graph. Treating the
intermediate quantities as independent variables, sympy differentiates L
with respect to each of them and proves every line: dL/dp_i = -y_i / p_i;
L(e, n) = -sum y_k log(e_k / n) gives dL/dn = sum_k y_k / n, which is the
hand-written -dl_dp . e / n^2 because e / n = p; the total derivative through
n = sum e adds dl_dn to every dl_de_i; exp' = exp gives dl_dz; and at the
end dl_dz = p - y (the hand-written code takes this shortcut, "dl_dz = p - y[i]"), so
dl_dw = (p - y) x^T, the gradient of derivation 02.

The numeric side is that code transcribed line by line in numpy; it
exponentiates without the max shift, so it is checked at moderate logits
only (no extreme points): that naivety is what derivation 10 is about. Its
last step is also compared with the stable ``expfam.softmax(z) - y``.
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Logits, Positive, Reals, softmax

K, D, CLASS = 3, 2, 0


def level_b(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The hand-written forward and backward pass, verbatim up to names."""
    z = np.matmul(w, x)
    e = np.exp(z)
    n = np.sum(e)
    p = e / n
    dl_dp = (-1 / p) * y
    dl_dn = -np.dot(dl_dp, e / n**2)
    dl_de = dl_dp / n + dl_dn
    dl_dz = dl_de * e
    dl_dw = np.outer(dl_dz, x)
    return {"dl_dp": dl_dp, "dl_dn": dl_dn, "dl_de": dl_de, "dl_dz": dl_dz, "dl_dw": dl_dw}


def checks():
    y = sympy.Matrix([1 if i == CLASS else 0 for i in range(K)])
    y_np = np.array([float(t) for t in y])
    p = sympy.Matrix(sympy.symbols(f"p1:{K + 1}", positive=True))
    e = sympy.Matrix(sympy.symbols(f"e1:{K + 1}", positive=True))
    n = sympy.Symbol("n", positive=True)
    z = sympy.Matrix(sympy.symbols(f"z1:{K + 1}", real=True))
    w = sympy.Matrix(K, D, sympy.symbols(f"w1:{K * D + 1}", real=True))
    x = sympy.Matrix(sympy.symbols(f"x1:{D + 1}", real=True))

    def loss_of_p(p):
        return -sum(y[i] * sympy.log(p[i]) for i in range(K))

    # The hand-written formulas, as functions of the forward values.
    def dl_dp(p):
        return sympy.Matrix([-y[i] / p[i] for i in range(K)])

    def dl_dn(e, n):
        return -(dl_dp(e / n).T * e)[0] / n**2

    def dl_de(e):
        total = sum(e)
        return dl_dp(e / total) / total + dl_dn(e, total) * sympy.ones(K, 1)

    def dl_dz(z):
        e = z.applyfunc(sympy.exp)
        return dl_de(e).multiply_elementwise(e)

    def from_wx(step):
        return lambda w, x: level_b(w.reshape(K, D), x, y_np)[step]

    wx_args = [Arg(list(w), Reals(1.0)), Arg(list(x), Reals(1.0))]
    wx = {z[i]: (w * x)[i] for i in range(K)}
    yield Check(
        name="dl_dp",
        claim="dl_dp = -y / p is dL/dp for L = -sum y log p",
        args=[Arg(list(p), Positive())],
        derived=sympy.Matrix([sympy.diff(loss_of_p(p), t) for t in p]),
        closed_form=dl_dp(p),
    )
    yield Check(
        name="dl_dn",
        claim="dl_dn = -dl_dp . e / n^2 is dL/dn for L = -sum y log(e / n)",
        args=[Arg(list(e), Positive()), Arg(n, Positive())],
        derived=sympy.diff(loss_of_p(e / n), n),
        closed_form=dl_dn(e, n),
    )
    yield Check(
        name="dl_de",
        claim="dl_de = dl_dp / n + dl_dn is the total dL/de through n = sum e",
        args=[Arg(list(e), Positive())],
        derived=sympy.Matrix([sympy.diff(loss_of_p(e / sum(e)), t) for t in e]),
        closed_form=dl_de(e),
    )
    # The same three steps at the forward values of z = W x, against the hand-written code.
    exp_wx = (w * x).applyfunc(sympy.exp)
    at_p = dict(zip(p, softmax(w * x), strict=True))
    at_e = dict(zip(e, exp_wx, strict=True))
    at_n = {**at_e, n: sum(exp_wx)}
    for step, derivative, at in (
        ("dl_dp", sympy.Matrix([sympy.diff(loss_of_p(p), t) for t in p]), at_p),
        ("dl_dn", sympy.diff(loss_of_p(e / n), n), at_n),
        ("dl_de", sympy.Matrix([sympy.diff(loss_of_p(e / sum(e)), t) for t in e]), at_e),
    ):
        yield Check(
            name=f"{step}_code",
            claim=f"the hand-written {step} at z = W x is the derivative (moderate W x)",
            args=wx_args,
            derived=derivative.subs(at),
            numeric=from_wx(step),
            rtol=1e-12,
            atol=1e-14,
            extremes=False,
        )
    yield Check(
        name="dl_dz",
        claim="dl_dz = dl_de * e is dL/dz (the hand-written code, moderate W x)",
        args=wx_args,
        derived=sympy.Matrix([sympy.diff(loss_of_p(softmax(z)), t) for t in z]).subs(wx),
        closed_form=dl_dz(z).subs(wx),
        numeric=from_wx("dl_dz"),
        rtol=1e-12,
        atol=1e-14,
        extremes=False,
    )
    yield Check(
        name="dl_dz_is_p_minus_y",
        claim="the chain's dl_dz equals p - y (expfam.softmax)",
        args=[Arg(list(z), Logits())],
        derived=dl_dz(z),
        closed_form=softmax(z) - y,
        numeric=lambda z: expfam.softmax(z) - y_np,
        rtol=1e-13,
        atol=1e-15,
    )
    yield Check(
        name="dl_dw",
        claim="dl_dw = outer(dl_dz, x) = (p - y) x^T (the hand-written code)",
        args=wx_args,
        derived=w.applyfunc(lambda wij: sympy.diff(loss_of_p(softmax(w * x)), wij)),
        closed_form=(softmax(w * x) - y) * x.T,
        numeric=from_wx("dl_dw"),
        rtol=1e-12,
        atol=1e-14,
        extremes=False,
    )
