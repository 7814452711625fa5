"""KL between categoricals is the Bregman divergence of logsumexp.

For a convex potential A, the Bregman divergence is
B_A(z_q, z_p) = A(z_q) - A(z_p) - (z_q - z_p) . grad A(z_p): the gap between A
at z_q and its tangent plane at z_p. With A = logsumexp and grad A = p,
log p_k = z_k - A(z_p) and log q_k = z_q,k - A(z_q), so
KL(p || q) = sum_k p_k (log p_k - log q_k)
           = sum_k p_k (z_p,k - z_q,k) - A(z_p) + A(z_q)     (sum_k p_k = 1)
           = B_A(z_q, z_p).
Note the order: KL(p || q) measures q's logits against p's tangent plane.
It is >= 0 because A is convex, and 0 only when p = q (z_q - z_p a multiple
of 1, the null direction of the Hessian).

sympy derives sum p log(p / q) from the softmax and proves it equal to the
Bregman form for K = 2, ..., 5. The numeric side is
``expfam.kl_divergence(z_p, z_q)``, compared at random and extreme logits,
including pairs where some q_k underflows in float64 while p_k does not.
"""

import sympy

import expfam
from expfam.symbolic import Arg, Check, Logits, logsumexp, softmax


def checks():
    for k in range(2, 6):
        zp = sympy.symbols(f"a1:{k + 1}", real=True)
        zq = sympy.symbols(f"b1:{k + 1}", real=True)
        p, q = softmax(zp), softmax(zq)
        kl = sum(p[i] * sympy.log(p[i] / q[i]) for i in range(k))
        bregman = logsumexp(zq) - logsumexp(zp) - sum((zq[i] - zp[i]) * p[i] for i in range(k))
        yield Check(
            name=f"kl_k{k}",
            claim="sum p log(p/q) = A(z_q) - A(z_p) - (z_q - z_p) . p (expfam.kl_divergence)",
            args=[Arg(zp, Logits()), Arg(zq, Logits())],
            derived=kl,
            closed_form=bregman,
            numeric=expfam.kl_divergence,
            rtol=1e-11,
            atol=1e-14,
        )
