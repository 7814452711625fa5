"""Recalibration maps against independent optima (scipy), scikit-learn and finite differences."""

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st

from expfam.learn import (
    ConvergenceWarning,
    DirichletCalibration,
    MatrixScaling,
    NotFittedError,
    PlattScaling,
    TemperatureScaling,
    VectorScaling,
    expected_calibration_error,
    fit_temperature,
    log_loss,
)
from expfam.learn.recalibration import _AffineProblem
from expfam.special import log_softmax, softmax


def held_out(seed, n=300, k=4, miscalibration=None):
    """Logits z and labels drawn from softmax(M z + c): a miscalibrated classifier."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * 2.5
    M = np.diag(rng.uniform(0.3, 0.8, k)) if miscalibration is None else miscalibration
    c = rng.normal(size=k) * 0.3
    p = softmax(z @ M.T + c)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1).clip(0, k - 1)
    return z, y


def mean_nll(u, y, w=None):
    """Mean -log softmax(u)_y by scipy.special.logsumexp (an independent evaluation)."""
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    losses = scipy.special.logsumexp(u, axis=1) - u[np.arange(len(y)), y]
    return float(w @ losses / w.sum())


def scipy_optimum(objective, x0):
    res = scipy.optimize.minimize(
        objective, x0, method="BFGS", options={"gtol": 1e-11, "maxiter": 10000}
    )
    return res.x, res.fun


# ------------------------------------------------------------------ vector scaling


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("weighted", [False, True])
def test_vector_scaling_reaches_the_optimum_found_by_scipy(seed, weighted):
    z, y = held_out(seed)
    k = z.shape[1]
    w = np.random.default_rng(seed).random(len(y)) if weighted else None
    fit = VectorScaling().fit(z, y, sample_weight=w)
    assert fit.converged_ and fit.n_iter_ < 15

    def objective(theta):
        return mean_nll(z * theta[:k] + theta[k:], y, w)

    theta, best = scipy_optimum(objective, np.r_[np.ones(k), np.zeros(k)])
    assert objective(np.r_[fit.scale_, fit.bias_]) <= best + 1e-12
    np.testing.assert_allclose(fit.scale_, theta[:k], rtol=1e-5)
    # the bias is defined up to b + c 1: compare centred
    np.testing.assert_allclose(
        fit.bias_ - fit.bias_.mean(), theta[k:] - theta[k:].mean(), atol=1e-5
    )
    np.testing.assert_allclose(fit.transform(z), z * fit.scale_ + fit.bias_, rtol=1e-15)
    np.testing.assert_allclose(fit.predict_proba(z), softmax(fit.transform(z)), rtol=1e-15)


def test_vector_scaling_l2_penalty_is_the_stated_objective():
    z, y = held_out(5, n=200, k=3)
    lam = 0.3
    fit = VectorScaling(l2=lam).fit(z, y)

    def objective(theta):
        return mean_nll(z * theta[:3] + theta[3:], y) + lam / 2 * np.sum(theta**2)

    theta, _ = scipy_optimum(objective, np.r_[np.ones(3), np.zeros(3)])
    np.testing.assert_allclose(np.r_[fit.scale_, fit.bias_], theta, atol=1e-6)


@settings(max_examples=25)
@given(st.integers(0, 10**6), st.floats(0.0, 1.0))
def test_vector_scaling_nll_is_convex_along_any_segment(seed, t):
    """NLL((1 - t) a + t b) <= (1 - t) NLL(a) + t NLL(b) for parameters (scale, bias)."""
    rng = np.random.default_rng(seed)
    z, y = held_out(seed % 7, n=60, k=3)
    a, b = rng.normal(size=6) * 2, rng.normal(size=6) * 2

    def nll(theta):
        return mean_nll(z * theta[:3] + theta[3:], y)

    assert nll((1 - t) * a + t * b) <= (1 - t) * nll(a) + t * nll(b) + 1e-12


# ------------------------------------------------------------------ matrix and Dirichlet


def odir_objective(features, y, k, lam, mu, w=None):
    off = ~np.eye(k, dtype=bool)

    def objective(theta):
        A, b = theta[: k * k].reshape(k, k), theta[k * k :]
        value = mean_nll(features @ A.T + b, y, w)
        return value + lam / (k * (k - 1)) * np.sum(A[off] ** 2) + mu / k * np.sum(b**2)

    return objective


@pytest.mark.parametrize("cls", [MatrixScaling, DirichletCalibration])
@pytest.mark.parametrize(("lam", "mu"), [(0.0, 0.0), (0.05, 0.0), (0.1, 0.2)])
def test_matrix_maps_reach_the_odir_optimum_found_by_scipy(cls, lam, mu):
    k = 3
    z, y = held_out(
        1, n=400, k=k, miscalibration=np.array([[0.6, 0.2, 0], [0, 0.5, 0], [0.1, 0, 0.4]])
    )
    fit = cls(off_diagonal=lam, intercept=mu).fit(z, y)
    assert fit.converged_
    features = z if cls is MatrixScaling else log_softmax(z)
    objective = odir_objective(features, y, k, lam, mu)
    start = np.r_[np.eye(k).ravel(), np.zeros(k)]
    theta, best = scipy_optimum(objective, start)
    ours = np.r_[fit.weights_.ravel(), fit.intercept_]
    assert objective(ours) <= best + 1e-12
    # predictions are unique even where the parameters are not (lam = 0)
    A, b = theta[: k * k].reshape(k, k), theta[k * k :]
    np.testing.assert_allclose(fit.predict_proba(z), softmax(features @ A.T + b), atol=1e-6)
    if lam > 0:  # strictly convex in A, and in b up to b + c 1 unless mu > 0
        np.testing.assert_allclose(fit.weights_, A, atol=1e-5)
        centre = 0.0 if mu > 0 else b.mean() - fit.intercept_.mean()
        np.testing.assert_allclose(fit.intercept_ + centre, b, atol=1e-5)


def test_dirichlet_calibration_is_matrix_scaling_of_log_probabilities():
    z, y = held_out(2, n=300, k=4)
    dirichlet = DirichletCalibration(off_diagonal=0.01, intercept=0.01).fit(z, y)
    lp = log_softmax(z)
    matrix = MatrixScaling(off_diagonal=0.01, intercept=0.01).fit(lp, y)
    np.testing.assert_allclose(dirichlet.coef_, matrix.coef_, rtol=1e-10, atol=1e-12)
    # and it sees only the probabilities: a shift of each row's logits changes nothing
    shifted = z + np.random.default_rng(0).normal(size=(300, 1)) * 5
    again = DirichletCalibration(off_diagonal=0.01, intercept=0.01).fit(shifted, y)
    np.testing.assert_allclose(again.predict_proba(shifted), dirichlet.predict_proba(z), atol=1e-9)


def test_unpenalized_matrix_scaling_is_softmax_regression_on_the_logits():
    """scikit-learn's multinomial LogisticRegression with a negligible penalty: same model."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    z, y = held_out(3, n=500, k=3)
    ours = MatrixScaling().fit(z, y)
    theirs = linear_model.LogisticRegression(C=1e12, tol=1e-12, max_iter=10000).fit(z, y)
    np.testing.assert_allclose(ours.predict_proba(z), theirs.predict_proba(z), atol=1e-5)


