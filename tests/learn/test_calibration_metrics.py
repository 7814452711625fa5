"""Calibration metrics against brute force, hand-computed cases, scikit-learn, exact means."""

import functools
import itertools
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expfam.learn import (
    bootstrap_interval,
    brier_score,
    classwise_calibration_error,
    debiased_calibration_error,
    expected_calibration_error,
    log_loss,
    max_calibration_error,
    reliability_curve,
    score_decomposition,
)
from expfam.special import softmax


def forecasts(seed, n=120, k=3, concentration=0.7):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(k, concentration), n)
    y = rng.integers(0, k, n)
    return p, y


def brute_binned_error(values, hits, weights, edges, reduce="mean"):
    """sum_m W_m |mean hit - mean value| over bins (lo, hi] (bin 0 closed), by loops."""
    total_weight = sum(weights)
    gaps, fractions = [], []
    for m in range(len(edges) - 1):
        inside = [
            i
            for i, v in enumerate(values)
            if (edges[m] < v <= edges[m + 1]) or (m == 0 and v == edges[0])
        ]
        wsum = sum(weights[i] for i in inside)
        if wsum == 0:
            continue
        hit = sum(weights[i] * hits[i] for i in inside) / wsum
        value = sum(weights[i] * values[i] for i in inside) / wsum
        gaps.append(abs(hit - value))
        fractions.append(wsum / total_weight)
    if reduce == "max":
        return max(gaps)
    return sum(f * g for f, g in zip(fractions, gaps, strict=True))


# ------------------------------------------------------------------ top-label ECE and MCE


@settings(max_examples=40)
@given(st.integers(0, 10**6), st.integers(1, 20), st.booleans())
def test_weighted_ece_and_mce_by_brute_force(seed, n_bins, weighted):
    p, y = forecasts(seed, n=50)
    w = np.random.default_rng(seed + 1).random(50) if weighted else np.ones(50)
    conf, hits = p.max(1), (p.argmax(1) == y).astype(float)
    edges = np.linspace(0, 1, n_bins + 1)
    kwargs = {"probs": p, "labels": y, "n_bins": n_bins}
    if weighted:
        kwargs["sample_weight"] = w
    expected = brute_binned_error(list(conf), list(hits), list(w), edges)
    assert expected_calibration_error(**kwargs) == pytest.approx(expected, abs=1e-14)
    worst = brute_binned_error(list(conf), list(hits), list(w), edges, reduce="max")
    assert max_calibration_error(**kwargs) == pytest.approx(worst, abs=1e-14)


@pytest.mark.parametrize("binning", ["uniform", "quantile"])
def test_integer_weights_are_repetitions(binning):
    p, y = forecasts(4, n=60)
    w = np.random.default_rng(5).integers(0, 4, 60)
    for metric in (
        expected_calibration_error,
        max_calibration_error,
        classwise_calibration_error,
    ):
        weighted = metric(probs=p, labels=y, sample_weight=w, n_bins=7, binning=binning)
        repeated = metric(
            probs=np.repeat(p, w, 0), labels=np.repeat(y, w), n_bins=7, binning=binning
        )
        assert weighted == pytest.approx(repeated, abs=1e-14)


@pytest.mark.parametrize(("n", "n_bins"), [(60, 15), (100, 10), (37, 5), (10, 10)])
def test_equal_mass_bins_hold_equal_counts(n, n_bins):
    """Distinct confidences: bin m holds the ranks ceil((m-1) n / M) + 1 .. ceil(m n / M)."""
    p, y = forecasts(n, n=n)
    curve = reliability_curve(probs=p, labels=y, n_bins=n_bins, binning="quantile")
    bounds = [math.ceil(m * n / n_bins) for m in range(n_bins + 1)]
    np.testing.assert_array_equal(curve.count, np.diff(bounds))
    # and the ECE of those bins by brute force, over bins given by sorted ranks
    conf, hits = p.max(1), (p.argmax(1) == y).astype(float)
    order = np.argsort(conf)
    expected = sum(
        (hi - lo) / n * abs(hits[order[lo:hi]].mean() - conf[order[lo:hi]].mean())
        for lo, hi in itertools.pairwise(bounds)
        if hi > lo
    )
    assert curve.ece == pytest.approx(expected, abs=1e-14)


