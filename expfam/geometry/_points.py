"""Reading points of the simplex: one rule for every function of ``expfam.geometry``.

A point is either

- a distribution that follows the :class:`SimplexPoint` protocol: it has
  ``logits``, shape (..., K), its log-probabilities up to one additive constant
  per row (the overcomplete natural coordinates; ``-inf`` for a class of
  probability 0), and optionally ``probs`` (equal to ``softmax(logits)``, used
  when present). :class:`~expfam.Categorical` qualifies; a family that is a
  categorical in other coordinates qualifies through a ``to_categorical()``
  method returning such an object (:class:`~expfam.Bernoulli`). A new family
  needs no edit here;
- or an array-like of probabilities on the last axis, validated once (real,
  finite, ``>= 0``, summing to 1 within ``sqrt(eps)`` of its dtype) with errors
  that name the caller's argument.

Distributions are read through their logits, arrays as the probabilities they
are (not renormalized: dividing by a sum of ``1 +- eps`` would move every entry
by an ULP and destroy the differences of nearby points).
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from expfam import special

__all__ = [
    "SimplexPoint",
    "as_log_point",
    "as_probs",
    "as_probs_pair",
    "as_real",
    "is_distribution",
    "solver_options",
]


@runtime_checkable
class SimplexPoint(Protocol):
    """A distribution on K classes given by its logits, shape (..., K).

    ``logits`` are the log-probabilities up to an additive constant per row;
    ``-inf`` marks a class of probability 0. An object may also expose
    ``probs`` (``softmax(logits)``); geometry uses it when its shape matches.

    A protocol, not a class to instantiate: ``isinstance(obj, SimplexPoint)``
    is true for any object with a ``logits`` attribute, such as
    :class:`~expfam.Categorical`.

    Parameters
    ----------
    *args, **kwargs
        None: a protocol cannot be instantiated (``SimplexPoint()`` raises
        TypeError).
    """

    @property
    def logits(self) -> NDArray: ...


def _distribution(p: Any) -> Any | None:
    """``p`` as a :class:`SimplexPoint`, or None if it is not a distribution."""
    if isinstance(p, np.ndarray | list | tuple | float | int | np.generic):
        return None
    if isinstance(p, SimplexPoint):
        return p
    convert = getattr(p, "to_categorical", None)
    if callable(convert):
        point = convert()
        if isinstance(point, SimplexPoint):
            return point
    return None


def is_distribution(p: Any) -> bool:
    """True for a :class:`SimplexPoint` (or a family convertible to one)."""
    return _distribution(p) is not None


def as_log_point(p: Any, name: str) -> tuple[NDArray, NDArray, bool]:
    """``(logits, probs, given_by_logits)`` of a point, each of shape (..., K).

    A distribution gives its own logits (finite where its probabilities
    underflow) and probabilities; a probability array gives ``log p``
    (``-inf`` at 0) and itself.
    """
    dist = _distribution(p)
    if dist is None:
        probs = as_probs(p, name)
        probs = probs / np.sum(probs, axis=-1, keepdims=True)  # logits of the distribution
        with np.errstate(divide="ignore"):
            return np.log(probs), probs, False
    logits = np.asarray(dist.logits)
    if logits.ndim < 1 or logits.shape[-1] < 1 or logits.dtype.kind != "f":
        raise TypeError(
            f"{name}: expected logits of shape (..., K) of a real float dtype, got "
            f"{logits.dtype} of shape {logits.shape}"
        )
    probs = getattr(dist, "probs", None)
    if not isinstance(probs, np.ndarray) or probs.shape != logits.shape:
        probs = special.softmax(logits)
    return logits, probs, True


def as_real(value: Any, name: str, *, min_ndim: int = 0) -> NDArray:
    """``value`` as a read-only real float array without NaN, with ``min_ndim`` axes or more.

    Integers and bools promote to float64; float dtypes are kept. Errors name ``name``.
    """
    array = _as_real_array(value, name)
    if array.ndim < min_ndim:
        raise ValueError(f"{name}: expected at least {min_ndim} axes, got shape {array.shape}")
    if np.any(np.isnan(array)):
        raise ValueError(f"{name}: expected numbers, got NaN")
    array = array.view()
    array.flags.writeable = False
    return array


def _as_real_array(p: Any, name: str) -> NDArray:
    try:
        probs = np.asarray(p)
    except ValueError:  # a ragged nested sequence
        raise ValueError(
            f"{name}: expected a rectangular array (probabilities of shape (..., K)), "
            "got a ragged sequence"
        ) from None
    if probs.dtype.kind not in "biuf":
        raise TypeError(
            f"{name}: expected real probabilities, got an array of dtype {probs.dtype}"
        )
    return probs if probs.dtype.kind == "f" else probs.astype(np.float64)


def as_probs(p: Any, name: str, check_values: bool = True) -> NDArray:
    """Probabilities of ``p``, shape (..., K), read-only.

    A distribution gives its ``probs``; an array-like is validated and
    returned as given (not renormalized). ``check_values=False`` checks the
    type and shape only: for a caller that sums the rows anyway and checks them
    with :func:`rows_look_valid` (then calls this again to raise).
    """
    dist = _distribution(p)
    if dist is not None:
        return as_log_point(dist, name)[1]
    probs = _as_real_array(p, name)
    if probs.ndim < 1 or probs.shape[-1] < 2:
        raise ValueError(
            f"{name}: expected K >= 2 classes on the last axis, got shape {probs.shape}"
        )
    # two reductions in the common case (NaN fails the min, inf the sum); the full
    # checks, with their messages, only when one fails
    if (
        check_values
        and probs.size
        and not rows_look_valid(np.min(probs), np.sum(probs, axis=-1), probs.dtype)
    ):
        check_probabilities(probs, name)
    view = probs.view()
    view.flags.writeable = False
    return view


def check_probabilities(probs: NDArray, name: str) -> None:
    """ValueError naming ``name`` unless every row is finite, ``>= 0`` and sums to 1."""
    if not np.all(np.isfinite(probs)) or np.any(probs < 0):
        bad = probs[~(np.isfinite(probs) & (probs >= 0))]
        raise ValueError(f"{name}: expected probabilities finite and >= 0, got {bad[:5]}")
    tol = np.sqrt(np.finfo(probs.dtype).eps)
    sums = np.sum(probs, axis=-1)
    off = np.abs(sums - 1) > tol
    if np.any(off):
        raise ValueError(
            f"{name}: expected rows that sum to 1 within {tol:.3g}, got sums {sums[off][:5]} "
            "(for logits, pass Categorical(logits=...))"
        )


def rows_look_valid(minimum: Any, sums: NDArray, dtype: np.dtype, margin: float = 1.0) -> bool:
    """True if entries ``>= minimum >= 0`` and row ``sums`` pass :func:`as_probs`' checks.

    ``margin < 1`` narrows the tolerance on the sums, for sums formed in another
    precision than ``as_probs`` forms them (a borderline row is then left to it).
    """
    tol = margin * np.sqrt(np.finfo(dtype).eps)
    return bool(minimum >= 0 and np.all(np.abs(sums - 1) <= tol))


def check_pair(sa: tuple[int, ...], sb: tuple[int, ...], names: tuple[str, str]) -> None:
    """ValueError unless shapes ``sa`` and ``sb`` have the same K and broadcasting batches."""
    if sa[-1] != sb[-1]:
        raise ValueError(
            f"{names[1]}: expected the same K as {names[0]} ({sa[-1]} classes), got {sb[-1]}"
        )
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        raise ValueError(
            f"{names[1]}: expected a batch shape that broadcasts with {names[0]}'s "
            f"{sa[:-1]}, got {sb[:-1]}"
        ) from None


def as_probs_pair(
    p: Any, q: Any, names: tuple[str, str] = ("p", "q"), check_values: bool = True
) -> tuple[NDArray, NDArray]:
    """:func:`as_probs` of two points with the same K and broadcastable batch shapes."""
    a, b = as_probs(p, names[0], check_values), as_probs(q, names[1], check_values)
    check_pair(a.shape, b.shape, names)
    return a, b


def as_log_pair(
    p: Any, q: Any, names: tuple[str, str] = ("p", "q")
) -> tuple[tuple[NDArray, NDArray, bool], tuple[NDArray, NDArray, bool]]:
    """:func:`as_log_point` of two points, checked as :func:`as_probs_pair` checks them."""
    a, b = as_log_point(p, names[0]), as_log_point(q, names[1])
    check_pair(a[0].shape, b[0].shape, names)
    return a, b


def solver_options(tol: Any, max_iter: Any) -> tuple[float, int]:
    """``tol`` a finite real ``>= 0`` and ``max_iter`` a positive integer, or an error."""
    if isinstance(tol, bool) or not isinstance(tol, int | float | np.integer | np.floating):
        raise TypeError(f"tol: expected a real number >= 0, got {tol!r}")
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol: expected a finite number >= 0, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer):
        raise TypeError(f"max_iter: expected a positive integer, got {max_iter!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter}")
    return float(tol), int(max_iter)
