"""Sphinx configuration of the expfam documentation site.

Build it (no network needed) from the repository root::

    python -m pip install ".[docs]"
    python -m sphinx -W -b html docs docs/_build/html

The API pages are generated from the ``__all__`` of each public module
(``_ext/api_pages.py``), the gallery runs every script of ``experiments/``, and
the tutorials (``docs/tutorials/``) run as sphinx-gallery examples.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
try:  # the installed expfam, or the checkout when sphinx runs from its root
    import expfam
except ImportError:  # sphinx run from elsewhere: document this checkout
    sys.path.insert(0, str(ROOT))
    import expfam

import api_pages  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("agg")

project = "expfam"
author = "the expfam authors"
copyright = "the expfam authors"
version = release = expfam.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = [
    "_build",
    "gallery",
    "tutorials/GALLERY_HEADER.rst",
    "auto_gallery/*.ipynb",
    "auto_tutorials/*.ipynb",
]
templates_path = ["_templates"]
root_doc = "index"

# --- API reference: one page per public name, from each module's __all__ -----------
api_pages.write(DOCS / "api")
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc Parameters section states the types
autodoc_default_options = {"member-order": "bysource"}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc's validation, run on every documented object during the build
# (docs/README: the checks and why these).
# Constants (START, SNOW, ...) are data: their __doc__ is their type's, not theirs.
numpydoc_validation_exclude = {r"\.[A-Z][A-Z0-9_]*$"}
numpydoc_validation_checks = {
    "GL01",
    "GL03",
    "GL05",
    "GL06",
    "GL07",
    "GL09",
    "GL10",
    "PR02",
    "PR03",
    "PR05",
    "PR06",
    "PR10",
    "RT02",
    "RT05",
    "SA02",
    "SA03",
    "SA04",
    "SS01",
    "SS03",
    "SS04",
    "YD01",
}

# --- formulas: MathJax 3 shipped in _static (no network) ----------------------------
mathjax_path = "mathjax/tex-svg.js"
html_static_path = ["_static"]
html_css_files = ["expfam.css"]

# --- intersphinx: inventories kept in the repository (no network) -------------------
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", str(DOCS / "_intersphinx" / "python.inv")),
    "numpy": ("https://numpy.org/doc/stable/", str(DOCS / "_intersphinx" / "numpy.inv")),
    "scipy": ("https://docs.scipy.org/doc/scipy/", str(DOCS / "_intersphinx" / "scipy.inv")),
    "sympy": ("https://docs.sympy.org/latest/", str(DOCS / "_intersphinx" / "sympy.inv")),
    "matplotlib": (
        "https://matplotlib.org/stable/",
        str(DOCS / "_intersphinx" / "matplotlib.inv"),
    ),
}
intersphinx_timeout = 1

# --- gallery (experiments/) and tutorials (docs/tutorials/) -------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../experiments", "tutorials"],
    "gallery_dirs": ["auto_gallery", "auto_tutorials"],
    "filename_pattern": r".*\.py$",
    "ignore_pattern": r"(__init__|/_[^/]*)\.py$",
    "within_subsection_order": "gallery_hooks.FigureOrder",
    "reset_argv": "gallery_hooks.reset_argv",
    "image_scrapers": ("matplotlib", "gallery_hooks.experiment_scraper"),
    "download_all_examples": False,
    "show_memory": False,
    "remove_config_comments": True,
    "min_reported_time": 1e9,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "write_computation_times": False,
    "show_signature": False,
    "capture_repr": (),  # print() is what a page shows, not stray return values
}

# --- HTML ---------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"expfam {release}"
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "light"}  # a set mode: the theme logs an error for none
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
myst_heading_anchors = 3
