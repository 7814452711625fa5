"""Deprecated: the version 0.1 path of :mod:`expfam.families.dirichlet`.

Import ``Dirichlet`` from :mod:`expfam` or :mod:`expfam.families` instead; this
module will be removed in a future release.
"""

import warnings

from expfam.families.dirichlet import Dirichlet

__all__ = ["Dirichlet"]

warnings.warn(
    "expfam.dirichlet is deprecated; import Dirichlet from expfam.families",
    DeprecationWarning,
    stacklevel=2,
)
