"""KL divergence between categoricals by a centred series that cannot go negative.

With ``d = z_p - z_q`` and any centre ``mu``, ``x_k = mu - d_k`` gives

    KL(p || q) = log E_p[e^x] - E_p[x] = log1p(G + r) - r,
    G = E_p[g(x)],  g(x) = e^x - 1 - x >= 0,  r = E_p[x],

exactly (plus ``-log q(S)`` when ``q`` has mass off the support ``S`` of
``p``). Every term of ``G`` is non-negative, so there is no cancellation as
``q -> p``, where ``sum p log p - sum p log q`` cancels to noise. ``x`` is
carried in double-double (``exp`` in ``g`` amplifies the rounding of large
``x``), ``g``, the weights ``p`` and the sum in double-double too
(:mod:`expfam._core.dd`), and ``r`` is removed analytically, since the centring
residue can exceed ``G`` itself.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from expfam._core import dd as _dd
from expfam.special import _rows, _small

# 1/(n + 3)! for n >= 0: g(x) = x**2 (1/2 + x P(x)), enough terms for |x| <= 1.
_G_TAIL = _small.G_TAIL


def g_dd(x: NDArray) -> tuple[NDArray, NDArray]:
    """``g(x) = e^x - 1 - x`` as a normalized ``hi + lo``, relative error about ``2**-54``.

    ``x**2 (1/2 + x P(x))`` for ``|x| <= 1`` (Taylor), ``e^x + (-1 - x)`` in
    double-double beyond, where the cancellation is at most a factor 6.5.
    """
    g_hi, g_lo = np.zeros_like(x), np.zeros_like(x)
    small = np.abs(x) <= 1.0
    xs = x[small]
    p_hi, p_lo = _dd.two_sum(np.full_like(xs, 0.5), xs * _dd_horner(xs))
    s_hi, s_lo = _dd.two_prod(xs, xs)
    h, err = _dd.two_prod(s_hi, p_hi)
    g_hi[small], g_lo[small] = h, err + s_hi * p_lo + s_lo * p_hi
    if not small.all():
        xb = x[~small]
        e_hi, e_lo = _dd.exp_dd(xb)
        c_hi, c_lo = _dd.two_sum(np.full_like(xb, -1.0), -xb)
        h, err = _dd.two_sum(e_hi, c_hi)
        g_hi[~small], g_lo[~small] = h, err + e_lo + c_lo
    return _dd.two_sum(g_hi, g_lo)


def _dd_horner(x: NDArray) -> NDArray:
    acc = np.full_like(x, _G_TAIL[-1])
    for c in reversed(_G_TAIL[:-1]):
        acc *= x
        acc += c
    return acc


def kl_rows(zp: NDArray, zq: NDArray, scratch: _rows._Scratch | None = None) -> NDArray:
    """KL along the rows of logits ``zp``, ``zq`` (shape (R, K)), as float64.

    Float16/32 pairs take :func:`_centred_fast` (plain float64 arithmetic,
    far more precise than their output) on the rows it covers; float64 rows,
    and the rest, the double-double :func:`_centred` and the exact limits.
    ``scratch`` holds the work arrays of the float16/32 path (fresh ones
    would fault their pages in on every block).
    """
    with np.errstate(all="ignore"):
        if zp.dtype != np.float64 and zq.dtype != np.float64 and zp.shape[1] > 0:
            scratch = scratch or _rows._Scratch(*zp.shape)
            out, done = _plain(zp, zq, *scratch.view(zp.shape[0])[:3])
            if not done.all():
                zp, zq = zp[~done].astype(np.float64), zq[~done].astype(np.float64)
                centred, near = _centred_fast(zp, zq)
                if not near.all():
                    centred[~near] = _kl_rows_exact(zp[~near], zq[~near])
                out[~done] = centred
            return out
        zp, zq = zp.astype(np.float64), zq.astype(np.float64)
        if zp.shape[1] > 0 and zp.size <= _small.MAX_ELEMENTS:
            small = _small.kl(zp, zq)
            if small is not None:
                return small
        # The double-double series holds some 20 arrays of its rows at once: a few rows at a time.
        step = max(1, _EXACT_ELEMENTS // max(zp.shape[1], 1))
        if len(zp) <= step:
            return _kl_rows_exact(zp, zq)
        return np.concatenate(
            [_kl_rows_exact(zp[i : i + step], zq[i : i + step]) for i in range(0, len(zp), step)]
        )


_EXACT_ELEMENTS = 1 << 16


_U = 2.0**-53


def _plain(
    zp: NDArray, zq: NDArray, a: NDArray, b: NDArray, e: NDArray
) -> tuple[NDArray, NDArray]:
    """``KL = E_p[a - b] - log S_a + log S_b`` in float64 for float16/32 rows, and where it holds.

    ``a = z_p - max z_p``, ``b = z_q - max z_q``, ``S_a = sum e^a``,
    ``S_b = sum e^b``: two ``exp`` passes. With ``A = max |a|``,
    ``B = max |b|`` and ``exp`` within 4 float64 ULPs, the computed value is
    within ``E = u ((A + B)(A + B + log2 K + 30) + 2 (A + B + log2 K + 20))``
    (``u = 2**-53``; pairwise sums). ``a``, ``b``, ``e`` are work arrays
    shaped like ``zp``. ``done`` marks the rows where
    ``E <= 2**-27 KL``: there the float32 result is within 0.5 + 1/8 ULP.
    Elsewhere (``q`` near ``p``, where the difference cancels, or a
    non-finite logit) the centred series takes over.
    """
    k = zp.shape[1]
    top_p, top_q = np.max(zp, axis=1), np.max(zq, axis=1)
    spread = np.subtract(top_p, np.min(zp, axis=1), dtype=np.float64)
    spread += np.subtract(top_q, np.min(zq, axis=1), dtype=np.float64)
    np.subtract(zp, top_p[:, None], out=a, dtype=np.float64)
    np.subtract(zq, top_q[:, None], out=b, dtype=np.float64)
    np.exp(a, out=e)
    s_a = np.sum(e, axis=1)
    np.subtract(a, b, out=a)
    np.multiply(a, e, out=a)
    mean_d = np.sum(a, axis=1) / s_a
    np.exp(b, out=b)
    kl = mean_d - np.log(s_a) + np.log(np.sum(b, axis=1))
    log_k = math.log2(k)
    bound = _U * (spread * (spread + log_k + 30.0) + 2.0 * (spread + log_k + 20.0))
    done = bound <= 2.0**-27 * kl  # False on NaN and infinities
    return np.maximum(kl, 0.0), done


def _kl_rows_exact(zp: NDArray, zq: NDArray) -> NDArray:
    with np.errstate(all="ignore"):
        nan_rows = np.isnan(zp).any(axis=1) | np.isnan(zq).any(axis=1)
        support = zp > -np.inf
        regular = np.isfinite(zp).any(axis=1) & ~np.isposinf(zp).any(axis=1) & ~nan_rows
        regular &= ~np.isposinf(zq).any(axis=1) & ~(support & (zq == -np.inf)).any(axis=1)
        # The centred series needs the spread of d = zp - zq on the support in range;
        # beyond it the divergence is beyond the float range or far from 0.
        d = np.where(support, zp - zq, np.nan)
        spread = np.fmax.reduce(d, axis=1, initial=-np.inf) - np.fmin.reduce(
            d, axis=1, initial=np.inf
        )
        regular &= np.isfinite(spread)
        out = np.empty(len(zp))
        if regular.any():
            out[regular] = _centred(zp[regular], zq[regular])
        if not regular.all():
            # The generic formula, exact at the limits (+inf logits, q = 0 < p).
            lp = _rows.run("log_softmax", zp[~regular], 1.0, np.dtype(np.float64))
            lq = _rows.run("log_softmax", zq[~regular], 1.0, np.dtype(np.float64))
            terms = np.where(lp > -np.inf, np.exp(lp) * (lp - lq), 0.0)
            out[~regular] = np.sum(terms, axis=1)
        out[nan_rows] = np.nan
        if zp.shape[1] == 0:  # no classes: no distribution
            out[:] = np.nan
    return out


# Below this |x|, g(x) = x**2 (1/2 + x/6) to a relative 2**-43; above it expm1(x) - x
# loses at most 2 u / |x| < 2**-31 relative: both far below float32's 2**-24.
_G_SERIES = 2.0**-20


def _centred_fast(zp: NDArray, zq: NDArray) -> tuple[NDArray, NDArray]:
    """The centred series in plain float64, for float16/32 logits; returns ``(kl, done)``.

    Every step has a relative error of a few float64 ULPs (``x = mu - d`` is
    centred on ``E_p[d]``, every term of ``G`` is non-negative, and
    ``r = E_p[x]`` is removed as in :func:`_centred`), so the float64 result
    rounds to within 1 ULP of float32 (0.5 for the rounding, the rest far
    below). ``done`` is False on the rows left to the exact path: a
    non-finite logit, a probability that could underflow (``log p < -700``),
    or ``|x| > 600``.
    """
    rows = np.arange(zp.shape[0])
    mode = np.argmax(zp, axis=1)
    a = zp - zp[rows, mode][:, None]
    p = np.exp(a)
    total = np.sum(p, axis=1)
    p /= total[:, None]
    done = np.isfinite(total) & (np.min(a, axis=1) - np.log(total) > -700.0)
    x = zq - zp  # x = mu - d with d = zp - zq, mu = d at the mode, centred on E_p[x]
    x -= x[rows, mode][:, None]
    x -= np.sum(p * x, axis=1)[:, None]
    done &= np.max(np.abs(x), axis=1) <= 600.0  # (NaN compares False)
    g = np.expm1(x)
    g -= x
    small = np.abs(x) < _G_SERIES
    g[small] = (x * x * (0.5 + x / 6.0))[small]
    big_g = np.sum(p * g, axis=1)
    r = np.sum(p * x, axis=1)
    y = r / (1.0 + big_g)
    kl = np.log1p(big_g) - r * big_g / (1.0 + big_g) + (np.log1p(y) - y)
    return np.maximum(kl, 0.0), done


def _off_support(zq: NDArray, support: NDArray) -> NDArray:
    """``-log q(S) = softplus(lse(zq off S) - lse(zq on S))``, the differences in double-double.

    Zero on rows where ``S`` holds every class.
    """
    out = np.zeros(len(zq))
    some = (~support).any(axis=1)
    if not some.any():
        return out
    parts = []
    for mask in (~support[some], support[some]):
        z = np.where(mask, zq[some], -np.inf)
        k = np.argmax(z, axis=1)[:, None]
        lp = _rows.run("log_softmax_dd", z, 1.0, np.dtype(np.float64))
        # lse(z) = z_k - log p_k at the mode k, with -log p_k = l_hi + l_lo.
        parts.append(
            (
                np.take_along_axis(z, k, 1)[:, 0],
                -lp[..., 0][np.arange(len(z)), k[:, 0]],
                -lp[..., 1][np.arange(len(z)), k[:, 0]],
            )
        )
    (m_out, l_out, l_out_lo), (m_in, l_in, l_in_lo) = parts
    d_hi, d_err = _dd.two_sum(m_out, -m_in)
    l_hi, l_err = _dd.two_sum(l_out, -l_in)
    d_hi, d_err2 = _dd.two_sum(d_hi, l_hi)
    out[some] = np.add(*_dd.softplus_dd(d_hi, d_err + d_err2 + l_err + (l_out_lo - l_in_lo)))
    return out


def _centred(zp: NDArray, zq: NDArray) -> NDArray:
    """The centred series, for rows where ``q > 0`` on the support of ``p``.

    ``p`` comes from double-double log-probabilities as ``(m_hi + m_lo) 2**n``
    (not ``exp(lp)``, which would turn the absolute rounding of ``lp`` into a
    relative error ``|lp| u``), and the terms ``p_k g(x_k)`` are formed before
    the scaling by ``2**n``, so probabilities below the normal range keep
    their digits.
    """
    lp_dd = _rows.run("log_softmax_dd", zp, 1.0, np.dtype(np.float64))
    lp = lp_dd[..., 0] + lp_dd[..., 1]
    m_hi, m_lo, n = _dd.exp_dd_parts(lp_dd[..., 0], lp_dd[..., 1])
    m_hi, m_lo = _dd.two_sum(m_hi, m_lo)  # normalized: no m_lo * g_lo term needed below
    p = np.ldexp(m_hi, n)
    support = np.isfinite(zp)
    # d = zp - zq exactly, as hi + lo; 0 off the support of p.
    hi, lo = _dd.two_sum(zp, -zq)
    hi = np.where(support, hi, 0.0)
    lo = np.where(support, lo, 0.0)
    # x = mu - d - r1 as x + x_lo, mu = d at the mode of p (x = 0 exactly when d is constant).
    rows = np.arange(len(p))
    mu = hi[rows, np.argmax(p, axis=1)][:, None]
    a, a_err = _dd.two_sum(mu, -hi)
    low = a_err - lo
    low -= np.sum(p * (a + low), axis=1, keepdims=True)
    x, x_lo = _dd.two_sum(a, low)
    x = np.where(support, x, 0.0)
    x_lo = np.where(support, x_lo, 0.0)
    r = np.sum(p * x, axis=1) + np.sum(p * x_lo, axis=1)
    # p_k g(x_k) with g(x + x_lo) = g(x) + expm1(x) x_lo; in logs where g would pass
    # e**600 (Dekker's split in two_prod needs factors below 2**996 = e**690).
    far = support & (x > 600.0)
    x_near = np.where(far, 0.0, x)
    g_hi, g_lo = g_dd(x_near)
    g_lo = g_lo + np.expm1(x_near) * x_lo
    u_hi, u_err = _dd.two_prod(m_hi, g_hi)
    t_hi = np.ldexp(u_hi, n)
    t_lo = np.ldexp(u_err + m_hi * g_lo + m_lo * g_hi, n)
    if far.any():
        # p_k g(x_k) = exp(log p_k + x_k) (1 - (1 + x_k) e^-x_k): both logs can be far
        # from 0 with a sum near 0 (a class that p makes negligible and q does not), so
        # the sum is formed in double-double; the last factor is 1 to e^-590.
        s_hi, s_err = _dd.two_sum(lp_dd[..., 0][far], x[far])
        t_hi[far], t_lo[far] = _dd.exp_dd(s_hi, s_err + lp_dd[..., 1][far] + x_lo[far])
    # Where some p_k e^{x_k} > e^700, KL > 700: the generic formula is accurate, and G overflows.
    large = (support & (lp + x > 700.0)).any(axis=1)
    t_hi[large] = 0.0
    t_lo[large] = 0.0
    big_g, big_g_lo = _dd.row_sum_dd(t_hi, t_lo)
    # log1p(G + r) - r without rounding G into r (r can exceed G):
    # = log1p(G) - r G / (1 + G) + h(y), h(y) = log1p(y) - y, y = r / (1 + G).
    l_hi, l_lo = _dd.log1p_dd(big_g, big_g_lo)
    y = r / (1.0 + big_g)
    h = np.where(np.abs(y) < 1e-4, y * y * (y / 3.0 - 0.5), np.log1p(y) - y)
    kl = l_hi + ((l_lo - r * big_g / (1.0 + big_g)) + h)
    if large.any():
        lq = _rows.run("log_softmax", zq[large], 1.0, np.dtype(np.float64))
        kl[large] = np.sum(np.where(support[large], p[large] * (lp[large] - lq), 0.0), axis=1)
    return np.maximum(kl, 0.0) + _off_support(zq, support)
