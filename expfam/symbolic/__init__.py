"""The sympy side of expfam: derivations checked against the numeric code.

A derivation states a claim in sympy, derives its result (differentiation,
simplification, limits) and names the numeric expfam callable that must
agree. It does so by declaring :class:`Check` objects: the symbolic result
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

:func:`run_verify` is what ``expfam verify`` runs: it discovers every module in
the given folders (as pytest discovers tests), calls each module's
``checks()``, prints progress and a table, optionally writes the table as
JSON, and returns non-zero if any check fails. A failure reports the point,
both values and the error; the other checks still run.

:class:`SymbolicFamily` writes an exponential family symbolically, from its
natural parameters and log-partition, and derives its mean map, Fisher
metric, entropy and KL divergence.

This module imports sympy; ``import expfam`` does not import it.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import sympy
from numpy.typing import ArrayLike, NDArray

from expfam._discovery import load_module, module_files

__all__ = [
    "Arg",
    "Check",
    "CheckResult",
    "Domain",
    "Failure",
    "Integers",
    "Interval",
    "Logits",
    "Positive",
    "Reals",
    "Shifted",
    "Simplex",
    "SymbolicFamily",
    "family_checks",
    "format_table",
    "logsumexp",
    "prove",
    "run_check",
    "run_checks",
    "run_verify",
    "softmax",
]

_TINY = float(np.finfo(np.float64).tiny)
_AGREE = mpmath.mpf(10) ** -25  # two precisions agree to this relative distance
_NEGLIGIBLE = mpmath.mpf(10) ** -400  # far below the float64 range: zero to the numeric side
_DPS = (30, 60, 120, 240, 480, 960, 1920)
_EXACT_ZERO_DPS = 480


# --- symbolic building blocks -------------------------------------------------------------


def logsumexp(z: Sequence[sympy.Expr]) -> sympy.Expr:
    """The log-partition of the categorical family, ``log(sum_k exp(z_k))``, as written."""
    return sympy.log(sum(sympy.exp(t) for t in z))


def softmax(z: Sequence[sympy.Expr]) -> sympy.Matrix:
    """The mean map of the categorical family, ``exp(z_k) / sum_j exp(z_j)``, as a column."""
    total = sum(sympy.exp(t) for t in z)
    return sympy.Matrix([sympy.exp(t) / total for t in z])


# --- domains: where a check samples its points --------------------------------------------


class Domain:
    """Where an argument lives: random points and extreme points, each row a point."""

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        raise NotImplementedError

    def extremes(self, k: int) -> NDArray[np.float64]:
        raise NotImplementedError


@dataclass(frozen=True)
class Logits(Domain):
    """Logits in R^k: normal with ``scale``; extremes up to +-1e4, near-ties, underflow.

    ``limit`` drops the extreme rows with a logit beyond +-limit (for claims
    whose value leaves the float64 range there, such as 1 / p).
    """

    scale: float = 4.0
    limit: float = np.inf

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        return self.scale * rng.standard_normal((n, k))

    def extremes(self, k: int) -> NDArray[np.float64]:
        ramp = np.arange(k, dtype=float)
        one_big = np.zeros(k)
        one_big[0] = 700.0
        one_small = np.zeros(k)
        one_small[-1] = -745.0
        ties = np.zeros(k)
        ties[:2] = 5.0
        rows = [
            np.zeros(k),  # the uniform distribution
            1000.0 + ramp,  # 002's overflow example
            -1000.0 - ramp,  # every exp underflows
            1e4 * (ramp - ramp.mean()),  # p = one-hot to float64
            one_big,  # the other classes at exp(-700)
            one_small,  # one class below the float64 range
            ties,  # a tie at the maximum
            1e-9 * ramp,  # near-uniform: tiny differences
            np.linspace(-40.0, 40.0, k),
            30.0 * (-1.0) ** ramp,
        ]
        return np.array([row for row in rows if np.max(np.abs(row)) <= self.limit])


@dataclass(frozen=True)
class Reals(Domain):
    """Real vectors: normal with ``scale``; extremes 0, 1 (null direction of F), large, tiny."""

    scale: float = 2.0

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        return self.scale * rng.standard_normal((n, k))

    def extremes(self, k: int) -> NDArray[np.float64]:
        ramp = np.arange(k, dtype=float)
        return np.array([np.zeros(k), np.ones(k), 1e3 * (ramp - 1.5), 1e-12 * (1.0 + ramp)])


@dataclass(frozen=True)
class Interval(Domain):
    """Reals in ``[low, high]``, uniform; extremes are the given ``edges`` (default the ends)."""

    low: float
    high: float
    edges: tuple[float, ...] = ()

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        return rng.uniform(self.low, self.high, (n, k))

    def extremes(self, k: int) -> NDArray[np.float64]:
        edges = self.edges or (self.low, self.high)
        return np.repeat(np.array(edges, dtype=float)[:, None], k, axis=1)


@dataclass(frozen=True)
class Positive(Domain):
    """Positive reals, log-uniform in ``[low, high]``; extremes at both ends and mixed."""

    low: float = 0.05
    high: float = 50.0

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        return np.exp(rng.uniform(np.log(self.low), np.log(self.high), (n, k)))

    def extremes(self, k: int) -> NDArray[np.float64]:
        mixed = np.where(np.arange(k) % 2 == 0, self.low, self.high)
        return np.array([np.full(k, self.low), np.full(k, self.high), mixed])


@dataclass(frozen=True)
class Simplex(Domain):
    """Mean coordinates: the first k probabilities of a point of the open (k+1)-simplex.

    Random points are uniform (Dirichlet(1, ..., 1)); extremes put tiny mass
    on the leading classes and keep the last one (computed as 1 - sum) large.
    """

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        return rng.dirichlet(np.ones(k + 1), n)[:, :k]

    def extremes(self, k: int) -> NDArray[np.float64]:
        first_tiny = np.full(k, 0.5 / k)
        first_tiny[0] = 1e-300
        return np.array(
            [np.full(k, 1.0 / (k + 1)), first_tiny, np.full(k, 1e-12), np.full(k, 1e-200)]
        )


@dataclass(frozen=True)
class Integers(Domain):
    """Integers in ``[low, high]``; extremes are both ends."""

    low: int
    high: int

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        return rng.integers(self.low, self.high, (n, k), endpoint=True).astype(float)

    def extremes(self, k: int) -> NDArray[np.float64]:
        return np.array([np.full(k, self.low), np.full(k, self.high)], dtype=float)


@dataclass(frozen=True)
class Shifted(Domain):
    """``domain`` moved by ``offset``: e.g. Dirichlet natural parameters alpha - 1."""

    domain: Domain
    offset: float

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        return self.domain.random(rng, n, k) + self.offset

    def extremes(self, k: int) -> NDArray[np.float64]:
        return self.domain.extremes(k) + self.offset


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


# --- checks -------------------------------------------------------------------------------


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


def _jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as the strings "inf", "-inf", "nan" (strict JSON)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


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


# --- running derivation modules -----------------------------------------------------------


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


def _load_checks(file: Path) -> list[Check]:
    module = load_module(file)
    if not hasattr(module, "checks"):
        raise AttributeError(f"{file.name} defines no checks() function")
    return list(module.checks())


def _progress(result: CheckResult) -> None:
    status = "ok" if result.ok else "FAIL"
    print(
        f"  {status:4} {result.derivation}.{result.name}"
        f"  [{result.proved}; {result.points} pts; err {result.worst_error:.1e};"
        f" {result.seconds:.2f} s]",
        flush=True,
    )
    if not result.ok:
        if result.message:
            print("       " + result.message.strip().replace("\n", "\n       "))
        for failure in result.failures:
            print("       " + failure.describe())


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(results: Sequence[CheckResult]) -> str:
    """The results as a plain-text table, one row per check."""
    header = ("derivation", "check", "claim", "proved", "points", "worst err", "time", "")
    rows = [
        (
            r.derivation,
            r.name,
            _shorten(r.claim, 48),
            _shorten(r.proved, 24),
            str(r.points),
            f"{r.worst_error:.1e}",
            f"{r.seconds:.2f}s",
            "ok" if r.ok else "FAIL",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    head = "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))
    return "\n".join([head, "-" * len(head), *lines])


def run_verify(paths: list[Path], json_path: str | None = None) -> int:
    """Run every derivation under ``paths``; print progress and a table; return the exit status.

    A derivation module defines ``checks()``, returning :class:`Check` objects.
    A module that fails to import or to build its checks is reported as a
    failing row; the others still run. With ``json_path`` the table (with the
    failing points) is also written there as JSON.
    """
    start = time.perf_counter()
    try:
        files = [f for p in paths for f in module_files(p)]
    except (FileNotFoundError, ValueError) as exc:
        print(f"expfam verify: {exc}", file=sys.stderr)
        return 2
    print(f"expfam verify: {len(files)} derivation modules", flush=True)
    results: list[CheckResult] = []
    for file in files:
        print(f"{file.stem}", flush=True)
        t0 = time.perf_counter()
        try:
            checks = _load_checks(file)
        except Exception as exc:
            failed = CheckResult(file.stem, "<load>", "module imports and builds its checks")
            failed.ok = False
            failed.message = f"{type(exc).__name__}: {exc}"
            failed.seconds = time.perf_counter() - t0
            _progress(failed)
            results.append(failed)
            continue
        results.extend(run_checks(checks, file.stem, progress=_progress))
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    print()
    print(format_table(results))
    print()
    print(
        f"{len(results) - len(failed)} of {len(results)} checks passed"
        f" in {len(files)} derivations ({elapsed:.1f} s)"
    )
    if json_path is not None:
        table = {"seconds": elapsed, "passed": not failed, "checks": [r.row() for r in results]}
        Path(json_path).write_text(json.dumps(_jsonable(table), indent=2, allow_nan=False) + "\n")
    return 1 if failed or not results else 0


# --- symbolic exponential families --------------------------------------------------------


@dataclass(frozen=True)
class SymbolicFamily:
    """An exponential family written symbolically, ``p(x) = h(x) exp(theta . T(x) - A(theta))``.

    A family is given by its natural parameters ``theta`` (symbols) and its
    log-partition ``A(theta)``; everything else is derived by differentiation:
    the mean map ``eta = grad A``, the Fisher metric ``hess A``, the dual
    potential ``phi = theta . eta - A``, the entropy ``A - theta . eta - E[log h]``
    and the KL divergence as the Bregman divergence of ``A``.

    Parameters
    ----------
    name
        The name of the numeric family it mirrors (e.g. ``"Categorical"``).
    natural
        The natural parameters theta (symbols).
    log_partition
        A(theta), a sympy expression in ``natural``.
    expected_log_base
        E[log h(x)] as a function of theta; 0 when the base measure is 1.

    Examples
    --------
    The Poisson family: theta = log(rate), A = exp(theta), h(x) = 1/x!.

    >>> import sympy
    >>> t = sympy.Symbol("theta", real=True)
    >>> poisson = SymbolicFamily("Poisson", (t,), sympy.exp(t))
    >>> poisson.mean()
    Matrix([[exp(theta)]])
    """

    name: str
    natural: tuple[sympy.Symbol, ...]
    log_partition: sympy.Expr
    expected_log_base: sympy.Expr = sympy.S.Zero

    def mean(self) -> sympy.Matrix:
        """The mean map eta = grad A(theta), a column."""
        return sympy.Matrix([sympy.diff(self.log_partition, t) for t in self.natural])

    def fisher(self) -> sympy.Matrix:
        """The Fisher metric in natural coordinates, the Hessian of A."""
        return sympy.hessian(self.log_partition, self.natural)

    def dual_potential(self) -> sympy.Expr:
        """The Legendre dual of A at eta = grad A(theta): phi = theta . eta - A."""
        return (sympy.Matrix(self.natural).T * self.mean())[0] - self.log_partition

    def entropy(self) -> sympy.Expr:
        """The entropy -E[log p(x)] = A - theta . eta - E[log h]."""
        return -self.dual_potential() - self.expected_log_base

    def other_natural(self) -> tuple[sympy.Symbol, ...]:
        """Symbols for a second member of the family: ``theta_q`` for each ``theta``."""
        return tuple(sympy.Symbol(f"{t.name}_q", **t.assumptions0) for t in self.natural)

    def kl(self, other: Sequence[sympy.Symbol]) -> sympy.Expr:
        """KL(p_theta || p_other) as the Bregman divergence of A.

        ``A(other) - A(theta) - (other - theta) . grad A(theta)``.
        """
        other = tuple(other)
        a_other = self.log_partition.subs(dict(zip(self.natural, other, strict=True)))
        step = sympy.Matrix(other) - sympy.Matrix(self.natural)
        return a_other - self.log_partition - (step.T * self.mean())[0]


def family_checks(
    family: SymbolicFamily,
    domain: Domain,
    numeric: Any = None,
    closed_forms: dict[str, Any] | None = None,
    rtol: float = 1e-12,
    atol: float = 1e-14,
    points: int = 60,
) -> list[Check]:
    """Checks of a symbolic family's mean map, Fisher metric, entropy and KL against numeric code.

    Parameters
    ----------
    family
        The symbolic family.
    domain
        Where its natural parameters live.
    numeric
        The numeric family: a class with ``from_natural(theta)`` whose
        instances have ``mean``, ``fisher()``, ``entropy()`` and ``kl(other)``.
        Default: the expfam class named ``family.name``.
    closed_forms
        Optional closed forms to prove, keyed by ``"mean"``, ``"fisher"``,
        ``"entropy"`` or ``"kl"`` (the last in ``natural`` and ``other``
        symbols, where ``other`` is ``family.other_natural()``).
    rtol, atol, points
        As in :class:`Check`.

    Returns
    -------
    list of Check
        ``mean``, ``fisher``, ``entropy`` and ``kl`` checks, named after the family.
    """
    if numeric is None:
        import expfam

        numeric = getattr(expfam, family.name)
    closed_forms = closed_forms or {}
    theta = family.natural
    other = family.other_natural()
    at = [Arg(theta, domain)]
    name = family.name.lower()

    def dist(x: NDArray) -> Any:
        return numeric.from_natural(np.atleast_1d(x))

    common = {"rtol": rtol, "atol": atol, "points": points}
    return [
        Check(
            f"{name}_mean",
            f"{family.name}: grad A(theta) = mean",
            at,
            family.mean(),
            closed_forms.get("mean"),
            lambda x: dist(x).mean,
            **common,
        ),
        Check(
            f"{name}_fisher",
            f"{family.name}: hess A(theta) = fisher()",
            at,
            family.fisher(),
            closed_forms.get("fisher"),
            lambda x: dist(x).fisher(),
            **common,
        ),
        Check(
            f"{name}_entropy",
            f"{family.name}: A - theta . grad A - E[log h] = entropy()",
            at,
            family.entropy(),
            closed_forms.get("entropy"),
            lambda x: dist(x).entropy(),
            **common,
        ),
        Check(
            f"{name}_kl",
            f"{family.name}: Bregman divergence of A = kl()",
            [*at, Arg(other, domain)],
            family.kl(other),
            closed_forms.get("kl"),
            lambda x, y: dist(x).kl(dist(y)),
            **common,
        ),
    ]
