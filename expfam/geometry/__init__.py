"""The categorical simplex as a dually flat manifold: divergences, geodesics, projections.

- ``divergences.py``: KL, Jeffreys, Jensen-Shannon, Hellinger, Bhattacharyya, alpha,
  Renyi, Tsallis, Chernoff;
- ``geodesics.py``: e-, m-, alpha- and Fisher-Rao geodesics, the Fisher-Rao distance,
  exp and log maps, the Karcher mean;
- ``projections.py``: m- and e-projections, maximum entropy, independence, IPF;
- ``centroids.py``: the KL centroids and the Jeffreys centroid.

Points are :class:`~expfam.Categorical`, :class:`~expfam.Bernoulli` or probabilities
on the last axis (``_points.py``), broadcasting over batch axes.
"""

from expfam._core.exceptions import ConvergenceWarning
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
from expfam.geometry.geodesics import (
    KarcherMean,
    alpha_geodesic,
    e_geodesic,
    exp_map,
    fisher_rao_distance,
    fisher_rao_geodesic,
    fisher_rao_inner,
    fisher_rao_mean,
    fisher_rao_norm,
    log_map,
    m_geodesic,
)
from expfam.geometry.projections import (
    IPFResult,
    LinearFamily,
    LogLinearFamily,
    independence_projection,
    iterative_proportional_fitting,
    mutual_information,
)

__all__ = [
    "ConvergenceWarning",
    "IPFResult",
    "KarcherMean",
    "LinearFamily",
    "LogLinearFamily",
    "alpha_divergence",
    "alpha_geodesic",
    "bhattacharyya_coefficient",
    "bhattacharyya_distance",
    "chernoff_information",
    "e_geodesic",
    "exp_map",
    "fisher_rao_distance",
    "fisher_rao_geodesic",
    "fisher_rao_inner",
    "fisher_rao_mean",
    "fisher_rao_norm",
    "hellinger",
    "independence_projection",
    "iterative_proportional_fitting",
    "jeffreys",
    "jeffreys_centroid",
    "jensen_shannon",
    "jensen_shannon_distance",
    "kl",
    "left_kl_centroid",
    "log_map",
    "m_geodesic",
    "mutual_information",
    "renyi_divergence",
    "right_kl_centroid",
    "tsallis_divergence",
]
