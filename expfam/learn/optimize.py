"""Solvers for softmax regression: gradient descent against the natural gradient.

Every solver minimizes the objective ``f`` of a
:class:`expfam.learn.regression.Problem` and stops when the largest entry of
the gradient is at most ``tol * C * sum(s)`` (scikit-learn's stopping rule,
the gradient of the mean loss), or after ``max_iter`` iterations with a
:class:`ConvergenceWarning`, never silently.

- ``"gd"``: ``W <- W - grad f / L`` with L the Lipschitz bound
  ``C lambda_max(X^T S X) / 2 + 1`` of the gradient: a monotone descent whose
  gap shrinks by about ``1 - mu / L`` per step (mu the smallest curvature);
  on raw iris that is hundreds of thousands of steps.
- ``"natural"``: the exact natural gradient, the Fisher (plus the penalty's
  curvature) being the Hessian of ``f``: Newton's method, IRLS. The step
  solves ``H d = -g`` by Jacobi-preconditioned conjugate gradient on Fisher
  products (O(N K D) each, no (K D)^2 matrix), with an inexact-Newton
  tolerance ``min(0.1, sqrt(|g| / |g_0|))``, and takes its minimum-norm
  solution; then an Armijo line search. Quadratic convergence: a handful of
  steps.
- ``"kfac"``: the Kronecker-factored approximation ``F ~ G (x) A``, G the
  mean class covariance ``mean_n (diag p_n - p_n p_n^T)`` and ``A = X^T S X``
  (Martens and Grosse 2015). ``C G (x) A + penalty`` is inverted exactly
  through the eigenvectors of G (K solves of size D); linear convergence.
- ``"empirical_fisher"``: the same step with the empirical Fisher
  ``sum_n s_n g_n g_n^T`` in place of F (dense, for study): not the natural
  gradient (Kunstner, Balles and Hennig 2019).
- ``"lbfgs"``: ``scipy.optimize.minimize(method="L-BFGS-B")``, as scikit-learn.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
from numpy.typing import NDArray

from expfam._core.exceptions import ConvergenceWarning

__all__ = ["SOLVERS", "OptimizeResult", "minimize"]

SOLVERS = ("natural", "gd", "kfac", "empirical_fisher", "lbfgs")

_ARMIJO = 1e-4
_MAX_HALVINGS = 60


@dataclass(frozen=True)
class OptimizeResult:
    """What a solver returns: the parameters, the iterations and the history.

    ``history`` holds ``"objective"`` and ``"gradient_norm"`` (max-abs) at the
    start and after every iteration.
    """

    coef: NDArray[np.float64]
    n_iter: int
    converged: bool
    history: dict[str, NDArray[np.float64]]


def check_solver(solver: object) -> str:
    """Return ``solver`` if it names a solver, else raise ValueError listing them."""
    if solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {', '.join(SOLVERS)}; got {solver!r}")
    return str(solver)


def _center_intercept(problem: Any, d: NDArray) -> NDArray:
    """Remove the null direction ``b + c 1`` (intercept column) from a step."""
    if problem.mask[-1] == 0.0:
        d[:, -1] -= d[:, -1].mean()
    return d


def newton_direction(problem: Any, P: NDArray, g: NDArray, rtol: float) -> NDArray:
    """Minimum-norm solution of ``H d = g`` by Jacobi-preconditioned conjugate gradient.

    H is the objective's Hessian at the probabilities P, applied by
    ``problem.hessian_vp``; CG stops at ``|H d - g| <= rtol |g|`` or after
    ``10 K D1`` iterations (exact arithmetic would need ``K D1``; rounding
    delays ill-conditioned systems). The result
    is returned with the intercept's null direction removed.
    """
    diag = problem.hessian_diag(P)
    d = np.zeros_like(g)
    r = g.copy()
    z = r / diag
    p = z.copy()
    rz = float(np.vdot(r, z))
    stop = rtol * float(np.linalg.norm(g))
    for _ in range(10 * g.size):
        if float(np.linalg.norm(r)) <= stop:
            break
        Hp = problem.hessian_vp(P, p)
        alpha = rz / float(np.vdot(p, Hp))
        d += alpha * p
        r -= alpha * Hp
        z = r / diag
        rz, rz_old = float(np.vdot(r, z)), rz
        p = z + (rz / rz_old) * p
    return _center_intercept(problem, d)


def _kfac_direction(problem: Any, P: NDArray, g: NDArray) -> NDArray:
    """Solve ``(C G (x) A + I (x) diag(mask)) d = g`` in the eigenbasis of G."""
    G, A = problem.kfac_factors(P)
    gamma, U = np.linalg.eigh(G)
    rotated = U.T @ g  # class-rotated gradient, one row per eigenvector of G
    out = np.empty_like(rotated)
    null = gamma <= 1e-12 * gamma[-1]  # the direction 1 of every class covariance
    out[null] = rotated[null] * problem.mask  # min-norm: only the penalty acts there
    blocks = problem.C * gamma[~null, None, None] * A + np.diag(problem.mask)
    out[~null] = np.linalg.solve(blocks, rotated[~null][..., None])[..., 0]
    return _center_intercept(problem, U @ out)


def _empirical_fisher_direction(problem: Any, P: NDArray, g: NDArray) -> NDArray:
    """Minimum-norm solution of ``(C E + diag(mask)) d = g``, E the empirical Fisher."""
    G = problem.per_sample_gradients(P)
    H = problem.C * ((problem.s[:, None] * G).T @ G) + problem.penalty_hessian()
    d = np.linalg.lstsq(H, g.ravel(), rcond=None)[0].reshape(g.shape)
    return _center_intercept(problem, d)


def _line_search(problem: Any, W: NDArray, f: float, g: NDArray, d: NDArray) -> NDArray | None:
    """Armijo backtracking from the full step ``W - d``; None if no step decreases f.

    ``f(W - t d) <= f + 1e-4 t g . (-d)``, with a slack of 16 ULP of f for
    the rounding of f itself (near the optimum the decrease is below it).
    """
    slope = -float(np.vdot(g, d))
    slack = 16.0 * np.finfo(float).eps * abs(f)
    t = 1.0
    for _ in range(_MAX_HALVINGS):
        trial = W - t * d
        if problem.value(trial) <= f + _ARMIJO * t * slope + slack:
            return trial
        t *= 0.5
    return None


def _descent(problem: Any, W: NDArray, solver: str, gtol: float, max_iter: int) -> OptimizeResult:
    """The loop shared by gd, natural, kfac and empirical_fisher."""
    f, g, P = problem.evaluate(W)
    g0 = float(np.linalg.norm(g))
    values, norms = [f], [float(np.max(np.abs(g)))]
    step = 1.0 / problem.lipschitz() if solver == "gd" else 1.0
    reason = f"max_iter={max_iter} reached"
    n_iter = 0
    while norms[-1] > gtol:
        if n_iter == max_iter:
            break
        if solver == "gd":
            trial = W - step * g
        else:
            if solver == "natural":
                eta = min(0.1, np.sqrt(float(np.linalg.norm(g)) / g0))
                d = newton_direction(problem, P, g, eta)
            elif solver == "kfac":
                d = _kfac_direction(problem, P, g)
            else:
                d = _empirical_fisher_direction(problem, P, g)
            trial = _line_search(problem, W, f, g, d)
            if trial is None:
                reason = "the line search found no decrease (the objective is flat to rounding)"
                break
        W = trial
        f, g, P = problem.evaluate(W)
        values.append(f)
        norms.append(float(np.max(np.abs(g))))
        n_iter += 1
    return _result(W, n_iter, norms[-1] <= gtol, values, norms, solver, gtol, reason)


def _lbfgs(problem: Any, W: NDArray, gtol: float, max_iter: int) -> OptimizeResult:
    """L-BFGS-B through scipy, with scikit-learn's options (maxls=50, ftol=64 eps)."""
    shape = W.shape
    last: dict[str, Any] = {}

    def fun(w: NDArray) -> tuple[float, NDArray]:
        f, g, _ = problem.evaluate(w.reshape(shape))
        last.update(x=w.copy(), f=f, g=g)
        return f, g.ravel()

    f0, g0 = fun(W.ravel())
    values, norms = [f0], [float(np.max(np.abs(g0)))]

    def record(intermediate_result: scipy.optimize.OptimizeResult) -> None:
        x = intermediate_result.x
        if not np.array_equal(x, last["x"]):
            fun(x)
        values.append(last["f"])
        norms.append(float(np.max(np.abs(last["g"]))))

    res = scipy.optimize.minimize(
        fun,
        W.ravel(),
        jac=True,
        method="L-BFGS-B",
        callback=record,
        options={"maxiter": max_iter, "maxls": 50, "gtol": gtol, "ftol": 64 * np.finfo(float).eps},
    )
    coef = res.x.reshape(shape)
    _, g, _ = problem.evaluate(coef)
    norm = float(np.max(np.abs(g)))
    reason = f"max_iter={max_iter} reached" if res.nit >= max_iter else str(res.message)
    return _result(coef, int(res.nit), norm <= gtol, values, norms, "lbfgs", gtol, reason)


