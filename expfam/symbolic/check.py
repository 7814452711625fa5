r"""The check harness: a derivation's claim, proved symbolically and compared numerically.

A derivation declares :class:`Check` objects: the symbolic result
(``derived``), optionally the closed form it is claimed to equal
(``closed_form``), the arguments with their domains, the numeric callable and
a tolerance. :func:`run_check` then

1. validates it (:mod:`expfam.symbolic.validate`: how it is written, and every
   symbol's assumptions against its whole domain);
2. decides ``derived == closed_form`` (:mod:`expfam.symbolic.decide`):
   ``"proved"``, ``"tested at N points (D digits)"``, ``"false"`` with a
   counterexample, or ``"unproved"``;
3. compares the numeric callable with ``derived`` point by point, batched and
   in float32, at random, extreme and boundary points
   (:mod:`expfam.symbolic.compare`).

A check passes when its claim is proved or tested and every numeric value is
within tolerance,

.. math::

    |\mathrm{numeric} - \mathrm{derived}| \le \mathrm{rtol}\,|\mathrm{derived}|
    + \mathrm{atol} + \mathrm{tiny}.

Anything a check raises, SystemExit and pytest's Skipped included, is an
error row for that check, and a time limit (:data:`DEFAULT_TIMEOUT` by
default) stops it.

Examples
--------
>>> import sympy
>>> import expfam
>>> from expfam.symbolic.domains import Logits, Reals, softmax
>>> z = sympy.symbols("z1:4", real=True)
>>> check = Check("softmax", "softmax", [Arg(z, Logits())], softmax(z), numeric=expfam.softmax)
>>> run_check(check, points=5).ok
True
>>> w = sympy.Symbol("w", real=True)
>>> false = Check("sin", "sin(8 pi w) = 0", [Arg(w, Reals())], sympy.sin(8 * sympy.pi * w), 0)
>>> run_check(false).verdict
'false'
"""

from __future__ import annotations

import gc
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from expfam.symbolic.claims import (
    Arg,
    Check,
    CheckError,
    CheckResult,
    CheckTimeout,
    Counterexample,
    Failure,
)
from expfam.symbolic.compare import compare
from expfam.symbolic.decide import IDENTITY_DIGITS, IDENTITY_POINTS, MIN_POINTS, decide
from expfam.symbolic.validate import check_assumptions, validate

__all__ = [
    "DEFAULT_TIMEOUT",
    "IDENTITY_DIGITS",
    "IDENTITY_POINTS",
    "MIN_POINTS",
    "Arg",
    "Check",
    "CheckError",
    "CheckResult",
    "CheckTimeout",
    "Counterexample",
    "Failure",
    "prove",
    "run_check",
    "run_checks",
    "time_limit",
]

DEFAULT_TIMEOUT = 60.0  # seconds one check may take unless told otherwise


def prove(
    check: Check,
    rng: np.random.Generator | int | None = None,
    *,
    points: int = IDENTITY_POINTS,
    digits: int = IDENTITY_DIGITS,
) -> str:
    r"""Decide ``check.derived == check.closed_form``; return the verdict.

    Symbolically where sympy can, else by identity testing: the sides agree
    at an exact point where, evaluated at ``2 D`` digits,

    .. math::

        |a - b| \le 10^{-D} \max(|a|, |b|).

    No numeric comparison is made (that is :func:`run_check`).

    Parameters
    ----------
    check : Check
        The check whose claim is decided; it is validated first (a check
        written wrongly raises :class:`CheckError`).
    rng : numpy.random.Generator, int or None, optional
        Generator or seed of the random exact points.
    points : int, optional
        Random exact points for identity testing (special points come on top).
    digits : int, optional
        ``D``, the digits to which the two sides must agree.

    Returns
    -------
    str
        ``"proved"``, ``"tested at N points (D digits)"``, ``"false"`` (see
        :func:`run_check` for the counterexample), ``"unproved"`` or ``"-"``
        (no closed form); :mod:`expfam.symbolic.decide` says what each means.

    Examples
    --------
    >>> import sympy
    >>> from expfam.symbolic.domains import Reals
    >>> w = sympy.Symbol("w", real=True)
    >>> prove(Check("cosh", "cosh", [Arg(w, Reals())], sympy.cosh(w),
    ...             (sympy.exp(w) + sympy.exp(-w)) / 2))
    'proved'
    """
    validate(check)
    check_assumptions(check)
    return decide(check, np.random.default_rng(rng), points, digits)[0]


