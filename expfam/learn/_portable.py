"""The portable tier of :mod:`expfam.learn`: losses and calibration in array-API operations.

:func:`expfam._core.dispatch.tiered` sends a call here when the logits are
torch, JAX, CuPy or array-api-strict arrays. Everything is written on the
public kernels of :mod:`expfam.special` (which run their own portable tier),
in the input's namespace, device and dtype:

- the tempered losses (``tempered_cross_entropy`` and its gradient);
- the top-label calibration metrics (``expected_calibration_error``,
  ``max_calibration_error``, ``reliability_curve``) and the proper scores
  (``brier_score``, ``log_loss``): a metric is a 0-d array of the input's
  namespace and dtype (not a Python float), differentiable, and traceable
  by ``jax.jit``. A sample's bin is fixed by comparisons, so the binned
  metrics are piecewise smooth: their gradient flows through the
  confidences and weights inside the bins, not across the edges;
- ``fit_temperature``: the numpy tier's solve, with the slope evaluated in
  the namespace, and the fitted temperature a 0-d array carrying the
  implicit-function gradient (eager arrays only: the solve reads values).

- the classwise and debiased calibration errors and the score
  decomposition, 0-d arrays (four of them for the decomposition),
  differentiable and traceable: the decomposition groups equal forecasts by
  sorting the rows and sums each group by a segmented scan;
- ``bootstrap_interval``: the numpy tier's resamples, drawn from the
  caller's ``rng``, taken on the device; eager use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from expfam import special
from expfam._core.xp import (
    as_array,
    as_real,
    concrete,
    constant,
    device_of,
    finish,
    namespace,
    quiet,
    scalar,
    widest_float,
)

Array = Any


def _tempered_args(logits: Array, y: Array, beta: object) -> tuple[Any, Array, Array, Array, Any]:
    """The namespace, logits, class indices, beta (an array) and the result dtype."""
    xp = namespace(logits, y, beta)
    z, dtype = as_real(xp, logits, "logits")
    if z.ndim == 0:
        raise ValueError("logits: expected an array with a class axis, got a scalar")
    if z.shape[-1] == 0:
        raise ValueError("logits: expected at least one class, got none")
    if concrete(xp.all(xp.isfinite(z))) is False:
        raise ValueError("logits: expected finite values, got a non-finite entry")
    idx = y if hasattr(y, "dtype") else xp.asarray(y)
    if not xp.isdtype(idx.dtype, "integral"):
        raise TypeError(f"y: expected integer class indices, got dtype {idx.dtype}")
    k = z.shape[-1]
    if concrete(xp.any((idx < 0) | (idx >= k))):
        raise ValueError(f"y: expected class indices in [0, {k}), got one outside")
    b = as_array(xp, beta, z, "beta")
    if concrete(xp.all(b > 0)) is False:
        raise ValueError("beta: expected inverse temperatures > 0 (inf allowed), got one <= 0")
    try:
        np.broadcast_shapes(tuple(z.shape[:-1]), tuple(idx.shape), tuple(b.shape))
    except ValueError:
        raise ValueError(
            f"y, beta: shapes {tuple(idx.shape)}, {tuple(b.shape)} do not broadcast with the "
            f"batch shape {tuple(z.shape[:-1])} of logits"
        ) from None
    return xp, z, idx, b, dtype


def _onehot(xp: Any, idx: Array, z: Array) -> Array:
    classes = xp.arange(z.shape[-1], device=device_of(z))
    return xp.expand_dims(idx, axis=-1) == xp.astype(classes, idx.dtype)


@quiet
def tempered_cross_entropy(logits: Array, y: Array, beta: object = 1.0) -> Array:
    """Portable :func:`expfam.learn.tempered_cross_entropy`.

    ``cross_entropy(z, y, beta) / beta`` (the portable kernel: ``log1p`` of
    the non-maximal mass plus ``max - z_y``, both non-negative); at
    ``beta = inf`` the perceptron loss ``max z - z_y``.
    """
    xp, z, idx, b, dtype = _tempered_args(logits, y, beta)
    hot = _onehot(xp, idx, z)
    zero = constant(xp, 0.0, z)
    margin = xp.max(z, axis=-1) - xp.sum(xp.where(hot, z, zero), axis=-1)
    infinite = b == math.inf
    finite_b = xp.where(infinite, constant(xp, 1.0, b), b)
    smooth = special.cross_entropy(z, idx, beta=finite_b) / finite_b
    out = xp.where(infinite, margin, smooth)
    return finish(xp, out, dtype)


@quiet
def tempered_cross_entropy_gradient(logits: Array, y: Array, beta: object = 1.0) -> Array:
    """Portable :func:`expfam.learn.tempered_cross_entropy_gradient`: ``softmax(beta z) - e_y``."""
    xp, z, idx, b, dtype = _tempered_args(logits, y, beta)
    hot = xp.astype(_onehot(xp, idx, z), z.dtype)
    return finish(xp, special.softmax(z, beta=b) - hot, dtype)


# ---------------------------------------------------------------------------
# Calibration: reading the arguments


def _labels(xp: Any, labels: Array, n: int, k: int, like: Array) -> Array:
    """Integer class indices of shape (n,) in ``[0, k)`` (the range checked when eager)."""
    y = labels if hasattr(labels, "dtype") else xp.asarray(labels, device=device_of(like))
    if not xp.isdtype(y.dtype, "integral"):
        raise TypeError(f"labels: expected integer class indices, got dtype {y.dtype}")
    if tuple(y.shape) != (n,):
        raise ValueError(f"labels: expected shape ({n},) to match the rows, got {tuple(y.shape)}")
    if concrete(xp.any((y < 0) | (y >= k))):
        raise ValueError(f"labels: expected class indices in [0, {k}), got one outside")
    return y


def _weights(xp: Any, sample_weight: Array | None, n: int, like: Array) -> Array:
    """Finite weights >= 0 of shape (n,), not all 0 (ones when None), in ``like``'s dtype."""
    if sample_weight is None:
        return xp.ones((n,), dtype=like.dtype, device=device_of(like))
    w = as_array(xp, sample_weight, like, "sample_weight")
    if tuple(w.shape) != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), got {tuple(w.shape)}")
    valid = xp.all(xp.isfinite(w)) & xp.all(w >= 0) & (xp.sum(w) > 0)
    if concrete(valid) is False:
        raise ValueError("sample_weight: expected finite weights >= 0, not all 0")
    return w


