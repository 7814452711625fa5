r"""The Dask tier of :mod:`expfam.learn`: evaluation metrics over logits that need not fit
in memory.

:func:`expfam._core.dispatch.tiered` sends a call with a dask argument here.

- :func:`tempered_cross_entropy` is lazy: a dask array of per-row losses,
  whose ``.mean()`` is the NLL (and ``exp`` of it the perplexity);
- :func:`reliability_curve` and :func:`expected_calibration_error` reduce
  the top-label statistics of every block of rows to per-bin counts and
  sums, added across blocks: counts and hits exactly (integers), the
  confidence sums correctly rounded (``math.fsum`` of the per-block
  ``fsum``), so the result does not depend on the chunking;
- :func:`fit_temperature` fits the inverse temperature without loading the
  logits: each Newton step of :func:`expfam._core.solvers.bracketed_newton`
  is one pass over the blocks, summing per-block slopes and curvatures.

These compute (they return numbers), under whatever scheduler is active:
synchronous, threads, or a ``dask.distributed.Client``. The rows of the
logits may be chunked freely; the classes of a row must sit in one chunk,
except for :func:`tempered_cross_entropy` at finite temperatures and the
top label from ``logits=``, which take the tree reduction of
:mod:`expfam.special`'s Dask tier.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import dask
import dask.array as da
import numpy as np
from numpy.typing import NDArray

from expfam import special
from expfam._core.daskargs import (
    aligned,
    as_dask,
    blockwise_rows,
    is_split,
    per_row_arg,
    refuse_split,
    result_dtype,
)
from expfam._core.exceptions import CalibrationWarning
from expfam._core.solvers import bracketed_newton
from expfam.learn import losses as _np_losses
from expfam.learn.calibration import ReliabilityCurve, TemperatureFit

_PROBS_ATOL = 1e-6
_EPS = np.finfo(np.float64).eps


# ------------------------------------------------------------------ tempered cross-entropy


def tempered_cross_entropy(logits: Any, y: Any, beta: Any = 1.0) -> da.Array:
    r"""Dask twin of :func:`expfam.learn.tempered_cross_entropy`, lazy:

    .. math::

        \ell_\beta(z, y) = \frac{1}{\beta} \Big[\log \sum_k e^{\beta z_k} - \beta z_y\Big],
        \qquad \ell_\infty = \max_k z_k - z_y.

    Parameters
    ----------
    logits : dask array, shape (..., K)
        Finite logits.
    y : array of int, shape (...)
        Class indices (numpy or dask, chunked like the rows of ``logits``).
    beta : float or array, shape (...)
        Inverse temperature ``> 0``, ``inf`` allowed.

    Returns
    -------
    dask array, shape (...)
        Per-row losses; ``.mean()`` is the NLL over the evaluation set.

    Notes
    -----
    Rows with their classes in one chunk run the numpy tier (same bits).
    With the class axis split, finite ``beta`` only: ``cross_entropy(z, y,
    beta=beta) / beta`` over the tree reduction of :mod:`expfam.special`.

    Examples
    --------
    >>> import dask.array as da
    >>> z = da.from_array(np.array([[1.0, 3.0, 2.0]] * 4), chunks=(2, 3))
    >>> float(tempered_cross_entropy(z, np.array([2, 2, 2, 2])).mean().compute().round(6))
    1.407606
    """
    x = as_dask(logits, "logits")
    if x.ndim == 0:
        raise ValueError("logits: expected an array with a class axis, got a scalar")
    dtype = result_dtype(x.dtype, names=["logits"])
    axes = (x.ndim - 1,)
    yy = y if isinstance(y, da.Array) else np.asarray(y)
    if yy.dtype.kind not in "iu":
        raise TypeError(f"y: expected integer class indices, got dtype {yy.dtype}")
    if not is_split(x, axes):

        def fn(xb: NDArray, axis: Any, y: NDArray, beta: NDArray | None = None) -> NDArray:
            return _np_losses.tempered_cross_entropy(xb, y, 1.0 if beta is None else beta)

        b = None if _is_one(beta) else per_row_arg(beta, "beta", x, axes, "logits")
        return blockwise_rows(
            fn,
            x,
            axes,
            dtype,
            reduce=True,
            per_row={"y": per_row_arg(yy, "y", x, axes, "logits"), "beta": b},
        )
    if isinstance(beta, da.Array) or not np.all(np.isfinite(np.asarray(beta, dtype=float))):
        raise refuse_split("logits", axes, "for beta = inf (or a dask beta)")
    b = np.asarray(beta, dtype=np.float64)
    if not (b > 0).all():
        raise ValueError("beta: the inverse temperature must be > 0 (inf allowed)")
    finite = x.map_blocks(_finite, dtype=x.dtype)
    return (special.cross_entropy(finite, yy, beta=b) / b).astype(dtype)


def _is_one(beta: Any) -> bool:
    return not isinstance(beta, da.Array) and np.ndim(beta) == 0 and float(beta) == 1.0


def _finite(z: NDArray) -> NDArray:
    if not np.isfinite(z).all():
        raise ValueError("logits: expected finite values")
    return z


# ------------------------------------------------------------------ calibration


def _logits_2d(logits: Any) -> da.Array:
    z = as_dask(logits, "logits")
    result_dtype(z.dtype, names=["logits"])
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 2:
        raise ValueError(f"logits: expected shape (n, K) with n >= 1 and K >= 2, got {z.shape}")
    return z


def _labels(labels: Any, z: da.Array) -> da.Array:
    y = labels if isinstance(labels, da.Array) else np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels: expected integer class indices, got dtype {y.dtype}")
    n = z.shape[0]
    if y.shape != (n,):
        raise ValueError(f"labels: expected shape ({n},) to match the rows, got {y.shape}")
    return aligned(y, "labels", (n,), z.chunks[:1], "the logits")


def _check_labels(y: NDArray, k: int) -> None:
    if np.any((y < 0) | (y >= k)):
        raise ValueError(f"labels: class indices must lie in [0, {k})")


def _top_label(probs: Any, logits: Any) -> tuple[da.Array, da.Array, int]:
    """Lazy confidence (top probability) and predicted class (first argmax) per row, and K."""
    if (probs is None) == (logits is None):
        raise TypeError("pass exactly one of probs= or logits= (by keyword)")
    if logits is not None:
        z = _logits_2d(logits).map_blocks(_finite, dtype=logits.dtype)
        z = z.astype(np.float64)
        if is_split(z, (1,)):  # e^{max z - logsumexp z}, argmax over the chunks
            confidence = da.exp(z.max(axis=1) - special.logsumexp(z, axis=1))
            return confidence, da.argmax(z, axis=1), z.shape[1]
        p = z.map_blocks(special.softmax, dtype=np.float64)
    else:
        p = as_dask(probs, "probs")
        result_dtype(p.dtype, names=["probs"])
        if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
            raise ValueError(f"probs: expected shape (n, K) with n >= 1 and K >= 2, got {p.shape}")
        if is_split(p, (1,)):
            raise refuse_split("probs", (1,), "to check that its rows sum to 1")
        p = p.astype(np.float64).map_blocks(_probability_rows, dtype=np.float64)
    return p.max(axis=1), da.argmax(p, axis=1), p.shape[1]


def _probability_rows(p: NDArray) -> NDArray:
    if not (np.all((p >= 0) & (p <= 1)) and np.all(np.abs(p.sum(1) - 1) <= _PROBS_ATOL)):
        raise ValueError(
            "probs: rows must be probability vectors (entries in [0, 1] summing to 1 "
            "within 1e-6); for logits use logits="
        )
    return p


def reliability_curve(
    *,
    probs: Any = None,
    logits: Any = None,
    labels: Any,
    n_bins: int = 15,
    binning: str = "uniform",
    sample_weight: Any = None,
) -> ReliabilityCurve:
    r"""Dask twin of :func:`expfam.learn.reliability_curve`: per-bin confidence, accuracy
    and count of the top label, summed over the blocks of rows.

    .. math::

        |B_m|, \quad \mathrm{conf}(B_m) = \frac{1}{|B_m|} \sum_{n \in B_m} c_n, \quad
        \mathrm{acc}(B_m) = \frac{1}{|B_m|} \sum_{n \in B_m} [\hat y_n = y_n],

    bin ``m`` holding the confidences ``edges[m] < c <= edges[m + 1]``.

    Parameters
    ----------
    probs, logits : dask array, shape (n, K), keyword-only
        Exactly one: probabilities, or logits (``softmax`` is applied).
    labels : array of int, shape (n,)
        True classes (numpy, or dask chunked like the rows).
    n_bins : int
        Equal-width bins of ``[0, 1]``, ``>= 1``.
    binning : {"uniform"}
        Equal-width bins only: equal-mass bins need a global sort of the
        confidences, which this one-pass reduction does not do.
    sample_weight : array, shape (n,), optional
        Non-negative weights (numpy, or dask chunked like the rows).

    Returns
    -------
    ReliabilityCurve
        Computed (under the active scheduler).

    Notes
    -----
    Counts and hits add exactly across blocks; the confidence sums are
    correctly rounded (``math.fsum``), so any chunking of the rows gives the
    same curve, equal to the numpy tier's to its rounding.

    Examples
    --------
    >>> import dask.array as da
    >>> p = da.from_array(np.array([[0.9, 0.1], [0.6, 0.4]]), chunks=(1, 2))
    >>> curve = reliability_curve(probs=p, labels=np.array([0, 1]), n_bins=2)
    >>> curve.count.tolist(), curve.accuracy.tolist()
    ([0, 2], [nan, 0.5])
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins: expected an integer >= 1, got {n_bins!r}")
    if binning != "uniform":
        raise ValueError(
            f"binning: expected 'uniform' on dask arrays (equal-mass bins need a global sort "
            f"of the confidences), got {binning!r}"
        )
    confidence, predicted, k = _top_label(probs, logits)
    y = _labels(labels, confidence[:, None])
    weighted = sample_weight is not None
    if weighted:
        w = sample_weight if isinstance(sample_weight, da.Array) else np.asarray(sample_weight)
        n = confidence.shape[0]
        if w.shape != (n,):
            raise ValueError(f"sample_weight: expected shape ({n},), got {w.shape}")
        w = aligned(w.astype(np.float64), "sample_weight", (n,), confidence.chunks, "the rows")
    else:
        w = da.ones_like(confidence, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)

    def stats(c: NDArray, yhat: NDArray, yb: NDArray, wb: NDArray) -> NDArray:
        _check_labels(yb, k)
        if not np.all(np.isfinite(wb) & (wb >= 0)):
            raise ValueError("sample_weight: expected finite weights >= 0")
        bins = np.clip(np.searchsorted(edges, c, side="left") - 1, 0, n_bins - 1)
        out = np.empty((1, 4, n_bins))
        out[0, 0] = np.bincount(bins, minlength=n_bins)
        out[0, 1] = np.bincount(bins, weights=wb * (yhat == yb), minlength=n_bins)
        order = np.argsort(bins, kind="stable")
        starts = np.searchsorted(bins[order], np.arange(n_bins + 1))
        ordered, ordered_w = (wb * c)[order], wb[order]
        out[0, 2] = [math.fsum(ordered[a:b]) for a, b in itertools.pairwise(starts)]
        out[0, 3] = [math.fsum(ordered_w[a:b]) for a, b in itertools.pairwise(starts)]
        return out

    per_block = da.map_blocks(
        stats,
        confidence,
        predicted,
        y,
        w,
        dtype=np.float64,
        new_axis=[1, 2],
        chunks=((1,) * confidence.numblocks[0], (4,), (n_bins,)),
        meta=np.empty((0, 0, 0)),
    )
    blocks = dask.compute(per_block)[0]
    count = blocks[:, 0].sum(axis=0).astype(np.int64)  # integers below 2**53: exact
    correct = np.array([math.fsum(blocks[:, 1, m]) for m in range(n_bins)])
    total = np.array([math.fsum(blocks[:, 2, m]) for m in range(n_bins)])
    mass = np.array([math.fsum(blocks[:, 3, m]) for m in range(n_bins)])
    fraction = mass / math.fsum(mass) if weighted else None
    with np.errstate(invalid="ignore", divide="ignore"):
        return ReliabilityCurve(edges, total / mass, correct / mass, count, fraction)


