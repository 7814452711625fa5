"""The adversarial catalogue: false claims the harness must refute, true ones it must pass.

Each claim's truth is settled here independently of the harness: sympy's
``evalf`` at 400 digits (it tracks its own error) at probe points spread over
the whole domain, ends included. A false claim must never be "proved" or
"tested"; a true one must be "proved" or "tested".
"""

import re
import sys
import time

import numpy as np
import pytest
import sympy

from expfam.symbolic import Arg, Check, Integers, Interval, Reals, run_check

W = sympy.Symbol("w", real=True)
N = sympy.Symbol("n", integer=True)


def _probes(domain):
    """Probe points over the whole domain, both ends included, as exact rationals."""
    low, high = domain.hull
    low, high = max(low, -1e3), min(high, 1e3)
    values = {sympy.Rational(low), sympy.Rational(high)}
    for i in range(1, 40):
        x = low + (high - low) * i / 40
        values.add(sympy.Rational(round(x)) if domain.discrete else sympy.nsimplify(x))
    values |= {sympy.Integer(v) for v in (-1, 0, 1, 6, 57, 100) if low <= v <= high}
    values |= {sympy.Rational(1001, 10)} if low <= 100.1 <= high else set()
    return sorted(values)


def _truth(check):
    """True if the claim holds at every probe (400 digits), False if some probe refutes it."""
    (arg,) = check.args
    (symbol,) = arg.flat
    lhs, rhs = (
        sympy.Matrix(side) if isinstance(side, sympy.MatrixBase) else sympy.Matrix([side])
        for side in (check.derived, check.closed_form)
    )
    exact = [
        side.xreplace({f: sympy.Rational(f) for f in side.atoms(sympy.Float)})
        for side in (lhs, rhs)
    ]
    for x in _probes(arg.domain):
        for a, b in zip(*exact, strict=True):
            value = (a - b).xreplace({symbol: x})
            if value == 0:
                continue
            try:
                d = value.evalf(30, strict=True, maxn=1400)
            except sympy.core.evalf.PrecisionExhausted:
                continue  # zero to 400 digits
            if d.is_number and d.is_finite and abs(d) > 0:
                return False
    return True


FALSE_CLAIMS = [
    ("log_exp_i", Reals(), sympy.log(sympy.exp(sympy.I * W)), sympy.I * W),
    ("log_exp_sqrt", Interval(-100, 100), sympy.log(sympy.exp(sympy.sqrt(W))), sympy.sqrt(W)),
    ("sqrt_exp_2i", Reals(), sympy.sqrt(sympy.exp(2 * sympy.I * W)), sympy.exp(sympy.I * W)),
    ("float_third", Reals(), W / 3, sympy.Float(1 / 3) * W),
    ("acos_near_1", Reals(), W * sympy.acos(sympy.Rational(7823207, 7823209)), 0),
    ("plus_1e_minus_60", Reals(), W, W + sympy.Rational(1, 10**60)),
    ("floor_sum", Reals(), sympy.floor(W) + sympy.floor(-W), -1),
    ("sign_squared", Reals(), sympy.sign(W) ** 2, 1),
    ("min_100", Reals(), sympy.Min(W, 100), W),
    ("narrow_bump", Reals(), W**2, W**2 + sympy.exp(-(10**6) * W**2)),
    (
        "hidden_cancellation",
        Interval(1, 10),
        sympy.exp(1000 * W) * (sympy.log(1 + sympy.exp(1000 * W)) - 1000 * W),
        0,
    ),
    ("atan_pair", Interval(-0.001, 100), sympy.atan(W) + sympy.atan(1 / W), sympy.pi / 2),
    ("kronecker", Integers(1, 1000), N**2, N**2 + sympy.KroneckerDelta(N, 6)),
]


