"""The gradient of the log-loss through softmax is p - y; for z = W x it is (p - y) x^T.

The log-loss of class c is L = -log p_c = log sum_k exp(z_k) - z_c = A(z) - z_c: the
log-partition minus the logit of the observed class. Its gradient is therefore grad A(z)
- e_c = p - y, with y = e_c the one-hot target which is the residual "prediction minus
truth". For a linear model z = W x, the chain rule through z_i = sum_j W_ij x_j gives
dL/dW_ij = (p_i - y_i) x_j, that is (p - y) x^T: dL/dw_c = eps_c x with eps_c = p_c - 1
for the true class and p_c otherwise.

The same holds for a soft target y on the simplex: L = -sum_k y_k log p_k
= A(z) sum_k y_k - y . z = A(z) - y . z, with gradient p - y. Behind all of it
is log p = log softmax(z) = z - A(z).

sympy differentiates L written from its definition, for every class c and
K = 2, ..., 6, and proves the closed forms. The numeric side: the loss value
is ``expfam.cross_entropy(z, c)`` (or of a probability vector), log p is
``expfam.log_softmax``, the gradient is ``expfam.softmax(z) - y``.
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Logits, Reals, Simplex, logsumexp, softmax


def one_hot(c: int, k: int) -> np.ndarray:
    y = np.zeros(k)
    y[c] = 1.0
    return y


def checks():
    for k in range(2, 7):
        z = sympy.symbols(f"z1:{k + 1}", real=True)
        for c in range(k):
            loss = -sympy.log(softmax(z)[c])
            y = sympy.Matrix([1 if i == c else 0 for i in range(k)])
            yield Check(
                name=f"loss_k{k}_class{c}",
                claim="-log softmax(z)_c = logsumexp(z) - z_c (expfam.cross_entropy)",
                args=[Arg(z, Logits())],
                derived=loss,
                closed_form=logsumexp(z) - z[c],
                numeric=lambda z, c=c: expfam.cross_entropy(z, c),
                rtol=1e-13,
                atol=1e-15,
                points=40,
            )
            yield Check(
                name=f"gradient_k{k}_class{c}",
                claim="d(-log p_c)/dz = p - y",
                args=[Arg(z, Logits())],
                derived=sympy.Matrix([sympy.diff(loss, t) for t in z]),
                closed_form=softmax(z) - y,
                numeric=lambda z, c=c, k=k: expfam.softmax(z) - one_hot(c, k),
                rtol=1e-13,
                atol=1e-15,  # p - y cancels where p_c is near 1
                points=40,
            )

        yield Check(
            name=f"log_softmax_k{k}",
            claim="log softmax(z) = z - logsumexp(z) (expfam.log_softmax)",
            args=[Arg(z, Logits())],
            derived=softmax(z).applyfunc(sympy.log),
            closed_form=sympy.Matrix(z) - logsumexp(z) * sympy.ones(k, 1),
            numeric=expfam.log_softmax,
            rtol=1e-13,
            atol=1e-15,
            points=40,
        )

    for k in (2, 3, 5):
        z = sympy.symbols(f"z1:{k + 1}", real=True)
        head = sympy.symbols(f"y1:{k}", positive=True)
        y = [*head, 1 - sum(head)]
        yield Check(
            name=f"soft_target_k{k}",
            claim="-sum y log softmax(z) = logsumexp(z) - y . z (cross_entropy, probabilities)",
            args=[Arg(z, Logits()), Arg(head, Simplex())],
            derived=-sum(t * sympy.log(q) for t, q in zip(y, softmax(z), strict=True)),
            closed_form=logsumexp(z) - sum(t * u for t, u in zip(y, z, strict=True)),
            numeric=lambda z, head: expfam.cross_entropy(z, np.append(head, 1 - np.sum(head))),
            rtol=1e-11,  # the last probability 1 - sum(head) is rounded in float64
            atol=1e-13,
            points=40,
        )

    k, d, c = 3, 2, 1
    w = sympy.Matrix(k, d, sympy.symbols(f"w1:{k * d + 1}", real=True))
    x = sympy.Matrix(sympy.symbols(f"x1:{d + 1}", real=True))
    z = w * x
    loss = logsumexp(z) - z[c]
    y = sympy.Matrix([1 if i == c else 0 for i in range(k)])
    yield Check(
        name="weight_gradient_k3_d2",
        claim="for z = W x: dL/dW = (p - y) x^T",
        args=[Arg(list(w), Reals(1.5)), Arg(list(x), Reals(1.5))],
        derived=w.applyfunc(lambda wij: sympy.diff(loss, wij)),
        closed_form=(softmax(z) - y) * x.T,
        numeric=lambda w, x: np.outer(expfam.softmax(w.reshape(k, d) @ x) - one_hot(c, k), x),
        rtol=1e-11,
        atol=1e-14,
    )
