"""The final layer: temperature scaling against scikit-learn, sparse maps against softmax.

Times (medians of several repeats, same run):

- ``expfam.learn.fit_temperature`` (safeguarded Newton on the convex NLL in
  beta) against scikit-learn's temperature scaling (``_TemperatureScaling``,
  the calibrator behind ``CalibratedClassifierCV(method="temperature")``:
  bounded Brent on log beta), on n held-out logits of K classes, with the
  fitted betas side by side;
- ``sparsemax``, ``entmax`` at alpha = 1.5 (sort-based), 1.7 and 10 (root-finder)
  against ``softmax`` on a (rows, K) float64 batch.

Prints ratios and writes ``benchmarks/results/final_layer.csv``.

    PYTHONPATH=. python benchmarks/bench_final_layer.py [--n 50000] [--k 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from _timing import median_seconds  # benchmarks/ is on sys.path when run as a script

from expfam.learn import fit_temperature
from expfam.special import entmax, softmax, sparsemax


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    results = []

    z = 3.0 * rng.normal(size=(args.n, args.k))
    y = (rng.random(args.n)[:, None] > np.cumsum(softmax(0.4 * z), axis=1)).sum(axis=1)
    y = np.minimum(y, args.k - 1)
    ours = median_seconds(lambda: fit_temperature(z, y), args.repeats)
    beta = fit_temperature(z, y).beta
    try:
        from sklearn.calibration import _TemperatureScaling

        theirs = median_seconds(lambda: _TemperatureScaling().fit(z, y), args.repeats)
        beta_sklearn = float(_TemperatureScaling().fit(z, y).beta_)
        print(
            f"temperature scaling, n = {args.n}, K = {args.k}: expfam {ours * 1e3:.1f} ms, "
            f"scikit-learn {theirs * 1e3:.1f} ms, ratio {ours / theirs:.2f}; "
            f"beta {beta:.12f} vs {beta_sklearn:.12f}"
        )
        results.append(("fit_temperature", "sklearn_temperature", ours, theirs))
    except ImportError:
        print(f"temperature scaling: expfam {ours * 1e3:.1f} ms (scikit-learn not installed)")

    x = 3.0 * rng.normal(size=(args.rows, args.classes))
    base = median_seconds(lambda: softmax(x), args.repeats)
    for name, fn in (
        ("sparsemax", lambda: sparsemax(x)),
        ("entmax_1.5", lambda: entmax(x, 1.5)),
        ("entmax_1.7", lambda: entmax(x, 1.7)),
        ("entmax_10", lambda: entmax(x, 10.0)),
    ):
        t = median_seconds(fn, args.repeats)
        print(
            f"{name:>11} on ({args.rows}, {args.classes}): {t * 1e3:7.1f} ms, "
            f"{t / base:5.2f} x softmax ({base * 1e3:.1f} ms)"
        )
        results.append((name, "softmax", t, base))

    out = Path(__file__).parent / "results" / "final_layer.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ours", "peer", "ours_s", "peer_s", "ratio"])
        for ours_name, peer, t_ours, t_peer in results:
            writer.writerow(
                [ours_name, peer, f"{t_ours:.6g}", f"{t_peer:.6g}", f"{t_ours / t_peer:.4g}"]
            )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
