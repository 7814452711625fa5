"""Elementwise kernels of the two-class case: ``sigmoid``, ``softplus``, ``log_sigmoid``,
``logit``, and ``log1mexp``.

Each runs one compiled kernel (``_engine.c``, C): the same block function
over float64 serves a Python float (a block of one entry, its result
returned) and every entry of an array (a contiguous float64 or float32
buffer, in blocks of 256 entries whose steps are vector loops, written into
the output with the GIL released), so both give the same bits. The ULP
bounds of the docstrings hold for float64 and, in ULPs of their dtype, for
float32 and float16: float32 and float16 entries are computed as float64
and rounded once. Arrays of
``_PARALLEL`` entries or more are cut into one contiguous range per thread
(:func:`expfam.special.get_num_threads`); the result does not depend on the
thread count. The accuracy tests run arrays, numpy scalars, Python floats
and the threaded path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam._core import threads as _threads
from expfam._core.args import as_real, scalar
from expfam._core.dispatch import tiered
from expfam.special import _engine

_engine.set_float64(np.float64)  # the kernels return a Python float's result as np.float64
_COMPUTED = (np.dtype(np.float32), np.dtype(np.float64))
_PARALLEL = 1 << 17  # from this many entries on, the threads share the array


def _apply(kernel, x: ArrayLike, name: str) -> NDArray:
    """The compiled ``kernel`` on every entry of ``x`` (read as the argument ``name``)."""
    if type(x) is np.ndarray and x.dtype.char in "fd" and x.flags.c_contiguous:
        out = np.empty_like(x)  # the common case, read without copies or conversions
        kernel(x, out, _threads.get_num_threads() if x.size >= _PARALLEL else 1)
        return out if x.ndim else out[()]
    arr, dtype = as_real(x, name)
    arr = np.asarray(arr, dtype=arr.dtype if arr.dtype in _COMPUTED else np.float64, order="C")
    out = np.empty(arr.shape, arr.dtype)
    threads = _threads.get_num_threads() if arr.size >= _PARALLEL else 1
    kernel(arr, out, threads)
    return scalar(out.astype(dtype, copy=False))


@tiered(floats=_engine.sigmoid)  # a Python float: the kernel, one call
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
    ``exp`` (the engine's vectorised ``exp``: 0.52 ULP, 0.76 ULP for
    subnormal results, which ``n = e`` carries whole) and the division round:
    at most 2 ULP including subnormal results (below about ``w = -708``,
    where scipy.special.expit flushes to 0).

    Examples
    --------
    >>> float(sigmoid(-740.0))
    4.2e-322
    """
    return _apply(_engine.sigmoid, x, "x")


@tiered(floats=_engine.softplus)  # a Python float: the kernel, one call
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
    ``max(w, 0) + log1p(e^{-|w|})`` with ``e^{-|w|}`` and ``log1p`` carried
    in double-double (relative errors below ``2**-58`` and ``2**-56``; the
    error of ``e^{-|w|}`` reaches ``log1p`` scaled by at most 1) and
    rounded once: the sum is off by at most ``1.25 * 2**-56`` of the
    result before the rounding, so at most 0.66 ULP. Below ``-40`` the result
    is ``e^w (1 - e^w / 2 + ...)``, ``e^w`` to ``2**-58`` (the term
    ``e^w / 2`` is below ``2**-58`` of it) rounded once, subnormal results
    included: at most 0.6 ULP.

    Examples
    --------
    >>> float(softplus(0.0))  # log 2
    0.6931471805599453
    """
    return _apply(_engine.softplus, x, "x")


@tiered(floats=_engine.log_sigmoid)  # a Python float: the kernel, one call
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
    Computed as ``-softplus(-w)`` by the same kernel: the same bound as
    :func:`softplus`, 0.66 ULP.

    Examples
    --------
    >>> float(log_sigmoid(40.0))
    -4.248354255291589e-18
    """
    return _apply(_engine.log_sigmoid, x, "x")


@tiered(floats=_engine.logit)  # a Python float: the kernel, one call
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
    With ``1 - p`` carried in double-double (TwoSum): for ``p < 1/4``, ``log r``
    of ``r = p / (1 - p)`` in double-double, ``log`` refined by one Newton step
    on ``exp`` in double-double (absolute error about ``2**-57``, and
    ``|log r| > 1.09``); above, ``log1p(u)`` in double-double (relative error
    below ``2**-56``) of ``u = (2p - 1) / (1 - p)``, where ``2p - 1`` is
    exact. Each Newton step starts from a vectorised ``log`` within
    ``2**-42`` (the step squares that error). One rounding at the end: at
    most 0.7 ULP. ``logit(0) = -inf``,
    ``logit(1) = inf``, NaN outside ``[0, 1]``.

    Examples
    --------
    >>> float(logit(0.5))
    0.0
    """
    return _apply(_engine.logit, p, "p")


@tiered(floats=_engine.log1mexp)  # a Python float: the kernel, one call
def log1mexp(x: ArrayLike) -> NDArray:
    r"""``log(1 - e^x)`` for ``x <= 0``, accurate at both ends.

    .. math::

        \mathrm{log1mexp}(x) = \log(1 - e^{x}) = k \log 2 + \log c
        + \mathrm{log1p}\Big(\frac{1 - e^{x}}{2^{k} c} - 1\Big)

    with ``2**k c`` the nearest point of a table of 128 per binade.

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
    One pass of branch-free code over the array (vectorised, no libm).
    ``1 - e^x`` is formed in double-double from a table-driven ``exp``
    (``2**(j/64)``, an exact product with ``e^r - 1``) without cancellation
    (``1 - 2**n 2**(j/64)`` is exact), then its ``log`` table-driven: the
    reduced argument ``r`` exact (``|r| < 2**-7.99``), ``log c`` a double to
    ``2**-64``, ``log1p(r)`` a minimax polynomial. Below ``-32``,
    ``-e^x (1 + e^x / 2)``. One rounding at the end: within 0.55 ULP for a
    normal result, 0.76 ULP for a subnormal one (``x < -708.4``).
    ``log1mexp(0) = -inf``, ``log1mexp(-inf) = 0``, NaN for ``x > 0``.

    Examples
    --------
    >>> float(log1mexp(-1e-20))
    -46.051701859880914
    """
    return _apply(_engine.log1mexp, x, "x")
