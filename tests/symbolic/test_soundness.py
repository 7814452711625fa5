"""The adversarial catalogue: false claims the harness must refute, true ones it must pass.

Each claim's truth is settled here independently of the harness: sympy's
``evalf`` at 400 digits (it tracks its own error) at probe points spread over
the whole domain, ends included. A false claim must never be "proved" or
"tested"; a true one must be "proved" or "tested".
"""

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
        difference = sympy.sympify(derived) - sympy.sympify(closed_form)
        difference = difference.xreplace(
            {f: sympy.Rational(f) for f in difference.atoms(sympy.Float)}
        )
        value = difference.xreplace({symbol: x})
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
