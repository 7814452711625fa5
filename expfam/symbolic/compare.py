r"""Comparing a check's numeric callable with its symbolic result.

The reference is ``derived`` evaluated with guarded mpmath arithmetic (see
:mod:`expfam.symbolic.evaluate`), the precision raised from 30 digits until
two successive evaluations agree to 25 digits (an exact 0 only from 480
digits on), or from rigorous interval bounds narrow enough for float64 (a
genuine cancellation such as :math:`J \mathbf{1} = 0`); at an open end of a
domain (``p = 0`` on a simplex) the reference is the claim's limit there. A
point where none of these settles the reference is skipped and counted.
The numeric callable is called

- point by point (a float per scalar, a 1-D array per vector argument),
- on the whole batch at once (at least 1024 rows, a leading batch axis),
- on the batch in float32 (where it accepts float32; a float32 result is held
  to :math:`2^{-10} (|\mathrm{reference}| + 1)` at up to 32 points whose
  inputs lie within :math:`\pm 80` and whose values fit float32: this call
  catches NaN, overflow and lost-dtype paths, not the last bits),

and passes where, with ``tiny`` the smallest normal float64,

.. math::

    |\mathrm{numeric} - \mathrm{reference}| \le
    \mathrm{rtol}\, |\mathrm{reference}| + \mathrm{atol} + \mathrm{tiny}.

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

import math
import warnings
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import sympy
from numpy.typing import NDArray

from expfam.symbolic.claims import Check, CheckError, CheckResult, Failure
from expfam.symbolic.evaluate import Unresolved, compile_enclosure, compile_entries
from expfam.symbolic.sample import at_open_end, distinct, sample, split
from expfam.symbolic.validate import entries

__all__ = ["compare", "reference"]

_TINY = float(np.finfo(np.float64).tiny)
_AGREE = mpmath.mpf(10) ** -25  # two precisions agree to this relative distance
_NEGLIGIBLE = mpmath.mpf(10) ** -400  # far below the float64 range: zero to the numeric side
_DPS = (30, 60, 120, 240, 480, 960)
_EXACT_ZERO_DPS = 480
_BATCH_ROWS = 1024  # the batch call covers at least this many rows
_TOL32 = 2.0**-10  # a float32 result is held to 2^-10 (|reference| + 1) at least
_FLOAT32_INPUTS = 80.0  # float32 rows keep every input within exp's float32 range
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_ROWS = 32  # float32 is compared at this many rows (each needs its own reference)


def _converged(a: list, b: list, dps: int) -> bool:
    """Whether two evaluations at successive precisions agree (to 25 digits, or both tiny).

    An entry exactly 0 (or the same infinity) at both is trusted only from
    480 digits on: a term absorbed at low precision gives an exact 0 at every
    precision too low to see it (log(1 + e^-700) is 0 to 300 digits).
    """
    for x, y in zip(a, b, strict=True):
        if mpmath.isnan(x) or mpmath.isnan(y):
            return False
        if (x == 0 and y == 0) or (mpmath.isinf(x) and x == y):
            if dps < _EXACT_ZERO_DPS:
                return False
            continue
        if x == y:
            continue
        big = max(abs(x), abs(y))
        if big >= _NEGLIGIBLE and abs(x - y) > _AGREE * big:
            return False
    return True


def _ladder(f: Callable, row: list, levels: tuple[int, ...]) -> list | None:
    """``f`` at ``row`` (mpf values), the precision raised until two evaluations agree."""
    previous = None
    for dps in levels:
        try:
            with mpmath.workdps(dps):
                values = f(*[mpmath.mpf(x) for x in row])
        except Unresolved:
            previous = None
            continue
        except (ArithmeticError, ValueError, TypeError):
            return None
        if previous is not None and _converged(previous, values, dps):
            return values
        if previous is not None and any(mpmath.isnan(v) for v in values + previous):
            return None  # 0 log 0 and the like: a limit, not a precision, settles it
        previous = values
    return None


def _enclosed(check: Check, row: list) -> list | None:
    """The reference from rigorous interval bounds, where they are narrow enough for float64.

    A bound pair settles an entry when its width is below 2^-64 of its size,
    or below 1e-400 (zero to float64): a genuine cancellation (J 1 = 0) then
    settles, and an amplified one (e^w (log(1 + e^w) - w) at w = 1e4) does not.
    """
    enclose = compile_enclosure(distinct(check)[0], tuple(entries(check.derived)))
    if enclose is None:
        return None
    for dps in (120, 400):
        try:
            bounds = enclose(dps, *row)
        except Exception:  # a function intervals lack, a pole inside the bounds
            return None
        values = []
        for a, b in bounds:
            if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
                break
            middle = (a + b) / 2
            width = b - a
            if width > max(_NEGLIGIBLE, mpmath.ldexp(abs(middle), -64)):
                break
            values.append(middle)
        else:
            return values
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
    return values[1] if _converged(*values, _EXACT_ZERO_DPS) else None


def reference(check: Check, row: NDArray[np.float64]) -> list | None:
    """``derived`` at the float row, exactly as far as float64 can tell; None if unsettled."""
    exprs = entries(check.derived)
    symbols, columns = distinct(check)
    f = compile_entries(symbols, tuple(exprs))
    point = [float(row[j]) for j in columns]
    values = _ladder(f, point, _DPS[:2]) or _enclosed(check, point) or _ladder(f, point, _DPS)
    if values is not None:
        return values
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
        if rtol == 0:  # an absolute tolerance only
            return 0.0 if abs(mpmath.mpf(numeric) - reference) <= atol + _TINY else math.inf
        scale = abs(reference) + mpmath.mpf(atol + _TINY) / rtol
        return float(abs(mpmath.mpf(numeric) - reference) / scale)


def _quick_worst(numeric: NDArray, ref: list, rtol: float, atol: float) -> float | None:
    """The worst error in float64 where it is plainly within rtol/4 (None: decide exactly)."""
    if rtol < 1e-14:
        return None
    with np.errstate(all="ignore"):
        reference = np.array([_to_float(r) for r in ref])
        if not (np.all(np.isfinite(reference)) and np.all(np.isfinite(numeric))):
            return None
        scale = np.abs(reference) + (atol + _TINY) / rtol
        worst = float(np.max(np.abs(numeric - reference) / scale, initial=0.0))
    return worst if rtol >= 1e-14 and worst <= rtol / 4 else None


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
        worst = _quick_worst(numeric, ref, rtol, atol)
        if worst is None:
            worst = max(_error(x, r, rtol, atol) for x, r in zip(numeric, ref, strict=True))
        if rtol:
            worst *= self.check.rtol / rtol
        self.result.worst_error = max(self.result.worst_error, worst)
        if caught:  # numeric code must not warn on the inputs it handles
            if "warned" not in self.result.message:
                self.result.message += f"numeric warned ({how}): {caught[0].message}; "
            worst = float("inf")
        if not worst <= self.check.rtol:
            point = {
                a.name: np.asarray(v).tolist()
                for a, v in zip(self.check.args, values, strict=True)
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
    for i in list(settled):
        values = split(check, rows[i])
        try:
            out, caught = _call(check, values)
        except ValueError as exc:
            if not at_open_end(check, list(rows[i])):
                raise
            settled.remove(i)  # the code refuses a boundary point, with a clear error
            if "refuses" not in result.message:
                result.message += f"numeric refuses the boundary: {exc}; "
            continue
        numeric = _as_values(check, out, size, "point by point").reshape(-1)
        if numeric.size != size:
            raise CheckError(
                f"check {check.name!r}: numeric returned {numeric.size} values,"
                f" derived has {size} entries"
            )
        tally.add(values, numeric, refs[i], caught, "point by point")
    if settled and check.args and check.batch:
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
    moderate = np.abs(rows) <= _FLOAT32_INPUTS
    single = np.where(moderate, rows, 0.0).astype(np.float32)
    keep = np.all(moderate & ((single != 0) | (rows == 0)), axis=1)
    if not np.any(keep):
        return
    single = single[keep][:_FLOAT32_ROWS]
    try:
        out, caught = _call(check, _batch(check, single.astype(np.float32), np.float32))
        numeric = np.asarray(out)
    except Exception:  # code that refuses float32
        return
    if numeric.shape[:1] != (len(single),) or numeric.size != len(single) * size:
        return
    tolerance = (max(check.rtol, _TOL32), max(check.atol, _TOL32))  # float32's precision
    numeric = numeric.astype(float).reshape(len(single), size)
    for j, row in enumerate(single.astype(float)):
        ref = reference(check, row)
        if ref is not None and all(abs(r) < _FLOAT32_MAX for r in ref):
            tally.add(split(check, row), numeric[j], ref, caught, "batch in float32", tolerance)
            caught = []
