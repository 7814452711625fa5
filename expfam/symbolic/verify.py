"""The runner behind ``expfam verify``: discover derivations, run their checks, report.

:func:`run_verify` discovers every module in the given folders (as pytest
discovers tests), calls each module's ``checks()``, prints progress and a
table, optionally writes the table as JSON, and returns non-zero if any check
fails. A module that fails to import is a failing row; the others still run.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from expfam._discovery import load_module, module_files
from expfam.symbolic.check import Check, CheckResult, run_checks

__all__ = ["format_table", "run_verify"]


def _jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as the strings "inf", "-inf", "nan" (strict JSON)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


def _load_checks(file: Path) -> list[Check]:
    module = load_module(file)
    if not hasattr(module, "checks"):
        raise AttributeError(f"{file.name} defines no checks() function")
    return list(module.checks())


def _progress(result: CheckResult) -> None:
    status = "ok" if result.ok else "FAIL"
    print(
        f"  {status:4} {result.derivation}.{result.name}"
        f"  [{result.proved}; {result.points} pts; err {result.worst_error:.1e};"
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
    """The results as a plain-text table, one row per check."""
    header = ("derivation", "check", "claim", "proved", "points", "worst err", "time", "")
    rows = [
        (
            r.derivation,
            r.name,
            _shorten(r.claim, 48),
            _shorten(r.proved, 24),
            str(r.points),
            f"{r.worst_error:.1e}",
            f"{r.seconds:.2f}s",
            "ok" if r.ok else "FAIL",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    head = "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))
    return "\n".join([head, "-" * len(head), *lines])


def run_verify(paths: list[Path], json_path: str | None = None) -> int:
    """Run every derivation under ``paths``; print progress and a table; return the exit status.

    A derivation module defines ``checks()``, returning :class:`Check` objects.
    A module that fails to import or to build its checks is reported as a
    failing row; the others still run. With ``json_path`` the table (with the
    failing points) is also written there as JSON.
    """
    start = time.perf_counter()
    try:
        files = [f for p in paths for f in module_files(p)]
    except (FileNotFoundError, ValueError) as exc:
        print(f"expfam verify: {exc}", file=sys.stderr)
        return 2
    print(f"expfam verify: {len(files)} derivation modules", flush=True)
    results: list[CheckResult] = []
    for file in files:
        print(f"{file.stem}", flush=True)
        t0 = time.perf_counter()
        try:
            checks = _load_checks(file)
        except Exception as exc:
            failed = CheckResult(file.stem, "<load>", "module imports and builds its checks")
            failed.ok = False
            failed.message = f"{type(exc).__name__}: {exc}"
            failed.seconds = time.perf_counter() - t0
            _progress(failed)
            results.append(failed)
            continue
        results.extend(run_checks(checks, file.stem, progress=_progress))
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    print()
    print(format_table(results))
    print()
    print(
        f"{len(results) - len(failed)} of {len(results)} checks passed"
        f" in {len(files)} derivations ({elapsed:.1f} s)"
    )
    if json_path is not None:
        table = {"seconds": elapsed, "passed": not failed, "checks": [r.row() for r in results]}
        Path(json_path).write_text(json.dumps(_jsonable(table), indent=2, allow_nan=False) + "\n")
    return 1 if failed or not results else 0
