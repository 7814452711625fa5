"""The shipped iris data and the blobs generator."""

from __future__ import annotations

import numpy as np
import pytest

from expfam.datasets import load_iris, make_blobs


def test_iris_is_scikit_learns_copy():
    datasets = pytest.importorskip("sklearn.datasets")
    ours, theirs = load_iris(), datasets.load_iris()
    np.testing.assert_array_equal(ours.data, theirs.data)
    np.testing.assert_array_equal(ours.target, theirs.target)
    assert list(ours.target_names) == list(theirs.target_names)
    assert list(ours.feature_names) == list(theirs.feature_names)


def test_iris_shape_classes_and_known_rows():
    iris = load_iris()
    assert iris.data.shape == (150, 4) and iris.data.dtype == np.float64
    assert np.bincount(iris.target).tolist() == [50, 50, 50]
    # Fisher (1936), table I: the first setosa and the last virginica
    assert iris.data[0].tolist() == [5.1, 3.5, 1.4, 0.2]
    assert iris.data[-1].tolist() == [5.9, 3.0, 5.1, 1.8]
    # the two corrections of the UCI file (Bezdek et al. 1999): rows 35 and 38
    assert iris.data[34].tolist() == [4.9, 3.1, 1.5, 0.2]
    assert iris.data[37].tolist() == [4.9, 3.6, 1.4, 0.1]
    assert np.isclose(iris.data.mean(axis=0), [5.8433, 3.0573, 3.758, 1.1993], atol=5e-4).all()


def test_iris_arrays_are_read_only():
    iris = load_iris()
    with pytest.raises(ValueError):
        iris.data[0, 0] = 0.0
    with pytest.raises(ValueError):
        iris.target[0] = 1


def test_blobs_are_reproducible_balanced_and_centred():
    X, y = make_blobs(3001, centers=[[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]], cluster_std=0.5, rng=1)
    X2, _ = make_blobs(3001, centers=[[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]], cluster_std=0.5, rng=1)
    np.testing.assert_array_equal(X, X2)
    assert np.bincount(y).tolist() == [1501, 1500]
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [10.0, 0.0, 0.0], atol=0.05)
    np.testing.assert_allclose(X[y == 0].std(axis=0), 0.5, rtol=0.06)


def test_blobs_with_random_centres_in_the_box():
    X, y = make_blobs(40, centers=4, n_features=5, center_box=(-1.0, 1.0), cluster_std=1e-3, rng=2)
    assert X.shape == (40, 5) and set(y.tolist()) == {0, 1, 2, 3}
    assert np.all(np.abs(X) < 1.1)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"cluster_std": 0.0}, "cluster_std"),
        ({"centers": [1.0, 2.0]}, "centers"),
        ({"centers": 0}, "centers"),
    ],
)
def test_blobs_bad_input_names_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        make_blobs(**kwargs)
