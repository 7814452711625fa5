"""Double-double arithmetic on numpy arrays: the extra digits behind the 1-ULP kernels.

A value is carried as an unevaluated sum ``hi + lo`` of two float64 arrays.
Everything here is vectorized (no Python loop over elements) and uses only
operations whose rounding is known, so each function states its accuracy:

- :func:`two_sum`, :func:`two_prod`: error-free transformations (Knuth's
  TwoSum, Dekker's product with Veltkamp's split); exact.
- :func:`exp_dd`: ``exp(hi + lo)`` with relative error below ``2**-58``
  (float64's ``exp`` is off by up to 0.65 ULP, ``2**-53.6``).
- :func:`row_sum_dd`: row sums of non-negative terms with relative error
  below ``2**-60`` for rows of up to ``2**20`` terms, by extracting the
  high parts of all terms on one grid, where their sum is exact (Rump, Ogita
  and Oishi, "Accurate floating-point summation", SIAM J. Sci. Comput. 2008).
- :func:`log1p_dd`: ``log(1 + t)`` of a double-double ``t > -1``, relative
  error below ``2**-56``; :func:`log_dd`, ``log(s)``, absolute error below
  ``2**-57``.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
from numpy.typing import NDArray

# log 2 in two parts (fdlibm): LN2_HI has 32 significant bits, so n * LN2_HI / 64
# is exact for |n| < 2**21 and x - n * LN2_HI / 64 is exact near x.
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
_C1 = LN2_HI / 64
_C2 = LN2_LO / 64
_INV_C = 64 / math.log(2.0)
_SPLITTER = 134217729.0  # 2**27 + 1


def _table() -> tuple[NDArray, NDArray]:
    """``2**(j/64) = T_HI[j] + T_LO[j]`` to about 2**-106, j = 0..63 (decimal, 40 digits)."""
    hi, lo = [], []
    with localcontext() as ctx:
        ctx.prec = 40
        ln2 = Decimal(2).ln()
        for j in range(64):
            value = (ln2 * j / 64).exp()
            h = float(value)
            hi.append(h)
            lo.append(float(value - Decimal(h)))
    return np.array(hi), np.array(lo)


T_HI, T_LO = _table()
# 1/k! for k = 2..6: exp(r) - 1 - r = r**2 (1/2 + r/6 + ...), |r| <= log(2)/128.
_EXP_TAIL = tuple(1.0 / math.factorial(k) for k in range(2, 7))
# (-1)**(k+1) / k for k = 2..21: log1p(t) - t for t < 0.1.
_LOG1P_TAIL = tuple((-1.0) ** (k + 1) / k for k in range(2, 22))


def two_sum(a: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
    """``s + err = a + b`` exactly, with ``s = fl(a + b)`` (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: NDArray) -> tuple[NDArray, NDArray]:
    c = _SPLITTER * a
    high = c - (c - a)
    return high, a - high


