"""The Fisher metric in minimal coordinates, its closed-form inverse, and the natural gradient.

In minimal natural coordinates theta (K - 1 of them, the last class as
reference) the log-partition is psi(theta) = log(1 + sum_i exp(theta_i)),
and its Hessian is F(theta) = diag(p') - p' p'^T with p' = p[:K-1]. Unlike
the logits' K x K metric it is invertible in the interior: it is a diagonal
matrix minus a rank-one term, and Sherman-Morrison gives
F^-1 = diag(1/p') + 1 1^T / (1 - sum p') = diag(1/p') + 1 1^T / p_K.
(Check: (diag(p') - p' p'^T)(diag(1/p') + 1 1^T / p_K)
= I + p' 1^T / p_K - p' 1^T - p' (sum p') 1^T / p_K = I, as sum p' = 1 - p_K.)
So the natural gradient F^-1 g = g / p' + (sum_i g_i) / p_K costs O(K).

In logits coordinates F = diag(p) - p p^T is singular along 1. Its
Moore-Penrose inverse applied to g is x = y - mean(y), y = (g - mean(g)) / p:
F x = p * x - p (p . x) = g - mean(g), the projection of g on the range of F
(the vectors summing to 0), and x sums to 0 itself, so it is the
minimum-norm solution.

sympy derives the Hessian, proves the closed-form inverse by multiplying it
out (and against sympy's own inverse for K <= 4), and proves the logits
pseudo-inverse. The numeric side is ``expfam.Categorical``'s ``fisher_vp``
and ``natural_gradient`` in both coordinate systems, at random and extreme
parameters (where p_K or some p_i is tiny and F^-1 huge).
"""

import sympy

import expfam
from expfam.symbolic import Arg, Check, Logits, Reals, softmax


def checks():
    for k in range(2, 6):
        theta = sympy.symbols(f"theta1:{k}", real=True)
        g = sympy.Matrix(sympy.symbols(f"g1:{k}", real=True))
        psi = sympy.log(1 + sum(sympy.exp(t) for t in theta))
        p = softmax([*theta, 0])
        head, p_last = p[: k - 1, 0], p[k - 1]
        fisher = sympy.hessian(psi, theta)
        inverse = sympy.diag(*[1 / t for t in head]) + sympy.ones(k - 1) / p_last
        yield Check(
            name=f"fisher_k{k}",
            claim="hess psi(theta) = diag(p') - p' p'^T (Categorical.fisher_vp)",
            args=[Arg(theta, Logits()), Arg(list(g), Reals())],
            derived=fisher * g,
            closed_form=(sympy.diag(*head) - head * head.T) * g,
            numeric=lambda theta, g: expfam.Categorical.from_natural(theta).fisher_vp(g),
            rtol=1e-12,
            atol=1e-14,
        )
        yield Check(
            name=f"inverse_k{k}",
            claim="F (diag(1/p') + 1 1^T / p_K) = I",
            args=[Arg(theta, Logits())],
            derived=fisher * inverse,
            closed_form=sympy.eye(k - 1),
        )
        if k <= 4:
            yield Check(
                name=f"inverse_is_sympy_inverse_k{k}",
                claim="sympy's F^-1 = diag(1/p') + 1 1^T / p_K",
                args=[Arg(theta, Logits())],
                derived=fisher.inv(),
                closed_form=inverse,
            )
        yield Check(
            name=f"natural_gradient_k{k}",
            claim="F^-1 g = g / p' + sum(g) / p_K (Categorical.natural_gradient)",
            args=[Arg(theta, Logits(3.0, limit=700.0)), Arg(list(g), Reals())],
            derived=inverse * g,
            numeric=lambda theta, g: expfam.Categorical.from_natural(theta).natural_gradient(g),
            rtol=1e-12,
            atol=1e-13,
        )

        z = sympy.symbols(f"z1:{k + 1}", real=True)
        h = sympy.Matrix(sympy.symbols(f"h1:{k + 1}", real=True))
        q = softmax(z)
        centred = h - sympy.ones(k, 1) * sum(h) / k
        y = sympy.Matrix([centred[i] / q[i] for i in range(k)])
        x = y - sympy.ones(k, 1) * sum(y) / k
        fisher_z = sympy.diag(*q) - q * q.T
        yield Check(
            name=f"pseudo_inverse_k{k}",
            claim="logits: F x = g - mean(g), sum x = 0 for x = y - mean(y), y = (g - mean g)/p",
            args=[Arg(z, Logits(3.0, limit=700.0)), Arg(list(h), Reals())],
            derived=(fisher_z * x).col_join(sympy.Matrix([sum(x)])),
            closed_form=centred.col_join(sympy.Matrix([0])),
        )
        yield Check(
            name=f"pseudo_inverse_numeric_k{k}",
            claim="F^+ g in logits coordinates (Categorical.natural_gradient(coords='logits'))",
            args=[Arg(z, Logits(3.0, limit=700.0)), Arg(list(h), Reals())],
            derived=x,
            numeric=lambda z, h: expfam.Categorical(logits=z).natural_gradient(h, coords="logits"),
            rtol=1e-12,
            atol=1e-13,
        )
