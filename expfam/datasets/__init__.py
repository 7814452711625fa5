"""Small data sets shipped with expfam: iris, blobs, the Gettysburg Address, the snow example."""

from expfam.datasets.blobs import make_blobs
from expfam.datasets.gettysburg import GETTYSBURG_SHA256, load_gettysburg
from expfam.datasets.iris import Dataset, load_iris
from expfam.datasets.snow import SNOW, BayesExample

__all__ = [
    "GETTYSBURG_SHA256",
    "SNOW",
    "BayesExample",
    "Dataset",
    "load_gettysburg",
    "load_iris",
    "make_blobs",
]
