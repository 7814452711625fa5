"""expfam.plot: the figure style, reproducible atomic files, the simplex projection."""

from __future__ import annotations

import csv

import matplotlib as mpl
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from expfam import figures, plot

SQRT3_2 = np.sqrt(3.0) / 2.0


def _simple_figure():
    with plot.style_context():
        fig, ax = plot.new_figure("single")
        ax.plot([0, 1, 2], [0, 1, 4], label="$x^2$")
        ax.set_xlabel("x")
        ax.legend()
    return fig


def test_barycentric_maps_vertices_and_centroid():
    xy = plot.barycentric(np.vstack([np.eye(3), np.full(3, 1 / 3)]))
    expected = [[0, 0], [1, 0], [0.5, SQRT3_2], [0.5, SQRT3_2 / 3]]
    np.testing.assert_allclose(xy, expected, atol=1e-15)


weights = arrays(np.float64, (5, 3), elements=st.floats(0.01, 100.0))


@given(weights, st.floats(0.0, 1.0))
def test_barycentric_keeps_mixtures_straight(w, t):
    p = w / w.sum(axis=-1, keepdims=True)
    mixture = (1 - t) * p[0] + t * p[1]
    expected = (1 - t) * plot.barycentric(p[0]) + t * plot.barycentric(p[1])
    np.testing.assert_allclose(plot.barycentric(mixture), expected, atol=1e-12)


@given(weights)
def test_barycentric_normalizes_weights_and_stays_in_triangle(w):
    p = w / w.sum(axis=-1, keepdims=True)
    xy = plot.barycentric(w)
    np.testing.assert_allclose(xy, plot.barycentric(p), atol=1e-12)
    x, y = xy[:, 0], xy[:, 1]
    # inside the triangle: above the base, below both slanted sides
    assert np.all(y >= -1e-12)
    assert np.all(y <= np.sqrt(3.0) * x + 1e-12)
    assert np.all(y <= np.sqrt(3.0) * (1 - x) + 1e-12)


def test_barycentric_rejects_wrong_last_axis():
    with pytest.raises(ValueError, match="probs: last axis must have length 3"):
        plot.barycentric([0.5, 0.5])


def test_simplex_grid_counts_and_sums():
    grid = plot.simplex_grid(6)
    assert grid.shape == (28, 3)  # (n + 1)(n + 2) / 2 points
    np.testing.assert_allclose(grid.sum(axis=-1), 1.0)
    interior = plot.simplex_grid(6, margin=0.5 / 6)
    assert interior.shape == (10, 3)  # (n - 1)(n - 2) / 2 interior points
    assert np.all(interior > 0)
    with pytest.raises(ValueError, match="resolution"):
        plot.simplex_grid(0)


def test_style_is_serif_colour_blind_safe_and_keeps_pdf_text():
    rc = plot.style()
    assert rc["font.family"] == "serif" and rc["font.serif"] == ["DejaVu Serif"]
    assert rc["pdf.fonttype"] == 42 and rc["text.usetex"] is False
    okabe_ito = {mpl.colors.to_hex(c) for c in mpl.color_sequences["okabe_ito"]}
    assert set(plot.COLORS) <= okabe_ito
    assert "#f0e442" not in plot.COLORS  # yellow is unreadable on white


def test_new_figure_widths():
    with plot.style_context():
        single, _ = plot.new_figure("single")
        double, axes = plot.new_figure("double", ncols=2, height=2.0)
    assert single.get_size_inches()[0] == pytest.approx(plot.SINGLE_COLUMN)
    assert tuple(double.get_size_inches()) == pytest.approx((plot.DOUBLE_COLUMN, 2.0))
    assert len(axes) == 2
    with pytest.raises(ValueError, match="width"):
        plot.new_figure("triple")


def test_simplex_axes_draws_labels_and_rejects_two_labels():
    with plot.style_context():
        _, ax = plot.new_figure("single")
        plot.simplex_axes(ax, labels=("A", "B", "C"))
        plot.simplex_contour(ax, lambda p: -np.sum(p * np.log(p), axis=-1), levels=4)
        texts = {t.get_text() for t in ax.texts}
        assert {"A", "B", "C"} <= texts
        with pytest.raises(ValueError, match="labels"):
            plot.simplex_axes(ax, labels=("A", "B"))


def test_save_figure_is_reproducible_pdf_with_truetype_text(tmp_path):
    first = figures.save_figure(_simple_figure(), tmp_path / "a", "fig")
    second = figures.save_figure(_simple_figure(), tmp_path / "b", "fig")
    assert [p.name for p in first] == ["fig.pdf", "fig.png"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    pdf = first[0].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"CreationDate" not in pdf
    assert b"/FontFile2" in pdf  # TrueType embedded (fonttype 42)
    assert b"/Type3" not in pdf
    assert b"tIME" not in first[1].read_bytes()  # no PNG timestamp chunk
    image = mpl.image.imread(first[1])
    assert image.shape[1] == pytest.approx(plot.SINGLE_COLUMN * plot.PNG_DPI, rel=0.1)


def test_save_csv_round_trips_float64_exactly(tmp_path):
    values = np.array([np.pi, -1e-300, 1 / 3, np.nan, 2.5e307])
    path = figures.save_csv(
        tmp_path, "data", {"name": list("abcde"), "value": values, "n": range(5)}
    )
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == list("abcde")
    assert [int(r["n"]) for r in rows] == list(range(5))
    np.testing.assert_array_equal([float(r["value"]) for r in rows], values)


def test_save_csv_rejects_ragged_columns_and_commas(tmp_path):
    with pytest.raises(ValueError, match="same length"):
        figures.save_csv(tmp_path, "x", {"a": [1, 2], "b": [1]})
    with pytest.raises(ValueError, match="comma"):
        figures.save_csv(tmp_path, "x", {"a,b": [1]})
    assert not list(tmp_path.iterdir())


def test_interrupted_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "fig.pdf"
    target.write_bytes(b"old good figure")
    fig = _simple_figure()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    fig.savefig = fail
    with pytest.raises(KeyboardInterrupt):
        figures.save_figure(fig, tmp_path, "fig")
    assert target.read_bytes() == b"old good figure"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.pdf"]  # no temporary file left
