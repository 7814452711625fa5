"""expfam.special on array-API arrays: the portable tier against the numpy engine and mpmath.

Every public kernel of :mod:`expfam.special` runs on array-api-strict, torch
(CPU) and JAX (CPU) arrays, returns an array of the same namespace, device and
dtype, and agrees with mpmath within the bounds of
:mod:`expfam.special._portable`: 4 ULP for the row kernels and 2 ULP for the
elementwise ones in float64, 4 float32 ULP in float32. Gradients by
torch.autograd and ``jax.grad`` match the closed forms (d logsumexp =
softmax, d cross_entropy = softmax - onehot, the entropy and KL gradients)
and finite differences, and are 0, not NaN, at ``-inf`` logits and masked
classes.
"""

from __future__ import annotations

import functools
import math
import subprocess
import sys

import mpmath
import mpref
import numpy as np
import pytest
from conftest import grad

import expfam.special as S

RNG = np.random.default_rng(19)

# Rows where a naive kernel loses digits (a subset of tests/special's catalogue).
ROWS = {
    "seed002": [0.1, -2.0, 3.4, 3.3],
    "huge_1000": [1000.0, 1001.0, 1002.0],
    "huge_mixed_sign": [-700.0, 700.0, 699.5, 0.0],
    "single_entry": [5.0],
    "ties_with_tail": [3.0, 3.0, -1.0, 3.0],
    "log_softmax_near_zero": [0.0, -40.0],
    "log_softmax_near_zero_3": [10.0, -30.0, -35.0],
    "spread_20_40": [0.0, -23.4, -31.7, -38.9, -27.2],
    "spread_37": [18.005400484492696, -18.77871713665778, -17.35558965707122, -18.8873637521092],
    "spread_35_many": [0.0, -35.0, -35.5, -34.25, -36.0, -1.0, -20.0, -33.0],
    "with_-inf": [1.5, -math.inf, 0.25, -3.0],
    "random_K31": list(RNG.standard_normal(31) * 5.0),
    "random_K64": list(RNG.standard_normal(64) * 30.0),
    "dominant_among_1e3": [30.0] + [0.0] * 999,
}
F64_ONLY = {
    "subnormal_probs": [0.0, -709.0, -720.0, -740.0, -744.0],
    "magnitude_1e300": [1e300, 0.0, -1e300],
}
F32_ONLY = {"f32_subnormal_probs": [0.0, -88.0, -95.0, -100.0, -103.0]}


def cases(dtype: str) -> dict[str, np.ndarray]:
    extra = F64_ONLY if dtype == "float64" else F32_ONLY
    return {k: np.asarray(v, dtype=dtype) for k, v in {**ROWS, **extra}.items()}


@functools.cache
def reference(kind: str, case: str, dtype: str):
    """The mpmath value of ``kind`` on the catalogue row ``case`` (computed once)."""
    row = cases(dtype)[case]
    if kind == "cross_entropy":
        return mpref.cross_entropy_ref(row, target_of(row))
    if kind == "logsumexp":
        return mpref.logsumexp_ref(row)[0]
    return getattr(mpref, f"{kind}_ref")(row)


def target_of(row: np.ndarray) -> int:
    """The least likely finite class: the largest loss of the row."""
    return int(np.argmin(np.where(np.isfinite(row), row, np.inf)))


def flushed(exact, dtype):
    """``exact`` with the values near underflow set to 0: below ``2**10`` smallest normals.

    XLA (JAX) flushes subnormal results to zero, and its ``exp`` loses digits
    within a few binades of the smallest normal.
    """
    tiny = mpmath.mpf(float(np.finfo(dtype).tiny)) * 2**10
    return np.array([0 if abs(e) < tiny else e for e in np.ravel(exact)], dtype=object)


def assert_ulp(computed, exact, bound, dtype, what="", backend=None):
    if backend is not None and backend.name == "jax":  # XLA flushes subnormals to zero
        computed = np.ravel(computed)
        exact = np.where(computed == 0, flushed(exact, dtype), np.ravel(exact))
    errors = mpref.ulp_errors(np.asarray(computed, dtype=np.float64), exact)
    # ulp_errors measures float64 ULPs; rescale to the ULPs of ``dtype``
    if dtype == "float32":
        errors = np.array(
            [
                mpref.ulp_error(c, e, np.float32)
                for c, e in zip(np.ravel(computed), np.ravel(exact), strict=True)
            ]
        )
    worst = float(np.max(errors)) if errors.size else 0.0
    assert worst <= bound, f"{what}: {worst:.2f} ULP > {bound}"


