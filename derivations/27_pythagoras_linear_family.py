"""The Pythagorean identity for the e-projection onto a linear (m-flat) family.

Let L = {r : E_r[F] = c} and q* = p exp(lambda F) / Z(lambda) a tilt of p lying in L
(E_q*[F] = c). For every r in L,

    KL(r||p) - KL(r||q*) - KL(q*||p) = sum_k (r_k - q*_k) log(q*_k / p_k)
                                     = sum_k (r_k - q*_k) (lambda F_k - log Z)
                                     = lambda (E_r[F] - E_q*[F]) - log Z (1 - 1) = 0.

So KL(r||p) = KL(r||q*) + KL(q*||p) >= KL(q*||p): the tilt is the e-projection
argmin_{r in L} KL(r || p) (the m-geodesic from r to q* meets the e-geodesic from
q* to p at a right angle in the Fisher metric). Maximum entropy is the case p uniform.

sympy proves the three-KL identity for K = 3 and K = 4 (one statistic F = (0, 1, 3) or
(0, 1, 3, -2), r any point of L written with a free parameter along the kernel of
[F; 1]); numerically ``LinearFamily(F, E_q[F]).e_project(p)`` is compared with the
closed-form tilt at random and extreme p and lambda.
"""

import numpy as np
import sympy

from expfam.geometry import LinearFamily
from expfam.symbolic import Arg, Check, Interval, Simplex

STATS = {3: (0, 1, 3), 4: (0, 1, 3, -2)}


def tilt_numeric(f: np.ndarray):
    def numeric(eta: np.ndarray, lam: float) -> np.ndarray:
        p = np.append(eta, 1 - np.sum(eta))
        w = p * np.exp(lam * f)
        c = (w / w.sum()) @ f
        return LinearFamily(f, c).e_project(p).probs

    return numeric


def kl(a, b):
    return sum(x * (sympy.log(x) - sympy.log(y)) for x, y in zip(a, b, strict=True))


def checks():
    for k, f in STATS.items():
        eta = sympy.symbols(f"eta1:{k}", positive=True)
        lam = sympy.Symbol("lambda", real=True)
        s = sympy.symbols(f"s1:{k - 1}", real=True)
        p = [*eta, 1 - sum(eta)]
        z = sum(x * sympy.exp(lam * fk) for x, fk in zip(p, f, strict=True))
        q = [x * sympy.exp(lam * fk) / z for x, fk in zip(p, f, strict=True)]
        kernel = sympy.Matrix([list(f), [1] * k]).nullspace()
        r = [q[i] + sum(sj * v[i] for sj, v in zip(s, kernel, strict=True)) for i in range(k)]
        # log q*_k = log p_k + lambda F_k - log Z, written out so the logs cancel exactly
        log_q = [sympy.log(x) + lam * fk - sympy.log(z) for x, fk in zip(p, f, strict=True)]
        gap = sum(
            r[i] * (sympy.log(r[i]) - sympy.log(p[i]))
            - r[i] * (sympy.log(r[i]) - log_q[i])
            - q[i] * (log_q[i] - sympy.log(p[i]))
            for i in range(k)
        )
        yield Check(
            name=f"pythagoras_k{k}",
            claim="KL(r||p) = KL(r||q*) + KL(q*||p) for E_r F = E_q* F, q* ~ p e^(lambda F)",
            args=[
                Arg(eta, Simplex()),
                Arg(lam, Interval(-2.0, 2.0)),
                Arg(s, Interval(-0.01, 0.01)),
            ],
            derived=sympy.expand(gap),
            closed_form=0,
        )
        yield Check(
            name=f"e_project_is_the_tilt_k{k}",
            claim="LinearFamily(F, E_q*[F]).e_project(p) = p e^(lambda F) / Z",
            args=[Arg(eta, Simplex()), Arg(lam, Interval(-5.0, 5.0, edges=(-30.0, 0.0, 30.0)))],
            derived=sympy.Matrix(q),
            numeric=tilt_numeric(np.array(f, dtype=float)),
            rtol=1e-9,
            atol=1e-12,  # c is rounded: near a vertex the tilt is ill-conditioned in c
            points=8,
        )
