"""Softmax regression: time to a relative objective gap of 1e-8, expfam against scikit-learn.

Two problems, scikit-learn's multinomial objective with C = 1 and an
intercept: raw iris (150 x 4, K = 3) and a digits-sized synthetic set
(N = 1800, D = 64, K = 10: ten Gaussian blobs in [0, 16]^64, overlapping).
f* is the best objective any solver reaches (expfam's Newton at tol 1e-13
and scikit-learn's newton-cholesky at tol 1e-12 agree to ~1e-12).

Every solver is stopped by its own tolerance; for each solver the benchmark
walks a ladder of tolerances (1e-2, 1e-3, ...) and reports the fastest fit
whose objective is within 1e-8 of f* (relative), as the median of a few
repeats, and the peak memory that fit allocates (tracemalloc, to which numpy
reports). Ratios are to scikit-learn's ``newton-cholesky`` timed in the same
run. Gradient descent and the empirical Fisher are run with an iteration cap
and reported with the gap they reached. BLAS runs on one thread
(``--threads``, through threadpoolctl, a scikit-learn dependency): on a
shared 2-core machine threaded BLAS made both libraries 10x slower and noisy.

    python benchmarks/bench_learn.py [--repeats 5]

(with expfam installed, or ``PYTHONPATH=.`` from the repository root; needs
scikit-learn, the peer). Prints a table and writes
``benchmarks/results/bench_learn.csv``.
"""

from __future__ import annotations

import argparse
import csv
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from expfam.datasets import load_iris, make_blobs
from expfam.learn import ConvergenceWarning, SoftmaxRegression, objective

TARGET = 1e-8
TOLS = [10.0**-e for e in range(2, 14)]
CAPPED = {"gd": 2000, "empirical_fisher": 50}


def digits_like() -> tuple[np.ndarray, np.ndarray]:
    """N = 1800, D = 64, K = 10: blobs with centres in [0, 16]^64, std 6 (they overlap)."""
    return make_blobs(1800, centers=10, n_features=64, cluster_std=6.0, center_box=(0, 16), rng=0)


def fitters() -> dict[str, Callable[[float, int], object]]:
    ours = {
        s: (lambda tol, it, s=s: SoftmaxRegression(solver=s, tol=tol, max_iter=it))
        for s in ("natural", "lbfgs", "kfac", "empirical_fisher", "gd")
    }
    theirs = {
        f"sklearn {s}": (lambda tol, it, s=s: LogisticRegression(solver=s, tol=tol, max_iter=it))
        for s in ("newton-cholesky", "lbfgs")
    }
    return {**{f"expfam {k}": v for k, v in ours.items()}, **theirs}


def fit_objective(model, X, y) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        model.fit(X, y)
    coef = np.column_stack([model.coef_, model.intercept_])
    return objective(coef, X, y, fit_intercept=True)


def median_seconds(make, X, y, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        model = make()
        start = time.perf_counter()
        fit_objective(model, X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def peak_mb(make, X, y) -> float:
    model = make()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fit_objective(model, X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run_problem(name: str, X, y, repeats: int) -> list[dict]:
    f_star = min(
        fit_objective(SoftmaxRegression(tol=1e-13, max_iter=200), X, y),
        fit_objective(LogisticRegression(solver="newton-cholesky", tol=1e-12), X, y),
    )
    rows = []
    for solver, factory in fitters().items():
        short = solver.split()[-1]
        cap = CAPPED.get(short, 10_000) if solver.startswith("expfam") else 10_000
        chosen, gap = None, None
        for tol in TOLS if short not in CAPPED else [1e-14]:
            gap = (fit_objective(factory(tol, cap), X, y) - f_star) / f_star
            if gap <= TARGET or short in CAPPED:
                chosen = tol
                break
        if chosen is None:
            rows.append({"problem": name, "solver": solver, "tol": "", "gap": gap})
            continue
        seconds = median_seconds(lambda f=factory, t=chosen, c=cap: f(t, c), X, y, repeats)
        memory = peak_mb(lambda f=factory, t=chosen, c=cap: f(t, c), X, y)
        print(
            f"  {name}: {solver} tol {chosen:.0e} gap {gap:.1e} {1e3 * seconds:.1f} ms", flush=True
        )
        rows.append(
            {
                "problem": name,
                "solver": solver + (f" ({cap} iterations)" if short in CAPPED else ""),
                "tol": chosen,
                "gap": gap,
                "seconds": seconds,
                "peak_mb": memory,
            }
        )
    reference = next(r["seconds"] for r in rows if r["solver"] == "sklearn newton-cholesky")
    for r in rows:
        if "seconds" in r:
            r["ratio_to_newton_cholesky"] = r["seconds"] / reference
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--out", default=Path(__file__).parent / "results" / "bench_learn.csv")
    args = parser.parse_args()
    iris = load_iris()
    problems = {
        "iris (150, 4, K=3)": (iris.data, iris.target),
        "digits-like (1800, 64, K=10)": digits_like(),
    }
    rows = []
    with threadpool_limits(args.threads):
        for name, (X, y) in problems.items():
            rows += run_problem(name, X, y, args.repeats)
    header = f"{'problem':<30}{'solver':<40}{'tol':>8}{'gap':>10}{'ms':>10}{'ratio':>8}{'MB':>8}"
    print(header)
    for r in rows:
        ms = f"{1e3 * r['seconds']:.1f}" if "seconds" in r else "-"
        ratio = f"{r['ratio_to_newton_cholesky']:.2f}" if "seconds" in r else "-"
        mb = f"{r['peak_mb']:.2f}" if "peak_mb" in r else "-"
        tol = f"{r['tol']:.0e}" if r["tol"] != "" else "-"
        print(
            f"{r['problem']:<30}{r['solver']:<40}{tol:>8}{r['gap']:>10.1e}{ms:>10}{ratio:>8}{mb:>8}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    keys = ["problem", "solver", "tol", "gap", "seconds", "ratio_to_newton_cholesky", "peak_mb"]
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k, "") for k in keys})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
