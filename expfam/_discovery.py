"""Find and import the plain-module folders that the ``expfam`` command runs.

``derivations/`` and ``experiments/`` are folders of ordinary modules, found
the way pytest finds tests: every ``*.py`` file whose name does not start with
an underscore, in sorted order. A researcher can point the same commands at a
folder of their own.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_PACKAGE_DIR = Path(__file__).resolve().parent


def default_folder(name: str) -> Path:
    """Return the folder ``name`` (``"derivations"`` or ``"experiments"``) to run by default.

    The folder in the current directory wins (a source checkout); otherwise
    the copy next to the package source (an editable install), then the copy
    bundled into the wheel.
    """
    for candidate in (
        Path.cwd() / name,
        _PACKAGE_DIR.parent / name,
        _PACKAGE_DIR / "_bundled" / name,
    ):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no {name}/ folder in {Path.cwd()} and none bundled with expfam")


def describe_folder(path: str | Path) -> str:
    """``path`` resolved, marked when it is the copy bundled with expfam (not a local folder)."""
    path = Path(path).resolve()
    bundled = path.is_relative_to(_PACKAGE_DIR / "_bundled")
    return f"{path} (the copy bundled with expfam)" if bundled else str(path)


def module_files(path: str | Path) -> list[Path]:
    """Return the module files under ``path`` (a folder, or a single ``.py`` file)."""
    path = Path(path)
    if path.is_file():
        if path.suffix != ".py":
            raise ValueError(f"path: {path} is not a Python module")
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"path: {path} does not exist")
    return sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))


def load_module(file: Path) -> ModuleType:
    """Import the module at ``file`` under a name unique to its absolute path."""
    file = Path(file).resolve()
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
    name = f"_expfam_user_{file.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
