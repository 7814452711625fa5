"""expfam.plot exports exactly the names it defines for users, and nothing it imports."""

import inspect

import pytest

plot = pytest.importorskip("expfam.plot")


def test_all_lists_every_public_definition_and_no_import():
    defined = {
        name
        for name, value in vars(plot).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and (getattr(value, "__module__", plot.__name__) == plot.__name__ or name.isupper())
    }
    assert sorted(plot.__all__) == sorted(defined)


def test_star_import_brings_no_module_or_helper():
    namespace: dict = {}
    exec("from expfam.plot import *", namespace)
    assert not {"np", "os", "secrets", "mpl", "Path", "Figure"} & namespace.keys()
    assert {"simplex_axes", "reliability_diagram", "COLORS"} <= namespace.keys()


def test_file_writing_lives_in_figures():
    """Issue 18: the file I/O moved from plot (style and simplex drawing) to figures."""
    from expfam import figures

    assert {"atomic_path", "save_figure", "save_csv"} <= set(figures.__all__)
    assert not {"atomic_path", "save_figure", "save_csv"} & set(plot.__all__)
