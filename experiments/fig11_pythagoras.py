"""Figure 11: the e-projection onto a linear family and its Pythagorean triangle
=============================================================================

Softmax is the canonical e-flat parameterization of the simplex: the exponential tilts p
exp(lambda F) / Z of a softmax distribution are e-geodesics, and they meet the linear
(m-flat) families {r : E_r[F] = c} at right angles in the Fisher metric.

(a) The linear family L = {r : E_r[F] = 1.3} for the statistic F = (0, 1, 2) (a
three-sided die of mean 1.3) is a straight segment of the triangle. The point
p = (0.3, 0.65, 0.05) is e-projected onto it (``LinearFamily(F, 1.3).e_project``):
q* lies where the e-geodesic of tilts through p (dotted, all lambda) crosses L. For
r in L, the m-geodesic r -> q* (inside L) and the e-geodesic q* -> p form the
right-angle triangle of KL(r||p) = KL(r||q*) + KL(q*||p). The maximum-entropy member
(the e-projection of the uniform distribution) is marked too. (b) The two sides of
Pythagoras along L, parameterized by r_3: KL(r||p) and KL(r||q*) + KL(q*||p) are one
curve, and their minimum KL(q*||p) is reached at r = q*. Writes
``fig11_pythagoras.{pdf,png}``, ``fig11_pythagoras.csv`` (r along L and the three
divergences) and ``fig11_pythagoras_points.csv`` (p, q*, r, the max-entropy point).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from expfam import special
from expfam.geometry import LinearFamily, e_geodesic, m_geodesic

NAME = "fig11_pythagoras"
F = np.array([0.0, 1.0, 2.0])
MEAN = 1.3
P = np.array([0.3, 0.65, 0.05])
R = np.array([0.3, 0.1, 0.6])  # a member of L: 0.1 + 2 * 0.6 = 1.3


def along_family(r3: np.ndarray) -> np.ndarray:
    """Members of L with third probability r3: r = (r3 - (MEAN - 1), MEAN - 2 r3, r3)."""
    return np.stack([r3 - (MEAN - 1), MEAN - 2 * r3, r3], axis=-1)


def kl(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return special.kl_divergence(np.log(a), np.log(b))


def make_figure(out: Path) -> list[Path]:
    """Write figure 11 into the folder ``out``; return the files written."""
    from expfam import figures, plot

    family = LinearFamily(F, MEAN)
    q = family.e_project(P).probs
    top = family.max_entropy().probs
    r3 = np.linspace(MEAN - 1, MEAN / 2, 201)  # r_1 = 0 to r_2 = 0
    members = along_family(r3)
    tilts = special.softmax(np.log(P) + np.linspace(-6, 6, 241)[:, None] * F)
    with plot.style_context():
        fig, (tri, side) = plot.new_figure("double", height=3.3, ncols=2)
        plot.simplex_axes(tri)
        plot.simplex_plot(
            tri,
            members,
            color=plot.COLORS[1],
            linewidth=1.4,
            label=r"$L = \{r : E_r[F] = 1.3\}$ (m-flat)",
        )
        plot.simplex_plot(
            tri,
            tilts,
            color=plot.COLORS[0],
            linestyle=":",
            linewidth=0.9,
            label=r"tilts $p\, e^{\lambda F} / Z$ (e-geodesic)",
        )
        plot.simplex_plot(
            tri, e_geodesic(q, P, np.linspace(0, 1, 50)), color=plot.COLORS[0], linewidth=1.6
        )
        plot.simplex_plot(
            tri,
            m_geodesic(R, P, np.linspace(0, 1, 50)),
            color="0.45",
            linestyle="--",
            linewidth=0.9,
            label=r"$r \to p$",
        )
        for point, label, offset in (
            (P, "p", (5, 2)),
            (q, "q^*", (6, 0)),
            (R, "r", (5, 2)),
            (top, r"\mathrm{max\ ent}", (3, -11)),
        ):
            plot.simplex_scatter(tri, point[None], color="black", s=12, zorder=4)
            tri.annotate(
                f"${label}$",
                plot.barycentric(point),
                xytext=offset,
                textcoords="offset points",
                ha="right" if offset[0] < 0 else "left",
            )
        fig.legend(
            *tri.get_legend_handles_labels(),
            loc="outside lower left",
            ncols=3,
            fontsize=7,
            frameon=False,
        )
        plot.panel_label(tri, "(a) e-projection of p onto L")

        total = kl(members, q) + kl(q, P)
        side.plot(
            r3,
            kl(members, P),
            color=plot.COLORS[1],
            linewidth=2.4,
            alpha=0.5,
            label=r"$\mathrm{KL}(r \| p)$",
        )
        side.plot(
            r3,
            total,
            color="black",
            linewidth=0.9,
            linestyle="--",
            label=r"$\mathrm{KL}(r \| q^*) + \mathrm{KL}(q^* \| p)$",
        )
        side.axhline(
            float(kl(q, P)), color=plot.COLORS[0], linewidth=0.9, label=r"$\mathrm{KL}(q^* \| p)$"
        )
        side.axvline(q[2], color="0.6", linewidth=0.6)
        side.annotate(
            r"$r = q^*$",
            (q[2], float(kl(q, P))),
            xytext=(4, 12),
            textcoords="offset points",
            fontsize=7,
        )
        side.set_xlabel(r"$r_3$ (position of $r$ along $L$)")
        side.set_ylabel("divergence (nats)")
        side.set_ylim(0, None)
        side.legend(loc="upper center", fontsize=7, frameon=False)
        plot.panel_label(side, "(b) Pythagoras along L")
        written = figures.save_figure(fig, out, NAME)
    columns = {
        "r1": members[:, 0],
        "r2": members[:, 1],
        "r3": members[:, 2],
        "kl_r_p": kl(members, P),
        "kl_r_q": kl(members, q),
        "kl_q_p": np.full(len(r3), float(kl(q, P))),
    }
    written.append(figures.save_csv(out, NAME, columns))
    points = np.stack([P, q, R, top])
    written.append(
        figures.save_csv(
            out,
            f"{NAME}_points",
            {
                "point": ["p", "q_star", "r", "max_entropy"],
                "p1": points[:, 0],
                "p2": points[:, 1],
                "p3": points[:, 2],
            },
        )
    )
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
