"""The Dirichlet family: scipy.stats and quadrature as oracles, the inverse mean map."""

from __future__ import annotations

import mpmath
import mpref
import numpy as np
import pytest
import scipy.integrate
import scipy.stats

from expfam import Categorical, Dirichlet


@pytest.mark.parametrize("alpha", [[0.5, 0.5], [1.0, 1.0, 1.0], [2.0, 7.5, 0.3, 12.0]])
def test_log_prob_entropy_and_moments_match_scipy_stats(alpha):
    d = Dirichlet(concentration=alpha)
    oracle = scipy.stats.dirichlet(alpha)
    x = np.random.default_rng(0).dirichlet(alpha, size=6)
    np.testing.assert_allclose(d.log_prob(x), [oracle.logpdf(xi) for xi in x], rtol=1e-12)
    np.testing.assert_allclose(d.entropy(), oracle.entropy(), rtol=1e-12)
    np.testing.assert_allclose(d.expected_probs, oracle.mean(), rtol=1e-14)


@pytest.mark.parametrize(("a", "b"), [(0.7, 2.0), (3.0, 3.0), (5.0, 1.5)])
def test_kl_matches_quadrature_for_two_classes(a, b):
    p = Dirichlet(concentration=[a, b])
    q = Dirichlet(concentration=[2.0, 4.0])
    bp, bq = scipy.stats.beta(a, b), scipy.stats.beta(2.0, 4.0)
    expected = scipy.integrate.quad(
        lambda x: bp.pdf(x) * (bp.logpdf(x) - bq.logpdf(x)), 0, 1, limit=200
    )[0]
    np.testing.assert_allclose(p.kl(q), expected, rtol=1e-7)


def test_mean_is_expected_log_of_the_point():
    # E[log x_k] by quadrature for a Beta
    d = Dirichlet(concentration=[2.5, 4.0])
    beta = scipy.stats.beta(2.5, 4.0)
    expected = [
        scipy.integrate.quad(lambda x: np.log(x) * beta.pdf(x), 0, 1)[0],
        scipy.integrate.quad(lambda x: np.log1p(-x) * beta.pdf(x), 0, 1)[0],
    ]
    np.testing.assert_allclose(d.mean, expected, rtol=1e-10)


def test_inverse_mean_map_round_trip_over_a_wide_range():
    rng = np.random.default_rng(1)
    for k in (2, 3, 10, 50):
        alpha = np.exp(rng.uniform(np.log(0.02), np.log(5000.0), size=(20, k)))
        back = Dirichlet.from_mean(Dirichlet(concentration=alpha).mean).concentration
        np.testing.assert_allclose(back, alpha, rtol=1e-8)


@pytest.mark.parametrize("scale", [0.05, 1.0, 1000.0])
def test_natural_gradient_is_sherman_morrison_solution(scale):
    rng = np.random.default_rng(2)
    d = Dirichlet(concentration=scale * rng.uniform(0.5, 2.0, size=5))
    g = rng.normal(size=5)
    dense = np.linalg.solve(d.fisher(), g)
    np.testing.assert_allclose(d.natural_gradient(g), dense, rtol=1e-6)


def test_log_prob_on_the_boundary_follows_the_limit():
    assert Dirichlet(concentration=[2.0, 1.0]).log_prob([0.0, 1.0]) == -np.inf
    np.testing.assert_allclose(
        Dirichlet(concentration=[1.0, 1.0, 1.0]).log_prob([0.0, 0.5, 0.5]), np.log(2), rtol=1e-15
    )
    assert Dirichlet(concentration=[0.5, 1.0]).log_prob([0.0, 1.0]) == np.inf


