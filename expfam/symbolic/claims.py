"""What a derivation declares and what running it finds: :class:`Check`, :class:`CheckResult`.

A :class:`Check` pairs a claim (``derived == closed_form``) with the
arguments' domains and the numeric callable that must agree with
``derived``; a :class:`CheckResult` holds the verdict, the worst error and the
points that failed.

Examples
--------
>>> import sympy
>>> from expfam.symbolic.domains import Reals
>>> w = sympy.Symbol("w", real=True)
>>> Check("square", "w^2 = w w", [Arg(w, Reals())], w**2, w * w).symbols
(w,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
from numpy.typing import ArrayLike, NDArray

from expfam.symbolic.domains import Domain

__all__ = [
    "Arg",
    "Check",
    "CheckError",
    "CheckResult",
    "CheckTimeout",
    "Counterexample",
    "Failure",
]


class CheckError(ValueError):
    """A check is written wrongly (a one-line message says what to write instead)."""


class CheckTimeout(BaseException):
    """One check ran past its time limit (a BaseException: library code must not catch it)."""


@dataclass(frozen=True)
class Arg:
    """One argument of the numeric callable: a symbol (a scalar) or symbols (a vector).

    Parameters
    ----------
    symbols : sympy.Symbol or sequence of sympy.Symbol
        One symbol for a scalar argument (the callable gets a float), a
        sequence for a vector argument (it gets a 1-D array).
    domain : Domain
        Where every coordinate of the argument lives: the points a check
        samples and the facts a proof may use.

    Examples
    --------
    >>> import sympy
    >>> from expfam.symbolic.domains import Logits
    >>> Arg(sympy.symbols("z1:7"), Logits()).name
    '(z1, ..., z6)'
    """

    symbols: sympy.Symbol | Sequence[sympy.Symbol]
    domain: Domain

    @property
    def flat(self) -> tuple[sympy.Symbol, ...]:
        """The symbols as a tuple: one for a scalar argument, all of them for a vector."""
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
        """The value passed to the numeric callable: a float or a 1-D array.

        Parameters
        ----------
        row : ndarray, shape (len(flat),)
            The argument's coordinates at one point.

        Returns
        -------
        float or ndarray
            ``row[0]`` as a float for a scalar argument, a copy of ``row``
            for a vector argument.
        """
        return float(row[0]) if isinstance(self.symbols, sympy.Symbol) else row.copy()


@dataclass(frozen=True)
class Check:
    """One claim of a derivation, checked symbolically and against the numeric code.

    Parameters
    ----------
    name : str
        Short identifier, unique within the derivation (e.g. ``"jacobian_k3"``).
    claim : str
        The claim in words and formulas, shown in the table.
    args : sequence of Arg
        The arguments of ``numeric``, in order, with their domains.
    derived : sympy.Expr or sympy.Matrix
        The symbolic result (a sympy expression or matrix in the symbols of
        ``args``), derived from the definitions. It is the reference the
        numeric code is compared with.
    closed_form : sympy.Expr, sympy.Matrix or None, optional
        What ``derived`` is claimed to equal; the harness proves it, tests it
        at random exact points, or finds it false (see the module docstring).
        ``None`` when ``derived`` is itself the claim.
    numeric : callable or None, optional
        The expfam callable under test, called as ``numeric(*values)`` with a
        float per scalar argument and a 1-D array per vector argument; it
        returns something with as many entries as ``derived``. ``None`` for a
        purely symbolic claim.
    rtol, atol : float, optional
        The numeric value passes where ``|numeric - derived| <= rtol |derived| + atol``
        (plus the smallest normal float64, below which relative error is meaningless).
    points : int, optional
        How many random points.
    extremes : bool, optional
        Whether to add the domains' extreme points (turn off only for code
        that is not meant to survive them, such as a seed's naive formula).
    batch : bool, optional
        Whether ``numeric`` also takes a batch: a leading axis of points (a
        1-D array per scalar argument, rows per vector argument). It is then
        called on 1024 rows or more at once, and in float32. Turn off for a
        callable written for one point.
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
    batch: bool = True

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        """Every symbol of the arguments, in order (a vector argument's one by one)."""
        return tuple(s for arg in self.args for s in arg.flat)


