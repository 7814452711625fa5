"""Reading points of the simplex: one rule for every function of ``expfam.geometry``.

A point is a :class:`~expfam.Categorical`, a :class:`~expfam.Bernoulli` (read as
its two-class categorical), or an array-like of probabilities on the last axis,
validated as :meth:`Categorical.from_probs` does (finite, ``>= 0``, summing to 1
within ``sqrt(eps)``) with errors naming the argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from expfam.families.bernoulli import Bernoulli
from expfam.families.categorical import Categorical
from expfam.families.family import as_float_array, check_probability_vector


def as_point(p: Any, name: str) -> Categorical:
    """Return ``p`` as a :class:`Categorical`; ValueError/TypeError naming ``name``."""
    if isinstance(p, Categorical):
        return p
    if isinstance(p, Bernoulli):
        return p.to_categorical()
    probs = as_float_array(p, name, min_ndim=1)
    if probs.shape[-1] < 2:
        raise ValueError(f"{name} must have K >= 2 classes on the last axis, got {probs.shape}")
    check_probability_vector(probs, name, None, complete=True)
    return Categorical.from_probs(probs)


def as_pair(
    p: Any, q: Any, names: tuple[str, str] = ("p", "q")
) -> tuple[Categorical, Categorical]:
    """Two points with the same number of classes and broadcastable batch shapes."""
    a, b = as_point(p, names[0]), as_point(q, names[1])
    ka, kb = a.logits.shape[-1], b.logits.shape[-1]
    if ka != kb:
        raise ValueError(f"{names[0]} and {names[1]} must have the same K, got {ka} and {kb}")
    try:
        np.broadcast_shapes(a.logits.shape, b.logits.shape)
    except ValueError:
        raise ValueError(
            f"{names[0]} and {names[1]} have batch shapes that do not broadcast: "
            f"{a.logits.shape[:-1]} and {b.logits.shape[:-1]}"
        ) from None
    return a, b
