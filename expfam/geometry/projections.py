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
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog

from expfam import special
from expfam._core.exceptions import ConvergenceWarning
from expfam.families.family import as_float_array, check_probability_vector
from expfam.geometry._points import as_probs

__all__ = [
    "IPFResult",
    "LinearFamily",
    "LogLinearFamily",
    "independence_projection",
    "iterative_proportional_fitting",
    "mutual_information",
]

_EPS = np.finfo(np.float64).eps
_FACE = 1e-12  # probabilities below this send the row to the face-finding linear program


# ------------------------------------------------------------------------------ the solver
def _statistics(statistics: ArrayLike) -> NDArray:
    f = as_float_array(statistics, "statistics", min_ndim=1).astype(np.float64)
    if f.ndim == 1:
        f = f[:, None]
    if f.ndim != 2 or f.shape[0] < 2 or f.shape[1] < 1:
        raise ValueError(f"statistics must have shape (K, d) with K >= 2, got {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("statistics must be finite")
    f.flags.writeable = False
    return f


def _feasible_support(f: NDArray, c: NDArray, allowed: NDArray) -> NDArray:
    """Classes that some r >= 0 with sum 1, E_r[F] = c and support in ``allowed`` can charge.

    One linear program: maximize sum y subject to F^T r = c tau, sum r = tau,
    0 <= y <= r, y <= 1, 1 <= tau <= 1e6 (homogenized, so y_k = 1 for every class
    in the support of some feasible r). Returns a bool mask of shape (K,);
    raises ValueError (the caller's message) if there is no feasible r.
    """
    idx = np.flatnonzero(allowed)
    n, d = len(idx), f.shape[1]
    # variables: r (n), y (n), tau (1)
    a_eq = np.zeros((d + 1, 2 * n + 1))
    a_eq[:d, :n] = f[idx].T
    a_eq[:d, -1] = -c
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
) -> tuple[NDArray, NDArray]:
    """Minimize ``logsumexp(log_base + (F - c) lam)`` by damped Newton; rows (n, K).

    Converged where the moment residual ``max |E_q[F] - c|`` is at most ``tol``
    times ``max |F - c|`` (or ``4 K eps`` times it, the rounding floor of the sum
    over K classes, if that is larger). A target on the boundary of the attainable
    moments is never reached (lambda diverges). Returns ``(log q, converged)``.
    """
    n, d = c.shape
    lam = np.zeros((n, d))
    centred = f[None, :, :] - c[:, None, :]  # (n, K, d): E_q[F] - c without cancellation
    scale = np.max(np.abs(np.where(np.isfinite(log_base)[..., None], centred, 0)), axis=(1, 2))
    scale = np.where(scale > 0, scale, 1)

    def objective(lam: NDArray) -> tuple[NDArray, NDArray]:
        z = log_base + np.einsum("nkd,nd->nk", centred, lam)
        return special.logsumexp(z, axis=-1), z

    value, z = objective(lam)
    for iteration in range(max_iter + 1):
        q = special.softmax(z)
        grad = np.einsum("nk,nkd->nd", q, centred)
        residual = np.max(np.abs(grad), axis=-1)
        done = residual <= max(tol, 4 * f.shape[0] * _EPS) * scale  # K-term rounding floor
        if np.all(done) or iteration == max_iter:
            break
        dev = centred - grad[:, None, :]
        hess = np.einsum("nk,nki,nkj->nij", q, dev, dev)  # Cov_q[F]: the Fisher information
        step = -np.einsum("nij,nj->ni", np.linalg.pinv(hess, rcond=1e-13, hermitian=True), grad)
        step[done] = 0
        slope = np.einsum("nd,nd->n", grad, step)
        size = np.ones(n)
        # backtracking (Armijo) where the full step does not decrease; none once the Newton
        # decrement -slope is small (pure Newton converges quadratically there, and the
        # decrease is below the rounding of the objective)
        local = done | (-slope < 1e-8)
        for _ in range(60):
            new_value, new_z = objective(lam + size[:, None] * step)
            slack = 8 * _EPS * (1 + np.abs(value))
            ok = local | (new_value <= value + 1e-4 * size * slope + slack)
            if np.all(ok):
                break
            size = np.where(ok, size, size / 2)
        lam = lam + size[:, None] * step
        value, z = new_value, new_z
    return special.log_softmax(z), done


