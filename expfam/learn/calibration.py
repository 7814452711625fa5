"""Calibration of a softmax classifier: temperature scaling and the metrics that judge it.

A classifier's logits z_n become probabilities ``softmax(beta z_n)``; the
inverse temperature beta is fitted on held-out data by minimizing the
negative log-likelihood

    ``NLL(beta) = sum_n w_n [logsumexp(beta z_n) - beta z_{n, y_n}] / sum_n w_n``,

which is convex in beta: its second derivative is the mean variance of the
logits under ``p_beta``. Its stationary point matches moments: the mean
logit under the model, ``E_{p_beta}[z_n]``, equals the mean logit of the
observed classes. The path ``beta -> softmax(beta z)`` is the e-geodesic
from the uniform distribution through ``softmax(z)``; richer maps (vector,
matrix and Dirichlet scaling, Platt) are in :mod:`expfam.learn.recalibration`.

The metrics:

- binned calibration errors: the top-label ECE and MCE
  (:func:`expected_calibration_error`, :func:`max_calibration_error`), the
  classwise ECE (:func:`classwise_calibration_error`) and the debiased L2
  calibration error, top-label or marginal (:func:`debiased_calibration_error`),
  with equal-width (``binning="uniform"``) or equal-mass
  (``binning="quantile"``) bins ``(lo, hi]``;
- proper scores: :func:`brier_score`, :func:`log_loss`, and Murphy's
  decomposition of either into reliability, resolution and uncertainty
  (:func:`score_decomposition`);
- :func:`bootstrap_interval`: a percentile bootstrap interval for any of them.

Logits or probabilities: every metric takes exactly one of ``probs=`` or
``logits=`` by keyword. Passing probabilities where logits are expected is
the common mistake (a softmax of probabilities is almost uniform), so a
``logits`` array whose every row is a probability vector (entries in
[0, 1] summing to 1 within 1e-6, not all of them 0 or 1) is refused with an
error: pass it as ``probs=``, or ``np.log(probs)`` as logits. One-hot rows
are read as the logits they also are. ``probs`` rows must sum to 1.

References
----------
C. Guo, G. Pleiss, Y. Sun and K. Weinberger, "On calibration of modern
neural networks", ICML 2017. M. P. Naeini, G. Cooper and M. Hauskrecht,
"Obtaining well calibrated probabilities using Bayesian binning", AAAI 2015.
M. Kull, M. Perello-Nieto, M. Kängsepp, T. Silva Filho, H. Song and P. Flach,
"Beyond temperature scaling: obtaining well-calibrated multiclass probabilities
with Dirichlet calibration", NeurIPS 2019. A. Kumar, P. Liang and T. Ma,
"Verified uncertainty calibration", NeurIPS 2019. A. H. Murphy, "A new vector
partition of the probability score", J. Appl. Meteor. 1973.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.special
from numpy.typing import ArrayLike, NDArray

from expfam import special
from expfam._core.args import as_real, as_rng
from expfam._core.dispatch import tiered
from expfam._core.exceptions import CalibrationWarning, ConvergenceWarning
from expfam._core.solvers import bracketed_newton
from expfam._core.xp import namespace, scalar

__all__ = [
    "ReliabilityCurve",
    "ScoreDecomposition",
    "TemperatureFit",
    "bootstrap_interval",
    "brier_score",
    "classwise_calibration_error",
    "debiased_calibration_error",
    "expected_calibration_error",
    "fit_temperature",
    "log_loss",
    "max_calibration_error",
    "reliability_curve",
    "score_decomposition",
]

_PROBS_ATOL = 1e-6
_EPS = np.finfo(np.float64).eps
Binning = Literal["uniform", "quantile"]


# ------------------------------------------------------------------ reading the arguments


def _check_labels(labels: ArrayLike, n: int, k: int, name: str = "labels") -> NDArray:
    """Integer class indices of shape (n,) in ``[0, k)``; errors name ``name``."""
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer class indices, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},) to match the rows, got {y.shape}")
    if np.any((y < 0) | (y >= k)):
        bad = y[(y < 0) | (y >= k)][0]
        raise ValueError(f"{name}: expected class indices in [0, {k}), got {bad}")
    return y.astype(np.intp)


def _check_logits(logits: ArrayLike, name: str = "logits") -> NDArray:
    """Finite float64 logits of shape (n, K), n >= 1, K >= 2, that are not probabilities."""
    z, _ = as_real(logits, name)
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 2:
        raise ValueError(f"{name}: expected shape (n, K) with n >= 1 and K >= 2, got {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"{name}: expected finite logits, got a non-finite entry")
    z = z.astype(np.float64)
    if _looks_like_probs(z) and np.any((z > 0) & (z < 1)):
        raise ValueError(
            f"{name}: expected logits, got an array whose every row is a probability vector "
            "(entries in [0, 1] summing to 1); pass probabilities as probs=, or np.log(probs) "
            "as logits"
        )
    return z


def _looks_like_probs(p: NDArray) -> bool:
    return bool(np.all((p >= 0) & (p <= 1)) and np.all(np.abs(p.sum(1) - 1) <= _PROBS_ATOL))


def _check_weights(sample_weight: ArrayLike | None, n: int) -> NDArray:
    """Non-negative finite weights of shape (n,), not all 0 (ones when None); not normalized."""
    if sample_weight is None:
        return np.ones(n)
    w, _ = as_real(sample_weight, "sample_weight")
    if w.shape != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), got {w.shape}")
    w = w.astype(np.float64)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.sum(w) > 0:
        raise ValueError("sample_weight: expected finite weights >= 0, not all 0")
    return w


def _check_n_bins(n_bins: object) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins: expected an integer >= 1, got {n_bins!r}")
    return int(n_bins)


def _forecast(
    probs: ArrayLike | None, logits: ArrayLike | None, *, softmax: bool = True
) -> tuple[NDArray, NDArray | None]:
    """``(p, z)``: the probabilities (n, K), and the logits when they were given.

    With ``softmax=False`` and logits given, ``p`` is the logits themselves
    (for callers that need only their shape and ``z``).
    """
    if (probs is None) == (logits is None):
        raise TypeError("probs, logits: expected exactly one of probs= or logits= (by keyword)")
    if logits is not None:
        z = _check_logits(logits)
        return (special.softmax(z) if softmax else z), z
    p, _ = as_real(probs, "probs")
    p = p.astype(np.float64)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
        raise ValueError(f"probs: expected shape (n, K) with n >= 1 and K >= 2, got {p.shape}")
    if not _looks_like_probs(p):
        raise ValueError(
            "probs: expected rows that are probability vectors (entries in [0, 1] summing "
            "to 1 within 1e-6); for logits use logits="
        )
    return p, None


# ------------------------------------------------------------------ temperature


@dataclass(frozen=True)
class TemperatureFit:
    """The result of :func:`fit_temperature`.

    Each parameter is the attribute of the same name.

    Parameters
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
        Whether the stopping rule was met within ``max_iter`` steps.
    """

    beta: float
    temperature: float
    nll: float
    gradient: float
    iterations: int
    converged: bool


@tiered
def fit_temperature(
    logits: ArrayLike,
    labels: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    max_iter: int = 100,
) -> TemperatureFit:
    r"""Fit the inverse temperature of a softmax classifier by maximum likelihood.

    .. math::

        \beta^* = \arg\min_{\beta \ge 0} \frac{\sum_n w_n \left[\log \sum_k
        e^{\beta z_{nk}} - \beta z_{n y_n}\right]}{\sum_n w_n}

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
        Step limit of the solver, ``>= 1``.

    Returns
    -------
    TemperatureFit
        ``beta``, ``temperature = 1/beta``, the NLL, its derivative at the
        result, the steps taken and whether it converged.

    Warns
    -----
    CalibrationWarning
        When the optimum is at a boundary, ``beta = 0`` or ``beta = inf``.
    ConvergenceWarning
        When ``max_iter`` steps did not meet the stopping rule.

    Notes
    -----
    ``NLL'(beta) = mean_n (E_{p_beta}[z_n] - z_{n,y_n})`` and
    ``NLL''(beta) = mean_n Var_{p_beta}(z_n) >= 0``, both formed from
    ``d = z_n - z_{n,y_n}`` (no cancellation of large logits). The fit is
    scale-equivariant: the logits ``s z`` give ``beta* / s``. It solves for
    ``beta s`` on ``d / s``, with ``s`` the weighted mean ``|d|`` (formed from
    ``z / max|z|``), so that neither huge nor tiny logits overflow, and
    starts at ``beta s = 1``. The
    slope at 0 is ``mean_n (mean_k d_{n,k})``; as beta grows it tends to
    ``mean_n max_k d_{n,k} >= 0``. So

    - if the slope at 0 is ``>= 0`` the minimum over ``beta >= 0`` is at
      ``beta = 0`` (the logits rank the labels no better than chance): the
      result is ``beta = 0``, ``T = inf``, with a :class:`CalibrationWarning`;
    - if every label is a top logit the NLL decreases for ever: ``beta = inf``,
      ``T = 0``, with a :class:`CalibrationWarning`;
    - otherwise the unique minimizer is the root of the increasing slope,
      found by :func:`expfam._core.solvers.bracketed_newton` (Newton's
      method safeguarded by the bracket ``(0, inf)`` of the sign change),
      stopping when the slope is 0 to rounding or the step is a few ULPs.

    Examples
    --------
    >>> z = np.array([[2.0, 0.0, 0.0]] * 4)  # logits (c, 0, 0), c = 2
    >>> fit = fit_temperature(z, [0, 0, 0, 1])  # top class right 3 times in 4
    >>> round(fit.beta, 12), round(float(np.log(3 * 2 / 1) / 2), 12)
    (0.895879734614, 0.895879734614)
    """
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")
    z = _check_logits(logits)
    n, k = z.shape
    y = _check_labels(labels, n, k)
    w = _check_weights(sample_weight, n)
    w = w / np.sum(w)
    # solve for b = beta * size on u = (z - z_y) / size, free of overflow and underflow
    top = float(np.max(np.abs(z)))
    zt = z / top if top > 0 else z
    d = zt - zt[np.arange(n), y][:, None]  # logits relative to the label's: d_y = 0
    spread = float(np.dot(w, np.mean(np.abs(d), axis=1)))
    u = d / spread if spread > 0 else d

    def size(x: float) -> float:  # x (per unit of u) in the caller's units, x * spread * top
        return (x * spread) * top

    def nll(b: float) -> float:
        return float(np.dot(w, special.logsumexp(b * u)))

    slope0 = float(np.dot(w, np.mean(u, axis=1)))
    if not spread > 0 or slope0 >= -8 * _EPS:
        warnings.warn(
            "the logits predict the labels no better than chance: beta = 0 (uniform)",
            CalibrationWarning,
            stacklevel=2,
        )
        return TemperatureFit(0.0, math.inf, nll(0.0), size(slope0), 0, True)
    if np.all(np.max(u[w > 0], axis=1) <= 0):
        warnings.warn(
            "every label is a top logit: the likelihood grows without bound as beta -> inf",
            CalibrationWarning,
            stacklevel=2,
        )
        ties = np.sum(u == 0, axis=1)  # the limit of the NLL: log of the ties at the top
        return TemperatureFit(math.inf, 0.0, float(np.dot(w, np.log(ties))), 0.0, 0, True)

    def slope(b: NDArray, active: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        p = special.softmax(u, beta=float(b[0]))
        mean = np.sum(p * u, axis=1)
        var = np.sum(p * (u - mean[:, None]) ** 2, axis=1)
        scale = float(np.dot(w, np.mean(np.abs(u), axis=1)))
        return np.array([np.dot(w, mean)]), np.array([np.dot(w, var)]), np.array([scale])

    root = bracketed_newton(
        slope,
        np.ones(1),
        np.zeros(1),
        np.full(1, np.inf),
        gtol=8 * _EPS,
        max_iter=int(max_iter),
    )
    b = float(root.x[0])
    converged = bool(root.converged[0])
    gradient = float(slope(root.x, root.converged)[0][0])
    if not converged:
        warnings.warn(
            f"fit_temperature stopped after max_iter={max_iter} steps with slope "
            f"{gradient:.3g} (not 0 to rounding); raise max_iter",
            ConvergenceWarning,
            stacklevel=2,
        )
    beta = (b / spread) / top
    return TemperatureFit(beta, 1 / beta, nll(b), size(gradient), root.n_iter, converged)


# ------------------------------------------------------------------ binning


def _bin_edges(values: NDArray, weights: NDArray, n_bins: int, binning: str, what: str) -> NDArray:
    """Edges ``0 = e_0 < ... < e_M = 1`` of the bins ``(e_m, e_{m+1}]`` of ``values``.

    ``"uniform"``: ``linspace(0, 1, n_bins + 1)``. ``"quantile"``: ``e_m`` is
    the smallest value whose cumulative weight (values sorted) reaches
    ``m / n_bins`` of the total; repeated edges merge, so ties can leave fewer bins.
    """
    if binning == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if binning != "quantile":
        raise ValueError(f"binning: expected 'uniform' or 'quantile', got {binning!r}")
    v = values[weights > 0]
    if n_bins > 1 and np.all(v == v[0]):
        raise ValueError(
            f"binning: equal-mass bins need at least 2 distinct {what}, got all {len(v)} "
            f"equal to {v[0]:.6g}; use binning='uniform' or n_bins=1"
        )
    order = np.argsort(v, kind="stable")
    cumulative = np.cumsum(weights[weights > 0][order])
    targets = np.arange(1, n_bins) / n_bins * cumulative[-1]
    inner = v[order][np.minimum(np.searchsorted(cumulative, targets), len(v) - 1)]
    return np.unique(np.concatenate([[0.0], inner, [1.0]]))


@dataclass(frozen=True)
class _Bins:
    """Per-bin weight (fraction of the total), mean value and mean target, and counts."""

    edges: NDArray
    index: NDArray
    count: NDArray
    weight: NDArray
    value: NDArray
    target: NDArray


def _binned(
    values: NDArray, targets: NDArray, weights: NDArray, n_bins: int, binning: str, what: str
) -> _Bins:
    edges = _bin_edges(values, weights, n_bins, binning, what)
    m = len(edges) - 1
    index = np.clip(np.searchsorted(edges, values, side="left") - 1, 0, m - 1)
    count = np.bincount(index, minlength=m)
    total = np.bincount(index, weights=weights, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.bincount(index, weights=weights * values, minlength=m) / total
        target = np.bincount(index, weights=weights * targets, minlength=m) / total
    return _Bins(edges, index, count, total / np.sum(weights), value, target)


# ------------------------------------------------------------------ reliability and ECE


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per-bin statistics of the top-label confidence (see :func:`reliability_curve`).

    Each parameter is the attribute of the same name; the properties ``ece``,
    ``mce`` and ``gaps`` derive the calibration errors from them.

    Parameters
    ----------
    edges : ndarray, shape (M + 1,)
        Bin edges from 0 to 1; bin m is ``(edges[m], edges[m + 1]]`` (bin 0
        also holds a confidence of exactly 0). ``M = n_bins`` for uniform
        bins, at most ``n_bins`` for equal-mass bins (ties merge edges).
    confidence, accuracy : ndarray, shape (M,)
        Weighted mean top-label probability and fraction correct per bin
        (NaN where the bin has no weight).
    count : ndarray of int, shape (M,)
        Samples per bin.
    weight : ndarray, shape (M,), optional
        Fraction of the total sample weight per bin (``count / n`` when None).
    """

    edges: NDArray
    confidence: NDArray
    accuracy: NDArray
    count: NDArray
    weight: NDArray | None = None

    def _xp(self) -> Any:
        """numpy, or the namespace of a curve of the portable tier's arrays."""
        if isinstance(self.confidence, np.ndarray):
            return np
        return namespace(self.confidence)

    def _fractions(self) -> NDArray:
        if self.weight is not None:
            return self.weight
        xp = self._xp()
        count = xp.astype(self.count, self.confidence.dtype)
        return count / xp.sum(count)

    @property
    def ece(self) -> float:
        r"""Expected calibration error, :math:`\sum_m W_m |\mathrm{acc}_m - \mathrm{conf}_m|`."""
        fractions = self._fractions()
        used = fractions > 0
        return scalar(self._xp().sum(fractions[used] * self.gaps[used]))

    @property
    def mce(self) -> float:
        r"""Maximum calibration error :math:`\max_{W_m > 0} |\mathrm{acc}_m - \mathrm{conf}_m|`."""
        used = self._fractions() > 0
        return scalar(self._xp().max(self.gaps[used]))

    @property
    def gaps(self) -> NDArray:
        """``|accuracy - confidence|`` per bin (NaN where a bin is empty)."""
        return abs(self.accuracy - self.confidence)


