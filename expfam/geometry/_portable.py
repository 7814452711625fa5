"""The portable tier of :mod:`expfam.geometry`: divergences and geodesics in array-API operations.

:func:`expfam._core.dispatch.tiered` sends a call here when the points are
torch, JAX, CuPy or array-api-strict arrays of probabilities (the
distributions, :class:`~expfam.Categorical` and :class:`~expfam.Bernoulli`,
are numpy-only). Each function has the signature of its public twin and
computes the numpy tier's formula in the input's namespace, device and
dtype:

- every divergence is a sum of non-negative terms in the log-ratio
  ``y = log(q_k / p_k)``, formed as ``+-log1p(|q - p| / min(p, q))`` so that
  nearby points keep their relative accuracy, with the series of
  ``psi_mu(y)`` for ``|y| <= 1``;
- Fisher-Rao works on the unit sphere ``u = sqrt p`` from the root
  differences ``(q - p) / (sqrt p + sqrt q)``: ``d = 4 asin(||du|| / 2)``,
  never ``arccos`` of a rounded inner product;
- ``alpha_geodesic`` reads the values to run the numpy tier's solve for the
  mixing weight, then takes one Newton step in the namespace (the
  implicit-function gradient): eager arrays only.

Gradients (torch.autograd, ``jax.grad``) are finite wherever the value is:
at ``p_k = 0`` every branch a ``where`` discards is computed on stand-in
values, and the square roots of the Fisher-Rao functions and of Bhattacharyya
and Hellinger take derivative 0 there (the one-sided derivative is
infinite). ``chernoff_information`` takes its value at an exponent found by
a fixed number of bisections, which carries no gradient: the information is
stationary in it, so its gradient is exact. Checks on values (probabilities
``>= 0`` summing to 1, ``t`` inside the simplex) run on eager arrays and are
skipped under ``jax.jit``.

Accuracy (``tests/backends/test_geometry_backends.py``): float64 within
``1e-13`` relative of the numpy tier on random and nearby points.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from expfam import special
from expfam._core.xp import (
    as_array,
    as_real,
    concrete,
    constant,
    device_of,
    finish,
    host,
    namespace,
    quiet,
    row_sum,
)
from expfam.geometry.chernoff import ChernoffResult

Array = Any
_LOG2 = math.log(2.0)
_SERIES_TERMS = 20


# ---------------------------------------------------------------- points


def probabilities(xp: Any, p: Array, name: str) -> tuple[Array, Any]:
    """``p`` as probabilities over the last axis (``K >= 2``), checked on eager arrays."""
    if not hasattr(p, "dtype"):
        raise TypeError(f"{name}: expected an array of probabilities, got {type(p).__name__}")
    work, dtype = as_real(xp, p, name)
    if work.ndim < 1 or work.shape[-1] < 2:
        raise ValueError(
            f"{name}: expected K >= 2 classes on the last axis, got shape {tuple(work.shape)}"
        )
    tol = math.sqrt(float(xp.finfo(work.dtype).eps))
    total = xp.sum(work, axis=-1)
    ok = xp.all(work >= 0) & xp.all(xp.abs(total - 1.0) <= tol)
    if concrete(ok) is False:
        raise ValueError(
            f"{name}: expected probabilities (>= 0, summing to 1 within {tol:.1e}), "
            f"got entries from {float(xp.min(work)):.17g} and row sums from "
            f"{float(xp.min(total)):.17g} to {float(xp.max(total)):.17g}"
        )
    return work, dtype


def pair(p: Array, q: Array) -> tuple[Any, Array, Array, Any]:
    """Two points broadcast to one shape, in one floating dtype, and the result dtype."""
    xp = namespace(p, q)
    a, da = probabilities(xp, p, "p")
    b, db = probabilities(xp, q, "q")
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"q: expected {a.shape[-1]} classes like p, got shape {tuple(b.shape)}")
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise ValueError(
            f"q: shape {tuple(b.shape)} does not broadcast with p's shape {tuple(a.shape)}"
        ) from None
    common = xp.result_type(a.dtype, b.dtype)
    a = xp.broadcast_to(xp.astype(a, common), shape)
    b = xp.broadcast_to(xp.astype(b, common), shape)
    return xp, a, b, xp.result_type(da, db)


def safe_sqrt(xp: Any, x: Array) -> Array:
    """``sqrt(x)`` for ``x >= 0``, with derivative 0 (not infinite) at 0."""
    positive = x > 0
    return xp.where(positive, xp.sqrt(xp.where(positive, x, constant(xp, 1.0, x))), 0.0 * x)


class LogRatio:
    """``y = log(q_k / p_k)`` of two rows scaled to sum 1, to relative accuracy ``eps``.

    ``+-log1p(|Q - P| / min(P, Q)) + log(sum P / sum Q)``; ``+inf`` where
    ``p = 0 < q``, ``-inf`` where ``q = 0 < p``, 0 where both are 0. ``p`` and
    ``q`` are the normalized points, ``finite`` the classes of the common
    support and ``y0`` the log-ratio there (0 elsewhere).
    """

    def __init__(self, xp: Any, big_p: Array, big_q: Array) -> None:
        zero, one = constant(xp, 0.0, big_p), constant(xp, 1.0, big_p)
        sp = xp.sum(big_p, axis=-1, keepdims=True)
        sq = xp.sum(big_q, axis=-1, keepdims=True)
        diff = big_q - big_p
        self.p, self.q = big_p / sp, big_q / sq
        # q - p of the normalized points from the exact difference Q - P
        self.diff = (diff - big_p * (xp.sum(diff, axis=-1, keepdims=True) / sp)) / sq
        low = xp.minimum(big_p, big_q)
        self.finite = low > 0
        ratio = xp.abs(diff) / xp.where(self.finite, low, one)
        y = xp.where(diff < 0, -xp.log1p(ratio), xp.log1p(ratio))
        y = y + xp.log1p(-xp.sum(diff, axis=-1, keepdims=True) / sq)
        self.y0 = xp.where(self.finite, y, zero)
        self.p_zero, self.q_zero = big_p == 0, big_q == 0
        inf = constant(xp, math.inf, big_p)
        edge = xp.where(self.p_zero, xp.where(self.q_zero, zero, inf), -inf)
        self.y = xp.where(self.finite, self.y0, edge)
        self.xp = xp


def psi_terms(xp: Any, pr: LogRatio, mu: Array | float) -> Array:
    """Terms ``p_k psi_mu(y_k)`` of ``D = (1 - sum p^(1-mu) q^mu) / (mu (1 - mu))``.

    ``psi_mu(y) = (mu e^y + 1 - mu - e^{mu y}) / (mu (1 - mu)) = sum_{n >= 2}
    (1 + mu + ... + mu^(n-2)) y^n / n!``, by the series where ``|y| <= 1`` and
    ``|mu y| <= 1``, else ``((q - p) - p expm1(mu y) / mu) / (1 - mu)``.
    ``mu > 1/2`` is computed as the same sum with the points exchanged
    (``1 - mu < 1/2``), so the division by ``1 - mu`` never amplifies.
    On the boundary: ``p = 0 < q`` gives ``q / (1 - mu)``; ``q = 0 < p``
    gives ``p / mu``, ``+inf`` for ``mu <= 0``.
    """
    zero, one = constant(xp, 0.0, pr.p), constant(xp, 1.0, pr.p)
    mu = mu if hasattr(mu, "dtype") else constant(xp, float(mu), pr.p)
    swap = mu > 0.5
    p = xp.where(swap, pr.q, pr.p)
    q = xp.where(swap, pr.p, pr.q)
    y = xp.where(swap, -pr.y0, pr.y0)
    p_zero = xp.where(swap, pr.q_zero, pr.p_zero)
    q_zero = xp.where(swap, pr.p_zero, pr.q_zero)
    m = xp.where(swap, 1.0 - mu, mu)
    n = 1.0 - m
    my = m * y
    # p expm1(m y) / m, which is p y at m = 0
    m_zero = m == 0
    safe_m = xp.where(m_zero, one, m)
    safe_my = xp.where(m_zero, one, my)
    ratio = xp.where(m_zero | (my == 0), one, xp.expm1(safe_my) / safe_my)
    far = ((q - p) - p * y * ratio) / n
    # the series, Horner in y, on |y| <= 1 and |m y| <= 1
    small = (xp.abs(y) <= 1.0) & (xp.abs(my) <= 1.0)
    ys = xp.where(small, y, zero)
    coeffs, geometric = [], one
    for k in range(2, 2 + _SERIES_TERMS):
        coeffs.append(geometric * (1.0 / math.factorial(k)))
        geometric = 1.0 + m * geometric
    acc = zero
    for c in reversed(coeffs):
        acc = acc * ys + c
    near = p * (ys * ys) * acc
    out = xp.where(small, near, far)
    inf = constant(xp, math.inf, pr.p)
    off_q = xp.where(m > 0, p / safe_m, inf)
    edge = xp.where(p_zero, xp.where(q_zero, zero, q / n), off_q)
    return xp.where(p_zero | q_zero, edge, out)


def amari_sum(xp: Any, pr: LogRatio, mu: Array | float) -> Array:
    """``sum_k p_k psi_mu(y_k)``, clipped at 0 below."""
    out = row_sum(xp, psi_terms(xp, pr, mu), -1)[..., 0]
    return xp.where(out > 0, out, 0.0 * out)


def finite_real(value: object, name: str) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a real number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return out


def positive_order(order: object) -> float:
    out = finite_real(order, "order")
    if not out > 0.0:
        raise ValueError(f"order: expected a number > 0, got {order!r}")
    return out


# ---------------------------------------------------------------- divergences


@quiet
def kl(p: Array, q: Array) -> Array:
    """Portable :func:`expfam.geometry.kl`: ``sum_k p_k (e^y - 1 - y)`` (``psi_0``)."""
    xp, a, b, dtype = pair(p, q)
    return finish(xp, amari_sum(xp, LogRatio(xp, a, b), 0.0), dtype)


@quiet
def jeffreys(p: Array, q: Array) -> Array:
    """Portable :func:`expfam.geometry.jeffreys`: ``sum_k (q_k - p_k) y_k``."""
    xp, a, b, dtype = pair(p, q)
    pr = LogRatio(xp, a, b)
    zero = constant(xp, 0.0, a)
    terms = xp.where(pr.finite, pr.diff * pr.y0, zero)
    inf = xp.any(pr.p_zero != pr.q_zero, axis=-1)
    out = row_sum(xp, terms, -1)[..., 0]
    return finish(xp, xp.where(inf, constant(xp, math.inf, out), out), dtype)


def _js(xp: Any, a: Array, b: Array) -> Array:
    """``(1/2) sum (p + q) F(y)``, ``F(y) = log 2 - h(1 / (1 + e^y))``, in [0, log 2]."""
    pr = LogRatio(xp, a, b)
    zero, two = constant(xp, 0.0, a), constant(xp, 2.0, a)
    y = pr.y
    near = xp.abs(pr.y0) <= 2.0
    near = near & pr.finite
    yn = xp.where(near, pr.y0, zero)
    t = xp.tanh(0.5 * yn)
    f_near = 0.5 * (t * yn + xp.log1p(-(t * t)))
    a_far = xp.where(near, two, xp.abs(xp.where(xp.isnan(y), zero, y)))
    a_far = xp.where(a_far < 800.0, a_far, constant(xp, 800.0, a))
    e = xp.exp(-a_far)
    f_far = (_LOG2 - xp.log1p(e)) - a_far * e / (1.0 + e)
    terms = (pr.p + pr.q) * xp.where(near, f_near, f_far)
    out = 0.5 * row_sum(xp, terms, -1)[..., 0]
    return xp.where(out < _LOG2, out, constant(xp, _LOG2, out))


@quiet
def jensen_shannon(p: Array, q: Array) -> Array:
    """Portable :func:`expfam.geometry.jensen_shannon`."""
    xp, a, b, dtype = pair(p, q)
    return finish(xp, _js(xp, a, b), dtype)


@quiet
def jensen_shannon_distance(p: Array, q: Array) -> Array:
    """Portable :func:`expfam.geometry.jensen_shannon_distance`: ``sqrt(JS)``."""
    xp, a, b, dtype = pair(p, q)
    return finish(xp, safe_sqrt(xp, _js(xp, a, b)), dtype)


def _hellinger_squared(xp: Any, a: Array, b: Array) -> Array:
    """``(1/2) sum (q - p)^2 / (p + q + 2 sqrt(p q))``, at most 1."""
    pr = LogRatio(xp, a, b)
    p, q, d = pr.p, pr.q, pr.diff
    den = p + q + 2.0 * safe_sqrt(xp, p * q)
    live = den > 0
    terms = xp.where(live, d * d / xp.where(live, den, constant(xp, 1.0, p)), 0.0 * p)
    h2 = 0.5 * row_sum(xp, terms, -1)[..., 0]
    return xp.where(h2 < 1.0, h2, constant(xp, 1.0, h2))


def _bc(xp: Any, a: Array, b: Array) -> Array:
    p = a / xp.sum(a, axis=-1, keepdims=True)
    q = b / xp.sum(b, axis=-1, keepdims=True)
    out = row_sum(xp, safe_sqrt(xp, p) * safe_sqrt(xp, q), -1)[..., 0]
    return xp.where(out < 1.0, out, constant(xp, 1.0, out))


@quiet
def hellinger(p: Array, q: Array) -> Array:
    """Portable :func:`expfam.geometry.hellinger`."""
    xp, a, b, dtype = pair(p, q)
    return finish(xp, safe_sqrt(xp, _hellinger_squared(xp, a, b)), dtype)


@quiet
def bhattacharyya_coefficient(p: Array, q: Array) -> Array:
    """Portable :func:`expfam.geometry.bhattacharyya_coefficient`."""
    xp, a, b, dtype = pair(p, q)
    return finish(xp, _bc(xp, a, b), dtype)


@quiet
def bhattacharyya_distance(p: Array, q: Array) -> Array:
    """Portable :func:`expfam.geometry.bhattacharyya_distance`: ``-log1p(-H^2)`` or ``-log BC``."""
    xp, a, b, dtype = pair(p, q)
    h2 = _hellinger_squared(xp, a, b)
    close = h2 <= 0.5
    near = -xp.log1p(-xp.where(close, h2, 0.0 * h2))
    bc = _bc(xp, a, b)
    far = -xp.log(xp.where(close, constant(xp, 1.0, bc), bc))
    return finish(xp, xp.where(close, near, far), dtype)


@quiet
def alpha_divergence(p: Array, q: Array, alpha: float) -> Array:
    """Portable :func:`expfam.geometry.alpha_divergence`: ``sum p psi_mu(y)``."""
    a_ = finite_real(alpha, "alpha")
    xp, a, b, dtype = pair(p, q)
    return finish(xp, amari_sum(xp, LogRatio(xp, a, b), 0.5 + 0.5 * a_), dtype)


@quiet
def tsallis_divergence(p: Array, q: Array, order: float) -> Array:
    """Portable :func:`expfam.geometry.tsallis_divergence`: ``l D_alpha``, ``alpha = 1 - 2 l``."""
    lam = positive_order(order)
    xp, a, b, dtype = pair(p, q)
    return finish(xp, lam * amari_sum(xp, LogRatio(xp, a, b), 1.0 - lam), dtype)


def _log_power_sum(xp: Any, pr: LogRatio, lam: Array | float) -> Array:
    """``log sum_k p_k^lam q_k^(1 - lam)`` by log-sum-exp (for sums far from 1), ``lam > 0``.

    A class with ``q_k = 0 < p_k`` makes the sum infinite for ``lam > 1``.
    """
    one = constant(xp, 1.0, pr.p)
    log_p = xp.log(xp.where(pr.finite, pr.p, one))
    blows_up = pr.q_zero & ~pr.p_zero & (lam > 1.0)
    edge = xp.where(blows_up, constant(xp, math.inf, one), constant(xp, -math.inf, one))
    w = xp.where(pr.finite, log_p + (1.0 - lam) * pr.y0, edge)
    return special.logsumexp(w, axis=-1)


@quiet
def renyi_divergence(p: Array, q: Array, order: float) -> Array:
    """Portable :func:`expfam.geometry.renyi_divergence`.

    ``log1p(-l (1 - l) D) / (l - 1)`` with ``D`` the alpha-divergence sum
    (``mu = 1 - l``) while ``|l (1 - l) D| <= 1/2``; beyond, the log-sum-exp
    of ``l log p + (1 - l) log q``.
    """
    lam = positive_order(order)
    xp, a, b, dtype = pair(p, q)
    pr = LogRatio(xp, a, b)
    mu = 1.0 - lam
    d = amari_sum(xp, pr, mu)
    if mu == 0.0:
        return finish(xp, d, dtype)
    t = -lam * mu * d
    t = xp.where(t > -1.0, t, constant(xp, -1.0, t))
    close = xp.abs(t) <= 0.5
    tc = xp.where(close & (t != 0), t, constant(xp, 1.0, t))
    ratio = xp.where(t == 0, 1.0 + 0.0 * t, xp.log1p(tc) / tc)
    near = lam * d * ratio
    far = _log_power_sum(xp, pr, lam) / (lam - 1.0)
    out = xp.where(close, near, far)
    return finish(xp, xp.where(out > 0, out, 0.0 * out), dtype)


_BISECTIONS = 30
_NEWTON_STEPS = 2


@quiet
def chernoff_information(p: Array, q: Array) -> tuple[Array, Array]:
    """Portable :func:`expfam.geometry.chernoff_information`.

    ``l*`` solves ``E_{p_l}[y] = 0``, ``p_l ~ p^l q^(1 - l)`` on the common
    support (``_BISECTIONS`` halvings of ``[0, 1]``, then Newton steps), or is an end of it where
    the supports differ and the slope keeps its sign; then
    ``C = -log1p(-l (1 - l) D_alpha)``, ``alpha = 1 - 2 l``.
    """
    xp, a, b, dtype = pair(p, q)
    pr = LogRatio(xp, a, b)
    zero, one = constant(xp, 0.0, pr.p), constant(xp, 1.0, pr.p)
    common = pr.finite
    has_common = xp.any(common, axis=-1, keepdims=True)
    log_p = xp.log(xp.where(common, pr.p, one))
    y = pr.y0

    def slope(lam: Array) -> tuple[Array, Array]:
        """``f'(l) = E_{p_l}[y]`` and ``Var_{p_l}(y) = -f''(l)``."""
        z = xp.where(common, log_p + (1.0 - lam) * y, constant(xp, -math.inf, pr.p))
        z = xp.where(has_common, z, zero)
        w = special.softmax(z, axis=-1)
        mean = xp.sum(w * y, axis=-1, keepdims=True)
        return mean, xp.sum(w * (y - mean) ** 2, axis=-1, keepdims=True)

    shape = (*tuple(pr.p.shape[:-1]), 1)
    lo = xp.zeros(shape, dtype=pr.p.dtype, device=device_of(pr.p))
    hi = lo + 1.0
    same = xp.all(pr.p_zero == pr.q_zero, axis=-1, keepdims=True)
    g0, g1 = slope(lo)[0], slope(hi)[0]
    at_zero = ~same & (g0 <= 0) & (g1 < 0)
    at_one = ~same & (g1 >= 0) & (g0 > 0)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        up = slope(mid)[0] > 0
        lo, hi = xp.where(up, mid, lo), xp.where(up, hi, mid)
    # The value is taken at the bisected exponent, which carries no gradient: C is
    # stationary in l, so its gradient is exact there (and its value moves only in
    # second order). The exponent returned is refined by Newton steps.
    lam = xp.where(at_zero, zero, xp.where(at_one, one, 0.5 * (lo + hi)))
    refined = 0.5 * (lo + hi)
    for _ in range(_NEWTON_STEPS):  # f' decreasing, f'' = -Var: l += f' / Var, kept in [lo, hi]
        g, var = slope(refined)
        step = refined + g / xp.where(var > 0, var, one)
        refined = xp.where((var > 0) & (step >= lo) & (step <= hi), step, refined)
    exponent = xp.where(at_zero, zero, xp.where(at_one, one, refined))
    interior = (lam > 0) & (lam < 1)
    mu = xp.where(interior, 1.0 - lam, constant(xp, 0.5, lam))
    d = row_sum(xp, psi_terms(xp, pr, mu), -1)
    weight = xp.where(interior, lam * (1.0 - lam), zero)
    s = weight * d
    close = s <= 0.5
    value = -xp.log1p(-xp.where(close, s, zero))
    far = -_log_power_sum(xp, pr, xp.where(close, constant(xp, 0.5, lam), lam))
    value = xp.where(close, value, far[..., None])
    # at an end: -log of the mass of the common support under p (l = 1) or q (l = 0)
    mass = xp.where(lam == 1.0, pr.p, pr.q)
    inside = xp.sum(xp.where(common, mass, zero), axis=-1, keepdims=True)
    end = -xp.log(xp.where(inside > 0, inside, one))
    value = xp.where(interior, value, end)
    value = xp.where(has_common, value, constant(xp, math.inf, value))
    value = xp.where(value > 0, value, zero)
    return ChernoffResult(
        finish(xp, value[..., 0], dtype),
        finish(xp, exponent[..., 0], dtype),
        n_iter=_BISECTIONS + _NEWTON_STEPS,  # fixed: no data-dependent loop, so jit works
        converged=True,  # the bisection's bracket is 2**-_BISECTIONS wide by construction
    )


