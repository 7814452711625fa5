r"""The Dask tier of :mod:`expfam.special`: dask arrays in, lazy dask arrays out.

:func:`expfam._core.dispatch.tiered` sends a call with a dask argument here,
to the function of the same name and signature. Nothing is computed until
``.compute()``; the result has the dtype the numpy tier would give, and its
chunks follow the input's.

Two plans, chosen by the chunks of the class axis:

- **the classes of a row sit in one chunk** (the class axes each have a
  single chunk): every block runs the public numpy function, so each row
  gets exactly the numpy tier's value (``map_blocks``). Elementwise
  functions always take this plan;
- **one class axis split across chunks** (a vocabulary too large for one
  chunk): a tree reduction of partials that combine exactly. A chunk ``c``
  of a row contributes its maximum ``m_c`` and the double-double sum
  ``S_c = sum_k e^{beta (z_k - m_c)}``; two chunks merge as

  .. math::

      M = \max(m_a, m_b), \qquad
      S = S_a e^{\beta (m_a - M)} + S_b e^{\beta (m_b - M)},

  with ``m_c - M`` formed exactly (TwoSum), the factor and the products in
  double-double (:mod:`expfam._core.dd`). ``entropy`` adds the non-negative
  sum ``T_c = sum_k e^{z_k - m_c} (m_c - z_k)``, merged as
  ``T = sum_c e^{m_c - M} (T_c + (M - m_c) S_c)``, and ``cross_entropy``
  the target's logit. ``softmax`` and ``log_softmax`` are then a second
  blockwise pass with the row's ``(M, log S)``. The results agree with the
  numpy tier within a few ULP (``tests/dask/`` holds them to it).

``kl_divergence`` over a split class axis reads the data in three passes:
the maxima (a ``+inf`` logit makes its row the limit distribution), then
p's ``(M, S)``, a centre ``mu ~ E_p[z_p - z_q]`` and q's mass on and off
p's support, then the non-negative series ``G = E_p[g(mu - d)]`` of
:func:`expfam._core.dd.g_dd`, summed exactly as above.

A class axis split across chunks is supported for ``logsumexp`` (without
``b``), ``softmax``, ``log_softmax``, ``entropy``, ``cross_entropy`` and
``kl_divergence``; weights ``b``, and several class axes with any of them
split, raise a ValueError naming the argument and the ``rechunk`` that
fixes it. Dask arrays with unknown chunk sizes, and arguments whose chunks
differ from the logits', are refused the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dask.array as da
import numpy as np
from numpy.typing import NDArray

from expfam._core import dd as _dd
from expfam._core.args import axes_tuple, beta_array
from expfam._core.daskargs import (
    aligned,
    aligned_pair,
    as_dask,
    beta_arg,
    blockwise_rows,
    class_axes,
    is_split,
    known_chunks,
    per_row_arg,
    refuse_split,
    result_dtype,
    where_arg,
)
from expfam.special import _elementwise as _np_elementwise
from expfam.special import _losses as _np_losses
from expfam.special import _partition as _np_partition

_SPLIT_EVERY = 8  # partials merged per node of the tree
_F64 = np.dtype(np.float64)


# ------------------------------------------------------------------ elementwise


def _elementwise(fn: Callable[[NDArray], Any], x: da.Array, name: str) -> da.Array:
    x = known_chunks(x, name)
    dtype = result_dtype(x.dtype, names=[name])
    return x.map_blocks(
        lambda b: np.asarray(fn(b)), dtype=dtype, meta=np.empty((0,) * x.ndim, dtype=dtype)
    )


def sigmoid(x: da.Array) -> da.Array:
    r"""Dask twin of :func:`expfam.special.sigmoid`, blockwise:
    :math:`\sigma(w) = 1 / (1 + e^{-w})`."""
    return _elementwise(_np_elementwise.sigmoid, x, "x")


def softplus(x: da.Array) -> da.Array:
    r"""Dask twin of :func:`expfam.special.softplus`, blockwise: :math:`\log(1 + e^w)`."""
    return _elementwise(_np_elementwise.softplus, x, "x")


def log_sigmoid(x: da.Array) -> da.Array:
    r"""Dask twin of :func:`expfam.special.log_sigmoid`, blockwise: :math:`-\log(1 + e^{-w})`."""
    return _elementwise(_np_elementwise.log_sigmoid, x, "x")


def logit(p: da.Array) -> da.Array:
    r"""Dask twin of :func:`expfam.special.logit`, blockwise: :math:`\log(p / (1 - p))`."""
    return _elementwise(_np_elementwise.logit, p, "p")


def log1mexp(x: da.Array) -> da.Array:
    r"""Dask twin of :func:`expfam.special.log1mexp`, blockwise: :math:`\log(1 - e^{x})`."""
    return _elementwise(_np_elementwise.log1mexp, x, "x")


# ------------------------------------------------------------------ partials of a split class axis

# Columns of a row's partials: beta, m (the chunk's max of the logits), S = sum e^{beta (z - m)}
# in double-double, whether any class is included, then per kind T (entropy, double-double)
# or the target's logit (cross_entropy).
_BETA, _M, _S_HI, _S_LO, _ANY, _X1, _X2 = range(7)
_WIDTH = {"logsumexp": 5, "entropy": 7, "cross_entropy": 6}


def _dd_mul(a_hi: NDArray, a_lo: NDArray, b_hi: NDArray, b_lo: NDArray) -> tuple[NDArray, NDArray]:
    p, err = _dd.two_prod(a_hi, b_hi)
    return p, err + (a_hi * b_lo + a_lo * b_hi)


def _shift(z: NDArray, m: NDArray, beta: NDArray) -> tuple[NDArray, NDArray]:
    """``beta (z - m)`` in double-double for ``z <= m`` (finite ``m``), far terms to -inf."""
    hi, lo = _dd.two_sum(z, -m)
    lo = np.where(np.isfinite(hi), lo, 0.0)
    far = beta * hi < -1500.0  # e^{beta (z - m)} is 0 there
    hi = np.where(far, 0.0, hi)
    s_hi, s_lo = _dd_mul(beta * np.ones_like(hi), 0.0 * hi, hi, np.where(far, 0.0, lo))
    return np.where(far | np.isneginf(z), -np.inf, s_hi), np.where(far, 0.0, s_lo)


def _exp(hi: NDArray, lo: NDArray) -> tuple[NDArray, NDArray]:
    """``e^{hi + lo}`` as a normalized double-double (0 at ``hi = -inf``)."""
    e_hi, e_lo = _dd.two_sum(*_dd.exp_dd(np.where(np.isneginf(hi), -2000.0, hi), lo))
    return np.where(np.isneginf(hi), 0.0, e_hi), np.where(np.isneginf(hi), 0.0, e_lo)


def _chunk_partials(
    kind: str, z: NDArray, beta: NDArray, included: NDArray, y: NDArray | None, start: int
) -> NDArray:
    """The partials of rows ``z`` (2-D, float64, masked entries -inf) of one chunk of classes."""
    r, k = z.shape
    out = np.zeros((r, _WIDTH[kind]))
    out[:, _BETA] = beta
    out[:, _ANY] = included.any(axis=1)
    m, out[:, _S_HI], out[:, _S_LO], (e_hi, e_lo), (d_hi, d_lo) = _lse_chunk(z, beta)
    out[:, _M] = m
    finite = np.isfinite(m)
    if kind == "entropy":  # T = sum e_k (m - z_k) >= 0, in double-double
        t_hi, t_lo = _dd_mul(e_hi, e_lo, -d_hi, -d_lo)
        zero = (e_hi == 0.0) | ~finite[:, None]
        t_hi, t_lo = np.where(zero, 0.0, t_hi), np.where(zero, 0.0, t_lo)
        out[:, _X1], out[:, _X2] = _dd.row_sum_dd(t_hi, t_lo) if k else (0.0, 0.0)
    elif kind == "cross_entropy":
        assert y is not None
        inside = (y >= start) & (y < start + k)
        local = np.where(inside, y - start, 0)
        zy = z[np.arange(r), local] if k else np.full(r, -np.inf)
        out[:, _X1] = np.where(inside, zy, -np.inf)
    return out


def _merge(kind: str, parts: NDArray) -> NDArray:
    """Merge partials ``parts`` (rows, n chunks, width) into one set per row."""
    m = parts[..., _M]
    top, s_hi, s_lo, (f_hi, f_lo) = _lse_merge(
        m, parts[..., _S_HI], parts[..., _S_LO], parts[:, 0, _BETA]
    )
    mf = np.where(np.isfinite(top), top, 0.0)[:, None]
    out = parts[:, 0].copy()
    out[:, _M], out[:, _S_HI], out[:, _S_LO] = top, s_hi, s_lo
    out[:, _ANY] = parts[..., _ANY].max(axis=1)
    if kind == "entropy":  # T = sum_c f_c (T_c + (M - m_c) S_c), every term >= 0
        g_hi, g_lo = _dd.two_sum(mf, -m)
        g_lo = np.where(np.isfinite(g_hi), g_lo, 0.0)
        u_hi, u_lo = _dd_mul(g_hi, g_lo, parts[..., _S_HI], parts[..., _S_LO])
        u_hi, u_err = _dd.two_sum(parts[..., _X1], u_hi)
        t_hi, t_lo = _dd_mul(u_hi, u_err + u_lo + parts[..., _X2], f_hi, f_lo)
        used = f_hi > 0.0
        t_hi, t_lo = np.where(used, t_hi, 0.0), np.where(used, t_lo, 0.0)
        out[:, _X1], out[:, _X2] = _dd.row_sum_dd(t_hi, t_lo)
    elif kind == "cross_entropy":
        out[:, _X1] = np.max(parts[..., _X1], axis=1)
    return out


def _lse_chunk(z: NDArray, beta: NDArray) -> tuple[NDArray, ...]:
    """``(m, S_hi, S_lo, e, d)`` of rows ``z`` (2-D float64): ``m = max z``,
    ``S = sum e^{beta (z - m)}`` in double-double (the count of ``+inf`` where
    ``m = +inf``), and the double-double terms ``e`` and shifts ``d = beta (z - m)``."""
    r, k = z.shape
    m = np.max(z, axis=1) if k else np.full(r, -np.inf)
    mf = np.where(np.isfinite(m), m, 0.0)[:, None]
    d_hi, d_lo = _shift(z, mf, beta[:, None])
    e_hi, e_lo = _exp(d_hi, d_lo)
    s_hi, s_lo = _dd.row_sum_dd(e_hi, e_lo) if k else (np.zeros(r), np.zeros(r))
    top = m == np.inf
    s_hi = np.where(top, np.sum(z == np.inf, axis=1), s_hi)
    return m, s_hi, np.where(top, 0.0, s_lo), (e_hi, e_lo), (d_hi, d_lo)


def _lse_merge(
    m: NDArray, s_hi: NDArray, s_lo: NDArray, beta: NDArray
) -> tuple[NDArray, NDArray, NDArray, tuple[NDArray, NDArray]]:
    """Merge ``(m_c, S_c)`` over the chunks (axis 1): ``M = max m_c``,
    ``S = sum_c S_c e^{beta (m_c - M)}``, and the factors ``f_c = e^{beta (m_c - M)}``."""
    top = np.max(m, axis=1)
    mf = np.where(np.isfinite(top), top, 0.0)[:, None]
    d_hi, d_lo = _shift(m, mf, beta[:, None])
    f_hi, f_lo = _exp(d_hi, d_lo)
    f_hi = np.where(top[:, None] == np.inf, (m == np.inf).astype(float), f_hi)
    f_lo = np.where(top[:, None] == np.inf, 0.0, f_lo)
    t_hi, t_lo = _dd_mul(s_hi, s_lo, f_hi, f_lo)
    total_hi, total_lo = _dd.row_sum_dd(t_hi, t_lo)
    nan = np.isnan(top) | np.isnan(s_hi).any(axis=1)
    return top, np.where(nan, np.nan, total_hi), total_lo, (f_hi, f_lo)


def _log_s(p: NDArray) -> tuple[NDArray, NDArray]:
    """``log S`` of merged partials in double-double (``log1p`` near ``S = 1``)."""
    s_hi, s_lo = p[..., _S_HI], p[..., _S_LO]
    with np.errstate(all="ignore"):
        near = np.abs(s_hi - 1.0) < 0.5
        positive = s_hi > 0
        l1_hi, l1_lo = _dd.log1p_dd(np.where(near, s_hi - 1.0, 0.0), np.where(near, s_lo, 0.0))
        l2_hi, l2_lo = _dd.log_dd(np.where(near | ~positive, 1.0, s_hi), np.where(near, 0.0, s_lo))
        l_hi = np.where(near, l1_hi, np.where(positive, l2_hi, np.log(s_hi)))
        l_lo = np.where(near, l1_lo, np.where(positive, l2_lo, 0.0))
    return l_hi, np.where(np.isfinite(l_hi), l_lo, 0.0)


def _tempered(z: da.Array, beta: da.Array | None) -> tuple[da.Array, da.Array | None]:
    """Logits and temperatures with ``0 < beta < inf``: the limits ``beta = 0`` (finite
    logits tied) and ``beta = inf`` (the maxima tied, the rest ``-inf``) at ``beta = 1``."""
    if beta is None:
        return z, None
    top = da.broadcast_to(z.max(axis=-1, keepdims=True), z.shape, chunks=z.chunks)

    def limits(zb: NDArray, bb: NDArray, mb: NDArray) -> NDArray:
        zero, infinite = bb == 0.0, bb == np.inf
        if not (zero.any() or infinite.any()):
            return zb
        argmax = np.where(np.isfinite(mb), np.where(zb == mb, 0.0, -np.inf), zb)
        return np.where(zero, np.where(np.isfinite(zb), 0.0, zb), np.where(infinite, argmax, zb))

    zt = da.map_blocks(limits, z, beta, top, dtype=z.dtype)
    bt = beta.map_blocks(lambda b: np.where((b == 0) | (b == np.inf), 1.0, b), dtype=np.float64)
    return zt, bt


def _reduced(
    kind: str,
    z: da.Array,
    beta: da.Array | None,
    where: da.Array | None,
    y: da.Array | None = None,
) -> da.Array:
    """Merged partials, shape ``z.shape[:-1] + (width,)``, of ``z`` (class axis last,
    float64, masked entries already -inf; ``beta`` and ``y`` shaped like ``z``)."""

    def chunk(given: dict[str, NDArray], start: int) -> NDArray:
        rows = given["z"]
        b = given["beta"][:, 0] if "beta" in given else np.ones(len(rows))
        inc = given["where"] if "where" in given else np.ones(rows.shape, bool)
        yy = given["y"][:, 0] if "y" in given else None
        return _chunk_partials(kind, rows, b, inc, yy, start)

    arrays = {"z": z, "beta": beta, "where": where, "y": y}
    return _tree(chunk, lambda parts: _merge(kind, parts), _WIDTH[kind], arrays)


def _tree(
    chunk: Callable[[dict[str, NDArray], int], NDArray],
    merge: Callable[[NDArray], NDArray],
    width: int,
    arrays: dict[str, da.Array | None],
    row_info: da.Array | None = None,
) -> da.Array:
    """The tree reduction over the (last) class axis of the arrays (same shape and chunks).

    ``chunk(rows, start)`` gets each named array's block as 2-D rows (and
    ``rows["info"]``, the rows of ``row_info``, shape ``batch + (w,)``),
    the index of the block's first class, and returns the partials
    ``(rows, width)``; ``merge`` folds ``(rows, n, width)`` into ``(rows, width)``.
    """
    given = {k: v for k, v in arrays.items() if v is not None}
    names = list(given)
    first = given[names[0]]
    n = first.ndim
    idx = tuple(range(n))
    classes = da.arange(first.shape[-1], chunks=first.chunks[-1])
    args: list[Any] = [classes, (n - 1,)]
    for name in names:
        args += [given[name], idx]
    if row_info is not None:
        args += [row_info, (*idx[:-1], n)]  # its last axis contracted: whole in every block

    def block(index: NDArray, *blocks: NDArray) -> NDArray:
        lead, k = blocks[0].shape[:-1], blocks[0].shape[-1]
        rows = {name: b.reshape(-1, k) for name, b in zip(names, blocks, strict=False)}
        if row_info is not None:
            rows["info"] = blocks[-1].reshape(-1, blocks[-1].shape[-1])
        with np.errstate(all="ignore"):
            out = chunk(rows, int(index[0]) if len(index) else 0)
        return out.reshape((*lead, width))

    parts = da.blockwise(
        block,
        idx,
        *args,
        dtype=np.float64,
        adjust_chunks={n - 1: width},
        concatenate=True,
        meta=np.empty((0,) * n, dtype=np.float64),
    )
    while parts.numblocks[-1] > 1:
        count = parts.numblocks[-1]
        groups = tuple(min(_SPLIT_EVERY, count - i) * width for i in range(0, count, _SPLIT_EVERY))

        def node(pb: NDArray) -> NDArray:
            lead = pb.shape[:-1]
            with np.errstate(all="ignore"):
                out = merge(pb.reshape(-1, pb.shape[-1] // width, width))
            return out.reshape((*lead, width))

        parts = parts.rechunk({n - 1: groups}).map_blocks(
            node, chunks=(*parts.chunks[:-1], (width,) * len(groups)), dtype=np.float64
        )
    return parts


def _finish(
    parts: da.Array, fn: Callable[..., NDArray], dtype: np.dtype, *extra: da.Array
) -> da.Array:
    """``fn(partials, *extra)`` per row: the last axis (the partials) dropped."""
    n = parts.ndim
    idx = tuple(range(n))
    args: list[Any] = [parts, idx]
    for arr in extra:
        args += [arr, idx]

    def block(pb: NDArray, *rest: NDArray) -> NDArray:
        with np.errstate(all="ignore"):
            return fn(pb, *(r[..., 0] for r in rest)).astype(dtype)

    return da.blockwise(
        block,
        idx[:-1],
        *args,
        dtype=dtype,
        concatenate=True,
        meta=np.empty((0,) * (n - 1), dtype=dtype),
    )


def _split_plan(
    x: da.Array, axis: int, name: str, beta: Any, where: Any, infinities: bool = False
) -> tuple[da.Array, da.Array | None, da.Array | None]:
    """``x`` with its class axis last, as float64 with masked entries -inf, and its
    temperatures (in ``(0, inf)``) and mask, shaped and chunked like it. With
    ``infinities``, rows with a ``+inf`` logit are replaced by their limit first."""
    z = da.moveaxis(x, axis, -1).astype(np.float64)
    mask = None
    if where is not None:
        mask = da.moveaxis(where_arg(where, x, name), axis, -1)
        z = da.where(mask, z, -np.inf)
    if infinities:
        z = _infinite_limit(z)
    b = beta_arg(beta, x, (axis,), name)
    if b is not None:
        b = da.broadcast_to(da.moveaxis(b, axis, -1), z.shape, chunks=z.chunks)
    limits = isinstance(beta, da.Array) or bool(np.any(np.isin(beta_array(beta), [0.0, np.inf])))
    if limits:
        z, b = _tempered(z, b)
    return z, b, mask


def _restore(out: da.Array, axis: int, keepdims: bool) -> da.Array:
    return da.expand_dims(out, axis) if keepdims else out


# ------------------------------------------------------------------ row functions


def _finish_logsumexp(p: NDArray) -> NDArray:
    m = p[..., _M]
    l_hi, l_lo = _log_s(p)
    top, err = _dd.two_sum(np.where(np.isfinite(m), m, 0.0), l_hi)
    value = top + (err + l_lo)
    value = np.where(m == np.inf, np.inf, np.where(p[..., _S_HI] == 0.0, -np.inf, value))
    return np.where(np.isnan(m) | np.isnan(p[..., _S_HI]), np.nan, value)


def logsumexp(
    a: da.Array,
    axis: int | Sequence[int] | None = -1,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
    *,
    where: Any = None,
) -> da.Array | tuple[da.Array, da.Array]:
    r"""Dask twin of :func:`expfam.special.logsumexp`: :math:`\log \sum_i b_i e^{a_i}`.

    With the classes of a row in one chunk, blockwise over the numpy tier.
    With a single class axis split across chunks (``b`` not given), the tree
    reduction of ``(max, double-double sum)`` partials of this module:
    ``M + log S``, within a few ULP of the numpy tier. Weights ``b`` need the
    class axis in one chunk.

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.from_array(np.array([[0.0, -40.0, 1.0, 2.0]]), chunks=(1, 2))
    >>> float(logsumexp(x).compute()[0]) == float(logsumexp(x.compute())[0])
    True
    """
    x = as_dask(a, "a")
    dtype = result_dtype(x.dtype, names=["a"])
    axes = class_axes(x, axis)
    if b is not None:
        bd = as_dask(b, "b")
        dtype = np.result_type(dtype, result_dtype(bd.dtype, names=["b"]))
    if not is_split(x, axes):
        per_class: dict[str, Any] = {"where": where_arg(where, x, "a")}
        if b is not None:
            per_class["b"] = aligned(b, "b", x.shape, x.chunks, "a")
        fixed = {"keepdims": keepdims, "return_sign": return_sign}
        if not return_sign:
            return blockwise_rows(
                _np_partition.logsumexp,
                x,
                axes,
                dtype,
                reduce=True,
                keepdims=keepdims,
                per_class=per_class,
                fixed=fixed,
            )
        parts = [
            blockwise_rows(
                lambda xb, i=i, **kw: _np_partition.logsumexp(xb, **kw)[i],
                x,
                axes,
                dtype,
                reduce=True,
                keepdims=keepdims,
                per_class=per_class,
                fixed=fixed,
            )
            for i in range(2)
        ]
        return parts[0], parts[1]
    if b is not None:
        raise refuse_split("a", axes, "when weights b are given")
    if len(axes) > 1:
        raise refuse_split("a", axes, "for several class axes")
    z, _, _ = _split_plan(x, axes[0], "a", 1.0, where)
    value = _finish(_reduced("logsumexp", z, None, None), _finish_logsumexp, dtype)
    value = _restore(value, axes[0], keepdims)
    if return_sign:
        sign = value.map_blocks(
            lambda v: np.where(np.isnan(v), np.nan, np.where(v == -np.inf, 0.0, 1.0)).astype(
                v.dtype
            ),
            dtype=dtype,
        )
        return value, sign
    return value


def _normalized_split(
    kind: str, x: da.Array, axis: int, beta: Any, where: Any, name: str, dtype: np.dtype
) -> da.Array:
    """softmax or log_softmax over a split class axis: the partials, then a blockwise pass."""
    z, b, mask = _split_plan(x, axis, name, beta, where)
    parts = _reduced("logsumexp", z, b, mask)
    n = z.ndim
    idx = tuple(range(n))
    row_idx = (*idx[:-1], n)  # the partials' axis, contracted
    args: list[Any] = [z, idx, parts, row_idx]
    if b is not None:
        args += [b, idx]

    def block(zb: NDArray, pb: NDArray, bb: NDArray | None = None) -> NDArray:
        with np.errstate(all="ignore"):
            return _normalize_block(kind, zb, pb, bb).astype(dtype)

    out = da.blockwise(
        block, idx, *args, dtype=dtype, concatenate=True, meta=np.empty((0,) * n, dtype=dtype)
    )
    return da.moveaxis(out, -1, axis)


def _normalize_block(kind: str, z: NDArray, p: NDArray, beta: NDArray | None) -> NDArray:
    """``softmax`` or ``log_softmax`` of a chunk of classes given the row's merged partials."""
    m, s_hi, s_lo = p[..., _M, None], p[..., _S_HI, None], p[..., _S_LO, None]
    b = np.ones_like(z) if beta is None else beta
    d_hi, d_lo = _shift(z, np.where(np.isfinite(m), m, 0.0), b)
    if kind == "log_softmax":
        l_hi, l_lo = _log_s(p)
        top, err = _dd.two_sum(d_hi, -l_hi[..., None])
        out = np.where(np.isneginf(d_hi), -np.inf, top + (err + (d_lo - l_lo[..., None])))
        tied = np.where(z == np.inf, -np.log(s_hi), -np.inf)
    else:
        e_hi, e_lo = _exp(d_hi, d_lo)
        q = e_hi / s_hi
        prod, prod_err = _dd.two_prod(q, s_hi)
        out = q + (((e_hi - prod) - prod_err) + e_lo - q * s_lo) / s_hi
        tied = (z == np.inf) / s_hi
    out = np.where(m == np.inf, tied, out)
    nan = np.isnan(m) | np.isnan(s_hi) | (s_hi == 0.0)
    empty = p[..., _ANY, None] == 0.0
    out = np.where(nan, np.nan, out)
    return np.where(empty, 0.0 if kind == "softmax" else -np.inf, out)


