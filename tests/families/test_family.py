"""Identities every exponential family holds, parametrized over the three families.

Oracles are independent of the code under test: central finite differences,
brute-force enumeration or quadrature of the sufficient statistic, and
scipy.stats.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.integrate
import scipy.stats

from expfam import Bernoulli, Categorical, Dirichlet, ExponentialFamily


@dataclass(frozen=True)
class Case:
    """How to make, observe, and check one family in the generic tests."""

    name: str
    make: Callable[[np.random.Generator, tuple[int, ...]], ExponentialFamily]
    draw: Callable[[np.random.Generator, ExponentialFamily], np.ndarray]
    oracle: Callable[[ExponentialFamily], object]  # a frozen scipy.stats distribution
    oracle_x: Callable[[ExponentialFamily, np.ndarray], np.ndarray]


def _one_hot(d, x):
    return np.eye(d.num_classes)[x]


CASES = [
    Case(
        "categorical",
        lambda rng, batch: Categorical(logits=rng.normal(scale=2.0, size=(*batch, 4))),
        lambda rng, d: d.sample(rng=rng),
        lambda d: scipy.stats.multinomial(1, d.probs),
        _one_hot,
    ),
    Case(
        "bernoulli",
        lambda rng, batch: Bernoulli(logit=rng.normal(scale=2.0, size=batch)),
        lambda rng, d: d.sample(rng=rng),
        lambda d: scipy.stats.bernoulli(d.probs),
        lambda d, x: x,
    ),
    Case(
        "dirichlet",
        lambda rng, batch: Dirichlet(
            concentration=np.exp(rng.uniform(np.log(0.3), np.log(20.0), size=(*batch, 3)))
        ),
        lambda rng, d: d.sample(rng=rng),
        lambda d: scipy.stats.dirichlet(d.concentration),
        lambda d, x: x,
    ),
]
IDS = [case.name for case in CASES]
SEEDS = [0, 1, 2]


def log_partition_at(d: ExponentialFamily, natural: np.ndarray) -> float:
    return float(type(d).from_natural(natural).log_partition())


def central_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float) -> np.ndarray:
    grad = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_of_log_partition_is_mean(case, seed):
    d = case.make(np.random.default_rng(seed), ())
    theta = np.array(d.natural)
    grad = central_gradient(lambda t: log_partition_at(d, t), theta, 1e-5)
    np.testing.assert_allclose(grad, d.mean, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fisher_is_hessian_of_log_partition(case, seed):
    d = case.make(np.random.default_rng(seed), ())
    theta = np.array(d.natural)
    h = 1e-4
    n = theta.size
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            hessian[i, j] = (
                log_partition_at(d, theta + ei + ej)
                - log_partition_at(d, theta + ei - ej)
                - log_partition_at(d, theta - ei + ej)
                + log_partition_at(d, theta - ei - ej)
            ) / (4 * h * h)
    np.testing.assert_allclose(d.fisher(), hessian, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fisher_is_jacobian_of_mean_map(case, seed):
    d = case.make(np.random.default_rng(seed), ())
    theta = np.array(d.natural)
    n = theta.size
    h = 1e-6
    jacobian = np.stack(
        [
            (type(d).from_natural(theta + h * e).mean - type(d).from_natural(theta - h * e).mean)
            / (2 * h)
            for e in np.eye(n)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(d.fisher(), jacobian, rtol=1e-6, atol=1e-8)


def covariance_of_statistic(d: ExponentialFamily) -> np.ndarray:
    """Cov[T(x)] by brute-force enumeration (discrete) or quadrature (Dirichlet, K = 2)."""
    if isinstance(d, Dirichlet):
        (a, b) = d.concentration
        beta = scipy.stats.beta(a, b)

        def moment(f):
            return scipy.integrate.quad(lambda x: f(x) * beta.pdf(x), 0, 1, limit=200)[0]

        stats = [np.log, lambda x: np.log1p(-x)]
        first = np.array([moment(f) for f in stats])
        second = np.array(
            [[moment(lambda x, f=f, g=g: f(x) * g(x)) for g in stats] for f in stats]
        )
        return second - np.outer(first, first)
    outcomes = np.arange(d.num_classes) if isinstance(d, Categorical) else np.array([0, 1])
    t = d.sufficient_statistic(outcomes)  # (n_outcomes, d)
    w = np.exp(d.log_prob(outcomes))
    mean = w @ t
    return (t * w[:, None]).T @ t - np.outer(mean, mean)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fisher_is_covariance_of_sufficient_statistic(case, seed):
    rng = np.random.default_rng(seed)
    if case.name == "dirichlet":
        d = Dirichlet(concentration=rng.uniform(1.5, 6.0, size=2))  # quadrature-friendly
    else:
        d = case.make(rng, ())
    np.testing.assert_allclose(d.fisher(), covariance_of_statistic(d), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_round_trip_through_natural_and_mean_coordinates(case):
    d = case.make(np.random.default_rng(3), (5,))
    via_natural = type(d).from_natural(d.natural)
    via_mean = type(d).from_mean(d.mean)
    for other in (via_natural, via_mean):
        np.testing.assert_allclose(other.natural, d.natural, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(other.mean, d.mean, rtol=1e-12, atol=1e-14)


def scipy_entropy(case: Case, d: ExponentialFamily) -> float:
    return float(case.oracle(d).entropy())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_legendre_identity_with_scipy_entropy(case, seed):
    # psi(theta) + phi(eta) = theta . eta, with phi = -entropy from scipy.stats
    d = case.make(np.random.default_rng(seed), ())
    phi = -scipy_entropy(case, d)
    np.testing.assert_allclose(
        d.log_partition() + phi, np.dot(d.natural, d.mean), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(d.dual_potential(), phi, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_of_dual_potential_is_natural(case, seed):
    d = case.make(np.random.default_rng(seed), ())
    eta = np.array(d.mean)
    grad = central_gradient(lambda e: float(type(d).from_mean(e).dual_potential()), eta, 1e-6)
    np.testing.assert_allclose(grad, d.natural, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_entropy_and_log_prob_match_scipy_stats(case, seed):
    rng = np.random.default_rng(seed)
    d = case.make(rng, ())
    np.testing.assert_allclose(d.entropy(), scipy_entropy(case, d), rtol=1e-12, atol=1e-14)
    for _ in range(5):
        x = case.draw(rng, d)
        expected = (
            case.oracle(d).logpmf(case.oracle_x(d, x))
            if case.name != "dirichlet"
            else (case.oracle(d).logpdf(x))
        )
        np.testing.assert_allclose(d.log_prob(x), expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_closed_forms_equal_generic_forms(case, seed):
    rng = np.random.default_rng(seed)
    p, q = case.make(rng, (4,)), case.make(rng, (4,))
    x = case.draw(rng, p)
    g = rng.normal(size=p.natural.shape)
    generic = ExponentialFamily
    np.testing.assert_allclose(p.log_prob(x), generic.log_prob(p, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        p.dual_potential(), generic.dual_potential(p), rtol=1e-11, atol=1e-12
    )
    np.testing.assert_allclose(p.entropy(), generic.entropy(p), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(
        p.cross_entropy(q), generic.cross_entropy(p, q), rtol=1e-11, atol=1e-12
    )
    np.testing.assert_allclose(p.kl(q), generic.kl(p, q), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p.fisher(), generic.fisher(p), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(
        p.natural_gradient(g), generic.natural_gradient(p, g), rtol=1e-9, atol=1e-10
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kl_is_bregman_divergence_and_nonnegative(case, seed):
    rng = np.random.default_rng(seed)
    p, q = case.make(rng, (6,)), case.make(rng, (6,))
    bregman = (
        q.log_partition() - p.log_partition() - np.sum((q.natural - p.natural) * p.mean, axis=-1)
    )
    np.testing.assert_allclose(p.kl(q), bregman, rtol=1e-9, atol=1e-12)
    assert np.all(p.kl(q) >= 0)
    np.testing.assert_allclose(p.kl(p), 0.0, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cross_entropy_is_entropy_plus_kl(case, seed):
    rng = np.random.default_rng(seed)
    p, q = case.make(rng, (6,)), case.make(rng, (6,))
    np.testing.assert_allclose(p.cross_entropy(q), p.entropy() + p.kl(q), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fisher_vp_and_natural_gradient_agree_with_dense_algebra(case, seed):
    rng = np.random.default_rng(seed)
    d = case.make(rng, ())
    v = rng.normal(size=d.natural.shape)
    dense = d.fisher()
    np.testing.assert_allclose(d.fisher_vp(v), dense @ v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        d.natural_gradient(v), np.linalg.solve(dense, v), rtol=1e-9, atol=1e-11
    )
    np.testing.assert_allclose(d.fisher_vp(d.natural_gradient(v)), v, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_batch_equals_loop_over_members(case):
    rng = np.random.default_rng(7)
    p, q = case.make(rng, (3, 2)), case.make(rng, (3, 2))
    g = rng.normal(size=p.natural.shape)
    member_field = dataclasses.fields(p)[0].name
    for index in np.ndindex(3, 2):
        p_i = type(p)(**{member_field: getattr(p, member_field)[index]})
        q_i = type(q)(**{member_field: getattr(q, member_field)[index]})
        for method in ("log_partition", "entropy", "dual_potential"):
            np.testing.assert_allclose(
                getattr(p, method)()[index], getattr(p_i, method)(), rtol=1e-14, atol=1e-15
            )
        np.testing.assert_allclose(p.kl(q)[index], p_i.kl(q_i), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(p.fisher()[index], p_i.fisher(), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(
            p.natural_gradient(g)[index], p_i.natural_gradient(g[index]), rtol=1e-13
        )
        np.testing.assert_allclose(p.mean[index], p_i.mean, rtol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sample_average_of_statistic_approaches_mean(case):
    rng = np.random.default_rng(11)
    d = case.make(rng, (2,))
    samples = d.sample((20000,), rng=rng)
    average = np.mean(d.sufficient_statistic(samples), axis=0)
    # 20000 draws: a few standard errors of the mean
    stderr = np.sqrt(np.diagonal(d.fisher(), axis1=-2, axis2=-1) / 20000)
    assert np.all(np.abs(average - d.mean) < 5 * stderr)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sampling_is_reproducible_from_a_seed(case):
    d = case.make(np.random.default_rng(0), (3,))
    np.testing.assert_array_equal(d.sample((4,), rng=5), d.sample((4,), rng=5))
    assert d.sample((4,), rng=5).shape[:2] == (4, 3)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_distributions_are_immutable(case):
    d = case.make(np.random.default_rng(0), (2,))
    field = dataclasses.fields(d)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(d, field, 0)
    with pytest.raises(ValueError, match="read-only"):
        getattr(d, field)[...] = 0


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kl_of_a_different_family_raises_type_error(case):
    d = case.make(np.random.default_rng(0), ())
    other = next(c for c in CASES if c.name != case.name).make(np.random.default_rng(0), ())
    with pytest.raises(TypeError, match="other"):
        d.kl(other)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_parameters_give_float32_results(case):
    rng = np.random.default_rng(0)
    d64 = case.make(rng, (3,))
    d = type(d64).from_natural(d64.natural.astype(np.float32))
    q = type(d64).from_natural(case.make(rng, (3,)).natural.astype(np.float32))
    g = np.ones(d.natural.shape, dtype=np.float32)
    for value in (
        d.natural,
        d.mean,
        d.log_partition(),
        d.entropy(),
        d.dual_potential(),
        d.kl(q),
        d.cross_entropy(q),
        d.fisher(),
        d.fisher_vp(g),
        d.natural_gradient(g),
    ):
        assert value.dtype == np.float32
    np.testing.assert_allclose(d.entropy(), d64.entropy(), rtol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_integer_parameters_promote_to_float64(case):
    family = type(case.make(np.random.default_rng(0), ()))
    size = 1 if case.name == "bernoulli" else 3
    assert family.from_natural(np.zeros(size, dtype=np.int64)).natural.dtype == np.float64


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_batches_that_do_not_broadcast_raise_value_error_naming_other(case):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="other"):
        case.make(rng, (3,)).kl(case.make(rng, (2,)))
