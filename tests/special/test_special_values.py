"""Special values, shapes, dtypes and bad arguments of expfam.special (issue 2, DESIGN.md).

One convention for the family: a ``-inf`` logit is a class of probability 0; one ``+inf``
logit takes all the mass and several share it equally; a row of all ``-inf`` has no
distribution (logsumexp -inf, softmax and log_softmax nan); NaN in gives NaN out, row by row;
empty in gives empty out, and the logsumexp of an empty sum is -inf for every axis choice.
pytest turns any RuntimeWarning into an error, so every test here also checks that none
escapes. Expected values are closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import expfam

inf, nan = np.inf, np.nan
LOG2 = math.log(2.0)
FLOATS = [np.float16, np.float32, np.float64]


def _same(actual, expected):
    """Equal elementwise, NaN equal to NaN, -0.0 equal to 0.0."""
    np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected, dtype=float))


def _close(actual, expected):
    """Within 1 ULP (float64) of a closed form that is not a float, infinities equal."""
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected, dtype=float), rtol=2.3e-16)


def _log(p):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(p, dtype=float))


# ---------------------------------------------------------------- -inf: probability 0


def test_minus_inf_logit_is_a_class_of_probability_zero():
    x = np.array([0.0, -inf, LOG2])
    p = expfam.softmax(x)
    assert p[1] == 0.0
    np.testing.assert_allclose(p[[0, 2]], [1 / 3, 2 / 3], rtol=4e-16)
    ls = expfam.log_softmax(x)
    assert ls[1] == -inf
    np.testing.assert_allclose(ls[[0, 2]], [-math.log(3), math.log(2 / 3)], rtol=4e-16)
    np.testing.assert_allclose(expfam.logsumexp(x), math.log(3), rtol=4e-16)


def test_minus_inf_logit_in_entropy_cross_entropy_and_kl():
    assert expfam.entropy(np.array([0.0, -inf])) == 0.0
    np.testing.assert_allclose(expfam.entropy(np.array([1.0, -inf, 1.0])), LOG2, rtol=4e-16)
    assert expfam.cross_entropy(np.array([0.0, -inf]), 1) == inf
    assert expfam.cross_entropy(np.array([0.0, -inf]), 0) == 0.0
    # a zero target weight on an impossible class contributes 0 (0 log 0 = 0)
    np.testing.assert_allclose(
        expfam.cross_entropy(np.array([0.0, -inf, 0.0]), np.array([0.5, 0.0, 0.5])),
        LOG2,
        rtol=4e-16,
    )
    # p puts no mass where q is impossible: finite; p has mass where q has none: +inf
    np.testing.assert_allclose(
        expfam.kl_divergence(np.array([0.0, -inf]), np.array([0.0, 0.0])), LOG2, rtol=4e-16
    )
    assert expfam.kl_divergence(np.array([0.0, 0.0]), np.array([0.0, -inf])) == inf
    assert expfam.kl_divergence(np.array([0.0, -inf]), np.array([0.0, -inf])) == 0.0


def test_kl_on_the_boundary_of_the_simplex():
    """p = (a, 0, 1 - a) against uniform q: KL = log 3 + a log a + (1 - a) log(1 - a)."""
    a = 1 / (1 + math.e)
    expected = math.log(3) + a * math.log(a) + (1 - a) * math.log1p(-a)
    got = expfam.kl_divergence(np.array([0.0, -inf, 1.0]), np.zeros(3))
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    # the same class impossible under both: it drops out (KL of the two-class rows)
    both = expfam.kl_divergence(np.array([0.0, -inf, 1.0]), np.array([0.0, -inf, 0.0]))
    np.testing.assert_allclose(both, math.log(2) + a * math.log(a) + (1 - a) * math.log1p(-a))


# ---------------------------------------------------------------- +inf: all the mass


@pytest.mark.parametrize(
    ("x", "p"),
    [
        ([1.0, inf, 2.0], [0.0, 1.0, 0.0]),
        ([inf, -inf], [1.0, 0.0]),
        ([inf, 0.0, inf], [0.5, 0.0, 0.5]),
        ([inf, inf, inf, inf], [0.25, 0.25, 0.25, 0.25]),
        ([-inf, inf, 1e308, inf], [0.0, 0.5, 0.0, 0.5]),
    ],
)
def test_plus_inf_takes_all_the_mass_and_ties_share_it(x, p):
    x = np.array(x)
    _same(expfam.softmax(x), p)
    ls = expfam.log_softmax(x)
    _close(ls, _log(p))
    assert expfam.logsumexp(x) == inf
    # the three agree: softmax = exp(log_softmax)
    _close(np.exp(ls), expfam.softmax(x))


@pytest.mark.parametrize("beta", [0.5, 1.0, 500.0])
def test_plus_inf_rule_holds_at_every_temperature(beta):
    x = np.array([inf, 3.0, inf])
    _same(expfam.softmax(x, beta=beta), [0.5, 0.0, 0.5])
    _close(expfam.log_softmax(x, beta=beta), [-LOG2, -inf, -LOG2])


def test_plus_inf_in_entropy_cross_entropy():
    assert expfam.entropy(np.array([inf, 0.0])) == 0.0
    np.testing.assert_allclose(expfam.entropy(np.array([inf, 0.0, inf])), LOG2, rtol=4e-16)
    assert expfam.cross_entropy(np.array([inf, 0.0]), 0) == 0.0
    assert expfam.cross_entropy(np.array([inf, 0.0]), 1) == inf
    # a soft target with mass on a class the +inf logit leaves impossible: infinite loss
    assert expfam.cross_entropy(np.array([inf, 0.0]), np.array([0.5, 0.5])) == inf
    assert expfam.cross_entropy(np.array([0.0, -inf]), np.array([0.5, 0.5])) == inf
    half = np.array([0.5, 0.0, 0.5])
    np.testing.assert_allclose(expfam.cross_entropy([inf, 0.0, inf], half), LOG2, rtol=4e-16)


# ---------------------------------------------------------------- all -inf, NaN


def test_all_minus_inf_row_has_no_distribution():
    x = np.array([[-inf, -inf, -inf], [0.0, 0.0, -inf]])
    _close(expfam.logsumexp(x), [-inf, LOG2])
    p = expfam.softmax(x)
    assert np.isnan(p[0]).all()
    _same(p[1], [0.5, 0.5, 0.0])
    ls = expfam.log_softmax(x)
    assert np.isnan(ls[0]).all()
    _close(ls[1], [-LOG2, -LOG2, -inf])


@pytest.mark.parametrize("bad", [nan, -inf, inf])
def test_nan_in_gives_nan_out_row_by_row(bad):
    x = np.array([[0.0, nan, bad], [1.0, 2.0, 3.0]])
    for f in (expfam.softmax, expfam.log_softmax):
        out = f(x)
        assert np.isnan(out[0]).all(), f.__name__
        assert np.isfinite(out[1]).all(), f.__name__
    lse = expfam.logsumexp(x)
    assert np.isnan(lse[0])
    assert np.isfinite(lse[1])
    assert np.isnan(expfam.entropy(x)[0])
    assert np.isfinite(expfam.entropy(x)[1])
    assert np.isnan(expfam.cross_entropy(x, np.array([0, 0]))[0])
    assert np.isnan(expfam.kl_divergence(x, np.zeros(3))[0])
    assert np.isnan(expfam.kl_divergence(np.zeros(3), x)[0])


@pytest.mark.parametrize(
    ("f", "inside"),
    [
        (expfam.sigmoid, -0.5),
        (expfam.log_sigmoid, -0.5),
        (expfam.softplus, -0.5),
        (expfam.logit, 0.25),
        (expfam.log1mexp, -0.5),
    ],
)
def test_elementwise_nan_in_gives_nan_out(f, inside):
    out = f(np.array([nan, inside]))
    assert np.isnan(out[0])
    assert np.isfinite(out[1])


def test_elementwise_limits():
    _same(expfam.sigmoid(np.array([-inf, inf, 0.0])), [0.0, 1.0, 0.5])
    _close(expfam.log_sigmoid(np.array([-inf, inf, 0.0])), [-inf, 0.0, -LOG2])
    _close(expfam.softplus(np.array([-inf, inf, 0.0])), [0.0, inf, LOG2])
    _same(expfam.logit(np.array([0.0, 1.0, 0.5])), [-inf, inf, 0.0])
    _close(expfam.log1mexp(np.array([-inf, 0.0, -LOG2])), [0.0, -inf, -LOG2])


def test_elementwise_outside_the_domain_is_nan_without_warning():
    assert np.isnan(expfam.logit(np.array([-0.5, 1.5]))).all()
    assert np.isnan(expfam.log1mexp(np.array([0.5, inf]))).all()


# ---------------------------------------------------------------- empty inputs


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 3), (2, 0, 4)])
def test_empty_in_gives_empty_out(shape):
    x = np.empty(shape)
    for f in (expfam.softmax, expfam.log_softmax):
        assert f(x).shape == shape, f.__name__
    for f in (expfam.sigmoid, expfam.log_sigmoid, expfam.softplus, expfam.logit):
        assert f(x).shape == shape, f.__name__
    assert expfam.log1mexp(-x).shape == shape
    reduced = shape[:-1]
    _same(expfam.logsumexp(x), np.full(reduced, -inf) if shape[-1] == 0 else np.empty(reduced))
    assert expfam.entropy(x).shape == reduced
    assert expfam.kl_divergence(x, x).shape == reduced


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 3), (2, 0, 4)])
def test_logsumexp_of_an_empty_sum_is_minus_inf_for_every_axis(shape):
    x = np.empty(shape)
    assert expfam.logsumexp(x, axis=None) == -inf
    assert expfam.logsumexp(x, axis=tuple(range(x.ndim))) == -inf
    for axis in range(-x.ndim, x.ndim):
        out = expfam.logsumexp(x, axis=axis)
        expected_shape = shape[: axis % x.ndim] + shape[axis % x.ndim + 1 :]
        assert out.shape == expected_shape
        if shape[axis] == 0:
            assert (out == -inf).all()
        kept = expfam.logsumexp(x, axis=axis, keepdims=True)
        assert kept.shape == tuple(1 if i == axis % x.ndim else n for i, n in enumerate(shape))


# ---------------------------------------------------------------- dtypes, array-likes, axes


ALL = {
    "logsumexp": expfam.logsumexp,
    "softmax": expfam.softmax,
    "log_softmax": expfam.log_softmax,
    "sigmoid": expfam.sigmoid,
    "log_sigmoid": expfam.log_sigmoid,
    "softplus": expfam.softplus,
    "entropy": expfam.entropy,
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ALL)
def test_dtype_in_is_dtype_out(name, dtype):
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]], dtype=dtype)
    assert ALL[name](x).dtype == dtype
    assert expfam.logit(np.array([0.25, 0.5], dtype=dtype)).dtype == dtype
    assert expfam.log1mexp(np.array([-0.25, -3.0], dtype=dtype)).dtype == dtype
    assert expfam.kl_divergence(x, x[::-1]).dtype == dtype
    assert expfam.cross_entropy(x, np.array([0, 2])).dtype == dtype
    assert expfam.softmax(x, beta=3.0).dtype == dtype


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16, np.bool_])
@pytest.mark.parametrize("name", ALL)
def test_integers_and_bools_promote_to_float64(name, dtype):
    x = np.array([[1, 0, 1], [0, 1, 1]], dtype=dtype)
    out = ALL[name](x)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, ALL[name](x.astype(np.float64)))


def test_array_likes_are_accepted():
    rows = [[0.1, -2.0, 3.4, 3.3], [1.0, 1.0, 1.0, 1.0]]
    for name, f in ALL.items():
        np.testing.assert_array_equal(f(rows), f(np.array(rows)), err_msg=name)
        np.testing.assert_array_equal(f((0.5, 1.5)), f(np.array([0.5, 1.5])), err_msg=name)
    assert np.ndim(expfam.logsumexp([1.0, 2.0])) == 0
    np.testing.assert_array_equal(expfam.sigmoid(0.0), 0.5)
    np.testing.assert_array_equal(
        expfam.cross_entropy(rows, [2, 0]), expfam.cross_entropy(np.array(rows), np.array([2, 0]))
    )
    np.testing.assert_array_equal(
        expfam.kl_divergence(rows, rows[::-1]),
        expfam.kl_divergence(np.array(rows), np.array(rows[::-1])),
    )


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    return rng.standard_normal((3, 4, 6)) * np.array([1.0, 30.0, 300.0])[:, None, None]


@pytest.mark.parametrize("axis", [0, 1, -2, 2])
def test_axis_other_than_last(batch, axis):
    moved = np.moveaxis(batch, axis, -1)
    for f in (expfam.softmax, expfam.log_softmax):
        np.testing.assert_array_equal(
            f(batch, axis=axis), np.moveaxis(f(moved), -1, axis), err_msg=f.__name__
        )
    np.testing.assert_array_equal(expfam.logsumexp(batch, axis=axis), expfam.logsumexp(moved))
    kept = expfam.logsumexp(batch, axis=axis, keepdims=True)
    np.testing.assert_array_equal(kept, np.expand_dims(expfam.logsumexp(moved), axis))


def test_logsumexp_over_several_axes_and_all(batch):
    full = expfam.logsumexp(batch, axis=None)
    assert np.ndim(full) == 0
    np.testing.assert_allclose(full, expfam.logsumexp(batch.ravel()), rtol=1e-15)
    np.testing.assert_allclose(
        expfam.logsumexp(batch, axis=(0, 2)),
        expfam.logsumexp(np.moveaxis(batch, 1, 0).reshape(4, -1)),
        rtol=1e-15,
    )
    assert expfam.logsumexp(batch, axis=(0, 2), keepdims=True).shape == (1, 4, 1)


def test_batching_equals_the_loop_over_rows(batch):
    target = np.array([[0, 5, 2, 3]] * 3)
    soft = np.full(6, 1 / 8)
    soft[0] = 3 / 8
    q = batch[::-1]
    for i, j in np.ndindex(*batch.shape[:2]):
        row = batch[i, j]
        np.testing.assert_array_equal(expfam.softmax(batch)[i, j], expfam.softmax(row))
        np.testing.assert_array_equal(expfam.log_softmax(batch)[i, j], expfam.log_softmax(row))
        assert expfam.logsumexp(batch)[i, j] == expfam.logsumexp(row)
        assert expfam.entropy(batch)[i, j] == expfam.entropy(row)
        assert expfam.cross_entropy(batch, target)[i, j] == expfam.cross_entropy(row, target[i, j])
        soft_batch = expfam.cross_entropy(batch, soft[None, None])  # a target has K's axes
        assert soft_batch[i, j] == expfam.cross_entropy(row, soft)
        assert expfam.kl_divergence(batch, q)[i, j] == expfam.kl_divergence(row, q[i, j])


def test_leading_axes_broadcast_between_arguments():
    p = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    q = np.array([0.5, 0.5, -1.0])
    np.testing.assert_array_equal(
        expfam.kl_divergence(p, q), [expfam.kl_divergence(p[0], q), expfam.kl_divergence(p[1], q)]
    )
    b = np.array([1.0, 2.0, 0.5])
    np.testing.assert_array_equal(
        expfam.logsumexp(p, b=b), [expfam.logsumexp(p[0], b=b), expfam.logsumexp(p[1], b=b)]
    )


def test_logsumexp_return_sign_and_zero_sum():
    value, sign = expfam.logsumexp([1.0, 2.0], b=[1.0, -1.0], return_sign=True)
    assert sign == -1
    np.testing.assert_allclose(value, 2.0 + math.log(-math.expm1(-1.0)), rtol=4e-16)
    value, sign = expfam.logsumexp([3.0, 3.0], b=[1.0, -1.0], return_sign=True)
    assert value == -inf
    value, sign = expfam.logsumexp([0.0, 1.0], return_sign=True)
    assert sign == 1


def test_beta_zero_is_the_uniform_distribution():
    x = np.array([1000.0, -3.0, 5.0, 0.0])
    _same(expfam.softmax(x, beta=0.0), [0.25] * 4)
    np.testing.assert_allclose(expfam.log_softmax(x, beta=0.0), [-math.log(4)] * 4, rtol=4e-16)


def test_beta_zero_keeps_the_boundary_of_the_simplex():
    """softmax(beta x) for beta -> 0+: -inf stays impossible, +inf keeps all the mass."""
    _same(expfam.softmax([0.0, -inf, 1.0], beta=0.0), [0.5, 0.0, 0.5])
    _close(expfam.log_softmax([0.0, -inf, 1.0], beta=0.0), [-LOG2, -inf, -LOG2])
    _same(expfam.softmax([0.0, inf, 1.0], beta=0.0), [0.0, 1.0, 0.0])


# ---------------------------------------------------------------- bad arguments


def _named(name):
    """A regex matching the argument's name as a word in the error message."""
    return rf"\b{name}\b"


