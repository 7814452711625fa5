"""Evaluating a claim's sympy entries with mpmath, guarded against lost digits.

A sympy expression is compiled (``lambdify``) into an mpmath function whose
every sum of non-linear terms is *guarded*: where the terms cancel to fewer
than half the working bits (or to exactly 0),

.. math::

    \\Big|\\sum_i t_i\\Big| \\le 2^{-\\mathrm{prec}/2} \\max_i |t_i|,

the evaluation raises :class:`Unresolved` instead of returning digits it
does not have. ``floor``, ``ceiling``, ``sign``, ``Heaviside`` and
``KroneckerDelta`` of a computed (non-linear) argument are guarded the same
way near their jumps. The callers raise the precision on :class:`Unresolved`
and, past the top of their ladder, fall back to sympy's ``evalf``, which
tracks its own error.

Examples
--------
>>> import mpmath, sympy
>>> w = sympy.Symbol("w", real=True)
>>> f = compile_entries((w,), (sympy.log(1 + sympy.exp(w)) - w,))
>>> with mpmath.workdps(30):
...     f(mpmath.mpf(1000))
Traceback (most recent call last):
...
expfam.symbolic.evaluate.Unresolved: a sum cancelled below half the working precision
>>> with mpmath.workdps(1000):
...     mpmath.nstr(f(mpmath.mpf(1000))[0], 5)
'5.076e-435'
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import sympy
from sympy.core.evalf import PrecisionExhausted
from sympy.printing.pycode import MpmathPrinter
from sympy.utilities.lambdify import implemented_function

__all__ = ["Unresolved", "compile_enclosure", "compile_entries", "evalf_entry", "exact_point"]

_SUM_NAMES = itertools.count()


class Unresolved(ArithmeticError):
    """The working precision cannot settle a value: a cancelling sum or a jump's argument."""


def _unresolved_sum() -> Unresolved:
    return Unresolved("a sum cancelled below half the working precision")


