"""KL divergence between categoricals by a centred series that cannot go negative.

With ``d = z_p - z_q`` and any centre ``mu``, ``x_k = mu - d_k`` gives

    KL(p || q) = log E_p[e^x] - E_p[x] = log1p(G + r) - r,
    G = E_p[g(x)],  g(x) = e^x - 1 - x >= 0,  r = E_p[x],

exactly (plus ``-log q(S)`` when ``q`` has mass off the support ``S`` of
``p``). Every term of ``G`` is non-negative, so there is no cancellation as
``q -> p``, where ``sum p log p - sum p log q`` cancels to noise. The
compiled kernel (``_engine.kl``, one row per thread, long rows by segments)
carries ``d`` and ``x`` in double-double (``exp`` in ``g`` amplifies the
rounding of large ``x``), takes ``p = e^{z_p - m} / Z`` as
``(m_hi + m_lo) 2**n`` (``exp`` in double-double, ``1 / Z`` in double-double,
the products formed before the scaling, so that probabilities below the
normal range keep their digits), sums ``G`` in
double-double, and removes ``r`` analytically (the centring residue can
exceed ``G`` itself):
``KL = log1p(G) - r G / (1 + G) + h(y)``, ``h(y) = log1p(y) - y``,
``y = r / (1 + G)``. Where some ``p_k e^{x_k}`` passes ``e^700`` (so
``KL > 700`` and ``G`` would overflow) it sums ``p_k (log p_k - log q_k)``,
which is accurate there.

The kernel makes three passes over a row (``_engine.c``, ``seg_kl_*``), each
by blocks of 256 classes in 8 fixed lanes of compensated sums (class ``j``
of a segment in lane ``j % 8``), so that every instruction set, thread
count and the scalar build give the same bits: the flags with the row
maximum; ``Z_p - 1`` in double-double with the centre (which must be exact to
a few ULP of ``mu - d``: the formula's cancellation grows with ``r``); and the
sums ``r`` and ``G``. Both ways of ``g`` are computed for a block and one is
taken per class (the exponential is skipped in a block whose classes all
take the series), and the correction ``g(x + x_lo) = g(x) + expm1(x) x_lo``
takes ``expm1(x) = (g_hi + x) + g_lo`` (off by about ``2**-54 g(x)``, times
``|x_lo| <= u |x|``: far below ``u g(x)`` for ``|x| < 2**50``). Rows of up
to 8192 classes keep their exponentials from the pass of ``Z_p`` to the sums.

Float32 rows (float16 too, read as float32) first try a way without
double-double (``kl_row32`` in ``_engine.c``), which their bound of 2 float32
ULP leaves room for: the flags pass also sums ``w_j = exp(z_p,j - ref)`` and
``w_j a_j`` (``ref`` the first class of the support, ``a_j = mu - d_j``), and
one more pass sums ``w_j g(x_j)``, ``w_j x_j`` and the four sums of a
first-order bound on the error (each input's error times the derivative of
``KL = log(sum p e^x) - sum p x`` in it, with the second order near ``p = q``);
``KL`` is kept where the bound is at most ``2**-27 KL``, every ``d_j`` is exact,
every ``|z_p,j - ref| <= 600`` and every ``x_j <= 500``; other rows take the
double-double way. The kernel's comment above ``kl_row32`` gives the bound term
by term.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from expfam._core import dd as _dd
from expfam._core import threads as _threads
from expfam.special import _engine, _rows

_DONE, _LIMIT, _OFF_SUPPORT = 0, 1, 2


def kl_rows(zp: NDArray, zq: NDArray) -> NDArray:
    """KL along the rows of logits ``zp``, ``zq`` (shape (R, K)), as float64.

    Float16/32 pairs are read as float32, anything else as float64; a row
    with no classes has divergence 0 (the empty sum).
    """
    dtype = np.result_type(zp.dtype, zq.dtype)
    dtype = np.float32 if dtype in (np.float16, np.float32) else np.float64
    zp = np.ascontiguousarray(zp, dtype=dtype)
    zq = np.ascontiguousarray(zq, dtype=dtype)
    out = np.zeros(zp.shape[0])
    if zp.shape[1] == 0:
        return out
    status = np.zeros(zp.shape[0], dtype=np.uint8)
    _engine.kl(zp, zq, out, status, _threads.get_num_threads())
    if not status.any():  # every row done by the kernel
        return out
    limits = status == _LIMIT
    if limits.any():
        out[limits] = _limits(zp[limits].astype(np.float64), zq[limits].astype(np.float64))
    off = status == _OFF_SUPPORT
    if off.any():
        zq_off = zq[off].astype(np.float64)
        out[off] += _off_support(zq_off, zp[off] > -np.inf)
    return out


def _limits(zp: NDArray, zq: NDArray) -> NDArray:
    """The generic formula ``sum_k p_k (log p_k - log q_k)``, exact at the limits
    (``+inf`` logits, ``q = 0 < p``, NaN).

    Where every logit is finite but some ``log q_k`` of a class of ``p``
    overflows to ``-inf`` (the spread of ``z_q`` passes the float range, while
    the divergence may not) each log-ratio is formed in halves,
    ``(z_p - z_q)/2 - (lse z_p - lse z_q)/2``, and the sum doubled; elsewhere
    the log-probabilities themselves are exact enough (at logits of 1e308 the
    halves would round away every digit of ``log q``).
    """
    with np.errstate(all="ignore"):
        lp = _rows.run("log_softmax", zp, 1.0, np.dtype(np.float64))
        lq = _rows.run("log_softmax", zq, 1.0, np.dtype(np.float64))
        terms = np.where(lp > -np.inf, np.exp(lp) * (lp - lq), 0.0)
        out = np.sum(terms, axis=1)
        finite = np.isfinite(zp).all(axis=1) & np.isfinite(zq).all(axis=1)
        halves = finite & np.any((lp > -np.inf) & (lq == -np.inf), axis=1)
        if halves.any():
            a, b = zp[halves], zq[halves]
            half = 0.5 * _rows.run("logsumexp", a, 1.0, np.dtype(np.float64))
            half -= 0.5 * _rows.run("logsumexp", b, 1.0, np.dtype(np.float64))
            ratio = (0.5 * a - 0.5 * b) - half[:, None]
            out[halves] = 2.0 * np.sum(np.exp(lp[halves]) * ratio, axis=1)
    out[np.isnan(zp).any(axis=1) | np.isnan(zq).any(axis=1)] = np.nan
    return out


def _off_support(zq: NDArray, support: NDArray) -> NDArray:
    """``-log q(S) = softplus(lse(zq off S) - lse(zq on S))``, the differences in double-double."""
    parts = []
    for mask in (~support, support):
        z = np.where(mask, zq, -np.inf)
        k = np.argmax(z, axis=1)[:, None]
        lp = _rows.run("log_softmax_dd", z, 1.0, np.dtype(np.float64))
        # lse(z) = z_k - log p_k at the mode k, with -log p_k = l_hi + l_lo.
        rows = np.arange(len(z))
        parts.append(
            (
                np.take_along_axis(z, k, 1)[:, 0],
                -lp[..., 0][rows, k[:, 0]],
                -lp[..., 1][rows, k[:, 0]],
            )
        )
    (m_out, l_out, l_out_lo), (m_in, l_in, l_in_lo) = parts
    with np.errstate(all="ignore"):
        d_hi, d_err = _dd.two_sum(m_out, -m_in)
        l_hi, l_err = _dd.two_sum(l_out, -l_in)
        d_hi, d_err2 = _dd.two_sum(d_hi, l_hi)
        return np.add(*_dd.softplus_dd(d_hi, d_err + d_err2 + l_err + (l_out_lo - l_in_lo)))
