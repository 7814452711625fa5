"""Run the experiment scripts that make the paper's figures (placeholder)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from expfam._discovery import module_files


def run_figures(paths: list[Path], out: Path, only: Sequence[str] | None = None) -> int:
    files = [f for p in paths for f in module_files(p)]
    print(f"expfam figures: {len(files)} experiment modules found; none is built yet")
    return 0
