"""Figure 1: temperature
=====================

softmax(beta z) from the uniform distribution to argmax.

The worked example: logits z = (0.95, 0.99, 0.98):
beta = 1 gives (32.56%, 33.89%, 33.55%), beta = 500 gives (0.00%, 99.33%, 0.67%).

As beta goes from 0.01 to 1000 the three probabilities leave the uniform
distribution (1/3 each, beta -> 0) and converge to the one-hot argmax (beta -> inf);
the path beta -> softmax(beta z) is an e-geodesic ray from the uniform distribution.
Writes ``fig1_temperature.{pdf,png,csv}``; the CSV holds beta and the three
probabilities of the plotted curves, then the two marked rows of the worked example.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import expfam

NAME = "fig1_temperature"
LOGITS = np.array([0.95, 0.99, 0.98])
BETAS = np.logspace(-2, 3, 401)
MARKED = (1.0, 500.0)


def temperature_path(logits: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """Return softmax(beta * logits) for every beta, shape ``(len(betas), K)``."""
    return np.stack([expfam.softmax(logits, beta=beta) for beta in betas])


def make_figure(out: Path) -> list[Path]:
    """Write figure 1 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    betas = np.concatenate([BETAS, MARKED])
    probs = temperature_path(LOGITS, betas)
    curve, marked = probs[: len(BETAS)], probs[len(BETAS) :]
    with plot.style_context():
        fig, ax = plot.new_figure("single", height=2.4)
        for k in range(3):
            ax.plot(BETAS, curve[:, k], color=plot.COLORS[k], label=f"$z_{k + 1} = {LOGITS[k]}$")
        ax.axhline(1 / 3, color="0.6", linewidth=0.6, linestyle=":", zorder=0)
        ax.text(0.012, 1 / 3 + 0.025, "uniform", color="0.4", fontsize=6.5)
        top = ax.get_xaxis_transform()
        lines = []
        for beta, row in zip(MARKED, marked, strict=True):
            ax.axvline(beta, color="0.7", linewidth=0.6, linestyle="--", zorder=0)
            ax.text(beta, 1.01, f"$\\beta = {beta:g}$", transform=top, ha="center", va="bottom")
            for k in range(3):
                ax.plot(beta, row[k], "o", color=plot.COLORS[k], markersize=3.5, zorder=3)
            percent = ", ".join(f"{100 * q:.2f}%" for q in row)
            lines.append(f"$\\beta = {beta:g}$: ({percent})")
        ax.text(
            0.012,
            0.16,
            "\n".join(lines),
            ha="left",
            va="center",
            fontsize=6.5,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
        )
        ax.set_xscale("log")
        ax.set_xlim(BETAS[0], BETAS[-1])
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(r"inverse temperature $\beta$")
        ax.set_ylabel(r"$\mathrm{softmax}(\beta z)_k$")
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.98))
        written = figures.save_figure(fig, out, NAME)
    written.append(
        figures.save_csv(
            out,
            NAME,
            {
                "beta": betas,
                "p1": probs[:, 0],
                "p2": probs[:, 1],
                "p3": probs[:, 2],
                "marked": np.r_[np.zeros(len(BETAS), dtype=int), np.ones(len(MARKED), dtype=int)],
            },
        )
    )
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
