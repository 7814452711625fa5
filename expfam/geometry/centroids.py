r"""Centroids of sets of points of the simplex under KL and Jeffreys divergences.

A set of N points is a batch whose first axis runs over the set: a
distribution (:class:`~expfam.Categorical`, or any point of the protocol of
:mod:`expfam.geometry._points`) with batch shape ``(N, ...)`` or probabilities
of shape ``(N, ..., K)``; ``weights`` (``>= 0``, not all 0, normalized here)
have shape ``(N,)`` or broadcast against ``(N, ...)``. The result has the
remaining batch shape ``(...)``. Every centroid is returned as probabilities,
shape (..., K), as the geodesics and projections return theirs.

KL is a Bregman divergence, so its two centroids are means in the two flat
coordinate systems: the right centroid ``argmin_c sum w_i KL(p_i || c)`` is
the mean in ``p`` (the m-flat coordinates), the left centroid
``argmin_c sum w_i KL(c || p_i)`` the mean in logits (the e-flat ones).
The Fisher-Rao (Karcher) mean is :func:`expfam.geometry.fisher_rao_mean`.

References
----------
F. Nielsen, "Jeffreys centroids: a closed-form expression for positive
histograms and a guaranteed tight approximation for frequency histograms",
IEEE Signal Process. Lett. 20 (2013).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import wrightomega

from expfam import special
from expfam._core.dispatch import tiered
from expfam.geometry._points import as_log_point, as_real

__all__ = ["jeffreys_centroid", "left_kl_centroid", "right_kl_centroid"]


def _weights(weights: ArrayLike | None, batch: tuple[int, ...]) -> NDArray:
    """Normalized weights of shape ``batch + (1,)`` (a class axis to broadcast on)."""
    n = batch[0]
    if weights is None:
        return np.full((*batch, 1), 1.0 / n)
    w = as_real(weights, "weights", min_ndim=1)
    if w.shape[0] != n:
        raise ValueError(f"weights: expected {n} entries on the first axis, got shape {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights: expected finite weights >= 0, got {w}")
    w = w.reshape(w.shape + (1,) * (len(batch) - w.ndim))
    try:
        w = np.broadcast_to(w, batch).astype(np.float64)
    except ValueError:
        raise ValueError(
            f"weights of shape {w.shape} do not broadcast against the set's shape {batch}"
        ) from None
    total = np.sum(w, axis=0)
    if np.any(total == 0):
        raise ValueError("weights: expected weights that are not all 0, got all 0")
    return (w / total)[..., None]


def _set_of_points(points: Any) -> tuple[NDArray, NDArray, bool]:
    """``(logits, probs, given_by_logits)`` of the set, shape (N, ..., K)."""
    logits, probs, by_logits = as_log_point(points, "points")
    if logits.ndim < 2 or logits.shape[0] < 1:
        raise ValueError(
            f"points: expected a set of N >= 1 points on the first axis, shape (N, ..., K); "
            f"got shape {logits.shape}"
        )
    return logits, probs, by_logits


@tiered
def right_kl_centroid(points: Any, weights: ArrayLike | None = None) -> NDArray:
    r"""``argmin_c sum_i w_i KL(p_i || c)``: the weighted mean in probabilities.

    .. math::

        c^* = \arg\min_c \sum_i w_i\, \mathrm{KL}(p_i \,\|\, c) = \sum_i w_i\, p_i

    Parameters
    ----------
    points : SimplexPoint or array_like, shape (N, ..., K)
        The set, along the first axis.
    weights : array_like, shape (N,) or broadcasting against (N, ...), optional
        Non-negative, normalized here; equal weights by default.

    Returns
    -------
    ndarray, shape (..., K)
        ``c = sum_i w_i p_i``: the m-centroid (mean in the mixture
        coordinates), also the maximum-likelihood fit of the pooled data.

    Notes
    -----
    ``sum_i w_i KL(p_i || c) = sum_i w_i KL(p_i || c*) + KL(c* || c)`` with
    ``c* = sum_i w_i p_i`` (the Pythagorean identity of the mixture family),
    so ``c*`` is the unique minimizer. A sum of non-negative terms: within
    2 ULP per probability.

    Examples
    --------
    >>> right_kl_centroid([[1.0, 0.0], [0.5, 0.5]])
    array([0.75, 0.25])
    """
    logits, probs, _ = _set_of_points(points)
    w = _weights(weights, logits.shape[:-1])
    mean = np.sum(w * probs.astype(np.float64), axis=0)
    return (mean / np.sum(mean, axis=-1, keepdims=True)).astype(probs.dtype)


@tiered
def left_kl_centroid(points: Any, weights: ArrayLike | None = None) -> NDArray:
    r"""``argmin_c sum_i w_i KL(c || p_i)``: softmax of the weighted mean of the logits.

    .. math::

        c^* = \arg\min_c \sum_i w_i\, \mathrm{KL}(c \,\|\, p_i)
            = \operatorname{softmax}\Big(\sum_i w_i \log p_i\Big)

    Parameters
    ----------
    points : SimplexPoint or array_like, shape (N, ..., K)
        The set, along the first axis.
    weights : array_like, shape (N,) or broadcasting against (N, ...), optional
        Non-negative, normalized here; equal weights by default.

    Returns
    -------
    ndarray, shape (..., K)
        ``c = softmax(sum_i w_i log p_i)``, the normalized weighted geometric
        mean (the e-centroid). A class where some point of positive weight
        has probability 0 gets probability 0.

    Raises
    ------
    ValueError
        If the points of positive weight share no class (no geometric mean).

    Notes
    -----
    ``sum_i w_i KL(c || p_i) = KL(c || c*) - log Z`` with
    ``c* = softmax(sum_i w_i log p_i)`` and ``Z`` its normalizer, so ``c*``
    is the unique minimizer. Normalized log-probabilities are averaged (no
    offsets to cancel), then :func:`expfam.special.softmax`.

    Examples
    --------
    >>> left_kl_centroid([[0.5, 0.5], [0.9, 0.1]]).round(6)  # ~ (sqrt .45, sqrt .05)
    array([0.75, 0.25])
    """
    logits, _, _ = _set_of_points(points)
    w = _weights(weights, logits.shape[:-1])
    logp = special.log_softmax(logits.astype(np.float64), axis=-1)
    with np.errstate(invalid="ignore"):
        mean = np.sum(np.where(w > 0, w * logp, 0.0), axis=0)
    if np.any(np.all(mean == -np.inf, axis=-1)):
        raise ValueError(
            "points: the points of positive weight share no class with positive probability "
            "(their geometric mean is 0; the left KL centroid does not exist)"
        )
    return special.softmax(mean).astype(logits.dtype)


@tiered
def jeffreys_centroid(histograms: ArrayLike, weights: ArrayLike | None = None) -> NDArray:
    r"""Jeffreys centroid of positive histograms, in closed form with Lambert W.

    .. math::

        c_k = \frac{a_k}{W(e\, a_k / g_k)}, \quad a_k = \sum_i w_i h_{ik}, \quad \log g_k
            = \sum_i w_i \log h_{ik}

    ``argmin_c sum_i w_i J(h_i, c)`` over positive vectors ``c``, with
    ``J(h, c) = sum_k (h_k - c_k) log(h_k / c_k)`` (the Jeffreys divergence
    extended to positive measures).

    Parameters
    ----------
    histograms : array_like, shape (N, ..., K)
        Positive, finite; not necessarily normalized. The set on the first axis.
    weights : array_like, shape (N,) or broadcasting against (N, ...), optional
        Non-negative, normalized here; equal weights by default.

    Returns
    -------
    ndarray, shape (..., K)
        ``c_k = a_k / W(e a_k / g_k)``, ``a`` the weighted arithmetic and
        ``g`` the weighted geometric mean of the histograms, ``W`` the
        principal branch of Lambert's W (Nielsen 2013). Between ``g`` and ``a``.
        It is not normalized; normalizing it gives Nielsen's approximation of
        the centroid of frequency histograms.

    Notes
    -----
    Per class, ``d/dc sum_i w_i (h_i - c)(log h_i - log c) = log(c/g) + 1 - a/c = 0``;
    with ``c = a/x`` this is ``x e^x = e a / g``. ``W(e a/g)`` is evaluated as
    Wright's omega ``omega(1 + log a - log g)`` (no overflow of ``e a / g``):
    within a few ULP.

    Examples
    --------
    >>> jeffreys_centroid([[1.0, 4.0], [4.0, 1.0]]).round(8)  # 2.5 / W(1.25 e)
    array([2.24290625, 2.24290625])
    """
    h = as_real(histograms, "histograms", min_ndim=2)
    if np.any(h <= 0) or not np.all(np.isfinite(h)):
        raise ValueError(f"histograms: expected positive, finite entries, got {h}")
    w = _weights(weights, h.shape[:-1])
    h64 = h.astype(np.float64)
    a = np.sum(w * h64, axis=0)
    log_g = np.sum(w * np.log(h64), axis=0)
    x = wrightomega(1.0 + (np.log(a) - log_g))
    return (a / x.real).astype(h.dtype)
