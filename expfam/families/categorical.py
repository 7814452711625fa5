"""The categorical family: softmax as the natural parameterization of the simplex.

Four coordinate systems, named everywhere by these words:

- ``logits`` z, shape (..., K): overcomplete natural parameters; z and z + c 1
  are the same distribution. ``-inf`` marks a class of probability 0.
- ``natural`` theta, shape (..., K-1): minimal natural parameters with the
  reference class last, ``theta_i = z_i - z_K = log(p_i / p_K)``.
- ``mean`` eta, shape (..., K-1): expectation parameters ``eta_i = p_i``, i < K.
- ``probs`` p, shape (..., K): the probabilities, ``p = softmax(z)``.

A :class:`Categorical` is built only by keyword or by a named constructor
(``Categorical(logits=z)``, ``Categorical.from_probs(p)``,
``Categorical.from_natural(theta)``, ``Categorical.from_mean(eta)``), so that
probabilities can never be passed where logits are expected by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam import special
from expfam._core.args import (
    RowLayout,
    as_rng,
    as_sample_shape,
    beta_array,
    declared_logits,
    is_index_target,
    scalar,
)
from expfam.families.family import (
    ExponentialFamily,
    as_float_array,
    as_vector,
    check_probability_vector,
    dot,
    frozen_cached_property,
    keyword_error,
    seed_cache,
    temper,
)

__all__ = ["Categorical"]

Coords = Literal["natural", "logits"]


@dataclass(frozen=True, init=False, eq=False)
class Categorical(ExponentialFamily):
    r"""Categorical distribution over K classes, batched: logits of shape (..., K).

    .. math::

        p_k = \operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}

    Parameters
    ----------
    *args
        Refused: a positional argument is a TypeError, so that probabilities
        are never read as logits.
    logits : array_like, shape (..., K), keyword-only
        Unnormalized log-probabilities, ``K >= 2``. ``-inf`` is a class of
        probability 0 (the boundary of the simplex); ``+inf``, NaN, and rows
        that are all ``-inf`` are rejected.
    **other
        Refused: another keyword is a TypeError that names the constructor
        to use instead (``probs=...`` points to :meth:`from_probs`).

    Notes
    -----
    Log-partition in logits coordinates ``logsumexp(z)``, in minimal natural
    coordinates ``psi(theta) = log(1 + sum_i exp(theta_i)) = -log p_K``. Mean
    map ``p = softmax(z)``; Fisher metric ``diag(p) - p p^T``. The logits are
    the one stored coordinate system; the others are computed from them on
    first use and cached (a named constructor also keeps the coordinates it
    was given, so ``from_probs(p).probs`` is ``p`` renormalized).

    Examples
    --------
    >>> d = Categorical(logits=[0.1, -2.0, 3.4, 3.3])
    >>> d.probs.round(8)
    array([0.01895101, 0.00232067, 0.51381199, 0.46491632])
    >>> round(float(-d.log_prob(2)), 8)
    0.66589785
    """

    logits: NDArray

    def __init__(self, *args: object, logits: ArrayLike | None = None, **other: object) -> None:
        if args or other or logits is None:
            raise keyword_error(type(self), "logits", other, positional=bool(args))
        object.__setattr__(self, "logits", logits)
        self.__post_init__()

    def __post_init__(self) -> None:
        logits = as_float_array(self.logits, "logits", min_ndim=1)
        if logits.shape[-1] < 2:
            raise ValueError(
                f"logits: expected K >= 2 classes on the last axis, got shape {logits.shape}"
            )
        if np.any(np.isposinf(logits)):
            raise ValueError(
                "logits: expected values < +inf (-inf marks an impossible class), got +inf"
            )
        if np.any(np.all(np.isneginf(logits), axis=-1)):
            raise ValueError(
                "logits: expected a finite entry in every row, got a row of -inf "
                "(it has no distribution)"
            )
        object.__setattr__(self, "logits", logits)

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_probs(cls, probs: ArrayLike, *, atol: float | None = None) -> Categorical:
        """Categorical from probabilities of shape (..., K).

        Parameters
        ----------
        probs : array_like, shape (..., K)
            Probabilities ``>= 0`` summing to 1 within ``atol``, ``K >= 2``;
            they are renormalized to sum to 1. Zeros become ``-inf`` logits.
        atol : float or None, optional, keyword-only
            Tolerance on the sums; default ``sqrt(eps)`` of the dtype (1.5e-8
            in float64, 3.5e-4 in float32).

        Returns
        -------
        Categorical
            Logits ``log p``; the renormalized ``probs`` are kept as :attr:`probs`.

        Examples
        --------
        >>> Categorical.from_probs([0.5, 0.25, 0.25]).natural
        array([0.69314718, 0.        ])
        """
        return cls._from_probs(probs, "probs", atol)

    @classmethod
    def _from_probs(cls, probs: ArrayLike, name: str, atol: float | None) -> Categorical:
        """:meth:`from_probs` with errors naming the caller's argument ``name``."""
        probs = as_float_array(probs, name, min_ndim=1)
        if probs.shape[-1] < 2:
            raise ValueError(
                f"{name} must have K >= 2 classes on the last axis, got {probs.shape}"
            )
        check_probability_vector(probs, name, atol, complete=True)
        probs = probs / np.sum(probs, axis=-1, keepdims=True)
        with np.errstate(divide="ignore"):
            dist = cls(logits=np.log(probs))
        seed_cache(dist, probs=probs)
        return dist

    @classmethod
    def from_natural(cls, natural: ArrayLike) -> Categorical:
        """Categorical from minimal natural parameters ``theta_i = log(p_i / p_K)``, (..., K-1).

        Parameters
        ----------
        natural : array_like, shape (..., K-1)
            ``theta``, values ``< +inf`` (``-inf`` is a class of probability 0).

        Returns
        -------
        Categorical
            Logits ``(theta, 0)``: the reference class last.

        Examples
        --------
        >>> Categorical.from_natural([0.0]).probs
        array([0.5, 0.5])
        """
        natural = as_float_array(natural, "natural", min_ndim=1)
        if natural.shape[-1] < 1:
            raise ValueError(
                f"natural must have K-1 >= 1 entries on the last axis, got {natural.shape}"
            )
        if np.any(np.isposinf(natural)):
            raise ValueError(f"natural must be < +inf, got {natural}")
        reference = np.zeros((*natural.shape[:-1], 1), dtype=natural.dtype)
        dist = cls(logits=np.concatenate([natural, reference], axis=-1))
        seed_cache(dist, natural=natural)
        return dist

    @classmethod
    def from_mean(cls, mean: ArrayLike, *, atol: float | None = None) -> Categorical:
        """Categorical from expectation parameters ``eta_i = p_i`` (i < K), shape (..., K-1).

        Parameters
        ----------
        mean : array_like, shape (..., K-1)
            ``eta``, ``>= 0`` with ``sum(mean) <= 1`` within ``atol``.
        atol : float or None, optional, keyword-only
            Tolerance on the sums, as in :meth:`from_probs`.

        Returns
        -------
        Categorical
            Probabilities ``(eta, max(1 - sum(eta), 0))``, renormalized.

        Examples
        --------
        >>> Categorical.from_mean([0.2, 0.3]).probs
        array([0.2, 0.3, 0.5])
        """
        mean = as_float_array(mean, "mean", min_ndim=1)
        if mean.shape[-1] < 1:
            raise ValueError(f"mean must have K-1 >= 1 entries on the last axis, got {mean.shape}")
        check_probability_vector(mean, "mean", atol, complete=False)
        last = np.maximum(1 - np.sum(mean, axis=-1, keepdims=True), 0)
        dist = cls.from_probs(np.concatenate([mean, last], axis=-1), atol=np.inf)
        seed_cache(dist, mean=mean)
        return dist

    # ------------------------------------------------------------ coordinates
    @frozen_cached_property
    def probs(self) -> NDArray:
        """Probabilities p = softmax(logits), shape (..., K)."""
        return special.softmax(self.logits)

    @frozen_cached_property
    def log_probs(self) -> NDArray:
        """Normalized log-probabilities log_softmax(logits), shape (..., K)."""
        return special.log_softmax(self.logits)

    @frozen_cached_property
    def natural(self) -> NDArray:
        """Minimal natural parameters ``theta_i = z_i - z_K = log(p_i / p_K)``, (..., K-1).

        They exist only where the reference class has ``p_K > 0``; otherwise
        ValueError.
        """
        self._check_reference()
        with np.errstate(over="ignore"):  # beyond the float range: +-inf, its rounding
            return self.logits[..., :-1] - self.logits[..., -1:]

    @frozen_cached_property
    def mean(self) -> NDArray:
        """Expectation parameters ``eta_i = p_i`` for i < K, shape (..., K-1)."""
        return self.probs[..., :-1]

    @property
    def num_classes(self) -> int:
        """K, the number of classes."""
        return self.logits.shape[-1]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The batch shape ``(...)``."""
        return self.logits.shape[:-1]

    @property
    def dim(self) -> int:
        """K - 1, the dimension of the minimal coordinates."""
        return self.num_classes - 1

    # ------------------------------------------------------------ primitives
    def sufficient_statistic(self, x: ArrayLike) -> NDArray:
        """One-hot of class indices without the reference class, shape (..., K-1).

        ``T(x)_i = [x = i]`` for ``i < K - 1``: the reference class K - 1 (the
        last) is all zeros.

        Parameters
        ----------
        x : array_like of int
            Class indices in ``[0, K)``, broadcasting with the batch shape.

        Returns
        -------
        ndarray, shape ``x.shape + (K-1,)``
            The one-hot rows, in the logits' dtype.

        Examples
        --------
        >>> Categorical(logits=[0.0, 0.0, 0.0]).sufficient_statistic([0, 2])
        array([[1., 0.],
               [0., 0.]])
        """
        x = self._check_classes(x)
        return (x[..., None] == np.arange(self.num_classes - 1)).astype(self.logits.dtype)

    def log_base_measure(self, x: ArrayLike) -> NDArray:
        """``log h(x) = 0`` for every class (counting measure), shape (...).

        Parameters
        ----------
        x : array_like of int
            Class indices in ``[0, K)``, broadcasting with the batch shape.

        Returns
        -------
        ndarray
            Zeros of the shape of ``x`` broadcast with the batch shape.
        """
        x = self._check_classes(x)
        return np.zeros(np.broadcast_shapes(x.shape, self.batch_shape), dtype=self.logits.dtype)

    def log_partition(self) -> NDArray:
        r"""``psi(theta) = log(1 + sum_i exp(theta_i)) = -log p_K``, shape (...).

        .. math::

            \psi(\theta) = \log\Big(1 + \sum_{i < K} e^{\theta_i}\Big) = -\log p_K

        In logits coordinates the log-partition is ``expfam.logsumexp(logits)``;
        the two agree when the logits are normalized to ``z_K = 0``.

        Returns
        -------
        ndarray, shape (...)
            ``-log_softmax(logits)[..., -1]``: ``+inf`` where ``p_K = 0``
            (the natural coordinates do not exist there).

        Examples
        --------
        >>> d = Categorical.from_probs([0.5, 0.25, 0.25])
        >>> round(float(d.log_partition()), 12)  # -log p_K = log 4
        1.38629436112
        """
        return -self.log_probs[..., -1]

    # ------------------------------------------------------------ closed forms
    def log_prob(self, x: ArrayLike) -> NDArray:
        """Log-probability of class indices, or expected log-probability of targets.

        Parameters
        ----------
        x : array_like
            Integer class indices in ``[0, K)``, shape broadcasting with the
            batch shape; or one-hot / soft targets (floats or bools ``>= 0``)
            with at least the logits' number of axes and K on the last (sample
            axes in front of the batch axes, as torch), giving ``sum_k x_k log
            p_k`` with ``0 log 0 = 0``. A float with fewer axes is an error:
            class indices are integers.

        Returns
        -------
        ndarray, shape (...)
            ``log p_x``; ``-inf`` for a class of probability 0. A numpy
            scalar for one class index of an unbatched distribution.

        Examples
        --------
        >>> Categorical.from_probs([0.5, 0.5, 0.0]).log_prob([0, 2])
        array([-0.69314718,        -inf])
        """
        x_array = np.asarray(x)
        if x_array.dtype.kind not in "biuf":
            raise TypeError(f"x: expected class indices or a target, got dtype {x_array.dtype}")
        values = x_array.dtype.kind in "fb" and x_array.ndim >= self.logits.ndim
        if not values and is_index_target(x_array, self.logits.ndim, "x"):
            x_array = self._check_classes(x_array)
            shape = np.broadcast_shapes(x_array.shape, self.batch_shape)
            log_probs = np.broadcast_to(self.log_probs, (*shape, self.num_classes))
            index = np.broadcast_to(x_array, shape)[..., None]
            return scalar(np.take_along_axis(log_probs, index, axis=-1)[..., 0])
        target = as_float_array(x_array, "x", min_ndim=1)
        if target.shape[-1] != self.num_classes or np.any(target < 0):
            raise ValueError(
                f"x: expected a target >= 0 with K = {self.num_classes} entries on the last "
                f"axis, got shape {target.shape}"
            )
        try:
            shape = np.broadcast_shapes(target.shape, self.logits.shape)
        except ValueError:
            raise ValueError(
                f"x: expected a target whose shape broadcasts with the logits' "
                f"{self.logits.shape}, got {target.shape}"
            ) from None
        with declared_logits():
            return -special.cross_entropy(
                np.broadcast_to(self.logits, shape), np.broadcast_to(target, shape)
            )

    def entropy(self) -> NDArray:
        r"""Entropy ``-sum_k p_k log p_k`` (``0 log 0 = 0``), shape (...).

        .. math::

            H(p) = -\sum_k p_k \log p_k

        Returns
        -------
        ndarray, shape (...)
            The entropy in nats, in ``[0, log K]``; computed from the logits by
            :func:`expfam.special.entropy`.

        Examples
        --------
        >>> float(Categorical.from_probs([0.5, 0.5, 0.0]).entropy())
        0.6931471805599453
        """
        with declared_logits():
            return special.entropy(self.logits)

    def dual_potential(self) -> NDArray:
        r"""``phi(eta) = sum_k p_k log p_k``, the negative entropy, shape (...).

        .. math::

            \phi(\eta) = \theta \cdot \eta - \psi(\theta) = \sum_k p_k \log p_k

        Returns
        -------
        ndarray, shape (...)
            ``-H(p)``, in ``[-log K, 0]``.
        """
        return -self.entropy()

    def cross_entropy(self, other: Categorical) -> NDArray:
        r"""``-sum_k p_k log q_k``; ``+inf`` where some ``q_k = 0 < p_k``. Shape (...).

        .. math::

            H(p, q) = -\sum_k p_k \log q_k

        Parameters
        ----------
        other : Categorical
            ``q``, over the same K classes, with a batch shape that broadcasts
            with this one's.

        Returns
        -------
        ndarray, shape (...)
            ``H(p, q)`` in nats (``0 log 0 = 0``), over the broadcast batch shape.

        Examples
        --------
        >>> p = Categorical.from_probs([0.5, 0.5])
        >>> float(p.cross_entropy(Categorical.from_probs([1.0, 0.0])))
        inf
        """
        self._check_other(other)
        shape = np.broadcast_shapes(self.logits.shape, other.logits.shape)
        with declared_logits():
            return special.cross_entropy(
                np.broadcast_to(other.logits, shape), np.broadcast_to(self.probs, shape)
            )

    def kl(self, other: Categorical) -> NDArray:
        r"""``KL(p || q) = sum_k p_k log(p_k / q_k)`` >= 0; ``+inf`` where ``q_k = 0 < p_k``.

        .. math::

            \mathrm{KL}(p \,\|\, q) = \sum_k p_k \log \frac{p_k}{q_k}

        Parameters
        ----------
        other : Categorical
            ``q``, over the same K classes, with a batch shape that broadcasts
            with this one's.

        Returns
        -------
        ndarray, shape (...)
            ``KL(p || q)`` in nats, over the broadcast batch shape, computed
            from the logits by :func:`expfam.special.kl_divergence`.

        Notes
        -----
        Equals the Bregman divergence of the log-partition,
        ``logsumexp(z_q) - logsumexp(z_p) - (z_q - z_p) . p``, in the interior.

        Examples
        --------
        >>> p, q = Categorical.from_probs([0.5, 0.5]), Categorical.from_probs([0.25, 0.75])
        >>> round(float(p.kl(q)), 12)
        0.143841036226
        """
        self._check_other(other)
        with declared_logits():
            return special.kl_divergence(self.logits, other.logits)

    # ------------------------------------------------------------ Fisher geometry
    def fisher(self, coords: Coords = "natural") -> NDArray:
        r"""Dense Fisher information, shape (..., K, K) or (..., K-1, K-1).

        .. math::

            F = \operatorname{diag}(p) - p p^T

        The diagonal ``p_k (1 - p_k)`` takes ``1 - p_k = -expm1(log p_k)``, so
        it keeps its relative accuracy when one class takes almost all the mass.

        Parameters
        ----------
        coords : {"natural", "logits"}
            ``"logits"``: ``diag(p) - p p^T``, rank K-1 with null vector 1.
            ``"natural"``: ``diag(p') - p' p'^T`` with ``p' = p[:K-1]``,
            invertible in the interior, inverse ``diag(1/p') + 1 1^T / p_K``.
            Natural coordinates need ``p_K > 0`` (else ValueError).

        Returns
        -------
        ndarray, shape (..., K, K) or (..., K-1, K-1)
            The symmetric positive semi-definite Fisher matrix.

        Examples
        --------
        >>> Categorical.from_probs([0.5, 0.5]).fisher("logits")
        array([[ 0.25, -0.25],
               [-0.25,  0.25]])
        """
        size = self._coords_size(coords)
        p = self.probs[..., :size]
        fisher = -p[..., :, None] * p[..., None, :]
        diagonal = np.arange(size)
        fisher[..., diagonal, diagonal] = p * -np.expm1(self.log_probs[..., :size])
        return fisher

    def fisher_vp(self, v: ArrayLike, coords: Coords = "natural") -> NDArray:
        r"""Fisher-vector product ``F v = p * v - p (p . v)`` in O(K).

        .. math::

            (F v)_k = p_k \, (v_k - p \cdot v)

        Classes of probability 0 give zero rows.

        Parameters
        ----------
        v : array_like, shape (..., K) or (..., K-1)
            A finite tangent vector: K entries on its last axis for
            ``coords="logits"``, K-1 for ``"natural"``; broadcasting with the
            batch shape.
        coords : {"natural", "logits"}, optional
            The coordinates of ``v`` and of the result.

        Returns
        -------
        ndarray, shape (..., K) or (..., K-1)
            ``F v``, in the coordinates of ``v``; it sums to 0 in logits
            coordinates.

        Notes
        -----
        Computed as ``p * (w - p . w)`` with ``w = v - v_m`` for the most
        probable class m (F annihilates 1, so the shift changes nothing
        mathematically): the term of class m then vanishes exactly instead of
        cancelling when ``p_m`` is close to 1. In natural coordinates
        ``F(theta)`` is the leading (K-1) x (K-1) block of ``F(z)``, so
        ``F(theta) v`` is ``F(z) (v, 0)`` without its last entry.

        Examples
        --------
        >>> Categorical.from_probs([0.5, 0.5]).fisher_vp([1.0, 0.0], coords="logits")
        array([ 0.25, -0.25])
        """
        size = self._coords_size(coords)
        v = as_vector(v, "v", size, self.logits.dtype)
        p = self.probs
        if size < self.num_classes:
            v = np.concatenate([v, np.zeros((*v.shape[:-1], 1), dtype=v.dtype)], axis=-1)
        v = np.broadcast_to(v, np.broadcast_shapes(v.shape, p.shape))
        top = np.take_along_axis(
            v, np.broadcast_to(self.mode()[..., None], (*v.shape[:-1], 1)), -1
        )
        w = v - top
        return (p * (w - dot(p, w)[..., None]))[..., :size]

    def natural_gradient(self, g: ArrayLike, coords: Coords = "natural") -> NDArray:
        r"""Natural gradient ``F^+ g`` in O(K) time and memory.

        .. math::

            \tilde g = F^{+} g

        Parameters
        ----------
        g : array_like, shape (..., K-1) or (..., K)
            A finite gradient in the chosen coordinates.
        coords : {"natural", "logits"}, optional
            The coordinates of ``g`` and of the result: K-1 entries for
            ``"natural"`` (which needs ``p_K > 0``), K for ``"logits"``.

        Returns
        -------
        ndarray, same shape as ``g`` broadcast with the batch
            The natural gradient ``F^+ g``: ``F^-1 g`` in natural coordinates,
            the Moore-Penrose solution (summing to 0) in logits coordinates;
            0 on classes of probability 0.

        Notes
        -----
        Natural coordinates: ``F^-1 g = g / p' + (sum g) / p_K``.

        Logits coordinates: F is singular along 1, and the Moore-Penrose
        solution is returned: the minimum-norm least-squares solution, which
        lies in the subspace orthogonal to 1 (it sums to 0). With
        ``g~ = g - mean(g)``: ``F^+ g = x - mean(x)`` where ``x = g~ / p``.
        A gradient of a function of the distribution already sums to 0.

        On the boundary (classes of probability 0) F has zero rows and
        columns; the pseudo-inverse acts on the support and returns 0 on the
        other classes (means are taken over the support).

        Examples
        --------
        >>> d = Categorical.from_probs([0.5, 0.25, 0.25])
        >>> d.natural_gradient(d.probs - [1.0, 0.0, 0.0], coords="logits")
        array([-1.33333333,  0.66666667,  0.66666667])
        """
        size = self._coords_size(coords)
        probs, log_p = self.probs, self.log_probs
        g = as_vector(g, "g", size, self.logits.dtype)
        support = log_p[..., :size] > -np.inf
        g = np.where(support, g, 0)

        def over_p(v: NDArray, k: slice) -> NDArray:
            # v / p; where p underflows (finite logit), sign(v) exp(log|v| - log p), which
            # is finite while the quotient is, and an honest +-inf beyond; no warnings.
            v, p, lp = np.broadcast_arrays(v, probs[..., k], log_p[..., k])
            with np.errstate(all="ignore"):
                out = v / p
                tiny = (p <= 1e-300) & (v != 0)
                if tiny.any():
                    out[tiny] = np.sign(v[tiny]) * np.exp(np.log(np.abs(v[tiny])) - lp[tiny])
                out[v == 0] = 0
            return out

        if coords == "natural":
            total = np.sum(g, axis=-1, keepdims=True)
            with np.errstate(invalid="ignore"):
                out = over_p(g, slice(0, size)) + over_p(total, slice(size, None))
            return np.where(support, out, 0)
        count = np.sum(support, axis=-1, keepdims=True).astype(g.dtype)
        centred_g = g - np.sum(g, axis=-1, keepdims=True) / count
        x = np.where(support, over_p(centred_g, slice(None)), 0)
        with np.errstate(invalid="ignore"):
            centred = np.where(np.isinf(x), x, x - np.sum(x, axis=-1, keepdims=True) / count)
        return np.where(support, centred, 0)

    # ------------------------------------------------------------ the rest
    def sample(
        self,
        sample_shape: int | tuple[int, ...] = (),
        rng: np.random.Generator | int | None = None,
    ) -> NDArray:
        r"""Class indices of shape ``sample_shape + batch_shape``, by the Gumbel-max trick.

        .. math::

            x = \operatorname{argmax}_k (z_k + G_k), \qquad G_k \sim \mathrm{Gumbel}(0, 1)

        with independent standard Gumbel noise; a class with logit ``-inf``
        is never drawn.

        Parameters
        ----------
        sample_shape : int or tuple of int, optional
            Leading shape of the draws (numpy's ``size``).
        rng : Generator, int or None, optional
            The random generator, or a seed.

        Returns
        -------
        ndarray of int, shape ``sample_shape + batch_shape``
            Class indices in ``[0, K)``.

        Examples
        --------
        >>> Categorical(logits=[0.0, -np.inf]).sample(4, rng=0)
        array([0, 0, 0, 0])
        """
        shape = as_sample_shape(sample_shape)
        gumbel = as_rng(rng).gumbel(size=(*shape, *self.logits.shape))
        return np.argmax(self.logits + gumbel, axis=-1)

    def mode(self) -> NDArray:
        """The most probable class (the first one on ties), shape (...).

        Returns
        -------
        ndarray of int, shape (...)
            ``argmax_k z_k``, the first such class on ties.

        Examples
        --------
        >>> Categorical(logits=[[0.0, 2.0, 2.0], [1.0, 0.0, 0.0]]).mode()
        array([1, 0])
        """
        return np.argmax(self.logits, axis=-1)

    def tempered(self, beta: ArrayLike) -> Categorical:
        r"""The distribution ``softmax(beta * z)`` at inverse temperature ``beta >= 0``.

        .. math::

            p_k(\beta) = \frac{e^{\beta z_k}}{\sum_j e^{\beta z_j}}

        ``beta = 0`` is the uniform distribution on the support (classes with
        ``-inf`` logits stay impossible); ``beta = inf`` is the uniform
        distribution on the most probable classes, the limit of large ``beta``.

        Parameters
        ----------
        beta : float or array_like
            Inverse temperature ``>= 0`` (``inf`` allowed). An array
            broadcasts with the batch shape (one per distribution, or a batch
            of temperatures for one), or against the logits with length 1 on
            the class axis, as ``softmax(beta=...)``.

        Returns
        -------
        Categorical
            The tempered distribution, in the logits' dtype; its batch shape
            is the broadcast of the batch shape and ``beta``'s.

        Notes
        -----
        The tempered logits are ``beta (z - max z)`` (:func:`temper`): the same
        distribution, with no overflow at large ``beta |z|``.

        Examples
        --------
        >>> Categorical(logits=[0.95, 0.99, 0.98]).tempered(500).probs.round(4)
        array([0.    , 0.9933, 0.0067])
        >>> Categorical(logits=[0.0, 1.0, 1.0]).tempered(np.inf).probs
        array([0. , 0.5, 0.5])
        >>> Categorical(logits=[0.0, 1.0]).tempered([0.0, 1.0]).batch_shape
        (2,)
        """
        _, b = RowLayout.of(self.logits, -1)[1].broadcast(beta_array(beta), "beta")
        logits = np.where(np.isneginf(self.logits), -np.inf, temper(self.logits, b))
        return Categorical(logits=logits.astype(self.logits.dtype))

    # ------------------------------------------------------------ validation
    def _check_reference(self) -> None:
        if np.any(np.isneginf(self.logits[..., -1])):
            raise ValueError(
                "natural coordinates need p_K > 0 (the reference class is the last one); "
                "reorder the classes or use coords='logits'"
            )

    def _check_classes(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        if x.dtype.kind not in "iu":
            raise TypeError(f"x must be integer class indices, got dtype {x.dtype}")
        if np.any(x < 0) or np.any(x >= self.num_classes):
            raise ValueError(f"x must be class indices in [0, {self.num_classes}), got {x}")
        try:
            np.broadcast_shapes(x.shape, self.batch_shape)
        except ValueError:
            raise ValueError(
                f"x of shape {x.shape} does not broadcast with batch shape {self.batch_shape}"
            ) from None
        return x

    def _coords_size(self, coords: Coords) -> int:
        """Number of coordinates (K or K-1) of ``coords``, after checking it is usable."""
        if coords == "logits":
            return self.num_classes
        if coords == "natural":
            self._check_reference()
            return self.num_classes - 1
        raise ValueError(f"coords must be 'natural' or 'logits', got {coords!r}")