# ---------------------------------------------------------------- geodesics


def parameter(xp: Any, t: object, like: Array, name: str = "t") -> Array:
    """A curve parameter ``t`` as an array of ``like``'s dtype, with a class axis of 1."""
    tt = as_array(xp, t, like, name)
    if concrete(xp.all(xp.isfinite(tt))) is False:
        raise ValueError(f"{name}: expected finite numbers, got a non-finite entry")
    return xp.expand_dims(tt, axis=-1) if tt.ndim else tt


def curve(xp: Any, a: Array, b: Array, t: Array) -> tuple[Array, Array, Array]:
    """``a``, ``b`` and ``t[..., None]`` broadcast to the curve's shape (..., K)."""
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(t.shape))
    except ValueError:
        raise ValueError(
            f"t: shape {tuple(t.shape)[:-1]} does not broadcast with the batch shape "
            f"{tuple(a.shape)[:-1]}"
        ) from None
    return xp.broadcast_to(a, shape), xp.broadcast_to(b, shape), xp.broadcast_to(t, shape)


@quiet
def e_geodesic(p: Array, q: Array, t: object) -> Array:
    """Portable :func:`expfam.geometry.e_geodesic`: ``softmax((1 - t) log p + t log q)``.

    The support is that of ``p`` at ``t = 0``, of ``q`` at ``t = 1`` and
    their intersection between; outside ``[0, 1]`` the points must share
    their support (checked on eager arrays).
    """
    xp, a, b, dtype = pair(p, q)
    a, b, tt = curve(xp, a, b, parameter(xp, t, a))
    one = constant(xp, 1.0, a)
    pos_p, pos_q = a > 0, b > 0
    lp, lq = xp.log(xp.where(pos_p, a, one)), xp.log(xp.where(pos_q, b, one))
    inside = (tt > 0) & (tt < 1)
    outside = (tt < 0) | (tt > 1)
    if concrete(xp.any(outside & (pos_p != pos_q))):
        raise ValueError(
            "t: outside [0, 1] the e-geodesic exists only where p and q have the same "
            "support, got such a t"
        )
    if concrete(xp.any(inside & ~xp.any(pos_p & pos_q, axis=-1, keepdims=True))):
        raise ValueError(
            "t: p and q have disjoint supports, so the e-geodesic between them does not "
            "exist for 0 < t < 1, got such a t"
        )
    support = xp.where(tt == 0, pos_p, xp.where(tt == 1, pos_q, pos_p & pos_q))
    z = xp.where(tt == 0, lp, xp.where(tt == 1, lq, (1.0 - tt) * lp + tt * lq))
    z = xp.where(support, z, constant(xp, -math.inf, a))
    return finish(xp, special.softmax(z, axis=-1), dtype)


