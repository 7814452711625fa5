"""Where a check is evaluated: random, extreme, special and discontinuity points.

The numeric comparison uses float rows (:func:`sample`): random points, then
each argument's extremes. Identity testing uses exact points
(:func:`identity_points`): every domain's special points (0, +-1, +-1/2, the
ends, integers and halves near them), points at and beside every jump sympy
can locate (the zeros of the arguments of ``sign``, ``Abs``, ``Heaviside``,
of ``a - b`` for ``Min``, ``Max``, ``KroneckerDelta`` and a ``Piecewise``
condition ``a < b``), then random rationals

.. math::

    x = p / q, \\qquad q \\text{ a random prime above } 10^{12},

at which a structured false claim (true at every multiple of 1/8, or at
every float) cannot hold by accident.

Examples
--------
>>> import sympy
>>> from expfam.symbolic.claims import Arg, Check
>>> from expfam.symbolic.domains import Reals
>>> w = sympy.Symbol("w", real=True)
>>> check = Check("min", "", [Arg(w, Reals())], sympy.Min(w, 100), w)
>>> points = identity_points(check, np.random.default_rng(0), 0)
>>> [p for p in points if p[0] > 99]
[[1000], [100], [1001/10], [999/10]]
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy
from numpy.typing import NDArray

from expfam.symbolic.claims import Check
from expfam.symbolic.validate import entries

__all__ = ["at_open_end", "distinct", "identity_points", "sample", "split"]

_DENOMINATOR = 10**12  # identity points are p/q with q a prime above this (and above 1e12/|x|)
_BESIDE = sympy.Rational(1, 1000)  # a jump is also tested this far (relative) to each side


def sample(
    check: Check, rng: np.random.Generator, n: int, extremes: bool = True
) -> NDArray[np.float64]:
    """Rows of points: ``n`` random ones, then each argument's extremes with random others.

    A check with one argument also gets its domain's :meth:`~expfam.symbolic.domains.Domain.far`
    points.
    """
    if not check.args:
        return np.zeros((1, 0))
    random = [a.domain.random(rng, n, len(a.flat)) for a in check.args]
    blocks = [np.concatenate(random, axis=1)]
    if extremes:
        for i, arg in enumerate(check.args):
            edge = arg.domain.extremes(len(arg.flat))
            if len(check.args) == 1:
                edge = np.concatenate([edge, arg.domain.far(len(arg.flat))])
            parts = [
                edge if j == i else other.domain.random(rng, len(edge), len(other.flat))
                for j, other in enumerate(check.args)
            ]
            blocks.append(np.concatenate(parts, axis=1))
    return _tie(check, np.concatenate(blocks, axis=0))


def distinct(check: Check) -> tuple[tuple[sympy.Symbol, ...], list[int]]:
    """The distinct symbols of the check, and the column of each one's first use.

    A symbol may appear in several coordinates (the entries of a symmetric
    matrix); the points give all of them the value of the first.
    """
    first: dict[sympy.Symbol, int] = {}
    for j, symbol in enumerate(check.symbols):
        first.setdefault(symbol, j)
    return tuple(first), list(first.values())


def _tie(check: Check, rows: NDArray) -> NDArray:
    """``rows`` with every repeated symbol's columns set to its first column."""
    for j, symbol in enumerate(check.symbols):
        first = check.symbols.index(symbol)
        if first != j:
            rows[:, j] = rows[:, first]
    return rows


def split(check: Check, row: NDArray) -> list:
    """The row as the numeric callable's arguments: a value per scalar, a 1-D array per vector."""
    values, start = [], 0
    for arg in check.args:
        size = len(arg.flat)
        values.append(arg.value(row[start : start + size]))
        start += size
    return values


def at_open_end(check: Check, point: list) -> bool:
    """Whether a coordinate of ``point`` sits at an open end of its domain (a limit point)."""
    column = 0
    for arg in check.args:
        low, high = arg.domain.hull
        for _ in arg.flat:
            x = point[column]
            if not arg.domain.closed and x in (low, high):
                return True
            column += 1
    return False


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


def _jumps(check: Check) -> list[sympy.Expr]:
    """Expressions whose zeros are the jumps and kinks sympy can see in the claim."""
    found: list[sympy.Expr] = []
    sides = [check.derived] + ([] if check.closed_form is None else [check.closed_form])
    for expr in itertools.chain.from_iterable(entries(s) for s in sides):
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, sympy.sign | sympy.Abs | sympy.Heaviside):
                found.append(node.args[0])
            elif isinstance(node, sympy.Min | sympy.Max):
                found += [a - b for a, b in itertools.combinations(node.args, 2)]
            elif isinstance(node, sympy.KroneckerDelta):
                found.append(node.args[0] - node.args[1])
            elif isinstance(node, sympy.Piecewise):
                for _, condition in node.args:
                    for relation in condition.atoms(sympy.core.relational.Relational):
                        found.append(relation.lhs - relation.rhs)
            elif isinstance(node, sympy.floor | sympy.ceiling | sympy.frac):
                found += [node.args[0] - k for k in (-1, 0, 1)]
    return found


def _roots(expr: sympy.Expr, symbol: sympy.Symbol) -> list[sympy.Rational]:
    """Real zeros of a polynomial ``expr`` in ``symbol`` (degree <= 4), as exact rationals."""
    try:
        poly = sympy.Poly(expr, symbol)
    except sympy.PolynomialError:
        return []
    if not 1 <= poly.degree() <= 4 or not all(c.is_number for c in poly.all_coeffs()):
        return []
    try:
        roots = poly.nroots(n=30)
    except (sympy.polys.polyerrors.NoConvergence, ValueError):
        return []
    return [sympy.nsimplify(r, rational=True) for r in roots if r.is_real]


def identity_points(check: Check, rng: np.random.Generator, n: int) -> list[list]:
    """Exact points for identity testing: special ones, jumps, then ``n`` random ones.

    Each point gives one value per distinct symbol (see :func:`distinct`).
    """
    symbols = check.symbols
    discrete = [arg.domain.discrete for arg in check.args for _ in arg.flat]
    base = sample(check, rng, max(n, 1), extremes=False)
    points = []
    for i, arg in enumerate(check.args):
        for row in arg.domain.special(len(arg.flat)):
            point = [
                _exact(x, d, rng)
                for x, d in zip(base[len(points) % len(base)], discrete, strict=True)
            ]
            start = sum(len(a.flat) for a in check.args[:i])
            for j, x in enumerate(row):
                point[start + j] = sympy.Rational(float(x))
            points.append(point)
    domains = [arg.domain for arg in check.args for _ in arg.flat]
    for expr in _jumps(check):
        free = [s for s in symbols if s in expr.free_symbols]
        if len(free) != 1:
            continue
        column = symbols.index(free[0])
        low, high = domains[column].hull
        for root in _roots(expr, free[0]):
            step = _BESIDE * max(1, abs(root))
            for x in (root, root + step, root - step):
                if discrete[column] and not x.is_integer:
                    continue
                if low <= x <= high:
                    point = [_exact(v, d, rng) for v, d in zip(base[0], discrete, strict=True)]
                    point[column] = x
                    points.append(point)
    unique = list({tuple(p): p for p in points}.values())
    random = [[_exact(x, d, rng) for x, d in zip(row, discrete, strict=True)] for row in base[:n]]
    _, columns = distinct(check)
    return [[point[j] for j in columns] for point in unique + random]