def _result(W, n_iter, converged, values, norms, solver, gtol, reason) -> OptimizeResult:
    if not converged:
        warnings.warn(
            f"solver {solver!r} stopped after {n_iter} iterations: {reason}; "
            f"max |gradient| = {norms[-1]:.3g} > {gtol:.3g} (tol * C * sum(sample_weight))",
            ConvergenceWarning,
            stacklevel=4,
        )
    history = {"objective": np.array(values), "gradient_norm": np.array(norms)}
    return OptimizeResult(W, n_iter, converged, history)


def minimize(
    problem: Any,
    coef0: NDArray,
    solver: str = "natural",
    tol: float = 1e-6,
    max_iter: int = 100,
) -> OptimizeResult:
    """Minimize the objective of ``problem`` from ``coef0`` with the named solver.

    Parameters
    ----------
    problem : expfam.learn.regression.Problem
        The objective (``Problem.build(X, y, K, C, sample_weight, fit_intercept)``).
    coef0 : ndarray, shape (K, D1)
        The starting point (W = 0 in :class:`~expfam.learn.regression.SoftmaxRegression`).
    solver : {"natural", "gd", "kfac", "empirical_fisher", "lbfgs"}
        See the module docstring.
    tol : float
        Converged when ``max |grad f| <= tol * C * sum(s)``.
    max_iter : int
        At most this many iterations (outer iterations for ``"natural"``).

    Returns
    -------
    OptimizeResult

    Warns
    -----
    ConvergenceWarning
        When the tolerance is not met.

    Examples
    --------
    >>> from expfam.learn.regression import Problem
    >>> problem = Problem.build([[1.0], [-1.0], [2.0]], [0, 1, 1], 2, fit_intercept=True)
    >>> result = minimize(problem, np.zeros(problem.shape), "natural", tol=1e-10)
    >>> result.converged, result.n_iter
    (True, 4)
    """
    check_solver(solver)
    if not tol > 0:
        raise ValueError(f"tol: expected a positive number, got {tol!r}")
    if not (isinstance(max_iter, int | np.integer) and max_iter >= 0):
        raise ValueError(f"max_iter: expected a non-negative integer, got {max_iter!r}")
    W = problem.check(coef0, "coef0").copy()
    gtol = tol * problem.gradient_scale
    if solver == "lbfgs":
        return _lbfgs(problem, W, gtol, int(max_iter))
    return _descent(problem, W, solver, gtol, int(max_iter))