@quiet
def m_geodesic(p: Array, q: Array, t: object) -> Array:
    """Portable :func:`expfam.geometry.m_geodesic`: ``(1 - t) p + t q``."""
    xp, a, b, dtype = pair(p, q)
    a, b, tt = curve(xp, a, b, parameter(xp, t, a))
    out = (1.0 - tt) * a + tt * b
    slack = 4.0 * float(xp.finfo(a.dtype).eps)
    if concrete(xp.any(out < -slack)):
        raise ValueError(
            "t: the m-geodesic (1 - t) p + t q leaves the simplex for the given t "
            "(a negative probability)"
        )
    return finish(xp, xp.where(out > 0, out, 0.0 * out), dtype)


def _roots(xp: Any, a: Array, b: Array) -> tuple[Array, Array, Array]:
    """``u = sqrt p``, ``delta = sqrt q - sqrt p = (q - p) / (sqrt p + sqrt q)``, ``||delta||``."""
    u, w = safe_sqrt(xp, a), safe_sqrt(xp, b)
    total = u + w
    live = total > 0
    delta = xp.where(live, (b - a) / xp.where(live, total, constant(xp, 1.0, a)), 0.0 * a)
    return u, delta, norm(xp, delta)


def norm(xp: Any, x: Array) -> Array:
    """Euclidean norm over the last axis (kept), derivative 0 at 0, no underflow of squares."""
    scale = xp.max(xp.abs(x), axis=-1, keepdims=True)
    live = scale > 0
    safe = xp.where(live, scale, constant(xp, 1.0, scale))
    y = x / safe
    return xp.where(live, safe * safe_sqrt(xp, row_sum(xp, y * y, -1)), 0.0 * scale)


