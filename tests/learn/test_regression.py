"""Softmax regression: its objective, gradient and Fisher against independent oracles.

The oracles: scipy's logsumexp for the objective, central finite differences
for the gradient and the Fisher-vector product, a loop over per-sample
gradients for the empirical Fisher, the dense pseudo-inverse for the Newton
step, a dense Newton iteration written here from scratch for the optimum, and
scikit-learn's LogisticRegression (a test-only dependency) where installed.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from mpref import log_softmax_ref

from expfam.datasets import load_iris, make_blobs
from expfam.learn import (
    ConvergenceWarning,
    NotFittedError,
    SoftmaxRegression,
    empirical_fisher,
    fisher,
    gradient,
    hessian,
    objective,
)
from expfam.learn import regression_fisher_vp as fisher_vp
from expfam.learn import regression_natural_gradient as natural_gradient


def problem(seed: int, n: int = 30, d: int = 3, k: int = 4, intercept: bool = True):
    rng = np.random.default_rng(seed)
    X = (
        rng.standard_normal((n, d)) * [1.0, 3.0, 0.3][:d]
        if d <= 3
        else rng.standard_normal((n, d))
    )
    y = rng.integers(0, k, n)
    W = rng.standard_normal((k, d + intercept))
    s = rng.uniform(0.2, 2.0, n)
    return X, y, W, s


def reference_objective(W, X, y, C, s, intercept):
    """scipy's logsumexp, the textbook formula."""
    X1 = np.hstack([X, np.ones((len(X), 1))]) if intercept else X
    Z = X1 @ W.T
    loss = scipy.special.logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]
    weights = W[:, :-1] if intercept else W
    return C * np.sum(s * loss) + 0.5 * np.sum(weights**2)


def fd_gradient(f, W, h=1e-6):
    g = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        e = np.zeros_like(W)
        e[idx] = h
        g[idx] = (f(W + e) - f(W - e)) / (2 * h)
    return g


@pytest.mark.parametrize("scale", [0.1, 3.0, 40.0, 300.0])
def test_objective_within_a_few_ulp_of_mpmath(scale):
    rng = np.random.default_rng(int(scale * 10))
    X = rng.standard_normal((30, 4)) * scale
    X[0] = [40.0, -40.0, 800.0, 1e-9]  # a confident row: its loss is far below 1
    y = rng.integers(0, 3, 30)
    W = rng.standard_normal((3, 4))
    Z = X @ W.T
    exact = mpmath.fsum(-log_softmax_ref(row)[label] for row, label in zip(Z, y, strict=True))
    exact += 0.5 * mpmath.fsum(mpmath.mpf(float(w)) ** 2 for w in W.ravel())
    got = objective(W, X, y)
    assert abs(mpmath.mpf(got) - exact) <= 64 * 2.0**-53 * abs(exact)


@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_objective_is_c_times_weighted_log_loss_plus_half_squared_weights(seed, intercept):
    X, y, W, s = problem(seed, intercept=intercept)
    got = objective(W, X, y, C=0.7, sample_weight=s, fit_intercept=intercept)
    assert got == pytest.approx(reference_objective(W, X, y, 0.7, s, intercept), rel=1e-13)


@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_is_p_minus_y_times_x_by_finite_differences(seed, intercept):
    X, y, W, s = problem(seed, intercept=intercept)

    def f(V):
        return objective(V, X, y, C=1.3, sample_weight=s, fit_intercept=intercept)

    g = gradient(W, X, y, C=1.3, sample_weight=s, fit_intercept=intercept)
    np.testing.assert_allclose(g, fd_gradient(f, W), rtol=1e-7, atol=1e-6)


def test_gradient_is_p_minus_y_outer_x_per_sample():
    # one sample, no penalty to speak of: C large, W = 0 -> C (p - e_y) x^T with p uniform
    x = np.array([[2.0, -1.0]])
    g = gradient(np.zeros((3, 2)), x, [1], C=1e6)
    expected = 1e6 * np.outer(np.array([1 / 3, 1 / 3 - 1, 1 / 3]), x[0])
    np.testing.assert_allclose(g, expected, rtol=1e-15)


