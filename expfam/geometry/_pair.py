r"""Two points of the simplex as one object: probabilities, log-ratio, supports.

Every divergence of :mod:`expfam.geometry.divergences` and
:mod:`expfam.geometry.chernoff` is a sum over classes of a function of the
log-ratio ``y = log(q_k / p_k)``. :func:`rowwise` reads two points (by the rule of
:mod:`expfam.geometry._points`), broadcasts them, and hands a kernel one
:class:`Pair` per block of rows, with ``y`` formed to relative accuracy ``eps``:

- from the probabilities when both points are arrays
  (``+-log1p(|q - p| / min(p, q))``, one ``log1p`` per entry; the arrays are the
  points, and their rounded logarithms would move them by ``eps |log p|``);
- from the logits when either is a distribution (``z_q - z_p`` in double-double,
  centred at its mean under ``p``, plus the one constant that makes
  ``sum_k p_k e^{y_k} = 1``).

``y`` is ``+inf`` where ``p_k = 0 < q_k``, ``-inf`` where ``q_k = 0 < p_k`` and 0
where both are 0. Rows are processed in cache-sized blocks (on all cores for large
batches) on work arrays reused from block to block (:mod:`expfam.geometry._blocks`);
probability arrays are validated from the row sums the blocks form anyway.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from expfam import special
from expfam._core import dd as _dd
from expfam.geometry import _points
from expfam.geometry._blocks import blend, errstate_ignored, for_blocks, work
from expfam.geometry._points import as_log_pair, as_probs_pair, is_distribution

__all__ = ["Pair", "log_mass", "rowwise"]


@dataclass(frozen=True)
class Pair:
    """Rows of two points in float64: probabilities, log-ratio ``y = log(q/p)``, supports."""

    p: NDArray  # (R, K)
    q: NDArray
    y: NDArray | None  # +inf where p = 0 < q, -inf where q = 0 < p, 0 where both are 0
    p_zero: NDArray | None  # None when both points have full support
    q_zero: NDArray | None
    logits: tuple[NDArray, NDArray] | None  # None: the points were given as probabilities
    # probability arrays as given: P, Q, Q - P, and the row sums of P and Q, shape (R, 1)
    given: tuple[NDArray, ...] | None = None

    @property
    def exact(self) -> bool:
        """Whether ``p`` and ``q`` are the points themselves (arrays as given, summing to 1)."""
        return self.given is not None and self.p is self.given[0] and self.q is self.given[1]

    def log_probs(self) -> tuple[NDArray, NDArray]:
        """``log p`` and ``log q``, for the far-tail branches."""
        if self.logits is None:
            with np.errstate(divide="ignore"):
                return np.log(self.p), np.log(self.q)
        return tuple(special.log_softmax(z, axis=-1) for z in self.logits)

    def rows(self, selected: NDArray) -> Pair:
        """The pair on the rows where the mask ``selected`` (R,) is true, with its ``y``."""
        if self.y is None:  # arrays as given, read without their log-ratio
            return _prob_pair(self.given[0][selected], self.given[1][selected], np.float64)[0]

        def pick(a):
            return None if a is None else a[selected]

        logits = None if self.logits is None else tuple(pick(z) for z in self.logits)
        given = None if self.given is None else tuple(pick(a) for a in self.given)
        parts = (self.p, self.q, self.y, self.p_zero, self.q_zero)
        return Pair(*(pick(a) for a in parts), logits, given)

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


def rowwise(
    p: Any, q: Any, fn: Callable[[Pair], Any], outputs: int = 1, log_ratio: bool = True
) -> Any:
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
        (zp, pp, _), (zq, qq, _) = as_log_pair(p, q)
        arrays = (zp, zq, pp, qq)
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


def _logit_pair(zp: NDArray, zq: NDArray, pp: NDArray, qq: NDArray) -> Pair:
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
    return Pair(pp, qq, y, p_zero, q_zero, (zp, zq))


def _prob_pair(
    big_p: NDArray, big_q: NDArray, dtype: np.dtype, log_ratio: bool = True
) -> tuple[Pair, bool]:
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
        return Pair(p, q, None, None, None, None, given), ok
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
        return Pair(p, q, y, None, None, None, given), ok
    return _boundary_prob_rows(big_p, big_q, p, q, y, regular, given), ok


def _boundary_prob_rows(big_p, big_q, p, q, y, regular, given) -> Pair:
    """The pair with zeros and ratios out of the float range (``|y| >= 690``) by logs."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.log(np.sum(big_p, axis=-1, keepdims=True) / np.sum(big_q, axis=-1, keepdims=True))
        exact = (np.log(big_q) - np.log(big_p)) + c
        y = np.where(regular[:, None] | (np.abs(y) < 690.0), y, exact)
    p_zero, q_zero = p == 0.0, q == 0.0
    y = np.where(p_zero, np.where(q_zero, 0.0, np.inf), np.where(q_zero, -np.inf, y))
    return Pair(p, q, y, p_zero, q_zero, None, given)


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
                log_qs = log_mass(qq, common, p_zero)
                p_in = np.sum(np.where(common, pp, 0.0), axis=-1, keepdims=True)
                p_off = np.sum(np.where(q_zero, pp, 0.0), axis=-1, keepdims=True)
                out = log_qs - np.where(
                    p_in < 0.5, np.log(p_in + inside), np.log1p(inside - p_off)
                )
    far = ~np.isfinite(out)
    if far.any():  # some p_k e^{x_k} beyond the float range: log-sum-exp with log p
        lp = special.log_softmax(zp, axis=-1)
        w = x + lp if p_zero is None else np.where(common, x + lp, -np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = (0.0 if p_zero is None else log_qs) - special.logsumexp(
                w, axis=-1, keepdims=True
            )
        out = np.where(far, exact, out)
    return np.where(np.isnan(out), 0.0, out)


def log_mass(probs: NDArray, inside: NDArray, outside: NDArray) -> NDArray:
    """``log`` of the mass of ``probs`` on a set, from its own sum or its complement's."""
    mass_in = np.sum(np.where(inside, probs, 0.0), axis=-1, keepdims=True)
    mass_out = np.sum(np.where(outside, probs, 0.0), axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.where(mass_in < 0.5, np.log(mass_in), np.log1p(-mass_out))


def _result(value: NDArray, dtype: np.dtype) -> NDArray:
    out = np.asarray(value).astype(dtype, copy=False)
    return out[()] if out.ndim == 0 else out
