"""Temperature: softmax(beta z) is uniform as beta -> 0, the argmax as beta -> oo.

Scaling the logits by an inverse temperature beta moves along the ray
beta -> softmax(beta z), an e-geodesic from the uniform distribution (beta = 0,
every logit 0) through softmax(z) (beta = 1). As beta -> oo,
softmax(beta z)_k = 1 / sum_j exp(beta (z_j - z_k)) tends to 0 unless z_k is
a maximum, and the maximal classes share the mass equally: the one-hot argmax
with ties split (z = (0.95, 0.99, 0.98) gives
(32.56%, 33.89%, 33.55%) at beta = 1 and (0.00%, 99.33%, 0.67%) at beta = 500;
for z = (0.1, -2.0, 3.4, 3.3), multiplying the logits by 10 raises p_2 to 0.7311).

The log-partition along the ray, A(beta) = logsumexp(beta z), has derivative
dA/dbeta = sum_k z_k exp(beta z_k) / sum_j exp(beta z_j) = E_p[z]: the mean of
the logits under softmax(beta z), which tends to the plain average of z as
beta -> 0 and to max z as beta -> oo.

sympy takes the limits (for general z at beta -> 0, for these logits and
a tie at beta -> oo) and proves the derivative. The numeric side is
``expfam.softmax(z, beta=...)``.
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Interval, Logits, logsumexp, softmax

SEED_004 = tuple(sympy.Rational(t) for t in ("0.95", "0.99", "0.98"))
SEED_002 = tuple(sympy.Rational(t) for t in ("0.1", "-2.0", "3.4", "3.3"))


def as_floats(values) -> np.ndarray:
    return np.array([float(v) for v in values])


def checks():
    beta = sympy.Symbol("beta", positive=True)
    for k in (2, 3, 5):
        z = sympy.symbols(f"z1:{k + 1}", real=True)
        partition = logsumexp([beta * t for t in z])
        mean_logit = sum(t * p for t, p in zip(z, softmax([beta * t for t in z]), strict=True))
        yield Check(
            name=f"uniform_limit_k{k}",
            claim="softmax(beta z) -> (1/K, ..., 1/K) as beta -> 0",
            args=[Arg(z, Logits())],
            derived=softmax([beta * t for t in z]).applyfunc(lambda e: sympy.limit(e, beta, 0)),
            closed_form=sympy.Matrix([sympy.Rational(1, k)] * k),
            numeric=lambda z: expfam.softmax(z, beta=1e-300),
            rtol=1e-15,
            atol=1e-15,
        )
        yield Check(
            name=f"partition_slope_k{k}",
            claim="d/dbeta logsumexp(beta z) = softmax(beta z) . z",
            args=[Arg(z, Logits()), Arg(beta, Interval(0.0, 20.0, (1e-8, 1.0, 500.0)))],
            derived=sympy.diff(partition, beta),
            closed_form=mean_logit,
            numeric=lambda z, beta: expfam.softmax(z, beta=beta) @ z,
            rtol=1e-11,
            atol=1e-13,
        )
        yield Check(
            name=f"slope_at_zero_k{k}",
            claim="d/dbeta logsumexp(beta z) at beta -> 0 is the average of z",
            args=[Arg(z, Logits())],
            derived=sympy.limit(mean_logit, beta, 0),
            closed_form=sum(z) / k,
        )

    for name, z, limit in (
        ("argmax_limit_seed004", SEED_004, (0, 1, 0)),
        ("argmax_ties_share", (1, 1, sympy.Rational(1, 2)), (sympy.S.Half, sympy.S.Half, 0)),
    ):
        yield Check(
            name=name,
            claim=f"softmax(beta z) -> {tuple(limit)} as beta -> oo, z = {tuple(z)}",
            args=[],
            derived=softmax([beta * t for t in z]).applyfunc(
                lambda e: sympy.limit(e, beta, sympy.oo)
            ),
            closed_form=sympy.Matrix(limit),
            numeric=lambda z=z: expfam.softmax(as_floats(z), beta=1e5),
            rtol=1e-15,
            atol=1e-300,
        )
    for name, z, b in (
        ("seed004_beta1", SEED_004, 1),
        ("seed004_beta500", SEED_004, 500),
        ("seed002_times10", SEED_002, 10),
    ):
        yield Check(
            name=name,
            claim=f"softmax({b} z) at z = {tuple(float(t) for t in z)}, exactly",
            args=[],
            derived=softmax([b * t for t in z]),
            numeric=lambda z=z, b=b: expfam.softmax(as_floats(z), beta=b),
            rtol=1e-13,
        )