def same_kind(backend, out, like):
    """``out`` is an array of ``like``'s namespace, device and dtype."""
    import array_api_compat

    assert array_api_compat.array_namespace(out) is array_api_compat.array_namespace(like)
    assert array_api_compat.device(out) == array_api_compat.device(like)
    assert out.dtype == like.dtype


# ---------------------------------------------------------------- accuracy against mpmath


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_row_kernels_within_4_ulp_of_mpmath(backend, dtype):
    for name, row in cases(dtype).items():
        if backend.name == "jax" and ("subnormal" in name or row.size >= 1000):
            # XLA flushes subnormals (entropy and KL of such rows are 0), and on CPU it
            # sums sequentially: a row of 10^3 classes carries up to ~8 ULP there
            continue
        x = backend.asarray(row)
        outputs = {
            "logsumexp": S.logsumexp(x),
            "softmax": S.softmax(x),
            "log_softmax": S.log_softmax(x),
            "entropy": S.entropy(x),
            "cross_entropy": S.cross_entropy(x, backend.asarray(np.int64(target_of(row)))),
        }
        for kind, out in outputs.items():
            same_kind(backend, out, x)
            exact = reference(kind, name, dtype)
            assert_ulp(backend.numpy(out), exact, 4, dtype, f"{kind} {name}", backend=backend)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_kl_within_4_ulp_of_mpmath(backend, dtype):
    rng = np.random.default_rng(7)
    pairs = {
        "random": (rng.standard_normal(6), rng.standard_normal(6)),
        "near": (np.array([0.0, 0.3, -1.0]), np.array([0.0, 0.3 + 1e-6, -1.0])),
        "far": (np.array([0.0, -30.0, 5.0]), np.array([40.0, 0.0, -3.0])),
        "p_zero_class": (np.array([0.0, -np.inf, 1.0]), np.array([0.0, 2.0, 1.0])),
    }
    for name, (zp, zq) in pairs.items():
        zp, zq = zp.astype(dtype), zq.astype(dtype)
        out = S.kl_divergence(backend.asarray(zp), backend.asarray(zq))
        assert_ulp(
            backend.numpy(out), mpref.kl_ref(zp, zq), 4, dtype, f"kl {name}", backend=backend
        )
    near = S.kl_divergence(backend.asarray([0.0, 0.0]), backend.asarray([0.0, 1e-8]))
    assert backend.numpy(near) == pytest.approx(1.25e-17, rel=1e-12)  # (1e-8)^2 / 8


ELEMENTWISE = {
    "sigmoid": (mpref.sigmoid_ref, [-740.0, -40.0, -1.0, -1e-9, 0.0, 0.5, 3.0, 40.0]),
    "softplus": (mpref.softplus_ref, [-740.0, -40.0, -2.5, -1e-9, 0.0, 0.7, 2.0, 30.0, 800.0]),
    "log_sigmoid": (mpref.log_sigmoid_ref, [-800.0, -30.0, -0.5, 0.0, 1e-9, 1.9, 40.0]),
    "logit": (mpref.logit_ref, [0.0, 1e-300, 1e-9, 0.1, 0.2499, 0.25, 0.5, 0.75, 0.999999, 1.0]),
    "log1mexp": (mpref.log1mexp_ref, [-800.0, -40.0, -1.0, -0.6931, -0.5, -1e-9, -1e-20, 0.0]),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_elementwise_within_2_ulp_of_mpmath(backend, name, dtype):
    """2 ULP; on JAX 12 ULP, the error of XLA's own ``log1p`` (10.3 ULP at ``-exp(-1)``)."""
    ref, values = ELEMENTWISE[name]
    v = np.asarray(values, dtype=dtype)
    x = backend.asarray(v)
    out = getattr(S, name)(x)
    same_kind(backend, out, x)
    bound = 12 if backend.name == "jax" else 2
    assert_ulp(backend.numpy(out), ref(v), bound, dtype, name, backend=backend)


def test_float16_is_the_engines_float16(backend):
    if "float16" not in backend.floats:
        pytest.skip(f"{backend.name} has no float16")
    v = np.asarray(RNG.standard_normal((3, 6)) * 4, dtype=np.float16)
    x = backend.asarray(v)
    for name in ("softmax", "log_softmax", "logsumexp", "entropy", "sigmoid", "softplus"):
        out = getattr(S, name)(x)
        same_kind(backend, out, x)
        # computed in float32, rounded once: within 1 float16 ULP of the numpy engine
        want = getattr(S, name)(v).astype(np.float64)
        got = backend.numpy(out).astype(np.float64)
        assert np.all(np.abs(got - want) <= np.spacing(np.abs(want).astype(np.float16))), name


# ---------------------------------------------------------------- conventions, against numpy


def both(backend, fn, *args, **kwargs):
    """``fn`` on the backend's arrays (read back) and on the numpy arrays."""
    conv = [backend.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    kw = {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out = fn(*conv, **kw)
    want = fn(*args, **kwargs)
    if isinstance(want, tuple):
        return tuple(backend.numpy(o) for o in out), want
    return backend.numpy(out), np.asarray(want)


X = RNG.standard_normal((3, 4, 5)) * 3
MASK = RNG.random((3, 4, 5)) > 0.3
MASK[0, 0] = False  # a fully masked row


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "entropy"])
@pytest.mark.parametrize("axis", [-1, 0, (1, 2), None])
def test_row_kernels_agree_with_numpy(backend, name, axis):
    fn = getattr(S, name)
    got, want = both(backend, fn, X, axis=axis)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-300)
    got, want = both(backend, fn, X, axis=axis, where=MASK)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-300)
    if name in ("logsumexp", "entropy"):
        got, want = both(backend, fn, X, axis=axis, keepdims=True)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-14)


