"""Temperature scaling and calibration of a softmax classifier.

A classifier's logits z_n become probabilities ``softmax(beta z_n)``; the
inverse temperature beta is fitted on held-out data by minimizing the
negative log-likelihood

    ``NLL(beta) = sum_n w_n [logsumexp(beta z_n) - beta z_{n, y_n}] / sum_n w_n``,

which is convex in beta: its second derivative is the mean variance of the
logits under ``p_beta``. Its stationary point matches moments: the mean
logit under the model, ``E_{p_beta}[z_n]``, equals the mean logit of the
observed classes. The calibration of the result is measured by the expected
calibration error (ECE) of the top label.

Logits or probabilities: temperature scaling acts on logits. Passing
probabilities where logits are expected is the common mistake (a softmax of
probabilities is almost uniform), so the rule here is:

- :func:`fit_temperature` takes ``logits`` and raises ValueError when every
  row is a probability vector (entries in [0, 1] summing to 1 within 1e-6):
  pass ``np.log(probs)`` if you only have probabilities;
- :func:`expected_calibration_error` and :func:`reliability_curve` take
  either ``probs=`` or ``logits=`` by keyword; ``probs`` rows must sum to 1.

References
----------
C. Guo, G. Pleiss, Y. Sun and K. Weinberger, "On calibration of modern
neural networks", ICML 2017. M. P. Naeini, G. Cooper and M. Hauskrecht,
"Obtaining well calibrated probabilities using Bayesian binning", AAAI 2015.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam import special
from expfam._core.args import as_real
from expfam._core.dispatch import tiered
from expfam._core.exceptions import CalibrationWarning

__all__ = [
    "ReliabilityCurve",
    "TemperatureFit",
    "expected_calibration_error",
    "fit_temperature",
    "reliability_curve",
]

_PROBS_ATOL = 1e-6


@dataclass(frozen=True)
class TemperatureFit:
    """The result of :func:`fit_temperature`.

    Attributes
    ----------
    beta : float
        The inverse temperature ``beta* >= 0`` (``inf`` if the labels are
        always the top logit: no finite minimizer).
    temperature : float
        ``T = 1 / beta*``.
    nll : float
        ``NLL(beta*)``, the weighted mean log-loss.
    gradient : float
        ``NLL'(beta*)`` = mean logit under the model minus mean logit of the
        labels (0 at an interior optimum: moment matching).
    iterations : int
        Newton or bisection steps taken.
    converged : bool
        Whether the stopping rule was met (always, within the step limit).
    """

    beta: float
    temperature: float
    nll: float
    gradient: float
    iterations: int
    converged: bool


def _labels(labels: ArrayLike, n: int, k: int) -> NDArray:
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels: expected integer class indices, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"labels: expected shape ({n},) to match the rows, got {y.shape}")
    if np.any((y < 0) | (y >= k)):
        raise ValueError(f"labels: class indices must lie in [0, {k})")
    return y


def _logits(logits: ArrayLike) -> NDArray:
    z, _ = as_real(logits, "logits")
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 2:
        raise ValueError(f"logits: expected shape (n, K) with n >= 1 and K >= 2, got {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits: must be finite")
    return z.astype(np.float64)


def _looks_like_probs(p: NDArray) -> bool:
    return bool(np.all((p >= 0) & (p <= 1)) and np.all(np.abs(p.sum(1) - 1) <= _PROBS_ATOL))


def _weights(sample_weight: ArrayLike | None, n: int) -> NDArray:
    if sample_weight is None:
        return np.full(n, 1.0 / n)
    w, _ = as_real(sample_weight, "sample_weight")
    if w.shape != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.sum(w) > 0:
        raise ValueError("sample_weight: must be finite, >= 0 and not all 0")
    return w / np.sum(w)


@tiered
def fit_temperature(
    logits: ArrayLike,
    labels: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    max_iter: int = 100,
) -> TemperatureFit:
    r"""Fit the inverse temperature of a softmax classifier by maximum likelihood.

    Parameters
    ----------
    logits : array_like, shape (n, K)
        Finite logits of n held-out samples (not probabilities: see the
        module docstring for the rule).
    labels : array_like of int, shape (n,)
        Their classes, in ``[0, K)``.
    sample_weight : array_like, shape (n,), optional
        Non-negative weights.
    max_iter : int
        Step limit of the solver.

    Returns
    -------
    TemperatureFit
        ``beta``, ``temperature = 1/beta``, the NLL, its derivative at the
        result, the steps taken and whether it converged.

    Notes
    -----
    ``NLL'(beta) = mean_n (E_{p_beta}[z_n] - z_{n,y_n})`` and
    ``NLL''(beta) = mean_n Var_{p_beta}(z_n) >= 0``, both formed from
    ``d = z_n - z_{n,y_n}`` (no cancellation of large logits). The slope at
    0 is ``mean_n (mean_k z_{n,k} - z_{n,y_n})``; as beta grows it tends to
    ``mean_n (max_k z_{n,k} - z_{n,y_n}) >= 0``. So

    - if the slope at 0 is ``>= 0`` the minimum over ``beta >= 0`` is at
      ``beta = 0`` (the logits rank the labels no better than chance): the
      result is ``beta = 0``, ``T = inf``, with a :class:`CalibrationWarning`;
    - if every label is a top logit the NLL decreases for ever: ``beta = inf``,
      ``T = 0``, with a :class:`CalibrationWarning`;
    - otherwise the unique minimizer is found by Newton's method from
      ``beta = 1``, safeguarded by a bracket ``(lo, hi)`` of the sign change
      of the slope: a Newton step that leaves it is replaced by doubling
      (while no positive slope has been seen) or by the midpoint, and the
      bracket shrinks every step. Iterates stay in ``(0, inf)``. It stops
      when the slope is 0 to rounding (``|NLL'| <= 8 eps mean|d|``) or the
      bracket is a few ULPs wide; convergence is reported, typically in 4 to
      7 steps.

    Examples
    --------
    >>> z = np.array([[2.0, 0.0, 0.0]] * 4)  # logits (c, 0, 0), c = 2
    >>> fit = fit_temperature(z, [0, 0, 0, 1])  # top class right 3 times in 4
    >>> round(fit.beta, 12), round(float(np.log(3 * 2 / 1) / 2), 12)
    (0.895879734614, 0.895879734614)
    """
    z = _logits(logits)
    n, k = z.shape
    if _looks_like_probs(z):
        raise ValueError(
            "logits: every row is a probability vector (entries in [0, 1] summing to 1); "
            "temperature scaling needs logits: pass np.log(probs)"
        )
    y = _labels(labels, n, k)
    w = _weights(sample_weight, n)
    d = z - z[np.arange(n), y][:, None]  # logits relative to the label's: d_y = 0

    def nll(beta: float) -> float:
        return float(np.dot(w, special.logsumexp(beta * d)))

    def slope_curvature(beta: float) -> tuple[float, float]:
        p = special.softmax(d, beta=beta)
        mean = np.sum(p * d, axis=1)
        var = np.sum(p * (d - mean[:, None]) ** 2, axis=1)
        return float(np.dot(w, mean)), float(np.dot(w, var))

    scale = float(np.dot(w, np.mean(np.abs(d), axis=1))) + math.ulp(1.0)
    tol = 8 * np.finfo(float).eps * scale
    slope0 = float(np.dot(w, np.mean(d, axis=1)))
    if slope0 >= -tol:
        warnings.warn(
            "the logits predict the labels no better than chance: beta = 0 (uniform)",
            CalibrationWarning,
            stacklevel=2,
        )
        return TemperatureFit(0.0, math.inf, nll(0.0), slope0, 0, True)
    if np.all(np.max(d[w > 0], axis=1) <= 0):
        warnings.warn(
            "every label is a top logit: the likelihood grows without bound as beta -> inf",
            CalibrationWarning,
            stacklevel=2,
        )
        ties = np.sum(d == 0, axis=1)  # the limit of the NLL: log of the ties at the top
        return TemperatureFit(math.inf, 0.0, float(np.dot(w, np.log(ties))), 0.0, 0, True)
    lo, hi, beta = 0.0, math.inf, 1.0
    g, h = slope_curvature(beta)
    for step in range(1, max_iter + 1):
        if g < 0:
            lo = beta
        else:
            hi = beta
        if abs(g) <= tol or (hi < math.inf and hi - lo <= 4 * math.ulp(hi)):
            return TemperatureFit(beta, 1 / beta, nll(beta), g, step, True)
        beta_next = beta - g / h if h > 0 else math.nan
        if not lo < beta_next < hi:  # double until the slope turns positive (its limit is)
            beta_next = 2 * beta if hi == math.inf else 0.5 * (lo + hi)
        beta = beta_next
        g, h = slope_curvature(beta)
    return TemperatureFit(beta, 1 / beta, nll(beta), g, max_iter, False)


# ------------------------------------------------------------------ calibration


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per-bin statistics of the top-label confidence (see :func:`reliability_curve`).

    Attributes
    ----------
    edges : ndarray, shape (n_bins + 1,)
        ``linspace(0, 1, n_bins + 1)``; bin m is ``(edges[m], edges[m + 1]]``
        (bin 0 also holds a confidence of exactly 0).
    confidence, accuracy : ndarray, shape (n_bins,)
        Mean top-label probability and fraction correct per bin (NaN if empty).
    count : ndarray of int, shape (n_bins,)
        Samples per bin.
    """

    edges: NDArray
    confidence: NDArray
    accuracy: NDArray
    count: NDArray

    @property
    def ece(self) -> float:
        """``sum_m |B_m| / n |acc(B_m) - conf(B_m)|``, the expected calibration error."""
        used = self.count > 0
        gaps = np.abs(self.accuracy[used] - self.confidence[used])
        return float(np.sum(self.count[used] * gaps) / np.sum(self.count))


def _top_label(probs: ArrayLike | None, logits: ArrayLike | None) -> tuple[NDArray, NDArray, int]:
    """Confidence (max probability), predicted class (first argmax) of each row, and K."""
    if (probs is None) == (logits is None):
        raise TypeError("pass exactly one of probs= or logits= (by keyword)")
    if logits is not None:
        p = special.softmax(_logits(logits))
    else:
        p, _ = as_real(probs, "probs")
        p = p.astype(np.float64)
        if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
            raise ValueError(f"probs: expected shape (n, K) with n >= 1 and K >= 2, got {p.shape}")
        if not _looks_like_probs(p):
            raise ValueError(
                "probs: rows must be probability vectors (entries in [0, 1] summing to 1 "
                "within 1e-6); for logits use logits="
            )
    return np.max(p, axis=1), np.argmax(p, axis=1), p.shape[1]


@tiered
def reliability_curve(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    n_bins: int = 15,
) -> ReliabilityCurve:
    r"""Reliability diagram data: per-bin confidence, accuracy and count.

    Parameters
    ----------
    probs : array_like, shape (n, K), keyword-only
        Predicted probabilities; or
    logits : array_like, shape (n, K), keyword-only
        logits (probabilities ``softmax(logits)``). Exactly one of the two.
    labels : array_like of int, shape (n,)
        True classes.
    n_bins : int
        Number of equal-width bins of ``[0, 1]``, ``>= 1``.

    Returns
    -------
    ReliabilityCurve

    Notes
    -----
    The top label is the first argmax; its confidence ``c`` goes to bin
    ``m`` with ``edges[m] < c <= edges[m + 1]`` (``searchsorted`` on the
    float edges, so a confidence exactly on an edge always lands in the bin
    below it; ``c = 0`` in bin 0).

    Examples
    --------
    >>> curve = reliability_curve(probs=[[0.9, 0.1], [0.6, 0.4]], labels=[0, 1], n_bins=2)
    >>> curve.count.tolist(), curve.accuracy.tolist()
    ([0, 2], [nan, 0.5])
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins: expected an integer >= 1, got {n_bins!r}")
    confidence, predicted, k = _top_label(probs, logits)
    y = _labels(labels, len(confidence), k)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    correct = np.bincount(bins, weights=(predicted == y).astype(float), minlength=n_bins)
    total = np.bincount(bins, weights=confidence, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ReliabilityCurve(edges, total / count, correct / count, count)


@tiered
def expected_calibration_error(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    n_bins: int = 15,
) -> float:
    r"""Expected calibration error of the top label.

    Parameters
    ----------
    probs, logits : array_like, shape (n, K), keyword-only
        Exactly one: probabilities, or logits (``softmax`` is applied).
    labels : array_like of int, shape (n,)
    n_bins : int
        Equal-width bins ``(lo, hi]`` of the confidence, ``>= 1``.

    Returns
    -------
    float
        ``ECE = sum_m |B_m| / n |acc(B_m) - conf(B_m)|`` (Naeini et al. 2015;
        Guo et al. 2017), in ``[0, 1]``.

    Examples
    --------
    >>> expected_calibration_error(probs=[[0.9, 0.1], [0.6, 0.4]], labels=[0, 1], n_bins=2)
    0.25
    """
    return reliability_curve(probs=probs, logits=logits, labels=labels, n_bins=n_bins).ece
