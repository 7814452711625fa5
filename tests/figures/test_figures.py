"""The experiments and the ``expfam figures`` runner.

Every experiment of ``experiments/`` runs once (through :func:`run_figures`)
into a temporary folder; the tests then check what was written: the files open
as images and PDFs, and the numbers in the CSV files, recomputed here from
closed forms, mpmath and DESIGN.md's worked examples, match what was plotted.
"""

from __future__ import annotations

import csv
import math
import re
from fractions import Fraction
from pathlib import Path

import matplotlib.image
import mpmath
import numpy as np
import pytest

from expfam import cli, plot
from expfam.figures import discover, run_figures

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
NAMES = sorted(p.stem for p in EXPERIMENTS.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("figures")
    assert run_figures([EXPERIMENTS], folder, None) == 0
    return folder


def read_csv(path: Path) -> dict[str, np.ndarray]:
    """Columns of a CSV file; numeric columns as float arrays, text columns as str arrays."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    columns = {}
    for key in rows[0]:
        values = [row[key] for row in rows]
        try:
            columns[key] = np.array([float(v) for v in values])
        except ValueError:
            columns[key] = np.array(values)
    return columns


def test_there_are_the_figures_of_the_paper():
    assert len(NAMES) == 19
    assert list(discover([EXPERIMENTS])) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_figure_writes_pdf_png_and_csv(out, name):
    pdf, png = out / f"{name}.pdf", out / f"{name}.png"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"%%EOF" in data[-32:]
    assert b"CreationDate" not in data
    assert b"/Type3" not in data  # text kept as TrueType text
    image = matplotlib.image.imread(png)
    height, width = image.shape[:2]
    assert 600 <= width <= plot.DOUBLE_COLUMN * plot.PNG_DPI * 1.05
    assert 300 <= height <= width
    assert image.std() > 0.05  # not blank
    tables = sorted(out.glob(f"{name}*.csv"))
    assert tables
    for table in tables:
        columns = read_csv(table)
        assert all(len(v) > 0 for v in columns.values())


@pytest.mark.parametrize("name", NAMES)
def test_each_figure_has_a_gallery_title(name):
    """The docstring opens with an underlined title, which the gallery page shows."""
    from expfam._discovery import load_module

    title, underline = load_module(EXPERIMENTS / f"{name}.py").__doc__.splitlines()[:2]
    assert title.startswith(f"Figure {name.split('_')[0][3:]}: ")
    assert underline == "=" * len(title)


def test_fig1_temperature_matches_softmax_and_the_seed_rows(out):
    c = read_csv(out / "fig1_temperature.csv")
    z = np.array([0.95, 0.99, 0.98])
    probs = np.stack([c["p1"], c["p2"], c["p3"]], axis=-1)
    with mpmath.workdps(30):
        for i in range(0, len(c["beta"]), 40):
            e = [mpmath.exp(mpmath.mpf(c["beta"][i]) * mpmath.mpf(float(v))) for v in z]
            exact = [float(x / mpmath.fsum(e)) for x in e]
            np.testing.assert_allclose(probs[i], exact, rtol=1e-13, atol=1e-300)
    curve = c["marked"] == 0
    assert c["beta"][curve].min() == pytest.approx(0.01)
    assert c["beta"][curve].max() == pytest.approx(1000.0)
    np.testing.assert_allclose(probs[curve][0], 1 / 3, atol=1e-3)  # near uniform
    np.testing.assert_allclose(probs[curve][-1], [0, 1, 0], atol=1e-4)  # near argmax
    marked = {
        b: np.round(100 * p, 2) for b, p in zip(c["beta"][~curve], probs[~curve], strict=True)
    }
    np.testing.assert_array_equal(marked[1.0], [32.56, 33.89, 33.55])
    np.testing.assert_array_equal(marked[500.0], [0.00, 99.33, 0.67])


def test_fig2_log_loss_is_minus_log_p_with_the_seed_points(out):
    c = read_csv(out / "fig2_log_loss.csv")
    curve = c["kind"] == "curve"
    np.testing.assert_allclose(c["loss"][curve], -np.log(c["p"][curve]), rtol=1e-12)
    seed = ~curve
    np.testing.assert_allclose(c["p"][seed], [0.513812, 0.7310586], rtol=1e-6)
    np.testing.assert_allclose(c["loss"][seed][0], 0.66589785, rtol=1e-7)


def test_fig3_stability_naive_fails_exactly_beyond_the_float_range(out):
    c = read_csv(out / "fig3_stability.csv")
    with mpmath.workdps(40):
        e = [mpmath.exp(k) for k in range(3)]
        exact_p3 = e[2] / mpmath.fsum(e)
    for dtype in ("float64", "float32"):
        rows = c["dtype"] == dtype
        offset, naive = c["c"][rows], c["naive_p3"][rows]
        info = np.finfo(dtype)
        overflow = offset + 2 > math.log(float(info.max))
        # underflow: exp(c + 2), the largest term, is below the smallest subnormal
        underflow = offset + 2 < math.log(float(info.smallest_subnormal)) - math.log(2.0)
        np.testing.assert_array_equal(np.isnan(naive), overflow | underflow)
        stable = c["expfam_p3"][rows]
        assert np.all(np.isfinite(stable))
        ulp = float(np.spacing(np.dtype(dtype).type(float(exact_p3))))
        with mpmath.workdps(40):
            errors = np.array([float(abs(mpmath.mpf(v) - exact_p3)) for v in stable]) / ulp
        assert np.all(errors <= c["expfam_ulp"][rows] + 1e-9)
        assert np.max(c["expfam_ulp"][rows]) <= 4.0
        # the naive version loses every digit in subnormal numbers before it fails
        assert np.nanmax(c["naive_ulp"][rows]) > 1e6
    float32 = c["dtype"] == "float32"
    np.testing.assert_allclose(c["expfam_p3"][float32], 0.66524094, rtol=1e-7)


def test_fig4_snow_posteriors_are_the_seed_and_a_straight_line_in_logits(out):
    c = read_csv(out / "fig4_snow_simplex.csv")
    probs = np.stack([c["p_MIT"], c["p_Michigan"], c["p_Berkeley"]], axis=-1)
    snow = c["kind"] == "snow"
    n = c["t"][snow]
    np.testing.assert_array_equal(n, np.arange(7))
    exact = np.stack([np.ones(7), np.ones(7), 4.0**-n], axis=-1) / (2 + 4.0**-n)[:, None]
    np.testing.assert_allclose(probs[snow], exact, rtol=1e-13)
    np.testing.assert_array_equal(
        np.round(probs[snow][1:4], 4),
        [[0.4444, 0.4444, 0.1111], [0.4848, 0.4848, 0.0303], [0.4961, 0.4961, 0.0078]],
    )
    theta = np.stack([c["theta1"], c["theta2"]], axis=-1)
    for column in theta.T:
        np.testing.assert_allclose(column, c["t"] * np.log(4.0), atol=1e-12)
    np.testing.assert_allclose(np.log(probs[:, :2] / probs[:, 2:]), theta, atol=1e-12)
    x = probs[:, 1] + probs[:, 2] / 2
    y = probs[:, 2] * np.sqrt(3) / 2
    np.testing.assert_allclose(np.stack([c["x"], c["y"]], axis=-1), np.stack([x, y], -1))


def test_fig9_geodesics_have_their_closed_forms_at_alpha_plus_minus_one(out):
    c = read_csv(out / "fig9_geodesics.csv")
    p, q = np.array([0.85, 0.10, 0.05]), np.array([0.05, 0.25, 0.70])
    probs = np.stack([c["p1"], c["p2"], c["p3"]], axis=-1)
    np.testing.assert_allclose(probs.sum(-1), 1, atol=1e-15)
    m = c["alpha"] == -1
    t = c["t"][m][:, None]
    np.testing.assert_allclose(probs[m], (1 - t) * p + t * q, rtol=1e-14)
    e = c["alpha"] == 1
    t = c["t"][e][:, None]
    w = p ** (1 - t) * q**t
    np.testing.assert_allclose(probs[e], w / w.sum(-1, keepdims=True), rtol=1e-13)
    # alpha = 0: the great circle, arc length proportional to t
    f = c["alpha"] == 0
    angle = np.arccos(np.sqrt(probs[f]) @ np.sqrt(p))
    np.testing.assert_allclose(angle, c["t"][f] * np.arccos(np.sqrt(p) @ np.sqrt(q)), atol=1e-7)
    for alpha in (3.0, -3.0):  # every curve runs from p to q
        rows = probs[c["alpha"] == alpha]
        np.testing.assert_allclose(rows[[0, -1]], [p, q], rtol=1e-12)


def test_fig11_pythagoras_holds_along_the_linear_family(out):
    c = read_csv(out / "fig11_pythagoras.csv")
    r = np.stack([c["r1"], c["r2"], c["r3"]], axis=-1)
    np.testing.assert_allclose(r @ [0.0, 1.0, 2.0], 1.3, rtol=1e-14)
    interior = np.all(r > 0, axis=-1)
    np.testing.assert_allclose(
        c["kl_r_p"][interior], c["kl_r_q"][interior] + c["kl_q_p"][interior], rtol=1e-13
    )
    pts = read_csv(out / "fig11_pythagoras_points.csv")
    probs = np.stack([pts["p1"], pts["p2"], pts["p3"]], axis=-1)
    p, q, top = probs[0], probs[1], probs[3]
    tilt = np.log(q / p)  # q* / p = exp(lambda F) / Z: log-ratios affine in F = (0, 1, 2)
    assert abs(tilt[2] - 2 * tilt[1] + tilt[0]) < 1e-12
    assert abs(np.log(top[2]) - 2 * np.log(top[1]) + np.log(top[0])) < 1e-12


def test_fig5_sigmoid_is_two_class_softmax_and_log_loss_is_softplus(out):
    c = read_csv(out / "fig5_sigmoid.csv")
    curve = c["kind"] == "curve"
    w = c["w"][curve]
    np.testing.assert_allclose(c["sigmoid"][curve], 1 / (1 + np.exp(-w)), rtol=1e-14)
    np.testing.assert_allclose(c["softplus_minus_w"][curve], np.log1p(np.exp(-w)), rtol=1e-14)
    np.testing.assert_allclose(c["softplus_w"][curve], np.log1p(np.exp(w)), rtol=1e-14)
    dots = ~curve
    w1, w2 = c["w1"][dots], c["w2"][dots]
    assert len(set(w2)) == 3
    np.testing.assert_allclose(c["w"][dots], w1 - w2)
    two_class = np.exp(w1) / (np.exp(w1) + np.exp(w2))
    np.testing.assert_allclose(c["softmax_1"][dots], two_class, rtol=1e-13)
    np.testing.assert_allclose(c["cross_entropy_1"][dots], -np.log(two_class), rtol=1e-12)
    np.testing.assert_allclose(c["cross_entropy_2"][dots], -np.log1p(-two_class), rtol=1e-10)


def test_fig6_fisher_matrix_and_balls_of_the_fisher_metric(out):
    m = read_csv(out / "fig6_fisher_matrix.csv")
    p = np.array([0.01895101, 0.00232067, 0.513812, 0.4649163])  # seed 002
    i, j = m["i"].astype(int) - 1, m["j"].astype(int) - 1
    np.testing.assert_allclose(m["p_i"], p[i], rtol=2e-6)
    expected = np.where(i == j, m["p_i"], 0.0) - m["p_i"] * m["p_j"]
    np.testing.assert_allclose(m["F_ij"], expected, atol=1e-16)
    np.testing.assert_allclose(np.bincount(i, weights=m["F_ij"]), 0.0, atol=1e-15)  # F 1 = 0
    e = read_csv(out / "fig6_fisher_ellipses.csv")
    centre = np.stack([e["p1"], e["p2"], e["p3"]], axis=-1)
    q = np.stack([e["q1"], e["q2"], e["q3"]], axis=-1)
    np.testing.assert_allclose(q.sum(axis=-1), 1.0, atol=1e-14)
    assert np.all(q > 0)
    # the Fisher metric in mean coordinates: ds^2 = sum_k dp_k^2 / p_k
    radius_sq = np.sum((q - centre) ** 2 / centre, axis=-1)
    np.testing.assert_allclose(radius_sq, 0.1**2, rtol=1e-10)


def test_fig7_surrogates_upper_bound_zero_one_and_have_the_right_gradients(out):
    c = read_csv(out / "fig7_surrogates.csv")
    m = c["margin"]
    np.testing.assert_allclose(c["logistic"], np.log2(1 + np.exp(-m)), rtol=1e-13)
    np.testing.assert_array_equal(c["zero_one"], (m <= 0).astype(float))
    np.testing.assert_allclose(c["hinge"], np.maximum(0, 1 - m))
    assert np.all(c["logistic"] >= c["zero_one"])
    assert np.all(c["hinge"] >= c["zero_one"])
    step = 1e-6
    finite_difference = (np.log2(1 + np.exp(-(m + step))) - np.log2(1 + np.exp(-(m - step)))) / (
        2 * step
    )
    np.testing.assert_allclose(c["d_logistic"], finite_difference, rtol=1e-7)
    np.testing.assert_array_equal(c["d_hinge"], np.where(m < 1, -1.0, 0.0))
    np.testing.assert_array_equal(c["d_zero_one"], 0.0)


def test_fig8_bayes_update_is_addition_of_log_likelihoods(out):
    c = read_csv(out / "fig8_bayes_addition.csv")
    assert list(c["hypothesis"]) == ["MIT", "Michigan", "Berkeley"]
    prior = [Fraction(1, 3)] * 3
    likelihood = [Fraction(2, 5), Fraction(2, 5), Fraction(1, 10)]
    joint = [a * b for a, b in zip(prior, likelihood, strict=True)]
    exact = [float(x / sum(joint)) for x in joint]  # (4/9, 4/9, 1/9)
    np.testing.assert_allclose(c["posterior"], exact, rtol=1e-14)
    np.testing.assert_allclose(c["prior"], 1 / 3, rtol=1e-15)
    np.testing.assert_allclose(c["likelihood"], [0.4, 0.4, 0.1], rtol=1e-15)
    np.testing.assert_allclose(c["log_Z"], math.log(float(sum(joint))), rtol=1e-14)
    np.testing.assert_allclose(
        c["log_posterior"], c["log_prior"] + c["log_likelihood"] - c["log_Z"], atol=1e-15
    )


# --- figures 13-15: learning with softmax (issue 10) ------------------------------


def test_fig13_newton_takes_a_handful_of_steps_and_gd_is_far_behind(out):
    t = read_csv(out / "fig13_solvers.csv")
    gap = {s: t["gap"][t["solver"] == s] for s in set(t["solver"].tolist())}
    assert np.argmax(gap["natural"] <= 1e-8) <= 10
    for solver in ("kfac", "empirical_fisher"):
        assert 20 <= np.argmax(gap[solver] <= 1e-8) <= 200
    assert gap["gd"][-1] > 1e-2 and np.all(np.diff(gap["gd"]) <= 0)
    assert min(g.min() for g in gap.values()) >= -1e-14  # f* is the best objective seen


def test_fig13_optimum_is_scikit_learns_to_1e_9(out):
    linear_model = pytest.importorskip("sklearn.linear_model")
    from expfam.datasets import load_iris
    from expfam.learn import objective

    t = read_csv(out / "fig13_solvers.csv")
    iris = load_iris()
    sk = linear_model.LogisticRegression(solver="newton-cholesky", tol=1e-12).fit(
        iris.data, iris.target
    )
    f_sk = objective(
        np.column_stack([sk.coef_, sk.intercept_]), iris.data, iris.target, fit_intercept=True
    )
    f_star = t["objective"].min()
    assert f_star <= f_sk + 1e-9 and f_sk - f_star < 1e-7


def test_fig14_tempering_raises_probabilities_to_the_power_beta(out):
    t = read_csv(out / "fig14_decision_regions_grid.csv")
    p1 = np.column_stack([t[f"p{k}_beta1"] for k in range(3)])
    p4 = np.column_stack([t[f"p{k}_beta4"] for k in range(3)])
    np.testing.assert_allclose(p1.sum(axis=1), 1.0, rtol=1e-14)
    powered = p1**4 / np.sum(p1**4, axis=1, keepdims=True)  # softmax(4 z) = p^4 / sum p^4
    np.testing.assert_allclose(p4, powered, rtol=1e-10, atol=1e-300)
    np.testing.assert_array_equal(t["argmax"], np.argmax(p1, axis=1))
    # the perceptron agrees with the regression on most of the plane
    assert np.mean(t["perceptron"] == t["argmax"]) > 0.8


def test_fig14_data_are_three_blobs_around_their_centres(out):
    t = read_csv(out / "fig14_decision_regions_data.csv")
    centres = [[0.0, 2.6], [2.3, -1.3], [-2.3, -1.3]]
    for k, c in enumerate(centres):
        mask = t["y"] == k
        assert mask.sum() == 50
        np.testing.assert_allclose([t["x1"][mask].mean(), t["x2"][mask].mean()], c, atol=0.35)


def test_fig15_losses_and_psi_transforms_are_the_closed_forms(out):
    t = read_csv(out / "fig15_margin_losses.csv")
    m, theta = t["m"], t["theta"]
    np.testing.assert_allclose(t["logistic"], np.logaddexp(0.0, -m), rtol=1e-14)
    np.testing.assert_allclose(t["logistic2"], np.logaddexp2(0.0, -m / np.log(2)), rtol=1e-13)
    np.testing.assert_allclose(t["exponential"], np.exp(-m), rtol=1e-15)
    np.testing.assert_array_equal(t["hinge"], np.maximum(0, 1 - m))
    np.testing.assert_array_equal(t["zero_one"], (m <= 0).astype(float))
    np.testing.assert_array_equal(t["psi_hinge"], theta)
    np.testing.assert_allclose(t["psi_squared_hinge"], theta**2, rtol=1e-15)
    np.testing.assert_allclose(t["psi_exponential"], 1 - np.sqrt(1 - theta**2), atol=1e-15)
    eta = (1 + theta) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nan_to_num(eta * np.log(eta)) - np.nan_to_num((1 - eta) * np.log(1 - eta))
    np.testing.assert_allclose(t["psi_logistic"], np.log(2) - entropy, atol=1e-15)
    assert np.all(t["psi_perceptron"] == 0.0)


# --- the runner --------------------------------------------------------------------

GOOD = """
from pathlib import Path

def make_figure(out):
    (out / "good.csv").write_text("x\\n1\\n")
"""

BAD = """
def make_figure(out):
    (out / "bad.pdf").write_bytes(b"%PDF half-writ")
    raise RuntimeError("boom")
"""

INTERRUPTED = """
def make_figure(out):
    (out / "late.png").write_bytes(b"half")
    raise KeyboardInterrupt
"""


def _folder(tmp_path: Path, **modules: str) -> Path:
    folder = tmp_path / "experiments"
    folder.mkdir()
    for name, source in modules.items():
        (folder / f"{name}.py").write_text(source)
    return folder


def test_failing_experiment_keeps_the_old_good_file_and_others_still_run(tmp_path, capsys):
    folder = _folder(tmp_path, a_bad=BAD, b_good=GOOD, c_missing="x = 1\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "bad.pdf").write_bytes(b"%PDF the good old figure")
    assert run_figures([folder], out, None) == 1
    assert (out / "bad.pdf").read_bytes() == b"%PDF the good old figure"
    assert (out / "good.csv").read_text() == "x\n1\n"
    assert sorted(p.name for p in out.iterdir()) == ["bad.pdf", "good.csv"]  # no debris
    text = capsys.readouterr().out
    assert "RuntimeError: boom" in text
    assert "defines no function make_figure" in text
    assert "FAILED: a_bad, c_missing" in text
    assert "wrote " in text and "good.csv" in text


def test_interrupted_experiment_stops_the_run_and_keeps_old_files(tmp_path):
    folder = _folder(tmp_path, a_late=INTERRUPTED, b_good=GOOD)
    out = tmp_path / "out"
    out.mkdir()
    (out / "late.png").write_bytes(b"old png")
    assert run_figures([folder], out, None) == 130
    assert sorted(p.name for p in out.iterdir()) == ["late.png"]
    assert (out / "late.png").read_bytes() == b"old png"


def test_only_selects_by_name_and_rejects_unknown_names(tmp_path, capsys):
    folder = _folder(tmp_path, a_bad=BAD, b_good=GOOD)
    out = tmp_path / "out"
    assert run_figures([folder], out, ["b_good"]) == 0
    assert [p.name for p in out.iterdir()] == ["good.csv"]
    assert run_figures([folder], out, ["nope"]) == 2
    assert "no experiment named 'nope'" in capsys.readouterr().err


def test_cli_figures_only_one_experiment(tmp_path):
    out = tmp_path / "figs"
    status = cli.main(["figures", str(EXPERIMENTS), "--out", str(out), "--only", "fig2_log_loss"])
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "fig2_log_loss.csv",
        "fig2_log_loss.pdf",
        "fig2_log_loss.png",
    ]


def test_figures_are_byte_for_byte_reproducible(out, tmp_path):
    assert run_figures([EXPERIMENTS], tmp_path, ["fig8_bayes_addition"]) == 0
    for suffix in (".pdf", ".png", ".csv"):
        name = "fig8_bayes_addition" + suffix
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


def test_the_gallery_copies_match_the_experiments_and_the_readme_shows_only_them():
    """docs/gallery/ holds one PNG per experiment (the site's gallery runs them anew)."""
    gallery = EXPERIMENTS.parent / "docs" / "gallery"
    assert sorted(p.stem for p in gallery.glob("*.png")) == NAMES
    readme = (EXPERIMENTS.parent / "README.md").read_text()
    shown = re.findall(r"docs/gallery/(\w+)\.png", readme)
    assert shown
    assert set(shown) <= set(NAMES)
