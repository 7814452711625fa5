"""Speed and memory of expfam's softmax kernels against scipy, torch and a copy, in one run.

Run by hand (not by the tests), from the repository root, after the README's
install (the engine is compiled)::

    python benchmarks/bench_special.py [--repeats N] [--quick] [--no-large]

Prints one table and writes it to ``benchmarks/results/bench_special.csv``
and the README's tables to ``bench_special.md``. About 3 minutes on an idle
2-core machine; ``--no-large`` leaves out the two largest inputs, ``--quick``
runs the small inputs only.

- The sweep, every shape in float32 and float64: 2000x10, 2000x1000,
  1024x5000, 256x50000, then (4096, 32000) float32 and (1024, 50000)
  float64: every row kernel's median time over ``--repeats`` runs, as a
  ratio to scipy (or the scipy composite a user would write), to torch on
  the CPU with the same number of threads (when torch is installed; it is
  not a dependency), to a ``np.copyto`` of the input (the memory-bandwidth
  floor) and to expfam's own ``logsumexp`` of the same array; its time on
  all threads over its time on one (``N/1thr``); and its peak memory beyond
  the input (tracemalloc, which numpy reports to; torch's allocations are
  not seen). ``benchmarks/bench_threads.py`` sweeps the thread count.
- One row of 10**7 float64 entries: time and peak memory.
- Small inputs (one row of 3 entries, a Python float, 10**6 floats,
  ``Categorical`` at K = 3): ratios to the scipy call or composite.

The contenders are timed in turns (one run of each, repeated), so that the
load of other processes on a shared machine falls on all of them alike; the
median of the turns is reported.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.special as sc
import scipy.stats
from _timing import with_quiet_peers  # benchmarks/ is on sys.path when run as a script

import expfam
import expfam.special as es

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # torch is a peer here, never a dependency
    torch = None

Fn = Callable[[], object]


def timed_in_turns(
    contenders: dict[str, Fn | None], repeats: int, warm: dict[str, float] | None = None
) -> dict[str, float]:
    """Median seconds of each contender, run in turns after one warm-up run each.

    ``warm`` gives the seconds of warm-up runs already made. A contender
    whose warm-up took over 2 s counts it as its only run (the benchmark
    stays within minutes).
    """
    live = {name: fn for name, fn in contenders.items() if fn is not None}
    warm = warm or {}
    first = {name: warm.get(name) or _once(fn, 1) for name, fn in live.items()}
    times = {name: [t] for name, t in first.items() if t > 2.0}
    turns = {name: fn for name, fn in live.items() if name not in times}
    inner = 1
    if turns and min(first[name] for name in turns) < 1e-3:  # tiny calls: loop in each turn
        inner = max(1, int(2e-3 / max(min(first[name] for name in turns), 1e-7)))
    for name in turns:
        times[name] = []
    for _ in range(repeats):
        for name, fn in turns.items():
            times[name].append(_once(fn, inner))
    return {name: statistics.median(t) for name, t in times.items()}


def _once(fn: Fn, inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def peak_extra_mb(fn: Fn) -> tuple[float, float]:
    """Peak memory allocated during one call (MB), and the call's seconds."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak / 2**20, seconds


