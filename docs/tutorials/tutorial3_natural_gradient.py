"""
3. Learning with the natural gradient, against gradient descent
===============================================================

Softmax regression fits logits :math:`z_n = W x_n + b` by minimizing

.. math::

   f(W) = C \\sum_n \\big[A(z_n) - z_{n, y_n}\\big] + \\tfrac12 \\|W\\|^2 ,

whose gradient is :math:`C\\,(P - Y)^\\top X + W`: the residual
"prediction minus truth" :math:`p_n - e_{y_n}` per sample. The natural
gradient preconditions it by the Fisher information of the model,

.. math::

   F = C \\sum_n \\big(\\operatorname{diag} p_n - p_n p_n^\\top\\big) \\otimes x_n x_n^\\top ,

and because softmax is the *canonical* link, this Fisher is exactly the
Hessian of the log-loss: the natural gradient step is Newton's step.
"""

# %%
# The Fisher is the Hessian
# -------------------------
# Check it on iris with central differences of the gradient, without the
# penalty (C = 1, no intercept): :func:`expfam.learn.fisher` builds the matrix
# densely (only for study; the solvers use Fisher-vector products).

import warnings

import matplotlib.pyplot as plt
import numpy as np

from expfam import learn, plot
from expfam.datasets import load_iris

iris = load_iris()
X, y = iris.data, iris.target
K, D = 3, X.shape[1]
W = np.random.default_rng(0).normal(scale=0.3, size=(K, D))


def loss_gradient(w):
    """The gradient of the log-loss alone: the penalty's Hessian is the identity."""
    return learn.gradient(w.reshape(K, D), X, y).ravel() - w


h = 1e-5
hessian = np.stack(
    [
        (loss_gradient(W.ravel() + h * e) - loss_gradient(W.ravel() - h * e)) / (2 * h)
        for e in np.eye(K * D)
    ]
)
F = learn.fisher(W, X)
print(f"max |Hessian - Fisher| / max |Fisher| = {np.abs(hessian - F).max() / np.abs(F).max():.1e}")
np.testing.assert_allclose(hessian, F, atol=1e-6 * np.abs(F).max())

# %%
# It does not depend on the labels :math:`y`: the curvature of the log-loss is
# the covariance of the one-hot statistic under the model, whatever was observed.
#
# Four solvers
# ------------
# ``"gd"`` steps along the gradient (step 1/L); ``"natural"`` takes the exact
# natural-gradient (Newton) step by conjugate gradient on Fisher products;
# ``"kfac"`` replaces :math:`F` by a Kronecker product :math:`G \otimes A` of
# a K x K class covariance and a D x D input covariance (Martens and Grosse,
# "Optimizing neural networks with Kronecker-factored approximate curvature",
# ICML 2015), cheap to invert; ``"empirical_fisher"`` uses the outer products of
# per-sample gradients, which is *not* the Fisher (Kunstner, Balles and Hennig,
# "Limitations of the empirical Fisher approximation", NeurIPS 2019).

runs = {}
for solver in ("gd", "empirical_fisher", "kfac", "natural"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", learn.ConvergenceWarning)  # gd will not get there
        model = learn.SoftmaxRegression(solver=solver, max_iter=300).fit(X, y)
    runs[solver] = np.asarray(model.history_["objective"])
    print(f"{solver:>16}: {model.n_iter_:3d} iterations, objective {runs[solver][-1]:.10f}")

best = min(r[-1] for r in runs.values())
assert runs["natural"][-1] - best < 1e-8 and len(runs["natural"]) < 20
assert runs["gd"][-1] - best > 1.0  # 300 steps of gradient descent are far from the optimum

# %%
# The natural gradient reaches the optimum in a handful of steps (quadratic
# convergence, as Newton's method). K-FAC and the empirical Fisher converge
# linearly; gradient descent on raw iris would need about a million steps.

with plot.style_context():
    fig, ax = plt.subplots(figsize=(plot.SINGLE_COLUMN * 1.5, 2.6), layout="constrained")
    for (solver, history), color in zip(runs.items(), plot.COLORS, strict=False):
        gap = np.maximum(history - best, 1e-16)
        ax.semilogy(np.arange(len(history)), gap, color=color, label=solver)
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"$f(W_t) - f(W^*)$")
    ax.legend(frameon=False)

# %%
# The K-FAC approximation
# -----------------------
# How good is :math:`G \otimes A`? At the optimum, compare it with the exact
# Fisher (no intercept here, so the blocks are K x K by D x D).

W_star = learn.SoftmaxRegression(solver="natural", fit_intercept=False).fit(X, y).coef_
P = np.exp(X @ W_star.T)
P /= P.sum(axis=1, keepdims=True)
G = np.mean([np.diag(p) - np.outer(p, p) for p in P], axis=0)
A = X.T @ X
exact = learn.fisher(W_star, X)
kfac = np.kron(G, A)
print(f"relative error of G (x) A: {np.linalg.norm(kfac - exact) / np.linalg.norm(exact):.2f}")
print("largest eigenvalues, exact:", np.linalg.eigvalsh(exact)[-3:].round(1))
print("largest eigenvalues, K-FAC:", np.linalg.eigvalsh(kfac)[-3:].round(1))