@pytest.mark.parametrize("seed", range(4))
def test_uniform_bins_match_scikit_learn_calibration_curve(seed):
    calibration_curve = pytest.importorskip("sklearn.calibration").calibration_curve
    p, y = forecasts(seed, n=500, k=4)
    curve = reliability_curve(probs=p, labels=y, n_bins=10)
    prob_true, prob_pred = calibration_curve(
        (p.argmax(1) == y).astype(int), p.max(1), n_bins=10, strategy="uniform"
    )
    used = curve.count > 0
    np.testing.assert_allclose(curve.accuracy[used], prob_true, rtol=0, atol=1e-15)
    np.testing.assert_allclose(curve.confidence[used], prob_pred, rtol=0, atol=1e-15)


def test_ece_hand_computed():
    # bins (0, .5], (.5, 1]: {0.5} and {0.7, 0.9}; hits [1], [0, 1]
    p = [[0.5, 0.5], [0.7, 0.3], [0.1, 0.9]]
    y = [0, 1, 1]
    # |1 - 0.5| / 3 + 2/3 |0.5 - 0.8| = 1/6 + 1/5
    assert expected_calibration_error(probs=p, labels=y, n_bins=2) == pytest.approx(11 / 30)
    assert max_calibration_error(probs=p, labels=y, n_bins=2) == pytest.approx(0.5)


def test_quantile_ties_merge_bins():
    p = np.array([[0.6, 0.4]] * 6 + [[0.9, 0.1]] * 2)
    curve = reliability_curve(probs=p, labels=[0] * 8, n_bins=4, binning="quantile")
    assert curve.count.tolist() == [6, 2]  # the tie at 0.6 fills three quarters
    assert curve.ece == pytest.approx(6 / 8 * 0.4 + 2 / 8 * 0.1)


# ------------------------------------------------------------------ classwise


@settings(max_examples=30)
@given(st.integers(0, 10**6), st.integers(1, 12), st.sampled_from(["uniform", "quantile"]))
def test_classwise_ece_by_brute_force(seed, n_bins, binning):
    p, y = forecasts(seed, n=40, k=3)
    total = 0.0
    for c in range(3):
        values = p[:, c]
        if binning == "uniform":
            edges = np.linspace(0, 1, n_bins + 1)
        else:  # smallest value whose rank reaches m n / M, then merged
            s = np.sort(values)
            inner = [s[math.ceil(m * 40 / n_bins) - 1] for m in range(1, n_bins)]
            edges = np.unique([0.0, *inner, 1.0])
        total += brute_binned_error(list(values), list((y == c) * 1.0), [1.0] * 40, edges)
    ece = classwise_calibration_error(probs=p, labels=y, n_bins=n_bins, binning=binning)
    assert ece == pytest.approx(total / 3, abs=1e-14)


def test_classwise_ece_of_two_classes_is_the_binary_reliability():
    """K = 2: both classes see the same bins mirrored, so the two terms are equal."""
    rng = np.random.default_rng(0)
    q = rng.random(300)
    p = np.stack([1 - q, q], axis=1)
    y = (rng.random(300) < q**1.5).astype(int)
    one = brute_binned_error(list(q), list(y * 1.0), [1.0] * 300, np.linspace(0, 1, 11))
    ece = classwise_calibration_error(probs=p, labels=y, n_bins=10)
    assert ece == pytest.approx(one, rel=1e-12)


# ------------------------------------------------------------------ debiased (Kumar et al.)


