"""
2. The geometry of the simplex: divergences, geodesics, projections
===================================================================

The probability simplex is a curved space. Its natural distance is the
Fisher-Rao distance; its natural "squared distance" is the Kullback-Leibler
divergence, which is not symmetric; and it carries two flat structures, straight
lines in logits (*e-geodesics*) and straight lines in probabilities
(*m-geodesics*). Projections along one onto families flat in the other obey
Pythagoras' theorem with KL in place of squared length.
"""

# %%
# Divergences
# -----------
# KL is the Bregman divergence of the log-partition,
#
# .. math::
#
#    \mathrm{KL}(p \,\|\, q) = \sum_k p_k \log\frac{p_k}{q_k}
#    = A(z_q) - A(z_p) - \langle z_q - z_p, p \rangle ,
#
# and the Fisher-Rao distance is an arc of a sphere of radius 2, reached by
# :math:`p \mapsto 2\sqrt{p}`:
# :math:`d_{FR}(p, q) = 2 \arccos \sum_k \sqrt{p_k q_k}`.

import matplotlib.pyplot as plt
import numpy as np

import expfam
from expfam import geometry as g
from expfam import plot

p = np.array([0.7, 0.2, 0.1])
q = np.array([0.1, 0.3, 0.6])
z_p, z_q = np.log(p), np.log(q)

kl = g.kl(p, q)
bregman = expfam.logsumexp(z_q) - expfam.logsumexp(z_p) - (z_q - z_p) @ p
print(f"KL(p || q) = {kl:.12f}, as a Bregman divergence {bregman:.12f}")
print(f"KL(q || p) = {g.kl(q, p):.12f}: not symmetric")
np.testing.assert_allclose(kl, np.sum(p * np.log(p / q)), rtol=1e-14)
np.testing.assert_allclose(bregman, kl, rtol=1e-13)

d = g.fisher_rao_distance(p, q)
print(f"Fisher-Rao distance {d:.12f}")
np.testing.assert_allclose(d, 2 * np.arccos(np.sum(np.sqrt(p * q))), rtol=1e-13)

# %%
# Amari's alpha-divergences interpolate: :math:`\alpha = -1` is
# :math:`\mathrm{KL}(p \| q)`, :math:`\alpha = +1` is :math:`\mathrm{KL}(q \| p)`,
# and :math:`\alpha = 0` is four times the squared Hellinger distance
# :math:`H^2 = 1 - \sum_k \sqrt{p_k q_k}`.

for alpha in (-1.0, -0.5, 0.0, 0.5, 1.0):
    print(f"alpha = {alpha:+.1f}: D = {g.alpha_divergence(p, q, alpha):.6f}")
np.testing.assert_allclose(g.alpha_divergence(p, q, 0.0), 4 * g.hellinger(p, q) ** 2, rtol=1e-13)
np.testing.assert_allclose(g.alpha_divergence(p, q, 1.0), g.kl(q, p), rtol=1e-13)

# %%
# Geodesics
# ---------
# The e-geodesic is straight in logits, :math:`z_t = (1 - t) z_p + t z_q`; the
# m-geodesic is straight in probabilities, :math:`p_t = (1 - t) p + t q`; the
# Fisher-Rao geodesic is a great circle of :math:`\sqrt{p}`.

t = np.linspace(0.0, 1.0, 101)
curves = {
    "e-geodesic (straight in logits)": g.e_geodesic(p, q, t),
    "m-geodesic (straight in p)": g.m_geodesic(p, q, t),
    "Fisher-Rao geodesic": g.fisher_rao_geodesic(p, q, t),
}
np.testing.assert_allclose(
    curves["e-geodesic (straight in logits)"][50], expfam.softmax((z_p + z_q) / 2)
)
np.testing.assert_allclose(curves["m-geodesic (straight in p)"][50], (p + q) / 2)

# %%
# The length of the Fisher-Rao geodesic, summed from the Fisher metric
# :math:`\|dp\|^2 = \sum_k dp_k^2 / p_k` along the curve, is the distance:

fr = curves["Fisher-Rao geodesic"]
mid = (fr[1:] + fr[:-1]) / 2
length = np.sum(np.sqrt(np.sum(np.diff(fr, axis=0) ** 2 / mid, axis=1)))
print(f"length of the Fisher-Rao geodesic {length:.6f}, distance {d:.6f}")
np.testing.assert_allclose(length, d, rtol=1e-4)

# %%
# Projections and Pythagoras
# --------------------------
# The linear family :math:`L = \{r : E_r[F] = c\}` is flat in probabilities.
# The e-projection of :math:`p` onto it, :math:`q^* = \arg\min_{r \in L}
# \mathrm{KL}(r \| p)`, is an exponential tilt :math:`q^* \propto p\, e^{\lambda F}`,
# and for every :math:`r` in the family
#
# .. math::
#
#    \mathrm{KL}(r \,\|\, p) = \mathrm{KL}(r \,\|\, q^*) + \mathrm{KL}(q^* \,\|\, p).

F = np.array([0.0, 1.0, 2.0])
family = g.LinearFamily(F, 1.3)
star = family.e_project(p)
print("q* =", star, " E_q*[F] =", star @ F)
tilt = np.log(star / p)
np.testing.assert_allclose(np.diff(tilt), np.diff(tilt)[0], rtol=1e-9)  # log q*/p is affine in F

# The members of L are r0 + s (1, -2, 1): the direction keeps both sum(r) and E_r[F].
r0, direction = np.array([0.2, 0.3, 0.5]), np.array([1.0, -2.0, 1.0])
for s in (-0.15, 0.0, 0.1):
    r = r0 + s * direction
    lhs, rhs = g.kl(r, p), g.kl(r, star) + g.kl(star, p)
    print(f"r = {r.round(4)}: KL(r||p) = {lhs:.10f}, KL(r||q*) + KL(q*||p) = {rhs:.10f}")
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)

# %%
# The picture: the three geodesics from p to q, the linear family (a straight
# segment of the triangle) and the projection of p onto it.

with plot.style_context():
    fig, ax = plt.subplots(figsize=(plot.SINGLE_COLUMN * 1.4, 3.0), layout="constrained")
    plot.simplex_axes(ax)
    for (label, curve), color in zip(curves.items(), plot.COLORS, strict=False):
        plot.simplex_plot(ax, curve, color=color, label=label)
    ends = np.array([[0.35, 0.0, 0.65], [0.0, 0.7, 0.3]])  # the ends of L on the boundary
    plot.simplex_plot(ax, ends, "--", color="0.4", label=r"$L = \{r : E_r[F] = 1.3\}$")
    plot.simplex_scatter(ax, np.stack([p, q, star]), color="black", s=12, zorder=4)
    plot.simplex_plot(ax, np.stack([p, star]), ":", color="black")
    ax.legend(loc="upper left", fontsize=6.5, frameon=False, bbox_to_anchor=(-0.05, 1.05))
