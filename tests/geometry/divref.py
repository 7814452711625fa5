"""mpmath references for the divergences of expfam.geometry (logits taken as exact).

A point is given by float64 logits (``-inf`` for a class of probability 0), its exact
probabilities ``softmax(z)`` evaluated in mpmath, or as ``Probs(p)``, the floats ``p``
divided by their exact sum. Every reference is evaluated at
``DPS`` decimal digits and again at twice that, doubling until two evaluations agree to
30 digits (``1 - sum p^l q^(1-l)`` cancels about ``-log10 D`` digits), and returns an
mpmath number.
"""

from __future__ import annotations

import mpmath

DPS = 50
mpf = mpmath.mpf


class Probs(tuple):
    """A point given by its probabilities (floats taken as exact, divided by their exact sum)."""


def probs(z) -> list:
    """softmax of the float logits ``z``, exactly (to DPS digits); or ``Probs`` normalized."""
    if isinstance(z, Probs):
        exact = [mpf(float(v)) for v in z]
        total = sum(exact)
        return [v / total for v in exact]
    finite = [float(v) for v in z if v != float("-inf")]
    m = max(finite)
    e = [mpmath.exp(mpf(float(v)) - m) if v != float("-inf") else mpf(0) for v in z]
    s = sum(e)
    return [v / s for v in e]


def agreeing(fn):
    """``fn`` evaluated at rising precision until two precisions agree."""

    def wrapped(*args):
        prev, dps = None, DPS
        while True:
            with mpmath.workdps(dps):
                cur = fn(*args)
            if prev is not None and _close(prev, cur):
                return cur
            if dps > 3200:
                raise RuntimeError("reference did not converge")
            prev, dps = cur, 2 * dps

    return wrapped


def _close(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_close(x, y) for x, y in zip(a, b, strict=True))
    if a is None or mpmath.isinf(a) or mpmath.isinf(b) or a == 0 or b == 0:
        return a == b
    return abs(a - b) <= abs(b) * mpf(10) ** -30


def _pairs(zp, zq):
    return list(zip(probs(zp), probs(zq), strict=True))


def _power(p, lam):
    """p**lam with 0**lam = 0 for lam > 0, 1 for lam = 0 and +inf for lam < 0."""
    if p == 0:
        return mpf(0) if lam > 0 else (mpf(1) if lam == 0 else mpf("inf"))
    return p**lam


@agreeing
def kl(zp, zq):
    total = mpf(0)
    for p, q in _pairs(zp, zq):
        if p > 0:
            total += mpf("inf") if q == 0 else p * mpmath.log(p / q)
    return total


@agreeing
def jeffreys(zp, zq):
    return kl(zp, zq) + kl(zq, zp)


@agreeing
def jensen_shannon(zp, zq):
    total = mpf(0)
    for p, q in _pairs(zp, zq):
        m = (p + q) / 2
        for v in (p, q):
            if v > 0:
                total += v * mpmath.log(v / m)
    return total / 2


@agreeing
def bhattacharyya_coefficient(zp, zq):
    return sum(mpmath.sqrt(p * q) for p, q in _pairs(zp, zq))


@agreeing
def hellinger(zp, zq):
    squares = [(mpmath.sqrt(p) - mpmath.sqrt(q)) ** 2 for p, q in _pairs(zp, zq)]
    return mpmath.sqrt(sum(squares) / 2)


@agreeing
def bhattacharyya_distance(zp, zq):
    bc = bhattacharyya_coefficient(zp, zq)
    return mpf("inf") if bc == 0 else -mpmath.log(bc)


def power_sum(zp, zq, lam):
    """sum_k p_k**lam q_k**(1 - lam) over classes where one of them is positive."""
    lam = mpf(lam)
    total = mpf(0)
    for p, q in _pairs(zp, zq):
        if p > 0 or q > 0:
            total += _power(p, lam) * _power(q, 1 - lam)
    return total


@agreeing
def alpha_divergence(zp, zq, alpha):
    a = mpf(alpha)
    if a == -1:
        return kl(zp, zq)
    if a == 1:
        return kl(zq, zp)
    lam = (1 - a) / 2
    return (1 - power_sum(zp, zq, lam)) / (lam * (1 - lam))


@agreeing
def renyi_divergence(zp, zq, order):
    lam = mpf(order)
    if lam == 1:
        return kl(zp, zq)
    s = power_sum(zp, zq, lam)
    if s == 0:
        return mpf("inf")
    return mpmath.log(s) / (lam - 1)


@agreeing
def tsallis_divergence(zp, zq, order):
    lam = mpf(order)
    if lam == 1:
        return kl(zp, zq)
    return (1 - power_sum(zp, zq, lam)) / (1 - lam)


@agreeing
def chernoff_information(zp, zq):
    """(C, l*): the maximum of -log sum p^l q^(1-l) over [0, 1], by bisection on its slope."""
    pairs = [(p, q) for p, q in _pairs(zp, zq) if p > 0 and q > 0]
    if not pairs:
        return mpf("inf"), None
    y = [mpmath.log(q / p) for p, q in pairs]

    def slope(lam):
        w = [p**lam * q ** (1 - lam) for p, q in pairs]
        return sum(wk * yk for wk, yk in zip(w, y, strict=True)) / sum(w)

    def value(lam):
        return (
            -mpmath.log(power_sum(zp, zq, lam))
            if 0 < lam < 1
            else -mpmath.log(sum(p if lam == 1 else q for p, q in pairs))
        )

    if slope(mpf(0)) <= 0:
        return value(mpf(0)), mpf(0)
    if slope(mpf(1)) >= 0:
        return value(mpf(1)), mpf(1)
    lo, hi = mpf(0), mpf(1)
    for _ in range(120):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
    lam = (lo + hi) / 2
    return value(lam), lam
