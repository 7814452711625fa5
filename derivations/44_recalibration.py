"""Recalibration maps: temperature scaling is an e-geodesic, vector scaling's NLL is convex.

Temperature scaling replaces the logits z by beta z. With p = softmax(z) and u
the uniform distribution, softmax(beta z) is the normalized geometric mixture
u^(1 - beta) p^beta / Z: the e-geodesic (a straight line in logits) from u
(beta = 0) through p (beta = 1), extended beyond p for beta > 1. Fitting beta
(expfam.learn.fit_temperature, TemperatureScaling) searches this one curve: a
larger beta accentuates small differences and makes the classifier overconfident.

Vector scaling replaces z by a * z + b (a per-class scale and bias,
expfam.learn.VectorScaling). The calibrated logits are linear in (a, b), so
along any line (a + s v_a, b + s v_b) the log-loss
NLL(s) = logsumexp(u(s)) - u_y(s) has second derivative w^T F(u) w, with
w = v_a * z + v_b and F = diag(p) - p p^T the Fisher metric at u: the variance
of w under softmax(u), never negative. So the NLL (a sum of such terms) is
convex in (a, b), and the Newton iteration on its Fisher (the natural
gradient) finds the global optimum. The same holds for matrix and Dirichlet
scaling, whose logits A x + b are linear in (A, b). The numeric side is the
Fisher-vector product of expfam.families.Categorical.
"""

import numpy as np
import sympy

from expfam import softmax as numeric_softmax
from expfam.families import Categorical
from expfam.geometry import e_geodesic
from expfam.symbolic import Arg, Check, Interval, Logits, Reals, logsumexp, softmax


def checks():
    beta = sympy.Symbol("beta", nonnegative=True)
    for k in (2, 3):
        z = sympy.symbols(f"z1:{k + 1}", real=True)
        p = softmax(list(z))
        mixture = [sympy.Rational(1, k) ** (1 - beta) * p_i**beta for p_i in p]
        total = sum(mixture)
        yield Check(
            name=f"temperature_is_e_geodesic_k{k}",
            claim="softmax(beta z) = u^(1-beta) softmax(z)^beta / Z: the e-geodesic from the "
            "uniform u through softmax(z)",
            args=[Arg(z, Logits(limit=30.0)), Arg(beta, Interval(0.0, 2.0, (0.0, 1.0, 2.0)))],
            derived=sympy.Matrix([m / total for m in mixture]),
            closed_form=softmax([beta * t for t in z]),
            numeric=lambda z, beta, k=k: e_geodesic(np.full(k, 1 / k), numeric_softmax(z), beta),
            rtol=1e-12,
            atol=1e-300,
        )

        a = sympy.symbols(f"a1:{k + 1}", real=True)
        b = sympy.symbols(f"b1:{k + 1}", real=True)
        va = sympy.symbols(f"va1:{k + 1}", real=True)
        vb = sympy.symbols(f"vb1:{k + 1}", real=True)
        s = sympy.Symbol("s", real=True)
        u = [
            (ai + s * vai) * zi + bi + s * vbi
            for ai, vai, zi, bi, vbi in zip(a, va, z, b, vb, strict=True)
        ]
        nll = logsumexp(u) - u[0]
        at_zero = [ai * zi + bi for ai, zi, bi in zip(a, z, b, strict=True)]
        q = softmax(at_zero)
        w = [vai * zi + vbi for vai, zi, vbi in zip(va, z, vb, strict=True)]
        mean = sum(qi * wi for qi, wi in zip(q, w, strict=True))
        variance = sum(qi * (wi - mean) ** 2 for qi, wi in zip(q, w, strict=True))

        def curvature(z, a, b, va, vb):
            direction = va * z + vb
            fisher = Categorical(logits=a * z + b).fisher_vp(direction, coords="logits")
            return fisher @ direction

        yield Check(
            name=f"vector_scaling_nll_is_convex_k{k}",
            claim="d^2/ds^2 NLL(a + s v_a, b + s v_b) = w^T F(a z + b) w = Var_p(w) >= 0, "
            "w = v_a z + v_b",
            args=[
                Arg(z, Logits(limit=20.0)),
                Arg(a, Reals()),
                Arg(b, Reals()),
                Arg(va, Reals()),
                Arg(vb, Reals()),
            ],
            derived=sympy.diff(nll, s, 2).subs(s, 0),
            closed_form=variance,
            numeric=curvature,
            rtol=1e-9,
            atol=1e-12,
            points=40,
        )
