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

from expfam.symbolic.check import Arg, Check
from expfam.symbolic.domains import Domain

__all__ = ["SymbolicFamily", "family_checks"]


@dataclass(frozen=True)
class SymbolicFamily:
    """An exponential family written symbolically, ``p(x) = h(x) exp(<theta, T(x)> - A(theta))``.

    A family is given by its natural parameters ``theta`` (symbols) and its
    log-partition ``A(theta)``; everything else is derived by differentiation:
    the mean map ``eta = grad A``, the Fisher metric ``hess A``, the dual
    potential ``phi = theta . eta - A``, the entropy ``A - theta . eta - E[log h]``
    and the KL divergence as the Bregman divergence of ``A``.

    Parameters
    ----------
    name : str
        The name of the numeric family it mirrors (e.g. ``"Categorical"``).
    natural : tuple of sympy.Symbol
        The natural parameters theta (symbols).
    log_partition : sympy.Expr
        A(theta), a sympy expression in ``natural``.
    expected_log_base : sympy.Expr, optional
        E[log h(x)] as a function of theta; 0 when the base measure is 1.
        It may be an infinite sum: Poisson's h(x) = 1/x! gives
        ``-Sum(log(x!) exp(theta x - exp(theta)) / x!, (x, 0, oo))``, which
        the harness evaluates with mpmath's ``nsum``.

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
        r"""The mean map eta = grad A(theta), a column.

        .. math::

            \eta_i = \frac{\partial A}{\partial \theta_i}

        Returns
        -------
        sympy.Matrix, shape (d, 1)
            The expectation parameters in the symbols of ``natural``.
        """
        return sympy.Matrix([sympy.diff(self.log_partition, t) for t in self.natural])

    def fisher(self) -> sympy.Matrix:
        r"""The Fisher metric in natural coordinates, the Hessian of A.

        .. math::

            F_{ij}(\theta) = \frac{\partial^2 A}{\partial \theta_i \, \partial \theta_j}

        Returns
        -------
        sympy.Matrix, shape (d, d)
            The symmetric Hessian of ``log_partition``.

        Examples
        --------
        >>> import sympy
        >>> w = sympy.Symbol("w", real=True)
        >>> bernoulli = SymbolicFamily("Bernoulli", (w,), sympy.log(1 + sympy.exp(w)))
        >>> sympy.factor(bernoulli.fisher()[0])  # p (1 - p)
        exp(w)/(exp(w) + 1)**2
        """
        return sympy.hessian(self.log_partition, self.natural)

    def dual_potential(self) -> sympy.Expr:
        r"""The Legendre dual of A at eta = grad A(theta): phi = theta . eta - A.

        .. math::

            \phi(\eta) = \theta \cdot \nabla A(\theta) - A(\theta)

        Returns
        -------
        sympy.Expr
            ``phi`` as a function of theta (unsimplified).
        """
        return (sympy.Matrix(self.natural).T * self.mean())[0] - self.log_partition

    def entropy(self) -> sympy.Expr:
        r"""The entropy -E[log p(x)] = A - theta . eta - E[log h].

        .. math::

            H(\theta) = A(\theta) - \theta \cdot \nabla A(\theta) - \mathbb{E}[\log h(x)]

        Returns
        -------
        sympy.Expr
            ``-phi - expected_log_base`` as a function of theta.
        """
        return -self.dual_potential() - self.expected_log_base

    def other_natural(self) -> tuple[sympy.Symbol, ...]:
        """Symbols for a second member of the family: ``theta_q`` for each ``theta``.

        Returns
        -------
        tuple of sympy.Symbol
            One symbol per natural parameter, named ``<name>_q`` with the
            same assumptions.

        Examples
        --------
        >>> import sympy
        >>> t = sympy.Symbol("theta", real=True)
        >>> SymbolicFamily("Poisson", (t,), sympy.exp(t)).other_natural()
        (theta_q,)
        """
        return tuple(sympy.Symbol(f"{t.name}_q", **t.assumptions0) for t in self.natural)

    def kl(self, other: Sequence[sympy.Symbol]) -> sympy.Expr:
        r"""KL(p_theta || p_other) as the Bregman divergence of A.

        .. math::

            \mathrm{KL}(p_\theta \,\|\, p_{\theta'}) = A(\theta') - A(\theta)
            - (\theta' - \theta) \cdot \nabla A(\theta)

        Parameters
        ----------
        other : sequence of sympy.Symbol or sympy.Expr
            ``theta'``, the natural parameters of the second member, one per
            parameter (:meth:`other_natural` gives symbols for them).

        Returns
        -------
        sympy.Expr
            The divergence in ``natural`` and ``other``.

        Examples
        --------
        >>> import sympy
        >>> t = sympy.Symbol("theta", real=True)
        >>> poisson = SymbolicFamily("Poisson", (t,), sympy.exp(t))
        >>> sympy.expand(poisson.kl(poisson.other_natural()))
        theta*exp(theta) - theta_q*exp(theta) - exp(theta) + exp(theta_q)
        """
        other = tuple(other)
        a_other = self.log_partition.subs(dict(zip(self.natural, other, strict=True)))
        step = sympy.Matrix(other) - sympy.Matrix(self.natural)
        return a_other - self.log_partition - (step.T * self.mean())[0]


_CHECKS = ("mean", "fisher", "entropy", "kl")


def _family_args(symbols: Sequence[sympy.Symbol], domain: Domain | Sequence[Domain]) -> list[Arg]:
    """One vector Arg for a single domain; one scalar Arg per parameter for a domain each."""
    if isinstance(domain, Domain):
        return [Arg(tuple(symbols), domain)]
    domains = tuple(domain)
    if len(domains) != len(symbols) or not all(isinstance(d, Domain) for d in domains):
        raise ValueError(
            f"domain: give one Domain, or one per natural parameter ({len(symbols)}),"
            f" not {domain!r}"
        )
    return [Arg(t, d) for t, d in zip(symbols, domains, strict=True)]


def _numeric_family(family: SymbolicFamily, numeric: Any) -> Any:
    if numeric is not None:
        return numeric
    import expfam

    if not hasattr(expfam, family.name):
        raise ValueError(
            f"family_checks: expfam has no family named {family.name!r}; pass"
            " numeric=YourFamily, a class with from_natural(theta) whose instances have"
            " mean, fisher(), entropy() and kl(other)"
        )
    return getattr(expfam, family.name)


def family_checks(
    family: SymbolicFamily,
    domain: Domain | Sequence[Domain],
    numeric: Any = None,
    closed_forms: dict[str, Any] | None = None,
    rtol: float = 1e-12,
    atol: float = 1e-14,
    points: int = 60,
    *,
    checks: Sequence[str] = _CHECKS,
) -> list[Check]:
    """Checks of a symbolic family's mean map, Fisher metric, entropy and KL against numeric code.

    Parameters
    ----------
    family : SymbolicFamily
        The symbolic family.
    domain : Domain or sequence of Domain
        Where its natural parameters live: one Domain for the vector, or one
        per parameter (a Normal's theta = (mu / s2, -1 / (2 s2)) needs
        ``(Reals(), Interval(-5.0, -0.1))``).
    numeric : type or None, optional
        The numeric family: a class with ``from_natural(theta)`` whose
        instances have ``mean``, ``fisher()``, ``entropy()`` and ``kl(other)``.
        Default: the expfam class named ``family.name`` (an error says what to
        pass if there is none).
    closed_forms : dict or None, optional
        Optional closed forms to prove, keyed by ``"mean"``, ``"fisher"``,
        ``"entropy"`` or ``"kl"`` (the last in ``natural`` and ``other``
        symbols, where ``other`` is ``family.other_natural()``).
    rtol, atol : float, optional
        As in :class:`Check`.
    points : int, optional
        As in :class:`Check`.
    checks : sequence of str, optional
        Which of ``"mean"``, ``"fisher"``, ``"entropy"``, ``"kl"`` to make.
        A family whose base measure is not 1 needs ``family.expected_log_base``
        (E[log h(x)], which may be an infinite ``Sum``) for its entropy, or
        leaves ``"entropy"`` out.

    Returns
    -------
    list of Check
        The selected checks, named after the family (``poisson_mean``, ...).

    Examples
    --------
    >>> import sympy
    >>> from expfam.symbolic import Reals
    >>> t = sympy.Symbol("theta", real=True)
    >>> poisson = SymbolicFamily("Poisson", (t,), sympy.exp(t))
    >>> [c.name for c in family_checks(poisson, Reals(), numeric=object, checks=("mean", "kl"))]
    ['poisson_mean', 'poisson_kl']
    """
    unknown = [c for c in checks if c not in _CHECKS]
    if isinstance(checks, str) or unknown:
        raise ValueError(f"checks: choose among {_CHECKS}, not {checks!r}")
    closed_forms = closed_forms or {}
    if set(closed_forms) - set(_CHECKS):
        raise ValueError(f"closed_forms: keys among {_CHECKS}, not {sorted(closed_forms)}")
    numeric = _numeric_family(family, numeric)
    at = _family_args(family.natural, domain)
    other = _family_args(family.other_natural(), domain)
    n = len(at)

    def dist(values: Sequence[Any]) -> Any:
        return numeric.from_natural(np.concatenate([np.atleast_1d(v) for v in values]))

    name = family.name.lower()
    recipes = {
        "mean": ("grad A(theta) = mean", at, family.mean, lambda *x: dist(x).mean),
        "fisher": ("hess A(theta) = fisher()", at, family.fisher, lambda *x: dist(x).fisher()),
        "entropy": (
            "A - theta . grad A - E[log h] = entropy()",
            at,
            family.entropy,
            lambda *x: dist(x).entropy(),
        ),
        "kl": (
            "Bregman divergence of A = kl()",
            [*at, *other],
            lambda: family.kl(family.other_natural()),
            lambda *x: dist(x[:n]).kl(dist(x[n:])),
        ),
    }
    made = []
    for key in (k for k in _CHECKS if k in checks):
        claim, args, derive, call = recipes[key]
        made.append(
            Check(
                f"{name}_{key}",
                f"{family.name}: {claim}",
                args,
                derive(),
                closed_forms.get(key),
                call,
                rtol=rtol,
                atol=atol,
                points=points,
            )
        )
    return made
