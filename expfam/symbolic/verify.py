"""The runner behind ``expfam verify``: discover derivations, run their checks, report.

:func:`run_verify` discovers every module in the given folders (as pytest
discovers tests; a path given twice runs once), calls each module's
``checks()``, runs the checks in worker processes (one module at a time
each, with a fixed hash seed; the report keeps the modules' order), prints
progress and a table, optionally writes the table as JSON, and returns
non-zero if any check fails. A module that fails to import, raises anything
(SystemExit included), hangs or kills its process is a failing row; the
others still run.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np

from expfam._discovery import describe_folder, load_module, module_files
from expfam.symbolic.check import (
    DEFAULT_TIMEOUT,
    IDENTITY_DIGITS,
    IDENTITY_POINTS,
    MIN_POINTS,
    Check,
    CheckResult,
    CheckTimeout,
    run_checks,
    time_limit,
)

__all__ = ["LEGEND", "format_table", "run_verify"]

LEGEND = """\
verdict  proved: sympy reduced derived - closed_form to 0 using only what the domains imply,
           with no inexact number in the claim, and no exact point contradicts it
         tested at N points (D digits): it could not, but both sides agree to D digits at N
           exact points (the domains' special points, points at and beside every jump, and
           rationals with large prime denominators): evidence, not proof
         false: a point where the two sides differ (the counterexample is printed)
         unproved: neither, or agreement at fewer than the minimum number of points;
           -: no closed form, the numeric comparison only
         timed out: stopped by --timeout;  error: the check is written wrongly or raised
err      worst over the points of |numeric - symbolic| / (|symbolic| + (atol + 2.2e-308) / rtol):
           the relative error, with a floor near 0; a check passes where err <= its rtol;
           the numeric code is called point by point, batched and in float32;
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


def _run_module(file: Path, options: _Options, send: Callable[[Any], None]) -> None:
    """Load ``file`` and run its (selected) checks, sending each result as it comes.

    The time limit covers the import and the ``checks()`` generator too.
    Anything the module raises (SystemExit, pytest's Skipped, a
    KeyboardInterrupt from its code) is one failed row for the module.
    """
    start = time.perf_counter()
    stage = "<load>"
    try:
        with time_limit(options.timeout):
            module = load_module(file)
            if not hasattr(module, "checks"):
                raise AttributeError(f"{file.name} defines no checks() function")
            stage = "<checks>"
            checks = list(module.checks())
        stage = "<run>"
        run_checks(
            checks,
            file.stem,
            points=options.points,
            progress=send,
            seed=options.seed,
            select=options.selects(file.stem),
            timeout=options.timeout,
        )
    except BaseException as exc:  # nothing a module does may end the run
        failed = CheckResult(file.stem, stage, "module imports, builds and runs its checks")
        failed.ok = False
        if isinstance(exc, CheckTimeout):
            failed.verdict = "timed out"
            failed.message = f"{stage}: stopped after {options.timeout:g} s (--timeout)"
        else:
            failed.verdict = "error"
            failed.message = f"{stage}: {type(exc).__name__}: {exc}".strip()
        failed.seconds = time.perf_counter() - start
        send(failed)


