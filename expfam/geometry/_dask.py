r"""The Dask tier of :mod:`expfam.geometry`: divergences between two dask arrays of
probabilities, lazy.

:func:`expfam._core.dispatch.tiered` sends a call with a dask argument here,
to the function of the same name and signature. Each block of rows runs the
numpy tier itself (``p`` and ``q`` checked there, when computed), so every
row gets exactly the numpy value. The classes of a row must sit in one chunk:
these divergences are written for whole rows (their careful forms, such as
Hellinger from the differences of square roots, do not split into partials
here), and a split class axis is refused with the ``rechunk`` that fixes it.
``p`` and ``q`` broadcast; where both are dask arrays they must have the same
chunks. The distributions (:class:`expfam.Categorical`) hold numpy arrays and
stay with the numpy tier.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dask.array as da
from numpy.typing import NDArray

from expfam._core.daskargs import aligned_pair, blockwise_rows, is_split, refuse_split
from expfam._core.daskargs import result_dtype as _result_dtype
from expfam.geometry import chernoff as _np_chernoff
from expfam.geometry import divergences as _np
from expfam.geometry import geodesics as _np_geodesics
from expfam.geometry.chernoff import ChernoffResult


def _pairwise(fn: Callable[..., Any], p: Any, q: Any, *args: Any, name: str = "") -> da.Array:
    """``fn(p, q, *args)`` per block of rows, one value per row."""
    a, b, ref = aligned_pair(p, q, ("p", "q"))
    dtype = _result_dtype(a.dtype, b.dtype, names=("p", "q"))
    if a.ndim == 0:
        raise ValueError(f"{ref}: expected an array of shape (..., K), got a scalar")
    axes = (a.ndim - 1,)
    if is_split(a, axes):
        raise refuse_split(ref, axes, f"for {name or fn.__name__}")

    def block(pb: NDArray, axis: int, q: NDArray) -> NDArray:
        return fn(pb, q, *args)

    return blockwise_rows(block, a, axes, dtype, reduce=True, per_class={"q": b})


def kl(p: Any, q: Any) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.kl`, blockwise:
    :math:`\mathrm{KL}(p \,\|\, q) = \sum_k p_k \log(p_k / q_k)`.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> p = da.from_array(np.array([[0.5, 0.5]] * 3), chunks=(2, 2))
    >>> kl(p, np.array([0.25, 0.75])).compute().round(12).tolist()  # log 2 - log(3)/2
    [0.143841036226, 0.143841036226, 0.143841036226]
    """
    return _pairwise(_np.kl, p, q)


def jeffreys(p: Any, q: Any) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.jeffreys`, blockwise:
    :math:`\mathrm{KL}(p \,\|\, q) + \mathrm{KL}(q \,\|\, p)`."""
    return _pairwise(_np.jeffreys, p, q)


def jensen_shannon(p: Any, q: Any) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.jensen_shannon`, blockwise:
    :math:`\tfrac12 [\mathrm{KL}(p \,\|\, m) + \mathrm{KL}(q \,\|\, m)]`, :math:`m = (p + q)/2`."""
    return _pairwise(_np.jensen_shannon, p, q)


def jensen_shannon_distance(p: Any, q: Any) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.jensen_shannon_distance`, blockwise:
    :math:`\sqrt{\mathrm{JS}(p, q)}`."""
    return _pairwise(_np.jensen_shannon_distance, p, q)


def hellinger(p: Any, q: Any) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.hellinger`, blockwise:
    :math:`H = \sqrt{\tfrac12 \sum_k (\sqrt{p_k} - \sqrt{q_k})^2}`."""
    return _pairwise(_np.hellinger, p, q)


def bhattacharyya_coefficient(p: Any, q: Any) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.bhattacharyya_coefficient`, blockwise:
    :math:`\mathrm{BC} = \sum_k \sqrt{p_k q_k}`."""
    return _pairwise(_np.bhattacharyya_coefficient, p, q)


def bhattacharyya_distance(p: Any, q: Any) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.bhattacharyya_distance`, blockwise:
    :math:`-\log \mathrm{BC}`."""
    return _pairwise(_np.bhattacharyya_distance, p, q)


def alpha_divergence(p: Any, q: Any, alpha: float) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.alpha_divergence`, blockwise:
    :math:`\frac{4}{1 - \alpha^2}\big(1 - \sum_k p_k^{(1-\alpha)/2} q_k^{(1+\alpha)/2}\big)`."""
    return _pairwise(_np.alpha_divergence, p, q, alpha)


def tsallis_divergence(p: Any, q: Any, order: float) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.tsallis_divergence`, blockwise:
    :math:`\frac{\sum_k p_k^\lambda q_k^{1-\lambda} - 1}{\lambda - 1}`."""
    return _pairwise(_np.tsallis_divergence, p, q, order)


def renyi_divergence(p: Any, q: Any, order: float) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.renyi_divergence`, blockwise:
    :math:`\frac{1}{\lambda - 1} \log \sum_k p_k^\lambda q_k^{1-\lambda}`."""
    return _pairwise(_np.renyi_divergence, p, q, order)


def fisher_rao_distance(p: Any, q: Any) -> da.Array:
    r"""Dask twin of :func:`expfam.geometry.fisher_rao_distance`, blockwise:
    :math:`d = 4 \arcsin(\lVert \sqrt p - \sqrt q \rVert / 2)`."""
    return _pairwise(_np_geodesics.fisher_rao_distance, p, q)


def chernoff_information(p: Any, q: Any) -> ChernoffResult:
    r"""Dask twin of :func:`expfam.geometry.chernoff_information`, blockwise:
    :math:`C = \max_\lambda -\log \sum_k p_k^\lambda q_k^{1-\lambda}` and its exponent."""
    parts = [
        _pairwise(
            lambda a, b, part=part: getattr(_np_chernoff.chernoff_information(a, b), part),
            p,
            q,
            name="chernoff_information",
        )
        for part in ("information", "exponent")
    ]
    # lazy: the iterations of each block are not known until it is computed
    return ChernoffResult(parts[0], parts[1], n_iter=None, converged=None)