@tiered
def reliability_curve(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    n_bins: int = 15,
    binning: Binning = "uniform",
    sample_weight: ArrayLike | None = None,
) -> ReliabilityCurve:
    r"""Reliability diagram data: per-bin confidence, accuracy and count of the top label.

    .. math::

        \mathrm{conf}_m = \frac{\sum_{n \in B_m} w_n c_n}{\sum_{n \in B_m} w_n},
        \quad \mathrm{acc}_m = \frac{\sum_{n \in B_m} w_n [\hat y_n = y_n]}
        {\sum_{n \in B_m} w_n}, \quad c_n = \max_k p_{nk}, \;
        \hat y_n = \arg\max_k p_{nk}

    Parameters
    ----------
    probs : array_like, shape (n, K), keyword-only
        Predicted probabilities; or
    logits : array_like, shape (n, K), keyword-only
        logits (probabilities ``softmax(logits)``). Exactly one of the two.
    labels : array_like of int, shape (n,)
        True classes.
    n_bins : int
        Number of bins, ``>= 1``.
    binning : {"uniform", "quantile"}
        Equal-width bins of ``[0, 1]``, or equal-mass (adaptive) bins holding
        ``1 / n_bins`` of the sample weight each: their edges are
        confidences, and ties that straddle an edge merge bins. Equal-mass
        bins of confidences that are all equal are refused.
    sample_weight : array_like, shape (n,), optional
        Non-negative weights.

    Returns
    -------
    ReliabilityCurve
        ``edges``, and per bin the weighted mean ``confidence``, the
        ``accuracy``, the ``count`` of samples and (with ``sample_weight``)
        the ``weight`` fraction; its ``ece`` and ``mce`` are
        :func:`expected_calibration_error` and :func:`max_calibration_error`.

    Notes
    -----
    The top label is the first argmax; its confidence ``c`` goes to bin
    ``m`` with ``edges[m] < c <= edges[m + 1]`` (``searchsorted`` on the
    float edges, so a confidence exactly on an edge always lands in the bin
    below it; ``c = 0`` in bin 0). With uniform bins and no weights the
    non-empty bins agree with scikit-learn's ``calibration_curve`` on the
    correctness indicator (except for confidences exactly on an edge, which
    it puts in the bin above).

    Examples
    --------
    >>> curve = reliability_curve(probs=[[0.9, 0.1], [0.6, 0.4]], labels=[0, 1], n_bins=2)
    >>> curve.count.tolist(), curve.accuracy.tolist()
    ([0, 2], [nan, 0.5])
    """
    return _reliability(probs, logits, labels, n_bins, binning, sample_weight)


