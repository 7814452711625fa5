"""The figure style of the paper and the simplex (ternary) plot.

This module imports matplotlib; ``import expfam`` does not import this module,
so matplotlib loads only when a figure is made. Figures are built on
:class:`matplotlib.figure.Figure` directly (no pyplot, no GUI backend, no global
figure registry), so they render headless and leak nothing between runs.

Style: serif text (DejaVu Serif, shipped with matplotlib; no LaTeX install),
sizes for a single column (:data:`SINGLE_COLUMN` inches) and for a double
column (:data:`DOUBLE_COLUMN`), TrueType fonts in PDFs (``pdf.fonttype = 42``,
so the text stays text), and the colour-blind-safe Okabe-Ito colours.

Files are written by :mod:`expfam.figures` (``save_figure``, ``save_csv``),
atomically and reproducibly, in this style.

Simplex: :func:`barycentric` maps probabilities ``(..., 3)`` to the plane;
:func:`simplex_axes` draws the triangle with vertex labels and a light grid;
:func:`simplex_plot`, :func:`simplex_scatter` and :func:`simplex_contour` draw
paths, points and level sets given in probabilities.

Calibration: :func:`reliability_diagram` draws a reliability diagram (accuracy
per bin of confidence, the gap to the mean confidence, the diagonal, the ECE in
the corner, and the histogram of confidences on an axes of its own).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "COLORS",
    "DOUBLE_COLUMN",
    "PNG_DPI",
    "SINGLE_COLUMN",
    "barycentric",
    "new_figure",
    "panel_label",
    "reliability_diagram",
    "simplex_axes",
    "simplex_contour",
    "simplex_grid",
    "simplex_plot",
    "simplex_scatter",
    "style",
    "style_context",
]

SINGLE_COLUMN = 3.3
"""Width in inches of a figure that spans one column of a two-column paper."""

DOUBLE_COLUMN = 7.0
"""Width in inches of a figure that spans the full text width."""

_OKABE_ITO = mpl.color_sequences["okabe_ito"]
COLORS: tuple[str, ...] = tuple(mpl.colors.to_hex(_OKABE_ITO[i]) for i in (5, 6, 3, 1, 2, 7, 0))
"""The Okabe-Ito colours in plotting order: blue, vermillion, bluish green,
orange, sky blue, reddish purple, black (yellow, unreadable on white, left out)."""

PNG_DPI = 300
"""Resolution in dots per inch of the PNG copy of every figure."""

_VERTICES = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3.0) / 2.0]])


def style() -> dict[str, Any]:
    """Return the rcParams of the paper style (use it with :func:`style_context`).

    Returns
    -------
    dict
        matplotlib rc parameters: DejaVu Serif text at 7-8 pt, the :data:`COLORS`
        cycle, thin axes without top and right spines, TrueType fonts in PDFs.

    Examples
    --------
    >>> from expfam import plot
    >>> plot.style()["pdf.fonttype"]
    42
    """
    return {
        "font.family": "serif",
        "font.serif": ["DejaVu Serif"],
        "mathtext.fontset": "dejavuserif",
        "text.usetex": False,
        "font.size": 8,
        "axes.titlesize": 8,
        "axes.labelsize": 8,
        "legend.fontsize": 7,
        "xtick.labelsize": 7,
        "ytick.labelsize": 7,
        "axes.prop_cycle": mpl.cycler(color=list(COLORS)),
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "lines.linewidth": 1.3,
        "lines.markersize": 4,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.minor.width": 0.4,
        "ytick.minor.width": 0.4,
        "legend.frameon": False,
        "legend.handlelength": 1.6,
        "figure.dpi": 100,
        "savefig.dpi": PNG_DPI,
        "savefig.bbox": "standard",
        "figure.constrained_layout.h_pad": 0.03,
        "figure.constrained_layout.w_pad": 0.03,
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.hashsalt": "expfam",
        "image.cmap": "viridis",
    }


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """Apply the paper style within a ``with`` block (build and save figures inside it).

    Yields
    ------
    None
        The block runs with :func:`style` applied to matplotlib's rc parameters;
        the previous parameters are restored when it ends.
    """
    with mpl.rc_context(style()):
        yield


def new_figure(
    width: Literal["single", "double"] | float = "single",
    height: float | None = None,
    nrows: int = 1,
    ncols: int = 1,
    **subplots_kw: Any,
) -> tuple[Figure, Any]:
    """Create a figure of column width and its axes, with a constrained layout.

    Parameters
    ----------
    width : {"single", "double"} or float
        ``"single"`` is :data:`SINGLE_COLUMN`, ``"double"`` is
        :data:`DOUBLE_COLUMN`; a number is a width in inches.
    height : float, optional
        Height in inches; by default ``0.75 * width / ncols * nrows``
        (a 4:3 panel), at least 1.6 inches.
    nrows, ncols, **subplots_kw
        Passed to :meth:`matplotlib.figure.Figure.subplots`.

    Returns
    -------
    fig : Figure
        The new figure (no pyplot, no GUI backend).
    axes : Axes or ndarray of Axes
        One Axes for ``nrows = ncols = 1``, else an array of shape ``(nrows, ncols)``
        (squeezed as :meth:`matplotlib.figure.Figure.subplots` does).

    Examples
    --------
    >>> from expfam import plot
    >>> with plot.style_context():
    ...     fig, ax = plot.new_figure("single")
    >>> fig.get_size_inches().round(3).tolist()
    [3.3, 2.475]
    """
    if isinstance(width, str):
        if width not in ("single", "double"):
            raise ValueError(f"width: expected 'single', 'double' or inches, got {width!r}")
        inches = SINGLE_COLUMN if width == "single" else DOUBLE_COLUMN
    else:
        inches = float(width)
    if height is None:
        height = max(1.6, 0.75 * inches / ncols * nrows)
    fig = Figure(figsize=(inches, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, **subplots_kw)
    return fig, axes


def barycentric(probs: ArrayLike) -> NDArray[np.float64]:
    r"""Map probabilities on the 2-simplex to points of the plane.

    Parameters
    ----------
    probs : array_like, shape (..., 3)
        Probabilities (or any weights; each row is normalized by its sum).

    Returns
    -------
    ndarray, shape (..., 2)
        ``x = p @ V / sum(p)`` with vertices ``V = [(0, 0), (1, 0), (1/2, sqrt(3)/2)]``:
        class 1 at the bottom left, class 2 at the bottom right, class 3 on top.

    Notes
    -----
    .. math::

       x = \frac{\sum_{k=1}^{3} p_k v_k}{\sum_{k=1}^{3} p_k}, \qquad
       v_1 = (0, 0),\; v_2 = (1, 0),\; v_3 = \big(\tfrac12, \tfrac{\sqrt3}{2}\big).

    The map is the restriction of a linear map, so straight lines in
    probability space (m-geodesics, mixtures) stay straight on the triangle.

    Examples
    --------
    >>> barycentric([1 / 3, 1 / 3, 1 / 3]).round(4).tolist()
    [0.5, 0.2887]
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.shape[-1:] != (3,):
        raise ValueError(f"probs: last axis must have length 3, got shape {p.shape}")
    return (p @ _VERTICES) / np.sum(p, axis=-1, keepdims=True)


