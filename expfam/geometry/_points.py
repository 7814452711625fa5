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
    return Categorical._from_probs(p, name, None)


def as_pair(
    p: Any, q: Any, names: tuple[str, str] = ("p", "q")
) -> tuple[Categorical, Categorical]:
    """Two points with the same number of classes and broadcastable batch shapes."""
    a, b = as_point(p, names[0]), as_point(q, names[1])
    _check_pair(a.logits.shape, b.logits.shape, names)
    return a, b


def _check_pair(sa: tuple[int, ...], sb: tuple[int, ...], names: tuple[str, str]) -> None:
    """ValueError unless shapes ``sa`` and ``sb`` have the same K and broadcasting batches."""
    if sa[-1] != sb[-1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same K, got {sa[-1]} and {sb[-1]}"
        )
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        raise ValueError(
            f"{names[0]} and {names[1]} have batch shapes that do not broadcast: "
            f"{sa[:-1]} and {sb[:-1]}"
        ) from None


def as_probs(p: Any, name: str, check_values: bool = True) -> NDArray:
    """Probabilities of ``p`` (read as :func:`as_point` does), without forming logits.

    A :class:`Categorical` or :class:`Bernoulli` gives its ``probs``; an
    array-like is validated as :func:`as_point` validates it and returned as
    given, shape (..., K): it is not renormalized, because dividing by a sum
    of ``1 +- eps`` would move every entry by up to an ULP and destroy the
    differences of nearby points (a distance of 1e-12 would keep 4 digits).
    ``check_values=False`` checks the type and shape only: for a caller that
    sums the rows anyway and checks them with :func:`rows_look_valid` (then
    calls this again to raise).
    """
    if isinstance(p, Categorical | Bernoulli):
        return as_point(p, name).probs
    probs = np.asarray(p)
    if probs.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {probs.dtype}")
    if probs.dtype.kind != "f":
        probs = probs.astype(np.float64)
    if probs.ndim < 1 or probs.shape[-1] < 2:
        raise ValueError(f"{name} must have K >= 2 classes on the last axis, got {probs.shape}")
    # two reductions in the common case (NaN fails the min, inf the sum); the full
    # checks, with their messages, only when one fails
    if (
        check_values
        and probs.size
        and not rows_look_valid(np.min(probs), np.sum(probs, axis=-1), probs.dtype)
    ):
        check_probability_vector(as_float_array(probs, name), name, None, complete=True)
    view = probs.view()
    view.flags.writeable = False
    return view


def rows_look_valid(minimum: Any, sums: NDArray, dtype: np.dtype, margin: float = 1.0) -> bool:
    """True if entries ``>= minimum >= 0`` and row ``sums`` pass :func:`as_probs`' checks.

    ``margin < 1`` narrows the tolerance on the sums, for sums formed in another
    precision than ``as_probs`` forms them (a borderline row is then left to it).
    """
    tol = margin * np.sqrt(np.finfo(dtype).eps)
    return bool(minimum >= 0 and np.all(np.abs(sums - 1) <= tol))


def as_probs_pair(
    p: Any, q: Any, names: tuple[str, str] = ("p", "q"), check_values: bool = True
) -> tuple[NDArray, NDArray]:
    """:func:`as_probs` of two points checked as :func:`as_pair` checks them."""
    a, b = as_probs(p, names[0], check_values), as_probs(q, names[1], check_values)
    _check_pair(a.shape, b.shape, names)
    return a, b


def is_distribution(p: Any) -> bool:
    """True for a :class:`Categorical` or :class:`Bernoulli` (points given by their logits)."""
    return isinstance(p, Categorical | Bernoulli)
