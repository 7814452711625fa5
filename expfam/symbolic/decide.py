"""Deciding ``derived == closed_form``: proved, tested at N points, false or unproved.

A claim is **proved** when sympy reduces every entry of the difference to 0
using only what the domains imply (each symbol is replaced by one carrying
exactly its domain's facts; a rewrite of ``exp`` that needs a real exponent
is made only where the exponent is real there), no side holds an inexact
number (a ``Float``), and the proof survives a numeric confirmation at a few
special and random exact points (a simplification sympy gets wrong, or one
that depends on the hash seed, is caught there and the claim is **false**).

Otherwise the claim is **tested**: at every special, jump and random exact
point, each entry of the difference :math:`d = a - b` is evaluated at
:math:`2D` digits with guarded arithmetic (a cancelling sum or a jump that
the precision cannot settle raises the precision to :math:`8D`, then falls
back to sympy's error-tracking ``evalf``). The sides agree where

.. math::

    |a - b| \\le 10^{-D} \\max(|a|, |b|),

and differ, a counterexample, where the resolved difference is larger. With
:math:`D = 200` a difference that stays non-zero at 400 digits is false.
A claim that agrees at fewer than :data:`MIN_POINTS` points, or that some
interior point cannot settle, is **unproved**.

Examples
--------
>>> import sympy
>>> from expfam.symbolic.claims import Arg, Check
>>> from expfam.symbolic.domains import Reals
>>> w = sympy.Symbol("w", real=True)
>>> decide(Check("c", "", [Arg(w, Reals())], sympy.log(sympy.exp(sympy.I * w)), sympy.I * w),
...        np.random.default_rng(0), 5, 50)[0]
'false'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mpmath
import numpy as np
import sympy

from expfam.symbolic.claims import Check, Counterexample
from expfam.symbolic.evaluate import Unresolved, compile_entries, evalf_entry, exact_point
from expfam.symbolic.sample import at_open_end, distinct, identity_points
from expfam.symbolic.validate import entries

__all__ = ["IDENTITY_DIGITS", "IDENTITY_POINTS", "MIN_POINTS", "decide", "is_zero"]

IDENTITY_POINTS = 20  # random exact points for identity testing (special points come on top)
IDENTITY_DIGITS = 200  # the two sides must agree to this many digits (evaluated at twice that)
MIN_POINTS = 10  # a claim tested at fewer agreeing points is unproved
_CONFIRM = 6  # exact points that confirm a proof numerically
_CONFIRM_DIGITS = 30  # digits of agreement that confirm it
_EVALF_DIGITS = 1000  # the most digits sympy's evalf may use at a point the ladder cannot settle


def _domain_model(check: Check) -> dict[sympy.Symbol, sympy.Dummy]:
    """Each symbol replaced by a dummy carrying exactly its domain's facts."""
    return {s: sympy.Dummy(s.name, **arg.domain.facts()) for arg in check.args for s in arg.flat}


def _rational_zero(d: sympy.Expr) -> bool:
    """Whether ``d`` is 0 as a rational function, exponentials of real exponents unwound.

    ``exp(sum_i c_i t_i)`` becomes ``prod_i x_i^c_i`` with ``x_i`` positive
    unknowns (integer multiples share their unknown: ``exp(2 z) = x^2``),
    logs of products of positives are expanded, and ``log(x_i)`` becomes
    ``t_i`` again. Sound only where every ``t_i`` is real (then ``exp(t_i)``
    is a positive number and ``log(exp(t_i)) = t_i``); an exponent sympy
    cannot show real leaves the test to ``simplify``.
    """
    unknowns: dict[sympy.Expr, sympy.Dummy] = {}
    replace = {}
    for e in d.atoms(sympy.exp):
        value = sympy.S.One
        for term, c in sympy.expand(e.args[0]).as_coefficients_dict().items():
            if not (c.is_real and (term == 1 or term.is_extended_real is True)):
                return False
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