def _worker(connection: Connection, options: _Options) -> None:
    """A worker process: run the module files it is sent until it is sent None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        file = connection.recv()
        if file is None:
            return
        _run_module(Path(file), options, lambda result: connection.send(("result", result)))
        connection.send(("done", None))


class _Workers:
    """Worker processes started with a fixed hash seed; one module at a time each.

    A verdict must not depend on Python's hash seed (sympy's results can), so
    every worker runs with ``PYTHONHASHSEED=0``. A worker silent for longer
    than ``patience`` seconds is killed and its module reported as timed out;
    one that dies is reported and replaced.
    """

    def __init__(self, jobs: int, options: _Options, patience: float) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.options, self.patience = options, patience
        self.slots: list[list[Any]] = [self._start() for _ in range(jobs)]

    def _start(self) -> list[Any]:
        parent, child = self.context.Pipe()
        before = os.environ.get("PYTHONHASHSEED")
        os.environ["PYTHONHASHSEED"] = "0"
        try:
            process = self.context.Process(target=_worker, args=(child, self.options), daemon=True)
            process.start()
        finally:
            if before is None:
                del os.environ["PYTHONHASHSEED"]
            else:
                os.environ["PYTHONHASHSEED"] = before
        child.close()
        return [process, parent, None, 0.0]  # process, pipe, module index, last word

    def _replace(self, slot: int) -> None:
        process = self.slots[slot][0]
        process.kill()
        process.join()
        self.slots[slot] = self._start()

    def close(self) -> None:
        """Ask every worker to stop; kill those that do not."""
        for _, pipe, _, _ in self.slots:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for process, *_ in self.slots:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()

    def kill(self) -> None:
        """Stop every worker now (Ctrl-C)."""
        for process, *_ in self.slots:
            process.kill()
            process.join()

    def run(self, files: Sequence[Path]) -> Iterator[tuple[int, list[CheckResult], bool]]:
        """Yield ``(module index, new results, finished)`` as the workers report."""
        pending = list(range(len(files)))
        busy = 0
        while pending or busy:
            for slot in self.slots:
                if slot[2] is None and pending:
                    slot[2] = pending.pop(0)
                    slot[3] = time.monotonic()
                    slot[1].send(str(files[slot[2]]))
                    busy += 1
            waiting = [s for s in self.slots if s[2] is not None]
            deadline = min(s[3] for s in waiting) + self.patience
            ready = wait(
                [s[1] for s in waiting] + [s[0].sentinel for s in waiting],
                timeout=max(0.0, deadline - time.monotonic()),
            )
            for index, slot in enumerate(self.slots):
                module = slot[2]
                if module is None:
                    continue
                if slot[1] in ready:
                    try:
                        kind, result = slot[1].recv()
                    except (EOFError, OSError):
                        kind, result = "died", None
                    slot[3] = time.monotonic()
                    if kind == "result":
                        yield module, [result], False
                        continue
                    if kind == "done":
                        slot[2] = None
                        busy -= 1
                        yield module, [], True
                        continue
                elif slot[0].sentinel in ready and not slot[1].poll():
                    kind = "died"
                elif time.monotonic() - slot[3] > self.patience:
                    kind = "silent"
                else:
                    continue
                failed = CheckResult(files[module].stem, "<worker>", "the module's process runs")
                failed.ok, failed.verdict = False, "error"
                if kind == "silent":
                    failed.verdict = "timed out"
                    failed.message = (
                        f"no word from the module for {self.patience:g} s; its process was"
                        " stopped (code that swallows the time limit, such as a bare except:)"
                    )
                else:
                    failed.message = (
                        f"the module's process ended (exit code {slot[0].exitcode}) before"
                        " its checks finished"
                    )
                self._replace(index)
                busy -= 1
                yield module, [failed], True


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
    """The results as a plain-text table, one row per check (:data:`LEGEND` explains it).

    Parameters
    ----------
    results : sequence of CheckResult
        The rows, in order.

    Returns
    -------
    str
        A header, a rule and one line per result: derivation, check, claim
        (shortened to 48 characters), verdict (to 32), points, err, time and
        ``ok`` or ``FAIL``, in aligned columns.

    Examples
    --------
    >>> from expfam.symbolic.claims import CheckResult
    >>> table = format_table([CheckResult("d", "c", "x = x", verdict="proved")])
    >>> print(table.splitlines()[-1])
    d           c      x = x  proved   0       0.0e+00  0.00s  ok
    """
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
    paths : sequence of pathlib.Path
        Folders of derivation modules, or single modules; a module reached
        twice runs once.
    json_path : str or None, optional
        Also write the table (with failing points and counterexamples) here.
    pattern : str or None, optional
        Run only the checks whose ``derivation.check`` name contains it
        (case-insensitive).
    points : int or None, optional
        Random points per check for the numeric comparison (default: each
        check's own).
    seed : int, optional
        Seed of the random points: check i of a module draws from
        ``default_rng(i + seed * 2**32)``.
    timeout : float or None, optional
        Seconds one check (and a module's import and ``checks()``) may take
        before it is stopped and reported as timed out; default
        :data:`~expfam.symbolic.check.DEFAULT_TIMEOUT`. A module's process
        silent for twice that and 5 s more is killed.
    jobs : int or None, optional
        Processes to run modules on (default: the number of CPUs). Each runs
        with ``PYTHONHASHSEED=0``, so that no verdict depends on the hash seed.

    Returns
    -------
    int
        0 if every selected check passed, 1 if any failed or none was
        selected, 2 if a path does not exist, 130 if interrupted (Ctrl-C).
    """
    start = time.perf_counter()
    try:
        files = list(dict.fromkeys(f.resolve() for p in paths for f in module_files(p)))
    except (FileNotFoundError, ValueError) as exc:
        print(f"expfam verify: {exc}", file=sys.stderr)
        return 2
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    options = _Options(pattern, points, seed, timeout)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files) or 1))
    where = ", ".join(describe_folder(p) for p in dict.fromkeys(paths))
    print(f"expfam verify: {_count(len(files), 'derivation module')} from {where}", flush=True)
    print(
        f"  identity tests at {IDENTITY_POINTS} random points and the special ones"
        f" ({IDENTITY_DIGITS} digits, at least {MIN_POINTS} points); seed {seed};"
        f" {_count(jobs, 'process')}"
        + (f"; -k {pattern!r}" if pattern else "")
        + f"; timeout {timeout:g} s",
        flush=True,
    )
    print(LEGEND, flush=True)
    found: list[list[CheckResult]] = [[] for _ in files]
    finished = [False] * len(files)
    shown = 0
    workers = _Workers(jobs, options, patience=2 * timeout + 5.0) if files else None
    try:
        for module, new, done in workers.run(files) if workers else ():
            found[module].extend(new)
            finished[module] = finished[module] or done
            while shown < len(files) and finished[shown]:
                if found[shown] or pattern is None:
                    print(files[shown].stem, flush=True)
                for result in found[shown]:
                    _progress(result)
                shown += 1
    except KeyboardInterrupt:
        workers.kill()
        print("\nexpfam verify: interrupted", file=sys.stderr)
        return 130
    if workers:
        workers.close()
    results = [r for rows in found for r in rows]
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    print()
    if results:
        print(format_table(results))
        print()
    elif pattern is not None:
        print(f"no check matches -k {pattern!r}")
    print(
        f"{len(results) - len(failed)} of {_count(len(results), 'check')} passed"
        f" in {_count(len(files), 'derivation')} ({elapsed:.1f} s)"
    )
    if json_path is not None:
        table = {"seconds": elapsed, "passed": not failed, "checks": [r.row() for r in results]}
        Path(json_path).write_text(json.dumps(_jsonable(table), indent=2, allow_nan=False) + "\n")
    return 1 if failed or not results else 0


def _count(n: int, noun: str) -> str:
    """``"1 check"``, ``"2 checks"``, ``"2 processes"``."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun}{'es' if noun.endswith('s') else 's'}"
