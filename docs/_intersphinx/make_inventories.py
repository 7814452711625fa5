"""Write the intersphinx inventories that the docs build reads (no network).

The real inventories of numpy, scipy, sympy, matplotlib and Python are
megabytes and cannot be fetched by an offline build; these hold the objects
that expfam's docstrings refer to, with the address each has on its project's
site. Add a line to ``OBJECTS`` when a docstring links a new one, then run::

    python docs/_intersphinx/make_inventories.py
"""

from __future__ import annotations

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# project: [(name, role, address relative to the project's documentation root)]
OBJECTS = {
    "python": [
        ("os.replace", "py:function", "library/os.html#os.replace"),
        ("pathlib.Path", "py:class", "library/pathlib.html#pathlib.Path"),
        ("functools.partial", "py:class", "library/functools.html#functools.partial"),
        ("typing.NamedTuple", "py:class", "library/typing.html#typing.NamedTuple"),
        ("dataclasses.dataclass", "py:function", "library/dataclasses.html#dataclasses.dataclass"),
    ],
    "numpy": [
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#numpy.ndarray"),
        (
            "numpy.random.Generator",
            "py:class",
            "reference/random/generator.html#numpy.random.Generator",
        ),
        (
            "numpy.random.default_rng",
            "py:function",
            "reference/random/generator.html#numpy.random.default_rng",
        ),
        ("numpy.exp", "py:data", "reference/generated/numpy.exp.html#numpy.exp"),
        ("numpy.log1p", "py:data", "reference/generated/numpy.log1p.html#numpy.log1p"),
        ("numpy.logaddexp", "py:data", "reference/generated/numpy.logaddexp.html#numpy.logaddexp"),
        ("numpy.errstate", "py:class", "reference/generated/numpy.errstate.html#numpy.errstate"),
    ],
    "scipy": [
        (
            f"scipy.special.{name}",
            "py:function",
            f"reference/generated/scipy.special.{name}.html#scipy.special.{name}",
        )
        for name in (
            "logsumexp",
            "softmax",
            "log_softmax",
            "expit",
            "logit",
            "log_expit",
            "entr",
            "rel_entr",
            "xlogy",
        )
    ]
    + [
        (
            "scipy.spatial.distance.jensenshannon",
            "py:function",
            "reference/generated/scipy.spatial.distance.jensenshannon.html"
            "#scipy.spatial.distance.jensenshannon",
        ),
        (
            "scipy.stats.entropy",
            "py:function",
            "reference/generated/scipy.stats.entropy.html#scipy.stats.entropy",
        ),
        (
            "scipy.optimize.minimize",
            "py:function",
            "reference/generated/scipy.optimize.minimize.html#scipy.optimize.minimize",
        ),
    ],
    "sympy": [
        ("sympy.core.expr.Expr", "py:class", "modules/core.html#sympy.core.expr.Expr"),
        ("sympy.core.symbol.Symbol", "py:class", "modules/core.html#sympy.core.symbol.Symbol"),
        (
            "sympy.utilities.lambdify.lambdify",
            "py:function",
            "modules/utilities/lambdify.html#sympy.utilities.lambdify.lambdify",
        ),
        (
            "sympy.simplify.simplify.simplify",
            "py:function",
            "modules/simplify/simplify.html#sympy.simplify.simplify.simplify",
        ),
    ],
    "matplotlib": [
        (
            "matplotlib.figure.Figure",
            "py:class",
            "api/_as_gen/matplotlib.figure.Figure.html#matplotlib.figure.Figure",
        ),
        (
            "matplotlib.figure.Figure.subplots",
            "py:method",
            "api/_as_gen/matplotlib.figure.Figure.html#matplotlib.figure.Figure.subplots",
        ),
        (
            "matplotlib.axes.Axes",
            "py:class",
            "api/_as_gen/matplotlib.axes.Axes.html#matplotlib.axes.Axes",
        ),
        (
            "matplotlib.rc_context",
            "py:function",
            "api/matplotlib_configuration_api.html#matplotlib.rc_context",
        ),
    ],
}


def write(project: str, objects: list[tuple[str, str, str]]) -> Path:
    """Write ``project.inv`` in the Sphinx inventory format, version 2."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        "# Version: \n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in sorted(objects))
    path = HERE / f"{project}.inv"
    path.write_bytes(header + zlib.compress(body.encode(), 9))
    return path


if __name__ == "__main__":
    for project, objects in OBJECTS.items():
        print(write(project, objects))