@pytest.mark.parametrize("kind", ["vector", "matrix"])
def test_gradient_and_hessian_match_finite_differences(kind):
    rng = np.random.default_rng(0)
    n, k = 40, 3
    X = rng.normal(size=(n, k))
    t = softmax(rng.normal(size=(n, k)))  # soft targets: the general case
    s = rng.random(n)
    s /= s.sum()
    shape = (k, 2) if kind == "vector" else (k, k + 1)
    penalty = rng.random(shape)
    problem = _AffineProblem(X, t, s, kind, penalty)
    W, V = rng.normal(size=shape), rng.normal(size=shape)
    _, g, P = problem.evaluate(W)
    h = 1e-6
    numeric = np.zeros(shape)
    for idx in np.ndindex(*shape):
        e = np.zeros(shape)
        e[idx] = h
        numeric[idx] = (problem.value(W + e) - problem.value(W - e)) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-7, atol=1e-9)
    directional = (problem.evaluate(W + h * V)[1] - problem.evaluate(W - h * V)[1]) / (2 * h)
    np.testing.assert_allclose(problem.hessian_vp(P, V), directional, rtol=1e-6, atol=1e-8)
    dense = np.array([problem.hessian_vp(P, e.reshape(shape)).ravel() for e in np.eye(V.size)])
    assert np.all(problem.hessian_diag(P).ravel() == pytest.approx(np.diag(dense), rel=1e-12))


