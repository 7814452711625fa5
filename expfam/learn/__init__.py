"""Learning with softmax: regression, natural gradient, losses, calibration, a next-word model."""

# softmax regression, its solvers, surrogate losses (issue 10)
from expfam.learn.losses import (
    MARGIN_LOSSES,
    MarginLoss,
    perceptron,
    tempered_cross_entropy,
    tempered_cross_entropy_gradient,
)
from expfam.learn.optimize import ConvergenceWarning, OptimizeResult, minimize
from expfam.learn.regression import (
    NotFittedError,
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
    # softmax regression, its solvers, surrogate losses (issue 10)
    "MARGIN_LOSSES",
    "ConvergenceWarning",
    "MarginLoss",
    "NotFittedError",
    "OptimizeResult",
    "SoftmaxRegression",
    "empirical_fisher",
    "fisher",
    "fisher_vp",
    "gradient",
    "hessian",
    "minimize",
    "natural_gradient",
    "objective",
    "perceptron",
    "tempered_cross_entropy",
    "tempered_cross_entropy_gradient",
]
