"""Speed and memory of expfam's softmax kernels against scipy.special, in one run.

Run by hand (not by the tests): ``python benchmarks/bench_special.py [--repeats N]``.
Prints a table and writes it to ``benchmarks/results/bench_special.csv``.

For each kernel (softmax, log_softmax, logsumexp along the last axis) and each
input (a (4096, 32000) float32 and a (1024, 50000) float64 array, and a tiny
K = 3 row) it reports the median time of expfam and of scipy.special, their
ratio (goal: <= 0.5 on the large inputs, <= 1.5 on the tiny one), the
``np.copyto`` time into a preallocated array (the memory-bandwidth floor), and
the peak extra memory of each call beyond its input (measured with
tracemalloc, which numpy reports its allocations to).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.special as sc

import expfam

KERNELS = {
    "softmax": (expfam.softmax, sc.softmax),
    "log_softmax": (expfam.log_softmax, sc.log_softmax),
    "logsumexp": (expfam.logsumexp, sc.logsumexp),
}


def median_time(fn, repeats: int) -> float:
    fn()  # warm up (thread pool, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_extra_mb(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=Path(__file__).parent / "results" / "bench_special.csv")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    inputs = {
        "4096x32000 float32": (rng.standard_normal((4096, 32000), dtype=np.float32) * 4, 3),
        "1024x50000 float64": (rng.standard_normal((1024, 50000)) * 4, 3),
        "1x3 float64": (np.array([0.95, 0.99, 0.98]), 2000),
    }
    rows = []
    header = (
        f"{'input':<20}{'kernel':<13}{'expfam s':>11}{'scipy s':>11}{'ratio':>7}"
        f"{'copy s':>9}{'expfam MB':>11}{'scipy MB':>10}{'output MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for label, (x, scale) in inputs.items():
        repeats = args.repeats * scale if scale > 100 else args.repeats
        floor = np.empty_like(x)
        copy_s = median_time(lambda x=x, floor=floor: np.copyto(floor, x), repeats)
        for name, (ours, theirs) in KERNELS.items():
            t_ours = median_time(lambda ours=ours, x=x: ours(x), repeats)
            t_theirs = median_time(lambda theirs=theirs, x=x: theirs(x, axis=-1), repeats)
            mem_ours = peak_extra_mb(lambda ours=ours, x=x: ours(x))
            mem_theirs = peak_extra_mb(lambda theirs=theirs, x=x: theirs(x, axis=-1))
            out_mb = (x.nbytes if name != "logsumexp" else x.nbytes / x.shape[-1]) / 2**20
            row = {
                "input": label,
                "kernel": name,
                "expfam_s": t_ours,
                "scipy_s": t_theirs,
                "ratio": t_ours / t_theirs,
                "copy_s": copy_s,
                "expfam_peak_mb": mem_ours,
                "scipy_peak_mb": mem_theirs,
                "output_mb": out_mb,
            }
            rows.append(row)
            print(
                f"{label:<20}{name:<13}{t_ours:>11.2e}{t_theirs:>11.2e}{row['ratio']:>7.2f}"
                f"{copy_s:>9.1e}{mem_ours:>11.1f}{mem_theirs:>10.1f}{out_mb:>11.1f}"
            )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
