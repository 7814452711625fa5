"""Figure 10: Fisher-Rao balls beside KL balls on the simplex
==========================================================

Softmax is the canonical e-flat parameterization of the simplex: the simplex is a curved
manifold, and its distances are not Euclidean distances between probability vectors.

(a) Fisher-Rao balls {p : d_FR(c, p) = r} for r = 0.3 and 0.6 around three centres.
p -> 2 sqrt(p) maps the simplex isometrically onto a sphere of radius 2, so a ball
is a small circle of that sphere: sqrt(p) = cos(r/2) sqrt(c) + sin(r/2) u, u a unit
vector orthogonal to sqrt(c); d_FR = 4 asin(||sqrt p - sqrt c|| / 2). Balls shrink
towards the edges, where a small change of probability is much information; a great
circle that reaches an edge leaves the simplex there (the simplex is incomplete), so
a ball that reaches it is cut by the edge (continuing would fold back inside).
(b) KL balls of the matching radius rho = r^2 / 2 (KL ~ d_FR^2 / 2 near the centre):
KL(c || p) = rho (solid) and KL(p || c) = rho (dashed), with the Fisher-Rao ball of
panel (a) in grey. Small KL balls agree with the Fisher-Rao ones; larger ones are
egg-shaped and the two KLs differ, most near an edge: KL(c || p) grows without bound
as p approaches an edge, KL(p || c) stays finite (at most -log c_k). Writes
``fig10_balls.{pdf,png,csv}``; the CSV holds every boundary point (kind ``fisher_rao``,
``kl_from_centre`` = KL(c || p), ``kl_to_centre`` = KL(p || c)), its centre, radius r,
the point p and its triangle coordinates.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam.geometry import kl

NAME = "fig10_balls"
CENTRES = np.array([[1 / 3, 1 / 3, 1 / 3], [0.62, 0.28, 0.10], [0.08, 0.12, 0.80]])
RADII = (0.3, 0.6)
ANGLES = np.linspace(0.0, 2.0 * np.pi, 181)
# an orthonormal basis of the plane sum(v) = 0 (directions of rays from a centre)
_PLANE = np.array([[1.0, -1.0, 0.0], [1.0, 1.0, -2.0]]) / np.sqrt([[2.0], [6.0]])


def fisher_rao_ball(centre: np.ndarray, radius: float) -> np.ndarray:
    """Points at Fisher-Rao distance ``radius`` from ``centre``, shape (len(ANGLES), 3)."""
    s = np.sqrt(centre)
    # unit tangent vectors of the sphere at s: the plane directions made orthogonal to s
    basis = _PLANE - np.outer(_PLANE @ s, s)
    basis[1] -= (basis[1] @ basis[0]) / (basis[0] @ basis[0]) * basis[0]
    basis /= np.linalg.norm(basis, axis=1, keepdims=True)
    u = np.cos(ANGLES)[:, None] * basis[0] + np.sin(ANGLES)[:, None] * basis[1]
    # the great circle leaves the simplex where a coordinate of sqrt(p) reaches 0, at
    # length 2 atan(-s_k / u_k) (u_k < 0): there the ball is cut by the edge
    with np.errstate(divide="ignore"):
        exits = np.where(u < 0, 2.0 * np.arctan(-s / np.where(u < 0, u, -1.0)), np.inf)
    t = np.minimum(radius, np.min(exits, axis=1))[:, None]
    root = np.clip(np.cos(t / 2.0) * s + np.sin(t / 2.0) * u, 0.0, None)
    return root**2 / np.sum(root**2, axis=1, keepdims=True)


def kl_ball(centre: np.ndarray, rho: float, from_centre: bool) -> np.ndarray:
    """Points p on rays from ``centre`` with KL(c || p) = rho (or KL(p || c)), by bisection.

    Along a ray KL is convex and 0 at the centre, so it crosses rho once, or never
    before the edge (then the ball is cut by the edge and the point lies on it).
    """
    directions = np.cos(ANGLES)[:, None] * _PLANE[0] + np.sin(ANGLES)[:, None] * _PLANE[1]
    with np.errstate(divide="ignore"):
        t_edge = np.min(np.where(directions < 0, -centre / directions, np.inf), axis=1)

    def divergence(t: np.ndarray) -> np.ndarray:
        p = np.clip(centre + t[:, None] * directions, 0.0, None)
        p /= p.sum(axis=1, keepdims=True)
        return kl(centre, p) if from_centre else kl(p, centre)

    lo, hi = np.zeros(len(ANGLES)), t_edge.copy()
    inside = divergence(hi) <= rho  # reaches the edge first
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = divergence(mid) < rho
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    t = np.where(inside, t_edge, 0.5 * (lo + hi))
    p = np.clip(centre + t[:, None] * directions, 0.0, None)
    return p / p.sum(axis=1, keepdims=True)


def make_figure(out: Path) -> list[Path]:
    """Write figure 10 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    rows = []  # (kind, centre index, radius, points)
    for i, c in enumerate(CENTRES):
        for r in RADII:
            rows.append(("fisher_rao", i, r, fisher_rao_ball(c, r)))
            rows.append(("kl_from_centre", i, r, kl_ball(c, r**2 / 2.0, True)))
            rows.append(("kl_to_centre", i, r, kl_ball(c, r**2 / 2.0, False)))
    with plot.style_context():
        fig, (left, right) = plot.new_figure("double", height=3.1, ncols=2)
        for ax in (left, right):
            plot.simplex_axes(ax)
            plot.simplex_scatter(ax, CENTRES, color="black", s=8, zorder=4)
        colours = {r: plot.COLORS[k] for k, r in enumerate(RADII)}
        for kind, i, r, pts in rows:
            first = i == 0
            if kind == "fisher_rao":
                plot.simplex_plot(
                    left,
                    pts,
                    color=colours[r],
                    linewidth=1.1,
                    label=f"$d_{{FR}}(c, p) = {r}$" if first else None,
                )
                plot.simplex_plot(
                    right,
                    pts,
                    color="0.72",
                    linewidth=0.8,
                    zorder=1,
                    label="Fisher-Rao ball" if first and r == RADII[0] else None,
                )
            else:
                solid = kind == "kl_from_centre"
                label = None
                if first:
                    side = r"\mathrm{KL}(c \,\|\, p)" if solid else r"\mathrm{KL}(p \,\|\, c)"
                    label = f"${side} = {r**2 / 2:g}$"
                plot.simplex_plot(
                    right,
                    pts,
                    color=colours[r],
                    linewidth=1.1,
                    linestyle="-" if solid else "--",
                    label=label,
                    zorder=2,
                )
        plot.panel_label(left, "(a) Fisher-Rao balls")
        plot.panel_label(right, "(b) KL balls, radius $r^2/2$")
        left.legend(loc="upper right", fontsize=6.5, frameon=False)
        right.legend(loc="upper right", fontsize=6.5, frameon=False)
        written = figures.save_figure(fig, out, NAME)
    points = np.concatenate([pts for *_, pts in rows])
    xy = plot.barycentric(points)
    n = len(ANGLES)
    columns = {
        "kind": [kind for kind, *_ in rows for _ in range(n)],
        "centre": np.repeat([i for _, i, _, _ in rows], n),
        "c1": np.repeat([CENTRES[i, 0] for _, i, _, _ in rows], n),
        "c2": np.repeat([CENTRES[i, 1] for _, i, _, _ in rows], n),
        "c3": np.repeat([CENTRES[i, 2] for _, i, _, _ in rows], n),
        "r": np.repeat([r for _, _, r, _ in rows], n),
        "p1": points[:, 0],
        "p2": points[:, 1],
        "p3": points[:, 2],
        "x": xy[:, 0],
        "y": xy[:, 1],
    }
    written.append(figures.save_csv(out, NAME, columns))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
