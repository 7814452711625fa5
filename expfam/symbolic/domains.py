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
    """The log-partition of the categorical family, ``log(sum_k exp(z_k))``, as written."""
    return sympy.log(sum(sympy.exp(t) for t in z))


def softmax(z: Sequence[sympy.Expr]) -> sympy.Matrix:
    """The mean map of the categorical family, ``exp(z_k) / sum_j exp(z_j)``, as a column."""
    total = sum(sympy.exp(t) for t in z)
    return sympy.Matrix([sympy.exp(t) / total for t in z])


# --- domains: where a check samples its points --------------------------------------------


class Domain:
    """Where an argument lives: random points and extreme points, each row a point.

    ``discrete`` domains hold integers only: identity testing keeps their
    points integral instead of making them rationals with large denominators.
    """

    discrete = False

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

    discrete = True
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

    @property
    def discrete(self) -> bool:  # type: ignore[override]
        return self.domain.discrete and float(self.offset).is_integer()

    def random(self, rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
        return self.domain.random(rng, n, k) + self.offset

    def extremes(self, k: int) -> NDArray[np.float64]:
        return self.domain.extremes(k) + self.offset
