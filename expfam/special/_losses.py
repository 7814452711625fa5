"""Losses and divergences from logits: ``cross_entropy``, ``kl_divergence``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam._core import threads as _threads
from expfam._core.args import (
    RowLayout,
    as_real,
    beta_array,
    is_index_target,
    masked,
    one_row,
    plain_beta,
    scalar,
    warn_if_probabilities,
)
from expfam._core.dispatch import tiered
from expfam.special import _engine, _rows
from expfam.special._kl import kl_rows
from expfam.special._partition import tempered_rows


@tiered
def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    axis: int | Sequence[int] | None = -1,
    *,
    beta: ArrayLike = 1.0,
    where: ArrayLike | None = None,
    keepdims: bool = False,
) -> NDArray:
    r"""Log-loss of the categorical with logits ``beta * logits`` against ``target``.

    .. math::

        \ell(z, y) = -\log p_y = \log \sum_k e^{\beta z_k} - \beta z_y, \qquad
        \ell(z, q) = -\sum_k q_k \log p_k, \qquad p = \operatorname{softmax}(\beta z)

    Parameters
    ----------
    logits : array_like, shape (..., K)
        Logits ``z`` of the predicted categorical (not probabilities: rows
        that look like probabilities draw a warning naming
        ``expfam.learn.log_loss``).
    target : array_like of int, shape (...), or of float, shape (..., K)
        Integer class indices in ``[0, K)``, broadcasting with the batch
        shape (with several class axes, the index counts in C order over
        them); or non-negative class weights (a probability vector, e.g. a
        one-hot or a soft label) with the logits' number of axes, the class
        axes of the same lengths. A float array of any other shape is an error:
        integer labels must be integers.
    axis : int, tuple of ints or None
        The class axes (None: all).
    beta : float or array_like
        Inverse temperature, ``>= 0``, or an array broadcasting with the batch shape.
    where : array_like of bool, optional
        Classes to include; the others have probability 0 (a target on them
        costs ``+inf``).
    keepdims : bool
        Keep the class axes with length 1.

    Returns
    -------
    ndarray, shape (...)
        ``-log p_y = logsumexp(z) - z_y`` for an index ``y``;
        ``-sum_k q_k log p_k`` for weights ``q`` (``0 log 0 = 0``).

    Notes
    -----
    An index target is ``log Z - (z_y - m)`` (``m = max z``, both terms
    non-negative) with ``log Z`` from the row engine, without forming the
    other log-probabilities; probability targets sum the products
    ``q_k (-log p_k)`` in double-double, in one compiled kernel per row
    (``log Z`` by the row engine, ``-log p_k = log Z - beta (z_k - m)``
    never stored). At most 1 ULP for both.

    Examples
    --------
    >>> round(float(cross_entropy([0.1, -2.0, 3.4, 3.3], 2)), 8)
    0.66589785
    """
    warn_if_probabilities(
        logits, axis, "logits", "cross_entropy", "expfam.learn.log_loss(probs=...)"
    )
    row, b = one_row(logits, axis, where), plain_beta(beta)
    if (  # one plain row and one class index: no reading
        row is not None
        and b is not None
        and (type(target) is int or isinstance(target, np.integer))
        and 0 <= target < row.shape[1]
        and not keepdims
    ):
        return _rows.run("cross_entropy", row, b, row.dtype, np.array([target]))[0]
    rows = _rows.plain_rows(logits, axis, where)
    if (  # plain rows and an index per row: no reading (the engine checks the indices)
        rows is not None
        and b is not None
        and type(target) is np.ndarray
        and target.dtype.kind == "i"
        and target.shape == logits.shape[:-1]
        and not keepdims
    ):
        out = _rows.run("cross_entropy", rows, b, rows.dtype, target.reshape(-1))
        return out.reshape(target.shape)
    z, dtype = as_real(logits, "logits")
    y = np.asarray(target)
    if is_index_target(y, z.ndim):
        z, mask = masked(z, where)
        padded, layout = RowLayout.of(z, axis)
        layout, y_laid = layout.broadcast(y, "target")
        layout, b = layout.broadcast(beta_array(beta), "beta")
        k = layout.k
        bad = (y < 0) | (y >= k)
        if bad.any():
            raise ValueError(f"target: class index {y[bad].flat[0]} is out of range [0, {k})")
        rows, beta_rows = tempered_rows(layout.rows(padded), layout.per_row(b))
        labels = np.broadcast_to(layout.per_row(y_laid), (layout.n_rows,))
        out = _rows.run("cross_entropy", rows, beta_rows, dtype, labels)
        if mask is not None:  # the empty distribution: log p = -inf
            out[~layout.rows(mask.reshape(padded.shape)).any(axis=1)] = np.inf
    else:
        q, _ = as_real(y, "target")
        try:
            shape = np.broadcast_shapes(z.shape, q.shape)
        except ValueError:
            shape = None
        padded, layout = RowLayout.of(z, axis)
        if shape is None or any(q.shape[a] != padded.shape[a] for a in layout.axes):
            raise ValueError(
                f"target: shape {q.shape} does not match logits' shape {z.shape} (a probability "
                f"target has the same class axes; its other axes broadcast)"
            )
        if (q < 0).any():
            raise ValueError("target: class weights must be non-negative")
        z, mask = masked(np.broadcast_to(z, shape), where)
        padded, layout = RowLayout.of(z, axis)
        layout, b = layout.broadcast(beta_array(beta), "beta")
        z2, beta_rows = tempered_rows(layout.rows(padded).astype(np.float64), layout.per_row(b))
        q2 = layout.rows(q.reshape(q.shape or (1,))).astype(np.float64)
        out = _soft_cross_entropy(z2, q2, beta_rows)
        if mask is not None:  # the empty distribution: any weight costs inf
            empty = ~layout.rows(mask.reshape(padded.shape)).any(axis=1)
            out[empty] = np.where((q2[empty] > 0).any(axis=1), np.inf, 0.0)
    out = layout.reduced(out, keepdims)
    return scalar((out[..., 0] if z.ndim == 0 and keepdims else out).astype(dtype))


def _soft_cross_entropy(z: NDArray, q: NDArray, beta: float | NDArray) -> NDArray:
    """``-sum_k q_k log p_k``, ``p = softmax(beta z)`` along rows of float64 (``0 < beta <
    inf``): the compiled row kernel ``_engine.soft_cross_entropy`` (``log p`` and the
    products in double-double, the GIL released, rows shared among the threads)."""
    rows, k = z.shape
    if k == 0:  # no classes: the empty sum
        return np.zeros(rows)
    z = np.ascontiguousarray(z, dtype=np.float64)
    q = np.ascontiguousarray(np.broadcast_to(q, z.shape), dtype=np.float64)
    beta = np.ascontiguousarray(np.broadcast_to(beta, (rows,)), dtype=np.float64)
    out = np.empty(rows)
    _engine.soft_cross_entropy(z, q, beta, out, _threads.get_num_threads())
    return out


@tiered
def kl_divergence(
    logits_p: ArrayLike,
    logits_q: ArrayLike,
    axis: int | Sequence[int] | None = -1,
    *,
    where: ArrayLike | None = None,
    keepdims: bool = False,
) -> NDArray:
    r"""Kullback-Leibler divergence ``KL(p || q)`` between categoricals given by logits.

    .. math::

        \operatorname{KL}(p \,\|\, q) = \sum_k p_k \log\frac{p_k}{q_k}
            = A(z_q) - A(z_p) - \langle z_q - z_p, p \rangle,
        \qquad A = \operatorname{logsumexp},\ p = \operatorname{softmax}(z_p),\
        q = \operatorname{softmax}(z_q)

    Parameters
    ----------
    logits_p, logits_q : array_like, shape (..., K)
        Logits ``z_p`` and ``z_q`` of the two categoricals (not
        probabilities), broadcast against each other.
    axis : int, tuple of ints or None
        The class axes (None: all).
    where : array_like of bool, optional
        Classes to include, in both distributions (the others have
        probability 0); a row with none has divergence 0, the empty sum.
    keepdims : bool
        Keep the class axes with length 1.

    Returns
    -------
    ndarray, shape (...)
        ``sum_k p_k log(p_k / q_k)``, the Bregman divergence of logsumexp:
        ``A(z_q) - A(z_p) - (z_q - z_p) . p``. ``+inf`` where ``q_k = 0 < p_k``;
        classes with ``p_k = 0`` contribute 0.

    Notes
    -----
    With ``d = z_p - z_q`` (formed exactly) and ``x_k = mu - d_k`` centred so
    that ``E_p[x] = r`` is negligible,
    ``KL = log E_p[e^x] - E_p[x] = log1p(G + r) - r`` where
    ``G = E_p[g(x)]`` and ``g(x) = e^x - 1 - x >= 0``. Every term of ``G`` is
    non-negative, so the result is never negative and stays accurate as
    ``q -> p`` (where ``sum p log p - sum p log q`` cancels to noise).
    ``g`` uses its Taylor series for ``|x| <= 1``. At most 2 ULP (of the
    output's dtype). A divergence beyond the float range is ``inf``.

    float16 and float32 rows are computed in float64 without double-double
    (two passes), with a first-order bound on the error computed alongside;
    a row whose bound passes ``2**-27`` of the result takes the double-double
    way, so the result is within 1 ULP of the float32 value before its
    rounding.

    Examples
    --------
    >>> float(kl_divergence([0.0, 0.0], [0.0, 1e-8]))  # ~ (1e-8)**2 / 8
    1.25e-17
    """
    for name, value in (("logits_p", logits_p), ("logits_q", logits_q)):
        if warn_if_probabilities(
            value, axis, name, "kl_divergence", "expfam.geometry.kl (it takes probabilities)"
        ):
            break  # one warning per call
    row_p, row_q = one_row(logits_p, axis, where), one_row(logits_q, axis)
    if (  # two plain rows: no reading
        row_p is not None
        and row_q is not None
        and row_p.shape == row_q.shape
        and row_p.dtype == row_q.dtype
        and not keepdims
    ):
        return kl_rows(row_p, row_q).astype(row_p.dtype)[0]
    zp, dp = as_real(logits_p, "logits_p")
    zq, dq = as_real(logits_q, "logits_q")
    try:
        zp, zq = np.broadcast_arrays(zp, zq)
    except ValueError:
        raise ValueError(
            f"logits_q: shape {np.shape(zq)} does not broadcast with logits_p's shape "
            f"{np.shape(zp)}"
        ) from None
    zp, mask = masked(zp, where)
    zq, _ = masked(zq, where)
    padded, layout = RowLayout.of(zp, axis)
    zp2 = layout.rows(padded)  # (float64 block by block, in kl_rows)
    zq2 = layout.rows(zq.reshape(padded.shape))
    out = kl_rows(zp2, zq2)
    if mask is not None:
        out[~layout.rows(mask.reshape(padded.shape)).any(axis=1)] = 0.0
    out = layout.reduced(out, keepdims)
    dtype = np.result_type(dp, dq)
    return scalar((out[..., 0] if zp.ndim == 0 and keepdims else out).astype(dtype))
