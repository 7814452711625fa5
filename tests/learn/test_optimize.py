"""The solvers: their steps against dense linear algebra, their stopping and their warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from expfam.datasets import load_iris, make_blobs
from expfam.learn import ConvergenceWarning, empirical_fisher, gradient, hessian, minimize
from expfam.learn import optimize as opt
from expfam.learn.regression import SoftmaxProblem


@pytest.fixture
def blobs():
    X, y = make_blobs(50, centers=4, n_features=3, cluster_std=3.0, rng=11)
    s = np.random.default_rng(2).uniform(0.5, 2.0, 50)
    problem = SoftmaxProblem.build(X, y, 4, C=0.8, sample_weight=s, fit_intercept=True)
    W = np.random.default_rng(3).standard_normal(problem.shape) * 0.3
    W[:, -1] -= W[:, -1].mean()
    return X, y, s, problem, W


def test_convergence_warning_is_expfams_own_and_names_max_iter():
    assert issubclass(ConvergenceWarning, UserWarning)
    assert not issubclass(ConvergenceWarning, RuntimeWarning)
    iris = load_iris()
    problem = SoftmaxProblem.build(iris.data, iris.target, 3, fit_intercept=True)
    for solver in opt.SOLVERS:
        with pytest.warns(ConvergenceWarning, match=f"solver '{solver}' stopped after 2 iter"):
            result = minimize(problem, np.zeros(problem.shape), solver, tol=1e-12, max_iter=2)
        assert not result.converged and result.n_iter == 2


def test_no_warning_when_the_tolerance_is_met():
    X, y = make_blobs(40, centers=3, rng=12)
    problem = SoftmaxProblem.build(X, y, 3, fit_intercept=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = minimize(problem, np.zeros(problem.shape), "natural", tol=1e-9)
    assert result.converged
    assert result.history["gradient_norm"][-1] <= 1e-9 * problem.objective_scale()
    assert len(result.history["objective"]) == result.n_iter + 1


def test_newton_converges_quadratically():
    iris = load_iris()
    problem = SoftmaxProblem.build(iris.data, iris.target, 3, fit_intercept=True)
    result = minimize(problem, np.zeros(problem.shape), "natural", tol=1e-12)
    f = result.history["objective"]
    gap = f[:-1] - f[-1]
    # once close, each gap is at most a constant times the square of the previous one
    close = np.flatnonzero((gap > 1e-12) & (gap < 1e-2))
    ratios = gap[close[1:]] / gap[close[:-1]] ** 2
    assert len(close) >= 2 and np.all(ratios < 50)


def test_kfac_step_solves_the_kronecker_factored_system(blobs):
    X, _, s, problem, W = blobs
    _, g, P = problem.evaluate(W)
    G, A, m = problem.kfac_system(P)
    # the factors from their definitions: F ~ C G (x) X^T S X + penalty, over C sum(s)
    covariances = [np.diag(p) - np.outer(p, p) for p in P]
    np.testing.assert_allclose(G, np.average(covariances, axis=0, weights=s), atol=1e-15)
    X1 = np.hstack([X, np.ones((50, 1))])
    np.testing.assert_allclose(A, X1.T @ (s[:, None] * X1) / s.sum(), rtol=1e-14)
    np.testing.assert_allclose(m, problem.mask / (0.8 * s.sum()), rtol=1e-15)
    dense = 0.8 * np.kron(G, A * s.sum()) + np.diag(np.tile(problem.mask, 4))
    g_f = g * 0.8 * s.sum()  # the gradient of the objective f = C sum(s) F
    expected = np.linalg.pinv(dense, rcond=1e-12, hermitian=True) @ g_f.ravel()
    got = opt._kfac_direction(problem, opt.Iterate(W, 0.0, g, P, 1.0)).ravel()
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_empirical_fisher_step_solves_its_system(blobs):
    X, y, s, problem, W = blobs
    _, g, P = problem.evaluate(W)
    E = empirical_fisher(W, X, y, sample_weight=s, fit_intercept=True)
    dense = 0.8 * E + np.diag(np.tile(problem.mask, 4))
    expected = np.linalg.pinv(dense, rcond=1e-12, hermitian=True) @ (g * 0.8 * s.sum()).ravel()
    got = opt._empirical_fisher_direction(problem, opt.Iterate(W, 0.0, g, P, 1.0)).ravel()
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_newton_direction_by_cg_is_the_dense_newton_step(blobs):
    X, y, s, problem, W = blobs
    _, g, P = problem.evaluate(W)
    H = hessian(W, X, C=0.8, sample_weight=s, fit_intercept=True)
    g_f = gradient(W, X, y, C=0.8, sample_weight=s, fit_intercept=True)
    np.testing.assert_allclose(g * 0.8 * s.sum(), g_f, rtol=1e-12, atol=1e-13)
    expected = np.linalg.pinv(H, rcond=1e-12, hermitian=True) @ g_f.ravel()
    got = opt.newton_direction(problem, P, g, 1e-13).ravel()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("solver", ["gd", "kfac", "empirical_fisher", "lbfgs"])
def test_every_solver_descends(blobs, solver):
    *_, problem, _ = blobs
    with pytest.warns(ConvergenceWarning):
        result = minimize(problem, np.zeros(problem.shape), solver, tol=1e-14, max_iter=30)
    f = result.history["objective"]
    assert f[-1] < f[0]
    if solver != "lbfgs":  # the line-searched and the Lipschitz steps never go up
        assert np.all(np.diff(f) <= 1e-12 * f[0])


def test_gd_step_bound_is_a_lipschitz_constant(blobs):
    X, _, s, problem, W = blobs
    H = hessian(W, X, C=0.8, sample_weight=s, fit_intercept=True) / (0.8 * s.sum())
    assert np.linalg.eigvalsh(H)[-1] <= problem.lipschitz()


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"solver": "newton"}, "solver: expected one of"),
        ({"tol": -1.0}, "tol: "),
        ({"max_iter": 1.5}, "max_iter: "),
        ({"max_iter": -1}, "max_iter: "),
    ],
)
def test_minimize_bad_input_names_the_argument(blobs, kwargs, word):
    *_, problem, _ = blobs
    with pytest.raises(ValueError, match=word):
        minimize(problem, np.zeros(problem.shape), **kwargs)
    with pytest.raises(ValueError, match="coef0: expected shape"):
        minimize(problem, np.zeros((2, 2)))


def test_the_contributing_recipe_registers_a_solver():
    """CONTRIBUTING.md's recipe, as written: one direction function and one registry entry."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "CONTRIBUTING.md").read_text()
    recipe = re.search(r"## Recipe: add a solver.*?```python\n(.*?)```", text, re.S).group(1)
    try:
        exec(compile(recipe, "CONTRIBUTING.md", "exec"), {})
        assert "diagonal_newton" in opt.SOLVERS
        X, y = make_blobs(60, centers=3, cluster_std=2.0, rng=5)
        from expfam.learn import SoftmaxRegression

        ours = SoftmaxRegression(solver="diagonal_newton", tol=1e-9, max_iter=5000).fit(X, y)
        reference = SoftmaxRegression(tol=1e-12).fit(X, y)
        assert ours.converged_
        np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-6, atol=1e-8)
        f = ours.history_["objective"]
        assert np.all(np.diff(f) <= 1e-12 * f[0])  # the line search never goes up
    finally:
        opt.SOLVERS.pop("diagonal_newton", None)


def test_solvers_are_a_registry_of_names():
    assert set(opt.SOLVERS) == {"natural", "gd", "kfac", "empirical_fisher", "lbfgs"}
    with pytest.raises(ValueError, match="solver: expected one of natural, gd, kfac"):
        minimize(None, np.zeros((2, 2)), "newton")
