"""Thread scaling of expfam's row kernels, 1 to N threads, beside torch with the same threads.

Run by hand (not by the tests), from the repository root, after the README's install::

    python benchmarks/bench_threads.py [--repeats N] [--max-threads N] [--quick]

For float64 ``softmax``, ``log_softmax``, ``logsumexp``, ``entropy`` and
``kl_divergence`` on (1024, 50000) (``--quick``: (256, 20000)) and on one row
of 10**7 entries (its segments shared among the threads), prints the median
time on 1, 2, 4, ... N threads (N: the CPUs this process may use) and the
speedup over one thread, and torch's on the CPU with the same threads (when
installed). The target on a 16-core machine is 8x or more on 16 threads for
float64 softmax on (1024, 50000). Needs at least 4 cores: on fewer it says so
and exits (0), since 1 against 2 threads on a shared 2-core machine measures
the other jobs more than the engine.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from _timing import median_seconds, with_quiet_peers

import expfam.special as es

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # a peer here, never a dependency
    torch = None

MIN_CORES = 4


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_counts(top: int) -> list[int]:
    counts, n = [], 1
    while n < top:
        counts.append(n)
        n *= 2
    return [*counts, top]


def cases(x: np.ndarray, y: np.ndarray) -> dict:
    """kernel -> (expfam call, torch call or None)."""
    t, u = (torch.from_numpy(x), torch.from_numpy(y)) if torch is not None else (None, None)

    def peer(fn):
        return fn if torch is not None else None

    return {
        "softmax": (lambda: es.softmax(x), peer(lambda: torch.softmax(t, -1))),
        "log_softmax": (lambda: es.log_softmax(x), peer(lambda: torch.log_softmax(t, -1))),
        "logsumexp": (lambda: es.logsumexp(x), peer(lambda: torch.logsumexp(t, -1))),
        "entropy": (
            lambda: es.entropy(x),
            peer(lambda: torch.distributions.Categorical(logits=t).entropy()),
        ),
        "kl_divergence": (
            lambda: es.kl_divergence(x, y),
            peer(
                lambda: F.kl_div(
                    torch.log_softmax(u, -1), torch.log_softmax(t, -1), log_target=True,
                    reduction="none",
                ).sum(-1)
            ),
        ),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    args = parser.parse_args()
    with_quiet_peers()
    cpus = available_cpus()
    if cpus < MIN_CORES:
        print(
            f"bench_threads: needs at least {MIN_CORES} cores, this process may use {cpus}; "
            "skipped (nothing measured)."
        )
        return 0
    top = min(args.max_threads or cpus, cpus)
    rng = np.random.default_rng(0)
    shape = (256, 20_000) if args.quick else (1024, 50_000)
    inputs = {
        f"{shape[0]}x{shape[1]} float64": rng.standard_normal(shape) * 4,
        "1x10000000 float64": rng.standard_normal((1, 10**7)) * 4,
    }
    counts = thread_counts(top)
    print(f"{cpus} CPUs; threads {counts}; torch {torch.__version__ if torch else 'absent'}")
    header = f"{'input':<20}{'kernel':<15}" + "".join(f"{n:>8}thr" for n in counts)
    for label, x in inputs.items():
        y = np.roll(x, 1, axis=-1) * 0.9
        print(f"\n{header}\n{'-' * len(header)}")
        for kernel, (ours, theirs) in cases(x, y).items():
            times, peer = [], []
            for n in counts:
                with es.set_num_threads(n):
                    times.append(median_seconds(ours, args.repeats))
                if theirs is not None:
                    torch.set_num_threads(n)
                    peer.append(median_seconds(theirs, args.repeats))
            print(f"{label:<20}{kernel:<15}" + "".join(f"{t:>10.4f}s" for t in times))
            speedup = "".join(f"{times[0] / t:>10.2f}x" for t in times)
            print(f"{'':<20}{'  speedup':<15}{speedup}")
            if peer:
                print(f"{'':<20}{'  torch speedup':<15}" + "".join(
                    f"{peer[0] / t:>10.2f}x" for t in peer
                ))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
