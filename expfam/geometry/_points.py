"""Reading points of the simplex: one rule for every function of ``expfam.geometry``.

A point is a :class:`~expfam.Categorical`, a :class:`~expfam.Bernoulli` (read as
its two-class categorical), or an array-like of probabilities on the last axis,
validated as :meth:`Categorical.from_probs` does (finite, ``>= 0``, summing to 1
within ``sqrt(eps)``) with errors naming the argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

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
    _check_pair(a.logits.shape, b.logits.shape, names)
    return a, b


def is_distribution(p: Any) -> bool:
    """True for a :class:`Categorical` or :class:`Bernoulli` (points given by their logits)."""
    return isinstance(p, Categorical | Bernoulli)


def as_probs(p: Any, name: str) -> NDArray:
    """An array-like of probabilities, validated as :func:`as_point` does, *not* renormalized.

    For code that works on the probabilities as given (their exact values,
    divided by their sum where that sum matters): ``as_point`` rounds them
    once more, through ``p / sum(p)`` and ``log``.
    """
    probs = as_float_array(p, name, min_ndim=1)
    if probs.shape[-1] < 2:
        raise ValueError(f"{name} must have K >= 2 classes on the last axis, got {probs.shape}")
    check_probability_vector(probs, name, None, complete=True)
    return probs


def as_prob_pair(p: Any, q: Any, names: tuple[str, str] = ("p", "q")) -> tuple[NDArray, NDArray]:
    """Two arrays of probabilities (:func:`as_probs`) with the same K and broadcastable shapes."""
    a, b = as_probs(p, names[0]), as_probs(q, names[1])
    _check_pair(a.shape, b.shape, names)
    return a, b


def _check_pair(shape_a: tuple[int, ...], shape_b: tuple[int, ...], names) -> None:
    ka, kb = shape_a[-1], shape_b[-1]
    if ka != kb:
        raise ValueError(f"{names[0]} and {names[1]} must have the same K, got {ka} and {kb}")
    try:
        np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        raise ValueError(
            f"{names[0]} and {names[1]} have batch shapes that do not broadcast: "
            f"{shape_a[:-1]} and {shape_b[:-1]}"
        ) from None
