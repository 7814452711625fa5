"""The Bernoulli family: the sigmoid as the two-class softmax.

``P(x = 1) = sigmoid(w)`` with logit (natural parameter) ``w``; log-partition
``softplus(w)``; mean ``sigmoid(w)``; Fisher ``p (1 - p)``. The bridge to the
categorical is exact: ``Bernoulli(logit=w)`` is ``Categorical(logits=(w, 0))``
with categorical class 0 the outcome ``x = 1``, and a two-class softmax with
logits ``(w1, w2)`` is ``sigmoid(w1 - w2)``.

Shapes: ``logit`` and ``probs`` have the batch shape ``(...)``; the generic
exponential-family coordinates ``natural`` and ``mean`` have shape ``(..., 1)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam import special
from expfam._core.args import as_rng, as_sample_shape, beta_array, scalar
from expfam.families.categorical import Categorical
from expfam.families.family import (
    ExponentialFamily,
    as_float_array,
    as_vector,
    check_coords,
    frozen_cached_property,
    keyword_error,
    seed_cache,
)

__all__ = ["Bernoulli"]


def _batch_layout(value: ArrayLike, name: str) -> NDArray:
    """A generic coordinate ``(..., 1)`` (or one number) in the batch layout (...)."""
    array = as_float_array(value, name)
    if array.ndim == 0:
        return array
    if array.shape[-1] != 1:
        raise ValueError(f"{name}: expected one number or shape (..., 1), got shape {array.shape}")
    return array[..., 0]


@dataclass(frozen=True, init=False, eq=False)
class Bernoulli(ExponentialFamily):
    r"""Bernoulli distribution on {0, 1}, batched: logit of shape (...).

    .. math::

        P(x = 1) = p = \sigma(w) = \frac{1}{1 + e^{-w}}, \qquad
        A(w) = \log(1 + e^w)

    Parameters
    ----------
    *args
        Refused: a positional argument is a TypeError, so that a probability
        is never read as a logit.
    logit : array_like, shape (...), keyword-only
        ``w = log(p / (1 - p))``; ``-inf`` and ``+inf`` are the boundary
        distributions ``p = 0`` and ``p = 1``. NaN is rejected.
    **other
        Refused: another keyword is a TypeError that names the constructor
        to use instead (``probs=...`` points to :meth:`from_probs`).

    Examples
    --------
    >>> d = Bernoulli(logit=0.0)
    >>> float(d.probs), float(d.entropy())
    (0.5, 0.6931471805599453)
    """

    logit: NDArray

    def __init__(self, *args: object, logit: ArrayLike | None = None, **other: object) -> None:
        if args or other or logit is None:
            raise keyword_error(type(self), "logit", other, positional=bool(args))
        object.__setattr__(self, "logit", as_float_array(logit, "logit"))

    @classmethod
    def from_probs(cls, probs: ArrayLike) -> Bernoulli:
        """Bernoulli from ``p = P(x = 1)`` in [0, 1], shape (...).

        The name is :class:`Categorical`'s (and torch's): ``probs``.

        Parameters
        ----------
        probs : array_like, shape (...)
            ``p`` in ``[0, 1]``; 0 and 1 give the logits ``-inf`` and ``+inf``.

        Returns
        -------
        Bernoulli
            Logit ``logit(p)``; ``probs`` is kept as :attr:`probs`.

        Examples
        --------
        >>> float(Bernoulli.from_probs(0.75).logit)
        1.0986122886681098
        """
        probs = as_float_array(probs, "probs")
        if not np.all((probs >= 0) & (probs <= 1)):
            raise ValueError(f"probs: expected values in [0, 1], got {probs}")
        dist = cls(logit=special.logit(probs))
        seed_cache(dist, probs=probs)
        return dist

    @classmethod
    def from_natural(cls, natural: ArrayLike) -> Bernoulli:
        """Bernoulli from the natural parameter ``(w,)``, shape (..., 1), or one number ``w``.

        Parameters
        ----------
        natural : array_like, shape (..., 1) or ()
            The logit in the generic layout, or one number.

        Returns
        -------
        Bernoulli
            Logit of the batch shape (...).

        Examples
        --------
        >>> float(Bernoulli.from_natural(0.5).logit), Bernoulli.from_natural([[0.5]]).batch_shape
        (0.5, (1,))
        """
        return cls(logit=_batch_layout(natural, "natural"))

    @classmethod
    def from_mean(cls, mean: ArrayLike) -> Bernoulli:
        """Bernoulli from the expectation parameter ``(p,)``, shape (..., 1), or one number ``p``.

        Parameters
        ----------
        mean : array_like, shape (..., 1) or ()
            ``p`` in ``[0, 1]`` in the generic layout, or one number.

        Returns
        -------
        Bernoulli
            As :meth:`from_probs` of ``p``.

        Examples
        --------
        >>> float(Bernoulli.from_mean(0.3).probs)
        0.3
        """
        p = _batch_layout(mean, "mean")
        if not np.all((p >= 0) & (p <= 1)):
            raise ValueError(f"mean: expected values in [0, 1], got {p}")
        return cls.from_probs(p)

    @classmethod
    def from_prob(cls, prob: ArrayLike) -> Bernoulli:
        """Deprecated name of :meth:`from_probs` (version 0.1).

        Parameters
        ----------
        prob : array_like, shape (...)
            ``p`` in ``[0, 1]``.

        Returns
        -------
        Bernoulli
            ``Bernoulli.from_probs(prob)``, after a DeprecationWarning.
        """
        warnings.warn(
            "Bernoulli.from_prob is deprecated; use Bernoulli.from_probs",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls.from_probs(prob)

    # ------------------------------------------------------------ coordinates
    @frozen_cached_property
    def probs(self) -> NDArray:
        """``p = P(x = 1) = sigmoid(w)``, shape (...)."""
        return special.sigmoid(self.logit)

    @property
    def prob(self) -> NDArray:
        """Deprecated name of :attr:`probs` (version 0.1)."""
        warnings.warn(
            "Bernoulli.prob is deprecated; use Bernoulli.probs", DeprecationWarning, stacklevel=2
        )
        return self.probs

    @property
    def natural(self) -> NDArray:
        """``(w,)``, shape (..., 1)."""
        return self.logit[..., None]

    @property
    def mean(self) -> NDArray:
        """``(p,)``, shape (..., 1)."""
        return self.probs[..., None]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The batch shape ``(...)``."""
        return self.logit.shape

    def to_categorical(self) -> Categorical:
        """The same distribution as ``Categorical(logits=(w, 0))``; class 0 is ``x = 1``.

        A logit of ``+inf`` becomes the logits ``(0, -inf)``.

        Returns
        -------
        Categorical
            Two classes, logits of shape (..., 2), in the logit's dtype.

        Examples
        --------
        >>> Bernoulli(logit=np.log(3.0)).to_categorical().probs
        array([0.75, 0.25])
        """
        top = np.isposinf(self.logit)
        logits = np.stack(
            [np.where(top, 0.0, self.logit), np.where(top, -np.inf, 0.0)], axis=-1
        ).astype(self.logit.dtype)
        return Categorical(logits=logits)

    # ------------------------------------------------------------ primitives
    def sufficient_statistic(self, x: ArrayLike) -> NDArray:
        """``T(x) = x``, shape (..., 1).

        Parameters
        ----------
        x : array_like of int or bool
            Outcomes in {0, 1} (a float label is a TypeError).

        Returns
        -------
        ndarray, shape ``x.shape + (1,)``
            ``x`` in the natural layout, in the logit's dtype.
        """
        return self._check_outcomes(x)[..., None].astype(self.logit.dtype)

    def log_base_measure(self, x: ArrayLike) -> NDArray:
        """``log h(x) = 0``, shape (...).

        Parameters
        ----------
        x : array_like of int or bool
            Outcomes in {0, 1}, broadcasting with the batch shape.

        Returns
        -------
        ndarray
            Zeros of the shape of ``x`` broadcast with the batch shape.
        """
        x = self._check_outcomes(x)
        return np.zeros(np.broadcast_shapes(x.shape, self.batch_shape), dtype=self.logit.dtype)

    def log_partition(self) -> NDArray:
        r"""``A(w) = softplus(w) = log(1 + e^w)``, shape (...).

        .. math::

            A(w) = \log(1 + e^w)

        Returns
        -------
        ndarray, shape (...)
            ``softplus(w)`` by :func:`expfam.special.softplus` (no overflow at
            large ``w``).

        Examples
        --------
        >>> float(Bernoulli(logit=0.0).log_partition()) == float(np.log(2.0))
        True
        """
        return special.softplus(self.logit)

    def fisher_vp(self, v: ArrayLike, coords: Literal["natural"] = "natural") -> NDArray:
        r"""``F v = p (1 - p) v``: shape (..., 1) for ``v`` of shape (..., 1), else (...).

        .. math::

            F(w) \, v = p (1 - p) \, v = \sigma(w) \sigma(-w) \, v

        Parameters
        ----------
        v : array_like, shape (..., 1) or (...)
            A finite tangent vector. It is in the natural layout (..., 1)
            when it has more axes than the batch and one entry on its last
            axis; otherwise it has the batch layout (...) of :attr:`logit`
            (one number per distribution).
        coords : {"natural"}, optional
            Only the natural coordinate ``w``.

        Returns
        -------
        ndarray, shape (..., 1) or (...)
            ``F v``, in the layout of ``v``; ``p (1 - p)`` is formed as
            ``sigmoid(w) sigmoid(-w)``, accurate in both tails.
        """
        check_coords(coords, "Bernoulli")
        v, natural_layout = self._as_vector(v, "v")
        return self._variance()[..., None] * v if natural_layout else self._variance() * v

    # ------------------------------------------------------------ closed forms
    def log_prob(self, x: ArrayLike) -> NDArray:
        r"""``log P(x)``: ``log_sigmoid(w)`` if x = 1, ``log_sigmoid(-w)`` if x = 0; shape (...).

        .. math::

            \log P(x) = x w - \log(1 + e^w)

        Parameters
        ----------
        x : array_like of int or bool
            Outcomes in {0, 1}, broadcasting with the batch shape.

        Returns
        -------
        ndarray, shape (...)
            ``log P(x)``, ``-inf`` for an outcome of probability 0; a numpy
            scalar for one outcome of an unbatched distribution.

        Examples
        --------
        >>> Bernoulli(logit=0.0).log_prob([0, 1])
        array([-0.69314718, -0.69314718])
        """
        x = self._check_outcomes(x)
        return scalar(
            np.where(x == 1, special.log_sigmoid(self.logit), special.log_sigmoid(-self.logit))
        )

    def entropy(self) -> NDArray:
        r"""``-p log p - (1 - p) log(1 - p)``, 0 on the boundary; shape (...).

        .. math::

            H = -p \log p - (1 - p) \log(1 - p)

        Returns
        -------
        ndarray, shape (...)
            The entropy in nats, in ``[0, log 2]``, from the two-class softmax
            (:meth:`to_categorical`).
        """
        return self.to_categorical().entropy()

    def dual_potential(self) -> NDArray:
        r"""``phi(p) = p log p + (1 - p) log(1 - p)``, the negative entropy.

        .. math::

            \phi(p) = w p - A(w) = p \log p + (1 - p) \log(1 - p)

        Returns
        -------
        ndarray, shape (...)
            ``-H``, in ``[-log 2, 0]``.
        """
        return -self.entropy()

    def cross_entropy(self, other: Bernoulli) -> NDArray:
        r"""``-p log q - (1 - p) log(1 - q)``; ``+inf`` where q puts 0 on an outcome p does not.

        .. math::

            H(p, q) = -p \log q - (1 - p) \log(1 - q)

        Parameters
        ----------
        other : Bernoulli
            ``q``, with a batch shape that broadcasts with this one's.

        Returns
        -------
        ndarray, shape (...)
            ``H(p, q)`` in nats (``0 log 0 = 0``), over the broadcast batch shape.
        """
        self._check_other(other)
        return self.to_categorical().cross_entropy(other.to_categorical())

    def kl(self, other: Bernoulli) -> NDArray:
        r"""``p log(p / q) + (1 - p) log((1 - p) / (1 - q))`` >= 0, via the two-class softmax.

        .. math::

            \mathrm{KL}(p \,\|\, q) = p \log \frac{p}{q} + (1 - p) \log \frac{1 - p}{1 - q}

        Parameters
        ----------
        other : Bernoulli
            ``q``, with a batch shape that broadcasts with this one's.

        Returns
        -------
        ndarray, shape (...)
            ``KL(p || q)`` in nats; ``+inf`` where ``q`` puts 0 on an outcome
            ``p`` does not.

        Examples
        --------
        >>> p, q = Bernoulli.from_probs(0.5), Bernoulli.from_probs(0.75)
        >>> round(float(p.kl(q)), 12)
        0.143841036226
        """
        self._check_other(other)
        return self.to_categorical().kl(other.to_categorical())

    def fisher(self, coords: Literal["natural"] = "natural") -> NDArray:
        r"""``[[p (1 - p)]]``, shape (..., 1, 1).

        .. math::

            F(w) = A''(w) = p (1 - p)

        Parameters
        ----------
        coords : {"natural"}, optional
            Only the natural coordinate ``w``.

        Returns
        -------
        ndarray, shape (..., 1, 1)
            The Fisher information of the logit, ``sigmoid(w) sigmoid(-w)``.
        """
        check_coords(coords, "Bernoulli")
        return self._variance()[..., None, None]

    def natural_gradient(self, g: ArrayLike, coords: Literal["natural"] = "natural") -> NDArray:
        r"""``g / (p (1 - p))``, 0 on the boundary (the pseudo-inverse).

        .. math::

            \tilde g = \frac{g}{p (1 - p)}

        Parameters
        ----------
        g : array_like, shape (..., 1) or (...)
            A finite gradient with respect to ``w``, in the natural layout
            (..., 1) or the batch layout (...), as for :meth:`fisher_vp`.
        coords : {"natural"}, optional
            Only the natural coordinate ``w``.

        Returns
        -------
        ndarray, shape (..., 1) or (...)
            The natural gradient, in the layout of ``g``; 0 where
            ``p (1 - p) = 0``.
        """
        check_coords(coords, "Bernoulli")
        g, natural_layout = self._as_vector(g, "g")
        variance = self._variance()[..., None] if natural_layout else self._variance()
        return np.where(variance > 0, g / np.where(variance > 0, variance, 1), 0)

    # ------------------------------------------------------------ the rest
    def sample(
        self,
        sample_shape: int | tuple[int, ...] = (),
        rng: np.random.Generator | int | None = None,
    ) -> NDArray:
        """Outcomes in {0, 1} (int64) of shape ``sample_shape + batch_shape``.

        ``x = [U < p]`` with ``U`` uniform on ``[0, 1)``.

        Parameters
        ----------
        sample_shape : int or tuple of int, optional
            Leading shape of the draws (numpy's ``size``).
        rng : Generator, int or None, optional
            The random generator, or a seed.

        Returns
        -------
        ndarray of int64, shape ``sample_shape + batch_shape``
            The outcomes.

        Examples
        --------
        >>> Bernoulli(logit=np.inf).sample(3, rng=0)
        array([1, 1, 1])
        """
        shape = as_sample_shape(sample_shape)
        uniform = as_rng(rng).random(size=(*shape, *self.batch_shape))
        return (uniform < self.probs).astype(np.int64)

    def mode(self) -> NDArray:
        """1 where ``p > 1/2``, else 0; shape (...).

        Returns
        -------
        ndarray of int64, shape (...)
            The most probable outcome; 0 at the tie ``p = 1/2``.
        """
        return (self.logit > 0).astype(np.int64)

    def tempered(self, beta: ArrayLike) -> Bernoulli:
        r"""``Bernoulli(logit=beta * w)`` at inverse temperature ``beta >= 0``.

        .. math::

            p(\beta) = \sigma(\beta w)

        ``beta = inf`` gives the boundary ``w = +-inf`` on the side of the
        mode (``p = 1/2`` stays); a product beyond the float range is ``+-inf``,
        its rounding; the boundary (infinite ``w``) stays put, also at ``beta = 0``.

        Parameters
        ----------
        beta : float or array_like
            Inverse temperature ``>= 0`` (``inf`` allowed): a number or an
            array broadcasting with the batch shape.

        Returns
        -------
        Bernoulli
            The tempered distribution, in the logit's dtype.

        Examples
        --------
        >>> float(Bernoulli(logit=0.5).tempered(2.0).logit)
        1.0
        >>> float(Bernoulli(logit=-0.5).tempered(np.inf).probs)
        0.0
        """
        b = beta_array(beta)
        try:
            np.broadcast_shapes(b.shape, self.batch_shape)
        except ValueError:
            raise ValueError(
                f"beta: shape {b.shape} does not broadcast with the batch shape {self.batch_shape}"
            ) from None
        w = self.logit
        with np.errstate(over="ignore", invalid="ignore"):
            logit = np.where(w == 0, 0.0, b * w)
        return Bernoulli(logit=np.where(np.isinf(w), w, logit).astype(w.dtype))

    def _variance(self) -> NDArray:
        """``p (1 - p) = sigmoid(w) sigmoid(-w)``, accurate in both tails."""
        return self.probs * special.sigmoid(-self.logit)

    def _as_vector(self, v: ArrayLike, name: str) -> tuple[NDArray, bool]:
        """``v`` as an array, and whether it is in the natural layout (..., 1)."""
        array = np.asarray(v)
        natural_layout = array.ndim > len(self.batch_shape) and array.shape[-1:] == (1,)
        if natural_layout:
            return as_vector(array, name, 1, self.logit.dtype), True
        return as_vector(array[..., None], name, 1, self.logit.dtype)[..., 0], False

    def _check_outcomes(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        if x.dtype.kind not in "biu":
            raise TypeError(
                f"x: expected outcomes in {{0, 1}} as integers or booleans, got dtype {x.dtype} "
                "(a float label is an error everywhere; x.astype(int) if you mean it)"
            )
        if np.any((x != 0) & (x != 1)):
            raise ValueError(f"x: expected outcomes in {{0, 1}}, got {x}")
        return x