def _normalized(
    kind: str, x: Any, axis: object, beta: Any, where: Any, name: str = "x"
) -> da.Array:
    x = as_dask(x, name)
    dtype = result_dtype(x.dtype, names=[name])
    axes = class_axes(x, axis)
    fn = getattr(_np_partition, kind)
    if not is_split(x, axes):
        return blockwise_rows(
            fn,
            x,
            axes,
            dtype,
            reduce=False,
            per_row={"beta": beta_arg(beta, x, axes, name)},
            per_class={"where": where_arg(where, x, name)},
        )
    if len(axes) > 1:
        raise refuse_split(name, axes, "for several class axes")
    return _normalized_split(kind, x, axes[0], beta, where, name, dtype)


def softmax(
    x: da.Array, axis: int | Sequence[int] | None = -1, *, beta: Any = 1.0, where: Any = None
) -> da.Array:
    r"""Dask twin of :func:`expfam.special.softmax`:
    :math:`p_i = e^{\beta x_i} / \sum_j e^{\beta x_j}`.

    Blockwise over the numpy tier when a row's classes sit in one chunk; over a
    split class axis, the row's ``(M, S)`` from the tree reduction, then
    ``e^{beta (x_i - M)} / S`` in double-double, block by block.

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.from_array(np.array([1000.0, 1001.0, 1002.0]), chunks=2)
    >>> softmax(x).compute().round(8)
    array([0.09003057, 0.24472847, 0.66524096])
    """
    return _normalized("softmax", x, axis, beta, where)