def expected_calibration_error(
    *,
    probs: Any = None,
    logits: Any = None,
    labels: Any,
    n_bins: int = 15,
    binning: str = "uniform",
    sample_weight: Any = None,
) -> float:
    r"""Dask twin of :func:`expfam.learn.expected_calibration_error`:

    .. math::

        \mathrm{ECE} = \sum_m \frac{|B_m|}{n} \big|\mathrm{acc}(B_m) - \mathrm{conf}(B_m)\big|.

    Parameters
    ----------
    probs, logits : dask array, shape (n, K), keyword-only
        Exactly one.
    labels : array of int, shape (n,)
    n_bins : int
    binning : {"uniform"}
    sample_weight : array, shape (n,), optional
        As :func:`reliability_curve`.

    Returns
    -------
    float
        From :func:`reliability_curve` (one pass over the blocks).

    Examples
    --------
    >>> import dask.array as da
    >>> p = da.from_array(np.array([[0.9, 0.1], [0.6, 0.4]]), chunks=(1, 2))
    >>> expected_calibration_error(probs=p, labels=np.array([0, 1]), n_bins=2)
    0.25
    """
    return reliability_curve(
        probs=probs,
        logits=logits,
        labels=labels,
        n_bins=n_bins,
        binning=binning,
        sample_weight=sample_weight,
    ).ece


