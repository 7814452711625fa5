"""Deprecated: the version 0.1 path of :mod:`expfam.families.bernoulli`.

Import ``Bernoulli`` from :mod:`expfam` or :mod:`expfam.families` instead; this
module will be removed in a future release.
"""

import warnings

from expfam.families.bernoulli import Bernoulli

__all__ = ["Bernoulli"]

warnings.warn(
    "expfam.bernoulli is deprecated; import Bernoulli from expfam.families",
    DeprecationWarning,
    stacklevel=2,
)
