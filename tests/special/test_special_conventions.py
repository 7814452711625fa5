"""One argument convention for every row kernel (issue 12, DESIGN.md "Conventions").

``axis`` an int, a tuple of ints or None (the named axes together hold one distribution);
``keepdims`` wherever a kernel reduces; a boolean ``where=`` mask (JAX's convention: masked
entries are classes of probability 0, a fully masked row is the empty distribution);
``beta`` arrays broadcasting over the batch; 0-d input as one class (scipy's behaviour);
integer targets are class indices, float targets probability vectors of the logits' shape.
Expected values come from the same kernel on the hand-moved array or from closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import expfam

inf = np.inf
ROW_KERNELS = [expfam.softmax, expfam.log_softmax]
REDUCING = {
    "logsumexp": expfam.logsumexp,
    "entropy": expfam.entropy,
    "cross_entropy_0": lambda x, **kw: expfam.cross_entropy(x, 0, **kw),
    "kl_to_reversed": lambda x, **kw: expfam.kl_divergence(x, x[::-1, ::-1, ::-1], **kw),
}


@pytest.fixture(scope="module")
def x():
    rng = np.random.default_rng(12)
    return rng.standard_normal((3, 4, 5)) * np.array([1.0, 8.0, 40.0])[:, None, None]


def _by_hand(x, axes):
    """``x`` with ``axes`` moved last and flattened, and how to put a result back."""
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, kept + list(axes))
    flat = moved.reshape((*moved.shape[: len(kept)], -1))

    def back(out):
        return np.transpose(out.reshape(moved.shape), np.argsort(kept + list(axes)))

    return flat, back


@pytest.mark.parametrize("axis", [(1, 2), (0, 2), (2, 0), (0, 1, 2), None, (-1,)])
def test_axis_tuple_and_none_hold_one_distribution(x, axis):
    axes = tuple(range(x.ndim)) if axis is None else tuple(sorted(a % x.ndim for a in axis))
    flat, back = _by_hand(x, axes)
    for f in ROW_KERNELS:
        np.testing.assert_array_equal(f(x, axis=axis), back(f(flat)), err_msg=f.__name__)
    assert np.sum(expfam.softmax(x, axis=axis), axis=axes) == pytest.approx(1.0)
    for name, f in REDUCING.items():
        if name == "kl_to_reversed":
            q, _ = _by_hand(x[::-1, ::-1, ::-1], axes)
            expected = expfam.kl_divergence(flat, q)
        elif name == "cross_entropy_0":
            expected = expfam.cross_entropy(flat, 0)
        else:
            expected = f(flat)
        np.testing.assert_array_equal(f(x, axis=axis), expected, err_msg=name)
        kept = f(x, axis=axis, keepdims=True)
        assert kept.shape == tuple(1 if i in axes else n for i, n in enumerate(x.shape)), name
        np.testing.assert_array_equal(np.squeeze(kept, axis=axes), expected, err_msg=name)


def test_softmax_over_all_axes_matches_the_closed_form(x):
    """The peer case (scipy, torch): softmax over every axis is exp(x) / sum(exp(x))."""
    e = np.exp(x[0] - x[0].max())
    np.testing.assert_allclose(expfam.softmax(x[0], axis=None), e / e.sum(), rtol=1e-14)
    np.testing.assert_allclose(
        expfam.log_softmax(x[0], axis=(0, 1)), np.log(e / e.sum()), rtol=1e-13
    )


def test_cross_entropy_index_counts_in_c_order_over_the_class_axes(x):
    """With two class axes the index is into the flattened (C order) distribution."""
    for y in (0, 7, 19):
        np.testing.assert_array_equal(
            expfam.cross_entropy(x, y, axis=(1, 2)),
            -expfam.log_softmax(x.reshape(3, 20))[:, y],
        )


def test_axis_errors_name_axis(x):
    for bad in ((0, 0), (1, 5), 1.5, "1"):
        for f in (*ROW_KERNELS, *REDUCING.values()):
            with pytest.raises((ValueError, TypeError), match=r"\baxis\b"):
                f(x, axis=bad)


# ---------------------------------------------------------------- where= masks (JAX's)


def test_where_masked_entries_are_classes_of_probability_zero():
    """Ported from JAX's testSoftmaxWhereMask: the masked softmax is the softmax of the
    unmasked entries, with 0 in the masked places (log_softmax -inf)."""
    x = np.array([5.5, 1.3, -4.2, 0.9])
    m = np.array([True, False, True, True])
    p = expfam.softmax(x, where=m)
    np.testing.assert_array_equal(p[m], expfam.softmax(x[m]))
    assert p[1] == 0.0
    lp = expfam.log_softmax(x, where=m)
    np.testing.assert_array_equal(lp[m], expfam.log_softmax(x[m]))
    assert lp[1] == -inf
    assert expfam.logsumexp(x, where=m) == expfam.logsumexp(x[m])
    assert expfam.entropy(x, where=m) == expfam.entropy(x[m])
    assert expfam.cross_entropy(x, 2, where=m) == expfam.cross_entropy(x[m], 1)
    assert expfam.cross_entropy(x, 1, where=m) == inf
    q = x[::-1]
    assert expfam.kl_divergence(x, q, where=m) == expfam.kl_divergence(x[m], q[m])


def test_where_ignores_nan_and_inf_in_masked_places():
    x = np.array([1.0, np.nan, inf, 2.0])
    m = np.array([True, False, False, True])
    np.testing.assert_array_equal(
        expfam.softmax(x, where=m),
        [*expfam.softmax([1.0, 2.0])[:1], 0, 0, expfam.softmax([1.0, 2.0])[1]],
    )


def test_fully_masked_row_is_the_empty_distribution():
    """softmax 0, log_softmax and logsumexp -inf (not NaN); entropy and KL the empty sum."""
    x = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5]])
    m = np.array([[False, False, False], [True, True, False]])
    p = expfam.softmax(x, where=m)
    np.testing.assert_array_equal(p[0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(p[1], [*expfam.softmax(x[1, :2]), 0.0])
    np.testing.assert_array_equal(expfam.log_softmax(x, where=m)[0], [-inf] * 3)
    assert expfam.logsumexp(x, where=m)[0] == -inf
    assert expfam.logsumexp(x, where=m, b=np.ones(3))[0] == -inf
    assert expfam.entropy(x, where=m)[0] == 0.0
    assert expfam.kl_divergence(x, x[::-1], where=m)[0] == 0.0
    assert expfam.cross_entropy(x, np.array([0, 0]), where=m)[0] == inf
    np.testing.assert_array_equal(
        expfam.cross_entropy(x, np.array([[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]]), where=m[::-1]),
        [inf, 0.0],
    )
    assert expfam.cross_entropy(x, np.full((1, 3), 1 / 3), where=m)[0] == inf


def test_where_broadcasts_and_errors_name_it():
    x = np.zeros((2, 3))
    np.testing.assert_array_equal(
        expfam.softmax(x, where=np.array([True, True, False])), [[0.5, 0.5, 0.0]] * 2
    )
    with pytest.raises(ValueError, match=r"\bwhere\b"):
        expfam.softmax(x, where=np.ones(2, dtype=bool))
    with pytest.raises(TypeError, match=r"\bwhere\b"):
        expfam.log_softmax(x, where=np.ones(3))


# ---------------------------------------------------------------- beta arrays


def test_beta_array_is_one_temperature_per_row(x):
    beta = np.array([0.0, 0.5, 3.0, inf])
    rows = x[1]  # (4, 5)
    for f in (*ROW_KERNELS,):
        expected = np.stack([f(r, beta=b) for r, b in zip(rows, beta, strict=True)])
        np.testing.assert_array_equal(f(rows, beta=beta), expected, err_msg=f.__name__)
        np.testing.assert_array_equal(f(rows, beta=beta[:, None]), expected)  # keepdims form
    expected = [expfam.cross_entropy(r, 2, beta=b) for r, b in zip(rows, beta, strict=True)]
    np.testing.assert_array_equal(expfam.cross_entropy(rows, 2, beta=beta), expected)
    soft = np.full((1, 5), 0.2)
    expected = [expfam.cross_entropy(r, soft[0], beta=b) for r, b in zip(rows, beta, strict=True)]
    np.testing.assert_array_equal(expfam.cross_entropy(rows, soft, beta=beta), expected)


def test_beta_array_along_another_axis_and_extending_the_batch(x):
    beta = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
    out = expfam.softmax(x, axis=1, beta=beta)  # batch (3, 5): beta runs along axis 2
    for j, b in enumerate(beta):
        np.testing.assert_array_equal(out[:, :, j], expfam.softmax(x[:, :, j], axis=1, beta=b))
    betas = np.array([0.25, 1.0, 7.0])
    out = expfam.softmax(x[0, 0], beta=betas)  # one row, three temperatures
    assert out.shape == (3, 5)
    for i, b in enumerate(betas):
        np.testing.assert_array_equal(out[i], expfam.softmax(x[0, 0], beta=b))
    # numpy's broadcasting against x, with length 1 on the class axis, reads the same
    np.testing.assert_array_equal(expfam.softmax(x[0, 0], beta=betas[:, None]), out)
    np.testing.assert_array_equal(
        expfam.log_softmax(x, axis=1, beta=beta[None, None, :]),
        expfam.log_softmax(x, axis=1, beta=beta),
    )


@pytest.mark.parametrize(
    "beta", ["2", [1.0, "a"], None, True], ids=["str", "mixed", "None", "bool"]
)
def test_beta_that_is_not_a_number_raises_type_error_naming_it(beta):
    for f in (*ROW_KERNELS, lambda x, beta: expfam.cross_entropy(x, 0, beta=beta)):
        with pytest.raises(TypeError, match=r"\bbeta\b"):
            f([1.0, 2.0], beta=beta)


@pytest.mark.parametrize("beta", [[1.0, -1.0], [np.nan], np.ones(3)], ids=["neg", "nan", "shape"])
def test_bad_beta_array_raises_value_error_naming_it(beta):
    for f in (*ROW_KERNELS, lambda x, beta: expfam.cross_entropy(x, 0, beta=beta)):
        with pytest.raises(ValueError, match=r"\bbeta\b"):
            f(np.zeros((2, 4)), beta=beta)


# ---------------------------------------------------------------- 0-d input


def test_zero_dimensional_input_is_one_class():
    """scipy's behaviour: softmax(3.0) is 1.0 and logsumexp(3.0) is 3.0."""
    assert expfam.softmax(3.0) == 1.0
    assert expfam.softmax(3.0, axis=None) == 1.0
    assert expfam.log_softmax(3.0) == 0.0
    assert expfam.logsumexp(3.0) == 3.0
    assert expfam.logsumexp(3.0, b=2.0) == 3.0 + math.log(2.0)
    assert expfam.entropy(3.0) == 0.0
    assert expfam.cross_entropy(3.0, 0) == 0.0
    assert expfam.kl_divergence(3.0, -4.0) == 0.0
    for f in (expfam.softmax, expfam.logsumexp, expfam.entropy):
        assert np.ndim(f(3.0)) == 0
    assert np.ndim(expfam.logsumexp(3.0, keepdims=True)) == 0
    assert expfam.softmax(np.float32(3.0)).dtype == np.float32
    np.testing.assert_array_equal(expfam.softmax(3.0, beta=[1.0, 2.0]), [1.0, 1.0])


