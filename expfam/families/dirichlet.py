"""The Dirichlet family: the conjugate prior of the categorical.

Density on the simplex ``p(x) = exp(sum_k (alpha_k - 1) log x_k - A(alpha))``
(with respect to Lebesgue measure on ``x_1 .. x_{K-1}``), natural parameters
``theta = alpha - 1``, sufficient statistic ``T(x) = log x``, log-partition
``A = sum_k lgamma(alpha_k) - lgamma(alpha_0)`` with ``alpha_0 = sum_k alpha_k``.

Note the words: ``mean`` is the expectation parameter of the exponential
family, ``E[log x] = digamma(alpha) - digamma(alpha_0)``; the average point of
the simplex ``E[x] = alpha / alpha_0`` is :attr:`Dirichlet.expected_probs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special as sc

from expfam._core.args import as_rng, as_sample_shape, scalar
from expfam._core.dd import two_prod, two_sum
from expfam.families.categorical import Categorical
from expfam.families.family import (
    ExponentialFamily,
    as_float_array,
    as_vector,
    check_coords,
    check_probability_vector,
    frozen_cached_property,
    seed_cache,
)
from expfam.special import logsumexp

__all__ = ["Dirichlet"]


def inverse_digamma(y: NDArray, iterations: int = 6) -> NDArray:
    """The x > 0 with ``digamma(x) = y`` (Newton's method from Minka's start)."""
    x = np.where(y >= -2.22, np.exp(np.minimum(y, 700)) + 0.5, -1 / (y - sc.digamma(1)))
    for _ in range(iterations):
        x = x - (sc.digamma(x) - y) / trigamma(x)
    return x


def trigamma(x: NDArray) -> NDArray:
    """``digamma'(x)``, in the dtype of ``x``."""
    return sc.polygamma(1, x).astype(x.dtype, copy=False)


# Stirling's series lgamma(a) = (a - 1/2) log a - a + log sqrt(2 pi) + S(a), with
# S(a) = sum_j C_j a^(1 - 2j), C_j = B_2j / (2j (2j - 1)): its error is below 1e-17 S(a) at
# a >= _LARGE. Then psi(a) = log a - 1/(2a) - T(a), T = -S'.
_STIRLING = (
    1 / 12,
    -1 / 360,
    1 / 1260,
    -1 / 1680,
    1 / 1188,
    -691 / 360360,
    1 / 156,
    -3617 / 122400,
)
_LARGE = 10.0
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
# |x| below this takes the series of phi, psi1, beta_m and of the Taylor remainder R.
_SERIES = 0.125


def _stirling_s(a: NDArray) -> NDArray:
    """``S(a) = lgamma(a) - (a - 1/2) log a + a - log sqrt(2 pi)`` for ``a >= _LARGE``."""
    inv2 = 1.0 / (a * a)
    acc = np.zeros_like(a)
    for c in reversed(_STIRLING):
        acc = acc * inv2 + c
    return acc / a


def _stirling_t(a: NDArray) -> NDArray:
    """``T(a) = log a - 1/(2a) - psi(a) = -S'(a)`` for ``a >= _LARGE``."""
    inv2 = 1.0 / (a * a)
    acc = np.zeros_like(a)
    for j in reversed(range(len(_STIRLING))):
        acc = acc * inv2 + _STIRLING[j] * (2 * j + 1)
    return acc * inv2


def _series(x: NDArray, coefficient, n_max: int) -> NDArray:
    """``sum_{n=2}^{n_max} coefficient(n) x^n`` (Horner)."""
    acc = np.zeros_like(x)
    for n in range(n_max, 1, -1):
        acc = (acc + coefficient(n)) * x
    return acc * x


def _phi(x: NDArray) -> NDArray:
    """``phi(x) = (1 + x) log1p(x) - x >= 0`` (the Bregman divergence of ``a log a``)."""
    small = np.abs(x) < _SERIES
    with np.errstate(all="ignore"):
        direct = (1.0 + x) * np.log1p(x) - x
    series = _series(np.where(small, x, 0.0), lambda n: (-1.0) ** n / (n * (n - 1)), 24)
    return np.where(small, series, np.where(x == -1.0, 1.0, direct))


def _psi1(x: NDArray) -> NDArray:
    """``x - log1p(x) >= 0``."""
    small = np.abs(x) < _SERIES
    series = _series(np.where(small, x, 0.0), lambda n: (-1.0) ** n / n, 24)
    return np.where(small, series, x - np.log1p(x))


