"""The derivation harness: it proves, it compares, and above all it can fail."""

import dataclasses
import json
import textwrap
from dataclasses import dataclass

import mpmath
import numpy as np
import pytest
import sympy

import expfam
from expfam.symbolic import (
    Arg,
    Check,
    Interval,
    Logits,
    Reals,
    SymbolicFamily,
    family_checks,
    logsumexp,
    run_check,
    run_checks,
    run_verify,
    softmax,
)

Z = sympy.symbols("z1:4", real=True)
V = sympy.symbols("v1:4", real=True)


def softmax_check(numeric, **kwargs) -> Check:
    return Check(
        name="softmax",
        claim="softmax",
        args=[Arg(Z, Logits())],
        derived=softmax(Z),
        numeric=numeric,
        **kwargs,
    )


def jvp_check(numeric) -> Check:
    p = softmax(Z)
    return Check(
        name="jvp",
        claim="J v",
        args=[Arg(Z, Logits()), Arg(V, Reals())],
        derived=p.jacobian(Z) * sympy.Matrix(V),
        numeric=numeric,
        rtol=1e-12,
        atol=1e-14,
    )


# --- the harness can fail ---------------------------------------------------------------


def test_exact_softmax_passes_at_random_and_extreme_logits():
    result = run_check(softmax_check(expfam.softmax), points=30)
    assert result.ok, result.message
    assert result.points == 30 + len(Logits().extremes(3)) + len(Logits().far(3))


def test_softmax_perturbed_by_relative_1e_minus_9_fails_with_the_point():
    result = run_check(softmax_check(lambda z: expfam.softmax(z) * (1 + 1e-9)), points=30)
    assert not result.ok
    worst = result.failures[0]
    assert 0.5e-9 < worst.error < 2e-9
    point = np.array(worst.point["(z1, z2, z3)"])
    np.testing.assert_allclose(worst.numeric, expfam.softmax(point) * (1 + 1e-9))
    np.testing.assert_allclose(worst.symbolic, expfam.softmax(point), rtol=1e-14)
    assert "(z1, z2, z3)" in worst.describe() and "error" in worst.describe()


def test_jacobian_without_the_p_p_transpose_term_fails():
    def diagonal_only(z, v):
        return expfam.softmax(z) * v

    good = run_check(
        jvp_check(lambda z, v: expfam.Categorical(logits=z).fisher_vp(v, coords="logits")),
        points=20,
    )
    bad = run_check(jvp_check(diagonal_only), points=20)
    assert good.ok, good.message
    assert not bad.ok
    assert bad.failures[0].error > 1e-3
    assert set(bad.failures[0].point) == {"(z1, z2, z3)", "(v1, v2, v3)"}


def test_sign_flip_in_the_gradient_fails():
    y = sympy.Matrix([1, 0, 0])
    loss = logsumexp(Z) - Z[0]
    check = Check(
        name="gradient",
        claim="p - y",
        args=[Arg(Z, Logits())],
        derived=sympy.Matrix([sympy.diff(loss, t) for t in Z]),
        closed_form=softmax(Z) - y,
        numeric=lambda z: np.array([1.0, 0.0, 0.0]) - expfam.softmax(z),
    )
    result = run_check(check, points=10)
    assert result.verdict == "proved"
    assert not result.ok
    assert len(result.failures) > 0


def test_a_false_closed_form_is_false_with_a_counterexample():
    check = Check(
        name="wrong",
        claim="d softmax/dz = diag(p) (missing - p p^T)",
        args=[Arg(Z, Logits())],
        derived=softmax(Z).jacobian(Z),
        closed_form=sympy.diag(*softmax(Z)),
    )
    result = run_check(check)
    assert result.verdict == "false"
    assert not result.ok
    assert "counterexample" in result.message
    assert set(result.counterexample.point) == {"z1", "z2", "z3"}


def test_a_numeric_warning_is_a_failure():
    def noisy(z):
        with np.errstate(over="warn"):
            e = np.exp(z)  # overflows at the extreme logits
        return e / np.sum(e)

    result = run_check(softmax_check(noisy), points=5)
    assert not result.ok
    assert "warned" in result.message


def test_an_exception_is_reported_and_the_other_checks_still_run():
    def broken(z):
        raise RuntimeError("boom")

    good = dataclasses.replace(softmax_check(expfam.softmax), name="softmax_good")
    results = run_checks([softmax_check(broken), good], "demo", points=3)
    assert [r.ok for r in results] == [False, True]
    assert "boom" in results[0].message


