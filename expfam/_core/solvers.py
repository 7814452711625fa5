"""The library's two iterative building blocks, written once.

- :func:`bracketed_newton`: a batched, safeguarded Newton iteration for the
  root of an increasing function of one variable per row (a convex
  objective's slope). Used for the temperature fit, the Chernoff exponent,
  the entmax threshold and the exponential tilts of the projections.
- :func:`armijo`: backtracking along a descent direction until the
  sufficient-decrease condition holds. Used by the solvers of
  :mod:`expfam.learn.optimize` and the damped Newton steps of the projections.

Both are plain numpy and know nothing of the problem they solve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class RootResult:
    """Roots found by :func:`bracketed_newton`, one per row.

    Attributes
    ----------
    x : ndarray
        The roots (the final iterates where ``converged`` is False).
    n_iter : int
        Iterations taken (the largest over the rows).
    converged : ndarray of bool
        Per row: the slope reached its tolerance, or the bracket or the step
        fell below ``rtol`` of the iterate.
    """

    x: NDArray
    n_iter: int
    converged: NDArray


def bracketed_newton(
    slope: Callable[[NDArray, NDArray], tuple[NDArray, NDArray, NDArray]],
    x0: NDArray,
    lo: NDArray,
    hi: NDArray,
    *,
    active: NDArray | None = None,
    rtol: float = 4 * _EPS,
    atol: float = 0.0,
    gtol: float = 4 * _EPS,
    max_iter: int = 100,
) -> RootResult:
    r"""Roots of increasing functions ``g``, one per row, each kept inside its bracket.

    .. math::

        x_{n+1} = x_n - g(x_n) / g'(x_n), \quad \text{if it lies in } (lo_n, hi_n),

    otherwise the bracket's midpoint (or, with an infinite end, twice the
    iterate away from the finite end). After each evaluation the bracket
    shrinks to the side where the sign of ``g`` changes, so every row
    converges (at worst as bisection).

    Parameters
    ----------
    slope : callable
        ``slope(x, active) -> (g, dg, scale)`` for the iterates ``x`` (shape
        of ``x0``); ``g`` increasing in ``x``, ``dg = g'(x) >= 0``, and
        ``scale`` the size of the terms summed into ``g`` (``|g| <= gtol *
        scale`` is zero to rounding). Rows where ``active`` is False may be
        given any value.
    x0, lo, hi : ndarray
        Starting points and brackets, ``lo <= x0 <= hi`` (ends may be infinite).
    active : ndarray of bool, optional
        Rows to solve (the others keep ``x0``); all by default.
    rtol, atol : float
        Stop a row when the step or the bracket is below ``rtol * |x| + atol``.
    gtol : float
        Stop a row when ``|g| <= gtol * scale``.
    max_iter : int
        At most this many evaluations of ``slope``.

    Returns
    -------
    RootResult

    Examples
    --------
    >>> r = bracketed_newton(lambda x, a: (x**2 - 2, 2 * x, x**2 + 2),
    ...                      np.array([1.0]), np.array([0.0]), np.array([np.inf]))
    >>> bool(abs(r.x[0] - np.sqrt(2)) < 1e-15), bool(r.converged[0])
    (True, True)
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    lo = np.array(np.broadcast_to(lo, x.shape), dtype=np.float64)
    hi = np.array(np.broadcast_to(hi, x.shape), dtype=np.float64)
    todo = np.ones(x.shape, bool) if active is None else np.array(active, dtype=bool)
    converged = ~todo
    n_iter = 0
    while todo.any() and n_iter < max_iter:
        n_iter += 1
        g, dg, scale = slope(x, todo)
        zero = np.abs(g) <= gtol * scale
        lo = np.where(todo & (g < 0), x, lo)
        hi = np.where(todo & (g > 0), x, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = x - g / dg
        tol = rtol * np.abs(x) + atol
        done = zero | (np.abs(step - x) <= tol) | (hi - lo <= tol)
        inside = (step > lo) & (step < hi)
        with np.errstate(invalid="ignore"):  # the branch of an infinite end is not taken
            mid = np.where(
                np.isfinite(lo) & np.isfinite(hi),
                0.5 * lo + 0.5 * hi,
                np.where(
                    np.isfinite(lo),
                    lo + 2.0 * np.maximum(x - lo, 1.0),
                    hi - 2.0 * np.maximum(hi - x, 1.0),
                ),
            )
        new = np.where(inside, step, mid)
        x = np.where(todo & ~done, new, x)
        converged |= todo & done
        todo &= ~done
    return RootResult(x, n_iter, converged)


def armijo(
    value: Callable[[float], float],
    f0: float,
    slope0: float,
    *,
    c: float = 1e-4,
    max_halvings: int = 60,
) -> tuple[float, float] | None:
    r"""The first step ``t = 1, 1/2, 1/4, ...`` with sufficient decrease along a direction.

    .. math::

        f(t) \le f(0) + c\, t\, f'(0) + 16\,\varepsilon |f(0)|,

    the last term the rounding of ``f`` itself (near an optimum the decrease
    is below it).

    Parameters
    ----------
    value : callable
        ``value(t)``: the objective at step ``t`` along the direction.
    f0, slope0 : float
        The objective at ``t = 0`` and its directional derivative there (< 0).
    c : float
        The sufficient-decrease constant.
    max_halvings : int
        Give up after this many halvings.

    Returns
    -------
    (t, f(t)) or None
        None when no step decreases the objective.

    Examples
    --------
    >>> armijo(lambda t: (1 - 4 * t) ** 2, 1.0, -8.0)
    (0.25, 0.0)
    """
    slack = 16.0 * _EPS * abs(f0)
    t = 1.0
    for _ in range(max_halvings):
        f = value(t)
        if f <= f0 + c * t * slope0 + slack:
            return t, f
        t *= 0.5
    return None
