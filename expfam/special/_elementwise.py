"""Elementwise kernels of the two-class case: ``sigmoid``, ``softplus``, ``log_sigmoid``,
``logit``, and ``log1mexp``.

A Python float skips the array machinery. ``sigmoid`` and ``log1mexp`` run
the array formulas on plain floats (:mod:`math`). ``softplus``,
``log_sigmoid`` and ``logit``, whose array formulas need double-double, are
evaluated once in x87 extended precision instead (``np.longdouble``, 64-bit
significand: relative error about ``2**-62`` before the one rounding to
float64); where ``np.longdouble`` is no wider than float64 (MSVC, Apple
arm64) those take the array path. Arrays of more than ``_BLOCK`` entries
are computed in blocks of that size, so that the ten-odd temporaries of a
formula stay in the cache, and the blocks are shared among the threads
(:mod:`expfam._core.threads`). The accuracy tests run all three paths.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam._core import dd as _dd
from expfam._core import threads as _threads
from expfam._core.args import as_real, scalar
from expfam._core.dispatch import tiered

_LOG2 = math.log(2.0)
_EXTENDED = np.finfo(np.longdouble).nmant >= 63
_ONE = np.longdouble(1.0)  # arithmetic with it is extended (faster than a constructor call)
_F64 = np.float64


_BLOCK = 1 << 16  # entries per block: a kernel's temporaries (~10 passes) stay in the cache
_PARALLEL = 1 << 18  # from this size on, the blocks are shared among the threads


def _elementwise(x: ArrayLike, name: str, fn) -> NDArray:
    arr, dtype = as_real(x, name)
    w = arr.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        out = np.asarray(fn(w)) if w.size <= _BLOCK else _blocked(fn, w.reshape(-1))
    return scalar(out.reshape(w.shape).astype(dtype, copy=False))


def _blocked(fn, flat: NDArray) -> NDArray:
    """``fn`` on blocks of ``_BLOCK`` entries of the 1-D ``flat``, on the worker threads."""
    out = np.empty_like(flat)
    starts = range(0, flat.size, _BLOCK)

    def work(chunk: range) -> None:
        for start in chunk:
            out[start : start + _BLOCK] = fn(flat[start : start + _BLOCK])

    _threads.run_chunks(starts, work, flat.size >= _PARALLEL)
    return out


def _softplus_float(w: float) -> np.float64:
    """:func:`softplus` of a Python float, in extended precision (rounded once)."""
    if w != w or w == math.inf:
        return _F64(w)
    return _F64(np.log1p(np.exp(_ONE * -abs(w))) + max(w, 0.0))


@tiered
def sigmoid(x: ArrayLike) -> NDArray:
    r"""The logistic sigmoid, the mean map of the Bernoulli family.

    ``sigmoid(w) = 1 / (1 + e^{-w}) = softmax((w, 0))_0``:

    .. math::

        \sigma(w) = \frac{1}{1 + e^{-w}} = \operatorname{softmax}\big((w, 0)\big)_0

    Parameters
    ----------
    x : array_like
        Log-odds ``w`` (the Bernoulli natural parameter), any shape; real
        numbers (float16/32/64, int or bool).

    Returns
    -------
    ndarray or numpy scalar, shape of ``x``
        The probabilities ``sigmoid(w)`` in ``[0, 1]``, in the dtype of ``x``
        (float64 for integers); ``sigmoid(-inf) = 0``, ``sigmoid(inf) = 1``.

    Notes
    -----
    ``n / s`` with ``e = e^{-|w|}``, ``s = 1 + e`` and ``n = 1`` for ``w >= 0``,
    ``n = e`` for ``w < 0``; the rounding ``r = e - (s - 1)`` of ``s`` (exact,
    Fast2Sum) is put back to first order, ``n / s (1 - r / s)``, so only
    ``exp`` (0.65 ULP, which ``n = e`` carries whole) and the division round:
    at most 2 ULP including subnormal results (below about ``w = -708``,
    where scipy.special.expit flushes to 0).

    Examples
    --------
    >>> float(sigmoid(-740.0))
    4.2e-322
    """

    if type(x) is float:
        e = math.exp(-abs(x))
        s = 1.0 + e
        p = (1.0 if x >= 0 else e) / s
        return _F64(p - p * ((e - (s - 1.0)) / s))

    def fn(w):
        e = np.exp(np.negative(np.abs(w)))
        s = e + 1.0
        p = np.where(w >= 0, 1.0, e)
        p /= s
        r = np.subtract(e, s - 1.0)  # the rounding of s, exact
        r /= s
        r *= p
        p -= r
        return p

    return _elementwise(x, "x", fn)


@tiered
def softplus(x: ArrayLike) -> NDArray:
    r"""``softplus(w) = log(1 + e^w) = logsumexp((w, 0))``, the Bernoulli log-partition.

    .. math::

        \operatorname{softplus}(w) = \log(1 + e^{w})
            = \max(w, 0) + \log\big(1 + e^{-|w|}\big)

    Parameters
    ----------
    x : array_like
        Log-odds ``w``, any shape; real numbers (float16/32/64, int or bool).

    Returns
    -------
    ndarray or numpy scalar, shape of ``x``
        ``log(1 + e^w) >= 0``, in the dtype of ``x`` (float64 for integers);
        ``softplus(-inf) = 0``, ``softplus(inf) = inf``.

    Notes
    -----
    ``max(w, 0) + log1p(e^{-|w|})``. For ``w >= 2`` in plain float64: the
    term ``log1p(e^{-w}) < 0.127`` is off by at most 1.65 of its ULPs (``exp``
    0.65, ``log1p`` 1), which are at most 1/32 of the result's, so the sum
    is within 0.56 ULP. Below 2, ``e^{-|w|}`` and ``log1p`` are carried in
    double-double (:mod:`expfam._core.dd`) and rounded once: at most 1 ULP.

    Examples
    --------
    >>> float(softplus(0.0))  # log 2
    0.6931471805599453
    """

    if type(x) is float and _EXTENDED:
        return _softplus_float(x)

    def fn(w):
        out = np.exp(np.negative(np.abs(w)))
        out = np.log1p(out, out=np.empty_like(w))
        out += np.maximum(w, 0.0)
        near = ~(w >= 2.0)  # and NaN
        if near.any():
            v = w[near]
            exact = np.add(*_dd.softplus_dd(v))
            out[near] = np.where(np.isinf(v) | np.isnan(v), np.maximum(v, 0.0), exact)
        return out

    return _elementwise(x, "x", fn)


@tiered
def log_sigmoid(x: ArrayLike) -> NDArray:
    r"""``log sigmoid(w) = -softplus(-w) = log_softmax((w, 0))_0``.

    .. math::

        \log \sigma(w) = -\operatorname{softplus}(-w) = -\log(1 + e^{-w})

    Parameters
    ----------
    x : array_like
        Log-odds ``w``, any shape; real numbers (float16/32/64, int or bool).

    Returns
    -------
    ndarray or numpy scalar, shape of ``x``
        ``log sigmoid(w) <= 0``, in the dtype of ``x`` (float64 for integers);
        ``log_sigmoid(-inf) = -inf``, ``log_sigmoid(inf) = 0``.

    Notes
    -----
    Computed as ``-softplus(-w)``: the same bound as :func:`softplus`.

    Examples
    --------
    >>> float(log_sigmoid(40.0))
    -4.248354255291589e-18
    """
    if type(x) is float and _EXTENDED:
        return -_softplus_float(-x)
    arr, dtype = as_real(x, "x")
    return scalar(np.negative(softplus(np.negative(arr))).astype(dtype, copy=False))


@tiered
def logit(p: ArrayLike) -> NDArray:
    r"""The inverse of the sigmoid: ``logit(p) = log(p / (1 - p))``.

    .. math::

        \operatorname{logit}(p) = \log\frac{p}{1 - p} = 2 \operatorname{artanh}(2p - 1),
        \qquad \sigma(\operatorname{logit}(p)) = p

    Parameters
    ----------
    p : array_like
        Probabilities in ``[0, 1]``, any shape; real numbers (float16/32/64,
        int or bool).

    Returns
    -------
    ndarray or numpy scalar, shape of ``p``
        The log-odds ``log(p / (1 - p))``, in the dtype of ``p`` (float64 for
        integers).

    Notes
    -----
    ``log(r) + r_lo / r`` with ``r + r_lo = p / (1 - p)`` in double-double
    for ``p < 1/4``, and ``2 atanh(2p - 1)`` above, where ``2p - 1`` is
    exact: at most 1 ULP. ``logit(0) = -inf``,
    ``logit(1) = inf``, NaN outside ``[0, 1]``.

    Examples
    --------
    >>> float(logit(0.5))
    0.0
    """

    if type(p) is float and _EXTENDED and 0.0 < p < 1.0:
        return _F64(np.log(p / (_ONE - p)) if p < 0.25 else 2.0 * np.arctanh(2.0 * p - _ONE))

    def fn(q):
        # p < 1/4: log of p / (1 - p) formed in double-double, then one correction.
        c_hi, c_lo = _dd.two_sum(np.ones_like(q), -q)
        r_hi = q / c_hi
        r_p, r_err = _dd.two_prod(r_hi, c_hi)
        r_lo = ((q - r_p) - r_err - r_hi * c_lo) / c_hi
        low = np.log(r_hi) + np.where(r_hi > 0, r_lo / r_hi, 0.0)
        high = 2.0 * np.arctanh(2.0 * q - 1.0)
        out = np.where(q < 0.25, low, high)
        return np.where((q < 0) | (q > 1), np.nan, out)

    return _elementwise(p, "p", fn)


@tiered
def log1mexp(x: ArrayLike) -> NDArray:
    r"""``log(1 - e^x)`` for ``x <= 0``, accurate at both ends.

    .. math::

        \mathrm{log1mexp}(x) = \log(1 - e^{x}) =
        \begin{cases}
            \log(-\mathrm{expm1}(x)) & -\log 2 < x \le 0 \\
            \mathrm{log1p}(-e^{x}) & x \le -\log 2
        \end{cases}

    Parameters
    ----------
    x : array_like
        Non-positive numbers (a log-probability), any shape; real numbers
        (float16/32/64, int or bool).

    Returns
    -------
    ndarray or numpy scalar, shape of ``x``
        ``log(1 - e^x) <= 0``, the log of the complementary probability, in
        the dtype of ``x`` (float64 for integers).

    Notes
    -----
    Maechler's switch at ``-log 2``: ``log(-expm1(x))`` above it,
    ``log1p(-exp(x))`` below. At most 1.5 ULP. ``log1mexp(0) = -inf``,
    ``log1mexp(-inf) = 0``, NaN for ``x > 0``.

    Examples
    --------
    >>> float(log1mexp(-1e-20))
    -46.051701859880914
    """

    if type(x) is float and x < 0.0:
        return _F64(math.log(-math.expm1(x)) if x > -_LOG2 else math.log1p(-math.exp(x)))

    def fn(v):
        out = np.expm1(v, out=np.empty_like(v))
        np.log(np.negative(out, out=out), out=out)
        low = v <= -_LOG2
        tail = np.exp(v[low])
        out[low] = np.log1p(np.negative(tail, out=tail), out=tail)
        out[v > 0] = np.nan
        return out

    return _elementwise(x, "x", fn)