def test_wrong_number_of_values_is_reported():
    result = run_check(softmax_check(lambda z: expfam.softmax(z)[:2]), points=3)
    assert not result.ok
    assert "returned 2 values" in result.message


# --- the symbolic side is evaluated at high precision ------------------------------------


def test_reference_does_not_overflow_where_a_naive_logsumexp_does():
    check = Check(
        name="lse",
        claim="logsumexp",
        args=[Arg(Z, Logits())],
        derived=logsumexp(Z),
        numeric=expfam.logsumexp,
    )
    result = run_check(check, points=5)  # extremes include (1000, 1001, 1002) and 1e4 spreads
    assert result.ok, result.message
    assert result.worst_error < 1e-15


def test_reference_resolves_cancellation_to_a_tiny_value():
    # -log(e^m / (e^m + 1)) at m = 700 is 1e-304; 30 or 60 digits both give exactly 0.
    m = sympy.Symbol("m", real=True)
    check = Check(
        name="softplus_loss",
        claim="-log softmax((m, 0))_1 = softplus(-m)",
        args=[Arg(m, Interval(690.0, 710.0))],
        derived=-sympy.log(softmax((m, 0))[0]),
        numeric=lambda m: expfam.softplus(-m),
    )
    result = run_check(check, points=10)
    assert result.ok, result.message
    wrong = run_check(Check(**{**check.__dict__, "numeric": lambda m: 0.0}), points=3)
    assert not wrong.ok
    # and its log is -m, not the -inf that every precision below 300 digits gives
    log_of_tiny = Check(
        name="log_complement",
        claim="log(1 - sigmoid(m)) = -softplus(m)",
        args=[Arg(m, Interval(690.0, 710.0))],
        derived=sympy.log(1 - 1 / (1 + sympy.exp(-m))),
        numeric=lambda m: -expfam.softplus(m),
    )
    assert run_check(log_of_tiny, points=10).ok


def test_sympy_logsumexp_rewrite_is_wrong_and_not_used():
    from sympy.codegen.rewriting import logsumexp_2terms_opt, optimize

    x, y = sympy.symbols("x y", real=True)
    lse = sympy.log(sympy.exp(x) + sympy.exp(y))
    rewritten = optimize(lse, [logsumexp_2terms_opt])
    exact = mpmath.log(mpmath.e + 1)
    assert abs(float(rewritten.subs({x: 1, y: 0})) - float(exact)) > 0.3  # 1.693, not 1.313
    check = Check(
        name="lse2",
        claim="log(e^x + e^y)",
        args=[Arg(x, Logits()), Arg(y, Logits())],
        derived=lse,
        numeric=lambda x, y: expfam.logsumexp([x, y]),
    )
    assert run_check(check, points=10).ok


# --- symbolic families ------------------------------------------------------------------


def test_symbolic_family_derives_mean_fisher_entropy_kl():
    t = sympy.Symbol("theta", negative=True)  # the exponential distribution, rate -theta
    family = SymbolicFamily("Exponential", (t,), -sympy.log(-t))
    assert sympy.simplify(family.mean()[0] + 1 / t) == 0
    assert sympy.simplify(family.fisher()[0, 0] - 1 / t**2) == 0
    assert sympy.simplify(family.entropy() - (1 - sympy.log(-t))) == 0
    (q,) = family.other_natural()
    rate_p, rate_q = -t, -q
    textbook = sympy.log(rate_p / rate_q) + rate_q / rate_p - 1
    assert sympy.simplify(sympy.expand_log(family.kl((q,)) - textbook, force=True)) == 0


@dataclass(frozen=True)
class NumericExponential:
    """A researcher's own numeric family: the exponential distribution, theta = -rate."""

    natural: np.ndarray

    @classmethod
    def from_natural(cls, natural):
        return cls(np.asarray(natural, dtype=float))

    @property
    def mean(self):
        return -1 / self.natural

    def fisher(self):
        return (1 / self.natural**2)[None, :]

    def entropy(self):
        return 1 - np.log(-self.natural[0])

    def kl(self, other):
        ratio = self.natural[0] / other.natural[0]  # rate_p / rate_q
        return np.log(ratio) + 1 / ratio - 1


def test_family_checks_hold_a_researchers_own_family():
    t = sympy.Symbol("theta", negative=True)
    family = SymbolicFamily("Exponential", (t,), -sympy.log(-t))
    checks = family_checks(
        family, Interval(-20.0, -0.05), numeric=NumericExponential, rtol=1e-12, points=20
    )
    results = run_checks(checks, "exponential")
    assert [r.name for r in results] == [
        "exponential_mean",
        "exponential_fisher",
        "exponential_entropy",
        "exponential_kl",
    ]
    assert all(r.ok for r in results), [r.message for r in results]


