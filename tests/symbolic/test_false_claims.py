"""The harness cannot be fooled: false claims are false (with a counterexample), and
true claims sympy cannot simplify are tested, not proved."""

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from expfam.symbolic import (
    Arg,
    Check,
    Integers,
    Interval,
    Logits,
    Positive,
    Reals,
    prove,
    run_check,
    softmax,
)

W = sympy.Symbol("w", real=True)
N = sympy.Symbol("n", integer=True)
X = sympy.Symbol("x", positive=True)


def claim(name, args, derived, closed_form):
    return Check(name, name, args, derived, closed_form)


def assert_false(check):
    result = run_check(check)
    assert result.verdict == "false", result.message
    assert not result.ok
    example = result.counterexample
    assert example is not None and "counterexample at" in result.message
    point = {s: sympy.Rational(v) for s, v in example.point.items()}
    symbols = {s.name: s for s in check.symbols}
    values = [
        sympy.Matrix(sympy.Matrix([side]) if not isinstance(side, sympy.MatrixBase) else side)
        for side in (check.derived, check.closed_form)
    ]
    at = {symbols[s]: v for s, v in point.items()}
    # the counterexample is one: sympy's own evaluation at the exact point differs
    lhs, rhs = (sympy.N(v[example.entry].subs(at), 60) for v in values)
    assert abs(lhs - rhs) > 1e-45 * max(abs(lhs), abs(rhs), 1e-300)
    assert abs(sympy.Float(example.derived, 30) - lhs) <= 1e-18 * max(abs(lhs), 1)
    return result


def test_sin_8_pi_w_is_not_zero():
    """Every rational with denominator 8 makes it 0: the old harness said "exact"."""
    result = assert_false(claim("sin8", [Arg(W, Reals())], sympy.sin(8 * sympy.pi * W), 0))
    assert (8 * sympy.Rational(result.counterexample.point["w"])).q != 1


@settings(max_examples=15)
@given(k=st.integers(1, 2**40), shift=st.fractions(-3, 3, max_denominator=64))
def test_sin_k_pi_w_is_false_for_every_integer_k(k, shift):
    """Zero at every multiple of 1/k, and 1/k may be any dyadic or decimal step."""
    derived = sympy.sin(k * sympy.pi * (W - sympy.Rational(shift.numerator, shift.denominator)))
    result = run_check(claim("sin", [Arg(W, Reals())], derived, 0), identity_points=4)
    assert result.verdict == "false"


def test_a_claim_true_only_at_integers_is_false_over_the_reals():
    cos = sympy.cos(2 * sympy.pi * W)
    assert_false(claim("cos", [Arg(W, Reals())], cos, 1))
    assert_false(claim("floor", [Arg(W, Reals())], sympy.floor(W), W))
    # and it holds where the domain is the integers
    at_integers = run_check(
        claim("cos", [Arg(N, Integers(-5, 5))], sympy.cos(2 * sympy.pi * N), 1)
    )
    assert at_integers.ok and at_integers.verdict == "proved"
    floor = Check(
        "floor",
        "",
        [Arg(sympy.Symbol("m", real=True), Integers(-9, 9))],
        sympy.floor(sympy.Symbol("m", real=True)),
        sympy.Symbol("m", real=True),
    )
    assert run_check(floor).verdict == "proved"  # the domain's integers are a fact sympy uses


def test_a_claim_off_by_1e_minus_30_relative_is_false():
    off = sympy.exp(W) * (1 + sympy.Rational(1, 10**30))
    result = assert_false(claim("off", [Arg(W, Reals())], sympy.exp(W), off))
    example = result.counterexample
    assert example.derived == example.closed_form  # to 20 digits
    relative = abs(sympy.Float(example.difference) / sympy.Float(example.derived))
    assert 0.9e-30 < relative < 1.1e-30


def test_a_claim_true_on_part_of_its_domain_is_false():
    assert_false(claim("sqrt", [Arg(W, Reals())], sympy.sqrt(W**2), W))
    atan = sympy.atan(W) + sympy.atan(1 / W)
    result = assert_false(claim("atan", [Arg(W, Reals())], atan, sympy.pi / 2))
    assert sympy.Rational(result.counterexample.point["w"]) < 0
    # where it is true (x > 0), sympy cannot simplify it: tested, not proved
    positive = run_check(claim("atan", [Arg(X, Positive())], atan.subs(W, X), sympy.pi / 2))
    assert positive.ok and positive.verdict.startswith("tested at")


def truncated_softmax(k):
    """softmax_i = 1 / sum_j exp(z_j - z_i), the sum cut after three classes."""
    z = sympy.symbols(f"z1:{k + 1}", real=True)
    closed = sympy.Matrix(
        [1 / sum(sympy.exp(z[j] - z[i]) for j in range(min(k, 3))) for i in range(k)]
    )
    return Check(f"k{k}", "", [Arg(z, Logits())], softmax(z), closed)


