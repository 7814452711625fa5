"""sphinx-gallery hooks: run each experiment into a build folder and show its PNG.

An experiment (``experiments/figN_*.py``) writes its figure with
``make_figure(out)`` when run as a script, ``out`` being its first command-line
argument; it draws on :class:`matplotlib.figure.Figure` objects that pyplot does
not know, so the usual matplotlib scraper sees nothing. :func:`reset_argv` gives
each experiment a folder under the build directory, and
:func:`experiment_scraper` copies the PNG it wrote into the gallery page.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from sphinx_gallery.scrapers import figure_rst

OUT = Path(__file__).resolve().parents[1] / "_build" / "experiment-figures"


def reset_argv(gallery_conf: dict, script_vars: dict) -> list[str]:
    """The command line of an experiment: its output folder (tutorials get none)."""
    src = Path(script_vars["src_file"])
    if src.parent.name != "experiments":
        return []
    out = OUT / src.stem
    shutil.rmtree(out, ignore_errors=True)
    # relative to the folder the example runs in, so the page prints short paths
    return [os.path.relpath(out, src.parent)]


def experiment_scraper(block, block_vars: dict, gallery_conf: dict) -> str:
    """Put the PNG an experiment wrote into its gallery page (and its thumbnail)."""
    src = Path(block_vars["src_file"])
    png = OUT / src.stem / f"{src.stem}.png"
    if src.parent.name != "experiments" or not png.exists():
        return ""
    image_path = Path(next(block_vars["image_path_iterator"]))
    shutil.move(png, image_path)
    return figure_rst([str(image_path)], gallery_conf["src_dir"])


class FigureOrder:
    """Sort experiments by figure number (fig2 before fig10), tutorials by file name."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        match = re.match(r"(?:fig|tutorial_?)(\d+)", filename)
        return (int(match.group(1)) if match else 10**6, filename)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
