"""Learning with softmax: regression, natural gradient, losses, calibration, a next-word model."""

__all__: list[str] = []
