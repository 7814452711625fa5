"""High-precision references for the softmax-family kernels, and an exact ULP error.

Every reference takes the given floats as exact binary numbers (``float32`` inputs are
converted exactly too), evaluates the mathematical function in mpmath at ``DPS`` digits or
more, and returns mpmath numbers. Functions that can cancel (log-softmax differences, KL,
signed sums, logit near 1/2) are evaluated at two precisions and escalated until both agree,
so a reference is never the victim of the cancellation it is meant to judge.

Long vectors are handled by grouping identical entries: a row of a million logits that takes
a handful of distinct values costs a handful of mpmath operations.

``ulp_error(computed, exact, dtype)`` is the distance between a float and a real number in
units in the last place of the *exact* value in that dtype: ``ulp(x) = 2**(max(e, emin) - p
+ 1)`` with ``2**e <= |x| < 2**(e + 1)``, so subnormal results are measured in the spacing of
the subnormals. A correctly rounded result has error <= 0.5. Infinities and NaN are exact
(error 0) when they match the reference and infinite otherwise; an exact value beyond the
overflow threshold of the dtype is matched by an infinity of the right sign.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mpmath
import numpy as np

DPS = 60
"""Working precision of every reference, in decimal digits."""

mpf = mpmath.mpf


def _exact(x) -> mpmath.mpf:
    """The float ``x`` as an exact mpmath number (float16/32/64, ints, bools)."""
    return mpf(float(x))


def _agreeing(compute: Callable[[], list], dps: int = DPS) -> list:
    """Evaluate ``compute()`` at rising precision until two precisions agree to 30 digits."""
    prev = None
    while True:
        with mpmath.workdps(dps):
            cur = compute()
        if prev is not None and all(_close(a, b) for a, b in zip(prev, cur, strict=True)):
            return cur
        if dps > 2000:
            raise RuntimeError("mpmath reference did not converge")
        prev, dps = cur, dps * 2


def _close(a, b) -> bool:
    if mpmath.isnan(a) or mpmath.isnan(b):
        return bool(mpmath.isnan(a) and mpmath.isnan(b))
    if mpmath.isinf(a) or mpmath.isinf(b) or a == 0 or b == 0:
        return bool(a == b)
    return bool(abs(a - b) <= abs(b) * mpf(10) ** -30)


def _grouped(x: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
    """Distinct values (exact), their counts, and the inverse index of a 1-d row."""
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return [_exact(v) for v in values], counts, inverse


# ---------------------------------------------------------------- softmax family (one row)


def _log_partition_parts(z: list, counts) -> tuple:
    """(m, l) with logsumexp(z) = m + l, m = max z, l = log1p(sum of the other terms).

    ``z`` holds values with multiplicities ``counts``; one copy of the maximum is left out of
    the sum (the others, ties, stay in).
    """
    m = max(z)
    rest, seen = mpf(0), False
    for v, c in zip(z, counts, strict=True):
        n = int(c)
        if v == m and not seen:
            n, seen = n - 1, True
        if n:
            rest += n * mpmath.exp(v - m)
    return m, mpmath.log1p(rest)


def logsumexp_ref(a: Sequence[float], b: Sequence[float] | None = None) -> tuple:
    """``(log|S|, sign S)`` with ``S = sum_i b_i exp(a_i)`` for a 1-d row (finite or -inf a)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    if b is None:
        values, counts, _ = _grouped(a)
        if all(mpmath.isinf(v) for v in values):
            return mpf("-inf"), 1

        def compute():
            vals = [v for v in values if not mpmath.isinf(v)]
            cnts = [c for v, c in zip(values, counts, strict=True) if not mpmath.isinf(v)]
            m, l = _log_partition_parts(vals, cnts)
            return [m + l]

        return _agreeing(compute)[0], 1
    b = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape).ravel()
    keep = (b != 0) & (a != -np.inf)
    a, b = a[keep], b[keep]
    if a.size == 0:
        return mpf("-inf"), 0
    # S = t_k (1 + r) with t_k = b_k e^{a_k} the largest term in magnitude and
    # r = sum_{j != k} (b_j / b_k) e^{a_j - a_k}: a tiny r keeps its digits in log1p(r), and
    # a cancelling 1 + r is caught by the agreement of two precisions.
    k = int(np.argmax(a + np.log(np.abs(b))))

    def compute_signed():
        ak, bk = _exact(a[k]), _exact(b[k])
        r = sum(
            (_exact(bj) / bk) * mpmath.exp(_exact(aj) - ak)
            for j, (aj, bj) in enumerate(zip(a, b, strict=True))
            if j != k
        )
        one_plus_r = 1 + r
        if one_plus_r == 0:
            return [mpf("-inf"), mpf(0)]
        log_abs = ak + mpmath.log(abs(bk)) + mpmath.log1p(r if one_plus_r > 0 else -2 - r)
        return [log_abs, mpmath.sign(bk) * mpmath.sign(one_plus_r)]

    log_abs, sign = _agreeing(compute_signed)
    return log_abs, int(sign)


