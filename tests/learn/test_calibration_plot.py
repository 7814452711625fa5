"""expfam.plot.reliability_diagram draws the numbers of the reliability curve."""

import numpy as np
import pytest

from expfam.learn import reliability_curve

pytest.importorskip("matplotlib")


@pytest.mark.parametrize("weighted", [False, True])
def test_bars_gaps_histogram_and_ece_are_the_curve(weighted):
    from expfam import plot

    rng = np.random.default_rng(0)
    p = rng.dirichlet([0.5, 0.5, 0.5], 300)
    y = rng.integers(0, 3, 300)
    w = rng.random(300) if weighted else None
    curve = reliability_curve(probs=p, labels=y, n_bins=10, sample_weight=w)
    with plot.style_context():
        _, (hist_ax, ax) = plot.new_figure("single", nrows=2)
        artists = plot.reliability_diagram(ax, curve, hist_ax=hist_ax, legend=True)
    used = curve.count > 0
    heights = [bar.get_height() for bar in artists["accuracy"]]
    np.testing.assert_allclose(heights, curve.accuracy[used], rtol=1e-15)
    lefts = [bar.get_x() for bar in artists["accuracy"]]
    np.testing.assert_allclose(lefts, curve.edges[:-1][used], rtol=1e-15)
    for bar, acc, conf in zip(
        artists["gap"], curve.accuracy[used], curve.confidence[used], strict=True
    ):
        assert bar.get_y() == pytest.approx(min(acc, conf), rel=1e-15)
        assert bar.get_y() + bar.get_height() == pytest.approx(max(acc, conf), rel=1e-14)
    shares = [bar.get_height() for bar in artists["histogram"]]
    expected = curve.count / 300 if w is None else curve.weight
    np.testing.assert_allclose(shares, expected, rtol=1e-15)
    assert np.sum(shares) == pytest.approx(1.0)
    assert artists["ece"].get_text() == f"ECE = {100 * curve.ece:.1f}%"
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)
    assert ax.get_legend() is not None


def test_without_histogram_or_ece():
    from expfam import plot

    curve = reliability_curve(probs=[[0.9, 0.1], [0.6, 0.4]], labels=[0, 1], n_bins=2)
    with plot.style_context():
        _, ax = plot.new_figure("single")
        artists = plot.reliability_diagram(ax, curve, show_ece=False)
    assert artists["ece"] is None and artists["histogram"] is None
    assert len(artists["accuracy"]) == 1  # the empty bin (0, 0.5] draws no bar
