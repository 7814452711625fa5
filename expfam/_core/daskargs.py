"""Argument rules of the Dask tiers (``special/_dask.py``, ``geometry/_dask.py``,
``learn/_dask.py``), written once.

Imported only by those tiers, so ``import expfam`` never imports dask. The
rules match :mod:`expfam._core.args`, read on dask arrays without computing
them: known chunk sizes, the dtype rule, arguments broadcast and chunked
like the logits (a dask argument must already have their chunks), and
:func:`blockwise_rows`, which runs a numpy-tier function on every block
whose class axes are whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import dask.array as da
import numpy as np
from numpy.typing import NDArray

from expfam._core.args import axes_tuple, beta_array

_F64 = np.dtype(np.float64)


# ------------------------------------------------------------------ arguments


def known_chunks(x: da.Array, name: str) -> da.Array:
    """``x``, or a ValueError naming ``name`` if its chunk sizes are unknown (NaN)."""
    if any(math.isnan(c) for sizes in x.chunks for c in sizes):
        raise ValueError(
            f"{name}: expected a dask array with known chunk sizes, got unknown (NaN) chunks; "
            f"call {name}.compute_chunk_sizes() first"
        )
    return x


def result_dtype(*dtypes: np.dtype, names: Sequence[str]) -> np.dtype:
    """The numpy tier's dtype rule: float16/32/64 kept, integers and bools to float64."""
    out = []
    for dtype, name in zip(dtypes, names, strict=True):
        if dtype.kind == "f" and dtype.itemsize <= 8:
            out.append(dtype)
        elif dtype.kind in "biu":
            out.append(_F64)
        else:
            raise TypeError(
                f"{name}: expected real numbers (float16/32/64, int or bool), "
                f"got an array of dtype {dtype}"
            )
    return np.result_type(*out)


def as_dask(x: Any, name: str) -> da.Array:
    """``x`` as a dask array with known chunks (a numpy array becomes one chunk)."""
    if isinstance(x, da.Array):
        return known_chunks(x, name)
    return da.from_array(np.asarray(x), chunks=-1)


def aligned(
    a: Any, name: str, shape: tuple[int, ...], chunks: tuple[tuple[int, ...], ...], ref: str
) -> da.Array:
    """``a`` broadcast to ``shape`` with ``chunks`` (those of the argument ``ref``).

    A numpy ``a`` is cut to the chunks; a dask ``a`` must already have them
    along its own axes of full length (the broadcast ones are free).
    """
    if not isinstance(a, da.Array):
        arr = np.asarray(a)
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(
                f"{name}: shape {arr.shape} does not broadcast to {ref}'s shape {shape}"
            ) from None
        return da.from_array(arr, chunks=chunks)
    known_chunks(a, name)
    try:
        np.broadcast_shapes(a.shape, shape)
    except ValueError:
        raise ValueError(
            f"{name}: shape {a.shape} does not broadcast to {ref}'s shape {shape}"
        ) from None
    if len(a.shape) > len(shape) or np.broadcast_shapes(a.shape, shape) != shape:
        raise ValueError(f"{name}: shape {a.shape} does not broadcast to {ref}'s shape {shape}")
    offset = len(shape) - a.ndim
    for i, (size, sizes) in enumerate(zip(a.shape, a.chunks, strict=True)):
        if size == shape[offset + i] and size != 1 and sizes != chunks[offset + i]:
            raise ValueError(
                f"{name}: expected the chunks of {ref} along axis {offset + i} "
                f"({chunks[offset + i]}), got {sizes}; rechunk one to match the other"
            )
    return da.broadcast_to(a, shape, chunks=chunks)


def class_axes(x: da.Array, axis: object) -> tuple[int, ...]:
    return axes_tuple(axis, x.ndim)


def is_split(x: da.Array, axes: tuple[int, ...]) -> bool:
    """Whether some class axis of ``x`` is split across chunks."""
    return any(x.numblocks[a] > 1 for a in axes)


def refuse_split(name: str, axes: tuple[int, ...], why: str) -> ValueError:
    spec = ", ".join(f"{a}: -1" for a in axes)
    return ValueError(
        f"{name}: expected the class axis in one chunk {why}, got it split across chunks; "
        f"rechunk it first ({name}.rechunk({{{spec}}}))"
    )


def per_row_arg(
    value: Any, name: str, x: da.Array, axes: tuple[int, ...], ref: str
) -> da.Array | None:
    """A per-row argument (beta, an index target) broadcast to ``x``'s shape with the
    class axes of length 1, chunked like ``x`` (None for a plain ``beta = 1``)."""
    keep = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    chunks = tuple((1,) if i in axes else c for i, c in enumerate(x.chunks))
    batch = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    if isinstance(value, da.Array):
        known_chunks(value, name)
        try:
            if np.broadcast_shapes(value.shape, batch) != batch:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"{name}: shape {value.shape} does not broadcast with the batch shape {batch} "
                f"of {ref}"
            ) from None
        value = value.reshape((1,) * (len(batch) - value.ndim) + value.shape)
        expanded = da.expand_dims(value, axes) if axes else value
        return aligned(expanded, name, keep, chunks, ref)
    arr = np.asarray(value)
    try:
        arr = np.broadcast_to(arr, batch)
    except ValueError:
        raise ValueError(
            f"{name}: shape {arr.shape} does not broadcast with the batch shape {batch} of {ref}"
        ) from None
    return da.from_array(np.expand_dims(arr, axes) if axes else arr, chunks=chunks)