def log_partition_split_ref(a: Sequence[float], b: Sequence[float] | None = None) -> tuple:
    """The pieces of ``L = m + log1p(s)`` for finite ``a`` and non-negative ``b``.

    ``m = max a`` over the terms with ``b_i != 0`` (at index ``k``), ``s = S' - 1`` with
    ``S' = sum_i b_i e^{a_i - m}``, ``s = (b_k - 1) + sum_{i != k} b_i e^{a_i - m}``. Returns
    ``(m, l, c, s, S')`` with ``l = log S' = log1p(s)`` and ``c = |b_k - 1| + sum_{i != k} b_i
    e^{a_i - m}``, so that ``c / |s|`` is the condition number of ``s`` in its terms.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.ones_like(a) if b is None else np.asarray(b, dtype=np.float64)
    b = np.broadcast_to(b, a.shape).ravel()
    a, b = a[b != 0], b[b != 0]
    k = int(np.argmax(a))

    def compute():
        m = _exact(a[k])
        rest = sum(_exact(b[i]) * mpmath.exp(_exact(a[i]) - m) for i in range(a.size) if i != k)
        s, total = (_exact(b[k]) - 1) + rest, _exact(b[k]) + rest
        l = mpmath.log1p(s) if 0.5 < total < 2 else mpmath.log(total)
        return [m, l, abs(_exact(b[k]) - 1) + rest, s, total]

    return tuple(_agreeing(compute))


def condition_number(a: Sequence[float], b: Sequence[float]) -> mpmath.mpf:
    """``sum |b_i e^{a_i}| / |sum b_i e^{a_i}|``: the condition number of the signed sum."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape).ravel()

    def compute():
        terms = [_exact(bi) * mpmath.exp(_exact(ai)) for ai, bi in zip(a, b, strict=True)]
        return [sum(abs(t) for t in terms) / abs(sum(terms))]

    return _agreeing(compute)[0]


def _scaled(x: Sequence[float], beta: float) -> tuple[list, np.ndarray, np.ndarray]:
    """Distinct values of ``beta * x`` formed exactly, counts, inverse index."""
    values, counts, inverse = _grouped(np.asarray(x, dtype=np.float64).ravel())
    with mpmath.workdps(4 * DPS):  # a product of two doubles is exact in 106 bits
        z = [v * _exact(beta) for v in values]
    return z, counts, inverse


def log_softmax_ref(x: Sequence[float], beta: float = 1.0) -> np.ndarray:
    """``beta x_i - logsumexp(beta x)`` for a finite 1-d row, as an object array of mpf."""
    z, counts, inverse = _scaled(x, beta)

    def compute():
        m, l = _log_partition_parts(z, counts)
        # (z_i - m) <= 0 and -l <= 0: a sum of two non-positive numbers, no cancellation.
        return [(v - m) - l for v in z]

    out = np.empty(len(z), dtype=object)
    out[:] = _agreeing(compute)
    return out[inverse]


def log_softmax_ref_rows(x) -> np.ndarray:
    """:func:`log_softmax_ref` of every row of a 2-d array."""
    return np.stack([log_softmax_ref(row) for row in np.asarray(x)])