def log_softmax(
    x: da.Array, axis: int | Sequence[int] | None = -1, *, beta: Any = 1.0, where: Any = None
) -> da.Array:
    r"""Dask twin of :func:`expfam.special.log_softmax`:
    :math:`\log p_i = \beta x_i - \log \sum_j e^{\beta x_j}`.

    Over a split class axis: ``beta (x_i - M) - log S`` with both terms in
    double-double, rounded once.

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.from_array(np.array([0.0, -40.0]), chunks=1)
    >>> float(log_softmax(x).compute()[0])
    -4.248354255291589e-18
    """
    return _normalized("log_softmax", x, axis, beta, where)


def _finish_entropy(p: NDArray) -> NDArray:
    l_hi, l_lo = _log_s(p)
    s_hi = p[..., _S_HI]
    ratio = p[..., _X1] / s_hi
    value = l_hi + (l_lo + ratio)
    value = np.where(p[..., _M] == np.inf, np.log(s_hi), value)
    value = np.where(np.isnan(p[..., _M]) | np.isnan(s_hi) | (s_hi == 0.0), np.nan, value)
    return np.where(p[..., _ANY] == 0.0, 0.0, value)


def entropy(
    logits: da.Array,
    axis: int | Sequence[int] | None = -1,
    *,
    where: Any = None,
    keepdims: bool = False,
) -> da.Array:
    r"""Dask twin of :func:`expfam.special.entropy`: :math:`H = \log S + T / S`.

    ``S = sum_k e^{z_k - M}`` and ``T = sum_k e^{z_k - M} (M - z_k)``, both
    sums of non-negative terms, so a split class axis merges them without
    cancellation.

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.zeros((2, 4), chunks=(1, 2))
    >>> entropy(x).compute().tolist() == [np.log(4.0)] * 2
    True
    """
    x = as_dask(logits, "logits")
    dtype = result_dtype(x.dtype, names=["logits"])
    axes = class_axes(x, axis)
    if not is_split(x, axes):
        return blockwise_rows(
            _np_partition.entropy,
            x,
            axes,
            dtype,
            reduce=True,
            keepdims=keepdims,
            per_class={"where": where_arg(where, x, "logits")},
            fixed={"keepdims": keepdims},
        )
    if len(axes) > 1:
        raise refuse_split("logits", axes, "for several class axes")
    z, _, mask = _split_plan(x, axes[0], "logits", 1.0, where)
    out = _finish(_reduced("entropy", z, None, mask), _finish_entropy, dtype)
    return _restore(out, axes[0], keepdims)