def _fit_moments(
    log_base: NDArray, f: NDArray, c: NDArray, tol: float, max_iter: int, what: str
) -> NDArray:
    """``log q`` for ``q ~ exp(log_base + F lam)`` with ``E_q[F] = c``, rows (n, K).

    Newton in the open family first. A target on the boundary of the attainable
    moments drives some probabilities to 0 (lambda diverges): rows where Newton
    fails, or leaves an allowed class below ``_FACE`` = 1e-12, go to a linear
    program that finds the classes some feasible distribution can charge, and
    Newton runs again on those (the limit point on a face of the simplex, with
    exact zeros off the face). Raises ``_Infeasible`` if a row that Newton could
    not fit has no distribution on the allowed classes with the moments.
    """
    log_q, done = _newton(log_base, f, c, tol, max_iter)
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
        log_face, on_face = (x[0] for x in _newton(face, f, c[i : i + 1], tol, max_iter))
        if on_face or not done[i]:  # a face the LP saw within its tolerance only: keep Newton's
            log_q[i], done[i] = log_face, on_face
    if not np.all(done):
        warnings.warn(
            f"{what}: Newton did not reach moment residual <= {tol:g} x scale in {max_iter} "
            "iterations",
            ConvergenceWarning,
            stacklevel=3,
        )
    return log_q


def _rows(p: Any, k: int, name: str) -> tuple[NDArray, tuple[int, ...], np.dtype]:
    """``p`` as float64 rows (n, K), with its shape and dtype to restore the result."""
    probs = as_probs(p, name)
    if probs.shape[-1] != k:
        raise ValueError(f"{name} must have K = {k} classes on its last axis, got {probs.shape}")
    return probs.reshape(-1, k).astype(np.float64), probs.shape, probs.dtype


# ------------------------------------------------------------------------------ families
@dataclass(frozen=True, eq=False)
class LogLinearFamily:
    """The e-flat family ``q_theta(k) = h_k exp(<F_k, theta>) / Z(theta)`` on K classes.

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
    >>> q = fam.m_project([0.2, 0.2, 0.6])
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
            base = as_float_array(self.base, "base", min_ndim=1).astype(np.float64)
            if base.shape != (f.shape[0],):
                raise ValueError(f"base must have shape ({f.shape[0]},), got {base.shape}")
            if np.any(base < 0) or not np.all(np.isfinite(base)) or not np.any(base > 0):
                raise ValueError(f"base must be finite, >= 0 and not all 0, got {base}")
        base = np.array(base)
        base.flags.writeable = False
        object.__setattr__(self, "statistics", f)
        object.__setattr__(self, "base", base)

    @property
    def log_base(self) -> NDArray:
        """``log h``, with ``-inf`` for classes outside the family's support, shape (K,)."""
        return np.log(self.base, where=self.base > 0, out=np.full(self.base.shape, -np.inf))

    def probs(self, natural: ArrayLike) -> NDArray:
        """The member with natural parameters ``theta`` of shape (..., d), probabilities (..., K).

        Examples
        --------
        >>> LogLinearFamily([[0.0], [1.0]]).probs([0.0])
        array([0.5, 0.5])
        """
        theta = as_float_array(natural, "natural", min_ndim=1)
        if theta.shape[-1] != self.statistics.shape[1]:
            raise ValueError(
                f"natural must have d = {self.statistics.shape[1]} entries, got {theta.shape}"
            )
        return special.softmax(self.log_base + theta @ self.statistics.T)

    def m_project(self, p: Any, *, tol: float = 4 * _EPS, max_iter: int = 100) -> NDArray:
        """The m-projection ``argmin_q KL(p || q)`` of ``p`` onto the family (maximum likelihood).

        Parameters
        ----------
        p : Categorical or array_like, shape (..., K)
            Must put no mass where the base measure is 0 (else every KL is infinite:
            ValueError).
        tol : float
            Stop when ``max |E_q[F] - E_p[F]| <= tol * max |F - E_p[F]|``.
        max_iter : int
            Newton iterations; a :class:`ConvergenceWarning` if reached.

        Returns
        -------
        ndarray, shape (..., K)
            The projection. If ``E_p[F]`` lies on the boundary of the attainable
            moments (``p`` has zeros that the family cannot reproduce in its
            interior), the maximum likelihood estimate does not exist in the open
            family and the answer is its limit in the closure: the classes no
            distribution with those moments can charge get probability exactly 0.
        """
        rows, shape, dtype = _rows(p, len(self.base), "p")
        log_base = np.broadcast_to(self.log_base, rows.shape).copy()
        if np.any(rows[:, self.base == 0] > 0):
            raise ValueError(
                "p puts mass where the base measure is 0: KL(p || q) is infinite for every "
                "member of the family"
            )
        c = rows @ self.statistics
        log_q = _fit_moments(log_base, self.statistics, c, tol, max_iter, "m_project")
        return np.exp(log_q).reshape(shape).astype(dtype)