def test_samples_lie_on_the_simplex_with_the_right_average():
    d = Dirichlet(concentration=[[1.0, 2.0, 3.0], [10.0, 10.0, 0.5]])
    x = d.sample((20_000,), rng=3)
    assert x.shape == (20_000, 2, 3)
    np.testing.assert_allclose(np.sum(x, axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(np.mean(x, axis=0), d.expected_probs, atol=0.01)


def test_predictive_is_the_expected_categorical():
    d = Dirichlet(concentration=[1.0, 3.0])
    assert isinstance(d.predictive(), Categorical)
    np.testing.assert_allclose(d.predictive().probs, [0.25, 0.75], rtol=1e-15)


def test_natural_parameters_are_alpha_minus_one():
    d = Dirichlet.from_natural([0.0, 1.5, -0.5])
    np.testing.assert_array_equal(d.concentration, [1.0, 2.5, 0.5])
    np.testing.assert_array_equal(d.natural, [0.0, 1.5, -0.5])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: Dirichlet(concentration=[1.0, 0.0]), "concentration"),
        (lambda: Dirichlet(concentration=[1.0, -2.0]), "concentration"),
        (lambda: Dirichlet(concentration=[1.0, np.nan]), "concentration"),
        (lambda: Dirichlet(concentration=[1.0, np.inf]), "concentration"),
        (lambda: Dirichlet(concentration=[1.0]), "concentration"),
        (lambda: Dirichlet.from_natural([-1.0, 0.0]), "natural"),
        (lambda: Dirichlet.from_mean([0.0, -1.0]), "mean"),
        (lambda: Dirichlet.from_mean([-0.1, -0.1]), "mean"),
        (lambda: Dirichlet(concentration=[1.0, 1.0]).log_prob([0.5, 0.6]), "x"),
        (lambda: Dirichlet(concentration=[1.0, 1.0]).log_prob([0.5, 0.25, 0.25]), "x"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ---------------------------------------------------------------- accuracy (issue 12, bug 6)


def _relative_error(got, exact) -> float:
    with mpmath.workdps(mpref.DPS):
        return float(abs(mpmath.mpf(float(got)) - exact) / abs(exact))


def test_entropy_at_large_concentrations_is_not_lost_to_cancellation():
    """Issue 12: concentration (1e15, 2e15) gave -6.0; the entropy is -17.15 (the textbook
    form cancels terms of size alpha_0 log alpha_0 = 1e17)."""
    alpha = [1e15, 2e15]
    got = Dirichlet(concentration=alpha).entropy()
    assert _relative_error(got, mpref.dirichlet_entropy_ref(alpha)) <= 1e-13


@pytest.mark.parametrize("scale", [1e-3, 0.3, 1.0, 30.0, 1e4, 1e9, 1e15, 2e15])
def test_entropy_within_1e_13_of_mpmath_across_the_range(scale):
    rng = np.random.default_rng(int(np.log10(scale) * 10) % 97)
    for k in (2, 3, 7):
        alpha = scale * np.exp(rng.uniform(-1.5, 1.5, k))
        got = Dirichlet(concentration=alpha).entropy()
        assert _relative_error(got, mpref.dirichlet_entropy_ref(alpha)) <= 1e-13, alpha


@pytest.mark.parametrize("scale", [0.01, 1.0, 30.0, 1e4, 1e12])
@pytest.mark.parametrize("eps", [1e-2, 1e-6, 1e-8, 1e-12])
@pytest.mark.parametrize("mode", ["random", "proportional"])
def test_kl_keeps_its_relative_accuracy_as_q_tends_to_p(scale, eps, mode):
    """Issue 12: relative error 3e-3 at a relative difference of 1e-6 and 11x too large at
    1e-8; in the proportional direction beta = (1 + eps) alpha the textbook form gave 0."""
    rng = np.random.default_rng(7)
    alpha = scale * np.exp(rng.uniform(-1.0, 1.0, 4))
    step = rng.uniform(-1.0, 1.0, 4) if mode == "random" else 1.0
    beta = alpha * (1.0 + eps * step)
    got = Dirichlet(concentration=alpha).kl(Dirichlet(concentration=beta))
    assert _relative_error(got, mpref.dirichlet_kl_ref(alpha, beta)) <= 1e-13


def test_kl_within_1e_13_of_mpmath_near_and_far():
    """Concentrations over [1e-4, 1e16] (the range), independent or perturbed: every branch of the
    remainders (Stirling on both sides, on one side, the Taylor series, the direct form)."""
    rng = np.random.default_rng(12)
    for trial in range(60):
        k = int(rng.integers(2, 7))
        alpha = np.exp(rng.uniform(np.log(1e-4), np.log(1e16), k))
        if trial % 2:
            beta = np.exp(rng.uniform(np.log(1e-4), np.log(1e16), k))
        else:
            beta = alpha * (1.0 + 10 ** rng.uniform(-12, -0.5) * rng.uniform(-1, 1, k))
        got = Dirichlet(concentration=alpha).kl(Dirichlet(concentration=beta))
        exact = mpref.dirichlet_kl_ref(alpha, beta)
        assert _relative_error(got, exact) <= 1e-13, (alpha.tolist(), beta.tolist())


def test_kl_of_a_distribution_with_itself_is_zero():
    for alpha in ([0.01, 0.02], [1.0, 2.0, 3.0], [1e15, 2e15, 5.0]):
        d = Dirichlet(concentration=alpha)
        assert d.kl(Dirichlet(concentration=alpha)) == 0.0


# ---------------------------------------------------------------- the range (issue 21)


@pytest.mark.parametrize("alpha", [[1e-5, 1.0], [1e-300, 1.0], [1.0, 2e16], [1.0, 1e300]])
def test_concentrations_outside_the_range_are_refused_by_name(alpha):
    with pytest.raises(ValueError, match=r"concentration: expected concentrations in \[0.0001"):
        Dirichlet(concentration=alpha)


def test_from_natural_outside_the_range_names_natural():
    with pytest.raises(ValueError, match="natural"):
        Dirichlet.from_natural([-1.0, 0.0])


@pytest.mark.parametrize("alpha", [[1e-4, 1.0], [1e-4, 1e-4, 1e16], [1e16, 2e15], [1e16, 1e16]])
def test_every_method_is_finite_and_symmetric_at_the_edges_of_the_range(alpha):
    """Issue 21: outside [1e-3, 1e15] there were NaNs, an asymmetric Fisher matrix and
    warnings (pytest turns any warning into an error)."""
    d = Dirichlet(concentration=alpha)
    fisher = d.fisher()
    np.testing.assert_array_equal(fisher, fisher.T)
    g = np.linspace(-1.0, 1.0, len(alpha))
    for value in (
        d.mean,
        d.log_partition(),
        d.entropy(),
        d.natural_gradient(g),
        d.sample(4, rng=0),
    ):
        assert np.all(np.isfinite(value))


def _natural_gradient_ref(alpha, g):
    with mpmath.workdps(80):
        a = [mpmath.mpf(float(x)) for x in alpha]
        c = mpmath.polygamma(1, sum(a))
        fisher = mpmath.matrix(
            [
                [(mpmath.polygamma(1, a[i]) if i == j else 0) - c for j in range(len(a))]
                for i in range(len(a))
            ]
        )
        return [float(x) for x in mpmath.lu_solve(fisher, mpmath.matrix([float(x) for x in g]))]


@pytest.mark.parametrize(
    "alpha",
    [
        [2.0, 3.0],
        [0.5, 40.0, 7.0],
        [1e6, 2e6],
        [1e15, 3e15, 2e15],
        [1e16, 1e-4],
        [1e-4, 2e-4, 5.0],
    ],
)
def test_natural_gradient_within_1e_12_of_mpmath_at_every_scale(alpha):
    """The Sherman-Morrison denominator cancelled at large alpha_0 (every digit lost, and a
    divide warning, at 1e16); the s-form keeps it."""
    g = np.array([0.3, -1.0, 0.7][: len(alpha)])
    got = Dirichlet(concentration=alpha).natural_gradient(g)
    exact = np.array(_natural_gradient_ref(alpha, g))
    np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12 * np.max(np.abs(exact)))


def test_sample_at_tiny_concentrations_has_no_nan_and_one_hot_rows():
    """Issue 21: concentration (1e-3, 1e-3) gave 2193 NaN rows of 10000 (the Gamma draws
    underflowed); in log space such rows are one-hot."""
    x = Dirichlet(concentration=[1e-3, 1e-3]).sample(10000, rng=0)
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(x.sum(axis=-1), 1.0, rtol=1e-15)
    # Beta(a, a) with a -> 0 puts mass 1/2 near each vertex: the class means are 1/2.
    assert abs(x[:, 0].mean() - 0.5) < 0.03
    assert np.mean(x.max(axis=-1) == 1.0) > 0.9


def test_sample_moments_match_the_dirichlet():
    alpha = np.array([2.0, 3.0, 5.0])
    x = Dirichlet(concentration=alpha).sample(200000, rng=1)
    mean = alpha / alpha.sum()
    var = mean * (1 - mean) / (alpha.sum() + 1)
    np.testing.assert_allclose(x.mean(axis=0), mean, atol=5 * np.sqrt(var / 200000).max())
    np.testing.assert_allclose(x.var(axis=0), var, rtol=0.02)


def test_kl_in_float32_is_computed_in_float64_and_rounded_once():
    """expfam verify (issue 22) found KL = 0 for 150.8 in float32: the double-double
    steps overflowed in float32's range."""
    a = np.array([13.950973, 0.13973546, 0.15900618], dtype=np.float32)
    b = np.array([2.5619867, 15.857394, 0.16640639], dtype=np.float32)
    got = Dirichlet(concentration=a).kl(Dirichlet(concentration=b))
    assert got.dtype == np.float32
    exact = mpref.dirichlet_kl_ref(a.astype(np.float64), b.astype(np.float64))
    assert _relative_error(got, exact) <= 2 * np.finfo(np.float32).eps
