"""Figure 3: numerical stability
=============================

Naive exp/sum against expfam.softmax as the logits grow.

The worked example: ``np.exp([1000.0, 1001.0, 1002.0])`` overflows to
inf in float32, while subtracting the max first gives [0.09003057, 0.24472848,
0.66524094].

The logits are z = c + (0, 1, 2) for integer offsets c; adding c to every logit
does not change the distribution, so the exact answer is the same for every c.
The naive softmax exp(z) / sum(exp(z)) overflows to inf / inf = nan once
c + 2 > log(max float), and on the negative side loses its digits in subnormal
numbers and then underflows to 0 / 0 = nan; expfam.softmax stays correct. The
error of each, in units in the last place (ULPs, of the exact value in the working
dtype, largest over the three classes), is measured against mpmath at 40 digits
on the same inputs. Writes ``fig3_stability.{pdf,png,csv}``; the CSV holds
dtype, c, the naive and expfam p_3 and the two ULP errors (nan where naive is nan).
"""

from __future__ import annotations

import sys
from pathlib import Path

import mpmath
import numpy as np

import expfam

NAME = "fig3_stability"
STEPS = np.array([0.0, 1.0, 2.0])
OFFSETS = {np.float64: np.arange(-1000, 1001, 2), np.float32: np.arange(-150, 151)}


def naive_softmax(logits: np.ndarray) -> np.ndarray:
    """Return exp(z) / sum(exp(z)) without the max shift (overflow and underflow silenced)."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(logits)
        return e / np.sum(e, axis=-1, keepdims=True)


def exact_softmax(logits: np.ndarray, digits: int = 40) -> list[list[mpmath.mpf]]:
    """Return softmax of every row of ``logits`` in mpmath at ``digits`` significant digits."""
    with mpmath.workdps(digits):
        rows = []
        for row in logits:
            e = [mpmath.exp(mpmath.mpf(float(v))) for v in row]
            total = mpmath.fsum(e)
            rows.append([x / total for x in e])
        return rows


def ulp_error(approx: np.ndarray, exact: list[list[mpmath.mpf]]) -> np.ndarray:
    """Return max_k |approx_k - exact_k| / ulp(exact_k) per row, in approx's dtype; nan stays."""
    dtype = approx.dtype.type
    errors = np.empty(len(approx))
    with mpmath.workdps(40):
        for i, (row, ref) in enumerate(zip(approx, exact, strict=True)):
            if not np.all(np.isfinite(row)):
                errors[i] = np.nan
                continue
            errors[i] = max(
                float(abs(mpmath.mpf(float(a)) - r) / float(np.spacing(dtype(float(r)))))
                for a, r in zip(row, ref, strict=True)
            )
    return errors


def measure(dtype: type) -> dict[str, np.ndarray]:
    """Return c, both p_3 and both ULP errors for logits c + (0, 1, 2) in ``dtype``."""
    offsets = OFFSETS[dtype]
    logits = (offsets[:, None] + STEPS).astype(dtype)
    exact = exact_softmax(logits)
    naive = naive_softmax(logits)
    stable = expfam.softmax(logits)
    return {
        "c": offsets,
        "naive_p3": naive[:, 2],
        "expfam_p3": stable[:, 2],
        "naive_ulp": ulp_error(naive, exact),
        "expfam_ulp": ulp_error(stable, exact),
    }


def make_figure(out: Path) -> list[Path]:
    """Write figure 3 into the folder ``out``; return the files written."""
    from matplotlib.ticker import NullLocator

    from expfam import figures, plot

    results = {dtype: measure(dtype) for dtype in OFFSETS}
    with plot.style_context():
        fig, axes = plot.new_figure("double", height=2.2, ncols=2)
        for ax, (dtype, r), label in zip(axes, results.items(), "ab", strict=True):
            c = r["c"]
            failed = np.isnan(r["naive_ulp"])
            for side in (c < 0, c > 0):
                if np.any(failed & side):
                    lo, hi = c[failed & side].min(), c[failed & side].max()
                    ax.axvspan(lo, hi, color=plot.COLORS[1], alpha=0.12, linewidth=0)
                    ax.text(
                        (lo + hi) / 2,
                        1e10,
                        "naive gives nan",
                        ha="center",
                        va="center",
                        rotation=90,
                        color=plot.COLORS[1],
                        fontsize=7,
                    )
            ax.plot(c, r["naive_ulp"], color=plot.COLORS[1], label="naive exp / sum")
            ax.plot(c, r["expfam_ulp"], color=plot.COLORS[0], label="expfam.softmax")
            ax.set_yscale("symlog", linthresh=1.0, linscale=1.0)
            ax.set_ylim(0, 1e17)
            ax.set_yticks([1, 1e4, 1e8, 1e12, 1e16])
            ax.yaxis.set_minor_locator(NullLocator())
            ax.set_xlim(c[0], c[-1])
            ax.set_xlabel(r"logit offset $c$, logits $z = c + (0, 1, 2)$")
            ax.set_ylabel("error (ULPs, max over classes)")
            plot.panel_label(ax, f"({label}) {np.dtype(dtype).name}")
        axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, 0.85))
        written = figures.save_figure(fig, out, NAME)
    columns: dict[str, list] = {key: [] for key in ("dtype", *results[np.float64])}
    for dtype, r in results.items():
        columns["dtype"] += [np.dtype(dtype).name] * len(r["c"])
        for key, values in r.items():
            columns[key] += list(values)
    written.append(figures.save_csv(out, NAME, columns))
    return written


if __name__ == "__main__":
    for path in make_figure(Path(sys.argv[1] if len(sys.argv) > 1 else "figures")):
        print(path)
