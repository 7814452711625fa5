"""The Bernoulli family: the sigmoid as the two-class softmax, and its exact bridge."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from expfam import Bernoulli, Categorical, sigmoid, softplus

finite = st.floats(-700, 700, allow_nan=False, allow_infinity=False)


def test_logit_must_be_given_by_keyword():
    with pytest.raises(TypeError):
        Bernoulli(0.3)  # type: ignore[misc]


@given(st.floats(-40, 40), st.floats(-40, 40))
def test_two_class_softmax_is_sigmoid_of_the_difference(w1, w2):
    # seed 003: softmax((w1, w2))_1 = sigmoid(w1 - w2)
    two_class = Categorical(logits=[w1, w2])
    bern = Bernoulli(logit=w1 - w2)
    np.testing.assert_allclose(two_class.probs[0], bern.probs, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(two_class.entropy(), bern.entropy(), rtol=1e-12, atol=1e-300)


@given(finite)
def test_to_categorical_is_logits_w_and_zero(w):
    bern = Bernoulli(logit=w)
    cat = bern.to_categorical()
    np.testing.assert_array_equal(cat.logits, [w, 0.0])
    np.testing.assert_allclose(cat.probs[0], bern.probs, rtol=1e-14, atol=1e-300)
    np.testing.assert_array_equal(cat.natural, bern.natural)
    np.testing.assert_allclose(cat.log_partition(), bern.log_partition(), rtol=1e-14)
    np.testing.assert_allclose(cat.fisher(), bern.fisher(), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(cat.log_prob(0), bern.log_prob(1), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(cat.log_prob(1), bern.log_prob(0), rtol=1e-14, atol=1e-300)


def test_bridge_preserves_kl_and_cross_entropy():
    rng = np.random.default_rng(0)
    p, q = Bernoulli(logit=rng.normal(size=5)), Bernoulli(logit=rng.normal(size=5))
    pc, qc = p.to_categorical(), q.to_categorical()
    np.testing.assert_allclose(p.kl(q), pc.kl(qc), rtol=1e-15)
    np.testing.assert_allclose(p.cross_entropy(q), pc.cross_entropy(qc), rtol=1e-15)
    a, b = p.probs, q.probs
    expected = a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b))
    np.testing.assert_allclose(p.kl(q), expected, rtol=1e-10)


def test_log_partition_is_softplus_and_mean_is_sigmoid():
    w = np.linspace(-30, 30, 61)
    d = Bernoulli(logit=w)
    np.testing.assert_array_equal(d.log_partition(), softplus(w))
    np.testing.assert_array_equal(d.probs, sigmoid(w))
    np.testing.assert_array_equal(d.mean[..., 0], d.probs)


def test_fisher_is_p_times_one_minus_p_accurately_in_the_tails():
    w = np.array([-40.0, -5.0, 0.0, 5.0, 40.0])
    d = Bernoulli(logit=w)
    # p (1 - p) = e^w / (1 + e^w)^2, evaluated where it cannot cancel
    expected = np.exp(-np.abs(w)) / (1 + np.exp(-np.abs(w))) ** 2
    np.testing.assert_allclose(d.fisher()[..., 0, 0], expected, rtol=1e-14)


def test_from_prob_round_trip():
    p = np.array([1e-12, 0.1, 0.5, 0.9, 1 - 1e-12])
    np.testing.assert_allclose(Bernoulli.from_probs(p).probs, p, rtol=1e-14)
    np.testing.assert_allclose(Bernoulli(logit=Bernoulli.from_probs(p).logit).probs, p, rtol=1e-4)


def test_mode_and_tempered():
    d = Bernoulli(logit=[-1.0, 2.0])
    np.testing.assert_array_equal(d.mode(), [0, 1])
    np.testing.assert_allclose(d.tempered(0.0).probs, [0.5, 0.5])
    np.testing.assert_allclose(d.tempered(3.0).logit, [-3.0, 6.0])


# ------------------------------------------------------------------ the boundary
EDGE = Bernoulli(logit=[-np.inf, np.inf])  # p = 0 and p = 1


def test_boundary_probabilities_and_zero_entropy():
    np.testing.assert_array_equal(EDGE.probs, [0.0, 1.0])
    np.testing.assert_array_equal(EDGE.entropy(), [0.0, 0.0])
    np.testing.assert_array_equal(Bernoulli.from_probs([0.0, 1.0]).logit, [-np.inf, np.inf])


def test_boundary_log_prob_and_kl():
    np.testing.assert_array_equal(EDGE.log_prob(1), [-np.inf, 0.0])
    np.testing.assert_array_equal(EDGE.log_prob(0), [0.0, -np.inf])
    half = Bernoulli(logit=[0.0, 0.0])
    np.testing.assert_allclose(EDGE.kl(half), np.log(2), rtol=1e-15)
    np.testing.assert_array_equal(half.kl(EDGE), [np.inf, np.inf])


def test_boundary_fisher_and_natural_gradient_are_zero_not_nan():
    np.testing.assert_array_equal(EDGE.fisher()[..., 0, 0], [0.0, 0.0])
    np.testing.assert_array_equal(EDGE.natural_gradient(np.ones((2, 1))), np.zeros((2, 1)))


def test_boundary_sampling_never_draws_the_impossible_outcome():
    samples = EDGE.sample((10_000,), rng=0)
    assert np.all(samples[:, 0] == 0)
    assert np.all(samples[:, 1] == 1)


def test_boundary_tempering_stays_on_the_boundary():
    np.testing.assert_array_equal(EDGE.tempered(0.0).probs, [0.0, 1.0])


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: Bernoulli(logit=np.nan), "logit"),
        (lambda: Bernoulli.from_probs(1.5), "probs"),
        (lambda: Bernoulli.from_probs(-0.1), "probs"),
        (lambda: Bernoulli.from_natural([0.0, 1.0]), "natural"),
        (lambda: Bernoulli.from_mean([0.5, 0.5]), "mean"),
        (lambda: Bernoulli.from_mean([1.5]), "mean"),
        (lambda: Bernoulli(logit=0.0).log_prob(2), "x"),
        (lambda: Bernoulli(logit=0.0).tempered(-1.0), "beta"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_kl_between_logits_plus_and_minus_1e308_is_finite():
    """Issue 12, bug 3: the logit difference 2e308 overflowed inside the centred series
    (NaN). KL = p log(p / q) + ... = 1e308 (log q = -1e308 where p has its mass)."""
    kl = Bernoulli(logit=1e308).kl(Bernoulli(logit=-1e308))
    assert kl == pytest.approx(1e308, rel=1e-15)
    assert Bernoulli(logit=-1e308).kl(Bernoulli(logit=1e308)) == pytest.approx(1e308, rel=1e-15)


def test_tempered_beyond_the_float_range_and_at_beta_inf():
    """Issue 21: logit 1e308 tempered by 2 warned of overflow; the product rounds to inf."""
    np.testing.assert_array_equal(Bernoulli(logit=1e308).tempered(2.0).logit, np.inf)
    d = Bernoulli(logit=np.array([-0.5, 0.0, 3.0, -np.inf]))
    np.testing.assert_array_equal(d.tempered(np.inf).probs, [0.0, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(d.tempered(0.0).probs, [0.5, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(d.tempered(2.5).probs[:3], sigmoid(2.5 * d.logit[:3]), rtol=1e-15)


def test_float_outcomes_are_refused_as_everywhere_else():
    """Issue 21: log_prob(1.0) was accepted, though a float label is an error elsewhere."""
    with pytest.raises(TypeError, match=r"x: expected outcomes in \{0, 1\} as integers"):
        Bernoulli(logit=0.3).log_prob(1.0)
    np.testing.assert_allclose(Bernoulli(logit=0.3).log_prob(True), -np.log1p(np.exp(-0.3)))


def test_names_match_categorical_and_the_old_ones_warn():
    """Issue 21: Bernoulli had prob / from_prob where Categorical has probs / from_probs."""
    d = Bernoulli.from_probs(0.3)
    np.testing.assert_allclose(d.probs, 0.3, rtol=1e-15)
    with pytest.warns(DeprecationWarning, match="probs"):
        assert d.prob == d.probs
    with pytest.warns(DeprecationWarning, match="from_probs"):
        assert Bernoulli.from_prob(0.3).logit == d.logit


def test_from_mean_and_from_natural_take_one_number():
    """Issue 21: from_mean(0.3) failed with 'mean must have at least 1 axis'."""
    np.testing.assert_allclose(Bernoulli.from_mean(0.3).probs, 0.3, rtol=1e-15)
    assert Bernoulli.from_natural(0.5).logit == 0.5
    assert Bernoulli.from_mean([[0.3], [0.6]]).batch_shape == (2,)


@pytest.mark.parametrize("family", [Bernoulli, Categorical])
def test_the_constructor_points_to_the_named_constructor(family):
    """Issue 21: Categorical(probs=...) raised a plain TypeError; it names from_probs."""
    with pytest.raises(TypeError, match=rf"{family.__name__}.from_probs\(probs\)"):
        family(probs=[0.5, 0.5])
    with pytest.raises(TypeError, match="positional"):
        family([0.5, 0.5])