def _looks_like_probs(xp: Any, p: Array) -> Array:
    """0-d bool: every row is a probability vector (within 1e-6)."""
    inside = xp.all((p >= 0) & (p <= 1))
    return inside & xp.all(xp.abs(xp.sum(p, axis=1) - 1.0) <= _PROBS_ATOL)


_PROBS_ATOL = 1e-6


def _forecast(
    probs: Array | None, logits: Array | None, *extra: Array | None
) -> tuple[Any, Array, Array | None, Any]:
    """The namespace, the probabilities (n, K), the logits when given, and the result dtype.

    The numpy tier's rules (:func:`expfam.learn.calibration`): exactly one
    of ``probs`` and ``logits``; shape (n, K) with ``n >= 1``, ``K >= 2``;
    finite logits that are not probabilities; probability rows. The value
    checks run on eager arrays only.
    """
    if (probs is None) == (logits is None):
        raise TypeError("probs, logits: expected exactly one of probs= or logits= (by keyword)")
    name, given = ("logits", logits) if logits is not None else ("probs", probs)
    xp = namespace(given, *extra)
    x, dtype = as_real(xp, given, name)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 2:
        raise ValueError(
            f"{name}: expected shape (n, K) with n >= 1 and K >= 2, got {tuple(x.shape)}"
        )
    if logits is not None:
        if concrete(xp.all(xp.isfinite(x))) is False:
            raise ValueError("logits: expected finite logits, got a non-finite entry")
        if concrete(_looks_like_probs(xp, x) & xp.any((x > 0) & (x < 1))):
            raise ValueError(
                "logits: expected logits, got an array whose every row is a probability vector "
                "(entries in [0, 1] summing to 1); pass probabilities as probs=, or "
                "log(probs) as logits"
            )
        return xp, special.softmax(x), x, dtype
    if concrete(_looks_like_probs(xp, x)) is False:
        raise ValueError(
            "probs: expected rows that are probability vectors (entries in [0, 1] summing "
            "to 1 within 1e-6); for logits use logits="
        )
    return xp, x, None, dtype


def _onehot_rows(xp: Any, y: Array, k: int, like: Array) -> Array:
    """``[y_n = k]`` as a boolean (n, K) array."""
    classes = xp.arange(k, device=device_of(like))
    return xp.expand_dims(y, axis=1) == xp.astype(classes, y.dtype)


# ---------------------------------------------------------------------------
# Calibration: binning


