"""The symbolic Bernoulli, Categorical and Dirichlet families agree with the numeric ones.

An exponential family p(x) = h(x) exp(theta . T(x) - A(theta)) is determined
by its natural parameters and its log-partition A; everything else follows
by differentiation and is written once in ``expfam.symbolic.SymbolicFamily``:
the mean map eta = grad A, the Fisher metric hess A, the entropy
A - theta . eta - E[log h], and the KL divergence as the Bregman divergence
A(theta_q) - A(theta_p) - (theta_q - theta_p) . eta_p. The numeric families do
the same with closed forms and careful numerics; here the two are held
against each other, family by family:

- Bernoulli: theta = w (the logit), A = log(1 + exp(w)) = softplus(w); the
  mean is sigmoid(w), the Fisher metric p (1 - p), the entropy
  -p log p - (1 - p) log(1 - p).
- Categorical in minimal coordinates: theta_i = log(p_i / p_K), i < K,
  A = log(1 + sum_i exp(theta_i)); the mean is p[:K-1], the Fisher metric
  diag(p') - p' p'^T, the entropy -sum_k p_k log p_k.
- Dirichlet: theta = alpha - 1, T(x) = log x, h = 1,
  A = sum_k lgamma(theta_k + 1) - lgamma(sum_k theta_k + K); the entropy
  log B(alpha) + (alpha_0 - K) digamma(alpha_0) - sum_k (alpha_k - 1) digamma(alpha_k)
  and the KL divergence take their textbook closed forms, which sympy proves
  equal to the derived ones.

Each derived quantity is compared with the numeric family of the same name
(``expfam.Bernoulli``, ``expfam.Categorical``, ``expfam.Dirichlet``, built with
``from_natural``), at random and extreme natural parameters. A researcher's
own family is checked the same way: write its A as a ``SymbolicFamily`` and
pass its numeric class to ``family_checks``.
"""

import sympy

from expfam.symbolic import Logits, Positive, Shifted, SymbolicFamily, family_checks, softmax


def bernoulli():
    w = sympy.Symbol("w", real=True)
    p = 1 / (1 + sympy.exp(-w))
    family = SymbolicFamily("Bernoulli", (w,), sympy.log(1 + sympy.exp(w)))
    closed = {
        "mean": sympy.Matrix([p]),
        "fisher": sympy.Matrix([[p * (1 - p)]]),
        "entropy": -p * sympy.log(p) - (1 - p) * sympy.log(1 - p),
    }
    return family_checks(family, Logits(6.0), closed_forms=closed, points=100)


def categorical(k: int):
    theta = sympy.symbols(f"theta1:{k}", real=True)
    p = softmax([*theta, 0])
    head = p[: k - 1, 0]
    family = SymbolicFamily("Categorical", theta, sympy.log(1 + sum(sympy.exp(t) for t in theta)))
    closed = {
        "mean": head,
        "fisher": sympy.diag(*head) - head * head.T,
        "entropy": -sum(q * sympy.log(q) for q in p),
    }
    checks = family_checks(family, Logits(4.0), closed_forms=closed, rtol=1e-11)
    return [_rename(c, f"_k{k}") for c in checks]


def dirichlet(k: int):
    theta = sympy.symbols(f"t1:{k + 1}", real=True)
    alpha = [t + 1 for t in theta]
    total = sum(alpha)
    log_beta = sum(sympy.loggamma(a) for a in alpha) - sympy.loggamma(total)
    family = SymbolicFamily("Dirichlet", theta, log_beta)
    beta = [t + 1 for t in family.other_natural()]
    closed = {
        "mean": sympy.Matrix([sympy.digamma(a) - sympy.digamma(total) for a in alpha]),
        "entropy": log_beta
        + (total - k) * sympy.digamma(total)
        - sum((a - 1) * sympy.digamma(a) for a in alpha),
        "kl": sympy.loggamma(total)
        - sum(sympy.loggamma(a) for a in alpha)
        - sympy.loggamma(sum(beta))
        + sum(sympy.loggamma(b) for b in beta)
        + sum(
            (a - b) * (sympy.digamma(a) - sympy.digamma(total))
            for a, b in zip(alpha, beta, strict=True)
        ),
    }
    concentration = Shifted(Positive(0.1, 30.0), -1.0)
    checks = family_checks(
        family, concentration, closed_forms=closed, rtol=1e-10, atol=1e-12, points=30
    )
    return [_rename(c, f"_k{k}") for c in checks]


def _rename(check, suffix):
    from dataclasses import replace

    return replace(check, name=check.name + suffix)


def checks():
    yield from bernoulli()
    for k in (2, 3, 4):
        yield from categorical(k)
    for k in (2, 3):
        yield from dirichlet(k)
