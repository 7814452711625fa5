"""Figure 18: the entmax family from softmax to sparsemax maps logits onto the simplex
===================================================================================

Softmax maps scores to probabilities, and the scale of the scores is a
temperature in disguise. A 41 x 41 grid of logits
z = (z_1, z_2, 0), z_1, z_2 in [-3, 3], mapped by expfam.special.entmax for
alpha = 1 (softmax), 1.5 and 2 (sparsemax), and one grid line z_2 = 0 drawn as a
curve. Softmax maps every logit vector into the open simplex; as alpha grows
more and more of the grid lands exactly on the edges and vertices (classes of
probability exactly 0), and sparsemax, the Euclidean projection onto the
simplex, sends whole regions to a single vertex. Each panel reports the share
of the grid with at least one exact zero. Writes ``fig18_entmax.{pdf,png,csv}``;
the CSV holds alpha, the logits and the probabilities of every grid point.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam.special import entmax

NAME = "fig18_entmax"
ALPHAS = (1.0, 1.5, 2.0)
GRID = np.linspace(-3.0, 3.0, 41)
LINE = np.linspace(-3.0, 3.0, 301)


def grid_logits() -> np.ndarray:
    """The logits (z_1, z_2, 0) of the grid, shape (41 * 41, 3)."""
    z1, z2 = np.meshgrid(GRID, GRID, indexing="ij")
    return np.stack([z1.ravel(), z2.ravel(), np.zeros(z1.size)], axis=1)


def make_figure(out: Path) -> list[Path]:
    """Write figure 18 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    logits = grid_logits()
    line = np.stack([LINE, np.zeros_like(LINE), np.zeros_like(LINE)], axis=1)
    images = {alpha: entmax(logits, alpha) for alpha in ALPHAS}
    names = {1.0: "softmax", 1.5: "1.5-entmax", 2.0: "sparsemax"}
    with plot.style_context():
        fig, axes = plot.new_figure("double", height=3.0, ncols=3)
        for ax, alpha, letter in zip(axes, ALPHAS, "abc", strict=True):
            probs = images[alpha]
            plot.simplex_axes(ax, labels=("class 1", "class 2", "class 3"))
            sparse = np.any(probs == 0, axis=1)
            plot.simplex_scatter(ax, probs[~sparse], s=2, color=plot.COLORS[0], zorder=2)
            plot.simplex_scatter(ax, probs[sparse], s=2, color=plot.COLORS[1], zorder=2)
            plot.simplex_plot(
                ax, entmax(line, alpha), color=plot.COLORS[2], linewidth=1.2, zorder=3
            )
            ax.text(
                0.5,
                -0.2,
                f"{100 * sparse.mean():.0f}% of the grid has an exact zero",
                ha="center",
                va="top",
                fontsize=7,
            )
            plot.panel_label(ax, f"({letter}) {names[alpha]}, $\\alpha = {alpha:g}$")
        handles = [
            axes[0].scatter([], [], s=8, color=plot.COLORS[0], label="interior point"),
            axes[0].scatter([], [], s=8, color=plot.COLORS[1], label="on an edge or vertex"),
            axes[0].plot([], [], color=plot.COLORS[2], label="$z = (t, 0, 0)$")[0],
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
        written = figures.save_figure(fig, out, NAME)
    columns = {
        "alpha": np.repeat(ALPHAS, len(logits)),
        "z1": np.tile(logits[:, 0], len(ALPHAS)),
        "z2": np.tile(logits[:, 1], len(ALPHAS)),
    }
    stacked = np.concatenate([images[alpha] for alpha in ALPHAS])
    columns |= {f"p{k + 1}": stacked[:, k] for k in range(3)}
    written.append(figures.save_csv(out, NAME, columns))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
