"""Figure 4: the snow example on the simplex and in logit coordinates
==================================================================

The snow example (``expfam.SNOW``): hypotheses MIT, Michigan, Berkeley, a uniform
prior, P(snow | h) = (0.4, 0.4, 0.1); posteriors after 1, 2, 3 reports of snow
(0.4444, 0.4444, 0.1111), (0.4848, 0.4848, 0.0303), (0.4961, 0.4961, 0.0078).

(a) The posteriors after n = 0..6 snows (expfam.SNOW) on the triangle, with the
continuous path of the tempered posteriors softmax(log prior + t log P(snow | h)),
t in [0, 6.5]. (b) The same posteriors in the minimal natural (logit) coordinates
theta_i = log(p_i / p_Berkeley): each snow adds the same vector of log-likelihood
ratios (log 4, log 4), so the points are equally spaced on a straight line (an
e-geodesic), while on the triangle the same steps shrink as the path nears the
MIT-Michigan edge. (MIT and Michigan have equal likelihoods, so this path also
lies on a straight median of the triangle.) Writes
``fig4_snow_simplex.{pdf,png,csv}``; the CSV holds, for every plotted point (kind
``snow`` for n = 0..6, ``path`` for the curve), t, the posterior, theta and the
triangle coordinates.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import expfam
from expfam import SNOW

NAME = "fig4_snow_simplex"
SNOWS = 6
PATH_T = np.linspace(0.0, 6.5, 131)


def natural(log_probs: np.ndarray) -> np.ndarray:
    """Return the minimal natural coordinates log(p_i / p_K), i < K, from log-probabilities."""
    return log_probs[..., :-1] - log_probs[..., -1:]


def make_figure(out: Path) -> list[Path]:
    """Write figure 4 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    log_points = SNOW.log_posterior_trajectory(SNOWS)
    log_path = expfam.log_posterior(SNOW.log_prior, SNOW.log_likelihood, beta=PATH_T[:, None])
    points, path = np.exp(log_points), np.exp(log_path)
    theta_points, theta_path = natural(log_points), natural(log_path)
    mit, michigan, berkeley = SNOW.hypotheses
    with plot.style_context():
        fig, (tri, logit) = plot.new_figure("double", height=3.0, ncols=2)
        plot.simplex_axes(tri, labels=SNOW.hypotheses)
        plot.simplex_plot(tri, path, color=plot.COLORS[0], linewidth=1.0, zorder=2)
        plot.simplex_scatter(tri, points, color=plot.COLORS[1], s=14, zorder=3)
        xy = plot.barycentric(points)
        for n, (dx, ha) in enumerate(((6, "left"), (6, "left"), (-6, "right"))):
            tri.annotate(
                f"$n = {n}$",
                xy[n],
                xytext=(dx, 0),
                textcoords="offset points",
                ha=ha,
                va="center",
            )
        tri.annotate(
            f"$n = 3, \\ldots, {SNOWS}$",
            xy[3],
            xytext=(0.42, -0.085),
            ha="right",
            va="center",
            arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.6, "shrinkB": 2},
        )
        plot.panel_label(tri, "(a) posterior on the simplex")

        logit.plot(
            theta_path[:, 0],
            theta_path[:, 1],
            color=plot.COLORS[0],
            linewidth=1.0,
            label=r"softmax(log prior $+\, t \log P(\mathrm{snow} \mid h)$)",
        )
        logit.scatter(
            theta_points[:, 0],
            theta_points[:, 1],
            color=plot.COLORS[1],
            s=14,
            zorder=3,
            label="posterior after $n$ snows",
        )
        logit.legend(loc="upper left", fontsize=6.5)
        for n in range(SNOWS + 1):
            logit.annotate(
                f"${n}$",
                theta_points[n],
                xytext=(5, -9),
                textcoords="offset points",
                fontsize=7,
            )
        step = SNOW.log_likelihood[:2] - SNOW.log_likelihood[2]
        start = theta_points[1]
        logit.annotate(
            "",
            xy=start + step,
            xytext=start,
            arrowprops={
                "arrowstyle": "->",
                "color": plot.COLORS[2],
                "linewidth": 1.0,
                "shrinkA": 0,
                "shrinkB": 0,
            },
        )
        logit.text(
            *(start + 0.5 * step + np.array([0.45, -0.45])),
            "one snow adds\n$(\\log 4, \\log 4)$",
            ha="left",
            va="top",
            color=plot.COLORS[2],
            fontsize=7,
        )
        logit.set_aspect("equal")
        lim = (-0.8, theta_points[-1, 0] + 1.0)
        logit.set_xlim(lim)
        logit.set_ylim(lim)
        logit.set_xlabel(
            f"$\\theta_1 = \\log(p_{{\\mathrm{{{mit}}}}} / p_{{\\mathrm{{{berkeley}}}}})$"
        )
        logit.set_ylabel(
            f"$\\theta_2 = \\log(p_{{\\mathrm{{{michigan}}}}} / p_{{\\mathrm{{{berkeley}}}}})$"
        )
        plot.panel_label(logit, "(b) in logit coordinates")
        written = figures.save_figure(fig, out, NAME)
    probs = np.concatenate([points, path])
    theta = np.concatenate([theta_points, theta_path])
    xy_all = plot.barycentric(probs)
    columns = {
        "kind": ["snow"] * (SNOWS + 1) + ["path"] * len(PATH_T),
        "t": np.r_[np.arange(SNOWS + 1), PATH_T],
        **{f"p_{h}": probs[:, k] for k, h in enumerate(SNOW.hypotheses)},
        "theta1": theta[:, 0],
        "theta2": theta[:, 1],
        "x": xy_all[:, 0],
        "y": xy_all[:, 1],
    }
    written.append(figures.save_csv(out, NAME, columns))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
