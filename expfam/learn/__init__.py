"""Learning with softmax: regression, natural gradient, losses, calibration, a next-word model."""

from expfam.learn.calibration import (
    CalibrationWarning,
    ReliabilityCurve,
    TemperatureFit,
    expected_calibration_error,
    fit_temperature,
    reliability_curve,
)
from expfam.learn.ngram import END, START, NGramModel, tokenize

__all__: list[str] = []
__all__ += [
    "CalibrationWarning",
    "ReliabilityCurve",
    "TemperatureFit",
    "expected_calibration_error",
    "fit_temperature",
    "reliability_curve",
]
__all__ += ["END", "START", "NGramModel", "tokenize"]
