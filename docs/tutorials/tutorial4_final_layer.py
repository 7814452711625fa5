"""
4. The final layer: temperature, calibration, the next word, sparsemax
======================================================================

A network's last layer turns scores into a distribution. With softmax the
scale of the scores is an inverse temperature :math:`\\beta`,
:math:`p_\\beta = \\operatorname{softmax}(\\beta z)`: as :math:`\\beta \\to 0`
it tends to the uniform distribution, as :math:`\\beta \\to \\infty` to the
one-hot argmax. This tutorial fits :math:`\\beta` to held-out data, trains a
softmax next-word model, and replaces softmax by maps with exact zeros.
"""

# %%
# Temperature
# -----------
# The path :math:`\beta \mapsto \operatorname{softmax}(\beta z)` is a straight
# ray in logits from the uniform distribution: an e-geodesic.

import matplotlib.pyplot as plt
import numpy as np

import expfam
from expfam import learn, plot
from expfam.datasets import load_gettysburg

z = np.array([0.95, 0.99, 0.98])
for beta in (0.0, 1.0, 500.0, np.inf):
    print(f"beta = {beta:>5}: {(100 * expfam.softmax(z, beta=beta)).round(2)} %")

# %%
# Calibration by temperature scaling
# ----------------------------------
# A classifier whose logits are 2.5 times too large is overconfident. Temperature
# scaling minimizes the held-out negative log-likelihood
# :math:`\mathrm{NLL}(\beta) = \frac1n \sum_n [A(\beta z_n) - \beta z_{n, y_n}]`, which
# is convex in :math:`\beta`; at the optimum the model's mean logit matches the
# observed one.

rng = np.random.default_rng(0)
logits = 3.0 * rng.normal(size=(4000, 5))
true = expfam.softmax(0.4 * logits)  # the labels come from softmax(0.4 z)
labels = (rng.random(4000)[:, None] > np.cumsum(true, axis=1)).sum(axis=1)
fit = learn.fit_temperature(logits, labels)
print(f"fitted beta = {fit.beta:.3f} (the labels were drawn at 0.4)")
before = learn.expected_calibration_error(logits=logits, labels=labels)
after = learn.expected_calibration_error(logits=fit.beta * logits, labels=labels)
print(f"expected calibration error: {before:.3f} before, {after:.3f} after")
assert abs(fit.beta - 0.4) < 0.05 and after < before / 4

p_fit = expfam.softmax(fit.beta * logits)
mean_model = np.mean(np.sum(p_fit * logits, axis=1))
mean_observed = np.mean(logits[np.arange(4000), labels])
np.testing.assert_allclose(mean_model, mean_observed, rtol=1e-8)  # moment matching

# %%
# The reliability diagram shows accuracy against confidence per bin.

with plot.style_context():
    fig, ax = plt.subplots(figsize=(plot.SINGLE_COLUMN, 2.6), layout="constrained")
    for scale, label, color in (
        (1.0, "raw logits", plot.COLORS[1]),
        (fit.beta, "scaled", plot.COLORS[0]),
    ):
        curve = learn.reliability_curve(logits=scale * logits, labels=labels)
        ax.plot(curve.confidence, curve.accuracy, "o-", color=color, label=label, markersize=3)
    ax.plot([0, 1], [0, 1], ":", color="0.5")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.legend(frameon=False)

# %%
# The next word
# -------------
# A softmax over the vocabulary on one-hot context features, fitted by natural
# gradient on the Gettysburg Address. With Dirichlet pseudo-counts ``a`` the
# maximum-likelihood probabilities are :math:`(n + a) / (N + V a)`.

text = load_gettysburg()
trigram = learn.NGramModel(order=3).fit(text)
print("four score and ...", trigram.generate("four score and", 5, greedy=True))
bigram = learn.NGramModel(order=2, pseudo_count=0.01).fit(text)
after_and = bigram.next_word_distribution("and").probs
order = np.argsort(after_and)[::-1][:7]
for k in order:
    print(f"  P({bigram.vocabulary_[k]!r} | 'and') = {after_and[k]:.4f}")
# "and" is followed by six different words once each: (1 + a) / (6 + V a) each.
a, V = 0.01, len(bigram.vocabulary_)
np.testing.assert_allclose(after_and[order[:6]], (1 + a) / (6 + V * a), rtol=1e-6)

# %%
# Sparsemax and entmax
# --------------------
# Sparsemax is the Euclidean projection onto the simplex,
# :math:`\operatorname{sparsemax}(z) = \arg\min_{p \in \Delta} \|p - z\|^2`; it
# gives exact zeros. Alpha-entmax interpolates: alpha = 1 is softmax, alpha = 2
# sparsemax.

z = np.array([1.0, 0.8, 0.1, -1.0])
for alpha in (1.0, 1.5, 2.0):
    print(f"entmax alpha = {alpha}: {expfam.entmax(z, alpha=alpha).round(4)}")
np.testing.assert_allclose(expfam.entmax(z, alpha=1.0), expfam.softmax(z), rtol=1e-12)

# On its support sparsemax is z shifted by a threshold, p = z - tau, where tau
# makes the kept entries sum to 1: here the support is the two largest logits.
sp = expfam.sparsemax(z)
tau = (z[:2].sum() - 1) / 2  # support {0, 1}: p = z - tau there
np.testing.assert_allclose(sp, np.maximum(z - tau, 0.0), atol=1e-15)
print("sparsemax", sp, "threshold tau =", tau)
