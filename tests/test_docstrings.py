"""Every docstring example in the library runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = [
    "special._partition",
    "special._losses",
    "special._elementwise",
    "special._threads",
    "families.categorical",
    "families.bernoulli",
    "families.dirichlet",
    "bayes",
    "plot",
    "symbolic",
]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"expfam.{module}"), verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
