"""The categorical simplex as a dually flat manifold: divergences, geodesics, projections."""

# divergences and centroids (issue 9, part A)
from expfam.geometry.centroids import jeffreys_centroid, left_kl_centroid, right_kl_centroid
from expfam.geometry.divergences import (
    alpha_divergence,
    bhattacharyya_coefficient,
    bhattacharyya_distance,
    chernoff_information,
    hellinger,
    jeffreys,
    jensen_shannon,
    jensen_shannon_distance,
    kl,
    renyi_divergence,
    tsallis_divergence,
)

__all__: list[str] = [
    # divergences and centroids (issue 9, part A)
    "alpha_divergence",
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
    "chernoff_information",
    "hellinger",
    "jeffreys",
    "jeffreys_centroid",
    "jensen_shannon",
    "jensen_shannon_distance",
    "kl",
    "left_kl_centroid",
    "renyi_divergence",
    "right_kl_centroid",
    "tsallis_divergence",
]
