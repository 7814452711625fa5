"""Run the experiment scripts that make the paper's figures (``expfam figures``), and write them.

:func:`save_figure` and :func:`save_csv` write a figure and the data behind it,
each file atomically (:func:`atomic_path`); the style and the simplex drawing
are :mod:`expfam.plot`'s.

An experiment is a module in an ``experiments/`` folder (found as pytest finds
tests: every ``*.py`` not starting with an underscore) that defines::

    def make_figure(out: Path) -> list[Path]:
        '''Write this figure's PDF, PNG and CSV into the folder ``out``.'''

Its name is the module's file stem; ``--only NAME`` selects by that name.

Each experiment writes into a fresh staging folder inside the output folder;
only when it returns are its files moved over the old ones, one
:func:`os.replace` (an atomic rename) per file. An experiment that raises, or is
interrupted, has its staging folder removed: the files of its previous good run
stay as they were, and the other experiments still run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
from numpy.typing import ArrayLike

from expfam._discovery import load_module, module_files

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ENTRY_POINT",
    "Outcome",
    "atomic_path",
    "discover",
    "run_experiment",
    "run_figures",
    "save_csv",
    "save_figure",
]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it over ``path``.

    The temporary file lives in the same folder (so :func:`os.replace` is an
    atomic rename); if the block raises, or is interrupted, the temporary file
    is removed and ``path`` keeps its previous contents.

    Parameters
    ----------
    path : str or Path
        The file to write.

    Yields
    ------
    Path
        The temporary file to write to, ``.NAME.HEX.tmp`` in the folder of ``path``.
    """
    path = Path(path)
    # A fresh name rather than mkstemp: the writer creates the file with the usual
    # permissions (mkstemp's are owner-only).
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_figure(fig: Figure, folder: str | Path, name: str) -> list[Path]:
    """Write ``fig`` as ``folder/name.pdf`` (vector) and ``folder/name.png``, atomically.

    The PDF carries no creation date and the PNG no timestamp, so the same
    figure gives the same bytes.

    Parameters
    ----------
    fig : Figure
        The figure; it is saved in the paper style, the PNG at
        :data:`expfam.plot.PNG_DPI`.
    folder : str or Path
        Where to write; created if missing.
    name : str
        The file stem.

    Returns
    -------
    list of Path
        The two files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    from expfam.plot import style_context  # matplotlib loads with the first figure

    with style_context():
        for fmt, metadata in (
            ("pdf", {"CreationDate": None, "ModDate": None}),
            ("png", {"Software": None}),
        ):
            target = folder / f"{name}.{fmt}"
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, metadata=metadata)
            written.append(target)
    return written


def save_csv(folder: str | Path, name: str, columns: Mapping[str, ArrayLike]) -> Path:
    """Write the data behind a figure as ``folder/name.csv``, atomically.

    Parameters
    ----------
    folder : str or Path
        Where to write; created if missing.
    name : str
        The file stem; ``.csv`` is appended.
    columns : mapping of str to array_like
        Column name to values. Numbers are written with 17 significant digits
        (exact round trip for float64); strings are written as they are.
        All columns must have the same length.

    Returns
    -------
    Path
        The file written.
    """
    arrays = {key: np.ravel(np.asarray(value)) for key, value in columns.items()}
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) != 1:
        sizes = {key: len(a) for key, a in arrays.items()}
        raise ValueError(f"columns: all columns must have the same length, got {sizes}")
    for key in arrays:
        if "," in key or "\n" in key:
            raise ValueError(f"columns: name {key!r} contains a comma or a newline")
    cells = [[_format_cell(v) for v in a] for a in arrays.values()]
    lines = [",".join(arrays)] + [",".join(row) for row in zip(*cells, strict=True)]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.csv"
    with atomic_path(target) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _format_cell(value: Any) -> str:
    if isinstance(value, str | np.str_):
        if "," in value or "\n" in value:
            raise ValueError(f"columns: text cell {value!r} contains a comma or a newline")
        return str(value)
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return f"{float(value):.17g}"


ENTRY_POINT = "make_figure"


@dataclass
class Outcome:
    """What running one experiment did."""

    name: str
    seconds: float
    written: list[Path] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def discover(paths: Sequence[Path], only: Sequence[str] | None = None) -> dict[str, Path]:
    """Return ``{name: file}`` of the experiments under ``paths``, in run order.

    Raises
    ------
    ValueError
        If two files share a name, or a name in ``only`` matches no experiment.
    """
    found: dict[str, Path] = {}
    for path in paths:
        for file in module_files(path):
            if file.stem in found and found[file.stem] != file:
                raise ValueError(
                    f"paths: two experiments named {file.stem!r}: {found[file.stem]} and {file}"
                )
            found[file.stem] = file
    if only is None:
        return found
    unknown = [name for name in only if name not in found]
    if unknown:
        raise ValueError(
            f"--only: no experiment named {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(found) or 'none'}"
        )
    return {name: file for name, file in found.items() if name in set(only)}


def run_experiment(name: str, file: Path, out: Path) -> Outcome:
    """Run one experiment into ``out`` through a staging folder (see the module docstring).

    A ``KeyboardInterrupt`` removes the staging folder and propagates.
    """
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=f".staging-{name}-"))
    start = time.perf_counter()
    try:
        module = load_module(file)
        make_figure = getattr(module, ENTRY_POINT, None)
        if not callable(make_figure):
            raise TypeError(f"{file} defines no function {ENTRY_POINT}(out)")
        make_figure(staging)
        produced = sorted(p for p in staging.iterdir() if p.is_file())
        if not produced:
            raise RuntimeError(f"{ENTRY_POINT}() wrote no file")
        written = []
        for source in produced:
            target = out / source.name
            os.replace(source, target)
            written.append(target)
        return Outcome(name, time.perf_counter() - start, written)
    except Exception as exc:
        detail = "".join(traceback.format_exception(exc)).rstrip()
        return Outcome(name, time.perf_counter() - start, error=detail)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _Progress:
    """A one-line progress bar on a terminal; plain lines otherwise."""

    def __init__(self, total: int, stream: TextIO, width: int = 20) -> None:
        self.total = total
        self.stream = stream
        self.width = width
        self.live = stream.isatty()

    def bar(self, done: int) -> str:
        filled = round(self.width * done / self.total) if self.total else self.width
        return f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total}"

    def start(self, done: int, name: str) -> None:
        if self.live:
            self.stream.write(f"\r\033[K{self.bar(done)} running {name}")
            self.stream.flush()

    def finish(self, done: int, outcome: Outcome) -> None:
        if self.live:
            self.stream.write("\r\033[K")
        status = "ok    " if outcome.ok else "FAILED"
        self.stream.write(f"{self.bar(done)} {status} {outcome.name} ({outcome.seconds:.1f} s)\n")
        for path in outcome.written:
            self.stream.write(f"    wrote {_display(path)}\n")
        if outcome.error:
            self.stream.write("    " + outcome.error.replace("\n", "\n    ") + "\n")
        self.stream.flush()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _unwritable(out: Path) -> str | None:
    """Why the folder ``out`` cannot take the figures (created if missing), or None."""
    if out.exists() and not out.is_dir():
        return "is a file, not a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except OSError as exc:
        return f"cannot write there ({exc.strerror or exc})"
    return None


def run_figures(paths: list[Path], out: Path, only: Sequence[str] | None = None) -> int:
    """Run every experiment under ``paths`` into the folder ``out``; return the exit status.

    Parameters
    ----------
    paths : list of Path
        Folders of experiment modules, or single module files.
    out : Path
        Output folder (created if missing).
    only : sequence of str, optional
        Run only the experiments with these names (module file stems).

    Returns
    -------
    int
        0 if every experiment succeeded, 1 if any failed, 2 if ``paths`` or
        ``only`` name nothing runnable or ``out`` is not a writable folder,
        130 if interrupted.
    """
    stream = sys.stdout
    problem = _unwritable(out)
    if problem:
        print(f"expfam figures: --out {out}: {problem}", file=sys.stderr)
        return 2
    try:
        experiments = discover(paths, only)
    except (ValueError, FileNotFoundError) as exc:
        print(f"expfam figures: {exc}", file=sys.stderr)
        return 2
    if not experiments:
        print(f"expfam figures: no experiment in {', '.join(map(str, paths))}", file=sys.stderr)
        return 2
    print(f"expfam figures: {len(experiments)} experiments -> {_display(out)}", file=stream)
    progress = _Progress(len(experiments), stream)
    outcomes = []
    start = time.perf_counter()
    for done, (name, file) in enumerate(experiments.items()):
        progress.start(done, name)
        try:
            outcome = run_experiment(name, file, out)
        except KeyboardInterrupt:
            stream.write("\ninterrupted: the files of earlier good runs are untouched\n")
            return 130
        outcomes.append(outcome)
        progress.finish(done + 1, outcome)
    failed = [o.name for o in outcomes if not o.ok]
    files = sum(len(o.written) for o in outcomes)
    elapsed = time.perf_counter() - start
    print(
        f"expfam figures: {len(outcomes) - len(failed)} of {len(outcomes)} succeeded, "
        f"{files} files written in {elapsed:.1f} s"
        + (f"; FAILED: {', '.join(failed)}" if failed else ""),
        file=stream,
    )
    return 1 if failed else 0