def kumar_reference(probs, labels, num_bins, mode):
    """Transcription of uncertainty-calibration's get_calibration_error(p=2, debias=True).

    calibration/utils.py: equal-mass bins from np.array_split of the sorted
    values, edges at midpoints, bisect_left; unbiased_l2_ce per dimension.
    """
    import bisect

    def equal_bins(values):
        splits = np.array_split(np.sort(values), num_bins)
        edges = [(a[-1] + b[0]) / 2 for a, b in itertools.pairwise(splits)] + [1.0]
        return sorted(set(edges))

    def unbiased_square(values, targets):
        edges = equal_bins(values)
        groups = [[] for _ in edges]
        for v, t in zip(values, targets, strict=True):
            groups[bisect.bisect_left(edges, v)].append((v, t))
        total = 0.0
        for data in groups:
            if len(data) < 2:
                continue
            mean_p = np.mean([d[0] for d in data])
            mean_y = np.mean([d[1] for d in data])
            estimate = (mean_p - mean_y) ** 2 - mean_y * (1 - mean_y) / (len(data) - 1)
            total += len(data) / len(values) * estimate
        return total

    if mode == "top-label":
        correct = (probs.argmax(1) == labels).astype(float)
        return max(unbiased_square(probs.max(1), correct), 0.0) ** 0.5
    per_class = [
        max(unbiased_square(probs[:, k], (labels == k).astype(float)), 0.0)
        for k in range(probs.shape[1])
    ]
    return np.mean(per_class) ** 0.5


@pytest.mark.parametrize("mode", ["top-label", "marginal"])
@pytest.mark.parametrize(("seed", "n", "n_bins"), [(0, 200, 10), (1, 300, 15), (2, 400, 4)])
def test_debiased_matches_kumar_liang_ma(mode, seed, n, n_bins):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4)) * 2
    p = softmax(z)
    y = np.array([rng.choice(4, p=q) for q in softmax(0.6 * z)])  # overconfident
    ours = debiased_calibration_error(probs=p, labels=y, n_bins=n_bins, mode=mode)
    assert ours == pytest.approx(kumar_reference(p, y, n_bins, mode), rel=1e-12, abs=1e-15)
    assert ours > 0.01


@pytest.mark.parametrize(("n1", "q1", "n2", "q2"), [(6, 0.3, 5, 0.8), (8, 0.5, 3, 0.05)])
def test_the_squared_estimate_is_unbiased_exactly(n1, q1, n2, q2):
    """Two bins of fixed forecasts, labels Bernoulli(q_m): average over every outcome."""
    conf = np.concatenate([np.linspace(0.55, 0.6, n1), np.linspace(0.9, 0.95, n2)])
    p = np.stack([conf, 1 - conf], axis=1)
    n = n1 + n2
    q = np.array([q1] * n1 + [q2] * n2)
    expected = 0.0
    for outcome in itertools.product((0, 1), repeat=n):
        hits = np.array(outcome)
        weight = np.prod(np.where(hits == 1, q, 1 - q))
        labels = np.where(hits == 1, 0, 1)  # the top label (class 0) is right when hit
        # the squared estimate, unclipped:
        # sum_m W_m [(ybar - pbar)^2 - ybar (1 - ybar) / (n_m - 1)]
        raw = 0.0
        for lo, hi in ((0, n1), (n1, n)):
            ybar, pbar, size = hits[lo:hi].mean(), conf[lo:hi].mean(), hi - lo
            raw += size / n * ((ybar - pbar) ** 2 - ybar * (1 - ybar) / (size - 1))
        ours = debiased_calibration_error(
            probs=p, labels=labels, n_bins=4, binning="uniform"
        )  # (.5, .75], (.75, 1]
        assert ours == pytest.approx(math.sqrt(max(raw, 0.0)), abs=1e-14)
        expected += weight * raw
    truth = n1 / n * (q1 - conf[:n1].mean()) ** 2 + n2 / n * (q2 - conf[n1:].mean()) ** 2
    assert expected == pytest.approx(truth, rel=1e-12)


def test_debiased_is_smaller_than_the_plug_in_on_calibrated_data():
    rng = np.random.default_rng(3)
    p = rng.dirichlet([2.0, 2.0, 2.0], 400)
    y = np.array([rng.choice(3, p=q) for q in p])  # calibrated by construction
    debiased = debiased_calibration_error(probs=p, labels=y, n_bins=15)
    naive = 0.0
    curve = reliability_curve(probs=p, labels=y, n_bins=15, binning="quantile")
    used = curve.count > 0
    naive = math.sqrt(np.sum(curve.count[used] / 400 * curve.gaps[used] ** 2))
    assert debiased < naive / 2


