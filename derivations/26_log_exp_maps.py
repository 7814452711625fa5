"""The Fisher-Rao log and exp maps: exp(log) is the identity, |log| is the distance.

On the unit sphere u = sqrt(p) (half the isometry p -> 2 sqrt p), the great circle
from u to w = sqrt(q) at angle a (cos a = BC = u . w) is
gamma(t) = cos(t a) u + sin(t a) e with the unit tangent e = (w - cos(a) u) / sin a.
Its initial velocity is Log_u(w) = a e, and Exp_u(x) = cos|x| u + sin|x| x / |x|, so
Exp_u(Log_u(w)) = cos(a) u + sin(a) e = w. Back on the simplex p = u^2 and
dp = 2 u du: the log map in probabilities is

    v = 2 u * Log_u(w) = (2 a / sin a) (sqrt(p q) - BC p),

which sums to 0 (sum sqrt(p q) = BC = BC sum p), and its Fisher norm is
sum v^2 / p = (2a / sin a)^2 sum (w - BC u)^2 = (2a / sin a)^2 (1 - BC^2) = (2a)^2 = d^2.

sympy proves sum v = 0 and sum v^2 / p = d^2 for K = 3 (with sin a = sqrt(1 - BC^2));
numerically ``exp_map(p, log_map(p, q))`` is compared with q and
``fisher_rao_norm(p, log_map(p, q))`` with 2 arccos(BC) in mpmath, at random and
extreme points (tiny masses of p, where the tangent vector is nearly singular).
"""

import numpy as np
import sympy

from expfam.geometry import exp_map, fisher_rao_norm, log_map
from expfam.symbolic import Arg, Check, Interval, Simplex


def complete(eta: np.ndarray) -> np.ndarray:
    """Probabilities (eta, 1 - sum eta)."""
    return np.append(eta, 1 - np.sum(eta))


def checks():
    eta = sympy.symbols("eta1:3", positive=True)
    xi = sympy.symbols("xi1:3", positive=True)
    p, q = [*eta, 1 - sum(eta)], [*xi, 1 - sum(xi)]
    u, w = [sympy.sqrt(x) for x in p], [sympy.sqrt(x) for x in q]
    bc = sum(a * b for a, b in zip(u, w, strict=True))
    factor = sympy.Symbol("f", positive=True)  # 2a / sin a, with sin a = sqrt(1 - BC^2)
    v = [factor * (x * y - bc * x * x) for x, y in zip(u, w, strict=True)]
    yield Check(
        name="log_sums_to_zero_k3",
        claim="v = (2a / sin a)(sqrt(pq) - BC p) sums to 0 (a tangent vector of the simplex)",
        args=[Arg(eta, Simplex()), Arg(xi, Simplex())],
        derived=sympy.expand(sum(x * y - bc * x * x for x, y in zip(u, w, strict=True))),
        closed_form=0,
    )
    yield Check(
        name="norm_of_log_is_distance_k3",
        claim="sum v^2 / p = f^2 (1 - BC^2) = f^2 sin^2 a = (2a)^2 = d(p, q)^2",
        args=[Arg(eta, Simplex()), Arg(xi, Simplex()), Arg(factor, Interval(1.0, 2.0))],
        derived=sum(vk**2 / pk for vk, pk in zip(v, p, strict=True)),
        closed_form=factor**2 * (1 - bc**2),
    )
    for k in (3, 5):
        eta = sympy.symbols(f"eta1:{k}", positive=True)
        xi = sympy.symbols(f"xi1:{k}", positive=True)
        p, q = [*eta, 1 - sum(eta)], [*xi, 1 - sum(xi)]
        bc = sum(sympy.sqrt(a) * sympy.sqrt(b) for a, b in zip(p, q, strict=True))
        yield Check(
            name=f"norm_of_log_numeric_k{k}",
            claim="fisher_rao_norm(p, log_map(p, q)) = 2 arccos(BC)",
            args=[Arg(eta, Simplex()), Arg(xi, Simplex())],
            derived=2 * sympy.acos(bc),
            numeric=lambda eta, xi: fisher_rao_norm(
                complete(eta), log_map(complete(eta), complete(xi))
            ),
            rtol=1e-13,
            points=60,
        )
        yield Check(
            name=f"exp_of_log_numeric_k{k}",
            claim="exp_map(p, log_map(p, q)) = q",
            args=[Arg(eta, Simplex()), Arg(xi, Simplex())],
            derived=sympy.Matrix(q),
            numeric=lambda eta, xi: exp_map(complete(eta), log_map(complete(eta), complete(xi))),
            rtol=1e-11,
            atol=1e-15,
            points=60,
        )
