"""expfam: the information geometry of softmax.

Softmax is the natural (e-flat) parameterization of the categorical simplex:
logsumexp is its log-partition, its Hessian ``diag(p) - p p^T`` the Fisher
metric, and Bayesian updating is addition of log-likelihoods in natural
coordinates. The subpackages follow the mathematics: :mod:`expfam.special` (kernels),
:mod:`expfam.families`, :mod:`expfam.geometry` (the simplex as a manifold),
:mod:`expfam.learn` (learning with softmax), :mod:`expfam.datasets`.
``import expfam`` loads numpy and scipy only; the symbolic side
(:mod:`expfam.symbolic`) and the plotting side (:mod:`expfam.plot`) load sympy
and matplotlib on first use.
"""

from expfam import datasets, geometry, learn
from expfam.bayes import (
    dirichlet_posterior,
    log_marginal_likelihood,
    log_posterior,
    log_posterior_trajectory,
    posterior,
    posterior_trajectory,
)
from expfam.datasets import SNOW, BayesExample
from expfam.families import (
    Bernoulli,
    Categorical,
    Dirichlet,
    ExponentialFamily,
    RelaxedCategorical,
)
from expfam.special import (
    cross_entropy,
    entmax,
    entropy,
    fenchel_young_loss,
    get_num_threads,
    kl_divergence,
    log1mexp,
    log_sigmoid,
    log_softmax,
    logit,
    logsumexp,
    set_num_threads,
    sigmoid,
    softmax,
    softplus,
    sparsemax,
)

__version__ = "0.1.0"

__all__ = [
    "SNOW",
    "BayesExample",
    "Bernoulli",
    "Categorical",
    "Dirichlet",
    "ExponentialFamily",
    "RelaxedCategorical",
    "cross_entropy",
    "datasets",
    "dirichlet_posterior",
    "entmax",
    "entropy",
    "fenchel_young_loss",
    "geometry",
    "get_num_threads",
    "kl_divergence",
    "learn",
    "log1mexp",
    "log_marginal_likelihood",
    "log_posterior",
    "log_posterior_trajectory",
    "log_sigmoid",
    "log_softmax",
    "logit",
    "logsumexp",
    "posterior",
    "posterior_trajectory",
    "set_num_threads",
    "sigmoid",
    "softmax",
    "softplus",
    "sparsemax",
]
