"""The categorical simplex as a dually flat manifold: divergences, geodesics, projections."""

__all__: list[str] = []
