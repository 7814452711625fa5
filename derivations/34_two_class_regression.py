"""Two-class softmax regression is logistic regression with w = w_1 - w_2, at twice the C.

For K = 2 the logits of a sample are (w_1 . x + b_1, w_2 . x + b_2), and
softmax is shift-invariant (derivation 07): Pr(y = 1 | x) =
sigmoid((w_1 - w_2) . x + b_1 - b_2). With the label t = +1 for class 1 and
-1 for class 2, the log-loss is logsumexp(z) - z_y = softplus(-t (w . x + b))
with w = w_1 - w_2, b = b_1 - b_2: the logistic loss of the margin.

The penalties differ. The gradient of the objective sums over classes to
w_1 + w_2 (derivation 30), so at the optimum w_2 = -w_1, w = 2 w_1 and
(1/2)(|w_1|^2 + |w_2|^2) = |w|^2 / 4. Hence at W = (w/2, -w/2)

    C sum_n softplus(-t_n (w . x_n + b)) + |w|^2 / 4
        = (1/2) [2C sum_n softplus(-t_n (w . x_n + b)) + |w|^2 / 2]:

the multinomial objective at C is half the binary logistic objective at 2C
(scikit-learn's binary LogisticRegression), and both have the same
minimizer w.

sympy proves the loss identity for each label (as p_y = sigmoid(t margin),
the exponential of minus the loss: softplus(-m) = -log sigmoid(m)) and the
penalty identity, for D = 2; the numeric side is ``expfam.learn.objective``
with K = 2 and N = 2 against the symbolic binary objective, and the binary
objective written with ``expfam.softplus``.
"""

import numpy as np
import sympy

import expfam
from expfam import learn
from expfam.symbolic import Arg, Check, Positive, Reals, logsumexp

N, D = 2, 2
LABELS = (0, 1)  # class indices; t = +1 for class 0, -1 for class 1


def softplus(u):
    return sympy.log(1 + sympy.exp(u))


def binary_objective(w, b, x, c):
    """(1/2)[2C sum_n softplus(-t_n (w . x_n + b)) + |w|^2 / 2] with expfam.softplus."""
    t = np.where(np.array(LABELS) == 0, 1.0, -1.0)
    margins = t * (x.reshape(N, D) @ w + b)
    return 0.5 * (2 * c * np.sum(expfam.softplus(-margins)) + 0.5 * w @ w)


def checks():
    w1 = sympy.Matrix(sympy.symbols(f"u1:{D + 1}", real=True))
    w2 = sympy.Matrix(sympy.symbols(f"v1:{D + 1}", real=True))
    b1, b2 = sympy.symbols("b1 b2", real=True)
    x = sympy.Matrix(sympy.symbols(f"x1:{D + 1}", real=True))
    z = [(w1.T * x)[0] + b1, (w2.T * x)[0] + b2]
    margin = ((w1 - w2).T * x)[0] + b1 - b2
    for y, t in ((0, 1), (1, -1)):
        yield Check(
            name=f"loss_class{y + 1}",
            claim=f"exp(-(logsumexp(z) - z_{y + 1})) = sigmoid(({t}) (w . x + b))",
            args=[
                Arg(list(w1), Reals()),
                Arg(list(w2), Reals()),
                Arg(list(x), Reals()),
                Arg([b1, b2], Reals()),
            ],
            derived=sympy.exp(-(logsumexp(z) - z[y])),
            closed_form=1 / (1 + sympy.exp(-t * margin)),
        )
    w = sympy.Matrix(sympy.symbols(f"w1:{D + 1}", real=True))
    b = sympy.Symbol("b", real=True)
    X = sympy.Matrix(N, D, sympy.symbols(f"x1:{N * D + 1}", real=True))
    C = sympy.Symbol("C", positive=True)
    halves = [*(w / 2), *(-w / 2)]
    t = [1 if label == 0 else -1 for label in LABELS]
    margins = [t[n] * ((w.T * X.row(n).T)[0] + b) for n in range(N)]
    binary = (2 * C * sum(softplus(-m) for m in margins) + (w.T * w)[0] / 2) / 2
    args = [Arg(list(w), Reals()), Arg(b, Reals()), Arg(list(X), Reals()), Arg(C, Positive())]
    yield Check(
        name="penalty",
        claim="(1/2)(|w/2|^2 + |-w/2|^2) = (1/2)(|w|^2 / 2) (the intercept unpenalized)",
        args=args[:1],
        derived=sum(h**2 for h in halves) / 2,
        closed_form=(w.T * w)[0] / 4,
    )

    def numeric(w, b, x, c):
        W = np.array([[*(w / 2), b / 2], [*(-w / 2), -b / 2]])
        return learn.objective(W, x.reshape(N, D), np.array(LABELS), C=c, fit_intercept=True)

    yield Check(
        name="objective",
        claim="K = 2 objective at W = (w/2, -w/2) = half the binary objective at 2C",
        args=args,
        derived=binary,
        numeric=numeric,
        rtol=1e-12,
        atol=1e-12,
        points=30,
    )
    yield Check(
        name="objective_by_softplus",
        claim="the binary objective with expfam.softplus equals the symbolic one",
        args=args,
        derived=binary,
        numeric=binary_objective,
        rtol=1e-12,
        atol=1e-12,
        points=30,
    )