NON_NUMERIC = [np.array(["a", "b"]), np.array([object(), object()]), ["x", 1.0]]


@pytest.mark.parametrize("x", NON_NUMERIC, ids=["str", "object", "mixed-list"])
def test_non_numeric_array_raises_type_error_naming_it(x):
    with pytest.raises(TypeError, match=_named("a")):
        expfam.logsumexp(x)
    for f in (expfam.softmax, expfam.log_softmax):
        with pytest.raises(TypeError, match=_named("x")):
            f(x)
    with pytest.raises(TypeError, match=_named("logits")):
        expfam.entropy(x)
    with pytest.raises(TypeError, match=_named("logits")):
        expfam.cross_entropy(x, 0)
    with pytest.raises(TypeError, match=_named("logits_p")):
        expfam.kl_divergence(x, [0.0, 0.0])
    with pytest.raises(TypeError, match=_named("logits_q")):
        expfam.kl_divergence([0.0, 0.0], x)
    with pytest.raises(TypeError, match=_named("p")):
        expfam.logit(x)
    for f in (expfam.sigmoid, expfam.log_sigmoid, expfam.softplus, expfam.log1mexp):
        with pytest.raises(TypeError):
            f(x)


@pytest.mark.parametrize("axis", [2, -3, 5])
def test_axis_out_of_range_raises_value_error(axis):
    x = np.zeros((2, 3))
    for f in (expfam.logsumexp, expfam.softmax, expfam.log_softmax):
        with pytest.raises(ValueError, match=_named("axis")):
            f(x, axis=axis)
    with pytest.raises(ValueError, match=_named("axis")):
        expfam.logsumexp(x, axis=(0, axis))


