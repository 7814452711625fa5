"""The row engine behind softmax, log_softmax, logsumexp and entropy.

Every kernel that normalizes along the last axis shares one pass structure,
written once here. For a row ``x`` (float64 work precision) and inverse
temperature ``beta``:

1. ``k = argmax(x)``, ``m = x[k]`` (the first maximum);
2. ``d = beta * (x - m)`` formed exactly as an unevaluated sum ``hi + lo``
   (TwoSum for the shift, Dekker's product for ``beta``), so that the
   amplification of rounding errors by ``exp`` (the error of ``exp(d)`` grows
   with ``|d|``) is removed;
3. ``e = exp(hi) * (1 + lo)``, and ``t = sum_{j != k} e_j``;
4. the log-partition is ``beta * m + log1p(t)`` (``log1p`` keeps the
   digits when one entry dominates) and the probabilities are ``e / (1 + t)``.

Float16 and float32 rows are computed in float64, where ``x - m`` and
``beta * (x - m)`` are already exact enough, and rounded once at the end.

Rows are processed in blocks that fit in the L2 cache, with the scratch
arrays allocated once per block size, and large inputs are split over the
machine's cores (numpy releases the GIL inside its loops). Rows whose maximum
is not finite (a NaN, a ``+inf``, or nothing but ``-inf``) take a separate,
exact path: ``_special_rows``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

# Work per block, in float64 elements: ~6 scratch arrays of this size stay in L2.
_BLOCK_ELEMENTS = 1 << 15
# Inputs below this many elements are done on the calling thread.
_PARALLEL_ELEMENTS = 1 << 20
_THREADS = max(1, min(os.cpu_count() or 1, 8))
_executor: ThreadPoolExecutor | None = None

# Dekker's splitter for float64: 2**27 + 1.
_SPLITTER = 134217729.0
# log 2 in two parts (fdlibm): _LN2_HI has 32 significant bits, so k * _LN2_HI
# and d + k * _LN2_HI are exact for the small k and |d| < 1024 used here.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10

KINDS = ("softmax", "log_softmax", "logsumexp", "entropy")


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="expfam")
    return _executor


def _split(a: NDArray) -> tuple[NDArray, NDArray]:
    """Veltkamp split of ``a`` into two halves of 26 significant bits each."""
    c = _SPLITTER * a
    high = c - (c - a)
    return high, a - high


class _Scratch:
    """Work arrays for one block of ``rows x K`` float64 values."""

    def __init__(self, rows: int, k: int) -> None:
        self.hi = np.empty((rows, k))
        self.lo = np.empty((rows, k))
        self.tmp = np.empty((rows, k))
        self.e = np.empty((rows, k))

    def view(self, rows: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        return self.hi[:rows], self.lo[:rows], self.tmp[:rows], self.e[:rows]


def _shifted(
    x: NDArray, beta: float, exact_shift: bool, s: _Scratch
) -> tuple[NDArray, NDArray, NDArray, NDArray | None, NDArray]:
    """Return ``(idx, m, hi, lo, e)`` for a block ``x`` of finite-maximum rows.

    ``hi + lo = beta * (x - m)`` (to about 2**-100 relative; ``lo`` is None
    when ``hi`` alone is exact enough, for float16/32 input), and
    ``e = exp(hi + lo)`` with the argmax entry of each row set to zero.
    """
    rows = x.shape[0]
    hi, lo, tmp, e = s.view(rows)
    idx = np.argmax(x, axis=1)
    r = np.arange(rows)
    m = x[r, idx].astype(np.float64)
    mcol = m[:, None]
    np.subtract(x, mcol, out=hi)
    if not exact_shift:
        if beta != 1.0:
            np.multiply(hi, beta, out=hi)
        np.exp(hi, out=e)
        e[r, idx] = 0.0
        return idx, m, hi, None, e
    # TwoSum(x, -m): lo = (x - (hi - bb)) + (-m - bb), bb = hi - x.
    np.subtract(hi, x, out=tmp)  # bb
    np.subtract(hi, tmp, out=lo)
    np.subtract(x, lo, out=lo)
    np.add(tmp, mcol, out=tmp)  # bb + m
    np.subtract(lo, tmp, out=lo)
    if beta != 1.0:
        # Dekker: beta * hi = p + err exactly; lo <- err + beta * lo.
        b_hi, b_lo = _split(np.float64(beta))
        np.multiply(hi, beta, out=e)  # p
        h_hi, h_lo = _split(hi)
        err = ((h_hi * b_hi - e) + h_hi * b_lo + h_lo * b_hi) + h_lo * b_lo
        np.multiply(lo, beta, out=lo)
        np.add(lo, err, out=lo)
        hi, e = e, hi
    # -inf entries (probability 0) give NaN corrections; clear them.
    np.fmax(lo, -1.0, out=lo)
    np.exp(hi, out=e)
    np.multiply(e, lo, out=tmp)
    np.add(e, tmp, out=e)
    e[r, idx] = 0.0
    return idx, m, hi, lo, e


def _block(kind: str, x: NDArray, beta: float, exact_shift: bool, s: _Scratch, out: NDArray):
    """Compute ``kind`` for the rows of block ``x`` into ``out`` (rows, K) or (rows,)."""
    with np.errstate(all="ignore"):
        idx, m, hi, lo, e = _shifted(x, beta, exact_shift, s)
        t = np.sum(e, axis=1)
        log_z = np.log1p(t)
        r = np.arange(x.shape[0])
        if kind == "softmax":
            e[r, idx] = 1.0
            np.divide(e, (1.0 + t)[:, None], out=out, casting="unsafe")
        elif kind == "log_softmax":
            if lo is None:
                np.subtract(hi, log_z[:, None], out=out, casting="unsafe")
            else:
                np.subtract(hi, log_z[:, None], out=hi)
                np.add(hi, lo, out=out, casting="unsafe")
        elif kind == "logsumexp":
            out[...] = beta * m + log_z
        else:  # entropy: log Z + sum_k p_k * (-d_k), every term non-negative
            e[r, idx] = 1.0
            # Where e_k is subnormal, scale it by 2**64 to keep its digits.
            tiny = (hi < -708.0) & (hi > -np.inf)
            d, d_lo = hi[tiny], (0.0 if lo is None else lo[tiny])
            if lo is not None:
                np.add(hi, lo, out=hi)
            np.fmax(hi, -1e300, out=hi)
            np.multiply(e, hi, out=hi)
            scaled = np.exp(d + 64 * _LN2_HI) * (1.0 + (d_lo + 64 * _LN2_LO))
            hi[tiny] = np.ldexp(scaled * (d + d_lo), -64)
            out[...] = log_z - np.sum(hi, axis=1) / (1.0 + t)
        bad = ~np.isfinite(m)
        if bad.any():
            out[bad] = _special_rows(kind, x[bad].astype(np.float64), beta)


def _special_rows(kind: str, x: NDArray, beta: float) -> NDArray:
    """Exact results for rows whose maximum is NaN, ``+inf`` or ``-inf``.

    NaN anywhere gives NaN. Otherwise, with ``c`` the number of ``+inf``
    entries: if ``c > 0`` they share the mass equally (the limit of
    ``softmax(beta z)``), so ``p = 1/c`` on them, ``log p = -log c``, the
    log-partition is ``+inf`` and the entropy ``log c``. A row of all ``-inf``
    has no distribution: log-partition ``-inf``, everything else NaN.
    """
    with np.errstate(all="ignore"):
        has_nan = np.isnan(x).any(axis=1)
        top = x == np.inf
        c = top.sum(axis=1)
        empty = c == 0  # all -inf (rows here have a non-finite max)
        if kind == "logsumexp":
            res = np.where(empty, -np.inf, np.inf)
        elif kind == "entropy":
            res = np.where(empty, np.nan, np.log(np.maximum(c, 1)))
        else:
            cc = np.maximum(c, 1)[:, None]
            if kind == "softmax":
                res = np.where(top, 1.0 / cc, 0.0)
            else:
                res = np.where(top, -np.log(cc), -np.inf)
            res[empty] = np.nan
        res[has_nan] = np.nan
    return res


def infinite_beta_rows(kind: str, x: NDArray) -> NDArray:
    """``beta = inf``: the argmax, ties sharing the mass equally (rows of ``x``)."""
    with np.errstate(all="ignore"):
        m = np.max(x, axis=1, keepdims=True)
        finite = np.isfinite(m[:, 0])
        y = np.where(x == m, np.inf, -np.inf)
        y[~finite] = x[~finite]
    return _special_rows(kind, y, 1.0)


def run(kind: str, x: NDArray, beta: float, out_dtype: np.dtype) -> NDArray:
    """Apply ``kind`` to every row of the C-contiguous 2-D array ``x``.

    Returns an array of ``out_dtype`` with shape ``x.shape`` (softmax,
    log_softmax) or ``x.shape[:1]`` (logsumexp, entropy).
    """
    rows, k = x.shape
    shape = (rows, k) if kind in ("softmax", "log_softmax") else (rows,)
    out = np.empty(shape, dtype=out_dtype)
    if rows == 0 or k == 0:
        # An empty row has no distribution: its log-partition is log 0.
        out.fill(-np.inf if kind == "logsumexp" else np.nan)
        return out
    exact_shift = x.dtype == np.float64
    block_rows = max(1, _BLOCK_ELEMENTS // k)
    starts = range(0, rows, block_rows)

    def work(chunk: range) -> None:
        scratch = _Scratch(min(block_rows, rows), k)
        for start in chunk:
            stop = min(start + block_rows, rows)
            _block(kind, x[start:stop], beta, exact_shift, scratch, out[start:stop])

    if x.size < _PARALLEL_ELEMENTS or _THREADS == 1 or len(starts) == 1:
        work(starts)
    else:
        n = min(_THREADS, len(starts))
        chunks = [starts[i::n] for i in range(n)]
        for future in [_pool().submit(work, c) for c in chunks]:
            future.result()
    return out
