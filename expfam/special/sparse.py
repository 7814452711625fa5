"""Sparse maps onto the simplex: sparsemax, alpha-entmax and Fenchel-Young losses.

alpha-entmax maximizes ``<z, p> + H_alpha(p)`` over the simplex, with the
Tsallis entropy ``H_alpha(p) = (1 - sum_k p_k^alpha) / (alpha (alpha - 1))``
(``alpha = 1``: Shannon). Its solution is

    ``p_k = [(alpha - 1) z_k - tau]_+^(1 / (alpha - 1))``,

``tau`` the threshold that makes ``p`` sum to 1. ``alpha = 1`` is softmax,
``alpha = 2`` sparsemax (the Euclidean projection onto the simplex), and the
family is continuous in ``alpha``. For ``alpha > 1`` classes far below the
maximum get probability exactly 0.

Special values follow :mod:`expfam.special`: a ``-inf`` logit is a class of
probability 0, ``+inf`` logits share all the mass, a row of all ``-inf`` and a
row with a NaN give NaN.

References
----------
A. Martins and R. Astudillo, "From softmax to sparsemax", ICML 2016.
B. Peters, V. Niculae and A. Martins, "Sparse sequence-to-sequence models", ACL 2019.
M. Blondel, A. Martins and V. Niculae, "Learning with Fenchel-Young losses", JMLR 21 (2020).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam._core.args import RowLayout, as_real, axis_index, masked, scalar
from expfam._core.dd import two_prod, two_sum
from expfam._core.dispatch import tiered
from expfam._core.solvers import bracketed_newton
from expfam.special._losses import cross_entropy
from expfam.special._partition import softmax

__all__ = ["entmax", "entmax_jvp", "fenchel_young_loss", "sparsemax"]

_MAX_ITER = 200
_REFINE_ITER = 8
_EPS = float(np.finfo(np.float64).eps)


def _alpha(alpha: object) -> float:
    try:
        value = float(alpha)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"alpha: expected a real number, got {alpha!r}") from None
    if not (value >= 1.0 and math.isfinite(value)):
        raise ValueError(f"alpha: must be finite and >= 1, got {alpha!r}")
    return value


def _sparsemax_rows(z: NDArray) -> NDArray:
    """Sort-based sparsemax of finite-maximum rows ``z`` (max 0): ``[z - tau]_+``."""
    k = np.arange(1, z.shape[1] + 1)
    s = -np.sort(-z, axis=1)
    with np.errstate(invalid="ignore"):
        cum = np.cumsum(s, axis=1)
        support = 1.0 + k * s > cum  # holds exactly for k = 1..k(z)
    size = np.sum(support, axis=1)
    tau = (cum[np.arange(z.shape[0]), size - 1] - 1.0) / size
    return np.maximum(z - tau[:, None], 0.0)


def _entmax15_rows(z: NDArray) -> NDArray:
    """Sort-based 1.5-entmax of rows ``z`` (max 0): ``[z/2 - tau]_+^2``."""
    x = 0.5 * z
    k = np.arange(1, z.shape[1] + 1)
    s = -np.sort(-x, axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = np.cumsum(s, axis=1) / k
        # Variance of the top k. On the support every x lies in (tau, 0] with tau >= -1
        # (p <= 1), so the mean of squares minus the squared mean loses no more than
        # a few ULPs of 1 there; past the support (where it may overflow) it is unused.
        var = np.cumsum(s * s, axis=1) / k - mean * mean
        delta = (1.0 - k * var) / k
        tau = mean - np.sqrt(np.maximum(delta, 0.0))
        support = tau <= s
    size = np.sum(support, axis=1)
    t = tau[np.arange(z.shape[0]), size - 1]
    return np.maximum(x - t[:, None], 0.0) ** 2


def _base(x: NDArray, x_lo: NDArray, c_hi: NDArray, c_lo: NDArray, a1: float):
    """``u = (alpha - 1)(x - c)`` as ``u_hi + u_lo``, exact to ``2**-104`` relative.

    ``x = x + x_lo`` (a logit minus the row's maximum, exactly) and the
    threshold ``c = c_hi + c_lo`` are double-doubles; the product with
    ``alpha - 1`` is Dekker's, on ``alpha - 1`` scaled into ``[1/2, 1)`` when
    it is ``>= 1`` (so that huge ``alpha`` cannot overflow the split).
    """
    d_hi, d_err = two_sum(x, -c_hi)
    d_hi, d_lo = two_sum(d_hi, d_err + (x_lo - c_lo))
    if a1 >= 1.0:
        m, e = math.frexp(a1)
        d_hi, d_lo = np.ldexp(d_hi, e), np.ldexp(d_lo, e)
    else:
        m = a1
    u_hi, u_err = two_prod(m, d_hi)
    return two_sum(u_hi, u_err + m * d_lo)


def _terms(
    x: NDArray,
    x_lo: NDArray,
    c_hi: NDArray,
    c_lo: NDArray,
    alpha: float,
    offset: float | NDArray = 1.0,
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """The probabilities at the threshold ``c = c_hi + c_lo`` and what the solvers need.

    ``p_k = b_k^(1/(alpha - 1))`` with the base ``b_k = 1 + (alpha - 1)(x_k - c)``
    formed in double-double from :func:`_base`, so that a class near the
    threshold (``b_k`` small) keeps its digits. ``offset = beta`` gives
    ``b_k = beta + (alpha - 1)(x_k - c)`` instead: with ``c`` a class's
    logit, ``beta`` is that class's base. ``log b`` is
    ``log1p(t_hi) + t_lo / (1 + t_hi)`` with ``t = b - 1`` for ``b > 1/2``,
    else ``log(b_hi) + b_lo / b_hi``, and ``p = exp(log b / (alpha - 1))``,
    relative error about ``eps (1 + |log p|)``; ``p = b`` at ``alpha = 2``
    and ``b^2`` at 1.5. Column 0 is the top class (``x = 0``).

    Returns ``p``, the slope ``-dp/dc = p / b = p^(2 - alpha)``, the base
    ``b`` (rounded; 1 off the support) and the residual ``1 - sum p`` with
    the top class's ``p_0 - 1`` formed from ``t_0`` (``expm1``): its error is
    a few ULPs of the mass outside the top class, not of 1.
    """
    a1 = alpha - 1.0
    u_hi, u_lo = _base(x, x_lo, c_hi, c_lo, a1)
    b_hi, b_err = two_sum(offset + np.zeros_like(u_hi), u_hi)
    b_hi, b_lo = two_sum(b_hi, b_err + u_lo)
    t_hi, t_err = two_sum(b_hi, np.full_like(b_hi, -1.0))  # exact where b > 1/2
    t_hi, t_lo = two_sum(t_hi, t_err + b_lo)
    with np.errstate(all="ignore"):
        inside = b_hi > 0
        b = np.where(inside, b_hi, 1.0)
        if a1 == 1.0:
            p = b
            q_top = t_hi[:, 0] + t_lo[:, 0]
        elif a1 == 0.5:
            p = b_hi * (b_hi + 2.0 * b_lo)
            q_top = t_hi[:, 0] * (2.0 + t_hi[:, 0]) + 2.0 * t_lo[:, 0]
        else:
            near = t_hi > -0.5
            tn = np.where(near, t_hi, 0.0)
            log_b = np.where(near, np.log1p(tn) + t_lo / (1.0 + tn), np.log(b) + b_lo / b)
            p = np.exp(log_b / a1)
            q_top = np.expm1(log_b[:, 0] / a1)
        p = np.where(inside, p, 0.0)
        q_top = np.where(inside[:, 0], q_top, -1.0)
        slope = p / b
    residual = -(q_top + np.sum(p[:, 1:], axis=1))
    return p, slope, b, residual


def _root(z: NDArray, z_lo: NDArray, alpha: float) -> NDArray:
    """The threshold ``c`` (a float) of rows ``z`` (max 0) by a bracketed Newton solve.

    ``p_k = [1 + (alpha - 1)(z_k - c)]_+^(1/(alpha - 1))``, i.e. ``tau = (alpha - 1) c - 1``;
    ``c`` is in logit units, and ``p -> exp(z - c)`` (softmax) as ``alpha -> 1``.
    ``g(c) = 1 - sum p`` increases in ``c`` from ``<= 0`` at ``c = 0`` to ``>= 0``
    at ``c = (1 - K^(1 - alpha)) / (alpha - 1)``: the bracket of
    :func:`expfam._core.solvers.bracketed_newton`.
    """
    n = z.shape[0]
    zero = np.zeros((n, 1))
    lo, hi = np.zeros(n), np.full(n, _threshold_bound(z.shape[1], alpha))
    root = bracketed_newton(
        lambda c, active: _excess(z, z_lo, c[:, None], zero, alpha),
        0.5 * (lo + hi),
        lo,
        hi,
        max_iter=_MAX_ITER,
    )
    return root.x


def _threshold_bound(k: int, alpha: float) -> float:
    """``(1 - K^(1 - alpha)) / (alpha - 1)``: every row's ``c`` is below it."""
    a1 = alpha - 1.0
    return -math.expm1(-a1 * math.log(k)) / a1 if k > 0 else 0.0


def _excess(
    z: NDArray, z_lo: NDArray, c_hi: NDArray, c_lo: NDArray, alpha: float
) -> tuple[NDArray, NDArray, NDArray]:
    """``g = 1 - sum p``, ``g' = sum p^(2 - alpha)`` and the size of ``g``'s terms."""
    p, slope, _, residual = _terms(z, z_lo, c_hi, c_lo, alpha)
    outside = np.sum(p[:, 1:], axis=1)
    return residual, np.sum(slope, axis=1), outside + np.abs(residual + outside)


def _solve_candidates(z: NDArray, z_lo: NDArray, alpha: float) -> NDArray:
    """alpha-entmax of rows ``z + z_lo`` (max 0, sorted decreasingly, every class a candidate).

    A threshold ``c0`` in floats (the sort-based algorithms at ``alpha = 2``
    and 1.5, else :func:`_root`), refined to a double-double ``c0 + delta``
    by Newton's method on ``delta`` (:func:`_refine`), then the closing step.
    """
    if alpha == 2.0:
        c0 = 1.0 - _sparsemax_rows(z)[:, 0]
    elif alpha == 1.5:
        c0 = 2.0 * (1.0 - np.sqrt(_entmax15_rows(z)[:, 0]))
    else:
        c0 = _root(z, z_lo, alpha)
    p, residual = _refine(z, z_lo, alpha, c0)
    return _close_the_sum(p, residual, alpha)


def _refine(z: NDArray, z_lo: NDArray, alpha: float, c0: NDArray) -> tuple[NDArray, NDArray]:
    """The probabilities at the threshold ``c0`` refined in double-double.

    A float ``c0`` puts the classes near the threshold (``b_k = 1 + (alpha -
    1)(z_k - c)`` small) off by ``eps |c| / b_k`` relative, beyond what one
    Newton step in the probabilities repairs where two such classes share
    the sensitivity. So ``c = c0 + delta`` is carried as a double-double and
    ``delta`` found by :func:`expfam._core.solvers.bracketed_newton` on the
    residual of :func:`_terms`.

    Classes whose ``|b_k|`` at ``c0`` is below its rounding are
    *unresolved*: at large ``alpha`` such a class can hold visible mass
    (``alpha = 50``: ``p = 0.005`` sits ``1e-111`` above the threshold), so
    no threshold near ``c0``, even in double-double, resolves it; those rows
    are solved by :func:`_pin`.

    Returns the probabilities and the residual ``1 - sum p`` (accurate, see
    :func:`_terms`).
    """
    n, m = z.shape
    a1 = alpha - 1.0
    c_hi = c0[:, None]
    zero = np.zeros((n, 1))
    u_hi, u_lo = _base(z, z_lo, c_hi, zero, a1)
    with np.errstate(over="ignore", invalid="ignore"):
        tol = 8 * _EPS * (1.0 + a1 * (np.abs(z) + c_hi))
    unresolved = np.abs((1.0 + u_hi) + u_lo) <= tol
    pinned = np.zeros(n, bool)
    if unresolved.any():
        rows = np.flatnonzero(unresolved.any(axis=1))
        p_pin, r_pin, pinned[rows] = _pin(z[rows], z_lo[rows], alpha, unresolved[rows])
    c_lo = np.zeros((n, 1))
    regular = ~pinned
    if regular.any():
        bound = _threshold_bound(m, alpha)
        root = bracketed_newton(
            lambda d, active: _excess(z, z_lo, c_hi, d[:, None], alpha),
            np.zeros(n),
            -c0,
            bound - c0,
            active=regular,
            max_iter=_REFINE_ITER,
        )
        c_lo[:, 0] = np.where(regular, root.x, 0.0)
    p, _, _, residual = _terms(z, z_lo, c_hi, c_lo, alpha)
    if pinned.any():
        solved = pinned[rows]
        p[rows[solved]], residual[rows[solved]] = p_pin[solved], r_pin[solved]
    return p, residual


def _pin(
    z: NDArray, z_lo: NDArray, alpha: float, unresolved: NDArray
) -> tuple[NDArray, NDArray, NDArray]:
    """alpha-entmax of rows with classes ``unresolved`` at their float threshold.

    The threshold is measured from the lowest unresolved class ``e``, whose
    probability ``nu`` is the unknown: ``b_e = nu^(alpha - 1)`` and
    ``b_k = b_e + (alpha - 1)(z_k - z_e)``, the second term exact, so no
    class above ``e`` loses digits however close ``e`` sits to the
    threshold, and ``sum p - 1`` has a slope in ``nu`` between 1 and ``K``
    (at ``alpha >= 2``). At ``nu = 0`` the others leave the missing mass;
    if it is negative, ``e`` is outside the support and the next unresolved
    class up is tried. ``nu`` is then found by
    :func:`expfam._core.solvers.bracketed_newton` from that mass (``e``'s
    ties share it). Returns the probabilities, the residual ``1 - sum p``
    and the mask of the rows solved so (rows where every unresolved class
    leaves the support are not).
    """
    n, m = z.shape
    a1 = alpha - 1.0
    cand = unresolved.copy()
    xe_hi, xe_lo = np.zeros((n, 1)), np.zeros((n, 1))
    tied, mass = np.zeros((n, m), bool), np.zeros(n)
    found = np.zeros(n, bool)
    todo = cand.any(axis=1)
    while todo.any():
        last = m - 1 - np.argmax(cand[:, ::-1], axis=1)  # the lowest unresolved class
        x_hi = np.take_along_axis(z, last[:, None], 1)
        x_lo = np.take_along_axis(z_lo, last[:, None], 1)
        _, _, _, missing = _terms(z, z_lo, x_hi, x_lo, alpha, offset=0.0)
        ties = cand & (z == x_hi) & (z_lo == x_lo)
        done = todo & (missing >= 0)
        xe_hi[done], xe_lo[done], tied[done], mass[done] = (
            x_hi[done],
            x_lo[done],
            ties[done],
            missing[done],
        )
        found |= done
        cand &= ~ties
        todo &= ~done & cand.any(axis=1)
    count = np.maximum(np.sum(tied, axis=1), 1)

    def at(nu: NDArray) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        with np.errstate(divide="ignore", under="ignore"):
            base = np.exp(a1 * np.log(nu))[:, None]  # nu^(alpha - 1), 0 at nu = 0
        p, slope, _, residual = _terms(z, z_lo, xe_hi, xe_lo, alpha, offset=base)
        residual = residual + np.sum(np.where(tied, p, 0.0), axis=1) - count * nu
        return np.where(tied, nu[:, None], p), slope, residual, base[:, 0]

    def excess(nu: NDArray, active: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        p, slope, residual, base = at(nu)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(nu > 0, base / nu, 0.0)  # d b_e / d nu / (alpha - 1)
        slope_nu = count + ratio * np.sum(np.where(tied, 0.0, slope), axis=1)
        outside = np.sum(p[:, 1:], axis=1)
        return -residual, slope_nu, outside + np.abs(residual + outside)

    hi = 1.0 / count
    root = bracketed_newton(
        excess, np.clip(mass / count, 0.0, hi), np.zeros(n), hi, active=found, max_iter=_MAX_ITER
    )
    p, _, residual, _ = at(np.where(found, root.x, 0.0))
    return p, residual, found


def _close_the_sum(p: NDArray, residual: NDArray, alpha: float) -> NDArray:
    """Move ``p`` onto ``sum p = 1`` along ``dp/dc``: ``p + w (1 - sum p)``, ``w ~ p^(2-alpha)``.

    A last Newton step in the threshold taken in the probabilities themselves:
    each entry moves in proportion to its sensitivity ``p_k^(2 - alpha)`` (the
    Jacobian's diagonal), so well-conditioned entries keep their digits and the
    rounding of the threshold lands on the ill-conditioned ones at the edge of
    the support. ``w`` is a softmax of ``(2 - alpha) log p`` over the support,
    which cannot overflow. The ``residual`` ``1 - sum p`` comes from
    :func:`_terms`, accurate to the mass outside the top class.
    """
    residual = residual[:, None]
    support = p > 0
    log_p = np.log(np.where(support, p, 1.0))
    w = softmax(np.where(support, (2.0 - alpha) * log_p, -np.inf))
    return np.maximum(p + w * residual, 0.0)


def _solve(z: NDArray, z_lo: NDArray, alpha: float) -> NDArray:
    """alpha-entmax of rows ``z + z_lo`` (max 0; ``z_lo`` the rounding of the shift), alpha > 1.

    Classes with ``(alpha - 1) z_k <= -1`` are outside the support whatever the
    threshold (the top class alone reaches 1 there), so the solvers run on
    each row's ``m`` candidates, sorted decreasingly. Rows are grouped by
    their own ``m``: a row's arithmetic (the lengths and the order of its
    sums) depends on that row alone, never on its neighbours in the batch.
    """
    with np.errstate(over="ignore"):
        candidates = np.sum((alpha - 1.0) * z > -1.0, axis=1)
    p = np.zeros_like(z)
    for m in np.unique(candidates):
        rows = np.flatnonzero(candidates == m)
        index = np.sort(np.argpartition(-z[rows], m - 1, axis=1)[:, :m], axis=1)
        # the candidates in a canonical order: decreasing, ties by class index
        index = np.take_along_axis(
            index, np.argsort(-np.take_along_axis(z[rows], index, 1), 1, kind="stable"), 1
        )
        top = np.take_along_axis(z[rows], index, axis=1)
        top_lo = np.take_along_axis(z_lo[rows], index, axis=1)
        out = np.zeros((len(rows), z.shape[1]))
        np.put_along_axis(out, index, _solve_candidates(top, top_lo, alpha), axis=1)
        p[rows] = out
    return p


def _map_rows(x: ArrayLike, axis: object, alpha: float, where: ArrayLike | None) -> NDArray:
    """alpha-entmax over the class axes ``axis``: argument rules, special values, a row solver.

    The argument rules are those of :func:`~expfam.special.softmax`: masked entries are
    classes of probability 0, a fully masked row is the empty distribution (all 0),
    a 0-d input is one class (probability 1).
    """
    arr, dtype = as_real(x, "x")
    arr, mask = masked(arr, where)
    padded, layout = RowLayout.of(arr, axis)
    rows = layout.rows(padded).astype(np.float64)
    out = np.full(rows.shape, np.nan)
    if rows.shape[1] > 0:
        with np.errstate(invalid="ignore"):
            top = np.max(rows, axis=1)
        nan = np.isnan(rows).any(axis=1)
        posinf = ~nan & (top == np.inf)
        regular = ~nan & np.isfinite(top)
        tops = np.isposinf(rows[posinf])
        out[posinf] = tops / np.sum(tops, axis=1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):
            # a gap beyond the float range is -inf (p = 0); z + z_lo is the exact gap
            z, z_lo = two_sum(rows[regular], -top[regular, None])
        out[regular] = _solve(z, np.where(np.isfinite(z), z_lo, 0.0), alpha)
    if mask is not None:
        out[~layout.rows(mask.reshape(padded.shape)).any(axis=1)] = 0.0
    out = layout.unrows(out).astype(dtype)
    return scalar(out[..., 0]) if arr.ndim == 0 else out


@tiered
def entmax(
    x: ArrayLike,
    alpha: float = 1.5,
    axis: int | tuple[int, ...] | None = -1,
    *,
    where: ArrayLike | None = None,
) -> NDArray:
    r"""alpha-entmax: the Tsallis-regularized map from logits to the simplex.

    .. math::

        \operatorname{entmax}_\alpha(x) = \arg\max_{p \in \Delta} \langle x, p\rangle + H_\alpha(p)
        = \left[(\alpha - 1) x - \tau\right]_+^{1/(\alpha - 1)}

    Parameters
    ----------
    x : array_like, shape (..., K)
        Logits (shift-invariant: ``x`` and ``x + c`` give the same result).
    alpha : float
        ``>= 1``. ``1`` is :func:`expfam.special.softmax` (exactly: it is
        called), ``2`` is :func:`sparsemax`, ``1.5`` the sparse middle ground.
    axis : int, tuple of ints or None
        The class axes (together they hold one distribution), as in ``softmax``.
    where : array_like of bool, optional
        Entries outside the mask are classes of probability 0; a fully masked
        row gives all zeros.

    Returns
    -------
    ndarray, shape (..., K)
        ``p = argmax_{p in simplex} <x, p> + H_alpha(p)``, with exact zeros
        for ``alpha > 1`` wherever ``(alpha - 1)(x_k - max x) <= -1`` and
        beyond.

    Notes
    -----
    ``p_k = [(alpha - 1) x_k - tau]_+^(1/(alpha - 1))`` with ``sum_k p_k = 1``.
    In logit units, ``tau = (alpha - 1) c - 1`` and ``p_k = b_k^(1/(alpha - 1))``
    with the base ``b_k = 1 + (alpha - 1)(x_k - c)``, evaluated as
    ``exp(log1p(b_k - 1) / (alpha - 1))``, which tends to ``exp(x_k - c)`` as
    ``alpha -> 1``: the family is continuous into softmax. A first threshold
    ``c0`` comes from the exact sort-based algorithms at ``alpha = 2`` and 1.5
    (Martins and Astudillo 2016; Peters et al. 2019), else from Newton's
    method kept inside a bracket that bisection shrinks when a step leaves it
    (at most 200 steps; typically 10). A float threshold cannot place a class
    near it: ``b_k`` would be off by ``eps |c| / b_k`` relative. So ``c`` is
    refined as a double-double ``c0 + delta`` (a few more Newton steps, on
    ``delta``), with every ``b_k`` formed exactly (Dekker's product, Knuth's
    sum). A row with a class below the rounding of any threshold (``alpha =
    50``: ``p = 0.005`` is ``1e-111`` above it) is solved for that class's
    mass ``nu`` instead, the others' bases ``nu^(alpha - 1) + (alpha - 1)(x_k
    - x_e)`` again exact. The residual ``1 - sum p`` is formed with the top
    class's ``p - 1`` from ``expm1``, and a last Newton step taken in the
    probabilities, ``p + w (1 - sum p)`` with ``w = s / sum s``,
    ``s = p^(2 - alpha)``, closes the sum while each entry moves by its own
    sensitivity. Float16/32 inputs are computed in float64 and rounded once.

    Accuracy against mpmath with enough digits to resolve every entry
    (``tests/special/test_sparse.py``: alpha from 1.0001 to 50, random rows
    and rows with one or many classes within ``1e-6 .. 1e-50`` of the
    threshold; a sweep of 700 such rows with K up to 20): every entry within
    2 eps absolute (1.07 measured), and within

    .. math::

        4\,\varepsilon \left(p_k (1 + |\log p_k|) + w_k\, m\right),
        \qquad m = 1 - \max_j p_j,

    (1.8 eps measured for the constant 4): a few ULPs of its own plus its
    share ``w_k`` of a few ULPs of the mass ``m`` outside the top class. The
    second term is mass conservation: the entries near the threshold, whose
    ``w`` is largest (at ``alpha > 2`` the edge class's ``w`` is near 1), are
    fixed by ``sum p = 1`` and inherit the rounding of the others. An entry
    of ``p = 0.0018`` beside several of 0.1 to 0.3 is thus accurate to about
    ``eps m`` absolute (413 eps relative measured, ``alpha = 12.9``); where
    one class holds all but ``p_k``, ``m`` is about ``p_k`` and ``p_k`` is
    within a few eps relative. The threshold
    ``(alpha - 1) x_k - p_k^(alpha - 1)`` agrees over the support within
    ``16 (alpha - 1) eps (1 + max |x|)`` (backward stability, tested).

    On torch, JAX, CuPy and array-api-strict arrays the threshold is bisected
    64 times, polished by Newton steps kept in the bracket, refined in
    double-double by a fixed number of Newton steps (three on ``delta``, six
    on a pinned class's mass), and the same closing step ends it: within
    0.6 eps of mpmath on the rows near the threshold of
    ``tests/special/test_sparse.py`` (torch, float64; up to 0.1 absolute
    before), which ``tests/backends/`` holds to this tier's result; a row that
    needs more steps than that keeps the error of its last;
    differentiable, traceable by ``jax.jit``. There
    ``alpha - 1`` may be at most ``2^1022`` (``2^126`` without float64):
    beyond it ``1 / (alpha - 1)``, the scale of the threshold, is a subnormal
    number, which XLA flushes to zero, so a ``ValueError`` naming ``alpha``
    is raised.

    Examples
    --------
    >>> entmax([1.0, 0.5, -1.0], alpha=2)
    array([0.75, 0.25, 0.  ])
    >>> entmax([1.0, 0.5, -1.0], alpha=1).round(4)  # softmax
    array([0.5741, 0.3482, 0.0777])
    """
    alpha = _alpha(alpha)
    if alpha == 1.0:
        return softmax(x, axis=axis, where=where)
    return _map_rows(x, axis, alpha, where)


@tiered
def sparsemax(
    x: ArrayLike, axis: int | tuple[int, ...] | None = -1, *, where: ArrayLike | None = None
) -> NDArray:
    r"""sparsemax: the Euclidean projection of the logits onto the simplex.

    .. math::

        \operatorname{sparsemax}(x) = \arg\min_{p \in \Delta} \|p - x\|^2 = [x - \tau]_+

    Parameters
    ----------
    x : array_like, shape (..., K)
        Logits.
    axis : int, tuple of ints or None
        The class axes, as in ``softmax``.
    where : array_like of bool, optional
        Entries outside the mask are classes of probability 0.

    Returns
    -------
    ndarray, shape (..., K)
        ``argmin_{p in simplex} ||p - x||^2 = [x - tau]_+`` with ``sum p = 1``;
        ``entmax(x, alpha=2)``.

    Notes
    -----
    Sort ``x`` decreasingly; the support is the largest ``k`` with
    ``1 + k x_(k) > sum_{j <= k} x_(j)`` and ``tau = (sum_{j <= k} x_(j) - 1) / k``
    (Martins and Astudillo 2016). Computed on ``x - max x``.

    Examples
    --------
    >>> sparsemax([0.1, 1.2, 3.0])
    array([0., 0., 1.])
    """
    return _map_rows(x, axis, 2.0, where)


@tiered
def entmax_jvp(probs: ArrayLike, v: ArrayLike, alpha: float = 1.5, axis: int = -1) -> NDArray:
    r"""Jacobian-vector product of :func:`entmax` at its output ``probs``.

    .. math::

        J v = s \odot v - s\, \frac{\langle s, v\rangle}{\sum_k s_k},
        \qquad s_k = p_k^{2 - \alpha} [p_k > 0]

    Parameters
    ----------
    probs : array_like, shape (..., K)
        ``entmax(x, alpha)``: the Jacobian depends on ``x`` only through it.
    v : array_like, shape (..., K)
        Tangent vector in logit space, broadcast against ``probs``.
    alpha : float
        ``>= 1``.
    axis : int
        The class axis.

    Returns
    -------
    ndarray, shape (..., K)
        ``J v = s * v - s (s . v) / sum(s)`` with ``s_k = p_k^(2 - alpha)`` on
        the support (``p_k > 0``) and 0 off it.

    Notes
    -----
    Differentiating ``p_k^(alpha - 1) = (alpha - 1) x_k - tau`` on the support
    (Peters et al. 2019). ``alpha = 1``: ``s = p``, the softmax Jacobian
    ``diag(p) - p p^T``; ``alpha = 2``: ``s`` is the support indicator, the
    sparsemax Jacobian ``diag(s) - s s^T / |S|``. J is symmetric, so this is
    also the vector-Jacobian product. O(K) per row, no K x K matrix.

    Since ``J 1 = 0``, ``v`` is shifted by its entry at the class ``m`` of
    largest ``s`` before the mean is taken: at ``alpha > 2`` a class near the
    threshold has a huge ``s`` (``alpha = 50``, ``p = 4e-4``: ``s = 3e162``)
    and ``v_m - mean`` would cancel to 0 where the answer is ``s_m sum_{j !=
    m} s_j (v_m - v_j) / sum s``, of the size of the other ``s``. ``s`` is
    formed from ``log p`` and the weights ``s / sum s`` from its logarithm
    shifted by the maximum, so nothing overflows unless an entry of the
    result does.

    Accuracy. For the ``probs`` it is given, the result is within
    ``8 eps (1 + |2 - alpha| max_j |log p_j|) h_k`` of ``J v`` in mpmath,
    ``h_k = s_k sum_j (s_j / sum s) |v_k - v_j|`` (a bound on ``|(J v)_k|``;
    2.3 measured for the constant 8 over alpha from 1.0001 to 50 and rows
    near the threshold, ``tests/special/test_sparse.py``). Against the
    Jacobian at the logits, the rounding of ``probs`` adds its own
    propagation, which this function cannot undo: ``s_k`` carries
    ``|2 - alpha|`` times the relative error of ``p_k``, and the entries
    that :func:`entmax` fixes by mass conservation (see its accuracy) are
    accurate to ``eps m`` absolute only. Inputs this API cannot get right:
    a class of the support whose probability rounds to 0 (below ``5e-324``;
    at ``alpha > 2`` its ``s`` would be the largest) is read as outside the
    support, and at ``alpha > 2`` an entry that entmax accurate to
    ``eps m`` absolute but ``p_k`` small gives ``s_k`` off by
    ``|2 - alpha| eps m / p_k`` relative; the caller gets the exact JVP of the
    rounded ``probs``, to the bound above.

    Examples
    --------
    >>> entmax_jvp([0.75, 0.25, 0.0], [1.0, 0.0, 2.0], alpha=2)
    array([ 0.5, -0.5,  0. ])
    """
    a = _alpha(alpha)
    p, dtype = as_real(probs, "probs")
    t, tdtype = as_real(v, "v")
    try:
        p, t = np.broadcast_arrays(p, t)
    except ValueError:
        raise ValueError(
            f"v: shape {np.shape(t)} does not broadcast with probs' shape {np.shape(p)}"
        ) from None
    if p.ndim == 0:
        raise ValueError("probs: expected an array with a class axis, got a scalar")
    ax = axis_index(axis, p.ndim)
    p64 = np.moveaxis(p, ax, -1).astype(np.float64)
    t64 = np.moveaxis(t, ax, -1).astype(np.float64)
    _check_simplex(p64, dtype)
    out = _jvp_rows(p64, t64, a)
    return np.moveaxis(out, -1, ax).astype(np.result_type(dtype, tdtype))


def _jvp_rows(p: NDArray, v: NDArray, alpha: float) -> NDArray:
    """``s v - s (s . v) / sum s`` over the last axis, ``s = p^(2 - alpha)`` on ``p > 0``.

    ``J 1 = 0``, so ``v`` is first shifted by its entry at the class ``m`` of
    largest ``s``: ``d = v - v_m`` has ``d_m = 0`` exactly, and the mean
    ``(s . d) / sum s`` no longer cancels against ``d_m`` where ``s_m`` holds
    nearly all the weight (a class near the threshold at ``alpha > 2``, whose
    ``s`` is huge). ``s`` is formed as ``exp((2 - alpha) log p)`` and the
    weights ``s / sum s`` from its logarithm shifted by the maximum, so no
    intermediate overflows where the result does not.
    """
    support = p > 0
    log_s = np.where(support, (2.0 - alpha) * np.log(np.where(support, p, 1.0)), -np.inf)
    top = np.argmax(log_s, axis=-1)[..., None]
    peak = np.take_along_axis(log_s, top, axis=-1)
    empty = ~np.isfinite(peak)  # a row of zeros: the empty distribution, J = 0
    peak = np.where(empty, 0.0, peak)
    weight = np.exp(log_s - peak)  # s / max s, 1 at m
    d = np.where(support, v - np.take_along_axis(v, top, axis=-1), 0.0)
    with np.errstate(over="ignore", invalid="ignore"):  # s beyond the float range: inf, NaN
        sd = np.where(d == 0.0, 0.0, np.exp(log_s) * d)  # s_m may overflow: d_m = 0
        mean_s = np.sum(sd, axis=-1, keepdims=True)  # s . d
    share = weight / np.where(empty, 1.0, np.sum(weight, axis=-1, keepdims=True))
    with np.errstate(invalid="ignore"):
        out = np.where(support, sd - share * mean_s, 0.0)
    return out + 0.0  # + 0.0: no -0.0 entries


def _check_simplex(p: NDArray, dtype: np.dtype) -> None:
    """Raise unless every row of ``p`` (class axis last) lies on the simplex.

    Entries in [0, 1] and sums within ``sqrt(eps)`` of 1 (eps of ``dtype``):
    the rounding of any entmax output passes, logits passed by mistake do not.
    A row of zeros is the empty distribution (a fully masked row) and passes.
    """
    sums = np.sum(p, axis=-1)
    tol = math.sqrt(float(np.finfo(dtype).eps))
    on_simplex = (np.abs(sums - 1.0) <= tol) | (sums == 0.0)
    bad = ~((p >= 0) & (p <= 1)).all(axis=-1) | ~on_simplex
    if bad.any():
        row = np.unravel_index(int(np.argmax(bad)), bad.shape)
        where = f" (batch index {tuple(int(i) for i in row)})" if row else ""
        raise ValueError(
            "probs: expected points of the simplex (entries in [0, 1] summing to 1, an "
            f"output of entmax, not its logits), got a row{where} summing to "
            f"{float(sums[row]):.6g} with entries in [{float(p[row].min()):.3g}, "
            f"{float(p[row].max()):.3g}]"
        )


def _tsallis_negentropy(p: NDArray, alpha: float) -> NDArray:
    """Tsallis negentropy ``Omega(p) = (sum p^alpha - 1) / (alpha (alpha - 1))``.

    As ``sum_k p_k expm1((alpha - 1) log p_k) / (alpha (alpha - 1))``: the expm1
    form avoids the cancellation of ``sum p^alpha - 1`` near ``alpha = 1`` and
    equals ``sum p log p`` in the limit.
    """
    log_p = np.log(np.where(p > 0, p, 1.0))
    a1 = alpha - 1.0
    return np.sum(p * np.expm1(a1 * log_p), axis=-1) / (alpha * a1)


@tiered
def fenchel_young_loss(
    logits: ArrayLike, target: ArrayLike, alpha: float = 1.5, axis: int = -1
) -> NDArray:
    r"""Fenchel-Young loss of alpha-entmax: ``Omega*(z) + Omega(y) - <z, y> >= 0``.

    Parameters
    ----------
    logits : array_like, shape (..., K)
        Logits z (finite; entries beyond the float range relative to the
        largest, such as ``-1e308`` beside ``1e308``, are classes of probability 0).
    target : array_like of int, shape (...), or of float, shape (..., K)
        Class indices in ``[0, K)`` or probability vectors y (as
        :func:`expfam.cross_entropy`), the class axis at ``axis``.
    alpha : float
        ``>= 1``; ``1`` is the cross-entropy, ``2`` the sparsemax loss.
    axis : int
        The class axis of ``logits`` (and of a probability ``target``).

    Returns
    -------
    ndarray, shape (...)
        The loss, the class axis removed.

    Notes
    -----
    With ``y_hat = entmax(z, alpha)`` and the Tsallis negentropy
    ``Omega(p) = (sum_k p_k^alpha - 1) / (alpha (alpha - 1))``,

    .. math::

        L(z, y) = \Omega^*(z) + \Omega(y) - \langle z, y \rangle
                = \Omega(y) - \Omega(\hat y) - \langle z, y - \hat y \rangle \ge 0,

    with gradient ``y_hat - y`` in ``z``; it is 0 exactly when ``y_hat = y``.
    ``alpha = 1`` calls :func:`expfam.cross_entropy` and subtracts the Shannon
    entropy of ``y`` (0 for a class index): the KL divergence ``KL(y || softmax z)``.
    For ``alpha > 1``, ``<z, y - y_hat>`` is formed on ``z - max z`` (the
    weights sum to 0, so the shift changes nothing and keeps large logits
    from cancelling; a class whose weight is 0 adds nothing, even at a gap
    of ``-inf``) and ``Omega`` with ``expm1``, so the loss is continuous into
    ``alpha = 1``. A target with mass on a class infinitely far below the top
    one has an infinite loss. Computed in float64.

    Examples
    --------
    >>> float(fenchel_young_loss([1.0, 0.0], 0, alpha=2))  # sparsemax: y_hat = y
    0.0
    >>> round(float(fenchel_young_loss([0.0, 0.0], 0, alpha=1)), 6)  # log 2
    0.693147
    """
    a = _alpha(alpha)
    z, dtype = as_real(logits, "logits")
    if z.ndim == 0:
        raise ValueError("logits: expected an array with a class axis, got a scalar")
    ax = axis_index(axis, z.ndim)
    z = np.moveaxis(z, ax, -1)
    if z.shape[-1] == 0:
        raise ValueError("logits: expected a non-empty class axis")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits: must be finite")
    k = z.shape[-1]
    y = np.asarray(target)
    index = y.dtype.kind in "iu"
    if index:
        bad = (y < 0) | (y >= k)
        if bad.any():
            raise ValueError(f"target: class index {y[bad].flat[0]} is out of range [0, {k})")
        onehot = (y[..., None] == np.arange(k)).astype(np.float64)
    else:
        onehot, _ = as_real(y, "target")
        if onehot.ndim == 0:
            raise ValueError(f"target: expected class indices or {k} class weights per row")
        onehot = np.moveaxis(onehot.astype(np.float64), ax - z.ndim, -1)
        if onehot.shape[-1] != k:
            raise ValueError(f"target: expected class indices or {k} class weights per row")
        if np.any(onehot < 0) or np.any(np.abs(np.sum(onehot, axis=-1) - 1.0) > 1e-6):
            raise ValueError("target: probability vectors must be >= 0 and sum to 1")
    if a == 1.0:
        loss = cross_entropy(z, y if index else onehot)
        if not index:
            loss = loss + _shannon_negentropy(onehot)
        return scalar(np.asarray(loss, dtype=np.float64).astype(dtype))
    with np.errstate(over="ignore"):  # a gap beyond the float range is -inf: p = 0 there
        z64 = z.astype(np.float64)
        z64 = z64 - np.max(z64, axis=-1, keepdims=True)
    try:
        z64, onehot = np.broadcast_arrays(z64, onehot)
    except ValueError:
        raise ValueError(
            f"target: shape {np.shape(target)} does not broadcast with logits' shape {z.shape}"
        ) from None
    y_hat = entmax(z64, alpha=a)
    weight = onehot - y_hat
    with np.errstate(invalid="ignore"):
        linear = np.sum(np.where(weight != 0.0, z64 * weight, 0.0), axis=-1)
    loss = _tsallis_negentropy(onehot, a) - _tsallis_negentropy(y_hat, a) - linear
    return scalar(np.maximum(loss, 0.0).astype(dtype))


def _shannon_negentropy(p: NDArray) -> NDArray:
    """``sum p log p`` (``0 log 0 = 0``): the negentropy at ``alpha = 1``."""
    return np.sum(p * np.log(np.where(p > 0, p, 1.0)), axis=-1)