def test_b_that_does_not_broadcast_raises_value_error():
    with pytest.raises(ValueError, match=_named("b")):
        expfam.logsumexp([1.0, 2.0, 3.0], b=[1.0, 2.0])
    with pytest.raises(ValueError, match=_named("b")):
        expfam.logsumexp(np.zeros((2, 3)), b=np.ones((3, 2)))


@pytest.mark.parametrize("beta", [-1.0, -1e-300, -inf])
def test_negative_beta_raises_value_error(beta):
    for f in (expfam.softmax, expfam.log_softmax):
        with pytest.raises(ValueError, match=_named("beta")):
            f([1.0, 2.0], beta=beta)


@pytest.mark.parametrize("target", [3, 30, [0, 3]], ids=["K", "10K", "in-batch"])
def test_cross_entropy_class_out_of_range_raises_value_error(target):
    logits = np.zeros((2, 3)) if np.ndim(target) else np.zeros(3)
    with pytest.raises(ValueError, match=_named("target")):
        expfam.cross_entropy(logits, target)


def test_cross_entropy_target_of_wrong_length_raises_value_error():
    with pytest.raises(ValueError, match=_named("target")):
        expfam.cross_entropy(np.zeros(3), np.array([0.5, 0.5]))


def test_infinite_beta_is_the_argmax_with_ties_sharing():
    """The limit of softmax(beta z) as beta grows (004): one-hot argmax, ties share."""
    _same(expfam.softmax([1.0, 3.0, 3.0, -2.0], beta=inf), [0.0, 0.5, 0.5, 0.0])
    _same(expfam.softmax([1.0, 3.0, 2.0], beta=inf), [0.0, 1.0, 0.0])
    _close(expfam.log_softmax([1.0, 3.0, 3.0], beta=inf), [-inf, -LOG2, -LOG2])


