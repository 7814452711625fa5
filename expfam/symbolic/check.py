"""The check harness: a derivation's claim, proved symbolically and compared numerically.

A derivation declares :class:`Check` objects: the symbolic result
(``derived``), optionally the closed form it is claimed to equal
(``closed_form``), the arguments with their domains, the numeric callable and
a tolerance. :func:`run_check` then

1. proves ``derived == closed_form``: entry by entry, ``cancel`` or
   ``simplify`` of the difference must give 0; where sympy cannot, the
   difference must vanish exactly at rational points (the table says which);
   failing both, the check fails with "no";
2. compares the numeric callable with ``derived`` at random points and at
   extreme ones (large and tiny logits, near-boundary probabilities). The
   symbolic side is always evaluated with mpmath, raising the precision from
   30 digits until two successive evaluations agree to 25 digits, so that a
   naive log-sum-exp neither overflows nor cancels.

A failure reports the point, both values and the error.

Examples
--------
>>> import sympy
>>> import expfam
>>> from expfam.symbolic.domains import Logits, softmax
>>> z = sympy.symbols("z1:4", real=True)
>>> check = Check("softmax", "softmax", [Arg(z, Logits())], softmax(z), numeric=expfam.softmax)
>>> run_check(check, points=5).ok
True
"""

from __future__ import annotations

import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy
from numpy.typing import ArrayLike, NDArray

from expfam.symbolic.domains import Domain

__all__ = ["Arg", "Check", "CheckResult", "Failure", "prove", "run_check", "run_checks"]

_TINY = float(np.finfo(np.float64).tiny)
_AGREE = mpmath.mpf(10) ** -25  # two precisions agree to this relative distance
_NEGLIGIBLE = mpmath.mpf(10) ** -400  # far below the float64 range: zero to the numeric side
_DPS = (30, 60, 120, 240, 480, 960, 1920)
_EXACT_ZERO_DPS = 480


@dataclass(frozen=True)
class Arg:
    """One argument of the numeric callable: a symbol (a scalar) or symbols (a vector)."""

    symbols: sympy.Symbol | Sequence[sympy.Symbol]
    domain: Domain

    @property
    def flat(self) -> tuple[sympy.Symbol, ...]:
        if isinstance(self.symbols, sympy.Symbol):
            return (self.symbols,)
        return tuple(self.symbols)

    @property
    def name(self) -> str:
        """The argument in a failure report: ``"m"``, ``"(z1, z2)"``, ``"(z1, ..., z6)"``."""
        if isinstance(self.symbols, sympy.Symbol):
            return self.symbols.name
        names = [s.name for s in self.flat]
        if len(names) > 3:
            names = [names[0], "...", names[-1]]
        return "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"

    def value(self, row: NDArray[np.float64]) -> float | NDArray[np.float64]:
        """The value passed to the numeric callable: a float or a 1-D array."""
        return float(row[0]) if isinstance(self.symbols, sympy.Symbol) else row.copy()


@dataclass(frozen=True)
class Check:
    """One claim of a derivation, checked symbolically and against the numeric code.

    Parameters
    ----------
    name
        Short identifier, unique within the derivation (e.g. ``"jacobian_k3"``).
    claim
        The claim in words and formulas, shown in the table.
    args
        The arguments of ``numeric``, in order, with their domains.
    derived
        The symbolic result (a sympy expression or matrix in the symbols of
        ``args``), derived from the definitions. It is the reference the
        numeric code is compared with.
    closed_form
        What ``derived`` is claimed to equal; proved by the harness. ``None``
        when ``derived`` is itself the claim.
    numeric
        The expfam callable under test, called as ``numeric(*values)`` with a
        float per scalar argument and a 1-D array per vector argument; it
        returns something with as many entries as ``derived``. ``None`` for a
        purely symbolic claim.
    rtol, atol
        The numeric value passes where ``|numeric - derived| <= rtol |derived| + atol``
        (plus the smallest normal float64, below which relative error is meaningless).
    points
        How many random points.
    extremes
        Whether to add the domains' extreme points (turn off only for code
        that is not meant to survive them, such as a seed's naive formula).
    """

    name: str
    claim: str
    args: Sequence[Arg]
    derived: Any
    closed_form: Any = None
    numeric: Callable[..., ArrayLike] | None = None
    rtol: float = 1e-13
    atol: float = 0.0
    points: int = 100
    extremes: bool = True

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(s for arg in self.args for s in arg.flat)


