"""Speed of expfam's elementwise kernels against scipy's ufuncs and torch, in one run.

Run by hand (not by the tests), from the repository root::

    PYTHONPATH=. python benchmarks/bench_elementwise.py [--repeats N]

For each kernel, on a Python float and on 10**3 and 10**6 values of float64
and of float32, the median time over ``--repeats`` turns (contenders
interleaved, as in ``bench_special.py``) and its ratios to the peers. The
ufunc peer is ``scipy.special.expit`` for ``sigmoid``,
``scipy.special.log_expit`` for ``log_sigmoid``, ``np.logaddexp(0, x)`` for
``softplus``, ``scipy.special.logit`` for ``logit`` and
``np.log(-np.expm1(x))`` for ``log1mexp`` (scipy has none); the torch peer
(CPU, as many threads as expfam's ``get_num_threads()``) is
``torch.sigmoid``, ``F.logsigmoid``, ``F.softplus``, ``torch.logit`` and
``torch.log(-torch.expm1(x))``, on tensors sharing the arrays' memory (none
for a Python float). Goals (issue 17): at most 2x the ufunc on a float, at
most 1.0x on 10**6 floats. The 10**6 cases also run, as ``... 1thr``, on
one expfam thread (and one torch thread) against the single-threaded ufunc.
Writes ``benchmarks/results/bench_elementwise.csv``. About a minute.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import scipy.special as sc
from _timing import with_quiet_peers  # benchmarks/ is on sys.path when run as a script

import expfam.special as es
from benchmarks.bench_special import timed_in_turns

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # torch is a peer here, never a dependency
    torch = None

# name -> (expfam kernel, ufunc peer, torch peer or None, input sampler)
KERNELS = {
    "sigmoid": (es.sigmoid, sc.expit, "sigmoid", lambda rng, n: rng.standard_normal(n) * 5),
    "log_sigmoid": (
        es.log_sigmoid,
        sc.log_expit,
        "logsigmoid",
        lambda rng, n: rng.standard_normal(n) * 5,
    ),
    "softplus": (
        es.softplus,
        lambda x: np.logaddexp(0.0, x),
        "softplus",
        lambda rng, n: rng.standard_normal(n) * 5,
    ),
    "logit": (es.logit, sc.logit, "logit", lambda rng, n: rng.uniform(0.0, 1.0, n)),
    "log1mexp": (
        es.log1mexp,
        lambda x: np.log(-np.expm1(x)),
        "log1mexp",
        lambda rng, n: -rng.exponential(2.0, n),
    ),
}
SCALAR = {"sigmoid": 0.3, "log_sigmoid": 0.3, "softplus": 0.3, "logit": 0.3, "log1mexp": -0.3}


def _torch_call(which: str, t):
    if torch is None:
        return None
    fn = {
        "sigmoid": torch.sigmoid,
        "logsigmoid": F.logsigmoid,
        "softplus": F.softplus,
        "logit": torch.logit,
        "log1mexp": lambda v: torch.log(-torch.expm1(v)),
    }[which]
    return lambda: fn(t)


def cases() -> dict:
    """case -> (expfam call, ufunc call, torch call or None, one_thread)."""
    rng = np.random.default_rng(1)
    out = {}
    for name, (ours, ufunc, which, sample) in KERNELS.items():
        w = SCALAR[name]
        out[f"{name} float"] = (lambda f=ours, w=w: f(w), lambda f=ufunc, w=w: f(w), None, False)
        for n, label in ((10**3, "1e3"), (10**6, "1e6")):
            for dtype in (np.float64, np.float32):
                x = sample(rng, n).astype(dtype)
                t = torch.from_numpy(x) if torch is not None else None
                key = f"{name} {label} {np.dtype(dtype).name}"
                mine = (lambda f=ours, x=x: f(x), lambda f=ufunc, x=x: f(x))
                out[key] = (*mine, _torch_call(which, t), False)
                if n == 10**6:
                    out[f"{key} 1thr"] = (*mine, _torch_call(which, t), True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--out", default=Path(__file__).parent / "results" / "bench_elementwise.csv"
    )
    args = parser.parse_args()
    with_quiet_peers()
    threads = es.get_num_threads()
    print(f"expfam threads: {threads} (torch the same; '1thr': one each)")
    head = f"{'expfam us':>11}{'ufunc us':>11}{'torch us':>11}{'/ufunc':>8}{'/torch':>8}"
    print(f"{'case':<32}{head}")
    results = []
    for name, (ours, theirs, tor, one) in cases().items():
        n = 1 if one else threads
        if torch is not None:
            torch.set_num_threads(n)
        with es.set_num_threads(n):
            t = timed_in_turns({"expfam": ours, "ufunc": theirs, "torch": tor}, args.repeats)
        row = {
            "case": name,
            "expfam_us": t["expfam"] * 1e6,
            "ufunc_us": t["ufunc"] * 1e6,
            "torch_us": t["torch"] * 1e6 if "torch" in t else float("nan"),
            "vs_ufunc": t["expfam"] / t["ufunc"],
            "vs_torch": t["expfam"] / t["torch"] if "torch" in t else float("nan"),
        }
        results.append(row)
        print(
            f"{name:<32}{row['expfam_us']:>11.2f}{row['ufunc_us']:>11.2f}{row['torch_us']:>11.2f}"
            f"{row['vs_ufunc']:>8.2f}{row['vs_torch']:>8.2f}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)


if __name__ == "__main__":
    main()
