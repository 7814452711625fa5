"""Figure 13: gradient descent against the natural gradient on iris, gap per iteration
===================================================================================

The softmax classifier is trained by gradient descent on the log-loss, whose
gradient is p - y. For softmax regression the Fisher information is the
Hessian of the objective (a canonical link), so the exact natural gradient
is Newton's method.

Softmax regression on raw iris (150 x 4, 3 classes, intercept, C = 1,
scikit-learn's objective), from W = 0, with the solvers of
``expfam.learn.optimize``: (a) the relative objective gap (f - f*) / f*
against the iteration count, log-log; (b) the largest gradient entry over
C N (scikit-learn's stopping quantity). f* is the Newton optimum. Newton
(the natural gradient, by conjugate gradient on Fisher products) reaches
1e-8 in a handful of steps; K-FAC and the empirical Fisher need about a
hundred and fifty (L-BFGS about as many: ``benchmarks/bench_learn.py``);
gradient descent with the Lipschitz step 1/L is run for GD_STEPS steps only
(time), and its remaining count to 1e-8 is extrapolated at its asymptotic
rate (1 - mu/L)^2 per step, mu the smallest non-zero eigenvalue of the
Hessian at the optimum: about a million steps.
Writes ``fig13_solvers.{pdf,png,csv}``; the CSV holds solver, iteration,
objective, relative gap, gradient norm.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from expfam import learn
from expfam.datasets import load_iris
from expfam.learn.regression import SoftmaxProblem

NAME = "fig13_solvers"
GD_STEPS = 5000
TARGET = 1e-8
SOLVERS = {  # name: (label, iterations, colour index, line style)
    "natural": ("natural gradient (Newton)", 30, 0, "-"),
    "kfac": ("K-FAC", 200, 3, "--"),
    "empirical_fisher": ("empirical Fisher", 200, 5, ":"),
    "gd": ("gradient descent, step 1/L", GD_STEPS, 1, "-"),
}


def run_solvers() -> tuple[dict[str, dict[str, np.ndarray]], float, float]:
    """Histories of every solver on iris, the optimum f*, and GD's extrapolated step count."""
    iris = load_iris()
    problem = SoftmaxProblem.build(iris.data, iris.target, 3, fit_intercept=True)
    start = np.zeros(problem.shape)
    histories = {}
    for solver, (_, iterations, _, _) in SOLVERS.items():
        with warnings.catch_warnings():  # the capped runs stop short on purpose
            warnings.simplefilter("ignore", learn.ConvergenceWarning)
            result = learn.minimize(problem, start, solver, tol=1e-14, max_iter=iterations)
        histories[solver] = result.history
        if solver == "natural":
            optimum = result.coef
    f_star = min(float(h["objective"].min()) for h in histories.values())
    hessian = learn.hessian(optimum, iris.data, fit_intercept=True)
    # [0] is the intercept's null direction; the solvers work on f / (C sum s)
    mu = np.linalg.eigvalsh(hessian)[1] / problem.objective_scale()
    rate = (1.0 - mu / problem.lipschitz()) ** 2
    last_gap = (histories["gd"]["objective"][-1] - f_star) / f_star
    extrapolated = GD_STEPS + np.log(TARGET / last_gap) / np.log(rate)
    return histories, f_star, float(extrapolated)


def make_figure(out: Path) -> list[Path]:
    """Write figure 13 into the folder ``out``; return the files written."""
    from matplotlib.ticker import LogLocator, NullLocator

    from expfam import figures, plot

    histories, f_star, gd_count = run_solvers()
    n = 150
    table: dict[str, list] = {k: [] for k in ("solver", "iteration", "objective", "gap", "grad")}
    with plot.style_context():
        fig, (ax, grad) = plot.new_figure("double", height=2.6, ncols=2)
        for solver, (label, _, color, style) in SOLVERS.items():
            h = histories[solver]
            gap = (h["objective"] - f_star) / f_star
            steps = np.arange(len(gap))
            reached = np.flatnonzero(gap <= TARGET)
            count = f"{reached[0]} steps to $10^{{-8}}$" if len(reached) else "capped"
            # on log axes 400 points per curve suffice: draw GD's 5000 steps thinned
            drawn = np.unique(np.geomspace(1, len(gap) - 1, 400).astype(int))
            shown = drawn[gap[drawn] > 1e-16]
            kw = {"color": plot.COLORS[color], "linestyle": style}
            ax.plot(steps[shown], gap[shown], label=f"{label}: {count}", **kw)
            grad.plot(steps[drawn], h["gradient_norm"][drawn] / n, label=label, **kw)
            table["solver"] += [solver] * len(gap)
            table["iteration"] += steps.tolist()
            table["objective"] += h["objective"].tolist()
            table["gap"] += gap.tolist()
            table["grad"] += h["gradient_norm"].tolist()
        gd_gap = (histories["gd"]["objective"][-1] - f_star) / f_star
        ax.plot(
            [GD_STEPS, gd_count],
            [gd_gap, TARGET],
            color=plot.COLORS[1],
            linewidth=0.8,
            linestyle=(0, (1, 2)),
        )
        ax.plot([gd_count], [TARGET], "o", color=plot.COLORS[1], markerfacecolor="white")
        mantissa, exponent = f"{gd_count:.1e}".split("e")
        ax.annotate(
            f"GD: gap {gd_gap:.2f} after {GD_STEPS} steps;\n"
            f"$\\approx {mantissa} \\times 10^{{{int(exponent)}}}$ steps to $10^{{-8}}$\n"
            "(extrapolated at the rate $(1-\\mu/L)^2$)",
            xy=(gd_count, TARGET),
            xytext=(6e2, 1e-13),
            fontsize=6.5,
            arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.5},
        )
        ax.axhline(TARGET, color="0.7", linewidth=0.6, linestyle="--", zorder=0)
        ax.text(11, 3.5 * TARGET, "target $10^{-8}$", fontsize=6.5, color="0.4")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(0.8, 3e6)
        ax.set_ylim(1e-16, 30)
        ax.set_xlabel("iteration")
        ax.set_ylabel(r"relative gap $(f - f^\star)/f^\star$")
        handles, labels = ax.get_legend_handles_labels()
        plot.panel_label(ax, "(a) softmax regression on raw iris")
        grad.set_xscale("log")
        grad.set_yscale("log")
        grad.set_xlim(0.8, 4e4)
        grad.set_xlabel("iteration")
        grad.set_ylabel(r"$\max |\nabla f| \,/\, (C N)$")
        for panel in (ax, grad):  # a label every 4 decades: fewer texts to lay out
            panel.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0,), numticks=6))
            panel.yaxis.set_minor_locator(NullLocator())
        grad.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.3, 0.0), fontsize=6.5)
        plot.panel_label(grad, "(b) gradient, scikit-learn's stopping quantity")
        written = figures.save_figure(fig, out, NAME)
    written.append(figures.save_csv(out, NAME, table))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
