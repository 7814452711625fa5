r"""Divergences between categorical distributions, accurate as ``q -> p`` and on the boundary.

Every function takes two points of the simplex (distributions such as
:class:`~expfam.Categorical` and :class:`~expfam.Bernoulli`, by the protocol of
:mod:`expfam.geometry._points`, or probabilities on the last axis) and broadcasts
over their batch shapes. The pair of points is :class:`expfam.geometry._pair.Pair`;
the Chernoff information is in :mod:`expfam.geometry.chernoff`.

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
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from expfam import special
from expfam._core import dd as _dd
from expfam._core.dispatch import tiered
from expfam.geometry._blocks import blend, work
from expfam.geometry._pair import Pair, rowwise
from expfam.geometry._points import as_log_pair, is_distribution

__all__ = [
    "alpha_divergence",
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
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


# ------------------------------------------------------------ KL and Jeffreys


@tiered
def kl(p: Any, q: Any) -> NDArray:
    r"""KL(p || q) of two points given as probabilities (or distributions), in nats.

    Takes probabilities, not logits: for logits use
    :func:`expfam.special.kl_divergence`.

    .. math::

        \mathrm{KL}(p \,\|\, q) = \sum_k p_k \log \frac{p_k}{q_k}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
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
    probabilities (:func:`alpha_divergence` at ``alpha = -1``). From the exact
    value of the points as given: at most 6 ULP from probability arrays (each
    term within 2-3 ULP, then summed over K; measured 5.5 ULP over random pairs
    with K <= 7, tests/geometry/test_adversarial.py), at most 3 ULP from
    distributions (the logits kernel).

    Examples
    --------
    >>> round(float(kl([0.5, 0.5], [0.25, 0.75])), 12)  # log 2 - log(3)/2
    0.143841036226
    """
    if is_distribution(p) or is_distribution(q):
        (zp, _, _), (zq, _, _) = as_log_pair(p, q)
        return special.kl_divergence(zp, zq)
    # probabilities as given: D_-1, the alpha-divergence's KL end
    return rowwise(p, q, lambda pair: _amari_sum(pair, 0.0, 1.0))


@tiered
def jeffreys(p: Any, q: Any) -> NDArray:
    r"""Jeffreys divergence ``KL(p || q) + KL(q || p) = <z_p - z_q, p - q>``.

    .. math::

        J(p, q) = \mathrm{KL}(p \,\|\, q) + \mathrm{KL}(q \,\|\, p)
            = \sum_k (p_k - q_k) \log \frac{p_k}{q_k}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.

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
    return rowwise(p, q, _jeffreys_rows)


def _jeffreys_rows(pair: Pair) -> NDArray:
    terms = pair.difference()
    terms *= pair.y  # both 0 only where y = 0 (p = q = 0 included)
    return np.sum(terms, axis=-1)


# ------------------------------------------------------------ Jensen-Shannon


