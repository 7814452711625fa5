"""Scoring logits larger than a worker's memory with the Dask tier.

A language model's next-token logits over an evaluation set are the large job
of this toolkit. This script makes such a set, ``--gb`` gigabytes of float32
logits over a vocabulary of ``--vocab`` classes with labels drawn from
``softmax(0.4 z)`` (an overconfident model), and scores it on a
``dask.distributed.LocalCluster`` whose workers may hold ``--memory-limit``
each (1 GiB by default):

- the NLL (mean cross-entropy) and the mean entropy, one pass;
- the top-label ECE (15 bins), one pass;
- the temperature fit, one pass per Newton step plus two.

The logits come from one of two sources:

- ``--source npy`` (default): written first to a ``.npy`` file in ``--dir``,
  then read back block by block through ``np.load(mmap_mode="r")``;
- ``--source random``: generated lazily by ``dask.array.random``, block by
  block on the workers, never stored anywhere (the labels too, from the
  logits' block).

It prints the throughput of each metric in GB/s of logits read, against the
in-memory numpy tier on a subset of ``--subset-mb`` megabytes in this
process, and the peak resident memory (``ru_maxrss``) of this process and of
each worker. Point it at a running cluster with ``--address
tcp://host:8786`` instead of a local one (the workers must see ``--dir``).

    PYTHONPATH=. python benchmarks/bench_dask.py [--gb 4] [--source random]

Writes ``benchmarks/results/bench_dask.csv``.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import resource
import sys
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

from expfam import learn, special

TRUE_BETA = 0.4  # labels ~ softmax(TRUE_BETA z): the fit should find about this


def peak_rss_mb() -> float:
    """Peak resident memory of the calling process, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def draw_block(rows: int, vocab: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits (rows, vocab) float32 and labels drawn from softmax(TRUE_BETA z) (Gumbel-max)."""
    rng = np.random.default_rng(seed)
    z = (3.0 * rng.standard_normal((rows, vocab))).astype(np.float32)
    gumbel = rng.gumbel(size=(rows, vocab)).astype(np.float32)
    return z, np.argmax(TRUE_BETA * z + gumbel, axis=1)


def write_npy(directory: Path, n: int, vocab: int, rows: int) -> tuple[Path, Path]:
    """The logits and labels as .npy files, written block by block (never all in memory)."""
    directory.mkdir(parents=True, exist_ok=True)
    logits_path, labels_path = directory / "logits.npy", directory / "labels.npy"
    if logits_path.exists() and np.load(logits_path, mmap_mode="r").shape == (n, vocab):
        return logits_path, labels_path
    z = np.lib.format.open_memmap(logits_path, mode="w+", dtype=np.float32, shape=(n, vocab))
    y = np.lib.format.open_memmap(labels_path, mode="w+", dtype=np.int64, shape=(n,))
    for i, start in enumerate(range(0, n, rows)):
        stop = min(start + rows, n)
        z[start:stop], y[start:stop] = draw_block(stop - start, vocab, i)
    z.flush()
    y.flush()
    del z, y
    return logits_path, labels_path


def _load(path: str, start: int, stop: int) -> np.ndarray:
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def from_npy(path: Path, rows: int) -> da.Array:
    """A dask array reading ``rows`` rows of the .npy file per block, on the worker."""
    shape = np.load(path, mmap_mode="r").shape
    dtype = np.load(path, mmap_mode="r").dtype
    blocks = [
        da.from_delayed(
            dask.delayed(_load)(str(path), start, min(start + rows, shape[0])),
            (min(start + rows, shape[0]) - start, *shape[1:]),
            dtype=dtype,
        )
        for start in range(0, shape[0], rows)
    ]
    return da.concatenate(blocks)


def lazily_random(n: int, vocab: int, rows: int) -> tuple[da.Array, da.Array]:
    """Logits from ``dask.array.random`` and labels drawn from ``softmax(TRUE_BETA z)``
    block by block (Gumbel-max, seeded by the block): generated on the workers when a
    block is needed, never stored."""
    z = 3.0 * da.random.default_rng(0).standard_normal((n, vocab), chunks=(rows, vocab))
    z = z.astype(np.float32)

    def labels(zb: np.ndarray, block_id: tuple[int, int] = (0, 0)) -> np.ndarray:
        gumbel = np.random.default_rng(block_id[0]).gumbel(size=zb.shape)
        return np.argmax(TRUE_BETA * zb + gumbel, axis=1)

    return z, z.map_blocks(labels, drop_axis=1, dtype=np.int64)


def metrics(z, y) -> dict[str, tuple[float, int]]:
    """Each metric's value and the passes over the logits it took, timed as ``time_<name>``."""
    out: dict[str, tuple[float, int]] = {}
    start = time.perf_counter()
    nll, entropy = special.cross_entropy(z, y).mean(), special.entropy(z).mean()
    if isinstance(z, da.Array):
        nll, entropy = dask.compute(nll, entropy)
    out["nll + entropy"] = (float(nll), 1, time.perf_counter() - start)
    out["entropy"] = (float(entropy), 0, 0.0)
    start = time.perf_counter()
    ece = learn.expected_calibration_error(logits=z, labels=y)
    out["ece"] = (ece, 1, time.perf_counter() - start)
    start = time.perf_counter()
    fit = learn.fit_temperature(z, y)
    out["fit_temperature"] = (fit.beta, fit.iterations + 2, time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=4.0, help="size of the logits (float32)")
    parser.add_argument("--vocab", type=int, default=50_000)
    parser.add_argument("--chunk-mb", type=float, default=16.0, help="logits per block")
    parser.add_argument("--source", choices=["npy", "random"], default="npy")
    parser.add_argument("--dir", type=Path, default=Path("benchmarks/results/dask-data"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GiB")
    parser.add_argument("--address", default=None, help="a running scheduler instead")
    parser.add_argument("--subset-mb", type=float, default=256.0, help="numpy-tier subset")
    args = parser.parse_args()

    row_bytes = 4 * args.vocab
    n = max(1, int(args.gb * 1e9 // row_bytes))
    rows = max(1, int(args.chunk_mb * 1e6 // row_bytes))
    gb = n * row_bytes / 1e9
    print(f"logits: {n} x {args.vocab} float32 = {gb:.2f} GB, blocks of {rows} rows")

    if args.source == "npy":
        start = time.perf_counter()
        logits_path, labels_path = write_npy(args.dir, n, args.vocab, rows)
        print(f"wrote {logits_path} in {time.perf_counter() - start:.1f} s")
        z, y = from_npy(logits_path, rows), np.load(labels_path)
    else:
        z, y = lazily_random(n, args.vocab, rows)

    root = str(Path(__file__).resolve().parents[1])  # workers import this checkout's expfam
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    if args.address:
        client, cluster = Client(args.address), None
    else:
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            memory_limit=args.memory_limit,
            dashboard_address=":0",
        )
        client = Client(cluster)
    try:
        client.run(lambda: __import__("expfam").special.softmax([0.0, 1.0]))  # warm the workers
        scored = metrics(z, y)
        workers = client.run(peak_rss_mb)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    # The numpy tier, in memory, on a subset.
    m = min(n, max(1, int(args.subset_mb * 1e6 // row_bytes)))
    if args.source == "npy":
        zs, ys = np.array(np.load(logits_path, mmap_mode="r")[:m]), y[:m]
    else:
        zs, ys = dask.compute(z[:m], y[:m], scheduler="threads")
    subset = metrics(zs, ys)
    sub_gb = m * row_bytes / 1e9

    rows_out = []
    print(f"\n{'metric':<18}{'dask value':>14}{'passes':>8}{'dask GB/s':>11}{'numpy GB/s':>12}")
    for name, (value, passes, seconds) in scored.items():
        if not passes:
            print(f"{name:<18}{value:>14.6f}")
            continue
        _, sub_passes, sub_seconds = subset[name]
        rate = passes * gb / seconds
        sub_rate = sub_passes * sub_gb / sub_seconds
        print(f"{name:<18}{value:>14.6f}{passes:>8}{rate:>11.3f}{sub_rate:>12.3f}")
        rows_out.append([name, value, passes, seconds, rate, sub_rate])
    print(
        f"\npeak RSS: this process {peak_rss_mb():.0f} MB (numpy subset included); workers "
        + ", ".join(f"{v:.0f} MB" for v in workers.values())
        + f" (limit {args.memory_limit} each); logits {gb * 1e3:.0f} MB"
    )
    out = Path(__file__).parent / "results" / "bench_dask.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["metric", "value", "passes", "seconds", "dask_gb_s", "numpy_gb_s"])
        writer.writerows(rows_out)
    print(f"wrote {out}")
    if math.isnan(scored["nll + entropy"][0]):
        sys.exit(1)


if __name__ == "__main__":
    main()
