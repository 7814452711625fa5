"""Learning with softmax: regression, natural gradient, losses, calibration, a next-word model.

- ``regression.py``: softmax regression (scikit-learn's multinomial objective), its
  gradient, Fisher-vector products and natural gradient;
- ``optimize.py``: the solvers (gradient descent, natural gradient = Newton, K-FAC,
  empirical Fisher, L-BFGS);
- ``losses.py``: the tempered cross-entropy, the perceptron limit, binary margin losses;
- ``calibration.py``: temperature scaling, expected calibration error, reliability curves;
- ``ngram.py``: a softmax next-word model with Dirichlet smoothing.
"""

from expfam._core.exceptions import CalibrationWarning, ConvergenceWarning, NotFittedError
from expfam.learn.calibration import (
    ReliabilityCurve,
    TemperatureFit,
    expected_calibration_error,
    fit_temperature,
    reliability_curve,
)
from expfam.learn.losses import (
    MARGIN_LOSSES,
    MarginLoss,
    perceptron,
    tempered_cross_entropy,
    tempered_cross_entropy_gradient,
)
from expfam.learn.ngram import END, START, NGramModel, tokenize
from expfam.learn.optimize import OptimizeResult, minimize
from expfam.learn.regression import (
    SoftmaxRegression,
    empirical_fisher,
    fisher,
    fisher_vp,
    gradient,
    hessian,
    natural_gradient,
    objective,
)

__all__ = [
    "END",
    "MARGIN_LOSSES",
    "START",
    "CalibrationWarning",
    "ConvergenceWarning",
    "MarginLoss",
    "NGramModel",
    "NotFittedError",
    "OptimizeResult",
    "ReliabilityCurve",
    "SoftmaxRegression",
    "TemperatureFit",
    "empirical_fisher",
    "expected_calibration_error",
    "fisher",
    "fisher_vp",
    "fit_temperature",
    "gradient",
    "hessian",
    "minimize",
    "natural_gradient",
    "objective",
    "perceptron",
    "reliability_curve",
    "tempered_cross_entropy",
    "tempered_cross_entropy_gradient",
    "tokenize",
]
