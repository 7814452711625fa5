"""Fisher's iris data (UCI, public domain): 150 flowers, 4 measurements, 3 species."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import NDArray

__all__ = ["Dataset", "load_iris"]


@dataclass(frozen=True)
class Dataset:
    """A labelled data set: ``data`` (N, D), integer ``target`` (N,), and the names.

    The arrays are read-only.

    Parameters
    ----------
    data : ndarray of float64, shape (N, D)
        The features.
    target : ndarray of int64, shape (N,)
        The class index of each row.
    feature_names : tuple of str, length D
        The names of the columns of ``data``.
    target_names : tuple of str
        The names of the classes, by index.
    """

    data: NDArray[np.float64]
    target: NDArray[np.int64]
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]


def load_iris() -> Dataset:
    """Return Fisher's iris data, the copy shipped with expfam.

    Returns
    -------
    Dataset
        ``data`` (150, 4) float64: sepal length, sepal width, petal length,
        petal width in cm; ``target`` (150,) int64 in {0, 1, 2} for setosa,
        versicolor, virginica (50 each, in that order).

    Notes
    -----
    The 150 rows are those of the UCI Machine Learning Repository as
    distributed by scikit-learn (which corrects two transcription errors of
    the UCI file, rows 35 and 38); ``tests/datasets/test_iris.py`` compares
    them with scikit-learn's copy where it is installed.

    Examples
    --------
    >>> iris = load_iris()
    >>> iris.data.shape, iris.target_names
    ((150, 4), ('setosa', 'versicolor', 'virginica'))
    """
    text = resources.files("expfam.datasets").joinpath("data", "iris.csv").read_text()
    header, *lines = text.strip().splitlines()
    n, d, *names = header.split(",")
    table = np.array([[float(v) for v in line.split(",")] for line in lines])
    if table.shape != (int(n), int(d) + 1):
        raise OSError(f"iris.csv: expected {n} rows of {int(d) + 1} columns, got {table.shape}")
    data = np.ascontiguousarray(table[:, :-1])
    target = table[:, -1].astype(np.int64)
    data.flags.writeable = False
    target.flags.writeable = False
    features = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")
    return Dataset(data, target, features, tuple(names))
