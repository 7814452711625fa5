"""Figure 2: the log-loss -log p of the true class against its probability p
=========================================================================

The loss tends to infinity as the probability of the true class tends to zero (a
big penalty for being sure of the wrong answer) and to zero as it tends to one.
Two points of the worked example are marked: softmax([0.1, -2.0, 3.4, 3.3])
gives the true class y = 2 probability 0.513812 (loss 0.66589785), and the
logits times 10 give 0.7310586.

The curve is expfam.cross_entropy of the two-class logits (log p, log(1 - p)),
which is -log p. Writes ``fig2_log_loss.{pdf,png,csv}``; the CSV holds p and
the loss of the curve, then the two marked points (``kind`` = curve or seed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import expfam

NAME = "fig2_log_loss"
SEED_LOGITS = np.array([0.1, -2.0, 3.4, 3.3])
SEED_CLASS = 2
CONFIDENT = 0.1  # "confident": the model puts at most this mass on one of the two sides


def log_loss(p: np.ndarray) -> np.ndarray:
    """Return -log p as the cross-entropy of the logits (log p, log1p(-p)) for class 0."""
    logits = np.stack([np.log(p), np.log1p(-p)], axis=-1)
    return expfam.cross_entropy(logits, np.zeros(p.shape, dtype=int))


def make_figure(out: Path) -> list[Path]:
    """Write figure 2 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    p = np.linspace(0.005, 0.999, 400)
    loss = log_loss(p)
    seed_logits = np.stack([SEED_LOGITS, 10 * SEED_LOGITS])
    seed_p = expfam.softmax(seed_logits)[:, SEED_CLASS]
    seed_loss = expfam.cross_entropy(seed_logits, np.full(2, SEED_CLASS))
    with plot.style_context():
        fig, ax = plot.new_figure("single", height=2.3)
        ax.axvspan(0, CONFIDENT, color=plot.COLORS[1], alpha=0.12, linewidth=0)
        ax.axvspan(1 - CONFIDENT, 1, color=plot.COLORS[2], alpha=0.15, linewidth=0)
        ax.plot(p, loss, color="0.1", label=r"$-\log p_y$")
        ax.text(0.012, 0.12, "confident\nand wrong", color=plot.COLORS[1], fontsize=7)
        ax.text(
            0.988, 4.9, "confident\nand right", color="#00664a", ha="right", va="top", fontsize=7
        )
        labels = ("softmax($z$)", "softmax($10z$)")
        text_at = ((0.3, 2.6), (0.98, 1.45))
        aligns = ("left", "right")
        for x, y, label, xy_text, ha in zip(
            seed_p, seed_loss, labels, text_at, aligns, strict=True
        ):
            ax.plot(x, y, "o", color=plot.COLORS[0], zorder=3)
            ax.annotate(
                f"{label}:\n$p_y = {x:.4f}$, $-\\log p_y = {y:.4f}$",
                xy=(x, y),
                xytext=xy_text,
                ha=ha,
                fontsize=6.5,
                arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.6, "shrinkB": 3},
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 5.3)
        ax.set_xlabel(r"probability of the true class $p_y$")
        ax.set_ylabel(r"log-loss $-\log p_y$ (nats)")
        written = figures.save_figure(fig, out, NAME)
    kind = ["curve"] * len(p) + ["seed"] * len(seed_p)
    written.append(
        figures.save_csv(
            out,
            NAME,
            {"kind": kind, "p": np.r_[p, seed_p], "loss": np.r_[loss, seed_loss]},
        )
    )
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
