"""Figure 15: surrogates of the 0-1 loss and their psi-transforms (which are calibrated)
=====================================================================================

Softmax's log-loss is convex, so easy to optimize, has bounded gradients and is a
tight surrogate for the 0-1 loss, beside the hinge and softplus losses; the
perceptron is the hard limit of the softmax classifier.

(a) The binary margin losses phi(m) of ``expfam.learn.MARGIN_LOSSES``, m = y f:
0-1, hinge, squared hinge, logistic in nats and in bits (log_2(1 + e^-m),
which equals 1 at m = 0 and upper-bounds 0-1), exponential, and the
perceptron loss max(0, -m), the beta -> inf limit of the logistic loss.
(b) Their psi-transforms (Bartlett, Jordan and McAuliffe 2006), psi(theta) =
H^-((1 + theta)/2) - H((1 + theta)/2): psi(excess 0-1 risk) <= excess phi-risk.
``|theta|`` for 0-1 and hinge, theta^2 for the squared hinge,
1 - sqrt(1 - theta^2) for the exponential loss, log 2 minus the binary entropy
of (1 + theta)/2 for the logistic loss; all positive for theta > 0
(classification-calibrated) except the perceptron's, which is 0: the score
0 is optimal for every eta, so a small perceptron risk says nothing about the
0-1 risk. Writes ``fig15_margin_losses.{pdf,png,csv}``; the CSV holds m,
theta and every loss and psi.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam import learn

NAME = "fig15_margin_losses"
MARGIN = np.linspace(-2.5, 2.5, 501)
THETA = np.linspace(0.0, 1.0, 501)
STYLES = {  # name: (label, colour index, line style)
    "zero_one": ("0-1", 6, "-"),
    "hinge": ("hinge", 0, "-"),
    "squared_hinge": ("squared hinge", 4, "--"),
    "logistic": ("logistic (nats)", 2, "-"),
    "logistic2": ("logistic (bits)", 2, (0, (4, 1.5))),
    "exponential": ("exponential", 3, "-."),
    "perceptron": ("perceptron: not calibrated", 1, (0, (1, 1.2))),
}


def make_figure(out: Path) -> list[Path]:
    """Write figure 15 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    losses = {name: learn.MARGIN_LOSSES[name].loss(MARGIN) for name in STYLES}
    psis = {name: learn.MARGIN_LOSSES[name].psi(THETA) for name in STYLES}
    with plot.style_context():
        fig, (ax, right) = plot.new_figure("double", height=2.5, ncols=2)
        for name, (label, color, style) in STYLES.items():
            kw = {"color": plot.COLORS[color], "linestyle": style}
            if name == "zero_one":  # the jump at m = 0 drawn as a jump
                left = MARGIN <= 0
                ax.plot(MARGIN[left], losses[name][left], label=label, **kw)
                ax.plot(MARGIN[~left], losses[name][~left], **kw)
            else:
                ax.plot(MARGIN, losses[name], label=label, **kw)
            width = 2.6 if name == "zero_one" else None  # hinge's psi lies on top of it
            right.plot(THETA, psis[name], label=label, linewidth=width, **kw)
        ax.set_xlim(MARGIN[0], MARGIN[-1])
        ax.set_ylim(-0.06, 4)
        ax.set_xlabel(r"margin $m = y f(x)$")
        ax.set_ylabel(r"loss $\phi(m)$")
        ax.legend(loc="upper right")
        plot.panel_label(ax, "(a) surrogates of the 0-1 loss")
        right.set_xlim(0, 1)
        right.set_ylim(-0.03, 1.05)
        right.set_xlabel(r"$\theta = 2\eta - 1$")
        right.set_ylabel(r"$\psi(\theta)$")
        right.text(0.52, 0.07, r"perceptron: $\psi \equiv 0$", color=plot.COLORS[1], fontsize=7)
        right.text(0.05, 0.9, "0-1 and hinge: $|\\theta|$", fontsize=7)
        plot.panel_label(right, r"(b) $\psi$-transforms: calibrated iff $\psi > 0$")
        written = figures.save_figure(fig, out, NAME)
    table = {"m": MARGIN, **losses, "theta": THETA, **{f"psi_{k}": v for k, v in psis.items()}}
    written.append(figures.save_csv(out, NAME, table))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