def _finish_cross_entropy(k: int) -> Callable[[NDArray, NDArray], NDArray]:
    def finish(p: NDArray, y: NDArray) -> NDArray:
        bad = (y < 0) | (y >= k)
        if bad.any():
            raise ValueError(f"target: class index {y[bad].flat[0]} is out of range [0, {k})")
        m, zy, beta = p[..., _M], p[..., _X1], p[..., _BETA]
        l_hi, l_lo = _log_s(p)
        g_hi, g_lo = _dd.two_sum(np.where(np.isfinite(m), m, 0.0), -zy)
        g_lo = np.where(np.isfinite(g_hi), g_lo, 0.0)
        c_hi, c_lo = _dd_mul(beta, np.zeros_like(beta), g_hi, g_lo)
        top, err = _dd.two_sum(l_hi, c_hi)
        value = np.where(np.isinf(c_hi), c_hi, top + (err + l_lo + c_lo))
        value = np.where(m == np.inf, np.where(zy == np.inf, np.log(p[..., _S_HI]), np.inf), value)
        s_hi = p[..., _S_HI]
        value = np.where(np.isnan(m) | np.isnan(zy) | np.isnan(s_hi) | (s_hi == 0), np.nan, value)
        return np.where(p[..., _ANY] == 0.0, np.inf, value)

    return finish