SPECIAL_ROWS = np.array(
    [
        [np.inf, 1.0, np.inf, 0.0],
        [-np.inf, -np.inf, -np.inf, -np.inf],
        [np.nan, 1.0, 2.0, 3.0],
        [np.inf, np.nan, 0.0, 1.0],
        [-np.inf, 2.0, -np.inf, 1.0],
    ]
)


@pytest.mark.parametrize(
    "name", ["softmax", "log_softmax", "logsumexp", "entropy", "sparsemax", "entmax"]
)
def test_special_values_as_numpy(backend, name):
    got, want = both(backend, getattr(S, name), SPECIAL_ROWS)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("beta", [0.0, 0.5, 3.0, math.inf])
def test_temperature_as_numpy(backend, beta):
    x = np.array([[1.0, 3.0, 3.0, -np.inf], [0.5, -2.0, 0.25, 7.0]])
    for name in ("softmax", "log_softmax"):
        got, want = both(backend, getattr(S, name), x, beta=beta)
        np.testing.assert_allclose(got, want, rtol=1e-14)
    betas = np.array([0.0, 2.0])
    got, want = both(backend, S.softmax, x, beta=betas)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    got, want = both(backend, S.softmax, x, beta=np.array([[math.inf], [0.5]]))
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_weighted_logsumexp_as_numpy(backend):
    a = np.array([[1e-10, 0.0, -3.0], [2.0, 1.0, 0.5], [0.0, 0.0, 5.0]])
    b = np.array([[1.0, -1.0, 0.0], [0.5, 2.0, 1.0], [1.0, -1.0, 0.0]])
    (got, sign), (want, want_sign) = both(backend, S.logsumexp, a, b=b, return_sign=True)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(sign, want_sign)
    got, want = both(backend, S.logsumexp, a, b=-b)  # a negative sum: NaN
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def test_cross_entropy_as_numpy(backend):
    z = np.array([[0.1, -2.0, 3.4, 3.3], [1.0, -np.inf, 0.0, 2.0], [5.0, 5.0, 5.0, 5.0]])
    y = np.array([2, 0, 3])
    got, want = both(backend, S.cross_entropy, z, y)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    assert got[0] == pytest.approx(0.66589785, abs=5e-9)  # seed 002
    got, want = both(backend, S.cross_entropy, z, np.array([1, 1, 1]))
    assert got[1] == np.inf and np.allclose(got, want, rtol=1e-14)
    got, want = both(backend, S.cross_entropy, SPECIAL_ROWS, np.array([0, 1, 2, 0, 3]))
    np.testing.assert_allclose(got, want, rtol=1e-14)
    got, want = both(backend, S.cross_entropy, SPECIAL_ROWS, np.array([1, 0, 2, 2, 0]))
    np.testing.assert_allclose(got, want, rtol=1e-14)
    q = S.softmax(RNG.standard_normal((3, 4)))
    q[1, 1] = 0.0
    got, want = both(backend, S.cross_entropy, z, q / q.sum(-1, keepdims=True))
    np.testing.assert_allclose(got, want, rtol=1e-14)
    got, want = both(backend, S.cross_entropy, z, y, beta=2.5, where=np.array([True] * 4))
    np.testing.assert_allclose(got, want, rtol=1e-14)
    z3 = RNG.standard_normal((2, 3, 4))
    got, want = both(backend, S.cross_entropy, z3, np.array([[0, 11], [5, 7]])[:, 0], axis=(1, 2))
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_kl_as_numpy(backend):
    zp, zq = RNG.standard_normal((2, 3, 4, 6)) * 4
    got, want = both(backend, S.kl_divergence, zp, zq, axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    got, want = both(backend, S.kl_divergence, zp, zq, where=zp > -1)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    zq2 = zq.copy()
    zq2[0, 0, 0] = -np.inf  # a class of p's support with q = 0
    got, want = both(backend, S.kl_divergence, zp, zq2)
    assert np.isinf(got[0, 0]).all() and np.isinf(want[0, 0]).all()
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_elementwise_special_values_as_numpy(backend):
    v = np.array([-np.inf, -1e308, -745.0, -1.0, -0.0, 0.0, 1.0, 745.0, np.inf, np.nan])
    for name in ("sigmoid", "softplus", "log_sigmoid"):
        got, want = both(backend, getattr(S, name), v)
        # (subnormal results may flush to zero: XLA, torch's vectorized exp)
        np.testing.assert_allclose(got, want, rtol=4e-16, atol=1e-307, equal_nan=True)
    p = np.array([-0.5, 0.0, 0.3, 1.0, 1.5, np.nan])
    got, want = both(backend, S.logit, p)
    np.testing.assert_allclose(got, want, rtol=4e-16, equal_nan=True)
    u = np.array([-np.inf, -40.0, -0.5, 0.0, 1.0, np.nan])
    got, want = both(backend, S.log1mexp, u)
    np.testing.assert_allclose(got, want, rtol=4e-16, equal_nan=True)


@pytest.mark.parametrize("alpha", [1.0, 1.2, 1.5, 2.0, 3.0])
def test_entmax_as_numpy(backend, alpha):
    x = RNG.standard_normal((4, 3, 7)) * 2
    got, want = both(backend, S.entmax, x, alpha=alpha)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    p = np.asarray(want)
    got, want = both(backend, S.entmax, x, alpha=alpha, axis=(0, 2), where=x > -1.5)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    v = RNG.standard_normal(p.shape)
    got, want = both(backend, S.entmax_jvp, p, v, alpha=alpha)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    y = np.array([[0, 6, 3], [1, 1, 2], [5, 4, 0], [2, 2, 2]])
    got, want = both(backend, S.fenchel_young_loss, x, y, alpha=alpha)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-15)
    q = S.softmax(x * 3)
    got, want = both(backend, S.fenchel_young_loss, x, q, alpha=alpha)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-15)


