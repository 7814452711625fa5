"""The warnings and errors of expfam, one class each for the whole library.

They live in the lowest layer so that every layer can raise them; the public
path is :mod:`expfam.exceptions`.
"""

__all__ = ["CalibrationWarning", "ConvergenceWarning", "NotFittedError"]


class ConvergenceWarning(UserWarning):
    """An iteration (a solver, a projection, a mean) stopped before reaching its tolerance."""


class CalibrationWarning(UserWarning):
    """The temperature fit ended at a boundary (beta = 0 or beta = inf)."""


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before its ``fit``."""