def simplex_axes(
    ax: Axes,
    labels: Sequence[str] = ("$p_1$", "$p_2$", "$p_3$"),
    grid: int = 5,
) -> Axes:
    """Turn ``ax`` into a triangle: outline, vertex labels, light grid, no frame.

    Parameters
    ----------
    ax : Axes
        The axes to turn into a triangle.
    labels : three str
        Labels of the vertices where ``p_1``, ``p_2``, ``p_3`` equal 1.
    grid : int
        Number of grid intervals per side (lines ``p_k = j / grid``); 0 for none.

    Returns
    -------
    Axes
        ``ax``, with an equal aspect ratio and the spines and ticks removed.
    """
    if len(labels) != 3:
        raise ValueError(f"labels: expected three vertex labels, got {len(labels)}")
    closed = np.vstack([_VERTICES, _VERTICES[:1]])
    ax.plot(closed[:, 0], closed[:, 1], color="0.2", linewidth=0.8, zorder=1)
    for j in range(1, grid):
        level = j / grid
        for k in range(3):
            ends = np.full((2, 3), 0.0)
            ends[:, k] = level
            others = [i for i in range(3) if i != k]
            ends[0, others[0]] = 1.0 - level
            ends[1, others[1]] = 1.0 - level
            xy = barycentric(ends)
            ax.plot(xy[:, 0], xy[:, 1], color="0.88", linewidth=0.5, zorder=0)
    for vertex, label in zip(_VERTICES[:2], labels[:2], strict=True):
        ax.text(vertex[0], -0.04, label, ha="center", va="top")
    ax.text(0.5, _VERTICES[2, 1] + 0.03, labels[2], ha="center", va="bottom")
    ax.set_aspect("equal")
    ax.set_xlim(-0.12, 1.12)
    ax.set_ylim(-0.12, _VERTICES[2, 1] + 0.1)
    ax.axis("off")
    return ax