def _bregman_s(a: NDArray, b: NDArray, h: NDArray) -> NDArray:
    """``S(b) - S(a) - S'(a) h >= 0`` (``h = b - a``) for ``a, b >= _LARGE``, term by term.

    For ``g = a^-m``: ``g(b) - g(a) - g'(a) h = a^-m beta_m(h / a)``,
    ``beta_m(x) = (1 + x)^-m - 1 + m x``, a series near 0 (no cancellation);
    elsewhere ``b^-m - a^-m (1 - m x)``.
    """
    x = h / a
    small = np.abs(x) < _SERIES
    xs = np.where(small, x, 0.0)
    total = np.zeros_like(a)
    for j, c in enumerate(_STIRLING, start=1):
        m = 2 * j - 1
        direct = b ** (-m) - a ** (-m) * (1.0 - m * x)
        series = a ** (-m) * _series(xs, lambda n, m=m: (-1.0) ** n * math.comb(m + n - 1, n), 60)
        total += c * np.where(small, series, direct)
    return total


def _remainder(a: NDArray, b: NDArray, h: NDArray) -> NDArray:
    """``R = D(a, b) - a phi(h / a)``, ``D = lgamma(b) - lgamma(a) - h psi(a)``, ``h = b - a``.

    ``D`` is the Bregman divergence of ``lgamma``, ``a phi(h / a)`` that of
    ``a log a - a`` (its leading part for large ``a``); ``R`` is what is left,
    computed without the cancellation of either: Stirling's series on the large
    arguments, a Taylor series in ``h`` (polygamma) for ``|h| < a / 8``.
    """
    x = h / a
    out = np.empty_like(a)
    both = (a >= _LARGE) & (b >= _LARGE)
    near = ~both & (np.abs(x) < _SERIES)
    up = ~both & ~near & (a >= _LARGE)  # b small
    down = ~both & ~near & (b >= _LARGE)  # a small
    rest = ~(both | near | up | down)
    # x - log1p(x) with log1p(x) = log(b / a): b is exact, h = b - a may be rounded.
    xb, ratio = x[both], b[both] / a[both]
    psi1 = np.where(np.abs(xb) < _SERIES, _psi1(xb), xb - np.log(ratio))
    out[both] = 0.5 * psi1 + _bregman_s(a[both], b[both], h[both])
    if near.any():
        an, hn = a[near], h[near]
        # sum_n [psi^(n-1)(a) - (-1)^n (n-2)! / a^(n-1)] h^n / n!
        acc = np.zeros_like(an)
        for n in range(24, 1, -1):
            coefficient = sc.polygamma(n - 1, an) - (-1) ** n * math.factorial(n - 2) / an ** (
                n - 1
            )
            acc = (acc + coefficient / math.factorial(n)) * hn
        out[near] = acc * hn
    if up.any():
        au, bu, xu, hu = a[up], b[up], x[up], h[up]
        out[up] = (
            sc.gammaln(bu)
            - bu * np.log(bu)
            + bu
            + 0.5 * np.log(au)
            - _LOG_SQRT_2PI
            - _stirling_s(au)
            + 0.5 * xu
            + hu * _stirling_t(au)
        )
    if down.any():
        ad, bd = a[down], b[down]
        psi = sc.digamma(ad)
        out[down] = (
            bd * (np.log(ad) - psi)
            + ad * psi
            - ad
            - 0.5 * np.log(bd)
            + _LOG_SQRT_2PI
            + _stirling_s(bd)
            - sc.gammaln(ad)
        )
    if rest.any():
        ar, br, hr = a[rest], b[rest], h[rest]
        out[rest] = sc.gammaln(br) - sc.gammaln(ar) - hr * sc.digamma(ar) - ar * _phi(x[rest])
    return out


def _sum_dd(a: NDArray) -> tuple[NDArray, NDArray]:
    """``sum(a, axis=-1)`` as an unevaluated ``hi + lo`` (TwoSum along the axis)."""
    hi, lo = np.zeros(a.shape[:-1]), np.zeros(a.shape[:-1])
    for k in range(a.shape[-1]):
        hi, err = two_sum(hi, a[..., k])
        lo += err
    return two_sum(hi, lo)