def test_a_claim_true_for_k_up_to_3_is_false_at_k_4():
    assert [prove(truncated_softmax(k)) for k in (2, 3)] == ["proved", "proved"]
    result = assert_false(truncated_softmax(4))
    assert set(result.counterexample.point) == {"z1", "z2", "z3", "z4"}


@pytest.mark.parametrize(
    ("name", "args", "derived", "closed_form"),
    [
        (  # trigamma reflection
            "trigamma",
            [Arg(W, Interval(0.05, 0.95))],
            sympy.polygamma(1, 1 - W) + sympy.polygamma(1, W),
            sympy.pi**2 / sympy.sin(sympy.pi * W) ** 2,
        ),
        (
            "loggamma",
            [Arg(X, Positive())],
            sympy.loggamma(X + 1) - sympy.loggamma(X),
            sympy.log(X),
        ),
    ],
)
def test_true_claims_sympy_cannot_simplify_are_tested_not_proved(name, args, derived, closed_form):
    result = run_check(claim(name, args, derived, closed_form))
    assert result.ok, result.message
    assert result.verdict.startswith("tested at") and result.verdict.endswith("(200 digits)")
    assert result.counterexample is None


def test_fewer_points_and_digits_are_said():
    check = claim(
        "loggamma", [Arg(X, Positive())], sympy.loggamma(X + 1) - sympy.loggamma(X), sympy.log(X)
    )
    verdict = run_check(check, identity_points=3, digits=30).verdict
    assert verdict.startswith("tested at") and verdict.endswith(" points (30 digits)")


def test_a_claim_that_cannot_be_evaluated_is_unproved():
    n = sympy.Symbol("n", real=True)
    check = claim(
        "pole",
        [Arg(n, Integers(-5, -1))],
        sympy.gamma(n),
        sympy.gamma(n) + sympy.sin(sympy.pi * n),
    )
    result = run_check(check)
    assert result.verdict == "unproved" and not result.ok
    assert "gamma function pole" in result.message


# --- common mistakes: one line naming the check and what to write -------------------------


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (Check("c", "", [W], W, W), "check 'c': args[0] is the symbol w; write Arg(w, Reals())"),
        (
            Check("c", "", [(W, X)], W, W),
            "args[0] is a tuple of symbols; write Arg((w, x), Logits())",
        ),
        (Check("c", "", [Arg(W, Reals)], W, W), "write Reals() (an instance)"),
        (
            Check("c", "", [Arg(W, Reals())], W + sympy.Symbol("v"), W),
            "derived has the free symbol(s) v, not among the args (w); add Arg(v, domain)",
        ),
        (
            Check("c", "", [Arg(W, Reals())], W, sympy.Function("f")(W)),
            "closed_form holds the undefined function(s) f(w)",
        ),
        (
            Check("c", "", [Arg(W, Reals())], W, numeric=lambda a, b: a),
            "numeric(a, b) cannot take the 1 args; it is called as numeric(w)",
        ),
        (
            Check("c", "", [Arg(X, Reals())], X, X),
            "x: expected assumptions its domain implies, got positive=True",
        ),
        (
            Check("c", "", [Arg(W, Reals())], sympy.Matrix([W, W]), sympy.Matrix([W])),
            "derived has 2 entries, closed_form 1",
        ),
        (
            Check("c", "", [Arg(W, Reals())], sympy.Matrix([W, W]), numeric=lambda w: w),
            "numeric returned 1 values, derived has 2 entries",
        ),
    ],
)
def test_a_common_mistake_is_one_line_naming_the_check(check, expected):
    result = run_check(check, points=3)
    assert not result.ok and result.verdict == "error"
    assert expected in result.message
    assert "\n" not in result.message and result.message.startswith("check 'c': ")


def test_a_check_past_its_timeout_is_reported_and_stopped():
    import time

    slow = Check("slow", "", [Arg(W, Reals())], W, numeric=lambda w: time.sleep(30) or w)
    start = time.perf_counter()
    result = run_check(slow, timeout=0.3)
    assert time.perf_counter() - start < 20  # stopped: the sleep alone is 30 s
    assert result.verdict == "timed out" and not result.ok
    assert "0.3 s" in result.message


@pytest.mark.parametrize(("low", "high"), [(1e-300, 2e-300), (1e-10, 2e-10), (1e200, 1e201)])
def test_identity_points_stay_in_tiny_and_huge_domains(low, high):
    atan = sympy.atan(X) + sympy.atan(1 / X)
    assert run_check(claim("atan", [Arg(X, Interval(low, high))], atan, sympy.pi / 2)).ok
    if low > 1:
        result = assert_false(claim("sin", [Arg(X, Interval(low, high))], sympy.sin(X), X))
        assert low <= sympy.Rational(result.counterexample.point["x"]) <= high
