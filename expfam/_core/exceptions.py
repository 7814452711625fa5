"""The warnings and errors of expfam, one class each for the whole library.

They live in the lowest layer so that every layer can raise them; the public
path is :mod:`expfam.exceptions`.
"""

__all__ = [
    "CalibrationWarning",
    "ConvergenceWarning",
    "NotFittedError",
    "ProbabilitiesAsLogitsWarning",
]


class ConvergenceWarning(UserWarning):
    """An iteration (a solver, a projection, a mean) stopped before reaching its tolerance."""


class CalibrationWarning(UserWarning):
    """The temperature fit ended at a boundary (beta = 0 or beta = inf)."""


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before its ``fit``."""


class ProbabilitiesAsLogitsWarning(UserWarning):
    """A function that takes logits was given what looks like probabilities.

    Every row lies in [0, 1] and sums to 1: logits of that shape are possible
    but rare, and the mistake gives a plausible wrong number (``kl_divergence``
    of two probability vectors read as logits). The message names the function
    that takes probabilities.
    """
