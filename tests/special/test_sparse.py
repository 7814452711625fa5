"""sparsemax, alpha-entmax and Fenchel-Young losses against their identities and mpmath."""

import warnings

import mpmath
import mpref
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from expfam.special import (
    cross_entropy,
    entmax,
    entmax_jvp,
    fenchel_young_loss,
    softmax,
    sparsemax,
)

ALPHAS = [1.0, 1.1, 1.3, 1.5, 1.75, 2.0, 2.5, 4.0]
rows = arrays(
    np.float64,
    st.integers(1, 8),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
)


def _entmax_mp(z, alpha, dps):
    """p = [(alpha - 1) z - tau]_+^(1/(alpha - 1)) with sum 1, as mpf at ``dps`` digits.

    tau by bisection to a bracket, then Newton steps kept inside it; None where
    the residual is not below 1e-40 (a class so close to the threshold that
    ``dps`` digits do not resolve it).
    """
    with mpmath.workdps(dps):
        a1 = mpmath.mpf(alpha) - 1
        q = 1 / a1
        x = [a1 * mpmath.mpf(float(v)) for v in z]
        lo, hi = max(x) - 1, max(x)  # sum >= 1 at lo, = 0 at hi

        def g(t):
            return sum((v - t) ** q for v in x if v > t) - 1

        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if g(mid) > 0 else (lo, mid)
        t = (lo + hi) / 2
        tol = mpmath.mpf(2) ** (10 - mpmath.mp.prec)
        for _ in range(4 * mpmath.mp.prec):
            value = g(t)
            lo, hi = (t, hi) if value > 0 else (lo, t)
            slope = -q * sum((v - t) ** (q - 1) for v in x if v > t)
            step = t - value / slope if slope != 0 else (lo + hi) / 2
            step = step if lo < step < hi else (lo + hi) / 2
            if abs(step - t) <= tol * (1 + abs(t)) or hi - lo <= tol * (1 + abs(t)):
                t = step
                break
            t = step
        if abs(g(t)) > mpmath.mpf(10) ** -40:
            return None
        return [(v - t) ** q if v > t else mpmath.mpf(0) for v in x]


def entmax_exact(z, alpha):
    """alpha-entmax of the floats ``z`` as mpf, at the precision where its rounding is stable.

    An entry p sits p^(alpha - 1) above the threshold (alpha = 50, p = 1e-3: 1e-147), so
    the digits start at 60 + 4 alpha and double until two precisions round alike.
    Returns the probabilities and the precision.
    """
    dps, previous = int(60 + 4 * alpha), None
    while True:
        p = _entmax_mp(z, alpha, dps)
        rounded = None if p is None else [float(v) for v in p]
        if rounded is not None and rounded == previous:
            return p, dps
        previous, dps = rounded, 2 * dps


def entmax_mpmath(z, alpha):
    """alpha-entmax of the floats ``z``, exactly rounded (see :func:`entmax_exact`)."""
    return np.array([float(v) for v in entmax_exact(z, alpha)[0]])


