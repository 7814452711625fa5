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
from functools import cached_property
from typing import Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam._core.args import scalar

__all__ = ["ExponentialFamily"]


class frozen_cached_property(cached_property):
    """A ``cached_property`` whose array is made read-only: a distribution is immutable.

    ``G = d.probs; G[y] -= 1`` (the log-loss gradient formed in place) raises
    instead of changing ``d``.
    """

    def __get__(self, instance, owner=None):
        value = super().__get__(instance, owner)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
        return value


_OTHER_ARRAY_LIBRARIES = frozenset({"torch", "jax", "jaxlib", "cupy", "dask", "array_api_strict"})


def as_float_array(value: ArrayLike, name: str, *, min_ndim: int = 0) -> NDArray:
    """Return ``value`` as a read-only floating array, validating dtype and dimension.

    Integers and bools promote to float64; floating dtypes are kept. Raises
    TypeError for non-numeric input and for the arrays of other libraries (the
    families are numpy-only: a torch tensor converted here would lose its
    device and its gradient), and ValueError (naming ``name``) for NaN or
    fewer than ``min_ndim`` axes.
    """
    library = type(value).__module__.partition(".")[0]
    if library in _OTHER_ARRAY_LIBRARIES:
        raise TypeError(
            f"{name}: expected a numpy array (the families are numpy-only), got a {library} "
            f"array; the kernels (expfam.softmax, expfam.geometry, ...) take {library} arrays"
        )
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real numeric array, got dtype {array.dtype}")
    array = np.array(array, dtype=array.dtype if array.dtype.kind == "f" else np.float64)
    if array.ndim < min_ndim:
        raise ValueError(f"{name}: expected at least {min_ndim} axis, got shape {array.shape}")
    if np.any(np.isnan(array)):
        raise ValueError(f"{name}: expected no NaN, got {array}")
    array.flags.writeable = False
    return array


def default_atol(dtype: np.dtype) -> float:
    """Tolerance on ``sum(probs) == 1``: the square root of the dtype's machine epsilon."""
    return float(np.sqrt(np.finfo(dtype).eps))


def check_probability_vector(p: NDArray, name: str, atol: float | None, complete: bool) -> None:
    """Raise ValueError unless ``p >= 0`` and ``sum(p)`` is 1 (or <= 1 if not ``complete``)."""
    if np.any(p < 0) or np.any(np.isinf(p)):
        raise ValueError(f"{name} must be finite and >= 0, got {p}")
    tol = default_atol(p.dtype) if atol is None else atol
    total = np.sum(p, axis=-1)
    bad = np.abs(total - 1) > tol if complete else total > 1 + tol
    if np.any(bad):
        relation = "sum to 1" if complete else "sum to at most 1"
        raise ValueError(f"{name} must {relation} within atol={tol:g}, got sums {total[bad]}")


def seed_cache(obj: object, **values: NDArray) -> None:
    """Store already-known coordinates in the lazy (cached_property) slots of ``obj``."""
    for name, value in values.items():
        value.flags.writeable = False
        obj.__dict__[name] = value


