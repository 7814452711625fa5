"""Every derivation in derivations/ still proves its claims and agrees with the numeric code.

Each module runs with fewer random points than ``expfam verify`` (the extreme
points are all kept), so CI catches a derivation that stops proving its claim
or a numeric change that breaks one.
"""

from pathlib import Path

import pytest

from expfam._discovery import load_module, module_files
from expfam.symbolic import run_checks

DERIVATIONS = Path(__file__).resolve().parents[2] / "derivations"
FILES = module_files(DERIVATIONS)


def test_the_fourteen_derivations_are_there():
    assert len(FILES) >= 14


@pytest.mark.parametrize("file", FILES, ids=[f.stem for f in FILES])
def test_derivation_holds(file):
    module = load_module(file)
    assert module.__doc__ and len(module.__doc__) > 300, "the docstring is the derivation's prose"
    results = run_checks(module.checks(), file.stem, points=4)
    assert results, "a derivation declares at least one check"
    failures = {
        r.name: r.message + "".join("\n" + f.describe() for f in r.failures)
        for r in results
        if not r.ok
    }
    assert not failures, failures  # a false or unproved claim fails too
