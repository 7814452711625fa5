"""The warnings and errors of expfam, one class each for the whole library."""

from expfam.special._exceptions import CalibrationWarning, ConvergenceWarning, NotFittedError

__all__ = ["CalibrationWarning", "ConvergenceWarning", "NotFittedError"]
