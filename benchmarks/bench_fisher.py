"""O(K) Fisher geometry of the categorical family at K = 10^6 (run by hand).

Times ``Categorical.fisher_vp`` and ``Categorical.natural_gradient`` in logits
and natural coordinates for one distribution over a million classes (medians
of several repeats), checks the results against each other
(``F F^+ F v = F v``), and prints what a dense K x K Fisher matrix would cost
instead. Also times a batch of 64 rows of K = 16384.

    python benchmarks/bench_fisher.py [--k 1000000] [--repeats 7]

(with expfam installed, e.g. ``pip install -e .``, or ``PYTHONPATH=.`` from the repository root).
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import median_seconds  # benchmarks/ is on sys.path when run as a script

from expfam import Categorical


def run(k: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    d = Categorical(logits=rng.normal(scale=3.0, size=k))
    v_logits = rng.normal(size=k)
    v_natural = rng.normal(size=k - 1)
    _ = d.probs, d.natural  # the lazy conversions, timed separately below

    rows = [
        ("softmax (probs, one conversion)", lambda: Categorical(logits=d.logits).probs),
        ("fisher_vp, logits", lambda: d.fisher_vp(v_logits, coords="logits")),
        ("fisher_vp, natural", lambda: d.fisher_vp(v_natural)),
        ("natural_gradient, logits", lambda: d.natural_gradient(v_logits, coords="logits")),
        ("natural_gradient, natural", lambda: d.natural_gradient(v_natural)),
    ]
    print(f"K = {k:,} (float64), median of {repeats} repeats")
    for name, fn in rows:
        print(f"  {name:<34} {1e3 * median_seconds(fn, repeats):9.2f} ms")

    fv = d.fisher_vp(v_logits, coords="logits")
    back = d.fisher_vp(d.natural_gradient(fv, coords="logits"), coords="logits")
    error = np.max(np.abs(back - fv)) / np.max(np.abs(fv))
    print(f"  check F F^+ (F v) = F v: max relative error {error:.1e}")
    dense_gib = 8.0 * k * k / 2**30
    print(f"  a dense K x K Fisher would need {dense_gib:,.0f} GiB (never built here)")

    batch = Categorical(logits=rng.normal(size=(64, 16384)))
    g = rng.normal(size=(64, 16384))
    seconds = median_seconds(lambda: batch.natural_gradient(g, coords="logits"), repeats)
    print(f"  natural_gradient, logits, batch (64, 16384): {1e3 * seconds:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=1_000_000, help="number of classes")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per row")
    args = parser.parse_args()
    run(args.k, args.repeats)


if __name__ == "__main__":
    main()