def cross_entropy(
    logits: da.Array,
    target: Any,
    axis: int | Sequence[int] | None = -1,
    *,
    beta: Any = 1.0,
    where: Any = None,
    keepdims: bool = False,
) -> da.Array:
    r"""Dask twin of :func:`expfam.special.cross_entropy`:
    :math:`-\log p_y = \log S + \beta (M - z_y)`.

    Blockwise over the numpy tier when a row's classes sit in one chunk.
    Over a split class axis: for an index, the merged ``(M, S)`` and the
    target's logit; for class weights ``q``,
    ``Q log S + beta sum_k q_k (M - z_k)`` with ``Q = sum_k q_k``, the second
    sum merged as ``sum_c [V_c + beta (M - m_c) Q_c]``. Every term is
    non-negative. An index out of ``[0, K)``, or a negative weight, raises
    when computed.

    Examples
    --------
    >>> import dask.array as da
    >>> z = da.from_array(np.array([[0.1, -2.0, 3.4, 3.3]]), chunks=(1, 2))
    >>> round(float(cross_entropy(z, np.array([2])).compute()[0]), 8)
    0.66589785
    """
    x = as_dask(logits, "logits")
    dtype = result_dtype(x.dtype, names=["logits"])
    axes = class_axes(x, axis)
    y = target if isinstance(target, da.Array) else np.asarray(target)
    index = y.dtype.kind in "iu"
    if not index and y.dtype.kind not in "fb":
        raise TypeError(
            f"target: expected integer class indices or a float probability vector, "
            f"got dtype {y.dtype}"
        )
    if not index and y.ndim != max(x.ndim, 1):
        raise ValueError(
            f"target: a float target is a probability vector over the classes and must "
            f"have the logits' {max(x.ndim, 1)} axes, got shape {y.shape}; pass class "
            f"indices as integers (e.g. target.astype(int))"
        )
    if not index and any(y.shape[a] != x.shape[a] for a in axes):
        raise ValueError(
            f"target: shape {y.shape} does not match logits' shape {x.shape} (a "
            f"probability target has the same class axes; its other axes broadcast)"
        )
    if not is_split(x, axes):
        per_row = {"beta": beta_arg(beta, x, axes, "logits")}
        per_class = {"where": where_arg(where, x, "logits")}
        if index:
            per_row["target"] = per_row_arg(y, "target", x, axes, "logits")
        else:
            per_class["target"] = aligned(y, "target", x.shape, x.chunks, "logits")

        def fn(xb: NDArray, axis: Any, target: NDArray, **kw: Any) -> NDArray:
            return _np_losses.cross_entropy(xb, target, axis, **kw)

        return blockwise_rows(
            fn,
            x,
            axes,
            dtype,
            reduce=True,
            keepdims=keepdims,
            per_row=per_row,
            per_class=per_class,
            fixed={"keepdims": keepdims},
        )
    if len(axes) > 1:
        raise refuse_split("logits", axes, "for several class axes")
    (a,) = axes
    if not index:
        return _restore(_soft_cross_entropy_split(x, y, a, beta, where, dtype), a, keepdims)
    z, b, mask = _split_plan(x, a, "logits", beta, where)
    yb = da.moveaxis(per_row_arg(y, "target", x, axes, "logits"), a, -1)
    yfull = da.broadcast_to(yb, z.shape, chunks=z.chunks)
    parts = _reduced("cross_entropy", z, b, mask, yfull)
    out = _finish(parts, _finish_cross_entropy(x.shape[a]), dtype, yb)
    return _restore(out, a, keepdims)


