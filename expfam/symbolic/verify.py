"""The runner behind ``expfam verify``: discover derivations, run their checks, report.

:func:`run_verify` discovers every module in the given folders (as pytest
discovers tests; a path given twice runs once), calls each module's
``checks()``, runs the checks on several processes (one module per task; the
report keeps the modules' order), prints progress and a table, optionally
writes the table as JSON, and returns non-zero if any check fails. A module
that fails to import is a failing row; the others still run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from expfam._discovery import describe_folder, load_module, module_files
from expfam.symbolic.check import IDENTITY_DIGITS, IDENTITY_POINTS, Check, CheckResult, run_checks

__all__ = ["LEGEND", "format_table", "run_verify"]

LEGEND = """\
verdict  proved: sympy reduced derived - closed_form to 0
         tested at N points (D digits): it could not, but both sides agree to D digits at N
           random exact points (rationals with large prime denominators): evidence, not proof
         false: a point where the two sides differ (the counterexample is printed)
         unproved: neither;  -: no closed form, the numeric comparison only
         timed out: stopped by --timeout;  error: the check is written wrongly or raised
err      worst over the points of |numeric - symbolic| / (|symbolic| + (atol + 2.2e-308) / rtol):
           the relative error, with a floor near 0; a check passes where err <= its rtol;
           '>=1' means the values differ by their own size or more (or the code warned)"""


@dataclass(frozen=True)
class _Options:
    """What every module's run shares: selection, sampling, time limit."""

    pattern: str | None = None
    points: int | None = None
    seed: int = 0
    timeout: float | None = None

    def selects(self, derivation: str) -> Callable[[Check], bool] | None:
        if self.pattern is None:
            return None
        pattern = self.pattern.lower()
        return lambda check: pattern in f"{derivation}.{check.name}".lower()


def _jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as the strings "inf", "-inf", "nan" (strict JSON)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


def _run_module(file: Path, options: _Options) -> list[CheckResult]:
    """Load ``file`` and run its (selected) checks; a module that cannot load is one failed row."""
    start = time.perf_counter()
    try:
        module = load_module(file)
        if not hasattr(module, "checks"):
            raise AttributeError(f"{file.name} defines no checks() function")
        checks = list(module.checks())
    except Exception as exc:
        failed = CheckResult(file.stem, "<load>", "module imports and builds its checks")
        failed.ok = False
        failed.verdict = "error"
        failed.message = f"{type(exc).__name__}: {exc}"
        failed.seconds = time.perf_counter() - start
        return [failed]
    return run_checks(
        checks,
        file.stem,
        points=options.points,
        seed=options.seed,
        select=options.selects(file.stem),
        timeout=options.timeout,
    )


def _results_in_order(
    files: Sequence[Path], options: _Options, jobs: int
) -> Iterator[tuple[Path, list[CheckResult]]]:
    """Each module's results, in the order of ``files``, computed on ``jobs`` processes."""
    if jobs <= 1:
        for file in files:
            yield file, _run_module(file, options)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_run_module, file, options) for file in files]
        for file, future in zip(files, futures, strict=True):
            yield file, future.result()


def _error_text(error: float) -> str:
    return f"{error:.1e}" if error < 1 else ">=1"


def _progress(result: CheckResult) -> None:
    status = "ok" if result.ok else "FAIL"
    print(
        f"  {status:4} {result.derivation}.{result.name}"
        f"  [{result.verdict}; {result.points} pts; err {_error_text(result.worst_error)};"
        f" {result.seconds:.2f} s]",
        flush=True,
    )
    if not result.ok:
        if result.message:
            print("       " + result.message.strip().replace("\n", "\n       "))
        for failure in result.failures:
            print("       " + failure.describe())


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(results: Sequence[CheckResult]) -> str:
    """The results as a plain-text table, one row per check (:data:`LEGEND` explains it)."""
    header = ("derivation", "check", "claim", "verdict", "points", "err", "time", "")
    rows = [
        (
            r.derivation,
            r.name,
            _shorten(r.claim, 48),
            _shorten(r.verdict, 32),
            str(r.points),
            _error_text(r.worst_error),
            f"{r.seconds:.2f}s",
            "ok" if r.ok else "FAIL",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    head = "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))
    return "\n".join([head, "-" * len(head), *lines])


def run_verify(
    paths: Sequence[Path],
    json_path: str | None = None,
    *,
    pattern: str | None = None,
    points: int | None = None,
    seed: int = 0,
    timeout: float | None = None,
    jobs: int | None = None,
) -> int:
    """Run every derivation under ``paths``; print progress and a table; return the exit status.

    Parameters
    ----------
    paths
        Folders of derivation modules, or single modules; a module reached
        twice runs once.
    json_path
        Also write the table (with failing points and counterexamples) here.
    pattern
        Run only the checks whose ``derivation.check`` name contains it
        (case-insensitive).
    points
        Random points per check for the numeric comparison (default: each
        check's own).
    seed
        Seed of the random points: check i of a module draws from
        ``default_rng(i + seed * 2**32)``.
    timeout
        Seconds one check may take before it is stopped and reported as
        timed out (where the platform has SIGALRM).
    jobs
        Processes to run modules on (default: the number of CPUs).

    Returns
    -------
    int
        0 if every selected check passed, 1 if any failed or none was
        selected, 2 if a path does not exist.
    """
    start = time.perf_counter()
    try:
        files = list(dict.fromkeys(f.resolve() for p in paths for f in module_files(p)))
    except (FileNotFoundError, ValueError) as exc:
        print(f"expfam verify: {exc}", file=sys.stderr)
        return 2
    options = _Options(pattern, points, seed, timeout)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    where = ", ".join(describe_folder(p) for p in dict.fromkeys(paths))
    print(f"expfam verify: {len(files)} derivation modules from {where}", flush=True)
    print(
        f"  identity tests at {IDENTITY_POINTS} points ({IDENTITY_DIGITS} digits); seed {seed};"
        f" {jobs} process{'es' if jobs > 1 else ''}"
        + (f"; -k {pattern!r}" if pattern else "")
        + (f"; timeout {timeout:g} s" if timeout else ""),
        flush=True,
    )
    print(LEGEND, flush=True)
    results: list[CheckResult] = []
    for file, found in _results_in_order(files, options, jobs):
        if found or pattern is None:
            print(file.stem, flush=True)
        for result in found:
            _progress(result)
        results.extend(found)
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    print()
    if results:
        print(format_table(results))
        print()
    elif pattern is not None:
        print(f"no check matches -k {pattern!r}")
    print(
        f"{len(results) - len(failed)} of {len(results)} checks passed"
        f" in {len(files)} derivations ({elapsed:.1f} s)"
    )
    if json_path is not None:
        table = {"seconds": elapsed, "passed": not failed, "checks": [r.row() for r in results]}
        Path(json_path).write_text(json.dumps(_jsonable(table), indent=2, allow_nan=False) + "\n")
    return 1 if failed or not results else 0
