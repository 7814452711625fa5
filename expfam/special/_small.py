"""The row engine for a few short rows: the same algorithm on Python floats.

A numpy call costs about a microsecond whatever its size, and the blocked
engine (:mod:`expfam.special._rows`) makes 30 to 150 of them per block: for
one row of three entries that is nearly all of the time. Inputs of at most
``MAX_ELEMENTS`` entries, all finite, are computed here instead, row by row
in Python floats, by the same steps with the same error bounds:

- ``d = beta (x - m)`` as an exact ``hi + lo`` (TwoSum, Dekker's product);
- ``e_j = exp(hi_j)`` by numpy (one call for all rows) with the correction
  ``e_j lo_j``, and ``t = sum_{j != k} e_j`` by :func:`row_sum_dd`, the
  blocks' summation replayed in the same order, so that a row gives the
  same bits here as in a batch;
- float64 log-domain kinds with ``kappa > _KAPPA_FAST`` (a dominant class)
  or a tiny ``t`` take every term from :func:`exp_parts`, the scalar
  transcription of :func:`expfam._core.dd.exp_dd_parts` (same table, same
  polynomial, relative error below ``2**-58``), summed with
  :func:`math.fsum`, and ``log1p(t)`` from :func:`log1p_dd`, that of
  :func:`expfam._core.dd.log1p_dd`; the entropy always sums its terms in
  double-double, as the blocks do; ``kl`` follows ``_kl._centred``.

These corrected sums agree with the blocks' to about ``2**-100``: a result
can differ from the blocks' in its last bit only where that rounding is a
near tie. Rows with a non-finite entry return None (the caller uses the
blocks).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from expfam._core import dd as _dd

# Inputs of at most this many entries are computed here (measured: a row of 3 takes
# 3-8 us here against 100-300 us in the blocks; the two cross near 200 entries).
MAX_ELEMENTS = 64
KINDS = frozenset({"softmax", "log_softmax", "logsumexp", "entropy", "cross_entropy"})
_KAPPA_FAST = 0.38  # as in expfam.special._rows._log_z
# kappa = t / ((1 + t) log1p t) falls with t, and kappa(8) = 0.405 > _KAPPA_FAST: rows of
# fewer than this many entries (t <= 8) always take every exp in double-double.
_ALL_DD = 10
_TINY = 2.0**-900
_T_HI, _T_LO = _dd.T_HI.tolist(), _dd.T_LO.tolist()
_EXP_TAIL = _dd._EXP_TAIL
_LOG1P_TAIL = _dd._LOG1P_TAIL
# 1/(n + 3)! for n >= 0: g(x) = e^x - 1 - x = x**2 (1/2 + x P(x)) for |x| <= 1 (also _kl's).
G_TAIL = tuple(1.0 / math.factorial(n + 3) for n in range(18))


def two_sum(a: float, b: float) -> tuple[float, float]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def two_prod(a: float, b: float) -> tuple[float, float]:
    p = a * b
    c = 134217729.0 * a
    a1 = c - (c - a)
    c = 134217729.0 * b
    b1 = c - (c - b)
    a2, b2 = a - a1, b - b1
    return p, ((a1 * b1 - p) + a1 * b2 + a2 * b1) + a2 * b2


def _horner(x: float, coeffs: tuple[float, ...]) -> float:
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * x + c
    return acc


def exp_parts(hi: float, lo: float) -> tuple[float, float, int]:
    """``exp(hi + lo) = (m_hi + m_lo) 2**n``: :func:`expfam._core.dd.exp_dd_parts`."""
    h = max(hi, -1100.0)
    n = round(h * _dd._INV_C)  # (round half to even, as numpy's rint)
    r, r_err = two_sum(h - n * _dd._C1, min(max(lo, -1.0), 1.0) - n * _dd._C2)
    q = r * r * _horner(r, _EXP_TAIL) + r_err * (1.0 + r) + r
    t_hi = _T_HI[n & 63]
    return t_hi, t_hi * q + _T_LO[n & 63] * (1.0 + r), n >> 6


def exp_dd(hi: float, lo: float) -> tuple[float, float]:
    m_hi, m_lo, n = exp_parts(hi, lo)
    return math.ldexp(m_hi, n), math.ldexp(m_lo, n)


def log1p_dd(t_hi: float, t_lo: float) -> tuple[float, float]:
    """``log(1 + t)`` of a double-double: :func:`expfam._core.dd.log1p_dd`."""
    if abs(t_hi) < 0.1:
        return t_hi, t_hi * t_hi * _horner(t_hi, _LOG1P_TAIL) + t_lo / (1.0 + t_hi)
    l0 = math.log1p(t_hi)
    e_hi, e_lo = exp_dd(l0, 0.0)
    a_hi, a_lo = two_sum(1.0, t_hi)
    residual = (e_hi - a_hi) + ((e_lo - a_lo) - t_lo)
    return l0, -residual / (e_hi + e_lo)


def _fsum_dd(terms: list[float]) -> tuple[float, float]:
    """The sum of ``terms`` as a double-double (both parts correctly rounded)."""
    s = math.fsum(terms)
    terms.append(-s)
    return s, math.fsum(terms)


def row_sum_dd(a: list[float], b: list[float] | None = None) -> tuple[float, float]:
    """:func:`expfam._core.dd.row_sum_dd` of one row, the same operations in the same order."""
    top = max(a)
    sigma = math.ldexp(1.0, min(math.frexp(top)[1] + len(a).bit_length() + 1, 1023))
    high = [0.0] * len(a) if top > 2.0**1000 else [(v + sigma) - sigma for v in a]
    rest = _sum_as_numpy([v - h for v, h in zip(a, high, strict=True)])
    if b is not None:
        rest += _sum_as_numpy(b)
    return two_sum(_sum_as_numpy(high), rest)


def _add_dd(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    s, err = two_sum(a[0], b[0])
    return two_sum(s, err + a[1] + b[1])


def run(
    kind: str, x: NDArray, beta: float, out_dtype: np.dtype, target: NDArray | None
) -> NDArray | None:
    """:func:`expfam.special._rows.run` for small inputs; None if an entry is not finite.

    ``exp`` and the plain sums are numpy's, one call for all rows, so that
    every row comes out bit for bit as in the blocks (batching a row does not
    change its value).
    """
    exact = x.dtype == np.float64
    values = x.tolist()
    if not all(map(math.isfinite, (v for row in values for v in row))):
        return None
    if type(beta) is float or np.ndim(beta) == 0:
        betas = [float(beta)] * len(values)
    else:
        betas = np.ravel(beta).tolist()
    tops = [(max(row), row.index(max(row))) for row in values]
    shifts = [
        [_shift(v, m, b, exact) for v in row]
        for row, (m, _), b in zip(values, tops, betas, strict=True)
    ]
    if exact and kind != "softmax" and (kind == "entropy" or len(values[0]) < _ALL_DD):
        e = corrections = [None] * len(values)  # every term's exp in double-double
    else:
        e = np.exp([[hi for hi, _ in row] for row in shifts]).tolist()
        corrections = []
        for e_row, row, (_, top) in zip(e, shifts, tops, strict=True):
            e_row[top] = 0.0
            if exact:
                corrections.append([v * lo for v, (_, lo) in zip(e_row, row, strict=True)])
    if kind == "softmax":
        out = []
        for i, (e_row, (_, top)) in enumerate(zip(e, tops, strict=True)):
            if exact:  # as _rows._divide_by_partition
                r_hi, r_lo = _reciprocal(*row_sum_dd(e_row, corrections[i]))
                e_row[top] = 1.0
                out.append(
                    [
                        v * r_hi + (c * r_hi + v * r_lo)
                        for v, c in zip(e_row, corrections[i], strict=True)
                    ]
                )
            else:
                z = 1.0 + _sum_as_numpy(e_row)
                e_row[top] = 1.0
                out.append([v / z for v in e_row])
    elif exact:
        out = [
            _exact_row(
                kind, m, top, row, e[i], corrections[i], None if target is None else int(target[i])
            )
            for i, (row, (m, top)) in enumerate(zip(shifts, tops, strict=True))
        ]
    else:
        t = np.add.reduce(e, axis=1)
        log_z = np.log1p(t)
        if kind == "entropy":  # log Z - sum_k e_k d_k / (1 + t)
            d = np.fmax([[hi for hi, _ in row] for row in shifts], -1e300)
            log_z -= np.add.reduce(np.multiply(e, d), axis=1) / (1.0 + t)
        out = [
            _plain_row(kind, m, row, lz, None if target is None else int(target[i]))
            for i, (lz, row, (m, _)) in enumerate(zip(log_z.tolist(), shifts, tops, strict=True))
        ]
    if out_dtype == np.float64:
        return np.array(out)
    with np.errstate(over="ignore"):  # float32 results beyond its range round to inf
        return np.array(out, dtype=out_dtype)


def _reciprocal(t_hi: float, t_lo: float) -> tuple[float, float]:
    """``1 / (1 + t)`` as a double-double: ``_rows._reciprocal``."""
    z_hi, z_err = two_sum(1.0, t_hi)
    r_hi = 1.0 / z_hi
    p, p_err = two_prod(r_hi, z_hi)
    return r_hi, (((1.0 - p) - p_err) - r_hi * (z_err + t_lo)) / z_hi


def _sum_as_numpy(row: list[float]) -> float:
    """The row's sum as numpy's row sums give it (in order for fewer than 8 terms)."""
    if len(row) >= 8:
        return float(np.add.reduce(row))
    total = 0.0
    for v in row:
        total += v
    return total


def _shift(v: float, m: float, beta: float, exact: bool) -> tuple[float, float]:
    """``beta (v - m) = hi + lo`` exactly (``lo = 0`` unless ``exact``); ``lo >= -1`` as in
    the blocks (also where ``v - m`` overflows and ``lo`` is NaN)."""
    if not exact:
        return (v - m) * beta, 0.0
    hi = v - m  # TwoSum, inline
    bb = hi - v
    lo = (v - (hi - bb)) + (-m - bb)
    if beta != 1.0:
        p, err = two_prod(hi, beta)
        hi, lo = p, err + beta * lo
    return hi, lo if lo >= -1.0 else -1.0


def _plain_row(kind: str, m: float, shifts, log_z: float, y: int | None):
    """Float16/32 rows: plain float64, as ``_rows._fast_block`` (``log_z``: the entropy
    for the entropy)."""
    if kind == "log_softmax":
        return [hi - log_z for hi, _ in shifts]
    if kind == "logsumexp":
        return m + log_z
    if kind == "cross_entropy":
        return log_z - shifts[y][0]
    return log_z


def _exact_row(
    kind: str,
    m: float,
    top: int,
    shifts,
    e: list[float] | None,
    c: list[float] | None,
    y: int | None,
):
    """Float64 log-domain rows, as ``_rows._accurate_block`` and ``_rows._entropy_block``
    (``e = exp(hi)``, ``c = e lo``, None below ``_ALL_DD`` entries; ``log_softmax_dd``
    gives pairs ``(hi, lo)``)."""
    if kind == "entropy":
        return _entropy(shifts, top)
    if e is None:  # fewer than _ALL_DD entries: kappa > _KAPPA_FAST whatever t
        t_hi, t_lo = _exp_sum(shifts, top, 0)
        tiny = t_hi < _TINY
        if tiny:
            t_hi, t_lo = _exp_sum(shifts, top, 600)
    else:
        t_hi, t_lo = _add_dd(row_sum_dd(e), (_sum_as_numpy(c), 0.0))
        kappa = t_hi / ((1.0 + t_hi) * math.log1p(t_hi)) if t_hi > 0.0 else 0.0
        tiny = t_hi < _TINY
        if tiny or kappa > _KAPPA_FAST:
            t_hi, t_lo = _exp_sum(shifts, top, 600 if tiny else 0)
    if tiny:
        l_hi, l_lo = math.ldexp(t_hi, -600), 0.0
    else:
        l_hi, l_lo = log1p_dd(t_hi, t_lo)
    if kind == "logsumexp":
        total, err = two_sum(m, l_hi)
        return total + (err + l_lo)
    if kind == "cross_entropy":
        total, err = two_sum(l_hi, -shifts[y][0])
        return total if math.isinf(total) else total + (err + (l_lo - shifts[y][1]))
    out = []
    for hi, lo in shifts:
        s, err = two_sum(hi, -l_hi)
        rest = 0.0 if math.isinf(s) else (err + lo) - l_lo
        out.append((s, rest) if kind == "log_softmax_dd" else s + rest)
    return out


def _exp_sum(shifts: list[tuple[float, float]], top: int, up: int) -> tuple[float, float]:
    """``t = sum_{j != top} exp(hi_j + lo_j) 2**up`` in double-double."""
    terms = []
    for j, (hi, lo) in enumerate(shifts):
        if j != top:
            m_hi, m_lo, n = exp_parts(hi, lo)
            terms += (math.ldexp(m_hi, n + up), math.ldexp(m_lo, n + up))
    return _fsum_dd(terms)


def _entropy(shifts: list[tuple[float, float]], top: int) -> float:
    """``H = log1p(t) + S / (1 + t)``, ``S = sum e_j (-d_j)``: ``_rows._entropy_block``."""
    for up in (0, 600):
        t_terms, s_terms = [], []
        for j, (hi, lo) in enumerate(shifts):
            if j == top:
                continue
            m_hi, m_lo, n = exp_parts(hi, lo)
            n += up
            t_terms += (math.ldexp(m_hi, n), math.ldexp(m_lo, n))
            d = min(-hi, 1100.0)
            p_hi, p_err = two_prod(m_hi, d)
            s_terms += (math.ldexp(p_hi, n), math.ldexp(p_err - m_hi * lo + m_lo * d, n))
        (t_hi, t_lo), (s_hi, s_lo) = _fsum_dd(t_terms), _fsum_dd(s_terms)
        if t_hi >= _TINY:
            break
    if up:  # 1 + t = 1 to the last digit: H = t + S, scaled by 2**600
        return max(math.ldexp((t_hi + s_hi) + (t_lo + s_lo), -600), 0.0)
    l_hi, l_lo = log1p_dd(t_hi, t_lo)
    a_hi, a_lo = two_sum(1.0, t_hi)
    a_lo += t_lo
    q_hi = s_hi / a_hi
    qa, qa_err = two_prod(q_hi, a_hi)
    q_lo = (((s_hi - qa) - qa_err) + s_lo - q_hi * a_lo) / a_hi
    total, err = two_sum(l_hi, q_hi)
    return max(total + ((err + l_lo) + q_lo), 0.0)


def kl(zp: NDArray, zq: NDArray) -> NDArray | None:
    """``KL(p || q)`` along float64 rows by ``_kl._centred``, on Python floats.

    None unless every logit is finite and no row needs the far branches of
    ``_kl._centred`` (``x > 600`` or ``log p + x > 700``).
    """
    out = []
    for row_p, row_q in zip(zp.tolist(), zq.tolist(), strict=True):
        if not all(map(math.isfinite, row_p + row_q)):
            return None
        value = _kl_row(row_p, row_q)
        if value is None:
            return None
        out.append(value)
    return np.array(out)


def _kl_row(zp: list[float], zq: list[float]) -> float | None:
    m = max(zp)
    top = zp.index(m)
    shifts = [_shift(v, m, 1.0, True) for v in zp]
    e = c = None
    if len(zp) >= _ALL_DD:
        e = np.exp([hi for hi, _ in shifts]).tolist()
        e[top] = 0.0
        c = [v * lo for v, (_, lo) in zip(e, shifts, strict=True)]
    lp_dd = _exact_row("log_softmax_dd", m, top, shifts, e, c, None)
    parts = [exp_parts(h, lo) for h, lo in lp_dd]
    m_dd = [(*two_sum(m_hi, m_lo), n) for m_hi, m_lo, n in parts]
    p = [math.ldexp(m_hi, n) for m_hi, _, n in m_dd]
    d = [two_sum(a, -b) for a, b in zip(zp, zq, strict=True)]
    if not math.isfinite(max(d)[0] - min(d)[0]):  # beyond the float range: _kl's limits
        return None
    mu = d[p.index(max(p))][0]
    a = [two_sum(mu, -h) for h, _ in d]
    low = [a_err - lo for (_, a_err), (_, lo) in zip(a, d, strict=True)]
    centre = _sum_as_numpy([pj * (aj + lj) for pj, (aj, _), lj in zip(p, a, low, strict=True)])
    x = [two_sum(aj, lj - centre) for (aj, _), lj in zip(a, low, strict=True)]
    r = _sum_as_numpy([pj * xj for pj, (xj, _) in zip(p, x, strict=True)])
    r += _sum_as_numpy([pj * xl for pj, (_, xl) in zip(p, x, strict=True)])
    lp = [h + lo for h, lo in lp_dd]
    if any(xj > 600.0 or lpj + xj > 700.0 for (xj, _), lpj in zip(x, lp, strict=True)):
        return None
    expm1 = np.expm1([xj for xj, _ in x]).tolist()
    t_hi, t_lo = [], []
    for (m_hi, m_lo, n), (xj, xl), em1 in zip(m_dd, x, expm1, strict=True):
        g_hi, g_lo = g_dd(xj)
        g_lo = g_lo + em1 * xl
        u_hi, u_err = two_prod(m_hi, g_hi)
        t_hi.append(math.ldexp(u_hi, n))
        t_lo.append(math.ldexp(u_err + m_hi * g_lo + m_lo * g_hi, n))
    big_g, big_g_lo = row_sum_dd(t_hi, t_lo)
    l_hi, l_lo = log1p_dd(big_g, big_g_lo)
    y = r / (1.0 + big_g)
    h = y * y * (y / 3.0 - 0.5) if abs(y) < 1e-4 else float(np.log1p(y)) - y
    return max(l_hi + ((l_lo - r * big_g / (1.0 + big_g)) + h), 0.0)


def g_dd(x: float) -> tuple[float, float]:
    """``e^x - 1 - x`` as a normalized double-double: ``expfam.special._kl.g_dd``."""
    if abs(x) <= 1.0:
        p_hi, p_lo = two_sum(0.5, x * _horner(x, G_TAIL))
        s_hi, s_lo = two_prod(x, x)
        h, err = two_prod(s_hi, p_hi)
        return two_sum(h, err + s_hi * p_lo + s_lo * p_hi)
    e_hi, e_lo = exp_dd(x, 0.0)
    c_hi, c_lo = two_sum(-1.0, -x)
    h, err = two_sum(e_hi, c_hi)
    return two_sum(h, err + e_lo + c_lo)