# ------------------------------------------------------------------ temperature and Platt


def test_temperature_scaling_reuses_fit_temperature():
    z, y = held_out(4)
    scaler = TemperatureScaling().fit(z, y)
    assert scaler.beta_ == fit_temperature(z, y).beta
    np.testing.assert_array_equal(scaler.transform(z), scaler.beta_ * z)


def test_temperature_scaling_at_beta_inf_gives_the_argmax_limit():
    from expfam.learn import CalibrationWarning

    z = np.array([[2.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    with pytest.warns(CalibrationWarning):
        scaler = TemperatureScaling().fit(z, [0, 1])
    np.testing.assert_array_equal(scaler.predict_proba(z), [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])


@pytest.mark.parametrize("seed", range(3))
def test_temperature_scaling_matches_scikit_learn(seed):
    calibration = pytest.importorskip("sklearn.calibration")
    from sklearn.frozen import FrozenEstimator

    z, y = held_out(seed, n=300, k=4)
    model = calibration.CalibratedClassifierCV(
        FrozenEstimator(_Scores().fit(z, y)), method="temperature", ensemble=False
    ).fit(z, y)
    ours = TemperatureScaling().fit(z, y)
    np.testing.assert_allclose(ours.predict_proba(z), model.predict_proba(z), atol=1e-6)


class _Scores:
    """A fitted classifier whose decision function is its input (a test-only stand-in)."""

    _estimator_type = "classifier"

    def fit(self, x, y):
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, x):
        x = np.asarray(x)
        return x[:, 0] if x.ndim == 2 and x.shape[1] == 1 else x

    def predict(self, x):
        s = self.decision_function(x)
        return (s > 0).astype(int) if s.ndim == 1 else np.argmax(s, axis=1)

    def get_params(self, deep=True):
        return {}

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(),
        )


@pytest.mark.parametrize("seed", range(3))
def test_platt_scaling_matches_scikit_learn_sigmoid(seed):
    calibration = pytest.importorskip("sklearn.calibration")
    from sklearn.frozen import FrozenEstimator

    rng = np.random.default_rng(seed)
    s = rng.normal(size=400) * 3
    y = (rng.random(400) < scipy.special.expit(0.7 * s - 0.4)).astype(int)
    model = calibration.CalibratedClassifierCV(
        FrozenEstimator(_Scores().fit(s[:, None], y)), method="sigmoid", ensemble=False
    ).fit(s[:, None], y)
    calibrator = model.calibrated_classifiers_[0].calibrators[0]
    ours = PlattScaling().fit(s, y)
    assert ours.converged_
    # scikit-learn: P(y = 1) = 1 / (1 + exp(a f + b))
    assert ours.slope_ == pytest.approx(-calibrator.a_, rel=1e-5)
    assert ours.intercept_ == pytest.approx(-calibrator.b_, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(ours.predict_proba(s), model.predict_proba(s[:, None]), atol=1e-6)


def test_platt_without_smoothing_is_logistic_regression_on_the_score():
    rng = np.random.default_rng(9)
    s = rng.normal(size=300)
    y = (rng.random(300) < scipy.special.expit(2 * s + 0.5)).astype(int)
    fit = PlattScaling(smooth_targets=False).fit(s, y)

    def objective(theta):
        u = theta[0] * s + theta[1]
        return float(np.mean(np.logaddexp(0, u) - y * u))

    theta, _ = scipy_optimum(objective, np.zeros(2))
    np.testing.assert_allclose([fit.slope_, fit.intercept_], theta, rtol=1e-6)
    np.testing.assert_allclose(
        fit.predict_proba(s)[:, 1], scipy.special.expit(fit.transform(s)), rtol=1e-14
    )


# ------------------------------------------------------------------ the workflow, and failures


def test_every_map_improves_a_miscalibrated_classifier():
    z, y = held_out(6, n=3000, k=5)
    train, test = slice(0, 2000), slice(2000, None)
    before = log_loss(logits=z[test], labels=y[test])
    ece_before = expected_calibration_error(logits=z[test], labels=y[test])
    for scaler in (
        TemperatureScaling(),
        VectorScaling(),
        MatrixScaling(off_diagonal=0.01, intercept=0.01),
        DirichletCalibration(off_diagonal=0.01, intercept=0.01),
    ):
        scaler.fit(z[train], y[train])
        calibrated = scaler.transform(z[test])
        assert log_loss(logits=calibrated, labels=y[test]) < before
        assert expected_calibration_error(logits=calibrated, labels=y[test]) < ece_before / 2


MAPS = [TemperatureScaling, VectorScaling, MatrixScaling, DirichletCalibration]


@pytest.mark.parametrize("cls", [*MAPS, PlattScaling])
def test_a_map_used_before_fit_says_so(cls):
    data = np.zeros(3) if cls is PlattScaling else np.array([[0.0, 2.0]] * 3)
    for method in ("transform", "predict_proba"):
        with pytest.raises(NotFittedError, match=f"This {cls.__name__} is not fitted yet"):
            getattr(cls(), method)(data)


@pytest.mark.parametrize("cls", [VectorScaling, MatrixScaling])
def test_non_convergence_warns_and_is_reported(cls):
    z, y = held_out(7)
    with pytest.warns(ConvergenceWarning):
        fit = cls(max_iter=1).fit(z, y)
    assert not fit.converged_


def test_separable_data_drive_the_unpenalized_map_to_certainty_and_the_penalty_stops_it():
    z = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.5], [0.2, 1.5]])
    y = np.array([0, 1, 0, 1])
    free = MatrixScaling().fit(z, y)  # the NLL has no minimum: its infimum 0 is approached
    assert log_loss(logits=free.transform(z), labels=y) < 1e-9
    assert np.abs(free.coef_).max() > 5
    # ODIR leaves the diagonal free, which separates these data; a ridge on every parameter
    # gives a finite optimum
    penalized = VectorScaling(l2=0.1).fit(z, y)
    assert penalized.converged_
    assert log_loss(logits=penalized.transform(z), labels=y) > 1e-3