@dataclass(frozen=True, eq=False)
class LinearFamily:
    """The m-flat family ``{r : E_r[F] = c}`` of distributions with given moments.

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
    >>> die.max_entropy().round(5)
    array([0.05435, 0.07877, 0.11416, 0.16545, 0.23977, 0.34749])
    """

    statistics: NDArray
    values: NDArray

    def __post_init__(self) -> None:
        f = _statistics(self.statistics)
        c = as_float_array(self.values, "values").astype(np.float64).reshape(-1)
        if c.shape != (f.shape[1],):
            raise ValueError(f"values must have d = {f.shape[1]} entries, got {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError(f"values must be finite, got {c}")
        try:
            _feasible_support(f, c, np.ones(f.shape[0], dtype=bool))
        except _Infeasible:
            raise ValueError(
                f"values {c} lie outside the convex hull of the rows of statistics: no "
                "distribution has these moments"
            ) from None
        c.flags.writeable = False
        object.__setattr__(self, "statistics", f)
        object.__setattr__(self, "values", c)

    def e_project(self, p: Any, *, tol: float = 4 * _EPS, max_iter: int = 100) -> NDArray:
        """The e-projection ``argmin_r KL(r || p)`` of ``p`` onto the family.

        Parameters
        ----------
        p : Categorical or array_like, shape (..., K)
        tol, max_iter
            As in :meth:`LogLinearFamily.m_project`.

        Returns
        -------
        ndarray, shape (..., K)
            ``q* ~ p exp(F lambda)`` on the classes that a member absolutely
            continuous with respect to p can charge (exactly 0 elsewhere: when the
            moments sit on a face of the polytope, q* lies on a face of the simplex).

        Raises
        ------
        ValueError
            If no member of the family puts mass only where p does (then
            ``KL(r || p)`` is infinite for every r in the family).
        """
        rows, shape, dtype = _rows(p, self.statistics.shape[0], "p")
        log_base = np.log(rows, where=rows > 0, out=np.full(rows.shape, -np.inf))
        c = np.broadcast_to(self.values, (len(rows), len(self.values)))
        try:
            log_q = _fit_moments(log_base, self.statistics, c, tol, max_iter, "e_project")
        except _Infeasible:
            raise ValueError(
                "no member of the family puts mass only where p does: KL(r || p) is "
                "infinite for every r with these moments"
            ) from None
        return np.exp(log_q).reshape(shape).astype(dtype)

    def max_entropy(self) -> NDArray:
        """The maximum-entropy member, ``e_project(uniform)``, shape (K,)."""
        k = self.statistics.shape[0]
        return self.e_project(np.full(k, 1.0 / k))


# ------------------------------------------------------------------------------ tables
def _table(joint: ArrayLike, name: str = "joint") -> NDArray:
    table = as_float_array(joint, name).astype(np.float64)
    if table.ndim < 2:
        raise ValueError(f"{name} must be a table with at least 2 axes, got shape {table.shape}")
    check_probability_vector(table.reshape(-1), name, None, complete=True)
    return table


def _marginals(table: NDArray) -> list[NDArray]:
    axes = range(table.ndim)
    return [np.sum(table, axis=tuple(a for a in axes if a != i)) for i in axes]


def independence_projection(joint: ArrayLike) -> NDArray:
    """The m-projection of a joint table onto the independence model: the product of marginals.

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


def mutual_information(joint: ArrayLike) -> float:
    """``KL(joint || product of marginals)`` in nats (total correlation for more than 2 axes).

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

    Attributes
    ----------
    fitted : ndarray
        The fitted table (the m-projection onto the hierarchical model).
    iterations : int
        Full cycles over the margins.
    converged : bool
        Whether every margin matched within ``tol`` before the last cycle.
    kl : ndarray, shape (iterations + 1,)
        ``KL(table || fitted)`` at the start and after each cycle: non-increasing.
    """

    fitted: NDArray
    iterations: int
    converged: bool
    kl: NDArray


def iterative_proportional_fitting(
    table: ArrayLike,
    margins: Sequence[Sequence[int]],
    *,
    start: ArrayLike | None = None,
    tol: float = 1e-13,
    max_iter: int = 1000,
) -> IPFResult:
    """Fit a hierarchical log-linear model to a table by iterative proportional fitting.

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
    axes = range(p.ndim)
    groups = []
    for margin in margins:
        group = tuple(int(a) for a in margin)
        if not group or len(set(group)) != len(group) or any(a not in axes for a in group):
            raise ValueError(
                f"margins must list distinct axes in [0, {p.ndim}), got {tuple(margin)}"
            )
        groups.append(tuple(a for a in axes if a not in group))
    if not groups:
        raise ValueError("margins must not be empty")
    if start is None:
        q = np.full(p.shape, 1.0 / p.size)
    else:
        q = as_float_array(start, "start").astype(np.float64)
        if q.shape != p.shape or np.any(q < 0) or not np.all(np.isfinite(q)):
            raise ValueError(f"start must be a finite table >= 0 of shape {p.shape}")
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
                raise ValueError("start is 0 on a cell where the table's margin is positive")
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