def two_prod(a: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
    """``p + err = a * b`` exactly, ``p = fl(a * b)`` (Dekker; for ``|a|, |b| < 2**996``)."""
    p = a * b
    a1, a2 = _split(a)
    b1, b2 = _split(b)
    return p, ((a1 * b1 - p) + a1 * b2 + a2 * b1) + a2 * b2


def _horner(x: NDArray, coeffs: tuple[float, ...]) -> NDArray:
    acc = np.full_like(x, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc *= x
        acc += c
    return acc


def exp_dd_parts(hi: NDArray, lo: NDArray | None = None) -> tuple[NDArray, NDArray, NDArray]:
    """``exp(hi + lo) = (m_hi + m_lo) * 2**n`` with ``m_hi = 2**(j/64)``, ``|m_lo| < 0.006 m_hi``.

    Returned unscaled so that a caller can multiply before scaling (products
    with subnormal results keep their digits). ``hi`` is clamped below at
    -1100 (``exp`` is 0 there); NaN becomes -1100 too, callers handle NaN rows.
    Relative error below ``2**-58``.
    """
    h = np.fmax(hi, -1100.0)
    n = np.rint(h * _INV_C)
    r_hi = h - n * _C1  # exact (Cody-Waite)
    # |lo| <= ulp(hi) / 2 < 1e-13 wherever exp(hi) > 0; clamp it (and NaN) elsewhere.
    r_lo = -n * _C2 if lo is None else np.fmin(np.fmax(lo, -1.0), 1.0) - n * _C2
    r, r_err = two_sum(r_hi, r_lo)
    # exp(r + r_err) - 1 = r + [r**2 P(r) + r_err (1 + r)], |r| <= 0.0055.
    q = r * r * _horner(r, _EXP_TAIL) + r_err * (1.0 + r)
    q += r
    k = n.astype(np.int64)
    j = k & 63
    t_hi = np.take(T_HI, j)
    t_lo = np.take(T_LO, j)
    m_lo = t_hi * q + t_lo * (1.0 + r)
    return t_hi, m_lo, (k >> 6).astype(np.int32)


def exp_dd(hi: NDArray, lo: NDArray | None = None) -> tuple[NDArray, NDArray]:
    """``exp(hi + lo)`` as ``e_hi + e_lo`` (unnormalized), relative error below ``2**-58``."""
    m_hi, m_lo, n = exp_dd_parts(hi, lo)
    return np.ldexp(m_hi, n), np.ldexp(m_lo, n)


def row_sum_dd(
    a: NDArray, b: NDArray | None = None, work: NDArray | None = None
) -> tuple[NDArray, NDArray]:
    """Row sums of ``a + b`` (2-D, ``a >= 0``, ``|b| <= |a|``) as ``s_hi + s_lo``.

    The high parts of ``a`` on the grid of ``sigma = 2**ceil(log2(K max a)) * 2``
    sum exactly in any order; the remainders are below ``ulp(sigma)`` each,
    so their rounded sum, and that of ``b``, add errors below
    ``2**-104 K**2 log2(K)`` relative to the row's maximum. ``work``, an
    array shaped like ``a``, saves the temporaries.
    """
    k = a.shape[1]
    top = np.max(a, axis=1)
    _, e = np.frexp(top)
    sigma = np.ldexp(1.0, np.minimum(e + int(k).bit_length() + 1, 1023))[:, None]
    high = np.add(a, sigma, out=work)
    np.subtract(high, sigma, out=high)
    huge = top > 2.0**1000  # no grid above the row: plain sums (they are near overflow)
    if huge.any():
        high[huge] = 0.0
    exact = np.sum(high, axis=1)
    rest = np.sum(np.subtract(a, high, out=high), axis=1)
    if b is not None:
        rest += np.sum(b, axis=1)
    return two_sum(exact, rest)


def log1p_dd(t_hi: NDArray, t_lo: NDArray) -> tuple[NDArray, NDArray]:
    """``log(1 + t)`` for a double-double ``t = t_hi + t_lo > -1``, as ``l_hi + l_lo``.

    A series for ``|t| < 0.1``; elsewhere ``log1p(t_hi)`` refined by one
    Newton step on ``exp(l) = 1 + t`` with :func:`exp_dd`. Relative error
    below ``2**-56``.
    """
    t_hi, t_lo = np.asarray(t_hi, dtype=np.float64), np.asarray(t_lo, dtype=np.float64)
    small = np.abs(t_hi) < 0.1
    l_hi, l_lo = t_hi.copy(), np.zeros_like(t_hi)
    if small.any():
        ts = t_hi[small]
        l_lo[small] = ts * ts * _horner(ts, _LOG1P_TAIL) + t_lo[small] / (1.0 + ts)
    if not small.all():
        big = ~small
        l0 = np.log1p(t_hi[big])
        e_hi, e_lo = exp_dd(l0)
        a_hi, a_lo = two_sum(np.ones_like(l0), t_hi[big])
        residual = (e_hi - a_hi) + ((e_lo - a_lo) - t_lo[big])
        l_hi[big] = l0
        l_lo[big] = -residual / (e_hi + e_lo)
    return l_hi, l_lo


def log_dd(s_hi: NDArray, s_lo: NDArray) -> tuple[NDArray, NDArray]:
    """``log(s)`` for a double-double ``s > 0``, as ``l_hi + l_lo``.

    ``log(s_hi)`` refined by one Newton step on ``exp(l) = s`` with
    :func:`exp_dd`: absolute error below ``2**-57``, so relative error below
    ``2**-56`` wherever ``|log s| > 1/2`` (near ``s = 1`` use :func:`log1p_dd`).
    """
    l0 = np.log(s_hi)
    e_hi, e_lo = exp_dd(l0)
    residual = (s_hi - e_hi) + (s_lo - e_lo)
    return l0, residual / (e_hi + e_lo)


def softplus_dd(w_hi: NDArray, w_lo: NDArray | float = 0.0) -> tuple[NDArray, NDArray]:
    """``log(1 + e^w)`` for a double-double ``w``, as ``max(w, 0) + log1p(e^{-|w|})``.

    Relative error below ``2**-55`` (finite ``w``).
    """
    sign = np.where(w_hi > 0, 1.0, -1.0)
    e_hi, e_lo = two_sum(*exp_dd(-sign * w_hi, -sign * w_lo))
    l_hi, l_lo = log1p_dd(e_hi, e_lo)
    positive = w_hi > 0
    top, err = two_sum(np.where(positive, w_hi, 0.0), l_hi)
    return top, err + l_lo + np.where(positive, w_lo, 0.0)


# 1/(n + 3)! for n >= 0: g(x) = x**2 (1/2 + x P(x)), enough terms for |x| <= 1.
_G_TAIL = tuple(1.0 / math.factorial(n + 3) for n in range(18))


def g_dd(x: NDArray) -> tuple[NDArray, NDArray]:
    """``g(x) = e^x - 1 - x >= 0`` as a normalized ``hi + lo``, relative error about ``2**-54``.

    The term of the centred KL series (the numpy copy of the compiled engine's,
    for the Dask tier's split class axis): ``x**2 (1/2 + x P(x))`` for
    ``|x| <= 1`` (Taylor), ``e^x + (-1 - x)`` in double-double beyond, where
    the cancellation is at most a factor 6.5.
    """
    g_hi, g_lo = np.zeros_like(x), np.zeros_like(x)
    small = np.abs(x) <= 1.0
    xs = x[small]
    p_hi, p_lo = two_sum(np.full_like(xs, 0.5), xs * _horner(xs, _G_TAIL))
    s_hi, s_lo = two_prod(xs, xs)
    h, err = two_prod(s_hi, p_hi)
    g_hi[small], g_lo[small] = h, err + s_hi * p_lo + s_lo * p_hi
    if not small.all():
        xb = x[~small]
        e_hi, e_lo = exp_dd(xb)
        c_hi, c_lo = two_sum(np.full_like(xb, -1.0), -xb)
        h, err = two_sum(e_hi, c_hi)
        g_hi[~small], g_lo[~small] = h, err + e_lo + c_lo
    return two_sum(g_hi, g_lo)
