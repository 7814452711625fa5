"""Bayesian updating as addition in natural coordinates (expfam.bayes)."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import scipy.stats
from scipy.special import gammaln

from expfam import Dirichlet, softmax
from expfam.bayes import (
    dirichlet_posterior,
    log_marginal_likelihood,
    log_posterior,
    log_posterior_trajectory,
    posterior,
    posterior_trajectory,
)
from expfam.datasets import SNOW


def exact_snow_posterior(n: int) -> list[Fraction]:
    """Bayes' rule in exact rationals: prior * likelihood**n, normalized."""
    weights = [p * lik**n for p, lik in zip(SNOW.prior, SNOW.likelihood, strict=True)]
    total = sum(weights)
    return [w / total for w in weights]


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, (0.4444, 0.4444, 0.1111)),
        (2, (0.4848, 0.4848, 0.0303)),
        (3, (0.4961, 0.4961, 0.0078)),
    ],
)
def test_snow_posteriors_match_design(n, expected):
    np.testing.assert_allclose(SNOW.posterior(n), expected, atol=5e-5)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 40])
def test_snow_posterior_is_exact_bayes_rule(n):
    exact = np.array([float(f) for f in exact_snow_posterior(n)])
    # the rounding of log 0.1 is multiplied by n in the exponent
    np.testing.assert_allclose(SNOW.posterior(n), exact, rtol=1e-14 * max(n, 1))


def test_snow_after_three_is_64_64_1_over_129():
    assert exact_snow_posterior(3) == [Fraction(64, 129), Fraction(64, 129), Fraction(1, 129)]
    np.testing.assert_allclose(SNOW.posterior(3), np.array([64, 64, 1]) / 129, rtol=1e-14)


def test_snow_example_names():
    assert SNOW.hypotheses == ("MIT", "Michigan", "Berkeley")
    assert sum(SNOW.prior) == 1


def test_repeated_observation_trajectory_is_a_straight_line_in_logit_space():
    traj = SNOW.log_posterior_trajectory(12)
    # remove the normalization (a multiple of 1 per step): centre each row
    centred = traj - traj.mean(axis=-1, keepdims=True)
    steps = np.diff(centred, axis=0)
    expected_step = SNOW.log_likelihood - SNOW.log_likelihood.mean()
    np.testing.assert_allclose(steps, np.broadcast_to(expected_step, steps.shape), atol=1e-13)
    # and the logit difference MIT - Berkeley grows by log 4 per snow
    np.testing.assert_allclose(np.diff(traj[:, 0] - traj[:, 2]), np.log(4.0), rtol=1e-13)


def test_update_is_addition_of_log_likelihoods():
    rng = np.random.default_rng(0)
    log_prior = rng.normal(size=5)
    lik1, lik2 = rng.normal(size=(2, 5))
    once = log_posterior(log_posterior(log_prior, lik1), lik2)
    together = log_posterior(log_prior, lik1 + lik2)
    np.testing.assert_allclose(once, together, atol=1e-14)


def test_posterior_matches_bayes_rule_in_probability_space():
    rng = np.random.default_rng(1)
    prior = rng.dirichlet(np.ones(6))
    likelihood = rng.uniform(0.01, 1, size=6)
    expected = prior * likelihood / np.sum(prior * likelihood)
    np.testing.assert_allclose(posterior(np.log(prior), np.log(likelihood)), expected, rtol=1e-13)


def test_trajectory_equals_sequential_updates():
    rng = np.random.default_rng(2)
    log_prior = rng.normal(size=(2, 4))
    log_liks = rng.normal(size=(2, 7, 4))
    traj = log_posterior_trajectory(log_prior, log_liks, beta=0.5)
    current = log_posterior(log_prior, np.zeros(4))
    np.testing.assert_allclose(traj[:, 0], current, atol=1e-14)
    for t in range(7):
        current = log_posterior(current, log_liks[:, t], beta=0.5)
        np.testing.assert_allclose(traj[:, t + 1], current, atol=1e-13)
    np.testing.assert_allclose(
        posterior_trajectory(log_prior, log_liks, beta=0.5), np.exp(traj), rtol=1e-14
    )


