r"""Chernoff information and its exponent, by the library's bracketed Newton solver.

``C(p, q) = max_l -log sum_k p_k^l q_k^(1-l)``: the best exponent of the error of
a Bayesian test between ``p`` and ``q`` (Chernoff 1952). The optimum lies on the
e-geodesic ``p_l ~ p^l q^(1-l)``, at the point equidistant in KL from both ends.

References
----------
F. Nielsen, "An information-geometric characterization of Chernoff
information", IEEE Signal Process. Lett. 20 (2013).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from expfam import special
from expfam._core.dispatch import tiered
from expfam._core.solvers import bracketed_newton
from expfam.geometry._pair import Pair, log_mass, rowwise
from expfam.geometry.divergences import _amari_sum, _log_power_sum

__all__ = ["ChernoffResult", "chernoff_information"]

_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class ChernoffResult:
    """Result of :func:`chernoff_information`.

    Unpacks as the pair ``(information, exponent)``:
    ``c, lam = chernoff_information(p, q)``. Each parameter is the attribute of
    the same name.

    Parameters
    ----------
    information : ndarray, shape (...)
        ``C = max_l -log sum_k p_k^l q_k^(1-l)``.
    exponent : ndarray, shape (...)
        The maximizer ``l*`` in ``[0, 1]``.
    n_iter : int or None
        Newton iterations of the exponent (the largest over the rows); None
        from the Dask tier, whose blocks are solved lazily.
    converged : bool or None
        Whether every row's exponent met its tolerance (None as ``n_iter``).
    """

    information: NDArray
    exponent: NDArray
    n_iter: int | None
    converged: bool | None

    def __iter__(self) -> Iterator[NDArray]:
        return iter((self.information, self.exponent))


@tiered
def chernoff_information(p: Any, q: Any) -> ChernoffResult:
    r"""Chernoff information ``C = max_l -log sum_k p_k^l q_k^(1-l)`` and its exponent ``l*``.

    .. math::

        C(p, q) = \max_{\lambda \in [0, 1]} -\log \sum_k p_k^\lambda q_k^{1-\lambda}

    Parameters
    ----------
    p, q : SimplexPoint or array_like, shape (..., K)
        Distributions (:class:`~expfam.Categorical`, :class:`~expfam.Bernoulli`)
        or probabilities on the last axis; batch shapes broadcast.

    Returns
    -------
    ChernoffResult
        ``information``, shape (...): ``C >= 0``, symmetric, 0 iff ``p = q``,
        ``+inf`` iff the supports are disjoint; ``C >= `` the Bhattacharyya
        distance. At most 8 ULP. ``exponent``, shape (...): ``l*`` in
        ``[0, 1]`` (1/2 where ``p = q``); the point ``p_l ~ p^l q^(1-l)`` on
        the e-geodesic has ``KL(p_l || p) = KL(p_l || q) = C`` when
        ``0 < l* < 1``. Also ``n_iter`` and ``converged`` of the solver.

    Notes
    -----
    ``f(l) = -log sum p^l q^(1-l)`` is concave with
    ``f'(l) = E_{p_l}[log(q/p)]`` over the common support: ``l*`` is its root
    (:func:`expfam._core.solvers.bracketed_newton` on ``[0, 1]`` with
    ``f'' = -Var_{p_l}(log(q/p))``), or an end of ``[0, 1]`` when ``f'`` keeps
    its sign (supports that differ). The value is ``-log1p(-l mu D_alpha)``,
    ``mu = 1 - l*``, ``alpha = 1 - 2 l*`` (no cancellation as ``q -> p``); at
    an end, ``-log`` of the mass of the common support. ``l*`` itself is
    stationary, known to about ``eps / max |log(q/p)|``, which moves ``C``
    only in second order.

    Examples
    --------
    >>> c, lam = chernoff_information([0.5, 0.5], [0.25, 0.75])
    >>> round(float(c), 10), round(float(lam), 10)
    (0.0346881852, 0.5119228679)
    """
    info, lam, n_iter, converged = rowwise(p, q, _chernoff_rows, outputs=4)
    return ChernoffResult(
        info, lam, int(np.max(n_iter, initial=0)), bool(np.all(np.asarray(converged) > 0))
    )


def _chernoff_rows(pair: Pair) -> tuple[NDArray, ...]:
    lam, common, n_iter, converged = _chernoff_exponent(pair)
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
        end = -log_mass(mass, common, ~common)[..., 0]
    far = interior & (lam * (1.0 - lam) * d > 0.5)  # sum p^l q^(1-l) < 1/2: in logs
    if far.any():
        with np.errstate(invalid="ignore"):
            value = np.where(far, -_log_power_sum(pair, lam_e, mu_e), value)
    value = np.where(interior, value, end)
    value = np.where(common.any(axis=-1), value, np.inf)
    return np.fmax(value, 0.0), lam, np.full(lam.shape, n_iter), converged


def _chernoff_exponent(pair: Pair) -> tuple[NDArray, NDArray, int, NDArray]:
    """``l*`` per row, the common support (mask (..., K)), iterations and convergence."""
    common = np.isfinite(pair.y)
    rows = common.any(axis=-1, keepdims=True)
    mask = common | ~rows  # rows without a common support: any finite stand-in
    y = np.where(common, pair.y, 0.0)
    lp = pair.log_probs()[0]  # not log(p): p may underflow where the logit is finite
    base = np.where(common, lp, np.where(rows, -np.inf, 0.0))

    def moments(lam: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        """``f'(l) = E_{p_l}[y]``, ``Var_{p_l}(y) = -f''(l)`` and ``E_{p_l}|y|``."""
        w = np.where(mask, special.softmax(base + (1.0 - lam[..., None]) * y), 0.0)
        mean = np.sum(w * y, axis=-1)
        var = np.sum(w * (y - mean[..., None]) ** 2, axis=-1)
        return mean, var, np.sum(w * np.abs(y), axis=-1)

    def slope(lam: NDArray, active: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        mean, var, size = moments(lam)
        return -mean, var, size  # -f' increases in l

    shape = y.shape[:-1]
    # f' decreases from f'(0) to f'(1); with equal supports f'(0) = KL(q || p) > 0 >
    # -KL(p || q) = f'(1) (whatever their rounding): the root is inside. With supports
    # that differ it may be an end, where f is largest.
    same = np.ones(shape, dtype=bool)
    if pair.p_zero is not None:
        same = np.all(pair.p_zero == pair.q_zero, axis=-1)
    g0 = moments(np.zeros(shape))[0]
    g1 = moments(np.ones(shape))[0]
    at_zero, at_one = ~same & (g0 <= 0.0) & (g1 < 0.0), ~same & (g1 >= 0.0) & (g0 > 0.0)
    lam = np.where(at_zero, 0.0, np.where(at_one, 1.0, 0.5))
    active = ~at_zero & ~at_one & rows[..., 0]
    zero, one = np.zeros(shape), np.ones(shape)
    # stop where f' is below its own rounding noise or the step below rounding
    root = bracketed_newton(slope, lam, zero, one, active=active, rtol=0.0, atol=2 * _EPS)
    lam, n_iter, converged = root.x, root.n_iter, root.converged
    near = same & (np.max(np.abs(y), axis=-1) <= 1e-3)
    if near.any():  # f' from rounded weights is noise of size eps |y| here: refine
        refined = _near_chernoff_exponent(pair.p[near], y[near], lam[near])
        lam[near] = refined.x
        n_iter += refined.n_iter
        converged[near] = refined.converged
    return lam, common, n_iter, converged


def _near_chernoff_exponent(p: NDArray, y: NDArray, lam: NDArray):
    r"""Newton on ``f'(l) = sum p t(y) / sum p e^{mu y}``, ``t(y) = y e^{mu y} - expm1(y)``.

    Rows with ``|y| <= 1e-3`` (shape (R, K)): ``sum p expm1(y) = 0`` is subtracted
    from ``sum p y e^{mu y}``, so each term is ``O(y^2)`` and ``f'`` has
    absolute error ``eps y^2``, not ``eps |y|``; ``t`` by its series
    ``sum_{n >= 2} (n mu^(n-1) - 1) y^n / n!``. Starts from ``lam``, the root
    found from the rounded weights.
    """

    def slope(lam: NDArray, active: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        mu = (1.0 - lam)[:, None]
        acc = np.zeros_like(y)
        for n in range(9, 1, -1):
            acc = acc * y + (n * mu ** (n - 1) - 1.0) / math.factorial(n)
        w = p * np.exp(mu * y)
        total = np.sum(w, axis=-1)
        terms = p * (y * y * acc)
        g = np.sum(terms, axis=-1) / total
        var = np.sum(w * (y - g[:, None]) ** 2, axis=-1) / total
        return -g, var, np.sum(np.abs(terms), axis=-1) / total

    zero, one = np.zeros(lam.shape), np.ones(lam.shape)
    return bracketed_newton(slope, lam, zero, one, rtol=0.0, atol=2 * _EPS, max_iter=8)