def large_cases(x: np.ndarray, other: np.ndarray, labels: np.ndarray) -> dict:
    """kernel -> (expfam call, scipy call or composite, torch call or None)."""
    t = tq = tl = None
    if torch is not None:
        t, tq, tl = torch.from_numpy(x), torch.from_numpy(other), torch.from_numpy(labels)
    rows = np.arange(len(x))

    def torch_or_none(fn: Fn) -> Fn | None:
        return fn if torch is not None else None

    return {
        "logsumexp": (
            lambda: es.logsumexp(x),
            lambda: sc.logsumexp(x, axis=-1),
            torch_or_none(lambda: torch.logsumexp(t, -1)),
        ),
        "softmax": (
            lambda: es.softmax(x),
            lambda: sc.softmax(x, axis=-1),
            torch_or_none(lambda: torch.softmax(t, -1)),
        ),
        "log_softmax": (
            lambda: es.log_softmax(x),
            lambda: sc.log_softmax(x, axis=-1),
            torch_or_none(lambda: torch.log_softmax(t, -1)),
        ),
        "cross_entropy": (
            lambda: es.cross_entropy(x, labels),
            lambda: sc.logsumexp(x, axis=-1) - x[rows, labels],
            torch_or_none(lambda: F.cross_entropy(t, tl, reduction="none")),
        ),
        "entropy": (
            lambda: es.entropy(x),
            lambda: scipy.stats.entropy(sc.softmax(x, axis=-1), axis=-1),
            torch_or_none(lambda: torch.distributions.Categorical(logits=t).entropy()),
        ),
        "kl_divergence": (
            lambda: es.kl_divergence(x, other),
            lambda: sc.rel_entr(sc.softmax(x, axis=-1), sc.softmax(other, axis=-1)).sum(-1),
            torch_or_none(
                lambda: F.kl_div(
                    torch.log_softmax(tq, -1),
                    torch.log_softmax(t, -1),
                    log_target=True,
                    reduction="none",
                ).sum(-1)
            ),
        ),
    }


