"""What every exponential family has, written once.

An exponential family has densities ``p(x) = h(x) exp(theta . T(x) - A(theta))``
with natural parameters ``theta``, sufficient statistic ``T``, base measure
``h`` and log-partition ``A``. A concrete family supplies the primitives

- ``natural`` (theta, shape (..., d)) and ``mean`` (eta = E[T(x)] = grad A(theta), (..., d)),
- ``from_natural`` and ``from_mean`` (the inverse mean map),
- ``sufficient_statistic(x)``, ``log_base_measure(x)``,
- ``log_partition()`` and ``fisher_vp(v)`` (the Hessian-vector product of A),

and :class:`ExponentialFamily` derives the rest generically: log-density,
dual potential, entropy, cross-entropy, KL divergence as the Bregman
divergence of A, the dense Fisher information, and the natural gradient.
A family may override a generic method with a closed form; the tests hold the
closed form against the generic one.

Shapes: a distribution has a batch shape ``(...)``; its parameters have shape
``(..., d)``; scalar-valued methods return shape ``(...)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ExponentialFamily"]


def as_float_array(value: ArrayLike, name: str, *, min_ndim: int = 0) -> NDArray:
    """Return ``value`` as a read-only floating array, validating dtype and dimension.

    Integers and bools promote to float64; floating dtypes are kept. Raises
    TypeError for non-numeric input and ValueError (naming ``name``) for NaN or
    fewer than ``min_ndim`` axes.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    array = np.array(array, dtype=array.dtype if array.dtype.kind == "f" else np.float64)
    if array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} axis, got shape {array.shape}")
    if np.any(np.isnan(array)):
        raise ValueError(f"{name} must not contain NaN, got {array}")
    array.flags.writeable = False
    return array


def dot(a: NDArray, b: NDArray) -> NDArray:
    """Inner product over the last axis, broadcasting over the leading ones."""
    return np.sum(a * b, axis=-1)


class ExponentialFamily(ABC):
    """Abstract base of the exponential families; declares the primitives, derives the rest.

    Subclasses are frozen dataclasses holding their parameters in one
    coordinate system and converting lazily (cached) to the others.
    """

    # ----------------------------------------------------------------- primitives
    @property
    @abstractmethod
    def natural(self) -> NDArray:
        """Natural parameters theta, shape (..., d)."""

    @property
    @abstractmethod
    def mean(self) -> NDArray:
        """Expectation parameters eta = E[T(x)] = grad A(theta), shape (..., d)."""

    @classmethod
    @abstractmethod
    def from_natural(cls, natural: ArrayLike) -> Self:
        """The distribution with natural parameters ``natural``, shape (..., d)."""

    @classmethod
    @abstractmethod
    def from_mean(cls, mean: ArrayLike) -> Self:
        """The distribution with expectation parameters ``mean`` (the inverse mean map)."""

    @abstractmethod
    def sufficient_statistic(self, x: ArrayLike) -> NDArray:
        """T(x), shape (..., d) for observations of the family's support."""

    @abstractmethod
    def log_base_measure(self, x: ArrayLike) -> NDArray:
        """log h(x), shape (...)."""

    @abstractmethod
    def log_partition(self) -> NDArray:
        """A(theta) = log of the normalizer, shape (...)."""

    @abstractmethod
    def fisher_vp(self, v: ArrayLike) -> NDArray:
        """Fisher-vector product F(theta) v = Hess A(theta) v in natural coordinates, (..., d)."""

    def expected_log_base_measure(self) -> NDArray:
        """E[log h(x)], shape (...). Zero here: families with a non-constant h override it."""
        return np.zeros(self.batch_shape)

    # ----------------------------------------------------------------- derived
    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The batch shape ``(...)`` of the parameters."""
        return self.natural.shape[:-1]

    @property
    def dim(self) -> int:
        """Dimension d of the natural (and expectation) parameters."""
        return self.natural.shape[-1]

    def log_prob(self, x: ArrayLike) -> NDArray:
        """Log-density ``theta . T(x) - A(theta) + log h(x)``, shape (...)."""
        return (
            dot(self.natural, self.sufficient_statistic(x))
            - self.log_partition()
            + self.log_base_measure(x)
        )

    def dual_potential(self) -> NDArray:
        """Legendre dual of A: ``phi(eta) = theta . eta - A(theta)``, shape (...).

        Notes
        -----
        ``A(theta) + phi(eta) = theta . eta`` (the Legendre identity) and
        ``grad phi(eta) = theta``. With a constant base measure ``h = 1``,
        ``phi`` is the negative entropy.
        """
        return dot(self.natural, self.mean) - self.log_partition()

    def entropy(self) -> NDArray:
        """Entropy ``H = A(theta) - theta . eta - E[log h(x)] = -phi(eta) - E[log h]``."""
        return -self.dual_potential() - self.expected_log_base_measure()

    def cross_entropy(self, other: Self) -> NDArray:
        """Cross-entropy ``H(self, other) = -E_self[log other(x)]``, shape (...).

        Notes
        -----
        ``H(p, q) = A(theta_q) - theta_q . eta_p - E_p[log h(x)]``.
        """
        self._check_same_family(other)
        return (
            other.log_partition()
            - dot(other.natural, self.mean)
            - self.expected_log_base_measure()
        )

    def kl(self, other: Self) -> NDArray:
        """KL divergence ``KL(self || other)`` as the Bregman divergence of A, shape (...).

        Notes
        -----
        ``KL(p || q) = A(theta_q) - A(theta_p) - (theta_q - theta_p) . eta_p``,
        clipped at 0 against rounding (the divergence of a convex function is >= 0).
        """
        self._check_same_family(other)
        bregman = (
            other.log_partition()
            - self.log_partition()
            - dot(other.natural - self.natural, self.mean)
        )
        return np.maximum(bregman, 0.0)

    def fisher(self) -> NDArray:
        """Dense Fisher information ``Hess A(theta)`` in natural coordinates, (..., d, d).

        Built column by column from :meth:`fisher_vp`; O(d^2) memory, so only
        when asked for explicitly.
        """
        basis = np.eye(self.dim, dtype=self.natural.dtype)
        return np.stack([self.fisher_vp(e) for e in basis], axis=-1)

    def natural_gradient(self, g: ArrayLike) -> NDArray:
        """Natural gradient ``F(theta)^-1 g`` in natural coordinates, shape (..., d).

        Generic dense solve, O(d^3); families with structure override it with
        an O(d) formula.
        """
        g = np.asarray(g, dtype=self.natural.dtype)
        fisher = self.fisher()
        g = np.broadcast_to(g, fisher.shape[:-1])
        return np.linalg.solve(fisher, g[..., None])[..., 0]

    def _check_same_family(self, other: object) -> None:
        if type(other) is not type(self):
            raise TypeError(f"other must be a {type(self).__name__}, got {type(other).__name__}")