@pytest.mark.parametrize(("name", "domain", "derived", "closed_form"), FALSE_CLAIMS)
def test_a_false_claim_is_never_proved_or_tested(name, domain, derived, closed_form):
    symbol = N if domain.discrete else W
    check = Check(name, name, [Arg(symbol, domain)], derived, closed_form)
    assert _truth(check) is False  # the oracle agrees the claim is false
    result = run_check(check)
    assert not result.ok, result.verdict
    assert result.verdict in ("false", "unproved"), result.verdict
    if result.verdict == "false":  # the counterexample is one
        x = sympy.Rational(result.counterexample.point[symbol.name])
        exact = [
            side.xreplace({f: sympy.Rational(f) for f in side.atoms(sympy.Float)})
            for side in map(sympy.sympify, (derived, closed_form))
        ]
        value = (exact[0] - exact[1]).xreplace({symbol: x})
        assert value != 0 and abs(value.evalf(30, maxn=4000)) > 0


def test_a_sum_false_at_its_268th_digit_is_not_tested():
    j = sympy.Symbol("j", integer=True, positive=True)
    total = sympy.Sum(1 / j**2, (j, 1, sympy.oo)) * (1 + 0 * W)
    check = Check(
        "basel", "", [Arg(W, Reals())], total, sympy.pi**2 / 6 + sympy.Rational(1, 10**267)
    )
    result = run_check(check, identity_points=3, timeout=20)
    assert not result.ok and result.verdict in ("false", "unproved", "timed out")


TRUE_CLAIMS = [
    ("floor_log10", Integers(1, 60), sympy.floor(sympy.log(10**N) / sympy.log(10)), N),
    (
        "trigamma",
        Interval(0.05, 0.95),
        sympy.polygamma(1, 1 - W) + sympy.polygamma(1, W),
        sympy.pi**2 / sympy.sin(sympy.pi * W) ** 2,
    ),
    ("softplus", Reals(), sympy.log(1 + sympy.exp(W)) - sympy.log(1 + sympy.exp(-W)), W),
    ("cos_2pi_n", Integers(-5, 5), sympy.cos(2 * sympy.pi * N), 1),
]


@pytest.mark.parametrize(("name", "domain", "derived", "closed_form"), TRUE_CLAIMS)
def test_a_true_claim_is_proved_or_tested(name, domain, derived, closed_form):
    symbol = N if domain.discrete else W
    check = Check(name, name, [Arg(symbol, domain)], derived, closed_form)
    assert _truth(check) is True
    result = run_check(check)
    assert result.ok, result.message
    assert result.verdict == "proved" or result.verdict.startswith("tested at"), result.verdict


@pytest.mark.parametrize(
    ("symbol", "domain"),
    [
        (sympy.Symbol("x", extended_positive=True), Reals()),
        (sympy.Symbol("n", even=True), Integers(0, 100)),
        (sympy.Symbol("p", positive=True), Interval(-0.001, 100)),
        (sympy.Symbol("m", integer=True), Interval(0, 10)),
    ],
)
def test_an_assumption_the_domain_does_not_imply_is_an_error(symbol, domain):
    check = Check("c", "", [Arg(symbol, domain)], sympy.sqrt(symbol**2), symbol)
    result = run_check(check)
    assert result.verdict == "error" and not result.ok
    assert result.message.startswith(f"check 'c': {symbol}: expected assumptions its domain")


def test_matrices_of_other_shapes_are_not_equal():
    a = sympy.Matrix(2, 3, list(sympy.symbols("w0:6", real=True)))
    result = run_check(
        Check(
            "c",
            "",
            [Arg(a[0], Reals())],
            a.subs(dict.fromkeys(a[1:], 1)),
            a.reshape(3, 2).subs(dict.fromkeys(a[1:], 1)),
        )
    )
    assert result.verdict == "error"
    assert "closed_form: expected the shape of derived, 2x3, got 3x2" in result.message


# --- numeric code is called where it breaks ----------------------------------------------

P = sympy.Symbol("p", positive=True)


