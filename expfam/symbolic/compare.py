"""Comparing a check's numeric callable with its symbolic result.

The reference is ``derived`` evaluated with guarded mpmath arithmetic (see
:mod:`expfam.symbolic.evaluate`), the precision raised from 30 digits until
two successive evaluations agree to 25 digits; past 1920 digits sympy's
``evalf`` decides, and at an open end of a domain (``p = 0`` on a simplex)
the reference is the claim's limit there. The numeric callable is called

- point by point (a float per scalar, a 1-D array per vector argument),
- on the whole batch at once (at least 1024 rows, a leading batch axis),
- on the batch in float32 (where it accepts float32),

and passes where, with ``tiny`` the smallest normal float64,

.. math::

    |\\mathrm{numeric} - \\mathrm{reference}| \\le
    \\mathrm{rtol}\\, |\\mathrm{reference}| + \\mathrm{atol} + \\mathrm{tiny}.

Examples
--------
>>> import sympy
>>> from expfam.symbolic.claims import Arg, Check, CheckResult
>>> from expfam.symbolic.domains import Interval
>>> p = sympy.Symbol("p", positive=True)
>>> check = Check("entr", "", [Arg(p, Interval(0, 1))], -p * sympy.log(p),
...               numeric=lambda p: -p * np.log(p) if p > 0 else 0.0)
>>> result = CheckResult("", "entr", "")
>>> compare(check, np.random.default_rng(0), 20, result)
>>> result.ok, result.points
(True, 22)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import sympy
from numpy.typing import NDArray

from expfam.symbolic.claims import Check, CheckError, CheckResult, Failure
from expfam.symbolic.evaluate import Unresolved, compile_entries, evalf_entry
from expfam.symbolic.sample import sample, split
from expfam.symbolic.validate import entries

__all__ = ["compare", "reference"]

_TINY = float(np.finfo(np.float64).tiny)
_AGREE = mpmath.mpf(10) ** -25  # two precisions agree to this relative distance
_NEGLIGIBLE = mpmath.mpf(10) ** -400  # far below the float64 range: zero to the numeric side
_DPS = (30, 60, 120, 240, 480, 960, 1920)
_BATCH_ROWS = 1024  # the batch call covers at least this many rows
_RTOL32 = 2.0**-16  # the least tolerance a float32 result is held to
_TINY32 = float(np.finfo(np.float32).tiny)


def _converged(a: list, b: list) -> bool:
    """Whether two evaluations at successive precisions agree (to 25 digits, or both tiny)."""
    for x, y in zip(a, b, strict=True):
        if mpmath.isnan(x) or mpmath.isnan(y):
            return False
        if x == y:
            continue
        big = max(abs(x), abs(y))
        if big >= _NEGLIGIBLE and abs(x - y) > _AGREE * big:
            return False
    return True


def _ladder(f: Callable, row: list) -> list | None:
    """``f`` at ``row`` (mpf values), the precision raised until two evaluations agree."""
    previous = None
    for dps in _DPS:
        try:
            with mpmath.workdps(dps):
                values = f(*[mpmath.mpf(x) for x in row])
        except Unresolved:
            previous = None
            continue
        except (ArithmeticError, ValueError, TypeError):
            return None
        if previous is not None and _converged(previous, values):
            return values
        previous = values
    return None


def _limit(check: Check, f: Callable, row: NDArray[np.float64]) -> list | None:
    """The claim's limit at a row on an open end of its domains, approached from inside."""
    ends, column = [], 0
    for arg in check.args:
        low, high = arg.domain.hull
        for _ in arg.flat:
            x = float(row[column])
            if not arg.domain.closed and x in (low, high):
                ends.append((column, 1 if x == low else -1))
            column += 1
    if not ends:
        return None
    values = []
    for exponent in (1000, 2000):
        with mpmath.workdps(2 * exponent + 100):
            point = [mpmath.mpf(float(x)) for x in row]
            for j, direction in ends:
                step = mpmath.mpf(10) ** -exponent * max(1, abs(point[j]))
                point[j] += direction * step
            try:
                values.append(f(*point))
            except (ArithmeticError, ValueError, TypeError):
                return None
    return values[1] if _converged(*values) else None


def reference(check: Check, row: NDArray[np.float64]) -> list | None:
    """``derived`` at the float row, exactly as far as float64 can tell; None if unsettled."""
    exprs = entries(check.derived)
    f = compile_entries(check.symbols, tuple(exprs))
    values = _ladder(f, [float(x) for x in row])
    if values is not None:
        return values
    at = {s: sympy.Rational(float(x)) for s, x in zip(check.symbols, row, strict=True)}
    found = [evalf_entry(e, at, 30, _DPS[-1]) for e in exprs]
    if all(v is not None for v in found):
        return [mpmath.mpmathify(complex(v)) if not v.is_real else mpmath.mpf(str(v)) for v in found]
    return _limit(check, f, row)


def _error(numeric: float, reference: Any, rtol: float, atol: float) -> float:
    """``|numeric - reference| / (|reference| + (atol + tiny) / rtol)``: pass iff <= rtol."""
    if np.isnan(numeric) or mpmath.isnan(reference):
        return float("inf")
    if mpmath.mpf(numeric) == reference or numeric == _to_float(reference):
        return 0.0  # equal, or the reference rounds to the same float (e.g. overflows to inf)
    if np.isinf(numeric) or mpmath.isinf(reference):
        return float("inf")
    with mpmath.workdps(30):
        scale = abs(reference) + mpmath.mpf(atol + _TINY) / rtol
        return float(abs(mpmath.mpf(numeric) - reference) / scale)


