"""The Dirichlet log-partition: gradient E[log p] (digamma differences), Hessian the Fisher metric.

The Dirichlet density on the simplex is
p(x | alpha) = exp(sum_k (alpha_k - 1) log x_k - A(alpha)) with sufficient
statistic T(x) = log x, natural parameters theta = alpha - 1 and
log-partition A = log B(alpha) = sum_k lgamma(alpha_k) - lgamma(alpha_0),
alpha_0 = sum_k alpha_k. As for every exponential family, differentiating the
normalizer under the integral gives the mean of the statistic:
E[log x_k] = dA/dalpha_k = digamma(alpha_k) - digamma(alpha_0), and the
Hessian, the covariance of log x and the Fisher metric, is
diag(trigamma(alpha)) - trigamma(alpha_0) 1 1^T: a diagonal minus a rank one,
inverted in O(K) by Sherman-Morrison.

The gradient identity is also checked against its definition: the marginal
of x_1 is Beta(a, b) with a = alpha_1, b = alpha_0 - alpha_1, and for
integer a, b sympy integrates E[log x_1] = int_0^1 log x x^(a-1) (1-x)^(b-1) dx / B(a, b)
exactly and proves it equals digamma(a) - digamma(a + b) (harmonic numbers).

The numeric side is ``expfam.Dirichlet``: ``mean`` (E[log x]),
``fisher_vp`` and ``natural_gradient`` (Sherman-Morrison), at
concentrations from 0.05 to 50.
"""

import sympy

import expfam
from expfam.symbolic import Arg, Check, Positive, Reals


def checks():
    for k in (2, 3, 5):
        alpha = sympy.symbols(f"alpha1:{k + 1}", positive=True)
        v = sympy.Matrix(sympy.symbols(f"v1:{k + 1}", real=True))
        total = sum(alpha)
        log_partition = sum(sympy.loggamma(a) for a in alpha) - sympy.loggamma(total)
        gradient = sympy.Matrix([sympy.diff(log_partition, a) for a in alpha])
        hessian = sympy.hessian(log_partition, alpha)
        trigamma = [sympy.polygamma(1, a) for a in alpha]
        closed_hessian = sympy.diag(*trigamma) - sympy.polygamma(1, total) * sympy.ones(k)
        concentrations = Arg(alpha, Positive(0.05, 50.0))
        yield Check(
            name=f"mean_k{k}",
            claim="grad log B(alpha) = digamma(alpha) - digamma(alpha_0) (Dirichlet.mean)",
            args=[concentrations],
            derived=gradient,
            closed_form=sympy.Matrix([sympy.digamma(a) - sympy.digamma(total) for a in alpha]),
            numeric=lambda alpha: expfam.Dirichlet(concentration=alpha).mean,
            rtol=1e-12,
            atol=1e-13,
        )
        yield Check(
            name=f"fisher_k{k}",
            claim="hess log B = diag(trigamma(alpha)) - trigamma(alpha_0) 1 1^T (fisher_vp)",
            args=[concentrations, Arg(list(v), Reals())],
            derived=hessian * v,
            closed_form=closed_hessian * v,
            numeric=lambda alpha, v: expfam.Dirichlet(concentration=alpha).fisher_vp(v),
            rtol=1e-12,
            atol=1e-13,
        )
        if k <= 3:
            yield Check(
                name=f"natural_gradient_k{k}",
                claim="F^-1 g by Sherman-Morrison (Dirichlet.natural_gradient)",
                args=[concentrations, Arg(list(v), Reals())],
                derived=closed_hessian.inv() * v,
                numeric=lambda alpha, v: expfam.Dirichlet(concentration=alpha).natural_gradient(v),
                rtol=1e-10,
                atol=1e-13,
            )

    x = sympy.Symbol("x", positive=True)
    for a, b in ((1, 1), (2, 3), (5, 2), (7, 7)):
        beta_function = sympy.gamma(a) * sympy.gamma(b) / sympy.gamma(a + b)
        density = x ** (a - 1) * (1 - x) ** (b - 1) / beta_function
        yield Check(
            name=f"beta_{a}_{b}_by_integration",
            claim=f"int log x Beta({a}, {b})(x) dx = digamma({a}) - digamma({a + b})",
            args=[],
            derived=sympy.integrate(sympy.log(x) * density, (x, 0, 1)),
            closed_form=sympy.digamma(a) - sympy.digamma(a + b),
            numeric=lambda a=a, b=b: expfam.Dirichlet(concentration=[a, b]).mean[0],
            rtol=1e-14,
        )