def kl_divergence(
    logits_p: Any,
    logits_q: Any,
    axis: int | Sequence[int] | None = -1,
    *,
    where: Any = None,
    keepdims: bool = False,
) -> da.Array:
    r"""Dask twin of :func:`expfam.special.kl_divergence`:
    :math:`\mathrm{KL}(p \,\|\, q) = \sum_k p_k \log(p_k / q_k)`.

    .. math::

        \mathrm{KL} = \log(1 + G + r) - r - \log q(S), \quad
        G = E_p[e^x - 1 - x] \ge 0, \quad r = E_p[x], \quad x_k = \mu - (z_{p,k} - z_{q,k}),

    ``S`` the support of ``p``. Blockwise over the numpy tier (its centred
    series) when a row's classes sit in one chunk; over a split class axis,
    the same series in three passes (module docstring), within a few ULP of
    numpy, never negative and accurate as ``q -> p``. ``logits_p`` and
    ``logits_q`` must have the same chunks along their common axes.

    Examples
    --------
    >>> import dask.array as da
    >>> p = da.zeros((1, 2), chunks=1).rechunk((1, 2))
    >>> float(kl_divergence(p, np.array([[0.0, 1e-8]])).compute()[0])
    1.25e-17
    """
    names = ("logits_p", "logits_q")
    p, q, ref_name = aligned_pair(logits_p, logits_q, names)
    dtype = result_dtype(p.dtype, q.dtype, names=names)
    axes = axes_tuple(axis, p.ndim)
    if is_split(p, axes):
        if len(axes) > 1:
            raise refuse_split(ref_name, axes, "for several class axes")
        (a,) = axes
        zp = da.moveaxis(p, a, -1).astype(np.float64)
        zq = da.moveaxis(q, a, -1).astype(np.float64)
        mask = None
        if where is not None:
            mask = da.moveaxis(where_arg(where, p, "logits_p"), a, -1)
            zp, zq = da.where(mask, zp, -np.inf), da.where(mask, zq, -np.inf)
        return _restore(_kl_split(zp, zq, mask, dtype), a, keepdims)

    def fn(pb: NDArray, axis: Any, logits_q: NDArray, **kw: Any) -> NDArray:
        return _np_losses.kl_divergence(pb, logits_q, axis, **kw)

    return blockwise_rows(
        fn,
        p,
        axes,
        dtype,
        reduce=True,
        keepdims=keepdims,
        per_class={"logits_q": q, "where": where_arg(where, p, "logits_p")},
        fixed={"keepdims": keepdims},
    )


