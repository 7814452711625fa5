"""The check harness: a derivation's claim, proved symbolically and compared numerically.

A derivation declares :class:`Check` objects: the symbolic result
(``derived``), optionally the closed form it is claimed to equal
(``closed_form``), the arguments with their domains, the numeric callable and
a tolerance. :func:`run_check` then

1. decides ``derived == closed_form``, with one of these verdicts:

   - ``"proved"``: sympy reduces every entry of the difference to 0 (the
     exponentials of the symbols replaced by positive unknowns, so that a
     softmax identity is a rational one; then ``simplify``);
   - ``"tested at N points (D digits)"``: sympy cannot, but both sides agree
     to D digits at N random exact points: rationals with large prime
     denominators (integers in a discrete domain), evaluated with mpmath at
     2D digits and more. Numerical identity testing: evidence, weaker than
     a proof;
   - ``"false"``: at one of those points the two sides differ (the
     difference is stable as the precision doubles): a counterexample, with
     the point and both values;
   - ``"unproved"``: neither (the values could not be evaluated or settled);

2. compares the numeric callable with ``derived`` at random points and at
   extreme ones (large and tiny logits, near-boundary probabilities). The
   symbolic side is always evaluated with mpmath, raising the precision from
   30 digits until two successive evaluations agree to 25 digits, so that a
   naive log-sum-exp neither overflows nor cancels. A failure reports the
   point, both values and the error.

A check passes when its claim is proved or tested and every numeric value is
within tolerance. Common mistakes (a Symbol where an :class:`Arg` belongs, a
free symbol that is not an argument, a numeric callable with the wrong
signature, a symbol whose assumptions its domain breaks) fail with a one-line
message naming the check and what to write instead.

Examples
--------
>>> import sympy
>>> import expfam
>>> from expfam.symbolic.domains import Logits, Reals, softmax
>>> z = sympy.symbols("z1:4", real=True)
>>> check = Check("softmax", "softmax", [Arg(z, Logits())], softmax(z), numeric=expfam.softmax)
>>> run_check(check, points=5).ok
True
>>> w = sympy.Symbol("w", real=True)
>>> false = Check("sin", "sin(8 pi w) = 0", [Arg(w, Reals())], sympy.sin(8 * sympy.pi * w), 0)
>>> run_check(false).verdict
'false'
"""

from __future__ import annotations

import functools
import inspect
import itertools
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy
from numpy.typing import ArrayLike, NDArray
from sympy.core.function import AppliedUndef
from sympy.utilities.lambdify import implemented_function

from expfam.symbolic.domains import Domain

__all__ = [
    "Arg",
    "Check",
    "CheckError",
    "CheckResult",
    "CheckTimeout",
    "Counterexample",
    "Failure",
    "prove",
    "run_check",
    "run_checks",
]

_TINY = float(np.finfo(np.float64).tiny)
_AGREE = mpmath.mpf(10) ** -25  # two precisions agree to this relative distance
_NEGLIGIBLE = mpmath.mpf(10) ** -400  # far below the float64 range: zero to the numeric side
_DPS = (30, 60, 120, 240, 480, 960, 1920)
_EXACT_ZERO_DPS = 480

IDENTITY_POINTS = 20  # random exact points for identity testing
IDENTITY_DIGITS = 50  # the two sides must agree to this many digits
_STABLE = mpmath.mpf(10) ** -10  # a difference this steady under doubled precision is real
_SUM_NAMES = itertools.count()
_DENOMINATOR = 10**12  # identity points are p/q with q a prime above this (and above 1e12/|x|)


class CheckError(ValueError):
    """A check is written wrongly (a one-line message says what to write instead)."""


class CheckTimeout(BaseException):
    """One check ran past its time limit (a BaseException: library code must not catch it)."""


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
        What ``derived`` is claimed to equal; the harness proves it, tests it
        at random exact points, or finds it false (see the module docstring).
        ``None`` when ``derived`` is itself the claim.
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
        that is not meant to survive them, such as a naive textbook formula).
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


