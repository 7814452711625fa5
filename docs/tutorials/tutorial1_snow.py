"""
1. Softmax is the natural parameterization: the snow example
============================================================

A distribution over K classes can be written by its probabilities
:math:`p` (the *mean* or *expectation* coordinates) or by its logits
:math:`z` (the *natural* coordinates). Softmax maps the second to the first,

.. math::

   p = \\operatorname{softmax}(z) = \\exp\\big(z - A(z)\\big), \\qquad
   A(z) = \\log \\sum_{k=1}^K e^{z_k},

and :math:`A`, the log-partition, is what makes the categorical family an
exponential family: :math:`\\nabla A(z) = p`. This tutorial shows why the
logits are the natural place to do Bayesian inference.
"""

# %%
# Logits, probabilities and the log-partition
# -------------------------------------------
# Logits are defined up to a constant: adding ``c`` to every logit changes
# nothing, so the *minimal* natural coordinates fix the last one at 0,
# :math:`\theta_i = z_i - z_K = \log(p_i / p_K)`.

import matplotlib.pyplot as plt
import numpy as np

import expfam
from expfam import SNOW, plot

z = np.array([0.1, -2.0, 3.4, 3.3])
p = expfam.softmax(z)
print("p    =", p.round(8))
print("A(z) =", expfam.logsumexp(z))
np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(), rtol=1e-15)
# shift invariance (up to the rounding of z + 1000 itself, about 1e-13 relative)
np.testing.assert_allclose(expfam.softmax(z + 1000.0), p, rtol=1e-12)

d = expfam.Categorical(logits=z)
print("theta =", d.natural, "= log(p_i / p_K):", np.log(p[:-1] / p[-1]))

# %%
# The gradient of the log-partition is the mean: a central difference of
# :math:`A` along each axis gives back :math:`p`.

h = 1e-6
numeric = [
    (expfam.logsumexp(z + h * e) - expfam.logsumexp(z - h * e)) / (2 * h) for e in np.eye(4)
]
np.testing.assert_allclose(numeric, p, atol=1e-9)

# %%
# Bayes' rule is addition
# -----------------------
# A friend is at MIT, Michigan or Berkeley, each a priori equally likely, and
# reports snow; it snows with probability 0.4, 0.4 and 0.1 in the three places.
# Bayes' rule multiplies the prior by the likelihood and normalizes. In logits
# it *adds* the log-likelihood, and softmax normalizes:
#
# .. math::
#
#    \log \pi_n = \log \pi_0 + n \log \ell - A(\cdot), \qquad
#    \pi_n = \operatorname{softmax}(\log \pi_0 + n \log \ell).

print(SNOW.hypotheses, "likelihood of snow:", [float(x) for x in SNOW.likelihood])
for n in range(4):
    by_addition = expfam.softmax(SNOW.log_prior + n * SNOW.log_likelihood)
    prior = np.array([1 / 3, 1 / 3, 1 / 3])
    by_multiplication = prior * np.array([0.4, 0.4, 0.1]) ** n
    by_multiplication /= by_multiplication.sum()
    np.testing.assert_allclose(by_addition, by_multiplication, rtol=1e-14)
    print(f"after {n} reports of snow: {by_addition.round(4)}")

# %%
# After three reports the posterior is exactly (64, 64, 1) / 129, the
# closed form :math:`(1, 1, 4^{-n}) / (2 + 4^{-n})`.

np.testing.assert_allclose(SNOW.posterior(3), np.array([64, 64, 1]) / 129, rtol=1e-14)

# %%
# A straight line in logits
# -------------------------
# Each report moves the logits by the same vector :math:`\log \ell`: the
# posteriors lie on a straight line in natural coordinates, an *e-geodesic*
# of the simplex. In probabilities the same equal steps shrink as the points
# crowd towards the edge between MIT and Michigan.

n = np.arange(0, 8)
logits = SNOW.log_prior + n[:, None] * SNOW.log_likelihood
posteriors = expfam.softmax(logits)

with plot.style_context():
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(plot.DOUBLE_COLUMN, 2.8), layout="constrained"
    )
    plot.simplex_axes(left, labels=SNOW.hypotheses)
    plot.simplex_plot(left, posteriors, "o-", color=plot.COLORS[0], markersize=3)
    left.set_title("posteriors on the simplex")
    theta = logits[:, :2] - logits[:, 2:]  # minimal natural coordinates
    right.plot(theta[:, 0], theta[:, 1], "o-", color=plot.COLORS[1], markersize=3)
    right.set_xlabel(r"$\theta_1 = \log(p_{\mathrm{MIT}} / p_{\mathrm{Berkeley}})$")
    right.set_ylabel(r"$\theta_2$")
    right.set_title("the same points in natural coordinates")

# %%
# The points are equally spaced on a line in :math:`\theta`:

steps = np.diff(theta, axis=0)
np.testing.assert_allclose(steps, steps[:1].repeat(len(steps), 0), rtol=1e-12)
print("each report adds", steps[0], "= log(0.4 / 0.1) to both coordinates")
