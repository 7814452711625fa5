"""The sympy side of expfam: derivations checked against the numeric code.

A derivation states a claim in sympy, derives its result (differentiation,
simplification, limits) and names the numeric expfam callable that must
agree. The package is split by job:

- :mod:`expfam.symbolic.domains`: the symbolic building blocks
  (:func:`logsumexp`, :func:`softmax`) and the domains a check samples from;
- :mod:`expfam.symbolic.check`: the harness (:class:`Check`, :class:`Arg`,
  :func:`prove`, :func:`run_check`, the numeric comparison); a claim is
  "proved", "tested at N points (D digits)", "false" (with a
  :class:`Counterexample`) or "unproved";
- :mod:`expfam.symbolic.verify`: the runner behind ``expfam verify``
  (:func:`run_verify`, :func:`format_table`);
- :mod:`expfam.symbolic.families`: :class:`SymbolicFamily` and
  :func:`family_checks`.

This package imports sympy; ``import expfam`` does not import it.
"""

from expfam.symbolic.check import (
    Arg,
    Check,
    CheckError,
    CheckResult,
    Counterexample,
    Failure,
    prove,
    run_check,
    run_checks,
)
from expfam.symbolic.domains import (
    Domain,
    Integers,
    Interval,
    Logits,
    Positive,
    Reals,
    Shifted,
    Simplex,
    logsumexp,
    softmax,
)
from expfam.symbolic.families import SymbolicFamily, family_checks
from expfam.symbolic.verify import format_table, run_verify

__all__ = [
    "Arg",
    "Check",
    "CheckError",
    "CheckResult",
    "Counterexample",
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