@dataclass(frozen=True)
class Counterexample:
    """A point where ``derived`` and ``closed_form`` differ: the claim is false.

    ``point`` maps each symbol to its exact value (``"p/q"``); ``entry`` is
    the flat index of the differing entry; the values are given to 20 digits
    and their difference to 5 (it may lie below the 20th digit).
    """

    point: dict[str, str]
    entry: int
    derived: str
    closed_form: str
    difference: str

    def describe(self) -> str:
        where = ", ".join(f"{k} = {v}" for k, v in self.point.items())
        return (
            f"counterexample at {where}: derived[{self.entry}] = {self.derived},"
            f" closed_form[{self.entry}] = {self.closed_form} (difference {self.difference})"
        )


@dataclass
class CheckResult:
    """What running one :class:`Check` found.

    ``verdict`` is how ``derived == closed_form`` was shown: ``"proved"``,
    ``"tested at N points (D digits)"``, ``"false"``, ``"unproved"``, ``"-"``
    (no closed form), ``"timed out"`` or ``"error"`` (the check is written
    wrongly or raised).
    """

    derivation: str
    name: str
    claim: str
    verdict: str = "-"
    points: int = 0
    worst_error: float = 0.0
    seconds: float = 0.0
    ok: bool = True
    failures: list[Failure] = field(default_factory=list)
    message: str = ""
    counterexample: Counterexample | None = None

    @property
    def proved(self) -> str:
        """The verdict under its former name (derivations written before verdicts read it)."""
        return self.verdict

    def row(self) -> dict[str, Any]:
        """The result as one row of the JSON table."""
        return {
            "derivation": self.derivation,
            "check": self.name,
            "claim": self.claim,
            "verdict": self.verdict,
            "points": self.points,
            "worst_error": self.worst_error,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "message": self.message,
            "counterexample": None if self.counterexample is None else vars(self.counterexample),
            "failures": [vars(f) for f in self.failures],
        }


# --- the mistakes a new user makes, caught before anything runs ----------------------------


def _validate(check: Check) -> None:
    """Raise :class:`CheckError` with a one-line message if ``check`` is written wrongly."""
    name = f"check {check.name!r}"
    args = check.args
    if isinstance(args, Arg | sympy.Basic) or not isinstance(args, Sequence):
        raise CheckError(f"{name}: args must be a list of Arg, e.g. args=[Arg(w, Reals())]")
    for i, arg in enumerate(args):
        if isinstance(arg, sympy.Symbol):
            raise CheckError(
                f"{name}: args[{i}] is the symbol {arg}; write Arg({arg}, Reals()) (an Arg"
                " pairs the symbol with the domain its points are drawn from)"
            )
        if isinstance(arg, Sequence) and all(isinstance(a, sympy.Symbol) for a in arg):
            listed = ", ".join(map(str, arg))
            raise CheckError(
                f"{name}: args[{i}] is a tuple of symbols; write Arg(({listed}), Logits())"
            )
        if not isinstance(arg, Arg):
            raise CheckError(f"{name}: args[{i}] is {arg!r}; write Arg(symbol, domain)")
        if isinstance(arg.domain, type) and issubclass(arg.domain, Domain):
            raise CheckError(
                f"{name}: the domain of args[{i}] is the class {arg.domain.__name__};"
                f" write {arg.domain.__name__}() (an instance)"
            )
        if not isinstance(arg.domain, Domain):
            raise CheckError(f"{name}: the domain of args[{i}] is {arg.domain!r}, not a Domain")
        if not all(isinstance(s, sympy.Symbol) for s in arg.flat):
            raise CheckError(
                f"{name}: args[{i}] holds {arg.symbols!r}; an Arg takes sympy symbols"
            )
    symbols = set(check.symbols)
    for side in ("derived", "closed_form"):
        entries = _entries(getattr(check, side)) if getattr(check, side) is not None else []
        free = set().union(*(e.free_symbols for e in entries)) - symbols
        if free:
            listed = ", ".join(sorted(map(str, free)))
            raise CheckError(
                f"{name}: {side} has the free symbol(s) {listed}, not among the args"
                f" ({', '.join(s.name for s in check.symbols) or 'none'}); add Arg({listed},"
                " domain) to args or substitute a value"
            )
        undefined = set().union(*(e.atoms(AppliedUndef) for e in entries))
        if undefined:
            raise CheckError(
                f"{name}: {side} holds the undefined function(s)"
                f" {', '.join(sorted(map(str, undefined)))}, which cannot be evaluated;"
                " write them out in sympy (a Sum may run to oo)"
            )
    if check.numeric is not None:
        _validate_signature(check, name)