@tiered
def jensen_shannon(p: Any, q: Any) -> NDArray:
    r"""Jensen-Shannon divergence ``(KL(p || m) + KL(q || m)) / 2``, ``m = (p + q)/2``, in nats.

    .. math::

        \mathrm{JS}(p, q) = \tfrac12 \mathrm{KL}(p \,\|\, m)
            + \tfrac12 \mathrm{KL}(q \,\|\, m), \quad m = \tfrac12 (p + q)

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.

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
    return rowwise(p, q, _jensen_shannon_rows)


def _jensen_shannon_rows(pair: Pair) -> NDArray:
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

    .. math::

        d_{\mathrm{JS}}(p, q) = \sqrt{\mathrm{JS}(p, q)}

    This is what :func:`scipy.spatial.distance.jensenshannon` returns (for
    inputs that already sum to 1; scipy renormalizes silently, this raises).

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.

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


def _hellinger_squared(pair: Pair) -> NDArray:
    """``H^2 = (1/2) sum (sqrt q - sqrt p)^2`` without cancellation.

    From arrays as given, ``(sqrt q - sqrt p)^2 = (q - p)^2 / (p + q + 2 sqrt(p q))``
    with ``q - p`` from :meth:`Pair.difference` (rows whose squares may have
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


def _hellinger_squared_by_roots(pair: Pair) -> NDArray:
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

    .. math::

        H(p, q) = \sqrt{\tfrac12 \sum_k \big(\sqrt{p_k} - \sqrt{q_k}\big)^2}
            = \sqrt{1 - \mathrm{BC}(p, q)}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.

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
    return rowwise(p, q, lambda pair: np.sqrt(_hellinger_squared(pair)), log_ratio=False)


def _bhattacharyya_coefficient(pair: Pair) -> NDArray:
    terms = np.sqrt(pair.p, out=work(pair.p.shape))
    terms *= np.sqrt(pair.q, out=work(pair.q.shape))
    return np.fmin(np.sum(terms, axis=-1), 1.0)


@tiered
def bhattacharyya_coefficient(p: Any, q: Any) -> NDArray:
    r"""Bhattacharyya coefficient ``BC = sum_k sqrt(p_k q_k)``.

    .. math::

        \mathrm{BC}(p, q) = \sum_k \sqrt{p_k q_k}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.

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
    return rowwise(p, q, _bhattacharyya_coefficient, log_ratio=False)


@tiered
def bhattacharyya_distance(p: Any, q: Any) -> NDArray:
    r"""Bhattacharyya distance ``-log BC``, half the Rényi divergence of order 1/2.

    .. math::

        D_B(p, q) = -\log \sum_k \sqrt{p_k q_k}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.

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
    return rowwise(p, q, _bhattacharyya_distance_rows, log_ratio=False)


def _bhattacharyya_distance_rows(pair: Pair) -> NDArray:
    h2 = _hellinger_squared(pair)
    out = -np.log1p(-np.fmin(h2, 0.5))
    far = h2 > 0.5  # BC < 1/2: -log BC from BC itself
    if far.any():
        with np.errstate(divide="ignore"):
            out[far] = -np.log(_bhattacharyya_coefficient(pair.rows(far)))
    return out


# ------------------------------------------------------------ the alpha family


def _series_coefficients(mu: NDArray | float) -> tuple[list, float]:
    """Coefficients of ``psi_mu(y) = y^2 sum_n c_n (y / r)^(n-2)`` and the radius ``r``.

    ``c_n = (1 + mu + ... + mu^(n-2)) r^(n-2) / n!`` for n = 2..21, with
    ``r = min(1, 1 / |mu|)`` for a float ``mu`` (1 for an array): the series is
    used where ``|y| <= 1`` and ``|mu y| <= 1``, so ``|y / r| <= 1``, and the scaled
    coefficients neither overflow nor underflow for any ``mu`` (``alpha = 1e20``
    included). For a float ``mu`` the polynomial is economized on ``[-1, 1]``: the
    Chebyshev terms below ``1e-18`` of the smallest value are dropped, which
    leaves about 14 coefficients of the 20.
    """
    scalar = np.ndim(mu) == 0
    radius = min(1.0, 1.0 / abs(float(mu))) if scalar and mu else 1.0
    step = mu * radius  # |step| <= 1 for a float mu
    coeffs, scaled = [], 1.0  # (1 + mu + ... + mu^(n-2)) r^(n-2)
    for n in range(2, 2 + _SERIES_TERMS):
        coeffs.append(scaled / math.factorial(n))
        scaled = radius ** (n - 1) + step * scaled
    if scalar:
        coeffs = _economized(tuple(float(c) for c in coeffs))
    return coeffs, radius


@functools.lru_cache(maxsize=64)
def _economized(coeffs: tuple) -> list:
    """Coefficients of ``sum c_n u**(n-2)`` on ``[-1, 1]``, Chebyshev-truncated."""
    cheb = np.polynomial.chebyshev
    series = cheb.poly2cheb(np.array(coeffs))
    smallest = min(abs(cheb.chebval(-1.0, series)), abs(cheb.chebval(1.0, series)))
    tail = np.cumsum(np.abs(series)[::-1])[::-1]  # tail[j] = sum_{i >= j} |a_i|
    below = tail < 1e-18 * smallest
    degree = int(np.argmax(below)) if below.any() else len(series)
    return [float(c) for c in cheb.cheb2poly(series[: max(degree, 1)])]


def _amari_terms(p, q, y, mu, nu, p_zero, q_zero, exact: bool = False) -> NDArray:
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
            p_f, my_f = p[far], my[far]
            # p e^{mu y} = p^nu q^mu: by powers (rounding amplified by |mu| + |nu|, none
            # where p and q are the arrays as given) unless exp(mu y + log p) amplifies less
            # (|mu| ~ 1e20: the points' rounding, amplified by |mu|, would be all there is)
            by_powers = np.abs(mu_f) + np.abs(nu_f) < my_f
            if exact:  # p and q are the points: their powers are exact to an ULP
                by_powers[:] = True
            product = np.exp(my_f + np.log(p_f))
            if by_powers.any():
                product[by_powers] = _power_product(
                    p_f[by_powers], q[far][by_powers], mu_f[by_powers], nu_f[by_powers]
                )
            shifted[far] = (product - p_f) / mu_f
        out = np.subtract(q, p, out=work(y.shape))
        if not kl_end:
            # |y| <= 1 < |mu y|: q - p as p expm1(y), consistent with y to eps (the rounded
            # q - p is not: at |mu| ~ 1e20 its error would outweigh p expm1(mu y) / mu)
            close = np.nonzero((np.abs(y) <= 1.0) & (np.abs(my) > 1.0))
            if close[0].size:
                out[close] = p[close] * np.expm1(y[close])
        out -= shifted
        out /= nu
        small = np.abs(y, out=shifted) <= 1.0
        if not kl_end:
            small &= np.abs(my, out=my) <= 1.0
        if small.any():
            ys = np.multiply(y, small, out=work(y.shape) if kl_end else my)
            coeffs, radius = _series_coefficients(mu)
            us = ys if radius == 1.0 else np.multiply(ys, 1.0 / radius, out=work(y.shape))
            acc = np.multiply(coeffs[-1], us, out=shifted)
            for c in reversed(coeffs[1:-1]):
                acc += c
                acc *= us
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


def _power_product(p: NDArray, q: NDArray, mu: NDArray, nu: NDArray) -> NDArray:
    """``p^nu q^mu`` (``nu = 1 - mu``), finite and positive wherever the product is.

    ``p^nu`` and ``q^mu`` are each accurate to an ULP but may under- or overflow
    where their product does not (``p = 1e-150, q = 1e-200, nu = 3, mu = -2``:
    ``0 * inf``). There the binary exponents are taken out: with
    ``p = m_p 2^e_p`` and ``q = m_q 2^e_q`` (``m`` in ``[1/2, 1)``),
    ``p^nu q^mu = m_p^nu m_q^mu 2^E``, ``E = nu e_p + mu e_q`` formed exactly in
    double-double, so the result keeps the accuracy of the powers.
    """
    out = np.power(p, nu) * np.power(q, mu)
    lost = ~((out > 0.0) & (out < np.inf)) & (p > 0.0) & (q > 0.0)
    if lost.any():
        mu_l, nu_l = mu[lost], nu[lost]
        m_p, e_p = np.frexp(p[lost])
        m_q, e_q = np.frexp(q[lost])
        a_hi, a_lo = _dd.two_prod(nu_l, e_p.astype(np.float64))
        b_hi, b_lo = _dd.two_prod(mu_l, e_q.astype(np.float64))
        e_hi, e_lo = _dd.two_sum(a_hi, b_hi)
        e_lo = e_lo + (a_lo + b_lo)
        whole = np.floor(e_hi)
        fraction = (e_hi - whole) + e_lo  # in [0, 1) up to rounding: 2^fraction is exact to eps
        mantissa = np.power(m_p, nu_l) * np.power(m_q, mu_l) * np.exp2(fraction)
        limit = np.clip(whole, -2200.0, 2200.0).astype(np.int64)  # beyond: 0 or inf anyway
        split = np.ldexp(mantissa, limit)
        # exponents so large (|mu| ~ 1e20) that the mantissas' powers are 0 * inf: the
        # product is p (q/p)^mu, 0 or inf unless the ratio is 1
        with np.errstate(invalid="ignore"):
            ratio = p[lost] * np.power(q[lost] / p[lost], mu_l)
        out[lost] = np.where(np.isnan(split), ratio, split)
    return out


def _amari_sum(pair: Pair, mu, nu) -> NDArray:
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
    return np.sum(_amari_terms(*args, pair.exact), axis=-1)


def _log_power_sum(pair: Pair, lam, mu) -> NDArray:
    """``log sum_k p_k^lam q_k^mu`` by log-sum-exp (for sums far from 1), shape (...)."""
    lp, lq = pair.log_probs()
    with np.errstate(invalid="ignore"):
        w = np.where(np.isneginf(lp) & np.isneginf(lq), -np.inf, lam * lp + mu * lq)
    return special.logsumexp(w, axis=-1)


def _real(value: Any, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a real number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return out


def _order(order: Any) -> float:
    out = _real(order, "order")
    if not out > 0.0:
        raise ValueError(f"order: expected a number > 0, got {order!r}")
    return out


@tiered
def alpha_divergence(p: Any, q: Any, alpha: float) -> NDArray:
    r"""Amari's alpha-divergence ``D_alpha(p : q)``; ``alpha -> -1`` is ``KL(p || q)``.

    .. math::

        D_\alpha(p : q)
            = \frac{4}{1 - \alpha^2} \Big(1 - \sum_k p_k^{(1-\alpha)/2} q_k^{(1+\alpha)/2}\Big)

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.
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
    ``p^((1-alpha)/2) q^((1+alpha)/2)`` is formed by powers (with the binary
    exponents taken out where a power under- or overflows alone), or as
    ``exp(mu y + log p)`` where the powers would amplify the rounding of the
    points more. At most 10 ULP against mpmath at 50+ digits (tested for
    ``|alpha| <= 7``), from ``q -> p`` to the boundary; within ``1e-13`` relative
    for ``|alpha| <= 9`` at entries down to the subnormals; for larger ``|alpha|``
    the error grows as ``eps |alpha log(q_k/p_k)|`` (``+inf`` once the value
    overflows, as at ``alpha = 1e20`` for any ``p != q``).

    Examples
    --------
    >>> p, q = [0.5, 0.5], [0.25, 0.75]
    >>> bool(abs(alpha_divergence(p, q, -1.0) - kl(p, q)) < 1e-16)
    True
    >>> round(float(alpha_divergence(p, q, 0.0)), 12)  # 4 H^2 = 4 - sqrt(2) - sqrt(6)
    0.136296694844
    """
    a = _real(alpha, "alpha")
    return rowwise(p, q, lambda pair: _amari_sum(pair, 0.5 + 0.5 * a, 0.5 - 0.5 * a))


@tiered
def tsallis_divergence(p: Any, q: Any, order: float) -> NDArray:
    r"""Tsallis relative entropy ``(1 - sum_k p_k^l q_k^(1-l)) / (1 - l)`` of order ``l > 0``.

    .. math::

        T_\lambda(p \,\|\, q) = \frac{1 - \sum_k p_k^\lambda q_k^{1-\lambda}}{1 - \lambda}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.
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
    return rowwise(p, q, lambda pair: lam * _amari_sum(pair, 1.0 - lam, lam))


@tiered
def renyi_divergence(p: Any, q: Any, order: float) -> NDArray:
    r"""Rényi divergence ``log(sum_k p_k^l q_k^(1-l)) / (l - 1)`` of order ``l > 0``.

    .. math::

        R_\lambda(p \,\|\, q) = \frac{1}{\lambda - 1} \log \sum_k p_k^\lambda q_k^{1-\lambda}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.
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
    ``t = -l mu D`` (continuous at ``l = 1``); where ``t < -1/2`` or ``D`` overflows,
    ``logsumexp(l log p + mu log q) / (l - 1)``. At most 10 ULP (tested for
    orders up to 4).

    Examples
    --------
    >>> float(renyi_divergence([0.5, 0.5], [0.0, 1.0], 0.5))  # 2 x Bhattacharyya: log 2
    0.6931471805599453
    """
    lam = _order(order)
    return rowwise(p, q, lambda pair: _renyi_rows(pair, lam))


def _renyi_rows(pair: Pair, lam: float) -> NDArray:
    mu = 1.0 - lam
    d = _amari_sum(pair, mu, lam)
    if mu == 0.0:
        return d
    equal = d == 0.0  # p = q: exactly 0 (t = -l mu D would be inf * 0 for huge orders)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.fmax(-lam * mu * d, -1.0)
        ratio = np.where(t == 0.0, 1.0, np.log1p(t) / np.where(t == 0.0, 1.0, t))
        out = lam * d * ratio
    far = ~(
        (t >= -0.5) & (t < np.inf)
    )  # sum p^l q^(1-l) below 1/2 (log1p would lose it), or D overflowed
    if far.any():
        out[far] = _log_power_sum(pair.rows(far), lam, mu) / (lam - 1.0)
    return np.where(equal, 0.0, np.fmax(out, 0.0))