def simplex_plot(ax: Axes, probs: ArrayLike, *args: Any, **kwargs: Any) -> list[Any]:
    """Draw a path given as probabilities ``(n, 3)`` on a simplex axes (as ``ax.plot``).

    Parameters
    ----------
    ax : Axes
        A simplex axes (see :func:`simplex_axes`).
    probs : array_like, shape (n, 3)
        The points of the path, mapped by :func:`barycentric`.
    *args, **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (format string, colour, label).

    Returns
    -------
    list of Line2D
        What ``ax.plot`` returns.
    """
    xy = barycentric(probs)
    return ax.plot(xy[..., 0], xy[..., 1], *args, **kwargs)


def simplex_scatter(ax: Axes, probs: ArrayLike, **kwargs: Any) -> Any:
    """Draw points given as probabilities ``(n, 3)`` on a simplex axes (as ``ax.scatter``).

    Parameters
    ----------
    ax : Axes
        A simplex axes (see :func:`simplex_axes`).
    probs : array_like, shape (n, 3)
        The points, mapped by :func:`barycentric`.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter`.

    Returns
    -------
    PathCollection
        What ``ax.scatter`` returns.
    """
    xy = barycentric(probs)
    return ax.scatter(xy[..., 0], xy[..., 1], **kwargs)


def simplex_grid(resolution: int, margin: float = 0.0) -> NDArray[np.float64]:
    """Return the points ``(i, j, k) / resolution`` of the simplex, ``i + j + k = resolution``.

    Parameters
    ----------
    resolution : int
        Number of intervals per side.
    margin : float
        Keep only points whose every coordinate is at least ``margin``.

    Returns
    -------
    ndarray, shape (n, 3)
        The grid points, with ``n = (resolution + 1)(resolution + 2) / 2`` when
        ``margin`` is 0.

    Examples
    --------
    >>> from expfam.plot import simplex_grid
    >>> simplex_grid(2)[:3].tolist()
    [[0.0, 0.0, 1.0], [0.0, 0.5, 0.5], [0.0, 1.0, 0.0]]
    """
    if resolution < 1:
        raise ValueError(f"resolution: must be a positive integer, got {resolution}")
    i, j = np.meshgrid(np.arange(resolution + 1), np.arange(resolution + 1), indexing="ij")
    keep = i + j <= resolution
    counts = np.stack([i[keep], j[keep], resolution - i[keep] - j[keep]], axis=-1)
    probs = counts / resolution
    return probs[np.all(probs >= margin, axis=-1)]


def simplex_contour(
    ax: Axes,
    func: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    levels: int | Sequence[float] = 8,
    resolution: int = 120,
    filled: bool = False,
    **kwargs: Any,
) -> Any:
    """Draw level sets of ``func(probs)`` over the open simplex.

    Parameters
    ----------
    ax : Axes
        A simplex axes (see :func:`simplex_axes`).
    func : callable
        Maps probabilities ``(n, 3)`` to values ``(n,)``; it is evaluated on the
        interior points of a triangular grid (the boundary, where log-based
        functions diverge, is left out).
    levels : int or sequence of float
        As in :meth:`matplotlib.axes.Axes.tricontour`.
    resolution : int
        Grid intervals per side.
    filled : bool
        ``tricontourf`` instead of ``tricontour``.
    **kwargs
        Passed to the contour function (colours, line widths).

    Returns
    -------
    TriContourSet
        The contour set.
    """
    probs = simplex_grid(resolution, margin=0.5 / resolution)
    xy = barycentric(probs)
    values = np.asarray(func(probs), dtype=np.float64)
    draw = ax.tricontourf if filled else ax.tricontour
    return draw(xy[:, 0], xy[:, 1], values, levels=levels, **kwargs)