# ---------------------------------------------------------------- targets


def test_float_target_of_the_logits_shape_is_a_probability_vector(x):
    rows = x[2]
    y = np.array([4, 0, 2, 1])
    np.testing.assert_array_equal(
        expfam.cross_entropy(rows, np.eye(5)[y]), expfam.cross_entropy(rows, y)
    )
    np.testing.assert_array_equal(  # batch axes of length 1 broadcast
        expfam.cross_entropy(rows, np.eye(5)[[3]]), expfam.cross_entropy(rows, 3)
    )


@pytest.mark.parametrize(
    "target",
    [2.0, np.array([0.0, 1.0, 2.0, 3.0]), np.ones((4, 4)) / 4, np.ones((2, 4, 5)) / 5],
    ids=["float-scalar", "float-batch-shape", "wrong-K", "extra-axis"],
)
def test_float_target_of_another_shape_raises_value_error_naming_it(x, target):
    with pytest.raises(ValueError, match=r"\btarget\b"):
        expfam.cross_entropy(x[2], target)


def test_index_target_errors_name_target(x):
    with pytest.raises(ValueError, match=r"\btarget\b"):
        expfam.cross_entropy(x[2], np.array([0, 1, 2]))  # batch of 4
    with pytest.raises(TypeError, match=r"\btarget\b"):
        expfam.cross_entropy(x[2], np.array(["a"] * 4))


