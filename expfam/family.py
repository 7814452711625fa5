"""Deprecated: the version 0.1 path of :mod:`expfam.families.family`.

Import ``ExponentialFamily`` from :mod:`expfam` or :mod:`expfam.families` instead; this
module will be removed in a future release.
"""

import warnings

from expfam.families.family import ExponentialFamily

__all__ = ["ExponentialFamily"]

warnings.warn(
    "expfam.family is deprecated; import ExponentialFamily from expfam.families",
    DeprecationWarning,
    stacklevel=2,
)
