"""The portable tier of :mod:`expfam.special`: the kernels in array-API operations.

:func:`expfam._core.dispatch.tiered` sends a call here when its arrays belong
to a namespace other than numpy's (torch, JAX, CuPy, array-api-strict). Each
function has the signature of its public twin and computes the same formula
in the input's own namespace, on its device and in its dtype (float16 is
computed in float32 and rounded once; integers and bools promote to the
widest real float of the namespace). There is no per-library code path: the
namespace comes from array-api-compat.

The formulas are those of the numpy engine, in working precision instead of
double-double:

- the row kernels shift by the row maximum ``m``. float32 (and float16)
  rows are computed in float64 where the namespace offers it, where
  ``z - m`` is exact (to ``2^-53`` relative beyond a factor ``2^29``) and the
  result rounds once; float64 rows keep the rounding of ``z - m`` (TwoSum)
  as a first-order correction of ``exp``. The non-maximal mass ``t`` enters
  through ``log1p(t)``, so ``log_softmax([0, -40])[0]`` is ``-4.2e-18``, not 0;
- ``kl_divergence`` is ``E_p[d_p - d_q] - log1p(t_p) + log1p(t_q)`` where
  nothing cancels, else the centred series ``log1p(G + r) - r`` with every
  term of ``G`` non-negative, which stays accurate as ``q -> p``;
- sparsemax and 1.5-entmax sort; other ``alpha`` bisect for the threshold 64
  times, take three Newton steps inside the bracket (which give the threshold
  its implicit-function gradient), refine it to a double-double with the
  bases ``1 + (alpha - 1)(z - c)`` formed exactly (or, on a row with a class
  below the rounding of any threshold, solve for that class's mass), then
  the numpy tier's closing step ``p + w (1 - sum p)``.

Everything is differentiable by torch.autograd and ``jax.grad``, and
gradients are finite wherever the value is: a ``-inf`` logit, a masked class
or a class of probability 0 gets gradient 0, because every branch a
``where`` discards is computed on safe stand-in values (no ``0 * inf``).
No Python control flow runs on array values, so ``jax.jit`` and ``jax.vmap``
trace every kernel. On eager arrays a kernel looks at a few reductions of
the values to skip work that changes nothing (the ``+inf``/NaN rows when
every row is finite, the separate sum of ``t`` on rows where the full sum
keeps it, the KL series where the direct form does not cancel); under
tracing it always runs the general form, with the same result. Checks that
need values (``beta >= 0``, class indices in range, probability targets)
run on eager arrays only; on lazy ones (under ``jax.jit``) they are skipped
and an out-of-range class index gives NaN.

Accuracy (``tests/backends/``, against mpmath): the row kernels within 4
ULP in float64 and 4 float32 ULP in float32, the elementwise ones within 2
ULP, provided the backend's ``exp``, ``log1p`` and ``expm1`` are within 1 ULP
and its sums pairwise (numpy, torch, GPUs). XLA (JAX) departs from that: its
``log1p`` is off by up to 10 ULP (the elementwise bound there is 12 ULP), it
flushes subnormal results to zero, and on CPU it sums sequentially, so rows
of ``K`` classes may lose up to ``K u / 2`` more.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from expfam._core.args import axes_tuple, axis_index
from expfam._core.xp import (
    as_array,
    as_real,
    check_nonnegative,
    concrete,
    constant,
    device_of,
    expm1_minus_x,
    finish,
    namespace,
    quiet,
    row_sum,
    widest_float,
)

Array = Any


# ---------------------------------------------------------------------------
# Argument rules in the array-API namespaces


def masked(xp: Any, x: Array, where: Array | None) -> Array:
    """``x`` with the entries outside the boolean mask ``where`` set to ``-inf``."""
    if where is None:
        return x
    if not hasattr(where, "dtype") or where.dtype != xp.bool:
        kind = getattr(where, "dtype", type(where).__name__)
        raise TypeError(f"where: expected a boolean mask, got {kind}")
    try:
        shape = np.broadcast_shapes(tuple(where.shape), tuple(x.shape))
    except ValueError:
        shape = None
    if shape != tuple(x.shape):
        raise ValueError(
            f"where: shape {tuple(where.shape)} does not broadcast to the input's shape "
            f"{tuple(x.shape)}"
        )
    return xp.where(where, x, constant(xp, -math.inf, x))


def empty_rows(xp: Any, where: Array | None, shape: tuple[int, ...], axes: tuple) -> Array | None:
    """The rows with no class inside the mask (keepdims shape), or None without a mask."""
    if where is None:
        return None
    full = xp.broadcast_to(where, shape)
    return ~xp.any(full, axis=axes, keepdims=True)


def per_row(xp: Any, v: Array, shape: tuple[int, ...], axes: tuple[int, ...], name: str) -> Array:
    """Per-row ``v`` broadcasting with the input of ``shape``, length 1 on the class ``axes``.

    ``v`` broadcasts with the batch shape (the shape without the class axes),
    which it may extend on the left; or against the input itself with length
    1 on the class axes (the ``keepdims`` form).
    """
    vshape = tuple(v.shape)
    if len(vshape) == 0:
        return v
    offset = len(vshape) - len(shape)
    if offset >= 0 and all(vshape[offset + i] == 1 for i in axes):
        keep = tuple(offset + i for i in axes)
        vshape = tuple(n for i, n in enumerate(vshape) if i not in keep)
        v = xp.reshape(v, vshape)
    batch = tuple(n for i, n in enumerate(shape) if i not in axes)
    try:
        full = np.broadcast_shapes(vshape, batch)
    except ValueError:
        raise ValueError(
            f"{name}: shape {vshape} does not broadcast with the batch shape {batch} "
            f"(the input's shape {shape} without its class axes)"
        ) from None
    extra = len(full) - len(batch)
    v = xp.reshape(v, (1,) * (len(full) - len(vshape)) + vshape)
    for a in axes:
        v = xp.expand_dims(v, axis=a + extra)
    return v


def beta_array(xp: Any, beta: object, like: Array) -> Array | float:
    """``beta`` as a Python float (a number) or an array of ``like``'s dtype; ``>= 0``."""
    if isinstance(beta, int | float) and not isinstance(beta, bool):
        if not beta >= 0:
            raise ValueError(f"beta: the inverse temperature must be >= 0, got {beta!r}")
        return float(beta)
    b = as_array(xp, beta, like, "beta")
    check_nonnegative(xp, b, "beta", "the inverse temperature")
    return b


def tempered(xp: Any, x: Array, beta: object, axes: tuple[int, ...]) -> Array:
    """The logits ``beta * x``, with the limits ``beta = 0`` (ties) and ``inf`` (argmax)."""
    b = beta_array(xp, beta, x)
    if isinstance(b, float):
        if b == 1.0:
            return x
        if 0.0 < b < math.inf:
            return x * b
        b = constant(xp, b, x)
    else:
        b = per_row(xp, b, tuple(x.shape), axes, "beta")
    zero, infinite = b == 0, b == math.inf
    one = constant(xp, 1.0, x)
    z = x * xp.where(zero | infinite, one, b)
    flat = xp.where(xp.isfinite(x), constant(xp, 0.0, x), x)
    m = xp.max(x, axis=axes, keepdims=True)
    top = xp.where(x == m, constant(xp, 0.0, x), constant(xp, -math.inf, x))
    argmax = xp.where(xp.isfinite(m), top, x)
    return xp.where(zero, flat, xp.where(infinite, argmax, z))