def test_entropy_at_the_boundary_is_held_to_the_limit():
    """0 log 0 = 0: scipy's entr is right at p = 0 and p = 1."""
    special = pytest.importorskip("scipy.special")
    derived = -P * sympy.log(P) - (1 - P) * sympy.log(1 - P)
    check = Check(
        "h",
        "",
        [Arg(P, Interval(0, 1))],
        derived,
        numeric=lambda p: special.entr(p) + special.entr(1 - p),
    )
    result = run_check(check, points=10)
    assert result.ok, result.message + str(result.failures)


def _log1pexp_check(numeric):
    derived = 1 + sympy.exp(W) * (sympy.log(1 + sympy.exp(W)) - W)
    return Check("c", "", [Arg(W, Interval(150, 700))], derived, numeric=numeric, rtol=1e-12)


def test_a_cancelling_term_is_resolved_correct_code_passes_naive_fails():
    correct = run_check(
        _log1pexp_check(lambda w: 1 + np.log1p(np.exp(-w)) / np.exp(-w)), points=10
    )
    assert correct.ok, correct.message + str(correct.failures)
    naive = run_check(_log1pexp_check(lambda w: 1 + np.exp(w) * 0.0), points=10)
    assert not naive.ok


def test_a_bug_only_in_float32_is_caught():
    def softplus(w):
        w = np.asarray(w)
        if w.dtype == np.float32:
            return np.zeros_like(w)  # the float32 path is broken
        return np.logaddexp(0.0, w)

    check = Check("c", "", [Arg(W, Reals())], sympy.log(1 + sympy.exp(W)), numeric=softplus)
    result = run_check(check, points=10)
    assert not result.ok
    assert any(f.point.get("call") == "batch in float32" for f in result.failures)


def test_a_bug_only_beyond_1000_entries_is_caught():
    def softplus(w):
        w = np.asarray(w, dtype=float)
        out = np.logaddexp(0.0, w)
        return out + 1.0 if out.size > 1000 else out

    check = Check("c", "", [Arg(W, Reals())], sympy.log(1 + sympy.exp(W)), numeric=softplus)
    result = run_check(check, points=10)
    assert not result.ok and result.failures[0].point.get("call") == "batch"


def test_a_nan_at_p_zero_on_the_simplex_is_caught():
    from expfam.symbolic import Simplex

    q = sympy.symbols("q1:3", positive=True)
    derived = sum(-x * sympy.log(x) for x in q)

    def entropy(q):
        q = np.asarray(q, dtype=float)
        with np.errstate(all="ignore"):
            return np.sum(-q * np.log(q), axis=-1)  # nan at q = 0

    result = run_check(Check("c", "", [Arg(q, Simplex())], derived, numeric=entropy), points=5)
    assert not result.ok
    assert any(0.0 in f.point["(q1, q2)"] for f in result.failures)


# --- wrongly written checks: one line naming the check and what to write ------------------


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (Check("c", "", [Arg(W, Reals())], [W, W]), "derived: expected a sympy expression"),
        (Check("c", "", [Arg(W, Reals())], (W,)), "derived: expected a sympy expression"),
        (Check("c", "", [Arg(W, Reals())], np.array([1.0])), "write sympy.Matrix(...)"),
        (Check("c", "", [Arg(W, Reals())], W, "w"), "closed_form: expected a sympy expression"),
        (
            Check("c", "", [Arg(W, Reals())], W, sympy.Symbol("w")),
            "closed_form holds a symbol w with assumptions none, the Arg's w has real=True",
        ),
        (
            Check("c", "", [Arg(W, Reals())], W, numeric=lambda w: w, rtol=float("inf")),
            "rtol: expected a number in [0, 1), got inf",
        ),
        (
            Check("c", "", [Arg(W, Reals())], W, numeric=lambda w: None),
            "numeric: expected 1 value (point by point), got None",
        ),
    ],
)
def test_a_wrongly_written_check_gets_one_line(check, expected):
    result = run_check(check, points=3)
    assert result.verdict == "error" and not result.ok
    assert expected in result.message and "\n" not in result.message


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: Interval(1, 0), "Interval: expected low < high (a domain with points), got"),
        (lambda: Integers(5, 1), "Integers: expected low <= high, got low=5, high=1"),
    ],
)
def test_an_empty_domain_is_refused(make, expected):
    with pytest.raises(ValueError, match=re.escape(expected)):
        make()