@dataclass(frozen=True)
class Failure:
    """Where a numeric value and the symbolic one disagree (or an error was raised)."""

    point: dict[str, Any]
    numeric: Any
    symbolic: Any
    error: float

    def describe(self) -> str:
        return (
            f"at {self.point}: numeric {self.numeric}, symbolic {self.symbolic}, "
            f"error {self.error:.3g}"
        )


@dataclass
class CheckResult:
    """What running one :class:`Check` found."""

    derivation: str
    name: str
    claim: str
    proved: str = "-"
    points: int = 0
    worst_error: float = 0.0
    seconds: float = 0.0
    ok: bool = True
    failures: list[Failure] = field(default_factory=list)
    message: str = ""

    def row(self) -> dict[str, Any]:
        """The result as one row of the JSON table."""
        return {
            "derivation": self.derivation,
            "check": self.name,
            "claim": self.claim,
            "proved": self.proved,
            "points": self.points,
            "worst_error": self.worst_error,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "message": self.message,
            "failures": [
                {
                    "point": f.point,
                    "numeric": f.numeric,
                    "symbolic": f.symbolic,
                    "error": f.error,
                }
                for f in self.failures
            ],
        }


def _entries(expr: Any) -> list[sympy.Expr]:
    if isinstance(expr, sympy.MatrixBase):
        return list(expr)
    return [sympy.sympify(expr)]


def _is_zero(d: sympy.Expr) -> bool:
    """Whether sympy can show ``d == 0``: cheap rational cancellation first, then simplify.

    Replacing every ``exp(...)`` by a fresh positive symbol is a sound first
    step: if the result cancels to 0 for independent symbols, it does for
    the exponentials too (a softmax identity is a rational identity in them).
    """
    if d == 0:
        return True
    exps = {a: sympy.Dummy(positive=True) for a in d.atoms(sympy.exp)}
    if exps and sympy.cancel(d.xreplace(exps)) == 0:
        return True
    return (
        sympy.cancel(d) == 0
        or sympy.simplify(d) == 0
        or sympy.simplify(sympy.expand_func(d)) == 0  # digamma(n), beta(a, b) in closed form
    )


def _rational_points(check: Check, rng: np.random.Generator, n: int) -> list[dict]:
    """Exact rational points in the domains (floats of the random samples, made rational)."""
    rows = _sample(check, rng, n, extremes=False)
    return [
        {s: sympy.Rational(round(x * 8), 8) for s, x in zip(check.symbols, row, strict=True)}
        for row in rows.tolist()
    ]


def prove(check: Check, rng: np.random.Generator | None = None) -> str:
    """Prove ``check.derived == check.closed_form``; return how ("simplify", ...) or "no"."""
    if check.closed_form is None:
        return "-"
    lhs, rhs = _entries(check.derived), _entries(check.closed_form)
    if len(lhs) != len(rhs):
        raise ValueError(f"{check.name}: derived has {len(lhs)} entries, closed_form {len(rhs)}")
    diffs = [a - b for a, b in zip(lhs, rhs, strict=True)]
    rest = [d for d in diffs if not _is_zero(d)]
    if not rest:
        return "simplify"
    points = _rational_points(check, rng or np.random.default_rng(0), 3)
    for point in points:
        for d in rest:
            value = d.subs(point)
            if not (value == 0 or sympy.simplify(value) == 0):
                return "no"
    return f"exact at {len(points)} rational points"


def _sample(
    check: Check, rng: np.random.Generator, n: int, extremes: bool = True
) -> NDArray[np.float64]:
    """Rows of points: ``n`` random ones, then each argument's extremes with random others."""
    if not check.args:
        return np.zeros((1, 0))
    random = [a.domain.random(rng, n, len(a.flat)) for a in check.args]
    blocks = [np.concatenate(random, axis=1)]
    if extremes:
        for i, arg in enumerate(check.args):
            edge = arg.domain.extremes(len(arg.flat))
            parts = [
                edge if j == i else other.domain.random(rng, len(edge), len(other.flat))
                for j, other in enumerate(check.args)
            ]
            blocks.append(np.concatenate(parts, axis=1))
    return np.concatenate(blocks, axis=0)


def _split(check: Check, row: NDArray[np.float64]) -> list[float | NDArray[np.float64]]:
    values, start = [], 0
    for arg in check.args:
        size = len(arg.flat)
        values.append(arg.value(row[start : start + size]))
        start += size
    return values