@dataclass(frozen=True)
class Failure:
    """Where a numeric value and the symbolic one disagree (or the numeric code warned).

    Parameters
    ----------
    point : dict
        The argument values by argument name (:attr:`Arg.name`), plus
        ``"call"`` naming the call (batched, float32) where it was not point
        by point.
    numeric : list of float
        The numeric callable's values there.
    symbolic : list of float
        The reference, ``derived`` evaluated at high precision (NaN where it
        is not a real float).
    error : float
        The worst relative error of the entries, with a floor near 0 (the
        ``err`` of the table); ``inf`` where the numeric code warned.
    """

    point: dict[str, Any]
    numeric: Any
    symbolic: Any
    error: float

    def describe(self) -> str:
        """The failure in one line of a report.

        Returns
        -------
        str
            ``"at {point}: numeric ..., symbolic ..., error ..."``.
        """
        return (
            f"at {self.point}: numeric {self.numeric}, symbolic {self.symbolic}, "
            f"error {self.error:.3g}"
        )


@dataclass(frozen=True)
class Counterexample:
    """A point where ``derived`` and ``closed_form`` differ: the claim is false.

    Parameters
    ----------
    point : dict of str to str
        Each symbol's name mapped to its exact value (``"p/q"``).
    entry : int
        The flat index of the differing entry (of a matrix claim).
    derived, closed_form : str
        The two sides' values there, to 20 digits.
    difference : str
        ``derived - closed_form`` to 5 digits (it may lie below the 20th
        digit of either).

    Examples
    --------
    >>> Counterexample({"w": "1/16"}, 0, "1.0", "0.0", "1.0").describe()
    'counterexample at w = 1/16: derived[0] = 1.0, closed_form[0] = 0.0 (difference 1.0)'
    """

    point: dict[str, str]
    entry: int
    derived: str
    closed_form: str
    difference: str

    def describe(self) -> str:
        """The counterexample in one line of a report.

        Returns
        -------
        str
            The point and both sides' values at the differing entry.
        """
        where = ", ".join(f"{k} = {v}" for k, v in self.point.items())
        return (
            f"counterexample at {where}: derived[{self.entry}] = {self.derived},"
            f" closed_form[{self.entry}] = {self.closed_form} (difference {self.difference})"
        )


@dataclass
class CheckResult:
    """What running one :class:`Check` found.

    Made by :func:`~expfam.symbolic.check.run_check`; the fields after
    ``claim`` are filled as the check runs.

    Parameters
    ----------
    derivation : str
        The derivation (module) the check belongs to.
    name : str
        The check's name.
    claim : str
        The check's claim, as written.
    verdict : str, optional
        How ``derived == closed_form`` was shown: ``"proved"``,
        ``"tested at N points (D digits)"``, ``"false"``, ``"unproved"``,
        ``"-"`` (no closed form), ``"timed out"`` or ``"error"`` (the check
        is written wrongly or raised).
    points : int, optional
        The points at which the numeric callable was compared (those where
        the reference could be settled).
    worst_error : float, optional
        The worst relative error (with a floor near 0) over every call of the
        numeric callable; the check passes where it is at most ``rtol``.
    seconds : float, optional
        Wall-clock time the check took.
    ok : bool, optional
        Whether the check passed.
    failures : list of Failure, optional
        The worst failing points (up to three).
    message : str, optional
        What went wrong, or a note on how the verdict was reached.
    counterexample : Counterexample or None, optional
        The point that makes a false claim false.
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
        """The result as one row of the JSON table.

        Returns
        -------
        dict
            The fields under the keys ``derivation``, ``check``, ``claim``,
            ``verdict``, ``points``, ``worst_error``, ``seconds`` (rounded to
            milliseconds), ``ok``, ``message``, ``counterexample`` and
            ``failures`` (the last two as plain dicts).

        Examples
        --------
        >>> CheckResult("d", "c", "x = x").row()["verdict"]
        '-'
        """
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
