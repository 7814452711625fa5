"""Figure 5: the sigmoid is the two-class softmax, and its log-loss is the logistic loss
=====================================================================================

For a two-class classifier, define w = w_2 - w_1 and the softmax becomes
(sigma(w^T x + b), 1 - sigma(w^T x + b)).

(a) sigmoid(w_1 - w_2) against softmax((w_1, w_2))_1, the markers for three
values of w_2: the two-class softmax depends only on the difference of its
logits. (b) The log-loss of each class, -log softmax((w_1, w_2))_y (markers,
expfam.cross_entropy), is the logistic loss softplus(-w) for y = 1 and
softplus(w) for y = 2 (lines, expfam.softplus), with w = w_1 - w_2. Writes
``fig5_sigmoid.{pdf,png,csv}``; the CSV holds the curve (kind ``curve``: w,
sigmoid, the two softplus losses) and the markers (kind ``softmax``: w_1, w_2,
the softmax and cross-entropy values).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import expfam

NAME = "fig5_sigmoid"
W = np.linspace(-8.0, 8.0, 321)
MARKER_W = np.linspace(-7.0, 7.0, 15)
SECOND_LOGITS = (-3.0, 0.0, 5.0)
MARKERS = ("o", "s", "^")


def make_figure(out: Path) -> list[Path]:
    """Write figure 5 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    sig = expfam.sigmoid(W)
    loss1, loss2 = expfam.softplus(-W), expfam.softplus(W)
    w2 = np.repeat(SECOND_LOGITS, len(MARKER_W))
    w = np.tile(MARKER_W, len(SECOND_LOGITS))
    logits = np.stack([w + w2, w2], axis=-1)
    soft = expfam.softmax(logits)[:, 0]
    ce1 = expfam.cross_entropy(logits, np.zeros(len(w), dtype=int))
    ce2 = expfam.cross_entropy(logits, np.ones(len(w), dtype=int))
    with plot.style_context():
        fig, (ax, loss_ax) = plot.new_figure("double", height=2.3, ncols=2)
        ax.plot(W, sig, color="0.15", label=r"$\sigma(w_1 - w_2)$", zorder=2)
        for j, (value, marker) in enumerate(zip(SECOND_LOGITS, MARKERS, strict=True)):
            rows = slice(j * len(MARKER_W), (j + 1) * len(MARKER_W))
            ax.plot(
                w[rows],
                soft[rows],
                marker,
                color=plot.COLORS[j],
                markerfacecolor="none",
                markersize=4.5,
                markeredgewidth=0.9,
                label=rf"softmax$(w_1, w_2)_1$, $w_2 = {value:g}$",
                zorder=3,
            )
        ax.set_xlabel(r"logit difference $w = w_1 - w_2$")
        ax.set_ylabel("probability of class 1")
        ax.set_xlim(W[0], W[-1])
        ax.legend(loc="upper left")
        plot.panel_label(ax, "(a) sigmoid = two-class softmax")

        loss_ax.plot(W, loss1, color=plot.COLORS[0], label=r"$y = 1$: softplus$(-w)$")
        loss_ax.plot(W, loss2, color=plot.COLORS[1], label=r"$y = 2$: softplus$(w)$")
        rows = slice(len(MARKER_W), 2 * len(MARKER_W))  # w_2 = 0
        ring = {
            "marker": "o",
            "linestyle": "none",
            "markerfacecolor": "none",
            "markersize": 4.5,
            "markeredgewidth": 0.9,
        }
        loss_ax.plot(w[rows], ce1[rows], color=plot.COLORS[0], **ring)
        loss_ax.plot(w[rows], ce2[rows], color=plot.COLORS[1], **ring)
        loss_ax.plot(
            [], [], color="0.3", label=r"$-\log\,$softmax$(w_1, w_2)_y$, $w_2 = 0$", **ring
        )
        loss_ax.set_xlabel(r"logit difference $w = w_1 - w_2$")
        loss_ax.set_ylabel("log-loss (nats)")
        loss_ax.set_xlim(W[0], W[-1])
        loss_ax.set_ylim(0, 8.5)
        loss_ax.legend(loc="upper center")
        plot.panel_label(loss_ax, "(b) logistic loss")
        written = figures.save_figure(fig, out, NAME)
    n, m = len(W), len(w)
    nan_n, nan_m = np.full(n, np.nan), np.full(m, np.nan)
    columns = {
        "kind": ["curve"] * n + ["softmax"] * m,
        "w": np.r_[W, w],
        "w1": np.r_[nan_n, w + w2],
        "w2": np.r_[nan_n, w2],
        "sigmoid": np.r_[sig, nan_m],
        "softplus_minus_w": np.r_[loss1, nan_m],
        "softplus_w": np.r_[loss2, nan_m],
        "softmax_1": np.r_[nan_n, soft],
        "cross_entropy_1": np.r_[nan_n, ce1],
        "cross_entropy_2": np.r_[nan_n, ce2],
    }
    written.append(figures.save_csv(out, NAME, columns))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
