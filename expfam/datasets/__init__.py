"""Small data sets shipped with expfam."""

from expfam.datasets.gettysburg import GETTYSBURG_SHA256, load_gettysburg

__all__: list[str] = []
__all__ += ["GETTYSBURG_SHA256", "load_gettysburg"]