def _entropy_part(a: NDArray) -> NDArray:
    """``lgamma(a) - (a - 1) psi(a) + a``, by Stirling's series for large ``a``.

    ``= 1/2 log a + log sqrt(2 pi) + 1/2 - 1/(2a) + S(a) + (a - 1) T(a)``: the
    terms of size ``a log a`` cancel analytically.
    """
    large = a >= _LARGE
    al = np.where(large, a, _LARGE)
    asym = 0.5 * np.log(al) + _LOG_SQRT_2PI + 0.5 - 0.5 / al + _stirling_s(al)
    asym += (al - 1.0) * _stirling_t(al)
    small = np.where(large, 1.0, a)
    direct = sc.gammaln(small) - (small - 1.0) * sc.digamma(small) + small
    return np.where(large, asym, direct)


@dataclass(frozen=True, kw_only=True, eq=False)
class Dirichlet(ExponentialFamily):
    """Dirichlet distribution over the (K-1)-simplex, batched: concentration (..., K).

    Parameters
    ----------
    concentration : array_like, shape (..., K), keyword-only
        ``alpha``, finite and > 0, ``K >= 2``.

    Examples
    --------
    >>> d = Dirichlet(concentration=[1.0, 1.0, 1.0])
    >>> float(d.log_prob([0.2, 0.3, 0.5]))  # uniform on the simplex: density 2
    0.6931471805599453
    """

    concentration: NDArray

    def __post_init__(self) -> None:
        alpha = as_float_array(self.concentration, "concentration", min_ndim=1)
        if alpha.shape[-1] < 2:
            raise ValueError(f"concentration must have K >= 2 entries, got shape {alpha.shape}")
        if np.any(alpha <= 0) or np.any(np.isinf(alpha)):
            raise ValueError(f"concentration must be finite and > 0, got {alpha}")
        object.__setattr__(self, "concentration", alpha)

    @classmethod
    def from_natural(cls, natural: ArrayLike) -> Dirichlet:
        """Dirichlet from natural parameters ``alpha - 1`` (each > -1), shape (..., K)."""
        natural = as_float_array(natural, "natural", min_ndim=1)
        if np.any(natural <= -1):
            raise ValueError(f"natural must be > -1 (alpha = natural + 1 > 0), got {natural}")
        dist = cls(concentration=natural + 1)
        seed_cache(dist, natural=natural)
        return dist

    @classmethod
    def from_mean(cls, mean: ArrayLike, *, rtol: float = 1e-12) -> Dirichlet:
        """Dirichlet from expectation parameters ``E[log x]``, shape (..., K).

        The inverse mean map has no closed form: Minka's fixed point gives a
        start, then Newton steps ``theta -= F^-1 (eta(theta) - mean)`` (each
        O(K)) run until the residual is below ``rtol * (1 + |mean|)``.
        ``mean`` must be finite with ``sum_k exp(mean_k) < 1`` (Jensen).

        Examples
        --------
        >>> d = Dirichlet(concentration=[0.5, 2.0, 7.0])
        >>> Dirichlet.from_mean(d.mean).concentration.round(10)
        array([0.5, 2. , 7. ])
        """
        eta = as_float_array(mean, "mean", min_ndim=1)
        if np.any(~np.isfinite(eta)) or np.any(logsumexp(eta) >= 0):
            raise ValueError(f"mean must be finite with sum(exp(mean)) < 1, got {eta}")
        k = eta.shape[-1]
        alpha = np.ones_like(eta)
        for _ in range(10):  # Minka's fixed point: digamma(alpha_k) = digamma(alpha_0) + eta_k
            alpha = inverse_digamma(eta + sc.digamma(np.sum(alpha, axis=-1, keepdims=True)))
        for _ in range(100):
            current = cls(concentration=alpha)
            residual = current.mean - eta
            if np.all(np.abs(residual) <= rtol * (1 + np.abs(eta))):
                break
            step = current.natural_gradient(residual)
            scale = np.ones((*alpha.shape[:-1], 1))
            while np.any(bad := np.any(alpha - scale * step <= 0, axis=-1, keepdims=True)):
                scale = np.where(bad, scale / 2, scale)
            alpha = alpha - scale * step
        else:
            raise ValueError(f"mean: the inverse mean map did not converge for K = {k}")
        dist = cls(concentration=alpha)
        seed_cache(dist, mean=eta)
        return dist

    # ------------------------------------------------------------ coordinates
    @frozen_cached_property
    def natural(self) -> NDArray:
        """``theta = alpha - 1``, shape (..., K)."""
        return self.concentration - 1

    @frozen_cached_property
    def mean(self) -> NDArray:
        """Expectation parameters ``E[log x_k] = digamma(alpha_k) - digamma(alpha_0)``, (...,K)."""
        return sc.digamma(self.concentration) - sc.digamma(self._total)

    @frozen_cached_property
    def expected_probs(self) -> NDArray:
        """``E[x] = alpha / alpha_0``, the average point of the simplex, shape (..., K)."""
        return self.concentration / self._total

    @frozen_cached_property
    def _total(self) -> NDArray:
        return np.sum(self.concentration, axis=-1, keepdims=True)

    def predictive(self) -> Categorical:
        """The posterior predictive categorical: ``P(next class = k) = alpha_k / alpha_0``."""
        return Categorical.from_probs(self.expected_probs)

    # ------------------------------------------------------------ primitives
    def sufficient_statistic(self, x: ArrayLike) -> NDArray:
        """``T(x) = log x``, shape (..., K), for points x of the simplex."""
        x = self._check_points(x)
        with np.errstate(divide="ignore"):
            return np.log(x)

    def log_base_measure(self, x: ArrayLike) -> NDArray:
        """``log h(x) = 0`` (Lebesgue measure on ``x_1 .. x_{K-1}``), shape (...)."""
        x = self._check_points(x)
        return np.zeros(np.broadcast_shapes(x.shape[:-1], self.batch_shape))

    def log_partition(self) -> NDArray:
        """``A = sum_k lgamma(alpha_k) - lgamma(alpha_0)``, shape (...)."""
        return np.sum(sc.gammaln(self.concentration), axis=-1) - sc.gammaln(self._total[..., 0])

    def fisher_vp(self, v: ArrayLike, coords: Literal["natural"] = "natural") -> NDArray:
        """``F v = trigamma(alpha) * v - trigamma(alpha_0) sum(v)`` in O(K), shape (..., K)."""
        check_coords(coords, "Dirichlet")
        v = as_vector(v, "v", self.dim, self.concentration.dtype)
        return trigamma(self.concentration) * v - trigamma(self._total) * np.sum(
            v, axis=-1, keepdims=True
        )

    # ------------------------------------------------------------ closed forms
    def entropy(self) -> NDArray:
        """Differential entropy (nats) on the simplex, shape (...).

        Notes
        -----
        ``H = log B(alpha) + (alpha_0 - K) psi(alpha_0) - sum_k (alpha_k - 1) psi(alpha_k)``
        ``= sum_k f(alpha_k) - f(alpha_0) - (K - 1) psi(alpha_0)`` with
        ``f(a) = lgamma(a) - (a - 1) psi(a) + a``, which Stirling's series gives
        without its ``a log a`` terms for ``a >= 10``: the textbook form
        cancels terms of size ``alpha_0 log alpha_0`` (at ``alpha = (1e15,
        2e15)`` it gave -6.0 for -17.15). Relative error below 1e-13 against
        mpmath (the tests; 3.8e-15 measured) for concentrations in [1e-3, 1e15].

        Examples
        --------
        >>> round(float(Dirichlet(concentration=[1e15, 2e15]).entropy()), 8)
        -17.15179451
        """
        alpha = self.concentration
        total = self._total[..., 0]
        k = alpha.shape[-1]
        parts = np.sum(_entropy_part(alpha), axis=-1) - _entropy_part(total)
        out = parts - (k - 1) * sc.digamma(total)
        return scalar(np.asarray(out).astype(alpha.dtype, copy=False))

    def kl(self, other: Dirichlet) -> NDArray:
        """``KL(Dir(alpha) || Dir(beta))`` >= 0, accurate as ``beta -> alpha``; shape (...).

        Notes
        -----
        ``KL = sum_k D(alpha_k, beta_k) - D(alpha_0, beta_0)`` with ``D(a, b) =
        lgamma(b) - lgamma(a) - (b - a) psi(a) >= 0``, the Bregman divergence
        of lgamma. Writing ``D(a, b) = a phi((b - a) / a) + R(a, b)`` with
        ``phi(x) = (1 + x) log1p(x) - x``, the ``a phi`` parts combine exactly
        into ``(beta_0 / alpha_0) sum_k alpha_k phi(u_k)``, ``u_k = (beta_k
        alpha_0 - alpha_k beta_0) / (alpha_k beta_0)`` (formed in
        double-double), every term non-negative; the remainders ``R`` are
        small and computed without cancellation (:func:`_remainder`), with
        ``beta_0 - alpha_0`` from double-double sums. The textbook form loses
        everything as ``beta -> alpha`` (relative error 3e-3 at a relative
        difference of 1e-6). Relative error below 1e-13 against mpmath (the
        tests; 1.1e-14 measured) for concentrations in [1e-3, 1e15], near
        and far.

        Examples
        --------
        >>> p = Dirichlet(concentration=[2.0, 3.0])
        >>> float(p.kl(Dirichlet(concentration=[2.0, 3.0 + 1e-9]))) > 0
        True
        """
        self._check_other(other)
        a, b = np.broadcast_arrays(self.concentration, other.concentration)
        a0_hi, a0_lo = _sum_dd(a)
        b0_hi, b0_lo = _sum_dd(b)
        # u_k = (b_k a0 - a_k b0) / (a_k b0), the numerator in double-double.
        p, p_err = two_prod(b, a0_hi[..., None])
        q, q_err = two_prod(a, b0_hi[..., None])
        d, d_err = two_sum(p, -q)
        numerator = d + (d_err + (p_err - q_err) + (b * a0_lo[..., None] - a * b0_lo[..., None]))
        u = numerator / (a * b0_hi[..., None])
        jensen = (b0_hi / a0_hi) * np.sum(a * _phi(u), axis=-1)
        # h_0 = b_0 - a_0 from the double-double sums: exact where they are close.
        h0 = (b0_hi - a0_hi) + (b0_lo - a0_lo)
        rest = np.sum(_remainder(a, b, b - a), axis=-1) - _remainder(a0_hi, b0_hi, h0)
        out = np.maximum(jensen + rest, 0.0)
        return scalar(np.asarray(out).astype(np.result_type(a.dtype, b.dtype), copy=False))

    def log_prob(self, x: ArrayLike) -> NDArray:
        """``sum_k (alpha_k - 1) log x_k - A``, with ``0 log 0 = 0``; shape (...).

        Examples
        --------
        >>> float(Dirichlet(concentration=[2.0, 1.0]).log_prob([0.0, 1.0]))
        -inf
        """
        x = self._check_points(x)
        return scalar(
            np.asarray(np.sum(sc.xlogy(self.natural, x), axis=-1) - self.log_partition())
        )

    def natural_gradient(self, g: ArrayLike, coords: Literal["natural"] = "natural") -> NDArray:
        """``F^-1 g`` in O(K) by Sherman-Morrison, shape (..., K).

        Notes
        -----
        ``F = D - c 1 1^T`` with ``D = diag(trigamma(alpha))`` and
        ``c = trigamma(alpha_0)``, so
        ``F^-1 g = D^-1 g + c (D^-1 1)(1 . D^-1 g) / (1 - c sum(1 / D))``.
        The denominator is about ``(K - 1) / (2 alpha_0)`` for large
        concentrations, so the relative error grows like ``eps * alpha_0 / K``
        (1e-10 at ``alpha_0 = 10^6``), as F's own condition number does.
        """
        check_coords(coords, "Dirichlet")
        g = as_vector(g, "g", self.dim, self.concentration.dtype)
        inverse_d = 1 / trigamma(self.concentration)
        c = trigamma(self._total)
        scaled = inverse_d * g
        return scaled + c * inverse_d * np.sum(scaled, axis=-1, keepdims=True) / (
            1 - c * np.sum(inverse_d, axis=-1, keepdims=True)
        )

    def sample(
        self,
        sample_shape: int | tuple[int, ...] = (),
        rng: np.random.Generator | int | None = None,
    ) -> NDArray:
        """Points of the simplex, shape ``sample_shape + batch_shape + (K,)``, from Gamma draws.

        ``sample_shape`` is an int or a tuple (numpy's ``size``). Very small
        concentrations (``alpha`` below about 1e-3) can underflow every Gamma
        draw of a row to 0; such rows come back as NaN.
        """
        shape = as_sample_shape(sample_shape)
        gammas = as_rng(rng).standard_gamma(
            self.concentration, size=(*shape, *self.concentration.shape)
        )
        with np.errstate(invalid="ignore"):
            return gammas / np.sum(gammas, axis=-1, keepdims=True)

    def _check_points(self, x: ArrayLike) -> NDArray:
        x = as_float_array(x, "x", min_ndim=1)
        if x.shape[-1] != self.concentration.shape[-1]:
            raise ValueError(
                f"x must have K = {self.concentration.shape[-1]} entries on the last axis, "
                f"got shape {x.shape}"
            )
        check_probability_vector(x, "x", None, complete=True)
        return x