def _bin_edges(xp: Any, c: Array, w: Array, n_bins: int, binning: str, what: str) -> Array:
    """Edges ``0 = e_0 <= ... <= e_M = 1`` of the bins ``(e_m, e_{m+1}]``, in ``c``'s dtype.

    ``"uniform"``: numpy's ``linspace(0, 1, n_bins + 1)``, the same floats as
    the numpy tier. ``"quantile"``: ``e_m`` is the smallest confidence whose
    cumulative weight reaches ``m / n_bins`` of the total; repeated edges
    stay (their bins are empty), so that the number of bins does not depend
    on the values and ``jax.jit`` can trace it.
    """
    if binning == "uniform":
        return xp.asarray(np.linspace(0.0, 1.0, n_bins + 1), dtype=c.dtype, device=device_of(c))
    if binning != "quantile":
        raise ValueError(f"binning: expected 'uniform' or 'quantile', got {binning!r}")
    used = w > 0
    if n_bins > 1:
        lo = xp.min(xp.where(used, c, constant(xp, math.inf, c)))
        hi = xp.max(xp.where(used, c, constant(xp, -math.inf, c)))
        if concrete(lo == hi):
            count = scalar(xp.sum(xp.astype(used, c.dtype)))
            raise ValueError(
                f"binning: equal-mass bins need at least 2 distinct {what}, got all "
                f"{count:.0f} equal to {scalar(lo):.6g}; use binning='uniform' or n_bins=1"
            )
    # zero-weight confidences sort last (+inf): no target reaches them
    v = xp.where(used, c, constant(xp, math.inf, c))
    order = xp.argsort(v, stable=True)
    cumulative = xp.cumulative_sum(xp.take(w, order))
    fractions = xp.asarray(np.arange(1, n_bins) / n_bins, dtype=c.dtype, device=device_of(c))
    at = xp.searchsorted(cumulative, fractions * cumulative[-1], side="left")
    inner = xp.take(xp.take(v, order), xp.clip(at, max=c.shape[0] - 1))
    ends = xp.asarray([0.0], dtype=c.dtype, device=device_of(c))
    return xp.concat([ends, inner, ends + 1.0])


class _Binned:
    """Per-bin sums of the weights, of ``w c`` and of ``w [correct]``, and counts.

    The bins are ``(e_m, e_{m+1}]`` (``c = 0`` in bin 0); a sample's bin is
    found on the comparisons alone (no gradient), and the sums are
    differentiable in ``c`` and ``w``. ``what`` names the values in the error
    for equal-mass bins of equal values.
    """

    def __init__(
        self,
        xp: Any,
        c: Array,
        correct: Array,
        w: Array,
        n_bins: int,
        binning: str,
        what: str = "confidences",
    ):
        wide = xp.astype(c, widest_float(xp, c))  # compared as the numpy tier does
        edges = _bin_edges(xp, wide, xp.astype(w, wide.dtype), n_bins, binning, what)
        m = edges.shape[0] - 1
        index = xp.searchsorted(edges, wide, side="left") - 1
        index = xp.clip(index, min=0, max=m - 1)
        inside = xp.expand_dims(index, axis=1) == xp.astype(
            xp.arange(m, device=device_of(c)), index.dtype
        )
        hot = xp.astype(inside, c.dtype)
        self.hot = hot
        self.edges = edges
        self.count = xp.sum(xp.astype(inside, index.dtype), axis=0)
        self.total = xp.sum(hot * xp.expand_dims(w, axis=1), axis=0)
        self.value = xp.sum(hot * xp.expand_dims(w * c, axis=1), axis=0)
        self.target = xp.sum(hot * xp.expand_dims(w * correct, axis=1), axis=0)

    def sum(self, xp: Any, values: Array) -> Array:
        """The per-bin sums of ``values`` (one per sample)."""
        return xp.sum(self.hot * xp.expand_dims(values, axis=1), axis=0)


def _top_label(xp: Any, p: Array, y: Array) -> tuple[Array, Array]:
    """The confidence ``max_k p_k`` and whether the first argmax is the label (as 0/1)."""
    confidence = xp.max(p, axis=1)
    predicted = xp.argmax(p, axis=1)
    return confidence, xp.astype(predicted == xp.astype(y, predicted.dtype), p.dtype)


def _calibration_bins(
    probs: Array | None,
    logits: Array | None,
    labels: Array,
    n_bins: int,
    binning: str,
    sample_weight: Array | None,
) -> tuple[Any, _Binned, Array, Any]:
    """The namespace, the bins of the top-label confidence, the total weight, the dtype."""
    n_bins = _n_bins(n_bins)
    xp, p, y, w, dtype = _read(probs, logits, labels, sample_weight)
    confidence, correct = _top_label(xp, p, y)
    return xp, _Binned(xp, confidence, correct, w, n_bins, binning), xp.sum(w), dtype


def _n_bins(n_bins: object) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins: expected an integer >= 1, got {n_bins!r}")
    return int(n_bins)


def _read(
    probs: Array | None, logits: Array | None, labels: Array, sample_weight: Array | None
) -> tuple[Any, Array, Array, Array, Any]:
    """The namespace, the probabilities (n, K), the labels, the weights and the result dtype."""
    xp, p, _, dtype = _forecast(probs, logits, labels, sample_weight)
    n, k = p.shape
    return xp, p, _labels(xp, labels, n, k, p), _weights(xp, sample_weight, n, p), dtype


