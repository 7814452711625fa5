"""The snow example, as data: where is a friend who reports snow?

A uniform prior over three cities and one repeatable observation, with exact
rational probabilities so that :mod:`expfam.symbolic` can use them as
rationals. Repeating the observation ``n`` times moves the posterior along an
e-geodesic (:func:`expfam.bayes.log_posterior_trajectory`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from expfam.bayes import log_posterior_trajectory

__all__ = ["SNOW", "BayesExample"]


@dataclass(frozen=True)
class BayesExample:
    """A worked example: hypotheses, a prior over them, and one repeatable observation.

    Probabilities are stored as exact :class:`fractions.Fraction` values so
    that symbolic code can use them as rationals; the array properties give
    float64 values.

    Parameters
    ----------
    name : str
        Short name of the example.
    hypotheses : tuple of str, length K
        Names of the hypotheses, in order.
    prior : tuple of Fraction, length K
        Prior probabilities ``P(h)``.
    observation : str
        Name of the observation.
    likelihood : tuple of Fraction, length K
        ``P(observation | h)`` for each hypothesis.

    Examples
    --------
    >>> SNOW.posterior(3).round(4)
    array([0.4961, 0.4961, 0.0078])
    """

    name: str
    hypotheses: tuple[str, ...]
    prior: tuple[Fraction, ...]
    observation: str
    likelihood: tuple[Fraction, ...]

    @property
    def log_prior(self) -> NDArray:
        """``log P(h)``, float64 array of shape (K,)."""
        return np.log(np.array(self.prior, dtype=np.float64))

    @property
    def log_likelihood(self) -> NDArray:
        """``log P(observation | h)``, float64 array of shape (K,)."""
        return np.log(np.array(self.likelihood, dtype=np.float64))

    def posterior(self, n: int = 1) -> NDArray:
        """Posterior probabilities after observing the observation ``n`` times.

        Parameters
        ----------
        n : int, optional
            Number of repetitions, ``>= 0``.

        Returns
        -------
        ndarray, shape (K,)
            ``P(h | n observations)``.
        """
        return self.posterior_trajectory(n)[-1]

    def log_posterior_trajectory(self, n: int) -> NDArray:
        """Normalized log posteriors after 0..n repetitions.

        Parameters
        ----------
        n : int
            Number of repetitions, ``>= 0``.

        Returns
        -------
        ndarray, shape (n + 1, K)
            Row ``t``: ``log P(h | t observations)``.
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n: expected a non-negative integer, got {n!r}")
        repeated = np.broadcast_to(self.log_likelihood, (n, len(self.hypotheses)))
        return log_posterior_trajectory(self.log_prior, repeated)

    def posterior_trajectory(self, n: int) -> NDArray:
        """Posterior probabilities after 0..n repetitions.

        Parameters
        ----------
        n : int
            Number of repetitions, ``>= 0``.

        Returns
        -------
        ndarray, shape (n + 1, K)
            Row ``t``: ``P(h | t observations)``.
        """
        return np.exp(self.log_posterior_trajectory(n))


SNOW = BayesExample(
    name="snow",
    hypotheses=("MIT", "Michigan", "Berkeley"),
    prior=(Fraction(1, 3), Fraction(1, 3), Fraction(1, 3)),
    observation="snow",
    likelihood=(Fraction(2, 5), Fraction(2, 5), Fraction(1, 10)),
)
"""The snow example: where is a friend who reports snow?

Uniform prior over MIT, Michigan, Berkeley; ``P(snow | h) = (0.4, 0.4, 0.1)``.
After ``n`` reports of snow the posterior is ``(1, 1, 4**-n) / (2 + 4**-n)``:
(0.4444, 0.4444, 0.1111), (0.4848, 0.4848, 0.0303), (0.4961, 0.4961, 0.0078).
"""
