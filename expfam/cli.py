"""The ``expfam`` command: ``verify`` derivations, make ``figures``, ``reproduce`` both."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from expfam import __version__
from expfam._discovery import default_folder


def _bad_option(options: dict[str, Any]) -> str | None:
    """The first option out of range, as ``"--name: expected ..., got ..."``; None if all fit."""
    rules = {
        "points": ("a positive integer", lambda v: v >= 1),
        "seed": ("a non-negative integer", lambda v: v >= 0),
        "timeout": ("a positive number of seconds", lambda v: 0 < v < math.inf),
        "jobs": ("a positive integer", lambda v: v >= 1),
    }
    for name, (expected, holds) in rules.items():
        value = options.get(name)
        if value is not None and not holds(value):
            return f"--{name}: expected {expected}, got {value:g}"
    return None


def _verify(paths: Sequence[str], json_path: str | None, **options: Any) -> int:
    """Run every derivation under ``paths``; return the exit status (options: run_verify's).

    A missing path, a JSON file in a missing folder or naming a folder, or an
    option out of range is one line on stderr and status 2, before any
    derivation runs.
    """
    bad = _bad_option(options)
    if bad is not None:
        print(f"expfam verify: {bad}", file=sys.stderr)
        return 2
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"expfam verify: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if json_path is not None and not Path(json_path).resolve().parent.is_dir():
        print(f"expfam verify: --json {json_path}: its folder does not exist", file=sys.stderr)
        return 2
    if json_path is not None and Path(json_path).is_dir():
        print(
            f"expfam verify: --json: expected a file to write, got the folder {json_path}",
            file=sys.stderr,
        )
        return 2
    from expfam.symbolic import run_verify

    folders = [Path(p) for p in paths] or [default_folder("derivations")]
    return run_verify(folders, json_path, **options)


def _figures(paths: Sequence[str], out: str, only: Sequence[str] | None) -> int:
    """Run every experiment under ``paths`` into ``out``; return the exit status."""
    from expfam.figures import run_figures

    return run_figures(
        [Path(p) for p in paths] or [default_folder("experiments")], Path(out), only
    )


def _reproduce(out: str) -> int:
    """Verify all derivations and make all figures; print a one-screen summary."""
    start = time.perf_counter()
    verify_status = _verify([], None)
    figures_status = _figures([], out, None)
    elapsed = time.perf_counter() - start
    print()
    print("expfam reproduce: summary")
    print(f"  derivations: {'all passed' if verify_status == 0 else 'FAILURES (see table above)'}")
    print(
        f"  figures:     {'all written' if figures_status == 0 else 'FAILURES (see above)'}"
        f" -> {Path(out).resolve()}"
    )
    print(f"  time:        {elapsed:.1f} s")
    return 1 if (verify_status or figures_status) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="expfam",
        description="The information geometry of softmax: check derivations, make figures.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    verify = sub.add_parser("verify", help="check every derivation in a folder")
    verify.add_argument("paths", nargs="*", help="folders or modules (default: derivations/)")
    verify.add_argument(
        "--json", dest="json_path", metavar="FILE", help="also write the result table as JSON"
    )
    verify.add_argument(
        "-k",
        dest="pattern",
        metavar="PATTERN",
        help="run only checks whose derivation.check name contains PATTERN",
    )
    verify.add_argument(
        "--points",
        type=int,
        metavar="N",
        help="random points per check (default: each check's own)",
    )
    verify.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the random points (default: 0)"
    )
    verify.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop a check (or a module's import) after SECONDS and report it as timed out"
        " (default: 60)",
    )
    verify.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes to run modules on (default: the number of CPUs)",
    )

    figures = sub.add_parser("figures", help="make every figure in a folder")
    figures.add_argument("paths", nargs="*", help="folders or modules (default: experiments/)")
    figures.add_argument("--out", default="figures", help="output folder (default: figures/)")
    figures.add_argument("--only", nargs="+", metavar="NAME", help="run only these experiments")

    reproduce = sub.add_parser("reproduce", help="verify all derivations and make all figures")
    reproduce.add_argument("--out", default="figures", help="output folder (default: figures/)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "verify":
        return _verify(
            args.paths,
            args.json_path,
            pattern=args.pattern,
            points=args.points,
            seed=args.seed,
            timeout=args.timeout,
            jobs=args.jobs,
        )
    if args.command == "figures":
        return _figures(args.paths, args.out, args.only)
    return _reproduce(args.out)


if __name__ == "__main__":
    sys.exit(main())
