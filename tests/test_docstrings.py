"""Every docstring example in the library runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = [
    "special._partition",
    "special._losses",
    "special._elementwise",
    "_core.threads",
    "families.categorical",
    "families.bernoulli",
    "families.dirichlet",
    "families.relaxed",
    "special.sparse",
    "learn.calibration",
    "learn.recalibration",
    "learn.ngram",
    "datasets.gettysburg",
    "bayes",
    "plot",
    "symbolic.domains",
    "symbolic.check",
    "symbolic.families",
    "geometry.geodesics",
    "geometry.projections",
    "learn.regression",
    "learn.optimize",
    "learn.losses",
    "datasets.iris",
    "datasets.blobs",
    "geometry.divergences",
    "geometry.centroids",
]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"expfam.{module}"), verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
