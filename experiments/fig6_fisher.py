"""Figure 6: the Fisher metric diag(p) - p p^T, as a matrix and as ellipses on the simplex
=======================================================================================

The Jacobian of softmax is dp/ds = diag(p) - p p^T; the worked distribution is
softmax([0.1, -2.0, 3.4, 3.3]) = [0.01895101, 0.00232067, 0.513812, 0.4649163].

(a) F = diag(p) - p p^T for the worked 4-class distribution: the Jacobian of
softmax, the Hessian of logsumexp, the covariance of the one-hot statistic; its
rows sum to 0 (null vector 1). (b) Balls of Fisher radius r = 0.1 across the
2-simplex: the tangent vectors dp (summing to 0) with sum_k dp_k^2 / p_k = r^2,
that is dp = r F^{1/2} u for unit u orthogonal to 1 (F from eigh of the 3 x 3
matrix). They shrink and flatten towards the edges, where a small change in
probability is a large change in information. Writes ``fig6_fisher.{pdf,png}``,
``fig6_fisher_matrix.csv`` (i, j, p_i, p_j, F_ij) and ``fig6_fisher_ellipses.csv``
(ellipse id, centre p, boundary point q and its triangle coordinates x, y).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import expfam

NAME = "fig6_fisher"
SEED_LOGITS = np.array([0.1, -2.0, 3.4, 3.3])
RADIUS = 0.1
GRID = 9  # ellipse centres: the interior points (i, j, k) / GRID of the simplex
ANGLES = np.linspace(0.0, 2.0 * np.pi, 73)


def fisher(probs: np.ndarray) -> np.ndarray:
    """Return diag(p) - p p^T for one distribution p of shape (K,)."""
    return np.diag(probs) - np.outer(probs, probs)


def fisher_ball(probs: np.ndarray, radius: float, angles: np.ndarray) -> np.ndarray:
    """Return the boundary p + dp of the Fisher ball of ``radius`` at ``probs``, shape (n, K).

    dp = radius * F^{1/2} u for unit vectors u in the range of F (orthogonal to
    1), so that dp^T F^+ dp = sum_k dp_k^2 / p_k = radius^2.
    """
    values, vectors = np.linalg.eigh(fisher(probs))
    top = vectors[:, -2:] * np.sqrt(np.clip(values[-2:], 0.0, None))
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    return probs + radius * circle @ top.T


def _format(value: float) -> str:
    """Four decimals, or two significant digits for entries below 1e-3."""
    return f"{value:.4f}" if abs(value) >= 1e-3 else f"{value:.1e}"


def make_figure(out: Path) -> list[Path]:
    """Write figure 6 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    p = expfam.softmax(SEED_LOGITS)
    matrix = fisher(p)
    centres = plot.simplex_grid(GRID, margin=0.5 / GRID)
    balls = np.stack([fisher_ball(c, RADIUS, ANGLES) for c in centres])
    k = len(p)
    with plot.style_context():
        fig, (heat, tri) = plot.new_figure(
            "double", height=2.9, ncols=2, gridspec_kw={"width_ratios": [1.0, 1.15]}
        )
        bound = np.max(np.abs(matrix))
        image = heat.imshow(matrix, cmap="PuOr", vmin=-bound, vmax=bound)
        for i in range(k):
            for j in range(k):
                shade = abs(matrix[i, j]) > 0.6 * bound
                heat.text(
                    j,
                    i,
                    _format(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if shade else "black",
                )
        ticks = [f"{c + 1}\n$p = {q:.3f}$" for c, q in enumerate(p)]
        heat.set_xticks(range(k), ticks)
        heat.set_yticks(range(k), [t.replace("\n", " ") for t in ticks])
        heat.tick_params(length=0)
        for side in ("left", "bottom"):
            heat.spines[side].set_visible(False)
        fig.colorbar(image, ax=heat, shrink=0.8, label=r"$F_{ij} = p_i\delta_{ij} - p_i p_j$")
        plot.panel_label(
            heat, r"(a) $\mathrm{diag}(p) - pp^\top$, $p$ = softmax(0.1, -2, 3.4, 3.3)"
        )

        plot.simplex_axes(tri, labels=("class 1", "class 2", "class 3"))
        for centre, ball in zip(centres, balls, strict=True):
            plot.simplex_plot(tri, ball, color=plot.COLORS[0], linewidth=0.9)
            plot.simplex_scatter(tri, centre[None], color=plot.COLORS[0], s=2)
        plot.panel_label(tri, f"(b) Fisher balls of radius {RADIUS} on the simplex")
        written = figures.save_figure(fig, out, NAME)
    i, j = np.divmod(np.arange(k * k), k)
    written.append(
        figures.save_csv(
            out,
            f"{NAME}_matrix",
            {"i": i + 1, "j": j + 1, "p_i": p[i], "p_j": p[j], "F_ij": matrix[i, j]},
        )
    )
    n = len(ANGLES)
    xy = plot.barycentric(balls.reshape(-1, 3))
    columns = {"ellipse": np.repeat(np.arange(len(centres)), n)}
    for c in range(3):
        columns[f"p{c + 1}"] = np.repeat(centres[:, c], n)
    for c in range(3):
        columns[f"q{c + 1}"] = balls[:, :, c].ravel()
    columns |= {"x": xy[:, 0], "y": xy[:, 1]}
    written.append(figures.save_csv(out, f"{NAME}_ellipses", columns))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