def softmax_ref(x: Sequence[float], beta: float = 1.0) -> np.ndarray:
    """``exp(beta x_i) / sum_j exp(beta x_j)`` for a finite 1-d row, object array of mpf."""
    z, counts, inverse = _scaled(x, beta)
    with mpmath.workdps(DPS):
        m, l = _log_partition_parts(z, counts)
        vals = [mpmath.exp((v - m) - l) for v in z]
    out = np.empty(len(z), dtype=object)
    out[:] = vals
    return out[inverse]


def entropy_ref(x: Sequence[float]) -> mpmath.mpf:
    """``-sum_i p_i log p_i`` with ``p = softmax(x)`` (``-inf`` logits allowed)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    z, counts, _ = _grouped(x[np.isfinite(x)])
    with mpmath.workdps(DPS):
        m, l = _log_partition_parts(z, counts)
        ls = [(v - m) - l for v in z]
        return -sum(int(c) * mpmath.exp(v) * v for v, c in zip(ls, counts, strict=True))


def cross_entropy_ref(x: Sequence[float], target) -> mpmath.mpf:
    """``-log softmax(x)[target]`` for an integer target, ``-sum_i t_i log p_i`` for a vector."""
    ls = log_softmax_ref(x)
    if np.ndim(target) == 0:
        return -ls[int(target)]
    t = np.asarray(target, dtype=np.float64).ravel()
    with mpmath.workdps(DPS):
        return -sum(_exact(ti) * v for ti, v in zip(t, ls, strict=True) if ti != 0)


def kl_ref(x_p: Sequence[float], x_q: Sequence[float]) -> mpmath.mpf:
    """``sum_i p_i (log p_i - log q_i)`` for logit rows ``x_p``, ``x_q`` (finite or -inf).

    Classes with ``p_i = 0`` contribute 0; ``+inf`` where ``p_i > 0 = q_i``.
    """
    x_p = np.asarray(x_p, dtype=np.float64).ravel()
    x_q = np.asarray(x_q, dtype=np.float64).ravel()
    support = np.isfinite(x_p)
    if np.any(~np.isfinite(x_q[support])):
        return mpf("inf")
    q_finite = x_q[np.isfinite(x_q)]

    def compute():
        zp = [_exact(v) for v in x_p[support]]
        zq = [_exact(v) for v in x_q[support]]
        mp, lp = _log_partition_parts(zp, [1] * len(zp))
        mq, lq = _log_partition_parts([_exact(v) for v in q_finite], [1] * q_finite.size)
        lsp = [(v - mp) - lp for v in zp]
        lsq = [(v - mq) - lq for v in zq]
        return [sum(mpmath.exp(a) * (a - b) for a, b in zip(lsp, lsq, strict=True))]

    return _agreeing(compute)[0]


# ---------------------------------------------------------------- Dirichlet


def dirichlet_entropy_ref(alpha: Sequence[float]) -> mpmath.mpf:
    """``log B(alpha) + (alpha_0 - K) psi(alpha_0) - sum_k (alpha_k - 1) psi(alpha_k)``."""
    alpha = np.asarray(alpha, dtype=np.float64).ravel()

    def compute():
        a = [_exact(v) for v in alpha]
        a0 = mpmath.fsum(a)
        log_b = mpmath.fsum(mpmath.loggamma(v) for v in a) - mpmath.loggamma(a0)
        tail = mpmath.fsum((v - 1) * mpmath.digamma(v) for v in a)
        return [log_b + (a0 - len(a)) * mpmath.digamma(a0) - tail]

    return _agreeing(compute)[0]


def dirichlet_kl_ref(alpha: Sequence[float], beta: Sequence[float]) -> mpmath.mpf:
    """``KL(Dir(alpha) || Dir(beta))``: ``lgamma(a0) - lgamma(b0) - sum_k [lgamma(a_k) -
    lgamma(b_k)] + sum_k (a_k - b_k) (psi(a_k) - psi(a0))``."""
    alpha = np.asarray(alpha, dtype=np.float64).ravel()
    beta = np.asarray(beta, dtype=np.float64).ravel()

    def compute():
        a, b = [_exact(v) for v in alpha], [_exact(v) for v in beta]
        a0, b0 = mpmath.fsum(a), mpmath.fsum(b)
        psi0 = mpmath.digamma(a0)
        terms = [mpmath.loggamma(a0), -mpmath.loggamma(b0)]
        for ak, bk in zip(a, b, strict=True):
            terms += [
                mpmath.loggamma(bk) - mpmath.loggamma(ak),
                (ak - bk) * (mpmath.digamma(ak) - psi0),
            ]
        return [mpmath.fsum(terms)]

    return _agreeing(compute)[0]


# ---------------------------------------------------------------- elementwise


def _elementwise(fn: Callable, x) -> np.ndarray:
    x = np.asarray(x)
    out = np.empty(x.shape, dtype=object)
    for i, v in np.ndenumerate(x):
        out[i] = _agreeing(lambda v=v: [fn(_exact(v))])[0]
    return out


def sigmoid_ref(x) -> np.ndarray:
    """``1 / (1 + exp(-x))``."""
    return _elementwise(lambda v: 1 / (1 + mpmath.exp(-v)), x)


def log_sigmoid_ref(x) -> np.ndarray:
    """``-log(1 + exp(-x))``."""
    return _elementwise(lambda v: -mpmath.log1p(mpmath.exp(-v)), x)


def softplus_ref(x) -> np.ndarray:
    """``log(1 + exp(x))``."""
    return _elementwise(lambda v: mpmath.log1p(mpmath.exp(v)), x)


def logit_ref(p) -> np.ndarray:
    """``log(p / (1 - p))``: -inf at 0, +inf at 1, NaN outside [0, 1]."""

    def f(v):
        if v == 0 or v == 1:
            return mpf("-inf") if v == 0 else mpf("inf")
        return mpmath.log(v / (1 - v)) if 0 < v < 1 else mpf("nan")

    return _elementwise(f, p)


def log1mexp_ref(x) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x < 0``."""

    def f(v):
        if v > -1:
            return mpmath.log(-mpmath.expm1(v))
        return mpmath.log1p(-mpmath.exp(v))

    return _elementwise(f, x)


