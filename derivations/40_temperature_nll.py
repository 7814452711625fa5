"""Temperature scaling: the log-loss is convex in beta and its optimum matches moments.

For one sample with logits z and label y, the log-loss at inverse temperature beta is
NLL(beta) = logsumexp(beta z) - beta z_y. Its derivative is E_{p_beta}[z] - z_y and its
second derivative is the variance of z under p_beta = softmax(beta z), which is the
Fisher quadratic form z^T F(beta z) z (F = diag(p) - p p^T) and never negative: the mean
log-loss over a data set is convex in beta, and at its minimum the mean logit under the
model equals the mean logit of the observed labels (moment matching). A larger beta
accentuates small differences and makes a model overconfident; temperature scaling picks
the beta the held-out data support.

For logits (c, 0, ..., 0) with the top class right in a fraction a of the
samples, the stationary point has the closed form beta* = log(a (K - 1) / (1 - a)) / c;
expfam.learn.fit_temperature must find it (weighting the two kinds of sample
by a and 1 - a).
"""

import numpy as np
import sympy

from expfam.families import Categorical
from expfam.learn import fit_temperature
from expfam.symbolic import Arg, Check, Interval, Logits, logsumexp, softmax


def checks():
    beta = sympy.Symbol("beta", positive=True)
    for k in (2, 3):
        z = sympy.symbols(f"z1:{k + 1}", real=True)
        p = softmax([beta * t for t in z])
        nll = logsumexp([beta * t for t in z]) - beta * z[0]
        mean = sum(pi * t for pi, t in zip(p, z, strict=True))
        variance = sum(pi * t**2 for pi, t in zip(p, z, strict=True)) - mean**2
        yield Check(
            name=f"slope_k{k}",
            claim="d/dbeta [logsumexp(beta z) - beta z_y] = E_p[z] - z_y",
            args=[Arg(z, Logits(limit=50.0)), Arg(beta, Interval(0.01, 5.0, (0.01, 1.0, 5.0)))],
            derived=sympy.diff(nll, beta),
            closed_form=mean - z[0],
        )
        yield Check(
            name=f"curvature_is_fisher_k{k}",
            claim="d^2/dbeta^2 NLL = Var_p(z) = z^T F(beta z) z >= 0",
            args=[Arg(z, Logits(limit=50.0)), Arg(beta, Interval(0.01, 5.0, (0.01, 1.0, 5.0)))],
            derived=sympy.diff(nll, beta, 2),
            closed_form=variance,
            numeric=lambda z, beta: Categorical(logits=beta * z).fisher_vp(z, coords="logits") @ z,
            rtol=1e-9,
            atol=1e-12,
        )
    a, c = sympy.symbols("a c", positive=True)
    for k in (2, 3, 5):
        logits = [c] + [sympy.S.Zero] * (k - 1)
        partition = logsumexp([beta * t for t in logits])
        mean_nll = a * (partition - beta * c) + (1 - a) * partition  # right: class 0; wrong: 1
        (root,) = sympy.solve(sympy.diff(mean_nll, beta), beta)

        def numeric(a, c, k=k):
            z = np.zeros((2, k))
            z[:, 0] = c
            return fit_temperature(z, [0, 1], sample_weight=[a, 1 - a]).beta

        yield Check(
            name=f"closed_form_k{k}",
            claim="logits (c, 0, ..., 0), top class right in a fraction a: "
            "beta* = log(a (K-1) / (1-a)) / c",
            args=[Arg(a, Interval(0.55, 0.99)), Arg(c, Interval(0.2, 20.0))],
            derived=root,
            closed_form=sympy.log(a * (k - 1) / (1 - a)) / c,
            numeric=numeric,
            rtol=1e-12,
            points=30,
        )
