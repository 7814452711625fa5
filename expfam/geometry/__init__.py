"""The categorical simplex as a dually flat manifold: divergences, geodesics, projections.

- ``divergences.py``: KL, Jeffreys, Jensen-Shannon, Hellinger, Bhattacharyya, alpha,
  Renyi, Tsallis (on the pair of points of ``_pair.py``);
- ``chernoff.py``: the Chernoff information and its exponent;
- ``geodesics.py``: e-, m-, alpha- and Fisher-Rao geodesics, the Fisher-Rao distance,
  exp and log maps, the Karcher mean;
- ``projections.py``: m- and e-projections, maximum entropy, independence, IPF;
- ``centroids.py``: the KL centroids and the Jeffreys centroid.

Points are distributions or probabilities on the last axis, broadcasting over batch
axes (``_points.py``). A distribution qualifies by a protocol, not by its class: it
has ``logits`` of shape (..., K), its log-probabilities up to a constant per row
(:class:`~expfam.Categorical`), or a ``to_categorical()`` method giving such an
object (:class:`~expfam.Bernoulli`). :class:`~expfam.Dirichlet` and
:class:`~expfam.RelaxedCategorical` are distributions *over* the simplex, not
points of it, and do not qualify.
"""

from expfam._core.exceptions import ConvergenceWarning
from expfam.geometry._points import SimplexPoint
from expfam.geometry.centroids import jeffreys_centroid, left_kl_centroid, right_kl_centroid
from expfam.geometry.chernoff import ChernoffResult, chernoff_information
from expfam.geometry.divergences import (
    alpha_divergence,
    bhattacharyya_coefficient,
    bhattacharyya_distance,
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
    Projection,
    independence_projection,
    iterative_proportional_fitting,
    mutual_information,
)

__all__ = [
    "ChernoffResult",
    "ConvergenceWarning",
    "IPFResult",
    "KarcherMean",
    "LinearFamily",
    "LogLinearFamily",
    "Projection",
    "SimplexPoint",
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
