"""Figure 7: surrogate losses for the 0-1 loss, and their gradients, against the margin
====================================================================================

Softmax is a computationally convenient interface with a likelihood loss: convex,
so easy to optimize, with bounded gradients, and a tight surrogate for the 0-1
loss (which is not differentiable): the hinge loss max(0, 1 - ...) and the
softplus loss log(1 + exp(...)) = -log softmax.

With margin m = y w.x (label y in {-1, +1}): the 0-1 loss 1[m <= 0], the hinge
loss max(0, 1 - m) and the logistic loss softplus(-m) / log 2 = log_2(1 + e^-m)
(in bits, so it equals 1 at m = 0 and upper-bounds the 0-1 loss), computed with
expfam.softplus. (b) Their derivatives in m: 0 almost everywhere for 0-1 (no
signal to learn from), -1 or 0 for hinge, and -sigmoid(-m) / log 2 for the
logistic loss, bounded and never exactly 0. Writes
``fig7_surrogates.{pdf,png,csv}``; the CSV holds m and the three losses and
three derivatives.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import expfam

NAME = "fig7_surrogates"
# an even count so that m = 0 and m = 1 (the kinks) are not on the grid
MARGIN = np.linspace(-3.0, 3.0, 600)


def surrogate_losses(margin: np.ndarray) -> dict[str, np.ndarray]:
    """Return the 0-1, hinge and base-2 logistic losses and their derivatives in the margin."""
    return {
        "zero_one": (margin <= 0).astype(float),
        "hinge": np.maximum(0.0, 1.0 - margin),
        "logistic": expfam.softplus(-margin) / np.log(2.0),
        "d_zero_one": np.zeros_like(margin),
        "d_hinge": np.where(margin < 1.0, -1.0, 0.0),
        "d_logistic": -expfam.sigmoid(-margin) / np.log(2.0),
    }


def make_figure(out: Path) -> list[Path]:
    """Write figure 7 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    losses = surrogate_losses(MARGIN)
    labels = {
        "zero_one": r"0-1: $\mathbb{1}[m \leq 0]$",
        "hinge": r"hinge: $\max(0, 1 - m)$",
        "logistic": r"logistic: $\log_2(1 + e^{-m})$",
    }
    with plot.style_context():
        fig, (ax, grad) = plot.new_figure("double", height=2.3, ncols=2)
        for c, (key, label) in enumerate(labels.items()):
            style = {"color": plot.COLORS[[6, 0, 1][c]], "label": label}
            if key == "zero_one":
                # draw the step as two pieces so the jump at m = 0 is not a sloped line
                left, right = MARGIN <= 0, MARGIN > 0
                ax.plot(MARGIN[left], losses[key][left], **style)
                ax.plot(MARGIN[right], losses[key][right], color=style["color"])
                grad.plot(MARGIN, losses["d_" + key], **style)
                grad.plot(0, 0, "o", color=style["color"], markerfacecolor="white", zorder=3)
            elif key == "hinge":
                below = MARGIN < 1.0
                ax.plot(MARGIN, losses[key], **style)
                grad.plot(MARGIN[below], losses["d_" + key][below], **style)
                grad.plot(MARGIN[~below], losses["d_" + key][~below], color=style["color"])
            else:
                ax.plot(MARGIN, losses[key], **style)
                grad.plot(MARGIN, losses["d_" + key], **style)
        ax.set_xlabel(r"margin $m = y\, w^\top x$")
        ax.set_ylabel("loss")
        ax.set_xlim(MARGIN[0], MARGIN[-1])
        ax.set_ylim(0, 4.5)
        ax.legend(loc="upper right")
        plot.panel_label(ax, "(a) surrogates upper-bound the 0-1 loss")
        grad.axhline(0.0, color="0.8", linewidth=0.5, zorder=0)
        grad.set_xlabel(r"margin $m = y\, w^\top x$")
        grad.set_ylabel(r"derivative $\partial \ell / \partial m$")
        grad.set_xlim(MARGIN[0], MARGIN[-1])
        grad.set_ylim(-1.55, 0.25)
        grad.legend(loc="upper left", bbox_to_anchor=(0.0, 0.86))
        plot.panel_label(grad, "(b) their gradients")
        written = figures.save_figure(fig, out, NAME)
    written.append(figures.save_csv(out, NAME, {"margin": MARGIN, **losses}))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