@pytest.mark.parametrize("alpha", [1.1, 1.3, 1.5, 2.0, 2.5, 4.0])
@pytest.mark.parametrize(
    "z",
    [
        [0.1, -2.0, 3.4, 3.3],
        [1000.0, 1001.0, 1002.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [5.0, -40.0, 4.9, 4.95, 0.0, 1.0],
        [1e-9, 0.0, -1e-9],
    ],
)
def test_entmax_matches_mpmath_threshold(z, alpha):
    expected = entmax_mpmath(z, alpha)
    got = entmax(np.array(z), alpha)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert np.array_equal(got == 0, expected == 0)  # exact zeros off the support


EPS = np.finfo(np.float64).eps


def assert_entmax_accuracy(z, alpha):
    """The documented accuracy of entmax at ``z``, against :func:`entmax_exact`.

    Each entry within ``2 eps`` absolute, and within ``4 eps (p_k (1 + |log p_k|) + w_k m)``:
    a few ULPs of its own (``exp`` of its logarithm) plus its share ``w_k = s_k / sum s``
    (``s = p^(2 - alpha)``) of a few ULPs of the mass ``m = 1 - max p`` outside the top
    class.
    """
    exact, dps = entmax_exact(z, alpha)
    expected = np.array([float(v) for v in exact])
    with mpmath.workdps(dps):
        s = [v ** (2 - mpmath.mpf(alpha)) if v > 0 else mpmath.mpf(0) for v in exact]
        w = np.array([float(v / sum(s)) for v in s])
    got = entmax(np.array(z), alpha)
    error = np.abs(got - expected)
    own = expected * (1 - np.log(np.where(expected > 0, expected, 1.0)))
    assert np.max(error) <= 2 * EPS
    assert np.all(error <= 4 * EPS * (own + w * (1 - np.max(expected))))
    assert np.array_equal(got == 0, expected == 0)
    return error


@pytest.mark.parametrize("alpha", [1.0001, 1.1, 1.3, 1.5, 1.7, 2.0, 2.5, 4.0, 10.0, 50.0])
def test_entmax_absolute_error_is_below_two_eps(alpha):
    rng = np.random.default_rng(11)
    for _ in range(12 if alpha < 10 else 6):
        z = rng.normal(size=rng.integers(2, 9)) * rng.choice([0.3, 2.0, 10.0, 100.0])
        assert_entmax_accuracy(z, alpha)


HARD_ROWS = mpref.ENTMAX_HARD_ROWS


@pytest.mark.parametrize(("alpha", "z"), HARD_ROWS)
def test_entmax_near_the_threshold_against_mpmath(alpha, z):
    assert_entmax_accuracy(z, alpha)


@settings(max_examples=100)
@given(rows, st.sampled_from([2.5, 4.0, 10.0, 50.0]))
def test_entmax_beyond_two_is_backward_stable(z, alpha):
    """The threshold (alpha - 1) z_k - p_k^(alpha - 1) is one number over the support."""
    p = entmax(z, alpha)
    support = p > 0
    tau = (alpha - 1) * z[support] - p[support] ** (alpha - 1)
    assert np.ptp(tau) <= 16 * (alpha - 1) * EPS * (1 + np.max(np.abs(z)))
    assert np.all(
        (alpha - 1) * z[~support] <= tau.max() + 16 * (alpha - 1) * EPS * (1 + np.max(np.abs(z)))
    )


@settings(max_examples=100)
@given(rows, st.sampled_from(ALPHAS))
def test_entmax_is_a_probability_vector(z, alpha):
    p = entmax(z, alpha)
    assert np.all(p >= 0)
    assert abs(np.sum(p) - 1) <= 8 * np.finfo(float).eps * len(z)


@settings(max_examples=100)
@given(rows, arrays(np.float64, 8, elements=st.floats(0.0, 1.0)))
def test_sparsemax_is_the_euclidean_projection(z, w):
    """Projection inequality: <z - p, q - p> <= 0 for every q in the simplex."""
    p = sparsemax(z)
    q = w[: len(z)] + 1e-3
    q /= q.sum()
    scale = 1 + np.max(np.abs(z))
    assert np.dot(z - p, q - p) <= 1e-12 * scale
    # KKT: z - p is constant (= tau) on the support and <= tau off it
    tau = (z - p)[p > 0]
    assert np.ptp(tau) <= 1e-12 * scale
    assert np.all((z - p)[p == 0] <= tau[0] + 1e-12 * scale)


def test_sparsemax_is_entmax_two_and_alpha_one_is_exactly_softmax():
    z = np.random.default_rng(0).normal(size=(20, 7)) * 3
    np.testing.assert_array_equal(entmax(z, 2.0), sparsemax(z))
    np.testing.assert_array_equal(entmax(z, 1.0), softmax(z))
    np.testing.assert_array_equal(entmax(z.astype(np.float32), 1), softmax(z.astype(np.float32)))


@pytest.mark.parametrize("eps", [1e-6, 1e-9, 1e-12])
def test_the_family_is_continuous_into_alpha_one_two_and_one_and_a_half(eps):
    z = np.random.default_rng(1).normal(size=(50, 6)) * 4
    np.testing.assert_allclose(entmax(z, 1 + eps), softmax(z), atol=10 * eps)
    for exact in (1.5, 2.0):
        for alpha in (exact - eps, exact + eps):
            np.testing.assert_allclose(entmax(z, alpha), entmax(z, exact), atol=50 * eps)


def test_float32_is_stable_at_large_alpha():
    z = np.random.default_rng(2).normal(size=(30, 9)) * 50
    for alpha in (8.0, 50.0, 1000.0):
        p32 = entmax(z.astype(np.float32), alpha)
        assert p32.dtype == np.float32
        assert np.all(np.isfinite(p32)) and np.all(p32 >= 0)
        np.testing.assert_allclose(p32.sum(-1), 1, atol=1e-6)
        np.testing.assert_allclose(
            p32, entmax(z.astype(np.float32).astype(float), alpha), atol=1e-6
        )


def test_special_values_follow_the_softmax_rules():
    z = np.array([[np.inf, 0.0, np.inf], [-np.inf] * 3, [np.nan, 0.0, 0.0], [0.0, -np.inf, 1.0]])
    for alpha in (1.0, 1.3, 1.5, 2.0):
        p = entmax(z, alpha)
        np.testing.assert_array_equal(p[0], [0.5, 0.0, 0.5])
        assert np.all(np.isnan(p[1])) and np.all(np.isnan(p[2]))
        assert p[3, 1] == 0 and abs(p[3].sum() - 1) < 1e-15
    assert entmax(np.zeros((2, 0)), 1.5).shape == (2, 0)


def test_axis_and_batch():
    z = np.random.default_rng(3).normal(size=(4, 5, 3))
    np.testing.assert_array_equal(
        entmax(z, 1.5, axis=1), np.moveaxis(entmax(np.moveaxis(z, 1, -1), 1.5), -1, 1)
    )


def finite_difference_jacobian(f, z, h=1e-6):
    return np.stack([(f(z + h * e) - f(z - h * e)) / (2 * h) for e in np.eye(len(z))], axis=1)


@pytest.mark.parametrize("alpha", [1.0, 1.3, 1.5, 2.0, 3.0])
def test_jacobian_vector_product_by_finite_differences(alpha):
    rng = np.random.default_rng(4)
    for _ in range(5):
        z = rng.normal(size=6) * 2
        p = entmax(z, alpha)
        if np.any((p > 0) & (p < 1e-4)):  # too close to a change of support for h
            continue
        jac = finite_difference_jacobian(lambda t, a=alpha: entmax(t, a), z)
        v = rng.normal(size=6)
        np.testing.assert_allclose(entmax_jvp(p, v, alpha), jac @ v, atol=1e-7)
        np.testing.assert_allclose(jac, jac.T, atol=1e-7)  # J is symmetric: JVP = VJP


@pytest.mark.parametrize("alpha", [1.0, 1.2, 1.5, 2.0, 3.0])
def test_fenchel_young_gradient_is_y_hat_minus_y(alpha):
    rng = np.random.default_rng(5)
    for y in (2, rng.dirichlet(np.ones(5))):
        z = rng.normal(size=5) * 2
        onehot = np.eye(5)[y] if np.ndim(y) == 0 else y
        grad = finite_difference_jacobian(
            lambda t, a=alpha, y=y: np.atleast_1d(fenchel_young_loss(t, y, a)), z
        )[0]
        np.testing.assert_allclose(grad, entmax(z, alpha) - onehot, atol=1e-7)
        assert fenchel_young_loss(z, y, alpha) >= 0


def test_fenchel_young_closed_forms():
    rng = np.random.default_rng(6)
    z, y = rng.normal(size=(10, 4)) * 3, rng.integers(0, 4, 10)
    np.testing.assert_allclose(fenchel_young_loss(z, y, 1.0), cross_entropy(z, y), rtol=1e-15)
    # alpha = 2: the sparsemax loss 1/2 ||y - z||^2 - 1/2 ||p - z||^2
    onehot, p = np.eye(4)[y], sparsemax(z)
    expected = 0.5 * np.sum((onehot - z) ** 2, -1) - 0.5 * np.sum((p - z) ** 2, -1)
    np.testing.assert_allclose(fenchel_young_loss(z, y, 2.0), expected, rtol=1e-12)
    # soft targets at alpha = 1: KL(y || softmax z)
    q = rng.dirichlet(np.ones(4), 10)
    kl = np.sum(q * (np.log(q) - np.log(softmax(z))), -1)
    np.testing.assert_allclose(fenchel_young_loss(z, q, 1.0), kl, rtol=1e-12)
    # zero exactly where the prediction is the target; continuous into alpha = 1
    assert fenchel_young_loss([3.0, 0.0, -1.0], 0, 2.0) == 0.0
    np.testing.assert_allclose(fenchel_young_loss(z, y, 1 + 1e-9), cross_entropy(z, y), rtol=1e-7)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: entmax([1.0, 2.0], 0.5), "alpha"),
        (lambda: entmax([1.0, 2.0], np.nan), "alpha"),
        (lambda: entmax([1.0, 2.0], "x"), "alpha"),
        (lambda: entmax([1.0, 2.0], 1.5, axis=3), "axis"),
        (lambda: entmax(["a"], 1.5), "x"),
        (lambda: fenchel_young_loss([1.0, 2.0], 2), "target"),
        (lambda: fenchel_young_loss([1.0, np.inf], 0), "logits"),
        (lambda: fenchel_young_loss([1.0, 2.0], [0.5, 0.6]), "target"),
        (lambda: entmax_jvp([-0.1, 1.1], [1.0, 0.0]), "probs"),
        (lambda: entmax_jvp([0.5, 0.5], [1.0, 0.0, 0.0]), "v"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_sparse_maps_follow_the_row_kernels_argument_rules():
    """axis tuples and None, where masks and 0-d input mean what they mean for softmax."""
    x = np.random.default_rng(3).normal(size=(2, 3, 4))
    for alpha in (1.0, 1.5, 1.3, 2.0):
        p = entmax(x, alpha, axis=(1, 2))
        flat = entmax(x.reshape(2, 12), alpha).reshape(2, 3, 4)
        np.testing.assert_allclose(p, flat, rtol=0, atol=1e-15)
        np.testing.assert_allclose(
            entmax(x, alpha, axis=None), entmax(x.ravel(), alpha).reshape(x.shape), atol=1e-15
        )
        mask = np.array([True, False, True, True])
        masked = entmax(x, alpha, where=mask)
        assert (masked[..., 1] == 0).all()
        np.testing.assert_allclose(masked[..., mask], entmax(x[..., mask], alpha), atol=1e-15)
        assert (entmax([1.0, 2.0], alpha, where=[False, False]) == 0).all()
        assert entmax(3.0, alpha) == 1.0
    assert sparsemax(3.0) == 1.0


# ------------------------------------------------------------------ adversarial input (issue 21)


@pytest.mark.parametrize("alpha", [1.2, 1.5, 2.0, 3.0, 50.0])
def test_a_rows_result_does_not_depend_on_its_neighbours(alpha):
    rng = np.random.default_rng(31)
    # rows of every spread: a few candidates or many, so that batches mix support sizes
    batch = rng.normal(size=(40, 9)) * rng.choice([0.01, 0.3, 3.0, 30.0], size=(40, 1))
    alone = np.stack([entmax(row, alpha) for row in batch])
    np.testing.assert_array_equal(entmax(batch, alpha), alone)
    for _ in range(5):
        order = rng.permutation(40)[: rng.integers(2, 40)]
        np.testing.assert_array_equal(entmax(batch[order], alpha), alone[order])


@pytest.mark.parametrize("alpha", [1.0, 1.3, 1.5, 2.0, 4.0])
def test_logits_beyond_the_float_range_give_the_limit_without_warnings(alpha):
    big = np.finfo(np.float64).max
    x = np.array([[big, -big, 0.0], [big, big, 0.0], [-big, -big, 0.0], [-big, 1.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = entmax(x, alpha)
        loss = fenchel_young_loss(x, np.array([0, 1, 2, 1]), alpha)
        far = fenchel_young_loss(x[0], 1, alpha)
    np.testing.assert_array_equal(p[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(p[1], [0.5, 0.5, 0.0])
    np.testing.assert_array_equal(p[2], [0.0, 0.0, 1.0])
    # the last row: the -big class is out, the other two as on their own
    np.testing.assert_array_equal(p[3], np.r_[0.0, entmax([1.0, 0.5], alpha)])
    # the loss is 0 where the prediction is the target, finite where the two classes tie
    assert loss[0] == 0.0 and loss[2] == 0.0
    np.testing.assert_allclose(loss[1], fenchel_young_loss([0.0, 0.0], 1, alpha), rtol=1e-15)
    np.testing.assert_allclose(loss[3], fenchel_young_loss([1.0, 0.5], 0, alpha), rtol=1e-15)
    assert far == np.inf  # the target sits 2e308 below the prediction


def test_huge_alpha_tends_to_the_argmax_with_ties_shared():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(entmax([1.0, 0.5, -1.0], alpha=1e308), [1.0, 0.0, 0.0])
        np.testing.assert_array_equal(entmax([1.0, 1.0, -1.0], alpha=1e308), [0.5, 0.5, 0.0])
        # a gap of 1e-12 is (alpha - 1) 1e-12 = 1e288 threshold units: far outside
        np.testing.assert_array_equal(entmax([1.0, 1 - 1e-12, 0.0], alpha=1e300), [1.0, 0, 0])


def test_entmax_jvp_refuses_logits_and_returns_no_negative_zero():
    with pytest.raises(ValueError, match=r"probs: expected points of the simplex.*not its logits"):
        entmax_jvp([1.0, 2.0, -1.0], [1.0, 0.0, 2.0], alpha=2)
    with pytest.raises(ValueError, match=r"probs: .*batch index \(1,\)\) summing to 0.9"):
        entmax_jvp([[0.5, 0.5], [0.5, 0.4]], [1.0, 0.0])
    out = entmax_jvp([0.75, 0.25, 0.0], [1.0, 0.0, -2.0], alpha=2)
    assert out[2] == 0.0 and not np.signbit(out[2])
    assert not np.signbit(entmax_jvp([1.0, 0.0], [3.0, -7.0], alpha=1.5)).any()
    # a fully masked row is the empty distribution: its tangent map is 0
    np.testing.assert_array_equal(entmax_jvp([[0.0, 0.0]], [[1.0, 2.0]]), [[0.0, 0.0]])
    # float32 outputs of entmax pass the check at their own rounding
    p32 = entmax(np.random.default_rng(2).normal(size=(50, 7)).astype(np.float32), 1.5)
    assert entmax_jvp(p32, np.ones_like(p32)).dtype == np.float32


def test_where_is_keyword_only_and_fenchel_young_takes_an_axis():
    with pytest.raises(TypeError):
        sparsemax([1.0, 2.0], -1, [True, False])
    with pytest.raises(TypeError):
        entmax([1.0, 2.0], 1.5, -1, [True, False])
    rng = np.random.default_rng(8)
    z = rng.normal(size=(4, 3, 5))
    y = rng.integers(0, 4, (3, 5))
    q = rng.dirichlet(np.ones(4), (3, 5))  # (3, 5, 4)
    for alpha in (1.0, 1.5, 2.0, 2.5):
        moved = np.moveaxis(z, 0, -1)
        np.testing.assert_array_equal(
            fenchel_young_loss(z, y, alpha, axis=0), fenchel_young_loss(moved, y, alpha)
        )
        np.testing.assert_array_equal(
            fenchel_young_loss(z, np.moveaxis(q, -1, 0), alpha, axis=0),
            fenchel_young_loss(moved, q, alpha),
        )


# ------------------------------------------------------------------ entmax_jvp against mpmath


def jvp_mpmath(p, v, alpha, dps=600):
    """``s v - s (s . v) / sum s``, ``s = p^(2 - alpha)`` on ``p > 0``, at ``dps`` digits.

    Also returns ``h_k = s_k sum_j (s_j / sum s) |v_k - v_j|``, which bounds ``|(J v)_k|``.
    """
    with mpmath.workdps(dps):
        a = mpmath.mpf(alpha)
        s = [mpmath.mpf(x) ** (2 - a) if x > 0 else mpmath.mpf(0) for x in p]
        total, t = sum(s), [mpmath.mpf(float(x)) for x in v]
        mean = sum(si * ti for si, ti in zip(s, t, strict=True)) / total
        jv = np.array([float(si * (ti - mean)) for si, ti in zip(s, t, strict=True)])
        h = [
            si * sum(sj / total * abs(ti - tj) for sj, tj in zip(s, t, strict=True))
            for si, ti in zip(s, t, strict=True)
        ]
        return jv, np.array([float(x) for x in h])


def test_entmax_jvp_keeps_the_class_that_holds_the_weight():
    """alpha = 50: the class 1e-166 above the threshold has s = 3e162, and its JVP entry
    (v = e_1) is s_0 s_1 / (s_0 + s_1) ~ s_0 = 1.02, which v - mean lost to cancellation (0)."""
    z = [0.0, -0.02, -0.0201, -0.5]
    exact, dps = entmax_exact(z, 50.0)
    for v in [*np.eye(4), np.arange(4.0), np.array([0.3, -1.0, 2.0, 0.0])]:
        want, _ = jvp_mpmath(exact, v, 50.0, dps)
        got = entmax_jvp(entmax(z, alpha=50.0), v, alpha=50.0)
        np.testing.assert_allclose(got, want, rtol=64 * 48 * EPS, atol=0)
    assert abs(entmax_jvp(entmax(z, alpha=50.0), np.eye(4)[1], alpha=50.0)[1] - 1.02) < 1e-3


JVP_ALPHAS = [1.0001, 1.01, 1.3, 1.5, 1.7, 2.0, 2.5, 3.0, 4.0, 10.0, 20.0, 50.0]


@pytest.mark.parametrize("alpha", JVP_ALPHAS)
def test_entmax_jvp_is_exact_for_its_probs_to_the_documented_bound(alpha):
    """Against J(p) v in mpmath at the float probs p: within 8 eps (1 + |2 - alpha| max|log p|)
    h_k, on random rows and rows built with a class of mass 1e-6 .. 1e-2 at the threshold."""
    rng = np.random.default_rng(int(alpha * 1000))
    a1 = alpha - 1
    for _ in range(12):
        k = int(rng.integers(2, 12))
        if rng.random() < 0.5:
            z = rng.normal(size=k) * rng.choice([0.01, 0.1, 1.0, 3.0])
        else:
            n = int(rng.integers(2, k + 1))
            q = rng.dirichlet(np.ones(n))
            q[rng.integers(n)] = 10 ** rng.uniform(-6, -2)
            b = (q / q.sum()) ** a1
            z = np.concatenate([(b - b.max()) / a1, -(1 + rng.random(k - n)) / a1])
        v = rng.normal(size=k) if rng.random() < 0.7 else np.eye(k)[rng.integers(k)]
        p = entmax(z, alpha)
        want, h = jvp_mpmath(p, v, alpha)
        log_p = np.abs(np.log(p[p > 0]))
        bound = 8 * EPS * (1 + abs(2 - alpha) * np.max(log_p)) * h
        assert np.all(np.abs(entmax_jvp(p, v, alpha) - want) <= bound)


@pytest.mark.parametrize(("alpha", "z"), HARD_ROWS)
def test_entmax_jvp_near_the_threshold(alpha, z):
    p = entmax(np.array(z), alpha)
    for v in [np.arange(len(z), dtype=float), np.eye(len(z))[-1]]:
        want, h = jvp_mpmath(p, v, alpha)
        log_p = np.abs(np.log(p[p > 0]))
        bound = 8 * EPS * (1 + abs(2 - alpha) * np.max(log_p)) * h
        assert np.all(np.abs(entmax_jvp(p, v, alpha) - want) <= bound)