def test_tempered_likelihood_is_a_power():
    prior = np.array([0.2, 0.3, 0.5])
    likelihood = np.array([0.9, 0.1, 0.5])
    beta = 0.3
    expected = prior * likelihood**beta / np.sum(prior * likelihood**beta)
    got = posterior(np.log(prior), np.log(likelihood), beta=beta)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_beta_zero_returns_the_prior_even_with_impossible_data():
    prior = np.array([0.2, 0.3, 0.5])
    with np.errstate(divide="ignore"):
        log_lik = np.log([0.0, 0.5, 1.0])
    np.testing.assert_allclose(posterior(np.log(prior), log_lik, beta=0.0), prior, rtol=1e-15)


def test_zero_likelihood_rules_a_hypothesis_out_without_nan():
    with np.errstate(divide="ignore"):
        log_lik = np.log([0.0, 0.5, 1.0])
    post = posterior(np.zeros(3), log_lik)
    assert post[0] == 0.0
    np.testing.assert_allclose(post, [0.0, 1 / 3, 2 / 3], rtol=1e-14)
    traj = posterior_trajectory(np.zeros(3), np.stack([log_lik] * 4))
    assert not np.any(np.isnan(traj))
    assert np.all(traj[1:, 0] == 0.0)


def test_batched_posterior_equals_the_loop():
    rng = np.random.default_rng(3)
    log_prior = rng.normal(size=(4, 3, 5))
    log_lik = rng.normal(size=(3, 5))
    beta = np.array([[0.5], [1.0], [2.0]])
    batch = log_posterior(log_prior, log_lik, beta=beta)
    for i in range(4):
        for j in range(3):
            one = log_posterior(log_prior[i, j], log_lik[j], beta=float(beta[j, 0]))
            np.testing.assert_allclose(batch[i, j], one, atol=1e-15)


def test_beta_array_is_one_temperature_per_posterior():
    """Issue 12: beta broadcasts over the batch (a raw broadcast error before)."""
    rng = np.random.default_rng(4)
    log_prior, log_lik = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    beta = np.array([0.25, 3.0])
    batch = posterior(log_prior, log_lik, beta=beta)
    for i, b in enumerate(beta):
        np.testing.assert_array_equal(batch[i], posterior(log_prior[i], log_lik[i], beta=b))
    several = posterior(log_prior[0], log_lik[0], beta=[0.0, 1.0, 2.0])  # one, three ways
    np.testing.assert_allclose(several[0], softmax(log_prior[0]), rtol=1e-15)
    np.testing.assert_array_equal(several[2], posterior(log_prior[0], log_lik[0], beta=2.0))
    traj = posterior_trajectory(log_prior, np.stack([log_lik] * 4, axis=-2), beta=beta)
    for i, b in enumerate(beta):
        np.testing.assert_array_equal(
            traj[i], posterior_trajectory(log_prior[i], np.stack([log_lik[i]] * 4), beta=b)
        )


