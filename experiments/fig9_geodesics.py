"""Figure 9: the alpha-geodesics between two points of the simplex
===============================================================

Softmax is the canonical e-flat parameterization of the simplex: straight lines in the
logits are the e-geodesics (alpha = +1), straight lines in the probabilities the
m-geodesics (alpha = -1), and between them lie the Fisher-Rao geodesic (alpha = 0, a
great circle of sqrt p) and the other alpha-geodesics.

(a) The geodesics of alpha = 3, 1 (e), 0 (Fisher-Rao), -1 (m) and -3 from
p = (0.85, 0.10, 0.05) to q = (0.05, 0.25, 0.70) on the triangle, with dots at the
affine parameter t = 1/4, 1/2, 3/4 (``expfam.geometry.alpha_geodesic``: the
parameter of the geodesic equation, not the mixing weight of the power mean).
(b) The same curves in the minimal natural coordinates
theta_i = log(p_i / p_3), where the e-geodesic is the straight one. Writes
``fig9_geodesics.{pdf,png,csv}``; the CSV holds, for each curve and t, the
probabilities, theta and the triangle coordinates.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam.geometry import alpha_geodesic

NAME = "fig9_geodesics"
P = np.array([0.85, 0.10, 0.05])
Q = np.array([0.05, 0.25, 0.70])
CURVES = (  # alpha, label, colour index, line style
    (3.0, r"$\alpha = 3$", 4, ":"),
    (1.0, r"$\alpha = 1$ (e, straight in logits)", 0, "-"),
    (0.0, r"$\alpha = 0$ (Fisher-Rao)", 2, "-"),
    (-1.0, r"$\alpha = -1$ (m, straight in $p$)", 1, "-"),
    (-3.0, r"$\alpha = -3$", 3, "--"),
)
T = np.linspace(0.0, 1.0, 121)
MARKS = np.array([0.25, 0.5, 0.75])


def make_figure(out: Path) -> list[Path]:
    """Write figure 9 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    curves = {alpha: alpha_geodesic(P, Q, T, alpha) for alpha, *_ in CURVES}
    marks = {alpha: alpha_geodesic(P, Q, MARKS, alpha) for alpha, *_ in CURVES}
    with plot.style_context():
        fig, (tri, logit) = plot.new_figure("double", height=3.4, ncols=2)
        plot.simplex_axes(tri)
        for alpha, label, colour, style in CURVES:
            kw = {"color": plot.COLORS[colour], "linestyle": style, "linewidth": 1.1}
            plot.simplex_plot(tri, curves[alpha], label=label, **kw)
            plot.simplex_scatter(tri, marks[alpha], color=plot.COLORS[colour], s=9, zorder=3)
            theta = np.log(curves[alpha][:, :2] / curves[alpha][:, 2:])
            theta_marks = np.log(marks[alpha][:, :2] / marks[alpha][:, 2:])
            logit.plot(theta[:, 0], theta[:, 1], label=label, **kw)
            logit.scatter(
                theta_marks[:, 0], theta_marks[:, 1], color=plot.COLORS[colour], s=9, zorder=3
            )
        for point, name, offset in ((P, "p", (-4, -9)), (Q, "q", (5, 2))):
            plot.simplex_scatter(tri, point[None], color="black", s=14, zorder=4)
            tri.annotate(
                f"${name}$", plot.barycentric(point), xytext=offset, textcoords="offset points"
            )
            theta = np.log(point[:2] / point[2])
            logit.scatter(*theta, color="black", s=14, zorder=4)
            logit.annotate(f"${name}$", theta, xytext=(5, 3), textcoords="offset points")
        plot.panel_label(tri, "(a) on the simplex")
        fig.legend(
            *tri.get_legend_handles_labels(),
            loc="outside lower center",
            ncols=3,
            fontsize=7,
            frameon=False,
        )
        logit.set_xlabel(r"$\theta_1 = \log(p_1 / p_3)$")
        logit.set_ylabel(r"$\theta_2 = \log(p_2 / p_3)$")
        logit.text(
            0.98,
            0.02,
            r"dots: $t = 1/4, 1/2, 3/4$",
            transform=logit.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
        )
        plot.panel_label(logit, "(b) in logit coordinates")
        written = figures.save_figure(fig, out, NAME)
    rows = [
        (label, alpha, t, *x)
        for alpha, label, *_ in CURVES
        for t, x in zip(T, curves[alpha], strict=True)
    ]
    probs = np.array([r[3:] for r in rows])
    xy = plot.barycentric(probs)
    columns = {
        "alpha": [r[1] for r in rows],
        "t": [r[2] for r in rows],
        "p1": probs[:, 0],
        "p2": probs[:, 1],
        "p3": probs[:, 2],
        "theta1": np.log(probs[:, 0] / probs[:, 2]),
        "theta2": np.log(probs[:, 1] / probs[:, 2]),
        "x": xy[:, 0],
        "y": xy[:, 1],
    }
    written.append(figures.save_csv(out, NAME, columns))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