@quiet
def reliability_curve(
    *,
    probs: Array | None = None,
    logits: Array | None = None,
    labels: Array,
    n_bins: int = 15,
    binning: str = "uniform",
    sample_weight: Array | None = None,
) -> Any:
    """Portable :func:`expfam.learn.reliability_curve`: a curve of arrays of the namespace.

    ``edges``, ``confidence``, ``accuracy`` (and ``weight``) are arrays of the
    input's namespace, device and dtype, ``count`` an integer array;
    ``confidence`` carries the gradient of the top-label probabilities. Equal-mass
    bins whose edges repeat are merged as in the numpy tier: that takes the
    values, so ``binning="quantile"`` curves are not traceable by ``jax.jit``
    (the ECE and MCE are).
    """
    from expfam.learn.calibration import ReliabilityCurve

    xp, bins, total, dtype = _calibration_bins(
        probs, logits, labels, n_bins, binning, sample_weight
    )
    keep = None
    if binning == "quantile":  # merge repeated edges: drop the empty bins between them
        keep = bins.edges[1:] > bins.edges[:-1]
    filled = bins.total > 0
    safe = xp.where(filled, bins.total, constant(xp, 1.0, bins.total))
    nan = constant(xp, math.nan, bins.total)
    confidence = xp.where(filled, bins.value / safe, nan)
    accuracy = xp.where(filled, bins.target / safe, nan)
    weight = None if sample_weight is None else bins.total / total
    edges, count = bins.edges, bins.count
    if keep is not None:
        edges = xp.concat([edges[:1], edges[1:][keep]])
        confidence, accuracy, count = confidence[keep], accuracy[keep], count[keep]
        weight = None if weight is None else weight[keep]
    fields = [finish(xp, a, dtype) for a in (edges, confidence, accuracy)]
    return ReliabilityCurve(*fields, count, None if weight is None else finish(xp, weight, dtype))


@quiet
def expected_calibration_error(
    *,
    probs: Array | None = None,
    logits: Array | None = None,
    labels: Array,
    n_bins: int = 15,
    binning: str = "uniform",
    sample_weight: Array | None = None,
) -> Array:
    """Portable :func:`expfam.learn.expected_calibration_error`: a 0-d array of the namespace.

    Computed as ``sum_m |sum_{n in B_m} w_n ([correct_n] - c_n)| / sum_n w_n``
    (the same number as ``sum_m W_m |acc_m - conf_m|``, with no division by
    a bin's weight). The bins are fixed by comparisons, so the gradient
    flows through the confidences ``c_n = max_k p_nk`` (to the top
    probability of each row, and through ``softmax`` to the logits) and the
    weights, with the sign of each bin's gap; the accuracies are piecewise
    constant and contribute none. Traceable by ``jax.jit`` for both binnings.
    """
    xp, bins, total, dtype = _calibration_bins(
        probs, logits, labels, n_bins, binning, sample_weight
    )
    return finish(xp, xp.sum(xp.abs(bins.target - bins.value)) / total, dtype)


@quiet
def max_calibration_error(
    *,
    probs: Array | None = None,
    logits: Array | None = None,
    labels: Array,
    n_bins: int = 15,
    binning: str = "uniform",
    sample_weight: Array | None = None,
) -> Array:
    """Portable :func:`expfam.learn.max_calibration_error`: a 0-d array of the namespace.

    ``max`` over the bins of positive weight of ``|acc_m - conf_m|``; the
    gradient flows through the confidences of the worst bin.
    """
    xp, bins, _, dtype = _calibration_bins(probs, logits, labels, n_bins, binning, sample_weight)
    filled = bins.total > 0
    safe = xp.where(filled, bins.total, constant(xp, 1.0, bins.total))
    gaps = xp.where(filled, xp.abs(bins.target - bins.value) / safe, constant(xp, 0.0, safe))
    return finish(xp, xp.max(gaps), dtype)


@quiet
def brier_score(
    *,
    probs: Array | None = None,
    logits: Array | None = None,
    labels: Array,
    sample_weight: Array | None = None,
) -> Array:
    """Portable :func:`expfam.learn.brier_score`: a 0-d array of the namespace, differentiable."""
    xp, p, _, dtype = _forecast(probs, logits, labels, sample_weight)
    n, k = p.shape
    y = _labels(xp, labels, n, k, p)
    w = _weights(xp, sample_weight, n, p)
    residual = p - xp.astype(_onehot_rows(xp, y, k, p), p.dtype)
    score = xp.sum(w * xp.sum(residual * residual, axis=1)) / xp.sum(w)
    return finish(xp, score, dtype)