def _validate_signature(check: Check, name: str) -> None:
    try:
        signature = inspect.signature(check.numeric)
    except (TypeError, ValueError):  # a builtin or ufunc: nothing to inspect
        return
    names = ", ".join(a.name for a in check.args)
    try:
        signature.bind(*check.args)
    except TypeError:
        raise CheckError(
            f"{name}: numeric{signature} cannot take the {len(check.args)} args; it is called"
            f" as numeric({names}), one value per Arg"
        ) from None


def _check_assumptions(check: Check) -> None:
    """Raise :class:`CheckError` if a domain draws values its symbol's assumptions exclude.

    Random points only: an extreme point may sit on the boundary (p = 0 for a
    positive p), where the numeric code is held to the claim's limit.
    """
    rows = _sample(check, np.random.default_rng(0), 20, extremes=False)
    rules = {
        "positive": lambda x: x > 0,
        "negative": lambda x: x < 0,
        "nonnegative": lambda x: x >= 0,
        "nonpositive": lambda x: x <= 0,
        "integer": lambda x: x == np.round(x),
    }
    for j, symbol in enumerate(check.symbols):
        for rule, holds in rules.items():
            if getattr(symbol, f"is_{rule}") and not np.all(holds(rows[:, j])):
                bad = rows[~holds(rows[:, j]), j][0]
                raise CheckError(
                    f"check {check.name!r}: {symbol} is declared {rule} but its domain draws"
                    f" {bad:g}; sympy's proof would assume what the points break: fix the"
                    " symbol's assumptions or the domain"
                )


# --- sampling ------------------------------------------------------------------------------


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


def _exact(x: float, discrete: bool, rng: np.random.Generator) -> sympy.Rational:
    """A random exact point near ``x``: ``p/q`` with ``q`` a large random prime.

    Structured false claims (``sin(8 pi w) = 0``, true at every multiple of
    1/8, or anything true at dyadic rationals such as all floats) hold at no
    such point. A discrete domain keeps its integers.
    """
    if discrete:
        return sympy.Integer(round(x))
    x = float(x)
    low = _DENOMINATOR * max(1, int(1 / abs(x) if abs(x) > 1e-288 else 1e288))
    q = sympy.nextprime(low + int(rng.integers(0, 2**62)) % low)  # in [low, 2 low)
    return sympy.Rational(round(x * q), q)


def _identity_points(check: Check, rng: np.random.Generator, n: int) -> list[list]:
    rows = _sample(check, rng, n, extremes=False)
    discrete = [arg.domain.discrete for arg in check.args for _ in arg.flat]
    return [[_exact(x, d, rng) for x, d in zip(row, discrete, strict=True)] for row in rows]


# --- deciding derived == closed_form ---------------------------------------------------------


def _entries(expr: Any) -> list[sympy.Expr]:
    if isinstance(expr, sympy.MatrixBase):
        return list(expr)
    return [sympy.sympify(expr)]