# ---------------------------------------------------------------- large batches

_DISTINCT_ROWS = np.array(
    [
        [0.1, -2.0, 3.4, 3.3, 0.0],
        [1000.0, 1001.0, 1002.0, 999.0, -1000.0],
        [0.0, -40.0, -745.0, -800.0, -1e5],
        [inf, 0.0, inf, 1.0, 2.0],
        [-inf, -inf, -inf, -inf, -inf],
        [nan, 0.0, 1.0, 2.0, 3.0],
        [0.0, -inf, 1.0, 2.0, 3.0],
        [1e308, -1e308, 0.0, 1.0, 2.0],
        [2.0, 2.0, 2.0, 2.0, 2.0],
        [18.0054, -18.7787, -17.3556, -18.8874, 0.5],
    ]
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_batch_equals_its_rows(dtype):
    """2**18 rows (past the block size and the threading threshold) mixing special rows."""
    finite = np.isfinite(_DISTINCT_ROWS)
    rows = np.where(finite, np.clip(_DISTINCT_ROWS, -3e38, 3e38), _DISTINCT_ROWS).astype(dtype)
    reps = 2**18 // len(rows) + 1
    batch = np.tile(rows, (reps, 1))
    which = np.arange(batch.shape[0]) % len(rows)
    for f in (expfam.softmax, expfam.log_softmax):
        per_row = np.stack([f(r) for r in rows])
        np.testing.assert_array_equal(f(batch), per_row[which], err_msg=f.__name__)
        np.testing.assert_array_equal(
            f(batch, beta=0.5), np.stack([f(r, beta=0.5) for r in rows])[which]
        )
    for f in (expfam.logsumexp, expfam.entropy):
        per_row = np.array([f(r) for r in rows])
        np.testing.assert_array_equal(f(batch), per_row[which], err_msg=f.__name__)
    q = rows[::-1]
    per_row = np.array([expfam.kl_divergence(r, s) for r, s in zip(rows, q, strict=True)])
    np.testing.assert_array_equal(
        expfam.kl_divergence(batch, np.tile(q, (reps, 1))), per_row[which]
    )
    target = which % 5
    per_row = np.array([expfam.cross_entropy(r, i % 5) for i, r in enumerate(rows)])
    np.testing.assert_array_equal(expfam.cross_entropy(batch, target), per_row[which])


def test_weighted_logsumexp_along_any_axis_equals_the_loop(batch):
    rng = np.random.default_rng(11)
    b = rng.uniform(-1.0, 2.0, batch.shape)
    for axis in (0, 1, 2):
        value, sign = expfam.logsumexp(batch, axis=axis, b=b, return_sign=True)
        moved_a, moved_b = np.moveaxis(batch, axis, -1), np.moveaxis(b, axis, -1)
        assert value.shape == sign.shape == moved_a.shape[:-1]
        for idx in np.ndindex(*moved_a.shape[:-1]):
            v, s = expfam.logsumexp(moved_a[idx], b=moved_b[idx], return_sign=True)
            assert (value[idx], sign[idx]) == (v, s)
        kept = expfam.logsumexp(batch, axis=axis, b=np.abs(b), keepdims=True)
        assert kept.shape == tuple(1 if i == axis else n for i, n in enumerate(batch.shape))