def test_sparsemax_seed_values(backend):
    out = backend.numpy(S.sparsemax(backend.asarray([0.1, 1.2, 3.0])))
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0])
    out = backend.numpy(S.entmax(backend.asarray([1.0, 0.5, -1.0]), alpha=2))
    np.testing.assert_allclose(out, [0.75, 0.25, 0.0], rtol=1e-15)


def _entmax_mpmath(z, alpha):
    """alpha-entmax by bisection on the threshold, at enough digits to resolve p >= 1e-3.

    An entry p sits p^(alpha - 1) above the threshold (alpha = 50: 1e-147).
    """
    dps = int(40 + 3 * alpha)
    with mpmath.workdps(dps):
        a1 = mpmath.mpf(alpha) - 1
        x = [a1 * mpmath.mpf(float(v)) for v in z]
        lo, hi = max(x) - 1, max(x)
        for _ in range(4 * dps):
            mid = (lo + hi) / 2
            if sum(max(v - mid, 0) ** (1 / a1) for v in x) > 1:
                lo = mid
            else:
                hi = mid
        return np.array([float(max(v - (lo + hi) / 2, 0) ** (1 / a1)) for v in x])


# A class of visible mass just above the threshold: 32 halvings and 3 Newton steps lost
# the 0.036 of the first row at alpha = 10, and the sum of rows at alpha = 4 by 2e4 eps.
LARGE_ALPHA_ROWS = [
    (10.0, [0.23638905, -0.46222619, 0.02798421, 0.31630259, -0.3727306]),
    (4.0, [0.5271029, 1.27140577, 0.33112981, 0.09033002, 0.93998001]),
    (50.0, [0.0, -0.02, -0.0201, -0.5]),
    (2.5, [3.0, 2.1, -1.0, 2.9]),
]


@pytest.mark.parametrize("alpha, z", LARGE_ALPHA_ROWS)
def test_entmax_large_alpha_against_mpmath(backend, alpha, z):
    z = np.array(z)
    want = _entmax_mpmath(z, alpha)
    got = backend.numpy(S.entmax(backend.asarray(z), alpha=alpha))
    eps = np.finfo(np.float64).eps
    assert np.max(np.abs(got - want)) <= 4 * eps  # the numpy tier's bound
    assert np.array_equal(got == 0, want == 0)
    assert abs(np.sum(got) - 1) <= 4 * eps
    np.testing.assert_allclose(got, S.entmax(z, alpha=alpha), rtol=1e-12, atol=4 * eps)


