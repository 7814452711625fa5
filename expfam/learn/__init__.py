"""Learning with softmax: regression, natural gradient, losses, calibration, a next-word model.

- ``regression.py``: softmax regression (scikit-learn's multinomial objective), its
  gradient, Fisher-vector products and natural gradient;
- ``optimize.py``: the solvers (gradient descent, natural gradient = Newton, K-FAC,
  empirical Fisher, L-BFGS);
- ``losses.py``: the tempered cross-entropy, the perceptron limit, binary margin losses;
- ``calibration.py``: temperature scaling, calibration errors (ECE, MCE, classwise, debiased),
  proper scores and their decomposition, reliability curves, bootstrap intervals;
- ``recalibration.py``: the recalibration maps (temperature, vector, matrix, Dirichlet, Platt);
- ``ngram.py``: a softmax next-word model with Dirichlet smoothing.
"""

from expfam._core.exceptions import CalibrationWarning, ConvergenceWarning, NotFittedError
from expfam.learn.calibration import (
    ReliabilityCurve,
    ScoreDecomposition,
    TemperatureFit,
    bootstrap_interval,
    brier_score,
    classwise_calibration_error,
    debiased_calibration_error,
    expected_calibration_error,
    fit_temperature,
    log_loss,
    max_calibration_error,
    reliability_curve,
    score_decomposition,
)
from expfam.learn.losses import (
    MARGIN_LOSSES,
    MarginLoss,
    perceptron,
    tempered_cross_entropy,
    tempered_cross_entropy_gradient,
)
from expfam.learn.ngram import END, START, NextWordDistribution, NGramModel, tokenize
from expfam.learn.optimize import SOLVERS, OptimizeResult, minimize
from expfam.learn.recalibration import (
    DirichletCalibration,
    MatrixScaling,
    PlattScaling,
    TemperatureScaling,
    VectorScaling,
)
from expfam.learn.regression import (
    SoftmaxRegression,
    empirical_fisher,
    fisher,
    gradient,
    hessian,
    objective,
    regression_fisher_vp,
    regression_natural_gradient,
)

__all__ = [
    "END",
    "MARGIN_LOSSES",
    "SOLVERS",
    "START",
    "CalibrationWarning",
    "ConvergenceWarning",
    "DirichletCalibration",
    "MarginLoss",
    "MatrixScaling",
    "NGramModel",
    "NextWordDistribution",
    "NotFittedError",
    "OptimizeResult",
    "PlattScaling",
    "ReliabilityCurve",
    "ScoreDecomposition",
    "SoftmaxRegression",
    "TemperatureFit",
    "TemperatureScaling",
    "VectorScaling",
    "bootstrap_interval",
    "brier_score",
    "classwise_calibration_error",
    "debiased_calibration_error",
    "empirical_fisher",
    "expected_calibration_error",
    "fisher",
    "fit_temperature",
    "gradient",
    "hessian",
    "log_loss",
    "max_calibration_error",
    "minimize",
    "objective",
    "perceptron",
    "regression_fisher_vp",
    "regression_natural_gradient",
    "reliability_curve",
    "score_decomposition",
    "tempered_cross_entropy",
    "tempered_cross_entropy_gradient",
    "tokenize",
]


def __getattr__(name: str) -> object:
    """The 0.1 names ``fisher_vp`` and ``natural_gradient``: deprecated aliases."""
    if name in ("fisher_vp", "natural_gradient"):
        from expfam.learn import regression

        return getattr(regression, name)  # warns with DeprecationWarning
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
