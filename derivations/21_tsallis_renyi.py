"""Tsallis and Rényi divergences are functions of the alpha-divergence.

With lambda = (1 - alpha)/2 (the exponent of p) and S = sum_k p_k^lambda q_k^(1-lambda),
Amari's D_alpha = (1 - S) / (lambda (1 - lambda)), so
Tsallis T_lambda = (1 - S) / (1 - lambda) = lambda D_alpha, and
Rényi R_lambda = log S / (lambda - 1) = -log(1 - lambda (1 - lambda) D_alpha) / (1 - lambda).
At lambda = 1/2, S is the Bhattacharyya coefficient BC = sum sqrt(p q), so
R_(1/2) = -2 log BC: twice the Bhattacharyya distance.

sympy proves the identities for a symbolic order (K = 2, points given by logits).
The numeric side is ``tsallis_divergence``, ``renyi_divergence`` and
``bhattacharyya_distance`` of ``expfam.geometry``.
"""

import numpy as np
import sympy

from expfam import Categorical
from expfam.geometry import bhattacharyya_distance, renyi_divergence, tsallis_divergence
from expfam.symbolic import Arg, Check, Interval, Logits, softmax


def _points(zp, zq):
    return Categorical(logits=zp), Categorical(logits=zq)


def checks():
    lam = sympy.Symbol("lam", positive=True)
    zp = sympy.symbols("a1:3", real=True)
    zq = sympy.symbols("b1:3", real=True)
    p, q = softmax(zp), softmax(zq)
    s = sum(pk**lam * qk ** (1 - lam) for pk, qk in zip(p, q, strict=True))
    alpha = 1 - 2 * lam
    d_alpha = 4 / (1 - alpha**2) * (1 - s)
    order = Interval(0.05, 3.0, (0.05, 0.5, 1.0 - 1e-6, 2.0))
    yield Check(
        name="tsallis_is_lambda_d_alpha",
        claim="(1 - sum p^l q^(1-l)) / (1 - l) = l D_alpha, alpha = 1 - 2 l",
        args=[Arg(zp, Logits(limit=40.0)), Arg(zq, Logits(limit=40.0)), Arg(lam, order)],
        derived=(1 - s) / (1 - lam),
        closed_form=lam * d_alpha,
        numeric=lambda zp, zq, lam: tsallis_divergence(*_points(zp, zq), lam),
        rtol=1e-11,
        atol=1e-300,
        points=30,
    )
    yield Check(
        name="renyi_from_d_alpha",
        claim="exp((l - 1) R_l) = sum p^l q^(1-l) = 1 - l (1 - l) D_alpha",
        args=[Arg(zp, Logits(limit=40.0)), Arg(zq, Logits(limit=40.0)), Arg(lam, order)],
        derived=s,
        closed_form=1 - lam * (1 - lam) * d_alpha,
        numeric=lambda zp, zq, lam: np.exp((lam - 1) * renyi_divergence(*_points(zp, zq), lam)),
        rtol=1e-11,
        atol=1e-300,
        points=30,
    )
    half = sympy.Rational(1, 2)
    bc = sum(sympy.sqrt(pk * qk) for pk, qk in zip(p, q, strict=True))
    yield Check(
        name="renyi_half_is_twice_bhattacharyya",
        claim="R_(1/2)(p || q) = -2 log sum sqrt(p q) (2 x bhattacharyya_distance)",
        args=[Arg(zp, Logits()), Arg(zq, Logits())],
        derived=(sympy.log(s) / (lam - 1)).subs(lam, half),
        closed_form=-2 * sympy.log(bc),
        numeric=lambda zp, zq: 2 * bhattacharyya_distance(*_points(zp, zq)),
        rtol=1e-12,
        atol=1e-300,
        points=30,
    )
