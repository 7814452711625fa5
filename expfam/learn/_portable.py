"""The portable tier of :mod:`expfam.learn`: the tempered losses in array-API operations.

:func:`expfam._core.dispatch.tiered` sends a call here when the logits are
torch, JAX, CuPy or array-api-strict arrays. The losses are written on the
public kernels of :mod:`expfam.special` (which run their own portable tier),
in the input's namespace, device and dtype, and differentiable.

The calibration functions (``fit_temperature``, ``reliability_curve``,
``expected_calibration_error``) have no twin here: binning and the
temperature solve stay numpy-only, and a tensor passed to them is refused
with a TypeError naming the argument.
"""

from __future__ import annotations

import math
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
