"""Figure 16: reliability diagrams before and after temperature scaling; five maps compared
========================================================================================

A larger beta accentuates small differences and makes a classifier overconfident. A
classifier whose logits are 2.5 times too large (the labels are drawn from softmax(0.4
z), K = 5, n = 4000 held-out samples) reports confidences far above its accuracy: the
bars (accuracy per bin of top-label confidence, 15 bins (lo, hi]) lie below the
diagonal. The inverse temperature fitted by expfam.learn.fit_temperature (a safeguarded
Newton solve of the convex log-loss in beta) brings them onto it and the expected
calibration error (ECE) down. The top row is the share of the samples per bin, with the
mean accuracy (solid) and mean confidence (dotted). Drawn by
expfam.plot.reliability_diagram.

The bottom row compares the recalibration maps of expfam.learn (none, temperature,
vector, matrix and Dirichlet scaling, the last two with the ODIR penalty 0.01) on a
classifier that overfits: softmax regression with C = 1e4 on 150 points of 6
overlapping Gaussian blobs in 8 dimensions (expfam.datasets.make_blobs, cluster_std 6).
Each map is fitted on 3000 held-out points and judged on 5850 others by NLL, top-label
ECE (15 bins) and the Brier score, with 95% percentile bootstrap intervals (200
resamples, expfam.learn.bootstrap_interval). Every map cuts the NLL of the raw logits;
the affine maps, with K^2 + K parameters, also correct the class-dependent errors that
one temperature cannot.

Writes ``fig16_reliability.{pdf,png,csv}``; the CSV holds, per panel and bin, the edges,
mean confidence, accuracy and count, and the fitted beta and ECE.
``fig16_reliability_maps.csv`` holds, per map and metric, the estimate and the interval,
and the fit's Newton steps.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam.datasets import make_blobs
from expfam.learn import (
    DirichletCalibration,
    MatrixScaling,
    SoftmaxRegression,
    TemperatureScaling,
    VectorScaling,
    bootstrap_interval,
    brier_score,
    expected_calibration_error,
    fit_temperature,
    log_loss,
    reliability_curve,
)
from expfam.special import softmax

NAME = "fig16_reliability"
TRUE_BETA = 0.4
N, K = 4000, 5
SPLITS = (150, 3000, 5850)  # train, calibrate, test
N_RESAMPLES = 200
METRICS = {"NLL": log_loss, "ECE": expected_calibration_error, "Brier": brier_score}


def held_out(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits of an overconfident classifier and labels drawn from softmax(TRUE_BETA z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(N, K)) * 3.0
    cumulative = np.cumsum(softmax(TRUE_BETA * z), axis=1)
    labels = np.minimum((rng.random(N)[:, None] > cumulative).sum(axis=1), K - 1)
    return z, labels


def overfit_classifier(seed: int = 0) -> tuple[np.ndarray, np.ndarray, slice, slice]:
    """Logits of an overfit softmax regression on blobs; the calibration and test slices."""
    x, y = make_blobs(sum(SPLITS), centers=6, n_features=8, cluster_std=6.0, rng=seed)
    order = np.random.default_rng(seed + 1).permutation(len(y))
    x, y = x[order], y[order]
    train, calibrate = slice(0, SPLITS[0]), slice(SPLITS[0], SPLITS[0] + SPLITS[1])
    test = slice(SPLITS[0] + SPLITS[1], None)
    model = SoftmaxRegression(C=1e4).fit(x[train], y[train])
    return model.decision_function(x), y, calibrate, test


def compare_maps() -> dict[str, np.ndarray]:
    """Fit each map on the calibration split; bootstrap its metrics on the test split."""
    z, y, calibrate, test = overfit_classifier()
    maps = {
        "none": None,
        "temperature": TemperatureScaling(),
        "vector": VectorScaling(),
        "matrix": MatrixScaling(off_diagonal=0.01, intercept=0.01),
        "Dirichlet": DirichletCalibration(off_diagonal=0.01, intercept=0.01),
    }
    rows: dict[str, list] = {k: [] for k in ("map", "metric", "estimate", "low", "high", "steps")}
    for i, (name, scaler) in enumerate(maps.items()):
        if scaler is None:
            probs, steps = softmax(z[test]), 0
        else:
            scaler.fit(z[calibrate], y[calibrate])
            probs, steps = scaler.predict_proba(z[test]), scaler.n_iter_
        for j, (metric, score) in enumerate(METRICS.items()):
            estimate, low, high = bootstrap_interval(
                score, probs=probs, labels=y[test], n_resamples=N_RESAMPLES, rng=10 * i + j
            )
            for key, value in zip(rows, (name, metric, estimate, low, high, steps), strict=True):
                rows[key].append(value)
    return {k: np.array(v) for k, v in rows.items()}


def make_figure(out: Path) -> list[Path]:
    """Write figure 16 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    z, labels = held_out()
    fit = fit_temperature(z, labels)
    panels = {
        "before": (1.0, reliability_curve(logits=z, labels=labels)),
        "after": (fit.beta, reliability_curve(logits=fit.beta * z, labels=labels)),
    }
    titles = ("(a) logits as trained", f"(b) temperature scaled, $\\beta^* = {fit.beta:.3f}$")
    table = compare_maps()
    names = list(dict.fromkeys(table["map"]))
    with plot.style_context():
        fig = plot.new_figure("double", height=6.0)[0]
        fig.clear()
        grid = fig.add_gridspec(3, 6, height_ratios=[1, 3.2, 1.9])
        for column, (_, curve), title in zip(range(2), panels.values(), titles, strict=True):
            hist_ax = fig.add_subplot(grid[0, 3 * column : 3 * column + 3])
            ax = fig.add_subplot(grid[1, 3 * column : 3 * column + 3], sharex=hist_ax)
            plot.reliability_diagram(ax, curve, hist_ax=hist_ax, legend=column == 0)
            hist_ax.tick_params(labelbottom=False)
            plot.panel_label(hist_ax, title)
        for j, metric in enumerate(METRICS):
            ax = fig.add_subplot(grid[2, 2 * j : 2 * j + 2])
            rows = table["metric"] == metric
            position = np.arange(len(names))[::-1]
            estimate, low, high = table["estimate"][rows], table["low"][rows], table["high"][rows]
            # a percentile interval of a biased statistic (ECE) need not hold the estimate
            ax.hlines(position, low, high, color=plot.COLORS[1], linewidth=1.5)
            ax.plot(estimate, position, "o", color=plot.COLORS[0], markersize=4)
            ax.set_yticks(position, names if j == 0 else [])
            ax.set_ylim(-0.6, len(names) - 0.4)
            ax.set_xlabel(f"test {metric} (95% bootstrap)")
            plot.panel_label(ax, f"({'cde'[j]}) {metric} per map")
        written = figures.save_figure(fig, out, NAME)
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
    written.append(figures.save_csv(out, NAME, rows))
    written.append(figures.save_csv(out, f"{NAME}_maps", table))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
