"""Figure 14: decision regions of softmax regression, and the perceptron as beta -> inf
====================================================================================

The softmax classifier over K classes has the sigmoid as its two-class case and
the perceptron as its hard limit.

Three labelled blobs in the plane (``expfam.datasets.make_blobs``, 50 points
each), a softmax regression fitted with the natural-gradient solver
(``expfam.learn.SoftmaxRegression``, C = 1). Each pixel is coloured by the
mixture sum_k p_k c_k of the class colours with p = softmax(beta z(x)): at
(a) beta = 1 the model's probabilities, (b) beta = 4, (c) beta = inf the
one-hot argmax. The arg-max regions, and so the boundaries (solid grey, where
the two largest logits tie), are the same for every beta: temperature
changes the confidence, never the decision. Panel (c) adds the multiclass
perceptron (``expfam.learn.perceptron``: stochastic steps along
-(softmax(beta z) - e_y) x^T at beta = inf, 20 epochs), dashed: another
separating set of boundaries, found without probabilities. Writes
``fig14_decision_regions.{pdf,png}``, ``fig14_decision_regions_grid.csv``
(a coarse grid: x1, x2, p at beta = 1 and 4, the arg-max class, the
perceptron's class) and ``fig14_decision_regions_data.csv`` (the points).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import expfam
from expfam import learn
from expfam.datasets import make_blobs

NAME = "fig14_decision_regions"
CENTERS = [[0.0, 2.6], [2.3, -1.3], [-2.3, -1.3]]
BETAS = (1.0, 4.0, np.inf)
C = 0.01  # strong regularization: soft probabilities at beta = 1
LIMIT = 5.5
PIXELS = 300
MARKERS = ("o", "s", "^")


def fit() -> tuple[np.ndarray, np.ndarray, learn.SoftmaxRegression, tuple[np.ndarray, ...]]:
    """The data, the fitted softmax regression, and the perceptron's (coef, intercept)."""
    X, y = make_blobs(150, centers=CENTERS, cluster_std=1.0, rng=3)
    model = learn.SoftmaxRegression(C=C).fit(X, y)
    weights = learn.perceptron(X, y, beta=np.inf, epochs=20, rng=0)
    return X, y, model, weights


def boundaries(ax, xx, yy, logits, **style) -> None:
    """Draw where the two largest logits tie: the zero sets of z_i - z_j, masked to the top two."""
    top = np.max(logits, axis=-1)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        pair = np.maximum(logits[..., i], logits[..., j])
        field = np.where(pair >= top, logits[..., i] - logits[..., j], np.nan)
        ax.contour(xx, yy, field, levels=[0.0], **style)


def make_figure(out: Path) -> list[Path]:
    """Write figure 14 into the folder ``out``; return the files written."""
    from matplotlib.lines import Line2D

    from expfam import figures, plot

    X, y, model, (coef, intercept) = fit()
    axis = np.linspace(-LIMIT, LIMIT, PIXELS)
    xx, yy = np.meshgrid(axis, axis)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    logits = model.decision_function(grid).reshape(PIXELS, PIXELS, 3)
    perceptron_logits = (grid @ coef.T + intercept).reshape(PIXELS, PIXELS, 3)
    colors = np.array([plot.mpl.colors.to_rgb(plot.COLORS[k]) for k in range(3)])
    with plot.style_context():
        fig, axes = plot.new_figure("double", height=2.55, ncols=3)
        for c, (ax, beta) in enumerate(zip(axes, BETAS, strict=True)):
            probs = expfam.softmax(logits, beta=beta)
            mixture = probs @ colors
            ax.imshow(0.5 + 0.5 * mixture, extent=(-LIMIT, LIMIT, -LIMIT, LIMIT), origin="lower")
            boundaries(ax, xx, yy, logits, colors="0.25", linewidths=0.9)
            if beta == np.inf:
                boundaries(
                    ax, xx, yy, perceptron_logits, colors="k", linewidths=0.9, linestyles="--"
                )
            for k in range(3):
                ax.scatter(
                    *X[y == k].T,
                    s=7,
                    marker=MARKERS[k],
                    color=colors[k],
                    edgecolors="k",
                    linewidths=0.3,
                    zorder=3,
                )
            ax.set_xlim(-LIMIT, LIMIT)
            ax.set_ylim(-LIMIT, LIMIT)
            ax.set_aspect("equal")
            ax.set_xlabel("$x_1$")
            if c == 0:
                ax.set_ylabel("$x_2$")
            name = r"\infty" if beta == np.inf else f"{beta:g}"
            title = {1.0: "model", 4.0: "sharper", np.inf: "argmax"}[beta]
            plot.panel_label(ax, f"({'abc'[c]}) $\\beta = {name}$: {title}")
        handles = [
            Line2D([], [], color="0.25", linewidth=0.9, label="softmax regression"),
            Line2D(
                [],
                [],
                color="k",
                linewidth=0.9,
                linestyle="--",
                label=r"perceptron ($\beta=\infty$)",
            ),
        ]
        axes[2].legend(
            handles=handles,
            loc="lower center",
            fontsize=6,
            frameon=True,
            framealpha=0.85,
            edgecolor="none",
            bbox_to_anchor=(0.5, -0.01),
        )
        written = figures.save_figure(fig, out, NAME)
    coarse = (slice(None, None, 20), slice(None, None, 20))
    p1 = expfam.softmax(logits[coarse])
    p4 = expfam.softmax(logits[coarse], beta=4.0)
    table = {
        "x1": xx[coarse].ravel(),
        "x2": yy[coarse].ravel(),
        **{f"p{k}_beta1": p1[..., k].ravel() for k in range(3)},
        **{f"p{k}_beta4": p4[..., k].ravel() for k in range(3)},
        "argmax": np.argmax(logits[coarse], axis=-1).ravel(),
        "perceptron": np.argmax(perceptron_logits[coarse], axis=-1).ravel(),
    }
    written.append(figures.save_csv(out, f"{NAME}_grid", table))
    written.append(figures.save_csv(out, f"{NAME}_data", {"x1": X[:, 0], "x2": X[:, 1], "y": y}))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
