"""The one set of argument rules of the kernels: arrays and dtypes, axes, beta, scalars.

Every public kernel of :mod:`expfam.special` reads its arguments here, so that
an axis, an inverse temperature or a dtype means the same thing everywhere and
a bad argument gets the same error naming it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_real(x: ArrayLike, name: str) -> tuple[NDArray, np.dtype]:
    """Return ``x`` as a real array and the dtype the result must have."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}: cannot be read as an array ({exc})") from None
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype.itemsize <= 8:
        return arr, arr.dtype
    if kind in "biu":
        return arr.astype(np.float64), np.dtype(np.float64)
    raise TypeError(
        f"{name}: expected real numbers (float16/32/64, int or bool), "
        f"got an array of dtype {arr.dtype}"
    )


def axis_index(axis: object, ndim: int, name: str = "axis") -> int:
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise TypeError(f"{name}: expected an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: {axis} is out of range for an array of {ndim} dimension(s)")
    return int(axis) % ndim


def axes_tuple(axis: object, ndim: int) -> tuple[int, ...]:
    """Normalize ``None`` / int / sequence of ints to a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Sequence) and not isinstance(axis, str):
        axes = tuple(axis_index(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis: repeated axis in {axis!r}")
        return tuple(sorted(axes))
    return (axis_index(axis, ndim),)


def beta_value(beta: object) -> float:
    try:
        value = float(beta)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"beta: expected a real number, got {beta!r}") from None
    if not value >= 0.0:
        raise ValueError(f"beta: the inverse temperature must be >= 0, got {beta!r}")
    return value


def scalar(out: NDArray) -> NDArray:
    """0-d results come back as numpy scalars, as numpy reductions do."""
    return out[()] if out.ndim == 0 else out