# ------------------------------------------------------------------ proper scores


@pytest.mark.parametrize("k", [2, 3, 6])
def test_brier_matches_scikit_learn(k):
    brier_score_loss = pytest.importorskip("sklearn.metrics").brier_score_loss
    p, y = forecasts(k, n=80, k=k)
    w = np.random.default_rng(k).random(80)
    expected = brier_score_loss(y, p, labels=list(range(k)), scale_by_half=False, sample_weight=w)
    assert brier_score(probs=p, labels=y, sample_weight=w) == pytest.approx(expected, rel=1e-13)
    if k == 2:  # scikit-learn's binary Brier score is half the two-class sum
        assert brier_score(probs=p, labels=y) == pytest.approx(2 * brier_score_loss(y, p[:, 1]))


@pytest.mark.parametrize("k", [2, 5])
def test_log_loss_matches_scikit_learn(k):
    sk_log_loss = pytest.importorskip("sklearn.metrics").log_loss
    p, y = forecasts(10 + k, n=80, k=k, concentration=3.0)
    w = np.random.default_rng(k).random(80)
    expected = sk_log_loss(y, p, labels=list(range(k)), sample_weight=w)
    assert log_loss(probs=p, labels=y, sample_weight=w) == pytest.approx(expected, rel=1e-12)


def test_log_loss_from_logits_keeps_the_tails():
    """-log softmax(z)_y against mpmath, where p_y underflows to 0 or rounds to 1."""
    z = np.array([[0.0, -800.0], [40.0, 0.0], [1e-20, 0.0]])
    y = np.array([1, 0, 1])
    with mpmath.workdps(50):
        terms = [
            -(
                mpmath.mpf(float(row[t]))
                - mpmath.log(sum(mpmath.exp(mpmath.mpf(float(v))) for v in row))
            )
            for row, t in zip(z, y, strict=True)
        ]
        expected = float(sum(terms) / 3)
    assert log_loss(logits=z, labels=y) == pytest.approx(expected, rel=1e-15)
    assert log_loss(probs=softmax(z), labels=y) == math.inf  # p_y = 0: the log score is infinite
    assert log_loss(probs=[[1.0, 0.0], [0.5, 0.5]], labels=[0, 1], sample_weight=[1, 0]) == 0.0


def test_decompositions_hand_computed():
    # two groups of forecasts, (.8, .2) x2 with labels 0, 1 and (.3, .7) x2 with labels 1, 1
    p = [[0.8, 0.2], [0.8, 0.2], [0.3, 0.7], [0.3, 0.7]]
    y = [0, 1, 1, 1]
    brier = score_decomposition(probs=p, labels=y)
    # group frequencies (.5, .5) and (0, 1); overall (.25, .75)
    assert brier.reliability == pytest.approx(0.5 * 2 * 0.3**2 + 0.5 * 2 * 0.3**2)
    assert brier.resolution == pytest.approx(0.5 * 2 * 0.25**2 + 0.5 * 2 * 0.25**2)
    assert brier.uncertainty == pytest.approx(1 - 0.25**2 - 0.75**2)
    assert brier.score == pytest.approx((0.04 * 2 + 0.64 * 2 + 0.09 * 2 + 0.09 * 2) / 4)
    log = score_decomposition(probs=p, labels=y, score="log")
    kl = lambda a, b: sum(x * math.log(x / q) for x, q in zip(a, b, strict=True) if x > 0)  # noqa: E731
    assert log.reliability == pytest.approx(
        0.5 * kl([0.5, 0.5], [0.8, 0.2]) + 0.5 * kl([0, 1], [0.3, 0.7])
    )
    assert log.resolution == pytest.approx(
        0.5 * kl([0.5, 0.5], [0.25, 0.75]) + 0.5 * kl([0, 1], [0.25, 0.75])
    )
    assert log.uncertainty == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))
    assert log.score == pytest.approx(-(math.log(0.8) + math.log(0.2) + 2 * math.log(0.7)) / 4)


