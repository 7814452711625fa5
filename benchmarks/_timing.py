"""What every benchmark script shares: the median wall time of a call, and peers whose
idle threads wait passively."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import numpy as np


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median over ``repeats`` timed calls of ``fn``, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# The peers' idle threads spin after each call by default (torch's OpenMP, libgomp; numpy's
# OpenBLAS), and take a core from whichever contender runs next in the turns: expfam's
# float64 softmax on 2000x1000, 2 threads, took 6.0 ms right after a torch call and 3.1 ms
# otherwise (torch's own time is the same either way, 1.9-2.1 ms). The benchmarks run with
# these, unless they are set.
QUIET_PEERS = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_NUM_THREADS": "1"}


def with_quiet_peers() -> None:
    """Run this script again with ``QUIET_PEERS`` in its environment, where one is unset
    (they are read when the libraries load: before numpy and torch are imported)."""
    missing = {name: value for name, value in QUIET_PEERS.items() if name not in os.environ}
    if missing:
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **missing})
