"""The README's Python examples run as written (the README is documentation users copy)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
# Blocks that show a file of the user's own (a derivation module) rather than a session.
RUNNABLE = [b for b in BLOCKS if "def checks()" not in b and "MyExponential" not in b]


def test_the_readme_has_examples():
    assert len(RUNNABLE) >= 1  # the tour; the reference's examples are in docs/guide/


@pytest.mark.parametrize("index", range(len(RUNNABLE)))
def test_readme_example_runs(index):
    exec(compile(RUNNABLE[index], f"README block {index}", "exec"), {})