@quiet
def log_loss(
    *,
    probs: Array | None = None,
    logits: Array | None = None,
    labels: Array,
    sample_weight: Array | None = None,
) -> Array:
    """Portable :func:`expfam.learn.log_loss`: a 0-d array of the namespace, differentiable.

    From logits, ``-log_softmax(z)_y`` (its gradient ``softmax(z) - e_y``);
    from probabilities, ``-log p_y`` (``inf`` where ``p_y = 0``). Rows of
    weight 0 add nothing, not even an ``inf``.
    """
    xp, p, z, dtype = _forecast(probs, logits, labels, sample_weight)
    n, k = p.shape
    y = _labels(xp, labels, n, k, p)
    w = _weights(xp, sample_weight, n, p)
    hot = _onehot_rows(xp, y, k, p)
    zero = constant(xp, 0.0, p)
    if z is not None:
        loss = special.cross_entropy(z, y)
    else:
        p_y = xp.sum(xp.where(hot, p, zero), axis=1)
        loss = -xp.log(xp.where(p_y > 0, p_y, constant(xp, 1.0, p))) + xp.where(
            p_y > 0, zero, constant(xp, math.inf, p)
        )
    used = w > 0
    total = xp.sum(xp.where(used, w * xp.where(used, loss, zero), zero))
    return finish(xp, total / xp.sum(w), dtype)


# ---------------------------------------------------------------------------
# Calibration: classwise and debiased errors, the score decomposition, the bootstrap


def _safe_sqrt(xp: Any, x: Array) -> Array:
    """``sqrt(max(x, 0))``, with gradient 0 (not ``inf * 0``) where ``x <= 0``."""
    positive = x > 0
    root = xp.sqrt(xp.where(positive, x, constant(xp, 1.0, x)))
    return xp.where(positive, root, constant(xp, 0.0, x))


@quiet
def classwise_calibration_error(
    *,
    probs: Array | None = None,
    logits: Array | None = None,
    labels: Array,
    n_bins: int = 15,
    binning: str = "uniform",
    sample_weight: Array | None = None,
) -> Array:
    """Portable :func:`expfam.learn.classwise_calibration_error`: a 0-d array of the namespace.

    For each class ``k``, ``sum_m |sum_{n in B_mk} w_n ([y_n = k] - p_nk)|``
    over its own bins, then the mean over the classes divided by
    ``sum_n w_n``. Differentiable in the probabilities (every class's, not
    only the top one) and the weights inside the bins; traceable by
    ``jax.jit`` for both binnings (the equal-mass check of equal values is
    skipped there).
    """
    n_bins = _n_bins(n_bins)
    xp, p, y, w, dtype = _read(probs, logits, labels, sample_weight)
    k = p.shape[1]
    hot = xp.astype(_onehot_rows(xp, y, k, p), p.dtype)
    gaps = []
    for c in range(k):
        bins = _Binned(xp, p[:, c], hot[:, c], w, n_bins, binning, f"probabilities of class {c}")
        gaps.append(xp.sum(xp.abs(bins.target - bins.value)))
    return finish(xp, xp.sum(xp.stack(gaps)) / (k * xp.sum(w)), dtype)


def _debiased_square(
    xp: Any, values: Array, targets: Array, w: Array, n_bins: int, binning: str, what: str
) -> Array:
    """``max(sum_m W_m [(ybar_m - pbar_m)^2 - ybar_m (1 - ybar_m) / (n_m - 1)], 0)``."""
    bins = _Binned(xp, values, targets, w, n_bins, binning, what)
    total = xp.sum(w)
    weight = bins.total / total
    squares = bins.sum(xp, w * w)
    one = constant(xp, 1.0, weight)
    filled = bins.total > 0
    # the effective size (sum w)^2 / sum w^2 of a bin, formed as the numpy tier does
    effective = weight * weight / xp.where(filled, squares, one) * (total * total)
    used = (bins.count >= 2) & filled & (effective > 1)
    safe = xp.where(filled, bins.total, one)
    ybar, pbar = bins.target / safe, bins.value / safe
    spread = xp.where(used, effective - 1.0, one)
    terms = (ybar - pbar) ** 2 - ybar * (1.0 - ybar) / spread
    square = xp.sum(xp.where(used, weight * terms, constant(xp, 0.0, weight)))
    return xp.where(square > 0, square, constant(xp, 0.0, square))


