"""The Concrete (Gumbel-softmax) distribution: a continuous relaxation of the categorical.

A sample is ``x = softmax((z + G) / lambda)`` with ``G`` standard Gumbel noise,
logits ``z`` and temperature ``lambda > 0``: a point of the open simplex. Its
argmax is exactly a draw of ``Categorical(softmax z)`` (the Gumbel-max trick),
and as ``lambda -> 0`` the samples approach one-hot vectors. The relaxation
is not the categorical: for ``lambda > 0`` the mean ``E[x]`` is not
``softmax z`` (it is pulled towards the uniform distribution for large
``lambda``).

The Concrete family is not an exponential family, so
:class:`RelaxedCategorical` is a plain frozen dataclass, not an
:class:`~expfam.families.family.ExponentialFamily`.

References
----------
C. Maddison, A. Mnih and Y. W. Teh, "The Concrete distribution", ICLR 2017.
E. Jang, S. Gu and B. Poole, "Categorical reparameterization with
Gumbel-softmax", ICLR 2017.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from expfam import special
from expfam._core.args import RowLayout, as_rng, as_sample_shape
from expfam.families.categorical import Categorical
from expfam.families.family import as_float_array

__all__ = ["RelaxedCategorical", "StraightThrough"]


@dataclass(frozen=True)
class StraightThrough:
    """A straight-through sample: the one-hot ``hard`` forward value and the ``soft`` sample.

    An estimator uses ``hard`` in the forward pass and the Jacobian of
    ``soft`` (:meth:`RelaxedCategorical.jacobian`) in the backward pass.

    Parameters
    ----------
    hard : ndarray, shape (..., K)
        ``one_hot(argmax (z + G))``, a draw of the categorical.
    soft : ndarray, shape (..., K)
        ``softmax((z + G) / lambda)`` with the same Gumbel noise ``G``.
    """

    hard: NDArray
    soft: NDArray


@dataclass(frozen=True, kw_only=True, eq=False)
class RelaxedCategorical:
    """Concrete distribution on the open simplex, batched over leading axes.

    Parameters
    ----------
    logits : array_like, shape (..., K), keyword-only
        Finite logits z of the categorical being relaxed, ``K >= 2``.
    temperature : array_like, keyword-only
        ``lambda > 0``, finite: a number, or an array broadcasting with the
        batch shape (...), or against the logits with length 1 on the class
        axis (``lam[:, None]``: one per row), the rule of ``softmax(beta=...)``.

    Notes
    -----
    Density with respect to Lebesgue measure on the first K - 1 coordinates
    (Maddison et al. 2017):

    ``log p(x) = log (K-1)! + (K-1) log lambda + sum_k (z_k - (lambda + 1) log x_k)
    - K logsumexp_k(z_k - lambda log x_k)``.

    Examples
    --------
    >>> d = RelaxedCategorical(logits=[0.0, 1.0, 2.0], temperature=0.5)
    >>> x = d.sample(rng=0)
    >>> x.shape, bool(np.isclose(x.sum(), 1.0))
    ((3,), True)
    """

    logits: NDArray
    temperature: NDArray

    def __post_init__(self) -> None:
        logits = as_float_array(self.logits, "logits", min_ndim=1)
        if logits.shape[-1] < 2:
            raise ValueError(
                f"logits: expected K >= 2 classes on the last axis, got shape {logits.shape}"
            )
        if not np.all(np.isfinite(logits)):
            raise ValueError(
                "logits: expected finite values (a relaxation needs every class possible), "
                f"got {logits[~np.isfinite(logits)][:3].tolist()}"
            )
        temperature = as_float_array(self.temperature, "temperature")
        if not np.all(np.isfinite(temperature) & (temperature > 0)):
            raise ValueError(f"temperature: expected finite values > 0, got {temperature}")
        _, temperature = RowLayout.of(logits, -1)[1].broadcast(temperature, "temperature")
        object.__setattr__(self, "logits", logits)
        object.__setattr__(
            self, "temperature", temperature[..., 0] if temperature.ndim else temperature
        )

    @property
    def num_classes(self) -> int:
        """K, the number of classes."""
        return self.logits.shape[-1]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The batch shape ``(...)``: logits' leading axes broadcast with the temperature."""
        return np.broadcast_shapes(self.logits.shape[:-1], self.temperature.shape)

    @cached_property
    def categorical(self) -> Categorical:
        """``Categorical(logits)``: the law of the argmax of a sample."""
        return Categorical(logits=self.logits)

    def _noisy_logits(self, sample_shape: int | tuple[int, ...], rng) -> NDArray:
        """``(z + G - max(z + G)) / lambda``, shape ``sample_shape + batch_shape + (K,)``.

        Shifted by the row maximum before the division, so a small temperature
        cannot overflow (entries may underflow to ``-inf``: probability 0).
        """
        shape = as_sample_shape(sample_shape)
        u = as_rng(rng).random((*shape, *self.batch_shape, self.num_classes))
        # u in [2^-1074 ... 1 - 2^-53]: -log(-log u) lies in [-3.6, 6.6e2], never inf or NaN.
        u = np.clip(u, np.finfo(np.float64).smallest_subnormal, np.nextafter(1.0, 0.0))
        noisy = self.logits + -np.log(-np.log(u))
        with np.errstate(over="ignore"):  # to -inf: a class of probability 0
            return (noisy - np.max(noisy, axis=-1, keepdims=True)) / self.temperature[..., None]

    def sample(
        self,
        sample_shape: int | tuple[int, ...] = (),
        rng: np.random.Generator | int | None = None,
    ) -> NDArray:
        """Soft samples ``softmax((z + G) / lambda)``, shape ``sample_shape + batch_shape + (K,)``.

        Never NaN or inf: the uniforms behind ``G`` are clamped to
        ``[2^-1074, 1 - 2^-53]``. At small temperatures entries may round to 0.

        Parameters
        ----------
        sample_shape : int or tuple of int, optional
            Leading shape of the draws (numpy's ``size``).
        rng : Generator, int or None, optional
            The random generator, or a seed.

        Returns
        -------
        ndarray, shape ``sample_shape + batch_shape + (K,)``
            Points of the open simplex.

        Examples
        --------
        >>> RelaxedCategorical(logits=[0.0, 0.0], temperature=1.0).sample(3, rng=1).shape
        (3, 2)
        """
        return special.softmax(self._noisy_logits(sample_shape, rng)).astype(self.logits.dtype)

    def sample_hard(
        self,
        sample_shape: int | tuple[int, ...] = (),
        rng: np.random.Generator | int | None = None,
    ) -> StraightThrough:
        """A straight-through sample: ``hard = one_hot(argmax (z + G))`` and the ``soft`` sample.

        ``argmax (z + G)`` is distributed exactly as ``Categorical(softmax z)``
        (the Gumbel-max trick); it is the argmax of ``soft``, taken before
        rounding (at huge temperatures ``soft`` can round to a tie).

        Parameters
        ----------
        sample_shape : int or tuple of int, optional
            Leading shape of the draws (numpy's ``size``).
        rng : Generator, int or None, optional
            The random generator, or a seed.

        Returns
        -------
        StraightThrough
            ``hard`` and ``soft``, each of shape ``sample_shape + batch_shape + (K,)``.

        Examples
        --------
        >>> st = RelaxedCategorical(logits=[0.0, 5.0], temperature=0.1).sample_hard(rng=0)
        >>> st.hard
        array([0., 1.])
        """
        noisy = self._noisy_logits(sample_shape, rng)
        soft = special.softmax(noisy).astype(self.logits.dtype)
        index = np.argmax(noisy, axis=-1)
        hard = (index[..., None] == np.arange(self.num_classes)).astype(self.logits.dtype)
        return StraightThrough(hard, soft)

    def jacobian_vp(self, soft: ArrayLike, v: ArrayLike) -> NDArray:
        """``(dx/dz) v = (x * v - x (x . v)) / lambda`` for a soft sample ``x``, O(K).

        The Jacobian ``(diag(x) - x x^T) / lambda`` of ``x = softmax((z + G)/lambda)``
        with respect to the logits (G fixed) is symmetric, so this is also the
        vector-Jacobian product of backpropagation.

        Parameters
        ----------
        soft : array_like, shape (..., K)
            A soft sample ``x``.
        v : array_like, shape (..., K)
            The vector (a perturbation of the logits, or an upstream gradient).

        Returns
        -------
        ndarray, shape (..., K)
            ``(dx/dz) v``.
        """
        x = np.asarray(soft, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        if x.shape[-1:] != (self.num_classes,) or v.shape[-1:] != (self.num_classes,):
            raise ValueError(f"soft, v: expected K = {self.num_classes} entries on the last axis")
        xv = np.sum(x * v, axis=-1, keepdims=True)
        return (x * (v - xv)) / self.temperature[..., None]

    def jacobian(self, soft: ArrayLike) -> NDArray:
        """Dense ``dx/dz = (diag(x) - x x^T) / lambda``, shape (..., K, K).

        Parameters
        ----------
        soft : array_like, shape (..., K)
            A soft sample ``x``.

        Returns
        -------
        ndarray, shape (..., K, K)
            The Jacobian, symmetric.

        Examples
        --------
        >>> RelaxedCategorical(logits=[0.0, 0.0], temperature=2.0).jacobian([0.5, 0.5])
        array([[ 0.125, -0.125],
               [-0.125,  0.125]])
        """
        x = np.asarray(soft, dtype=np.float64)
        if x.shape[-1:] != (self.num_classes,):
            raise ValueError(f"soft: expected K = {self.num_classes} entries on the last axis")
        outer = x[..., :, None] * x[..., None, :]
        eye = np.eye(self.num_classes)
        return (eye * x[..., None, :] - outer) / self.temperature[..., None, None]

    def log_prob(self, x: ArrayLike) -> NDArray:
        """Concrete log-density at points ``x`` of the simplex, shape ``x.shape[:-1]`` broadcast.

        Parameters
        ----------
        x : array_like, shape (..., K)
            Points with ``x_k > 0`` summing to 1 (within ``sqrt(eps)``);
            elsewhere the density is 0 and the result ``-inf``.

        Returns
        -------
        ndarray, shape ``x.shape[:-1]`` broadcast with the batch shape
            The log-density with respect to Lebesgue measure on ``x_1 .. x_{K-1}``.

        Notes
        -----
        Every term is a log, so nothing overflows: ``log x`` is taken once and
        the normalizer is :func:`expfam.special.logsumexp`. The temperature is
        broadcast as ``lambda[..., None]`` against the class axis, so a batch
        of temperatures of shape (...) pairs with logits of shape (..., K).

        Examples
        --------
        >>> d = RelaxedCategorical(logits=[0.0, 0.0], temperature=1.0)
        >>> float(d.log_prob([0.5, 0.5]))  # density 1 on the segment
        0.0
        """
        x = as_float_array(x, "x", min_ndim=1)
        dtype = np.result_type(x.dtype, self.logits.dtype)
        x = x.astype(np.float64)
        if x.shape[-1] != self.num_classes:
            raise ValueError(f"x: expected K = {self.num_classes} entries on the last axis")
        k = self.num_classes
        lam = self.temperature.astype(np.float64)
        inside = np.all(x > 0, axis=-1) & (
            np.abs(np.sum(x, axis=-1) - 1) <= np.sqrt(np.finfo(np.float64).eps)
        )
        log_x = np.log(np.where(x > 0, x, 1.0))
        # The density is unchanged by z -> z - max z; a spread beyond the float range
        # gives -inf, the rounding of a log-density below -1.8e308.
        with np.errstate(over="ignore"):
            z = self.logits - np.max(self.logits, axis=-1, keepdims=True)
        scaled = z - lam[..., None] * log_x
        out = (
            gammaln(k)
            + (k - 1) * np.log(lam)
            + np.sum(z - (lam[..., None] + 1) * log_x, axis=-1)
            - k * special.logsumexp(scaled, axis=-1)
        )
        return np.where(inside, out, -np.inf).astype(dtype)