@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fisher_vp_is_a_finite_difference_hessian_vector_product(seed, intercept):
    X, y, W, s = problem(seed, intercept=intercept)
    V = np.random.default_rng(seed + 10).standard_normal(W.shape)
    h = 1e-5

    def grad_loss(M):  # the gradient of the data term only: C = 1, minus the penalty
        mask = np.ones(W.shape[1])
        if intercept:
            mask[-1] = 0.0
        return gradient(M, X, y, sample_weight=s, fit_intercept=intercept) - M * mask

    fd = (grad_loss(W + h * V) - grad_loss(W - h * V)) / (2 * h)
    got = fisher_vp(W, X, V, sample_weight=s, fit_intercept=intercept)
    np.testing.assert_allclose(got, fd, rtol=1e-7, atol=1e-7)
    dense = fisher(W, X, sample_weight=s, fit_intercept=intercept) @ V.ravel()
    np.testing.assert_allclose(got.ravel(), dense, rtol=1e-12, atol=1e-12)


def test_fisher_is_the_hessian_for_every_labelling():
    # canonical link: the finite-difference Hessian does not depend on y
    X, _, W, s = problem(3, n=12, d=2, k=3)
    H = hessian(W, X, C=2.0, sample_weight=s, fit_intercept=True)
    for y in ([0] * 12, [2] * 12, list(np.arange(12) % 3)):
        columns = []
        for idx in np.ndindex(W.shape):
            e = np.zeros_like(W)
            e[idx] = 1e-5
            plus = gradient(W + e, X, y, C=2.0, sample_weight=s, fit_intercept=True)
            minus = gradient(W - e, X, y, C=2.0, sample_weight=s, fit_intercept=True)
            columns.append(((plus - minus) / 2e-5).ravel())
        np.testing.assert_allclose(np.array(columns).T, H, rtol=1e-6, atol=1e-7)


def test_fisher_is_the_expected_empirical_fisher():
    # E_{y ~ p} [g g^T] = F: average the empirical Fisher over every labelling of each sample
    X, _, W, s = problem(4, n=5, d=2, k=3, intercept=False)
    P = scipy.special.softmax(X @ W.T, axis=1)
    expected = np.zeros((6, 6))
    for n in range(5):
        for k in range(3):
            expected += P[n, k] * empirical_fisher(
                W, X[n : n + 1], [k], sample_weight=s[n : n + 1]
            )
    np.testing.assert_allclose(fisher(W, X, sample_weight=s), expected, rtol=1e-12, atol=1e-14)


def test_empirical_fisher_is_the_sum_of_per_sample_gradient_outer_products():
    X, y, W, s = problem(5, n=8, intercept=True)
    expected = np.zeros((W.size, W.size))
    mask = np.ones(W.shape[1])
    mask[-1] = 0.0
    for n in range(8):  # C huge: the penalty's share of the gradient is negligible
        g = (gradient(W, X[n : n + 1], y[n : n + 1], C=1e8, fit_intercept=True) - W * mask) / 1e8
        expected += s[n] * np.outer(g.ravel(), g.ravel())
    got = empirical_fisher(W, X, y, sample_weight=s, fit_intercept=True)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


@given(st.integers(0, 10_000), st.floats(-50, 50))
@settings(max_examples=30)
def test_shifting_every_class_row_by_one_vector_changes_no_prediction(seed, scale):
    X, _, W, _ = problem(seed, intercept=False)
    v = scale * np.random.default_rng(seed).standard_normal(W.shape[1])
    P = scipy.special.softmax(X @ W.T, axis=1)
    Q = scipy.special.softmax(X @ (W + v).T, axis=1)
    np.testing.assert_allclose(P, Q, rtol=1e-9, atol=1e-300)
    # and the Fisher is null in that direction
    null = fisher_vp(W, X, np.tile(v, (W.shape[0], 1)))
    assert np.max(np.abs(null)) <= 1e-12 * max(1.0, np.max(np.abs(v))) * len(X)


@pytest.mark.parametrize("intercept", [False, True])
def test_natural_gradient_is_the_min_norm_newton_step(intercept):
    X, y, W, s = problem(6, intercept=intercept)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # standardized: np.linalg.solve would fail
    H = hessian(W, X, C=3.0, sample_weight=s, fit_intercept=intercept)
    g = gradient(W, X, y, C=3.0, sample_weight=s, fit_intercept=intercept)
    newton = np.linalg.pinv(H, rcond=1e-13, hermitian=True) @ g.ravel()
    got = natural_gradient(W, X, y, C=3.0, sample_weight=s, fit_intercept=intercept)
    np.testing.assert_allclose(got.ravel(), newton, rtol=1e-8, atol=1e-10)
    if intercept:
        assert abs(got[:, -1].sum()) < 1e-12 * np.abs(got).max()  # orthogonal to b + c 1
        assert np.linalg.matrix_rank(H) == H.shape[0] - 1


