"""expfam's portable tier on a GPU against torch's and JAX's own functions: speed and accuracy.

Run by hand on a machine with a CUDA GPU, from the repository root::

    PYTHONPATH=. python benchmarks/bench_device.py [--repeats N] [--rows R] [--classes K]

For each kernel (softmax, log_softmax, logsumexp, cross_entropy, entropy, KL,
sigmoid, softplus) on a float32 batch of ``R x K`` logits (default 4096 x
32000, the issue's LLM-head shape) it times expfam on torch CUDA tensors, on
CuPy arrays and on JAX GPU arrays against torch's and JAX's own function (the
median over ``--repeats`` synchronized calls), and measures the error of each
on the adversarial rows of ``tests/backends`` (float32 and float64) against
mpmath, in ULPs. Goal (issue 19): at most 1.5x torch's own time with expfam's
accuracy bound (4 ULP) held. Writes ``benchmarks/results/bench_device.csv``.

Without a GPU (or without torch built with CUDA) it prints why and exits 0;
CuPy and JAX columns are left out when those libraries or their GPU builds
are missing.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import expfam.special as es

ADVERSARIAL = {
    "log_softmax_near_zero": [0.0, -40.0],
    "spread_37": [18.005400484492696, -18.77871713665778, -17.35558965707122, -18.8873637521092],
    "huge_1000": [1000.0, 1001.0, 1002.0],
    "dominant_among_1e3": [30.0] + [0.0] * 999,
}


def gpu_available() -> str | None:
    """None if torch sees a CUDA device, else the reason why not."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} sees no CUDA device"
    return None


def median_synced(fn: Callable[[], object], sync: Callable[[], None], repeats: int) -> float:
    """Median seconds of ``fn`` over ``repeats`` calls, each followed by ``sync``."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def torch_cases(rows: int, classes: int) -> dict:
    import torch

    gen = torch.Generator(device="cuda").manual_seed(0)
    z = torch.randn(rows, classes, device="cuda", generator=gen) * 4
    zq = torch.randn(rows, classes, device="cuda", generator=gen) * 4
    y = torch.randint(0, classes, (rows,), device="cuda", generator=gen)
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
            lambda: torch.distributions.Categorical(logits=z).entropy(),
        ),
        "kl_divergence": (
            lambda: es.kl_divergence(z, zq),
            lambda: tf.kl_div(
                torch.log_softmax(zq, -1),
                torch.log_softmax(z, -1),
                log_target=True,
                reduction="none",
            ).sum(-1),
        ),
        "sigmoid": (lambda: es.sigmoid(z), lambda: torch.sigmoid(z)),
        "softplus": (lambda: es.softplus(z), lambda: tf.softplus(z)),
    }


def accuracy(namespace: Callable, kernel: str, dtype: str) -> float:
    """Worst ULP error of expfam's kernel on the adversarial rows, in ``namespace``'s arrays."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import mpref

    worst = 0.0
    for row in ADVERSARIAL.values():
        x = np.asarray(row, dtype=dtype)
        out = getattr(es, kernel)(namespace(x))
        got = np.asarray(out.cpu() if hasattr(out, "cpu") else out, dtype=np.float64)
        references = {
            "softmax": mpref.softmax_ref,
            "log_softmax": mpref.log_softmax_ref,
            "logsumexp": lambda v: mpref.logsumexp_ref(v)[0],
            "entropy": mpref.entropy_ref,
        }
        ref = references[kernel](x)
        errors = [
            mpref.ulp_error(c, e, np.dtype(dtype))
            for c, e in zip(np.ravel(got), np.ravel(np.asarray(ref, dtype=object)), strict=True)
        ]
        worst = max(worst, *errors)
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--classes", type=int, default=32000)
    args = parser.parse_args()
    reason = gpu_available()
    if reason is not None:
        print(f"bench_device: skipped, no GPU ({reason})")
        return 0
    import torch

    results = []
    sync = torch.cuda.synchronize
    for name, (ours, theirs) in torch_cases(args.rows, args.classes).items():
        t_ours = median_synced(ours, sync, args.repeats)
        t_theirs = median_synced(theirs, sync, args.repeats)
        results.append(("torch-cuda", name, t_ours, t_theirs, t_ours / t_theirs))
    torch_times = {name: peer for _, name, _, peer, _ in results}
    results += cupy_results(args, torch_times)
    results += jax_results(args)
    print(f"{'backend':<11} {'kernel':<14} {'expfam ms':>10} {'peer ms':>9} {'ratio':>6}")
    for backend, name, a, b, r in results:
        print(f"{backend:<11} {name:<14} {a * 1e3:10.3f} {b * 1e3:9.3f} {r:6.2f}")
    errors = []
    for kernel in ("softmax", "log_softmax", "logsumexp", "entropy"):
        for dtype in ("float32", "float64"):
            worst = accuracy(lambda x: torch.from_numpy(x).cuda(), kernel, dtype)
            errors.append((kernel, dtype, worst))
            print(f"accuracy torch-cuda {kernel:<12} {dtype}: {worst:.2f} ULP (bound 4)")
    out = Path(__file__).parent / "results" / "bench_device.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["backend", "kernel", "expfam_s", "peer_s", "ratio"])
        writer.writerows(results)
        writer.writerows([("accuracy-ulp", k, d, w, math.nan) for k, d, w in errors])
    print(f"wrote {out}")
    return 0


def jax_results(args: argparse.Namespace) -> list:
    """JAX GPU timings (jitted, expfam against jax.nn), or none without a JAX GPU."""
    try:
        import jax
    except ImportError:
        return []
    if not any(d.platform == "gpu" for d in jax.devices()):
        print("bench_device: JAX has no GPU device; JAX columns left out")
        return []
    z = jax.random.normal(jax.random.key(0), (args.rows, args.classes)) * 4
    pairs = {
        "softmax": (jax.jit(es.softmax), jax.jit(jax.nn.softmax)),
        "log_softmax": (jax.jit(es.log_softmax), jax.jit(jax.nn.log_softmax)),
        "logsumexp": (jax.jit(es.logsumexp), jax.jit(lambda x: jax.nn.logsumexp(x, -1))),
    }
    out = []
    for name, (ours, theirs) in pairs.items():
        t_ours = median_synced(lambda f=ours: f(z).block_until_ready(), _nothing, args.repeats)
        t_theirs = median_synced(lambda f=theirs: f(z).block_until_ready(), _nothing, args.repeats)
        out.append(("jax-gpu", name, t_ours, t_theirs, t_ours / t_theirs))
    return out


def cupy_results(args: argparse.Namespace, torch_times: dict[str, float]) -> list:
    """expfam on CuPy arrays, against torch's own function (CuPy has no softmax of its own)."""
    try:
        import cupy
    except ImportError:
        print("bench_device: CuPy is not installed; CuPy rows left out")
        return []
    z = 4 * cupy.random.default_rng(0).standard_normal((args.rows, args.classes), dtype="float32")
    sync = cupy.cuda.Device().synchronize
    out = []
    for name in ("softmax", "log_softmax", "logsumexp", "entropy"):
        t = median_synced(lambda k=name: getattr(es, k)(z), sync, args.repeats)
        out.append(("cupy", name, t, torch_times[name], t / torch_times[name]))
    return out


def _nothing() -> None:
    """A no-op synchronization (JAX's ``block_until_ready`` already waits)."""


if __name__ == "__main__":
    sys.exit(main())
