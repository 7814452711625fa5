"""Write the API reference pages from the ``__all__`` of each public module.

Every public name gets one page, under the module where it is defined for
users (its *home*: the first module of :data:`MODULES` whose ``__all__`` holds
the same object). A module that re-exports a name from another home lists it
with a link to that page, so ``expfam.softmax`` and ``expfam.special.softmax``
share one page. The pages are regenerated at every build, so a name added to
an ``__all__`` appears without editing the docs.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

#: The documented modules, in the order that decides a name's home page.
MODULES = (
    "expfam.exceptions",
    "expfam.special",
    "expfam.families",
    "expfam.geometry",
    "expfam.learn",
    "expfam.bayes",
    "expfam.datasets",
    "expfam.symbolic",
    "expfam.plot",
    "expfam",
)

TITLES = {
    "expfam": "expfam (top level)",
    "expfam.special": "expfam.special: kernels",
    "expfam.families": "expfam.families: exponential families",
    "expfam.geometry": "expfam.geometry: the simplex as a manifold",
    "expfam.learn": "expfam.learn: learning with softmax",
    "expfam.bayes": "expfam.bayes: Bayesian updating",
    "expfam.datasets": "expfam.datasets: small data",
    "expfam.symbolic": "expfam.symbolic: derivations and their checks",
    "expfam.plot": "expfam.plot: figure style and simplex axes",
    "expfam.exceptions": "expfam.exceptions: warnings and errors",
}

# The reading order of the reference (the home order above puts the foundation first).
PAGE_ORDER = (
    "expfam",
    "expfam.special",
    "expfam.families",
    "expfam.bayes",
    "expfam.geometry",
    "expfam.learn",
    "expfam.datasets",
    "expfam.symbolic",
    "expfam.plot",
    "expfam.exceptions",
)


def homes() -> dict[str, dict[str, str]]:
    """Map each module to ``{name: full name of its home}`` for the names of its ``__all__``."""
    objects: list[tuple[object, str]] = []  # (object, home) in home order
    found: dict[str, dict[str, str]] = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None)
        if names is None:
            raise RuntimeError(f"{module_name} has no __all__: the API pages are built from it")
        found[module_name] = {}
        for name in names:
            value = getattr(module, name)
            home = None
            for obj, where in objects:
                if obj is value and where.endswith(f".{name}"):
                    home = where
                    break
            if home is None and inspect.ismodule(value):
                home = value.__name__
            if home is None:
                home = f"{module_name}.{name}"
                objects.append((value, home))
            found[module_name][name] = home
    return found


def _summary(obj: object) -> str:
    """The first sentence of a docstring, for the list of re-exported names."""
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _module_page(module_name: str, names: dict[str, str]) -> str:
    module = importlib.import_module(module_name)
    subpackages = [n for n in names if inspect.ismodule(getattr(module, n))]
    own = [n for n, home in names.items() if home == f"{module_name}.{n}" and n not in subpackages]
    elsewhere = [n for n in names if n not in own and n not in subpackages]
    title = TITLES[module_name]
    lines = [
        title,
        "=" * len(title),
        "",
        f".. automodule:: {module_name}",
        "   :no-members:",
        "   :no-index:",
        "",
        f".. currentmodule:: {module_name}",
        "",
    ]
    if own:
        lines += [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in sorted(own, key=str.lower)]
        lines.append("")
    if subpackages:
        lines += ["Subpackages", "-----------", ""]
        lines += [f"- :mod:`{getattr(module, n).__name__}`" for n in subpackages]
        lines.append("")
    if elsewhere:
        heading = "Also exported here"
        lines += [
            heading,
            "-" * len(heading),
            "",
            "These names are documented with the module they belong to.",
            "",
        ]
        for name in sorted(elsewhere, key=str.lower):
            lines.append(f"- :py:obj:`~{names[name]}`: {_summary(getattr(module, name))}")
        lines.append("")
    return "\n".join(lines)


def write(folder: Path) -> list[Path]:
    """Write ``index.rst`` and one page per module into ``folder``; return the files.

    A file whose text is unchanged is left alone, so Sphinx rebuilds only what changed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    found = homes()
    pages = {f"{m}.rst": _module_page(m, found[m]) for m in PAGE_ORDER}
    pages["index.rst"] = "\n".join(
        [
            "API reference",
            "=============",
            "",
            "Every public name of expfam, by module. Each name has one page, under the",
            "module it belongs to; the other modules that export it link there.",
            "",
            ".. toctree::",
            "   :maxdepth: 1",
            "",
        ]
        + [f"   {m}" for m in PAGE_ORDER]
        + [""]
    )
    written = []
    for name, text in pages.items():
        path = folder / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written