def test_nothing_a_check_raises_ends_the_run():
    from expfam.symbolic import run_checks

    def leave(w):
        sys.exit(0)

    def skip(w):
        pytest.skip("inside a check")

    checks = [
        Check("exits", "", [Arg(W, Reals())], W, numeric=leave),
        None,
        Check("skips", "", [Arg(W, Reals())], W, numeric=skip),
        Check("exits", "", [Arg(W, Reals())], W),
        Check("fine", "", [Arg(W, Reals())], W, numeric=lambda w: w),
    ]
    results = run_checks(checks, "d", points=3)
    assert [r.ok for r in results] == [False, False, False, False, True]
    assert "SystemExit" in results[0].message
    assert "expected a Check, got NoneType" in results[1].message
    assert "Skipped" in results[2].message
    assert "name: expected a name unique in its derivation" in results[3].message


STUBBORN = """
import time
import sympy
from expfam.symbolic import Arg, Check, Reals

def stubborn(w):
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            continue

def checks():
    w = sympy.Symbol("w", real=True)
    yield Check("stubborn", "", [Arg(w, Reals())], w, numeric=stubborn)
"""

SKIPPED = """
import pytest
pytest.importorskip("no_such_module_anywhere")
"""

LOOPING = """
def checks():
    while True:
        pass
"""

EXITING = """
import sympy
from expfam.symbolic import Arg, Check, Reals

def checks():
    w = sympy.Symbol("w", real=True)
    yield Check("exits", "", [Arg(w, Reals())], w, numeric=lambda w: exit(0))
"""


def test_no_module_can_end_or_hang_the_run(tmp_path, capsys):
    from expfam.symbolic import run_verify

    for name, text in {"a": STUBBORN, "b": SKIPPED, "c": LOOPING, "d": EXITING}.items():
        (tmp_path / f"{name}.py").write_text(text)
    start = time.perf_counter()
    status = run_verify([tmp_path], timeout=1.0, jobs=2)
    out = capsys.readouterr().out
    assert status == 1 and time.perf_counter() - start < 120
    assert "0 of 4 checks passed in 4 derivations" in out
    assert "no word from the module" in out  # the bare except: its process was stopped
    assert "Skipped" in out and "SystemExit" in out
    assert "<checks>: stopped after 1 s" in out


HASH_SEED = """
import os
import sympy
from expfam.symbolic import Arg, Check, Reals

def checks():
    w = sympy.Symbol("w", real=True)
    fixed = lambda w: 1.0 if os.environ.get("PYTHONHASHSEED") == "0" else 0.0
    yield Check("hash_seed", "", [Arg(w, Reals())], sympy.Integer(1), numeric=fixed, batch=False)
"""


def test_checks_run_with_a_fixed_hash_seed(tmp_path, capsys, monkeypatch):
    """sympy's results can depend on the hash seed; a verdict must not."""
    from expfam.symbolic import run_verify

    monkeypatch.setenv("PYTHONHASHSEED", "123")
    (tmp_path / "h.py").write_text(HASH_SEED)
    assert run_verify([tmp_path], jobs=1) == 0, capsys.readouterr().out


def test_a_timeout_that_falls_inside_a_garbage_collection_is_raised_after_it():
    """An exception raised in a gc callback is printed and dropped (pytest fails the test
    on it): the alarm lets a collection finish, and the next one raises."""
    import gc

    from expfam.symbolic.check import time_limit
    from expfam.symbolic.claims import CheckTimeout

    def slow(phase, info):
        if phase == "stop":
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                pass

    gc.callbacks.append(slow)
    start = time.monotonic()
    try:
        with pytest.raises(CheckTimeout), time_limit(0.05):
            gc.collect()
            while time.monotonic() < start + 60:  # left by the timeout, else pytest.raises fails
                time.sleep(0.01)
    finally:
        gc.callbacks.remove(slow)