def test_family_checks_catch_a_wrong_numeric_family():
    @dataclass(frozen=True)
    class WrongEntropy(NumericExponential):
        def entropy(self):
            return -np.log(-self.natural[0])  # forgot the 1

    t = sympy.Symbol("theta", negative=True)
    family = SymbolicFamily("Exponential", (t,), -sympy.log(-t))
    checks = family_checks(family, Interval(-20.0, -0.05), numeric=WrongEntropy, points=5)
    results = {r.name: r.ok for r in run_checks(checks, "exponential")}
    assert results == {
        "exponential_mean": True,
        "exponential_fisher": True,
        "exponential_entropy": False,
        "exponential_kl": True,
    }


# --- expfam verify ----------------------------------------------------------------------

PASSING = '''
"""A derivation that holds."""
import sympy
import expfam
from expfam.symbolic import Arg, Check, Logits, softmax

def checks():
    z = sympy.symbols("z1:3", real=True)
    yield Check("sigmoid", "softmax((z1, z2))_1", [Arg(z, Logits())], softmax(z)[0],
                numeric=lambda z: expfam.sigmoid(z[0] - z[1]), rtol=1e-11)
'''

FAILING = '''
"""A derivation whose numeric side is off by a sign."""
import numpy as np
import sympy
from expfam.symbolic import Arg, Check, Logits, logsumexp

def checks():
    z = sympy.symbols("z1:3", real=True)
    yield Check("lse", "logsumexp", [Arg(z, Logits())], logsumexp(z),
                numeric=lambda z: -np.logaddexp(z[0], z[1]))
'''


def write(folder, name, text):
    (folder / name).write_text(textwrap.dedent(text))


def test_verify_passes_exits_zero_and_prints_the_table(tmp_path, capsys):
    write(tmp_path, "a_passing.py", PASSING)
    assert run_verify([tmp_path], None) == 0
    out = capsys.readouterr().out
    assert "a_passing" in out and "sigmoid" in out and "1 of 1 check passed" in out


def test_verify_reports_a_failure_runs_the_rest_and_writes_json(tmp_path, capsys):
    write(tmp_path, "a_failing.py", FAILING)
    write(tmp_path, "b_passing.py", PASSING)
    write(tmp_path, "c_broken.py", "raise ImportError('no such thing')\n")
    write(tmp_path, "_helper.py", "raise AssertionError('underscore modules are not run')\n")
    table = tmp_path / "out.json"
    assert run_verify([tmp_path], str(table)) == 1
    out = capsys.readouterr().out
    assert "FAIL a_failing.lse" in out and "numeric" in out and "symbolic" in out
    assert "ok   b_passing.sigmoid" in out
    assert "no such thing" in out
    rows = json.loads(table.read_text(), parse_constant=pytest.fail)["checks"]  # strict JSON
    assert [(r["derivation"], r["check"], r["ok"]) for r in rows] == [
        ("a_failing", "lse", False),
        ("b_passing", "sigmoid", True),
        ("c_broken", "<load>", False),
    ]
    failure = rows[0]["failures"][0]
    assert set(failure) == {"point", "numeric", "symbolic", "error"}
    assert failure["numeric"][0] == pytest.approx(-failure["symbolic"][0])


def test_verify_through_the_cli(tmp_path, capsys):
    from expfam.cli import main

    write(tmp_path, "a_failing.py", FAILING)
    assert main(["verify", str(tmp_path / "a_failing.py")]) == 1


def test_a_module_without_checks_is_a_failure(tmp_path, capsys):
    write(tmp_path, "empty.py", '"""Nothing here."""\n')
    assert run_verify([tmp_path], None) == 1
    assert "defines no checks()" in capsys.readouterr().out


def test_a_missing_path_is_a_clear_error(tmp_path, capsys):
    assert run_verify([tmp_path / "nowhere"], None) == 2
    assert "does not exist" in capsys.readouterr().err


# --- families: a domain per parameter, selected checks, infinite sums -----------------------


