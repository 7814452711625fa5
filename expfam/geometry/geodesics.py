"""Geodesics of the simplex: e, m, alpha and Fisher-Rao; distance, exp and log maps, mean.

Points are read by :mod:`expfam.geometry._points` (a distribution such as
:class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`, or probabilities on the
last axis). Curves take a
parameter ``t`` that broadcasts against the batch shape of the points, so a
1-d ``t`` with two single points gives a whole curve of shape ``(len(t), K)``;
for a batch of pairs pass ``t[:, None]``. Curves and maps return probabilities,
shape (..., K).

The Fisher-Rao geometry is that of a sphere: ``p -> 2 sqrt(p)`` is an isometry
from the simplex with the Fisher metric onto the positive orthant of the sphere
of radius 2. Everything Fisher-Rao here is computed on the unit sphere
``u = sqrt(p)`` from the root differences ``sqrt(q) - sqrt(p) = (q - p) / (sqrt(p)
+ sqrt(q))``, never from ``1 - sum sqrt(p q)``, so nearby points keep their
relative accuracy. Tangent vectors are given in probability coordinates
(``coords="probs"``, ``v = dp/dt``, summing to 0) or in logits coordinates
(``coords="logits"``, ``dz/dt`` with ``dp = p * (dz - p . dz)``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from expfam import special
from expfam._core.dispatch import tiered
from expfam._core.exceptions import ConvergenceWarning
from expfam._core.solvers import bracketed_newton
from expfam.geometry._blocks import errstate_ignored, for_blocks, work
from expfam.geometry._points import (
    as_log_point,
    as_probs,
    as_probs_pair,
    is_distribution,
    rows_look_valid,
    solver_options,
)

__all__ = [
    "ConvergenceWarning",
    "KarcherMean",
    "alpha_geodesic",
    "e_geodesic",
    "exp_map",
    "fisher_rao_distance",
    "fisher_rao_geodesic",
    "fisher_rao_inner",
    "fisher_rao_mean",
    "fisher_rao_norm",
    "log_map",
    "m_geodesic",
]

Coords = Literal["probs", "logits"]
_TINY = 1e-280  # below this a sum of squares may have lost its digits to underflow
_SMALLEST = np.finfo(np.float64).smallest_subnormal


# ------------------------------------------------------------------------------ helpers
def _parameter(t: ArrayLike, dtype: np.dtype, name: str = "t") -> NDArray:
    t = np.asarray(t)
    if t.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got dtype {t.dtype}")
    t = t.astype(dtype)
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{name}: expected finite numbers, got {t}")
    return t


def _curve_shapes(p: NDArray, q: NDArray, t: NDArray, name: str = "t") -> tuple:
    """``(p, q, t[..., None])`` broadcast to the curve's shape (..., K)."""
    try:
        shape = np.broadcast_shapes(p.shape[:-1], q.shape[:-1], t.shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {t.shape} does not broadcast with the batch shapes "
            f"{p.shape[:-1]} and {q.shape[:-1]}"
        ) from None
    full = (*shape, p.shape[-1])
    return np.broadcast_to(p, full), np.broadcast_to(q, full), np.broadcast_to(t[..., None], full)


def _root_difference(p: NDArray, q: NDArray) -> NDArray:
    """``sqrt(q) - sqrt(p)`` as ``(q - p) / (sqrt(p) + sqrt(q))`` (0 where both are 0)."""
    total = np.sqrt(p) + np.sqrt(q)
    return np.divide(
        q - p, total, out=np.zeros(np.broadcast_shapes(p.shape, q.shape), p.dtype), where=total > 0
    )


def _norm(x: NDArray) -> NDArray:
    """Euclidean norm over the last axis, rescaled where the squares would underflow."""
    squares = np.sum(x * x, axis=-1)
    small = squares < _TINY
    if not np.any(small):
        return np.sqrt(squares)
    scale = np.max(np.abs(x), axis=-1, keepdims=True)
    safe = np.where(scale > 0, scale, 1)
    scaled = safe[..., 0] * np.sqrt(np.sum((x / safe) ** 2, axis=-1))
    return np.where(small, scaled, np.sqrt(squares))


