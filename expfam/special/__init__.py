"""Stable, accurate kernels of the softmax family.

Every function takes array-likes, works along the last axis (``axis=-1``) by
default and broadcasts over leading batch axes. ``float16``, ``float32`` and
``float64`` inputs give outputs of the same dtype (float16 and float32 are
computed in float64 and rounded once); integers and booleans promote to
float64.

Special values follow the limits of the mathematics, one convention for the
whole family:

- a ``-inf`` logit is a class of probability 0 (the boundary of the simplex);
- one ``+inf`` logit takes all the mass, and several ``+inf`` logits share it
  equally (the limit of ``softmax(beta * z)`` as ``beta`` grows, fair about
  ties); ``logsumexp`` is then ``+inf`` and ``log_softmax`` is ``-log c`` on
  the ``c`` tied classes, ``-inf`` elsewhere;
- a row of all ``-inf`` has no distribution: ``logsumexp`` is ``-inf``,
  ``softmax`` and ``log_softmax`` are NaN;
- NaN in gives NaN out (for the whole row of a row-wise function);
- empty inputs give empty outputs, and the log of an empty sum is ``-inf``;
- no RuntimeWarning escapes for any input handled by these rules.

Accuracy is measured in ULPs of the result against mpmath at 60 digits (see
``tests/test_special*.py``); each docstring states the bound its test holds.

References
----------
P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the
log-sum-exp and softmax functions", IMA J. Numer. Anal. 41 (2021).
M. Maechler, "Accurately computing log(1 - exp(-|a|))", Rmpfr vignette (2012).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam.special import _dd, _rows
from expfam.special._kl import kl_rows
from expfam.special.sparse import entmax, entmax_jvp, fenchel_young_loss, sparsemax

__all__ = [
    "cross_entropy",
    "entmax",
    "entmax_jvp",
    "entropy",
    "fenchel_young_loss",
    "kl_divergence",
    "log1mexp",
    "log_sigmoid",
    "log_softmax",
    "logit",
    "logsumexp",
    "sigmoid",
    "softmax",
    "softplus",
    "sparsemax",
]

_LOG2 = math.log(2.0)


# ---------------------------------------------------------------- arguments


def _as_real(x: ArrayLike, name: str) -> tuple[NDArray, np.dtype]:
    """Return ``x`` as a real array and the dtype the result must have."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}: cannot be read as an array ({exc})") from None
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype.itemsize <= 8:
        return arr, arr.dtype
    if kind in "biu":
        return arr.astype(np.float64), np.dtype(np.float64)
    raise TypeError(
        f"{name}: expected real numbers (float16/32/64, int or bool), "
        f"got an array of dtype {arr.dtype}"
    )


def _axis(axis: object, ndim: int, name: str = "axis") -> int:
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise TypeError(f"{name}: expected an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: {axis} is out of range for an array of {ndim} dimension(s)")
    return int(axis) % ndim