# ------------------------------------------------------------------ the estimator


def dense_newton(X, y, k, C, s, intercept, steps=30):
    """The optimum by plain dense Newton, written here from the formulas alone."""
    X1 = np.hstack([X, np.ones((len(X), 1))]) if intercept else X
    d1 = X1.shape[1]
    mask = np.ones(d1)
    if intercept:
        mask[-1] = 0.0
    Y = np.eye(k)[y]
    W = np.zeros((k, d1))
    for _ in range(steps):
        P = scipy.special.softmax(X1 @ W.T, axis=1)
        g = C * (s[:, None] * (P - Y)).T @ X1 + W * mask
        H = np.diag(np.tile(mask, k)).astype(float)
        for n in range(len(X1)):
            Fn = np.diag(P[n]) - np.outer(P[n], P[n])
            H += C * s[n] * np.kron(Fn, np.outer(X1[n], X1[n]))
        W = W - (np.linalg.pinv(H, hermitian=True) @ g.ravel()).reshape(W.shape)
    return W


def fitted_coef(model):
    return np.column_stack([model.coef_, model.intercept_])


@pytest.mark.parametrize("solver", ["natural", "lbfgs", "kfac"])
@pytest.mark.parametrize("intercept", [False, True])
def test_fit_reaches_the_exact_newton_optimum(solver, intercept):
    X, y = make_blobs(60, centers=3, n_features=2, cluster_std=2.0, rng=7)
    s = np.random.default_rng(0).uniform(0.5, 1.5, 60)
    tol = 1e-8 if solver == "lbfgs" else 1e-10  # L-BFGS-B stops on ftol = 64 eps before
    max_iter = 2000 if solver == "kfac" else 100  # K-FAC converges linearly
    model = SoftmaxRegression(
        C=0.5, fit_intercept=intercept, solver=solver, tol=tol, max_iter=max_iter
    )
    model.fit(X, y, sample_weight=s)
    W = dense_newton(X, y, 3, 0.5, s, intercept)
    coef = fitted_coef(model) if intercept else model.coef_
    np.testing.assert_allclose(coef, W, rtol=1e-5, atol=1e-6)
    f = objective(W, X, y, C=0.5, sample_weight=s, fit_intercept=intercept)
    assert objective(coef, X, y, C=0.5, sample_weight=s, fit_intercept=intercept) <= f + 1e-10


def test_gd_and_empirical_fisher_descend_and_warn_when_they_stop_short():
    iris = load_iris()
    for solver in ("gd", "empirical_fisher"):
        with pytest.warns(ConvergenceWarning, match="max_iter=50"):
            model = SoftmaxRegression(solver=solver, max_iter=50).fit(iris.data, iris.target)
        assert model.n_iter_ == 50
        values = model.history_["objective"]
        assert len(values) == 51 and np.all(np.diff(values) <= 1e-12 * values[0])


def test_gd_converges_on_a_well_conditioned_problem():
    X, y = make_blobs(40, centers=[[0.0, 0.0], [1.0, 1.0]], rng=3)
    model = SoftmaxRegression(C=0.1, solver="gd", tol=1e-8, max_iter=5000).fit(X, y)
    reference = SoftmaxRegression(C=0.1, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-8)


def test_natural_gradient_converges_in_a_handful_of_newton_steps_on_iris():
    iris = load_iris()
    model = SoftmaxRegression(tol=1e-10).fit(iris.data, iris.target)
    assert model.n_iter_ <= 12
    assert model.history_["gradient_norm"][-1] <= 1e-10 * 150
    assert abs(model.intercept_.sum()) < 1e-10  # the min-norm steps keep sum b = 0