def small_cases() -> dict:
    """name -> (expfam call, scipy call or composite)."""
    z, w = np.array([0.95, 0.99, 0.98]), np.array([0.1, -2.0, 3.4])
    p, q = expfam.Categorical(logits=z), expfam.Categorical(logits=w)
    xs = np.random.default_rng(1).standard_normal(10**6) * 5
    return {
        "softmax": (lambda: es.softmax(z), lambda: sc.softmax(z)),
        "log_softmax": (lambda: es.log_softmax(z), lambda: sc.log_softmax(z)),
        "logsumexp": (lambda: es.logsumexp(z), lambda: sc.logsumexp(z)),
        "cross_entropy": (lambda: es.cross_entropy(z, 2), lambda: -sc.log_softmax(z)[2]),
        "entropy": (lambda: es.entropy(z), lambda: scipy.stats.entropy(sc.softmax(z))),
        "kl_divergence": (
            lambda: es.kl_divergence(z, w),
            lambda: sc.rel_entr(sc.softmax(z), sc.softmax(w)).sum(),
        ),
        "Categorical.entropy K=3": (
            lambda: expfam.Categorical(logits=z).entropy(),
            lambda: scipy.stats.entropy(sc.softmax(z)),
        ),
        "Categorical.kl K=3": (
            lambda: p.kl(q),
            lambda: sc.rel_entr(sc.softmax(z), sc.softmax(w)).sum(),
        ),
        "sigmoid float": (lambda: es.sigmoid(0.3), lambda: sc.expit(0.3)),
        "softplus float": (lambda: es.softplus(0.3), lambda: np.logaddexp(0.0, 0.3)),
        "log_sigmoid float": (lambda: es.log_sigmoid(0.3), lambda: sc.log_expit(0.3)),
        "sigmoid 1e6": (lambda: es.sigmoid(xs), lambda: sc.expit(xs)),
        "softplus 1e6": (lambda: es.softplus(xs), lambda: np.logaddexp(0.0, xs)),
        "log_sigmoid 1e6": (lambda: es.log_sigmoid(xs), lambda: sc.log_expit(xs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small inputs only")
    parser.add_argument("--no-large", action="store_true", help="leave out the two largest")
    parser.add_argument("--large-only", action="store_true", help="the two largest only")
    parser.add_argument("--out", default=Path(__file__).parent / "results" / "bench_special.csv")
    args = parser.parse_args()
    with_quiet_peers()
    threads = es.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(
        f"expfam {expfam.__version__}, numpy {np.__version__}, "
        f"torch {torch.__version__ if torch else 'not installed'}, {threads} threads"
    )
    results: list[dict] = []
    if not args.quick:
        results += run_large(args.repeats, threads, not args.no_large, args.large_only)
        results += run_long_row()
    results += run_small(max(args.repeats, 7))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fields = sorted({key for row in results for key in row}, key=_FIELD_ORDER.index)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(results)
    out.with_suffix(".md").write_text(markdown(results))
    print(f"\nwrote {out} and {out.with_suffix('.md').name} (the README's tables)")


def _cell(value: object, fmt: str = "{:.2f}") -> str:
    return "-" if value is None or value != value else fmt.format(value)


def markdown(results: list[dict]) -> str:
    """The README's tables from one run."""
    lines = [
        "| input | kernel | expfam s | / torch | / scipy | / copy | / logsumexp "
        "| 2 threads / 1 | peak MB (output) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['input']} | `{r['kernel']}` | {r['expfam_s']:.3f} | {_cell(r['vs_torch'])} "
        f"| {_cell(r['vs_scipy'])} | {_cell(r['vs_copy'], '{:.1f}')} "
        f"| {_cell(r['vs_logsumexp'])} | {_cell(r['scaling'])} "
        f"| {r['expfam_peak_mb']:.0f} ({r['output_mb']:.0f}) |"
        for r in results
        if "vs_copy" in r
    ]
    lines += [
        "",
        "| one row of 10^7 float64 | expfam s | peak MB | scipy peak MB |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{r['kernel']}` | {r['expfam_s']:.2f} | {r['expfam_peak_mb']:.1f} "
        f"| {r['scipy_peak_mb']:.0f} |"
        for r in results
        if r["input"].startswith("1x")
    ]
    lines += ["", "| small input | expfam us | scipy us | / scipy |", "|---|---|---|---|"]
    lines += [
        f"| `{r['kernel']}` | {r['expfam_s'] * 1e6:.1f} | {r['scipy_s'] * 1e6:.1f} "
        f"| {r['vs_scipy']:.2f} |"
        for r in results
        if r["input"] == "small"
    ]
    return "\n".join(lines) + "\n"


_FIELD_ORDER = [
    "input", "kernel", "expfam_s", "scipy_s", "torch_s", "copy_s", "vs_scipy", "vs_torch",
    "vs_copy", "vs_logsumexp", "one_thread_s", "scaling", "expfam_peak_mb", "scipy_peak_mb",
    "output_mb",
]  # fmt: skip


def _ratio(a: float | None, b: float | None) -> float:
    return a / b if a is not None and b else math.nan


SWEEP = [(2000, 10), (2000, 1000), (1024, 5000), (256, 50000)]
LARGE = [((4096, 32000), np.float32), ((1024, 50000), np.float64)]


def sweep_inputs(large: bool, large_only: bool = False):
    """``(label, x)`` for every shape of the sweep, lazily (the large ones are GBs of work)."""
    cases = [] if large_only else [(s, d) for s in SWEEP for d in (np.float32, np.float64)]
    for shape, dtype in cases + (LARGE if large or large_only else []):
        rng = np.random.default_rng(0)
        x = (rng.standard_normal(shape) * 4).astype(dtype)
        yield f"{shape[0]}x{shape[1]} {np.dtype(dtype).name}", x


def run_large(
    repeats: int, threads: int, large: bool = True, large_only: bool = False
) -> list[dict]:
    header = (
        f"\n{'input':<19}{'kernel':<14}{'expfam s':>9}{'/scipy':>7}{'/torch':>7}{'/copy':>7}"
        f"{'/lse':>6}{'N/1thr':>7}{'peak MB':>9}{'scipy MB':>9}{'out MB':>8}"
    )
    print(header + "\n" + "-" * (len(header) - 1))
    results = []
    for label, x in sweep_inputs(large, large_only):
        other = np.roll(x, 1, axis=0) * x.dtype.type(0.9)
        labels = np.arange(len(x)) * 7 % x.shape[1]
        floor = np.empty_like(x)
        lse_s = None
        for kernel, (ours, theirs, torch_fn) in large_cases(x, other, labels).items():
            n = repeats
            (mem_ours, warm_ours), (mem_theirs, warm_theirs) = map(peak_extra_mb, (ours, theirs))
            t = timed_in_turns(
                {
                    "expfam": ours,
                    "scipy": theirs,
                    "torch": torch_fn,
                    "copy": lambda x=x, floor=floor: np.copyto(floor, x),
                },
                n,
                warm={"expfam": warm_ours, "scipy": warm_theirs},
            )
            one = math.nan
            if t["expfam"] < 2.0:  # (the slow float64 kernels: see the README's note)
                with es.set_num_threads(1):
                    one = timed_in_turns({"one": ours}, n, warm={"one": t["expfam"]})["one"]
            if kernel == "logsumexp":
                lse_s = t["expfam"]
            out_mb = (x.nbytes if kernel.endswith("softmax") else x.nbytes / x.shape[1]) / 2**20
            row = {
                "input": label,
                "kernel": kernel,
                "expfam_s": t["expfam"],
                "scipy_s": t["scipy"],
                "torch_s": t.get("torch"),
                "copy_s": t["copy"],
                "vs_scipy": _ratio(t["expfam"], t["scipy"]),
                "vs_torch": _ratio(t["expfam"], t.get("torch")),
                "vs_copy": _ratio(t["expfam"], t["copy"]),
                "vs_logsumexp": _ratio(t["expfam"], lse_s),
                "one_thread_s": one,
                "scaling": _ratio(t["expfam"], one),  # N threads over 1
                "expfam_peak_mb": mem_ours,
                "scipy_peak_mb": mem_theirs,
                "output_mb": out_mb,
            }
            results.append(row)
            print(
                f"{label:<19}{kernel:<14}{row['expfam_s']:>9.3f}{row['vs_scipy']:>7.2f}"
                f"{row['vs_torch']:>7.2f}{row['vs_copy']:>7.1f}{row['vs_logsumexp']:>6.2f}"
                f"{row['scaling']:>7.2f}{row['expfam_peak_mb']:>9.1f}"
                f"{row['scipy_peak_mb']:>9.1f}{out_mb:>8.1f}"
            )
    print(f"(/lse: time over expfam's logsumexp of the same array; N/1thr: N = {threads})")
    return results


def run_long_row() -> list[dict]:
    x = np.random.default_rng(2).standard_normal(10**7) * 4
    y = np.roll(x, 1) * 0.9
    print(f"\n{'one row of 10**7 float64':<28}{'expfam s':>9}{'peak MB':>9}{'scipy MB':>9}")
    results = []
    for kernel, ours, theirs in (
        ("softmax", lambda: es.softmax(x), lambda: sc.softmax(x)),
        ("log_softmax", lambda: es.log_softmax(x), lambda: sc.log_softmax(x)),
        ("logsumexp", lambda: es.logsumexp(x), lambda: sc.logsumexp(x)),
        ("cross_entropy", lambda: es.cross_entropy(x, 3), lambda: sc.logsumexp(x) - x[3]),
        ("entropy", lambda: es.entropy(x), lambda: scipy.stats.entropy(sc.softmax(x))),
        (
            "kl_divergence",
            lambda: es.kl_divergence(x, y),
            lambda: sc.rel_entr(sc.softmax(x), sc.softmax(y)).sum(),
        ),
    ):
        mem_ours, seconds = peak_extra_mb(ours)
        row = {
            "input": "1x10000000 float64",
            "kernel": kernel,
            "expfam_s": seconds,
            "expfam_peak_mb": mem_ours,
            "scipy_peak_mb": peak_extra_mb(theirs)[0],
            "output_mb": (x.nbytes if kernel.endswith("softmax") else 8) / 2**20,
        }
        results.append(row)
        print(
            f"{kernel:<28}{seconds:>9.3f}{row['expfam_peak_mb']:>9.1f}{row['scipy_peak_mb']:>9.1f}"
        )
    return results


def run_small(repeats: int) -> list[dict]:
    print(f"\n{'small input':<28}{'expfam us':>10}{'scipy us':>10}{'/scipy':>8}")
    results = []
    for name, (ours, theirs) in small_cases().items():
        t = timed_in_turns({"expfam": ours, "scipy": theirs}, repeats)
        row = {
            "input": "small",
            "kernel": name,
            "expfam_s": t["expfam"],
            "scipy_s": t["scipy"],
            "vs_scipy": t["expfam"] / t["scipy"],
        }
        results.append(row)
        print(
            f"{name:<28}{t['expfam'] * 1e6:>10.2f}{t['scipy'] * 1e6:>10.2f}{row['vs_scipy']:>8.2f}"
        )
    return results


if __name__ == "__main__":
    main()
