"""Solvers for softmax regression, by registry: gradient descent against the natural gradient.

A solver works on any object of the :class:`Problem` protocol (softmax
regression's is :class:`expfam.learn.regression.SoftmaxProblem`): a smooth
convex objective ``F`` of a parameter array, its gradient and the curvature
products the solvers need. It stops when the largest entry of the gradient
is at most ``tol`` (the problem's objective is the mean loss, so this is
scikit-learn's stopping rule), or after ``max_iter`` iterations with a
:class:`ConvergenceWarning`, never silently.

Solvers are looked up by name in :data:`SOLVERS`. A descent solver is a
*direction function* ``direction(problem, iterate) -> d`` turned into a
solver by :func:`descent`: the step is ``W - t d`` with ``t`` from
:func:`expfam._core.solvers.armijo` (or ``t = 1`` for gradient descent,
whose Lipschitz step needs no search). Adding a solver is one function and
one entry of :data:`SOLVERS`.

- ``"gd"``: ``d = grad F / L`` with L the Lipschitz bound
  ``lambda_max(X^T S X) / 2 + lambda`` of the gradient: a monotone descent whose
  gap shrinks by about ``1 - mu / L`` per step (mu the smallest curvature);
  on raw iris that is hundreds of thousands of steps.
- ``"natural"``: the exact natural gradient, the Fisher (plus the penalty's
  curvature) being the Hessian of ``F``: Newton's method, IRLS. The step
  solves ``H d = grad F`` by Jacobi-preconditioned conjugate gradient on Fisher
  products (O(N K D) each, no (K D)^2 matrix), with an inexact-Newton
  tolerance ``min(0.1, sqrt(|g| / |g_0|))``, and takes its minimum-norm
  solution; then an Armijo line search. Quadratic convergence: a handful of
  steps.
- ``"kfac"``: the Kronecker-factored approximation ``F ~ G (x) A``, G the
  mean class covariance ``mean_n (diag p_n - p_n p_n^T)`` and A the weighted
  second moment of the inputs (Martens and Grosse 2015). ``G (x) A +
  penalty`` is inverted exactly through the eigenvectors of G (K solves of
  size D); linear convergence.
- ``"empirical_fisher"``: the same step with the empirical Fisher
  ``sum_n w_n g_n g_n^T`` in place of F (dense, for study): not the natural
  gradient (Kunstner, Balles and Hennig 2019).
- ``"lbfgs"``: ``scipy.optimize.minimize(method="L-BFGS-B")``, as scikit-learn.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.optimize
from numpy.typing import NDArray

from expfam._core.exceptions import ConvergenceWarning
from expfam._core.solvers import armijo

__all__ = ["SOLVERS", "Iterate", "OptimizeResult", "Problem", "Solver", "descent", "minimize"]


class Problem(Protocol):
    """What the solvers need of an objective ``F`` of a parameter array ``W``.

    ``P`` below is the problem's own curvature state (for softmax regression,
    the probabilities), returned by :meth:`evaluate` and passed back.
    Gradient descent uses ``lipschitz``; the natural gradient
    ``hessian_vp`` and ``hessian_diag``; K-FAC ``kfac_system``; the
    empirical Fisher ``empirical_hessian``.

    A protocol, not a class to instantiate: any object with these methods is a
    problem (:class:`expfam.learn.regression.SoftmaxProblem` is one).

    Parameters
    ----------
    *args, **kwargs
        None: a protocol cannot be instantiated.
    """

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the parameter array."""
        ...

    def check(self, coef: NDArray, name: str) -> NDArray[np.float64]:
        """``coef`` as a float64 array of :attr:`shape` (error naming ``name`` otherwise).

        Parameters
        ----------
        coef : ndarray
            A parameter array given by the caller (a starting point).
        name : str
            The caller's name for it, used in the error message.

        Returns
        -------
        ndarray of float64
            ``coef`` as a float64 array of :attr:`shape`.
        """
        ...

    def value(self, W: NDArray) -> float:
        """The objective ``F(W)``.

        Parameters
        ----------
        W : ndarray
            The parameters, of :attr:`shape`.

        Returns
        -------
        float
            ``F(W)``.
        """
        ...

    def evaluate(self, W: NDArray) -> tuple[float, NDArray, NDArray]:
        """``(F(W), grad F(W), P)``.

        Parameters
        ----------
        W : ndarray
            The parameters, of :attr:`shape`.

        Returns
        -------
        value : float
            ``F(W)``.
        gradient : ndarray
            ``grad F(W)``, of :attr:`shape`.
        P : ndarray
            The curvature state at ``W``, passed back to the curvature methods.
        """
        ...

    def hessian_vp(self, P: NDArray, V: NDArray) -> NDArray:
        """The Hessian of ``F`` applied to ``V``.

        Parameters
        ----------
        P : ndarray
            The curvature state returned by :meth:`evaluate` at the current point.
        V : ndarray
            A direction, of :attr:`shape`.

        Returns
        -------
        ndarray
            ``H V``, of :attr:`shape`.
        """
        ...

    def hessian_diag(self, P: NDArray) -> NDArray:
        """The Hessian's diagonal (a Jacobi preconditioner), shape of ``W``.

        Parameters
        ----------
        P : ndarray
            The curvature state returned by :meth:`evaluate` at the current point.

        Returns
        -------
        ndarray
            ``diag H``, of :attr:`shape`.
        """
        ...

    def lipschitz(self) -> float:
        """A Lipschitz constant of ``grad F``.

        Returns
        -------
        float
            ``L`` with ``|grad F(W) - grad F(V)| <= L |W - V|``.
        """
        ...

    def kfac_system(self, P: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        """``(G, A, m)`` of the Kronecker-factored curvature ``G (x) A + I (x) diag(m)``.

        Parameters
        ----------
        P : ndarray
            The curvature state returned by :meth:`evaluate` at the current point.

        Returns
        -------
        G : ndarray
            The factor over the rows of ``W`` (for softmax regression, the
            mean class covariance), square.
        A : ndarray
            The factor over the columns of ``W`` (the weighted second moment
            of the inputs), square.
        m : ndarray
            The penalty's curvature per column, the diagonal added to ``A``.
        """
        ...

    def empirical_hessian(self, P: NDArray) -> NDArray:
        """The dense empirical-Fisher curvature, (W.size, W.size).

        Parameters
        ----------
        P : ndarray
            The curvature state returned by :meth:`evaluate` at the current point.

        Returns
        -------
        ndarray, shape (W.size, W.size)
            ``sum_n w_n g_n g_n^T`` plus the penalty's curvature.
        """
        ...

    def remove_null(self, d: NDArray) -> NDArray:
        """``d`` without its component along the objective's null directions.

        Parameters
        ----------
        d : ndarray
            A direction, of :attr:`shape`.

        Returns
        -------
        ndarray
            ``d`` projected off the directions along which ``F`` is constant.
        """
        ...

    def objective_scale(self) -> float:
        """The factor from ``F`` to the objective reported in the history.

        Returns
        -------
        float
            The reported objective is this factor times ``F``.
        """
        ...


@dataclass(frozen=True)
class Iterate:
    """The state a direction function sees: the point, its value, gradient and curvature state.

    Each parameter is the attribute of the same name.

    Parameters
    ----------
    W : ndarray of float64
        The current parameters.
    value : float
        ``F(W)``.
    gradient : ndarray of float64
        ``grad F(W)``, of the shape of ``W``.
    P : ndarray of float64
        The problem's curvature state at ``W`` (:meth:`Problem.evaluate`).
    gradient_norm0 : float
        The Euclidean norm of the gradient at the start.
    """

    W: NDArray[np.float64]
    value: float
    gradient: NDArray[np.float64]
    P: NDArray[np.float64]
    gradient_norm0: float


@dataclass(frozen=True)
class OptimizeResult:
    """What a solver returns: the parameters, the iterations and the history.

    Each parameter is the attribute of the same name.

    Parameters
    ----------
    coef : ndarray of float64
        The parameters ``W`` reached, of the shape of the starting point.
    n_iter : int
        Iterations made (outer iterations for ``"natural"``).
    converged : bool
        Whether ``max |grad F| <= tol`` was met.
    history : dict of str to ndarray of float64
        ``"objective"`` and ``"gradient_norm"`` (max-abs) at the start and
        after every iteration, in the units of the problem's reported
        objective (:meth:`Problem.objective_scale` times ``F``).
    """

    coef: NDArray[np.float64]
    n_iter: int
    converged: bool
    history: dict[str, NDArray[np.float64]]


Direction = Callable[[Problem, Iterate], NDArray]


class Solver(Protocol):
    """A registered solver: ``solver(problem, W0, tol, max_iter, name) -> OptimizeResult``.

    A protocol, not a class to instantiate: the values of :data:`SOLVERS` follow
    it (:func:`descent` makes one from a direction function).

    Parameters
    ----------
    *args, **kwargs
        None: a protocol cannot be instantiated.
    """

    def __call__(
        self, problem: Problem, W: NDArray, tol: float, max_iter: int, name: str
    ) -> OptimizeResult: ...


# ------------------------------------------------------------------ directions


def _conjugate_gradient(
    problem: Problem, P: NDArray, g: NDArray, rtol: float, scale: NDArray, block: NDArray
) -> NDArray:
    """``H_BB d = g_B`` on the coordinates ``block`` by CG on ``(S H S) u = S g``, ``d = S u``.

    Stops at ``|g - H d| <= rtol |g|`` (on the block), an exact solve, or ``10 g.size`` steps.
    """
    scale = np.where(block, scale, 0.0)
    u = np.zeros_like(g)
    r = scale * g
    p = r.copy()
    rr = float(np.vdot(r, r))
    stop = rtol * float(np.linalg.norm(scale * g / np.where(block, scale, 1.0)))
    for _ in range(10 * g.size):
        if rr == 0.0 or float(np.linalg.norm(r / np.where(block, scale, 1.0))) <= stop:
            break
        Ap = scale * problem.remove_null(problem.hessian_vp(P, scale * p))
        curvature = float(np.vdot(p, Ap))
        if not curvature > 0.0:
            break
        alpha = rr / curvature
        u += alpha * p
        r -= alpha * Ap
        rr, rr_old = float(np.vdot(r, r)), rr
        p = r + (rr / rr_old) * p
    return scale * u


def newton_direction(problem: Problem, P: NDArray, g: NDArray, rtol: float) -> NDArray:
    """Minimum-norm solution of ``H d = g`` by Jacobi-preconditioned conjugate gradient.

    H is the objective's Hessian at the curvature state P, applied by
    ``problem.hessian_vp``, with the null directions projected out of ``g``
    and of every product (the system is consistent: ``g`` is orthogonal to
    them). CG runs on the symmetrically scaled system ``(S H S) u = S g``,
    ``S = diag(H)^(-1/2)``, ``d = S u`` (Jacobi preconditioning as a change
    of variables), and stops at ``|g - H d| <= rtol |g|``, at an exactly
    solved system, or after ``10 K D1`` iterations (exact arithmetic needs
    ``K D1``). Where the curvatures of the coordinates lie more than 1e8
    apart (a penalty of ``C = 1e-300`` beside an unpenalized intercept),
    one CG cannot hold both kinds of coordinate in its inner products: the
    soft and the stiff coordinates are then solved in turn, each by CG on
    its own block, a block Gauss-Seidel iteration that gains more than 8
    digits per sweep there.
    """
    diag = problem.hessian_diag(P)
    scale = 1.0 / np.sqrt(diag)
    g = problem.remove_null(g)
    lo, hi = float(diag.min()), float(diag.max())
    if not hi > 1e8 * lo:
        every = np.ones(g.shape, bool)
        return problem.remove_null(_conjugate_gradient(problem, P, g, rtol, scale, every))
    stiff = diag >= np.sqrt(lo) * np.sqrt(hi)
    d = np.zeros_like(g)
    stop = rtol * float(np.linalg.norm(g))
    for _ in range(8):
        for block in (~stiff, stiff):
            r = g - problem.remove_null(problem.hessian_vp(P, d))
            d = d + _conjugate_gradient(problem, P, np.where(block, r, 0.0), rtol, scale, block)
        if float(np.linalg.norm(g - problem.remove_null(problem.hessian_vp(P, d)))) <= stop:
            break
    return problem.remove_null(d)


def _natural_direction(problem: Problem, it: Iterate) -> NDArray:
    """Newton's step (= the natural gradient) with an inexact-Newton tolerance."""
    eta = min(0.1, np.sqrt(float(np.linalg.norm(it.gradient)) / it.gradient_norm0))
    return newton_direction(problem, it.P, it.gradient, eta)


def _gradient_direction(problem: Problem, it: Iterate) -> NDArray:
    """``grad F / L``: the step of gradient descent at the Lipschitz bound."""
    return it.gradient / problem.lipschitz()


def _kfac_direction(problem: Problem, it: Iterate) -> NDArray:
    """Solve ``(G (x) A + I (x) diag(m)) d = g`` in the eigenbasis of G."""
    G, A, m = problem.kfac_system(it.P)
    gamma, U = np.linalg.eigh(G)
    rotated = U.T @ it.gradient  # class-rotated gradient, one row per eigenvector of G
    out = np.empty_like(rotated)
    null = gamma <= 1e-12 * gamma[-1]  # the direction 1 of every class covariance
    with np.errstate(divide="ignore", invalid="ignore"):  # m = 0 on the intercept: min-norm
        out[null] = np.where(m > 0, rotated[null] / m, 0.0)
    blocks = gamma[~null, None, None] * A + np.diag(m)
    out[~null] = np.linalg.solve(blocks, rotated[~null][..., None])[..., 0]
    return problem.remove_null(U @ out)


def _empirical_fisher_direction(problem: Problem, it: Iterate) -> NDArray:
    """Minimum-norm solution of ``E d = g``, E the empirical-Fisher curvature."""
    H = problem.empirical_hessian(it.P)
    d = np.linalg.lstsq(H, it.gradient.ravel(), rcond=None)[0].reshape(it.gradient.shape)
    return problem.remove_null(d)


# ------------------------------------------------------------------ solvers


def descent(direction: Direction, *, line_search: bool = True) -> Solver:
    r"""A solver from a direction function: ``W <- W - t d``, ``t`` by Armijo backtracking.

    .. math::

        W \leftarrow W - t\, d, \qquad F(W - t d) \le F(W) - c\, t\, \nabla F \cdot d

    Parameters
    ----------
    direction : callable
        ``direction(problem, iterate) -> d``, a descent direction (``g . d > 0``).
    line_search : bool
        Search ``t = 1, 1/2, ...`` with :func:`expfam._core.solvers.armijo`; without,
        ``t = 1`` (a step that is safe by construction, as gradient descent's ``1/L``).

    Returns
    -------
    Solver
        ``solve(problem, W0, tol, max_iter, name) -> OptimizeResult``, to register
        in :data:`SOLVERS`: it iterates until ``max |grad F| <= tol``, or stops
        after ``max_iter`` steps or when the line search finds no decrease (then
        with a :class:`ConvergenceWarning`).
    """

    def solve(
        problem: Problem, W: NDArray, tol: float, max_iter: int, name: str
    ) -> OptimizeResult:
        f, g, P = problem.evaluate(W)
        g0 = float(np.linalg.norm(g))
        values, norms = [f], [float(np.max(np.abs(g)))]
        reason = f"max_iter={max_iter} reached"
        n_iter = 0
        while norms[-1] > tol and n_iter < max_iter:
            d = direction(problem, Iterate(W, f, g, P, g0))
            if line_search:
                slope = -float(np.vdot(g, d))
                found = armijo(lambda t, W=W, d=d: problem.value(W - t * d), f, slope)
                if found is None:
                    reason = (
                        "the line search found no decrease (the objective is flat to rounding)"
                    )
                    break
                W = W - found[0] * d
            else:
                W = W - d
            f, g, P = problem.evaluate(W)
            values.append(f)
            norms.append(float(np.max(np.abs(g))))
            n_iter += 1
        return _result(problem, W, n_iter, norms[-1] <= tol, values, norms, name, tol, reason)

    return solve


def _lbfgs(problem: Problem, W: NDArray, tol: float, max_iter: int, name: str) -> OptimizeResult:
    """L-BFGS-B through scipy, with scikit-learn's options (maxls=50, ftol=64 eps)."""
    shape = W.shape
    last: dict[str, NDArray | float] = {}

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
        values.append(float(last["f"]))
        norms.append(float(np.max(np.abs(last["g"]))))

    res = scipy.optimize.minimize(
        fun,
        W.ravel(),
        jac=True,
        method="L-BFGS-B",
        callback=record,
        options={"maxiter": max_iter, "maxls": 50, "gtol": tol, "ftol": 64 * np.finfo(float).eps},
    )
    coef = res.x.reshape(shape)
    _, g, _ = problem.evaluate(coef)
    norm = float(np.max(np.abs(g)))
    reason = f"max_iter={max_iter} reached" if res.nit >= max_iter else str(res.message)
    return _result(problem, coef, int(res.nit), norm <= tol, values, norms, name, tol, reason)


def _result(problem, W, n_iter, converged, values, norms, name, tol, reason) -> OptimizeResult:
    if not converged:
        warnings.warn(
            f"solver {name!r} stopped after {n_iter} iterations: {reason}; "
            f"max |gradient of the mean loss| = {norms[-1]:.3g} > tol = {tol:.3g}",
            ConvergenceWarning,
            stacklevel=4,
        )
    scale = problem.objective_scale()
    with np.errstate(over="ignore"):  # C sum(s) F may exceed the float range: inf
        history = {
            "objective": scale * np.array(values),
            "gradient_norm": scale * np.array(norms),
        }
    return OptimizeResult(W, n_iter, converged, history)


SOLVERS: dict[str, Solver] = {
    "natural": descent(_natural_direction),
    "gd": descent(_gradient_direction, line_search=False),
    "kfac": descent(_kfac_direction),
    "empirical_fisher": descent(_empirical_fisher_direction),
    "lbfgs": _lbfgs,
}
"""The solvers by name; add one with ``SOLVERS[name] = descent(direction)``."""


def check_solver(solver: object) -> str:
    """Return ``solver`` if it names a solver, else raise ValueError listing them."""
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {', '.join(SOLVERS)}; got {solver!r}")
    return solver


def minimize(
    problem: Problem,
    coef0: NDArray,
    solver: str = "natural",
    tol: float = 1e-6,
    max_iter: int = 100,
) -> OptimizeResult:
    r"""Minimize the objective of ``problem`` from ``coef0`` with the named solver.

    .. math::

        W_{t+1} = W_t - \alpha_t d_t \quad \text{until} \quad \max |\nabla F(W_t)| \le \mathrm{tol}

    Parameters
    ----------
    problem : Problem
        The objective, e.g. ``SoftmaxProblem.build(X, y, K, C, sample_weight, fit_intercept)``.
    coef0 : ndarray
        The starting point (W = 0 in :class:`~expfam.learn.regression.SoftmaxRegression`).
    solver : str
        A key of :data:`SOLVERS`: ``"natural"``, ``"gd"``, ``"kfac"``,
        ``"empirical_fisher"`` or ``"lbfgs"``; see the module docstring.
    tol : float
        Converged when ``max |grad F| <= tol``, F the problem's objective
        (for softmax regression the weighted mean loss plus the penalty over
        ``C sum(s)``: scikit-learn's rule).
    max_iter : int
        At most this many iterations (outer iterations for ``"natural"``).

    Returns
    -------
    OptimizeResult
        ``coef``, the parameters reached; ``n_iter``; ``converged``, whether
        the tolerance was met; ``history`` of the objective and gradient norm.

    Warns
    -----
    ConvergenceWarning
        When the tolerance is not met.

    Examples
    --------
    >>> from expfam.learn.regression import SoftmaxProblem
    >>> problem = SoftmaxProblem.build([[1.0], [-1.0], [2.0]], [0, 1, 1], 2, fit_intercept=True)
    >>> result = minimize(problem, np.zeros(problem.shape), "natural", tol=1e-10)
    >>> result.converged, result.n_iter
    (True, 4)
    """
    check_solver(solver)
    if not (isinstance(tol, int | float | np.floating) and tol > 0 and np.isfinite(tol)):
        raise ValueError(f"tol: expected a positive number, got {tol!r}")
    if isinstance(max_iter, bool) or not (
        isinstance(max_iter, int | np.integer) and max_iter >= 0
    ):
        raise ValueError(f"max_iter: expected a non-negative integer, got {max_iter!r}")
    W = problem.check(coef0, "coef0").copy()
    return SOLVERS[solver](problem, W, float(tol), int(max_iter), solver)