def chord_angle(xp: Any, chord: Array) -> Array:
    """The angle ``2 asin(c / 2)`` between unit vectors at chord length ``c``, at most pi/2."""
    half = chord / 2.0
    half = xp.where(half < 1.0, half, constant(xp, 1.0, half))
    angle = 2.0 * xp.asin(half)
    return xp.where(angle < math.pi / 2, angle, constant(xp, math.pi / 2, angle))


@quiet
def fisher_rao_distance(p: Array, q: Array) -> Array:
    """Portable :func:`expfam.geometry.fisher_rao_distance`: ``4 asin(||du|| / 2)``."""
    xp, a, b, dtype = pair(p, q)
    _, _, chord = _roots(xp, a, b)
    overlap = xp.any((a > 0) & (b > 0), axis=-1, keepdims=True)
    out = xp.where(overlap, 2.0 * chord_angle(xp, chord), constant(xp, math.pi, chord))
    return finish(xp, out[..., 0], dtype)


def _angle_ratio(xp: Any, angle: Array) -> tuple[Array, Array]:
    """``angle`` where positive (else 1) and ``sin`` of it: the safe divisor of a slerp."""
    positive = angle > 0
    safe = xp.where(positive, angle, constant(xp, 1.0, angle))
    return positive, safe


@quiet
def fisher_rao_geodesic(p: Array, q: Array, t: object) -> Array:
    """Portable :func:`expfam.geometry.fisher_rao_geodesic`: the great circle of ``sqrt p``."""
    xp, a, b, dtype = pair(p, q)
    u, delta, chord = _roots(xp, a, b)
    w = u + delta
    angle = chord_angle(xp, chord)
    positive, safe = _angle_ratio(xp, angle)
    u, w, tt = curve(xp, u, w, parameter(xp, t, a))
    s = xp.sin(safe)
    start = xp.where(positive, xp.sin((1.0 - tt) * safe) / s, 1.0 - tt)
    end = xp.where(positive, xp.sin(tt * safe) / s, tt)
    root = start * u + end * w
    slack = 4.0 * float(xp.finfo(a.dtype).eps)
    if concrete(xp.any(root < -slack)):
        raise ValueError(
            "t: the Fisher-Rao geodesic leaves the simplex for the given t (a component of "
            "sqrt p crosses 0)"
        )
    root = xp.where(root > 0, root, 0.0 * root)
    squares = root * root
    return finish(xp, squares / xp.sum(squares, axis=-1, keepdims=True), dtype)