@pytest.mark.parametrize("cls", MAPS)
def test_maps_refuse_probabilities_as_logits_and_bad_labels(cls):
    probs = softmax(held_out(0, n=20)[0])
    y = np.arange(20) % 4
    with pytest.raises(ValueError, match="logits: expected logits"):
        cls().fit(probs, y)
    with pytest.raises(ValueError, match=r"labels: expected class indices in \[0, 4\)"):
        cls().fit(np.log(probs), y + 1)
    fitted = cls().fit(np.log(probs), y)
    with pytest.raises(ValueError, match="logits: expected 4 classes"):
        fitted.transform(np.array([[0.0, 1.0, 3.0]] * 2))


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: MatrixScaling(off_diagonal=-1.0), ValueError, "off_diagonal"),
        (lambda: MatrixScaling(intercept=math.inf), ValueError, "intercept"),
        (lambda: DirichletCalibration(off_diagonal="a"), TypeError, "off_diagonal"),
        (lambda: VectorScaling(l2=-0.1), ValueError, "l2"),
        (lambda: VectorScaling(max_iter=0), ValueError, "max_iter"),
        (lambda: MatrixScaling(tol=0.0), ValueError, "tol"),
        (lambda: TemperatureScaling(max_iter=-1), ValueError, "max_iter"),
    ],
)
def test_bad_hyper_parameters_are_named_at_fit(make, error, match):
    z, y = held_out(0, n=30)
    with pytest.raises(error, match=match):
        make().fit(z, y)


def test_platt_bad_input():
    with pytest.raises(ValueError, match="labels"):
        PlattScaling().fit([0.1, 0.2, 0.3], [0, 1, 2])
    with pytest.raises(ValueError, match="scores: expected shape"):
        PlattScaling().fit([[0.1, 0.2]], [0])
    with pytest.raises(ValueError, match="scores: expected finite"):
        PlattScaling().fit([0.1, np.nan], [0, 1])


def test_repr_shows_the_hyper_parameters():
    assert repr(MatrixScaling(off_diagonal=0.5)) == (
        "MatrixScaling(off_diagonal=0.5, intercept=0.0, tol=1e-10, max_iter=100)"
    )
    assert repr(TemperatureScaling()) == "TemperatureScaling(max_iter=100)"