@settings(max_examples=30)
@given(st.integers(0, 10**6), st.sampled_from(["brier", "log"]), st.booleans())
def test_murphy_identity(seed, score, weighted):
    rng = np.random.default_rng(seed)
    groups = rng.dirichlet([1.0, 1.0, 1.0, 1.0], 6)
    p = groups[rng.integers(0, 6, 90)]
    y = rng.integers(0, 4, 90)
    w = rng.random(90) if weighted else None
    parts = score_decomposition(probs=p, labels=y, score=score, sample_weight=w)
    assert parts.score == pytest.approx(
        parts.reliability - parts.resolution + parts.uncertainty, rel=1e-12, abs=1e-14
    )
    assert parts.reliability >= 0 and parts.resolution >= 0 and parts.uncertainty >= 0
    metric = brier_score if score == "brier" else log_loss
    assert parts.score == pytest.approx(metric(probs=p, labels=y, sample_weight=w), rel=1e-13)


def test_forecasting_the_group_frequency_has_no_reliability_term():
    p = np.array([[0.5, 0.5]] * 4 + [[0.25, 0.75]] * 4)
    y = [0, 1, 0, 1, 0, 1, 1, 1]
    for score in ("brier", "log"):
        assert score_decomposition(probs=p, labels=y, score=score).reliability == pytest.approx(
            0.0, abs=1e-16
        )


# ------------------------------------------------------------------ bootstrap


def test_bootstrap_matches_scipy_percentile_interval():
    stats = pytest.importorskip("scipy.stats")
    p, y = forecasts(7, n=300, k=3, concentration=2.0)
    ours = bootstrap_interval(brier_score, probs=p, labels=y, n_resamples=4000, rng=0)

    def statistic(index):
        return brier_score(probs=p[index], labels=y[index])

    res = stats.bootstrap(
        (np.arange(300),),
        statistic,
        vectorized=False,
        n_resamples=4000,
        method="percentile",
        rng=1,
    )
    assert ours[0] == brier_score(probs=p, labels=y)
    width = res.confidence_interval.high - res.confidence_interval.low
    assert ours[1] == pytest.approx(res.confidence_interval.low, abs=0.05 * width)
    assert ours[2] == pytest.approx(res.confidence_interval.high, abs=0.05 * width)


def test_bootstrap_is_reproducible_and_takes_options():
    p, y = forecasts(8, n=100)
    ece10 = functools.partial(expected_calibration_error, n_bins=10)
    a = bootstrap_interval(ece10, probs=p, labels=y, n_resamples=50, rng=3)
    b = bootstrap_interval(ece10, probs=p, labels=y, n_resamples=50, rng=np.random.default_rng(3))
    assert a == b
    assert a[0] == expected_calibration_error(probs=p, labels=y, n_bins=10)
    assert a[1] <= a[2]
    z = np.log(p)
    c = bootstrap_interval(
        log_loss, logits=z, labels=y, sample_weight=np.ones(100), n_resamples=50, rng=3
    )
    assert c[0] == pytest.approx(log_loss(probs=p, labels=y), rel=1e-12)
    narrow = bootstrap_interval(
        ece10, probs=p, labels=y, n_resamples=200, confidence_level=0.5, rng=3
    )
    wide = bootstrap_interval(
        ece10, probs=p, labels=y, n_resamples=200, confidence_level=0.99, rng=3
    )
    assert wide[1] <= narrow[1] <= narrow[2] <= wide[2]


# ------------------------------------------------------------------ bad input

P = softmax(np.random.default_rng(0).normal(size=(20, 3)))
Y = np.arange(20) % 3
METRICS = [
    expected_calibration_error,
    max_calibration_error,
    classwise_calibration_error,
    debiased_calibration_error,
    brier_score,
    log_loss,
    score_decomposition,
    reliability_curve,
]


