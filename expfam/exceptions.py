"""The warnings and errors of expfam, one class each for the whole library."""

from expfam._core.exceptions import (
    CalibrationWarning,
    ConvergenceWarning,
    NotFittedError,
    ProbabilitiesAsLogitsWarning,
)

__all__ = [
    "CalibrationWarning",
    "ConvergenceWarning",
    "NotFittedError",
    "ProbabilitiesAsLogitsWarning",
]
