"""Figure 16: reliability diagrams before and after temperature scaling
====================================================================

A larger beta accentuates small differences and makes a classifier overconfident. A
classifier whose logits are 2.5 times too large (the labels are drawn from softmax(0.4
z), K = 5, n = 4000 held-out samples) reports confidences far above its accuracy: the
bars (accuracy per bin of top-label confidence, 15 bins (lo, hi]) lie below the
diagonal. The inverse temperature fitted by expfam.learn.fit_temperature (a safeguarded
Newton solve of the convex log-loss in beta) brings them onto it and the expected
calibration error (ECE) down. Writes ``fig16_reliability.{pdf,png,csv}``; the CSV holds,
per panel and bin, the edges, mean confidence, accuracy and count, and the fitted beta
and ECE.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam.learn import fit_temperature, reliability_curve
from expfam.special import softmax

NAME = "fig16_reliability"
TRUE_BETA = 0.4
N, K = 4000, 5


def held_out(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits of an overconfident classifier and labels drawn from softmax(TRUE_BETA z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(N, K)) * 3.0
    cumulative = np.cumsum(softmax(TRUE_BETA * z), axis=1)
    labels = np.minimum((rng.random(N)[:, None] > cumulative).sum(axis=1), K - 1)
    return z, labels


def make_figure(out: Path) -> list[Path]:
    """Write figure 16 into the folder ``out``; return the files written."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from expfam import plot

    ACCURACY = {"facecolor": plot.COLORS[0], "edgecolor": "white", "linewidth": 0.5}
    GAP = {"facecolor": "none", "edgecolor": plot.COLORS[1], "hatch": "////", "linewidth": 0.6}
    DIAGONAL = {"color": "0.3", "linestyle": "--", "linewidth": 0.8}
    z, labels = held_out()
    fit = fit_temperature(z, labels)
    panels = {
        "before": (1.0, reliability_curve(logits=z, labels=labels)),
        "after": (fit.beta, reliability_curve(logits=fit.beta * z, labels=labels)),
    }
    with plot.style_context():
        fig, axes = plot.new_figure("double", height=3.0, ncols=2, sharey=True)
        for ax, (_, curve), title in zip(
            axes,
            panels.values(),
            ("(a) logits as trained", f"(b) temperature scaled, $\\beta^* = {fit.beta:.3f}$"),
            strict=True,
        ):
            lo, width = curve.edges[:-1], np.diff(curve.edges)
            used = curve.count > 0
            ax.bar(lo[used], curve.accuracy[used], width=width[used], align="edge", **ACCURACY)
            gap = np.abs(curve.confidence - curve.accuracy)[used]
            bottom = np.minimum(curve.accuracy, curve.confidence)[used]
            ax.bar(lo[used], gap, bottom=bottom, width=width[used], align="edge", **GAP)
            ax.plot([0, 1], [0, 1], **DIAGONAL)
            ax.text(
                0.04,
                0.93,
                f"ECE = {100 * curve.ece:.1f}%",
                transform=ax.transAxes,
                va="top",
                bbox={"facecolor": "white", "edgecolor": "0.7", "pad": 2.0},
            )
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_aspect("equal")
            ax.set_xlabel("top-label confidence")
            plot.panel_label(ax, title)
        axes[0].set_ylabel("accuracy")
        handles = [Patch(**ACCURACY), Patch(**GAP), Line2D([], [], **DIAGONAL)]
        axes[0].legend(
            handles,
            ["accuracy", "gap to mean confidence", "perfect calibration"],
            loc="upper left",
            bbox_to_anchor=(0.0, 0.84),
        )
        written = plot.save_figure(fig, out, NAME)
    curves = [curve for _, curve in panels.values()]
    bins = len(curves[0].count)
    rows = {
        "panel": np.repeat(list(panels), bins),
        "beta": np.repeat([beta for beta, _ in panels.values()], bins),
        "lo": np.concatenate([c.edges[:-1] for c in curves]),
        "hi": np.concatenate([c.edges[1:] for c in curves]),
        "confidence": np.concatenate([c.confidence for c in curves]),
        "accuracy": np.concatenate([c.accuracy for c in curves]),
        "count": np.concatenate([c.count for c in curves]),
        "ece": np.repeat([c.ece for c in curves], bins),
    }
    written.append(plot.save_csv(out, NAME, rows))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
