"""The one set of argument rules of the kernels and the families.

Every public kernel of :mod:`expfam.special`, and every family of
:mod:`expfam.families`, reads its arguments here, so that an axis, a mask, an
inverse temperature, a target, a sample shape or a random generator means the
same thing everywhere and a bad argument gets the same error naming it:

- arrays: float16/32/64 keep their dtype, integers and bools promote to float64
  (:func:`as_real`);
- ``axis``: an int, a tuple of ints or None; the named axes together hold one
  distribution, whose classes are numbered in C order over them
  (:class:`RowLayout`). A 0-d input is one distribution of one class;
- ``where``: a boolean mask broadcasting to the input; masked entries are
  classes of probability 0 (:func:`masked`);
- ``beta``: a real number ``>= 0`` or an array of them broadcasting with the
  batch shape (the shape without the class axes), or against the input when
  it has length 1 on the class axes (:func:`beta_array`, :meth:`RowLayout.broadcast`);
- targets: integer arrays are class indices, float (or bool) arrays are
  probability vectors with the logits' number of axes (:func:`is_index_target`);
- ``sample_shape``: an int or a tuple of ints (:func:`as_sample_shape`);
  ``rng``: a Generator, a seed or None (:func:`as_rng`).
"""

from __future__ import annotations

import contextvars
import math
import operator
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam._core.exceptions import ProbabilitiesAsLogitsWarning


