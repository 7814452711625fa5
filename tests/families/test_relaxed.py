"""The Concrete (Gumbel-softmax) distribution: density, normalization, argmax law, Jacobian."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import integrate

from expfam.families import RelaxedCategorical, relaxed
from expfam.special import log_sigmoid, logit, sigmoid, softmax


@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("delta", [-2.0, 0.0, 3.0])
def test_two_class_density_is_the_logistic_law(temperature, delta):
    """x_1 = sigmoid((delta + L) / lam), L logistic: P(x_1 <= t) = sigmoid(lam logit(t) - delta).

    The density is its derivative: an oracle independent of the Concrete formula.
    """
    d = RelaxedCategorical(logits=[delta, 0.0], temperature=temperature)
    t = np.linspace(0.01, 0.99, 21)
    s = temperature * logit(t) - delta
    # density = dF/dt = sigmoid(s) sigmoid(-s) lambda / (t (1 - t))
    expected = log_sigmoid(s) + log_sigmoid(-s) + np.log(temperature / (t * (1 - t)))
    got = d.log_prob(np.stack([t, 1 - t], axis=1))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_density_integrates_to_one_k2(temperature):
    d = RelaxedCategorical(logits=[1.0, -0.5], temperature=temperature)
    total, _ = integrate.quad(lambda t: np.exp(d.log_prob([t, 1 - t])), 0, 1, limit=200)
    assert total == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_density_integrates_to_one_k3(temperature):
    """Integrate in log-ratio coordinates y = log(x_k / x_3), where the integrand is smooth.

    x = softmax(y, 0) has Jacobian determinant x_1 x_2 x_3; the trapezoid rule on
    a smooth, exponentially decaying integrand converges geometrically.
    """
    d = RelaxedCategorical(logits=[0.5, -0.3, 0.0], temperature=temperature)
    h = 0.25
    y = np.arange(-60, 60 + h / 2, h)
    y1, y2 = np.meshgrid(y, y, indexing="ij")
    x = softmax(np.stack([y1, y2, np.zeros_like(y1)], axis=-1))
    total = np.sum(np.exp(d.log_prob(x)) * np.prod(x, axis=-1)) * h * h
    assert total == pytest.approx(1.0, abs=1e-10)


def test_argmax_is_exactly_categorical():
    z = np.array([0.3, -1.0, 1.2, 0.0])
    d = RelaxedCategorical(logits=z, temperature=0.7)
    n = 40000
    st = d.sample_hard(n, rng=0)
    np.testing.assert_array_equal(st.hard.argmax(-1), st.soft.argmax(-1))
    assert np.all(st.hard.sum(-1) == 1)
    freq = st.hard.mean(0)
    p = softmax(z)
    assert np.all(np.abs(freq - p) <= 4.5 * np.sqrt(p * (1 - p) / n))


def test_mean_is_not_softmax_for_positive_temperature():
    z = np.array([2.0, 0.0, -1.0])
    p, n = softmax(z), 40000
    warm = RelaxedCategorical(logits=z, temperature=1.0).sample(n, rng=1)
    se = warm.std(0) / np.sqrt(n)
    assert np.abs(warm.mean(0) - p)[0] > 8 * se[0]  # pulled towards the uniform
    cold = RelaxedCategorical(logits=z, temperature=0.02).sample(n, rng=2)
    assert np.all(np.abs(cold.mean(0) - p) <= 4.5 * np.sqrt(p * (1 - p) / n) + 0.01)
    # K = 2 by quadrature: E[x_1] != sigmoid(delta)
    d = RelaxedCategorical(logits=[1.0, 0.0], temperature=1.0)
    mean, _ = integrate.quad(lambda t: t * np.exp(d.log_prob([t, 1 - t])), 0, 1)
    assert abs(mean - sigmoid(1.0)) > 0.05


def test_samples_are_never_nan_or_inf(monkeypatch):
    class Extreme:
        """Uniforms at the ends of [0, 1): 0 exactly and the largest double below 1."""

        def random(self, shape):
            u = np.zeros(shape)
            u.flat[::2] = np.nextafter(1.0, 0.0)
            return u

    monkeypatch.setattr(relaxed, "as_rng", lambda rng: Extreme())
    for temperature in (1e-300, 1e-8, 1.0, 1e300):
        d = RelaxedCategorical(logits=[[700.0, -700.0, 0.0], [0, 0, 0]], temperature=temperature)
        for x in (d.sample(4), d.sample_hard(4).soft):
            assert np.all(np.isfinite(x)) and np.allclose(x.sum(-1), 1)


def test_batched_temperatures_broadcast_like_a_loop():
    """A batch of 3 temperatures for 2 rows of logits: shape (3, 1, 1), the keepdims form
    (a (3, 1) would be one temperature per row of (3, K) logits, as in softmax)."""
    z = np.array([[0.0, 1.0, 2.0], [1.0, -1.0, 0.5]])
    lam = np.array([0.2, 1.0, 4.0])[:, None, None]
    x = np.random.default_rng(3).dirichlet(np.ones(3), (5, 3, 2))
    d = RelaxedCategorical(logits=z, temperature=lam)
    assert d.batch_shape == (3, 2)
    got = d.log_prob(x)
    assert got.shape == (5, 3, 2)
    for i in range(3):
        for j in range(2):
            one = RelaxedCategorical(logits=z[j], temperature=lam[i, 0, 0])
            np.testing.assert_allclose(got[:, i, j], one.log_prob(x[:, i, j]), rtol=1e-14)
    assert d.sample((4,), rng=0).shape == (4, 3, 2, 3)


def test_jacobian_of_the_soft_sample_by_finite_differences():
    z = np.array([0.3, -0.2, 0.8])
    lam = 0.7
    x = RelaxedCategorical(logits=z, temperature=lam).sample(rng=5)
    h = 1e-6
    columns = []
    for e in np.eye(3):
        plus = RelaxedCategorical(logits=z + h * e, temperature=lam).sample(rng=5)
        minus = RelaxedCategorical(logits=z - h * e, temperature=lam).sample(rng=5)
        columns.append((plus - minus) / (2 * h))
    jac = np.stack(columns, axis=1)
    d = RelaxedCategorical(logits=z, temperature=lam)
    np.testing.assert_allclose(d.jacobian(x), jac, atol=1e-8)
    np.testing.assert_allclose(d.jacobian(x), (np.diag(x) - np.outer(x, x)) / lam, rtol=1e-15)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(d.jacobian_vp(x, v), d.jacobian(x) @ v, rtol=1e-13)


def test_is_immutable_with_read_only_arrays():
    d = RelaxedCategorical(logits=[0.0, 1.0], temperature=[0.5, 2.0])
    with pytest.raises(ValueError):
        d.logits[0] = 1.0
    with pytest.raises(ValueError):
        d.temperature[0] = 1.0
    with pytest.raises(AttributeError):
        d.logits = np.zeros(2)
    np.testing.assert_allclose(d.categorical.probs, softmax([0.0, 1.0]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"logits": [0.0, 1.0], "temperature": 0.0}, "temperature"),
        ({"logits": [0.0, 1.0], "temperature": -1.0}, "temperature"),
        ({"logits": [0.0, 1.0], "temperature": np.inf}, "temperature"),
        ({"logits": [0.0, np.inf], "temperature": 1.0}, "logits"),
        ({"logits": [0.0, -np.inf], "temperature": 1.0}, "logits"),
        ({"logits": [0.0], "temperature": 1.0}, "logits"),
        ({"logits": [[0.0, 1.0]] * 2, "temperature": [1.0, 2.0, 3.0]}, "temperature"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RelaxedCategorical(**kwargs)


def test_log_prob_outside_the_simplex_and_bad_shapes():
    d = RelaxedCategorical(logits=[0.0, 1.0, 2.0], temperature=1.0)
    assert d.log_prob([0.5, 0.6, -0.1]) == -np.inf
    assert d.log_prob([0.5, 0.5, 0.0]) == -np.inf
    with pytest.raises(ValueError, match="x"):
        d.log_prob([0.5, 0.5])


@settings(max_examples=100)
@given(
    arrays(np.float64, st.integers(2, 6), elements=st.floats(-1e308, 1e308)),
    st.floats(1e-300, 1e300),
    st.integers(0, 2**32 - 1),
)
def test_samples_are_finite_points_of_the_simplex_for_any_parameters(logits, temperature, seed):
    d = RelaxedCategorical(logits=logits, temperature=temperature)
    x = d.sample(3, rng=seed)
    assert np.all(np.isfinite(x)) and np.all(x >= 0)
    np.testing.assert_allclose(x.sum(-1), 1.0, atol=1e-15 * len(logits))
    hard = d.sample_hard(3, rng=seed)
    # the hard sample is the argmax of z + G, which rounding cannot tie; so is the
    # soft one's wherever its largest entry is unique after rounding
    unique = np.sum(x == x.max(-1, keepdims=True), axis=-1) == 1
    np.testing.assert_array_equal(hard.hard.argmax(-1)[unique], x.argmax(-1)[unique])


def test_temperature_per_row_reads_as_softmax_beta():
    """Issue 21: temperature (3, 1) with logits (3, 4) gave batch shape (3, 3); softmax and
    Categorical.tempered read (3, 1) as one temperature per row."""
    rng = np.random.default_rng(4)
    z = rng.normal(size=(3, 4))
    lam = np.array([[0.5], [1.0], [3.0]])
    d = RelaxedCategorical(logits=z, temperature=lam)
    assert d.batch_shape == (3,)
    x = rng.dirichlet(np.ones(4), 3)
    for i in range(3):
        one = RelaxedCategorical(logits=z[i], temperature=lam[i, 0])
        np.testing.assert_allclose(d.log_prob(x)[i], one.log_prob(x[i]), rtol=1e-14)
    np.testing.assert_array_equal(
        RelaxedCategorical(logits=z, temperature=lam[:, 0]).log_prob(x), d.log_prob(x)
    )


def test_log_prob_at_extreme_logits_is_finite_or_minus_inf_without_warnings():
    """Issue 21: logits of 1e308 warned and gave NaN; the density is shift-invariant."""
    d = RelaxedCategorical(logits=[1e308, -1e308, 0.0], temperature=0.5)
    assert d.log_prob([0.2, 0.3, 0.5]) == -np.inf
    x = [0.2, 0.3, 0.5]
    far = RelaxedCategorical(logits=[1e300 + 2.0**998, 1e300, 1e300], temperature=0.5)
    near = RelaxedCategorical(logits=[2.0**998, 0.0, 0.0], temperature=0.5)
    assert far.log_prob(x) == near.log_prob(x)  # both -inf or equal: shift invariance
    np.testing.assert_allclose(
        RelaxedCategorical(logits=[1e3 + 3.0, 1e3, 1e3], temperature=0.5).log_prob(x),
        RelaxedCategorical(logits=[3.0, 0.0, 0.0], temperature=0.5).log_prob(x),
        rtol=1e-14,
    )


def test_straight_through_is_a_frozen_dataclass():
    st = RelaxedCategorical(logits=[0.0, 1.0], temperature=0.5).sample_hard(rng=0)
    with pytest.raises(AttributeError):
        st.hard = st.soft