@quiet
def debiased_calibration_error(
    *,
    probs: Array | None = None,
    logits: Array | None = None,
    labels: Array,
    n_bins: int = 15,
    binning: str = "quantile",
    mode: str = "top-label",
    sample_weight: Array | None = None,
) -> Array:
    """Portable :func:`expfam.learn.debiased_calibration_error`: a 0-d array of the namespace.

    The same estimate, with every bin kept (the bins too small to count are
    masked, not dropped), so it is traceable by ``jax.jit`` for both
    binnings and modes. Differentiable in the probabilities and weights
    inside the bins; the clipping at 0 and the square root give gradient 0
    (not NaN) where the estimate is 0.
    """
    n_bins = _n_bins(n_bins)
    if mode not in ("top-label", "marginal"):
        raise ValueError(f"mode: expected 'top-label' or 'marginal', got {mode!r}")
    xp, p, y, w, dtype = _read(probs, logits, labels, sample_weight)
    if mode == "top-label":
        confidence, correct = _top_label(xp, p, y)
        square = _debiased_square(xp, confidence, correct, w, n_bins, binning, "confidences")
    else:
        k = p.shape[1]
        hot = xp.astype(_onehot_rows(xp, y, k, p), p.dtype)
        per_class = [
            _debiased_square(
                xp, p[:, c], hot[:, c], w, n_bins, binning, f"probabilities of class {c}"
            )
            for c in range(k)
        ]
        square = xp.mean(xp.stack(per_class))
    return finish(xp, _safe_sqrt(xp, square), dtype)


def _lexicographic_order(xp: Any, p: Array) -> Array:
    """The row permutation that sorts ``p`` (n, K) lexicographically (stable sorts, last column
    first), so that equal rows are neighbours."""
    order = xp.arange(p.shape[0], device=device_of(p))
    for c in range(p.shape[1] - 1, -1, -1):
        order = xp.take(order, xp.argsort(xp.take(p[:, c], order), stable=True))
    return order


def _segment_sums(xp: Any, x: Array, group: Array) -> Array:
    """Inclusive sums of the rows of ``x`` within runs of equal ``group`` (sorted groups).

    The last row of each run holds its run's sum. Hillis and Steele's scan
    in ``ceil(log2 n)`` rounds of array operations: no data-dependent shape
    (traceable), only additions of the operands' own terms (no cancellation
    of a running total), differentiable.
    """
    n = x.shape[0]
    step = 1
    zero = constant(xp, 0.0, x)
    while step < n:
        same = xp.expand_dims(group[step:] == group[:-step], axis=1)
        x = xp.concat([x[:step, :], x[step:, :] + xp.where(same, x[:-step, :], zero)], axis=0)
        step *= 2
    return x


def _rel_entr(xp: Any, a: Array, b: Array) -> Array:
    """``a log(a / b)``: 0 where ``a = 0``, ``inf`` where ``a > 0 = b``; finite gradients."""
    one = constant(xp, 1.0, a)
    positive = a > 0
    ratio = xp.where(positive & (b > 0), a / xp.where(b > 0, b, one), one)
    out = xp.where(positive, a * xp.log(ratio), constant(xp, 0.0, a))
    return xp.where(positive & (b <= 0), constant(xp, math.inf, a), out)


@quiet
def score_decomposition(
    *,
    probs: Array | None = None,
    logits: Array | None = None,
    labels: Array,
    score: str = "brier",
    sample_weight: Array | None = None,
) -> Any:
    """Portable :func:`expfam.learn.score_decomposition`: its four terms are 0-d arrays.

    The distinct forecasts are found without a data-dependent shape: the
    rows are sorted lexicographically (``K`` stable sorts), a new group
    starts where a row differs from the one before, and each group's weight,
    label counts and forecast are summed over its run by a segmented scan.
    So the decomposition is traceable by ``jax.jit``. The forecast of a
    group is the weighted mean of its (equal) rows, so the gradient of the
    reliability reaches every member: summed over a group it is the
    gradient of the score.
    """
    from expfam.learn.calibration import ScoreDecomposition

    if score not in ("brier", "log"):
        raise ValueError(f"score: expected 'brier' or 'log', got {score!r}")
    xp, p, z, dtype = _forecast(probs, logits, labels, sample_weight)
    n, k = p.shape
    y = _labels(xp, labels, n, k, p)
    w = _weights(xp, sample_weight, n, p)
    w = w / xp.sum(w)
    hot = xp.astype(_onehot_rows(xp, y, k, p), p.dtype)
    order = _lexicographic_order(xp, p)
    rows = xp.take(p, order, axis=0)
    differs = xp.any(rows[1:, :] != rows[:-1, :], axis=1)
    start = xp.concat([xp.asarray([True], device=device_of(p)), differs])
    group = xp.cumulative_sum(xp.astype(start, xp.int64))
    last = xp.concat([start[1:], xp.asarray([True], device=device_of(p))])
    ws = xp.expand_dims(xp.take(w, order), axis=1)
    parts = xp.concat([ws, ws * xp.take(hot, order, axis=0), ws * rows], axis=1)
    sums = _segment_sums(xp, parts, group)
    share = sums[:, 0]
    used = last & (share > 0)
    one, zero = constant(xp, 1.0, share), constant(xp, 0.0, share)
    safe = xp.expand_dims(xp.where(used, share, one), axis=1)
    frequency, forecast = sums[:, 1 : k + 1] / safe, sums[:, k + 1 :] / safe
    overall = xp.sum(xp.expand_dims(w, axis=1) * hot, axis=0)

    def mean_over_groups(per_group: Array) -> Array:
        return xp.sum(xp.where(used, share * per_group, zero))

    if score == "brier":
        reliability = mean_over_groups(xp.sum((frequency - forecast) ** 2, axis=1))
        resolution = mean_over_groups(xp.sum((frequency - overall) ** 2, axis=1))
        uncertainty = 1.0 - xp.sum(overall * overall)
        total = brier_score(probs=p, labels=y, sample_weight=w)
    else:
        reliability = mean_over_groups(xp.sum(_rel_entr(xp, frequency, forecast), axis=1))
        resolution = mean_over_groups(
            xp.sum(_rel_entr(xp, frequency, xp.expand_dims(overall, axis=0)), axis=1)
        )
        uncertainty = -xp.sum(_rel_entr(xp, overall, xp.ones_like(overall)))
        given = {"probs": p} if z is None else {"logits": z}
        total = log_loss(**given, labels=y, sample_weight=w)
    return ScoreDecomposition(
        *(finish(xp, a, dtype) for a in (total, reliability, resolution, uncertainty))
    )