def as_real(x: ArrayLike, name: str) -> tuple[NDArray, np.dtype]:
    """Return ``x`` as a real array and the dtype the result must have."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}: cannot be read as an array ({exc})") from None
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype.itemsize <= 8:
        return arr, arr.dtype
    if kind in "biu":
        return arr.astype(np.float64), np.dtype(np.float64)
    raise TypeError(
        f"{name}: expected real numbers (float16/32/64, int or bool), "
        f"got an array of dtype {arr.dtype}"
    )


def axis_index(axis: object, ndim: int, name: str = "axis") -> int:
    """``axis`` as an index in ``[0, ndim)``; TypeError/ValueError naming ``name`` otherwise."""
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise TypeError(f"{name}: expected an integer, a tuple of integers or None, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: {axis} is out of range for an array of {ndim} dimension(s)")
    return int(axis) % ndim


def axes_tuple(axis: object, ndim: int) -> tuple[int, ...]:
    """Normalize ``None`` / int / sequence of ints to a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Sequence) and not isinstance(axis, str):
        axes = tuple(axis_index(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis: repeated axis in {axis!r}")
        return tuple(sorted(axes))
    return (axis_index(axis, ndim),)


@dataclass(frozen=True)
class RowLayout:
    """How an array of ``shape`` is read as rows of distributions over the axes ``axes``.

    The named axes are moved last (in increasing order) and flattened: the
    array becomes ``(n_rows, k)``, ``k`` the number of classes of one
    distribution, ``n_rows`` the product of the batch shape.
    """

    shape: tuple[int, ...]
    axes: tuple[int, ...]

    @classmethod
    def of(cls, arr: NDArray, axis: object) -> tuple[NDArray, RowLayout]:
        """``arr`` (a 0-d array read as one class, shape (1,)) and its layout over ``axis``."""
        arr = arr.reshape(arr.shape or (1,))
        return arr, cls(arr.shape, axes_tuple(axis, arr.ndim))

    @property
    def kept(self) -> tuple[int, ...]:
        return tuple(i for i in range(len(self.shape)) if i not in self.axes)

    @property
    def batch(self) -> tuple[int, ...]:
        """The batch shape: ``shape`` without the class axes."""
        return tuple(self.shape[i] for i in self.kept)

    @property
    def keepdims_shape(self) -> tuple[int, ...]:
        """``shape`` with length 1 on the class axes."""
        return tuple(1 if i in self.axes else n for i, n in enumerate(self.shape))

    @property
    def k(self) -> int:
        return math.prod(self.shape[i] for i in self.axes)

    @property
    def n_rows(self) -> int:
        return math.prod(self.batch)

    @property
    def _order(self) -> tuple[int, ...]:
        return self.kept + self.axes

    @property
    def _trailing(self) -> bool:
        """Whether the class axes are already the last ones (no transposition)."""
        return self.axes == tuple(range(len(self.shape) - len(self.axes), len(self.shape)))

    def rows(self, a: NDArray) -> NDArray:
        """``a`` (of shape ``shape``, or broadcasting to it) as C-contiguous ``(n_rows, k)``."""
        if a.shape != self.shape:
            a = np.broadcast_to(a, self.shape)
        if not self._trailing:
            a = np.transpose(a, self._order)
        return np.ascontiguousarray(a).reshape(self.n_rows, self.k)

    def per_row(self, a: NDArray) -> NDArray:
        """``a`` broadcasting to :attr:`keepdims_shape`, as ``(n_rows,)``; 0-d stays 0-d."""
        if np.ndim(a) == 0:
            return np.asarray(a)
        a = np.transpose(np.broadcast_to(a, self.keepdims_shape), self._order)
        return np.ascontiguousarray(a).reshape(self.n_rows)

    def unrows(self, out: NDArray) -> NDArray:
        """The inverse of :meth:`rows`: ``(n_rows, k)`` back to ``shape``."""
        if self._trailing:
            return out.reshape(self.shape)
        moved = out.reshape(tuple(self.shape[i] for i in self._order))
        return np.transpose(moved, np.argsort(self._order))

    def reduced(self, out: NDArray, keepdims: bool) -> NDArray:
        """One value per row, ``(n_rows,)``, as the batch shape (or :attr:`keepdims_shape`)."""
        return out.reshape(self.keepdims_shape if keepdims else self.batch)

    def broadcast(self, values: NDArray, name: str) -> tuple[RowLayout, NDArray]:
        """The layout after broadcasting with per-row ``values``, and ``values`` laid out.

        ``values`` broadcasts with the batch shape, which it may extend on the
        left (a batch of temperatures, of targets); or it broadcasts against
        the input itself (numpy's rule, axes aligned on the right), with
        length 1 on the class axes (``beta[:, None]`` for rows, the
        ``keepdims`` form). The second result has length 1 on the class axes:
        :meth:`per_row` reads it.
        """
        v = np.asarray(values)
        if v.ndim == 0:
            return self, v
        offset = v.ndim - len(self.shape)
        if offset >= 0 and all(v.shape[offset + i] == 1 for i in self.axes):
            v = np.squeeze(v, axis=tuple(offset + i for i in self.axes))
        try:
            batch = np.broadcast_shapes(v.shape, self.batch)
        except ValueError:
            raise ValueError(
                f"{name}: shape {v.shape} does not broadcast with the batch shape {self.batch} "
                f"(the input's shape {self.shape} without its class axes)"
            ) from None
        extra = len(batch) - len(self.batch)
        axes = tuple(a + extra for a in self.axes)
        v = np.expand_dims(v.reshape((1,) * (len(batch) - v.ndim) + v.shape), axes)
        return RowLayout(np.broadcast_shapes((1,) * extra + self.shape, v.shape), axes), v


def masked(x: NDArray, where: ArrayLike | None) -> tuple[NDArray, NDArray | None]:
    """``x`` with the entries outside the mask ``where`` set to ``-inf``, and the mask.

    ``where`` is None (no mask) or a boolean array broadcasting to ``x``'s shape.
    """
    if where is None:
        return x, None
    mask = np.asarray(where)
    if mask.dtype != np.bool_:
        raise TypeError(f"where: expected a boolean mask, got an array of dtype {mask.dtype}")
    try:
        mask = np.broadcast_to(mask, x.shape)
    except ValueError:
        raise ValueError(
            f"where: shape {mask.shape} does not broadcast to the input's shape {x.shape}"
        ) from None
    return np.where(mask, x, x.dtype.type(-np.inf)), mask


def beta_array(beta: object, name: str = "beta") -> NDArray:
    """``beta`` as a float64 array of inverse temperatures, each ``>= 0`` (``inf`` allowed)."""
    if type(beta) is float and beta >= 0.0:
        return np.asarray(beta)
    arr = np.asarray(beta)
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name}: expected a real number or an array of them (inverse temperatures), "
            f"got {beta!r}"
        )
    arr = arr.astype(np.float64)
    if not (arr >= 0).all():
        raise ValueError(f"{name}: the inverse temperature must be >= 0, got {beta!r}")
    return arr


def is_index_target(target: NDArray, logits_ndim: int, name: str = "target") -> bool:
    """True for class indices (integers), False for probability vectors (floats, bools).

    A probability target must have the logits' number of axes (its batch axes
    broadcast); a float of any other shape is an error rather than a guess.
    """
    kind = target.dtype.kind
    if kind in "iu":
        return True
    if kind not in "fb":
        raise TypeError(
            f"{name}: expected integer class indices or a float probability vector, "
            f"got dtype {target.dtype}"
        )
    if target.ndim != max(logits_ndim, 1):
        raise ValueError(
            f"{name}: a float {name} is a probability vector over the classes and must have "
            f"the logits' {max(logits_ndim, 1)} axes, got shape {target.shape}; pass class "
            f"indices as integers (e.g. {name}.astype(int))"
        )
    return False


def as_sample_shape(sample_shape: object, name: str = "sample_shape") -> tuple[int, ...]:
    """A sample shape from an int or a tuple of ints >= 0, as numpy's ``size``."""
    dims = sample_shape if isinstance(sample_shape, tuple | list) else (sample_shape,)
    try:
        if any(isinstance(n, bool | np.bool_) for n in dims):
            raise TypeError
        out = tuple(operator.index(n) for n in dims)
    except TypeError:
        raise TypeError(
            f"{name}: expected an int or a tuple of ints, got {sample_shape!r}"
        ) from None
    if any(n < 0 for n in out):
        raise ValueError(f"{name}: expected non-negative ints, got {sample_shape!r}")
    return out


