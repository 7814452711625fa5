"""Fisher-Rao distance on a (10^5, 100) batch against the arccos formula (run by hand).

Times ``expfam.geometry.fisher_rao_distance`` (the chord form
4 asin(||sqrt p - sqrt q|| / 2) with sqrt p - sqrt q = (p - q) / (sqrt p + sqrt q))
and the formula a user would write, ``2 * arccos(clip(sum(sqrt(p * q)), -1, 1))``,
in the same run (medians of several repeats), and measures both against mpmath
(the chord form of the exact float inputs at 60 digits) on a sample of rows at
three scales: independent pairs, and pairs at distance ~1e-4 and ~1e-9. Prints a
table and writes it to ``benchmarks/results/bench_fisher_rao.csv``.

    python benchmarks/bench_fisher_rao.py [--rows 100000] [--k 100] [--repeats 5]

(with expfam installed, or ``PYTHONPATH=.`` from the repository root).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import mpmath
import numpy as np
from _timing import median_seconds  # benchmarks/ is on sys.path when run as a script

from expfam.geometry import fisher_rao_distance


def naive(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return 2 * np.arccos(np.clip(np.sum(np.sqrt(p * q), axis=-1), -1.0, 1.0))


def reference(p: np.ndarray, q: np.ndarray) -> mpmath.mpf:
    with mpmath.workdps(60):
        chord = mpmath.sqrt(
            mpmath.fsum(
                (mpmath.sqrt(mpmath.mpf(float(a))) - mpmath.sqrt(mpmath.mpf(float(b)))) ** 2
                for a, b in zip(p, q, strict=True)
            )
        )
        return 4 * mpmath.asin(chord / 2)


def ulps(value: float, exact: mpmath.mpf) -> float:
    with mpmath.workdps(60):
        spacing = mpmath.mpf(float(np.spacing(float(exact))))
        return float(abs(mpmath.mpf(float(value)) - exact) / spacing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sample", type=int, default=100, help="rows checked in mpmath")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "bench_fisher_rao.csv"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(args.k), args.rows)
    q = rng.dirichlet(np.ones(args.k), args.rows)

    t_expfam = median_seconds(lambda: fisher_rao_distance(p, q), args.repeats)
    t_naive = median_seconds(lambda: naive(p, q), args.repeats)
    print(
        f"Fisher-Rao distance, batch ({args.rows:,}, {args.k}) float64, median of {args.repeats}"
    )
    print(f"  expfam chord form   {1e3 * t_expfam:9.1f} ms")
    print(f"  naive 2 arccos(BC)  {1e3 * t_naive:9.1f} ms")
    print(f"  ratio expfam / naive: {t_expfam / t_naive:.2f}")

    rows = []
    for scale in (1.0, 1e-4, 1e-9):
        pp = p[: args.sample]
        if scale == 1.0:
            qq = q[: args.sample]
        else:
            step = rng.standard_normal(pp.shape) * pp
            step -= step.sum(-1, keepdims=True) * pp
            qq = np.abs(pp + scale * step)
        errs = {"expfam": [], "naive": []}
        for a, b in zip(pp, qq, strict=True):
            exact = reference(a, b)
            errs["expfam"].append(ulps(fisher_rao_distance(a, b), exact))
            errs["naive"].append(ulps(naive(a, b), exact))
        for name, e in errs.items():
            rows.append(
                {
                    "method": name,
                    "scale": scale,
                    "max_ulp": max(e),
                    "median_ulp": float(np.median(e)),
                    "seconds": t_expfam if name == "expfam" else t_naive,
                    "ratio_to_naive": t_expfam / t_naive if name == "expfam" else 1.0,
                }
            )
    print(f"  accuracy against mpmath (60 digits), {args.sample} rows per scale:")
    print(f"  {'method':<8} {'distance':>9} {'max ULP':>12} {'median ULP':>12}")
    for r in rows:
        print(
            f"  {r['method']:<8} {r['scale']:>9.0e} {r['max_ulp']:>12.3g} {r['median_ulp']:>12.3g}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"  wrote {args.out}")


if __name__ == "__main__":
    main()
