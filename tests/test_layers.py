"""The architecture holds: lower layers never import higher ones, and old imports still work."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "expfam"

# _core <- special <- families <- geometry, learn, bayes <- symbolic, plot, figures, cli
LAYERS = {
    "_core": -1,  # the foundation: imports nothing of expfam
    "special": 0,
    "datasets": 2,  # the snow example reads expfam.bayes
    "exceptions": 3,  # the public path of _core.exceptions
    "families": 1,
    "family": 1,  # the deprecated 0.1 paths: small modules re-exporting expfam.families
    "categorical": 1,
    "bernoulli": 1,
    "dirichlet": 1,
    "geometry": 2,
    "learn": 2,
    "bayes": 2,
    "symbolic": 3,
    "plot": 3,
    "figures": 3,
    "cli": 3,
    "_discovery": 3,
}


TOP = 2  # ``import expfam`` loads the layers up to geometry, learn and bayes


def _layer(dotted: str) -> int:
    """Layer of ``expfam.<part>...``; the package itself (or a name in it) is ``TOP``."""
    parts = dotted.split(".")
    return LAYERS.get(parts[1], TOP) if len(parts) > 1 else TOP


def _imports(file: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "expfam":
                names += [f"expfam.{alias.name}" for alias in node.names]
            else:
                names.append(node.module)
    return [n for n in names if n == "expfam" or n.startswith("expfam.")]


MODULES = sorted(
    p
    for p in PACKAGE.rglob("*.py")
    if p.relative_to(PACKAGE).parts[0] not in ("__init__.py", "__main__.py", "_bundled")
)


@pytest.mark.parametrize("file", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_layers_never_import_higher_ones(file):
    dotted = "expfam." + ".".join(file.relative_to(PACKAGE).with_suffix("").parts)
    own = _layer(dotted)
    for name in _imports(file):
        assert _layer(name) <= own, f"{dotted} (layer {own}) imports {name} ({_layer(name)})"


def test_every_subpackage_has_a_layer():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES}
    assert parts <= set(LAYERS), parts - set(LAYERS)


PUBLIC_IMPORTS = [
    "from expfam import softmax, log_softmax, logsumexp, cross_entropy, entropy, kl_divergence",
    "from expfam import sigmoid, log_sigmoid, softplus, logit, log1mexp",
    "from expfam import Categorical, Bernoulli, Dirichlet, ExponentialFamily",
    "from expfam import SNOW, BayesExample, posterior, posterior_trajectory, dirichlet_posterior",
    "from expfam import log_posterior, log_posterior_trajectory, log_marginal_likelihood",
    "from expfam.special import logsumexp, softmax, log_softmax, sigmoid, kl_divergence",
    "from expfam.families import Categorical, Bernoulli, Dirichlet, ExponentialFamily",
    "from expfam.bayes import posterior, dirichlet_posterior",
    "from expfam.datasets import SNOW, BayesExample",
    "from expfam.symbolic import Check, Arg, SymbolicFamily, family_checks, Logits, Simplex",
    "from expfam.symbolic import Interval, Reals, Positive, Integers, Shifted, softmax",
    "from expfam.plot import style",
    "from expfam.cli import main",
    "import expfam.special, expfam.symbolic",
]

# The 0.1 paths keep working for one release, with a DeprecationWarning naming the new path.
DEPRECATED_IMPORTS = [
    ("expfam.family", "from expfam.family import ExponentialFamily", "expfam.families"),
    ("expfam.categorical", "from expfam.categorical import Categorical", "expfam.families"),
    ("expfam.bernoulli", "from expfam.bernoulli import Bernoulli", "expfam.families"),
    ("expfam.dirichlet", "from expfam.dirichlet import Dirichlet", "expfam.families"),
    ("expfam.bayes", "from expfam.bayes import SNOW, BayesExample", "expfam.datasets"),
]


@pytest.mark.parametrize("statement", PUBLIC_IMPORTS)
def test_public_imports_of_version_0_1_keep_working(statement):
    exec(statement, {})


@pytest.mark.parametrize(("module", "statement", "new"), DEPRECATED_IMPORTS)
def test_deprecated_paths_warn_and_give_the_same_objects(module, statement, new):
    import expfam

    if module != "expfam.bayes":  # a fresh import, so that the module-level warning fires
        sys.modules.pop(module, None)
        if hasattr(expfam, module.split(".")[1]):
            delattr(expfam, module.split(".")[1])
    names: dict = {}
    with pytest.warns(DeprecationWarning, match=new):
        exec(statement, names)
    for name, value in names.items():
        if not name.startswith("__"):
            assert value is getattr(expfam, name)


def test_import_expfam_loads_numpy_and_scipy_only():
    code = (
        "import sys, expfam; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sympy', 'matplotlib', 'mpmath'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _private_reach(dotted: str, imported: str) -> bool:
    """Whether ``imported`` is an underscore module of a subpackage other than ``dotted``'s.

    ``expfam._core`` is the foundation: every subpackage may use its modules.
    """
    parts = imported.split(".")
    if len(parts) < 3 or parts[1] == "_core" or parts[1] == dotted.split(".")[1]:
        return False
    return any(part.startswith("_") for part in parts[2:])


@pytest.mark.parametrize("file", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_reaches_into_another_subpackages_private_modules(file):
    """Issue 18: special._args was used in 8 modules, _dd in dirichlet.py, _rows from
    geometry; the shared rules now live in expfam._core, and the rest stays private."""
    dotted = "expfam." + ".".join(file.relative_to(PACKAGE).with_suffix("").parts)
    names = []
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    reached = [n for n in names if n.startswith("expfam.") and _private_reach(dotted, n)]
    assert not reached, f"{dotted} imports {reached}"


def test_the_private_import_rule_sees_a_violation():
    assert _private_reach("expfam.geometry.divergences", "expfam.special._rows")
    assert not _private_reach("expfam.geometry.divergences", "expfam._core.args")
    assert not _private_reach("expfam.special._losses", "expfam.special._rows")
