"""Short rows: the row engine takes rows of up to 64 classes in packed groups (issue 17).

A group shifts its rows one after the other into one block, computes the terms of the whole
block in one vector loop and sums each row into lanes of its own. These tests hold that this
gives, bit for bit, what the block functions give a row alone (the path of long rows, one
segment: ``_engine.set_segments``), whatever the rows around it and the pass each row needs
(the double-double pass first for K <= 10 or after such rows, the fast pass, the sums scaled
by 2^600 below t = 2^-900, the limits), and the accuracy bounds at every K from 1 to 40.
"""

from __future__ import annotations

import contextlib

import mpmath
import mpref
import numpy as np
import pytest

import expfam.special as es
from expfam.special import _engine, _rows

F64, F32 = np.float64, np.float32
_KS = [*range(1, 41), 63, 64, 65]


@contextlib.contextmanager
def rows_alone():
    """Every row through the path of long rows, as one segment: the block functions on one
    row at a time (process_row), no group."""
    saved = _engine.set_segments(0, 1 << 20)
    try:
        yield
    finally:
        _engine.set_segments(*saved)


def _mixed_rows(K: int, dtype, seed: int = 0) -> np.ndarray:
    """Rows that take every path, interleaved: flat and spread rows (the fast pass), a
    dominant class (the double-double pass), ties at the maximum, t below 2^-900 (the sums
    scaled by 2^600), terms below the normal range, -inf classes, and the limits (NaN, +inf,
    all -inf, ties of +0.0 and -0.0)."""
    rng = np.random.default_rng(seed + K)
    x = rng.standard_normal((150, K)) * rng.choice([0.05, 1.0, 4.0, 30.0], (150, 1))
    x[::4, 0] += 45.0
    x[1::9, -1] = -np.inf
    if K > 1:
        x[2::10, 1] = x[2::10].max(axis=1)  # a tie at the maximum
        x[5] = [0.0] + [-800.0] * (K - 1)  # t < 2^-900
        x[6] = [0.0] + [-740.0] * (K - 1)  # subnormal terms
        x[7] = [3.0] + [3.0 - 2.0**-40] * (K - 1)  # nearly flat
    x[8, K // 2] = np.nan
    x[9, 0] = np.inf
    x[10] = -np.inf
    x[11] = np.where(np.arange(K) % 2, 0.0, -0.0)  # ties of signed zeros, -0.0 first
    x[13] = np.where(np.arange(K) % 3, -0.0, 0.0)  # +0.0 first
    return x.astype(dtype)


def _all_kinds(x: np.ndarray, beta) -> dict[str, np.ndarray]:
    rows, K = x.shape
    target = np.arange(rows) % K
    out = {}
    for kind in ("softmax", "log_softmax", "logsumexp", "entropy", "cross_entropy"):
        if kind == "entropy" and np.ndim(beta) > 0:
            continue
        out[kind] = _rows.run(kind, x, beta, x.dtype, target if kind == "cross_entropy" else None)
    if x.dtype == F64:
        out["log_softmax_dd"] = _rows.run("log_softmax_dd", x, beta, np.dtype(F64))
    out["logsumexp into float64"] = _rows.run("logsumexp", x, beta, np.dtype(F64))
    return out


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("K", _KS)
def test_packed_rows_give_the_bits_of_each_row_alone(K, dtype):
    x = _mixed_rows(K, dtype)
    betas = np.random.default_rng(K).uniform(0.3, 2.5, len(x))
    for beta in (1.0, 0.7, betas):
        grouped = _all_kinds(x, beta)
        with rows_alone():
            alone = _all_kinds(x, beta)
        for kind, got in grouped.items():
            assert got.tobytes() == alone[kind].tobytes(), f"{kind}, K={K}, beta={beta}"


def test_a_row_does_not_depend_on_its_group():
    """The same row, in a group of flat rows, of dominant rows, or alone, gives the same bits
    (the order of the passes tried differs: double-double first after dominant rows)."""
    rng = np.random.default_rng(4)
    row = rng.standard_normal(12) * 3.0
    flat = rng.standard_normal((40, 12)) * 0.1
    dominant = rng.standard_normal((40, 12)) + np.eye(12)[rng.integers(0, 12, 40)] * 60.0
    for kernel in (es.logsumexp, es.log_softmax, es.softmax, es.entropy):
        alone = kernel(row[None])
        for company in (flat, dominant):
            for at in (0, 17, 40):
                x = np.insert(company, at, row, axis=0)
                assert kernel(x)[at].tobytes() == alone[0].tobytes()


def _assert_ulp(computed, exact, bound, what):
    err = mpref.ulp_errors(np.asarray(computed), np.asarray(exact, dtype=object))
    worst = np.unravel_index(np.argmax(err), err.shape)
    assert err[worst] <= bound, (
        f"{what}: {err[worst]:.4g} ULP > {bound} at {worst}: got {computed[worst]!r}, "
        f"exact {mpmath.nstr(np.asarray(exact, dtype=object)[worst], 25)}"
    )


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
@pytest.mark.parametrize("K", range(1, 41))
def test_short_rows_of_every_length_within_their_bounds(K, dtype):
    """1 ULP (softmax 3) against mpmath for rows of every K up to 40, in one call: the
    double-double pass (K <= 10, dominant classes), the fast pass, and float32 outputs (the
    fast pass and libm's log1p), with the log-partition kept away from 0 (no cancellation)."""
    rng = np.random.default_rng(100 + K)
    x = rng.standard_normal((12, K)) * np.array([0.01, 0.5, 2.0, 6.0, 20.0, 40.0] * 2)[:, None]
    x[::3, 0] += 38.0
    x += 5.0
    x = x.astype(dtype)
    target = np.arange(len(x)) % K
    rows64 = x.astype(F64)
    log_p = np.stack([mpref.log_softmax_ref(r) for r in rows64])
    p = np.stack([mpref.softmax_ref(r) for r in rows64])
    lse = [mpref.logsumexp_ref(r)[0] for r in rows64]
    entropy = [mpref.entropy_ref(r) for r in rows64]
    ce = [-log_p[i, target[i]] for i in range(len(x))]
    _assert_ulp(es.log_softmax(x), log_p, 1, f"log_softmax K={K}")
    _assert_ulp(es.softmax(x), p, 3, f"softmax K={K}")
    _assert_ulp(es.logsumexp(x), lse, 1, f"logsumexp K={K}")
    _assert_ulp(es.entropy(x), entropy, 1, f"entropy K={K}")
    _assert_ulp(es.cross_entropy(x, target), ce, 1, f"cross_entropy K={K}")


@pytest.mark.parametrize("dtype", [np.float16, F32, F64], ids=["float16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4), (7, 1)])
def test_plain_batches_take_the_path_of_any_batch(shape, dtype):
    """A C-contiguous float batch along its last axis goes to the engine without reading its
    arguments; the same values through the general path (a mask of all True) agree bit for
    bit, in the input's dtype (float16 rounded once)."""
    rng = np.random.default_rng(9)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    target = rng.integers(0, shape[-1], shape[:-1])
    every = np.ones(shape, dtype=bool)
    kernels = {
        "softmax": lambda w: es.softmax(x, where=w),
        "log_softmax": lambda w: es.log_softmax(x, where=w),
        "logsumexp": lambda w: es.logsumexp(x, where=w),
        "entropy": lambda w: es.entropy(x, where=w),
        "cross_entropy": lambda w: es.cross_entropy(x, target, where=w),
        "tempered": lambda w: es.log_softmax(x, beta=0.3, where=w),
    }
    for name, kernel in kernels.items():
        fast, general = kernel(None), kernel(every)
        assert fast.dtype == general.dtype == dtype, name
        assert fast.shape == general.shape, name
        assert fast.tobytes() == general.tobytes(), name


def test_plain_batch_with_a_class_index_out_of_range_is_an_error():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"target: class index 3 is out of range \[0, 3\)"):
        es.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"target: class index -1 is out of range \[0, 3\)"):
        es.cross_entropy(x, np.array([0, -1, 2, 1]))


@pytest.mark.parametrize("K", [3, 10, 64])
def test_packed_rows_do_not_depend_on_threads(K):
    """Rows shared among 1, 2 and 3 threads (groups cut at other rows) give the same bits."""
    x = np.concatenate([_mixed_rows(K, F64, seed) for seed in range(0, 1000, 10)])
    x = np.repeat(x, -(-70_000 // x.size), axis=0)  # past the size that uses the threads
    target = np.arange(len(x)) % K
    kernels = [
        es.softmax,
        es.log_softmax,
        es.logsumexp,
        es.entropy,
        lambda z: es.cross_entropy(z, target),
        lambda z: es.log_softmax(z.astype(F32)),
    ]
    for kernel in kernels:
        results = []
        for n in (1, 2, 3):
            with es.set_num_threads(n):
                results.append(kernel(x))
        for other in results[1:]:
            assert other.tobytes() == results[0].tobytes()


def _nearest_cancellations(ks: range, count: int) -> list[int]:
    """The K whose float32 -log K lies closest to -log K (mpmath): logsumexp of K copies of
    it is m + log K, a few float32 ULPs of 1 or less, so the rounding of log1p(t) in
    float64 shows at float32 precision unless the row takes the double-double sums."""
    gap = {k: abs(mpmath.mpf(float(np.float32(-np.log(k)))) + mpmath.log(k)) for k in ks}
    return sorted(gap, key=gap.get)[:count]


@pytest.mark.parametrize("span", [range(2, 65), range(65, 3000)], ids=["packed", "long"])
def test_float32_logsumexp_near_cancellation_within_1_ulp(span):
    """Float32 outputs skip double-double only where kappa says the output does not cancel:
    rows of K equal logits -log K (a result near 0, kappa up to 1e9) hold 1 ULP on the
    packed short rows and on longer ones (coarse path, then the float64 pass)."""
    for k in _nearest_cancellations(span, 6):
        m = np.float32(-np.log(k))
        x = np.full((3, k), m, dtype=F32)
        x[1, 0] = np.nextafter(m, np.float32(0))  # a neighbour: not all rows alike
        exact = [mpref.logsumexp_ref(r)[0] for r in x.astype(F64)]
        _assert_ulp(es.logsumexp(x), exact, 1, f"float32 logsumexp K={k}")
        _assert_ulp(es.logsumexp(x[0]), exact[0], 1, f"float32 logsumexp of one row K={k}")


def _kl_rows(K: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows that take every path of KL, interleaved: spread and flat rows, a dominant
    class, KL past 700 (the sum of p (log p - log q)), classes p leaves out (-log q(S) added
    in Python), classes q leaves out that p charges (inf), NaN, +inf, equal rows (KL = 0)."""
    rng = np.random.default_rng(seed + 100 * K)
    scale = rng.choice([0.05, 1.0, 4.0, 30.0], (160, 1))
    p = rng.standard_normal((160, K)) * scale
    q = rng.standard_normal((160, K)) * scale
    p[::4, 0] += 45.0
    q[1::7, 0] -= 800.0
    if K > 1:
        p[2::9, -1] = -np.inf
        q[3::11, -1] = -np.inf
    p[5] = q[5]
    p[6, K // 2] = np.nan
    q[8, 0] = np.inf
    return p, q


@pytest.mark.parametrize("K", [*range(1, 14), 16, 40])
def test_kl_rows_in_groups_give_the_bits_of_each_row_alone(K):
    """float64 KL packs rows of up to 12 classes (kl_group): the bits of kl_row, row by row."""
    p, q = _kl_rows(K)
    with np.errstate(invalid="ignore"):
        grouped = es.kl_divergence(p, q)
        with rows_alone():
            alone = es.kl_divergence(p, q)
    assert grouped.tobytes() == alone.tobytes()
    finite = np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1)
    exact = np.array([mpref.kl_ref(a, b) for a, b in zip(p[finite], q[finite], strict=True)])
    _assert_ulp(grouped[finite], exact, 2, f"KL, K={K}")
