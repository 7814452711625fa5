"""Jeffreys divergence: KL(p || q) + KL(q || p) = <z_p - z_q, p - q>.

log p_k = z_p,k - A(z_p) with A = logsumexp, so
KL(p || q) = sum_k p_k (z_p,k - z_q,k) - A(z_p) + A(z_q), and adding KL(q || p) the
log-partitions cancel: J = sum_k (p_k - q_k)(z_p,k - z_q,k), the pairing of the
difference of the natural coordinates with the difference of the mean coordinates
(any shift of the logits drops out since sum (p - q) = 0). Every term
(p_k - q_k)(log p_k - log q_k) is >= 0: J = 0 iff p = q.

sympy proves it for K = 2, 3 on logits; the numeric side is ``expfam.geometry.jeffreys``.
"""

import sympy

from expfam import Categorical
from expfam.geometry import jeffreys
from expfam.symbolic import Arg, Check, Logits, softmax


def checks():
    for k in (2, 3):
        zp = sympy.symbols(f"a1:{k + 1}", real=True)
        zq = sympy.symbols(f"b1:{k + 1}", real=True)
        p, q = softmax(zp), softmax(zq)
        kl_pq = sum(p[i] * sympy.log(p[i] / q[i]) for i in range(k))
        kl_qp = sum(q[i] * sympy.log(q[i] / p[i]) for i in range(k))
        yield Check(
            name=f"jeffreys_k{k}",
            claim="KL(p || q) + KL(q || p) = <z_p - z_q, p - q> (jeffreys)",
            args=[Arg(zp, Logits()), Arg(zq, Logits())],
            derived=kl_pq + kl_qp,
            closed_form=sum((zp[i] - zq[i]) * (p[i] - q[i]) for i in range(k)),
            numeric=lambda zp, zq: jeffreys(Categorical(logits=zp), Categorical(logits=zq)),
            rtol=1e-12,
            atol=1e-300,
            points=30,
        )
