"""Speed of expfam's elementwise kernels against scipy's / numpy's ufuncs, in one run.

Run by hand (not by the tests), from the repository root::

    PYTHONPATH=. python benchmarks/bench_elementwise.py [--repeats N]

For each kernel, on a Python float and on 10**6 float64 values, the median
time over ``--repeats`` turns (contenders interleaved, as in
``bench_special.py``) and its ratio to the peer: ``sigmoid`` against
``scipy.special.expit``, ``softplus`` against ``np.logaddexp(0, x)``,
``log_sigmoid`` against ``-np.logaddexp(0, -x)``, ``logit`` against
``scipy.special.logit``, ``log1mexp`` against ``np.log(-np.expm1(x))``.
Goals (issue 13): at most 5x on a float, at most 1.2x on 10**6 floats. The
10**6 cases run on all of expfam's threads (``get_num_threads()``) and, as
``... 1thr``, on one; the peers are single-threaded ufuncs.
Writes ``benchmarks/results/bench_elementwise.csv``. About 20 s.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import scipy.special as sc

import expfam.special as es
from benchmarks.bench_special import timed_in_turns


def cases() -> dict:
    """name -> (expfam call, peer call)."""
    rng = np.random.default_rng(1)
    xs = rng.standard_normal(10**6) * 5
    ps = rng.uniform(0.0, 1.0, 10**6)
    ns = -rng.exponential(2.0, 10**6)
    calls = {
        "sigmoid float": (lambda: es.sigmoid(0.3), lambda: sc.expit(0.3)),
        "softplus float": (lambda: es.softplus(0.3), lambda: np.logaddexp(0.0, 0.3)),
        "log_sigmoid float": (lambda: es.log_sigmoid(0.3), lambda: -np.logaddexp(0.0, -0.3)),
        "logit float": (lambda: es.logit(0.3), lambda: sc.logit(0.3)),
        "log1mexp float": (lambda: es.log1mexp(-0.3), lambda: np.log(-np.expm1(-0.3))),
        "sigmoid 1e6": (lambda: es.sigmoid(xs), lambda: sc.expit(xs)),
        "softplus 1e6": (lambda: es.softplus(xs), lambda: np.logaddexp(0.0, xs)),
        "log_sigmoid 1e6": (lambda: es.log_sigmoid(xs), lambda: -np.logaddexp(0.0, -xs)),
        "logit 1e6": (lambda: es.logit(ps), lambda: sc.logit(ps)),
        "log1mexp 1e6": (lambda: es.log1mexp(ns), lambda: np.log(-np.expm1(ns))),
    }
    one_thread = {
        f"{name} 1thr": (_on_one_thread(ours), theirs)
        for name, (ours, theirs) in calls.items()
        if name.endswith("1e6")
    }
    return calls | one_thread


def _on_one_thread(fn):
    def call():
        with es.set_num_threads(1):
            return fn()

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--out", default=Path(__file__).parent / "results" / "bench_elementwise.csv"
    )
    args = parser.parse_args()
    print(f"{'kernel':<22}{'expfam us':>12}{'peer us':>12}{'/peer':>8}{'goal':>6}")
    results = []
    for name, (ours, theirs) in cases().items():
        t = timed_in_turns({"expfam": ours, "peer": theirs}, args.repeats)
        goal = 5.0 if name.endswith("float") else 1.2
        row = {
            "kernel": name,
            "expfam_us": t["expfam"] * 1e6,
            "peer_us": t["peer"] * 1e6,
            "vs_peer": t["expfam"] / t["peer"],
            "goal": goal,
        }
        results.append(row)
        print(
            f"{name:<22}{row['expfam_us']:>12.2f}{row['peer_us']:>12.2f}"
            f"{row['vs_peer']:>8.2f}{goal:>6.1f}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)


if __name__ == "__main__":
    main()
