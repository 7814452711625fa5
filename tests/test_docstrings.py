"""Every docstring example in the library runs and prints what it says.

The modules are found, not listed: every module of ``expfam`` whose source
holds an example (``>>>``) is run with :mod:`doctest`.
"""

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "expfam"
MODULES = sorted(
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    for path in PACKAGE.rglob("*.py")
    if ">>>" in path.read_text(encoding="utf-8")
)


def test_the_examples_are_found():
    assert len(MODULES) >= 30
    assert "expfam.special._partition" in MODULES


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