def _axes(axis: object, ndim: int) -> tuple[int, ...]:
    """Normalize ``None`` / int / sequence of ints to a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Sequence) and not isinstance(axis, str):
        axes = tuple(_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis: repeated axis in {axis!r}")
        return tuple(sorted(axes))
    return (_axis(axis, ndim),)


def _beta(beta: object) -> float:
    try:
        value = float(beta)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"beta: expected a real number, got {beta!r}") from None
    if not value >= 0.0:
        raise ValueError(f"beta: the inverse temperature must be >= 0, got {beta!r}")
    return value


def _scalar(out: NDArray) -> NDArray:
    """0-d results come back as numpy scalars, as numpy reductions do."""
    return out[()] if out.ndim == 0 else out


# ------------------------------------------------------------ row functions


def _normalized(kind: str, x: ArrayLike, axis: int, beta: float) -> NDArray:
    """Run a row kernel of ``expfam.special._rows`` along ``axis``."""
    arr, dtype = _as_real(x, "x" if kind in ("softmax", "log_softmax") else "logits")
    ax = _axis(axis, arr.ndim)
    beta = _beta(beta)
    last = ax == arr.ndim - 1
    moved = arr if last else np.moveaxis(arr, ax, -1)
    batch, k = moved.shape[:-1], moved.shape[-1]
    rows = np.ascontiguousarray(moved).reshape(math.prod(batch), k)
    if beta == math.inf:
        out = _rows.infinite_beta_rows(kind, rows.astype(np.float64)).astype(dtype)
    else:
        if beta == 0.0:  # the limit beta -> 0+: finite logits tie, infinities stay
            rows = np.where(np.isfinite(rows), 0.0, rows).astype(rows.dtype)
            beta = 1.0
        out = _rows.run(kind, rows, beta, dtype)
    if kind in ("softmax", "log_softmax"):
        out = out.reshape(moved.shape)
        return out if last else np.moveaxis(out, -1, ax)
    return _scalar(out.reshape(batch))


def softmax(x: ArrayLike, axis: int = -1, beta: float = 1.0) -> NDArray:
    r"""Softmax: the mean map of the categorical family, logits to probabilities.

    Parameters
    ----------
    x : array_like, shape (..., K)
        Logits (natural parameters, overcomplete: ``x`` and ``x + c`` agree).
    axis : int
        The class axis.
    beta : float
        Inverse temperature, ``>= 0``; ``0`` gives the uniform distribution
        over the finite logits and ``inf`` the argmax with ties sharing.

    Returns
    -------
    ndarray, shape (..., K)
        ``p_i = exp(beta x_i) / sum_j exp(beta x_j)``.

    Notes
    -----
    Computed as ``exp(beta (x_i - m)) / (1 + t)`` with ``m = max x`` and
    ``t`` the sum of the non-maximal terms, where ``beta (x_i - m)`` is formed
    exactly (TwoSum and Dekker's product) so that ``exp`` does not amplify the
    rounding of the shift: at most 3 ULP in float64 whatever the spread of the
    logits (scipy.special.softmax reaches ~30 ULP at spreads of 20-40), and
    at most 1 ULP in float32. For ``beta != 1`` the reference is the exact
    ``softmax(beta * x)`` of the given floats.

    Examples
    --------
    >>> softmax([1000.0, 1001.0, 1002.0]).round(8)
    array([0.09003057, 0.24472847, 0.66524096])
    """
    return _normalized("softmax", x, axis, beta)


def log_softmax(x: ArrayLike, axis: int = -1, beta: float = 1.0) -> NDArray:
    r"""Log-probabilities of the categorical with logits ``beta * x``.

    Parameters
    ----------
    x : array_like, shape (..., K)
        Logits.
    axis : int
        The class axis.
    beta : float
        Inverse temperature, ``>= 0``.

    Returns
    -------
    ndarray, shape (..., K)
        ``log p_i = beta x_i - logsumexp(beta x)``.

    Notes
    -----
    ``(beta (x_i - m))_hi - log1p(t) + (beta (x_i - m))_lo``: two terms of the
    same sign, so no cancellation, and ``log1p`` keeps the tiny answers of a
    dominant class (``log_softmax([0, -40])[0] = -4.2e-18``, which
    scipy.special.log_softmax returns as 0). In float64 ``log1p(t)`` is
    carried in double-double wherever float64 ``exp`` could reach its last
    digit, and the difference is formed with TwoSum and rounded once: at most
    1 ULP (0.5 measured).

    Examples
    --------
    >>> float(log_softmax([0.0, -40.0])[0])
    -4.248354255291589e-18
    """
    return _normalized("log_softmax", x, axis, beta)


def entropy(logits: ArrayLike, axis: int = -1) -> NDArray:
    r"""Shannon entropy (nats) of the categorical with the given logits.

    Parameters
    ----------
    logits : array_like, shape (..., K)
    axis : int
        The class axis.

    Returns
    -------
    ndarray, shape (...)
        ``H = -sum_k p_k log p_k = log Z + sum_k p_k (m - z_k)``.

    Notes
    -----
    Both terms of the second form are non-negative, so the sum has no
    cancellation; classes of probability 0 contribute 0 (``0 log 0 = 0``).
    At most 1 ULP.

    Examples
    --------
    >>> float(entropy([0.0, 0.0]))  # log 2
    0.6931471805599453
    """
    return _normalized("entropy", logits, axis, 1.0)


def logsumexp(
    a: ArrayLike,
    axis: int | Sequence[int] | None = -1,
    b: ArrayLike | None = None,
    keepdims: bool = False,
    return_sign: bool = False,
) -> NDArray | tuple[NDArray, NDArray]:
    r"""The log-partition of the categorical family: ``log sum_i b_i exp(a_i)``.

    Parameters
    ----------
    a : array_like
        Logits.
    axis : int, tuple of ints or None
        Axes to reduce (default the last; ``None`` reduces all).
    b : array_like, optional
        Weights, broadcast against ``a``; may be negative.
    keepdims : bool
        Keep the reduced axes with length 1.
    return_sign : bool
        Also return the sign of the sum; then the first result is
        ``log |sum|``. Without it a negative sum gives NaN.

    Returns
    -------
    ndarray (or numpy scalar), and the sign if ``return_sign``.

    Notes
    -----
    Unweighted: ``m + log1p(t)``, ``m = max a``, ``t = sum_{i != argmax}
    exp(a_i - m)`` with ``a_i - m`` formed exactly and ``log1p(t)`` carried
    in double-double (:mod:`expfam.special._rows`): at most 1 ULP, except where ``m``
    and ``log1p(t)`` cancel (a result near 0 from inputs far from 0), where
    the error is ``u (|m| + log1p(t))`` absolute, the conditioning of the
    problem itself. Non-negative weights: ``m + log1p((b_k - 1) + sum_{i !=
    k} b_i exp(a_i - m))`` (``log S`` in double-double away from ``S = 1``),
    the same bound. Signed weights: terms with ``a_i - m > -1`` use ``b_i +
    b_i expm1(a_i - m)`` so that cancellations such as ``log(e^1e-10 - 1)``
    are accurate; the error is at most ``1 ULP + (N + 2) u kappa`` with
    ``kappa = sum |b_i e^{a_i}| / |sum b_i e^{a_i}|``, the condition number of
    the sum, and the sign is right wherever ``(N + 2) u kappa < 1/2``.
    Entries with ``b_i = 0`` are left out, infinite ``a_i`` included.

    Examples
    --------
    >>> float(logsumexp([0.0, -40.0]))
    4.248354255291589e-18
    >>> logsumexp([1e-10, 0.0], b=[1.0, -1.0], return_sign=True)
    (np.float64(-23.025850929890456), np.float64(1.0))
    """
    arr, dtype = _as_real(a, "a")
    weights = None
    if b is not None:
        barr, bdtype = _as_real(b, "b")
        try:
            arr, barr = np.broadcast_arrays(arr, barr)
        except ValueError:
            raise ValueError(
                f"b: shape {np.shape(barr)} does not broadcast with a's shape {np.shape(arr)}"
            ) from None
        dtype = np.result_type(dtype, bdtype)
        weights = barr
    axes = _axes(axis, arr.ndim)
    kept = [i for i in range(arr.ndim) if i not in axes]
    batch = tuple(arr.shape[i] for i in kept)
    n = math.prod(arr.shape[i] for i in axes)

    def rows_of(x: NDArray) -> NDArray:
        return np.ascontiguousarray(np.transpose(x, kept + list(axes))).reshape(-1, n)

    if n == 0:
        value = np.full(math.prod(batch), -np.inf)
        sign = np.zeros_like(value)
    elif weights is None:
        value = _rows.run("logsumexp", rows_of(arr), 1.0, np.dtype(np.float64))
        sign = np.where(np.isnan(value), np.nan, np.where(value == -np.inf, 0.0, 1.0))
    else:
        value, sign = _weighted_logsumexp(
            rows_of(arr).astype(np.float64), rows_of(weights).astype(np.float64)
        )
    shape = tuple(1 if i in axes else s for i, s in enumerate(arr.shape)) if keepdims else batch
    value = value.reshape(shape).astype(dtype)
    sign = sign.reshape(shape).astype(dtype)
    if return_sign:
        return _scalar(value), _scalar(sign)
    value = np.where(sign < 0, np.nan, value).astype(dtype)
    return _scalar(value)


def _weighted_logsumexp(a: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
    """``(log|sum b e^a|, sign)`` along the rows of float64 arrays ``a``, ``b``."""
    r = np.arange(a.shape[0])
    with np.errstate(all="ignore"):
        used = b != 0
        am = np.where(used, a, -np.inf)
        idx = np.argmax(am, axis=1)
        m = am[r, idx]
        hi, lo = _dd.two_sum(am, -m[:, None])
        lo = np.fmax(lo, -1.0)  # NaN corrections of -inf entries
        bm = np.where(used, b, 0.0)
        # Non-negative rows: m + log1p((b_k - 1) + sum_{i != k} b_i e_i), in double-double.
        e_hi, e_lo = _dd.exp_dd(hi, lo)
        w_hi, w_err = _dd.two_prod(bm, e_hi)
        w_lo = w_err + bm * e_lo
        bk = bm[r, idx]
        w_hi[r, idx] = 0.0
        w_lo[r, idx] = 0.0
        t_hi, t_lo = _dd.row_sum_dd(np.abs(w_hi), np.where(w_hi < 0, -w_lo, w_lo))
        # log S, S = b_k + t: log1p(S - 1) near S = 1, else log_dd(S).
        s_hi, s_err = _dd.two_sum(bk, t_hi)
        near_one = np.abs(s_hi - 1.0) < 0.5
        c_hi, c_lo = _dd.two_sum(np.where(near_one, bk, 1.0), -np.ones_like(bk))
        u_hi, u_lo = _dd.two_sum(c_hi, np.where(near_one, t_hi, 0.0))
        l_hi, l_lo = _dd.log1p_dd(u_hi, u_lo + c_lo + np.where(near_one, t_lo, 0.0))
        g_hi, g_lo = _dd.log_dd(s_hi, s_err + t_lo)
        l_hi = np.where(near_one, l_hi, g_hi)
        l_lo = np.where(near_one, l_lo, g_lo)
        top, err = _dd.two_sum(m, l_hi)
        positive = top + (err + l_lo)
        # Signed rows: near terms as b + b expm1(d), far terms as b e^d.
        e = e_hi + e_lo
        near = hi > -1.0
        em1 = np.where(near, np.expm1(hi) + e * lo, 0.0)
        total = (
            np.sum(np.where(near, bm, 0.0), axis=1)
            + np.sum(bm * em1, axis=1)
            + np.sum(np.where(near, 0.0, bm * e), axis=1)
        )
        g_hi, g_lo = _dd.log_dd(np.abs(total), np.zeros_like(total))
        top, err = _dd.two_sum(m, g_hi)
        signed = np.where(total == 0, -np.inf, top + (err + g_lo))
        is_signed = (bm < 0).any(axis=1)
        value = np.where(is_signed, signed, positive)
        sign = np.where(is_signed, np.sign(total), 1.0)
        # Rows whose maximum is not finite: exact limits.
        inf_sum = np.sum(np.where(am == np.inf, bm, 0.0), axis=1)
        value = np.where(m == np.inf, np.where(inf_sum == 0, np.nan, np.inf), value)
        sign = np.where(m == np.inf, np.sign(inf_sum), sign)
        none = m == -np.inf
        value[none] = -np.inf
        sign[none] = 0.0
        bad = np.isnan(np.where(used, a, 0.0)).any(axis=1) | np.isnan(b).any(axis=1)
        value[bad] = np.nan
        sign[bad] = np.nan
        sign[value == -np.inf] = 0.0
    return value, sign


# ----------------------------------------------------- losses and divergences


def cross_entropy(logits: ArrayLike, target: ArrayLike) -> NDArray:
    r"""Log-loss of the categorical with ``logits`` against ``target``.

    Parameters
    ----------
    logits : array_like, shape (..., K)
    target : array_like of int, shape (...), or of float, shape (..., K)
        Class indices in ``[0, K)``, or non-negative class weights
        (a probability vector, e.g. a one-hot or a soft label).

    Returns
    -------
    ndarray, shape (...)
        ``-log p_y = logsumexp(z) - z_y`` for an index ``y``;
        ``-sum_k q_k log p_k`` for weights ``q`` (``0 log 0 = 0``).

    Notes
    -----
    An index target reads :func:`log_softmax`; probability targets sum the
    products ``q_k (-log p_k)`` in double-double. At most 1 ULP for both.

    Examples
    --------
    >>> round(float(cross_entropy([0.1, -2.0, 3.4, 3.3], 2)), 8)
    0.66589785
    """
    z, dtype = _as_real(logits, "logits")
    if z.ndim == 0:
        raise ValueError("logits: expected an array with a class axis, got a scalar")
    k = z.shape[-1]
    y = np.asarray(target)
    if y.dtype.kind in "iu":
        try:
            batch = np.broadcast_shapes(z.shape[:-1], y.shape)
        except ValueError:
            raise ValueError(
                f"target: shape {y.shape} does not broadcast with the batch shape "
                f"{z.shape[:-1]} of logits"
            ) from None
        bad = (y < 0) | (y >= k)
        if bad.any():
            raise ValueError(f"target: class index {y[bad].flat[0]} is out of range [0, {k})")
        lp = log_softmax(np.broadcast_to(z, (*batch, k)).astype(dtype))
        picked = np.take_along_axis(lp, np.broadcast_to(y, batch)[..., None], axis=-1)
        return _scalar(-picked[..., 0])
    q, _ = _as_real(y, "target")
    try:
        shape = np.broadcast_shapes(z.shape, q.shape)
    except ValueError:
        raise ValueError(
            f"target: shape {q.shape} does not broadcast with logits' shape {z.shape}"
        ) from None
    if (q < 0).any():
        raise ValueError("target: class weights must be non-negative")
    k = shape[-1]
    rows = math.prod(shape[:-1])
    z2 = np.ascontiguousarray(np.broadcast_to(z, shape), dtype=np.float64).reshape(rows, k)
    q2 = np.broadcast_to(q, shape).reshape(rows, k).astype(np.float64)
    return _scalar(_by_blocks(_soft_cross_entropy, z2, q2).reshape(shape[:-1]).astype(dtype))


def _soft_cross_entropy(z: NDArray, q: NDArray) -> NDArray:
    """``-sum_k q_k log p_k`` along rows, with ``log p`` and the products in double-double."""
    lp = _rows.run("log_softmax_dd", z, 1.0, np.dtype(np.float64))
    with np.errstate(all="ignore"):
        used = q > 0
        neg_hi = np.where(used, -lp[..., 0], 0.0)
        # Dekker's product needs factors below 2**996: scale huge ones by 2**-64.
        scale = np.where(neg_hi > 2.0**900, 2.0**-64, 1.0)
        t_hi, t_err = _dd.two_prod(q, neg_hi * scale)
        t_hi, t_err = t_hi / scale, t_err / scale
        t_lo = np.where(used, t_err - q * lp[..., 1], 0.0)
        impossible = used & (neg_hi == np.inf)
        top = np.max(z, axis=1, keepdims=True)
        # Finite logits whose log-probability overflows (finite top): q (m - z) in halves.
        over = impossible & np.isfinite(z) & np.isfinite(top)
        if over.any():
            t_hi[over] = (q * (top * 0.5 - z * 0.5))[over] * 2.0
            t_lo[over] = 0.0
        t_hi[impossible & ~over] = 0.0
        t_lo[impossible & ~over] = 0.0
        s_hi, s_lo = _dd.row_sum_dd(t_hi, t_lo)
        out = np.where(np.isinf(s_hi), s_hi, s_hi + s_lo)  # (a sum past float64: inf)
        # Weight on a class of probability 0 (a -inf logit, or beside a +inf one).
        out[(impossible & ~over).any(axis=1)] = np.inf
        out[np.isnan(z).any(axis=1) | np.isnan(q).any(axis=1)] = np.nan
        if z.shape[1] == 0:
            out[:] = np.nan
    return out


def kl_divergence(logits_p: ArrayLike, logits_q: ArrayLike) -> NDArray:
    r"""Kullback-Leibler divergence ``KL(p || q)`` between categoricals given by logits.

    Parameters
    ----------
    logits_p, logits_q : array_like, shape (..., K)
        Broadcast against each other.

    Returns
    -------
    ndarray, shape (...)
        ``sum_k p_k log(p_k / q_k)``, the Bregman divergence of logsumexp:
        ``A(z_q) - A(z_p) - (z_q - z_p) . p``. ``+inf`` where ``q_k = 0 < p_k``;
        classes with ``p_k = 0`` contribute 0.

    Notes
    -----
    With ``d = z_p - z_q`` (formed exactly) and ``x_k = mu - d_k`` centred so
    that ``E_p[x] = r`` is negligible,
    ``KL = log E_p[e^x] - E_p[x] = log1p(G + r) - r`` where
    ``G = E_p[g(x)]`` and ``g(x) = e^x - 1 - x >= 0``. Every term of ``G`` is
    non-negative, so the result is never negative and stays accurate as
    ``q -> p`` (where ``sum p log p - sum p log q`` cancels to noise).
    ``g`` uses its Taylor series for ``|x| <= 2``. At most 2 ULP.

    Examples
    --------
    >>> float(kl_divergence([0.0, 0.0], [0.0, 1e-8]))  # ~ (1e-8)**2 / 8
    1.25e-17
    """
    zp, dp = _as_real(logits_p, "logits_p")
    zq, dq = _as_real(logits_q, "logits_q")
    if zp.ndim == 0 or zq.ndim == 0:
        raise ValueError("logits_p, logits_q: expected arrays with a class axis")
    try:
        zp, zq = np.broadcast_arrays(zp, zq)
    except ValueError:
        raise ValueError(
            f"logits_q: shape {np.shape(zq)} does not broadcast with logits_p's shape "
            f"{np.shape(zp)}"
        ) from None
    dtype = np.result_type(dp, dq)
    k = zp.shape[-1]
    rows = math.prod(zp.shape[:-1])
    zp2 = np.ascontiguousarray(zp, dtype=np.float64).reshape(rows, k)
    zq2 = np.ascontiguousarray(zq, dtype=np.float64).reshape(rows, k)
    return _scalar(_by_blocks(kl_rows, zp2, zq2).reshape(zp.shape[:-1]).astype(dtype))


def _by_blocks(fn, *rows: NDArray) -> NDArray:
    """``fn`` (rows of 2-D arrays to one value per row) applied block by block."""
    out = np.empty(rows[0].shape[0])

    def body(start: int, stop: int, _: object) -> None:
        out[start:stop] = fn(*(r[start:stop] for r in rows))

    _rows.for_blocks(rows[0].shape[0], rows[0].shape[1], body)
    return out


# ------------------------------------------------------- elementwise kernels


def _elementwise(x: ArrayLike, name: str, fn) -> NDArray:
    arr, dtype = _as_real(x, name)
    with np.errstate(all="ignore"):
        out = fn(arr.astype(np.float64, copy=False))
    return _scalar(np.asarray(out).astype(dtype, copy=False))


def sigmoid(x: ArrayLike) -> NDArray:
    r"""The logistic sigmoid, the mean map of the Bernoulli family.

    ``sigmoid(w) = 1 / (1 + e^{-w}) = softmax((w, 0))_0``.

    Notes
    -----
    ``1 / (1 + e^{-w})`` for ``w >= 0`` and ``e^w / (1 + e^w)`` for
    ``w < 0``: at most 2 ULP including subnormal results (below about
    ``w = -708``, where scipy.special.expit flushes to 0).

    Examples
    --------
    >>> float(sigmoid(-740.0))
    4.2e-322
    """

    def fn(w):
        e = np.exp(-np.abs(w))
        return np.where(w >= 0, 1.0, e) / (1.0 + e)

    return _elementwise(x, "x", fn)


def softplus(x: ArrayLike) -> NDArray:
    r"""``softplus(w) = log(1 + e^w) = logsumexp((w, 0))``, the Bernoulli log-partition.

    Notes
    -----
    ``max(w, 0) + log1p(e^{-|w|})`` with ``e^{-|w|}`` and ``log1p`` carried
    in double-double (:mod:`expfam.special._dd`) and rounded once: at most 1 ULP.

    Examples
    --------
    >>> float(softplus(0.0))  # log 2
    0.6931471805599453
    """

    def fn(w):
        out = np.add(*_dd.softplus_dd(w))
        return np.where(np.isinf(w) | np.isnan(w), np.maximum(w, 0.0), out)

    return _elementwise(x, "x", fn)


def log_sigmoid(x: ArrayLike) -> NDArray:
    r"""``log sigmoid(w) = -softplus(-w) = log_softmax((w, 0))_0``.

    Notes
    -----
    Computed as ``-softplus(-w)``: the same bound as :func:`softplus`.

    Examples
    --------
    >>> float(log_sigmoid(40.0))
    -4.248354255291589e-18
    """
    arr, dtype = _as_real(x, "x")
    return _scalar(np.negative(softplus(np.negative(arr))).astype(dtype, copy=False))


def logit(p: ArrayLike) -> NDArray:
    r"""The inverse of the sigmoid: ``logit(p) = log(p / (1 - p))``.

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


def log1mexp(x: ArrayLike) -> NDArray:
    r"""``log(1 - e^x)`` for ``x <= 0``, accurate at both ends.

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

    def fn(v):
        out = np.where(v > -_LOG2, np.log(-np.expm1(v)), np.log1p(-np.exp(v)))
        return np.where(v > 0, np.nan, out)

    return _elementwise(x, "x", fn)
