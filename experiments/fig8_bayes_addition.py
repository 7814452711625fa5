"""Figure 8: Bayes' rule is addition in logit space
================================================

One update of the snow example.

The snow example (``expfam.SNOW``): hypotheses MIT, Michigan, Berkeley,
uniform prior (1/3, 1/3, 1/3), P(snow | h) = (0.4, 0.4, 0.1); one report of snow
gives the posterior (0.4444, 0.4444, 0.1111). Bayes' rule multiplies and normalizes
((.13, .13, .03) -> (.44, .44, .11)).

(a) Prior, likelihood and posterior as bars in probability space. (b) The same
update as vectors in logit space, one row per hypothesis: the log prior plus the
log-likelihood gives the unnormalized log posterior, and subtracting the
log-partition log Z = logsumexp(log prior + log-likelihood) (the same shift for
every hypothesis) normalizes it; the result is expfam.SNOW's log posterior.
Writes ``fig8_bayes_addition.{pdf,png,csv}``; the CSV holds, per hypothesis, the
three probability vectors, the three log vectors and log Z.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import expfam
from expfam import SNOW

NAME = "fig8_bayes_addition"


def make_figure(out: Path) -> list[Path]:
    """Write figure 8 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    log_prior, log_lik = SNOW.log_prior, SNOW.log_likelihood
    log_post = expfam.log_posterior(log_prior, log_lik)
    log_z = expfam.logsumexp(log_prior + log_lik)
    prior, likelihood, post = np.exp(log_prior), np.exp(log_lik), np.exp(log_post)
    k = len(SNOW.hypotheses)
    colors = {"prior": plot.COLORS[0], "likelihood": plot.COLORS[1], "posterior": plot.COLORS[2]}
    with plot.style_context():
        fig, (bars, vectors) = plot.new_figure("double", height=2.5, ncols=2)
        width = 0.26
        series = {
            "prior $P(h)$": (prior, colors["prior"]),
            "likelihood $P(\\mathrm{snow} \\mid h)$": (likelihood, colors["likelihood"]),
            "posterior $P(h \\mid \\mathrm{snow})$": (post, colors["posterior"]),
        }
        for j, (label, (values, color)) in enumerate(series.items()):
            x = np.arange(k) + (j - 1) * width
            bars.bar(x, values, width=width * 0.95, color=color, label=label)
            for xi, v in zip(x, values, strict=True):
                bars.text(xi, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=5.5)
        bars.set_xticks(range(k), SNOW.hypotheses)
        bars.tick_params(axis="x", length=0)
        bars.set_ylim(0, 0.8)
        bars.set_ylabel("probability")
        bars.legend(loc="upper right", ncols=1)
        plot.panel_label(bars, "(a) in probability space: multiply, normalize")

        steps = (
            ("log prior", np.zeros(k), log_prior, colors["prior"]),
            ("+ log-likelihood", log_prior, log_prior + log_lik, colors["likelihood"]),
            (r"$-\log Z$", log_prior + log_lik, log_post, plot.COLORS[6]),
        )
        for j, (label, start, end, color) in enumerate(steps):
            y = np.arange(k) + (j - 1) * 0.25
            for h in range(k):
                vectors.annotate(
                    "",
                    xy=(end[h], y[h]),
                    xytext=(start[h], y[h]),
                    arrowprops={
                        "arrowstyle": "-|>",
                        "color": color,
                        "linewidth": 1.1,
                        "shrinkA": 0,
                        "shrinkB": 0,
                        "mutation_scale": 7,
                    },
                )
            vectors.plot([], [], color=color, label=label)
        vectors.plot(
            log_post,
            np.arange(k) + 0.25,
            "o",
            color=colors["posterior"],
            markersize=4,
            zorder=3,
            label="log posterior",
        )
        vectors.axvline(0.0, color="0.75", linewidth=0.6, zorder=0)
        vectors.set_yticks(range(k), SNOW.hypotheses)
        vectors.tick_params(axis="y", length=0)
        vectors.set_ylim(k - 0.5, -0.75)
        vectors.set_xlim(-3.7, 0.2)
        vectors.set_xlabel("log probability (nats)")
        vectors.legend(loc="upper left")
        plot.panel_label(vectors, "(b) in logit space: add, shift")
        written = figures.save_figure(fig, out, NAME)
    columns = {
        "hypothesis": list(SNOW.hypotheses),
        "prior": prior,
        "likelihood": likelihood,
        "posterior": post,
        "log_prior": log_prior,
        "log_likelihood": log_lik,
        "log_Z": np.full(k, log_z),
        "log_posterior": log_post,
    }
    written.append(figures.save_csv(out, NAME, columns))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