def squeeze(xp: Any, out: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
    return out if keepdims or not axes else xp.squeeze(out, axis=axes)


# ---------------------------------------------------------------------------
# The shift by the maximum


class Shifted:
    """A row of logits shifted by its maximum: the pieces every row kernel uses.

    ``d = z - m`` and ``e = exp(d)``, with ``total = sum e = 1 + t``, where
    ``t`` is the non-maximal mass ``sum_{z_i < m} e_i + (c - 1)`` for ``c``
    tied maxima, so that ``Z = e^m (1 + t)``. The work is done in the
    working dtype ``self.dtype``:

    - float32 (and float16) rows are computed in float64 where the
      namespace has it on the device: the difference of two float32 numbers
      within a factor ``2^29`` of each other is exact in float64, and
      otherwise its relative error ``2^-53`` is far below a float32 ULP, so
      there is no residual (``err`` is None) and the result rounds once;
    - float64 rows (and float32 without float64) keep the rounding of
      ``z - m`` (TwoSum) as ``err``, a first-order correction of ``exp``:
      ``e = exp(d) (1 + err)``.

    ``total`` is the sum of all ``e`` and ``log1p_t`` its ``log`` on every
    row where the sum is large enough that its rounding is below the bound
    (``sum >= 2``, or ``1 + 2^-16`` in the float64 work on float32 rows); if
    some row is below, ``t`` is summed over the non-maximal classes alone
    and ``total = 1 + t`` there (in float64 rows: a sum that holds the 1
    rounds at ``ulp(1)``), so that ``log_softmax([0, -40])[0]`` is
    ``-4.2e-18``, not 0. Which of the two runs
    depends on the values of eager arrays; under ``jax.jit`` the exact sum
    always runs. Rows whose maximum is not finite are computed on zeros
    (``regular`` is False there) and take their limits from the caller
    (:meth:`settle`), so that no branch holds an infinity; when every row of
    an eager array is regular that pass is skipped.
    """

    def __init__(self, xp: Any, z: Array, axes: tuple[int, ...]) -> None:
        self.xp, self.z, self.axes = xp, z, axes
        m = xp.max(z, axis=axes, keepdims=True)
        self.regular = xp.isfinite(m)
        self.posinf = m == math.inf
        self.all_regular = concrete(xp.all(self.regular)) is True
        wide = widest_float(xp, z)
        widen = wide != z.dtype
        if self.all_regular:
            zr, mr = z, m
        else:
            zero = constant(xp, 0.0, z)
            zr, mr = xp.where(self.regular, z, zero), xp.where(self.regular, m, zero)
        if widen:
            zr, mr, m = xp.astype(zr, wide), xp.astype(mr, wide), xp.astype(m, wide)
        self.m = m
        self.dtype = zr.dtype
        if widen:  # a fresh array (the copy of astype): shifted in place
            d = zr
            d -= mr
        else:
            d = zr - mr
        self.d = d
        if widen:
            self.err = None
            self.e = xp.exp(d)
            self.threshold = 1.0 + 2.0**-16
        else:
            # TwoSum, err = (zr - (d - bb)) + (-mr - bb), on two fresh arrays updated in
            # place (additions only: autograd saves nothing of them)
            bb = d - zr
            err = d - bb
            err -= zr
            bb += mr
            err += bb
            err *= -1.0
            if concrete(xp.min(d) > -math.inf) is not True:  # -inf - m is exact
                err = xp.where(xp.isfinite(d), err, constant(xp, 0.0, d))
            self.err = err
            self.e = xp.exp(d) * (1.0 + self.err)  # (not e + e err: a subnormal may flush)
            self.threshold = 2.0
        self.sum = row_sum(xp, self.e, axes)
        self.large = self.sum >= self.threshold
        all_large = concrete(xp.all(self.large))
        self.all_large, self.eager = all_large is True, all_large is not None
        if widen or self.all_large:
            self.total = self.sum
        else:  # the sum's rounding relative to 1 would show in 1 + t
            self.total = xp.where(self.large, self.sum, 1.0 + self.t)

    @property
    def dz(self) -> Array:
        """``z - m`` to working precision: ``d + err``."""
        return self.d if self.err is None else self.d + self.err

    @functools.cached_property
    def t(self) -> Array:
        """The non-maximal mass, summed over the classes below the maximum.

        On eager arrays with one class axis, last, only the rows below the
        threshold are summed (gathered, then put back by a gather of their
        ranks); elsewhere every row is.
        """
        xp = self.xp
        d, e, total = self.d, self.e, self.sum
        last, axes = self.axes == (d.ndim - 1,), self.axes
        if last and self.eager:
            k = d.shape[-1]
            small = xp.reshape(~self.large, (-1,))
            (rows,) = xp.nonzero(small)
            d = xp.take(xp.reshape(d, (-1, k)), rows, axis=0)
            e = xp.take(xp.reshape(e, (-1, k)), rows, axis=0)
            total = xp.take(xp.reshape(total, (-1, 1)), rows, axis=0)
            axes = (1,)
        below = row_sum(xp, xp.where(d < 0, e, constant(xp, 0.0, e)), axes)
        ties = xp.round(total - below)  # c, an integer: the rounding is far below 1/2
        t = below + (ties - 1.0)
        if not (last and self.eager):
            return t
        rank = xp.cumulative_sum(xp.astype(small, rows.dtype)) - 1
        rank = xp.where(small, rank, xp.asarray(rows.shape[0], dtype=rows.dtype))
        padded = xp.concat([xp.reshape(t, (-1,)), xp.zeros(1, dtype=t.dtype, device=device_of(t))])
        return xp.reshape(xp.take(padded, rank), tuple(self.sum.shape))

    @functools.cached_property
    def log1p_t(self) -> Array:
        """``log(1 + t)``: ``log(total)`` where that is accurate, else ``log1p(t)``."""
        xp, large = self.xp, self.large
        if self.all_large:
            return xp.log(self.sum)
        one = constant(xp, 1.0, self.sum)
        return xp.where(
            large,
            xp.log(xp.where(large, self.sum, one)),
            xp.log1p(xp.where(large, constant(xp, 0.0, one), self.t)),
        )

    @functools.cached_property
    def is_top_inf(self) -> Array:
        return self.z == math.inf

    @functools.cached_property
    def n_inf(self) -> Array:
        """The number of ``+inf`` classes of each row: they share the mass."""
        xp = self.xp
        return xp.sum(xp.astype(self.is_top_inf, self.dtype), axis=self.axes, keepdims=True)

    def settle(self, out: Array, at_posinf: Callable[[], Array], otherwise: Array) -> Array:
        """``out`` on regular rows; ``at_posinf()`` where the maximum is +inf; else ``otherwise``.

        Nothing is done when every row of an eager array is regular.
        """
        if self.all_regular:
            return out
        return self.xp.where(self.regular, out, self.xp.where(self.posinf, at_posinf(), otherwise))


def finite_form(xp: Any, z: Array, axes: tuple[int, ...]) -> Array:
    """``z`` with each row holding ``+inf`` replaced by its limit: 0 there, ``-inf`` elsewhere."""
    posinf = xp.any(z == math.inf, axis=axes, keepdims=True)
    limit = xp.where(z == math.inf, constant(xp, 0.0, z), constant(xp, -math.inf, z))
    return xp.where(posinf & ~xp.isnan(z), limit, z)


def rows_of(
    xp: Any, x: Array, axis: object, name: str
) -> tuple[Array, Any, tuple[int, ...], bool]:
    """``x`` as a computable array (0-d read as one class), its result dtype and class axes."""
    x = xp.asarray(x) if not hasattr(x, "dtype") else x
    work, dtype = as_real(xp, x, name)
    scalar = work.ndim == 0
    if scalar:
        work = xp.reshape(work, (1,))
    return work, dtype, axes_tuple(axis, work.ndim), scalar


def has_no_classes(x: Array, axes: tuple[int, ...]) -> bool:
    return any(x.shape[a] == 0 for a in axes)


@quiet
def softmax(
    x: Array,
    axis: int | Sequence[int] | None = -1,
    *,
    beta: object = 1.0,
    where: Array | None = None,
) -> Array:
    """Portable :func:`expfam.special.softmax`."""
    xp = namespace(x, beta, where)
    z, dtype, axes, scalar = rows_of(xp, x, axis, "x")
    if has_no_classes(z, axes):
        return finish(xp, z, dtype)
    z = tempered(xp, masked(xp, z, where), beta, axes)
    s = Shifted(xp, z, axes)
    out = s.e / s.total
    out = s.settle(
        out,
        lambda: xp.astype(s.is_top_inf, s.dtype) / xp.where(s.posinf, s.n_inf, 1.0),
        constant(xp, math.nan, out),
    )
    empty = empty_rows(xp, where, tuple(z.shape), axes)
    if empty is not None:
        out = xp.where(empty, constant(xp, 0.0, z), out)
    out = finish(xp, out, dtype)
    return out[0] if scalar else out


@quiet
def log_softmax(
    x: Array,
    axis: int | Sequence[int] | None = -1,
    *,
    beta: object = 1.0,
    where: Array | None = None,
) -> Array:
    """Portable :func:`expfam.special.log_softmax`."""
    xp = namespace(x, beta, where)
    z, dtype, axes, scalar = rows_of(xp, x, axis, "x")
    if has_no_classes(z, axes):
        return finish(xp, z, dtype)
    z = tempered(xp, masked(xp, z, where), beta, axes)
    s = Shifted(xp, z, axes)
    log_total = s.log1p_t
    out = s.d  # its last use: shifted in place (autograd saved exp(d), not d)
    out -= log_total
    if s.err is not None:
        out += s.err
    neg_inf = constant(xp, -math.inf, out)
    out = s.settle(
        out,
        lambda: xp.where(s.is_top_inf, -xp.log(xp.where(s.posinf, s.n_inf, 1.0)), neg_inf),
        constant(xp, math.nan, out),
    )
    empty = empty_rows(xp, where, tuple(z.shape), axes)
    if empty is not None:
        out = xp.where(empty, neg_inf, out)
    out = finish(xp, out, dtype)
    return out[0] if scalar else out


@quiet
def entropy(
    logits: Array,
    axis: int | Sequence[int] | None = -1,
    *,
    where: Array | None = None,
    keepdims: bool = False,
) -> Array:
    """Portable :func:`expfam.special.entropy`: ``log1p(t) + sum_k p_k (m - z_k)``."""
    xp = namespace(logits, where)
    z, dtype, axes, scalar = rows_of(xp, logits, axis, "logits")
    if has_no_classes(z, axes):
        out = xp.zeros(tuple(1 if i in axes else n for i, n in enumerate(z.shape)), dtype=z.dtype)
        return finish(xp, squeeze(xp, out, axes, keepdims), dtype)
    z = masked(xp, z, where)
    s = Shifted(xp, z, axes)
    zero = constant(xp, 0.0, s.d)
    dz = s.dz
    if concrete(xp.min(s.d) > -math.inf) is not True:
        dz = xp.where(s.e > 0, dz, zero)  # 0 log 0 = 0, and no 0 * inf
    out = s.log1p_t - row_sum(xp, s.e * dz, axes) / s.total
    # +inf rows: uniform over the c tied classes, entropy log c.
    out = s.settle(
        out, lambda: xp.log(xp.where(s.posinf, s.n_inf, 1.0)), constant(xp, math.nan, out)
    )
    empty = empty_rows(xp, where, tuple(z.shape), axes)
    if empty is not None:
        out = xp.where(empty, zero, out)
    out = finish(xp, squeeze(xp, out, axes, keepdims), dtype)
    return out[0] if scalar and keepdims else out


@quiet
def logsumexp(
    a: Array,
    axis: int | Sequence[int] | None = -1,
    b: Array | None = None,
    keepdims: bool = False,
    return_sign: bool = False,
    *,
    where: Array | None = None,
) -> Array | tuple[Array, Array]:
    """Portable :func:`expfam.special.logsumexp`: ``m + log1p(t)``.

    With weights: ``m + log |1 + t_b|``, ``t_b = (sum_{top} b - 1) +
    sum_{other} b_i e_i``, as ``log1p`` near ``|1 + t_b| = 1``.
    """
    xp = namespace(a, b, where)
    z, dtype, axes, scalar = rows_of(xp, a, axis, "a")
    z = masked(xp, z, where)
    zero, one = constant(xp, 0.0, z), constant(xp, 1.0, z)
    if b is not None:
        w, _ = as_real(xp, b if hasattr(b, "dtype") else constant(xp, float(b), z), "b")
        try:
            z, w = xp.broadcast_arrays(z, xp.astype(w, z.dtype))
        except (ValueError, RuntimeError, TypeError):
            raise ValueError(
                f"b: shape {tuple(w.shape)} does not broadcast with a's shape {tuple(z.shape)}"
            ) from None
        z = xp.where(w != 0, z, constant(xp, -math.inf, z))
    if has_no_classes(z, axes):
        shape = tuple(1 if i in axes else n for i, n in enumerate(z.shape))
        value = xp.full(shape, -math.inf, dtype=z.dtype, device=device_of(z))
        sign = xp.zeros(shape, dtype=z.dtype, device=device_of(z))
    elif b is None:
        s = Shifted(xp, z, axes)
        value = xp.where(s.regular, s.m + s.log1p_t, s.m)
        sign = xp.where(xp.isnan(value), value, xp.where(value == -math.inf, zero, one))
    else:
        s = Shifted(xp, z, axes)
        # S = sum b e^d = B + E: near terms (d > -1) as b + b expm1(d), which keeps
        # cancellations such as e^1e-10 - 1, far ones as b e^d.
        near = s.d > -1.0
        em1 = xp.expm1(xp.where(near, s.d, zero))
        if s.err is not None:
            em1 = em1 + s.e * s.err
        big_b = row_sum(xp, xp.where(near, w, zero), axes)
        small = row_sum(xp, xp.where(near, w * em1, w * s.e), axes)
        t = (big_b - 1.0) + small  # S - 1
        close = xp.abs(t) < 0.5
        log_s = xp.where(
            close,
            xp.log1p(xp.where(close, t, zero)),
            xp.log(xp.abs(xp.where(close, one, big_b + small))),
        )
        value = xp.where(s.regular, s.m + log_s, s.m)
        sign = xp.sign(big_b + small)
        # +inf maxima: the sign of the weights on them; their sum 0 has no limit.
        inf_weight = xp.sum(xp.where(s.is_top_inf, w, zero), axis=axes, keepdims=True)
        value = xp.where(s.posinf & (inf_weight == 0), constant(xp, math.nan, z), value)
        sign = xp.where(s.posinf, xp.sign(inf_weight), sign)
        sign = xp.where(value == -math.inf, zero, sign)
        bad = xp.any(xp.isnan(w), axis=axes, keepdims=True)
        value = xp.where(bad, constant(xp, math.nan, z), value)
        sign = xp.where(bad | xp.isnan(value), constant(xp, math.nan, z), sign)
    value = squeeze(xp, value, axes, keepdims and not scalar)
    sign = squeeze(xp, sign, axes, keepdims and not scalar)
    if return_sign:
        return finish(xp, value, dtype), finish(xp, sign, dtype)
    return finish(xp, xp.where(sign < 0, constant(xp, math.nan, value), value), dtype)


# ---------------------------------------------------------------------------
# Losses


def class_rows(xp: Any, z: Array, axes: tuple[int, ...]) -> Array:
    """``z`` with the class axes moved last and flattened into one (C order)."""
    kept = tuple(i for i in range(z.ndim) if i not in axes)
    z = xp.permute_dims(z, kept + axes)
    return xp.reshape(z, (*z.shape[: len(kept)], -1))


def onehot_of(xp: Any, y: Array, z: Array, axes: tuple[int, ...], name: str) -> Array:
    """Class indices ``y`` as a boolean one-hot over the last axis of class rows ``z``.

    ``y`` broadcasts with the batch shape (or in the ``keepdims`` form); on
    eager arrays an index outside ``[0, K)`` is a ValueError, on lazy ones it
    gives an all-False row (the caller makes that NaN).
    """
    k = z.shape[-1]
    bad = (y < 0) | (y >= k)
    if concrete(xp.any(bad)):
        first = int(xp.reshape(y[bad], (-1,))[0])
        raise ValueError(f"{name}: class index {first} is out of range [0, {k})")
    shape = (*z.shape[:-1], 1)
    ykeep = per_row(xp, y, shape, (len(shape) - 1,), name)
    classes = xp.arange(k, device=device_of(z))
    return ykeep == xp.astype(classes, ykeep.dtype)


def class_index(xp: Any, y: Array, rows: Array, name: str) -> tuple[Array, Array]:
    """Class indices ``y`` for class rows ``rows``, shape ``(..., 1)``, clipped into range.

    Returns the indices and whether each was in ``[0, K)``: on eager arrays
    an index outside is a ValueError, on lazy ones its row becomes NaN.
    """
    k = rows.shape[-1]
    bad = (y < 0) | (y >= k)
    if concrete(xp.any(bad)):
        first = int(xp.reshape(y[bad], (-1,))[0])
        raise ValueError(f"{name}: class index {first} is out of range [0, {k})")
    shape = (*rows.shape[:-1], 1)
    ykeep = per_row(xp, y, shape, (len(shape) - 1,), name)
    valid = (ykeep >= 0) & (ykeep < k)
    index = xp.clip(ykeep, min=0, max=k - 1)
    return index, valid


@quiet
def cross_entropy(
    logits: Array,
    target: Array,
    axis: int | Sequence[int] | None = -1,
    *,
    beta: object = 1.0,
    where: Array | None = None,
    keepdims: bool = False,
) -> Array:
    """Portable :func:`expfam.special.cross_entropy`.

    An index target: ``log1p(t) + (m - z_y)``, both terms non-negative;
    weights ``q``: ``sum_k q_k (log1p(t) - (z_k - m))`` with ``0 log 0 = 0``.
    """
    xp = namespace(logits, target, beta, where)
    z, dtype, axes, scalar = rows_of(xp, logits, axis, "logits")
    y = target if hasattr(target, "dtype") else xp.asarray(target, device=device_of(z))
    z = tempered(xp, masked(xp, z, where), beta, axes)
    zero = constant(xp, 0.0, z)
    if xp.isdtype(y.dtype, "integral"):
        rows = class_rows(xp, z, axes)
        index, valid = class_index(xp, y, rows, "target")
        shape = np.broadcast_shapes(tuple(rows.shape[:-1]), tuple(index.shape[:-1]))
        rows = xp.broadcast_to(rows, (*shape, rows.shape[-1]))
        index = xp.broadcast_to(index, (*shape, 1))
        s = Shifted(xp, rows, (rows.ndim - 1,))
        out = s.log1p_t - xp.take_along_axis(s.d, index, axis=-1)
        if s.err is not None:
            out = out - xp.take_along_axis(s.err, index, axis=-1)

        def at_posinf() -> Array:  # the tied +inf classes share the mass, log c each
            on_top = xp.take_along_axis(s.is_top_inf, index, axis=-1)
            share = xp.log(xp.where(s.posinf, s.n_inf, constant(xp, 1.0, s.n_inf)))
            return xp.where(on_top, share, constant(xp, math.inf, share))

        out = s.settle(out, at_posinf, s.m)
        nan = constant(xp, math.nan, out)
        out = xp.where(valid & (s.m != -math.inf), out, nan)  # no distribution: NaN
        empty = empty_rows(xp, where, tuple(z.shape), axes)
        if empty is not None:  # the empty distribution: log p = -inf
            out = xp.where(
                class_rows(xp, xp.broadcast_to(empty, tuple(z.shape)), axes)[..., :1],
                constant(xp, math.inf, z),
                out,
            )
        out = out[..., 0]
        if keepdims:
            for a in axes:
                out = xp.expand_dims(out, axis=a + out.ndim + 1 - z.ndim)
        return finish(xp, out[0] if scalar and keepdims else out, dtype)
    if not xp.isdtype(y.dtype, ("real floating", "bool")):
        raise TypeError(
            f"target: expected integer class indices or a float probability vector, "
            f"got dtype {y.dtype}"
        )
    q = xp.astype(y, z.dtype)
    if q.ndim != z.ndim or any(q.shape[a] != z.shape[a] for a in axes):
        raise ValueError(
            f"target: a float target is a probability vector over the classes and must have "
            f"the logits' {z.ndim} axes with the same class axes, got shape {tuple(q.shape)}; "
            f"pass class indices as integers"
        )
    check_nonnegative(xp, q, "target", "class weights")
    z, q = xp.broadcast_arrays(z, q)
    s = Shifted(xp, z, axes)
    # sum_k q_k (log1p(t) - (z_k - m)): two sums of non-negative terms
    if s.dtype != q.dtype:
        q = xp.astype(q, s.dtype)
    dz = s.dz
    if concrete(xp.min(s.d) > -math.inf) is not True:
        dz = xp.where(q > 0, dz, constant(xp, 0.0, dz))  # 0 log 0 = 0, and no 0 * inf
    out = s.log1p_t * row_sum(xp, q, axes) - row_sum(xp, q * dz, axes)
    if not s.all_regular:
        # Weight on a class of probability 0: +inf; +inf rows: the tied classes share the mass.
        zero = constant(xp, 0.0, out)
        used = q > 0
        share = xp.log(xp.where(s.posinf, s.n_inf, 1.0))
        inf_row = xp.sum(xp.where(s.is_top_inf, q * share, zero), axis=axes, keepdims=True)
        off_top = xp.any(used & ~s.is_top_inf, axis=axes, keepdims=True)
        inf_row = xp.where(off_top, constant(xp, math.inf, out), inf_row)
        empty_row = xp.where(
            xp.any(used, axis=axes, keepdims=True), constant(xp, math.inf, out), zero
        )
        out = xp.where(s.regular, out, xp.where(s.posinf, inf_row, empty_row))
        out = xp.where(
            xp.any(xp.isnan(z) | xp.isnan(q), axis=axes, keepdims=True),
            constant(xp, math.nan, out),
            out,
        )
    out = squeeze(xp, out, axes, keepdims)
    return finish(xp, out[0] if scalar and keepdims else out, dtype)


def _kl_direct(xp: Any, sp: Shifted, sq: Shifted, axes: tuple[int, ...]) -> Array | None:
    """``KL = E_p[(z_p - m_p) - (z_q - m_q)] - log1p(t_p) + log1p(t_q)`` on finite eager rows.

    Three passes fewer than the centred series, and as accurate wherever
    nothing cancels: where ``KL >= S / 2`` (``S / 2^20`` in the float64 work
    on float32 rows), ``S = E_p|...| + log1p(t_p) + log1p(t_q)`` the size of
    the terms. None when some row cancels more (or values are unknown):
    the caller then runs the series.
    """
    if sp.dtype != sq.dtype:
        return None
    diff = sp.dz - sq.dz
    lp, lq = sp.log1p_t, sq.log1p_t
    out = row_sum(xp, sp.e * diff, axes) / sp.total - lp + lq
    size = row_sum(xp, sp.e * xp.abs(diff), axes) / sp.total + lp + lq
    margin = 0.5 if sp.err is not None else 2.0**-20
    if concrete(xp.all(out >= margin * size)) is not True:
        return None
    return out


@quiet
def kl_divergence(
    logits_p: Array,
    logits_q: Array,
    axis: int | Sequence[int] | None = -1,
    *,
    where: Array | None = None,
    keepdims: bool = False,
) -> Array:
    """Portable :func:`expfam.special.kl_divergence`: ``log1p(G + r) - r``.

    ``d = z_p - z_q``, ``x_k = mu - d_k`` with ``mu = E_p[d]``, ``r = E_p[x]``
    (zero but for rounding) and ``G = E_p[e^x - 1 - x] + V``, where
    ``V = sum_{p_k = 0} exp(z_q,k - A(z_p) + mu)`` is the mass of ``q`` where
    ``p`` has none; every term is ``>= 0``. Where some ``x_k > 1`` the log-space form
    ``logsumexp(log p + x, v) - r`` takes over, so that ``e^x`` cannot overflow.
    """
    xp = namespace(logits_p, logits_q, where)
    zp, dp, axes, scalar = rows_of(xp, logits_p, axis, "logits_p")
    zq, dq, _, _ = rows_of(xp, logits_q, axis, "logits_q")
    dtype = xp.result_type(dp, dq)
    zp, zq = (
        xp.astype(zp, xp.result_type(zp.dtype, zq.dtype)),
        xp.astype(zq, xp.result_type(zp.dtype, zq.dtype)),
    )
    try:
        zp, zq = xp.broadcast_arrays(zp, zq)
    except (ValueError, RuntimeError, TypeError):
        raise ValueError(
            f"logits_q: shape {tuple(zq.shape)} does not broadcast with logits_p's shape "
            f"{tuple(zp.shape)}"
        ) from None
    axes = axes_tuple(axis, zp.ndim)
    if has_no_classes(zp, axes):
        out = xp.zeros(
            tuple(1 if i in axes else n for i, n in enumerate(zp.shape)), dtype=zp.dtype
        )
        return finish(xp, squeeze(xp, out, axes, keepdims), dtype)
    zp, zq = masked(xp, zp, where), masked(xp, zq, where)
    finite = concrete(xp.all(xp.isfinite(zp)) & xp.all(xp.isfinite(zq))) is True
    if not finite:
        zp, zq = finite_form(xp, zp, axes), finite_form(xp, zq, axes)
    sp = Shifted(xp, zp, axes)
    if finite and where is None:
        out = _kl_direct(xp, sp, Shifted(xp, zq, axes), axes)
        if out is not None:
            return finish(xp, squeeze(xp, out, axes, keepdims), dtype)
    zero = constant(xp, 0.0, zp)
    p = xp.astype(sp.e / sp.total, zp.dtype)
    used = p > 0
    mq = xp.max(xp.where(used, zq, constant(xp, -math.inf, zq)), axis=axes, keepdims=True)
    impossible = xp.any(used & ~xp.isfinite(zq), axis=axes, keepdims=True)
    impossible = impossible | ~xp.isfinite(mq) | ~xp.isfinite(sp.m)
    safe_q = xp.where(used & xp.isfinite(zq), zq, zero)
    safe_p = xp.where(used & xp.isfinite(zp), zp, zero)
    d = safe_p - safe_q
    mu = row_sum(xp, p * d, axes)
    x = xp.where(used, mu - d, zero)
    r = row_sum(xp, p * x, axes)
    # q's mass where p has none: terms v_k = z_q,k - A(z_p) + mu of V = sum e^v.
    log_z = xp.astype(sp.m + sp.log1p_t, zp.dtype)
    outside = ~used & xp.isfinite(zq)
    v = xp.where(outside, zq - xp.where(sp.regular, log_z, zero) + mu, constant(xp, -math.inf, zp))
    far = xp.any((x > 1.0) | (v > 0.0), axis=axes, keepdims=True)
    near_x = xp.where(far, zero, x)
    g = row_sum(xp, p * expm1_minus_x(xp, near_x), axes)
    g = g + row_sum(xp, xp.exp(xp.where(far, constant(xp, -math.inf, zp), v)), axes)
    near_kl = xp.log1p(g + r) - r
    log_p = xp.where(used, xp.astype(sp.dz - sp.log1p_t, zp.dtype), zero)
    terms = xp.where(used, log_p + xp.where(far, x, zero), v)
    far_kl = logsumexp(xp.where(far, terms, zero), axis=axes, keepdims=True) - r
    out = xp.where(far, far_kl, near_kl)
    out = xp.where(out > 0, out, zero)
    nan = xp.any(xp.isnan(zp) | xp.isnan(zq), axis=axes, keepdims=True)
    nan = nan | (sp.m == -math.inf)
    inf_infinite = xp.where(nan, constant(xp, math.nan, zp), constant(xp, math.inf, zp))
    out = xp.where(impossible | nan, inf_infinite, out)
    empty = empty_rows(xp, where, tuple(zp.shape), axes)
    if empty is not None:
        out = xp.where(empty, zero, out)
    out = finish(xp, squeeze(xp, out, axes, keepdims), dtype)
    return out[0] if scalar and keepdims else out


# ---------------------------------------------------------------------------
# Elementwise kernels


def elementwise(x: Array, name: str) -> tuple[Any, Array, Any]:
    xp = namespace(x)
    work, dtype = as_real(xp, x, name)
    return xp, work, dtype


@quiet
def sigmoid(x: Array) -> Array:
    """Portable :func:`expfam.special.sigmoid`: ``n / (1 + e)``, ``e = e^{-|x|}``."""
    xp, w, dtype = elementwise(x, "x")
    right = w >= 0
    e = xp.exp(xp.where(right, -w, w))  # e^{-|w|}, differentiable at 0
    s = 1.0 + e
    p = xp.where(right, constant(xp, 1.0, w), e) / s
    p = p - p * ((e - (s - 1.0)) / s)  # the rounding of s, put back
    return finish(xp, p, dtype)


@quiet
def softplus(x: Array) -> Array:
    """Portable :func:`expfam.special.softplus`: ``max(x, 0) + log1p(e^{-|x|})``."""
    xp, w, dtype = elementwise(x, "x")
    right = w >= 0
    zero = constant(xp, 0.0, w)
    out = xp.where(right, w, zero) + xp.log1p(xp.exp(xp.where(right, -w, w)))
    return finish(xp, xp.where(w == math.inf, w, out), dtype)


@quiet
def log_sigmoid(x: Array) -> Array:
    """Portable :func:`expfam.special.log_sigmoid`: ``-softplus(-x)``."""
    xp, w, dtype = elementwise(x, "x")
    return finish(xp, -softplus(-w), dtype)


@quiet
def logit(p: Array) -> Array:
    """Portable :func:`expfam.special.logit`.

    ``log p - log1p(-p)`` below ``p = 1/4`` (no cancellation there),
    ``log1p((2p - 1) / (1 - p))`` above (``2p - 1`` exact, and ``1 - p``
    exact from ``p = 1/2`` on).
    """
    xp, q, dtype = elementwise(p, "p")
    low = q < 0.25
    ql = xp.where(low, q, constant(xp, 0.125, q))
    qh = xp.where(low, constant(xp, 0.5, q), q)
    out = xp.where(low, xp.log(ql) - xp.log1p(-ql), xp.log1p((2.0 * qh - 1.0) / (1.0 - qh)))
    out = xp.where((q < 0) | (q > 1), constant(xp, math.nan, q), out)
    return finish(xp, out, dtype)


@quiet
def log1mexp(x: Array) -> Array:
    """Portable :func:`expfam.special.log1mexp`: Maechler's switch at ``-log 2``."""
    xp, v, dtype = elementwise(x, "x")
    near = v > -math.log(2.0)
    half = constant(xp, -1.0, v)
    vn = xp.where(near, v, half)
    vf = xp.where(near, half, v)
    out = xp.where(near, xp.log(-xp.expm1(vn)), xp.log1p(-xp.exp(vf)))
    return finish(xp, xp.where(v > 0, constant(xp, math.nan, v), out), dtype)


# ---------------------------------------------------------------------------
# Sparse maps


def entmax_alpha(alpha: object) -> float:
    try:
        value = float(alpha)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"alpha: expected a real number, got {alpha!r}") from None
    if not (value >= 1.0 and math.isfinite(value)):
        raise ValueError(f"alpha: must be finite and >= 1, got {alpha!r}")
    return value