def is_zero(d: sympy.Expr) -> bool:
    """Whether sympy can show ``d == 0``: the rational test first, then ``simplify``."""
    return (
        d == 0
        or _rational_zero(d)
        or sympy.simplify(d) == 0
        or sympy.simplify(sympy.expand_func(d)) == 0  # digamma(n), beta(a, b) in closed form
    )


class _Point:
    """The outcome at one exact point: agree, differ (an entry, both values), or unsure."""

    def __init__(self, state: str, entry: int = -1, values: tuple = (), why: str = "") -> None:
        self.state, self.entry, self.values, self.why = state, entry, values, why


def _settle(
    f: Any,
    g: Any,
    lhs: Sequence[sympy.Expr],
    rhs: Sequence[sympy.Expr],
    symbols: tuple[sympy.Symbol, ...],
    point: list,
    digits: int,
    fallback: bool = True,
) -> _Point:
    """Compare the sides at ``point``: guarded mpmath at 2D digits, then 8D, then evalf.

    An entry agrees where :math:`|a - b| \\le 10^{-D} \\max(|a|, |b|)`. A larger
    difference is evaluated again at 8D digits: it differs where it is steady
    (to 10 digits), and agrees where it collapses (the round-off of an exact
    zero, sin(4 pi) = 1e-400). Without ``fallback`` (a proof's confirmation)
    what mpmath cannot settle stays unsure instead of going to evalf.
    """
    why = ""
    pending = list(range(len(lhs)))
    first: dict[int, Any] = {}
    for dps in (2 * digits, 8 * digits):
        try:
            args = exact_point(point, dps)
            with mpmath.workdps(dps):
                a, b = f(*args), g(*args)
        except Unresolved as exc:
            why = f"unresolved: {exc}"
            continue
        except (ArithmeticError, ValueError, TypeError) as exc:  # a pole, log(0)
            why = f"{type(exc).__name__}: {exc}"
            break
        with mpmath.workdps(dps):
            settled = []
            for i in pending:
                x, y = a[i], b[i]
                if not (mpmath.isfinite(x) and mpmath.isfinite(y)):
                    why = f"not finite ({mpmath.nstr(x, 5)}, {mpmath.nstr(y, 5)})"
                    continue
                d = x - y
                if abs(d) <= mpmath.mpf(10) ** -digits * max(abs(x), abs(y)):
                    settled.append(i)
                elif i in first:
                    if abs(d - first[i]) <= mpmath.mpf(10) ** -10 * abs(d):
                        return _Point("differ", i, (x, y, d))
                    if abs(d) <= mpmath.mpf(10) ** -digits * abs(first[i]):
                        settled.append(i)  # collapsed: round-off of an exact zero
                else:
                    first[i] = d
        pending = [i for i in pending if i not in settled]
        if not pending:
            return _Point("agree")
    if not fallback:
        return _Point("unsure", why=why or "not settled by mpmath")
    at = dict(zip(symbols, point, strict=True))
    for i in pending:  # sympy's evalf tracks its own error
        x, y = (evalf_entry(side[i], at, 30, _EVALF_DIGITS) for side in (lhs, rhs))
        if x is None or y is None:
            return _Point("unsure", why=why or "evalf could not settle a side")
        difference = evalf_entry(lhs[i] - rhs[i], at, 30, _EVALF_DIGITS)
        if difference is None:
            return _Point("unsure", why=why or "evalf could not settle the difference")
        if difference == 0:
            continue
        if abs(difference) > sympy.Float(10, 30) ** -digits * max(abs(x), abs(y)):
            values = (x, y, difference)
            return _Point("differ", i, tuple(mpmath.mpmathify(complex(v)) for v in values))
    return _Point("agree")