def panel_label(ax: Axes, label: str) -> None:
    """Write a panel label such as ``(a)`` at the top left, outside the axes.

    Parameters
    ----------
    ax : Axes
        The panel.
    label : str
        The label, written bold as the axes' left title.
    """
    ax.set_title(label, loc="left", fontweight="bold")


def reliability_diagram(
    ax: Axes,
    curve: Any,
    *,
    hist_ax: Axes | None = None,
    show_ece: bool = True,
    legend: bool = False,
) -> dict[str, Any]:
    r"""Draw a reliability diagram of a :class:`~expfam.learn.ReliabilityCurve`.

    .. math::

        \mathrm{ECE} = \sum_m W_m \left| \mathrm{acc}_m - \mathrm{conf}_m \right|

    Bars of the accuracy per bin of top-label confidence (bins with weight),
    hatched bars spanning the gap from the accuracy to the bin's mean
    confidence, the diagonal of perfect calibration and, in the top left
    corner, the ECE in percent. With ``hist_ax``, the share of the samples
    per bin is drawn there as a histogram (Guo et al. 2017), with the mean
    accuracy and mean confidence as vertical lines.

    Parameters
    ----------
    ax : Axes
        Where the diagram goes; its limits become ``[0, 1]`` on both axes.
    curve : ReliabilityCurve
        From :func:`expfam.learn.reliability_curve`.
    hist_ax : Axes, optional
        An axes for the histogram of confidences (shares of the weight).
    show_ece : bool
        Write the ECE in the corner.
    legend : bool
        Add a legend naming the bars and the diagonal.

    Returns
    -------
    dict
        The artists: ``"accuracy"`` and ``"gap"`` (bar containers),
        ``"diagonal"`` (line), ``"ece"`` (text or None), ``"histogram"``
        (bar container or None).

    Examples
    --------
    >>> from expfam import plot
    >>> from expfam.learn import reliability_curve
    >>> curve = reliability_curve(probs=[[0.9, 0.1], [0.6, 0.4]], labels=[0, 1], n_bins=5)
    >>> with plot.style_context():
    ...     fig, ax = plot.new_figure("single")
    ...     artists = plot.reliability_diagram(ax, curve)
    >>> artists["ece"].get_text()
    'ECE = 35.0%'
    """
    edges = np.asarray(curve.edges)
    lo, width = edges[:-1], np.diff(edges)
    share = np.asarray(curve.count / np.sum(curve.count) if curve.weight is None else curve.weight)
    used = share > 0
    accuracy, confidence = np.asarray(curve.accuracy), np.asarray(curve.confidence)
    bars = ax.bar(
        lo[used],
        accuracy[used],
        width=width[used],
        align="edge",
        facecolor=COLORS[0],
        edgecolor="white",
        linewidth=0.5,
        label="accuracy",
    )
    gap = ax.bar(
        lo[used],
        np.abs(confidence - accuracy)[used],
        bottom=np.minimum(accuracy, confidence)[used],
        width=width[used],
        align="edge",
        facecolor="none",
        edgecolor=COLORS[1],
        hatch="////",
        linewidth=0.6,
        label="gap to mean confidence",
    )
    (diagonal,) = ax.plot(
        [0, 1], [0, 1], color="0.3", linestyle="--", linewidth=0.8, label="perfect calibration"
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("top-label confidence")
    ax.set_ylabel("accuracy")
    text = None
    if show_ece:
        text = ax.text(
            0.04,
            0.93,
            f"ECE = {100 * curve.ece:.1f}%",
            transform=ax.transAxes,
            va="top",
            bbox={"facecolor": "white", "edgecolor": "0.7", "pad": 2.0},
        )
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.84))
    histogram = None
    if hist_ax is not None:
        histogram = hist_ax.bar(
            lo, share, width=width, align="edge", facecolor="0.6", edgecolor="white", linewidth=0.5
        )
        hist_ax.axvline(
            float(np.sum(share[used] * accuracy[used])), color=COLORS[0], linewidth=1.0
        )
        hist_ax.axvline(
            float(np.sum(share[used] * confidence[used])),
            color=COLORS[1],
            linewidth=1.0,
            linestyle=":",
        )
        hist_ax.set_xlim(0, 1)
        hist_ax.set_ylabel("share")
    return {
        "accuracy": bars,
        "gap": gap,
        "diagonal": diagonal,
        "ece": text,
        "histogram": histogram,
    }
