"""The row engine behind softmax, log_softmax, logsumexp and entropy.

Every kernel that normalizes along the last axis shares one pass structure,
written once here. For a row ``x`` and inverse temperature ``beta``:

1. ``k = argmax(x)``, ``m = x[k]`` (the first maximum);
2. ``d = beta * (x - m)`` formed exactly as an unevaluated sum ``hi + lo``
   (TwoSum for the shift, Dekker's product for ``beta``), so that ``exp``
   does not amplify the rounding of the shift (its error grows with ``|d|``);
3. ``e = exp(d)`` and ``t = sum_{j != k} e_j``;
4. the log-partition is ``m + log1p(t)`` (``log1p`` keeps the digits when
   one entry dominates) and the probabilities are ``e / (1 + t)``.

Probabilities (``softmax``) use float64 ``exp`` with the first-order
correction ``exp(hi) (1 + lo)``, and divide by ``1 + t`` carried in
double-double (:func:`_divide_by_partition`): at most 3 ULP (2.0 measured,
rows of ``10**4`` entries included). The float64 log-domain
outputs (``log_softmax``, ``logsumexp``, ``entropy``) need ``log1p(t)`` to a
fraction of an ULP, which float64 ``exp`` (0.65 ULP) and ``log1p`` cannot
give: they carry ``e``, ``t`` and ``log1p(t)`` in double-double
(:mod:`expfam._core.dd`) and round once, for at most 1 ULP. Float16 and float32
rows are computed in plain float64, already far more precise than their
output, and rounded once.

Three paths carry these steps out, with the same results:

- inputs of at most ``_small.MAX_ELEMENTS`` finite entries: on Python
  floats (:mod:`expfam.special._small`), where numpy's per-call cost would
  be nearly all of the time;
- rows of up to ``_LONG_ROW`` entries: in blocks of rows of about
  ``_BLOCK_ELEMENTS`` entries, each worker reusing one set of work arrays
  (:class:`_Scratch`; fresh large temporaries fault their pages in every
  time), large inputs split over threads (numpy releases the GIL inside
  its loops; the count is set in :mod:`expfam._core.threads`);
- longer rows: one at a time in column chunks (:func:`_long_row`), so the
  work arrays stay at a few MiB whatever the length.

Rows whose maximum is not finite (a NaN, a ``+inf``, or nothing but
``-inf``) take a separate, exact path: ``_special_rows``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from expfam._core import threads as _threads
from expfam._core.dd import exp_dd, exp_dd_parts, log1p_dd, row_sum_dd, two_prod, two_sum
from expfam.special import _small

# Work per block, in float64 elements (2 MiB per array, the L2 size here): large
# enough that numpy's per-call overhead, during which a thread holds the GIL, is
# small against the work, so two threads scale (measured: 1 << 15 gave 1.2x).
_BLOCK_ELEMENTS = 1 << 18
# Inputs below this many elements are done on the calling thread.
_PARALLEL_ELEMENTS = 1 << 20


class _Scratch:
    """Work arrays for one block of ``rows x K`` float64 values."""

    def __init__(self, rows: int, k: int) -> None:
        self.hi = np.empty((rows, k))
        self.lo = np.empty((rows, k))
        self.tmp = np.empty((rows, k))
        self.e = np.empty((rows, k))
        self._work: NDArray | None = None

    def work(self, rows: int) -> NDArray:
        """A fifth array, allocated on first use."""
        if self._work is None:
            self._work = np.empty_like(self.e)
        return self._work[:rows]

    def view(
        self, rows: int, cols: int | None = None
    ) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """The four arrays, cut to ``rows`` (and ``cols``)."""
        cut = (slice(rows), slice(cols))
        return self.hi[cut], self.lo[cut], self.tmp[cut], self.e[cut]


def _shift(
    x: NDArray, beta: float | NDArray, exact: bool, s: _Scratch
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray | None]:
    """Return ``(rows, idx, m, hi, lo)`` with ``hi + lo = beta * (x - m)``, ``m = max x``.

    ``beta`` is a float or a column ``(rows, 1)`` of per-row values.
    ``lo`` is None when ``hi`` alone is exact enough (float16/32 input);
    otherwise ``hi + lo`` is exact to about ``2**-100`` relative, and ``lo`` is
    cleared to -1 on ``-inf`` entries (whose correction would be NaN).
    """
    rows = np.arange(x.shape[0])
    idx = np.argmax(x, axis=1)
    m = x[rows, idx].astype(np.float64)
    hi, lo = _shift_by(x, m, beta, exact, s)
    return rows, idx, m, hi, lo


def _shift_by(
    x: NDArray, m: NDArray, beta: float, exact: bool, s: _Scratch
) -> tuple[NDArray, NDArray | None]:
    """``hi + lo = beta * (x - m)`` (one ``m`` per row) in ``s``; see :func:`_shift`."""
    hi, lo, tmp, _ = s.view(*x.shape)
    if not exact:
        np.subtract(x, m[:, None], out=hi)
        if _scaled(beta):
            np.multiply(hi, beta, out=hi)
        return hi, None
    _two_sum_into(x, -m[:, None], hi, lo, tmp)
    if _scaled(beta):
        # beta * (hi + lo) = p + (err + beta * lo), p + err = beta * hi exactly.
        p, err = two_prod(hi, np.asarray(beta, dtype=np.float64))
        np.multiply(lo, beta, out=lo)
        np.add(lo, err, out=lo)
        hi[...] = p
    np.fmax(lo, -1.0, out=lo)
    return hi, lo


def _scaled(beta: float | NDArray) -> bool:
    return np.ndim(beta) > 0 or beta != 1.0


def _fast_block(
    kind: str, x: NDArray, beta: float, exact: bool, s: _Scratch, out: NDArray, y: NDArray | None
) -> NDArray:
    """Softmax (any dtype), and every kind for float16/32 rows: float64 ``exp``. Returns ``m``."""
    rows, idx, m, hi, lo = _shift(x, beta, exact, s)
    _, _, tmp, e = s.view(x.shape[0])
    np.exp(hi, out=e)
    if lo is not None:
        np.multiply(e, lo, out=tmp)
        if kind == "softmax":
            _divide_by_partition(e, tmp, rows, idx, s.work(x.shape[0]), out)
            return m
        np.add(e, tmp, out=e)
    e[rows, idx] = 0.0
    t = np.sum(e, axis=1)
    if kind == "softmax":
        e[rows, idx] = 1.0
        np.divide(e, (1.0 + t)[:, None], out=out, casting="unsafe")
        return m
    log_z = np.log1p(t)
    if kind == "log_softmax":
        np.subtract(hi, log_z[:, None], out=out, casting="unsafe")
    elif kind == "logsumexp":
        out[...] = m + log_z
    elif kind == "cross_entropy":  # log Z - d_y: two non-negative terms
        out[...] = log_z - hi[rows, y]
    else:  # entropy: log Z + sum_k p_k * (-d_k), every term non-negative
        np.fmax(hi, -1e300, out=hi)
        np.multiply(e, hi, out=hi)
        out[...] = log_z - np.sum(hi, axis=1) / (1.0 + t)
    return m


def _divide_by_partition(
    e: NDArray, c: NDArray, rows: NDArray, idx: NDArray, work: NDArray, out: NDArray
) -> None:
    """Float64 softmax ``p = (e + c) / Z`` from the terms ``e + c = exp(hi + lo)``.

    ``Z = 1 + t`` (``t`` the sum of the non-maximal terms) and ``R = 1 / Z``
    are carried in double-double, so that ``p = e R_hi + (e R_lo + c R_hi)``
    rounds twice: the error is float64 ``exp``'s (0.65 ULP) and about 1 ULP,
    however long the row (a float64 sum of ``2 * 10**4`` terms and ``1 + t``
    rounded separately reached 3.2 ULP).
    """
    e[rows, idx] = 0.0
    c[rows, idx] = 0.0
    r_hi, r_lo = _reciprocal(*row_sum_dd(e, c, work=work))
    e[rows, idx] = 1.0
    _scale_into(e, c, r_hi, r_lo, work, out)


def _reciprocal(t_hi: NDArray, t_lo: NDArray) -> tuple[NDArray, NDArray]:
    """``1 / (1 + t)`` of a double-double ``t >= 0``, as ``r_hi + r_lo``."""
    z_hi, z_err = two_sum(np.ones_like(t_hi), t_hi)
    r_hi = 1.0 / z_hi
    p, p_err = two_prod(r_hi, z_hi)
    return r_hi, (((1.0 - p) - p_err) - r_hi * (z_err + t_lo)) / z_hi


def _scale_into(
    e: NDArray, c: NDArray, r_hi: NDArray, r_lo: NDArray, work: NDArray, out: NDArray
) -> None:
    """``out = e r_hi + (c r_hi + e r_lo)`` (``c`` and ``work`` are overwritten)."""
    np.multiply(c, r_hi[:, None], out=c)
    np.multiply(e, r_lo[:, None], out=work)
    np.add(c, work, out=c)
    np.multiply(e, r_hi[:, None], out=out)
    np.add(out, c, out=out)


# Columns x rows per chunk of the double-double sums: their temporaries stay under
# 64 KiB, below the allocator's mmap threshold (fresh pages fault on every use).
_DD_CHUNK = 1 << 13
# Rows whose t = sum of non-maximal terms has kappa = t / ((1 + t) log1p t) at most
# this take t from float64 exp: exp's error (<= 0.65 ULP, 1.3 * 2**-53 relative,
# measured against mpmath) moves log1p(t) by at most 1.3 * kappa < 0.5 ULP.
# Others (a dominant class) correct their large terms in double-double.
_KAPPA_FAST = 0.38


def _add_dd(a: tuple[NDArray, NDArray], b: tuple[NDArray, NDArray]) -> tuple[NDArray, NDArray]:
    s, err = two_sum(a[0], b[0])
    return two_sum(s, err + a[1] + b[1])


def _dd_sums(
    hi: NDArray, lo: NDArray, idx: NDArray, up: NDArray, entropy: bool
) -> tuple[tuple[NDArray, NDArray], tuple[NDArray, NDArray]]:
    """Double-double row sums, over ``j != idx``, of ``e_j = exp(hi + lo) * 2**up`` and
    (if ``entropy``) of ``e_j * (-(hi + lo))``, in column chunks."""
    n_rows, k = hi.shape
    zero = np.zeros(n_rows)
    t, s = (zero, zero), (zero, zero)
    step = max(1, _DD_CHUNK // n_rows)
    rows = np.arange(n_rows)
    for c0 in range(0, k, step):
        h, l_ = hi[:, c0 : c0 + step], lo[:, c0 : c0 + step]
        m_hi, m_lo, n = exp_dd_parts(h, l_)
        n += up[:, None]
        mine = (idx >= c0) & (idx < c0 + h.shape[1])
        m_hi[rows[mine], idx[mine] - c0] = 0.0
        m_lo[rows[mine], idx[mine] - c0] = 0.0
        t = _add_dd(t, row_sum_dd(np.ldexp(m_hi, n), np.ldexp(m_lo, n)))
        if entropy:  # products formed before scaling, so subnormal terms keep their digits
            d = np.fmin(-h, 1100.0)
            p_hi, p_err = two_prod(m_hi, d)
            p_lo = p_err - m_hi * l_ + m_lo * d
            s = _add_dd(s, row_sum_dd(np.ldexp(p_hi, n), np.ldexp(p_lo, n)))
    return t, s


def _log_z(
    hi: NDArray, lo: NDArray, idx: NDArray, e: NDArray, c: NDArray, work: NDArray
) -> tuple[NDArray, NDArray]:
    """``log Z = log1p(t)``, ``t = sum_{j != idx} exp(hi_j + lo_j)``, in double-double.

    ``e = fl(exp(hi))`` and ``c = fl(e * lo)`` (zero at ``idx``) give a first
    ``t``, summed exactly. Rows with ``kappa = t / ((1 + t) log1p t) >
    _KAPPA_FAST`` correct it term by term with :func:`expfam._core.dd.exp_dd`:
    the terms above ``t 2**-12``, then above ``t 2**-24``, ... while the
    uncorrected rest could still move ``log Z`` by more than a quarter ULP.
    Rows whose ``t`` is below ``2**-900`` (``log1p(t) = t``) are summed again
    scaled by ``2**600`` (:func:`_dd_sums`), so terms below the normal range
    keep their digits, and rounded once when scaled back.
    """
    t_hi, t_lo = _add_dd(row_sum_dd(e, work=work), (np.sum(c, axis=1), 0.0))
    kappa = t_hi / ((1.0 + t_hi) * np.log1p(t_hi))
    rest = np.where(kappa <= _KAPPA_FAST, 0.0, t_hi)  # mass still to correct, per row
    done = np.zeros(e.shape, dtype=bool)
    for scale in (2.0**-12, 2.0**-24, 2.0**-48, 0.0):
        todo = rest > 0.0
        if not todo.any():
            break
        pick = e > np.where(todo, t_hi * scale, np.inf)[:, None]  # never the zeroed argmax
        if scale != 2.0**-12:
            pick &= ~done
        if scale != 0.0:
            done |= pick
        ri, ci = np.divmod(np.flatnonzero(pick), e.shape[1])  # (2-D nonzero is slow)
        e_hi, e_lo = exp_dd(hi[ri, ci], lo[ri, ci])
        fix = (e_hi - e[ri, ci]) + (e_lo - c[ri, ci])  # e_hi - e is exact (Sterbenz)
        t_hi, t_lo = _add_dd((t_hi, t_lo), (np.bincount(ri, fix, len(t_hi)), 0.0))
        rest -= np.bincount(ri, e[ri, ci], len(t_hi))
        # exp's error on the rest moves log Z by <= 1.3 * 2**-53 * rest / (1 + t).
        rest[rest <= 0.19 * (1.0 + t_hi) * np.log1p(t_hi)] = 0.0
    tiny = t_hi < 2.0**-900
    if tiny.any():
        up = np.full(int(tiny.sum()), 600, dtype=np.int32)
        (t_hi[tiny], t_lo[tiny]), _ = _dd_sums(hi[tiny], lo[tiny], idx[tiny], up, False)
    l_hi, l_lo = log1p_dd(np.where(tiny, 0.0, t_hi), np.where(tiny, 0.0, t_lo))
    l_hi[tiny] = np.ldexp(t_hi[tiny], -600)
    l_lo[tiny] = 0.0
    return l_hi, l_lo


def _two_sum_into(a: NDArray, b: NDArray, s: NDArray, err: NDArray, work: NDArray) -> None:
    """TwoSum into preallocated arrays: ``s + err = a + b`` exactly (``b`` may broadcast)."""
    np.add(a, b, out=s)
    np.subtract(s, a, out=work)  # bb
    np.subtract(s, work, out=err)
    np.subtract(a, err, out=err)  # a - (s - bb)
    np.subtract(b, work, out=work)  # b - bb
    np.add(err, work, out=err)


def _accurate_block(
    kind: str, x: NDArray, beta: float, s: _Scratch, out: NDArray, y: NDArray | None
) -> NDArray:
    """``log_softmax`` (also as double-double), ``logsumexp`` and ``cross_entropy`` (the
    classes ``y``) of float64 rows; returns ``m``.

    ``log Z`` comes from :func:`_log_z`; ``log p = d - log Z``,
    ``logsumexp = m + log Z`` and ``-log p_y = log Z - d_y`` (two non-negative
    terms) are formed with TwoSum and rounded once: 1 ULP.
    """
    rows, idx, m, hi, lo = _shift(x, beta, True, s)
    _, _, c, e = s.view(x.shape[0])
    np.exp(hi, out=e)
    e[rows, idx] = 0.0
    np.multiply(e, lo, out=c)
    work = out if kind == "log_softmax" else s.work(x.shape[0])
    l_hi, l_lo = _log_z(hi, lo, idx, e, c, work)
    if kind in ("logsumexp", "cross_entropy"):
        out[...] = _finish(
            kind, m, (l_hi, l_lo), (hi[rows, y], lo[rows, y]) if y is not None else None
        )
        return m
    _log_probs_into(kind, hi, lo, l_hi, l_lo, c, e, out)
    return m


def _finish(
    kind: str,
    m: NDArray,
    log_z: tuple[NDArray, NDArray],
    d_y: tuple[NDArray, NDArray] | None,
) -> NDArray:
    """``logsumexp = m + log Z`` or ``-log p_y = log Z - d_y`` (double-doubles), rounded once."""
    l_hi, l_lo = log_z
    if kind == "logsumexp":
        total, err = two_sum(m, l_hi)
        return total + (err + l_lo)
    total, err = two_sum(l_hi, -d_y[0])  # two non-negative terms
    loss = total + (err + (l_lo - d_y[1]))
    return np.where(np.isinf(total), total, loss)  # a class of probability 0


def _log_probs_into(
    kind: str,
    hi: NDArray,
    lo: NDArray,
    l_hi: NDArray,
    l_lo: NDArray,
    c: NDArray,
    e: NDArray,
    out: NDArray,
) -> None:
    """``log p = (hi - l_hi) + ((err + lo) - l_lo)`` into ``out`` (``c``, ``e``: work arrays).

    ``hi - l_hi = top + err`` exactly (TwoSum); ``log_softmax_dd`` keeps the
    two parts in ``out[..., 0]`` and ``out[..., 1]``.
    """
    top = out if kind == "log_softmax" else out[..., 0]
    _two_sum_into(hi, -l_hi[:, None], e, c, top)
    np.add(c, lo, out=c)
    np.subtract(c, l_lo[:, None], out=c)
    if not np.isfinite(e.min()):  # -inf classes, x - m beyond range (NaN: special rows)
        c[np.isinf(e)] = 0.0
    if kind == "log_softmax":
        np.add(e, c, out=out)
    else:
        out[..., 0] = e
        out[..., 1] = c


def _entropy_block(x: NDArray, s: _Scratch, out: NDArray) -> NDArray:
    """Entropy of float64 rows, every sum in double-double; returns ``m``.

    ``H = log Z + S / (1 + t)`` with ``S = sum_k e_k (-d_k)``: all terms are
    non-negative, so the double-double sums make it 1 ULP.
    """
    rows, idx, m, hi, lo = _shift(x, 1.0, True, s)
    up = np.zeros(len(rows), dtype=np.int32)
    (t_hi, t_lo), (s_hi, s_lo) = _dd_sums(hi, lo, idx, up, True)
    tiny = t_hi < 2.0**-900
    if tiny.any():
        up[tiny] = 600
        (t_hi[tiny], t_lo[tiny]), (s_hi[tiny], s_lo[tiny]) = _dd_sums(
            hi[tiny], lo[tiny], idx[tiny], up[tiny], True
        )
    out[...] = _entropy_from_sums((t_hi, t_lo), (s_hi, s_lo), tiny)
    return m


def _entropy_from_sums(
    t: tuple[NDArray, NDArray], s: tuple[NDArray, NDArray], tiny: NDArray
) -> NDArray:
    """``H = log1p(t) + S / (1 + t)`` from double-double sums, rounded once.

    On ``tiny`` rows ``t`` and ``S`` are scaled by ``2**600`` and ``H = t + S``
    (``1 + t = 1`` to the last digit).
    """
    (t_hi, t_lo), (s_hi, s_lo) = t, s
    l_hi, l_lo = log1p_dd(np.where(tiny, 0.0, t_hi), np.where(tiny, 0.0, t_lo))
    a_hi, a_lo = two_sum(np.ones_like(t_hi), t_hi)
    a_lo += t_lo
    q_hi = s_hi / a_hi
    qa, qa_err = two_prod(q_hi, a_hi)
    q_lo = (((s_hi - qa) - qa_err) + s_lo - q_hi * a_lo) / a_hi
    total, err = two_sum(l_hi, q_hi)
    h = total + ((err + l_lo) + q_lo)
    h[tiny] = np.ldexp((t_hi + s_hi)[tiny] + (t_lo + s_lo)[tiny], -600)
    # A low part of the shift can round a product of terms that underflow below 0.
    return np.maximum(h, 0.0)


def _block(
    kind: str,
    x: NDArray,
    beta: float,
    exact: bool,
    s: _Scratch,
    out: NDArray,
    y: NDArray | None = None,
) -> None:
    """Compute ``kind`` for the rows of block ``x`` (classes ``y`` for cross_entropy)
    into ``out`` (rows, K) or (rows,)."""
    with np.errstate(all="ignore"):
        if exact and kind == "entropy":
            m = _entropy_block(x, s, out)
        elif exact and kind != "softmax":
            m = _accurate_block(kind, x, beta, s, out, y)
        else:
            m = _fast_block(kind, x, beta, exact, s, out, y)
        bad = ~np.isfinite(m)
        if bad.any():
            out[bad] = _special_values(kind, x[bad], beta, None if y is None else y[bad])


def _special_values(kind: str, x: NDArray, beta: float, y: NDArray | None) -> NDArray:
    """:func:`_special_rows` for every kind of :func:`run` (rows ``x``, classes ``y``)."""
    x = x.astype(np.float64)
    if kind == "cross_entropy":
        return -_special_rows("log_softmax", x, beta)[np.arange(len(x)), y]
    special = _special_rows(kind.removesuffix("_dd"), x, beta)
    if kind == "log_softmax_dd":
        special = np.stack([special, np.zeros_like(special)], axis=-1)
    return special


# Rows longer than this are done one at a time in column chunks of _CHUNK entries, so the
# work arrays stay at a few MiB whatever the length (five float64 copies of a row of 1e7
# would be 400 MB).
_LONG_ROW = _BLOCK_ELEMENTS
_CHUNK = 1 << 16


def _long_row(
    kind: str,
    x: NDArray,
    beta: float,
    exact: bool,
    s: _Scratch,
    out: NDArray,
    y: NDArray | None,
) -> None:
    """One row ``x`` (shape (1, K)) by column chunks: the same results as :func:`_block`.

    A first pass sums ``t = sum_{j != k} e_j`` (and ``S`` for the entropy)
    chunk by chunk, each chunk's sum in double-double (:func:`row_sum_dd`,
    :func:`_dd_sums`) and the chunks' sums added in double-double. Float64
    log-domain kinds whose ``kappa`` exceeds ``_KAPPA_FAST`` (or whose ``t``
    is tiny) sum again with :func:`_dd_sums` (``exp`` in double-double for
    every term, so no term is left uncorrected). A second pass writes
    ``softmax`` and ``log_softmax`` chunk by chunk.
    """
    with np.errstate(all="ignore"):
        idx = np.argmax(x, axis=1)
        m = x[:, idx[0]].astype(np.float64)
        if not np.isfinite(m[0]):
            out[...] = _special_values(kind, x, beta, y)
            return
        bounds = [(c0, min(c0 + _CHUNK, x.shape[1])) for c0 in range(0, x.shape[1], _CHUNK)]
        accurate = exact and kind != "softmax"

        def dd_pass(up: NDArray) -> tuple[tuple[NDArray, NDArray], tuple[NDArray, NDArray]]:
            t = s_ = (np.zeros(1), np.zeros(1))
            for c0, c1 in bounds:
                hi, lo = _shift_by(x[:, c0:c1], m, beta, exact, s)
                t_c, s_c = _dd_sums(hi, lo, idx - c0, up, kind == "entropy")
                t, s_ = _add_dd(t, t_c), _add_dd(s_, s_c)
            return t, s_

        up = np.zeros(1, dtype=np.int32)
        if accurate and kind == "entropy":
            t, s_ = dd_pass(up)
            tiny = t[0] < 2.0**-900
            if tiny.any():
                t, s_ = dd_pass(up + 600)
            out[...] = _entropy_from_sums(t, s_, tiny)
            return
        t, s_plain = (np.zeros(1), np.zeros(1)), np.zeros(1)
        for c0, c1 in bounds:
            hi, lo = _shift_by(x[:, c0:c1], m, beta, exact, s)
            _, _, c, e = s.view(1, c1 - c0)
            np.exp(hi, out=e)
            if c0 <= idx[0] < c1:
                e[0, idx[0] - c0] = 0.0
            if lo is not None:
                np.multiply(e, lo, out=c)
            t = _add_dd(t, row_sum_dd(e, c if exact else None, work=s.work(1)[:, : c1 - c0]))
            if kind == "entropy":  # float16/32: plain float64 sums are ample
                np.fmax(hi, -1e300, out=hi)
                s_plain += np.sum(np.multiply(e, hi, out=hi), axis=1)
        if accurate:
            kappa = t[0] / ((1.0 + t[0]) * np.log1p(t[0]))
            tiny = t[0] < 2.0**-900
            if tiny.any() or (kappa > _KAPPA_FAST).any():
                t, _ = dd_pass(up + np.where(tiny, 600, 0).astype(np.int32))
            l_hi, l_lo = log1p_dd(np.where(tiny, 0.0, t[0]), np.where(tiny, 0.0, t[1]))
            if tiny.any():
                l_hi, l_lo = np.ldexp(t[0], -600), np.zeros(1)
        else:
            l_hi, l_lo = np.log1p(t[0] + t[1]), np.zeros(1)
        if kind == "entropy":
            out[...] = l_hi - s_plain / (1.0 + t[0])
        elif kind == "logsumexp":
            out[...] = _finish(kind, m, (l_hi, l_lo), None)
        elif kind == "cross_entropy":
            h_y, l_y = _shift_by(x[:, y], m, beta, exact, s)
            d_y = (h_y[:, 0], np.zeros(1) if l_y is None else l_y[:, 0])
            out[...] = _finish(kind, m, (l_hi, l_lo), d_y)
        else:
            for c0, c1 in bounds:
                hi, lo = _shift_by(x[:, c0:c1], m, beta, exact, s)
                _, _, c, e = s.view(1, c1 - c0)
                part = out[:, c0:c1]
                if kind == "softmax":
                    np.exp(hi, out=e)
                    if lo is None:
                        np.divide(e, 1.0 + t[0], out=part, casting="unsafe")
                    else:  # as _divide_by_partition
                        np.multiply(e, lo, out=c)
                        _scale_into(e, c, *_reciprocal(*t), s.work(1)[:, : c1 - c0], part)
                elif accurate:
                    _log_probs_into(kind, hi, lo, l_hi, l_lo, c, e, part)
                else:
                    np.subtract(hi, l_hi, out=part, casting="unsafe")


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


def run(
    kind: str,
    x: NDArray,
    beta: float | NDArray,
    out_dtype: np.dtype,
    target: NDArray | None = None,
) -> NDArray:
    """Apply ``kind`` to every row of the C-contiguous 2-D array ``x``.

    ``beta`` is one finite inverse temperature ``> 0`` or an array of them, one per row.

    Returns an array of ``out_dtype`` with shape ``x.shape`` (softmax,
    log_softmax), ``x.shape + (2,)`` (log_softmax_dd: float64 rows only, the
    log-probabilities as ``[..., 0] + [..., 1]``), or ``x.shape[:1]``
    (logsumexp, entropy, and cross_entropy: ``-log p_y`` for the class
    indices ``target``, one per row, without forming ``log p``).
    """
    rows, k = x.shape
    shape = {"softmax": (rows, k), "log_softmax": (rows, k), "log_softmax_dd": (rows, k, 2)}
    shape = shape.get(kind, (rows,))
    out = np.empty(shape, dtype=out_dtype)
    if rows == 0 or k == 0:
        # An empty row has no distribution: its log-partition is log 0.
        out.fill(-np.inf if kind == "logsumexp" else np.nan)
        return out
    if rows * k <= _small.MAX_ELEMENTS and kind in _small.KINDS:
        small = _small.run(kind, x, beta, out_dtype, target)
        if small is not None:
            return small
    exact = x.dtype == np.float64
    if k > _LONG_ROW:
        scratch = _Scratch(1, _CHUNK)
        for i in range(rows):
            y = None if target is None else target[i : i + 1]
            b = beta if np.ndim(beta) == 0 else beta[i : i + 1, None]
            _long_row(kind, x[i : i + 1], b, exact, scratch, out[i : i + 1], y)
        return out

    def body(start: int, stop: int, scratch: _Scratch | None) -> None:
        y = None if target is None else target[start:stop]
        b = beta if np.ndim(beta) == 0 else beta[start:stop, None]
        _block(kind, x[start:stop], b, exact, scratch, out[start:stop], y)

    for_blocks(rows, k, body, scratch=True)
    return out


def for_blocks(
    rows: int,
    k: int,
    body: Callable[[int, int, _Scratch | None], None],
    scratch: bool = False,
) -> None:
    """Call ``body(start, stop, scratch)`` on blocks of rows of about ``_BLOCK_ELEMENTS``.

    Blocks keep temporaries in the cache (and below the allocator's mmap
    threshold); inputs of ``_PARALLEL_ELEMENTS`` or more are shared among the
    cores. ``scratch`` gives each worker one :class:`_Scratch` for its blocks.
    """
    block_rows = max(1, _BLOCK_ELEMENTS // max(k, 1))
    starts = range(0, rows, block_rows)

    def work(chunk: range) -> None:
        buffers = _Scratch(min(block_rows, rows), k) if scratch else None
        for start in chunk:
            body(start, min(start + block_rows, rows), buffers)

    _threads.run_chunks(starts, work, rows * k >= _PARALLEL_ELEMENTS)