def _finite_real(value: Any, name: str) -> float:
    """``value`` as a finite float; TypeError or ValueError naming ``name``."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a real number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return out


def _log(p: NDArray) -> NDArray:
    """``log p`` with ``log 0 = -inf`` and no warning."""
    return np.log(p, where=p > 0, out=np.full(p.shape, -np.inf, p.dtype))


def _log_probs_pair(p: Any, q: Any) -> tuple[NDArray, NDArray]:
    """Log-probabilities of two points: a distribution's own (finite where its probabilities
    underflow), or the log of validated probabilities."""
    pair = as_probs_pair(p, q)
    return tuple(
        special.log_softmax(as_log_point(x, name)[0], axis=-1)
        if is_distribution(x)
        else _log(probs)
        for x, probs, name in zip((p, q), pair, ("p", "q"), strict=True)
    )


def _chord_angle(chord: NDArray) -> NDArray:
    """The angle ``2 asin(c / 2)`` between unit vectors at chord length ``c``, at most pi/2."""
    half_pi = np.asarray(np.pi / 2, chord.dtype)
    return np.minimum(2 * np.arcsin(np.minimum(chord / 2, 1)), half_pi)


def _theta_over_sin(theta: NDArray) -> NDArray:
    """``theta / sin(theta)``, 1 at 0."""
    safe = np.where(theta > 0, theta, 1)
    return np.where(theta > 0, safe / np.sin(safe), 1)


def _exit_angle(u: NDArray, e: NDArray) -> NDArray:
    """Arc length on the unit sphere after which ``cos(s) u + sin(s) e`` leaves ``u >= 0``.

    ``u >= 0`` is a unit vector and ``e`` a unit tangent at ``u``. Component k
    reaches 0 at ``s = atan2(u_k, -e_k)`` if ``e_k < 0``; the first one is the exit
    (``inf`` if no component decreases).
    """
    with np.errstate(divide="ignore"):
        s = np.where(e < 0, np.arctan2(u, -e), np.inf)
    return np.min(s, axis=-1)


def _tangent(probs: NDArray, v: ArrayLike, coords: Coords, name: str) -> NDArray:
    """``v`` as a velocity of ``sqrt(p)`` on the unit sphere, ``xi = dp / (2 sqrt p)``."""
    if coords not in ("probs", "logits"):
        raise ValueError(f"coords: expected 'probs' or 'logits', got {coords!r}")
    v = np.asarray(v)
    if v.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got dtype {v.dtype}")
    v = v.astype(probs.dtype)
    if v.ndim == 0 or v.shape[-1] != probs.shape[-1]:
        raise ValueError(
            f"{name}: expected K = {probs.shape[-1]} entries on the last axis, got shape {v.shape}"
        )
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name}: expected finite entries, got {v}")
    root = np.sqrt(probs)
    if coords == "logits":
        centred = v - np.sum(probs * v, axis=-1, keepdims=True)
        return root * centred / 2
    scale = np.sum(np.abs(v), axis=-1)
    total = np.sum(v, axis=-1)
    if np.any(np.abs(total) > np.sqrt(np.finfo(v.dtype).eps) * np.maximum(scale, 1)):
        raise ValueError(
            f"{name}: expected entries summing to 0 (a tangent vector of the simplex), "
            f"got sums {total}"
        )
    if np.any((probs == 0) & (v != 0)):
        raise ValueError(
            f"{name}: expected 0 where p is 0 (a probability-coordinate tangent vector cannot "
            "leave the face of p)"
        )
    return np.divide(
        v,
        2 * root,
        out=np.zeros(np.broadcast_shapes(v.shape, root.shape), v.dtype),
        where=root > 0,
    )


# ------------------------------------------------------------------------------ e and m
@tiered
def e_geodesic(p: Any, q: Any, t: ArrayLike) -> NDArray:
    r"""The e-geodesic (straight line in logits) from ``p`` (t = 0) to ``q`` (t = 1).

    .. math::

        p_t = \frac{p^{1-t} q^t}{\sum_k p_k^{1-t} q_k^t}
            = \operatorname{softmax}\big((1 - t) \log p + t \log q\big)

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.
    t : array_like
        Broadcasts against the batch shape of ``p`` and ``q``; any real ``t``
        where the curve exists.

    Returns
    -------
    ndarray, shape (..., K)
        ``p_t = softmax((1 - t) log p + t log q)``, the normalized geometric mixture
        ``p^(1-t) q^t / Z``, with ``0 * log 0 = 0`` at the ends.

    Raises
    ------
    ValueError
        Where the curve does not exist: for ``0 < t < 1`` when ``p`` and ``q`` have
        disjoint supports, and for ``t`` outside ``[0, 1]`` when an endpoint puts
        mass where the other has none (the extrapolation leaves the simplex).

    Notes
    -----
    The e-connection (alpha = +1) is flat in the logits; its geodesics have the
    mixing weight as affine parameter. From the uniform distribution through
    ``p`` it is the temperature path ``softmax(t z_p)`` (:meth:`Categorical.tempered`).
    Probabilities within 4 ULP of mpmath for ``t`` in ``[-0.5, 1.7]``
    (tests/geometry/test_geodesics.py); far outside ``[0, 1]`` the rounding of
    the logits is amplified by ``|t|``.

    Examples
    --------
    >>> e_geodesic([0.5, 0.5], [0.2, 0.8], 0.5).round(6)
    array([0.333333, 0.666667])
    """
    lp, lq = _log_probs_pair(p, q)
    t = _parameter(t, lp.dtype)
    lp, lq, tt = _curve_shapes(lp, lq, t)
    with np.errstate(invalid="ignore"):
        z = np.where(tt == 1, lq, np.where(tt == 0, lp, (1 - tt) * lp + tt * lq))
    if np.any(np.isnan(z) | np.isposinf(z)):
        raise ValueError(
            f"t = {t} leaves the simplex: outside [0, 1] the e-geodesic exists only where p "
            "and q have the same support"
        )
    if np.any(np.all(np.isneginf(z), axis=-1)):
        raise ValueError(
            f"t = {t}: p and q have disjoint supports, so the e-geodesic between them "
            "(the normalized p^(1-t) q^t) does not exist for 0 < t < 1"
        )
    return special.softmax(z)


@tiered
def m_geodesic(p: Any, q: Any, t: ArrayLike) -> NDArray:
    r"""The m-geodesic (straight line in probabilities) from ``p`` (t = 0) to ``q`` (t = 1).

    .. math::

        p_t = (1 - t)\, p + t\, q

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.
    t : array_like
        Broadcasts against the batch shape; ``t`` outside ``[0, 1]`` is allowed
        while the mixture stays in the simplex.

    Returns
    -------
    ndarray, shape (..., K)
        ``p_t = (1 - t) p + t q``.

    Raises
    ------
    ValueError
        For ``t`` where ``p_t`` would have a negative entry; the message gives the
        interval ``[t_min, t_max]`` of the extended segment.

    Notes
    -----
    The m-connection (alpha = -1) is flat in the probabilities. The segment
    extends to ``t_max = min_{q_k < p_k} p_k / (p_k - q_k) >= 1`` and down to
    ``t_min = -min_{q_k > p_k} p_k / (q_k - p_k) <= 0``; at those ends an entry is
    0 (up to the rounding of t; negative roundings are clipped to 0). Within
    ``[0, 1]`` both terms are non-negative, so every entry keeps its relative
    accuracy (a few ULP).

    Examples
    --------
    >>> m_geodesic([1.0, 0.0], [0.0, 1.0], [0.25, 0.5])
    array([[0.75, 0.25],
           [0.5 , 0.5 ]])
    """
    pp, qq = as_probs_pair(p, q)
    t = _parameter(t, pp.dtype)
    pp, qq, tt = _curve_shapes(pp, qq, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = pp / (pp - qq)
        t_max = np.min(np.where(qq < pp, ratio, np.inf), axis=-1)
        t_min = np.max(np.where(qq > pp, ratio, -np.inf), axis=-1)
    t0 = tt[..., 0]
    bad = (t0 > t_max) | (t0 < t_min)
    if np.any(bad):
        raise ValueError(
            f"t = {t0[bad]} leaves the simplex: the m-geodesic (1 - t) p + t q stays in it "
            f"only for t in [{np.max(t_min[bad]):.17g}, {np.min(t_max[bad]):.17g}]"
        )
    return np.maximum((1 - tt) * pp + tt * qq, 0)


# ------------------------------------------------------------------------------ Fisher-Rao
@tiered
def fisher_rao_distance(p: Any, q: Any) -> NDArray:
    r"""Fisher-Rao (geodesic) distance between categorical distributions, in [0, pi].

    .. math::

        d(p, q) = 2 \arccos \sum_k \sqrt{p_k q_k}
            = 4 \arcsin \tfrac12 \big\| \sqrt{p} - \sqrt{q} \big\|

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.

    Returns
    -------
    ndarray, shape (...)
        ``d = 2 arccos(sum_k sqrt(p_k q_k)) = 4 asin(||sqrt p - sqrt q|| / 2)``; exactly
        0 for ``p = q`` and exactly ``pi`` for disjoint supports.

    Notes
    -----
    ``p -> 2 sqrt(p)`` maps the simplex isometrically onto the sphere of radius 2,
    so d is twice the angle between the unit vectors ``sqrt p`` and ``sqrt q``.
    The chord form is evaluated with ``sqrt q - sqrt p = (q - p) / (sqrt p + sqrt q)``,
    squared as ``(p - q)^2 / (p + q + 2 sqrt(p q))`` (one square root per entry):
    no subtraction of nearly equal numbers, so every distance keeps full relative
    accuracy (the arccos form returns 0 below d ~ 2e-8 and loses half the digits
    above). Where the squares underflow (d below ~1e-140) the root differences are
    summed with rescaling. Rows are processed in cache-sized blocks, on all cores for
    large batches. At most 4 ULP against mpmath at 50 digits
    (tests/geometry/test_fisher_rao.py); float16/32 are computed in float64.

    Examples
    --------
    >>> float(fisher_rao_distance([1.0, 0.0], [0.0, 1.0]))
    3.141592653589793
    >>> p, q = np.array([0.5, 0.5]), np.array([0.5 + 2**-40, 0.5 - 2**-40])
    >>> float(fisher_rao_distance(p, q)), float(2 * np.arccos(np.sum(np.sqrt(p * q))))
    (1.8189894035458565e-12, 0.0)
    """
    pp, qq = as_probs_pair(p, q, check_values=False)  # values: from the block sums below
    shape = np.broadcast_shapes(pp.shape, qq.shape)
    k = shape[-1]
    rows = math.prod(shape[:-1])
    a = np.broadcast_to(pp, shape).reshape(rows, k)
    b = np.broadcast_to(qq, shape).reshape(rows, k)
    chord2 = np.empty(rows)
    overlap = np.empty(rows, dtype=bool)
    valid = []
    strictest = np.result_type(pp.dtype, qq.dtype)  # the finer tolerance of the two

    @errstate_ignored
    def body(start: int, stop: int) -> None:
        x = a[start:stop].astype(np.float64, copy=False)
        y = b[start:stop].astype(np.float64, copy=False)
        sums = np.concatenate([np.sum(x, axis=-1), np.sum(y, axis=-1)])
        valid.append(rows_look_valid(min(np.min(x), np.min(y)), sums, strictest, margin=0.5))
        root = np.multiply(x, y, out=work(x.shape))
        np.sqrt(root, out=root)
        overlap[start:stop] = np.max(root, axis=-1) > 0
        # (sqrt x - sqrt y)^2 = (x - y)^2 / (x + y + 2 sqrt(x y)); + tiny: 0 / tiny = 0 where
        # both are 0, and no change to any normal denominator
        den = np.add(x, _SMALLEST, out=work(x.shape))
        den += y
        root *= 2
        den += root
        diff = np.subtract(x, y, out=root)
        diff *= diff
        diff /= den
        chord2[start:stop] = np.sum(diff, axis=-1)

    for_blocks(rows, k, body)
    if not all(valid):
        as_probs_pair(p, q)  # raises, naming the argument and what is wrong
    chord = np.sqrt(chord2)
    small = chord2 < _TINY  # squares may have underflowed: the rescaled norm of the roots
    if np.any(small):
        x, y = a[small].astype(np.float64), b[small].astype(np.float64)
        chord[small] = _norm(_root_difference(x, y))
    distance = np.where(overlap, 2 * _chord_angle(chord), np.pi)
    return distance.reshape(shape[:-1]).astype(pp.dtype)[()]


@tiered
def fisher_rao_geodesic(p: Any, q: Any, t: ArrayLike) -> NDArray:
    r"""The Fisher-Rao geodesic from ``p`` (t = 0) to ``q`` (t = 1), by arc length.

    .. math::

        \sqrt{p_t} = \frac{\sin((1 - t) \theta)}{\sin \theta} \sqrt{p}
            + \frac{\sin(t \theta)}{\sin \theta} \sqrt{q}, \quad \cos \theta
            = \sum_k \sqrt{p_k q_k}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Points of the simplex: distributions (a :class:`SimplexPoint` such as
        :class:`~expfam.Categorical` or :class:`~expfam.Bernoulli`) or probabilities
        on the last axis; batch shapes broadcast.
    t : array_like
        Broadcasts against the batch shape. ``t`` outside ``[0, 1]`` continues the
        great circle while it stays in the simplex.

    Returns
    -------
    ndarray, shape (..., K)
        ``sqrt(p_t) = [sin((1 - t) a) sqrt p + sin(t a) sqrt q] / sin a`` squared,
        with ``a = d(p, q) / 2``; ``d(p, p_t) = t d(p, q)``.

    Raises
    ------
    ValueError
        Where the great circle leaves the positive orthant (an entry of
        ``sqrt(p_t)`` would be negative): the message gives the interval of ``t``.

    Notes
    -----
    The alpha = 0 (Levi-Civita) geodesic: a great circle of ``sqrt p``. For ``t``
    in ``[0, 1]`` both terms are non-negative (``a <= pi/2``), so every entry keeps
    its relative accuracy, also near the faces.

    Examples
    --------
    >>> fisher_rao_geodesic([1.0, 0.0], [0.0, 1.0], 0.5).round(12)
    array([0.5, 0.5])
    """
    pp, qq = as_probs_pair(p, q)
    t = _parameter(t, pp.dtype)
    u, w = np.sqrt(pp), np.sqrt(qq)
    delta = _root_difference(pp, qq)
    chord = _norm(delta)
    angle = _chord_angle(chord)[..., None]
    safe = np.where(angle > 0, angle, 1)
    direction = (delta + (chord**2 / 2)[..., None] * u) / np.sin(safe)  # unit tangent at u
    u, w, tt = _curve_shapes(u, w, t)
    angle, safe = (np.broadcast_to(a, u.shape) for a in (angle, safe))
    direction = np.broadcast_to(direction, u.shape)
    start = np.where(angle > 0, np.sin((1 - tt) * safe) / np.sin(safe), 1 - tt)
    end = np.where(angle > 0, np.sin(tt * safe) / np.sin(safe), tt)
    root = start * u + end * w
    outside = (tt[..., 0] < 0) | (tt[..., 0] > 1)
    if np.any(outside & (angle[..., 0] > 0)):
        forward = _exit_angle(u, direction) / safe[..., 0]
        backward = -_exit_angle(u, -direction) / safe[..., 0]
        bad = (tt[..., 0] > forward) | (tt[..., 0] < backward)
        if np.any(bad):
            raise ValueError(
                f"t = {tt[..., 0][bad]} leaves the simplex: the Fisher-Rao geodesic stays in "
                f"it only for t in [{np.max(backward[bad]):.17g}, {np.min(forward[bad]):.17g}]"
            )
    root = np.maximum(root, 0)
    squares = root * root
    return squares / np.sum(squares, axis=-1, keepdims=True)


@tiered
def fisher_rao_inner(p: Any, u: ArrayLike, v: ArrayLike, coords: Coords = "probs") -> NDArray:
    r"""Fisher-Rao inner product of tangent vectors ``u``, ``v`` at ``p``, shape (...).

    .. math::

        \langle u, v \rangle_p = \sum_k \frac{u_k v_k}{p_k}

    Parameters
    ----------
    p : SimplexPoint or array_like, shape (..., K)
        The base point: a distribution (a :class:`SimplexPoint`) or probabilities
        on the last axis.
    u, v : array_like, shape (..., K)
        Tangent vectors: ``dp`` (summing to 0, zero where ``p`` is 0) for
        ``coords="probs"``; ``dz`` (any real vector) for ``coords="logits"``.
    coords : {"probs", "logits"}
        The coordinates of the tangent vectors: ``"probs"`` for velocities
        ``dp`` of the probabilities, ``"logits"`` for velocities ``dz`` of the logits.

    Returns
    -------
    ndarray, shape (...)
        ``sum_k u_k v_k / p_k`` over the support (probs), or
        ``u^T (diag p - p p^T) v = sum_k p_k (u_k - p.u)(v_k - p.v)`` (logits).

    Examples
    --------
    >>> float(fisher_rao_inner([0.5, 0.5], [0.1, -0.1], [0.1, -0.1]))
    0.04
    >>> round(float(fisher_rao_inner([0.5, 0.5], [0.4, 0.0], [0.4, 0.0], coords="logits")), 15)
    0.04
    """
    probs = as_probs(p, "p")
    a, b = _tangent(probs, u, coords, "u"), _tangent(probs, v, coords, "v")
    return (4 * np.sum(a * b, axis=-1))[()]


@tiered
def fisher_rao_norm(p: Any, v: ArrayLike, coords: Coords = "probs") -> NDArray:
    r"""Fisher-Rao norm ``sqrt(<v, v>_p)`` of a tangent vector at ``p``, shape (...).

    .. math::

        \| v \|_p = \sqrt{\sum_k v_k^2 / p_k}

    Parameters
    ----------
    p : SimplexPoint or array_like, shape (..., K)
        The base point: a distribution (a :class:`SimplexPoint`) or probabilities
        on the last axis.
    v : array_like, shape (..., K)
        A tangent vector at ``p``: ``dp`` (summing to 0, zero where ``p`` is 0)
        for ``coords="probs"``; ``dz`` (any real vector) for ``coords="logits"``.
    coords : {"probs", "logits"}
        The coordinates of the tangent vectors: ``"probs"`` for velocities
        ``dp`` of the probabilities, ``"logits"`` for velocities ``dz`` of the logits.

    Returns
    -------
    ndarray, shape (...)
        ``sqrt(sum_k v_k^2 / p_k)`` over the support (probs), or
        ``sqrt(sum_k p_k (v_k - p.v)^2)`` (logits). Within 4 ULP; no underflow
        for tiny ``v``.

    See Also
    --------
    fisher_rao_inner : The inner product, and the two coordinates.

    Examples
    --------
    >>> round(float(fisher_rao_norm([0.25, 0.75], [0.5, -0.5])), 12)  # 2 / sqrt(3)
    1.154700538379
    """
    probs = as_probs(p, "p")
    return (2 * _norm(_tangent(probs, v, coords, "v")))[()]


@tiered
def log_map(p: Any, q: Any, coords: Coords = "probs") -> NDArray:
    r"""The initial velocity at ``p`` of the Fisher-Rao geodesic that reaches ``q`` at t = 1.

    .. math::

        \mathrm{Log}_p(q) = \frac{2a}{\sin a} \big(\sqrt{p q} - \cos(a)\, p\big), \quad \cos a
            = \sum_k \sqrt{p_k q_k}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        ``q`` must put no mass where ``p`` has none.
    coords : {"probs", "logits"}
        The coordinates of the tangent vectors: ``"probs"`` for velocities
        ``dp`` of the probabilities, ``"logits"`` for velocities ``dz`` of the logits.

    Returns
    -------
    ndarray, shape (..., K)
        ``v = (2a / sin a) (sqrt(p q) - BC p)`` in probabilities (sums to 0), or
        ``v / p`` on the support of ``p`` (0 elsewhere) in logits, with
        ``BC = sum sqrt(p q) = cos a`` and ``a = d(p, q) / 2``. Its Fisher norm is
        ``d(p, q)`` and ``exp_map(p, v) = q``.

    Raises
    ------
    ValueError
        If some ``q_k > 0 = p_k``: at a point of a face, the velocity ``dp/dt`` of a
        geodesic into the interior is 0 in that class, so no tangent vector in these
        coordinates encodes it.

    Notes
    -----
    On the unit sphere ``u = sqrt p``: ``Log_u(w) = a (w - cos(a) u) / sin a`` and
    ``dp = 2 u du``. ``w - cos(a) u`` is formed as ``delta + (||delta||^2 / 2) u``
    with ``delta = w - u = (q - p) / (sqrt p + sqrt q)``, so the result keeps its
    relative accuracy as ``q -> p``.

    Examples
    --------
    >>> log_map([0.5, 0.5], [0.5, 0.5])
    array([0., 0.])
    """
    pp, qq = as_probs_pair(p, q)
    if np.any((pp == 0) & (qq > 0)):
        raise ValueError(
            "q: expected no mass where p has none (the log map at a point of a face does "
            "not exist in probability or logits coordinates), got q puts mass where p has none"
        )
    if coords not in ("probs", "logits"):
        raise ValueError(f"coords: expected 'probs' or 'logits', got {coords!r}")
    u = np.sqrt(pp)
    delta = _root_difference(pp, qq)
    chord = _norm(delta)
    factor = (2 * _theta_over_sin(_chord_angle(chord)))[..., None]
    du = factor * (delta + (chord**2 / 2)[..., None] * u)  # 2 Log_u(w): velocity of 2 sqrt p
    if coords == "probs":
        return u * du
    return np.divide(du, u, out=np.zeros(du.shape, du.dtype), where=u > 0)


@tiered
def exp_map(p: Any, v: ArrayLike, coords: Coords = "probs") -> NDArray:
    r"""The point reached at t = 1 by the Fisher-Rao geodesic from ``p`` with velocity ``v``.

    .. math::

        \sqrt{\mathrm{Exp}_p(v)} = \cos(s) \sqrt{p} + \sin(s) \frac{\xi}{\|\xi\|}, \quad \xi
            = \frac{v}{2 \sqrt{p}}, \quad s = \|\xi\|

    Parameters
    ----------
    p : SimplexPoint or array_like, shape (..., K)
        The base point: a distribution (a :class:`SimplexPoint`) or probabilities
        on the last axis.
    v : array_like, shape (..., K)
        A tangent vector at ``p`` (see :func:`fisher_rao_inner` for the coordinates).
    coords : {"probs", "logits"}
        The coordinates of the tangent vectors: ``"probs"`` for velocities
        ``dp`` of the probabilities, ``"logits"`` for velocities ``dz`` of the logits.

    Returns
    -------
    ndarray, shape (..., K)
        ``sqrt(q) = cos(s) sqrt(p) + sin(s) xi / ||xi||`` squared, with
        ``xi = v / (2 sqrt p)`` and ``s = ||xi|| = |v|_F / 2``.

    Raises
    ------
    ValueError
        If the Fisher length ``|v|_F`` exceeds the length after which the geodesic
        leaves the simplex through a face (the simplex is incomplete); the message
        names that length. Peers square the great circle and fold it back into
        the simplex, returning a point at the wrong distance.

    Examples
    --------
    >>> exp_map([0.5, 0.5], log_map([0.5, 0.5], [0.9, 0.1])).round(12)
    array([0.9, 0.1])
    """
    probs = as_probs(p, "p")
    xi = _tangent(probs, v, coords, "v")
    u = np.broadcast_to(np.sqrt(probs), xi.shape)
    s = _norm(xi)
    safe = np.where(s > 0, s, 1)[..., None]
    exit_s = _exit_angle(u, xi / safe)
    if np.any(s > exit_s * (1 + 4 * np.finfo(xi.dtype).eps)):
        bad = s > exit_s * (1 + 4 * np.finfo(xi.dtype).eps)
        raise ValueError(
            f"v: expected a Fisher length up to where the geodesic from p in its direction "
            f"leaves the simplex at length {np.min(2 * exit_s[bad]):.17g}, got "
            f"{np.max(2 * s[bad]):.17g}"
        )
    s = s[..., None]
    root = np.maximum(np.cos(s) * u + np.where(s > 0, np.sin(s) / safe, 1) * xi, 0)
    squares = root * root
    return squares / np.sum(squares, axis=-1, keepdims=True)


# ------------------------------------------------------------------------------ alpha
@tiered
def alpha_geodesic(p: Any, q: Any, t: ArrayLike, alpha: float) -> NDArray:
    r"""The geodesic of Amari's alpha-connection from ``p`` to ``q``, by its affine parameter.

    .. math::

        p_t \propto \big((1 - s) p^b + s\, q^b\big)^{1/b}, \quad b = \tfrac{1 - \alpha}{2},
            \quad t = \frac{\int_0^s Z^{-2b}}{\int_0^1 Z^{-2b}}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        For ``alpha > 1``, both in the open simplex.
    t : array_like
        The affine parameter in ``[0, 1]``, broadcasting against the batch shape.
    alpha : float
        ``+1`` the e-geodesic, ``-1`` the m-geodesic, ``0`` the Fisher-Rao one.

    Returns
    -------
    ndarray, shape (..., K)
        The probabilities of the point ``p_t`` at affine parameter ``t``: ``p``
        at ``t = 0``, ``q`` at ``t = 1``.

    Notes
    -----
    With ``b = (1 - alpha) / 2``, the curve is the normalized power mean
    ``p_s = M_s / Z(s)``, ``M_s = ((1 - s) p^b + s q^b)^(1/b)``, ``Z(s) = sum M_s``,
    but ``s`` is not the affine parameter. In the alpha-affine coordinates
    ``r = m^b`` of the positive measures the ambient alpha-connection is flat,
    and the simplex's alpha-connection is its projection along the Fisher-normal
    ``r``: a geodesic satisfies ``r'' = lambda(t) r``. Writing
    ``r(t) = x(t) r_p + y(t) r_q``, ``(x, y)`` moves under a central force, so
    (Kepler's second law) it sweeps equal areas in equal times. The curve is
    ``(x, y) = Z(s)^(-b) (1 - s, s)``, whose swept area is ``(1/2) int Z^(-2b) ds``:

        t(s) = int_0^s Z(u)^(-2b) du / int_0^1 Z(u)^(-2b) du.

    The integrand is bounded and turns fastest at the ends of ``[0, 1]``, over
    widths down to ``(p_k / q_k)^|b|`` (1e-32 for ``alpha = 9`` at
    ``p_k = 1e-8``): both integrals, ``int_0^s`` and ``int_s^1``, are taken from
    their own end by tanh-sinh quadrature (nodes crowding doubly exponentially
    down to 1e-300), and ``s`` is the root of ``(1 - t) int_0^s - t int_s^1`` by
    :func:`expfam._core.solvers.bracketed_newton`. ``log M_s`` is
    ``log1p((1 - s) expm1(b log p) + s expm1(b log q)) / b`` where
    ``|b log p| < 1`` (no cancellation as ``b -> 0``) and
    ``logaddexp(log(1 - s) + b log p, log s + b log q) / b`` elsewhere (no
    overflow). The curve is exactly reversible,
    ``gamma(p, q; t) = gamma(q, p; 1 - t)``. ``s = t`` exactly only for
    alpha = +-1; at alpha = 0 ``s(t)`` is the great-circle reparametrization.
    alpha = +1, -1 and 0 use their closed forms (:func:`e_geodesic`,
    :func:`m_geodesic`, :func:`fisher_rao_geodesic`). Within 1e-12 relative of
    an mpmath evaluation of the formula for ``|alpha|`` up to 9, at the vertices
    and at entries down to 1e-30 (tests/geometry/test_adversarial.py), and held
    to 1e-10 against a numerical solution of
    ``theta'' = -((1 - alpha)/2) g^-1 T(theta', theta')``. Where the integrand
    is below ``eps`` of its total over a stretch of ``s``, the point moves
    across that stretch in an affine time below rounding: there the curve is
    ill-conditioned in ``t`` (though exact at symmetric midpoints).

    Examples
    --------
    >>> alpha_geodesic([0.7, 0.2, 0.1], [0.1, 0.3, 0.6], 0.5, alpha=-1).round(6)
    array([0.4 , 0.25, 0.35])
    """
    alpha = _finite_real(alpha, "alpha")
    lp, lq = _log_probs_pair(p, q)
    t = _parameter(t, lp.dtype)
    if np.any((t < 0) | (t > 1)):
        raise ValueError(f"t: expected values in [0, 1] for alpha_geodesic, got {t}")
    if alpha == 1:
        return e_geodesic(p, q, t)
    if alpha == -1:
        return m_geodesic(p, q, t)
    if alpha == 0:
        return fisher_rao_geodesic(p, q, t)
    if alpha > 1 and (np.any(np.isneginf(lp)) or np.any(np.isneginf(lq))):
        raise ValueError(
            f"p, q: expected points of the open simplex (no zeros) for alpha = {alpha} > 1, "
            "got a zero"
        )
    dtype = lp.dtype
    lp, lq, tt = _curve_shapes(*(x.astype(np.float64) for x in (lp, lq)), t.astype(np.float64))
    shape, k = lp.shape, lp.shape[-1]
    lp, lq, target = lp.reshape(-1, k), lq.reshape(-1, k), tt[..., 0].reshape(-1)
    # by the reversal symmetry, solve from the nearer end: gamma(p, q; t) = gamma(q, p; 1 - t)
    swap = target > 0.5
    lp, lq = np.where(swap[:, None], lq, lp), np.where(swap[:, None], lp, lq)
    target = np.where(swap, 1.0 - target, target)
    z = _alpha_log_mean(lp, lq, target, (1 - alpha) / 2)
    return special.softmax(z).reshape(shape).astype(dtype)


def _tanh_sinh(step: float, smallest: float) -> tuple[NDArray, NDArray, NDArray]:
    """Tanh-sinh nodes ``x``, their complements ``1 - x`` and weights on ``[0, 1]``.

    ``x_j = (1 + tanh(v_j)) / 2``, ``v_j = (pi/2) sinh(j h)``: the nodes crowd at
    both ends doubly exponentially, down to ``smallest`` from each end, so a
    transition of the integrand at any scale near an end is sampled (``h = 1/64``
    holds the alpha-geodesic to 1e-12 against mpmath; ``1/32`` does not).
    """
    reach = math.asinh(-math.log(smallest) / math.pi) / step
    j = np.arange(-math.ceil(reach), math.ceil(reach) + 1) * step
    v = (np.pi / 2) * np.sinh(j)
    x, complement = expit(2 * v), expit(-2 * v)
    weights = step * (np.pi / 2) * np.cosh(j) * x * complement * 2
    return x, complement, weights


_TS_NODES, _TS_COMPLEMENTS, _TS_WEIGHTS = _tanh_sinh(1 / 64, 1e-300)


def _alpha_log_mean(
    lp: NDArray, lq: NDArray, target: NDArray, b: float, *, parameter_only: bool = False
) -> NDArray:
    r"""``log M_s`` at the affine parameter ``target`` (rows (R, K), target in [0, 1/2]).

    With ``parameter_only``, the mixing weight ``s`` of each row instead (the
    portable tier takes one more Newton step from it in its own namespace).

    ``t(s) = int_0^s Z^(-2b) / int_0^1 Z^(-2b)`` by tanh-sinh quadrature (the
    integrand is bounded and changes fastest at the ends, over widths down to
    ``p_k^|b|``); ``s`` by :func:`expfam._core.solvers.bracketed_newton`, whose
    slope's derivative is the integrand itself.
    """
    # log M_s = log((1 - s) p^b + s q^b) / b: where |b log p| < 1, as
    # log1p((1 - s) expm1(b log p) + s expm1(b log q)) / b (no cancellation as b -> 0);
    # elsewhere as logaddexp(log(1 - s) + b log p, log s + b log q) / b (no overflow)
    with np.errstate(invalid="ignore", over="ignore"):
        small = (np.abs(b * lp) < 1.0) & (np.abs(b * lq) < 1.0)
        ep, eq = np.expm1(b * lp), np.expm1(b * lq)
        bp, bq = b * lp, b * lq

    def log_mean(s: NDArray, c: NDArray, rows: NDArray) -> NDArray:
        """``log M`` at ``s`` and ``c = 1 - s``, shape (r, n, K), for rows ``rows``."""
        s, c = s[..., None], c[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            near = np.log1p(c * ep[rows, None] + s * eq[rows, None])
            far = np.logaddexp(np.log(c) + bp[rows, None], np.log(s) + bq[rows, None])
        return np.where(small[rows, None], near, far) / b

    def weight(s: NDArray, c: NDArray, rows: NDArray) -> NDArray:
        """``Z(s)^(-2b)``, shape (r, n)."""
        log_z = special.logsumexp(log_mean(s, c, rows), axis=-1)
        return np.exp(-2 * b * log_z)

    def halves(s: NDArray, rows: NDArray) -> tuple[NDArray, NDArray]:
        """``int_0^s Z^(-2b)`` and ``int_s^1 Z^(-2b)`` for s (r,), each from its own end.

        Mirrored node sets: for a pair that is symmetric under ``s <-> 1 - s`` the two
        halves at ``s = 1/2`` are equal to the last bit.
        """
        c = 1.0 - s
        s_, c_ = s[:, None], c[:, None]
        left = weight(s_ * _TS_NODES, c_ + s_ * _TS_COMPLEMENTS, rows)
        right = weight(s_ + c_ * _TS_COMPLEMENTS, c_ * _TS_NODES, rows)
        return s * np.sum(_TS_WEIGHTS * left, axis=-1), c * np.sum(_TS_WEIGHTS * right, axis=-1)

    def slope(s: NDArray, active: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        """``(1 - t) int_0^s - t int_s^1``: zero at the root, increasing, derivative Z^(-2b)."""
        rows = np.flatnonzero(active)
        g, dg, scale = np.zeros(s.shape), np.ones(s.shape), np.ones(s.shape)
        left, right = halves(s[rows], rows)
        t = target[rows]
        g[rows] = (1.0 - t) * left - t * right
        dg[rows] = weight(s[rows, None], 1.0 - s[rows, None], rows)[:, 0]
        scale[rows] = left + right
        return g, dg, scale

    root = bracketed_newton(
        slope, target, np.zeros_like(target), np.ones_like(target), active=target > 0
    )
    s = root.x
    if parameter_only:
        return s
    z = log_mean(s[:, None], 1.0 - s[:, None], np.arange(len(s)))[:, 0, :]
    return np.where((target == 0)[:, None], lp, z)


# ------------------------------------------------------------------------------ mean
@dataclass(frozen=True)
class KarcherMean:
    """Result of :func:`fisher_rao_mean`.

    Each parameter is the attribute of the same name.

    Parameters
    ----------
    mean : ndarray, shape (..., K)
        The weighted Frechet (Karcher) mean, probabilities.
    n_iter : int
        Fixed-point iterations made.
    converged : bool
        Whether every batch entry reached ``gradient_norm <= tol``.
    gradient_norm : ndarray, shape (...)
        Fisher norm of ``sum_i w_i log_map(mean, p_i)`` at the returned mean.
    """

    mean: NDArray
    n_iter: int
    converged: bool
    gradient_norm: NDArray

    @property
    def iterations(self) -> int:
        """Deprecated alias of :attr:`n_iter`."""
        warnings.warn(
            "KarcherMean.iterations is deprecated; use n_iter", DeprecationWarning, stacklevel=2
        )
        return self.n_iter


@tiered
def fisher_rao_mean(
    points: Any, weights: ArrayLike | None = None, *, tol: float = 1e-13, max_iter: int = 200
) -> KarcherMean:
    r"""Weighted Frechet (Karcher) mean of points of the simplex for the Fisher-Rao metric.

    .. math::

        m^* = \arg\min_m \sum_i w_i\, d(m, p_i)^2

    Parameters
    ----------
    points : SimplexPoint or array_like, shape (..., n, K)
        The n points (axis -2 of the probabilities, batched over the leading axes).
    weights : array_like, shape (..., n), optional
        Non-negative, not all 0, normalized to sum to 1; default equal weights.
    tol : float
        Stop when the Fisher norm of the mean log map is at most ``tol`` (finite,
        ``>= 0``).
    max_iter : int
        A positive integer.

    Returns
    -------
    KarcherMean
        The mean and its convergence report; a :class:`ConvergenceWarning` is
        issued if ``max_iter`` is reached first.

    Notes
    -----
    Minimizes ``sum_i w_i d(m, p_i)^2``. On the unit sphere ``u = sqrt p`` the
    fixed point ``u <- Exp_u(sum_i w_i Log_u(u_i))`` starts from the normalized
    weighted mean of the ``u_i`` and works on the sphere directly, so points on
    different faces are fine. The positive orthant is geodesically convex (its
    diameter is pi/2 on the unit sphere), so the mean is unique and the
    iteration converges linearly.

    Examples
    --------
    >>> result = fisher_rao_mean([[1.0, 0.0], [0.0, 1.0]])
    >>> result.mean.round(12), result.converged
    (array([0.5, 0.5]), True)
    """
    tol, max_iter = solver_options(tol, max_iter)
    probs = as_probs(points, "points")
    if probs.ndim < 2 or probs.shape[-2] < 1:
        raise ValueError(
            f"points: expected n >= 1 points of shape (..., n, K), got shape {probs.shape}"
        )
    if weights is None:
        w = np.full(probs.shape[:-1], 1 / probs.shape[-2], probs.dtype)
    else:
        w = np.asarray(weights)
        if w.dtype.kind not in "biuf":
            raise TypeError(f"weights: expected real numbers, got dtype {w.dtype}")
        w = w.astype(probs.dtype)
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights: expected finite weights >= 0, got {w}")
        try:
            w = np.broadcast_to(w, probs.shape[:-1])
        except ValueError:
            raise ValueError(
                f"weights: expected a shape that broadcasts with points' {probs.shape[:-1]}, "
                f"got {w.shape}"
            ) from None
        total = np.sum(w, axis=-1, keepdims=True)
        if np.any(total == 0):
            raise ValueError("weights: expected weights that are not all 0, got all 0")
        w = w / total
    roots = np.sqrt(probs)
    w = w[..., None]
    u = np.sum(w * roots, axis=-2)
    u = u / _norm(u)[..., None]
    n_iter = 0
    while True:
        m = u * u
        delta = _root_difference(m[..., None, :], probs)
        chord = _norm(delta)
        factor = _theta_over_sin(_chord_angle(chord))[..., None]
        logs = factor * (delta + (chord**2 / 2)[..., None] * u[..., None, :])
        xi = np.sum(w * logs, axis=-2)
        s = _norm(xi)
        gradient = 2 * s
        if np.all(gradient <= tol) or n_iter == max_iter:
            break
        n_iter += 1
        safe = np.where(s > 0, s, 1)[..., None]
        u = np.maximum(np.cos(s)[..., None] * u + np.sin(s)[..., None] / safe * xi, 0)
        u = u / _norm(u)[..., None]
    converged = bool(np.all(gradient <= tol))
    if not converged:
        warnings.warn(
            f"fisher_rao_mean: gradient norm {np.max(gradient):.3g} > tol = {tol:g} after "
            f"{max_iter} iterations",
            ConvergenceWarning,
            stacklevel=2,
        )
    mean = u * u
    return KarcherMean(
        mean / np.sum(mean, axis=-1, keepdims=True), n_iter, converged, gradient[()]
    )