# KL over a split class axis: the centred series of expfam.special._kl in two passes.
# Pass 1 (after the limits of +inf logits): p's (M, S), E_p[d] roughly (the centre mu),
# q's log-partition on and off the support of p, and flags. Pass 2: G = E_p[g(mu - d)]
# and r = E_p[mu - d] as sums of their terms, with M_p and S_p known.
_KL1 = 13  # mp, sp_hi, sp_lo, a, mqs, sqs_hi, sqs_lo, mqo, sqo_hi, sqo_lo, inf, any, nan
_KL2 = 3  # G_hi, G_lo, R


def _kl_chunk1(rows: dict[str, NDArray], start: int) -> NDArray:
    zp, zq = rows["zp"], rows["zq"]
    one = np.ones(len(zp))
    out = np.zeros((len(zp), _KL1))
    mp, out[:, 1], out[:, 2], (e_hi, _), _ = _lse_chunk(zp, one)
    out[:, 0] = mp
    on = zp > -np.inf
    d = np.where(on & (e_hi > 0), zp - zq, 0.0)
    out[:, 3] = np.sum(np.where(np.isfinite(d), e_hi * d, 0.0), axis=1)
    q_on = _lse_chunk(np.where(on, zq, -np.inf), one)
    q_off = _lse_chunk(np.where(on, -np.inf, zq), one)
    out[:, 4], out[:, 5], out[:, 6] = q_on[:3]
    out[:, 7], out[:, 8], out[:, 9] = q_off[:3]
    out[:, 10] = np.any(on & (zq == -np.inf), axis=1)
    out[:, 11] = rows["where"].any(axis=1) if "where" in rows else 1.0
    out[:, 12] = np.any(np.isnan(zp) | np.isnan(zq), axis=1)
    return out


def _kl_merge1(parts: NDArray) -> NDArray:
    one = np.ones(len(parts))
    out = np.zeros((len(parts), _KL1))
    out[:, 0], out[:, 1], out[:, 2], (f_hi, _) = _lse_merge(
        parts[..., 0], parts[..., 1], parts[..., 2], one
    )
    out[:, 3] = np.sum(np.where(f_hi > 0, parts[..., 3] * f_hi, 0.0), axis=1)
    for c in (4, 7):
        out[:, c], out[:, c + 1], out[:, c + 2], _ = _lse_merge(
            parts[..., c], parts[..., c + 1], parts[..., c + 2], one
        )
    out[:, 10:] = parts[..., 10:].max(axis=1)
    return out


def _kl_chunk2(rows: dict[str, NDArray], start: int) -> NDArray:
    zp, zq, info = rows["zp"], rows["zq"], rows["info"]
    mp, mu = info[:, 0:1], info[:, 3:4] / info[:, 1:2]
    mu = np.where(np.isfinite(mu), mu, 0.0)
    on = (zp > -np.inf) & (zq > -np.inf)
    w_hi, w_lo = _exp(*_shift(zp, np.where(np.isfinite(mp), mp, 0.0), np.ones_like(zp)))
    d_hi, d_lo = _dd.two_sum(np.where(on, zp, 0.0), np.where(on, -zq, 0.0))
    x_hi, x_err = _dd.two_sum(np.broadcast_to(mu, zp.shape), -d_hi)
    x_hi, x_lo = _dd.two_sum(x_hi, x_err - d_lo)  # normalized: x_lo below half an ulp
    g_hi, g_lo = _dd.g_dd(x_hi)
    g_lo = g_lo + np.expm1(x_hi) * x_lo  # g(x_hi + x_lo) to first order in x_lo
    t_hi, t_lo = _dd_mul(w_hi, w_lo, g_hi, g_lo)
    used = on & (w_hi > 0)
    t_hi, t_lo = np.where(used, t_hi, 0.0), np.where(used, t_lo, 0.0)
    out = np.zeros((len(zp), _KL2))
    out[:, 0], out[:, 1] = _dd.row_sum_dd(t_hi, t_lo) if zp.shape[1] else (0.0, 0.0)
    out[:, 2] = np.sum(np.where(used, w_hi * (x_hi + x_lo), 0.0), axis=1)
    return out


def _kl_merge2(parts: NDArray) -> NDArray:
    out = np.zeros((len(parts), _KL2))
    out[:, 0], out[:, 1] = _dd.row_sum_dd(parts[..., 0], parts[..., 1])
    out[:, 2] = np.sum(parts[..., 2], axis=1)
    return out


def _kl_finish(second: NDArray, first: NDArray) -> NDArray:
    """``KL = G + (log1p(y) - y)``, ``y = G + r`` (``log1p(y) - r`` for large ``y``),
    plus ``-log q(S) = log1p(Q_off / Q_on)``."""
    s_hi = first[..., 1]
    big_g = (second[..., 0] + second[..., 1]) / s_hi
    r = second[..., 2] / s_hi
    y = big_g + r
    small = np.abs(y) < 0.5
    ys = np.where(small, y, 0.0)
    tail = -ys * ys * (0.5 - ys * (1 / 3 - ys * (0.25 - ys * (0.2 - ys / 6))))
    series = np.where(np.abs(ys) < 1e-2, tail, np.log1p(ys) - ys)
    value = np.where(small, big_g + series, np.log1p(y) - r)
    off = first[..., 8] * np.exp(first[..., 7] - first[..., 4]) / first[..., 5]
    value = value + np.log1p(np.where(first[..., 8] > 0, off, 0.0))
    value = np.where(np.isfinite(value) | np.isnan(value), value, np.inf)
    value = np.where(first[..., 10] > 0, np.inf, value)
    no_q = (first[..., 5] == 0) & (first[..., 8] == 0)
    value = np.where(no_q, np.nan, value)
    value = np.where(s_hi == 0, 0.0, value)  # p has no class: the empty sum
    value = np.where(first[..., 12] > 0, np.nan, value)
    return np.where(first[..., 11] == 0, 0.0, value)


