"""Figure 16: reliability diagrams before and after temperature scaling.

Seed: 004_955a7edf68888a6d.txt: "a larger beta accentuates small differences
and makes you overconfident". A classifier whose logits are 2.5 times too
large (the labels are drawn from softmax(0.4 z), K = 5, n = 4000 held-out
samples) reports confidences far above its accuracy: the bars (accuracy per
bin of top-label confidence, 15 bins (lo, hi]) lie below the diagonal. The
inverse temperature fitted by expfam.learn.fit_temperature (a safeguarded
Newton solve of the convex log-loss in beta) brings them onto it and the
expected calibration error (ECE) down. The top row is the share of the
samples per bin, with the mean accuracy (solid) and mean confidence (dotted).
Drawn by expfam.plot.reliability_diagram. Writes
``fig16_reliability.{pdf,png,csv}``; the CSV holds, per panel and bin, the
edges, mean confidence, accuracy and count, and the fitted beta and ECE.
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
    from expfam import plot

    z, labels = held_out()
    fit = fit_temperature(z, labels)
    panels = {
        "before": (1.0, reliability_curve(logits=z, labels=labels)),
        "after": (fit.beta, reliability_curve(logits=fit.beta * z, labels=labels)),
    }
    titles = ("(a) logits as trained", f"(b) temperature scaled, $\\beta^* = {fit.beta:.3f}$")
    with plot.style_context():
        fig, axes = plot.new_figure(
            "double",
            height=4.2,
            nrows=2,
            ncols=2,
            sharex=True,
            sharey="row",
            gridspec_kw={"height_ratios": [1, 3.2]},
        )
        for column, (_, curve), title in zip(range(2), panels.values(), titles, strict=True):
            plot.reliability_diagram(
                axes[1, column], curve, hist_ax=axes[0, column], legend=column == 0
            )
            plot.panel_label(axes[0, column], title)
        axes[1, 1].set_ylabel("")
        axes[0, 1].set_ylabel("")
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
