"""Chernoff information: the optimum lies where the e-geodesic is equidistant in KL.

f(l) = -log Z(l), Z(l) = sum_k p_k^l q_k^(1-l), is concave in l (Z is log-convex),
with f(0) = f(1) = 0 when the supports agree. On the e-geodesic
p_l = p^l q^(1-l) / Z(l), log p_l = l log p + (1 - l) log q - log Z, so
KL(p_l || p) - KL(p_l || q) = sum_k p_l,k log(q_k / p_k) = f'(l):
the slope of f is the difference of the two KLs, and the maximum C = f(l*) is where
they are equal. There KL(p_l || p) = (1 - l) sum p_l log(q/p) - log Z = -log Z = C.

sympy proves f'(l) = KL(p_l || p) - KL(p_l || q) (K = 2, 3, in logits). The numeric
side: expfam.geometry.kl along the e-geodesic, and chernoff_information, whose optimum
must make both KLs equal to C (their ratios to C are 1).
"""

import numpy as np
import sympy

from expfam import Categorical
from expfam.geometry import chernoff_information, kl
from expfam.symbolic import Arg, Check, Interval, Logits, softmax


def _geodesic_point(zp, zq, lam):
    return Categorical(logits=lam * np.asarray(zp) + (1 - lam) * np.asarray(zq))


def _kl_gap(zp, zq, lam):
    pl = _geodesic_point(zp, zq, lam)
    return kl(pl, Categorical(logits=zp)) - kl(pl, Categorical(logits=zq))


def _ratios_at_optimum(zp, zq):
    """KL(p_l* || p) / C and KL(p_l* || q) / C at the code's optimum (both 1; p = q: C = 0)."""
    p, q = Categorical(logits=zp), Categorical(logits=zq)
    c, lam = chernoff_information(p, q)
    if c == 0.0:
        return np.ones(2)
    pl = _geodesic_point(zp, zq, lam)
    return np.array([kl(pl, p), kl(pl, q)]) / c


def checks():
    lam = sympy.Symbol("lam", positive=True)
    for k in (2, 3):
        zp = sympy.symbols(f"a1:{k + 1}", real=True)
        zq = sympy.symbols(f"b1:{k + 1}", real=True)
        p, q = softmax(zp), softmax(zq)
        pl = softmax([lam * a + (1 - lam) * b for a, b in zip(zp, zq, strict=True)])
        z = sum(pk**lam * qk ** (1 - lam) for pk, qk in zip(p, q, strict=True))
        f = -sympy.log(z)

        def kl_sym(x, y):
            return sum(xk * sympy.log(xk / yk) for xk, yk in zip(x, y, strict=True))

        gap = kl_sym(pl, p) - kl_sym(pl, q)
        yield Check(
            name=f"slope_is_kl_gap_k{k}",
            claim="d/dl [-log sum p^l q^(1-l)] = KL(p_l || p) - KL(p_l || q)",
            args=[
                Arg(zp, Logits(limit=30.0)),
                Arg(zq, Logits(limit=30.0)),
                Arg(lam, Interval(0.0, 1.0, (1e-6, 0.5, 1 - 1e-6))),
            ],
            derived=gap,
            closed_form=sum(pk * sympy.log(qk / pp) for pk, qk, pp in zip(pl, q, p, strict=True)),
            numeric=_kl_gap,
            rtol=1e-10,
            atol=1e-14,
            points=20,
        )
        if k == 2:
            yield Check(
                name="slope_is_derivative_k2",
                claim="f'(l) = sum p_l log(q/p) for f(l) = -log sum p^l q^(1-l)",
                args=[
                    Arg(zp, Logits(limit=30.0)),
                    Arg(zq, Logits(limit=30.0)),
                    Arg(lam, Interval(0.0, 1.0, (1e-6, 0.5))),
                ],
                derived=sympy.diff(f, lam),
                closed_form=sum(
                    pk * sympy.log(qk / pp) for pk, qk, pp in zip(pl, q, p, strict=True)
                ),
                numeric=_kl_gap,
                rtol=1e-10,
                atol=1e-14,
                points=20,
            )
    yield Check(
        name="optimum_is_equidistant",
        claim="at l* of chernoff_information: KL(p_l* || p) / C = KL(p_l* || q) / C = 1",
        args=[Arg(zp, Logits(limit=30.0)), Arg(zq, Logits(limit=30.0))],
        derived=sympy.Matrix([1, 1]),
        numeric=_ratios_at_optimum,
        rtol=1e-12,
        points=30,
    )
