"""Divergences of expfam.geometry against the numpy formula a user would write (run by hand).

Times every divergence on a batch of N = 10^5 pairs of K = 100 probabilities (medians of
a few repeats, all in one run) next to the naive numpy formula and, where scipy has one,
``scipy.special.rel_entr`` and ``scipy.spatial.distance.jensenshannon``. expfam is timed
twice: from probability arrays (validation and the logits included) and from
``Categorical`` points built once (what a loop over many divergences of the same points
pays). Then the accuracy of both on a sample, in ULPs against mpmath at 50+ digits
(``tests/geometry/divref.py``, the arrays taken as exact), for random pairs and for nearly
equal pairs
(q = p (1 + 1e-9 noise)), where the naive formulas cancel. Prints a table and writes
``benchmarks/results/bench_geometry.csv``.

    PYTHONPATH=.:tests:tests/geometry python benchmarks/bench_geometry.py [--n 100000] [--k 100]
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr

from expfam import Categorical
from expfam import geometry as g

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "geometry")]
import divref  # noqa: E402
import mpref  # noqa: E402
from _timing import median_seconds  # noqa: E402 (benchmarks/ is on sys.path as a script)

ALPHA, ORDER = 0.5, 0.7


def _power_sum(p, q, lam):
    return np.sum(p**lam * q ** (1.0 - lam), axis=-1)


def naive_chernoff(p, q, iterations: int = 40):
    """Golden-section search of max_l -log sum p^l q^(1-l), vectorized over rows."""
    lo, hi = np.zeros(p.shape[:-1]), np.ones(p.shape[:-1])
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(iterations):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        fa = -np.log(_power_sum(p, q, a[..., None]))
        fb = -np.log(_power_sum(p, q, b[..., None]))
        lo, hi = np.where(fa < fb, a, lo), np.where(fa < fb, hi, b)
    return -np.log(_power_sum(p, q, (0.5 * (lo + hi))[..., None]))


def _js_naive(p, q):
    m = 0.5 * (p + q)
    return 0.5 * (np.sum(p * np.log(p / m), -1) + np.sum(q * np.log(q / m), -1))


# name -> (expfam function of (p, q), naive numpy, scipy or None, mpmath reference)
CASES: dict[str, tuple[Callable, Callable, Callable | None, Callable]] = {
    "kl": (
        g.kl,
        lambda p, q: np.sum(p * np.log(p / q), -1),
        lambda p, q: np.sum(rel_entr(p, q), -1),
        divref.kl,
    ),
    "jeffreys": (
        g.jeffreys,
        lambda p, q: np.sum((p - q) * np.log(p / q), -1),
        None,
        divref.jeffreys,
    ),
    "jensen_shannon": (
        g.jensen_shannon,
        _js_naive,
        lambda p, q: jensenshannon(p, q, axis=-1) ** 2,
        divref.jensen_shannon,
    ),
    "jensen_shannon_distance": (
        g.jensen_shannon_distance,
        lambda p, q: np.sqrt(_js_naive(p, q)),
        lambda p, q: jensenshannon(p, q, axis=-1),
        lambda zp, zq: divref.jensen_shannon(zp, zq) ** 0.5,
    ),
    "hellinger": (
        g.hellinger,
        lambda p, q: np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, -1)),
        None,
        divref.hellinger,
    ),
    "bhattacharyya_coefficient": (
        g.bhattacharyya_coefficient,
        lambda p, q: np.sum(np.sqrt(p * q), -1),
        None,
        divref.bhattacharyya_coefficient,
    ),
    "bhattacharyya_distance": (
        g.bhattacharyya_distance,
        lambda p, q: -np.log(np.sum(np.sqrt(p * q), -1)),
        None,
        divref.bhattacharyya_distance,
    ),
    f"alpha_divergence({ALPHA})": (
        lambda p, q: g.alpha_divergence(p, q, ALPHA),
        lambda p, q: 4.0 / (1 - ALPHA**2) * (1.0 - _power_sum(p, q, (1 - ALPHA) / 2)),
        None,
        lambda zp, zq: divref.alpha_divergence(zp, zq, ALPHA),
    ),
    f"renyi_divergence({ORDER})": (
        lambda p, q: g.renyi_divergence(p, q, ORDER),
        lambda p, q: np.log(_power_sum(p, q, ORDER)) / (ORDER - 1.0),
        None,
        lambda zp, zq: divref.renyi_divergence(zp, zq, ORDER),
    ),
    f"tsallis_divergence({ORDER})": (
        lambda p, q: g.tsallis_divergence(p, q, ORDER),
        lambda p, q: (1.0 - _power_sum(p, q, ORDER)) / (1.0 - ORDER),
        None,
        lambda zp, zq: divref.tsallis_divergence(zp, zq, ORDER),
    ),
    "chernoff_information": (
        lambda p, q: g.chernoff_information(p, q).information,
        naive_chernoff,
        None,
        lambda zp, zq: divref.chernoff_information(zp, zq)[0],
    ),
}


def accuracy(name: str, ours, naive, reference, pairs) -> tuple[float, float]:
    out = []
    for fn in (ours, naive):
        errors = []
        for p, q in pairs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = np.asarray(fn(p[None], q[None])).reshape(-1)[0]
            exact = reference(divref.Probs(p), divref.Probs(q))
            errors.append(mpref.ulp_error(value, exact, np.float64))
        out.append(float(max(errors)))
    return out[0], out[1]


def run(n: int, k: int, repeats: int, sample: int) -> list[dict]:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(k), size=n)
    q = rng.dirichlet(np.ones(k), size=n)
    cp, cq = Categorical.from_probs(p), Categorical.from_probs(q)
    _ = cp.probs, cq.probs
    near_p = p[:sample]
    near_q = near_p * (1.0 + 1e-9 * rng.standard_normal(near_p.shape))
    near_q /= near_q.sum(axis=1, keepdims=True)
    random_pairs = list(zip(p[:sample], q[:sample], strict=True))
    near_pairs = list(zip(near_p, near_q, strict=True))
    results = []
    print(f"N = {n:,} pairs, K = {k} (float64); median of {repeats}; accuracy on {sample} pairs")
    header = (
        f"{'divergence':<28}{'expfam':>9}{'(points)':>9}{'naive':>9}{'scipy':>9}"
        f"{'ratio':>7}{'ulp ours':>10}{'ulp naive':>11}{'near: ours':>12}{'naive':>10}"
    )
    print(header)
    for name, (ours, naive, peer, reference) in CASES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ours = median_seconds(lambda ours=ours: ours(p, q), repeats)
            t_points = median_seconds(lambda ours=ours: ours(cp, cq), repeats)
            t_naive = median_seconds(lambda naive=naive: naive(p, q), repeats)
            t_peer = median_seconds(lambda peer=peer: peer(p, q), repeats) if peer else np.nan
        ulp_ours, ulp_naive = accuracy(name, ours, naive, reference, random_pairs)
        near_ours, near_naive = accuracy(name, ours, naive, reference, near_pairs)
        row = {
            "divergence": name,
            "expfam_ms": 1e3 * t_ours,
            "expfam_points_ms": 1e3 * t_points,
            "naive_ms": 1e3 * t_naive,
            "scipy_ms": 1e3 * t_peer,
            "ratio_to_naive": t_ours / t_naive,
            "ratio_points_to_naive": t_points / t_naive,
            "max_ulp_expfam": ulp_ours,
            "max_ulp_naive": ulp_naive,
            "near_max_ulp_expfam": near_ours,
            "near_max_ulp_naive": near_naive,
        }
        results.append(row)
        print(
            f"{name:<28}{row['expfam_ms']:9.0f}{row['expfam_points_ms']:9.0f}"
            f"{row['naive_ms']:9.0f}{row['scipy_ms']:9.0f}{row['ratio_to_naive']:7.2f}"
            f"{ulp_ours:10.1f}{ulp_naive:11.3g}{near_ours:12.1f}{near_naive:10.3g}"
        )
    print("times in ms; ratio = expfam from arrays / naive numpy; ulp = max error vs mpmath")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of pairs")
    parser.add_argument("--k", type=int, default=100, help="number of classes")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per row")
    parser.add_argument("--sample", type=int, default=8, help="pairs checked against mpmath")
    args = parser.parse_args()
    results = run(args.n, args.k, args.repeats, args.sample)
    out = ROOT / "benchmarks" / "results" / "bench_geometry.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(results[0]))
        writer.writeheader()
        for row in results:
            writer.writerow({k: f"{v:.4g}" if isinstance(v, float) else v for k, v in row.items()})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