def as_rng(rng: object, name: str = "rng") -> np.random.Generator:
    """A numpy Generator from a Generator, an int seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, int | np.integer)):
        raise TypeError(
            f"{name}: expected a numpy.random.Generator, an int seed or None, got {rng!r}"
        )
    if rng is not None and rng < 0:
        raise ValueError(f"{name}: a seed must be >= 0, got {rng!r}")
    return np.random.default_rng(rng)


def scalar(out: NDArray) -> NDArray:
    """0-d results come back as numpy scalars, as numpy reductions do."""
    return out[()] if out.ndim == 0 else out


def one_row(x: object, axis: object, where: object = None) -> NDArray | None:
    """``x`` as a ``(1, K)`` row when its arguments need no reading: a 1-D float ndarray,
    ``axis`` its one axis, no mask. The fast path of the small inputs; None otherwise."""
    if (
        type(x) is np.ndarray
        and x.ndim == 1
        and x.size > 0
        and x.dtype.kind == "f"
        and x.dtype.itemsize <= 8
        and type(axis) is int
        and axis in (-1, 0)
        and where is None
    ):
        return x.reshape(1, -1)
    return None


def plain_beta(beta: object) -> float | None:
    """``beta`` if it is a finite Python float or int ``> 0`` (no reading needed), else None."""
    if type(beta) in (float, int) and 0 < beta < math.inf:
        return float(beta)
    return None


_DECLARED = contextvars.ContextVar("expfam_logits_declared", default=False)


@contextmanager
def declared_logits() -> Iterator[None]:
    """Inside, :func:`warn_if_probabilities` is silent: for callers whose arrays are
    logits by construction (a family's natural parameters, given as logits by name).

    Yields
    ------
    None
        Inside the block the kernels take their arguments as logits unchecked.

    Examples
    --------
    >>> with declared_logits():
    ...     warn_if_probabilities([0.5, 0.5], -1, "logits", "entropy", "from_probs")
    False
    """
    token = _DECLARED.set(True)
    try:
        yield
    finally:
        _DECLARED.reset(token)


def warn_if_probabilities(
    x: ArrayLike, axis: object, name: str, function: str, instead: str
) -> bool:
    """Warn when ``x``, given as logits, looks like probabilities along ``axis``.

    Every row in [0, 1] and summing to 1 within ``sqrt(eps)``, ``K >= 2``, and
    not every entry 0 or 1 (one-hot rows are valid logits too):
    then :class:`ProbabilitiesAsLogitsWarning` names ``instead``, the function
    that takes probabilities. The first entry, then the first row, is tested
    alone first, so an ordinary call reads one entry or one row, not the data. Only an int ``axis``
    (or None on a 1-D input) is checked. Returns whether it warned.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warned = warn_if_probabilities([0.2, 0.8], -1, "p", "kl_divergence", "geometry.kl")
    >>> warned, str(caught[0].message).split(" (")[0]
    (True, 'p: kl_divergence takes logits, got rows that look like probabilities')
    """
    if _DECLARED.get():
        return False
    x = x if isinstance(x, np.ndarray) else np.asarray(x)
    if axis is None and x.ndim == 1:
        axis = 0
    if type(axis) is not int or x.dtype.kind != "f" or x.ndim == 0 or x.size == 0:
        return False
    if not -x.ndim <= axis < x.ndim or x.shape[axis] < 2:
        return False
    tolerance = np.sqrt(np.finfo(x.dtype).eps)

    def look_like_probabilities(r: NDArray) -> bool:
        if r.ndim == 1 and r.size <= 16:  # a short row: plain floats beat numpy's calls
            v = r.tolist()
            return all(0 <= e <= 1 for e in v) and abs(math.fsum(v) - 1) <= tolerance
        # in [0, 1] first (NaN fails it; no temporaries): then the sums cannot overflow
        if not (r.min() >= 0 and r.max() <= 1):
            return False
        sums = np.sum(r, axis=axis if r.ndim == x.ndim else -1)
        return bool(np.all(np.abs(sums - 1) <= tolerance))

    first = x[tuple(slice(None) if d == axis % x.ndim else 0 for d in range(x.ndim))]
    if not 0 <= first[0] <= 1 or not look_like_probabilities(first):
        return False  # an ordinary row of logits: one entry or one row read
    if not look_like_probabilities(x) or not np.any((x > 0) & (x < 1)):
        return False  # one-hot rows are valid logits too
    warnings.warn(
        f"{name}: {function} takes logits, got rows that look like probabilities "
        f"(in [0, 1], summing to 1); for probabilities use {instead}",
        ProbabilitiesAsLogitsWarning,
        stacklevel=4,
    )
    return True
