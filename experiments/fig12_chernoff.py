"""Figure 12: the Chernoff point, where the e-geodesic is equidistant in KL from both ends
=======================================================================================

Softmax is the canonical e-flat parameterization of the simplex: the e-geodesic between
p and q is the straight segment between their logits, p_l = softmax(l z_p + (1 - l) z_q)
~ p^l q^(1-l).

(a) p and q on the simplex, the e-geodesic p_l (l from 0 at q to 1 at p) and, for
contrast, the m-geodesic (the straight segment of mixtures); the Chernoff point
p_l* and the Bhattacharyya point p_(1/2) are marked. (b) Along the e-geodesic,
KL(p_l || p) falls and KL(p_l || q) rises; they cross at l*, where both equal the
Chernoff information C = max_l -log sum p^l q^(1-l) (the black curve, whose maximum
is there). At l = 1/2 the curve is the Bhattacharyya distance, below C.
(``expfam.geometry.chernoff_information``.) Writes ``fig12_chernoff.{pdf,png,csv}``;
the CSV holds, for each l, p_l, both KLs, -log sum p^l q^(1-l) and the triangle
coordinates; l* and C are the row of kind ``chernoff``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam import Categorical
from expfam.geometry import bhattacharyya_distance, chernoff_information, kl

NAME = "fig12_chernoff"
P = np.array([0.6, 0.399, 0.001])  # near the edge p_3 = 0
Q = np.array([0.1, 0.2, 0.7])
LAMBDAS = np.linspace(0.0, 1.0, 201)


def e_geodesic(lam: np.ndarray) -> Categorical:
    """p_l ~ p^l q^(1 - l): the straight line between the logits, batch shape lam.shape."""
    lam = np.asarray(lam, dtype=np.float64)[..., None]
    return Categorical(logits=lam * np.log(P) + (1.0 - lam) * np.log(Q))


def make_figure(out: Path) -> list[Path]:
    """Write figure 12 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    c, lam_star = chernoff_information(P, Q)
    b = bhattacharyya_distance(P, Q)
    path = e_geodesic(LAMBDAS)
    to_p, to_q = kl(path, P), kl(path, Q)
    power = -np.log(np.sum(P ** LAMBDAS[:, None] * Q ** (1.0 - LAMBDAS[:, None]), axis=-1))
    star = e_geodesic(lam_star).probs
    half = e_geodesic(0.5).probs
    mixtures = LAMBDAS[:, None] * P + (1.0 - LAMBDAS[:, None]) * Q
    with plot.style_context():
        fig, (tri, curves) = plot.new_figure(
            "double", height=2.9, ncols=2, gridspec_kw={"width_ratios": [1.0, 1.25]}
        )
        plot.simplex_axes(tri)
        plot.simplex_plot(
            tri, mixtures, color="0.6", linewidth=0.9, linestyle=":", label="m-geodesic (mixtures)"
        )
        plot.simplex_plot(
            tri,
            path.probs,
            color=plot.COLORS[0],
            linewidth=1.3,
            label=r"e-geodesic $p_\lambda \propto p^\lambda q^{1-\lambda}$",
        )
        plot.simplex_scatter(tri, np.stack([P, Q]), color="black", s=12, zorder=4)
        plot.simplex_scatter(
            tri,
            star[None],
            color=plot.COLORS[1],
            s=30,
            marker="*",
            zorder=5,
            label=rf"Chernoff point $\lambda^* = {lam_star:.3f}$",
        )
        plot.simplex_scatter(
            tri,
            half[None],
            color=plot.COLORS[2],
            s=14,
            marker="s",
            zorder=5,
            label=r"$\lambda = 1/2$",
        )
        for point, name, dx in ((P, "$p$", -8), (Q, "$q$", 8)):
            tri.annotate(
                name,
                plot.barycentric(point),
                xytext=(dx, 0),
                textcoords="offset points",
                ha="center",
                va="center",
            )
        tri.legend(
            loc="upper center",
            fontsize=6.5,
            frameon=False,
            ncols=2,
            bbox_to_anchor=(0.5, 0.02),
            columnspacing=0.8,
            handlelength=1.5,
        )
        plot.panel_label(tri, "(a) the e-geodesic from q to p")

        curves.plot(
            LAMBDAS, to_p, color=plot.COLORS[4], label=r"$\mathrm{KL}(p_\lambda \,\|\, p)$"
        )
        curves.plot(
            LAMBDAS,
            to_q,
            color=plot.COLORS[5],
            linestyle="--",
            label=r"$\mathrm{KL}(p_\lambda \,\|\, q)$",
        )
        curves.plot(
            LAMBDAS,
            power,
            color="black",
            linewidth=1.0,
            label=r"$-\log \sum_k p_k^\lambda q_k^{1-\lambda}$",
        )
        curves.axvline(lam_star, color=plot.COLORS[1], linewidth=0.7, linestyle=":")
        curves.scatter([lam_star], [c], color=plot.COLORS[1], marker="*", s=40, zorder=5)
        curves.scatter([0.5], [b], color=plot.COLORS[2], marker="s", s=14, zorder=5)
        curves.annotate(
            f"$C = {c:.4f}$",
            (lam_star, c),
            xytext=(-8, 12),
            textcoords="offset points",
            fontsize=7,
            ha="right",
        )
        curves.annotate(
            f"Bhattacharyya ${b:.4f}$",
            (0.5, b),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=7,
            ha="left",
        )
        curves.set_xlabel(r"$\lambda$ ($q$ at 0, $p$ at 1)")
        curves.set_ylabel("nats")
        curves.set_xlim(0.0, 1.0)
        curves.set_ylim(0.0, 1.05 * max(to_p.max(), to_q.max()))
        curves.legend(loc="upper center", fontsize=6.5, frameon=False)
        plot.panel_label(curves, "(b) the two KLs cross at the maximum")
        written = figures.save_figure(fig, out, NAME)
    lam_all = np.r_[LAMBDAS, lam_star]
    probs = np.concatenate([path.probs, star[None]])
    xy = plot.barycentric(probs)
    columns = {
        "kind": ["geodesic"] * len(LAMBDAS) + ["chernoff"],
        "lambda": lam_all,
        "p1": probs[:, 0],
        "p2": probs[:, 1],
        "p3": probs[:, 2],
        "kl_to_p": np.r_[to_p, kl(star, P)],
        "kl_to_q": np.r_[to_q, kl(star, Q)],
        "minus_log_power_sum": np.r_[power, c],
        "x": xy[:, 0],
        "y": xy[:, 1],
    }
    written.append(figures.save_csv(out, NAME, columns))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
