"""Projections onto flat families of the simplex, and the Pythagorean relation.

- :class:`LogLinearFamily` ``{q ~ h exp(F theta)}`` is e-flat (a straight line in
  logits stays in it). Its m-projection ``argmin_q KL(p || q)`` is the maximum
  likelihood fit: the ``q`` whose moments ``E_q[F]`` match ``E_p[F]``.
- :class:`LinearFamily` ``{r : E_r[F] = c}`` is m-flat (a mixture of two members
  is a member). Its e-projection ``argmin_r KL(r || p)`` is the exponential tilt
  ``q ~ p exp(F lambda)``; maximum entropy is the e-projection of the uniform.
- Contingency tables: :func:`independence_projection` (the product of the
  marginals, at KL the :func:`mutual_information`) and
  :func:`iterative_proportional_fitting` for hierarchical log-linear models.

Both projections satisfy Pythagoras: ``KL(p||r) = KL(p||q*) + KL(q*||r)`` for every
``r`` in the e-flat family, ``KL(r||p) = KL(r||q*) + KL(q*||p)`` for every ``r`` in
the m-flat one. Both are solved by one Newton iteration on the convex function
``logsumexp(log h + F lambda) - lambda . c`` (its Hessian is the family's Fisher
matrix, the covariance of F). When ``c`` lies on the boundary of the polytope of
attainable moments, no member of the open family attains it: the answer is the
limit point on a face of the simplex (the closure of the family), found by a linear
program that names the classes some feasible distribution can charge; those
outside get probability exactly 0. Constraints no distribution meets raise a
ValueError. Points are probabilities (or :class:`~expfam.Categorical`), shape
(..., K); results are probabilities.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog

from expfam import special
from expfam._core.dispatch import tiered
from expfam._core.exceptions import ConvergenceWarning
from expfam._core.solvers import armijo
from expfam.geometry._points import as_probs, as_real, check_probabilities, solver_options

__all__ = [
    "IPFResult",
    "LinearFamily",
    "LogLinearFamily",
    "Projection",
    "independence_projection",
    "iterative_proportional_fitting",
    "mutual_information",
]

_EPS = np.finfo(np.float64).eps
_FACE = 1e-12  # probabilities below this send the row to the face-finding linear program


# ------------------------------------------------------------------------------ the solver
@dataclass(frozen=True)
class Projection:
    """Result of a projection onto a flat family (and of maximum entropy).

    Each parameter is the attribute of the same name; ``np.asarray(projection)``
    is ``projection.probs``.

    Parameters
    ----------
    probs : ndarray, shape (..., K)
        The projection ``q*``.
    multipliers : ndarray, shape (..., d)
        Its exponential-family parameters: ``theta`` with ``q* ~ h exp(F theta)``
        for :meth:`LogLinearFamily.m_project`, the Lagrange multipliers
        ``lambda`` with ``q* ~ p exp(F lambda)`` for :meth:`LinearFamily.e_project`
        (Jaynes' die: ``lambda = 0.37105``). On a face of the simplex (a boundary
        answer), those of the tilt restricted to the face.
    n_iter : int
        Newton iterations (the largest over the rows and the face refits).
    converged : bool
        Whether every row matched its moments within ``tol``.
    """

    probs: NDArray
    multipliers: NDArray
    n_iter: int
    converged: bool

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray:
        """The probabilities, so that ``np.asarray(projection)`` is ``projection.probs``."""
        return self.probs if dtype is None else self.probs.astype(dtype)


def _statistics(statistics: ArrayLike) -> NDArray:
    f = as_real(statistics, "statistics", min_ndim=1).astype(np.float64)
    if f.ndim == 1:
        f = f[:, None]
    if f.ndim != 2 or f.shape[0] < 2 or f.shape[1] < 1:
        raise ValueError(f"statistics: expected shape (K, d) with K >= 2, got {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("statistics: expected finite values, got inf")
    f.flags.writeable = False
    return f


def _scaled(f: NDArray, c: NDArray, allowed: NDArray) -> tuple[NDArray, NDArray]:
    """``(F - c) / s`` per row and column, and ``s`` (n, d): every column in [-1, 1].

    The projections are invariant under an affine change of each statistic, and the
    scaled problem no longer depends on the scale of F (1e-300 or 1e200).
    """
    centred = f[None, :, :] - c[:, None, :]  # (n, K, d): E_q[F] - c without cancellation
    size = np.max(np.abs(np.where(allowed[..., None], centred, 0.0)), axis=1)
    size = np.where(size > 0, size, 1.0)
    return centred / size[:, None, :], size


def _feasible_support(f: NDArray, c: NDArray, allowed: NDArray) -> NDArray:
    """Classes that some r >= 0 with sum 1, E_r[F] = c and support in ``allowed`` can charge.

    One linear program on the statistics scaled to [-1, 1] (:func:`_scaled`):
    maximize sum y subject to F'^T r = 0, sum r = tau, 0 <= y <= r, y <= 1,
    1 <= tau <= 1e6 (homogenized, so y_k = 1 for every class in the support of
    some feasible r). Returns a bool mask of shape (K,); raises ``_Infeasible``
    if there is no feasible r.
    """
    idx = np.flatnonzero(allowed)
    centred, _ = _scaled(f, c[None], allowed[None])
    n, d = len(idx), f.shape[1]
    # variables: r (n), y (n), tau (1)
    a_eq = np.zeros((d + 1, 2 * n + 1))
    a_eq[:d, :n] = centred[0, idx].T
    a_eq[d, :n] = 1
    a_eq[d, -1] = -1
    a_ub = np.hstack([-np.eye(n), np.eye(n), np.zeros((n, 1))])  # y - r <= 0
    cost = np.r_[np.zeros(n), -np.ones(n), 0.0]
    bounds = [(0, None)] * n + [(0, 1)] * n + [(1, 1e6)]
    res = linprog(cost, a_ub, np.zeros(n), a_eq, np.zeros(d + 1), bounds, method="highs")
    if res.status == 2:
        raise _Infeasible
    if res.status != 0:
        raise RuntimeError(f"the feasibility linear program failed: {res.message}")
    support = np.zeros(f.shape[0], dtype=bool)
    support[idx] = res.x[n : 2 * n] > 0.5
    return support


class _Infeasible(Exception):
    """No distribution meets the moment constraints (within the allowed classes)."""


def _newton(
    log_base: NDArray, f: NDArray, c: NDArray, tol: float, max_iter: int
) -> tuple[NDArray, NDArray, NDArray, int]:
    """Minimize ``logsumexp(log_base + (F - c) lam)`` by damped Newton; rows (n, K).

    On the scaled statistics (:func:`_scaled`), so that ``lam`` and the residual do
    not depend on the scale of F. Converged where the moment residual
    ``max |E_q[F] - c|`` is at most ``tol`` times ``max |F - c|`` (or ``4 K eps``
    times it, the rounding floor of the sum over K classes, if that is larger).
    The step is the Newton step (the Hessian is ``Cov_q[F]``, the Fisher
    information; its pseudo-inverse where F has dependent columns), damped by
    :func:`expfam._core.solvers.armijo` where the full step does not decrease the
    objective. A target on the boundary of the attainable moments is never
    reached (lambda diverges). Returns ``(log q, lambda, converged, n_iter)``.
    """
    n, d = c.shape
    allowed = np.isfinite(log_base)
    centred, size = _scaled(f, c, allowed)
    lam = np.zeros((n, d))
    floor = max(tol, 4 * f.shape[0] * _EPS)  # the K-term rounding floor

    def objective(lam: NDArray, rows: Any = slice(None)) -> tuple[NDArray, NDArray]:
        z = log_base[rows] + np.einsum("nkd,nd->nk", centred[rows], lam)
        return special.logsumexp(z, axis=-1), z

    value, z = objective(lam)
    n_iter = 0
    while True:
        q = special.softmax(z)
        grad = np.einsum("nk,nkd->nd", q, centred)
        done = np.max(np.abs(grad), axis=-1) <= floor
        if np.all(done) or n_iter == max_iter:
            break
        n_iter += 1
        dev = centred - grad[:, None, :]
        hess = np.einsum("nk,nki,nkj->nij", q, dev, dev)  # Cov_q[F]: the Fisher information
        step = -np.einsum("nij,nj->ni", np.linalg.pinv(hess, rcond=1e-13, hermitian=True), grad)
        step[done] = 0
        slope = np.einsum("nd,nd->n", grad, step)
        new_value, new_z = objective(lam + step)
        # damping where the full step does not decrease; none once the Newton decrement
        # -slope is small (pure Newton converges quadratically there, and the decrease
        # is below the rounding of the objective)
        slack = 8 * _EPS * (1 + np.abs(value))
        damp = ~(done | (-slope < 1e-8) | (new_value <= value + 1e-4 * slope + slack))
        size_ = np.ones(n)
        for i in np.flatnonzero(damp):
            row = [i]

            def along(t: float, row: list = row, start: NDArray = lam, d: NDArray = step) -> float:
                return float(objective(start[row] + t * d[row], row)[0][0])

            found = armijo(along, float(value[i]), float(slope[i]))
            size_[i] = 0.0 if found is None else found[0]
        if damp.any():
            new_value, new_z = objective(lam + size_[:, None] * step)
        lam = lam + size_[:, None] * step
        value, z = new_value, new_z
    return special.log_softmax(z), lam / size, done, n_iter


def _fit_moments(
    log_base: NDArray,
    f: NDArray,
    c: NDArray,
    tol: float,
    max_iter: int,
    what: str,
    warn: bool = True,
) -> tuple[NDArray, NDArray, NDArray, int]:
    """``log q`` for ``q ~ exp(log_base + F lam)`` with ``E_q[F] = c``, rows (n, K).

    Newton in the open family first. A target on the boundary of the attainable
    moments drives some probabilities to 0 (lambda diverges): rows where Newton
    fails, or leaves an allowed class below ``_FACE`` = 1e-12, go to a linear
    program that finds the classes some feasible distribution can charge, and
    Newton runs again on those (the limit point on a face of the simplex, with
    exact zeros off the face). Raises ``_Infeasible`` if a row that Newton could
    not fit has no distribution on the allowed classes with the moments.
    Returns ``(log q, lambda, converged, n_iter)``; ``warn``: a
    :class:`ConvergenceWarning` where a row did not converge.
    """
    log_q, lam, done, n_iter = _newton(log_base, f, c, tol, max_iter)
    allowed = np.isfinite(log_base)
    near_face = np.any(allowed & (log_q < np.log(_FACE)), axis=-1)
    for i in np.flatnonzero(~done | near_face):
        try:
            support = _feasible_support(f, c[i], allowed[i])
        except _Infeasible:
            if done[i]:
                continue  # feasible within rounding: keep Newton's answer
            raise
        if done[i] and np.array_equal(support, allowed[i]):
            continue
        face = np.where(support, log_base[i], -np.inf)[None]
        log_face, lam_face, on_face, face_iter = _newton(face, f, c[i : i + 1], tol, max_iter)
        n_iter = max(n_iter, face_iter)
        if on_face[0] or not done[i]:  # a face the LP saw within its tolerance only: keep Newton's
            log_q[i], lam[i], done[i] = log_face[0], lam_face[0], on_face[0]
    if warn and not np.all(done):
        warnings.warn(
            f"{what}: Newton did not reach moment residual <= {tol:g} x scale in {max_iter} "
            "iterations",
            ConvergenceWarning,
            stacklevel=3,
        )
    return log_q, lam, done, n_iter


def _rows(p: Any, k: int, name: str) -> tuple[NDArray, tuple[int, ...], np.dtype]:
    """``p`` as float64 rows (n, K), with its shape and dtype to restore the result."""
    probs = as_probs(p, name)
    if probs.shape[-1] != k:
        raise ValueError(f"{name}: expected K = {k} classes on the last axis, got {probs.shape}")
    return probs.reshape(-1, k).astype(np.float64), probs.shape, probs.dtype


def _projection(
    log_q: NDArray, lam: NDArray, done: NDArray, n_iter: int, shape: tuple, dtype: np.dtype
) -> Projection:
    probs = np.exp(log_q).reshape(shape).astype(dtype)
    multipliers = lam.reshape(*shape[:-1], lam.shape[-1])
    for a in (probs, multipliers):
        a.flags.writeable = False
    return Projection(probs, multipliers, n_iter, bool(np.all(done)))


# ------------------------------------------------------------------------------ families
@dataclass(frozen=True, eq=False)
class LogLinearFamily:
    r"""The e-flat family ``q_theta(k) = h_k exp(<F_k, theta>) / Z(theta)`` on K classes.

    .. math::

        q_\theta(k) = \frac{h_k\, e^{\langle F_k, \theta \rangle}}{Z(\theta)}, \qquad
        Z(\theta) = \sum_j h_j\, e^{\langle F_j, \theta \rangle}

    Parameters
    ----------
    statistics : array_like, shape (K, d) or (K,)
        The sufficient statistics F (row k is the statistic of class k).
    base : array_like, shape (K,), optional
        Base measure ``h >= 0`` (not necessarily normalized); classes with
        ``h_k = 0`` have probability 0 in every member. Default: uniform.

    Notes
    -----
    ``m_project(p)`` minimizes ``KL(p || q_theta)``, equivalently maximizes the
    expected log-likelihood ``E_p[log q_theta]``; the gradient is
    ``E_q[F] - E_p[F]`` and the Hessian is ``Cov_q[F]``, the family's Fisher
    information, so Newton's method is Fisher scoring. The optimum matches the
    moments (to a few eps times ``max |F|``), and ``KL(p||r) = KL(p||q*) + KL(q*||r)``
    for every member r; the computed sides agree to the moment residual times
    ``|theta_r - theta_q*|`` (under 1e-14 relative in tests/geometry/test_projections.py).

    Examples
    --------
    >>> fam = LogLinearFamily([[0.0], [1.0], [2.0]])  # q_k ~ exp(k theta)
    >>> q = fam.m_project([0.2, 0.2, 0.6]).probs
    >>> round(float(q @ [0.0, 1.0, 2.0]), 12)  # the mean 1.4 is matched
    1.4
    """

    statistics: NDArray
    base: NDArray | None = None

    def __post_init__(self) -> None:
        f = _statistics(self.statistics)
        if self.base is None:
            base = np.ones(f.shape[0])
        else:
            base = as_real(self.base, "base", min_ndim=1).astype(np.float64)
            if base.shape != (f.shape[0],):
                raise ValueError(f"base: expected shape ({f.shape[0]},), got {base.shape}")
            if np.any(base < 0) or not np.all(np.isfinite(base)) or not np.any(base > 0):
                raise ValueError(f"base: expected finite entries >= 0, not all 0, got {base}")
        base = np.array(base)
        base.flags.writeable = False
        object.__setattr__(self, "statistics", f)
        object.__setattr__(self, "base", base)

    @property
    def log_base(self) -> NDArray:
        """``log h``, with ``-inf`` for classes outside the family's support, shape (K,)."""
        return np.log(self.base, where=self.base > 0, out=np.full(self.base.shape, -np.inf))

    def probs(self, natural: ArrayLike) -> NDArray:
        r"""The member with natural parameters ``theta`` of shape (..., d), probabilities (..., K).

        .. math::

            q_\theta(k) = \frac{h_k\, e^{\langle F_k, \theta \rangle}}
                {\sum_j h_j\, e^{\langle F_j, \theta \rangle}}

        Parameters
        ----------
        natural : array_like, shape (..., d)
            The natural parameters ``theta``, one per statistic (column of F).

        Returns
        -------
        ndarray, shape (..., K)
            ``softmax(log h + F theta)``: the member's probabilities, 0 on the
            classes with ``h_k = 0``.

        Examples
        --------
        >>> LogLinearFamily([[0.0], [1.0]]).probs([0.0])
        array([0.5, 0.5])
        """
        theta = as_real(natural, "natural", min_ndim=1)
        if theta.shape[-1] != self.statistics.shape[1]:
            raise ValueError(
                f"natural: expected d = {self.statistics.shape[1]} entries, "
                f"got shape {theta.shape}"
            )
        return special.softmax(self.log_base + theta @ self.statistics.T)

    def m_project(self, p: Any, *, tol: float = 4 * _EPS, max_iter: int = 100) -> Projection:
        r"""The m-projection ``argmin_q KL(p || q)`` of ``p`` onto the family (maximum likelihood).

        .. math::

            q^* = \arg\min_{q_\theta} \mathrm{KL}(p \,\|\, q_\theta), \qquad
            \mathbb{E}_{q^*}[F] = \mathbb{E}_p[F]

        Parameters
        ----------
        p : SimplexPoint or array_like, shape (..., K)
            Must put no mass where the base measure is 0 (else every KL is infinite:
            ValueError).
        tol : float
            Stop when ``max |E_q[F] - E_p[F]| <= tol * max |F - E_p[F]|``.
        max_iter : int
            Newton iterations; a :class:`ConvergenceWarning` if reached.

        Returns
        -------
        Projection
            ``probs``, shape (..., K): the projection; ``multipliers``, shape
            (..., d): its natural parameters ``theta``; ``n_iter``, ``converged``.
            If ``E_p[F]`` lies on the boundary of the attainable moments (``p`` has
            zeros that the family cannot reproduce in its interior), the maximum
            likelihood estimate does not exist in the open family and the answer is
            its limit in the closure: the classes no distribution with those
            moments can charge get probability exactly 0.

        Notes
        -----
        Invariant under an affine change of each statistic: the statistics are
        centred at ``E_p[F]`` and scaled to ``[-1, 1]`` before the solve, so
        ``F = [0, 1e-300, 2e-300]`` gives the projection of ``F = [0, 1, 2]``.

        Examples
        --------
        >>> fit = LogLinearFamily([[0.0], [1.0], [2.0]]).m_project([0.2, 0.2, 0.6])
        >>> round(float(fit.probs @ [0.0, 1.0, 2.0]), 12), fit.converged
        (1.4, True)
        """
        tol, max_iter = solver_options(tol, max_iter)
        rows, shape, dtype = _rows(p, len(self.base), "p")
        log_base = np.broadcast_to(self.log_base, rows.shape).copy()
        if np.any(rows[:, self.base == 0] > 0):
            raise ValueError(
                "p: expected no mass where the base measure is 0 (KL(p || q) is infinite "
                "for every member of the family), got mass there"
            )
        c = rows @ self.statistics
        fit = _fit_moments(log_base, self.statistics, c, tol, max_iter, "m_project")
        return _projection(*fit, shape, dtype)