def _guarded_add(*terms: Any) -> Any:
    total = mpmath.fsum(terms)
    big = max(abs(t) for t in terms)
    cut = mpmath.ldexp(1, -(mpmath.mp.prec // 2))
    if mpmath.isfinite(big) and big != 0 and abs(total) <= big * cut:
        raise _unresolved_sum()
    return total


def _near_jump(x: Any, jump: Any) -> bool:
    """Whether ``x`` lies within half the working precision of ``jump`` (equal included)."""
    if not mpmath.isfinite(x):
        return False
    return abs(x - jump) <= mpmath.ldexp(1, -(mpmath.mp.prec // 2)) * max(1, abs(x))


def _guard_integer(x: Any) -> None:
    if mpmath.im(x) != 0:
        return
    if _near_jump(mpmath.re(x), mpmath.nint(mpmath.re(x))):
        raise Unresolved("a floor or ceiling argument lies at an integer to the working precision")


def _guarded_floor(x: Any) -> Any:
    _guard_integer(x)
    return mpmath.floor(x)


def _guarded_ceiling(x: Any) -> Any:
    _guard_integer(x)
    return mpmath.ceil(x)


def _guarded_sign(x: Any) -> Any:
    if _near_jump(x, 0):
        raise Unresolved("a sign argument is 0 to the working precision")
    return mpmath.sign(x)


def _guarded_heaviside(x: Any, at_zero: Any = None) -> Any:
    if _near_jump(x, 0):
        raise Unresolved("a Heaviside argument is 0 to the working precision")
    return mpmath.mpf(1) if x > 0 else mpmath.mpf(0)


def _guarded_delta(a: Any, b: Any) -> Any:
    if _near_jump(a - b, 0):
        raise Unresolved("a KroneckerDelta's arguments agree to the working precision")
    return mpmath.mpf(0)


def _plain_delta(a: Any, b: Any) -> Any:
    return mpmath.mpf(1) if a == b else mpmath.mpf(0)


class _GuardedPrinter(MpmathPrinter):
    """mpmath code in which a sum or a jump of computed values is guarded.

    A sum whose terms are rational multiples of the inputs (or numbers) is
    exact enough as it is; so is a jump of such an argument (``floor(w)`` at
    an integer ``w``).
    """

    def __init__(self, inputs: frozenset[sympy.Symbol]) -> None:
        super().__init__(
            {
                "fully_qualified_modules": False,
                "inline": True,
                "allow_unknown_functions": True,
                "user_functions": {},
            }
        )
        self._inputs = inputs

    def _linear(self, expr: sympy.Expr) -> bool:
        terms = expr.args if isinstance(expr, sympy.Add) else (expr,)
        for term in terms:
            factor, rest = term.as_coeff_Mul()
            if not (factor.is_Rational and (rest == 1 or rest in self._inputs)):
                return False
        return True

    def _call(self, name: str, *args: sympy.Expr) -> str:
        return f"{name}(" + ", ".join(self._print(a) for a in args) + ")"

    def _print_Add(self, expr: sympy.Add, order: Any = None) -> str:
        if self._linear(expr):
            return super()._print_Add(expr, order)
        return self._call("_guarded_add", *expr.args)

    def _jump(self, name: str, expr: sympy.Expr) -> str:
        plain = {"_guarded_floor": "floor", "_guarded_ceiling": "ceil", "_guarded_sign": "sign"}
        if self._linear(expr.args[0]) and name in plain:
            return self._call(plain[name], *expr.args)
        return self._call(name, *expr.args)

    def _print_floor(self, expr: sympy.Expr) -> str:
        return self._jump("_guarded_floor", expr)

    def _print_ceiling(self, expr: sympy.Expr) -> str:
        return self._jump("_guarded_ceiling", expr)

    def _print_sign(self, expr: sympy.Expr) -> str:
        return self._jump("_guarded_sign", expr)

    def _print_Heaviside(self, expr: sympy.Expr) -> str:
        return self._call("_guarded_heaviside", *expr.args)

    def _print_KroneckerDelta(self, expr: sympy.Expr) -> str:
        a, b = expr.args
        name = "_plain_delta" if self._linear(a - b) else "_guarded_delta"
        return self._call(name, a, b)


_NAMESPACE = {
    "_guarded_add": _guarded_add,
    "_guarded_floor": _guarded_floor,
    "_guarded_ceiling": _guarded_ceiling,
    "_guarded_sign": _guarded_sign,
    "_guarded_heaviside": _guarded_heaviside,
    "_guarded_delta": _guarded_delta,
    "_plain_delta": _plain_delta,
}


def _bound(value: Any, what: str) -> Any:
    if mpmath.isinf(value):
        return value
    if value != mpmath.nint(value):
        raise ValueError(f"Sum {what}: expected an integer, got {mpmath.nstr(value, 10)}")
    return int(mpmath.nint(value))


def _sums(entries: Sequence[sympy.Expr]) -> dict[sympy.Expr, sympy.Expr]:
    """Each ``Sum`` over one index as a function mpmath evaluates, with symbolic bounds.

    An infinite sum goes to ``nsum`` and is :class:`Unresolved` where its
    value moves by more than half the working digits when the precision
    rises; a finite one is summed term by term (its bounds must be integers
    at the point).
    """
    replace = {}
    for total in set().union(*(e.atoms(sympy.Sum) for e in entries)):
        if len(total.limits) != 1:
            continue
        (index, low, high) = total.limits[0]
        free = tuple(sorted(total.free_symbols, key=str))
        term = sympy.lambdify((index, *free), total.function, modules="mpmath")
        bounds = sympy.lambdify(free, [low, high], modules="mpmath")

        def evaluate(*values: Any, term: Callable = term, bounds: Callable = bounds) -> Any:
            low, high = (
                _bound(mpmath.mpmathify(b), w) for b, w in zip(bounds(*values), "lu", strict=True)
            )
            if mpmath.isinf(low) or mpmath.isinf(high):
                value = mpmath.nsum(lambda j: term(j, *values), [low, high])
                with mpmath.workprec(mpmath.mp.prec + 64):
                    finer = mpmath.nsum(lambda j: term(j, *values), [low, high])
                if abs(finer - value) > abs(finer) * mpmath.ldexp(1, -(mpmath.mp.prec // 2)):
                    raise Unresolved("an infinite Sum did not converge to the working precision")
                return value
            return mpmath.fsum(term(mpmath.mpf(j), *values) for j in range(low, high + 1))

        name = f"_sum{next(_SUM_NAMES)}"
        replace[total] = implemented_function(name, evaluate)(*free)
    return replace


@functools.lru_cache(maxsize=512)
def compile_entries(
    symbols: tuple[sympy.Symbol, ...], entries: tuple[sympy.Expr, ...]
) -> Callable[..., list]:
    """The entries as one guarded mpmath function of the symbols (cached).

    Returns a function of one mpf per symbol, giving the list of entries at
    the working precision; it raises :class:`Unresolved` where that precision
    cannot settle a value.
    """
    sums = _sums(entries)
    if sums:
        entries = tuple(e.xreplace(sums) for e in entries)
    compiled = sympy.lambdify(
        symbols,
        list(entries),
        modules=[_NAMESPACE, "mpmath"],
        printer=_GuardedPrinter(frozenset(symbols)),
        cse=True,
    )

    def evaluate(*values: Any) -> list:
        return [mpmath.mpmathify(v) for v in compiled(*values)]

    return evaluate


_IV = mpmath.iv
_IV_NAMESPACE = {
    name: getattr(_IV, name)
    for name in (
        *("exp", "log", "sqrt", "sin", "cos", "tan", "gamma", "loggamma", "pi", "e"),
        *("mpf", "expm1", "log1p", "erf", "fabs"),
    )
}
_IV_NAMESPACE["E"] = _IV.e


@functools.lru_cache(maxsize=512)
def compile_enclosure(
    symbols: tuple[sympy.Symbol, ...], entries: tuple[sympy.Expr, ...]
) -> Callable[..., list] | None:
    """The entries in mpmath's interval arithmetic: rigorous bounds ``[a, b]`` on each value.

    Returns a function of ``(dps, *floats)`` giving one ``(a, b)`` pair per
    entry, or None where the entries use a function interval arithmetic
    lacks (it then raises at the call, which the caller treats as unsettled).
    """
    try:
        compiled = sympy.lambdify(
            symbols,
            list(entries),
            modules=[_IV_NAMESPACE],
            printer=MpmathPrinter(
                {"fully_qualified_modules": False, "inline": True, "user_functions": {}}
            ),
            cse=True,
        )
    except Exception:  # a construct the printer cannot write for intervals
        return None

    def enclose(dps: int, *values: float) -> list:
        before = _IV.prec
        _IV.dps = dps
        try:
            out = compiled(*[_IV.mpf(float(v)) for v in values])
            return [(mpmath.mpf(v.a), mpmath.mpf(v.b)) for v in map(_IV.convert, out)]
        finally:
            _IV.prec = before

    return enclose


def exact_point(values: Sequence[sympy.Rational], dps: int) -> list:
    """The rationals ``values`` as mpf, carried to ``dps`` fractional digits.

    (A point near 1e200 rounded to 100 significant digits would lose its
    fractional part: sin there would be the sine of another point.)
    """
    whole = max((len(str(abs(x.p) // x.q)) for x in values), default=0)
    with mpmath.workdps(dps + whole):
        return [mpmath.mpf(x.p) / x.q for x in values]


def evalf_entry(
    expr: sympy.Expr, at: dict[sympy.Symbol, sympy.Rational], digits: int, max_digits: int
) -> sympy.Expr | None:
    """``expr`` at the exact point ``at`` by sympy's ``evalf`` (it tracks its own error).

    Returns the value to ``digits`` digits, ``0`` where the expression is
    exactly 0 there, or None where ``max_digits`` do not settle it.
    """
    value = expr.xreplace(at)
    if value == 0:
        return sympy.S.Zero
    try:
        result = value.evalf(digits, strict=True, maxn=int(max_digits * 3.33))
    except (PrecisionExhausted, ArithmeticError, ValueError, TypeError, RecursionError):
        return None
    if not result.is_number or result.has(sympy.nan, sympy.zoo):
        return None
    return result
