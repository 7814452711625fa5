"""The log-partition and its maps: ``logsumexp``, ``softmax``, ``log_softmax``, ``entropy``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam._core import threads as _threads
from expfam._core.args import (
    RowLayout,
    as_real,
    beta_array,
    masked,
    one_row,
    plain_beta,
    scalar,
    warn_if_probabilities,
)
from expfam._core.dispatch import tiered
from expfam.special import _engine, _rows


def _normalized(
    kind: str,
    x: ArrayLike,
    axis: object,
    beta: object,
    where: ArrayLike | None,
    keepdims: bool = False,
    name: str = "x",
) -> NDArray:
    """Run a row kernel of ``expfam.special._rows`` over the class axes ``axis``."""
    row, b = one_row(x, axis, where), plain_beta(beta)
    if row is not None and b is not None and not keepdims:  # one plain row: no reading
        return _rows.run(kind, row, b, row.dtype)[0]
    arr, dtype = as_real(x, name)
    arr, mask = masked(arr, where)
    padded, layout = RowLayout.of(arr, axis)
    layout, b = layout.broadcast(beta_array(beta), "beta")
    out = run_tempered(kind, layout.rows(padded), layout.per_row(b), dtype)
    if mask is not None:
        empty_rows(kind, out, ~layout.rows(mask.reshape(padded.shape)).any(axis=1))
    if kind in ("softmax", "log_softmax"):
        out = layout.unrows(out)
    else:
        out = layout.reduced(out, keepdims)
    class_axis_kept = kind in ("softmax", "log_softmax") or keepdims
    return scalar(out[..., 0] if arr.ndim == 0 and class_axis_kept else out)


def run_tempered(kind: str, rows: NDArray, beta: NDArray, dtype: np.dtype) -> NDArray:
    """``_rows.run`` at inverse temperatures ``beta`` (0-d or one per row), limits included."""
    return _rows.run(kind, *tempered_rows(rows, beta), dtype)


def tempered_rows(rows: NDArray, beta: NDArray) -> tuple[NDArray, float | NDArray]:
    """Rows and temperatures for the row engine, ``0 < beta < inf``.

    ``beta`` is 0-d (every row) or one per row; so is the temperature returned.

    The limits are logits at ``beta = 1``: ``beta = 0`` (the limit ``beta ->
    0+``) ties the finite logits and keeps the infinities; ``beta = inf`` (the
    argmax) gives the maximal entries equal logits and the others ``-inf``,
    so that ties share the mass.
    """
    if beta.ndim == 0 and 0.0 < beta < np.inf:
        return rows, float(beta)
    beta = np.broadcast_to(beta, rows.shape[:1])
    zero, infinite = beta == 0.0, beta == np.inf
    if zero.any() or infinite.any():
        rows = rows.copy()
        rows[zero] = np.where(np.isfinite(rows[zero]), 0.0, rows[zero])
        top = rows[infinite]
        m = np.max(top, axis=1, keepdims=True, initial=-np.inf)
        rows[infinite] = np.where(np.isfinite(m), np.where(top == m, 0.0, -np.inf), top)
    return rows, np.where(zero | infinite, 1.0, beta)


def empty_rows(kind: str, out: NDArray, empty: NDArray) -> None:
    """Fully masked rows are the empty distribution: p = 0, log p = log-partition = -inf.

    Its entropy is the empty sum, 0.
    """
    if empty.any():
        out[empty] = {"softmax": 0.0, "entropy": 0.0}.get(kind, -np.inf)


@tiered
def softmax(
    x: ArrayLike,
    axis: int | Sequence[int] | None = -1,
    *,
    beta: ArrayLike = 1.0,
    where: ArrayLike | None = None,
) -> NDArray:
    r"""Softmax: the mean map of the categorical family, logits to probabilities.

    .. math::

        p_i = \frac{e^{\beta x_i}}{\sum_j e^{\beta x_j}}

    Parameters
    ----------
    x : array_like, shape (..., K)
        Logits (natural parameters, overcomplete: ``x`` and ``x + c`` agree).
        A 0-d ``x`` is one class: ``softmax(3.0) = 1.0``.
    axis : int, tuple of ints or None
        The class axes: together they hold one distribution (None: all).
    beta : float or array_like
        Inverse temperature, ``>= 0``; ``0`` gives the uniform distribution
        over the finite logits and ``inf`` the argmax with ties sharing. An
        array broadcasts with the batch shape (one temperature per row).
    where : array_like of bool, optional
        Classes to include; the others have probability 0, and a row with
        none is the empty distribution (all 0).

    Returns
    -------
    ndarray, shape (..., K)
        ``p_i = exp(beta x_i) / sum_j exp(beta x_j)``.

    Notes
    -----
    Computed as ``exp(beta (x_i - m)) / (1 + t)`` with ``m = max x`` and
    ``t`` the sum of the non-maximal terms, where ``beta (x_i - m)`` is formed
    exactly (TwoSum and Dekker's product) so that ``exp`` does not amplify the
    rounding of the shift, and ``1 + t`` and its reciprocal carried in
    double-double: at most 3 ULP in float64 whatever the spread and length
    of the rows (2.0 measured; scipy.special.softmax reaches ~30 ULP at
    spreads of 20-40), and at most 1 ULP in float32. For ``beta != 1`` the
    reference is the exact ``softmax(beta * x)`` of the given floats.

    Examples
    --------
    >>> softmax([1000.0, 1001.0, 1002.0]).round(8)
    array([0.09003057, 0.24472847, 0.66524096])
    """
    return _normalized("softmax", x, axis, beta, where)


@tiered
def log_softmax(
    x: ArrayLike,
    axis: int | Sequence[int] | None = -1,
    *,
    beta: ArrayLike = 1.0,
    where: ArrayLike | None = None,
) -> NDArray:
    r"""Log-probabilities of the categorical with logits ``beta * x``.

    .. math::

        \log p_i = \beta x_i - \log \sum_j e^{\beta x_j}

    Parameters
    ----------
    x : array_like, shape (..., K)
        Logits.
    axis : int, tuple of ints or None
        The class axes (None: all).
    beta : float or array_like
        Inverse temperature, ``>= 0``, or an array broadcasting with the batch shape.
    where : array_like of bool, optional
        Classes to include; the others get ``-inf``, as does every class of a
        row with none.

    Returns
    -------
    ndarray, shape (..., K)
        ``log p_i = beta x_i - logsumexp(beta x)``.

    Notes
    -----
    ``(beta (x_i - m))_hi - log1p(t) + (beta (x_i - m))_lo``: two terms of the
    same sign, so no cancellation, and ``log1p`` keeps the tiny answers of a
    dominant class (``log_softmax([0, -40])[0] = -4.2e-18``, which
    scipy.special.log_softmax returns as 0). In float64 ``log1p(t)`` is
    carried in double-double wherever float64 ``exp`` could reach its last
    digit, and the difference is formed with TwoSum and rounded once: at most
    1 ULP (0.5 measured).

    Examples
    --------
    >>> float(log_softmax([0.0, -40.0])[0])
    -4.248354255291589e-18
    """
    return _normalized("log_softmax", x, axis, beta, where)


@tiered
def entropy(
    logits: ArrayLike,
    axis: int | Sequence[int] | None = -1,
    *,
    where: ArrayLike | None = None,
    keepdims: bool = False,
) -> NDArray:
    r"""Shannon entropy (nats) of the categorical with the given logits.

    .. math::

        H(p) = -\sum_k p_k \log p_k = \log Z + \sum_k p_k (m - z_k),
        \qquad p = \operatorname{softmax}(z),\ Z = \sum_k e^{z_k - m},\ m = \max_k z_k

    Parameters
    ----------
    logits : array_like, shape (..., K)
        Logits ``z`` of the categorical (not probabilities: a row that looks
        like probabilities draws a warning naming ``Categorical.from_probs``).
    axis : int, tuple of ints or None
        The class axes (None: all).
    where : array_like of bool, optional
        Classes to include (the others have probability 0); a row with none
        has entropy 0, the empty sum.
    keepdims : bool
        Keep the class axes with length 1.

    Returns
    -------
    ndarray, shape (...)
        ``H = -sum_k p_k log p_k = log Z + sum_k p_k (m - z_k)``.

    Notes
    -----
    Both terms of the second form are non-negative, so the sum has no
    cancellation; classes of probability 0 contribute 0 (``0 log 0 = 0``).
    At most 1 ULP.

    Examples
    --------
    >>> float(entropy([0.0, 0.0]))  # log 2
    0.6931471805599453
    """
    warn_if_probabilities(logits, axis, "logits", "entropy", "Categorical.from_probs(p).entropy()")
    return _normalized("entropy", logits, axis, 1.0, where, keepdims, "logits")


@tiered
def logsumexp(
    a: ArrayLike,
    axis: int | Sequence[int] | None = -1,
    b: ArrayLike | None = None,
    keepdims: bool = False,
    return_sign: bool = False,
    *,
    where: ArrayLike | None = None,
) -> NDArray | tuple[NDArray, NDArray]:
    r"""The log-partition of the categorical family: ``log sum_i b_i exp(a_i)``.

    .. math::

        \operatorname{logsumexp}(a) = \log \sum_i b_i e^{a_i}
            = m + \log \sum_i b_i e^{a_i - m}, \qquad m = \max_i a_i

    Parameters
    ----------
    a : array_like
        Logits; a 0-d ``a`` is one term (``logsumexp(3.0) = 3.0``).
    axis : int, tuple of ints or None
        Axes to reduce (default the last; ``None`` reduces all).
    b : array_like, optional
        Weights, broadcast against ``a``; may be negative.
    keepdims : bool
        Keep the reduced axes with length 1.
    return_sign : bool
        Also return the sign of the sum; then the first result is
        ``log |sum|``. Without it a negative sum gives NaN.
    where : array_like of bool, optional
        Terms to include; a row with none is the empty sum, ``-inf``.

    Returns
    -------
    value : ndarray or numpy scalar
        ``log |sum_i b_i e^{a_i}|``, the reduced shape (``-inf`` for an
        empty sum). Without ``return_sign``, NaN where the sum is negative.
    sign : ndarray or numpy scalar
        Only with ``return_sign``: the sign of the sum, ``1``, ``-1`` or
        ``0`` (an empty or zero sum), same shape as ``value``.

    Notes
    -----
    Unweighted: ``m + log1p(t)``, ``m = max a``, ``t = sum_{i != argmax}
    exp(a_i - m)`` with ``a_i - m`` formed exactly and ``log1p(t)`` carried
    in double-double (:mod:`expfam.special._rows`): at most 1 ULP, except where ``m``
    and ``log1p(t)`` cancel (a result near 0 from inputs far from 0), where
    the error is ``u (|m| + log1p(t))`` absolute, the conditioning of the
    problem itself. Non-negative weights: ``m + log1p((b_k - 1) + sum_{i !=
    k} b_i exp(a_i - m))`` (``log S`` in double-double away from ``S = 1``),
    the same bound. Signed weights: terms with ``a_i - m > -1`` use ``b_i +
    b_i expm1(a_i - m)`` so that cancellations such as ``log(e^1e-10 - 1)``
    are accurate, the sum ``S`` is carried in double-double, and ``log |S|``
    is ``log1p(|S| - 1)`` near ``|S| = 1`` (``log(1 - e^-40) = -4.2e-18``);
    the error is at most ``1 ULP + (N + 2) u kappa`` with
    ``kappa = sum |b_i e^{a_i}| / |sum b_i e^{a_i}|``, the condition number of
    the sum, and the sign is right wherever ``(N + 2) u kappa < 1/2``.
    Entries with ``b_i = 0`` are left out, infinite ``a_i`` included; an
    infinite ``b_i`` on a finite term gives NaN (sign NaN). Weighted rows run
    one compiled kernel per row (GIL released, rows shared among the threads).

    Examples
    --------
    >>> float(logsumexp([0.0, -40.0]))
    4.248354255291589e-18
    >>> logsumexp([1e-10, 0.0], b=[1.0, -1.0], return_sign=True)
    (np.float64(-23.025850929890456), np.float64(1.0))
    """
    row = one_row(a, axis, where)
    if row is not None and b is None and not (keepdims or return_sign):  # one plain row
        return _rows.run("logsumexp", row, 1.0, row.dtype)[0]
    arr, dtype = as_real(a, "a")
    arr, mask = masked(arr, where)
    if b is not None:
        barr, bdtype = as_real(b, "b")
        try:
            arr, barr = np.broadcast_arrays(arr, barr)
        except ValueError:
            raise ValueError(
                f"b: shape {np.shape(barr)} does not broadcast with a's shape {np.shape(arr)}"
            ) from None
        dtype = np.result_type(dtype, bdtype)
        if mask is not None:  # masked terms are left out, whatever their weight (NaN too)
            barr = np.where(np.broadcast_to(mask, arr.shape), barr, 0.0)
    padded, layout = RowLayout.of(arr, axis)
    if layout.k == 0:
        value = np.full(layout.n_rows, -np.inf)
        sign = np.zeros_like(value)
    elif b is None:
        value = _rows.run("logsumexp", layout.rows(padded), 1.0, dtype)
        sign = np.where(np.isnan(value), np.nan, np.where(value == -np.inf, 0.0, 1.0))
    else:
        value, sign = _weighted_logsumexp(
            layout.rows(padded).astype(np.float64),
            layout.rows(barr.reshape(padded.shape)).astype(np.float64),
        )
    keep = keepdims and arr.ndim > 0
    value = layout.reduced(value, keep).astype(dtype)
    sign = layout.reduced(sign, keep).astype(dtype)
    if return_sign:
        return scalar(value), scalar(sign)
    value = np.where(sign < 0, np.nan, value).astype(dtype)
    return scalar(value)


def _weighted_logsumexp(a: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
    """``(log|sum b e^a|, sign)`` along the rows of float64 arrays ``a``, ``b`` (the compiled
    row kernel ``_engine.weighted_logsumexp``, GIL released, rows shared among the threads)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    value = np.empty(a.shape[0])
    sign = np.empty(a.shape[0])
    _engine.weighted_logsumexp(a, b, value, sign, _threads.get_num_threads())
    return value, sign
