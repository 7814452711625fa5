"""How long ``expfam verify derivations/`` takes on one process and on several (run by hand).

Runs the command as a subprocess with ``--jobs 1`` and ``--jobs N``
(default N = 2), several times each, alternating, and prints the median wall
time and CPU time (the processes' user + system time, children included) of
each, and the ratio of wall times. On a machine others share, the CPU time is
the steadier number; the wall-time ratio shows what the second process buys.
Writes ``benchmarks/results/bench_verify.csv``.

    python benchmarks/bench_verify.py [--jobs 2] [--repeats 3] [--path derivations]

(from the repository root, with expfam importable).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bench_verify.csv"


def timed_run(path: str, jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds of one ``expfam verify PATH --jobs JOBS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "-m", "expfam", "verify", path, "--jobs", str(jobs)]
    status = subprocess.run(command, capture_output=True, check=False).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if status != 0:
        raise SystemExit(f"expfam verify {path} --jobs {jobs} failed (exit {status})")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--path", default="derivations")
    args = parser.parse_args()
    times: dict[int, list[tuple[float, float]]] = {1: [], args.jobs: []}
    for _ in range(args.repeats):
        for jobs in times:
            times[jobs].append(timed_run(args.path, jobs))
    rows = []
    print(f"expfam verify {args.path}: median of {args.repeats}, load {os.getloadavg()[0]:.1f}")
    for jobs, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        rows.append({"jobs": jobs, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2)})
        print(f"  --jobs {jobs}: wall {wall:6.1f} s, cpu {cpu:6.1f} s")
    ratio = rows[0]["wall_s"] / rows[1]["wall_s"]
    print(f"  wall time, --jobs 1 / --jobs {args.jobs}: {ratio:.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["jobs", "wall_s", "cpu_s"])
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