def _rational_zero(d: sympy.Expr) -> bool:
    """Whether ``d`` is 0 as a rational function, exponentials and logs of them unwound.

    ``exp(sum_i c_i t_i)`` becomes ``prod_i x_i^c_i`` with ``x_i`` positive
    unknowns (integer multiples share their unknown: ``exp(2 z) = x^2``), logs
    of products of positives are expanded, and ``log(x_i)`` becomes ``t_i``
    again. Then the numerator of ``together`` must expand to 0. Sound: if the
    result is 0 for independent unknowns, it is 0 where ``x_i = exp(t_i)``;
    softmax identities become rational identities in the x_i. Cheaper than
    ``cancel``, which computes a gcd.
    """
    unknowns: dict[sympy.Expr, sympy.Dummy] = {}
    replace = {}
    for e in d.atoms(sympy.exp):
        value = sympy.S.One
        for term, c in sympy.expand(e.args[0]).as_coefficients_dict().items():
            if term == 1:
                value *= sympy.exp(c)
            elif c.is_Integer:
                value *= unknowns.setdefault(term, sympy.Dummy(positive=True)) ** c
            else:
                value *= unknowns.setdefault(c * term, sympy.Dummy(positive=True))
        replace[e] = value
    d = d.xreplace(replace)
    if d.has(sympy.log):
        d = sympy.expand_log(d).xreplace({sympy.log(x): t for t, x in unknowns.items()})
    numerator, _ = sympy.fraction(sympy.together(d))
    return sympy.expand(numerator) == 0


def _is_zero(d: sympy.Expr) -> bool:
    """Whether sympy can show ``d == 0``: the rational test first, then simplify."""
    return (
        d == 0
        or _rational_zero(d)
        or sympy.simplify(d) == 0
        or sympy.simplify(sympy.expand_func(d)) == 0  # digamma(n), beta(a, b) in closed form
    )


def _infinite_sums(entries: Sequence[sympy.Expr]) -> dict[sympy.Expr, sympy.Expr]:
    """Each ``Sum`` over one index as a function that mpmath's ``nsum`` evaluates.

    lambdify prints a Sum as a Python loop over ``range``, which fails for an
    infinite bound (Poisson's E[log x!]).
    """
    replace = {}
    for total in set().union(*(e.atoms(sympy.Sum) for e in entries)):
        if len(total.limits) != 1:
            continue
        (index, low, high) = total.limits[0]
        if not (low.is_number and high.is_number):
            continue
        free = tuple(sorted(total.free_symbols, key=str))
        term = sympy.lambdify((index, *free), total.function, modules="mpmath")
        bounds = [mpmath.inf * sympy.sign(b) if b.is_infinite else int(b) for b in (low, high)]

        def nsum(*values: Any, term: Callable = term, bounds: list = bounds) -> Any:
            return mpmath.nsum(lambda j: term(j, *values), bounds)

        name = f"_nsum{next(_SUM_NAMES)}"
        replace[total] = implemented_function(name, nsum)(*free)
    return replace


@functools.lru_cache(maxsize=512)
def _lambdify(symbols: tuple[sympy.Symbol, ...], entries: tuple[sympy.Expr, ...]) -> Callable:
    """The entries as one mpmath function of the symbols (cached: checks share expressions)."""
    sums = _infinite_sums(entries)
    if sums:
        entries = tuple(e.xreplace(sums) for e in entries)
    return sympy.lambdify(symbols, list(entries), modules="mpmath", cse=True)