@quiet
def alpha_geodesic(p: Array, q: Array, t: object, alpha: float) -> Array:
    """Portable :func:`expfam.geometry.alpha_geodesic`, differentiable in ``p``, ``q`` and ``t``.

    The mixing weight ``s`` of each row comes from the numpy tier's solve
    (tanh-sinh quadrature of ``t(s)`` and
    :func:`expfam._core.solvers.bracketed_newton`, in float64, on the
    values), then one Newton step is taken in the namespace, with the
    quadrature in its operations: its value is the root to rounding, and its
    derivative the implicit-function gradient of ``s`` in ``p``, ``q`` and
    ``t``; the curve ``softmax(log M_s)`` follows in the namespace. The
    solve reads values: eager arrays only (not under ``jax.jit`` or
    ``jax.grad``). ``alpha = +1, -1, 0`` are the closed forms of
    :func:`e_geodesic`, :func:`m_geodesic` and :func:`fisher_rao_geodesic`.
    """
    from expfam.geometry.geodesics import (
        _TS_COMPLEMENTS,
        _TS_NODES,
        _TS_WEIGHTS,
        _alpha_log_mean,
    )

    alpha = finite_real(alpha, "alpha")
    xp, a, b, dtype = pair(p, q)
    tt = parameter(xp, t, a)
    if concrete(xp.any((tt < 0) | (tt > 1))):
        raise ValueError("t: expected values in [0, 1] for alpha_geodesic, got one outside")
    if alpha == 1.0:
        return e_geodesic(p, q, t)
    if alpha == -1.0:
        return m_geodesic(p, q, t)
    if alpha == 0.0:
        return fisher_rao_geodesic(p, q, t)
    if alpha > 1 and concrete(xp.any(a == 0) | xp.any(b == 0)):
        raise ValueError(
            f"p, q: expected points of the open simplex (no zeros) for alpha = {alpha} > 1, "
            "got a zero"
        )
    one, zero = constant(xp, 1.0, a), constant(xp, 0.0, a)
    lp = xp.where(a > 0, xp.log(xp.where(a > 0, a, one)), constant(xp, -math.inf, a))
    lq = xp.where(b > 0, xp.log(xp.where(b > 0, b, one)), constant(xp, -math.inf, a))
    lp, lq, tt = curve(xp, lp, lq, tt)
    shape = tuple(lp.shape)
    k = shape[-1]
    lp, lq = xp.reshape(lp, (-1, k)), xp.reshape(lq, (-1, k))
    target = xp.reshape(tt[..., :1], (-1, 1))
    # by the reversal symmetry, from the nearer end: gamma(p, q; t) = gamma(q, p; 1 - t)
    swap = target > 0.5
    lp, lq = xp.where(swap, lq, lp), xp.where(swap, lp, lq)
    target = xp.where(swap, 1.0 - target, target)
    power = (1.0 - alpha) / 2.0
    solved = _alpha_log_mean(host(lp), host(lq), host(target)[:, 0], power, parameter_only=True)
    moving = target > 0
    s0 = xp.asarray(solved[:, None], dtype=lp.dtype, device=device_of(lp))
    s0 = xp.where(moving, s0, constant(xp, 0.5, s0))  # (rows at t = 0 keep p)

    bp, bq = power * lp, power * lq
    small = (xp.abs(bp) < 1.0) & (xp.abs(bq) < 1.0)
    ep, eq = xp.expm1(xp.where(small, bp, zero)), xp.expm1(xp.where(small, bq, zero))

    def log_mean(s: Array, c: Array) -> Array:
        """``log M`` at ``s`` and ``c = 1 - s`` of shape (R, n): shape (R, n, K)."""
        s, c = xp.expand_dims(s, axis=-1), xp.expand_dims(c, axis=-1)
        near = xp.log1p(c * ep[:, None, :] + s * eq[:, None, :])
        far = xp.logaddexp(xp.log(c) + bp[:, None, :], xp.log(s) + bq[:, None, :])
        return xp.where(small[:, None, :], near, far) / power

    def weight(s: Array, c: Array) -> Array:
        """``Z(s)^(-2b)``, shape (R, n)."""
        return xp.exp(-2.0 * power * special.logsumexp(log_mean(s, c), axis=-1))

    def nodes(values: np.ndarray) -> Array:
        return xp.asarray(values, dtype=lp.dtype, device=device_of(lp))

    x, x_bar, w = nodes(_TS_NODES), nodes(_TS_COMPLEMENTS), nodes(_TS_WEIGHTS)
    c0 = 1.0 - s0
    left = s0[:, 0] * xp.sum(w * weight(s0 * x, c0 + s0 * x_bar), axis=-1)
    right = c0[:, 0] * xp.sum(w * weight(s0 + c0 * x_bar, c0 * x), axis=-1)
    slope = (1.0 - target[:, 0]) * left - target[:, 0] * right
    s = s0 - xp.expand_dims(slope / weight(s0, c0)[:, 0], axis=-1)
    z = xp.where(moving, log_mean(s, 1.0 - s)[:, 0, :], lp)
    out = special.softmax(z)
    return finish(xp, xp.reshape(out, shape), dtype)