@dataclass(frozen=True, eq=False)
class LinearFamily:
    r"""The m-flat family ``{r : E_r[F] = c}`` of distributions with given moments.

    .. math::

        \mathcal{M} = \{ r \in \Delta_{K-1} : \textstyle\sum_k r_k F_k = c \}

    Parameters
    ----------
    statistics : array_like, shape (K, d) or (K,)
        The statistics F (row k for class k).
    values : array_like, shape (d,) or scalar
        The prescribed moments c. They must lie in the convex hull of the rows of F
        (else ValueError: no distribution has them).

    Notes
    -----
    ``e_project(p) = argmin_r KL(r || p)`` is the exponential tilt
    ``q* = p exp(F lambda) / Z`` whose lambda solves the convex dual
    ``min_lambda log sum_k p_k exp((F_k - c) . lambda)``; then
    ``KL(r||p) = KL(r||q*) + KL(q*||p)`` for every r in the family.
    ``max_entropy()`` is ``e_project(uniform)``, since ``KL(r || u) = log K - H(r)``.
    Pythagoras holds for the computed projection within 3 ULP against mpmath
    (tests/geometry/test_projections.py).

    Jaynes' die (E. T. Jaynes, *Probability Theory: The Logic of Science*, 2003,
    sect. 11.4): a die whose mean is 4.5 instead of 3.5; the maximum-entropy
    distribution is ``p_k ~ exp(lambda k)`` with lambda = 0.37105:

    >>> die = LinearFamily([1, 2, 3, 4, 5, 6], 4.5)
    >>> best = die.max_entropy()
    >>> best.probs.round(5)
    array([0.05435, 0.07877, 0.11416, 0.16545, 0.23977, 0.34749])
    >>> best.multipliers.round(5)
    array([0.37105])
    """

    statistics: NDArray
    values: NDArray
    _max_entropy: Projection | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        f = _statistics(self.statistics)
        c = as_real(self.values, "values").astype(np.float64).reshape(-1)
        if c.shape != (f.shape[1],):
            raise ValueError(f"values: expected d = {f.shape[1]} entries, got shape {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError(f"values: expected finite moments, got {c}")
        outside = ValueError(
            f"values: expected moments inside the convex hull of the rows of statistics "
            f"(some distribution has them), got {c}, outside it"
        )
        k = f.shape[0]
        # attainable iff the maximum-entropy fit converges: in the open simplex (moments
        # inside the hull), or on the face that a linear program names (moments on its
        # boundary). The program alone accepts within its tolerance (1e-7 of the scale);
        # outside the hull the fit diverges on every face.
        uniform = np.full((1, k), -math.log(k))
        try:
            fit = _fit_moments(uniform, f, c[None], 4 * _EPS, 100, "values", warn=False)
        except _Infeasible:
            raise outside from None
        if not fit[2][0]:
            raise outside
        c.flags.writeable = False
        object.__setattr__(self, "statistics", f)
        object.__setattr__(self, "values", c)
        object.__setattr__(self, "_max_entropy", _projection(*fit, (k,), np.dtype(np.float64)))

    def e_project(self, p: Any, *, tol: float = 4 * _EPS, max_iter: int = 100) -> Projection:
        r"""The e-projection ``argmin_r KL(r || p)`` of ``p`` onto the family.

        .. math::

            q^* = \arg\min_{\mathbb{E}_r[F] = c} \mathrm{KL}(r \,\|\, p)
                = \frac{p\, e^{F \lambda}}{\sum_k p_k e^{F_k \lambda}}

        Parameters
        ----------
        p : SimplexPoint or array_like, shape (..., K)
            The point to project: a distribution or probabilities on the last
            axis; batch shapes are kept.
        tol, max_iter
            As in :meth:`LogLinearFamily.m_project`.

        Returns
        -------
        Projection
            ``probs``, shape (..., K): ``q* ~ p exp(F lambda)`` on the classes that a
            member absolutely continuous with respect to p can charge (exactly 0
            elsewhere: when the moments sit on a face of the polytope, q* lies on a
            face of the simplex); ``multipliers``, shape (..., d): ``lambda``;
            ``n_iter``, ``converged``.

        Raises
        ------
        ValueError
            If no member of the family puts mass only where p does (then
            ``KL(r || p)`` is infinite for every r in the family).

        Examples
        --------
        >>> tilt = LinearFamily([0.0, 1.0], 0.75).e_project([0.5, 0.5])
        >>> tilt.probs, round(float(tilt.multipliers[0]), 12)  # lambda = log 3
        (array([0.25, 0.75]), 1.098612288668)
        """
        tol, max_iter = solver_options(tol, max_iter)
        rows, shape, dtype = _rows(p, self.statistics.shape[0], "p")
        log_base = np.log(rows, where=rows > 0, out=np.full(rows.shape, -np.inf))
        c = np.broadcast_to(self.values, (len(rows), len(self.values)))
        try:
            fit = _fit_moments(log_base, self.statistics, c, tol, max_iter, "e_project")
        except _Infeasible:
            raise ValueError(
                "p: expected a point on which some member of the family is absolutely "
                "continuous (else KL(r || p) is infinite for every r with these moments), "
                "got none"
            ) from None
        return _projection(*fit, shape, dtype)

    def max_entropy(self) -> Projection:
        r"""The maximum-entropy member, ``e_project(uniform)``.

        .. math::

            q^* = \arg\max_{\mathbb{E}_r[F] = c} H(r), \qquad q^*_k \propto e^{F_k \lambda}

        Returns
        -------
        Projection
            ``probs`` of shape (K,) and the multipliers ``lambda`` of shape (d,).
            Computed when the family is made (it decides whether the moments are
            attainable).
        """
        assert self._max_entropy is not None
        return self._max_entropy


# ------------------------------------------------------------------------------ tables
def _table(joint: ArrayLike, name: str = "joint") -> NDArray:
    table = as_real(joint, name).astype(np.float64)
    if table.ndim < 2:
        raise ValueError(f"{name}: expected a table with at least 2 axes, got shape {table.shape}")
    check_probabilities(table.reshape(1, -1), name)
    return table


def _marginals(table: NDArray) -> list[NDArray]:
    axes = range(table.ndim)
    return [np.sum(table, axis=tuple(a for a in axes if a != i)) for i in axes]


@tiered
def independence_projection(joint: ArrayLike) -> NDArray:
    r"""The m-projection of a joint table onto the independence model: the product of marginals.

    .. math::

        q^*(x_1, \dots, x_m) = \prod_j p_j(x_j)
            = \arg\min_{q \text{ independent}} \mathrm{KL}(p \,\|\, q)

    Parameters
    ----------
    joint : array_like, shape (n_1, ..., n_m), m >= 2
        A probability table (entries >= 0 summing to 1).

    Returns
    -------
    ndarray, same shape
        ``p_1 (x) p_2 (x) ... (x) p_m``, with ``KL(joint || product)`` equal to the
        :func:`mutual_information` (total correlation for m > 2).

    Notes
    -----
    The independence model is log-linear with the marginal indicators as
    statistics, so its m-projection matches the marginals; the product of the
    marginals does, and it is in the model.

    Examples
    --------
    >>> independence_projection([[0.4, 0.1], [0.1, 0.4]])
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    table = _table(joint)
    out = np.ones(())
    for m in _marginals(table):
        out = np.multiply.outer(out, m)
    return out


@tiered
def mutual_information(joint: ArrayLike) -> float:
    r"""``KL(joint || product of marginals)`` in nats (total correlation for more than 2 axes).

    .. math::

        I = \mathrm{KL}\Big(p \,\Big\|\, \prod_j p_j\Big)
            = \sum_x p(x) \log \frac{p(x)}{\prod_j p_j(x_j)}

    Parameters
    ----------
    joint : array_like, shape (n_1, ..., n_m), m >= 2
        A probability table (entries >= 0 summing to 1).

    Returns
    -------
    float
        The mutual information (for ``m > 2`` axes, the total correlation) in
        nats: ``>= 0``, 0 iff the table is the product of its marginals.

    Notes
    -----
    Computed with :func:`expfam.special.kl_divergence` on the log-tables (the log of
    the product as a sum of logs, so it cannot underflow): never negative, exactly 0
    for a product table, and within ``eps * max |log p|`` of the exact value (the
    rounding of the logs), a few ULP relative for tables far from independence.

    Examples
    --------
    >>> round(mutual_information([[0.5, 0.0], [0.0, 0.5]]), 15)  # log 2
    0.693147180559945
    """
    table = _table(joint)
    log_product = np.zeros(())
    with np.errstate(divide="ignore"):
        for m in _marginals(table):  # sum of logs: the product itself may underflow
            log_product = np.add.outer(log_product, np.log(m))
        return float(special.kl_divergence(np.log(table).ravel(), log_product.ravel()))


@dataclass(frozen=True)
class IPFResult:
    """Result of :func:`iterative_proportional_fitting`.

    Each parameter is the attribute of the same name.

    Parameters
    ----------
    fitted : ndarray
        The fitted table (the m-projection onto the hierarchical model).
    n_iter : int
        Full cycles over the margins.
    converged : bool
        Whether every margin matched within ``tol`` before the last cycle.
    kl : ndarray, shape (n_iter + 1,)
        ``KL(table || fitted)`` at the start and after each cycle: non-increasing.
    """

    fitted: NDArray
    n_iter: int
    converged: bool
    kl: NDArray

    @property
    def iterations(self) -> int:
        """Deprecated alias of :attr:`n_iter`."""
        warnings.warn(
            "IPFResult.iterations is deprecated; use n_iter", DeprecationWarning, stacklevel=2
        )
        return self.n_iter


def _margins(margins: Any, ndim: int) -> list[tuple[int, ...]]:
    """The generating class as tuples of axes; TypeError or ValueError naming ``margins``."""
    expected = f"margins: expected a non-empty sequence of tuples of distinct axes in [0, {ndim})"
    if isinstance(margins, str | bytes) or not isinstance(margins, Sequence | np.ndarray):
        raise TypeError(f"{expected}, got {margins!r}")
    groups = []
    for margin in margins:
        if isinstance(margin, str | bytes) or not isinstance(margin, Sequence | np.ndarray):
            raise TypeError(f"{expected}, got the entry {margin!r}")
        if not all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in margin):
            raise TypeError(f"{expected}, got the entry {margin!r}")
        group = tuple(int(a) for a in margin)
        if not group or len(set(group)) != len(group) or any(not 0 <= a < ndim for a in group):
            raise ValueError(f"{expected}, got the entry {group}")
        groups.append(group)
    if not groups:
        raise ValueError(f"{expected}, got an empty sequence")
    return groups


@tiered
def iterative_proportional_fitting(
    table: ArrayLike,
    margins: Sequence[Sequence[int]],
    *,
    start: ArrayLike | None = None,
    tol: float = 1e-13,
    max_iter: int = 1000,
) -> IPFResult:
    r"""Fit a hierarchical log-linear model to a table by iterative proportional fitting.

    .. math::

        q \leftarrow q\, \frac{p_S}{q_S} \quad \text{for each margin } S, \text{ cyclically}

    Parameters
    ----------
    table : array_like, shape (n_1, ..., n_m)
        The target probability table p.
    margins : sequence of sequences of int
        The generating class: each entry lists the axes of a margin the model
        fixes, e.g. ``[(0, 1), (1, 2), (0, 2)]`` (no three-way interaction) or
        ``[(0,), (1,)]`` (independence).
    start : array_like, optional
        A positive (or structurally zero) table in the model; default uniform.
    tol : float
        Converged when every margin of the fit is within ``tol`` of p's.
    max_iter : int
        Cycles; a :class:`ConvergenceWarning` if reached.

    Returns
    -------
    IPFResult
        ``fitted``: the fit of the model (when ``converged``, its margins on
        ``margins`` match p's within ``tol``: the maximum likelihood table);
        ``n_iter`` and ``converged``; ``kl``: the history of ``KL(p || q)``,
        non-increasing.

    Notes
    -----
    Each step rescales the fit to match one margin of p,
    ``q <- q p_S / q_S``: the m-projection onto the linear family of tables with
    p's S-margin (and an e-projection of q onto it, as q's model is e-flat).
    By Pythagoras, ``KL(p || q)`` drops by ``KL(p_S || q_S) >= 0`` at each step, and
    the cycles converge to the maximum likelihood fit (Csiszar 1975). Zeros in p's
    margins give zeros in the fit (a boundary answer, approached only
    linearly).

    Examples
    --------
    >>> r = iterative_proportional_fitting([[0.4, 0.1], [0.1, 0.4]], [(0,), (1,)])
    >>> r.fitted, r.converged
    (array([[0.25, 0.25],
           [0.25, 0.25]]), True)
    """
    p = _table(table, "table")
    tol, max_iter = solver_options(tol, max_iter)
    groups = [tuple(a for a in range(p.ndim) if a not in g) for g in _margins(margins, p.ndim)]
    if start is None:
        q = np.full(p.shape, 1.0 / p.size)
    else:
        q = as_real(start, "start").astype(np.float64)
        if q.shape != p.shape or np.any(q < 0) or not np.all(np.isfinite(q)):
            raise ValueError(
                f"start: expected a finite table >= 0 of shape {p.shape}, got shape {q.shape}"
            )
        q = q / np.sum(q)
    targets = [np.sum(p, axis=g, keepdims=True) for g in groups]
    log_p = np.log(p, where=p > 0, out=np.full(p.shape, -np.inf)).ravel()

    def kl(q: NDArray) -> float:
        with np.errstate(divide="ignore"):
            return float(special.kl_divergence(log_p, np.log(q).ravel()))

    history = [kl(q)]
    converged = False
    iterations = 0
    for iterations in itertools.count(1):
        residual = 0.0
        for g, target in zip(groups, targets, strict=True):
            current = np.sum(q, axis=g, keepdims=True)
            if np.any((current == 0) & (target > 0)):
                raise ValueError(
                    "start: expected a positive entry on every cell where the table's margin "
                    "is positive, got 0"
                )
            residual = max(residual, float(np.max(np.abs(current - target))))
            ratio = np.divide(target, current, out=np.zeros(current.shape), where=current > 0)
            q = q * ratio
        history.append(kl(q))
        if residual <= tol:
            converged = True
            break
        if iterations >= max_iter:
            break
    if not converged:
        warnings.warn(
            f"iterative_proportional_fitting: margins still off by {residual:.3g} > tol = "
            f"{tol:g} after {max_iter} cycles",
            ConvergenceWarning,
            stacklevel=2,
        )
    return IPFResult(q, iterations, converged, np.array(history))
