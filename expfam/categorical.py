"""Deprecated: the version 0.1 path of :mod:`expfam.families.categorical`.

Import ``Categorical`` from :mod:`expfam` or :mod:`expfam.families` instead; this
module will be removed in a future release.
"""

import warnings

from expfam.families.categorical import Categorical

__all__ = ["Categorical"]

warnings.warn(
    "expfam.categorical is deprecated; import Categorical from expfam.families",
    DeprecationWarning,
    stacklevel=2,
)
