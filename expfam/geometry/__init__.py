"""The categorical simplex as a dually flat manifold: divergences, geodesics, projections."""

# part B: geodesics, Fisher-Rao, projections
from expfam.geometry.geodesics import (
    ConvergenceWarning,
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

__all__: list[str] = []
# part B
__all__ += [
    "ConvergenceWarning",
    "IPFResult",
    "KarcherMean",
    "LinearFamily",
    "LogLinearFamily",
    "alpha_geodesic",
    "e_geodesic",
    "exp_map",
    "fisher_rao_distance",
    "fisher_rao_geodesic",
    "fisher_rao_inner",
    "fisher_rao_mean",
    "fisher_rao_norm",
    "independence_projection",
    "iterative_proportional_fitting",
    "log_map",
    "m_geodesic",
    "mutual_information",
]
