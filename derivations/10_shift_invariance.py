"""Subtracting a constant from the logits leaves softmax unchanged and shifts logsumexp by it.

For any constant c, exp(z_k - c) / sum_j exp(z_j - c) = exp(-c) exp(z_k) /
(exp(-c) sum_j exp(z_j)) = softmax(z)_k: the factor exp(-c) cancels. The
logits are overcomplete coordinates, z and z + c 1 are the same distribution,
and 1 is the null direction of the Fisher metric. The log-partition is not
invariant but equivariant: logsumexp(z - c) = log(exp(-c) sum_j exp(z_j)) =
logsumexp(z) - c.

This is the stability trick: exp(1000) overflows in
float32 and float64, but with c = max(z) every exponent is <= 0, the largest
term is exactly 1, and softmax([1000, 1001, 1002]) = [0.09003057,
0.24472848, 0.66524094] comes out right. logsumexp(z) = max(z) +
logsumexp(z - max(z)) is the same identity read the other way.

sympy proves both identities for K = 2, ..., 5 and the example in exact
arithmetic. The numeric side is ``expfam.softmax`` and ``expfam.logsumexp`` at
shifted logits, with shifts up to +-1e3 (the rounding of z - c in float64 is
the only error allowed for).
"""

import numpy as np
import sympy

import expfam
from expfam.symbolic import Arg, Check, Interval, Logits, logsumexp, softmax


def checks():
    c = sympy.Symbol("c", real=True)
    shifts = Interval(-1e3, 1e3, (-1e3, -1.0, 0.0, 1e-9, 745.0, 1e3))
    for k in range(2, 6):
        z = sympy.symbols(f"z1:{k + 1}", real=True)
        shifted = [t - c for t in z]
        yield Check(
            name=f"softmax_invariant_k{k}",
            claim="softmax(z - c) = softmax(z) (expfam.softmax)",
            args=[Arg(z, Logits()), Arg(c, shifts)],
            derived=softmax(z),
            closed_form=softmax(shifted),
            numeric=lambda z, c: expfam.softmax(z - c),
            rtol=1e-11,  # z - c is rounded: up to 1e4 * 2^-53 in the exponent
            atol=1e-16,
        )
        yield Check(
            name=f"logsumexp_equivariant_k{k}",
            claim="logsumexp(z - c) = logsumexp(z) - c (expfam.logsumexp)",
            args=[Arg(z, Logits()), Arg(c, shifts)],
            derived=logsumexp(z) - c,
            closed_form=logsumexp(shifted),
            numeric=lambda z, c: expfam.logsumexp(z - c),
            rtol=1e-12,
            atol=1e-12,
        )
    big = [sympy.Integer(1000), sympy.Integer(1001), sympy.Integer(1002)]
    yield Check(
        name="seed002_overflow_example",
        claim="softmax([1000, 1001, 1002]) = softmax([-2, -1, 0]) (expfam.softmax)",
        args=[],
        derived=softmax(big),
        closed_form=softmax([t - 1002 for t in big]),
        numeric=lambda: expfam.softmax(np.array([1000.0, 1001.0, 1002.0])),
    )
