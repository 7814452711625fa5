"""The Hessian of logsumexp is the Fisher metric and the covariance of the one-hot statistic.

The categorical family in logits coordinates is p(k | z) = exp(z_k - A(z))
with sufficient statistic T(k) = e_k (one-hot) and log-partition
A(z) = logsumexp(z). Differentiating A once gives the mean, grad A = p =
E[T]; differentiating again gives the Jacobian of softmax (derivation 01),
hess A = diag(p) - p p^T. Enumerating the K outcomes,
Cov[T] = sum_k p_k e_k e_k^T - p p^T = diag(p) - p p^T as well, and the
Fisher metric E[grad log p(k|z) grad log p(k|z)^T] = E[(e_k - p)(e_k - p)^T]
is the same matrix: for an exponential family the three coincide.

sympy derives the Hessian of A and the enumerated covariance and Fisher
metric for K = 2, ..., 6 and proves them equal to diag(p) - p p^T. The
numeric side is the Fisher-vector product F v = p * v - p (p . v) of
``expfam.Categorical.fisher_vp`` in logits coordinates (O(K), never the
K x K matrix), compared at random and extreme logits with sympy's hess A v,
and the dense ``Categorical.fisher("logits")`` at K <= 4. The closed form,
once proved, is also evaluated at K = 32, written with O(K) terms.
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Logits, Reals, logsumexp, softmax


def fisher_vp(logits: np.ndarray, v: np.ndarray) -> np.ndarray:
    """F v = p * v - p (p . v) with p = softmax(logits)."""
    return expfam.Categorical(logits=logits).fisher_vp(v, coords="logits")


def dense_fisher(logits: np.ndarray) -> np.ndarray:
    """The dense Fisher metric diag(p) - p p^T in logits coordinates."""
    return expfam.Categorical(logits=logits).fisher("logits")


def checks():
    for k in range(2, 7):
        z = sympy.symbols(f"z1:{k + 1}", real=True)
        v = sympy.Matrix(sympy.symbols(f"v1:{k + 1}", real=True))
        p = softmax(z)
        closed = sympy.diag(*p) - p * p.T
        hessian = sympy.hessian(logsumexp(z), z)
        basis = [sympy.eye(k)[:, i] for i in range(k)]
        second_moment = sum((p[i] * basis[i] * basis[i].T for i in range(k)), sympy.zeros(k))
        covariance = second_moment - p * p.T
        score = [basis[i] - p for i in range(k)]  # grad_z log p(i | z)
        fisher = sum((p[i] * score[i] * score[i].T for i in range(k)), sympy.zeros(k))
        yield Check(
            name=f"hessian_k{k}",
            claim="hess logsumexp(z) = diag(p) - p p^T",
            args=[Arg(z, Logits())],
            derived=hessian,
            closed_form=closed,
            numeric=dense_fisher if k <= 4 else None,
            rtol=1e-13,
            atol=1e-15,  # p - p^2 on the diagonal cancels where one class dominates
        )
        yield Check(
            name=f"covariance_k{k}",
            claim="Cov[one-hot T] = E[T T^T] - p p^T = hess logsumexp",
            args=[Arg(z, Logits())],
            derived=covariance,
            closed_form=hessian,
        )
        yield Check(
            name=f"fisher_k{k}",
            claim="E[score score^T] = hess logsumexp",
            args=[Arg(z, Logits())],
            derived=fisher,
            closed_form=hessian,
        )
        yield Check(
            name=f"fisher_vp_k{k}",
            claim="hess A v = p * v - p (p . v), O(K)",
            args=[Arg(z, Logits()), Arg(v, Reals())],
            derived=hessian * v,
            closed_form=closed * v,
            numeric=fisher_vp,
            rtol=1e-12,
            atol=1e-14,
        )

    k = 32
    z = sympy.symbols(f"z1:{k + 1}", real=True)
    v = sympy.symbols(f"v1:{k + 1}", real=True)
    p = softmax(z)
    p_dot_v = sum(p[i] * v[i] for i in range(k))
    yield Check(
        name=f"fisher_vp_k{k}",
        claim=f"p * v - p (p . v) at K = {k} (the closed form proved above)",
        args=[Arg(z, Logits()), Arg(v, Reals())],
        derived=sympy.Matrix([p[i] * (v[i] - p_dot_v) for i in range(k)]),
        numeric=fisher_vp,
        rtol=1e-12,
        atol=1e-14,
        points=30,
    )
