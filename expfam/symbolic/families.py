"""Exponential families written symbolically, and the checks of their numeric twins.

:class:`SymbolicFamily` gives a family by its natural parameters and
log-partition and derives its mean map, Fisher metric, entropy and KL
divergence; :func:`family_checks` turns those into :class:`Check` objects
against a numeric family class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
from numpy.typing import NDArray

from expfam.symbolic.check import Arg, Check
from expfam.symbolic.domains import Domain

__all__ = ["SymbolicFamily", "family_checks"]


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
