"""CONTRIBUTING.md's derivation recipe, as written, goes through the checker and passes."""

import re
from pathlib import Path

import pytest

pytest.importorskip("sympy")

ROOT = Path(__file__).resolve().parents[1]


def test_the_derivation_recipe_is_verified():
    from expfam.symbolic import run_checks

    text = (ROOT / "CONTRIBUTING.md").read_text()
    block = re.search(r"## Recipe: add a derivation.*?```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "CONTRIBUTING.md", "exec"), namespace)
    results = run_checks(namespace["checks"](), "contributing_recipe")
    assert [(r.ok, r.verdict) for r in results] == [(True, "proved")], results