def _converged(a: list, b: list, dps: int) -> bool:
    """Whether evaluations ``a`` (at ``dps`` digits) and ``b`` (at twice that) agree.

    Finite nonzero entries must agree to 25 digits or both lie far below the
    float64 range. An entry that is exactly 0 (or the same infinity) at both
    precisions is trusted only from 480 digits on: cancellation gives an exact
    0 at every precision too low to see the value
    (-log(e^700 / (e^700 + 1)) = 1e-304 is 0 to 300 digits, and its log -inf).
    """
    for x, y in zip(a, b, strict=True):
        if mpmath.isnan(x) or mpmath.isnan(y):
            return False
        if (x == 0 and y == 0) or (mpmath.isinf(x) and x == y):
            if dps < _EXACT_ZERO_DPS:
                return False
            continue
        big = max(abs(x), abs(y))
        if x != y and big >= _NEGLIGIBLE and abs(x - y) > _AGREE * big:
            return False
    return True


def _reference(f: Callable, row: NDArray[np.float64]) -> list:
    """Evaluate the lambdified symbolic side at ``row`` with mpmath, raising the precision."""
    previous = None
    for dps in _DPS:
        with mpmath.workdps(dps):
            args = [mpmath.mpf(float(x)) for x in row]  # float64 -> mpf is exact
            values = [mpmath.mpmathify(v) for v in f(*args)]
        if previous is not None and _converged(previous, values, dps // 2):
            return values
        previous = values
    return previous


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


def run_check(
    check: Check,
    derivation: str = "",
    rng: np.random.Generator | int | None = 0,
    points: int | None = None,
) -> CheckResult:
    """Prove ``check``'s claim and compare its numeric callable with the symbolic result.

    Parameters
    ----------
    check
        The check to run.
    derivation
        Name of the derivation it belongs to, for the report.
    rng
        Seed or generator for the random points.
    points
        Number of random points; default ``check.points``. Extreme points come on top.

    Returns
    -------
    CheckResult
        ``ok`` is False if the claim is disproved or a numeric value lies
        outside the tolerance; ``failures`` holds the worst failing points.
    """
    rng = np.random.default_rng(rng)
    start = time.perf_counter()
    result = CheckResult(derivation, check.name, check.claim)
    try:
        result.proved = prove(check, rng)
        if result.proved == "no":
            result.ok = False
            result.message = "sympy could not prove derived == closed_form; "
        if check.numeric is not None:
            _compare(check, rng, check.points if points is None else points, result)
    except Exception as exc:  # a broken check must not stop the others
        result.ok = False
        result.message += f"{type(exc).__name__}: {exc}"
        result.message += "\n" + "".join(traceback.format_exception(exc)[-3:])
    result.seconds = time.perf_counter() - start
    return result


def _compare(check: Check, rng: np.random.Generator, n: int, result: CheckResult) -> None:
    entries = _entries(check.derived)
    f = sympy.lambdify(check.symbols, entries, modules="mpmath", cse=True)
    failures: list[Failure] = []
    rows = _sample(check, rng, n, extremes=check.extremes)
    for row in rows:
        values = _split(check, row)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            numeric = np.asarray(check.numeric(*values), dtype=float).reshape(-1)
        if numeric.size != len(entries):
            raise ValueError(
                f"numeric returned {numeric.size} values, derived has {len(entries)} entries"
            )
        reference = _reference(f, row)
        errors = [
            _error(x, r, check.rtol, check.atol) for x, r in zip(numeric, reference, strict=True)
        ]
        worst = max(errors)
        result.worst_error = max(result.worst_error, worst)
        if caught:  # numeric code must not warn on the inputs it handles
            if "warned" not in result.message:
                result.message += f"numeric warned: {caught[0].message}; "
            worst = float("inf")
        if not worst <= check.rtol:
            failures.append(
                Failure(
                    point={
                        a.name: np.asarray(v).tolist()
                        for a, v in zip(check.args, values, strict=True)
                    },
                    numeric=numeric.tolist(),
                    symbolic=[_to_float(r) for r in reference],
                    error=worst,
                )
            )
    result.points = len(rows)
    if failures:
        result.ok = False
        failures.sort(key=lambda f: -f.error)
        result.failures = failures[:3]
        result.message += f"{len(failures)} of {len(rows)} points outside rtol={check.rtol:g}"


def run_checks(
    checks: Iterable[Check],
    derivation: str,
    points: int | None = None,
    progress: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run ``checks`` (seeded, so reproducible); call ``progress`` after each."""
    results = []
    for i, check in enumerate(checks):
        result = run_check(check, derivation, rng=i, points=points)
        if progress is not None:
            progress(result)
        results.append(result)
    return results
