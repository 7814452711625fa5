"""Array-API helpers of the portable tiers (``special``, ``geometry``, ``learn``).

The portable tiers compute in the namespace of their inputs (torch, JAX,
CuPy, array-api-strict), found by array-api-compat. array-api-compat is
imported inside the functions, on the first call with such an array, so that
``import expfam`` does not load it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

Array = Any


def namespace(*arrays: object) -> Any:
    """The array-API namespace of the arrays among ``arrays`` (numbers and None skipped)."""
    import array_api_compat

    found = [a for a in arrays if a is not None and not isinstance(a, int | float | bool)]
    return array_api_compat.array_namespace(*found)


def concrete(flag: Array) -> bool | None:
    """The Python bool of a 0-d boolean array, or None where its value is unknown.

    Values are unknown while ``jax.jit`` traces (the conversion raises a
    TypeError there); value checks are then skipped.
    """
    try:
        return bool(flag)
    except TypeError:
        return None


def scalar(x: Array) -> float:
    """The value of a 0-d array as a Python float (eager arrays only; no gradient).

    For a solver that reads a few numbers per step. torch warns when a
    tensor that requires a gradient becomes a number; here that is the
    intent, so the warning is silenced for this read only.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
        return float(x)


def host(x: Array) -> np.ndarray:
    """The values of an eager array as a float64 numpy array (no gradient).

    Through DLPack where the array can be exported (CPU arrays that carry no
    gradient); otherwise one number at a time, for a solver that reads a
    small batch.
    """
    try:
        return np.array(np.from_dlpack(x), dtype=np.float64)
    except (RuntimeError, TypeError, BufferError, ValueError, AttributeError):
        shape = tuple(x.shape)
        values = [scalar(x[index]) for index in np.ndindex(*shape)]
        return np.array(values, dtype=np.float64).reshape(shape)


def device_of(x: Array) -> Any:
    import array_api_compat

    return array_api_compat.device(x)


def quiet(func: Callable) -> Callable:
    """Run ``func`` with numpy's floating-point warnings off.

    The discarded branches of ``where`` may overflow or divide by zero; on a
    numpy-backed namespace (array-api-strict) that would warn.
    """

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return func(*args, **kwargs)

    return call


def widest_float(xp: Any, x: Array) -> Any:
    """The widest real floating dtype of ``xp`` on ``x``'s device (float64 if offered)."""
    dtypes = xp.__array_namespace_info__().dtypes(device=device_of(x), kind="real floating")
    return dtypes.get("float64", dtypes.get("float32"))


def as_real(xp: Any, x: Array, name: str) -> tuple[Array, Any]:
    """``x`` as a floating array to compute on, and the dtype of the result.

    float32/64 stay; float16 is computed in float32 (the result rounds back);
    integers and bools promote to the widest real float.
    """
    dtype = x.dtype
    if xp.isdtype(dtype, "real floating"):
        if hasattr(xp, "float16") and dtype == xp.float16:
            return xp.astype(x, xp.float32), dtype
        return x, dtype
    if xp.isdtype(dtype, ("integral", "bool")):
        wide = widest_float(xp, x)
        return xp.astype(x, wide), wide
    raise TypeError(
        f"{name}: expected real numbers (float16/32/64, int or bool), "
        f"got an array of dtype {dtype}"
    )


def constant(xp: Any, value: float, like: Array) -> Array:
    """``value`` as a 0-d array of ``like``'s dtype and device."""
    return xp.asarray(value, dtype=like.dtype, device=device_of(like))


def as_array(xp: Any, value: object, like: Array, name: str) -> Array:
    """A number or an array of ``xp`` as an array of ``like``'s float dtype and device."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        if not hasattr(value, "dtype"):
            raise TypeError(f"{name}: expected a real number or an array, got {value!r}")
        if not xp.isdtype(value.dtype, ("real floating", "integral")):
            raise TypeError(f"{name}: expected real numbers, got an array of dtype {value.dtype}")
        return xp.astype(value, like.dtype)
    return constant(xp, float(value), like)


def check_nonnegative(xp: Any, value: Array, name: str, what: str) -> None:
    """ValueError unless every entry of an eager ``value`` is ``>= 0`` (skipped when lazy)."""
    if concrete(xp.all(value >= 0)) is False:
        raise ValueError(f"{name}: {what} must be >= 0, got a negative entry")


def finish(xp: Any, out: Array, dtype: Any) -> Array:
    """``out`` in the result dtype (float16 results were computed in float32)."""
    return out if out.dtype == dtype else xp.astype(out, dtype)


def row_sum(xp: Any, v: Array, axes: tuple[int, ...] | int) -> Array:
    """Sum of ``v`` over ``axes``, kept with length 1: the backend's own reduction.

    numpy, torch and the GPU libraries sum pairwise or by trees (error about
    ``log2(K) u``); XLA on CPU sums sequentially, so long rows there carry up
    to ``K u / 2`` (JAX on CPU: 7.7 ULP in ``log_softmax`` of a dominant
    class among 10^3). A pairwise sum written in array operations cost 7
    passes (and XLA's fusion) for that one case, so it is not done here.
    """
    return xp.sum(v, axis=axes if isinstance(axes, tuple) else (axes,), keepdims=True)


def expm1_minus_x(xp: Any, x: Array) -> Array:
    """``e^x - 1 - x >= 0`` without cancellation: Taylor for ``|x| <= 1/2``, else direct."""
    zero = constant(xp, 0.0, x)
    small = xp.abs(x) <= 0.5
    v = xp.where(small, x, zero)
    acc = zero
    for n in range(20, 1, -1):  # sum_{n >= 2} v^n / n!, Horner
        acc = (acc + 1.0 / math.factorial(n)) * v
    series = acc * v
    w = xp.where(small, constant(xp, 1.0, x), x)
    return xp.where(small, series, xp.expm1(w) - w)
