r"""Divergences between categorical distributions, accurate as ``q -> p`` and on the boundary.

Every function takes two points of the simplex (:class:`~expfam.Categorical`,
:class:`~expfam.Bernoulli`, or probabilities on the last axis, read by
:func:`expfam.geometry._points.as_pair`) and broadcasts over their batch shapes.

Near equality every divergence is a sum of terms of size ``(q - p)**2 / p``,
and the textbook formulas (``1 - sum sqrt(p q)``, ``1 - sum p**l q**(1-l)``,
``sum p log p - sum p log q``) cancel them to noise. Here each one is a sum of
non-negative terms written in the log-ratio ``y = log(q_k / p_k)``, formed to
relative accuracy ``eps``: from the probabilities when both points are given
as arrays (``+-log1p(|q - p| / min(p, q))``, one ``log1p`` per entry; the arrays
are the points, and their rounded logarithms would move them by ``eps |log p|``),
from the logits
when either is a distribution (``z_q - z_p`` in double-double, centred at its
mean under ``p``, plus the one constant that makes ``sum_k p_k e^{y_k} = 1``).
A term is then a function of ``y`` without cancellation: ``expm1``, ``tanh``,
powers, and a series with positive coefficients where ``|y| <= 1``.

Speed: rows are processed in cache-sized blocks (on all cores for large batches),
on work arrays reused from block to block (:mod:`expfam.geometry._blocks`); the
branches are evaluated on the whole block and blended, and the careful ones (zeros,
ratios beyond the float range, sums far from 1, powers where ``exp`` would amplify
rounding) run only on the rows or entries that need them. Probability arrays are
validated from the row sums the blocks form anyway.

Conventions: Amari's ``alpha``, ``alpha = -1`` gives ``KL(p || q)``; a
Rényi or Tsallis ``order`` is the exponent of ``p``. Infinite values
exactly where the mathematics has them (``q_k = 0 < p_k`` for KL); a class
where both are 0 contributes nothing.

References
----------
S. Amari and H. Nagaoka, *Methods of Information Geometry*, AMS (2000).
F. Nielsen, "An information-geometric characterization of Chernoff
information", IEEE Signal Process. Lett. 20 (2013).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from expfam import special
from expfam._core import dd as _dd
from expfam._core.dispatch import tiered
from expfam.geometry import _points
from expfam.geometry._blocks import blend, errstate_ignored, for_blocks, work
from expfam.geometry._points import as_pair, as_probs_pair, is_distribution
from expfam.special import _rows

__all__ = [
    "alpha_divergence",
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
    "chernoff_information",
    "hellinger",
    "jeffreys",
    "jensen_shannon",
    "jensen_shannon_distance",
    "kl",
    "renyi_divergence",
    "tsallis_divergence",
]

_LOG2 = math.log(2.0)
# Terms n = 2..21 of the series of psi_mu below: enough for |y| <= 1 and |mu y| <= 1.
_SERIES_TERMS = 20
_SMALLEST = np.finfo(np.float64).smallest_subnormal


@dataclass(frozen=True)
class _Pair:
    """Rows of two points in float64: probabilities, log-ratio ``y = log(q/p)``, supports."""

    p: NDArray  # (R, K)
    q: NDArray
    y: NDArray | None  # +inf where p = 0 < q, -inf where q = 0 < p, 0 where both are 0
    p_zero: NDArray | None  # None when both points have full support
    q_zero: NDArray | None
    logits: tuple[NDArray, NDArray] | None  # None: the points were given as probabilities
    # probability arrays as given: P, Q, Q - P, and the row sums of P and Q, shape (R, 1)
    given: tuple[NDArray, ...] | None = None

    def log_probs(self) -> tuple[NDArray, NDArray]:
        """``log p`` and ``log q``, for the far-tail branches."""
        if self.logits is None:
            with np.errstate(divide="ignore"):
                return np.log(self.p), np.log(self.q)
        return tuple(_rows.run("log_softmax", z, 1.0, np.dtype(np.float64)) for z in self.logits)

    def rows(self, selected: NDArray) -> _Pair:
        """The pair on the rows where the mask ``selected`` (R,) is true, with its ``y``."""
        if self.y is None:  # arrays as given, read without their log-ratio
            return _prob_pair(self.given[0][selected], self.given[1][selected], np.float64)[0]

        def pick(a):
            return None if a is None else a[selected]

        logits = None if self.logits is None else tuple(pick(z) for z in self.logits)
        given = None if self.given is None else tuple(pick(a) for a in self.given)
        parts = (self.p, self.q, self.y, self.p_zero, self.q_zero)
        return _Pair(*(pick(a) for a in parts), logits, given)

    def difference(self) -> NDArray:
        """``q - p`` to relative accuracy ``eps`` (the rounded ``q`` and ``p`` cancel).

        From arrays as given, ``(D - P sum(D) / sum P) / sum Q`` with ``D = Q - P``
        (exact where ``Q/P`` is in ``[1/2, 2]``); from logits, ``p expm1(y)``
        where ``|y| <= 1`` (beyond, ``exp`` would amplify the rounding of ``y``).
        """
        shape = self.p.shape
        if self.given is not None:
            big_p, _, d, sp, sq = self.given
            out = np.multiply(big_p, np.sum(d, axis=-1, keepdims=True) / sp, out=work(shape))
            np.subtract(d, out, out=out)
            out /= sq
            return out
        out = np.expm1(np.fmin(self.y, 1.0, out=work(shape)), out=work(shape))
        out *= self.p
        return blend(np.abs(self.y) <= 1.0, out, np.subtract(self.q, self.p, out=work(shape)))


def _rowwise(p: Any, q: Any, fn, outputs: int = 1, log_ratio: bool = True):
    """``fn(pair)`` on blocks of rows of the two points, broadcast; results of the batch shape.

    Points are read from their logits if either is a distribution, else as the
    probability arrays they are (their values checked block by block, from the
    row sums the pair needs anyway). ``fn`` returns one array (R,) or a tuple of
    ``outputs`` of them. ``log_ratio=False``: ``fn`` reads no ``y`` (nor the
    supports) of a pair of probability arrays, which are then not formed (``rows``
    of the pair forms them for the rows it picks).
    """
    given_probs = not (is_distribution(p) or is_distribution(q))
    if given_probs:
        arrays = as_probs_pair(p, q, check_values=False)
    else:
        a, b = as_pair(p, q)
        arrays = (a.logits, b.logits, a.probs, b.probs)
    dtype = np.result_type(*(x.dtype for x in arrays))
    shape = np.broadcast_shapes(*(x.shape for x in arrays))
    k, rows = shape[-1], math.prod(shape[:-1])
    flat = [
        np.ascontiguousarray(np.broadcast_to(x, shape), dtype=np.float64).reshape(rows, k)
        for x in arrays
    ]
    out = np.empty((outputs, rows))
    valid = []

    @errstate_ignored
    def body(start: int, stop: int) -> None:
        blocks = (x[start:stop] for x in flat)
        if given_probs:
            pair, ok = _prob_pair(*blocks, dtype, log_ratio)
            valid.append(ok)
        else:
            pair = _logit_pair(*blocks)
        values = fn(pair)
        out[:, start:stop] = values if outputs > 1 else values[None]

    for_blocks(rows, k, body)
    if not all(valid):
        as_probs_pair(p, q)  # raises, naming the argument and what is wrong
    results = tuple(_result(v.reshape(shape[:-1]), dtype) for v in out)
    return results if outputs > 1 else results[0]


def _logit_pair(zp: NDArray, zq: NDArray, pp: NDArray, qq: NDArray) -> _Pair:
    """Rows given by logits: ``y`` from ``z_q - z_p`` in double-double, centred."""
    full = bool(np.isfinite(zp).all() and np.isfinite(zq).all())
    p_zero = q_zero = None
    with np.errstate(invalid="ignore"):
        hi, lo = _dd.two_sum(zq, -zp)  # d = z_q - z_p = hi + lo exactly
        if not full:
            p_zero, q_zero = zp == -np.inf, zq == -np.inf
            common = ~(p_zero | q_zero)
            hi, lo = np.where(common, hi, 0.0), np.where(common, lo, 0.0)
        # x = d - E_p[d], each x_k to relative accuracy eps; then y = x + c exactly
        # for the c with sum_k p_k e^{y_k} = q(common support).
        x = (hi - np.sum(pp * hi, axis=-1, keepdims=True)) + lo
    y = x + _shift(zp, pp, qq, x, p_zero, q_zero)
    if not full:
        y = np.where(p_zero, np.where(q_zero, 0.0, np.inf), np.where(q_zero, -np.inf, y))
    return _Pair(pp, qq, y, p_zero, q_zero, (zp, zq))


def _prob_pair(
    big_p: NDArray, big_q: NDArray, dtype: np.dtype, log_ratio: bool = True
) -> tuple[_Pair, bool]:
    """Rows given as probabilities: ``y`` from the arrays as given (not their logs).

    ``y = log(Q/P) + log1p(sum(P - Q) / sum Q)``, the first term as
    ``+-log1p(|Q - P| / min(P, Q))``: one ``log1p`` per entry, relative accuracy
    ``eps`` (``Q - P`` is exact where ``Q/P`` is in ``[1/2, 2]``, and
    ``log1p`` does not amplify the error of its argument), where logits
    ``log P`` would have moved each point by ``eps |log P|``. Rows with a zero or
    a ratio out of the float range take :func:`_boundary_prob_rows`. Also
    returns whether the block passes the value checks of ``as_probs``.
    """
    sp, sq = np.sum(big_p, axis=-1, keepdims=True), np.sum(big_q, axis=-1, keepdims=True)
    ok = _points.rows_look_valid(
        min(np.min(big_p), np.min(big_q)), np.concatenate([sp, sq]), dtype, margin=0.5
    )
    p = big_p if np.all(sp == 1.0) else np.divide(big_p, sp, out=work(big_p.shape))
    q = big_q if np.all(sq == 1.0) else np.divide(big_q, sq, out=work(big_q.shape))
    diff = np.subtract(big_q, big_p, out=work(big_p.shape))
    given = (big_p, big_q, diff, sp, sq)
    if not log_ratio:
        return _Pair(p, q, None, None, None, None, given), ok
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y = np.fmin(big_p, big_q, out=work(big_p.shape))
        np.divide(np.abs(diff, out=work(big_p.shape)), y, out=y)
        regular = np.max(y, axis=-1) <= 1e299  # no zero, no NaN, the ratio in range
        np.log1p(y, out=y)
        np.copysign(y, diff, out=y)
    # log(sum P / sum Q) from the differences (the sums are rounded, P - Q is not)
    with np.errstate(invalid="ignore", divide="ignore"):
        y += np.log1p(-np.sum(diff, axis=-1, keepdims=True) / sq)
    if regular.all():
        return _Pair(p, q, y, None, None, None, given), ok
    return _boundary_prob_rows(big_p, big_q, p, q, y, regular, given), ok


def _boundary_prob_rows(big_p, big_q, p, q, y, regular, given) -> _Pair:
    """The pair with zeros and ratios out of the float range (``|y| >= 690``) by logs."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.log(np.sum(big_p, axis=-1, keepdims=True) / np.sum(big_q, axis=-1, keepdims=True))
        exact = (np.log(big_q) - np.log(big_p)) + c
        y = np.where(regular[:, None] | (np.abs(y) < 690.0), y, exact)
    p_zero, q_zero = p == 0.0, q == 0.0
    y = np.where(p_zero, np.where(q_zero, 0.0, np.inf), np.where(q_zero, -np.inf, y))
    return _Pair(p, q, y, p_zero, q_zero, None, given)