_BISECTIONS = 64
_NEWTON_STEPS = 3
_PIN_STEPS = 6


def _take_at(xp: Any, values: Array, index: Array) -> Array:
    """``values[..., index - 1]`` along the last axis, as a sum of a mask (``index >= 1``)."""
    k = xp.arange(1, values.shape[-1] + 1, device=device_of(values))
    pick = xp.astype(k, index.dtype) == index
    return xp.sum(xp.where(pick, values, constant(xp, 0.0, values)), axis=-1, keepdims=True)


def _sparsemax_rows(xp: Any, z: Array) -> Array:
    """Sort-based sparsemax of rows ``z`` (max 0, entries ``>= -2``): ``[z - tau]_+``."""
    s = xp.sort(z, axis=-1, descending=True)
    k = xp.astype(xp.arange(1, z.shape[-1] + 1, device=device_of(z)), z.dtype)
    cum = xp.cumulative_sum(s, axis=-1)
    size = xp.sum(xp.astype(1.0 + k * s > cum, z.dtype), axis=-1, keepdims=True)
    tau = (_take_at(xp, cum, size) - 1.0) / size
    u = z - tau
    return xp.where(u > 0, u, constant(xp, 0.0, z))


def _entmax15_rows(xp: Any, z: Array) -> Array:
    """Sort-based 1.5-entmax of rows ``z`` (max 0, entries ``>= -4``): ``[z/2 - tau]_+^2``."""
    x = 0.5 * z
    s = xp.sort(x, axis=-1, descending=True)
    k = xp.astype(xp.arange(1, z.shape[-1] + 1, device=device_of(z)), z.dtype)
    mean = xp.cumulative_sum(s, axis=-1) / k
    var = xp.cumulative_sum(s * s, axis=-1) / k - mean * mean
    delta = (1.0 - k * var) / k
    tau_k = mean - xp.sqrt(xp.where(delta > 0, delta, constant(xp, 0.0, z)))
    size = xp.sum(xp.astype(tau_k <= s, z.dtype), axis=-1, keepdims=True)
    mean_s, delta_s = _take_at(xp, mean, size), _take_at(xp, delta, size)
    positive = delta_s > 0
    root = xp.where(positive, xp.sqrt(xp.where(positive, delta_s, constant(xp, 1.0, z))), 0.0)
    u = x - (mean_s - root)
    return xp.where(u > 0, u * u, constant(xp, 0.0, z))