def test_entmax_random_large_alpha_is_a_few_eps(backend):
    rng = np.random.default_rng(11)
    eps = np.finfo(np.float64).eps
    for alpha in (4.0, 10.0, 50.0):
        for _ in range(6):
            z = rng.normal(size=rng.integers(2, 9)) * rng.choice([0.3, 2.0, 10.0, 100.0])
            got = backend.numpy(S.entmax(backend.asarray(z), alpha=alpha))
            assert np.max(np.abs(got - _entmax_mpmath(z, alpha))) <= 4 * eps


def test_entmax_huge_alpha_float32_and_the_limit(backend):
    z = np.random.default_rng(2).normal(size=(30, 9)) * 50
    for alpha in (1000.0, 1e100, 2.0**1022):
        for dtype in backend.floats:
            if dtype == "float16":
                continue
            x = z.astype(dtype)
            out = S.entmax(backend.asarray(x), alpha=alpha)
            assert out.dtype == backend.dtype(dtype)
            np.testing.assert_allclose(backend.numpy(out), S.entmax(x, alpha=alpha), atol=1e-15)
    for row, want in (([1.0, 0.5, -1.0], [1.0, 0.0, 0.0]), ([1.0, 1.0, -1.0], [0.5, 0.5, 0.0])):
        got = backend.numpy(S.entmax(backend.asarray(np.array(row)), alpha=2.0**1022))
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"^alpha: expected alpha - 1 <= 4.494e\+307"):
        S.entmax(backend.asarray(z), alpha=1e308)
    with pytest.raises(ValueError, match=r"^alpha: expected alpha - 1 <= "):
        S.fenchel_young_loss(backend.asarray(z), backend.asarray(np.zeros(30, int)), alpha=1e308)


# Classes near the threshold (five of mpref.ENTMAX_HARD_ROWS, where test_sparse.py holds the
# numpy tier to 2 eps of mpmath): two within 1e-8 of it, a cluster 1e-9 apart, a class
# 1e-34 above it among seven; before the double-double threshold the portable tier was
# off by up to 5e-4 absolute on such rows.
NEAR_THRESHOLD_ROWS = [mpref.ENTMAX_HARD_ROWS[i] for i in (4, 5, 8, 13, 9)]


@pytest.mark.parametrize("alpha, z", NEAR_THRESHOLD_ROWS)
def test_entmax_near_the_threshold_as_numpy(backend, alpha, z):
    z = np.array(z)
    got = backend.numpy(S.entmax(backend.asarray(z), alpha=alpha))
    np.testing.assert_allclose(got, S.entmax(z, alpha=alpha), rtol=0, atol=2 * np.finfo(float).eps)


def test_entmax_jvp_keeps_the_class_that_holds_the_weight(backend):
    """alpha = 50: v - mean cancelled to 0 on the class 1e-166 above the threshold."""
    p = S.entmax(np.array([0.0, -0.02, -0.0201, -0.5]), alpha=50.0)
    for v in np.eye(4):
        got, want = both(backend, S.entmax_jvp, p, v, alpha=50.0)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    got = backend.numpy(
        S.entmax_jvp(backend.asarray(p), backend.asarray(np.eye(4)[1]), alpha=50.0)
    )
    assert abs(got[1] - 1.02) < 1e-3  # s_0 s_1 / (s_0 + s_1), s_0 = 1.02


@pytest.mark.parametrize("alpha, z", LARGE_ALPHA_ROWS)
def test_grad_entmax_large_alpha_is_the_finite_difference(autodiff, alpha, z):
    z = np.array(z)
    v = np.arange(float(len(z)))
    g = grad(autodiff, lambda t: (S.entmax(t, alpha=alpha) * _as(t, v)).sum(), z)
    assert np.all(np.isfinite(g))
    h = 1e-9
    fd = [
        (np.dot(S.entmax(z + h * e, alpha=alpha), v) - np.dot(S.entmax(z - h * e, alpha=alpha), v))
        / (2 * h)
        for e in np.eye(len(z))
    ]
    # a class on the edge of the support (alpha = 50: 1e-166 above the threshold) responds to
    # its own logit (entmax_jvp's s v - s (s . v) / sum s loses that entry to cancellation);
    # at alpha = 10 the residual of the threshold enters the gradient: 1.8e-7 relative
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- errors


def test_errors_name_the_argument(backend):
    x = backend.asarray(X)
    with pytest.raises(ValueError, match=r"^target: class index 9 is out of range \[0, 5\)"):
        S.cross_entropy(x, backend.asarray(np.full((3, 4), 9)))
    with pytest.raises(ValueError, match=r"^target: a float target"):
        S.cross_entropy(x, backend.asarray(np.ones((3, 4))))
    with pytest.raises(ValueError, match=r"^beta: "):
        S.softmax(x, beta=-1.0)
    with pytest.raises(ValueError, match=r"^beta: "):
        S.softmax(x, beta=backend.asarray(np.array([[-1.0]])))
    with pytest.raises(TypeError, match=r"^where: expected a boolean mask"):
        S.softmax(x, where=backend.asarray(np.ones(5)))
    with pytest.raises(ValueError, match=r"^alpha: "):
        S.entmax(x, alpha=0.5)
    with pytest.raises(TypeError, match=r"^logits_q: expected a .* array like the other"):
        S.kl_divergence(x, X)