def _reliability(
    probs: ArrayLike | None,
    logits: ArrayLike | None,
    labels: ArrayLike,
    n_bins: int,
    binning: str,
    sample_weight: ArrayLike | None,
) -> ReliabilityCurve:
    """The body of :func:`reliability_curve` (called by the ECE and MCE without a dispatch)."""
    n_bins = _check_n_bins(n_bins)
    p, _ = _forecast(probs, logits)
    n, k = p.shape
    y = _check_labels(labels, n, k)
    w = _check_weights(sample_weight, n)
    confidence, predicted = np.max(p, axis=1), np.argmax(p, axis=1)
    correct = (predicted == y).astype(np.float64)
    bins = _binned(confidence, correct, w, n_bins, binning, "confidences")
    weight = None if sample_weight is None else bins.weight
    return ReliabilityCurve(bins.edges, bins.value, bins.target, bins.count, weight)


@tiered
def expected_calibration_error(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    n_bins: int = 15,
    binning: Binning = "uniform",
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""Expected calibration error of the top label.

    .. math::

        \mathrm{ECE} = \sum_m W_m \left| \mathrm{acc}_m - \mathrm{conf}_m \right|

    with ``W_m`` the fraction of the sample weight in bin ``m`` and the
    per-bin accuracy and confidence of :func:`reliability_curve`.

    Parameters
    ----------
    probs, logits : array_like, shape (n, K), keyword-only
        Exactly one: probabilities, or logits (``softmax`` is applied).
    labels : array_like of int, shape (n,)
        True classes, indices in ``[0, K)``.
    n_bins : int
        Number of bins ``(lo, hi]`` of the confidence, ``>= 1``.
    binning : {"uniform", "quantile"}
        Equal-width or equal-mass bins (see :func:`reliability_curve`).
    sample_weight : array_like, shape (n,), optional
        Non-negative finite weights, not all 0; default all 1.

    Returns
    -------
    float
        The ECE (Naeini et al. 2015; Guo et al. 2017), in ``[0, 1]``.

    Examples
    --------
    >>> expected_calibration_error(probs=[[0.9, 0.1], [0.6, 0.4]], labels=[0, 1], n_bins=2)
    0.25
    """
    return _reliability(probs, logits, labels, n_bins, binning, sample_weight).ece


@tiered
def max_calibration_error(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    n_bins: int = 15,
    binning: Binning = "uniform",
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""Maximum calibration error of the top label: the worst non-empty bin.

    .. math::

        \mathrm{MCE} = \max_{m : W_m > 0} \left| \mathrm{acc}_m - \mathrm{conf}_m \right|

    Parameters
    ----------
    probs, logits : array_like, shape (n, K), keyword-only
        Exactly one: probabilities, or logits.
    labels : array_like of int, shape (n,)
        True classes, indices in ``[0, K)``.
    n_bins : int
        Number of bins ``(lo, hi]`` of the confidence, ``>= 1``.
    binning : {"uniform", "quantile"}
        Equal-width or equal-mass bins (see :func:`reliability_curve`).
    sample_weight : array_like, shape (n,), optional
        Non-negative finite weights, not all 0; default all 1.

    Returns
    -------
    float
        The MCE (Naeini et al. 2015), in ``[0, 1]``.

    Examples
    --------
    >>> max_calibration_error(probs=[[0.9, 0.1], [0.6, 0.4]], labels=[0, 0], n_bins=2)
    0.25
    """
    return _reliability(probs, logits, labels, n_bins, binning, sample_weight).mce


@tiered
def classwise_calibration_error(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    n_bins: int = 15,
    binning: Binning = "uniform",
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""Classwise expected calibration error (Kull et al., 2019): every class, not the top one.

    .. math::

        \mathrm{cwECE} = \frac{1}{K} \sum_{k=1}^{K} \sum_m W_{mk}
        \left| \bar y_{mk} - \bar p_{mk} \right|

    where the bins ``B_{mk}`` split the probabilities ``p_{nk}`` of class
    ``k``, ``W_{mk}`` is their fraction of the weight, ``\bar p_{mk}`` their
    weighted mean and ``\bar y_{mk}`` the weighted frequency of ``y_n = k``.

    Parameters
    ----------
    probs, logits : array_like, shape (n, K), keyword-only
        Exactly one: probabilities, or logits.
    labels : array_like of int, shape (n,)
        True classes, indices in ``[0, K)``.
    n_bins : int
        Bins per class, ``>= 1``.
    binning : {"uniform", "quantile"}
        Equal-width, or equal-mass bins of each class's probabilities.
    sample_weight : array_like, shape (n,), optional
        Non-negative finite weights, not all 0; default all 1.

    Returns
    -------
    float
        In ``[0, 1]``; 0 when each class's probability matches its frequency bin by bin.
        On torch, JAX, CuPy or array-api-strict arrays, a 0-d array of the
        input's namespace and dtype, differentiable in the probabilities and
        weights inside the bins, traceable by ``jax.jit`` (both binnings).

    Examples
    --------
    >>> p = [[0.9, 0.1], [0.6, 0.4]]
    >>> classwise_calibration_error(probs=p, labels=[0, 1], n_bins=2)
    0.25
    """
    n_bins = _check_n_bins(n_bins)
    p, _ = _forecast(probs, logits)
    n, k = p.shape
    y = _check_labels(labels, n, k)
    w = _check_weights(sample_weight, n)
    total = 0.0
    for c in range(k):
        bins = _binned(
            p[:, c], (y == c).astype(float), w, n_bins, binning, f"probabilities of class {c}"
        )
        used = bins.weight > 0
        total += float(np.sum(bins.weight[used] * np.abs(bins.target - bins.value)[used]))
    return total / k


@tiered
def debiased_calibration_error(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    n_bins: int = 15,
    binning: Binning = "quantile",
    mode: Literal["top-label", "marginal"] = "top-label",
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""The debiased L2 calibration error of Kumar, Liang and Ma (2019).

    .. math::

        \widehat{\mathrm{CE}}^2 = \sum_m W_m \left[ (\bar y_m - \bar p_m)^2
        - \frac{\bar y_m (1 - \bar y_m)}{n_m - 1} \right], \quad
        \mathrm{CE} = \sqrt{\max(\widehat{\mathrm{CE}}^2, 0)}

    The plug-in ``(\bar y_m - \bar p_m)^2`` overestimates the squared gap
    of each bin by the variance of ``\bar y_m``, ``q_m (1 - q_m) / n_m``
    for labels drawn with probability ``q_m``; the subtracted term is its
    unbiased estimate, so the sum is unbiased for
    ``\sum_m W_m (q_m - \bar p_m)^2``. Bins with fewer than 2 samples count 0.

    Parameters
    ----------
    probs, logits : array_like, shape (n, K), keyword-only
        Exactly one: probabilities, or logits.
    labels : array_like of int, shape (n,)
        True classes, indices in ``[0, K)``.
    n_bins : int
        Bins, ``>= 1``.
    binning : {"quantile", "uniform"}
        Equal-mass bins (the default, as Kumar et al.) or equal-width bins.
    mode : {"top-label", "marginal"}
        ``"top-label"``: ``p`` the top-label confidence and ``y`` whether
        it is right. ``"marginal"``: the squared error of every class
        (its probability against ``y = k``), averaged over the classes
        (each clipped at 0) before the square root.
    sample_weight : array_like, shape (n,), optional
        Reliability weights: ``n_m`` becomes the effective size
        ``(\sum w)^2 / \sum w^2`` of the bin.

    Returns
    -------
    float
        The estimate of the L2 calibration error, ``>= 0``. On torch, JAX,
        CuPy or array-api-strict arrays, a 0-d array of the input's namespace
        and dtype, differentiable (gradient 0, not NaN, where the estimate is
        0) and traceable by ``jax.jit`` (both binnings and modes).

    Examples
    --------
    >>> p = np.array([[0.8, 0.2]] * 4 + [[0.4, 0.6]] * 4)
    >>> y = [0, 0, 0, 1, 1, 1, 0, 0]  # accuracies 3/4, 1/2 against 0.8, 0.6: within the noise
    >>> round(debiased_calibration_error(probs=p, labels=y, n_bins=2), 6)
    0.0
    """
    n_bins = _check_n_bins(n_bins)
    if mode not in ("top-label", "marginal"):
        raise ValueError(f"mode: expected 'top-label' or 'marginal', got {mode!r}")
    p, _ = _forecast(probs, logits)
    n, k = p.shape
    y = _check_labels(labels, n, k)
    w = _check_weights(sample_weight, n)

    def squared(values: NDArray, targets: NDArray, what: str) -> float:
        bins = _binned(values, targets, w, n_bins, binning, what)
        m = len(bins.count)
        sum_w2 = np.bincount(bins.index, weights=w**2, minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            effective = bins.weight**2 / sum_w2 * np.sum(w) ** 2
        used = (bins.count >= 2) & (bins.weight > 0) & (effective > 1)
        ybar, pbar = bins.target[used], bins.value[used]
        terms = (ybar - pbar) ** 2 - ybar * (1 - ybar) / (effective[used] - 1)
        return max(float(np.sum(bins.weight[used] * terms)), 0.0)

    if mode == "top-label":
        correct = (np.argmax(p, axis=1) == y).astype(np.float64)
        return math.sqrt(squared(np.max(p, axis=1), correct, "confidences"))
    per_class = [
        squared(p[:, c], (y == c).astype(np.float64), f"probabilities of class {c}")
        for c in range(k)
    ]
    return math.sqrt(float(np.mean(per_class)))


# ------------------------------------------------------------------ proper scores


@tiered
def brier_score(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""The (multiclass) Brier score: the mean squared distance to the one-hot label.

    .. math::

        \mathrm{BS} = \frac{\sum_n w_n \sum_k (p_{nk} - [y_n = k])^2}{\sum_n w_n}

    Parameters
    ----------
    probs, logits : array_like, shape (n, K), keyword-only
        Exactly one: probabilities, or logits.
    labels : array_like of int, shape (n,)
        True classes, indices in ``[0, K)``.
    sample_weight : array_like, shape (n,), optional
        Non-negative finite weights, not all 0; default all 1.

    Returns
    -------
    float
        In ``[0, 2]``; a strictly proper score. For K = 2 it is twice
        scikit-learn's binary ``brier_score_loss``.

    Examples
    --------
    >>> brier_score(probs=[[0.9, 0.1], [0.6, 0.4]], labels=[0, 1])
    0.37
    """
    p, _ = _forecast(probs, logits)
    n, k = p.shape
    y = _check_labels(labels, n, k)
    w = _check_weights(sample_weight, n)
    residual = p.copy()
    residual[np.arange(n), y] -= 1.0
    return float(np.dot(w, np.sum(residual**2, axis=1)) / np.sum(w))


@tiered
def log_loss(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""The negative log-likelihood (log score) of the labels.

    .. math::

        \mathrm{NLL} = -\frac{\sum_n w_n \log p_{n y_n}}{\sum_n w_n},
        \quad \log p_{n y} = z_{ny} - \log \sum_k e^{z_{nk}} \text{ from logits}

    Parameters
    ----------
    probs, logits : array_like, shape (n, K), keyword-only
        Exactly one: probabilities, or logits (then ``log_softmax`` gives
        the log-probabilities directly, without rounding ``p`` first).
    labels : array_like of int, shape (n,)
        True classes, indices in ``[0, K)``.
    sample_weight : array_like, shape (n,), optional
        Non-negative finite weights, not all 0; default all 1.

    Returns
    -------
    float
        ``>= 0``; ``inf`` when a label with positive weight has probability 0
        (no clipping, unlike scikit-learn's ``log_loss``).

    Examples
    --------
    >>> round(log_loss(probs=[[0.5, 0.5], [0.25, 0.75]], labels=[0, 1]), 9)  # (log 2 + log 4/3)/2
    0.490414627
    """
    p, z = _forecast(probs, logits, softmax=False)
    n, k = p.shape
    y = _check_labels(labels, n, k)
    w = _check_weights(sample_weight, n)
    rows = np.arange(n)
    if z is not None:
        loss = -special.log_softmax(z)[rows, y]
    else:
        with np.errstate(divide="ignore"):
            loss = -np.log(p[rows, y])
    used = w > 0
    return float(np.dot(w[used], loss[used]) / np.sum(w))


@dataclass(frozen=True)
class ScoreDecomposition:
    """Murphy's decomposition of a proper score (see :func:`score_decomposition`).

    ``score = reliability - resolution + uncertainty``. Each parameter is the
    attribute of the same name.

    Parameters
    ----------
    score : float
        The mean score.
    reliability : float
        Miscalibration: the mean divergence from each group's label
        frequency to its forecast (0 when calibrated).
    resolution : float
        The mean divergence from the overall label frequency to each
        group's (how much the forecasts separate the outcomes).
    uncertainty : float
        The score of always forecasting the overall frequency (its entropy
        for the log score, ``1 - sum_k ybar_k^2`` for the Brier score).
    """

    score: float
    reliability: float
    resolution: float
    uncertainty: float


@tiered
def score_decomposition(
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    score: Literal["brier", "log"] = "brier",
    sample_weight: ArrayLike | None = None,
) -> ScoreDecomposition:
    r"""Murphy's decomposition of the Brier or log score: reliability, resolution, uncertainty.

    .. math::

        S = \underbrace{\sum_g W_g\, d(\bar y_g, p_g)}_{\text{reliability}}
        - \underbrace{\sum_g W_g\, d(\bar y_g, \bar y)}_{\text{resolution}}
        + \underbrace{H(\bar y)}_{\text{uncertainty}}

    The groups ``g`` are the distinct forecasts ``p_g``, ``W_g`` their share
    of the weight, ``\bar y_g`` the label frequencies in each and ``\bar y``
    overall. For the Brier score ``d(a, b) = \|a - b\|^2`` and
    ``H(a) = 1 - \|a\|^2``; for the log score ``d`` is the KL divergence
    ``\sum_k a_k \log(a_k / b_k)`` and ``H`` the Shannon entropy. The
    identity is exact (up to rounding) for any proper score of this Bregman
    form; to group continuous forecasts, round them first.

    Parameters
    ----------
    probs, logits : array_like, shape (n, K), keyword-only
        Exactly one: probabilities, or logits.
    labels : array_like of int, shape (n,)
        True classes, indices in ``[0, K)``.
    score : {"brier", "log"}
        ``"brier"``: the Brier score; ``"log"``: the log score (log-loss).
    sample_weight : array_like, shape (n,), optional
        Non-negative finite weights, not all 0; default all 1.

    Returns
    -------
    ScoreDecomposition
        The mean ``score`` and its ``reliability``, ``resolution`` and
        ``uncertainty`` terms, with ``score = reliability - resolution +
        uncertainty``. On torch, JAX, CuPy or array-api-strict arrays the
        four are 0-d arrays of the input's namespace and dtype: the groups
        are found by sorting the rows (no data-dependent shape), so it is
        differentiable and traceable by ``jax.jit``.

    Examples
    --------
    >>> p = [[0.8, 0.2], [0.8, 0.2], [0.3, 0.7], [0.3, 0.7]]
    >>> parts = score_decomposition(probs=p, labels=[0, 1, 1, 1])
    >>> round(parts.reliability - parts.resolution + parts.uncertainty - parts.score, 15)
    0.0
    """
    if score not in ("brier", "log"):
        raise ValueError(f"score: expected 'brier' or 'log', got {score!r}")
    p, z = _forecast(probs, logits)
    n, k = p.shape
    y = _check_labels(labels, n, k)
    w = _check_weights(sample_weight, n)
    w = w / np.sum(w)
    forecasts, group = np.unique(p, axis=0, return_inverse=True)
    group = group.reshape(-1)
    g = len(forecasts)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    share = np.bincount(group, weights=w, minlength=g)
    frequency = np.zeros((g, k))
    np.add.at(frequency, group, w[:, None] * onehot)
    used = share > 0
    frequency = frequency[used] / share[used, None]
    forecasts, share = forecasts[used], share[used]
    overall = w @ onehot
    if score == "brier":
        reliability = share @ np.sum((frequency - forecasts) ** 2, axis=1)
        resolution = share @ np.sum((frequency - overall) ** 2, axis=1)
        uncertainty = 1.0 - float(np.sum(overall**2))
        total = brier_score(probs=p, labels=y, sample_weight=w)
    else:
        reliability = share @ np.sum(scipy.special.rel_entr(frequency, forecasts), axis=1)
        resolution = share @ np.sum(scipy.special.rel_entr(frequency, overall), axis=1)
        uncertainty = float(np.sum(scipy.special.entr(overall)))
        kwargs: dict[str, Any] = {"probs": p} if z is None else {"logits": z}
        total = log_loss(**kwargs, labels=y, sample_weight=w)
    return ScoreDecomposition(total, float(reliability), float(resolution), uncertainty)


# ------------------------------------------------------------------ bootstrap


def _check_bootstrap(metric: object, n_resamples: object, confidence_level: object) -> None:
    """The argument checks of :func:`bootstrap_interval` (both tiers)."""
    if not callable(metric):
        raise TypeError(f"metric: expected a callable metric, got {metric!r}")
    if (
        isinstance(n_resamples, bool)
        or not isinstance(n_resamples, int | np.integer)
        or n_resamples < 1
    ):
        raise ValueError(f"n_resamples: expected an integer >= 1, got {n_resamples!r}")
    if not (isinstance(confidence_level, float | int) and 0 < confidence_level < 1):
        raise ValueError(
            f"confidence_level: expected a number in (0, 1), got {confidence_level!r}"
        )


@tiered
def bootstrap_interval(
    metric: Callable[..., float],
    *,
    probs: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    labels: ArrayLike,
    sample_weight: ArrayLike | None = None,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> tuple[float, float, float]:
    r"""A percentile bootstrap confidence interval for a calibration metric.

    .. math::

        \hat\theta = m(\text{data}), \quad
        [\mathrm{low}, \mathrm{high}] = \left[\hat\theta^*_{(\alpha/2)},
        \hat\theta^*_{(1 - \alpha/2)}\right], \quad \alpha = 1 - \text{level}

    with ``\hat\theta^*_{(q)}`` the ``q``-quantile of the metric over
    ``n_resamples`` resamples of the rows drawn with replacement.

    Parameters
    ----------
    metric : callable
        Any metric of this module (or one taking the same keywords), e.g.
        :func:`expected_calibration_error` or
        ``functools.partial(expected_calibration_error, n_bins=10)``; it is
        called as ``metric(probs=..., labels=...)`` (or ``logits=``, and
        ``sample_weight=`` when given) on each resample.
    probs, logits : array_like, shape (n, K), keyword-only
        Exactly one: probabilities, or logits.
    labels : array_like of int, shape (n,)
        True classes, indices in ``[0, K)``.
    sample_weight : array_like, shape (n,), optional
        Resampled with the rows.
    n_resamples : int
        Bootstrap resamples, ``>= 1``.
    confidence_level : float
        In ``(0, 1)``.
    rng : numpy.random.Generator, int or None
        The source of the resamples.

    Returns
    -------
    estimate : float
        The metric on the data.
    low, high : float
        The ends of the percentile interval.

    Notes
    -----
    On torch, JAX, CuPy or array-api-strict arrays the resamples are drawn
    by numpy from ``rng`` as here (so a seed gives the same interval on
    every backend), ``metric`` is called on arrays of the namespace and must
    return 0-d arrays of it, and the three results are 0-d arrays of it,
    differentiable where the metric is. Use it eagerly: under ``jax.jit``
    the resamples are drawn once, at tracing, and the calls unroll.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet([1.0, 1.0, 1.0], 200)
    >>> y = rng.integers(0, 3, 200)
    >>> est, low, high = bootstrap_interval(brier_score, probs=p, labels=y, rng=0)
    >>> bool(low < est < high)
    True
    """
    _check_bootstrap(metric, n_resamples, confidence_level)
    generator = as_rng(rng)
    p, z = _forecast(probs, logits)
    n, k = p.shape
    y = _check_labels(labels, n, k)
    w = None if sample_weight is None else _check_weights(sample_weight, n)
    name, data = ("probs", p) if z is None else ("logits", z)

    def evaluate(rows: NDArray | slice) -> float:
        extra = {} if w is None else {"sample_weight": w[rows]}
        return float(metric(**{name: data[rows]}, labels=y[rows], **extra))

    estimate = evaluate(slice(None))
    values = np.array([evaluate(generator.integers(0, n, n)) for _ in range(int(n_resamples))])
    alpha = 1.0 - float(confidence_level)
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return estimate, float(low), float(high)