def test_labels_may_be_any_values_and_come_back_as_given():
    iris = load_iris()
    names = np.array(iris.target_names)[iris.target]
    model = SoftmaxRegression().fit(iris.data, names)
    assert model.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    by_index = SoftmaxRegression().fit(iris.data, 10 * iris.target + 5)
    assert by_index.classes_.tolist() == [5, 15, 25]
    np.testing.assert_allclose(model.coef_, by_index.coef_, rtol=1e-12)
    assert (model.predict(iris.data)[:50] == "setosa").all()
    np.testing.assert_array_equal(
        model.predict(iris.data), model.classes_[by_index.predict(iris.data) // 10]
    )


def test_integer_sample_weights_equal_repeated_rows():
    X, y = make_blobs(30, centers=3, cluster_std=3.0, rng=4)
    counts = np.random.default_rng(4).integers(0, 4, 30)
    weighted = SoftmaxRegression(tol=1e-11).fit(X, y, sample_weight=counts)
    repeated = SoftmaxRegression(tol=1e-11).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8, atol=1e-10)


def test_probabilities_logits_and_score():
    iris = load_iris()
    model = SoftmaxRegression().fit(iris.data, iris.target)
    Z = iris.data @ model.coef_.T + model.intercept_
    np.testing.assert_allclose(model.decision_function(iris.data), Z, rtol=1e-14)
    np.testing.assert_allclose(model.predict_proba(iris.data), scipy.special.softmax(Z, axis=1))
    np.testing.assert_allclose(
        model.predict_log_proba(iris.data), scipy.special.log_softmax(Z, axis=1), atol=1e-13
    )
    assert model.score(iris.data, iris.target) == np.mean(Z.argmax(axis=1) == iris.target)
    assert model.predict_proba(iris.data.astype(np.float32)).dtype == np.float32
    assert model.get_params()["solver"] == "natural"


def test_two_class_softmax_regression_is_logistic_regression_at_twice_c():
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = make_blobs(80, centers=2, n_features=3, cluster_std=4.0, rng=5)
    ours = SoftmaxRegression(C=0.3, tol=1e-12).fit(X, y)
    binary = linear_model.LogisticRegression(C=0.6, solver="newton-cholesky", tol=1e-12)
    binary.fit(X, y)
    # sklearn's binary model is Pr(y = 1) = sigmoid(w . x + b): w = w_1 - w_0
    np.testing.assert_allclose(ours.coef_[1] - ours.coef_[0], binary.coef_[0], rtol=1e-6)
    np.testing.assert_allclose(
        ours.intercept_[1] - ours.intercept_[0], binary.intercept_[0], rtol=1e-6
    )
    np.testing.assert_allclose(ours.coef_[0], -ours.coef_[1], rtol=1e-12)


@pytest.mark.parametrize("sk_solver", ["lbfgs", "newton-cholesky"])
@pytest.mark.parametrize(
    ("data", "C", "intercept", "weighted"),
    [("iris", 1.0, True, False), ("iris", 10.0, False, True), ("blobs", 0.05, True, True)],
)
def test_objective_at_most_scikit_learns_and_same_predictions(
    sk_solver, data, C, intercept, weighted
):
    linear_model = pytest.importorskip("sklearn.linear_model")
    if data == "iris":
        X, y = load_iris().data, load_iris().target
    else:
        X, y = make_blobs(300, centers=5, n_features=6, cluster_std=4.0, rng=6)
    s = np.random.default_rng(1).uniform(0.1, 3.0, len(y)) if weighted else None
    ours = SoftmaxRegression(C=C, fit_intercept=intercept, tol=1e-10).fit(X, y, sample_weight=s)
    theirs = linear_model.LogisticRegression(
        C=C, fit_intercept=intercept, solver=sk_solver, tol=1e-8, max_iter=10_000
    ).fit(X, y, sample_weight=s)

    def f(model):
        coef = fitted_coef(model) if intercept else model.coef_
        return objective(coef, X, y, C=C, sample_weight=s, fit_intercept=intercept)

    assert f(ours) <= f(theirs) + 1e-9
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-3)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "fit_kwargs", "error", "word"),
    [
        ([1.0, 2.0], [0, 1], {}, {}, ValueError, "X: expected a 2-D"),
        ([[1.0], [np.nan]], [0, 1], {}, {}, ValueError, "X: contains NaN"),
        ([[1.0], [np.inf]], [0, 1], {}, {}, ValueError, "X: contains NaN"),
        ([["a"], ["b"]], [0, 1], {}, {}, TypeError, "X: expected real"),
        ([[1.0], [2.0]], [0, 1, 1], {}, {}, ValueError, "y: expected 2 labels"),
        ([[1.0], [2.0]], [1, 1], {}, {}, ValueError, "y: expected at least 2 classes"),
        ([[1.0], [2.0]], [0, 1], {}, {"sample_weight": [1.0, -1.0]}, ValueError, "sample_weight"),
        ([[1.0], [2.0]], [0, 1], {}, {"sample_weight": [1.0]}, ValueError, "sample_weight"),
        ([[1.0], [2.0]], [0, 1], {"C": 0.0}, {}, ValueError, "C: "),
        ([[1.0], [2.0]], [0, 1], {"C": -1.0}, {}, ValueError, "C: "),
        ([[1.0], [2.0]], [0, 1], {"C": "big"}, {}, TypeError, "C: "),
        ([[1.0], [2.0]], [0, 1], {"solver": "sgd"}, {}, ValueError, "solver: expected one of"),
        ([[1.0], [2.0]], [0, 1], {"tol": 0.0}, {}, ValueError, "tol: "),
    ],
)
def test_bad_input_names_the_argument(X, y, kwargs, fit_kwargs, error, word):
    with pytest.raises(error, match=word):
        SoftmaxRegression(**kwargs).fit(X, y, **fit_kwargs)