def _two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """``s + err = a + b`` exactly (Knuth), as :func:`expfam._core.dd.two_sum`."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(xp: Any, a: float, b: Array) -> tuple[Array, Array]:
    """``p + err = a * b`` exactly (Dekker) for a float ``a`` of ``b``'s dtype, ``|a| < 1``."""
    digits = round(-math.log2(float(xp.finfo(b.dtype).eps)))  # 52 in float64
    splitter = 2.0 ** ((digits + 2) // 2) + 1.0
    a = constant(xp, a, b)
    p = a * b
    c = splitter * a
    a_hi = c - (c - a)
    a_lo = a - a_hi
    cb = splitter * b
    b_hi = cb - (cb - b)
    b_lo = b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _entmax_terms(
    xp: Any, z: Array, z_lo: Array, c_hi: Array, c_lo: Array, alpha: float, offset: Array
) -> tuple[Array, Array, Array]:
    """The numpy tier's ``_terms``: ``p``, the slope ``p / b`` and the residual ``1 - sum p``.

    The base ``b = offset + (alpha - 1)(z - c)`` (``offset`` 1, or 0 where ``c``
    is the logit of a class on the threshold) is formed exactly from the
    double-doubles ``z + z_lo`` and ``c_hi + c_lo`` (``alpha - 1`` scaled into
    ``[1/2, 1)`` by a power of 2 for the product), ``p = exp(log b / (alpha -
    1))`` with ``log b`` from ``log1p`` of ``b - 1`` above ``b = 1/2`` and from
    ``log`` below, and the ``n`` top classes (``z = 0``) enter the residual
    ``1 - n - sum_top (p - 1) - sum_rest p`` through ``expm1``, so that it is
    accurate to the mass outside them when ``n = 1``.
    """
    a1 = alpha - 1.0
    zero, one = constant(xp, 0.0, z), constant(xp, 1.0, z)
    d_hi, d_err = _two_sum(z, -c_hi)
    d_hi, d_lo = _two_sum(d_hi, d_err + (z_lo - c_lo))
    m, e = math.frexp(a1)
    scale = 2.0**e
    u_hi, u_err = _two_prod(xp, m, d_hi * scale)
    u_hi, u_lo = _two_sum(u_hi, u_err + m * (d_lo * scale))
    b_hi, b_err = _two_sum(offset, u_hi)
    b_hi, b_lo = _two_sum(b_hi, b_err + u_lo)
    t_hi, t_err = _two_sum(b_hi, -one)
    t_hi, t_lo = _two_sum(t_hi, t_err + b_lo)
    inside = b_hi > 0
    # b is divided by where it exceeds the square root of the smallest normal number, so
    # that the gradient of the division (-1/b^2) cannot overflow: below it b_lo / b is
    # under 1e-150 and p / b is only the slope of a class at the threshold
    floor = constant(xp, float(xp.finfo(z.dtype).smallest_normal) ** 0.5, z)
    b = xp.where(inside & (b_hi > floor), b_hi, xp.where(inside, floor, one))
    near = t_hi > -0.5
    tn = xp.where(near, t_hi, zero)
    log_far = xp.log(xp.where(inside, b_hi, one)) + b_lo / b
    log_b = xp.where(near, xp.log1p(tn) + t_lo / (1.0 + tn), log_far)
    p = xp.where(inside, xp.exp(log_b / a1), zero)
    top = z == 0
    q = xp.where(inside, xp.expm1(log_b / a1), -one)  # p - 1, for the top classes
    tops = xp.sum(xp.astype(top, z.dtype), axis=-1, keepdims=True)
    residual = (1.0 - tops) - xp.sum(xp.where(top, q, p), axis=-1, keepdims=True)
    return p, p / b, residual


def _power(xp: Any, nu: Array, a1: float) -> Array:
    """``nu^(alpha - 1)`` for ``nu >= 0`` (0 at 0, with a finite gradient there)."""
    positive = nu > 0
    safe = xp.where(positive, nu, constant(xp, 1.0, nu))
    return xp.where(positive, xp.exp(a1 * xp.log(safe)), constant(xp, 0.0, nu))


def _entmax_root_rows(xp: Any, z: Array, z_lo: Array, alpha: float) -> Array:
    """alpha-entmax of rows ``z + z_lo`` (max 0) through the threshold ``c`` in logit units.

    ``p_k = exp(log1p((alpha - 1)(z_k - c)) / (alpha - 1))`` where the argument
    of ``log1p`` is ``> -1``, else 0; ``sum p`` decreases in ``c`` from
    ``>= 1`` at 0 to ``<= 1`` at ``(1 - K^(1 - alpha)) / (alpha - 1)``.
    ``_BISECTIONS`` halvings of that bracket resolve ``c`` to ``2^-64`` of its
    width (comparisons only: no gradient), then ``_NEWTON_STEPS`` Newton
    steps, kept inside the bracket, polish it and give it the
    implicit-function gradient ``dc/dz = s / sum s``, ``s = p^(2 - alpha)``.
    As in the numpy tier, ``c`` is then refined to a double-double
    ``c + delta`` by ``_NEWTON_STEPS`` more steps on ``delta`` with the bases
    formed exactly (:func:`_entmax_terms`), and the closing step
    (:func:`_close_the_sum`) ends it. On a row with classes unresolved at the
    threshold (``s`` unbounded), ``c`` is taken as ``mean(z_k) + 1/(alpha -
    1)`` over them (the same number to rounding), so that it moves with their
    logits alone, as ``dc/dz = s / sum s`` does in the limit; they take the
    missing mass.
    """
    a1 = alpha - 1.0
    k = z.shape[-1]
    zero, one = constant(xp, 0.0, z), constant(xp, 1.0, z)
    eps = float(xp.finfo(z.dtype).eps)

    def probs(c: Array) -> tuple[Array, Array]:
        """``p`` and ``1 + (alpha - 1)(z - c)`` (its base; 1 outside the support)."""
        u = a1 * (z - c)
        inside = u > -1.0
        base = xp.where(inside, 1.0 + u, one)
        return xp.where(inside, xp.exp(xp.log1p(xp.where(inside, u, zero)) / a1), zero), base

    def unresolved(c: Array) -> Array:
        """The classes whose distance above the threshold is below its rounding."""
        return xp.abs(1.0 + a1 * (z - c)) <= 8 * eps * (1.0 + a1 * (xp.abs(z) + c))

    lo = xp.zeros((*z.shape[:-1], 1), dtype=z.dtype, device=device_of(z))
    hi = lo + (-math.expm1(-a1 * math.log(k)) / a1)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        over = xp.sum(probs(mid)[0], axis=-1, keepdims=True) > 1.0
        lo, hi = xp.where(over, mid, lo), xp.where(over, hi, mid)
    c0 = 0.5 * (lo + hi)
    c = c0
    for _ in range(_NEWTON_STEPS):
        p, base = probs(c)
        total = xp.sum(p / base, axis=-1, keepdims=True)  # -d sum p / dc = sum p^(2 - alpha)
        step = c + (xp.sum(p, axis=-1, keepdims=True) - 1.0) / xp.where(total > 0, total, one)
        c = xp.where((total > 0) & (step >= lo) & (step <= hi), step, c)
    edge = unresolved(c) | unresolved(c0)
    pinned = xp.any(edge, axis=-1, keepdims=True)
    # the threshold pinned on the lowest unresolved class e: b_k = (alpha - 1)(z_k - z_e)
    # exactly, so the others resolve, and c moves with z_e alone, as dc/dz = s / sum s does
    # in the limit; e (with its ties) takes the missing mass
    lowest = xp.min(xp.where(edge, z, constant(xp, math.inf, z)), axis=-1, keepdims=True)
    edge = edge & (z == lowest)
    at_edge = xp.sum(xp.where(edge, z_lo, zero), axis=-1, keepdims=True)
    at_edge = at_edge / xp.maximum(xp.sum(xp.astype(edge, z.dtype), axis=-1, keepdims=True), one)
    c = xp.where(pinned, lowest, c)
    delta = xp.where(pinned, at_edge, zero * c)
    offset = xp.where(pinned, zero, one)
    p, slope, residual = _entmax_terms(xp, z, z_lo, c, delta, alpha, offset)
    for _ in range(_NEWTON_STEPS):
        total = xp.sum(slope, axis=-1, keepdims=True)
        trial = delta - residual / xp.where(total > 0, total, one)
        q, q_slope, q_residual = _entmax_terms(xp, z, z_lo, c, trial, alpha, offset)
        # a step is taken where it shrinks the residual, within 64 ULPs of c (delta
        # corrects below the float threshold's rounding)
        better = (xp.abs(q_residual) < xp.abs(residual)) & ~pinned & (total > 0)
        better = better & (xp.abs(trial) <= 64 * eps * (xp.abs(c) + 1.0 / a1))
        delta = xp.where(better, trial, delta)
        p, slope = xp.where(better, q, p), xp.where(better, q_slope, slope)
        residual = xp.where(better, q_residual, residual)
    # pinned rows: solve for e's probability nu, b_e = nu^(alpha - 1) (as the numpy tier's
    # _pin): d sum p / d nu = count + (b_e / nu) sum_{k not e} p_k / b_k, between 1 and K
    count = xp.maximum(xp.sum(xp.astype(edge, z.dtype), axis=-1, keepdims=True), one)
    top_nu = 1.0 / count
    nu = xp.clip(residual / count, 0.0, None)
    nu = xp.where(nu < top_nu, nu, top_nu)
    for _ in range(_PIN_STEPS):
        base = _power(xp, nu, a1)
        q, q_slope, q_residual = _entmax_terms(xp, z, z_lo, c, delta, alpha, base)
        q_residual = q_residual + xp.sum(xp.where(edge, q, zero), axis=-1, keepdims=True)
        positive = nu > 0
        ratio = xp.where(positive, base / xp.where(positive, nu, one), zero)
        rest = xp.sum(xp.where(edge, zero, q_slope), axis=-1, keepdims=True)
        step = xp.clip(nu + (q_residual - count * nu) / (count + ratio * rest), 0.0, None)
        nu = xp.where(step < top_nu, step, top_nu)
    q, _, q_residual = _entmax_terms(xp, z, z_lo, c, delta, alpha, _power(xp, nu, a1))
    q_residual = q_residual + xp.sum(xp.where(edge, q, zero), axis=-1, keepdims=True)
    p = xp.where(pinned, xp.where(edge, nu, q), p)
    residual = xp.where(pinned, q_residual - count * nu, residual)
    return _close_the_sum(xp, p, alpha, edge & False, residual)


def _close_the_sum(
    xp: Any, p: Array, alpha: float, unresolved: Array, residual: Array | None = None
) -> Array:
    """The numpy tier's last step: ``p + w (1 - sum p)``, ``w = s / sum s``, ``s = p^(2 - alpha)``.

    ``residual`` is ``1 - sum p`` when the caller formed it more accurately
    than the sum of ``p`` (:func:`_entmax_terms`). Classes ``unresolved`` at
    the threshold (left at 0 although their distance above it is below the
    rounding of ``c``: at large ``alpha`` such a class can hold visible mass)
    first take the missing mass, shared equally. ``w`` is a softmax of
    ``(2 - alpha) log p`` over the support, which cannot overflow.
    """
    zero, one = constant(xp, 0.0, p), constant(xp, 1.0, p)
    if residual is None:
        residual = 1.0 - xp.sum(p, axis=-1, keepdims=True)
    missing = residual
    share = unresolved & (missing > 0)
    count = xp.sum(xp.astype(share, p.dtype), axis=-1, keepdims=True)
    p = xp.where(share, missing / xp.where(count > 0, count, one), p)
    residual = xp.where(count > 0, zero, residual)
    support = p > 0
    log_p = xp.log(xp.where(support, p, one))
    logits = xp.where(support, (2.0 - alpha) * log_p, constant(xp, -math.inf, p))
    w = xp.exp(logits - xp.max(logits, axis=-1, keepdims=True))
    w = w / xp.sum(w, axis=-1, keepdims=True)
    closed = p + w * residual
    return xp.where(closed > 0, closed, zero)


def check_entmax_alpha(xp: Any, alpha: float, dtype: Any) -> None:
    """ValueError unless ``1 / (alpha - 1)`` is a normal number of ``dtype``.

    The threshold lies in ``[0, (1 - K^(1 - alpha)) / (alpha - 1)]`` and the
    classes outside every support below ``-2 / (alpha - 1)``: beyond
    ``alpha - 1 = 1 / tiny`` (``2^1022`` in float64, ``2^126`` in float32)
    those are subnormal numbers, which XLA (JAX) and other GPU libraries
    flush to zero, and the map then returns the uniform distribution. The
    numpy tier keeps subnormals and takes any finite ``alpha``.
    """
    limit = 1.0 / float(xp.finfo(dtype).smallest_normal)
    if alpha - 1.0 > limit:
        raise ValueError(
            f"alpha: expected alpha - 1 <= {limit:.4g} (2^{int(math.log2(limit))}: "
            f"1 / (alpha - 1) must be a normal {dtype} number, which a portable backend may "
            f"flush to zero below that) on the portable tier, got {alpha!r}; the numpy tier "
            "takes any finite alpha"
        )


def _entmax_map(x: Array, alpha: float, axis: object, where: Array | None) -> Array:
    """alpha-entmax (``alpha > 1``) over the class axes: special values, then a row solver."""
    xp = namespace(x, where)
    z, dtype, axes, scalar = rows_of(xp, x, axis, "x")
    if has_no_classes(z, axes):
        return finish(xp, z, dtype)
    z = masked(xp, z, where)
    wide = widest_float(xp, z)
    check_entmax_alpha(xp, alpha, wide)
    shape = tuple(z.shape)
    kept = tuple(i for i in range(z.ndim) if i not in axes)
    rows = xp.astype(class_rows(xp, z, axes), wide)  # float16/32 computed wide, as numpy does
    zero = constant(xp, 0.0, rows)
    top = xp.max(rows, axis=-1, keepdims=True)
    regular = xp.isfinite(top)
    # Classes with (alpha - 1)(z - max) <= -1 are outside every support: clamp them there.
    floor = -2.0 / (alpha - 1.0)
    u, u_lo = _two_sum(rows, -xp.where(regular, top, zero))  # u + u_lo: the exact gap
    u_lo = xp.where(regular & (u > floor), u_lo, zero)
    u = xp.where(regular & (u > floor), u, constant(xp, floor, rows))
    u = xp.where(regular & (u == floor), constant(xp, floor, rows), u)
    if alpha == 2.0:
        out = _sparsemax_rows(xp, u)
    elif alpha == 1.5:
        out = _entmax15_rows(xp, u)
    else:
        out = _entmax_root_rows(xp, u, u_lo, alpha)
    is_inf = rows == math.inf
    count = xp.sum(xp.astype(is_inf, rows.dtype), axis=-1, keepdims=True)
    limit = xp.astype(is_inf, rows.dtype) / xp.where(count > 0, count, constant(xp, 1.0, rows))
    out = xp.where(regular, out, xp.where(top == math.inf, limit, constant(xp, math.nan, rows)))
    out = xp.where(
        xp.any(xp.isnan(rows), axis=-1, keepdims=True), constant(xp, math.nan, rows), out
    )
    # Back to the input's layout.
    moved = tuple(shape[i] for i in kept + axes)
    out = xp.reshape(out, moved)
    out = xp.permute_dims(out, tuple(np.argsort(kept + axes).tolist()))
    empty = empty_rows(xp, where, shape, axes)
    if empty is not None:
        out = xp.where(empty, constant(xp, 0.0, out), out)
    out = finish(xp, out, dtype)
    return out[0] if scalar else out


def entmax(
    x: Array, alpha: float = 1.5, axis: int | tuple[int, ...] | None = -1, where=None
) -> Array:
    """Portable :func:`expfam.special.entmax` (``alpha = 1`` is :func:`softmax`)."""
    a = entmax_alpha(alpha)
    if a == 1.0:
        return softmax(x, axis=axis, where=where)
    with np.errstate(all="ignore"):
        return _entmax_map(x, a, axis, where)


def sparsemax(x: Array, axis: int | tuple[int, ...] | None = -1, where=None) -> Array:
    """Portable :func:`expfam.special.sparsemax`."""
    with np.errstate(all="ignore"):
        return _entmax_map(x, 2.0, axis, where)


@quiet
def entmax_jvp(probs: Array, v: Array, alpha: float = 1.5, axis: int = -1) -> Array:
    """Portable :func:`expfam.special.entmax_jvp`: ``s v - s (s . v) / sum s``."""
    a = entmax_alpha(alpha)
    xp = namespace(probs, v)
    p, dp = as_real(xp, probs, "probs")
    t, dt = as_real(xp, v, "v")
    common = xp.result_type(p.dtype, t.dtype)
    p, t = xp.astype(p, common), xp.astype(t, common)
    try:
        p, t = xp.broadcast_arrays(p, t)
    except (ValueError, RuntimeError, TypeError):
        raise ValueError(
            f"v: shape {tuple(t.shape)} does not broadcast with probs' shape {tuple(p.shape)}"
        ) from None
    if p.ndim == 0:
        raise ValueError("probs: expected an array with a class axis, got a scalar")
    ax = axis_index(axis, p.ndim)
    check_nonnegative(xp, p, "probs", "probabilities (an output of entmax)")
    support = p > 0
    zero, one = constant(xp, 0.0, p), constant(xp, 1.0, p)
    # s = p^(2 - alpha) through its logarithm; v shifted by its entry at the class m of
    # largest s (J 1 = 0): d_m = 0, so the mean does not cancel against v_m where s_m holds
    # nearly all the weight (the numpy tier's _jvp_rows)
    log_s = xp.where(support, (2.0 - a) * xp.log(xp.where(support, p, one)), -math.inf)
    peak = xp.max(log_s, axis=ax, keepdims=True)
    finite = xp.isfinite(peak)
    peak = xp.where(finite, peak, zero)
    is_top = xp.astype((log_s == peak) & support, p.dtype)
    first = (xp.cumulative_sum(is_top, axis=ax) == 1.0) & (is_top > 0)
    d = xp.where(support, t - xp.sum(xp.where(first, t, zero), axis=ax, keepdims=True), zero)
    weight = xp.exp(log_s - peak)  # s / max s
    sd = xp.where(first | ~support, zero, xp.exp(xp.where(first | ~support, zero, log_s)) * d)
    total = xp.sum(weight, axis=ax, keepdims=True)
    share = weight / xp.where(finite, total, one)
    out = xp.where(support, sd - share * xp.sum(sd, axis=ax, keepdims=True), zero)
    return finish(xp, out, xp.result_type(dp, dt))


def _tsallis_negentropy(xp: Any, p: Array, alpha: float) -> Array:
    """``sum_k p_k expm1((alpha - 1) log p_k) / (alpha (alpha - 1))``; ``0 log 0 = 0``."""
    log_p = xp.log(xp.where(p > 0, p, constant(xp, 1.0, p)))
    a1 = alpha - 1.0
    return xp.sum(p * xp.expm1(a1 * log_p), axis=-1) / (alpha * a1)


@quiet
def fenchel_young_loss(logits: Array, target: Array, alpha: float = 1.5) -> Array:
    """Portable :func:`expfam.special.fenchel_young_loss`."""
    a = entmax_alpha(alpha)
    xp = namespace(logits, target)
    z, dtype = as_real(xp, logits, "logits")
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError("logits: expected an array with a non-empty class axis")
    if concrete(xp.all(xp.isfinite(z))) is False:
        raise ValueError("logits: must be finite")
    k = z.shape[-1]
    y = target if hasattr(target, "dtype") else xp.asarray(target, device=device_of(z))
    zero = constant(xp, 0.0, z)
    if xp.isdtype(y.dtype, "integral"):
        hot = xp.astype(onehot_of(xp, y, z, (), "target"), z.dtype)
        if a == 1.0:
            return finish(xp, cross_entropy(z, y), dtype)
    else:
        hot, _ = as_real(xp, y, "target")
        hot = xp.astype(hot, z.dtype)
        if hot.ndim == 0 or hot.shape[-1] != k:
            raise ValueError(f"target: expected class indices or {k} class weights per row")
        valid = xp.all(hot >= 0) & xp.all(xp.abs(xp.sum(hot, axis=-1) - 1.0) <= 1e-6)
        if concrete(valid) is False:
            raise ValueError("target: probability vectors must be >= 0 and sum to 1")
        if a == 1.0:
            log_q = xp.log(xp.where(hot > 0, hot, constant(xp, 1.0, hot)))
            loss = cross_entropy(z, hot) + xp.sum(hot * log_q, axis=-1)
            return finish(xp, xp.where(loss > 0, loss, zero), dtype)
    z = z - xp.max(z, axis=-1, keepdims=True)
    try:
        z, hot = xp.broadcast_arrays(z, hot)
    except (ValueError, RuntimeError, TypeError):
        raise ValueError(
            f"target: shape {tuple(y.shape)} does not broadcast with logits' shape "
            f"{tuple(z.shape)}"
        ) from None
    y_hat = entmax(z, alpha=a)
    loss = (
        _tsallis_negentropy(xp, hot, a)
        - _tsallis_negentropy(xp, y_hat, a)
        - xp.sum(z * (hot - y_hat), axis=-1)
    )
    return finish(xp, xp.where(loss > 0, loss, xp.zeros_like(loss)), dtype)