def _coords(coords: object) -> str:
    if coords not in ("probs", "logits"):
        raise ValueError(f"coords: expected 'probs' or 'logits', got {coords!r}")
    return str(coords)


def tangent(xp: Any, probs: Array, v: Array, coords: str, name: str) -> Array:
    """``v`` as a velocity of ``sqrt(p)`` on the unit sphere, ``xi = dp / (2 sqrt p)``."""
    vv, _ = as_real(xp, v, name)
    vv = xp.astype(vv, probs.dtype)
    if vv.ndim == 0 or vv.shape[-1] != probs.shape[-1]:
        raise ValueError(
            f"{name}: expected K = {probs.shape[-1]} entries on the last axis, "
            f"got shape {tuple(vv.shape)}"
        )
    if concrete(xp.all(xp.isfinite(vv))) is False:
        raise ValueError(f"{name}: expected finite numbers, got a non-finite entry")
    root = safe_sqrt(xp, probs)
    if coords == "logits":
        return root * (vv - xp.sum(probs * vv, axis=-1, keepdims=True)) / 2.0
    scale = xp.sum(xp.abs(vv), axis=-1)
    total = xp.sum(vv, axis=-1)
    tol = math.sqrt(float(xp.finfo(vv.dtype).eps))
    big = xp.where(scale > 1.0, scale, 1.0 + 0.0 * scale)
    if concrete(xp.any(xp.abs(total) > tol * big)):
        raise ValueError(
            f"{name}: expected a vector summing to 0 (a tangent vector), got one that does not"
        )
    if concrete(xp.any((probs == 0) & (vv != 0))):
        raise ValueError(f"{name}: expected 0 where p is 0 (the face of p), got a nonzero entry")
    live = root > 0
    return xp.where(live, vv / (2.0 * xp.where(live, root, constant(xp, 1.0, root))), 0.0 * vv)


