"""Small data sets shipped with expfam."""

# iris and labelled blobs (issue 10)
from expfam.datasets.blobs import make_blobs
from expfam.datasets.iris import Dataset, load_iris

__all__ = [
    # iris and labelled blobs (issue 10)
    "Dataset",
    "load_iris",
    "make_blobs",
]
