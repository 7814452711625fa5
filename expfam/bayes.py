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

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam._core.args import RowLayout, beta_array
from expfam.families.dirichlet import CONCENTRATION_RANGE, Dirichlet
from expfam.families.family import as_float_array, temper
from expfam.special import log_softmax, softmax

__all__ = [
    "dirichlet_posterior",
    "log_marginal_likelihood",
    "log_posterior",
    "log_posterior_trajectory",
    "posterior",
    "posterior_trajectory",
]


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
    _, b = RowLayout.of(log_likelihood, -1)[1].broadcast(beta_array(beta), "beta")
    return log_prior + temper(log_likelihood, b).astype(log_likelihood.dtype)


def _trajectory_logits(
    log_prior: ArrayLike, log_likelihoods: ArrayLike, beta: ArrayLike
) -> NDArray:
    """Unnormalized posterior logits after 0..n observations, shape (..., n + 1, K)."""
    log_prior = as_float_array(log_prior, "log_prior", min_ndim=1)
    log_likelihoods = as_float_array(log_likelihoods, "log_likelihoods", min_ndim=2)
    _check_shapes(log_prior, log_likelihoods, "log_likelihoods", event_ndim=2)
    _, b = RowLayout.of(log_likelihoods, (-2, -1))[1].broadcast(beta_array(beta), "beta")
    start = np.zeros((*log_likelihoods.shape[:-2], 1, log_likelihoods.shape[-1]))
    total = np.cumsum(np.concatenate([start, log_likelihoods], axis=-2), axis=-2)
    # Temper the running sums, not the steps: at beta = inf the limit is the argmax of the sum.
    evidence = temper(total, b)
    return log_prior[..., None, :] + evidence.astype(log_likelihoods.dtype)


def log_posterior(log_prior: ArrayLike, log_likelihood: ArrayLike, *, beta: ArrayLike = 1.0):
    r"""Normalized log posterior over hypotheses: Bayes' rule as addition of logits.

    .. math::

        \log P(h \mid x) = \operatorname{log\_softmax}_h\big(\log P(h)
            + \beta \log P(x \mid h)\big)

    Parameters
    ----------
    log_prior : array_like, shape (..., K)
        Log prior over K hypotheses (any logits: normalization does not matter).
    log_likelihood : array_like, shape (..., K)
        ``log P(data | h)`` for each hypothesis ``h``; ``-inf`` rules a hypothesis out.
    beta : float or array_like, optional
        Inverse temperature of the likelihood (a power posterior), ``>= 0``
        (``inf``: the limit, uniform over the hypotheses of largest likelihood,
        weighted by the prior); an array broadcasts with the batch shape (...), one
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


def posterior(
    log_prior: ArrayLike, log_likelihood: ArrayLike, *, beta: ArrayLike = 1.0
) -> NDArray:
    r"""Posterior probabilities over hypotheses, ``softmax(log prior + beta * log-likelihood)``.

    .. math::

        P(h \mid x) = \operatorname{softmax}_h\big(\log P(h) + \beta \log P(x \mid h)\big)

    Parameters
    ----------
    log_prior : array_like, shape (..., K)
        Log prior over K hypotheses.
    log_likelihood : array_like, shape (..., K)
        ``log P(data | h)``; ``-inf`` rules a hypothesis out.
    beta : float or array_like, optional
        Inverse temperature ``>= 0`` (``inf``: the limit), as in :func:`log_posterior`.

    Returns
    -------
    ndarray, shape (..., K)
        ``P(h | data)``, summing to 1.

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
    r"""Log posteriors after 0, 1, ..., n observations, all at once.

    .. math::

        \log P(h \mid x_1..x_t) = \operatorname{log\_softmax}_h\Big(\log P(h)
            + \beta \sum_{s \le t} \log P(x_s \mid h)\Big)

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
    r"""Posterior probabilities after 0, 1, ..., n observations, shape (..., n + 1, K).

    ``softmax`` of :func:`log_posterior_trajectory`:

    .. math::

        P(h \mid x_1..x_t) = \operatorname{softmax}_h\Big(\log P(h)
            + \beta \sum_{s \le t} \log P(x_s \mid h)\Big)

    Parameters
    ----------
    log_prior : array_like, shape (..., K)
        Log prior over K hypotheses.
    log_likelihoods : array_like, shape (..., n, K)
        ``log P(x_t | h)`` of each observation.
    beta : float or array_like, optional
        Inverse temperature ``>= 0``, as in :func:`log_posterior_trajectory`.

    Returns
    -------
    ndarray, shape (..., n + 1, K)
        Row ``t``: the posterior after the first ``t`` observations.

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
        raise TypeError(f"prior: expected a Dirichlet, got {type(prior).__name__}")
    counts = as_float_array(counts, "counts", min_ndim=1)
    k = prior.concentration.shape[-1]
    if counts.shape[-1] != k or not np.all((counts >= 0) & np.isfinite(counts)):
        raise ValueError(
            f"counts: expected finite values >= 0 with K = {k} entries on the last axis, "
            f"got {counts}"
        )
    try:
        np.broadcast_shapes(counts.shape, prior.concentration.shape)
    except ValueError:
        raise ValueError(
            f"counts: expected a shape that broadcasts with the prior's "
            f"concentration of shape {prior.concentration.shape}, got {counts.shape}"
        ) from None
    return counts


def dirichlet_posterior(prior: Dirichlet, counts: ArrayLike) -> Dirichlet:
    r"""Conjugate update of a Dirichlet prior by observed class counts: addition.

    .. math::

        \operatorname{Dir}(\alpha) \cdot \prod_k p_k^{n_k} \propto \operatorname{Dir}(\alpha + n),
        \qquad (\alpha - 1) + n \text{ in natural coordinates}

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
    alpha = prior.concentration + counts
    high = CONCENTRATION_RANGE[1]
    if np.any(alpha > high):
        raise ValueError(
            f"counts: expected posterior concentrations alpha + counts <= {high:g} "
            f"(Dirichlet's range), got {np.max(alpha):g}"
        )
    return Dirichlet(concentration=alpha)


def log_marginal_likelihood(prior: Dirichlet, counts: ArrayLike) -> NDArray:
    r"""Log probability of one observed sequence of classes under a Dirichlet prior.

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
    A difference of log-partitions, :meth:`Dirichlet.log_partition_shift`:

    .. math::

        \log P = A(\alpha + n) - A(\alpha), \qquad
        A(\alpha) = \sum_k \log\Gamma(\alpha_k) - \log\Gamma(\alpha_0),

    formed without the cancellation of the log-gammas (accurate at
    concentrations up to 1e16 and counts up to 1e308). The probability of
    the counts themselves (the Dirichlet-multinomial) adds the log multinomial
    coefficient ``lgamma(n + 1) - sum_k lgamma(counts_k + 1)``.

    Examples
    --------
    >>> float(np.exp(log_marginal_likelihood(Dirichlet(concentration=[1.0, 1.0]), [1, 1])))
    0.16666666666666669
    """
    counts = _check_counts(prior, counts)
    return prior.log_partition_shift(counts)


def __getattr__(name: str) -> object:
    """``SNOW`` and ``BayesExample`` moved to :mod:`expfam.datasets.snow` (deprecated here)."""
    if name in ("SNOW", "BayesExample"):
        import warnings

        from expfam.datasets import snow

        warnings.warn(
            f"expfam.bayes.{name} is deprecated; use expfam.datasets.{name} (or expfam.{name})",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(snow, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
