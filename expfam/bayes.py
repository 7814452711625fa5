"""Bayesian updating as addition in natural coordinates.

A posterior over K hypotheses is a categorical distribution. In logits
coordinates Bayes' rule is addition: the log posterior is the log prior plus
the sum of the log-likelihoods, normalized by ``log_softmax``. Repeating one
observation moves the posterior along a straight line in logit space (an
e-geodesic). The conjugate Dirichlet prior of the categorical is updated the
same way: its natural parameters ``alpha - 1`` gain the observed counts.

Shapes: hypotheses (or classes) are on the last axis, ``(..., K)``; a sequence
of ``n`` observations is on the axis before it, ``(..., n, K)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam._core.args import RowLayout, beta_array
from expfam.families.dirichlet import Dirichlet
from expfam.families.family import as_float_array
from expfam.special import log_softmax, softmax

__all__ = [
    "SNOW",
    "BayesExample",
    "dirichlet_posterior",
    "log_marginal_likelihood",
    "log_posterior",
    "log_posterior_trajectory",
    "posterior",
    "posterior_trajectory",
]


def _temper(log_likelihood: NDArray, beta: ArrayLike, axis: int | tuple[int, ...]) -> NDArray:
    """Return ``beta * log_likelihood`` with the convention ``L**0 = 1`` (also for ``L = 0``).

    ``beta`` broadcasts with the batch shape, the axes of ``log_likelihood``
    other than ``axis`` (hypotheses, and observations for a trajectory).
    """
    b = beta_array(beta)
    if not np.isfinite(b).all():
        raise ValueError(f"beta must be finite and >= 0, got {beta!r}")
    _, b = RowLayout.of(log_likelihood, axis)[1].broadcast(b, "beta")
    impossible = np.isneginf(log_likelihood)
    scaled = b * np.where(impossible, 0.0, log_likelihood)
    return np.where(impossible & (b > 0), -np.inf, scaled).astype(log_likelihood.dtype)


def _check_shapes(log_prior: NDArray, data: NDArray, name: str, event_ndim: int) -> None:
    """Raise ValueError unless ``data`` (with ``event_ndim`` trailing axes) matches the prior."""
    if log_prior.shape[-1] != data.shape[-1]:
        raise ValueError(
            f"{name} has {data.shape[-1]} hypotheses on its last axis, "
            f"log_prior has {log_prior.shape[-1]}"
        )
    try:
        np.broadcast_shapes(log_prior.shape[:-1], data.shape[:-event_ndim])
    except ValueError:
        raise ValueError(
            f"{name} of shape {data.shape} does not broadcast with log_prior "
            f"of shape {log_prior.shape}"
        ) from None


def _posterior_logits(log_prior: ArrayLike, log_likelihood: ArrayLike, beta: ArrayLike) -> NDArray:
    """Unnormalized posterior logits ``log_prior + beta * log_likelihood``, validated."""
    log_prior = as_float_array(log_prior, "log_prior", min_ndim=1)
    log_likelihood = as_float_array(log_likelihood, "log_likelihood", min_ndim=1)
    _check_shapes(log_prior, log_likelihood, "log_likelihood", event_ndim=1)
    return log_prior + _temper(log_likelihood, beta, -1)


def _trajectory_logits(
    log_prior: ArrayLike, log_likelihoods: ArrayLike, beta: ArrayLike
) -> NDArray:
    """Unnormalized posterior logits after 0..n observations, shape (..., n + 1, K)."""
    log_prior = as_float_array(log_prior, "log_prior", min_ndim=1)
    log_likelihoods = as_float_array(log_likelihoods, "log_likelihoods", min_ndim=2)
    _check_shapes(log_prior, log_likelihoods, "log_likelihoods", event_ndim=2)
    tempered = _temper(log_likelihoods, beta, (-2, -1))
    start = np.zeros((*tempered.shape[:-2], 1, tempered.shape[-1]), dtype=tempered.dtype)
    evidence = np.cumsum(np.concatenate([start, tempered], axis=-2), axis=-2)
    return log_prior[..., None, :] + evidence


def log_posterior(log_prior: ArrayLike, log_likelihood: ArrayLike, *, beta: ArrayLike = 1.0):
    """Normalized log posterior over hypotheses: Bayes' rule as addition of logits.

    Parameters
    ----------
    log_prior : array_like, shape (..., K)
        Log prior over K hypotheses (any logits: normalization does not matter).
    log_likelihood : array_like, shape (..., K)
        ``log P(data | h)`` for each hypothesis ``h``; ``-inf`` rules a hypothesis out.
    beta : float or array_like, optional
        Inverse temperature of the likelihood (a power posterior), finite and
        ``>= 0``; an array broadcasts with the batch shape (...), one
        temperature per posterior, or a batch of temperatures for one.
        ``beta = 0`` returns the prior.

    Returns
    -------
    ndarray, shape (..., K)
        ``log P(h | data)``, normalized so that ``exp`` sums to 1.

    Notes
    -----
    ``log P(h | x) = log_softmax(log P(h) + beta * log P(x | h))``. With
    ``beta = 0`` a zero likelihood counts as ``0**0 = 1``. Data that rule out
    every hypothesis leave no distribution: the row is NaN (as ``softmax`` of
    all ``-inf``).

    Examples
    --------
    >>> import numpy as np
    >>> np.exp(log_posterior(np.log([1/3, 1/3, 1/3]), np.log([0.4, 0.4, 0.1]))).round(4)
    array([0.4444, 0.4444, 0.1111])
    """
    return log_softmax(_posterior_logits(log_prior, log_likelihood, beta))


def posterior(log_prior: ArrayLike, log_likelihood: ArrayLike, *, beta: ArrayLike = 1.0):
    """Posterior probabilities over hypotheses, ``softmax(log prior + beta * log-likelihood)``.

    Same parameters as :func:`log_posterior`; returns probabilities of shape (..., K).

    Examples
    --------
    >>> import numpy as np
    >>> posterior(np.log([1/3, 1/3, 1/3]), 2 * np.log([0.4, 0.4, 0.1])).round(4)
    array([0.4848, 0.4848, 0.0303])
    """
    return softmax(_posterior_logits(log_prior, log_likelihood, beta))


def log_posterior_trajectory(
    log_prior: ArrayLike, log_likelihoods: ArrayLike, *, beta: ArrayLike = 1.0
) -> NDArray:
    """Log posteriors after 0, 1, ..., n observations, all at once.

    Parameters
    ----------
    log_prior : array_like, shape (..., K)
        Log prior over K hypotheses.
    log_likelihoods : array_like, shape (..., n, K)
        ``log P(x_t | h)`` of observation ``t`` (observations assumed
        conditionally independent given ``h``).
    beta : float or array_like, optional
        Inverse temperature applied to every likelihood, ``>= 0``; an array
        broadcasts with the batch shape (...), one per trajectory.

    Returns
    -------
    ndarray, shape (..., n + 1, K)
        Row ``t`` is the normalized log posterior after the first ``t``
        observations; row 0 is the normalized prior.

    Notes
    -----
    ``log P(h | x_1..x_t) = log_softmax(log P(h) + beta * sum_{s <= t} log P(x_s | h))``:
    one cumulative sum and one ``log_softmax`` over the whole trajectory.
    Repeating one observation makes the unnormalized logits an arithmetic
    progression, a straight line in logit space.

    Examples
    --------
    >>> import numpy as np
    >>> traj = log_posterior_trajectory(np.zeros(3), np.log([[0.4, 0.4, 0.1]] * 3))
    >>> np.exp(traj[-1]).round(4)
    array([0.4961, 0.4961, 0.0078])
    """
    return log_softmax(_trajectory_logits(log_prior, log_likelihoods, beta))


def posterior_trajectory(
    log_prior: ArrayLike, log_likelihoods: ArrayLike, *, beta: ArrayLike = 1.0
) -> NDArray:
    """Posterior probabilities after 0, 1, ..., n observations, shape (..., n + 1, K).

    ``softmax`` of :func:`log_posterior_trajectory`; same parameters.

    Examples
    --------
    >>> import numpy as np
    >>> posterior_trajectory(np.zeros(2), np.log([[0.5, 0.25]])).round(4)
    array([[0.5   , 0.5   ],
           [0.6667, 0.3333]])
    """
    return softmax(_trajectory_logits(log_prior, log_likelihoods, beta))


def _check_counts(prior: Dirichlet, counts: ArrayLike) -> NDArray:
    if not isinstance(prior, Dirichlet):
        raise TypeError(f"prior must be a Dirichlet, got {type(prior).__name__}")
    counts = as_float_array(counts, "counts", min_ndim=1)
    k = prior.concentration.shape[-1]
    if counts.shape[-1] != k or np.any(counts < 0) or np.any(np.isinf(counts)):
        raise ValueError(
            f"counts must be finite and >= 0 with K = {k} entries on the last axis, got {counts}"
        )
    try:
        np.broadcast_shapes(counts.shape, prior.concentration.shape)
    except ValueError:
        raise ValueError(
            f"counts of shape {counts.shape} does not broadcast with the prior's "
            f"concentration of shape {prior.concentration.shape}"
        ) from None
    return counts


def dirichlet_posterior(prior: Dirichlet, counts: ArrayLike) -> Dirichlet:
    """Conjugate update of a Dirichlet prior by observed class counts: addition.

    Parameters
    ----------
    prior : Dirichlet
        Prior over the class probabilities, concentration of shape (..., K).
    counts : array_like, shape (..., K)
        How many times each class was observed (non-negative; fractional
        counts are allowed, as for tempered or weighted data).

    Returns
    -------
    Dirichlet
        The posterior, with natural parameters ``(alpha - 1) + counts``.

    Examples
    --------
    >>> dirichlet_posterior(Dirichlet(concentration=[1.0, 1.0, 1.0]), [3, 0, 1]).concentration
    array([4., 1., 2.])
    """
    counts = _check_counts(prior, counts)
    return Dirichlet.from_natural(prior.natural + counts)


def log_marginal_likelihood(prior: Dirichlet, counts: ArrayLike) -> NDArray:
    """Log probability of one observed sequence of classes under a Dirichlet prior.

    Parameters
    ----------
    prior : Dirichlet
        Prior, concentration of shape (..., K).
    counts : array_like, shape (..., K)
        Class counts of the sequence (the order does not matter).

    Returns
    -------
    ndarray, shape (...)
        ``log P(x_1, ..., x_n) = log integral prod_t p_{x_t} Dir(p | alpha) dp``.

    Notes
    -----
    A difference of log-partitions: ``A(theta + counts) - A(theta)`` with
    ``A(alpha) = sum_k lgamma(alpha_k) - lgamma(alpha_0)``. The probability of
    the counts themselves (the Dirichlet-multinomial) adds the log multinomial
    coefficient ``lgamma(n + 1) - sum_k lgamma(counts_k + 1)``.

    Examples
    --------
    >>> float(np.exp(log_marginal_likelihood(Dirichlet(concentration=[1.0, 1.0]), [1, 1])))
    0.16666666666666669
    """
    counts = _check_counts(prior, counts)
    return dirichlet_posterior(prior, counts).log_partition() - prior.log_partition()


@dataclass(frozen=True)
class BayesExample:
    """A worked example: hypotheses, a prior over them, and one repeatable observation.

    Probabilities are stored as exact :class:`fractions.Fraction` values so
    that symbolic code can use them as rationals; the array properties give
    float64 values.

    Attributes
    ----------
    name : str
        Short name of the example.
    hypotheses : tuple of str, length K
        Names of the hypotheses, in order.
    prior : tuple of Fraction, length K
        Prior probabilities ``P(h)``.
    observation : str
        Name of the observation.
    likelihood : tuple of Fraction, length K
        ``P(observation | h)`` for each hypothesis.

    Examples
    --------
    >>> SNOW.posterior(3).round(4)
    array([0.4961, 0.4961, 0.0078])
    """

    name: str
    hypotheses: tuple[str, ...]
    prior: tuple[Fraction, ...]
    observation: str
    likelihood: tuple[Fraction, ...]

    @property
    def log_prior(self) -> NDArray:
        """``log P(h)``, float64 array of shape (K,)."""
        return np.log(np.array(self.prior, dtype=np.float64))

    @property
    def log_likelihood(self) -> NDArray:
        """``log P(observation | h)``, float64 array of shape (K,)."""
        return np.log(np.array(self.likelihood, dtype=np.float64))

    def posterior(self, n: int = 1) -> NDArray:
        """Posterior probabilities after observing the observation ``n`` times, shape (K,)."""
        return self.posterior_trajectory(n)[-1]

    def log_posterior_trajectory(self, n: int) -> NDArray:
        """Normalized log posteriors after 0..n repetitions, shape (n + 1, K)."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        repeated = np.broadcast_to(self.log_likelihood, (n, len(self.hypotheses)))
        return log_posterior_trajectory(self.log_prior, repeated)

    def posterior_trajectory(self, n: int) -> NDArray:
        """Posterior probabilities after 0..n repetitions, shape (n + 1, K)."""
        return np.exp(self.log_posterior_trajectory(n))


SNOW = BayesExample(
    name="snow",
    hypotheses=("MIT", "Michigan", "Berkeley"),
    prior=(Fraction(1, 3), Fraction(1, 3), Fraction(1, 3)),
    observation="snow",
    likelihood=(Fraction(2, 5), Fraction(2, 5), Fraction(1, 10)),
)
"""The snow example: where is a friend who reports snow?

Uniform prior over MIT, Michigan, Berkeley; ``P(snow | h) = (0.4, 0.4, 0.1)``.
After ``n`` reports of snow the posterior is ``(1, 1, 4**-n) / (2 + 4**-n)``:
(0.4444, 0.4444, 0.1111), (0.4848, 0.4848, 0.0303), (0.4961, 0.4961, 0.0078).
"""
