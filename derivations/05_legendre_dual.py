"""The Legendre dual of logsumexp, in minimal coordinates, is the negative entropy.

Fix the last class as reference. The minimal natural coordinates are
theta_i = z_i - z_K = log(p_i / p_K), i < K, and the log-partition becomes
psi(theta) = log(1 + sum_i exp(theta_i)), strictly convex. Its gradient is
the mean map, eta_i = d psi / d theta_i = exp(theta_i) / (1 + sum_j exp(theta_j))
= p_i, the first K - 1 probabilities: the expectation coordinates.

The Legendre dual phi(eta) = sup_theta (theta . eta - psi(theta)) is attained
where grad psi(theta) = eta, so phi(eta) = theta . eta - psi(theta) there;
with theta_i = log p_i - log p_K and psi = -log p_K this is
sum_i p_i log p_i - (sum_i p_i) log p_K - log p_K = sum_k p_k log p_k:
the negative entropy. Written in eta alone,
phi(eta) = sum_i eta_i log eta_i + (1 - sum_i eta_i) log(1 - sum_i eta_i), and
its gradient log(eta_i / (1 - sum eta)) = theta_i inverts the mean map. The
identity psi(theta) + phi(eta) = theta . eta holds at dual points.

sympy derives grad psi, phi(grad psi(theta)), grad phi(eta) and the round
trip grad phi(grad psi(theta)) = theta for K = 2, ..., 5 and proves each
closed form. The numeric side: ``expfam.softmax`` of (theta, 0) for the mean
map, ``-expfam.entropy`` of (theta, 0) for phi, and
``expfam.Categorical.from_mean(eta).natural`` for the inverse mean map.
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Logits, Simplex


def with_reference(theta: np.ndarray) -> np.ndarray:
    """Logits (theta, 0): the minimal coordinates with the reference class appended."""
    return np.append(theta, 0.0)


def natural_from_mean(eta: np.ndarray) -> np.ndarray:
    """theta_i = log(eta_i / eta_K) with eta_K = 1 - sum(eta)."""
    return expfam.Categorical.from_mean(eta).natural


def checks():
    for k in range(2, 6):
        theta = sympy.symbols(f"theta1:{k}", real=True)
        eta = sympy.symbols(f"eta1:{k}", positive=True)
        psi = sympy.log(1 + sum(sympy.exp(t) for t in theta))
        mean = sympy.Matrix([sympy.diff(psi, t) for t in theta])
        p = [*mean, 1 / (1 + sum(sympy.exp(t) for t in theta))]  # p_K = exp(0) / S
        eta_k = 1 - sum(eta)
        phi = sum(e * sympy.log(e) for e in eta) + eta_k * sympy.log(eta_k)
        grad_phi = sympy.Matrix([sympy.diff(phi, e) for e in eta])
        at_dual = dict(zip(eta, mean, strict=True))
        yield Check(
            name=f"mean_map_k{k}",
            claim="grad psi(theta) = softmax((theta, 0))[:K-1]",
            args=[Arg(theta, Logits())],
            derived=mean,
            closed_form=sympy.Matrix(
                [sympy.exp(t) / (1 + sum(sympy.exp(s) for s in theta)) for t in theta]
            ),
            numeric=lambda theta: expfam.softmax(with_reference(theta))[:-1],
            batch=False,  # written for one point
            rtol=1e-13,
        )
        yield Check(
            name=f"dual_is_negative_entropy_k{k}",
            claim="psi(theta) + phi(eta) = theta . eta, phi = sum p log p (-expfam.entropy)",
            args=[Arg(theta, Logits())],
            derived=sum(q * sympy.log(q) for q in p),
            closed_form=sum(t * m for t, m in zip(theta, mean, strict=True)) - psi,
            numeric=lambda theta: -expfam.entropy(with_reference(theta)),
            rtol=1e-12,
            atol=1e-15,
        )
        yield Check(
            name=f"grad_dual_k{k}",
            claim="grad phi(eta) = log(eta_i / eta_K) = theta",
            args=[Arg(eta, Simplex())],
            derived=grad_phi,
            closed_form=sympy.Matrix([sympy.log(e) - sympy.log(eta_k) for e in eta]),
            numeric=natural_from_mean,
            rtol=1e-12,
            atol=1e-13,
        )
        yield Check(
            name=f"round_trip_k{k}",
            claim="grad phi(grad psi(theta)) = theta: the two gradients are inverse",
            args=[Arg(theta, Logits())],
            derived=grad_phi.subs(at_dual),
            closed_form=sympy.Matrix(theta),
        )
