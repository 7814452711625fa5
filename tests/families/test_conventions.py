"""The argument rules every family shares (issue 12): immutable distributions, sample
shapes and generators as numpy's, unambiguous targets, errors naming the argument,
numpy scalars from ``log_prob``, Bernoulli's two layouts, and temperature arrays."""

from __future__ import annotations

import numpy as np
import pytest
from test_family import CASES, IDS

from expfam import Bernoulli, Categorical, Dirichlet

ATTRIBUTES = {
    "categorical": ["logits", "probs", "log_probs", "natural", "mean"],
    "bernoulli": ["logit", "probs", "natural", "mean"],
    "dirichlet": ["concentration", "natural", "mean", "expected_probs"],
}


def test_log_loss_gradient_formed_in_place_cannot_change_the_distribution():
    """Issue 12, bug 1: ``G = d.probs; G[[0, 1], [2, 0]] -= 1`` left d with a negative
    probability and a Fisher-vector product of the other sign, silently."""
    d = Categorical(logits=[[0.0, 1.0, 2.0], [2.0, 0.0, 0.0]])
    probs, fvp = d.probs.copy(), d.fisher_vp([1.0, 0.0])
    G = d.probs
    with pytest.raises(ValueError, match="read-only"):
        G[[0, 1], [2, 0]] -= 1
    np.testing.assert_array_equal(d.probs, probs)
    np.testing.assert_array_equal(d.fisher_vp([1.0, 0.0]), fvp)
    gradient = d.probs - np.eye(3)[[2, 0]]  # the out-of-place form works as before
    np.testing.assert_allclose(gradient.sum(axis=-1), 0.0, atol=1e-15)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("constructor", ["direct", "named"])
def test_every_array_a_distribution_holds_or_returns_is_read_only(case, constructor):
    d = case.make(np.random.default_rng(0), (2,))
    if constructor == "named":
        d = type(d).from_natural(np.array(d.natural))
    for name in ATTRIBUTES[case.name]:
        value = getattr(d, name)
        assert not value.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            value[...] = 0
    if case.name == "categorical":
        assert not Categorical.from_probs([0.25, 0.75]).probs.flags.writeable
        assert not Categorical.from_mean([0.25]).mean.flags.writeable


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sample_shape_is_an_int_or_a_tuple(case):
    d = case.make(np.random.default_rng(1), (2,))
    event = d.sample(rng=0).shape
    assert d.sample(5, rng=0).shape == (5, *event)
    assert d.sample((5,), rng=0).shape == (5, *event)
    assert d.sample((3, 4), rng=0).shape == (3, 4, *event)
    assert d.sample(np.int64(2), rng=0).shape == (2, *event)
    np.testing.assert_array_equal(d.sample(5, rng=3), d.sample((5,), rng=3))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_sample_shape_or_rng_raises_naming_it(case):
    d = case.make(np.random.default_rng(1), ())
    for bad in (5.0, "5", (2, 1.5), True):
        with pytest.raises(TypeError, match=r"\bsample_shape\b"):
            d.sample(bad)
    with pytest.raises(ValueError, match=r"\bsample_shape\b"):
        d.sample(-1)
    for bad in ("seed", 1.5, np.random.RandomState(0)):
        with pytest.raises(TypeError, match=r"\brng\b"):
            d.sample(2, rng=bad)
    with pytest.raises(ValueError, match=r"\brng\b"):
        d.sample(2, rng=-3)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob_of_one_observation_is_a_numpy_scalar(case):
    d = case.make(np.random.default_rng(2), ())
    value = d.log_prob(case.draw(np.random.default_rng(3), d))
    assert isinstance(value, np.floating), type(value)


def test_categorical_float_label_is_an_error_that_says_how_to_pass_indices():
    """Issue 12, bug 2 (log_prob): a float label was read as a probability target."""
    d = Categorical(logits=[[0.0, 1.0, 2.0]] * 3)
    for bad in (1.0, np.array([0.0, 1.0, 2.0])):
        with pytest.raises(ValueError, match=r"\bx\b.*integers"):
            d.log_prob(bad)
    np.testing.assert_array_equal(d.log_prob(np.eye(3)[[0, 1, 2]]), d.log_prob([0, 1, 2]))
    with pytest.raises(TypeError, match=r"\bx\b"):
        d.log_prob(np.array(["a", "b", "c"]))


def test_bernoulli_fisher_of_another_coordinate_system_names_coords():
    d = Bernoulli(logit=0.3)
    for method in (
        d.fisher,
        lambda c: d.fisher_vp([1.0], c),
        lambda c: d.natural_gradient(1.0, c),
    ):
        with pytest.raises(ValueError, match=r"\bcoords\b"):
            method("logits")
    with pytest.raises(ValueError, match=r"\bcoords\b"):
        Dirichlet(concentration=[1.0, 2.0]).fisher("logits")


def test_bernoulli_fisher_vp_and_natural_gradient_take_both_layouts():
    w = np.array([-2.0, 0.0, 3.0])
    d = Bernoulli(logit=w)
    p = 1 / (1 + np.exp(-w))
    variance = p * (1 - p)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(d.fisher_vp(v), variance * v, rtol=1e-13)
    np.testing.assert_allclose(d.fisher_vp(v[:, None]), (variance * v)[:, None], rtol=1e-13)
    np.testing.assert_allclose(d.natural_gradient(v), v / variance, rtol=1e-13)
    np.testing.assert_allclose(d.natural_gradient(v[:, None]), (v / variance)[:, None], rtol=1e-13)
    assert d.fisher().shape == (3, 1, 1)
    assert Bernoulli(logit=0.0).fisher_vp(2.0) == 0.5
    assert Bernoulli(logit=0.0).fisher_vp([2.0]).shape == (1,)


@pytest.mark.parametrize("family", ["categorical", "bernoulli"])
def test_tempered_takes_an_array_of_temperatures(family):
    if family == "categorical":
        d = Categorical(logits=[[0.0, 1.0, -1.0], [2.0, 0.5, 0.0]])
    else:
        d = Bernoulli(logit=[0.5, -3.0])
    beta = np.array([0.5, 4.0])
    t = d.tempered(beta)
    for i, b in enumerate(beta):
        np.testing.assert_array_equal(t.natural[i], d.tempered(b).natural[i])
    one = Categorical(logits=[0.0, 1.0]) if family == "categorical" else Bernoulli(logit=1.0)
    assert one.tempered([0.5, 1.0, 2.0]).batch_shape == (3,)
    for bad, error in (("2", TypeError), (-1.0, ValueError), ([1.0, 2.0, 3.0], ValueError)):
        with pytest.raises(error, match=r"\bbeta\b"):
            d.tempered(bad)


def test_kl_between_different_k_counts_classes_not_dimensions():
    """Issue 18: Categorical(K=2).kl(Categorical(K=3)) said 'dimension 2, expected 1'."""
    with pytest.raises(
        ValueError, match=r"other: expected a Categorical over K = 2 classes, got K = 3"
    ):
        Categorical(logits=[0.0, 1.0]).kl(Categorical(logits=[0.0, 1.0, 2.0]))


def test_tensors_are_refused_by_name():
    """The families are numpy-only: a tensor converted silently would lose device and grad."""
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"logits: expected a numpy array .* got a torch array"):
        Categorical(logits=torch.zeros(3))