def _to_float(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, OverflowError):
        return float("nan")


def _as_values(check: Check, out: Any, size: int, how: str) -> NDArray[np.float64]:
    if out is None:
        raise CheckError(
            f"check {check.name!r}: numeric: expected {size} value{'s' if size > 1 else ''}"
            f" ({how}), got None; return the values"
        )
    try:
        return np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise CheckError(
            f"check {check.name!r}: numeric: expected {size} numbers ({how}),"
            f" got {type(out).__name__}"
        ) from None


def _call(check: Check, values: list) -> tuple[Any, list]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = check.numeric(*values)
    return out, caught


class _Tally:
    """Failures and the worst error over every call of the numeric callable."""

    def __init__(self, check: Check, result: CheckResult) -> None:
        self.check, self.result, self.failures = check, result, []

    def add(
        self,
        values: list,
        numeric: NDArray,
        ref: list,
        caught: list,
        how: str,
        tolerance: tuple[float, float] | None = None,
    ) -> None:
        rtol, atol = tolerance or (self.check.rtol, self.check.atol)
        errors = [_error(x, r, rtol, atol) for x, r in zip(numeric, ref, strict=True)]
        worst = max(errors) * (self.check.rtol / rtol)
        self.result.worst_error = max(self.result.worst_error, worst)
        if caught:  # numeric code must not warn on the inputs it handles
            if "warned" not in self.result.message:
                self.result.message += f"numeric warned ({how}): {caught[0].message}; "
            worst = float("inf")
        if not worst <= self.check.rtol:
            point = {
                a.name: np.asarray(v).tolist() for a, v in zip(self.check.args, values, strict=True)
            }
            if how != "point by point":
                point["call"] = how
            symbolic = [_to_float(r) for r in ref]
            self.failures.append(Failure(point, numeric.tolist(), symbolic, worst))


def _batch(check: Check, rows: NDArray, dtype: type) -> list:
    values = []
    start = 0
    for arg in check.args:
        size = len(arg.flat)
        block = rows[:, start : start + size].astype(dtype)
        values.append(block[:, 0] if isinstance(arg.symbols, sympy.Symbol) else block)
        start += size
    return values


def compare(check: Check, rng: np.random.Generator, n: int, result: CheckResult) -> None:
    """Compare ``check.numeric`` with ``derived`` point by point, batched and in float32."""
    size = len(entries(check.derived))
    rows = sample(check, rng, n, extremes=check.extremes)
    refs = [reference(check, row) for row in rows]
    tally = _Tally(check, result)
    settled = [i for i, r in enumerate(refs) if r is not None]
    for i in settled:
        values = split(check, rows[i])
        out, caught = _call(check, values)
        numeric = _as_values(check, out, size, "point by point").reshape(-1)
        if numeric.size != size:
            raise CheckError(
                f"check {check.name!r}: numeric returned {numeric.size} values,"
                f" derived has {size} entries"
            )
        tally.add(values, numeric, refs[i], caught, "point by point")
    if settled and check.args:
        _compare_batch(check, rows[settled], [refs[i] for i in settled], tally, size)
    result.points = len(settled)
    unsettled = len(rows) - len(settled)
    if unsettled:
        result.message += (
            f"the reference could not be settled at {unsettled} of {len(rows)} points; "
        )
        if not settled:
            result.ok = False
    if tally.failures:
        result.ok = False
        tally.failures.sort(key=lambda f: -f.error)
        result.failures = tally.failures[:3]
        result.message += (
            f"{len(tally.failures)} of {len(rows)} points outside rtol={check.rtol:g}"
            " (point by point, batched or in float32); "
        )


def _compare_batch(check: Check, rows: NDArray, refs: list, tally: _Tally, size: int) -> None:
    """The same rows in one call (tiled to 1024 rows or more), then in float32."""
    copies = -(-_BATCH_ROWS // len(rows))
    tiled = np.tile(rows, (copies, 1))
    try:
        out, caught = _call(check, _batch(check, tiled, np.float64))
        numeric = np.asarray(out, dtype=float)
    except Exception:  # code written for one point at a time: nothing to batch
        return
    if numeric.shape[:1] != (len(tiled),) or numeric.size != len(tiled) * size:
        return
    numeric = numeric.reshape(len(tiled), size)
    for j, row in enumerate(tiled):
        tally.add(split(check, row), numeric[j], refs[j % len(rows)], caught, "batch")
        caught = []
    big = float(np.finfo(np.float32).max)
    single = np.where(np.abs(rows) <= big, rows, 0.0).astype(np.float32)
    keep = np.all((np.abs(rows) <= big) & ((single != 0) | (rows == 0)), axis=1)
    if not np.any(keep):
        return
    single = single[keep]
    try:
        out, caught = _call(check, _batch(check, single.astype(np.float32), np.float32))
        numeric = np.asarray(out)
    except Exception:  # code that refuses float32
        return
    if numeric.shape[:1] != (len(single),) or numeric.size != len(single) * size:
        return
    tolerance = (check.rtol, check.atol)
    if numeric.dtype != np.float64:  # float32 results: float32's precision and range
        tolerance = (max(check.rtol, _RTOL32), max(check.atol, _TINY32))
    numeric = numeric.astype(float).reshape(len(single), size)
    for j, row in enumerate(single.astype(float)):
        ref = reference(check, row)
        if ref is not None:
            tally.add(split(check, row), numeric[j], ref, caught, "batch in float32", tolerance)
            caught = []