# ---------------------------------------------------------------- ULP error


def ulp_of(exact, dtype) -> mpmath.mpf:
    """The spacing of ``dtype`` floats in the binade of the finite real ``exact``."""
    fi = np.finfo(dtype)
    p, emin = fi.nmant + 1, fi.minexp
    with mpmath.workdps(DPS):
        e = mpf(exact)
        exponent = emin if e == 0 else max(mpmath.frexp(e)[1] - 1, emin)
        return mpf(2) ** (exponent - p + 1)


def ulp_error(computed, exact, dtype) -> float:
    """Error of the float ``computed`` against the real ``exact``, in ULPs of ``exact``."""
    fi = np.finfo(dtype)
    p, emax = fi.nmant + 1, fi.maxexp - 1
    c = float(computed)
    with mpmath.workdps(DPS):
        e = mpf(exact)
        if mpmath.isnan(e) or np.isnan(c):
            return 0.0 if (mpmath.isnan(e) and np.isnan(c)) else float("inf")
        overflow = mpf(2) ** emax * (2 - mpf(2) ** -p)
        if mpmath.isinf(e) or abs(e) >= overflow:
            return 0.0 if (np.isinf(c) and (c > 0) == (e > 0)) else float("inf")
        if np.isinf(c):
            return float("inf")
        return float(abs(mpf(c) - e) / ulp_of(e, dtype))


def ulp_errors(computed, exact) -> np.ndarray:
    """Elementwise :func:`ulp_error` of an array against an object array of references.

    Pairs (computed value, reference object) that repeat, as in grouped rows, are measured
    once.
    """
    computed = np.asarray(computed)
    exact = np.broadcast_to(np.asarray(exact, dtype=object), computed.shape)
    if computed.size == 0:
        return np.zeros(computed.shape)
    bits = computed.astype(np.float64).ravel().view(np.int64)
    ids = np.frompyfunc(id, 1, 1)(exact.ravel()).astype(np.int64)
    _, first, inverse = np.unique(
        np.stack([bits, ids], axis=1), axis=0, return_index=True, return_inverse=True
    )
    flat_c, flat_e = computed.ravel(), exact.ravel()
    errs = np.array([ulp_error(flat_c[i], flat_e[i], computed.dtype) for i in first])
    return errs[inverse.ravel()].reshape(computed.shape)


