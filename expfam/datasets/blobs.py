"""Labelled Gaussian blobs: a small synthetic classification problem."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["make_blobs"]


def make_blobs(
    n_samples: int = 100,
    centers: int | ArrayLike = 3,
    n_features: int = 2,
    cluster_std: float = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    rng: np.random.Generator | int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Draw points from isotropic Gaussian blobs, one class per blob.

    Parameters
    ----------
    n_samples : int
        Number of points, shared as evenly as possible among the blobs
        (the first ``n_samples % K`` blobs get one more).
    centers : int or array_like, shape (K, D)
        The number of blobs (centres drawn uniformly in ``center_box``) or
        the centres themselves.
    n_features : int
        D, when ``centers`` is a number.
    cluster_std : float
        Standard deviation of every blob, ``> 0``.
    center_box : (float, float)
        Bounds of the random centres.
    rng : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    X : ndarray, shape (n_samples, D)
        The points.
    y : ndarray of int64, shape (n_samples,)
        The blob of each point, sorted (class 0 first).

    Notes
    -----
    ``x = c_y + cluster_std * e`` with ``e ~ N(0, I_D)``: the Bayes classifier
    of equal blobs with equal priors is linear, so softmax regression is the
    right model for it.

    Examples
    --------
    >>> X, y = make_blobs(6, centers=[[0.0, 0.0], [5.0, 5.0]], rng=0)
    >>> X.shape, y.tolist()
    ((6, 2), [0, 0, 0, 1, 1, 1])
    """
    gen = np.random.default_rng(rng)
    if not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"n_samples: expected a positive integer, got {n_samples!r}")
    if not cluster_std > 0:
        raise ValueError(f"cluster_std: expected a positive number, got {cluster_std!r}")
    if isinstance(centers, int | np.integer):
        if centers < 1 or n_features < 1:
            raise ValueError(
                f"centers, n_features: expected positive integers, got {centers}, {n_features}"
            )
        c = gen.uniform(center_box[0], center_box[1], (int(centers), n_features))
    else:
        c = np.asarray(centers, dtype=np.float64)
        if c.ndim != 2 or not np.isfinite(c).all():
            raise ValueError(f"centers: expected a finite (K, D) array, got shape {c.shape}")
    k = c.shape[0]
    counts = np.full(k, n_samples // k) + (np.arange(k) < n_samples % k)
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    X = c[y] + cluster_std * gen.standard_normal((n_samples, c.shape[1]))
    return X, y