def _counterexample(
    symbols: tuple[sympy.Symbol, ...], rest: list[int], point: list, outcome: _Point
) -> Counterexample:
    a, b, d = (v.real if mpmath.im(v) == 0 else v for v in outcome.values)
    return Counterexample(
        point={s.name: str(x) for s, x in zip(symbols, point, strict=True)},
        entry=rest[outcome.entry],
        derived=mpmath.nstr(a, 20),
        closed_form=mpmath.nstr(b, 20),
        difference=mpmath.nstr(d, 5),
    )


def _confirmation(points: list[list], special: int, size: int) -> list[list]:
    """A few of the identity points: spread over the special ones, then the first random ones.

    Six for a claim of up to 16 entries, down to two for a large matrix.
    """
    count = max(2, min(_CONFIRM, (_CONFIRM * 16) // max(1, size)))
    half = (count + 1) // 2
    spread = points[:special][:: max(1, special // half)][:half]
    return spread + points[special : special + count - len(spread)]


def _simplifies_to_zero(difference: sympy.Expr) -> bool:
    """``is_zero`` of the difference; a simplification sympy cannot finish proves nothing.

    sympy's assumption system can raise (``InconsistentAssumptions``, a
    ValueError) on facts it derives in an order that depends on its caches:
    the claim then goes on to be tested at points instead of proved.
    """
    try:
        return is_zero(difference)
    except (ValueError, TypeError, RecursionError):
        return False


def decide(
    check: Check, rng: np.random.Generator, n: int, digits: int
) -> tuple[str, Counterexample | None, str]:
    """The verdict on ``derived == closed_form``, a counterexample if false, why if unproved."""
    if check.closed_form is None:
        return "-", None, ""
    lhs, rhs = entries(check.derived), entries(check.closed_form)
    exact = not any(side.atoms(sympy.Float) for side in lhs + rhs)
    model = _domain_model(check)
    rest = [
        i
        for i, (a, b) in enumerate(zip(lhs, rhs, strict=True))
        if not (exact and _simplifies_to_zero((a - b).xreplace(model)))
    ]
    points = identity_points(check, rng, n)
    special = max(0, len(points) - n)
    proved = not rest
    if proved:  # confirmed at a few points, to 30 digits: enough for a wrong simplification
        rest = list(range(len(lhs)))
        points = _confirmation(points, special, len(lhs))
        digits = min(digits, _CONFIRM_DIGITS)
    symbols = distinct(check)[0]
    f = compile_entries(symbols, tuple(lhs[i] for i in rest))
    g = compile_entries(symbols, tuple(rhs[i] for i in rest))
    sides = [lhs[i] for i in rest], [rhs[i] for i in rest]
    agreed, unsure = 0, []
    for point in points:
        outcome = _settle(f, g, *sides, symbols, point, digits, fallback=not proved)
        if outcome.state == "differ":
            example = _counterexample(symbols, rest, point, outcome)
            note = "sympy simplified the difference to 0, wrongly: " if proved else ""
            return "false", example, note
        if outcome.state == "agree":
            agreed += 1
        elif not at_open_end(check, [float(point[symbols.index(s)]) for s in check.symbols]):
            unsure.append(outcome.why)
    undefined = [u for u in unsure if u and "unresolved" not in u and "not settled" not in u]
    if proved and not agreed and unsure and len(undefined) == len(unsure):
        reason = undefined[0]
        return (
            "unproved",
            None,
            f"sympy reduced the difference to 0, but no point of the domain evaluates the"
            f" claim ({reason})",
        )
    if proved:
        return "proved", None, ""
    note = "" if exact else "an inexact number (a Float) in the claim rules out a proof; "
    if unsure:
        reasons = sorted({u for u in unsure if u}) or [f"no agreement to {digits} digits"]
        return (
            "unproved",
            None,
            f"{note}undecided at {len(unsure)} of {len(points)} points ({reasons[0]})",
        )
    if agreed < MIN_POINTS:
        return (
            "unproved",
            None,
            f"{note}tested at only {agreed} point{'s' if agreed != 1 else ''},"
            f" fewer than the minimum {MIN_POINTS}",
        )
    return f"tested at {agreed} points ({digits} digits)", None, note