def _evaluate(f: Callable, point: Sequence[sympy.Rational], dps: int) -> list:
    """``f`` at ``point`` with ``dps`` digits, the point carried to ``dps`` fractional digits.

    (A point near 1e200 rounded to 100 digits would lose its fractional part:
    sin there would be the sine of another point.)
    """
    whole = max(len(str(abs(x.p) // x.q)) for x in point) if point else 0
    with mpmath.workdps(dps + whole):
        args = [mpmath.mpf(x.p) / x.q for x in point]
    with mpmath.workdps(dps):
        return [mpmath.mpmathify(v) for v in f(*args)]


def _differs(f: Callable, g: Callable, point: Sequence, digits: int) -> int | None:
    """At ``point``: the index of an entry where f and g differ, -1 if all agree, None if unsure.

    Each entry is evaluated at 2, 4 and 8 times ``digits``. It agrees when the
    two sides agree to ``digits`` relative digits, or when their difference
    collapses as the precision doubles (round-off of an exact zero); it
    differs when the difference is larger and steady under doubling.
    """
    pending = None
    previous: list = []
    for dps in (2 * digits, 4 * digits, 8 * digits):
        lhs, rhs = _evaluate(f, point, dps), _evaluate(g, point, dps)
        with mpmath.workdps(dps):
            diffs = [a - b if a != b else mpmath.mpf(0) for a, b in zip(lhs, rhs, strict=True)]
            pending = []
            for i, (a, b, d) in enumerate(zip(lhs, rhs, diffs, strict=True)):
                if not mpmath.isfinite(abs(d)):
                    pending.append(i)
                    continue
                if abs(d) <= mpmath.mpf(10) ** -digits * max(abs(a), abs(b)):
                    continue
                if previous and previous[i] is not None:
                    before = previous[i]
                    if abs(d - before) <= _STABLE * abs(d):
                        return i
                    if abs(d) <= mpmath.mpf(10) ** -(dps // 4) * abs(before):
                        continue  # collapsed by many orders: round-off of an exact zero
                pending.append(i)
        if not pending:
            return -1
        previous = [d if i in pending else None for i, d in enumerate(diffs)]
    return None


def _decide(
    check: Check, rng: np.random.Generator, n: int, digits: int
) -> tuple[str, Counterexample | None, str]:
    """The verdict on ``derived == closed_form``, a counterexample if false, why if unproved."""
    if check.closed_form is None:
        return "-", None, ""
    lhs, rhs = _entries(check.derived), _entries(check.closed_form)
    if len(lhs) != len(rhs):
        raise CheckError(
            f"check {check.name!r}: derived has {len(lhs)} entries, closed_form {len(rhs)}"
        )
    rest = [i for i, (a, b) in enumerate(zip(lhs, rhs, strict=True)) if not _is_zero(a - b)]
    if not rest:
        return "proved", None, ""
    symbols = check.symbols
    f = _lambdify(symbols, tuple(lhs[i] for i in rest))
    g = _lambdify(symbols, tuple(rhs[i] for i in rest))
    points = _identity_points(check, rng, n)
    unsure = []
    for point in points:
        try:
            differs = _differs(f, g, point, digits)
        except Exception as exc:  # a pole, log(0), a function mpmath lacks
            unsure.append(f"{type(exc).__name__}: {exc}")
            continue
        if differs is None:
            unsure.append("")
        elif differs >= 0:
            a, b = (_evaluate(h, point, 2 * digits)[differs] for h in (f, g))
            return (
                "false",
                Counterexample(
                    point={s.name: str(x) for s, x in zip(symbols, point, strict=True)},
                    entry=rest[differs],
                    derived=mpmath.nstr(a, 20),
                    closed_form=mpmath.nstr(b, 20),
                    difference=mpmath.nstr(a - b, 5),
                ),
                "",
            )
    if unsure:
        reasons = sorted({u for u in unsure if u}) or [f"no agreement to {digits} digits"]
        return (
            "unproved",
            None,
            f"undecided at {len(unsure)} of {len(points)} points ({reasons[0]})",
        )
    return f"tested at {len(points)} points ({digits} digits)", None, ""


def prove(
    check: Check,
    rng: np.random.Generator | int | None = None,
    *,
    points: int = IDENTITY_POINTS,
    digits: int = IDENTITY_DIGITS,
) -> str:
    """Decide ``check.derived == check.closed_form``; return the verdict.

    ``"proved"`` (sympy simplified the difference to 0), ``"tested at N points
    (D digits)"`` (it did not, but the sides agree to ``digits`` digits at
    ``points`` random exact points), ``"false"`` (they differ at one; see
    :func:`run_check` for the counterexample), ``"unproved"`` or ``"-"`` (no
    closed form).
    """
    _validate(check)
    _check_assumptions(check)
    return _decide(check, np.random.default_rng(rng), points, digits)[0]


# --- comparing the numeric callable with the symbolic result ---------------------------------


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


def _compare(check: Check, rng: np.random.Generator, n: int, result: CheckResult) -> None:
    entries = _entries(check.derived)
    f = _lambdify(check.symbols, tuple(entries))
    failures: list[Failure] = []
    rows = _sample(check, rng, n, extremes=check.extremes)
    for row in rows:
        values = _split(check, row)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            numeric = np.asarray(check.numeric(*values), dtype=float).reshape(-1)
        if numeric.size != len(entries):
            raise CheckError(
                f"check {check.name!r}: numeric returned {numeric.size} values,"
                f" derived has {len(entries)} entries"
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


# --- running ---------------------------------------------------------------------------------


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CheckTimeout` after ``seconds`` (where SIGALRM exists, in the main thread)."""
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CheckTimeout

    before = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def run_check(
    check: Check,
    derivation: str = "",
    rng: np.random.Generator | int | Sequence[int] | None = 0,
    points: int | None = None,
    *,
    timeout: float | None = None,
    identity_points: int = IDENTITY_POINTS,
    digits: int = IDENTITY_DIGITS,
) -> CheckResult:
    """Decide ``check``'s claim and compare its numeric callable with the symbolic result.

    Parameters
    ----------
    check
        The check to run.
    derivation
        Name of the derivation it belongs to, for the report.
    rng
        Seed or generator for the random points.
    points
        Number of random points for the numeric comparison; default
        ``check.points``. Extreme points come on top.
    timeout
        Seconds the check may take (where the platform has SIGALRM); past
        them it stops with the verdict ``"timed out"``.
    identity_points, digits
        Random exact points and digits of agreement for identity testing,
        used when sympy cannot simplify ``derived - closed_form`` to 0.

    Returns
    -------
    CheckResult
        ``ok`` is False if the claim is false, unproved or timed out, if the
        check is written wrongly, or if a numeric value lies outside the
        tolerance; ``failures`` holds the worst failing points and
        ``counterexample`` the point that makes a false claim false.
    """
    rng = np.random.default_rng(rng)
    start = time.perf_counter()
    result = CheckResult(derivation, check.name, check.claim)
    try:
        with _time_limit(timeout):
            _validate(check)
            _check_assumptions(check)
            result.verdict, result.counterexample, why = _decide(
                check, rng, identity_points, digits
            )
            if result.verdict == "false":
                result.ok = False
                result.message = f"derived != closed_form: {result.counterexample.describe()}; "
            elif result.verdict == "unproved":
                result.ok = False
                result.message = (
                    "sympy could not simplify derived - closed_form to 0, and identity"
                    f" testing could not settle it: {why}; "
                )
            if check.numeric is not None:
                _compare(check, rng, check.points if points is None else points, result)
    except CheckTimeout:
        result.ok = False
        result.verdict = "timed out"
        result.message = f"stopped after {timeout:g} s (--timeout)"
    except CheckError as exc:
        result.ok = False
        result.verdict = "error"
        result.message = str(exc)
    except Exception as exc:  # a broken check must not stop the others
        result.ok = False
        result.verdict = "error"
        result.message += f"{type(exc).__name__}: {exc}"
        result.message += "\n" + "".join(traceback.format_exception(exc)[-3:])
    result.seconds = time.perf_counter() - start
    return result


def run_checks(
    checks: Iterable[Check],
    derivation: str,
    points: int | None = None,
    progress: Callable[[CheckResult], None] | None = None,
    *,
    seed: int = 0,
    select: Callable[[Check], bool] | None = None,
    timeout: float | None = None,
) -> list[CheckResult]:
    """Run ``checks`` (seeded, so reproducible); call ``progress`` after each.

    The i-th check draws its points from ``default_rng(i + seed * 2**32)``
    (seed 0 draws the points earlier versions drew), whatever ``select``
    (which checks to run) leaves out.
    """
    results = []
    for i, check in enumerate(checks):
        if select is not None and not select(check):
            continue
        result = run_check(check, derivation, rng=i + seed * 2**32, points=points, timeout=timeout)
        if progress is not None:
            progress(result)
        results.append(result)
    return results