# ---------------------------------------------------------------- hypothesis


@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=st.floats(-50, 50)
    ),
    st.data(),
)
def test_masked_rows_equal_the_kernels_on_their_unmasked_entries(x, data):
    mask = data.draw(hnp.arrays(np.bool_, x.shape))
    p, lp = expfam.softmax(x, where=mask), expfam.log_softmax(x, where=mask)
    lse, h = expfam.logsumexp(x, where=mask), expfam.entropy(x, where=mask)
    for i, (row, m) in enumerate(zip(x, mask, strict=True)):
        if not m.any():
            assert (p[i] == 0).all() and (lp[i] == -inf).all() and lse[i] == -inf and h[i] == 0
            continue
        np.testing.assert_array_equal(p[i][m], expfam.softmax(row[m]))
        np.testing.assert_array_equal(lp[i][m], expfam.log_softmax(row[m]))
        assert (p[i][~m] == 0).all() and (lp[i][~m] == -inf).all()
        assert lse[i] == expfam.logsumexp(row[m]) and h[i] == expfam.entropy(row[m])


@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=st.floats(-50, 50)
    ),
    st.data(),
)
def test_beta_array_equals_the_loop_over_rows(x, data):
    beta = data.draw(
        hnp.arrays(np.float64, x.shape[:1], elements=st.sampled_from([0.0, 0.3, 1.0, 7.0, inf]))
    )
    p, lp = expfam.softmax(x, beta=beta), expfam.log_softmax(x, beta=beta)
    for i, b in enumerate(beta):
        np.testing.assert_array_equal(p[i], expfam.softmax(x[i], beta=b))
        np.testing.assert_array_equal(lp[i], expfam.log_softmax(x[i], beta=b))
