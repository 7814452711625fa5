"""expfam's portable tier on torch CPU tensors against torch's own functions: speed.

Run by hand (not by the tests), from the repository root::

    python benchmarks/bench_portable.py [--repeats N] [--threads T] [--kernels a,b]

For the large shapes of ``benchmarks/bench_special.py`` (2000x1000,
1024x5000, 4096x1000, 256x50000), float32 and float64, it times each row
kernel of :mod:`expfam.special` on torch CPU tensors (the portable tier)
against torch's own function, or the composite a torch user writes where
torch has none (entropy ``-(softmax * log_softmax).sum(-1)``, KL
``kl_div(log_softmax(q), log_softmax(p), log_target=True).sum(-1)``), both
on ``--threads`` threads (2 by default). It prints the median times and
their ratio (goal, issue 19: at most 1.5) and writes
``benchmarks/results/bench_portable.csv``. The contenders are timed in
turns, so that the load of other processes falls on both alike;
``--cpu-time`` times the process's CPU seconds instead of the wall clock,
steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import csv
import pathlib
import statistics
import time

SHAPES = [(2000, 1000), (1024, 5000), (4096, 1000), (256, 50000)]
KERNELS = ["softmax", "log_softmax", "logsumexp", "cross_entropy", "entropy", "kl_divergence"]


def contenders(z, zq, y):
    """``{kernel: (expfam's call, torch's call)}`` on the tensors ``z``, ``zq``, ``y``."""
    import torch

    import expfam.special as es

    tf = torch.nn.functional
    return {
        "softmax": (lambda: es.softmax(z), lambda: torch.softmax(z, -1)),
        "log_softmax": (lambda: es.log_softmax(z), lambda: torch.log_softmax(z, -1)),
        "logsumexp": (lambda: es.logsumexp(z), lambda: torch.logsumexp(z, -1)),
        "cross_entropy": (
            lambda: es.cross_entropy(z, y),
            lambda: tf.cross_entropy(z, y, reduction="none"),
        ),
        "entropy": (
            lambda: es.entropy(z),
            lambda: -(torch.softmax(z, -1) * torch.log_softmax(z, -1)).sum(-1),
        ),
        "kl_divergence": (
            lambda: es.kl_divergence(z, zq),
            lambda: tf.kl_div(
                torch.log_softmax(zq, -1),
                torch.log_softmax(z, -1),
                reduction="none",
                log_target=True,
            ).sum(-1),
        ),
    }


def in_turns(a, b, repeats: int, clock=time.perf_counter) -> tuple[float, float]:
    """Median seconds of ``a`` and ``b``, timed alternately after one warm-up each."""
    a(), b()
    ta, tb = [], []
    for _ in range(repeats):
        for f, out in ((a, ta), (b, tb)):
            start = clock()
            f()
            out.append(clock() - start)
    return statistics.median(ta), statistics.median(tb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kernels", default=",".join(KERNELS))
    parser.add_argument("--shapes", default=",".join(f"{r}x{c}" for r, c in SHAPES))
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time the process's CPU seconds (all threads) instead of the wall clock: "
        "steadier on a loaded machine",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    kernels = args.kernels.split(",")
    rows = []
    kind = "CPU seconds" if args.cpu_time else "wall clock"
    print(f"torch {torch.__version__}, {args.threads} threads, median of {args.repeats} ({kind})")
    head = ("kernel", "shape", "dtype", "expfam ms", "torch ms", "ratio")
    print("{:<14} {:<10} {:<8} {:>10} {:>9} {:>6}".format(*head))
    for shape in args.shapes.split(","):
        n, k = (int(v) for v in shape.split("x"))
        for dtype in args.dtypes.split(","):
            gen = torch.Generator().manual_seed(0)
            z = (torch.randn(n, k, generator=gen) * 4).to(getattr(torch, dtype))
            zq = (torch.randn(n, k, generator=gen) * 4).to(getattr(torch, dtype))
            y = torch.randint(0, k, (n,), generator=gen)
            calls = contenders(z, zq, y)
            for kernel in kernels:
                clock = time.process_time if args.cpu_time else time.perf_counter
                ours, theirs = in_turns(*calls[kernel], args.repeats, clock)
                rows.append((kernel, shape, dtype, ours * 1e3, theirs * 1e3, ours / theirs))
                print(
                    f"{kernel:<14} {shape:<10} {dtype:<8} {ours * 1e3:10.2f} {theirs * 1e3:9.2f} "
                    f"{ours / theirs:6.2f}",
                    flush=True,
                )
    out = pathlib.Path(__file__).parent / "results" / "bench_portable.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["kernel", "shape", "dtype", "expfam_ms", "torch_ms", "ratio"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