def beta_arg(beta: Any, x: da.Array, axes: tuple[int, ...], ref: str) -> da.Array | None:
    if isinstance(beta, da.Array):
        if beta.dtype.kind not in "iuf":
            raise TypeError(
                f"beta: expected a real number or an array of them (inverse temperatures), "
                f"got a dask array of dtype {beta.dtype}"
            )
        beta = beta.astype(np.float64).map_blocks(_nonnegative, dtype=np.float64)
        return per_row_arg(beta, "beta", x, axes, ref)
    arr = beta_array(beta)
    if arr.ndim == 0 and arr == 1.0:
        return None
    return per_row_arg(arr, "beta", x, axes, ref)


def _nonnegative(beta: NDArray) -> NDArray:
    if not (beta >= 0).all():
        raise ValueError("beta: the inverse temperature must be >= 0")
    return beta


def where_arg(where: Any, x: da.Array, ref: str) -> da.Array | None:
    if where is None:
        return None
    if not isinstance(where, da.Array):
        where = np.asarray(where)
    if where.dtype != np.bool_:
        raise TypeError(f"where: expected a boolean mask, got an array of dtype {where.dtype}")
    return aligned(where, "where", x.shape, x.chunks, ref)


def blockwise_rows(
    fn: Callable[..., Any],
    x: da.Array,
    axes: tuple[int, ...],
    dtype: np.dtype,
    *,
    reduce: bool,
    keepdims: bool = False,
    per_row: dict[str, da.Array | None] | None = None,
    per_class: dict[str, da.Array | None] | None = None,
    fixed: dict[str, Any] | None = None,
) -> da.Array:
    """``fn(block, axis=axes, **arguments)`` on every block of ``x`` (class axes unsplit).

    ``per_row`` arguments come with the class axes of length 1 and lose them
    before the call; ``per_class`` arguments have ``x``'s shape and chunks.
    """
    per_row = {k: v for k, v in (per_row or {}).items() if v is not None}
    per_class = {k: v for k, v in (per_class or {}).items() if v is not None}
    names = [*per_row, *per_class]
    fixed = dict(fixed or {})
    axis_arg = axes[0] if len(axes) == 1 else axes

    def block(xb: NDArray, *args: NDArray) -> NDArray:
        kwargs = dict(fixed)
        for name, arg in zip(names, args, strict=True):
            kwargs[name] = np.squeeze(arg, axis=axes) if name in per_row else arg
        out = np.asarray(fn(xb, axis=axis_arg, **kwargs))
        if reduce and keepdims and xb.ndim == 0:
            out = out.reshape(())
        return out.astype(dtype, copy=False)

    index = tuple(range(x.ndim))
    if reduce:
        out_index = index if keepdims else tuple(i for i in index if i not in axes)
        adjust = dict.fromkeys(axes, 1) if keepdims else None
    else:
        out_index, adjust = index, None
    pairs: list[Any] = [x, index]
    for name in names:
        pairs += [per_row.get(name, per_class.get(name)), index]
    return da.blockwise(
        block,
        out_index,
        *pairs,
        dtype=dtype,
        adjust_chunks=adjust,
        concatenate=True,
        meta=np.empty((0,) * len(out_index), dtype=dtype),
    )


def aligned_pair(a: Any, b: Any, names: tuple[str, str]) -> tuple[da.Array, da.Array, str]:
    """Two arguments (at least one a dask array) broadcast together, with the chunks of
    the first dask one along its axes, and that one's name; ValueError naming the other
    when its chunks differ."""
    shape_a = a.shape if isinstance(a, da.Array) else np.shape(a)
    shape_b = b.shape if isinstance(b, da.Array) else np.shape(b)
    try:
        shape = np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        raise ValueError(
            f"{names[1]}: shape {shape_b} does not broadcast with {names[0]}'s shape {shape_a}"
        ) from None
    ref, ref_name = (a, names[0]) if isinstance(a, da.Array) else (b, names[1])
    known_chunks(ref, ref_name)
    offset = len(shape) - ref.ndim
    chunks = tuple(
        ref.chunks[i - offset] if i >= offset and ref.shape[i - offset] == n else (n,)
        for i, n in enumerate(shape)
    )
    return (
        aligned(a, names[0], shape, chunks, ref_name),
        aligned(b, names[1], shape, chunks, ref_name),
        ref_name,
    )
