"""Small data sets shipped with expfam: iris, labelled blobs, the Gettysburg Address."""

from expfam.datasets.blobs import make_blobs
from expfam.datasets.gettysburg import GETTYSBURG_SHA256, load_gettysburg
from expfam.datasets.iris import Dataset, load_iris

__all__ = ["GETTYSBURG_SHA256", "Dataset", "load_gettysburg", "load_iris", "make_blobs"]