def test_two_namespaces_are_refused():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    with pytest.raises(TypeError, match=r"^logits_q: expected an array of the same library"):
        S.kl_divergence(torch.zeros(3), jnp.zeros(3))


def test_import_expfam_loads_no_array_api_compat():
    code = (
        "import sys, expfam; expfam.softmax([1.0, 2.0]); print('array_api_compat' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- gradients


Z = np.array([1.0, -np.inf, 0.5, 3.0, 3.0, -2.0])


def onehot(k, n):
    e = np.zeros(n)
    e[k] = 1.0
    return e


def test_grad_logsumexp_is_softmax(autodiff):
    for z in (Z, RNG.standard_normal(40) * 10, np.array([700.0, -700.0, 699.0])):
        g = grad(autodiff, lambda t: S.logsumexp(t), z)
        np.testing.assert_allclose(g, S.softmax(z), rtol=4e-16 * 8, atol=1e-300)
        assert g[np.isinf(z)].tolist() == [0.0] * int(np.isinf(z).sum())


def test_grad_cross_entropy_is_softmax_minus_onehot(autodiff):
    for y in (0, 3, 5):
        g = grad(autodiff, lambda t, y=y: S.cross_entropy(t, y), Z)
        np.testing.assert_allclose(g, S.softmax(Z) - onehot(y, Z.size), rtol=1e-15, atol=1e-16)
    q = S.softmax(RNG.standard_normal(Z.size))
    q[1] = 0.0
    q /= q.sum()
    g = grad(autodiff, lambda t, q: S.cross_entropy(t, q), Z, q)
    np.testing.assert_allclose(g, S.softmax(Z) - q, rtol=1e-14, atol=1e-16)


def test_grad_entropy_closed_form(autodiff):
    # dH/dz_k = -p_k (log p_k + H), 0 where p_k = 0
    p, lp, h = S.softmax(Z), S.log_softmax(Z), S.entropy(Z)
    want = np.where(p > 0, -p * (np.where(p > 0, lp, 0.0) + h), 0.0)
    g = grad(autodiff, lambda t: S.entropy(t), Z)
    np.testing.assert_allclose(g, want, rtol=1e-13, atol=1e-16)


def test_grad_kl_closed_form(autodiff):
    # dKL/dz_p = p (log p - log q - KL), dKL/dz_q = q - p
    zq = np.array([0.0, 1.0, 2.0, 2.0, 0.5, -1.0])
    p, q = S.softmax(Z), S.softmax(zq)
    lr = np.where(p > 0, S.log_softmax(Z) - S.log_softmax(zq), 0.0)
    kl = S.kl_divergence(Z, zq)
    gp = grad(autodiff, lambda a, b: S.kl_divergence(a, b), Z, zq, argnum=0)
    gq = grad(autodiff, lambda a, b: S.kl_divergence(a, b), Z, zq, argnum=1)
    np.testing.assert_allclose(gp, p * (lr - kl), rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(gq, q - p, rtol=1e-12, atol=1e-16)
    g0 = grad(autodiff, lambda a, b: S.kl_divergence(a, b), Z, Z.copy(), argnum=0)
    np.testing.assert_array_equal(g0, 0.0)  # a minimum: no NaN from 0 * inf


def test_grad_masked_classes_are_zero(autodiff):
    z = RNG.standard_normal((3, 5))
    mask = np.array([True, False, True, True, False])
    for name in ("logsumexp", "entropy"):
        g = grad(autodiff, lambda t, name=name: getattr(S, name)(t, where=_as(t, mask)).sum(), z)
        assert np.all(np.isfinite(g)) and np.all(g[:, ~mask] == 0.0), name
    g = grad(autodiff, lambda t: S.logsumexp(t, where=_as(t, mask)).sum(), z)
    np.testing.assert_allclose(g, S.softmax(z, where=mask), rtol=1e-15)


def _as(like, mask):
    """``mask`` in ``like``'s namespace."""
    import array_api_compat

    xp = array_api_compat.array_namespace(like)
    return xp.asarray(mask, device=array_api_compat.device(like))


ROW_LOSSES = {
    "logsumexp": lambda t: S.logsumexp(t),
    "softmax.v": lambda t: (S.softmax(t) * _as(t, np.arange(6.0))).sum(),
    "log_softmax.v": lambda t: (S.log_softmax(t, beta=0.7) * _as(t, np.arange(6.0))).sum(),
    "entropy": lambda t: S.entropy(t),
    "cross_entropy": lambda t: S.cross_entropy(t, 2),
    "kl": lambda t: S.kl_divergence(t, _as(t, np.linspace(-1, 1, 6))),
    "kl_q": lambda t: S.kl_divergence(_as(t, np.linspace(-1, 1, 6)), t),
    "sigmoid": lambda t: S.sigmoid(t).sum(),
    "softplus": lambda t: S.softplus(t).sum(),
    "log_sigmoid": lambda t: S.log_sigmoid(t).sum(),
    "entmax1.5.v": lambda t: (S.entmax(t) * _as(t, np.arange(6.0))).sum(),
    "entmax1.3.v": lambda t: (S.entmax(t, alpha=1.3) * _as(t, np.arange(6.0))).sum(),
    "sparsemax.v": lambda t: (S.sparsemax(t) * _as(t, np.arange(6.0))).sum(),
    "fenchel_young1.5": lambda t: S.fenchel_young_loss(t, 1, alpha=1.5),
    "fenchel_young3": lambda t: S.fenchel_young_loss(t, 1, alpha=3.0),
}


@pytest.mark.parametrize("name", ROW_LOSSES)
def test_grad_matches_finite_differences(autodiff, name):
    f = ROW_LOSSES[name]
    z = np.array([0.3, -0.2, 0.9, 0.1, -0.6, 0.5])
    g = grad(autodiff, f, z)
    h = 1e-6
    fd = np.empty_like(z)
    for k in range(z.size):
        up, down = z.copy(), z.copy()
        up[k] += h
        down[k] -= h
        val = [float(autodiff.numpy(f(autodiff.asarray(v)))) for v in (up, down)]
        fd[k] = (val[0] - val[1]) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("alpha", [1.3, 1.5, 2.0])
def test_grad_entmax_is_entmax_jvp_and_fy_gradient(autodiff, alpha):
    z = np.array([1.0, -np.inf, 0.5, 3.0, 2.5, -2.0])
    v = np.arange(6.0)
    p = S.entmax(z, alpha=alpha)
    g = grad(autodiff, lambda t: (S.entmax(t, alpha=alpha) * _as(t, v)).sum(), z)
    np.testing.assert_allclose(g, S.entmax_jvp(p, v, alpha=alpha), rtol=1e-10, atol=1e-15)
    zf = np.where(np.isinf(z), -5.0, z)
    g = grad(autodiff, lambda t: S.fenchel_young_loss(t, 3, alpha=alpha), zf)
    want = S.entmax(zf, alpha=alpha) - onehot(3, 6)
    np.testing.assert_allclose(g, want, rtol=1e-10, atol=1e-14)


def test_grad_elementwise_closed_forms(autodiff):
    w = np.array([-800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0])
    s = S.sigmoid(w)
    for name, want in (
        ("sigmoid", s * S.sigmoid(-w)),
        ("softplus", s),
        ("log_sigmoid", S.sigmoid(-w)),
    ):
        g = grad(autodiff, lambda t, name=name: getattr(S, name)(t).sum(), w)
        np.testing.assert_allclose(g, want, rtol=1e-15, atol=0, err_msg=name)
    p = np.array([1e-9, 0.1, 0.25, 0.5, 0.9])
    g = grad(autodiff, lambda t: S.logit(t).sum(), p)
    np.testing.assert_allclose(g, 1 / (p * (1 - p)), rtol=1e-14)
    u = np.array([-40.0, -1.0, -0.5, -1e-3])
    g = grad(autodiff, lambda t: S.log1mexp(t).sum(), u)
    np.testing.assert_allclose(g, -1 / np.expm1(-u), rtol=1e-14)


# ---------------------------------------------------------------- JAX transformations


@pytest.fixture
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


JITTED = {
    "softmax": lambda z: S.softmax(z, beta=2.0),
    "log_softmax": lambda z: S.log_softmax(z),
    "logsumexp": lambda z: S.logsumexp(z),
    "entropy": lambda z: S.entropy(z),
    "cross_entropy": lambda z: S.cross_entropy(z, 1),
    "kl_divergence": lambda z: S.kl_divergence(z, z[::-1]),
    "sigmoid": S.sigmoid,
    "softplus": S.softplus,
    "log_sigmoid": S.log_sigmoid,
    "logit": lambda z: S.logit(S.sigmoid(z)),
    "log1mexp": lambda z: S.log1mexp(-(z * z) - 1e-3),
    "sparsemax": S.sparsemax,
    "entmax": lambda z: S.entmax(z, alpha=1.7),
    "entmax_jvp": lambda z: S.entmax_jvp(S.entmax(z), z),
    "fenchel_young_loss": lambda z: S.fenchel_young_loss(z, 0),
}


@pytest.mark.parametrize("name", JITTED)
def test_jit_and_vmap_agree_with_eager(jax, name):
    import jax.numpy as jnp

    f = JITTED[name]
    z = jnp.asarray(RNG.standard_normal((4, 6)) * 3)
    eager = np.asarray(jax.vmap(f)(z)) if name == "kl_divergence" else np.asarray(f(z))
    jitted = jax.jit(f)(z) if name != "kl_divergence" else jax.jit(jax.vmap(f))(z)
    np.testing.assert_allclose(np.asarray(jitted), eager, rtol=1e-13, atol=1e-300)
    mapped = np.asarray(jax.vmap(f)(z))
    np.testing.assert_allclose(mapped, eager, rtol=1e-13, atol=1e-300)


def test_jit_gradient_and_unchecked_index(jax):
    import jax.numpy as jnp

    z = jnp.asarray(Z)
    g = jax.jit(jax.grad(lambda t: S.cross_entropy(t, 3)))(z)
    np.testing.assert_allclose(np.asarray(g), S.softmax(Z) - onehot(3, 6), rtol=1e-15, atol=1e-16)
    # Under jit values are not checked: a class index out of range gives NaN.
    assert np.isnan(float(jax.jit(lambda t: S.cross_entropy(t, 7))(z)))


def test_kernels_accept_mpmath_free_seed_value(backend):
    # seed 002: softmax([0.1, -2, 3.4, 3.3])
    out = backend.numpy(S.softmax(backend.asarray([0.1, -2.0, 3.4, 3.3])))
    np.testing.assert_allclose(out, [0.01895101, 0.00232067, 0.513812, 0.4649163], atol=5e-8)
    assert mpmath.mpf(1) > 0


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batches_mixing_confident_and_flat_rows(backend, dtype):
    # One batch where some rows' full sum would round the non-maximal mass away (a
    # dominant class, a tied pair over tiny mass) and others not: the eager kernels sum
    # t on the first rows only, and every row keeps the bound.
    if backend.name == "jax":
        pytest.skip("XLA's sequential CPU sum (see test_row_kernels_within_4_ulp_of_mpmath)")
    rng = np.random.default_rng(11)
    rows = np.stack(
        [
            np.r_[30.0, np.zeros(199)],
            rng.standard_normal(200) * 4,
            np.r_[25.0, 25.0, rng.standard_normal(198) - 20.0],
            rng.standard_normal(200),
            np.r_[3.0, rng.standard_normal(199) - 15.0],
        ]
    ).astype(dtype)
    y = np.array([3, 0, 1, 7, 0])
    x = backend.asarray(rows)
    batched = {
        "softmax": S.softmax(x),
        "log_softmax": S.log_softmax(x),
        "logsumexp": S.logsumexp(x),
        "entropy": S.entropy(x),
        "cross_entropy": S.cross_entropy(x, backend.asarray(y)),
    }
    for i, row in enumerate(rows):
        exact = {
            "softmax": mpref.softmax_ref(row),
            "log_softmax": mpref.log_softmax_ref(row),
            "logsumexp": mpref.logsumexp_ref(row)[0],
            "entropy": mpref.entropy_ref(row),
            "cross_entropy": mpref.cross_entropy_ref(row, y[i]),
        }
        for kind, out in batched.items():
            assert_ulp(backend.numpy(out)[i], exact[kind], 4, dtype, f"{kind} row {i}")


def test_jit_takes_the_general_form_with_the_same_values(autodiff):
    # under jax.jit no value is known: the kernels skip none of the work that eager
    # calls skip on finite, non-confident rows, and agree with them
    if autodiff.name != "jax":
        pytest.skip("jax.jit only")
    import jax

    rng = np.random.default_rng(12)
    z = np.stack([np.r_[30.0, np.zeros(9)], rng.standard_normal(10) * 4])
    zq = np.stack([rng.standard_normal(10), np.r_[30.0, np.zeros(9)]])
    x, xq = autodiff.asarray(z), autodiff.asarray(zq)
    for f in (S.softmax, S.log_softmax, S.logsumexp, S.entropy):
        np.testing.assert_allclose(np.asarray(jax.jit(f)(x)), np.asarray(f(x)), rtol=4e-16)
    kl = jax.jit(S.kl_divergence)(x, xq)
    np.testing.assert_allclose(np.asarray(kl), np.asarray(S.kl_divergence(x, xq)), rtol=4e-15)
    np.testing.assert_allclose(np.asarray(kl), S.kl_divergence(z, zq), rtol=4e-15)