# ------------------------------------------------------------------ temperature


def fit_temperature(
    logits: Any,
    labels: Any,
    sample_weight: Any = None,
    *,
    max_iter: int = 100,
) -> TemperatureFit:
    r"""Dask twin of :func:`expfam.learn.fit_temperature`: the maximum-likelihood inverse
    temperature, each Newton step one pass of sums over the blocks of rows.

    .. math::

        \mathrm{NLL}'(\beta) = \frac{\sum_n w_n E_{p_\beta}[d_n]}{\sum_n w_n}, \qquad
        \mathrm{NLL}''(\beta) = \frac{\sum_n w_n \mathrm{Var}_{p_\beta}(d_n)}{\sum_n w_n},
        \qquad d_n = z_n - z_{n, y_n}.

    Parameters
    ----------
    logits : dask array, shape (n, K)
        Finite logits; the classes of a row in one chunk, the rows chunked freely.
    labels : array of int, shape (n,)
    sample_weight : array, shape (n,), optional
        Non-negative weights (numpy, or dask chunked like the rows).
    max_iter : int
        Newton steps at most (each one pass over the data).

    Returns
    -------
    TemperatureFit
        As the numpy tier's; the same optimum to its stopping rule.

    Notes
    -----
    A first pass gathers the weight sum, the slope at ``beta = 0`` and the
    scale of the logits (and decides the two limits, ``beta = 0`` and
    ``beta = inf``, as the numpy tier does); then
    :func:`expfam._core.solvers.bracketed_newton` from ``beta = 1`` in the
    bracket ``(0, inf)``, stopping where ``|NLL'| <= 8 eps mean|d|``; a
    last pass evaluates the NLL at the optimum.

    Examples
    --------
    >>> import dask.array as da
    >>> z = da.from_array(np.array([[2.0, 0.0, 0.0]] * 4), chunks=(2, 3))
    >>> fit = fit_temperature(z, np.array([0, 0, 0, 1]))
    >>> round(fit.beta, 12), round(float(np.log(3 * 2 / 1) / 2), 12)
    (0.895879734614, 0.895879734614)
    """
    z = _logits_2d(logits)
    if is_split(z, (1,)):
        raise refuse_split("logits", (1,), "for fit_temperature")
    n, k = z.shape
    y = _labels(labels, z)
    if sample_weight is None:
        w = da.ones(n, chunks=z.chunks[0])
    else:
        w = sample_weight
        if not isinstance(w, da.Array):
            w = np.asarray(w)
        result_dtype(w.dtype, names=["sample_weight"])
        if w.shape != (n,):
            raise ValueError(f"sample_weight: expected shape ({n},), got {w.shape}")
        w = aligned(w, "sample_weight", (n,), z.chunks[:1], "the logits").astype(np.float64)

    def per_block(fn: Any, width: int) -> da.Array:
        return da.map_blocks(
            lambda zb, yb, wb: fn(*_relative(zb, yb, wb, k)).reshape(1, width),
            z,
            y[:, None],
            w[:, None],
            dtype=np.float64,
            chunks=((1,) * z.numblocks[0], (width,)),
            meta=np.empty((0, 0)),
        )

    first = per_block(_first_pass, 6)
    (first,) = dask.compute(first.sum(axis=0))
    total, slope0, scale, bad_weight, all_probs, not_top = first
    if bad_weight or not total > 0:
        raise ValueError("sample_weight: must be finite, >= 0 and not all 0")
    if all_probs == z.numblocks[0]:
        raise ValueError(
            "logits: every row is a probability vector (entries in [0, 1] summing to 1); "
            "temperature scaling needs logits: pass np.log(probs)"
        )
    slope0, scale = slope0 / total, scale / total + math.ulp(1.0)
    if slope0 >= -8 * _EPS * scale:
        warnings.warn(
            "the logits predict the labels no better than chance: beta = 0 (uniform)",
            CalibrationWarning,
            stacklevel=3,
        )
        return TemperatureFit(0.0, math.inf, math.log(k), slope0, 0, True)
    if not not_top:
        warnings.warn(
            "every label is a top logit: the likelihood grows without bound as beta -> inf",
            CalibrationWarning,
            stacklevel=3,
        )
        (ties,) = dask.compute(per_block(_log_ties, 1).sum())
        return TemperatureFit(math.inf, 0.0, float(ties) / total, 0.0, 0, True)

    def slope(x: NDArray, active: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        beta = float(x[0])
        sums = per_block(lambda z_, d, wb: _moments(d, wb, beta), 2).sum(axis=0)
        g, h = dask.compute(sums)[0] / total
        last[:] = [beta, g]
        return np.array([g]), np.array([h]), np.array([scale])

    last = [math.nan, math.nan]  # the last beta evaluated and its slope
    root = bracketed_newton(
        slope,
        np.array([1.0]),
        np.array([0.0]),
        np.array([np.inf]),
        gtol=8 * _EPS,
        max_iter=max_iter,
    )
    beta = float(root.x[0])
    if beta != last[0]:  # (a step past the last evaluation: max_iter reached)
        slope(root.x, np.ones(1, bool))
    (nll,) = dask.compute(per_block(lambda z_, d, wb: _log_loss(d, wb, beta), 1).sum())
    return TemperatureFit(
        beta, 1 / beta, float(nll) / total, last[1], root.n_iter, bool(root.converged[0])
    )


def _relative(z: NDArray, y: NDArray, w: NDArray, k: int) -> tuple[NDArray, NDArray, NDArray]:
    """The logits relative to the label's (``d_y = 0``), and the weights, of one block."""
    z = z.astype(np.float64)
    y, w = y[:, 0], w[:, 0]
    if not np.all(np.isfinite(z)):
        raise ValueError("logits: must be finite")
    _check_labels(y, k)
    return z, z - z[np.arange(len(z)), y][:, None], w


def _first_pass(z: NDArray, d: NDArray, w: NDArray) -> NDArray:
    """Weight sum, sums of ``w mean(d)`` and ``w mean|d|``, a bad-weight flag, whether every
    row is a probability vector, and whether some weighted label is not a top logit."""
    probs = bool(np.all((z >= 0) & (z <= 1)) and np.all(np.abs(z.sum(1) - 1) <= _PROBS_ATOL))
    bad = not (np.all(np.isfinite(w)) and np.all(w >= 0))
    not_top = bool(np.any(np.max(d[w > 0], axis=1, initial=-np.inf) > 0))
    return np.array(
        [
            np.sum(w),
            np.dot(w, np.mean(d, axis=1)),
            np.dot(w, np.mean(np.abs(d), axis=1)),
            float(bad),
            float(probs),
            float(not_top),
        ]
    )


def _log_ties(z: NDArray, d: NDArray, w: NDArray) -> NDArray:
    """``sum_n w_n log(ties_n)``: the NLL's limit when every label is a top logit."""
    return np.array([np.dot(w, np.log(np.sum(d == 0, axis=1)))])


def _moments(d: NDArray, w: NDArray, beta: float) -> NDArray:
    """Sums of ``w E_p[d]`` and ``w Var_p(d)``, ``p = softmax(beta d)``: NLL' and NLL''."""
    p = special.softmax(d, beta=beta)
    mean = np.sum(p * d, axis=1)
    var = np.sum(p * (d - mean[:, None]) ** 2, axis=1)
    return np.array([np.dot(w, mean), np.dot(w, var)])


def _log_loss(d: NDArray, w: NDArray, beta: float) -> NDArray:
    """``sum_n w_n logsumexp(beta d_n)``: the weighted NLL at ``beta`` (``d_y = 0``)."""
    return np.array([np.dot(w, special.logsumexp(beta * d))])