def _kl_split(zp: da.Array, zq: da.Array, mask: da.Array | None, dtype: np.dtype) -> da.Array:
    """KL along the last (split) axis of float64 logits, masked entries -inf."""
    zp, zq = _infinite_limit(zp), _infinite_limit(zq)
    arrays = {"zp": zp, "zq": zq, "where": mask}
    first = _tree(_kl_chunk1, _kl_merge1, _KL1, arrays)
    second = _tree(_kl_chunk2, _kl_merge2, _KL2, {"zp": zp, "zq": zq}, row_info=first)
    n = first.ndim
    idx = tuple(range(n))

    def block(sb: NDArray, fb: NDArray) -> NDArray:
        with np.errstate(all="ignore"):
            return _kl_finish(sb, fb).astype(dtype)

    return da.blockwise(
        block,
        idx[:-1],
        second,
        idx,
        first,
        (*idx[:-1], n),
        dtype=dtype,
        concatenate=True,
        meta=np.empty((0,) * (n - 1), dtype=dtype),
    )


def _infinite_limit(z: da.Array) -> da.Array:
    """Rows with a ``+inf`` logit as their limit: the ``+inf`` classes share the mass
    equally (logit 0), the others have none (``-inf``); other rows unchanged."""
    top = da.broadcast_to(z.max(axis=-1, keepdims=True), z.shape, chunks=z.chunks)

    def limit(zb: NDArray, mb: NDArray) -> NDArray:
        return np.where(mb == np.inf, np.where(zb == np.inf, 0.0, -np.inf), zb)

    return da.map_blocks(limit, z, top, dtype=z.dtype)


# Cross-entropy against class weights q over a split class axis:
# -sum_k q_k log p_k = Q log S + V, Q = sum_k q_k, V = sum_k q_k beta (M - z_k) >= 0,
# V merged as sum_c [V_c + beta (M - m_c) Q_c]: every term non-negative.
_Q_HI, _Q_LO, _V_HI, _V_LO, _IMPOSSIBLE, _NAN = range(5, 11)
_SOFT = 11


def _soft_chunk(rows: dict[str, NDArray], start: int) -> NDArray:
    z, q = rows["z"], rows["q"]
    if (q < 0).any():
        raise ValueError("target: class weights must be non-negative")
    beta = rows["beta"][:, 0] if "beta" in rows else np.ones(len(z))
    out = np.zeros((len(z), _SOFT))
    out[:, _BETA] = beta
    out[:, _ANY] = rows["where"].any(axis=1) if "where" in rows else 1.0
    out[:, _M], out[:, _S_HI], out[:, _S_LO], _, _ = _lse_chunk(z, beta)
    used = q > 0
    out[:, _Q_HI], out[:, _Q_LO] = _dd.row_sum_dd(np.where(used, q, 0.0))
    mf = np.where(np.isfinite(out[:, _M]), out[:, _M], 0.0)[:, None]
    g_hi, g_lo = _dd.two_sum(mf, -np.where(np.isfinite(z), z, 0.0))  # m - z >= 0, exact
    g_hi, g_lo = _dd_mul(beta[:, None] * np.ones_like(g_hi), np.zeros_like(g_hi), g_hi, g_lo)
    v_hi, v_lo = _dd_mul(q, np.zeros_like(q), g_hi, g_lo)
    keep = used & np.isfinite(z)
    out[:, _V_HI], out[:, _V_LO] = _dd.row_sum_dd(
        np.where(keep, v_hi, 0.0), np.where(keep, v_lo, 0.0)
    )
    out[:, _IMPOSSIBLE] = np.any(used & (z == -np.inf), axis=1)
    out[:, _NAN] = np.any(np.isnan(z) | np.isnan(q), axis=1)
    return out


def _soft_merge(parts: NDArray) -> NDArray:
    beta = parts[:, 0, _BETA]
    m = parts[..., _M]
    out = parts[:, 0].copy()
    out[:, _M], out[:, _S_HI], out[:, _S_LO], _ = _lse_merge(
        m, parts[..., _S_HI], parts[..., _S_LO], beta
    )
    out[:, _Q_HI], out[:, _Q_LO] = _dd.row_sum_dd(parts[..., _Q_HI], parts[..., _Q_LO])
    top = np.where(np.isfinite(out[:, _M]), out[:, _M], 0.0)[:, None]
    g_hi, g_lo = _dd.two_sum(top, -np.where(np.isfinite(m), m, top))  # M - m_c >= 0, exact
    g_hi, g_lo = _dd_mul(beta[:, None] * np.ones_like(g_hi), np.zeros_like(g_hi), g_hi, g_lo)
    u_hi, u_lo = _dd_mul(g_hi, g_lo, parts[..., _Q_HI], parts[..., _Q_LO])
    u_hi, u_err = _dd.two_sum(parts[..., _V_HI], u_hi)
    out[:, _V_HI], out[:, _V_LO] = _dd.row_sum_dd(u_hi, u_err + u_lo + parts[..., _V_LO])
    for c in (_ANY, _IMPOSSIBLE, _NAN):
        out[:, c] = parts[..., c].max(axis=1)
    return out


def _soft_finish(p: NDArray) -> NDArray:
    l_hi, l_lo = _log_s(p)
    c_hi, c_lo = _dd_mul(p[..., _Q_HI], p[..., _Q_LO], l_hi, l_lo)
    top, err = _dd.two_sum(c_hi, p[..., _V_HI])
    value = top + (err + c_lo + p[..., _V_LO])
    value = np.where(p[..., _Q_HI] == 0, 0.0, value)
    value = np.where(p[..., _IMPOSSIBLE] > 0, np.inf, value)
    value = np.where(p[..., _S_HI] == 0, np.nan, value)  # all -inf: no distribution
    empty = p[..., _ANY] == 0  # the empty distribution: any weight costs inf
    value = np.where(empty, np.where(p[..., _Q_HI] > 0, np.inf, 0.0), value)
    return np.where(p[..., _NAN] > 0, np.nan, value)


def _soft_cross_entropy_split(
    x: da.Array, target: Any, axis: int, beta: Any, where: Any, dtype: np.dtype
) -> da.Array:
    """``cross_entropy`` against class weights over the split class axis ``axis`` of ``x``."""
    q = da.moveaxis(aligned(target, "target", x.shape, x.chunks, "logits"), axis, -1)
    z, b, mask = _split_plan(x, axis, "logits", beta, where, infinities=True)
    arrays = {"z": z, "q": q.astype(np.float64), "beta": b, "where": mask}
    parts = _tree(_soft_chunk, _soft_merge, _SOFT, arrays)
    return _finish(parts, _soft_finish, dtype)
