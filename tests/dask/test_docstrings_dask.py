"""The docstring examples of the Dask tiers run and print what they say."""

import doctest
import importlib

import pytest

pytest.importorskip("dask.array")


@pytest.mark.parametrize("module", ["special._dask", "learn._dask", "geometry._dask"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"expfam.{module}"), verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