def bootstrap_interval(
    metric: Callable[..., Array],
    *,
    probs: Array | None = None,
    logits: Array | None = None,
    labels: Array,
    sample_weight: Array | None = None,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> tuple[Array, Array, Array]:
    """Portable :func:`expfam.learn.bootstrap_interval`: three 0-d arrays of the namespace.

    The resampled rows are drawn by numpy from ``rng`` exactly as in the
    numpy tier (``rng.integers(0, n, n)`` per resample), so a seed gives the
    same resamples on every backend; they are taken from the arrays on
    their device. ``metric`` is called on arrays of the namespace and must
    return a 0-d array of it (every metric of :mod:`expfam.learn.calibration`
    does). The quantiles are numpy's default (``"linear"``) on the sorted
    values, so the interval is differentiable wherever the metric is. Under
    ``jax.jit`` the resamples are drawn once, when tracing, and the
    ``n_resamples`` calls unroll: use it eagerly.
    """
    from expfam._core.args import as_rng
    from expfam.learn.calibration import _check_bootstrap

    _check_bootstrap(metric, n_resamples, confidence_level)
    generator = as_rng(rng)
    xp, p, _, _ = _forecast(probs, logits, labels, sample_weight)
    n, k = p.shape
    y = _labels(xp, labels, n, k, p)
    w = None if sample_weight is None else _weights(xp, sample_weight, n, p)
    name, data = ("probs", probs) if logits is None else ("logits", logits)

    def evaluate(rows: Array | None) -> Array:
        if rows is None:
            extra = {} if w is None else {"sample_weight": w}
            return metric(**{name: data}, labels=y, **extra)
        extra = {} if w is None else {"sample_weight": xp.take(w, rows)}
        return metric(**{name: xp.take(data, rows, axis=0)}, labels=xp.take(y, rows), **extra)

    estimate = evaluate(None)
    values = xp.sort(
        xp.stack(
            [
                evaluate(xp.asarray(generator.integers(0, n, n), device=device_of(p)))
                for _ in range(int(n_resamples))
            ]
        )
    )
    alpha = 1.0 - float(confidence_level)
    return (estimate, *(_quantile(values, q) for q in (alpha / 2, 1 - alpha / 2)))


def _quantile(values: Array, q: float) -> Array:
    """numpy's ``quantile(values, q)`` (method ``"linear"``) of sorted ``values``."""
    last = values.shape[0] - 1
    position = last * q
    if position >= last:
        return values[last]
    below = math.floor(position)
    t = position - below
    a, b = values[below], values[below + 1]
    # numpy's _lerp: from the nearer end
    return b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t


# ---------------------------------------------------------------------------
# Temperature scaling


def fit_temperature(
    logits: Array,
    labels: Array,
    sample_weight: Array | None = None,
    *,
    max_iter: int = 100,
) -> Any:
    """Portable :func:`expfam.learn.fit_temperature`, differentiable in the logits.

    The same solve as the numpy tier (in the widest float of the namespace,
    on the input's device): the NLL slope is evaluated in the namespace and
    its root found by :func:`expfam._core.solvers.bracketed_newton`, which
    reads three numbers per step. One more Newton step is then taken in
    the namespace from that root: its value is the root to rounding, and its
    derivative is the implicit-function gradient

    .. math::

        \\frac{\\partial \\beta^*}{\\partial z_{nk}} = -\\frac{w_n \\left(p_{nk}
        (1 + \\beta^* (z_{nk} - \\bar z_n)) - [k = y_n]\\right)}
        {\\sum_n w_n \\operatorname{Var}_{p_n}(z_n)}.

    The result is a :class:`~expfam.learn.TemperatureFit` whose ``beta``,
    ``temperature``, ``nll`` and ``gradient`` are 0-d arrays of the input's
    namespace, device and dtype (``iterations`` an int, ``converged`` a
    bool); at the boundaries (``beta = 0`` or ``inf``) they carry no
    gradient. The solve needs values: it runs on eager arrays (torch,
    CuPy, eager JAX, array-api-strict), not under ``jax.jit`` or ``jax.grad``.
    """
    import warnings

    from expfam._core.exceptions import CalibrationWarning, ConvergenceWarning
    from expfam._core.solvers import bracketed_newton
    from expfam.learn.calibration import TemperatureFit

    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")
    with np.errstate(all="ignore"):
        xp, _, z, dtype = _forecast(None, logits, labels, sample_weight)
    z = xp.astype(z, widest_float(xp, z))
    n, k = z.shape
    y = _labels(xp, labels, n, k, z)
    w = _weights(xp, sample_weight, n, z)
    w = w / xp.sum(w)
    eps = float(xp.finfo(z.dtype).eps)
    hot = _onehot_rows(xp, y, k, z)
    zero = constant(xp, 0.0, z)
    # solve for b = beta * spread * top on u = (z - z_y) / (spread * top), as the numpy tier
    top = xp.max(xp.abs(z))
    zt = z / xp.where(top > 0, top, constant(xp, 1.0, z))
    d = zt - xp.sum(xp.where(hot, zt, zero), axis=1, keepdims=True)
    spread = xp.sum(w * xp.mean(xp.abs(d), axis=1))
    u = d / xp.where(spread > 0, spread, constant(xp, 1.0, z))

    def out(value: Array | float) -> Array:
        if isinstance(value, float):
            value = constant(xp, value, z)
        return finish(xp, value, dtype)

    def nll(b: Array | float) -> Array:
        return xp.sum(w * special.logsumexp(u * b, axis=1))

    slope0 = xp.sum(w * xp.mean(u, axis=1))
    if not scalar(spread) > 0 or scalar(slope0) >= -8 * eps:
        warnings.warn(
            "the logits predict the labels no better than chance: beta = 0 (uniform)",
            CalibrationWarning,
            stacklevel=2,
        )
        return TemperatureFit(
            out(0.0), out(math.inf), out(nll(0.0)), out(slope0 * spread * top), 0, True
        )
    if concrete(xp.all(xp.where(w > 0, xp.max(u, axis=1), zero) <= 0)):
        warnings.warn(
            "every label is a top logit: the likelihood grows without bound as beta -> inf",
            CalibrationWarning,
            stacklevel=2,
        )
        ties = xp.sum(xp.astype(u == 0, z.dtype), axis=1)
        return TemperatureFit(
            out(math.inf), out(0.0), out(xp.sum(w * xp.log(ties))), out(0.0), 0, True
        )

    def moments(b: Array | float) -> tuple[Array, Array]:
        """``NLL'(b)`` and ``NLL''(b)``: the mean of ``u`` under ``p_b``, and its variance."""
        p = special.softmax(u, beta=b)
        mean = xp.sum(p * u, axis=1, keepdims=True)
        var = xp.sum(p * (u - mean) ** 2, axis=1)
        return xp.sum(w * mean[:, 0]), xp.sum(w * var)

    scale = scalar(xp.sum(w * xp.mean(xp.abs(u), axis=1)))

    def slope(b: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g, dg = moments(float(b[0]))
        return np.array([scalar(g)]), np.array([scalar(dg)]), np.array([scale])

    root = bracketed_newton(
        slope, np.ones(1), np.zeros(1), np.full(1, np.inf), gtol=8 * eps, max_iter=int(max_iter)
    )
    converged = bool(root.converged[0])
    b0 = constant(xp, float(root.x[0]), z)
    g, dg = moments(b0)
    b = b0 - g / dg  # the root to rounding; its derivative is the implicit function's
    if not converged:
        warnings.warn(
            f"fit_temperature stopped after max_iter={max_iter} steps with slope "
            f"{scalar(g):.3g} (not 0 to rounding); raise max_iter",
            ConvergenceWarning,
            stacklevel=2,
        )
    beta = (b / spread) / top
    return TemperatureFit(
        out(beta), out(1.0 / beta), out(nll(b)), out((g * spread) * top), root.n_iter, converged
    )
