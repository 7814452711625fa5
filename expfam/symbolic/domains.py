"""Where a derivation's symbols live: symbolic building blocks and sampling domains.

:func:`logsumexp` and :func:`softmax` write the categorical family's
log-partition and mean map in sympy, as a derivation states them. A
:class:`Domain` says where an argument of a check lives: it draws random
points and lists extreme ones (large and tiny logits, near-boundary
probabilities) at which the numeric code must still agree.

Examples
--------
>>> import sympy
>>> z = sympy.symbols("z1:3")
>>> softmax(z)[0]
exp(z1)/(exp(z1) + exp(z2))
>>> Interval(0.0, 1.0).extremes(2)
array([[0., 0.],
       [1., 1.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy
from numpy.typing import NDArray

__all__ = [
    "Domain",
    "Integers",
    "Interval",
    "Logits",
    "Positive",
    "Reals",
    "Shifted",
    "Simplex",
    "logsumexp",
    "softmax",
]


def logsumexp(z: Sequence[sympy.Expr]) -> sympy.Expr:
    r"""The log-partition of the categorical family, ``log(sum_k exp(z_k))``, as written.

    .. math::

        \operatorname{logsumexp}(z) = \log \sum_k e^{z_k}

    Parameters
    ----------
    z : sequence of sympy.Expr
        The logits ``z_1, ..., z_K`` (symbols or expressions).

    Returns
    -------
    sympy.Expr
        ``log(exp(z_1) + ... + exp(z_K))``, unshifted: lambdified naively it
        overflows at large logits, so a check compares it at high precision.

    Examples
    --------
    >>> import sympy
    >>> logsumexp(sympy.symbols("z1:3"))
    log(exp(z1) + exp(z2))
    """
    return sympy.log(sum(sympy.exp(t) for t in z))


def softmax(z: Sequence[sympy.Expr]) -> sympy.Matrix:
    r"""The mean map of the categorical family, ``exp(z_k) / sum_j exp(z_j)``, as a column.

    .. math::

        \operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}

    Parameters
    ----------
    z : sequence of sympy.Expr
        The logits ``z_1, ..., z_K`` (symbols or expressions).

    Returns
    -------
    sympy.Matrix, shape (K, 1)
        The probabilities, the gradient of :func:`logsumexp`.
    """
    total = sum(sympy.exp(t) for t in z)
    return sympy.Matrix([sympy.exp(t) / total for t in z])


# --- domains: where a check samples its points --------------------------------------------


def _require(condition: bool, name: str, expected: str, got: object) -> None:
    if not condition:
        raise ValueError(f"{name}: expected {expected}, got {got}")


def _real(name: str, value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a real number, got {value!r}") from None
    _require(not np.isnan(x), name, "a real number", value)
    return x


class Domain:
    """Where an argument lives: random points, extreme points and its sympy facts.

    Every domain is an interval of the reals per coordinate (its :attr:`hull`),
    open at a finite end unless :attr:`closed`. A proof may use exactly the
    facts of :meth:`facts` (real, finite, the sign the hull gives, integer
    for a discrete domain); a symbol declared with more fails its check. The
    ends of an open domain are visited by the numeric comparison, which holds
    the code to the claim's limit there.
    """

    discrete = False
    closed = False

    @property
    def hull(self) -> tuple[float, float]:
        """The smallest interval holding every coordinate of every point (edges included)."""
        return (-np.inf, np.inf)

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        """Random points of the domain; every concrete domain supplies its law.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator to draw from.
        n : int
            Number of points.
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (n, k)
            The points, one per row.
        """
        raise NotImplementedError

    def extremes(self, k: int) -> NDArray[np.float64]:
        """The extreme points at which the numeric code must still agree with the claim.

        Every concrete domain supplies its own (large and tiny values, the
        ends, the boundary).

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (m, k)
            The extreme points, one per row.
        """
        raise NotImplementedError

    def far(self, k: int) -> NDArray[np.float64]:
        """Points far out (to +-1e300), used where the argument is a check's only one.

        Beside other arguments they would swallow them in float64 (l + 1e300
        is 1e300), which no code can undo. None here; :class:`Logits` and
        :class:`Reals` have them.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (m, k)
            The far points, one per row (``m = 0`` here).
        """
        return np.zeros((0, k))

    def facts(self) -> dict[str, bool]:
        """The assumptions every coordinate satisfies, as sympy keywords.

        An open end at 0 still gives ``positive`` (or ``negative``): 0 itself
        is a limit, not a point of the domain.

        Returns
        -------
        dict of str to bool
            ``real`` and ``finite``; ``integer`` for a discrete domain; and
            ``positive``, ``nonnegative``, ``negative`` or ``nonpositive`` as
            the :attr:`hull` implies.

        Examples
        --------
        >>> Positive(0.5, 2.0).facts()
        {'real': True, 'finite': True, 'positive': True}
        """
        low, high = self.hull
        facts = {"real": True, "finite": True}
        if self.discrete:
            facts["integer"] = True
        strict = not self.closed
        if low > 0 or (low == 0 and strict):
            facts["positive"] = True
        elif low >= 0:
            facts["nonnegative"] = True
        if high < 0 or (high == 0 and strict):
            facts["negative"] = True
        elif high <= 0:
            facts["nonpositive"] = True
        return facts

    def special(self, k: int) -> NDArray[np.float64]:
        """Points where claims break: 0, +-1, +-1/2, the ends, integers and halves near them.

        Each value is a row with every coordinate at that value; values outside
        the domain are dropped (an open end is kept: it is a limit).

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (m, k)
            The special points, one per row, in increasing order (rounded to
            integers and deduplicated for a discrete domain).
        """
        low, high = self.hull
        values = [0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.0, -2.0]
        for end in (low, high):
            if np.isfinite(end):
                values += [end, np.floor(end), np.ceil(end), np.floor(end) + 0.5]
                values += [np.ceil(end) - 0.5, np.floor(end) - 1, np.ceil(end) + 1]
        if not np.isfinite(low) and not np.isfinite(high):
            values += [1e3, -1e3, 7.0 / 3.0, -7.0 / 3.0]
        inside = sorted({v for v in values if low <= v <= high})
        if self.discrete:
            inside = sorted({float(round(v)) for v in inside if low <= round(v) <= high})
        return np.repeat(np.array(inside, dtype=float)[:, None], k, axis=1).reshape(-1, k)


@dataclass(frozen=True)
class Logits(Domain):
    """Logits in R^k: normal with ``scale``; extremes to +-1e4 (+-1e300 alone), ties, underflow.

    Parameters
    ----------
    scale : float, optional
        Standard deviation of the random logits, ``> 0``.
    limit : float, optional
        Drops the extreme (and far) rows with a logit beyond ``+-limit``, for
        claims whose value leaves the float64 range there, such as ``1 / p``;
        ``> 0``, default no limit.
    """

    scale: float = 4.0
    limit: float = np.inf

    def __post_init__(self) -> None:
        _require(_real("scale", self.scale) > 0, "Logits scale", "a positive number", self.scale)
        _require(_real("limit", self.limit) > 0, "Logits limit", "a positive number", self.limit)

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        """Independent normal logits of standard deviation :attr:`scale`.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator to draw from.
        n : int
            Number of points.
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (n, k)
            ``scale * N(0, 1)`` draws.
        """
        return self.scale * rng.standard_normal((n, k))

    def extremes(self, k: int) -> NDArray[np.float64]:
        """The logits where softmax code breaks: overflow, underflow, ties, near-uniform.

        The uniform point, ``1000 + (0, 1, ...)`` (every exp overflows), its
        negative (every exp underflows), a spread of 1e4 (one-hot to float64),
        one class at 700 or at -745, a tie at the maximum, differences of
        1e-9, a ramp from -40 to 40 and alternating +-30; rows beyond
        :attr:`limit` dropped.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (m, k)
            The extreme logits, one per row (``m <= 10``).
        """
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

    def far(self, k: int) -> NDArray[np.float64]:
        """Every logit at ``+1e300`` or at ``-1e300``: a shift beyond any exp.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (m, k)
            The two rows, less those beyond :attr:`limit`.
        """
        rows = np.array([np.full(k, 1e300), np.full(k, -1e300)])  # a shift beyond any exp
        return rows[np.max(np.abs(rows), axis=1) <= self.limit]


@dataclass(frozen=True)
class Reals(Domain):
    """Real vectors: normal with ``scale``; extremes 0, 1, large, tiny; far out +-1e300.

    Parameters
    ----------
    scale : float, optional
        Standard deviation of the random points, ``> 0``.
    """

    scale: float = 2.0

    def __post_init__(self) -> None:
        _require(_real("scale", self.scale) > 0, "Reals scale", "a positive number", self.scale)

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        """Independent normal coordinates of standard deviation :attr:`scale`.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator to draw from.
        n : int
            Number of points.
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (n, k)
            ``scale * N(0, 1)`` draws.
        """
        return self.scale * rng.standard_normal((n, k))

    def extremes(self, k: int) -> NDArray[np.float64]:
        """Zeros, ones, the large ramp ``1e3 (j - 1.5)`` and the tiny ``1e-12 (1 + j)``.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (4, k)
            The extreme points, one per row.
        """
        ramp = np.arange(k, dtype=float)
        return np.array(
            [
                np.zeros(k),
                np.ones(k),
                1e3 * (ramp - 1.5),
                1e-12 * (1.0 + ramp),
            ]
        )

    def far(self, k: int) -> NDArray[np.float64]:
        """Every coordinate at ``+1e300`` or at ``-1e300``.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (2, k)
            The two far points.
        """
        return np.array([np.full(k, 1e300), np.full(k, -1e300)])


def _interval(name: str, low: object, high: object) -> tuple[float, float]:
    low, high = _real(f"{name} low", low), _real(f"{name} high", high)
    _require(low < high, name, "low < high (a domain with points)", f"low={low:g}, high={high:g}")
    return low, high


@dataclass(frozen=True)
class Interval(Domain):
    """Reals in the open interval ``(low, high)``, uniform; extremes are the ``edges``.

    Parameters
    ----------
    low, high : float
        The ends, ``low < high``; random points are uniform between them.
    edges : tuple of float, optional
        The extreme points (default both ends); they may lie outside
        ``(low, high)``, and the domain's :attr:`hull` then covers them.

    Examples
    --------
    >>> Interval(-1.0, 1.0, edges=(-1.0, 0.0, 2.0)).hull
    (-1.0, 2.0)
    """

    low: float
    high: float
    edges: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        _interval("Interval", self.low, self.high)
        for edge in self.edges:
            _real("Interval edges", edge)

    @property
    def hull(self) -> tuple[float, float]:
        """The smallest interval holding every coordinate of every point (edges included)."""
        points = (self.low, self.high, *self.edges)
        return (float(min(points)), float(max(points)))

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        """Independent uniform coordinates on ``[low, high)``.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator to draw from.
        n : int
            Number of points.
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (n, k)
            The uniform draws.
        """
        return rng.uniform(self.low, self.high, (n, k))

    def extremes(self, k: int) -> NDArray[np.float64]:
        """One row per edge (default ``low`` and ``high``), every coordinate at that edge.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (len(edges), k)
            The extreme points, one per row.
        """
        edges = self.edges or (self.low, self.high)
        return np.repeat(np.array(edges, dtype=float)[:, None], k, axis=1)


@dataclass(frozen=True)
class Positive(Domain):
    """Positive reals, log-uniform in ``[low, high]``; extremes at both ends and mixed.

    Parameters
    ----------
    low : float, optional
        The lower end, ``> 0``.
    high : float, optional
        The upper end, ``> low``.
    """

    low: float = 0.05
    high: float = 50.0
    closed = True

    def __post_init__(self) -> None:
        low, _ = _interval("Positive", self.low, self.high)
        _require(low > 0, "Positive low", "a positive number", self.low)

    @property
    def hull(self) -> tuple[float, float]:
        """The smallest interval holding every coordinate of every point (edges included)."""
        return (float(self.low), float(self.high))

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        """Log-uniform coordinates ``exp(U)``, ``U`` uniform on ``[log low, log high)``.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator to draw from.
        n : int
            Number of points.
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (n, k)
            The draws.
        """
        return np.exp(rng.uniform(np.log(self.low), np.log(self.high), (n, k)))

    def extremes(self, k: int) -> NDArray[np.float64]:
        """Every coordinate at ``low``, every one at ``high``, and the two alternating.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (3, k)
            The extreme points, one per row.
        """
        mixed = np.where(np.arange(k) % 2 == 0, self.low, self.high)
        return np.array([np.full(k, self.low), np.full(k, self.high), mixed])


@dataclass(frozen=True)
class Simplex(Domain):
    """Mean coordinates: the first k probabilities of a point of the open (k+1)-simplex.

    Random points are uniform (Dirichlet(1, ..., 1)); extremes put tiny mass
    on the leading classes and keep the last one (computed as 1 - sum) large,
    and reach the boundary (entries exactly 0), where the numeric code is held
    to the claim's limit.
    """

    @property
    def hull(self) -> tuple[float, float]:
        """The smallest interval holding every coordinate of every point (edges included)."""
        return (0.0, 1.0)

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        """Uniform points of the simplex (Dirichlet(1, ..., 1) over k + 1 classes), less the last.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator to draw from.
        n : int
            Number of points.
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (n, k)
            The first k probabilities of each point.
        """
        return rng.dirichlet(np.ones(k + 1), n)[:, :k]

    def extremes(self, k: int) -> NDArray[np.float64]:
        """The centre, tiny leading mass (1e-300, 1e-12, 1e-200), and the boundary.

        Rows: the uniform point; the first class at 1e-300; every class at
        1e-12; every class at 1e-200; the first class at exactly 0; every
        class at 0 (the vertex of the last class).

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (6, k)
            The extreme points, one per row.
        """
        first_tiny = np.full(k, 0.5 / k)
        first_tiny[0] = 1e-300
        first_zero = np.full(k, 0.5 / k)
        first_zero[0] = 0.0
        return np.array(
            [
                np.full(k, 1.0 / (k + 1)),
                first_tiny,
                np.full(k, 1e-12),
                np.full(k, 1e-200),
                first_zero,  # on the boundary: the claim's limit
                np.zeros(k),  # the vertex of the last class
            ]
        )

    def special(self, k: int) -> NDArray[np.float64]:
        """The uniform point, half the mass on the leading classes, and 1e-3 of it.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (3, k)
            Rows ``1 / (k + 1)``, ``0.5 / k`` and ``1e-3 / k`` in every coordinate.
        """
        return np.array([np.full(k, 1.0 / (k + 1)), np.full(k, 0.5 / k), np.full(k, 1e-3 / k)])


@dataclass(frozen=True)
class Integers(Domain):
    """Integers in ``[low, high]``; extremes are both ends.

    Parameters
    ----------
    low, high : int
        The ends, both included, ``low <= high`` (not bools).
    """

    discrete = True
    closed = True
    low: int
    high: int

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            _require(
                isinstance(value, int | np.integer) and not isinstance(value, bool),
                f"Integers {name}",
                "an int",
                repr(value),
            )
        _require(
            self.low <= self.high, "Integers", "low <= high", f"low={self.low}, high={self.high}"
        )

    @property
    def hull(self) -> tuple[float, float]:
        """The smallest interval holding every coordinate of every point (edges included)."""
        return (float(self.low), float(self.high))

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        """Independent uniform integers in ``[low, high]``, as floats.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator to draw from.
        n : int
            Number of points.
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (n, k)
            The draws.
        """
        return rng.integers(self.low, self.high, (n, k), endpoint=True).astype(float)

    def extremes(self, k: int) -> NDArray[np.float64]:
        """Every coordinate at ``low``, then every one at ``high``.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (2, k)
            The two ends, as floats.
        """
        return np.array([np.full(k, self.low), np.full(k, self.high)], dtype=float)


@dataclass(frozen=True)
class Shifted(Domain):
    """``domain`` moved by ``offset``: e.g. Dirichlet natural parameters alpha - 1.

    Parameters
    ----------
    domain : Domain
        The domain moved.
    offset : float
        Added to every coordinate of every point (and to the :attr:`hull`);
        a discrete domain stays discrete under an integer offset.

    Examples
    --------
    >>> Shifted(Positive(0.5, 2.0), -1.0).hull
    (-0.5, 1.0)
    """

    domain: Domain
    offset: float

    def __post_init__(self) -> None:
        _require(isinstance(self.domain, Domain), "Shifted domain", "a Domain", repr(self.domain))
        _real("Shifted offset", self.offset)

    @property
    def discrete(self) -> bool:  # type: ignore[override]
        """Whether the moved domain is discrete and the offset an integer."""
        return self.domain.discrete and float(self.offset).is_integer()

    @property
    def closed(self) -> bool:  # type: ignore[override]
        """Whether the moved domain includes its finite ends."""
        return self.domain.closed

    @property
    def hull(self) -> tuple[float, float]:
        """The smallest interval holding every coordinate of every point (edges included)."""
        low, high = self.domain.hull
        return (low + self.offset, high + self.offset)

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        """The moved domain's random points plus :attr:`offset`.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator to draw from.
        n : int
            Number of points.
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (n, k)
            The shifted draws.
        """
        return self.domain.random(rng, n, k) + self.offset

    def extremes(self, k: int) -> NDArray[np.float64]:
        """The moved domain's extreme points plus :attr:`offset`.

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (m, k)
            The shifted extreme points.
        """
        return self.domain.extremes(k) + self.offset

    def special(self, k: int) -> NDArray[np.float64]:
        """The moved domain's special points shifted, then the shifted domain's own.

        The second part is :meth:`Domain.special` on the shifted hull: the
        points where claims break in the new coordinates (0, +-1, the ends).

        Parameters
        ----------
        k : int
            Number of coordinates of each point.

        Returns
        -------
        ndarray, shape (m, k)
            The special points, one per row.
        """
        return np.concatenate([self.domain.special(k) + self.offset, super().special(k)])