@pytest.mark.parametrize("metric", METRICS)
def test_probabilities_passed_as_logits_are_refused(metric):
    with pytest.raises(ValueError, match=r"logits: expected logits.*probs="):
        metric(logits=P, labels=Y)
    metric(probs=P, labels=Y)  # the same array as probabilities is fine


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"labels": np.array([0, 3] * 10)},
            ValueError,
            r"labels: expected class indices in \[0, 3\), got 3",
        ),
        ({"labels": np.array([0, -1] * 10)}, ValueError, "labels: .* got -1"),
        ({"labels": Y.astype(float)}, TypeError, "labels: expected integer"),
        ({"labels": Y[:5]}, ValueError, "labels: expected shape"),
        ({"sample_weight": -np.ones(20)}, ValueError, "sample_weight"),
        ({"probs": P[:, :1]}, ValueError, "probs: expected shape"),
        ({"probs": P * 2}, ValueError, "probs: expected rows"),
        ({"logits": None, "probs": None}, TypeError, "exactly one"),
    ],
)
def test_bad_input_names_the_argument(metric, kwargs, error, match):
    args = {"probs": P, "labels": Y} | kwargs
    with pytest.raises(error, match=match):
        metric(**args)


BINNED = [
    expected_calibration_error,
    max_calibration_error,
    classwise_calibration_error,
    debiased_calibration_error,
    reliability_curve,
]


@pytest.mark.parametrize("metric", BINNED)
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bins": 0}, "n_bins: expected an integer >= 1, got 0"),
        ({"n_bins": -3}, "n_bins"),
        ({"n_bins": 2.5}, "n_bins"),
        ({"n_bins": True}, "n_bins"),
        ({"binning": "width"}, "binning: expected 'uniform' or 'quantile'"),
        (
            {"probs": np.full((20, 3), 1 / 3), "binning": "quantile"},
            "binning: equal-mass bins need",
        ),
    ],
)
def test_bad_binning_names_the_argument(metric, kwargs, match):
    with pytest.raises(ValueError, match=match):
        metric(**({"probs": P, "labels": Y} | kwargs))


def test_one_equal_mass_bin_of_equal_confidences_is_fine():
    p = np.full((20, 3), 1 / 3)
    assert expected_calibration_error(
        probs=p, labels=Y, n_bins=1, binning="quantile"
    ) == pytest.approx(7 / 20 - 1 / 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_resamples": 0}, "n_resamples"),
        ({"confidence_level": 1.0}, "confidence_level"),
        ({"confidence_level": "high"}, "confidence_level"),
        ({"rng": -1}, "rng"),
        ({"rng": "seed"}, "rng"),
    ],
)
def test_bootstrap_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        bootstrap_interval(brier_score, probs=P, labels=Y, **kwargs)
    with pytest.raises(TypeError, match="metric"):
        bootstrap_interval("ece", probs=P, labels=Y)


def test_mode_and_score_are_checked():
    with pytest.raises(ValueError, match="mode: expected 'top-label' or 'marginal'"):
        debiased_calibration_error(probs=P, labels=Y, mode="classwise")
    with pytest.raises(ValueError, match="score: expected 'brier' or 'log'"):
        score_decomposition(probs=P, labels=Y, score="spherical")


@pytest.mark.parametrize("mode", ["top-label", "marginal"])
def test_debiased_reliability_weights(mode):
    """Constant weights change nothing; a bin of weights w has size (sum w)^2 / sum w^2."""
    p, y = forecasts(12, n=90, k=3, concentration=2.0)
    plain = debiased_calibration_error(probs=p, labels=y, n_bins=3, mode=mode)
    constant = debiased_calibration_error(
        probs=p, labels=y, n_bins=3, mode=mode, sample_weight=np.full(90, 7.0)
    )
    assert constant == pytest.approx(plain, rel=1e-12)
    # one uniform bin of the top label, by hand: W = 1, effective size from the weights
    w = np.random.default_rng(1).random(90) + 0.5
    hits = (p.argmax(1) == y).astype(float)
    ybar, pbar = np.average(hits, weights=w), np.average(p.max(1), weights=w)
    size = w.sum() ** 2 / np.sum(w**2)
    expected = math.sqrt(max((ybar - pbar) ** 2 - ybar * (1 - ybar) / (size - 1), 0.0))
    ours = debiased_calibration_error(
        probs=p, labels=y, n_bins=1, binning="uniform", sample_weight=w
    )
    assert ours == pytest.approx(expected, rel=1e-12)
