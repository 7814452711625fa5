"""Amari's alpha-divergence: its limits alpha -> -1, +1 are the two KLs, alpha = 0 is Hellinger.

D_a(p : q) = 4 / (1 - a^2) (1 - sum_k p_k^((1-a)/2) q_k^((1+a)/2)). At a = -1 the
exponent of q vanishes, the bracket vanishes with it (sum p = 1), and l'Hopital gives
the limit: with mu = (1 + a)/2 -> 0, d/dmu [1 - sum p^(1-mu) q^mu] = -sum p log(q/p),
and 4 / (1 - a^2) = 1 / (mu (1 - mu)), so D_a -> sum p log(p/q) = KL(p || q). The
same at a = +1 gives KL(q || p): D_a(p : q) = D_-a(q : p), exchanging the exponents.
At a = 0 the bracket is 1 - BC and D_0 = 4 (1 - BC) = 2 sum (sqrt p - sqrt q)^2.

sympy takes the limits (l'Hopital: both sides vanish at a = -+1, checked) for generic
positive p, q (K = 2, summing to 1) and proves the
duality for a symbolic alpha. The numeric side is
``expfam.geometry.alpha_divergence`` at alpha = -1, +1, 0 and at a symbolic alpha,
on points given by their logits (random and extreme: one-hot, underflowing classes).
"""

import sympy

from expfam import Categorical
from expfam.geometry import alpha_divergence
from expfam.symbolic import Arg, Check, Interval, Logits, softmax


def _bracket(p, q, a):
    lam, mu = (1 - a) / 2, (1 + a) / 2
    return 1 - sum(pk**lam * qk**mu for pk, qk in zip(p, q, strict=True))


def _alpha(p, q, a):
    return 4 / (1 - a**2) * _bracket(p, q, a)


def _lhopital(numerator, denominator, a, end):
    """lim_(a -> end) numerator / denominator where both vanish: the ratio of derivatives."""
    assert sympy.simplify(numerator.subs(a, end)) == 0
    assert sympy.simplify(denominator.subs(a, end)) == 0
    return (sympy.diff(numerator, a) / sympy.diff(denominator, a)).subs(a, end)


def _numeric(alpha):
    return lambda zp, zq: alpha_divergence(Categorical(logits=zp), Categorical(logits=zq), alpha)


def checks():
    a = sympy.Symbol("alpha", real=True)
    k = 2
    zp = sympy.symbols(f"a1:{k + 1}", real=True)
    zq = sympy.symbols(f"b1:{k + 1}", real=True)
    sp, sq = softmax(zp), softmax(zq)
    # generic probabilities for the limits: P_K = 1 - sum of the others
    P = sympy.symbols(f"P1:{k}", positive=True)
    Q = sympy.symbols(f"Q1:{k}", positive=True)
    P, Q = (*P, 1 - sum(P)), (*Q, 1 - sum(Q))
    bracket = _bracket(P, Q, a)
    on_points = dict(zip(P[:-1] + Q[:-1], tuple(sp[:-1]) + tuple(sq[:-1]), strict=True))

    def kl(x, y):
        return sum(xk * sympy.log(xk / yk) for xk, yk in zip(x, y, strict=True))

    for end, name, target, label in (
        (-1, "alpha_to_minus_one_is_kl", kl(P, Q), "KL(p || q)"),
        (1, "alpha_to_plus_one_is_reverse_kl", kl(Q, P), "KL(q || p)"),
    ):
        limit = _lhopital(bracket, (1 - a**2) / 4, a, end)
        yield Check(
            name=name,
            claim=f"lim_(alpha -> {end:+d}) D_alpha(p : q) = {label} (alpha_divergence)",
            args=[Arg(zp, Logits()), Arg(zq, Logits())],
            derived=limit.subs(on_points),
            closed_form=target.subs(on_points),
            numeric=_numeric(float(end)),
            rtol=1e-12,
            atol=1e-300,
            points=30,
        )
    hellinger2 = sum((sympy.sqrt(x) - sympy.sqrt(y)) ** 2 for x, y in zip(sp, sq, strict=True))
    yield Check(
        name="alpha_zero_is_hellinger",
        claim="D_0(p : q) = 4 (1 - BC) = 2 sum (sqrt p - sqrt q)^2",
        args=[Arg(zp, Logits()), Arg(zq, Logits())],
        derived=_alpha(sp, sq, sympy.S.Zero),
        closed_form=2 * hellinger2,
        numeric=_numeric(0.0),
        rtol=1e-12,
        atol=1e-300,
        points=30,
    )
    yield Check(
        name="alpha_duality",
        claim="D_alpha(p : q) = D_-alpha(q : p)",
        args=[
            Arg(zp, Logits(limit=50.0)),
            Arg(zq, Logits(limit=50.0)),
            Arg(a, Interval(-0.99, 0.99, (-0.99, -1e-9, 0.5))),
        ],
        derived=_alpha(sp, sq, a),
        closed_form=_alpha(sq, sp, -a),
        numeric=lambda zp, zq, alpha: _numeric(alpha)(zp, zq),
        rtol=1e-12,
        atol=1e-300,
        points=30,
    )