def test_functional_core_checks_its_arguments():
    X = [[1.0], [2.0]]
    with pytest.raises(ValueError, match=r"coef: expected shape \(2, 2\)"):
        objective(np.zeros((2, 1)), X, [0, 1], fit_intercept=True)
    with pytest.raises(ValueError, match="y: class indices"):
        gradient(np.zeros((2, 1)), X, [0, 2])
    with pytest.raises(TypeError, match="y: expected integer"):
        gradient(np.zeros((2, 1)), X, [0.0, 1.0])
    with pytest.raises(ValueError, match="V: expected shape"):
        fisher_vp(np.zeros((2, 1)), X, np.zeros(2))


def test_predict_before_fit_says_so():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        SoftmaxRegression().predict([[1.0]])
    model = SoftmaxRegression().fit([[1.0], [2.0], [0.0]], [0, 1, 0])
    with pytest.raises(ValueError, match="X: has 2 features"):
        model.predict([[1.0, 2.0]])


# ------------------------------------------------------------------ adversarial input (issue 21)


def _overlapping(seed=0, n=80, d=3, k=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, k, n)


@pytest.mark.parametrize("intercept", [False, True])
def test_huge_c_is_the_unpenalized_maximum_likelihood(intercept):
    # Non-separable data: the maximum-likelihood estimate exists, and C = 1e300
    # (penalty 1e-300) must land on it, as a dense Newton iteration at C = 1e12 does.
    X, y = _overlapping()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxRegression(C=1e300, fit_intercept=intercept, tol=1e-11).fit(X, y)
    W = dense_newton(X, y, 3, 1e12, np.ones(len(y)), intercept)
    coef = fitted_coef(model) if intercept else model.coef_
    # compared modulo the null direction 1 v^T, which changes no prediction and which a
    # penalty of 1e-300 cannot fix to rounding
    np.testing.assert_allclose(coef - coef.mean(0), W - W.mean(0), rtol=1e-7, atol=1e-9)
    assert model.converged_ and np.abs(coef).max() > 0.05


@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize(("C", "weight"), [(1e-300, 1.0), (1.0, 1e-300), (1e-150, 1e-150)])
def test_tiny_c_or_weights_give_the_first_order_closed_form(intercept, C, weight):
    # As C sum(s) -> 0 the weights solve W = -C sum_n s_n (p_n - e_{y_n}) x_n^T with p_n the
    # intercept-only fit (the class frequencies), up to a relative O(C sum s).
    X, y = _overlapping(1)
    s = np.full(len(y), weight)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxRegression(C=C, fit_intercept=intercept, tol=1e-12).fit(X, y, s)
    freq = np.bincount(y, minlength=3) / len(y) if intercept else np.full(3, 1 / 3)
    Y = np.eye(3)[y]
    expected = C * weight * ((Y - freq).T @ X)  # C s (Y - p)^T X, exact in floats here
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-9)
    if intercept:  # the unpenalized intercept fits the class frequencies whatever C is
        b = np.log(freq) - np.log(freq).mean()
        np.testing.assert_allclose(model.intercept_, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("labels", "error", "word"),
    [
        (np.array([0.0, np.nan] * 40), ValueError, "y: expected class labels, got NaN"),
        ([1, "a"] * 40, TypeError, "y: expected labels of one kind"),
        (np.array([1, "a"] * 40, dtype=object), TypeError, "y: expected labels of one kind"),
        (np.array([0.5, 1.5] * 40), ValueError, "y: expected class labels, got non-integer"),
        (None, ValueError, "y: SoftmaxRegression requires y"),
    ],
)
def test_labels_that_are_not_classes_are_refused_by_name(labels, error, word):
    X, _ = _overlapping()
    with pytest.raises(error, match=word):
        SoftmaxRegression().fit(X, labels)