@dataclass(frozen=True)
class NumericNormal:
    """The normal family from textbook formulas; theta = (mu / s2, -1 / (2 s2))."""

    mu: float
    s2: float

    @classmethod
    def from_natural(cls, natural):
        t1, t2 = natural
        return cls(-t1 / (2 * t2), -1 / (2 * t2))

    @property
    def mean(self):  # E[x], E[x^2]
        return np.array([self.mu, self.mu**2 + self.s2])

    def fisher(self):  # Cov[(x, x^2)]
        m, v = self.mu, self.s2
        return np.array([[v, 2 * m * v], [2 * m * v, 2 * v**2 + 4 * m**2 * v]])

    def entropy(self):
        return 0.5 * np.log(2 * np.pi * np.e * self.s2)

    def kl(self, other):
        return (
            0.5 * np.log(other.s2 / self.s2)
            + (self.s2 + (self.mu - other.mu) ** 2) / (2 * other.s2)
            - 0.5
        )


def normal_family():
    t1 = sympy.Symbol("theta1", real=True)
    t2 = sympy.Symbol("theta2", negative=True)
    log_partition = -(t1**2) / (4 * t2) - sympy.log(-2 * t2) / 2
    return SymbolicFamily("Normal", (t1, t2), log_partition, -sympy.log(2 * sympy.pi) / 2)


def test_family_checks_take_a_domain_per_parameter():
    checks = family_checks(
        normal_family(), (Reals(), Interval(-5.0, -0.1)), numeric=NumericNormal, points=10
    )
    results = run_checks(checks, "normal")
    assert all(r.ok for r in results), [r.message for r in results]
    assert [a.name for a in checks[-1].args] == ["theta1", "theta2", "theta1_q", "theta2_q"]


def test_family_checks_with_one_domain_for_both_parameters_break_theta2_negative():
    (mean,) = family_checks(normal_family(), Reals(), numeric=NumericNormal, checks=("mean",))
    result = run_check(mean, points=3)
    assert (
        result.verdict == "error"
        and "theta2: expected assumptions its domain implies, got negative=True" in result.message
    )


def test_family_checks_select_checks_and_reject_unknown_ones():
    family = normal_family()
    domains = (Reals(), Interval(-5.0, -0.1))
    chosen = family_checks(family, domains, numeric=NumericNormal, checks=("fisher", "mean"))
    assert [c.name for c in chosen] == ["normal_mean", "normal_fisher"]
    with pytest.raises(ValueError, match="checks: choose among"):
        family_checks(family, domains, numeric=NumericNormal, checks=("variance",))
    with pytest.raises(ValueError, match="closed_forms: keys among"):
        family_checks(family, domains, numeric=NumericNormal, closed_forms={"Fisher": 0})
    with pytest.raises(ValueError, match="one per natural parameter"):
        family_checks(family, (Reals(),), numeric=NumericNormal)


def test_family_checks_without_numeric_say_what_to_pass():
    with pytest.raises(ValueError, match="expfam has no family named 'Normal'; pass numeric="):
        family_checks(normal_family(), Reals())


class NumericPoisson:
    """The Poisson family, entropy from scipy (a test-only oracle)."""

    def __init__(self, rate):
        self.rate = rate

    @classmethod
    def from_natural(cls, natural):
        return cls(float(np.exp(natural[0])))

    @property
    def mean(self):
        return np.array([self.rate])

    def fisher(self):
        return np.array([[self.rate]])

    def entropy(self):
        import scipy.stats

        return float(scipy.stats.poisson(self.rate).entropy())

    def kl(self, other):
        return self.rate * np.log(self.rate / other.rate) - self.rate + other.rate


def test_a_poisson_entropy_takes_its_expected_log_base_measure_as_an_infinite_sum():
    t = sympy.Symbol("theta", real=True)
    x = sympy.Symbol("x", integer=True, nonnegative=True)
    rate = sympy.exp(t)
    pmf = sympy.exp(t * x - rate) / sympy.factorial(x)
    expected_log_h = -sympy.Sum(sympy.log(sympy.factorial(x)) * pmf, (x, 0, sympy.oo))
    family = SymbolicFamily("Poisson", (t,), rate, expected_log_h)
    (entropy,) = family_checks(
        family, Interval(-2.0, 3.0), numeric=NumericPoisson, checks=("entropy",), rtol=1e-9
    )
    assert run_check(entropy, points=3).ok
    # without E[log h] (h = 1 taken) the entropy check fails; leaving it out is the other way
    wrong = family_checks(
        SymbolicFamily("Poisson", (t,), rate),
        Interval(-2.0, 3.0),
        numeric=NumericPoisson,
        checks=("entropy",),
        points=3,
    )
    assert not run_check(wrong[0]).ok
    rest = family_checks(
        SymbolicFamily("Poisson", (t,), rate),
        Interval(-2.0, 3.0),
        numeric=NumericPoisson,
        checks=("mean", "fisher", "kl"),
        points=5,
    )
    assert all(r.ok for r in run_checks(rest, "poisson"))