def _point(p: Array) -> tuple[Any, Array, Any]:
    xp = namespace(p)
    probs, dtype = probabilities(xp, p, "p")
    return xp, probs, dtype


@quiet
def fisher_rao_inner(p: Array, u: Array, v: Array, coords: str = "probs") -> Array:
    """Portable :func:`expfam.geometry.fisher_rao_inner`: ``4 <xi_u, xi_v>``."""
    mode = _coords(coords)
    xp, probs, dtype = _point(p)
    a, b = tangent(xp, probs, u, mode, "u"), tangent(xp, probs, v, mode, "v")
    return finish(xp, 4.0 * xp.sum(a * b, axis=-1), dtype)


@quiet
def fisher_rao_norm(p: Array, v: Array, coords: str = "probs") -> Array:
    """Portable :func:`expfam.geometry.fisher_rao_norm`: ``2 ||xi||``."""
    mode = _coords(coords)
    xp, probs, dtype = _point(p)
    return finish(xp, 2.0 * norm(xp, tangent(xp, probs, v, mode, "v"))[..., 0], dtype)


@quiet
def log_map(p: Array, q: Array, coords: str = "probs") -> Array:
    """Portable :func:`expfam.geometry.log_map`.

    ``2 u (a / sin a) (delta + (||delta||^2 / 2) u)`` in probability
    coordinates (``u = sqrt p``, ``delta = sqrt q - sqrt p``), divided by
    ``u`` in logits coordinates.
    """
    mode = _coords(coords)
    xp, a, b, dtype = pair(p, q)
    if concrete(xp.any((a == 0) & (b > 0))):
        raise ValueError(
            "q: expected no mass where p has none (the log map at a point of a face does not "
            "exist), got some"
        )
    u, delta, chord = _roots(xp, a, b)
    angle = chord_angle(xp, chord)
    positive, safe = _angle_ratio(xp, angle)
    factor = 2.0 * xp.where(positive, safe / xp.sin(safe), 1.0 + 0.0 * safe)
    du = factor * (delta + (chord * chord / 2.0) * u)
    if mode == "probs":
        return finish(xp, u * du, dtype)
    live = u > 0
    return finish(
        xp, xp.where(live, du / xp.where(live, u, constant(xp, 1.0, u)), 0.0 * du), dtype
    )


@quiet
def exp_map(p: Array, v: Array, coords: str = "probs") -> Array:
    """Portable :func:`expfam.geometry.exp_map`: ``(cos(s) u + sin(s) xi / s)^2``."""
    mode = _coords(coords)
    xp, probs, dtype = _point(p)
    xi = tangent(xp, probs, v, mode, "v")
    u = xp.broadcast_to(safe_sqrt(xp, probs), tuple(xi.shape))
    s = norm(xp, xi)
    positive, safe = _angle_ratio(xp, s)
    root = xp.cos(s) * u + xp.where(positive, xp.sin(safe) / safe, 1.0 + 0.0 * s) * xi
    slack = 4.0 * float(xp.finfo(probs.dtype).eps)
    if concrete(xp.any(root < -slack)):
        raise ValueError(
            "v: the geodesic from p in the direction of v leaves the simplex before its "
            "Fisher length (the simplex is incomplete), got such a v"
        )
    root = xp.where(root > 0, root, 0.0 * root)
    squares = root * root
    return finish(xp, squares / xp.sum(squares, axis=-1, keepdims=True), dtype)