def as_vector(v: ArrayLike, name: str, size: int, dtype: np.dtype) -> NDArray:
    """Return ``v`` as a finite array of ``dtype`` with ``size`` entries on its last axis."""
    array = np.asarray(v)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got {v!r}")
    v = array.astype(dtype)
    if v.ndim == 0 or v.shape[-1] != size:
        raise ValueError(f"{name} must have {size} entries on its last axis, got shape {v.shape}")
    if np.any(~np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def keyword_error(
    cls: type, stored: str, given: dict[str, object], *, positional: bool = False
) -> TypeError:
    """The TypeError for a constructor called with other coordinates than ``stored``.

    Points to the named constructor when there is one (``probs=`` ->
    ``from_probs``), so that probabilities are never read as logits; a
    positional argument is refused for the same reason.
    """
    if positional:
        return TypeError(
            f"{cls.__name__}: expected the keyword {stored}=..., got a positional argument "
            f"(by keyword only, so that probabilities are never read as {stored})"
        )
    if not given:
        return TypeError(f"{cls.__name__}: expected the keyword {stored}=..., got none")
    name = next(iter(given))
    hint = f"; use {cls.__name__}.from_{name}({name})" if hasattr(cls, f"from_{name}") else ""
    return TypeError(f"{cls.__name__}: expected the keyword {stored}=..., got {name}=...{hint}")


def check_coords(coords: object, family: str) -> None:
    """Raise ValueError naming ``coords`` unless it is ``"natural"``."""
    if not (isinstance(coords, str) and coords == "natural"):
        raise ValueError(
            f"coords: a {family}'s Fisher geometry is in its natural coordinates, "
            f"coords='natural'; got {coords!r}"
        )


def temper(values: NDArray, beta: NDArray, axis: int | tuple[int, ...] = -1) -> NDArray:
    r"""Tempered log-weights ``beta * values``, shifted by the maximum along ``axis``.

    .. math::

        \beta \, (v - \max_k v_k),

    which equals ``beta * values`` up to a constant per row (what a softmax
    ignores), with the limits a formula of floats misses: ``beta = inf`` gives
    0 at the maxima and ``-inf`` elsewhere (the argmax), ``beta = 0`` gives 0
    everywhere (``L**0 = 1``, also for ``L = 0``), and the product never
    overflows to a spurious value or warns: ``-inf`` is the rounding of a
    weight below ``exp(-1.8e308)``. ``beta`` broadcasts against ``values``.

    Examples
    --------
    >>> temper(np.array([0.0, 1e307]), np.float64(100.0))
    array([-inf,   0.])
    >>> temper(np.array([1.0, 3.0, 3.0]), np.float64(np.inf))
    array([-inf,   0.,   0.])
    """
    with np.errstate(over="ignore", invalid="ignore"):
        top = np.max(values, axis=axis, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        shifted = values - top
        out = beta * shifted
        # values - top beyond the float range: beta * values - beta * top may still be finite
        lost = np.isneginf(shifted) & np.isfinite(values)
        out = np.where(lost, beta * values - beta * top, out)
    out = np.where(shifted == 0, 0.0, out)  # inf * 0 at the maxima
    return np.where(beta == 0, 0.0, out)  # 0 * -inf


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
        """The distribution with natural parameters ``natural``, shape (..., d).

        Parameters
        ----------
        natural : array_like, shape (..., d)
            Natural parameters theta of the family.

        Returns
        -------
        ExponentialFamily
            The distribution of that family with these natural parameters.
        """

    @classmethod
    @abstractmethod
    def from_mean(cls, mean: ArrayLike) -> Self:
        """The distribution with expectation parameters ``mean`` (the inverse mean map).

        Parameters
        ----------
        mean : array_like, shape (..., d)
            Expectation parameters ``eta = E[T(x)]``, in the interior of the
            family's mean domain.

        Returns
        -------
        ExponentialFamily
            The distribution with ``grad A(theta) = mean``.
        """

    @abstractmethod
    def sufficient_statistic(self, x: ArrayLike) -> NDArray:
        """The sufficient statistic ``T(x)`` of observations of the family's support.

        Parameters
        ----------
        x : array_like
            Observations in the family's own layout (class indices, outcomes
            or points of the simplex), broadcasting with the batch shape.

        Returns
        -------
        ndarray, shape (..., d)
            ``T(x)``, the vector that pairs with the natural parameters in
            ``theta . T(x)``.
        """

    @abstractmethod
    def log_base_measure(self, x: ArrayLike) -> NDArray:
        """The log base measure ``log h(x)`` of observations.

        Parameters
        ----------
        x : array_like
            Observations in the family's own layout, as for
            :meth:`sufficient_statistic`.

        Returns
        -------
        ndarray, shape (...)
            ``log h(x)``, broadcast with the batch shape.
        """

    @abstractmethod
    def log_partition(self) -> NDArray:
        r"""The log-partition ``A(theta)``, the log of the normalizer.

        .. math::

            A(\theta) = \log \int h(x) \, e^{\theta \cdot T(x)} \, dx

        (a sum over the support for a discrete family).

        Returns
        -------
        ndarray, shape (...)
            ``A(theta)`` for each distribution of the batch.
        """

    @abstractmethod
    def fisher_vp(self, v: ArrayLike) -> NDArray:
        r"""Fisher-vector product ``F(theta) v = Hess A(theta) v`` in natural coordinates.

        .. math::

            F(\theta) \, v = \nabla^2 A(\theta) \, v

        Parameters
        ----------
        v : array_like, shape (..., d)
            A tangent vector in natural coordinates, broadcasting with the batch.

        Returns
        -------
        ndarray, shape (..., d)
            ``F(theta) v``.
        """

    def expected_log_base_measure(self) -> NDArray:
        """The expected log base measure ``E[log h(x)]`` under the distribution.

        Zero here (``h = 1``): families with a non-constant ``h`` override it.

        Returns
        -------
        ndarray, shape (...)
            ``E[log h(x)]``, zeros of the batch shape in the natural
            parameters' dtype.
        """
        return np.zeros(self.batch_shape, dtype=self.natural.dtype)

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
        r"""Log-density ``theta . T(x) - A(theta) + log h(x)``, shape (...).

        .. math::

            \log p(x) = \theta \cdot T(x) - A(\theta) + \log h(x)

        Parameters
        ----------
        x : array_like
            Observations of the family's support, in its own layout
            (as for :meth:`sufficient_statistic`).

        Returns
        -------
        ndarray, shape (...)
            The log-density, broadcast with the batch shape; a numpy scalar
            for a single observation of an unbatched distribution.
        """
        return scalar(
            np.asarray(
                dot(self.natural, self.sufficient_statistic(x))
                - self.log_partition()
                + self.log_base_measure(x)
            )
        )

    def dual_potential(self) -> NDArray:
        r"""Legendre dual of A: ``phi(eta) = theta . eta - A(theta)``, shape (...).

        .. math::

            \phi(\eta) = \theta \cdot \eta - A(\theta), \qquad \eta = \nabla A(\theta)

        Returns
        -------
        ndarray, shape (...)
            ``phi(eta)`` at the distribution's expectation parameters.

        Notes
        -----
        ``A(theta) + phi(eta) = theta . eta`` (the Legendre identity) and
        ``grad phi(eta) = theta``. With a constant base measure ``h = 1``,
        ``phi`` is the negative entropy.
        """
        return dot(self.natural, self.mean) - self.log_partition()

    def entropy(self) -> NDArray:
        r"""Entropy ``H = A(theta) - theta . eta - E[log h(x)] = -phi(eta) - E[log h]``.

        .. math::

            H = -\mathbb{E}[\log p(x)] = A(\theta) - \theta \cdot \eta
            - \mathbb{E}[\log h(x)] = -\phi(\eta) - \mathbb{E}[\log h(x)]

        Returns
        -------
        ndarray, shape (...)
            The entropy in nats (differential for a density).
        """
        return -self.dual_potential() - self.expected_log_base_measure()

    def cross_entropy(self, other: Self) -> NDArray:
        r"""Cross-entropy ``H(self, other) = -E_self[log other(x)]``, shape (...).

        .. math::

            H(p, q) = -\mathbb{E}_p[\log q(x)]
            = A(\theta_q) - \theta_q \cdot \eta_p - \mathbb{E}_p[\log h(x)]

        Parameters
        ----------
        other : ExponentialFamily
            ``q``: a distribution of the same family and dimension, whose
            batch shape broadcasts with this one's.

        Returns
        -------
        ndarray, shape (...)
            ``H(self, other)`` in nats, over the broadcast batch shape.
        """
        self._check_other(other)
        return (
            other.log_partition()
            - dot(other.natural, self.mean)
            - self.expected_log_base_measure()
        )

    def kl(self, other: Self) -> NDArray:
        r"""KL divergence ``KL(self || other)`` as the Bregman divergence of A, shape (...).

        .. math::

            \mathrm{KL}(p \,\|\, q) = A(\theta_q) - A(\theta_p)
            - (\theta_q - \theta_p) \cdot \eta_p

        Parameters
        ----------
        other : ExponentialFamily
            ``q``: a distribution of the same family and dimension, whose
            batch shape broadcasts with this one's.

        Returns
        -------
        ndarray, shape (...)
            ``KL(self || other) >= 0`` in nats, over the broadcast batch shape.

        Notes
        -----
        Clipped at 0 against rounding (the Bregman divergence of a convex
        function is >= 0).
        """
        self._check_other(other)
        bregman = (
            other.log_partition()
            - self.log_partition()
            - dot(other.natural - self.natural, self.mean)
        )
        return np.maximum(bregman, 0.0)

    def fisher(self, coords: Literal["natural"] = "natural") -> NDArray:
        r"""Dense Fisher information ``Hess A(theta)`` in natural coordinates, (..., d, d).

        .. math::

            F(\theta) = \nabla^2 A(\theta) = \operatorname{Cov}[T(x)]

        Built column by column from :meth:`fisher_vp`; O(d^2) memory, so only
        when asked for explicitly.

        Parameters
        ----------
        coords : {"natural"}, optional
            The coordinates of the metric; only the natural ones here (any
            other value is a ValueError naming ``coords``).

        Returns
        -------
        ndarray, shape (..., d, d)
            The symmetric positive semi-definite Fisher matrix.
        """
        check_coords(coords, type(self).__name__)
        basis = np.eye(self.dim, dtype=self.natural.dtype)
        shape = (*self.batch_shape, self.dim)
        return np.stack([self.fisher_vp(np.broadcast_to(e, shape)) for e in basis], axis=-1)

    def natural_gradient(self, g: ArrayLike, coords: Literal["natural"] = "natural") -> NDArray:
        r"""Natural gradient ``F(theta)^-1 g`` in natural coordinates, shape (..., d).

        .. math::

            \tilde g = F(\theta)^{-1} g

        Generic dense solve, O(d^3); families with structure override it with
        an O(d) formula.

        Parameters
        ----------
        g : array_like, shape (..., d)
            A gradient with respect to the natural parameters; finite.
        coords : {"natural"}, optional
            The coordinates of ``g`` and of the result; only the natural ones
            here.

        Returns
        -------
        ndarray, shape (..., d)
            ``F(theta)^-1 g``, broadcast with the batch shape.
        """
        check_coords(coords, type(self).__name__)
        g = as_vector(g, "g", self.dim, self.natural.dtype)
        fisher = self.fisher()
        g = np.broadcast_to(g, fisher.shape[:-1])
        return np.linalg.solve(fisher, g[..., None])[..., 0]

    def _check_other(self, other: object) -> None:
        """Raise unless ``other`` is the same family, dimension, and a broadcastable batch."""
        name = type(self).__name__
        if type(other) is not type(self):
            raise TypeError(f"other: expected a {name}, got {type(other).__name__}")
        if other.dim != self.dim:
            # K, the number of classes, not the dimension K - 1 of the minimal coordinates
            mine, theirs = (getattr(d, "num_classes", d.dim) for d in (self, other))
            raise ValueError(f"other: expected a {name} over K = {mine} classes, got K = {theirs}")
        try:
            np.broadcast_shapes(self.batch_shape, other.batch_shape)
        except ValueError:
            raise ValueError(
                f"other: expected a batch shape that broadcasts with {self.batch_shape}, "
                f"got {other.batch_shape}"
            ) from None