def _shift(zp, pp, qq, x, p_zero, q_zero) -> NDArray:
    r"""``c = log q(S) - log sum_S p e^x`` (S the common support), shape (..., 1).

    ``x`` is centred, so ``sum_S p e^x = p(S) + sum_S p expm1(x)`` has absolute
    error ``eps max|x|``: the shift is exact to that scale, which keeps every
    ``y = x + c`` to relative accuracy ``eps`` (a shift error ``delta`` moves
    ``sum p psi(y)`` by ``O(delta D + delta^2)``).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        t = pp * np.expm1(x)
        if p_zero is None:
            out = -np.log1p(np.sum(t, axis=-1, keepdims=True))
        else:
            common = ~(p_zero | q_zero)
            inside = np.sum(np.where(common, t, 0.0), axis=-1, keepdims=True)
            with np.errstate(divide="ignore"):
                log_qs = _log_mass(qq, common, p_zero)
                p_in = np.sum(np.where(common, pp, 0.0), axis=-1, keepdims=True)
                p_off = np.sum(np.where(q_zero, pp, 0.0), axis=-1, keepdims=True)
                out = log_qs - np.where(
                    p_in < 0.5, np.log(p_in + inside), np.log1p(inside - p_off)
                )
    far = ~np.isfinite(out)
    if far.any():  # some p_k e^{x_k} beyond the float range: log-sum-exp with log p
        lp = _rows.run("log_softmax", zp, 1.0, np.dtype(np.float64))
        w = x + lp if p_zero is None else np.where(common, x + lp, -np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = (0.0 if p_zero is None else log_qs) - special.logsumexp(
                w, axis=-1, keepdims=True
            )
        out = np.where(far, exact, out)
    return np.where(np.isnan(out), 0.0, out)


def _log_mass(probs: NDArray, inside: NDArray, outside: NDArray) -> NDArray:
    """``log`` of the mass of ``probs`` on a set, from its own sum or its complement's."""
    mass_in = np.sum(np.where(inside, probs, 0.0), axis=-1, keepdims=True)
    mass_out = np.sum(np.where(outside, probs, 0.0), axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.where(mass_in < 0.5, np.log(mass_in), np.log1p(-mass_out))


def _result(value: NDArray, dtype: np.dtype) -> NDArray:
    out = np.asarray(value).astype(dtype, copy=False)
    return out[()] if out.ndim == 0 else out


# ------------------------------------------------------------ KL and Jeffreys


@tiered
def kl(p: Any, q: Any) -> NDArray:
    r"""Kullback-Leibler divergence ``KL(p || q) = sum_k p_k log(p_k / q_k)``, in nats.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)
        Points of the simplex; batch shapes broadcast.

    Returns
    -------
    ndarray, shape (...)
        ``>= 0``, 0 iff ``p = q``, ``+inf`` iff some ``q_k = 0 < p_k``.

    Notes
    -----
    For distributions, :func:`expfam.special.kl_divergence` of the logits (a
    centred series with non-negative terms); for probability arrays,
    ``sum_k p_k (e^y - 1 - y)``, ``y = log(q_k/p_k)`` formed from the
    probabilities (:func:`alpha_divergence` at ``alpha = -1``). At most 3 ULP
    from the exact value of the points as given.

    Examples
    --------
    >>> round(float(kl([0.5, 0.5], [0.25, 0.75])), 12)  # log 2 - log(3)/2
    0.143841036226
    """
    if is_distribution(p) or is_distribution(q):
        a, b = as_pair(p, q)
        return special.kl_divergence(a.logits, b.logits)
    # probabilities as given: D_-1, the alpha-divergence's KL end
    return _rowwise(p, q, lambda pair: _amari_sum(pair, 0.0, 1.0))


@tiered
def jeffreys(p: Any, q: Any) -> NDArray:
    r"""Jeffreys divergence ``KL(p || q) + KL(q || p) = <z_p - z_q, p - q>``.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)

    Returns
    -------
    ndarray, shape (...)
        ``>= 0``, symmetric, ``+inf`` iff the supports differ.

    Notes
    -----
    ``sum_k y_k (q_k - p_k)`` with ``y = log(q/p)``: every term is ``>= 0``,
    and ``q_k - p_k = p_k expm1(y_k)`` where ``|y_k| <= 1``. At most 4 ULP.

    Examples
    --------
    >>> round(float(jeffreys([0.5, 0.5], [0.25, 0.75])), 12)  # (1/4) log 3
    0.274653072167
    """
    return _rowwise(p, q, _jeffreys_rows)


def _jeffreys_rows(pair: _Pair) -> NDArray:
    terms = pair.difference()
    terms *= pair.y  # both 0 only where y = 0 (p = q = 0 included)
    return np.sum(terms, axis=-1)


# ------------------------------------------------------------ Jensen-Shannon


@tiered
def jensen_shannon(p: Any, q: Any) -> NDArray:
    r"""Jensen-Shannon divergence ``(KL(p || m) + KL(q || m)) / 2``, ``m = (p + q)/2``, in nats.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)

    Returns
    -------
    ndarray, shape (...)
        In ``[0, log 2]``; symmetric; ``log 2`` iff the supports are disjoint.
        Its square root is :func:`jensen_shannon_distance`.

    Notes
    -----
    ``JS = (1/2) sum_k (p_k + q_k) F(y_k)`` with ``y = log(q/p)`` and
    ``F(y) = log 2 - h(1 / (1 + e^y)) = (t y + log1p(-t^2)) / 2``,
    ``t = tanh(y/2)``, for ``|y| <= 2``, and
    ``F = log 2 - log1p(e) - |y| e / (1 + e)``, ``e = exp(-|y|)``, beyond
    (h is the binary entropy in nats). Both forms cancel at most a factor 2.
    At most 6 ULP.

    Examples
    --------
    >>> float(jensen_shannon([1.0, 0.0], [0.0, 1.0]))  # disjoint: log 2
    0.6931471805599453
    """
    return _rowwise(p, q, _jensen_shannon_rows)


def _jensen_shannon_rows(pair: _Pair) -> NDArray:
    y, shape = pair.y, pair.y.shape
    a = np.abs(y, out=work(shape))
    near = a <= 2.0
    # near: F = (t y + log1p(-t^2)) / 2, t = tanh(y/2), on y clipped to [-2, 2]
    yn = np.clip(y, -2.0, 2.0, out=work(shape))
    t = np.multiply(yn, 0.5, out=work(shape))
    np.tanh(t, out=t)
    yn *= t
    t *= t
    np.negative(t, out=t)
    f_near = np.log1p(t, out=t)
    f_near += yn
    f_near *= 0.5
    # far: F = log 2 - log1p(e) - |y| e / (1 + e), e = exp(-|y|), |y| clipped to [2, 800]
    np.clip(a, 2.0, 800.0, out=a)
    e = np.negative(a, out=yn)
    np.exp(e, out=e)
    f_far = np.log1p(e, out=work(shape))
    np.subtract(_LOG2, f_far, out=f_far)
    a *= e
    e += 1.0
    a /= e
    f_far -= a
    terms = blend(near, f_near, f_far)
    terms *= np.add(pair.p, pair.q, out=a)
    return np.fmin(0.5 * np.sum(terms, axis=-1), _LOG2)


@tiered
def jensen_shannon_distance(p: Any, q: Any) -> NDArray:
    r"""Jensen-Shannon distance ``sqrt(JS(p, q))`` (nats), a metric on the simplex.

    This is what :func:`scipy.spatial.distance.jensenshannon` returns (for
    inputs that already sum to 1; scipy renormalizes silently, this raises).

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)

    Returns
    -------
    ndarray, shape (...)
        In ``[0, sqrt(log 2)]``. At most 4 ULP.

    Examples
    --------
    >>> float(jensen_shannon_distance([0.5, 0.5], [0.5, 0.5]))
    0.0
    """
    return np.sqrt(jensen_shannon(p, q))


# ------------------------------------------------------------ Hellinger, Bhattacharyya


def _hellinger_squared(pair: _Pair) -> NDArray:
    """``H^2 = (1/2) sum (sqrt q - sqrt p)^2`` without cancellation.

    From arrays as given, ``(sqrt q - sqrt p)^2 = (q - p)^2 / (p + q + 2 sqrt(p q))``
    with ``q - p`` from :meth:`_Pair.difference` (rows whose squares may have
    underflowed, ``H^2 < 1e-280``, as from logits); from logits,
    ``sqrt q - sqrt p = sqrt p expm1(y/2)`` where ``|y| <= 1``.
    """
    if pair.given is None:
        return _hellinger_squared_by_roots(pair)
    shape = pair.p.shape
    v = pair.difference()
    v *= v
    den = np.multiply(pair.p, pair.q, out=work(shape))
    np.sqrt(den, out=den)
    den *= 2.0
    den += pair.p
    den += pair.q
    den += _SMALLEST  # 0 / tiny = 0 where both are 0; no change to a normal denominator
    v /= den
    h2 = np.fmin(0.5 * np.sum(v, axis=-1), 1.0)
    tiny = h2 < 1e-280
    if tiny.any():
        h2[tiny] = _hellinger_squared_by_roots(pair.rows(tiny))
    return h2


def _hellinger_squared_by_roots(pair: _Pair) -> NDArray:
    """``H^2`` from ``sqrt q - sqrt p``: ``sqrt p expm1(y/2)`` where ``|y| <= 1``."""
    shape = pair.p.shape
    root_p = np.sqrt(pair.p, out=work(shape))
    # where |y| <= 1 the difference cancels: from y (beyond, exp would amplify its rounding)
    near = np.abs(pair.y, out=work(shape)) <= 1.0
    close = np.clip(pair.y, -1.0, 1.0, out=work(shape))
    close *= 0.5
    np.expm1(close, out=close)
    close *= root_p
    far = np.sqrt(pair.q, out=work(shape))
    far -= root_p
    v = blend(near, close, far)
    v *= v
    return np.fmin(0.5 * np.sum(v, axis=-1), 1.0)


@tiered
def hellinger(p: Any, q: Any) -> NDArray:
    r"""Hellinger distance ``H = sqrt(1 - BC) = sqrt((1/2) sum (sqrt p_k - sqrt q_k)^2)``.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)

    Returns
    -------
    ndarray, shape (...)
        In ``[0, 1]``, a metric; 1 iff the supports are disjoint.

    Notes
    -----
    ``sqrt q_k - sqrt p_k = sqrt(p_k) expm1(y_k / 2)``, ``y = log(q/p)``, so
    ``1 - BC`` is never formed. At most 3 ULP.

    Examples
    --------
    >>> float(hellinger([1.0, 0.0], [0.0, 1.0]))
    1.0
    """
    return _rowwise(p, q, lambda pair: np.sqrt(_hellinger_squared(pair)), log_ratio=False)


def _bhattacharyya_coefficient(pair: _Pair) -> NDArray:
    terms = np.sqrt(pair.p, out=work(pair.p.shape))
    terms *= np.sqrt(pair.q, out=work(pair.q.shape))
    return np.fmin(np.sum(terms, axis=-1), 1.0)


@tiered
def bhattacharyya_coefficient(p: Any, q: Any) -> NDArray:
    r"""Bhattacharyya coefficient ``BC = sum_k sqrt(p_k q_k)``.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)

    Returns
    -------
    ndarray, shape (...)
        In ``[0, 1]``; 1 iff ``p = q``, 0 iff the supports are disjoint.

    Notes
    -----
    A sum of non-negative terms ``sqrt(p_k) sqrt(q_k)``: at most 2 ULP.
    ``BC = cos(d_FR / 2)``, ``d_FR`` the Fisher-Rao distance.

    Examples
    --------
    >>> float(bhattacharyya_coefficient([0.5, 0.5], [0.0, 1.0]))  # sqrt(1/2)
    0.7071067811865476
    """
    return _rowwise(p, q, _bhattacharyya_coefficient, log_ratio=False)


@tiered
def bhattacharyya_distance(p: Any, q: Any) -> NDArray:
    r"""Bhattacharyya distance ``-log BC``, half the Rényi divergence of order 1/2.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)

    Returns
    -------
    ndarray, shape (...)
        ``>= 0`` (not a metric), ``+inf`` iff the supports are disjoint.

    Notes
    -----
    ``-log1p(-H^2)`` while ``H^2 <= 1/2`` (``H^2`` from the differences, see
    :func:`hellinger`), ``-log(BC)`` beyond. At most 5 ULP.

    Examples
    --------
    >>> round(float(bhattacharyya_distance([0.5, 0.5], [0.0, 1.0])), 12)  # log(2)/2
    0.34657359028
    """
    return _rowwise(p, q, _bhattacharyya_distance_rows, log_ratio=False)


def _bhattacharyya_distance_rows(pair: _Pair) -> NDArray:
    h2 = _hellinger_squared(pair)
    out = -np.log1p(-np.fmin(h2, 0.5))
    far = h2 > 0.5  # BC < 1/2: -log BC from BC itself
    if far.any():
        with np.errstate(divide="ignore"):
            out[far] = -np.log(_bhattacharyya_coefficient(pair.rows(far)))
    return out


# ------------------------------------------------------------ the alpha family


def _series_coefficients(mu: NDArray | float) -> list:
    """``c_n = (1 + mu + ... + mu**(n-2)) / n!`` for n = 2..21 (``psi_mu = sum c_n y**n``).

    For a float ``mu`` the polynomial ``sum c_n y**(n-2)`` is economized on the
    interval where the series is used (``|y| <= 1``, ``|mu y| <= 1``): the
    Chebyshev terms below ``1e-18`` of the smallest value are dropped, which
    leaves about 14 coefficients of the 20.
    """
    coeffs, geometric = [], 1.0
    for n in range(2, 2 + _SERIES_TERMS):
        coeffs.append(geometric / math.factorial(n))
        geometric = 1.0 + mu * geometric
    if np.ndim(mu) == 0:
        coeffs = _economized(tuple(coeffs), min(1.0, 1.0 / abs(float(mu))) if mu else 1.0)
    return coeffs


@functools.lru_cache(maxsize=64)
def _economized(coeffs: tuple, radius: float) -> list:
    """Coefficients of ``sum c_n y**(n-2)`` on ``[-radius, radius]``, Chebyshev-truncated."""
    cheb = np.polynomial.chebyshev
    scaled = np.array(coeffs) * radius ** np.arange(len(coeffs))
    series = cheb.poly2cheb(scaled)
    smallest = min(abs(cheb.chebval(-1.0, series)), abs(cheb.chebval(1.0, series)))
    tail = np.cumsum(np.abs(series)[::-1])[::-1]  # tail[j] = sum_{i >= j} |a_i|
    degree = int(np.argmax(tail < 1e-18 * smallest))
    kept = cheb.cheb2poly(series[:degree]) / radius ** np.arange(degree)
    return [float(c) for c in kept]


def _amari_terms(p, q, y, mu, nu, p_zero, q_zero) -> NDArray:
    r"""Terms ``p_k psi_mu(y_k)`` of ``D = (mu q + nu p - p^nu q^mu) / (mu nu)`` summed over k.

    For ``mu <= 1/2`` (``nu = 1 - mu >= 1/2``), scalar or shape (..., 1):
    ``psi_mu(y) = (mu e^y + nu - e^{mu y}) / (mu nu)``, by its series where
    ``|y| <= 1`` and ``|mu y| <= 1``, else ``((q - p) - p expm1(mu y) / mu) / nu``,
    with ``p e^{mu y} = p^nu q^mu`` from the powers where ``mu y > 1`` (there
    ``exp`` would amplify the rounding of a large ``y``, and the term is mostly
    ``p e^{mu y}``; where ``mu y < 0`` the exponential is below 1 and the
    rounding it carries is small against the term).
    """
    # whole-array branches selected by np.where; the powers only on the few entries
    # that need them
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        kl_end = not np.any(mu)  # mu = 0: p expm1(mu y) / mu = p y, and mu y = 0
        my = np.multiply(mu, y, out=work(y.shape)) if not kl_end else None
        if kl_end:
            shifted = np.multiply(p, y, out=work(y.shape))
        elif np.all(mu != 0.0):
            shifted = np.expm1(my, out=work(y.shape))
            shifted *= p
            shifted /= mu
        else:  # p expm1(mu y) / mu as p y E(mu y), E(t) = expm1(t) / t (mu = 0 included)
            zero = my == 0.0
            shifted = p * y * np.where(zero, 1.0, np.expm1(my) / np.where(zero, 1.0, my))
        if not kl_end and np.max(my, initial=0.0) > 1.0:
            far = np.nonzero(my > 1.0)
            mu_f, nu_f = (np.broadcast_to(v, y.shape)[far] for v in (mu, nu))
            p_f = p[far]
            shifted[far] = (np.power(p_f, nu_f) * np.power(q[far], mu_f) - p_f) / mu_f
        out = np.subtract(q, p, out=work(y.shape))
        out -= shifted
        out /= nu
        small = np.abs(y, out=shifted) <= 1.0
        if not kl_end:
            small &= np.abs(my, out=my) <= 1.0
        if small.any():
            ys = np.multiply(y, small, out=work(y.shape) if kl_end else my)
            coeffs = _series_coefficients(mu)
            acc = np.multiply(coeffs[-1], ys, out=shifted)
            for c in reversed(coeffs[1:-1]):
                acc += c
                acc *= ys
            acc += coeffs[0]
            acc *= ys
            acc *= ys
            acc *= p
            # out = where(small, acc, out) by arithmetic (a masked copy costs 8 flops here);
            # acc is 0 off small except at y = +-inf, which the boundary rule below sets
            out *= ~small
            out += acc
    mu_b = np.broadcast_to(mu, y.shape)
    if p_zero is not None:  # p = 0 < q: q / nu; q = 0 < p: p / mu, +inf for mu <= 0
        nu_b = np.broadcast_to(nu, y.shape)
        with np.errstate(divide="ignore"):
            off_q = np.where(mu_b > 0.0, p / np.where(mu_b > 0.0, mu_b, 1.0), np.inf)
        out = np.where(p_zero, np.where(q_zero, 0.0, q / nu_b), np.where(q_zero, off_q, out))
    return out


def _amari_sum(pair: _Pair, mu, nu) -> NDArray:
    """``sum_k p_k psi_mu(y_k) = (1 - sum p^nu q^mu) / (mu nu)``, continuous at mu, nu = 0.

    ``mu`` and ``nu = 1 - mu`` are given separately (each formed without
    cancellation); ``mu > 1/2`` is computed as ``(q, p, nu, mu)``, the same sum.
    """
    mu, nu = np.asarray(mu, dtype=np.float64), np.asarray(nu, dtype=np.float64)
    swap = mu > 0.5
    args = (pair.p, pair.q, pair.y, mu, nu, pair.p_zero, pair.q_zero)
    if swap.ndim == 0:
        if swap:
            args = (pair.q, pair.p, -pair.y, nu, mu, pair.q_zero, pair.p_zero)
    elif swap.any():
        s = swap

        def pick(a, b):
            return None if a is None else np.where(s, b, a)

        args = (
            np.where(s, pair.q, pair.p),
            np.where(s, pair.p, pair.q),
            np.where(s, -pair.y, pair.y),
            np.where(s, nu, mu),
            np.where(s, mu, nu),
            pick(pair.p_zero, pair.q_zero),
            pick(pair.q_zero, pair.p_zero),
        )
    return np.sum(_amari_terms(*args), axis=-1)


def _log_power_sum(pair: _Pair, lam, mu) -> NDArray:
    """``log sum_k p_k^lam q_k^mu`` by log-sum-exp (for sums far from 1), shape (...)."""
    lp, lq = pair.log_probs()
    with np.errstate(invalid="ignore"):
        w = np.where(np.isneginf(lp) & np.isneginf(lq), -np.inf, lam * lp + mu * lq)
    return special.logsumexp(w, axis=-1)


def _real(value: Any, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _order(order: Any) -> float:
    out = _real(order, "order")
    if not out > 0.0:
        raise ValueError(f"order must be > 0, got {order!r}")
    return out


@tiered
def alpha_divergence(p: Any, q: Any, alpha: float) -> NDArray:
    r"""Amari's alpha-divergence ``D_alpha(p : q)``; ``alpha -> -1`` is ``KL(p || q)``.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)
    alpha : float
        Any finite real. ``-1`` gives ``KL(p || q)``, ``+1`` gives
        ``KL(q || p)``, ``0`` gives ``4 H^2 = 4 (1 - BC)``.

    Returns
    -------
    ndarray, shape (...)
        ``>= 0``, 0 iff ``p = q``; ``D_alpha(p : q) = D_-alpha(q : p)``.
        ``+inf`` where some ``q_k = 0 < p_k`` if ``alpha <= -1``, where some
        ``p_k = 0 < q_k`` if ``alpha >= 1``; finite otherwise.

    Notes
    -----
    ``D_alpha = 4 / (1 - alpha^2) (1 - sum_k p_k^((1-alpha)/2) q_k^((1+alpha)/2))``
    computed as ``sum_k p_k psi_mu(y_k)``, ``y = log(q/p)``,
    ``mu = (1 + alpha)/2``: ``psi_mu(y) = (mu e^y + 1 - mu - e^{mu y}) / (mu (1 - mu))
    = sum_{n >= 2} (1 + mu + ... + mu^(n-2)) y^n / n!``, non-negative and
    continuous in ``mu`` (so at and around ``alpha = +-1`` no special case
    takes over: ``psi_0(y) = e^y - 1 - y`` gives the KL); where ``|mu y| >= 1/2``,
    ``p^((1-alpha)/2) q^((1+alpha)/2)`` is formed by powers. At most 10 ULP
    against mpmath at 50+ digits (tested for ``|alpha| <= 7``), from ``q -> p``
    to the boundary.

    Examples
    --------
    >>> p, q = [0.5, 0.5], [0.25, 0.75]
    >>> bool(abs(alpha_divergence(p, q, -1.0) - kl(p, q)) < 1e-16)
    True
    >>> round(float(alpha_divergence(p, q, 0.0)), 12)  # 4 H^2 = 4 - sqrt(2) - sqrt(6)
    0.136296694844
    """
    a = _real(alpha, "alpha")
    return _rowwise(p, q, lambda pair: _amari_sum(pair, 0.5 + 0.5 * a, 0.5 - 0.5 * a))


@tiered
def tsallis_divergence(p: Any, q: Any, order: float) -> NDArray:
    r"""Tsallis relative entropy ``(1 - sum_k p_k^l q_k^(1-l)) / (1 - l)`` of order ``l > 0``.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)
    order : float
        ``l > 0``; ``l = 1`` (and the limit there) is ``KL(p || q)``.

    Returns
    -------
    ndarray, shape (...)
        ``>= 0``, 0 iff ``p = q``; ``+inf`` where ``q_k = 0 < p_k`` if ``l >= 1``.

    Notes
    -----
    ``T_l = l D_alpha`` with ``alpha = 1 - 2 l`` (:func:`alpha_divergence`):
    at most 10 ULP (tested for orders up to 4).

    Examples
    --------
    >>> round(float(tsallis_divergence([0.5, 0.5], [0.25, 0.75], 2.0)), 12)  # sum p^2/q - 1
    0.333333333333
    """
    lam = _order(order)
    return _rowwise(p, q, lambda pair: lam * _amari_sum(pair, 1.0 - lam, lam))


@tiered
def renyi_divergence(p: Any, q: Any, order: float) -> NDArray:
    r"""Rényi divergence ``log(sum_k p_k^l q_k^(1-l)) / (l - 1)`` of order ``l > 0``.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)
    order : float
        ``l > 0``; ``l = 1`` (and the limit there) is ``KL(p || q)``,
        ``l = 1/2`` is twice the Bhattacharyya distance.

    Returns
    -------
    ndarray, shape (...)
        ``>= 0``, 0 iff ``p = q``, non-decreasing in ``l``; ``+inf`` where
        ``q_k = 0 < p_k`` if ``l >= 1``, where the supports are disjoint if ``l < 1``.

    Notes
    -----
    With ``mu = 1 - l`` and ``D = D_alpha`` (``alpha = 1 - 2 l``),
    ``sum p^l q^(1-l) = 1 - l mu D``, so ``R_l = l D log1p(t) / t``,
    ``t = -l mu D`` (continuous at ``l = 1``); where ``|t| > 1/2``,
    ``logsumexp(l log p + mu log q) / (l - 1)``. At most 10 ULP (tested for
    orders up to 4).

    Examples
    --------
    >>> float(renyi_divergence([0.5, 0.5], [0.0, 1.0], 0.5))  # 2 x Bhattacharyya: log 2
    0.6931471805599453
    """
    lam = _order(order)
    return _rowwise(p, q, lambda pair: _renyi_rows(pair, lam))


def _renyi_rows(pair: _Pair, lam: float) -> NDArray:
    mu = 1.0 - lam
    d = _amari_sum(pair, mu, lam)
    if mu == 0.0:
        return d
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.fmax(-lam * mu * d, -1.0)
        ratio = np.where(t == 0.0, 1.0, np.log1p(t) / np.where(t == 0.0, 1.0, t))
        out = lam * d * ratio
    far = ~(np.abs(t) <= 0.5)  # sum p^l q^(1-l) far from 1, or D overflowed
    if far.any():
        out[far] = _log_power_sum(pair.rows(far), lam, mu) / (lam - 1.0)
    return np.fmax(out, 0.0)


# ------------------------------------------------------------ Chernoff


@tiered
def chernoff_information(p: Any, q: Any) -> tuple[NDArray, NDArray]:
    r"""Chernoff information ``C = max_l -log sum_k p_k^l q_k^(1-l)`` and its exponent ``l*``.

    Parameters
    ----------
    p, q : Categorical, Bernoulli or array_like, shape (..., K)

    Returns
    -------
    information : ndarray, shape (...)
        ``C >= 0``, symmetric, 0 iff ``p = q``, ``+inf`` iff the supports are
        disjoint; ``C`` is at least :func:`bhattacharyya_distance`. At most 8 ULP.
    exponent : ndarray, shape (...)
        ``l*`` in ``[0, 1]`` (1/2 where ``p = q``). The point
        ``p_l ~ p^l q^(1-l)`` on the e-geodesic has
        ``KL(p_l || p) = KL(p_l || q) = C`` when ``0 < l* < 1``.

    Notes
    -----
    ``f(l) = -log sum p^l q^(1-l)`` is concave with
    ``f'(l) = E_{p_l}[log(q/p)]`` over the common support: ``l*`` is its root
    (safeguarded Newton with ``f'' = -Var_{p_l}(log(q/p))``), or an end of
    ``[0, 1]`` when ``f'`` keeps its sign (supports that differ). The value
    is ``-log1p(-l mu D_alpha)``, ``mu = 1 - l*``, ``alpha = 1 - 2 l*``
    (no cancellation as ``q -> p``); at an end, ``-log`` of the mass of the
    common support. ``l*`` itself is stationary, known to about
    ``eps / max |log(q/p)|``, which moves ``C`` only in second order.

    Examples
    --------
    >>> c, lam = chernoff_information([0.5, 0.5], [0.25, 0.75])
    >>> round(float(c), 10), round(float(lam), 10)
    (0.0346881852, 0.5119228679)
    """
    return _rowwise(p, q, _chernoff_rows, outputs=2)


def _chernoff_rows(pair: _Pair) -> tuple[NDArray, NDArray]:
    lam, common = _chernoff_exponent(pair)
    lam_e = lam[..., None]
    mu_e = 1.0 - lam_e
    with np.errstate(invalid="ignore", divide="ignore"):
        interior = (lam > 0.0) & (lam < 1.0)
        d = _amari_sum(
            pair,
            np.where(interior[..., None], mu_e, 0.5),
            np.where(interior[..., None], lam_e, 0.5),
        )
        value = -np.log1p(-np.fmin(lam * (1.0 - lam) * d, 1.0))
        # at an end: -log of the mass of the common support under p (l = 1) or q (l = 0)
        mass = np.where(lam[..., None] == 1.0, pair.p, pair.q)
        end = -_log_mass(mass, common, ~common)[..., 0]
    far = interior & (lam * (1.0 - lam) * d > 0.5)  # sum p^l q^(1-l) < 1/2: in logs
    if far.any():
        with np.errstate(invalid="ignore"):
            value = np.where(far, -_log_power_sum(pair, lam_e, mu_e), value)
    value = np.where(interior, value, end)
    value = np.where(common.any(axis=-1), value, np.inf)
    return np.fmax(value, 0.0), lam


def _chernoff_exponent(pair: _Pair) -> tuple[NDArray, NDArray]:
    """``l*`` per row and the common support (mask (..., K))."""
    common = np.isfinite(pair.y)
    rows = common.any(axis=-1, keepdims=True)
    mask = common | ~rows  # rows without a common support: any finite stand-in
    y = np.where(common, pair.y, 0.0)
    lp = pair.log_probs()[0]  # not log(p): p may underflow where the logit is finite
    base = np.where(common, lp, np.where(rows, -np.inf, 0.0))

    def slope(lam: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        """``f'(l) = E_{p_l}[y]``, ``Var_{p_l}(y) = -f''(l)`` and ``E_{p_l}|y|``."""
        w = np.where(mask, special.softmax(base + (1.0 - lam[..., None]) * y), 0.0)
        mean = np.sum(w * y, axis=-1)
        var = np.sum(w * (y - mean[..., None]) ** 2, axis=-1)
        return mean, var, np.sum(w * np.abs(y), axis=-1)

    shape = y.shape[:-1]
    # f' decreases from f'(0) to f'(1); with equal supports f'(0) = KL(q || p) > 0 >
    # -KL(p || q) = f'(1) (whatever their rounding): the root is inside. With supports
    # that differ it may be an end, where f is largest.
    same = np.ones(shape, dtype=bool)
    if pair.p_zero is not None:
        same = np.all(pair.p_zero == pair.q_zero, axis=-1)
    g0 = slope(np.zeros(shape))[0]
    g1 = slope(np.ones(shape))[0]
    at_zero, at_one = ~same & (g0 <= 0.0) & (g1 < 0.0), ~same & (g1 >= 0.0) & (g0 > 0.0)
    lam = np.where(at_zero, 0.0, np.where(at_one, 1.0, 0.5))
    active = ~at_zero & ~at_one & rows[..., 0]
    lo, hi = np.zeros(shape), np.ones(shape)
    for _ in range(100):
        if not active.any():
            break
        g, var, size = slope(lam)
        lo = np.where(active & (g > 0.0), lam, lo)
        hi = np.where(active & (g < 0.0), lam, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = lam + g / var
        # stop where f' is below its own rounding noise or the step below rounding
        done = (np.abs(g) <= 1e-15 * size) | (np.abs(step - lam) <= 4e-16) | (hi - lo <= 4e-16)
        new = np.where((step > lo) & (step < hi), step, 0.5 * (lo + hi))
        lam = np.where(active & ~done, new, lam)
        active &= ~done
    near = same & (np.max(np.abs(y), axis=-1) <= 1e-3)
    if near.any():  # f' from rounded weights is noise of size eps |y| here: refine
        lam[near] = _near_chernoff_exponent(pair.p[near], y[near], lam[near])
    return lam, common


def _near_chernoff_exponent(p: NDArray, y: NDArray, lam: NDArray) -> NDArray:
    r"""Newton on ``f'(l) = sum p t(y) / sum p e^{mu y}``, ``t(y) = y e^{mu y} - expm1(y)``.

    Rows with ``|y| <= 1e-3`` (shape (R, K)): ``sum p expm1(y) = 0`` is subtracted
    from ``sum p y e^{mu y}``, so each term is ``O(y^2)`` and ``f'`` has
    absolute error ``eps y^2``, not ``eps |y|``; ``t`` by its series
    ``sum_{n >= 2} (n mu^(n-1) - 1) y^n / n!``.
    """
    for _ in range(4):
        mu = (1.0 - lam)[:, None]
        acc = np.zeros_like(y)
        for n in range(9, 1, -1):
            acc = acc * y + (n * mu ** (n - 1) - 1.0) / math.factorial(n)
        w = p * np.exp(mu * y)
        total = np.sum(w, axis=-1)
        g = np.sum(p * (y * y * acc), axis=-1) / total
        var = np.sum(w * (y - g[:, None]) ** 2, axis=-1) / total
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.clip(np.where(var > 0.0, lam + g / var, lam), 0.0, 1.0)
    return lam
