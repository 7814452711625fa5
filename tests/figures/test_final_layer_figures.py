"""Figures 16-19 (the final layer): the numbers in their CSV files, recomputed independently."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from expfam.datasets import load_gettysburg
from expfam.figures import run_figures
from expfam.learn import tokenize
from expfam.special import softmax

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
NAMES = ["fig16_reliability", "fig17_next_word", "fig18_entmax", "fig19_concrete"]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("final_layer")
    assert run_figures([EXPERIMENTS], folder, NAMES) == 0
    return folder


def read(out: Path, name: str) -> dict[str, np.ndarray]:
    from test_figures import read_csv

    return read_csv(out / f"{name}.csv")


def test_fig16_scaling_lowers_the_ece_and_bins_are_consistent(out):
    m = read(out, "fig16_reliability")
    before, after = m["panel"] == "before", m["panel"] == "after"
    assert m["beta"][before][0] == 1.0 and 0.3 < m["beta"][after][0] < 0.5
    assert m["ece"][after][0] < m["ece"][before][0] / 5
    for panel in (before, after):
        count = m["count"][panel]
        used = count > 0
        gaps = np.abs(m["accuracy"][panel] - m["confidence"][panel])[used]
        assert m["ece"][panel][0] == pytest.approx(np.sum(count[used] * gaps) / 4000, rel=1e-12)
        conf = m["confidence"][panel][used]
        assert np.all((m["lo"][panel][used] < conf) & (conf <= m["hi"][panel][used]))
        assert count.sum() == 4000


def test_fig17_probabilities_are_the_gettysburg_counts(out):
    m = read(out, "fig17_next_word")
    words = tokenize(load_gettysburg())
    v = len(set(words)) + 1  # with </s>
    after_and = Counter(b for a, b in itertools.pairwise(words) if a == "and")
    for a in (0.0, 0.01):
        rows = (m["order"] == 2) & (m["pseudo_count"] == a)
        probs = dict(zip(m["word"][rows], m["probability"][rows], strict=True))
        for word, n in after_and.items():
            assert probs[word] == pytest.approx((n + a) / (6 + v * a), rel=1e-7)
        rows = (m["order"] == 3) & (m["pseudo_count"] == a)
        probs = dict(zip(m["word"][rows], m["probability"][rows], strict=True))
        assert probs["seven"] == pytest.approx((1 + a) / (1 + v * a), rel=1e-7)


def test_fig18_entmax_images_are_probability_vectors_with_exact_zeros(out):
    m = read(out, "fig18_entmax")
    p = np.stack([m["p1"], m["p2"], m["p3"]], axis=1)
    z = np.stack([m["z1"], m["z2"], np.zeros_like(m["z1"])], axis=1)
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-15)
    soft = m["alpha"] == 1
    np.testing.assert_allclose(p[soft], softmax(z[soft]), rtol=1e-15)
    share = [np.mean(np.any(p[m["alpha"] == a] == 0, axis=1)) for a in (1.0, 1.5, 2.0)]
    assert share[0] == 0 < share[1] < share[2]
    # sparsemax: Euclidean projection, z - p constant on the support
    for zi, pi in zip(z[m["alpha"] == 2], p[m["alpha"] == 2], strict=True):
        assert np.ptp((zi - pi)[pi > 0]) < 1e-12


def test_fig19_density_is_the_concrete_formula_and_the_mean_differs(out):
    m = read(out, "fig19_concrete")
    z = np.log([0.5, 0.3, 0.2])
    dens = m["kind"] == "density"
    x = np.stack([m["x1"], m["x2"], m["x3"]], axis=1)[dens]
    lam = m["lambda"][dens][:, None]
    scaled = z - lam * np.log(x)
    top = scaled.max(1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(scaled - top).sum(1))
    expected = math.log(2) + 2 * np.log(lam[:, 0]) + np.sum(z - (lam + 1) * np.log(x), 1) - 3 * lse
    np.testing.assert_allclose(m["log_density"][dens], expected, rtol=1e-9, atol=1e-9)
    means = m["kind"] == "mean"
    mean = np.stack([m["x1"], m["x2"], m["x3"]], axis=1)[means]
    assert np.max(np.abs(mean[-1] - softmax(z))) > 0.05  # lambda = 3: pulled to the centre
