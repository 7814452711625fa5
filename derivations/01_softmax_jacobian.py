"""The Jacobian of softmax is diag(p) - p p^T.

With p_i = exp(z_i) / S and S = sum_k exp(z_k), the quotient rule gives, for
i = j, dp_i/dz_i = (S exp(z_i) - exp(z_i)^2) / S^2 = p_i (1 - p_i), and for
i != j, dp_i/dz_j = -exp(z_i) exp(z_j) / S^2 = -p_i p_j. In matrix form the
Jacobian is diag(p) - p p^T. It is symmetric, its
rows sum to 0 (1 is its null vector: adding a constant to every logit does
not move p), and it is the Fisher metric of the categorical family.

sympy differentiates the softmax written from its definition and proves the
closed form for K = 2, ..., 6. Nobody should build the K x K matrix to apply
it: the Jacobian-vector product is J v = p * v - p (p . v), O(K). Since J is
the Fisher metric in logits coordinates, that product is
``expfam.Categorical(logits=z).fisher_vp(v, coords="logits")``; it is
compared with sympy's J v at random and extreme logits, and at directions
including 1 (where J v = 0).
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Logits, Reals, softmax


def softmax_jvp(logits: np.ndarray, v: np.ndarray) -> np.ndarray:
    """J v = p * v - p (p . v) with p = softmax(logits), in O(K)."""
    return expfam.Categorical(logits=logits).fisher_vp(v, coords="logits")


def checks():
    for k in range(2, 7):
        z = sympy.symbols(f"z1:{k + 1}", real=True)
        v = sympy.symbols(f"v1:{k + 1}", real=True)
        p = softmax(z)
        jacobian = p.jacobian(z)
        closed = sympy.diag(*p) - p * p.T
        yield Check(
            name=f"jacobian_k{k}",
            claim="d softmax(z)/dz = diag(p) - p p^T",
            args=[Arg(z, Logits())],
            derived=jacobian,
            closed_form=closed,
        )
        yield Check(
            name=f"jvp_k{k}",
            claim="J v = p * v - p (p . v) (Categorical.fisher_vp, logits)",
            args=[Arg(z, Logits()), Arg(v, Reals())],
            derived=jacobian * sympy.Matrix(v),
            closed_form=closed * sympy.Matrix(v),
            numeric=softmax_jvp,
            rtol=1e-12,
            atol=1e-14,  # J v cancels: entries are errors relative to |v|
        )
