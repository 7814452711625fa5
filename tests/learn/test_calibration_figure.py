"""Figure 16's comparison of recalibration maps: its numbers recomputed independently."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import scipy.special

from expfam._discovery import load_module
from expfam.learn import fit_temperature

EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "fig16_reliability.py"


@pytest.fixture(scope="module")
def experiment():
    return load_module(EXPERIMENT)


@pytest.fixture(scope="module")
def table(experiment):
    return experiment.compare_maps()


def row(table, name, metric):
    (i,) = np.flatnonzero((table["map"] == name) & (table["metric"] == metric))
    return table["estimate"][i], table["low"][i], table["high"][i]


def test_raw_and_temperature_scores_match_an_independent_evaluation(experiment, table):
    z, y, calibrate, test = experiment.overfit_classifier()
    beta = fit_temperature(z[calibrate], y[calibrate]).beta
    for name, scale in (("none", 1.0), ("temperature", beta)):
        u, labels = scale * z[test], y[test]
        log_p = u - scipy.special.logsumexp(u, axis=1, keepdims=True)
        nll = -np.mean(log_p[np.arange(len(labels)), labels])
        p = np.exp(log_p)
        onehot = np.eye(p.shape[1])[labels]
        brier = np.mean(np.sum((p - onehot) ** 2, axis=1))
        assert row(table, name, "NLL")[0] == pytest.approx(nll, rel=1e-12)
        assert row(table, name, "Brier")[0] == pytest.approx(brier, rel=1e-12)
        # the ECE by loops over 15 bins (lo, hi]
        conf, hit = p.max(1), p.argmax(1) == labels
        edges = np.linspace(0, 1, 16)
        ece = sum(
            np.sum(inside) / len(conf) * abs(hit[inside].mean() - conf[inside].mean())
            for inside in ((conf > a) & (conf <= b) for a, b in itertools.pairwise(edges))
            if inside.any()
        )
        assert row(table, name, "ECE")[0] == pytest.approx(ece, rel=1e-10)


def test_every_map_beats_the_raw_logits_and_the_affine_maps_beat_one_temperature(table):
    raw = row(table, "none", "NLL")
    for name in ("temperature", "vector", "matrix", "Dirichlet"):
        high = row(table, name, "NLL")[2]
        assert high < raw[1]  # the intervals do not even overlap
        assert row(table, name, "ECE")[0] < row(table, "none", "ECE")[0] / 5
    for name in ("matrix", "Dirichlet"):
        assert row(table, name, "NLL")[2] < row(table, "temperature", "NLL")[1]
    assert np.all(table["low"] <= table["high"])
    assert np.all(table["steps"][table["map"] != "none"] > 0)