# entmax: rows where classes sit near the threshold (tests/special/test_sparse.py, and a
# subset on every backend in tests/backends/test_special_backends.py).
# Rows where classes sit near the threshold, found by outside testing and by a random
# sweep (alpha in (1, 50], K up to 20, rows built from target probabilities with one or
# many classes within 1e-6 .. 1e-50 of the threshold), with the error before the
# double-double threshold in eps (absolute, relative):
ENTMAX_HARD_ROWS = [
    # the small class took the rounding of the large one: 62 and 50 eps relative
    (4.0, [0.5271029, 1.27140577, 0.33112981, 0.09033002, 0.93998001]),
    (4.0, [0.527, 1.271, 0.331, 0.090, 0.940]),
    (10.0, [-0.40121917245848737, -0.29267484917989744]),  # 345 eps relative
    (50.0, [0.0, -0.02, -0.0201, -0.5]),  # 0.2 eps absolute
    # two classes within 1e-8 of the threshold: 2.7e4 eps absolute (1.8e7 relative)
    (4.0, [0.0, -0.32984556637500007, -0.32984556791666675]),
    (3.715667675640894, [0.0, -0.36822262521694715, -0.3682226252169507]),  # 8e7 eps absolute
    # clusters of classes 1e-9 apart at the threshold: 1.6e11 eps absolute, 2.4e8, 5.3e10
    (
        12.078483887710814,
        [
            -2.1797165387294885e-09,
            -2.104153997753207e-09,
            0.0,
            -2.4105756184482705e-09,
            -2.41056399384116e-09,
            -2.4103967117946088e-09,
            -2.4067484471200844e-09,
            -2.4104202561600795e-09,
            -2.410576162949973e-09,
            -0.11048128271749216,
            -0.17096454863563063,
        ],
    ),
    (18.390087385565444, [0.9999996237363746, 0.9999996237354033, 1.0, 0.9999996237354033]),
    (
        12.464150398479365,
        [
            -0.001118808957055069,
            -0.001118808961513601,
            0.0,
            -0.0011188089611827432,
            -0.0011188089615167352,
        ],
    ),
    # two classes 1e-26 and 1e-49 above the threshold, 1e-28 apart: 0.1 absolute
    (50.0, [0.0, -2.7492560457985076e-13, -2.749256045798512e-13]),
    (50.0, [0.0, -0.017186671209679736, -0.017186671209679736]),  # a tie at the threshold
    (50.0, [-0.020405202676522485, 0.0]),  # 0.5 eps absolute on p = 3e-6
    # the worst of 700 rows of the sweep after the change: 413 eps relative on p = 0.0018
    # (its share of the mass outside the top class), 1.07 eps absolute, and an entry
    # 1e-8 at alpha = 1.02 off by 27 eps relative (the exp of its logarithm)
    (
        12.905310575978602,
        [
            -5.228196631291931e-08,
            -5.3876795827788846e-08,
            -5.387677842636393e-08,
            0.0,
            -5.387652873940598e-08,
            -5.3876798618743005e-08,
            -5.3394068680703916e-08,
            -0.1714755070636578,
        ],
    ),
    (
        11.244602200038424,
        [
            -1.4386675393041924e-06,
            -1.4386718607514968e-06,
            0.0,
            -1.4386726927271044e-06,
            -1.4348443267594411e-06,
            -1.43851570088832e-06,
            -1.4386728085606517e-06,
            -1.4386720850357348e-06,
        ],
    ),
    (
        1.021880332796079,
        [
            2.5549922825401863,
            -17.722288885231972,
            -3.1255679900647597,
            5.93013104847937,
            -6.167822577566932,
            0.055620633214661895,
            6.2149679602138095,
            0.9812398632467413,
            18.15723933957411,
            -2.297195782584753,
            -1.5062332329935044,
            -1.3217906594333404,
            -19.484788261880894,
            -15.057890875226683,
            5.606258593966804,
            -3.0178528979364065,
            14.161562435228486,
            -0.5088788778770945,
            -1.4292546560026553,
            10.55790401389666,
        ],
    ),
]
