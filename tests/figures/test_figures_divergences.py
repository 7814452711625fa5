"""Figures 10 (Fisher-Rao and KL balls) and 12 (the Chernoff point): the plotted numbers.

The CSV files are recomputed from closed forms and mpmath: every ball boundary point is
at the stated distance, the Chernoff point is equidistant in KL from both ends.
"""

from __future__ import annotations

from pathlib import Path

import mpmath
import numpy as np
import pytest
from test_figures import EXPERIMENTS, read_csv

from expfam.figures import run_figures


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("figures_divergences")
    assert run_figures([EXPERIMENTS], folder, ["fig10_balls", "fig12_chernoff"]) == 0
    return folder


def _kl(p, q) -> float:
    with mpmath.workdps(40):
        return float(
            sum(
                mpmath.mpf(a) * mpmath.log(mpmath.mpf(a) / b)
                for a, b in zip(p, q, strict=True)
                if a > 0
            )
        )


def test_fig10_ball_boundaries_are_at_their_radius(out):
    t = read_csv(out / "fig10_balls.csv")
    c = np.stack([t["c1"], t["c2"], t["c3"]], axis=-1)
    p = np.stack([t["p1"], t["p2"], t["p3"]], axis=-1)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-14)
    assert np.all(p >= 0)
    fr = t["kind"] == "fisher_rao"
    with mpmath.workdps(40):
        d = [
            float(
                2
                * mpmath.acos(
                    sum(mpmath.sqrt(mpmath.mpf(a) * b) for a, b in zip(x, y, strict=True))
                )
            )
            for x, y in zip(c[fr], p[fr], strict=True)
        ]
    on_edge = np.min(p[fr], axis=-1) < 1e-15
    assert 0 < on_edge.sum() < 0.1 * fr.sum()  # the ball near the top vertex is cut
    np.testing.assert_allclose(np.array(d)[~on_edge], t["r"][fr][~on_edge], rtol=1e-12)
    assert np.all(np.array(d)[on_edge] <= t["r"][fr][on_edge])
    for kind, order in (("kl_from_centre", (0, 1)), ("kl_to_centre", (1, 0))):
        rows = np.flatnonzero(t["kind"] == kind)[::7]
        for i in rows:
            pair = (c[i], p[i])
            value = _kl(pair[order[0]], pair[order[1]])
            on_edge = np.min(p[i]) < 1e-12
            if on_edge:  # the ball is cut by the edge: still inside it
                assert value <= t["r"][i] ** 2 / 2 * (1 + 1e-10)
            else:
                assert value == pytest.approx(t["r"][i] ** 2 / 2, rel=1e-9)


def test_fig12_chernoff_point_is_equidistant_and_maximal(out):
    t = read_csv(out / "fig12_chernoff.csv")
    star = t["kind"] == "chernoff"
    p = np.array([0.6, 0.399, 0.001])
    q = np.array([0.1, 0.2, 0.7])
    point = np.array([t["p1"][star][0], t["p2"][star][0], t["p3"][star][0]])
    c = t["minus_log_power_sum"][star][0]
    assert _kl(point, p) == pytest.approx(c, rel=1e-10)
    assert _kl(point, q) == pytest.approx(c, rel=1e-10)
    # C is the maximum of -log sum p^l q^(1-l) over the plotted grid
    geo = t["kind"] == "geodesic"
    assert np.all(t["minus_log_power_sum"][geo] <= c * (1 + 1e-12))
    lam = t["lambda"][geo]
    with mpmath.workdps(40):
        ref = [
            float(
                -mpmath.log(
                    sum(
                        mpmath.mpf(a) ** mpmath.mpf(x) * mpmath.mpf(b) ** (1 - mpmath.mpf(x))
                        for a, b in zip(p, q, strict=True)
                    )
                )
            )
            for x in lam
        ]
    np.testing.assert_allclose(t["minus_log_power_sum"][geo], ref, rtol=1e-10, atol=1e-15)
