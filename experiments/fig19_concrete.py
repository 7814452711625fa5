"""Figure 19: Concrete (Gumbel-softmax) densities on the simplex for three temperatures
====================================================================================

Softmax is the final layer of a deep net, whose discrete choice a network cannot
differentiate; the Concrete relaxation x = softmax((z + G) / lambda), G standard Gumbel,
can. Logits z = log(0.5, 0.3, 0.2); the log-density of
expfam.families.RelaxedCategorical (computed in log space) at lambda = 0.3, 1 and 3,
with softmax(z) (the law of the argmax of a sample, exactly) and the mean E[x] of 20000
samples, which is not softmax(z) for lambda > 0. At low temperature the mass runs into
the vertices (the samples are nearly one-hot); at high temperature it gathers near the
centre. Writes ``fig19_concrete.{pdf,png,csv}``; the CSV holds lambda, the grid points
and their log-densities, then per lambda the Monte-Carlo mean.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam.families import RelaxedCategorical
from expfam.special import softmax

NAME = "fig19_concrete"
LOGITS = np.log([0.5, 0.3, 0.2])
TEMPERATURES = (0.3, 1.0, 3.0)
SAMPLES = 20000
LEVELS = np.linspace(-4.0, 4.0, 17)


def make_figure(out: Path) -> list[Path]:
    """Write figure 19 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    resolution = 100
    grid = plot.simplex_grid(resolution, margin=0.5 / resolution)
    p = softmax(LOGITS)
    rows = {"kind": [], "lambda": [], "x1": [], "x2": [], "x3": [], "log_density": []}

    def add(kind: str, lam: float, x: np.ndarray, value: np.ndarray) -> None:
        rows["kind"] += [kind] * len(x)
        rows["lambda"] += [lam] * len(x)
        for k in range(3):
            rows[f"x{k + 1}"] += list(x[:, k])
        rows["log_density"] += list(value)

    with plot.style_context():
        fig, axes = plot.new_figure("double", height=2.7, ncols=3)
        for ax, lam, letter in zip(axes, TEMPERATURES, "abc", strict=True):
            d = RelaxedCategorical(logits=LOGITS, temperature=lam)
            log_density = d.log_prob(grid)
            mean = d.sample(SAMPLES, rng=19).mean(axis=0)
            add("density", lam, grid, log_density)
            add("mean", lam, mean[None], np.array([np.nan]))
            plot.simplex_axes(ax, labels=("$x_1$", "$x_2$", "$x_3$"), grid=0)
            contours = plot.simplex_contour(
                ax,
                d.log_prob,
                levels=LEVELS,
                resolution=resolution,
                filled=True,
                cmap="cividis",
                extend="both",
            )
            plot.simplex_scatter(
                ax, p[None], marker="o", s=22, facecolor="white", edgecolor="black", zorder=4
            )
            plot.simplex_scatter(ax, mean[None], marker="x", s=26, color=plot.COLORS[1], zorder=5)
            plot.panel_label(ax, f"({letter}) $\\lambda = {lam:g}$")
        colorbar = fig.colorbar(contours, ax=axes, shrink=0.8, pad=0.01, ticks=LEVELS[::2])
        colorbar.set_label("log density")
        handles = [
            axes[0].scatter([], [], marker="o", s=22, facecolor="white", edgecolor="black"),
            axes[0].scatter([], [], marker="x", s=26, color=plot.COLORS[1]),
        ]
        labels = [
            "softmax$(z)$ = law of the argmax",
            f"$E[x]$, mean of {SAMPLES} samples",
        ]
        fig.legend(handles, labels, loc="outside lower center", ncols=2)
        written = figures.save_figure(fig, out, NAME)
    written.append(figures.save_csv(out, NAME, rows))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
