"""The mistakes a new user makes in a :class:`~expfam.symbolic.claims.Check`, caught early.

Each raises :class:`~expfam.symbolic.claims.CheckError` with one line that
names the check and says what to write instead. :func:`check_assumptions`
holds every assumption a symbol is declared with against its whole domain:
a proof may use an assumption only where the domain implies it,

.. math::

    \\forall x \\in D:\\ P(x) \\quad \\text{for every assumption } P \\text{ of the symbol},

decided from the domain's :meth:`~expfam.symbolic.domains.Domain.facts`
(its bounds), not from sampled points.

Examples
--------
>>> import sympy
>>> from expfam.symbolic.claims import Arg, Check
>>> from expfam.symbolic.domains import Interval
>>> p = sympy.Symbol("p", positive=True)
>>> check = Check("c", "", [Arg(p, Interval(-0.001, 100))], sympy.sqrt(p**2), p)
>>> try:
...     check_assumptions(check)
... except ValueError as exc:
...     print(str(exc)[:72])
check 'c': p: expected assumptions its domain implies, got positive=True
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy
from sympy.core.function import AppliedUndef

from expfam.symbolic.claims import Arg, Check, CheckError
from expfam.symbolic.domains import Domain

__all__ = ["check_assumptions", "entries", "validate"]


def entries(expr: Any) -> list[sympy.Expr]:
    """The entries of a sympy expression or matrix, flat and in row order."""
    if isinstance(expr, sympy.MatrixBase):
        return list(expr)
    return [sympy.sympify(expr)]


def _side(check: Check, side: str, name: str) -> list[sympy.Expr]:
    value = getattr(check, side)
    if isinstance(value, sympy.MatrixBase | sympy.Expr) or (
        isinstance(value, sympy.Basic) and not isinstance(value, sympy.logic.boolalg.Boolean)
    ):
        return entries(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [sympy.sympify(value)]
    kind = type(value).__name__
    hint = "sympy.Matrix(...)" if isinstance(value, list | tuple | np.ndarray) else "a sympy Expr"
    raise CheckError(
        f"{name}: {side}: expected a sympy expression or Matrix, got {kind}"
        f" {_short(value)}; write {hint}"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(name: str, what: str, value: Any, low: float, high: float) -> None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not (low <= x < high):
        raise CheckError(
            f"{name}: {what}: expected a number in [{low:g}, {high:g}), got {value!r}"
        )


def validate(check: Check) -> None:
    """Raise :class:`CheckError` with a one-line message if ``check`` is written wrongly."""
    if not isinstance(check, Check):
        raise CheckError(f"expected a Check, got {type(check).__name__} {_short(check)}")
    name = f"check {check.name!r}"
    if not isinstance(check.name, str) or not check.name:
        raise CheckError(f"check: name: expected a non-empty str, got {check.name!r}")
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
        if not all(isinstance(s, sympy.Symbol) for s in arg.flat) or not arg.flat:
            raise CheckError(
                f"{name}: args[{i}] holds {arg.symbols!r}; an Arg takes sympy symbols"
            )
    symbols = check.symbols
    _number(name, "rtol", check.rtol, 0.0, 1.0)
    _number(name, "atol", check.atol, 0.0, math.inf)
    if not isinstance(check.points, int | np.integer) or check.points < 1:
        raise CheckError(f"{name}: points: expected a positive int, got {check.points!r}")
    sides = {"derived": _side(check, "derived", name)}
    if check.closed_form is not None:
        sides["closed_form"] = _side(check, "closed_form", name)
        _same_shape(check, name)
    by_name = {s.name: s for s in symbols}
    for side, exprs in sides.items():
        free = set().union(*(e.free_symbols for e in exprs)) - set(symbols)
        for symbol in sorted(free, key=str):
            if symbol.name in by_name:
                declared = _declared(by_name[symbol.name])
                raise CheckError(
                    f"{name}: {side} holds a symbol {symbol.name} with assumptions"
                    f" {_declared(symbol)}, the Arg's {symbol.name} has {declared};"
                    " build both sides from the same Symbol"
                )
        if free:
            listed = ", ".join(sorted(map(str, free)))
            raise CheckError(
                f"{name}: {side} has the free symbol(s) {listed}, not among the args"
                f" ({', '.join(s.name for s in symbols) or 'none'}); add Arg({listed},"
                " domain) to args or substitute a value"
            )
        undefined = set().union(*(e.atoms(AppliedUndef) for e in exprs))
        if undefined:
            raise CheckError(
                f"{name}: {side} holds the undefined function(s)"
                f" {', '.join(sorted(map(str, undefined)))}, which cannot be evaluated;"
                " write them out in sympy (a Sum may run to oo)"
            )
    if check.numeric is not None:
        if not callable(check.numeric):
            raise CheckError(
                f"{name}: numeric: expected a callable or None, got {_short(check.numeric)}"
            )
        _validate_signature(check, name)


def _same_shape(check: Check, name: str) -> None:
    lhs, rhs = entries(check.derived), entries(check.closed_form)
    if len(lhs) != len(rhs):
        raise CheckError(f"{name}: derived has {len(lhs)} entries, closed_form {len(rhs)}")
    sides = (check.derived, check.closed_form)
    if all(isinstance(side, sympy.MatrixBase) for side in sides):
        (a, b), (c, d) = (side.shape for side in sides)
        if (a, b) != (c, d):
            raise CheckError(
                f"{name}: closed_form: expected the shape of derived, {a}x{b}, got {c}x{d}"
            )


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


def _declared(symbol: sympy.Symbol) -> str:
    given = getattr(symbol, "_assumptions_orig", None) or {
        k: v for k, v in symbol.assumptions0.items() if k != "commutative"
    }
    given = {k: v for k, v in given.items() if k != "commutative"}
    return ", ".join(f"{k}={v}" for k, v in sorted(given.items())) or "none"


def check_assumptions(check: Check) -> None:
    """Raise :class:`CheckError` unless every symbol's assumptions hold on its whole domain.

    Every key sympy derives from the declaration (``positive`` gives
    ``nonzero``, ``real``, ...) is compared with what the domain's facts
    give; an assumption the domain does not imply (``even`` on
    ``Integers(0, 100)``, ``positive`` on ``Interval(-0.001, 100)``) fails.
    """
    for arg in check.args:
        facts = arg.domain.facts()
        model = sympy.Dummy(**facts)
        for symbol in arg.flat:
            declared = dict(getattr(symbol, "_assumptions_orig", {}) or {})
            for key, value in {**declared, **symbol.assumptions0}.items():
                if key == "commutative" or value is None:
                    continue
                if getattr(model, f"is_{key}") != value:
                    implied = ", ".join(f"{k}" for k in facts) or "nothing"
                    raise CheckError(
                        f"check {check.name!r}: {symbol}: expected assumptions its domain"
                        f" implies, got {_declared(symbol)}; {arg.domain!r} implies only"
                        f" {implied} (its hull is {_hull(arg.domain)}), so sympy's proof would"
                        f" assume {key}={value} where it fails: fix the symbol or the domain"
                    )


def _hull(domain: Domain) -> str:
    low, high = domain.hull
    left = "[" if domain.closed and np.isfinite(low) else "("
    right = "]" if domain.closed and np.isfinite(high) else ")"
    return f"{left}{low:g}, {high:g}{right}"