def test_beta_that_does_not_fit_the_batch_or_is_not_a_number_names_beta():
    with pytest.raises(ValueError, match=r"\bbeta\b"):
        posterior(np.zeros((2, 3)), np.zeros((2, 3)), beta=[0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match=r"\bbeta\b"):
        posterior(np.zeros(3), np.zeros(3), beta="2")


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: log_posterior(np.zeros(3), np.zeros(4)), "log_likelihood"),
        (lambda: log_posterior(np.zeros(3), np.zeros(3), beta=-1.0), "beta"),
        (lambda: log_posterior(np.zeros(3), np.zeros(3), beta=np.nan), "beta"),
        (lambda: log_posterior(5.0, np.zeros(3)), "log_prior"),
        (lambda: log_posterior_trajectory(np.zeros(3), np.zeros(3)), "log_likelihoods"),
        (lambda: posterior_trajectory(np.zeros(3), np.zeros((2, 4))), "log_likelihoods"),
        (lambda: SNOW.posterior(-1), "n"),
        (lambda: log_posterior(np.zeros((2, 3)), np.zeros((4, 3))), "log_likelihood"),
        (lambda: posterior_trajectory(np.zeros((2, 3)), np.zeros((4, 5, 3))), "log_likelihoods"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_non_numeric_input_raises_type_error():
    with pytest.raises(TypeError, match="log_prior"):
        log_posterior(["a", "b"], np.zeros(2))


# ------------------------------------------------------------------ conjugate Dirichlet updating
def test_conjugate_update_is_addition_of_counts_to_natural_parameters():
    prior = Dirichlet(concentration=[0.5, 2.0, 1.0])
    counts = np.array([3, 0, 5])
    post = dirichlet_posterior(prior, counts)
    np.testing.assert_array_equal(post.natural, prior.natural + counts)
    np.testing.assert_array_equal(post.concentration, [3.5, 2.0, 6.0])


def test_conjugate_updates_compose():
    prior = Dirichlet(concentration=[1.0, 1.0, 1.0, 1.0])
    a, b = np.array([1, 2, 0, 0]), np.array([0, 1, 4, 1])
    np.testing.assert_array_equal(
        dirichlet_posterior(dirichlet_posterior(prior, a), b).concentration,
        dirichlet_posterior(prior, a + b).concentration,
    )


def test_log_marginal_likelihood_matches_dirichlet_multinomial():
    alpha = np.array([0.7, 2.0, 1.3])
    counts = np.array([4, 1, 6])
    n = counts.sum()
    coefficient = gammaln(n + 1) - np.sum(gammaln(counts + 1))
    expected = scipy.stats.dirichlet_multinomial(alpha, n).logpmf(counts) - coefficient
    got = log_marginal_likelihood(Dirichlet(concentration=alpha), counts)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_log_marginal_likelihood_is_sum_of_sequential_predictive_log_probs():
    prior = Dirichlet(concentration=[0.5, 1.5, 3.0])
    sequence = [2, 0, 2, 1, 2, 2, 0]
    total, current = 0.0, prior
    for x in sequence:
        total += float(current.predictive().log_prob(x))
        current = dirichlet_posterior(current, np.eye(3)[x])
    counts = np.bincount(sequence, minlength=3)
    np.testing.assert_allclose(log_marginal_likelihood(prior, counts), total, rtol=1e-13)


def test_conjugate_updating_batches():
    prior = Dirichlet(concentration=np.ones((2, 3)))
    counts = np.array([[1, 0, 0], [0, 2, 3]])
    batch = log_marginal_likelihood(prior, counts)
    for i in range(2):
        one = log_marginal_likelihood(Dirichlet(concentration=np.ones(3)), counts[i])
        np.testing.assert_allclose(batch[i], one, rtol=1e-15)


@pytest.mark.parametrize(
    "counts",
    [
        np.array([1, -1, 0]),
        np.array([1, 1]),
        np.array([1.0, np.inf, 0.0]),
        np.ones((2, 2, 3)),  # does not broadcast with the prior's batch (3,)
    ],
)
def test_bad_counts_raise_value_error_naming_counts(counts):
    with pytest.raises(ValueError, match="counts"):
        dirichlet_posterior(Dirichlet(concentration=np.ones((3, 3))), counts)


def test_conjugate_prior_must_be_a_dirichlet():
    with pytest.raises(TypeError, match="prior"):
        dirichlet_posterior(np.ones(3), [1, 0, 0])


def test_data_ruling_out_every_hypothesis_leave_no_distribution():
    impossible = np.array([-np.inf, -np.inf])
    assert np.all(np.isnan(posterior(np.zeros(2), impossible)))
    np.testing.assert_array_equal(posterior(np.zeros(2), impossible, beta=0.0), [0.5, 0.5])


# ------------------------------------------------ log_marginal_likelihood (issue 21)


def _lml_ref(alpha, counts, dps):
    with mpmath.workdps(dps):
        a = [mpmath.mpf(float(x)) for x in alpha]
        n = [mpmath.mpf(float(x)) for x in counts]
        steps = sum(mpmath.loggamma(x + y) - mpmath.loggamma(x) for x, y in zip(a, n, strict=True))
        return steps - (mpmath.loggamma(sum(a) + sum(n)) - mpmath.loggamma(sum(a)))


@pytest.mark.parametrize("alpha", [1e-4, 0.5, 3.0, 29.0, 31.0, 1e3, 1e5, 1e12, 1e15, 1e16])
def test_log_marginal_likelihood_of_two_draws_is_exact_at_every_concentration(alpha):
    """Issue 21: (1e12, 1e12) with counts (1, 1) gave -1.375 and (1e15, 1e15) gave 0.0; the
    truth is log(a / (2 (2a + 1))), -1.3862944 at large a."""
    got = log_marginal_likelihood(Dirichlet(concentration=[alpha, alpha]), [1, 1])
    with mpmath.workdps(50):
        exact = mpmath.log(mpmath.mpf(alpha) / (2 * (2 * mpmath.mpf(alpha) + 1)))
        assert abs((got - exact) / exact) < 1e-15


def test_log_marginal_likelihood_with_counts_near_the_float_limit():
    """Issue 21: counts (1e308, 0) gave NaN and a warning; the truth is -log(1 + 1e308)."""
    got = log_marginal_likelihood(Dirichlet(concentration=[1.0, 1.0]), [1e308, 0.0])
    np.testing.assert_allclose(got, -np.log(1e308), rtol=1e-15)
    got = log_marginal_likelihood(Dirichlet(concentration=[2.0, 2.0]), [1e308, 1e308])
    assert np.isfinite(got)


def test_log_marginal_likelihood_against_mpmath_across_the_range():
    """Relative error below 1e-11 where the counts are below an eighth of the concentration;
    above, an absolute error below 1e-14 sum_k (alpha_k + 1) log1p(n_k / alpha_k) (the size
    of the terms that cancel), as the docstring states."""
    rng = np.random.default_rng(21)
    for trial in range(80):
        k = int(rng.integers(2, 6))
        alpha = np.exp(rng.uniform(np.log(1e-4), np.log(1e16), k))
        huge = np.exp(rng.uniform(np.log(1e-3), np.log(1e300), k)) * (rng.random(k) < 0.5)
        counts = np.where(rng.random(k) < 0.3, 0.0, huge + rng.integers(0, 20, k))
        got = log_marginal_likelihood(Dirichlet(concentration=alpha), counts)
        exact = _lml_ref(alpha, counts, dps=340 if counts.max() > 1e30 else 60)
        error = abs(mpmath.mpf(float(got)) - exact)
        if np.all(counts < alpha.sum() / 8) and (counts / 8).sum() < alpha.sum() / 64:
            assert error <= 1e-11 * abs(exact), (trial, alpha, counts)
        else:
            size = np.sum((alpha + 1) * np.log1p(counts / alpha)) + abs(float(exact))
            assert error <= 1e-14 * size, (trial, alpha, counts)


def test_dirichlet_posterior_beyond_the_range_names_counts():
    with pytest.raises(ValueError, match="counts"):
        dirichlet_posterior(Dirichlet(concentration=[1.0, 1.0]), [1e17, 0.0])


# ------------------------------------------------ beta = inf (issue 21)


def test_posterior_at_beta_inf_is_the_limit_of_large_beta():
    """The argmax of the likelihood, ties weighted by the prior: the limit of beta -> inf
    (beta = 1e6 is already there in float64)."""
    prior = np.array([0.1, 0.3, 0.6])
    log_lik = np.log([0.5, 0.5, 0.2])
    got = posterior(np.log(prior), log_lik, beta=np.inf)
    np.testing.assert_allclose(got, [0.25, 0.75, 0.0], rtol=1e-15)
    np.testing.assert_allclose(got, posterior(np.log(prior), log_lik, beta=1e6), rtol=1e-15)
    assert np.all(np.isfinite(log_posterior(np.log(prior), log_lik, beta=np.inf)[:2]))


def test_trajectory_at_beta_inf_follows_the_argmax_of_the_running_sum():
    """Tempering the running sum, not the steps: after (0, -1) and (-5, 0) the sum is
    (-5, -1), so hypothesis 1 wins though it lost the first step."""
    log_liks = np.array([[0.0, -1.0], [-5.0, 0.0]])
    got = posterior_trajectory(np.zeros(2), log_liks, beta=np.inf)
    np.testing.assert_array_equal(got, [[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(got, posterior_trajectory(np.zeros(2), log_liks, beta=1e4))


def test_large_beta_times_large_likelihoods_does_not_overflow():
    got = posterior(np.zeros(2), np.array([0.0, 1e307]), beta=100.0)
    np.testing.assert_array_equal(got, [0.0, 1.0])
