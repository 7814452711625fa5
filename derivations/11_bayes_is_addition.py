"""Bayes in natural coordinates: posterior logits = prior logits + log-likelihood.

Bayes' rule P(h | x) = P(h) P(x | h) / sum_g P(g) P(x | g) is, in logs,
log P(h | x) = log P(h) + log P(x | h) - log Z: the unnormalized log posterior
is the sum of the prior logits and the log-likelihood, and the normalizer is
a logsumexp. So posterior = softmax(prior logits + log-likelihood): updating
is addition in the natural coordinates of the categorical family, and n
conditionally independent observations add n log-likelihoods (a power beta
of the likelihood adds beta log-likelihoods). Repeating one observation
moves the logits along the straight line l + n lambda: an e-geodesic.

The snow example (``expfam.SNOW``): a friend is at MIT,
Michigan or Berkeley with prior (1/3, 1/3, 1/3) and reports snow, with
P(snow | h) = (2/5, 2/5, 1/10). After n reports the posterior is
(1/3)(2/5)^n, (1/3)(2/5)^n, (1/3)(1/10)^n normalized, and dividing through by
(2/5)^n / 3 gives (1, 1, 4^-n) / (2 + 4^-n): (4/9, 4/9, 1/9) after one,
(16/33, 16/33, 1/33) after two, (64/129, 64/129, 1/129) after three. (64/129 =
0.4961; the rounded (.46, .46, .008) sometimes quoted does not sum to 1.)

sympy proves the update rule for K = 2, ..., 5, the closed form for every n
and the three posteriors in exact rationals. The numeric side is
``expfam.posterior`` (with ``beta``), ``expfam.posterior_trajectory`` and
``expfam.SNOW.posterior(n)``.
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Integers, Interval, Logits, Reals, softmax

SNOW = expfam.SNOW


def bayes_rule(prior, likelihood):
    """P(h) P(x | h) / sum_g P(g) P(x | g), as written."""
    joint = [a * b for a, b in zip(prior, likelihood, strict=True)]
    return sympy.Matrix([j / sum(joint) for j in joint])


def checks():
    for k in range(2, 6):
        prior = sympy.symbols(f"l1:{k + 1}", real=True)  # prior logits
        loglik = sympy.symbols(f"m1:{k + 1}", real=True)
        beta = sympy.Symbol("beta", nonnegative=True)
        powered = [sympy.exp(beta * t) for t in loglik]  # P(x | h)^beta
        yield Check(
            name=f"update_k{k}",
            claim="Bayes' rule = softmax(prior logits + log-likelihood) (expfam.posterior)",
            args=[Arg(prior, Logits()), Arg(loglik, Reals(5.0))],
            derived=bayes_rule(softmax(prior), [sympy.exp(t) for t in loglik]),
            closed_form=softmax([a + b for a, b in zip(prior, loglik, strict=True)]),
            numeric=expfam.posterior,
            rtol=1e-12,
            atol=1e-300,
        )
        yield Check(
            name=f"power_update_k{k}",
            claim="likelihood^beta adds beta log-likelihoods (expfam.posterior(beta=...))",
            args=[
                Arg(prior, Logits()),
                Arg(loglik, Reals(3.0)),
                Arg(beta, Interval(0.0, 10.0, (0.0, 0.5, 100.0))),
            ],
            derived=bayes_rule(softmax(prior), powered),
            closed_form=softmax([a + beta * b for a, b in zip(prior, loglik, strict=True)]),
            numeric=lambda prior, loglik, beta: expfam.posterior(prior, loglik, beta=beta),
            rtol=1e-11,
            atol=1e-300,
        )

    n = sympy.Symbol("n", integer=True, nonnegative=True)
    prior = [sympy.Rational(f.numerator, f.denominator) for f in SNOW.prior]
    likelihood = [sympy.Rational(f.numerator, f.denominator) for f in SNOW.likelihood]
    after_n = bayes_rule(prior, [t**n for t in likelihood])
    quarter = sympy.Rational(1, 4) ** n
    yield Check(
        name="snow_after_n",
        claim="snow posterior after n reports = (1, 1, 4^-n) / (2 + 4^-n) (expfam.SNOW)",
        args=[Arg(n, Integers(0, 200))],
        derived=after_n,
        closed_form=sympy.Matrix([1, 1, quarter]) / (2 + quarter),
        numeric=lambda n: SNOW.posterior(int(n)),
        rtol=5e-12,  # log(2/5), log(1/10) are rounded; n of them add up the error
        points=30,
    )
    for count, exact in (
        (1, (sympy.Rational(4, 9), sympy.Rational(4, 9), sympy.Rational(1, 9))),
        (2, (sympy.Rational(16, 33), sympy.Rational(16, 33), sympy.Rational(1, 33))),
        (3, (sympy.Rational(64, 129), sympy.Rational(64, 129), sympy.Rational(1, 129))),
    ):
        yield Check(
            name=f"snow_{count}",
            claim=f"after {count} snow(s): {tuple(str(t) for t in exact)}",
            args=[],
            derived=after_n.subs(n, count),
            closed_form=sympy.Matrix(exact),
            numeric=lambda count=count: SNOW.posterior(count),
            rtol=1e-14,
        )
    yield Check(
        name="snow_natural_is_a_line",
        claim="natural coordinates log(p_i / p_Berkeley) after n snows = (n log 4, n log 4)",
        args=[Arg(n, Integers(0, 200))],
        derived=sympy.Matrix([sympy.log(after_n[i] / after_n[2]) for i in range(2)]),
        closed_form=sympy.Matrix([n * sympy.log(4), n * sympy.log(4)]),
        numeric=lambda n: (
            expfam.Categorical(logits=SNOW.log_posterior_trajectory(int(n))[-1]).natural
        ),
        rtol=1e-13,
        atol=1e-13,
        points=30,
    )
    log_lik = SNOW.log_likelihood
    yield Check(
        name="snow_trajectory",
        claim="posterior_trajectory of 5 snows = the exact posteriors after 0, ..., 5",
        args=[],
        derived=sympy.Matrix([list(after_n.subs(n, t)) for t in range(6)]),
        numeric=lambda: expfam.posterior_trajectory(SNOW.log_prior, np.tile(log_lik, (5, 1))),
        rtol=1e-14,
    )