def test_integer_valued_float_and_object_labels_are_classes():
    X, y = _overlapping()
    by_int = SoftmaxRegression().fit(X, y)
    by_float = SoftmaxRegression().fit(X, y.astype(float))
    by_object = SoftmaxRegression().fit(X, y.astype(object))
    np.testing.assert_array_equal(by_float.coef_, by_int.coef_)
    np.testing.assert_array_equal(by_object.coef_, by_int.coef_)


def test_predictions_on_features_beyond_the_float_range_follow_the_limit():
    X, y = _overlapping()
    model = SoftmaxRegression().fit(X, y)
    x = np.array([[1e308, -1e308, 0.0], [1e308, 1e308, 1e308], [1.0, 2.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P = model.predict_proba(x)
        logP = model.predict_log_proba(x)
        Z = model.decision_function(x)
    # the logits are t * (W u) + b with u = x / t bounded: as t grows, softmax tends to
    # the one-hot argmax of W u; at t = 1e308 every gap is beyond exp's range
    for row in range(2):
        u = x[row] / 1e308
        top = np.argmax(model.coef_ @ u)
        np.testing.assert_array_equal(P[row], np.eye(3)[top])
        # log p_k = z_k - z_top (the other terms of the log-sum-exp underflow)
        gaps = 1e308 * (model.coef_ @ u - (model.coef_ @ u)[top])
        assert logP[row, top] == 0.0
        np.testing.assert_allclose(np.delete(logP[row], top), np.delete(gaps, top), rtol=1e-12)
    z = x[2] @ model.coef_.T + model.intercept_
    np.testing.assert_allclose(P[2], scipy.special.softmax(z), rtol=1e-14)
    assert np.all(np.isinf(Z[0]) | (np.abs(Z[0]) < 1e308))
    np.testing.assert_array_equal(model.predict(x)[:2], [np.argmax(P[0]), np.argmax(P[1])])


def test_the_old_names_are_deprecated_aliases():
    import expfam.learn as learn
    from expfam.learn import regression_fisher_vp, regression_natural_gradient

    for old, new in [
        ("fisher_vp", regression_fisher_vp),
        ("natural_gradient", regression_natural_gradient),
    ]:
        with pytest.warns(
            DeprecationWarning, match=f"learn.{old} is deprecated.*regression_{old}"
        ):
            assert getattr(learn, old) is new


def test_only_c_times_the_weights_matters_at_any_scale():
    # f(W) = C sum_n s_n loss_n + |W|^2 / 2 depends on C and s through C s only
    X, y = _overlapping(2)
    reference = SoftmaxRegression(C=0.5, tol=1e-12).fit(X, y)
    for C, weight in [(0.5e-300, 1e300), (0.5e300, 1e-300), (5e-309, 1e308)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = SoftmaxRegression(C=C, tol=1e-12).fit(X, y, np.full(len(y), weight))
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-9, atol=1e-12)


def test_hessian_keeps_the_fisher_diagonal_where_one_class_takes_the_mass():
    """expfam verify (issue 22) found p (1 - p) formed as p - p^2, cancelling to 0 where
    p is within 1e-14 of 1 (a 3e-10 relative term of the Hessian lost at x = -1500)."""
    from expfam.learn import hessian

    x, C = -1500.0, 48.4
    W = np.array([[0.0], [40.0 / 1500.0]])  # z = (0, -40): p_0 = 1 - 4.2e-18 rounds to 1
    H = hessian(W, np.array([[x]]), C=C)
    with mpmath.workdps(50):
        p1 = 1 / (1 + mpmath.exp(40))
        exact = 1 + C * (1 - p1) * p1 * mpmath.mpf(x) ** 2  # 1 + 4.6e-10
    assert H[0, 0] == pytest.approx(float(exact), rel=1e-14)
    assert H[0, 0] > 1.0
