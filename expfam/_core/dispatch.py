"""Which tier computes a call: the numpy engine, the portable array-API tier, or Dask.

Every public kernel reads its arguments, then asks :func:`tier_of` where the
work goes:

- ``"numpy"``: numpy arrays and scalars, Python numbers, strings (options
  such as ``binning="quantile"``), lists, tuples and None. The compiled
  engine takes them. This check costs a few type lookups
  and imports nothing, so small numpy calls stay cheap;
- ``"dask"``: any argument is a dask array (the others numpy or scalars);
- ``"portable"``: every array argument belongs to one other array-API
  namespace (torch, JAX, CuPy, array-api-strict), found by
  array-api-compat's ``array_namespace`` (imported on first use).

:func:`tiered` wraps a public function with this dispatch: numpy calls run
the function itself; a dask or array-API call runs the function of the same
name in the subpackage's tier module (``_dask.py`` or ``_portable.py`` beside
it), which takes the same arguments. A function with no such twin refuses
those arrays with an error naming the argument (the families are numpy-only).

Arrays of two different non-numpy namespaces in one call (a torch ``p`` with
a JAX ``q``), or a numpy array beside a tensor, are refused with an error
naming the argument, instead of a silent conversion.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import numpy as np

Tier = Literal["numpy", "dask", "portable"]

_NUMPY_TYPES = (np.ndarray, np.generic, float, int, bool, complex, str, list, tuple, type(None))
# The exact types of the hot calls with one positional argument (a number or an array).
_ONE_PLAIN = frozenset({np.ndarray, np.float64, np.float32, float, int})
_NO_ARGUMENT = object()  # the wrappers' first argument when a call has none


def _library(a: object) -> str:
    """The top-level package of ``a``'s type: ``"torch"``, ``"jax"``, ``"dask"``, ..."""
    return type(a).__module__.partition(".")[0]


def tier_of(**arrays: Any) -> Tier:
    """The tier for a call whose array arguments are ``arrays`` (by the caller's names).

    Examples
    --------
    >>> import numpy as np
    >>> tier_of(x=np.zeros(3), where=None)
    'numpy'
    >>> tier_of(x=[1.0, 2.0], beta=2.0)
    'numpy'
    """
    foreign = {n: a for n, a in arrays.items() if not isinstance(a, _NUMPY_TYPES)}
    if not foreign:
        return "numpy"
    libraries = {n: _library(a) for n, a in foreign.items()}
    if "dask" in libraries.values():
        others = {n: lib for n, lib in libraries.items() if lib != "dask"}
        if others:
            name, lib = next(iter(others.items()))
            raise TypeError(
                f"{name}: expected a dask or numpy array beside a dask array, got a {lib} array"
            )
        return "dask"
    namespace_of(**foreign)
    plain = [n for n, a in arrays.items() if isinstance(a, np.ndarray)]
    if plain:
        lib = next(iter(libraries.values()))
        raise TypeError(
            f"{plain[0]}: expected a {lib} array like the other arguments, got a numpy array "
            f"(convert it with the {lib} namespace first)"
        )
    return "portable"


def namespace_of(**arrays: Any) -> Any:
    """The one array-API namespace of ``arrays`` (None entries and Python numbers skipped).

    Raises TypeError naming the first argument whose namespace differs.
    """
    import array_api_compat

    xp, first = None, None
    for name, a in arrays.items():
        if a is None or isinstance(a, int | float | bool | complex):
            continue
        try:
            ns = array_api_compat.array_namespace(a)
        except TypeError:
            raise TypeError(
                f"{name}: expected an array (numpy, torch, JAX, CuPy, dask or any array-API "
                f"array), got {type(a).__name__}"
            ) from None
        if xp is None:
            xp, first = ns, name
        elif ns is not xp:
            raise TypeError(
                f"{name}: expected an array of the same library as {first} "
                f"({_library(arrays[first])}), got a {_library(a)} array"
            )
    return xp


F = TypeVar("F", bound=Callable[..., Any])


def _is_array(a: object) -> bool:
    """Whether ``a`` is an array of some library (numpy's, or any the tiers can take)."""
    if isinstance(a, np.ndarray):
        return True
    if isinstance(a, _NUMPY_TYPES):
        return False
    import array_api_compat

    return bool(array_api_compat.is_array_api_obj(a))


def tiered(func: F | None = None, /, *, floats: Callable[[float], Any] | None = None) -> Any:
    """Send calls with dask or array-API arguments to the subpackage's tier module.

    The tier implementation of ``package.module.name`` is
    ``package._dask.name`` or ``package._portable.name``, with the same
    signature. Calls whose arguments are all numpy arrays, Python numbers,
    lists, tuples, None or other non-array objects (a distribution, a
    Generator) run ``func`` itself; checking that costs well under a
    microsecond when every argument is a numpy array or a number.
    ``@tiered(floats=kernel)`` sends a call of one Python float straight to
    ``kernel`` (a compiled one, giving what ``func`` gives on that float),
    without ``func``'s frame.

    Examples
    --------
    >>> @tiered
    ... def double(x):
    ...     return 2 * np.asarray(x)
    >>> double([1.0, 2.0])
    array([2., 4.])
    """
    if func is None:
        return functools.partial(tiered, floats=floats)
    package = func.__module__.rpartition(".")[0]
    signature = inspect.signature(func)

    @functools.wraps(func)
    def call(first: Any = _NO_ARGUMENT, /, *args: Any, **kwargs: Any) -> Any:
        # the first argument apart: a call of one number or array packs no tuple
        if type(first) in _ONE_PLAIN and not args and not kwargs:
            return func(first)
        if first is not _NO_ARGUMENT:
            args = (first, *args)
        if all(isinstance(a, _NUMPY_TYPES) for a in args) and all(
            isinstance(a, _NUMPY_TYPES) for a in kwargs.values()
        ):
            return func(*args, **kwargs)
        bound = signature.bind_partial(*args, **kwargs).arguments
        arrays = {n: a for n, a in bound.items() if _is_array(a)}
        tier = tier_of(**arrays)
        if tier == "numpy":
            return func(*args, **kwargs)
        try:
            module = importlib.import_module(f"{package}._{tier}")
            twin = getattr(module, func.__name__)
        except (ImportError, AttributeError):
            name = next(n for n, a in arrays.items() if not isinstance(a, np.ndarray))
            kind = "dask" if tier == "dask" else _library(arrays[name])
            raise TypeError(
                f"{name}: expected a numpy array, got a {kind} array "
                f"({func.__qualname__} has no {tier} implementation; convert with np.asarray)"
            ) from None
        return twin(*args, **kwargs)

    if floats is None:
        return call  # type: ignore[return-value]

    @functools.wraps(func)
    def call_floats(first: Any = _NO_ARGUMENT, /, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs:  # one argument: no second frame for any plain one
            if type(first) is float:
                return floats(first)
            if type(first) in _ONE_PLAIN:
                return func(first)
        return call(first, *args, **kwargs)

    return call_floats
