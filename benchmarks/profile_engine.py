"""Where the row engine's time goes on the inputs where it loses (issue 17's walls).

Run by hand (not by the tests), from the repository root, after the README's install::

    python benchmarks/profile_engine.py [--seconds S] [--out DIR]

Two parts, both on one thread, written to ``profile_engine.md`` (and printed):

1. **The primitives**, in ns per entry on a float64 block that stays in the L1
   cache (4096 entries, repeated), against their peers in the same run: the
   engine's ``exp`` (0.52 ULP, a 64-entry table; the rows' terms), its coarse
   ``exp`` (the float32 path, ``2**-41.5``), numpy's and torch's ``exp`` in
   float64 and in float32, and ``np.copyto``.
2. **A sampling profile** of each losing input (``perf record -e cpu-clock``
   on a process that calls the kernel in a loop, after its set-up): the share
   of the time in each engine function (the target clones of one function
   counted together), libm, the kernel's page clearing, and the rest. Needs
   Linux's ``perf``; without it (or where it may not sample) this part says
   so and is left out.

The engine's functions: ``seg_max``/``pack_max`` the row maximum;
``seg_fast``/``exp_block`` the exact shift, ``exp`` and the compensated sums;
``seg_dd``/``pack_dd`` the same in double-double (``exp`` to ``2**-58``);
``seg_write``/``pack_write`` the outputs; ``seg_fast_coarse`` and
``seg_write_coarse`` the float32 path; ``seg_kl_*``/``kl_group_passes`` KL's
passes; ``log1p_dd`` the double-double finish (libm's ``log1p`` its seed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import expfam
from expfam.special import _engine

try:
    import torch
except ImportError:  # a peer here, never a dependency
    torch = None

# (kernel, dtype, shape): the inputs of the README's sweep where the engine loses a goal
CASES = [
    ("softmax", "float64", (2000, 1000)),
    ("softmax", "float32", (2000, 1000)),
    ("log_softmax", "float32", (1024, 5000)),
    ("log_softmax", "float64", (2000, 10)),
    ("logsumexp", "float64", (2000, 10)),
    ("kl_divergence", "float64", (2000, 10)),
    ("kl_divergence", "float64", (1024, 5000)),
    ("logsumexp", "float64", (1024, 5000)),
]

CHILD = """
import sys, time
import numpy as np
import expfam
import expfam.special as es
expfam.set_num_threads(1)
kernel, dtype = sys.argv[1], sys.argv[2]
rows, cols, seconds = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rng = np.random.default_rng(0)
x = rng.standard_normal((rows, cols)).astype(dtype)
y = rng.standard_normal((rows, cols)).astype(dtype)
call = {
    "softmax": lambda: es.softmax(x),
    "log_softmax": lambda: es.log_softmax(x),
    "logsumexp": lambda: es.logsumexp(x),
    "kl_divergence": lambda: es.kl_divergence(x, y),
}[kernel]
call()
print("ready", flush=True)
end = time.perf_counter() + seconds
while time.perf_counter() < end:
    call()
"""


def per_entry_ns(fn, n: int, budget: float = 0.3) -> float:
    """Least time per entry over turns of repeated calls (each turn about budget / 5 s)."""
    fn()
    start = time.perf_counter()
    fn()
    one = max(time.perf_counter() - start, 1e-7)
    reps = max(1, int(budget / 5 / one))
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - start) / reps)
    return best / n * 1e9


def primitives() -> list[tuple[str, float]]:
    """ns per entry of the engine's exp and its peers on 4096 float64 entries in [-30, 0]."""
    n = 4096
    x = -np.random.default_rng(2).random(n) * 30.0
    x32 = x.astype(np.float32)
    out, out32 = np.empty_like(x), np.empty_like(x32)
    rows = [
        ("engine exp, float64 (0.52 ULP, table of 64)", lambda: _engine.exp(x, out)),
        ("engine coarse exp (float32 path, 2^-41.5)", lambda: _engine.exp(x, out, True)),
        ("numpy exp, float64", lambda: np.exp(x, out=out)),
        ("numpy exp, float32", lambda: np.exp(x32, out=out32)),
        ("np.copyto, float64", lambda: np.copyto(out, x)),
    ]
    if torch is not None:
        torch.set_num_threads(1)
        t, t32 = torch.from_numpy(x), torch.from_numpy(x32)
        o, o32 = torch.from_numpy(out), torch.from_numpy(out32)
        rows += [
            ("torch exp, float64", lambda: torch.exp(t, out=o)),
            ("torch exp, float32", lambda: torch.exp(t32, out=o32)),
        ]
    return [(name, per_entry_ns(fn, n)) for name, fn in rows]


def perf_usable() -> bool:
    if shutil.which("perf") is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run(
            ["perf", "record", "-e", "cpu-clock", "-o", f"{tmp}/p", "--", "true"],
            capture_output=True,
        )
    return probe.returncode == 0


def symbol_shares(report: str) -> dict[str, float]:
    """Percent per symbol from ``perf report --stdio --sort sym``, target clones merged."""
    shares: dict[str, float] = {}
    for line in report.splitlines():
        found = re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(\S+)", line)
        if not found:
            continue
        name = re.sub(
            r"\.(arch_x86_64_v\d|default|part\.\d+|isra\.\d+|constprop\.\d+)", "", found[2]
        )
        name = "kernel: " + name if "[k]" in line else name
        shares[name] = shares.get(name, 0.0) + float(found[1])
    return shares


def profile(kernel: str, dtype: str, shape: tuple[int, int], seconds: float) -> dict[str, float]:
    """Shares of the time of a process calling the kernel in a loop (after its set-up)."""
    args = [kernel, dtype, str(shape[0]), str(shape[1]), str(seconds + 2)]
    with tempfile.TemporaryDirectory() as tmp:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        child.stdout.readline()  # "ready": the set-up is done
        subprocess.run(
            [
                "perf",
                "record",
                "-e",
                "cpu-clock",
                "-F",
                "2000",
                "-p",
                str(child.pid),
                "-o",
                f"{tmp}/perf.data",
                "--",
                "sleep",
                str(seconds),
            ],
            capture_output=True,
            check=True,
        )
        child.wait()
        report = subprocess.run(
            ["perf", "report", "-i", f"{tmp}/perf.data", "--stdio", "--sort", "sym"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return symbol_shares(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results")))
    args = parser.parse_args()
    expfam.set_num_threads(1)
    lines = ["## The primitives (one thread, ns per entry, 4096 entries in L1)", ""]
    lines += ["| primitive | ns per entry |", "|---|---|"]
    lines += [f"| {name} | {ns:.2f} |" for name, ns in primitives()]
    lines += ["", "## Where the time goes (one thread, perf cpu-clock samples)", ""]
    if not perf_usable():
        lines.append("perf is not installed or may not sample here: left out.")
    else:
        for kernel, dtype, shape in CASES:
            shares = profile(kernel, dtype, shape, args.seconds)
            top = [kv for kv in sorted(shares.items(), key=lambda kv: -kv[1])[:8] if kv[1] >= 1.0]
            rest = 100.0 - sum(share for _, share in top)
            cells = ", ".join(f"`{name}` {share:.0f}%" for name, share in top)
            lines.append(
                f"- {kernel} {shape[0]}x{shape[1]} {dtype}: {cells}, the rest {rest:.0f}%"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "profile_engine.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