# --- running ---------------------------------------------------------------------------------


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CheckTimeout` after ``seconds`` (where SIGALRM exists, in the main thread).

    The alarm repeats every second after the first, so that code which
    swallows one :class:`CheckTimeout` (a bare ``except:``) meets the next.
    An alarm that falls inside a garbage collection passes (an exception
    raised in a gc callback would be printed and dropped, not raised); the
    next one raises.

    Parameters
    ----------
    seconds : float or None
        The limit; None for none.

    Yields
    ------
    None
        Inside the block the alarm is armed.
    """
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    collecting = False

    def collection_starts(phase: str, info: dict[str, int]) -> None:
        nonlocal collecting
        collecting = collecting or phase == "start"

    def collection_ends(phase: str, info: dict[str, int]) -> None:
        nonlocal collecting
        collecting = collecting and phase != "stop"

    def expire(signum: int, frame: Any) -> None:
        if not collecting:
            raise CheckTimeout

    before = signal.signal(signal.SIGALRM, expire)
    # first and last of the callbacks, so that the others all run inside the window
    gc.callbacks.insert(0, collection_starts)
    gc.callbacks.append(collection_ends)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
        gc.callbacks.remove(collection_starts)
        gc.callbacks.remove(collection_ends)


def run_check(
    check: Check,
    derivation: str = "",
    rng: np.random.Generator | int | Sequence[int] | None = 0,
    points: int | None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    identity_points: int = IDENTITY_POINTS,
    digits: int = IDENTITY_DIGITS,
) -> CheckResult:
    """Decide ``check``'s claim and compare its numeric callable with the symbolic result.

    Parameters
    ----------
    check : Check
        The check to run.
    derivation : str, optional
        Name of the derivation it belongs to, for the report.
    rng : numpy.random.Generator, int, sequence of int or None, optional
        Seed or generator for the random points.
    points : int or None, optional
        Number of random points for the numeric comparison; default
        ``check.points``. Extreme points come on top.
    timeout : float or None, optional
        Seconds the check may take (where the platform has SIGALRM; default
        :data:`DEFAULT_TIMEOUT`, None for no limit); past them it stops with
        the verdict ``"timed out"``.
    identity_points, digits : int, optional
        Random exact points and digits of agreement for identity testing,
        used when sympy cannot simplify ``derived - closed_form`` to 0.

    Returns
    -------
    CheckResult
        ``ok`` is False if the claim is false, unproved or timed out, if the
        check is written wrongly or raised (anything, SystemExit included),
        or if a numeric value lies outside the tolerance; ``failures`` holds
        the worst failing points and ``counterexample`` the point that makes
        a false claim false.
    """
    start = time.perf_counter()
    name = getattr(check, "name", "?")
    result = CheckResult(derivation, str(name), str(getattr(check, "claim", "")))
    try:
        with time_limit(timeout):
            rng = np.random.default_rng(rng)
            validate(check)
            check_assumptions(check)
            result.verdict, result.counterexample, why = decide(
                check, rng, identity_points, digits
            )
            if result.verdict == "false":
                result.ok = False
                result.message = (
                    f"derived != closed_form: {why}{result.counterexample.describe()}; "
                )
            elif result.verdict == "unproved":
                result.ok = False
                result.message = (
                    "sympy could not simplify derived - closed_form to 0, and identity"
                    f" testing could not settle it: {why}; "
                )
            elif why:
                result.message = why
            if check.numeric is not None:
                compare(check, rng, check.points if points is None else points, result)
    except CheckTimeout:
        result.ok = False
        result.verdict = "timed out"
        result.message = f"stopped after {timeout:g} s (--timeout)"
    except CheckError as exc:
        result.ok = False
        result.verdict = "error"
        result.message = str(exc)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a broken check must not stop the others, nor end the run
        result.ok = False
        result.verdict = "error"
        result.message += f"{type(exc).__name__}: {exc}"
        result.message += "\n" + "".join(traceback.format_exception(exc)[-3:])
    result.seconds = time.perf_counter() - start
    return result


def run_checks(
    checks: Iterable[Check],
    derivation: str,
    points: int | None = None,
    progress: Callable[[CheckResult], None] | None = None,
    *,
    seed: int = 0,
    select: Callable[[Check], bool] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> list[CheckResult]:
    """Run ``checks`` (seeded, so reproducible); call ``progress`` after each.

    The i-th check draws its points from ``default_rng(i + seed * 2**32)``
    (seed 0 draws the points earlier versions drew), whatever ``select``
    leaves out. Something that is not a :class:`Check`, or a name used twice,
    is an error row; the other checks still run.

    Parameters
    ----------
    checks : iterable of Check
        The checks of one derivation, in order (what its ``checks()`` yields).
    derivation : str
        Name of the derivation, for the report.
    points : int or None, optional
        Random points per check for the numeric comparison; default each
        check's own ``points``.
    progress : callable or None, optional
        Called with each :class:`CheckResult` as soon as it is known.
    seed : int, optional
        Seed of the random points, as above.
    select : callable or None, optional
        ``select(check)`` is False for a check to leave out (no row); default
        every check runs.
    timeout : float or None, optional
        Seconds each check may take (:func:`run_check`); None for no limit.

    Returns
    -------
    list of CheckResult
        One result per check run (and per error row), in order.

    Examples
    --------
    >>> import sympy
    >>> from expfam.symbolic.domains import Reals
    >>> w = sympy.Symbol("w", real=True)
    >>> square = Check("square", "w^2 = w w", [Arg(w, Reals())], w**2, w * w)
    >>> [(r.name, r.verdict) for r in run_checks([square, square], "demo")]
    [('square', 'proved'), ('square', 'error')]
    """
    results = []
    seen: set[str] = set()
    for i, check in enumerate(checks):
        if not isinstance(check, Check):
            result = CheckResult(derivation, f"<item {i}>", "checks() yields Check objects")
            result.ok, result.verdict = False, "error"
            result.message = (
                f"checks() item {i}: expected a Check, got {type(check).__name__}"
                f" {str(check)[:40]!r}; yield Check(name, claim, args, derived, ...)"
            )
        elif select is not None and not select(check):
            continue
        elif check.name in seen:
            result = CheckResult(derivation, str(check.name), str(check.claim))
            result.ok, result.verdict = False, "error"
            result.message = (
                f"check {check.name!r}: name: expected a name unique in its derivation,"
                " got one used before; rename one of them"
            )
        else:
            seen.add(check.name)
            result = run_check(
                check, derivation, rng=i + seed * 2**32, points=points, timeout=timeout
            )
        if progress is not None:
            progress(result)
        results.append(result)
    return results
