"""The documentation: the guide's examples run, the site builds warning-free, and
the docstrings of the finished modules pass numpydoc's validation.

The site build needs the docs extra (``pip install ".[docs]"``; the test extra
includes it); without sphinx those tests skip.
"""

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = sorted((ROOT / "docs" / "guide").glob("*.md"))
# Blocks that show a file of the user's own (a derivation module) rather than a session.
BLOCKS = [
    (path.name, i, block)
    for path in GUIDE
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S))
    if "def checks()" not in block and "MyExponential" not in block
]


def test_the_guide_has_examples():
    assert len(GUIDE) >= 8
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize(
    ("page", "index", "block"), BLOCKS, ids=[f"{p}-{i}" for p, i, _ in BLOCKS]
)
def test_guide_example_runs(page, index, block):
    exec(compile(block, f"docs/guide/{page} block {index}", "exec"), {})


# Modules whose every public function, class and method has been brought to the
# full numpydoc standard; a module joins this list when its docstrings pass.
FINISHED = [
    "expfam",
    "expfam.exceptions",
    "expfam.plot",
    "expfam.bayes",
    "expfam.datasets",
    "expfam.families.relaxed",
    "expfam.special",
    "expfam.special.sparse",
    "expfam.geometry",
    "expfam.geometry.centroids",
    "expfam.geometry.chernoff",
    "expfam.geometry.divergences",
    "expfam.geometry.geodesics",
    "expfam.geometry.projections",
    "expfam.learn",
    "expfam.learn.calibration",
    "expfam.learn.losses",
    "expfam.learn.ngram",
    "expfam.learn.optimize",
    "expfam.learn.recalibration",
    "expfam.learn.regression",
    "expfam.families",
    "expfam.symbolic",
]
CHECKS = {"GL08", "PR01", "PR02", "PR07", "RT01", "RT03", "SS03", "YD01", "GL06", "GL07"}


def public_objects(module_name):
    module = importlib.import_module(module_name)
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            yield f"{module_name}.{name}"
            if inspect.isclass(value):
                for member, attr in vars(value).items():
                    if isinstance(attr, (classmethod, staticmethod)):
                        attr = attr.__func__
                    if not member.startswith("_") and inspect.isfunction(attr):
                        yield f"{module_name}.{name}.{member}"


def test_every_module_of_the_api_pages_is_held_to_numpydoc():
    """The site's API pages (``docs/_ext/api_pages.py``) list the public modules."""
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        documented = importlib.import_module("api_pages").MODULES
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    assert set(documented) <= set(FINISHED)


@pytest.mark.parametrize("module_name", FINISHED)
def test_numpydoc_validation_of_finished_modules(module_name):
    validate = pytest.importorskip("numpydoc.validate").validate
    objects = list(public_objects(module_name))
    assert objects
    problems = [
        f"{name}: {code} {message}"
        for name in objects
        for code, message in validate(name)["errors"]
        if code in CHECKS
    ]
    assert not problems, "\n".join(problems)


def test_the_site_builds_warning_free(tmp_path):
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme", "myst_parser"):
        pytest.importorskip(module, reason="the docs extra is not installed")
    out = tmp_path / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", "docs", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    # every public name has a page, every experiment a gallery page, every tutorial ran
    api = {p.stem for p in (out / "api" / "generated").glob("*.html")}
    for name in (
        "expfam.special.softmax",
        "expfam.geometry.fisher_rao_distance",
        "expfam.plot.barycentric",
        "expfam.families.Categorical",
    ):
        assert name in api
    figures = {p.stem for p in (ROOT / "experiments").glob("fig*.py")}
    assert figures and figures <= {p.stem for p in (out / "auto_gallery").glob("*.html")}
    tutorials = sorted((out / "auto_tutorials").glob("tutorial*.html"))
    assert len(tutorials) == 5
    for page in tutorials:
        assert "sphx-glr-script-out" in page.read_text()  # it ran and printed

    check = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docs" / "check_site.py"),
            "--install",
            "--html",
            str(out),
            "--shots",
            str(tmp_path / "shots"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check.returncode == 77:
        pytest.skip(f"browser check: {check.stdout.strip()}")
    assert check.returncode == 0, check.stdout[-5000:]


def test_every_public_name_has_one_home_page():
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        api_pages = importlib.import_module("api_pages")
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    found = api_pages.homes()
    for module_name in api_pages.MODULES:
        module = importlib.import_module(module_name)
        assert set(found[module_name]) == set(module.__all__)
        for name, home in found[module_name].items():
            where, _, leaf = home.rpartition(".")
            if inspect.ismodule(getattr(module, name)):
                assert home == getattr(module, name).__name__
            else:
                assert leaf == name
                assert getattr(importlib.import_module(where), name) is getattr(module, name)
    # a re-export links to its home instead of getting a second page
    assert found["expfam"]["softmax"] == "expfam.special.softmax"
    assert found["expfam.geometry"]["ConvergenceWarning"] == "expfam.exceptions.ConvergenceWarning"
    page = api_pages._module_page("expfam", found["expfam"])
    assert ":py:obj:`~expfam.special.softmax`" in page
    assert "   softmax\n" not in page  # no stub of its own


# The mathematical modules: each public function states its formula.
FORMULA_MODULES = [
    "expfam.special",
    "expfam.families",
    "expfam.geometry",
    "expfam.learn",
    "expfam.bayes",
]
NO_FORMULA = {"get_num_threads", "set_num_threads"}  # thread settings, not mathematics


@pytest.mark.parametrize("module_name", FORMULA_MODULES)
def test_every_public_function_states_its_formula(module_name):
    module = importlib.import_module(module_name)
    without = [
        name
        for name in module.__all__
        if inspect.isfunction(getattr(module, name))
        and name not in NO_FORMULA
        and ".. math::" not in (getattr(module, name).__doc__ or "")
    ]
    assert not without, f"{module_name}: no .. math:: in {without}"
