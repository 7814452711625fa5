"""The categorical family: coordinates, Fisher geometry in logits coordinates, the boundary."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from expfam import Categorical, logsumexp, softmax

NEG_INF = -np.inf


def random_categorical(seed: int, shape=(), k: int = 5) -> Categorical:
    return Categorical(logits=np.random.default_rng(seed).normal(scale=2.0, size=(*shape, k)))


# ------------------------------------------------------------------ coordinates
def test_logits_must_be_given_by_keyword():
    with pytest.raises(TypeError):
        Categorical([0.2, 0.8])  # type: ignore[misc]


def test_every_coordinate_readable_from_every_constructor():
    d = random_categorical(0)
    p = d.probs
    theta = np.log(p[:-1] / p[-1])
    for other in (
        Categorical.from_probs(p),
        Categorical.from_natural(theta),
        Categorical.from_mean(p[:-1]),
        Categorical(logits=d.logits + 17.0),
    ):
        np.testing.assert_allclose(other.probs, p, rtol=1e-13)
        np.testing.assert_allclose(other.natural, theta, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(other.mean, p[:-1], rtol=1e-13)
        np.testing.assert_allclose(other.log_probs, np.log(p), rtol=1e-13)


def test_natural_coordinates_are_log_odds_against_the_last_class():
    d = Categorical.from_probs([0.2, 0.3, 0.5])
    np.testing.assert_allclose(d.natural, [np.log(0.2 / 0.5), np.log(0.3 / 0.5)], rtol=1e-15)


def test_log_partition_in_natural_coordinates_is_psi():
    d = random_categorical(1)
    theta = d.natural
    np.testing.assert_allclose(d.log_partition(), np.log1p(np.sum(np.exp(theta))), rtol=1e-14)
    # and the logits log-partition differs from it by z_K
    np.testing.assert_allclose(logsumexp(d.logits) - d.logits[-1], d.log_partition(), rtol=1e-14)


def test_seed_002_vector_and_log_loss():
    d = Categorical(logits=[0.1, -2.0, 3.4, 3.3])
    np.testing.assert_allclose(d.probs, [0.01895101, 0.00232067, 0.513812, 0.4649163], atol=5e-9)
    np.testing.assert_allclose(-d.log_prob(2), 0.66589785, rtol=1e-8)
    np.testing.assert_allclose(
        Categorical(logits=np.array([0.1, -2.0, 3.4, 3.3]) * 10).probs[2], 0.7310586, rtol=1e-7
    )


def test_seed_004_temperature():
    d = Categorical(logits=[0.95, 0.99, 0.98])
    np.testing.assert_allclose(d.probs, [0.3256, 0.3389, 0.3355], atol=5e-5)
    np.testing.assert_allclose(d.tempered(500).probs, [0.0000, 0.9933, 0.0067], atol=5e-5)
    np.testing.assert_allclose(d.tempered(0).probs, np.full(3, 1 / 3), rtol=1e-15)


def test_tempered_keeps_impossible_classes_impossible():
    d = Categorical(logits=[0.0, NEG_INF, 1.0])
    np.testing.assert_array_equal(d.tempered(0).probs, [0.5, 0.0, 0.5])
    assert d.tempered(3.0).probs[1] == 0.0


def test_mode_is_argmax():
    assert Categorical.from_probs([0.1, 0.6, 0.3]).mode() == 1


def test_log_prob_of_one_hot_and_soft_targets():
    d = random_categorical(2)
    one_hot = np.eye(5)[3]
    np.testing.assert_allclose(d.log_prob(one_hot), d.log_prob(3), rtol=1e-14)
    soft = np.array([0.1, 0.2, 0.3, 0.4, 0.0])
    np.testing.assert_allclose(d.log_prob(soft), soft @ np.log(d.probs), rtol=1e-13)


def test_log_prob_batches_over_indices():
    d = random_categorical(3, shape=(4,))
    x = np.array([0, 4, 2, 1])
    expected = [np.log(d.probs[i, x[i]]) for i in range(4)]
    np.testing.assert_allclose(d.log_prob(x), expected, rtol=1e-13)
    # a column of classes against the whole batch
    assert d.log_prob(np.arange(5)[:, None]).shape == (5, 4)


def test_entropy_of_k_classes_matches_scipy_multinomial():
    d = random_categorical(4, k=7)
    np.testing.assert_allclose(
        d.entropy(), scipy.stats.multinomial(1, d.probs).entropy(), rtol=1e-12
    )


# ------------------------------------------------------------------ Fisher in logits coordinates
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_fisher_in_logits_is_covariance_of_one_hot_statistic(seed):
    d = random_categorical(seed, k=6)
    one_hot = np.eye(6)
    p = d.probs
    mean = p @ one_hot
    covariance = sum(p[k] * np.outer(one_hot[k] - mean, one_hot[k] - mean) for k in range(6))
    np.testing.assert_allclose(d.fisher("logits"), covariance, rtol=1e-12, atol=1e-15)


def test_fisher_in_logits_is_singular_along_ones():
    d = random_categorical(5)
    np.testing.assert_allclose(d.fisher("logits") @ np.ones(5), 0.0, atol=1e-16)
    np.testing.assert_allclose(d.fisher_vp(np.ones(5), coords="logits"), 0.0, atol=1e-16)
    assert np.linalg.matrix_rank(d.fisher("logits")) == 4


def test_fisher_in_natural_coordinates_has_closed_form_inverse():
    d = random_categorical(6)
    p = d.probs
    inverse = np.diag(1 / p[:-1]) + np.ones((4, 4)) / p[-1]
    np.testing.assert_allclose(d.fisher() @ inverse, np.eye(4), atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_natural_gradient_in_logits_is_moore_penrose_solution(seed):
    rng = np.random.default_rng(seed)
    d = random_categorical(seed, k=6)
    g = rng.normal(size=6)
    expected = np.linalg.pinv(d.fisher("logits"), rcond=1e-12) @ g
    got = d.natural_gradient(g, coords="logits")
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.sum(got), 0.0, atol=1e-12)


def test_natural_gradient_of_log_loss_in_logits():
    # gradient p - onehot(y): F^+ g is (p - y) / p centred, i.e. 1 - y/p centred
    d = Categorical.from_probs([0.5, 0.25, 0.25])
    got = d.natural_gradient(d.probs - np.eye(3)[0], coords="logits")
    x = 1 - np.eye(3)[0] / d.probs
    np.testing.assert_allclose(got, x - x.mean(), rtol=1e-15)


def mpmath_fisher_vp(logits, v):
    """F v = p * v - p (p . v) at 50 digits."""
    import mpmath

    with mpmath.workdps(50):
        z = [mpmath.mpf(x) for x in logits]
        total = mpmath.fsum(mpmath.exp(x) for x in z)
        p = [mpmath.exp(x) / total for x in z]
        pv = mpmath.fsum(pk * mpmath.mpf(vk) for pk, vk in zip(p, v, strict=True))
        return np.array([float(pk * (mpmath.mpf(vk) - pv)) for pk, vk in zip(p, v, strict=True)])


@pytest.mark.parametrize("logits", [[30.0, 0.0, -5.0], [0.0, 12.0, 11.0, -3.0], [1.0, 2.0, 3.0]])
def test_fisher_keeps_relative_accuracy_when_one_class_dominates(logits):
    d = Categorical(logits=logits)
    k = len(logits)
    rng = np.random.default_rng(0)
    for v in [*np.eye(k), rng.normal(size=k)]:
        expected = mpmath_fisher_vp(logits, v)
        np.testing.assert_allclose(
            d.fisher_vp(v, coords="logits"), expected, rtol=1e-13, atol=1e-300
        )
    columns = np.stack([mpmath_fisher_vp(logits, e) for e in np.eye(k)], axis=-1)
    np.testing.assert_allclose(d.fisher("logits"), columns, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(d.fisher(), columns[:-1, :-1], rtol=1e-13, atol=1e-300)


def test_fisher_vp_in_logits_matches_dense_batched():
    rng = np.random.default_rng(8)
    d = random_categorical(8, shape=(3, 2))
    v = rng.normal(size=(3, 2, 5))
    dense = np.einsum("...ij,...j->...i", d.fisher("logits"), v)
    np.testing.assert_allclose(d.fisher_vp(v, coords="logits"), dense, rtol=1e-12, atol=1e-15)


def test_fisher_vp_scales_to_a_million_classes_without_dense_matrix():
    k = 1_000_000
    rng = np.random.default_rng(9)
    d = Categorical(logits=rng.normal(size=k))
    v = rng.normal(size=k)
    fv = d.fisher_vp(v, coords="logits")
    assert fv.shape == (k,)
    ng = d.natural_gradient(fv, coords="logits")
    # F F^+ (F v) = F v
    np.testing.assert_allclose(d.fisher_vp(ng, coords="logits"), fv, rtol=1e-6, atol=1e-18)


# ------------------------------------------------------------------ the boundary of the simplex
BOUNDARY = Categorical(logits=[0.0, NEG_INF, np.log(3.0), NEG_INF])  # probs (1/4, 0, 3/4, 0)
OTHER = Categorical.from_probs([0.5, 0.0, 0.25, 0.25])


def test_boundary_probabilities_and_entropy_use_zero_log_zero():
    np.testing.assert_allclose(BOUNDARY.probs, [0.25, 0.0, 0.75, 0.0], rtol=1e-15)
    expected = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    np.testing.assert_allclose(BOUNDARY.entropy(), expected, rtol=1e-14)
    np.testing.assert_allclose(BOUNDARY.dual_potential(), -expected, rtol=1e-14)


def test_boundary_kl_is_finite_where_support_is_covered_and_inf_otherwise():
    # KL(BOUNDARY || OTHER): OTHER covers {0, 2}: finite
    expected = 0.25 * np.log(0.25 / 0.5) + 0.75 * np.log(0.75 / 0.25)
    np.testing.assert_allclose(BOUNDARY.kl(OTHER), expected, rtol=1e-14)
    # KL(OTHER || BOUNDARY): OTHER puts mass on class 3 where BOUNDARY has 0
    assert OTHER.kl(BOUNDARY) == np.inf
    assert OTHER.cross_entropy(BOUNDARY) == np.inf
    np.testing.assert_allclose(BOUNDARY.kl(BOUNDARY), 0.0, atol=1e-16)


def test_boundary_log_prob_is_minus_inf_for_impossible_class():
    np.testing.assert_array_equal(BOUNDARY.log_prob([1, 3]), [NEG_INF, NEG_INF])
    np.testing.assert_allclose(BOUNDARY.log_prob(2), np.log(0.75), rtol=1e-15)
    assert BOUNDARY.log_prob(np.eye(4)[1]) == NEG_INF


def test_sampling_never_draws_an_impossible_class():
    samples = BOUNDARY.sample((100_000,), rng=0)
    assert set(np.unique(samples)) == {0, 2}
    np.testing.assert_allclose(np.mean(samples == 2), 0.75, atol=0.01)


def test_boundary_fisher_has_zero_rows_and_no_nan():
    fisher = BOUNDARY.fisher("logits")
    assert not np.any(np.isnan(fisher))
    np.testing.assert_array_equal(fisher[[1, 3]], 0.0)
    np.testing.assert_array_equal(fisher[:, [1, 3]], 0.0)
    v = np.arange(4.0)
    fv = BOUNDARY.fisher_vp(v, coords="logits")
    np.testing.assert_allclose(fv, fisher @ v, atol=1e-16)


def test_boundary_natural_gradient_is_moore_penrose():
    g = np.array([1.0, -2.0, 0.5, 3.0])
    expected = np.linalg.pinv(BOUNDARY.fisher("logits"), rcond=1e-12) @ g
    got = BOUNDARY.natural_gradient(g, coords="logits")
    assert not np.any(np.isnan(got))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_boundary_natural_gradient_in_natural_coordinates_is_moore_penrose():
    d = Categorical.from_probs([0.2, 0.0, 0.3, 0.5])
    g = np.array([1.0, 2.0, -1.0])
    expected = np.linalg.pinv(d.fisher(), rcond=1e-12) @ g
    np.testing.assert_allclose(d.natural_gradient(g), expected, rtol=1e-10, atol=1e-12)
    assert d.natural[1] == NEG_INF


def test_natural_coordinates_need_a_possible_reference_class():
    with pytest.raises(ValueError, match="p_K > 0"):
        _ = BOUNDARY.natural
    with pytest.raises(ValueError, match="p_K > 0"):
        BOUNDARY.fisher()


def test_probs_from_logits_near_boundary_have_no_nan():
    d = Categorical(logits=[-1000.0, 0.0, 1000.0])
    assert not np.any(np.isnan(d.probs))
    assert d.entropy() >= 0
    assert not np.any(np.isnan(d.natural_gradient(np.array([1.0, 0.0, -1.0]), coords="logits")))


# ------------------------------------------------------------------ properties
finite_logits = arrays(
    np.float64,
    st.integers(2, 8),
    elements=st.floats(-30, 30, allow_nan=False, allow_infinity=False),
)


@given(finite_logits, finite_logits)
def test_kl_is_nonnegative_and_zero_on_the_diagonal(z1, z2):
    k = min(z1.size, z2.size)
    p, q = Categorical(logits=z1[:k]), Categorical(logits=z2[:k])
    assert p.kl(q) >= 0
    assert p.kl(p) <= 1e-15


@given(finite_logits, st.floats(-50, 50))
def test_shifting_logits_changes_nothing(z, c):
    a, b = Categorical(logits=z), Categorical(logits=z + c)
    np.testing.assert_allclose(a.probs, b.probs, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(a.entropy(), b.entropy(), rtol=1e-9, atol=1e-12)


logits_with_impossible_classes = arrays(
    np.float64,
    st.integers(2, 7),
    elements=st.one_of(st.floats(-5, 5), st.just(-np.inf)),
).filter(lambda z: np.any(np.isfinite(z)))


@given(logits_with_impossible_classes, st.integers(0, 2**32 - 1))
def test_natural_gradient_in_logits_is_moore_penrose_everywhere(z, seed):
    d = Categorical(logits=z)
    g = np.random.default_rng(seed).normal(size=z.size)
    expected = np.linalg.pinv(d.fisher("logits"), rcond=1e-10, hermitian=True) @ g
    got = d.natural_gradient(g, coords="logits")
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-8 * np.max(np.abs(expected)))


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: Categorical(logits=[1.0]), "logits"),
        (lambda: Categorical(logits=[1.0, np.nan]), "logits"),
        (lambda: Categorical(logits=[1.0, np.inf]), "logits"),
        (lambda: Categorical(logits=[NEG_INF, NEG_INF]), "logits"),
        (lambda: Categorical(logits=3.0), "logits"),
        (lambda: Categorical.from_probs([0.5, 0.6]), "probs"),
        (lambda: Categorical.from_probs([-0.1, 1.1]), "probs"),
        (lambda: Categorical.from_probs([0.5, np.nan, 0.5]), "probs"),
        (lambda: Categorical.from_probs([1.0]), "probs"),
        (lambda: Categorical.from_mean([0.7, 0.5]), "mean"),
        (lambda: Categorical.from_mean([-0.1]), "mean"),
        (lambda: Categorical.from_natural([np.inf]), "natural"),
        (lambda: random_categorical(0).log_prob(5), "x"),
        (lambda: random_categorical(0).log_prob(-1), "x"),
        (lambda: random_categorical(0).log_prob(np.ones(4) / 4), "x"),
        (lambda: random_categorical(0, shape=(3,)).log_prob(np.zeros(2, dtype=int)), "x"),
        (lambda: random_categorical(0).fisher_vp(np.ones(3)), "v"),
        (lambda: random_categorical(0).natural_gradient(np.ones(5)), "g"),
        (lambda: random_categorical(0).fisher("probs"), "coords"),
        (lambda: random_categorical(0).tempered(-1.0), "beta"),
        (lambda: random_categorical(0).kl(random_categorical(0, k=4)), "other"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_probability_tolerance_is_stated_and_adjustable():
    almost = [0.5, 0.5 + 1e-9]
    Categorical.from_probs(almost)  # within sqrt(eps) = 1.5e-8
    with pytest.raises(ValueError, match="atol"):
        Categorical.from_probs(almost, atol=1e-12)
    np.testing.assert_allclose(np.sum(Categorical.from_probs(almost).probs), 1.0, rtol=3e-16)


def test_non_numeric_logits_raise_type_error():
    with pytest.raises(TypeError, match="logits"):
        Categorical(logits=["a", "b"])


def test_natural_gradient_at_underflowing_probabilities_is_finite_and_quiet():
    """A class of logit -800 has p = e**-800 > 0 (underflowing to 0 in float64): dividing
    by it is still defined; found by derivation 12 (RuntimeWarnings, and 0 returned)."""
    d = Categorical(logits=[0.0, -800.0, 0.0])  # p = (1, e**-800, 1) / (2 + e**-800)
    out = d.natural_gradient([0.0, 1e-300, 0.0], coords="logits")
    # minimum-norm solution: x = g~ / p, minus its mean; g~_1 = 1e-300 * 2/3.
    x1 = 1e-300 * (2.0 / 3.0) * 2.0 * np.exp(800.0 - 700.0) * np.exp(700.0)
    assert np.isfinite(out).all()
    assert out[1] == pytest.approx(x1 * 2.0 / 3.0, rel=1e-12)
    natural = Categorical(logits=[1000.0, -1000.0, 0.0]).natural_gradient([1.0, 1.0])
    assert np.isposinf(natural).all()  # beyond float64: an honest inf, no warning


# ------------------------------------------------ tempering at the edges (issue 21)


def test_tempered_beyond_the_float_range_is_the_limit_without_a_warning():
    """Issue 21: tempered(100) of logits (0, 1e307) raised about '+inf logits', an argument
    the caller never passed; 100 (z - max z) is (-inf, 0): probability 0 and 1."""
    got = Categorical(logits=[0.0, 1e307]).tempered(100.0)
    np.testing.assert_array_equal(got.probs, [0.0, 1.0])
    np.testing.assert_array_equal(Categorical(logits=[1e308, -1e308]).tempered(2.0).probs, [1, 0])


def test_tempered_at_beta_inf_is_uniform_on_the_most_probable_classes():
    d = Categorical(logits=[0.5, 2.0, 2.0, -np.inf])
    np.testing.assert_array_equal(d.tempered(np.inf).probs, [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(d.tempered(np.inf).probs, d.tempered(1e6).probs, atol=1e-300)
    np.testing.assert_array_equal(d.tempered(0.0).probs, [1 / 3, 1 / 3, 1 / 3, 0.0])


def test_tempered_is_softmax_of_beta_times_logits():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 5)) * 30
    beta = np.array([0.0, 0.3, 1.0, 7.0])
    got = Categorical(logits=z).tempered(beta[:, None]).probs
    # a rounding of beta z (|beta z| up to ~600) moves exp by |beta z| eps ~ 1.3e-13
    np.testing.assert_allclose(got, softmax(beta[:, None] * z), rtol=1e-12, atol=1e-300)


def test_natural_beyond_the_float_range_is_infinite_without_a_warning():
    """Issue 21: logits (1e308, -1e308) warned of overflow; theta = 2e308 rounds to inf."""
    np.testing.assert_array_equal(Categorical(logits=[1e308, -1e308]).natural, [np.inf])


def test_log_prob_of_one_hot_values_with_sample_axes_in_front():
    """Issue 21: a float one-hot x of shape (3, 2, 3) for logits (3,) was refused; as torch,
    the sample axes come in front and the result has shape (3, 2)."""
    probs = np.array([0.6, 0.3, 0.1])
    index = np.array([[0, 1], [2, 0], [1, 1]])
    got = Categorical.from_probs(probs).log_prob(np.eye(3)[index])
    np.testing.assert_allclose(got, np.log(probs)[index], rtol=1e-15)
    batch = Categorical(logits=np.zeros((2, 3)))
    assert batch.log_prob(np.eye(3)[index]).shape == (3, 2)
    with pytest.raises(ValueError, match="x"):
        batch.log_prob(np.eye(3)[np.zeros((3, 4), dtype=int)])
