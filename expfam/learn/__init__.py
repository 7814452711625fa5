"""Learning with softmax: regression, natural gradient, losses, calibration, a next-word model."""

__all__: list[str] = []

# softmax regression, its solvers, surrogate losses (issue 10)
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

__all__ += [
    "ConvergenceWarning",
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
]

# tempered cross-entropy, the perceptron, binary margin losses (issue 10)
from expfam.learn.losses import (
    MARGIN_LOSSES,
    MarginLoss,
    perceptron,
    tempered_cross_entropy,
    tempered_cross_entropy_gradient,
)

__all__ += [
    "MARGIN_LOSSES",
    "MarginLoss",
    "perceptron",
    "tempered_cross_entropy",
    "tempered_cross_entropy_gradient",
]
