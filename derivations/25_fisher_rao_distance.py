"""The Fisher-Rao distance through the sphere map, and its chord form.

In mean coordinates eta (p_i = eta_i for i < K, p_K = 1 - sum eta) the Fisher
metric is g = diag(1/eta) + 1 1^T / p_K. The map p -> 2 sqrt(p) sends the simplex
into R^K; its Jacobian J has J_ki = delta_ki / sqrt(p_k) for k < K and
J_Ki = -1 / sqrt(p_K), so J^T J = diag(1/eta) + 1 1^T / p_K = g: the map is an
isometry onto the positive orthant of the sphere of radius 2 (sum (2 sqrt p)^2 = 4).
Geodesics are great circles, and the distance is the radius times the angle:
d = 2 arccos(BC), BC = sum sqrt(p q) = cos(angle between sqrt p and sqrt q).

The arccos form loses everything for nearby points (arccos(1 - x) ~ sqrt(2x), and
1 - BC is rounded to a multiple of eps). The chord between the unit vectors is
||sqrt p - sqrt q|| = 2 sin(a / 2) with a = d / 2, so d = 4 asin(||sqrt p - sqrt q|| / 2);
with ||sqrt p - sqrt q||^2 = 2 - 2 BC and cos(2 asin y) = 1 - 2 y^2 the two forms agree.
The differences sqrt p - sqrt q = (p - q) / (sqrt p + sqrt q) are formed without
cancellation, which is how ``expfam.geometry.fisher_rao_distance`` computes.

sympy proves the pull-back of the sphere metric (K = 3, 4), the chord identity
(K = 3) and cos(2 asin y) = 1 - 2 y^2; the numeric distance is compared with
2 arccos(BC) evaluated in mpmath at raised precision, at random and extreme points
(masses of 1e-300 and 1e-200 on some classes).
"""

import numpy as np
import sympy

from expfam.geometry import fisher_rao_distance
from expfam.symbolic import Arg, Check, Interval, Simplex


def complete(eta: np.ndarray) -> np.ndarray:
    """Probabilities (eta, 1 - sum eta)."""
    return np.append(eta, 1 - np.sum(eta))


def checks():
    for k in (3, 4):
        eta = sympy.symbols(f"eta1:{k}", positive=True)
        p = [*eta, 1 - sum(eta)]
        image = sympy.Matrix([2 * sympy.sqrt(x) for x in p])
        jac = image.jacobian(eta)
        yield Check(
            name=f"sphere_map_is_an_isometry_k{k}",
            claim="J^T J = diag(1/eta) + 1 1^T / p_K (Fisher metric) for the map p -> 2 sqrt p",
            args=[Arg(eta, Simplex())],
            derived=jac.T * jac,
            closed_form=sympy.diag(*[1 / x for x in eta]) + sympy.ones(k - 1) / p[-1],
        )
    eta = sympy.symbols("eta1:3", positive=True)
    xi = sympy.symbols("xi1:3", positive=True)
    p, q = [*eta, 1 - sum(eta)], [*xi, 1 - sum(xi)]
    bc = sum(sympy.sqrt(a) * sympy.sqrt(b) for a, b in zip(p, q, strict=True))
    chord2 = sum((sympy.sqrt(a) - sympy.sqrt(b)) ** 2 for a, b in zip(p, q, strict=True))
    yield Check(
        name="chord_squared_k3",
        claim="||sqrt p - sqrt q||^2 = 2 - 2 BC",
        args=[Arg(eta, Simplex()), Arg(xi, Simplex())],
        derived=sympy.expand(chord2),
        closed_form=2 - 2 * bc,
    )
    y = sympy.Symbol("y", positive=True)
    yield Check(
        name="double_angle",
        claim="cos(2 asin y) = 1 - 2 y^2, so 2 arccos(BC) = 4 asin(||sqrt p - sqrt q|| / 2)",
        args=[Arg(y, Interval(0.0, 0.7))],
        derived=sympy.cos(2 * sympy.asin(y)),
        closed_form=1 - 2 * y**2,
    )
    for k in (3, 6):
        eta = sympy.symbols(f"eta1:{k}", positive=True)
        xi = sympy.symbols(f"xi1:{k}", positive=True)
        p, q = [*eta, 1 - sum(eta)], [*xi, 1 - sum(xi)]
        bc = sum(sympy.sqrt(a) * sympy.sqrt(b) for a, b in zip(p, q, strict=True))
        yield Check(
            name=f"distance_k{k}",
            claim="fisher_rao_distance(p, q) = 2 arccos(sum sqrt(p q))",
            args=[Arg(eta, Simplex()), Arg(xi, Simplex())],
            derived=2 * sympy.acos(bc),
            numeric=lambda eta, xi: fisher_rao_distance(complete(eta), complete(xi)),
            rtol=1e-13,
            atol=1e-15,
            points=60,
        )
