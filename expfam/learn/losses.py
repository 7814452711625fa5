"""Losses of softmax learning: the perceptron as the beta -> inf limit, and surrogates of 0-1.

Tempered cross-entropy. With inverse temperature beta, the log-loss of the
categorical with logits ``beta z``, divided by beta,

    l_beta(z, y) = (1/beta) [logsumexp(beta z) - beta z_y],

is squeezed between the perceptron loss and that loss plus ``log K / beta``:
``max z - z_y <= l_beta <= max z - z_y + log K / beta`` (the log-sum-exp of
K terms lies between the largest and the largest plus log K). Its gradient
in z is ``softmax(beta z) - e_y``, which tends to ``e_argmax - e_y``, the
perceptron's update (Rosenblatt; the multiclass form of Collins 2002), as
beta -> inf. :func:`perceptron` trains with exactly this gradient, one
sample at a time, for any beta including ``inf``.

Binary margin losses. For labels y in {-1, +1} and a score f(x), the margin
is ``m = y f``; a loss ``phi(m)`` is a surrogate of the 0-1 loss
``1[m <= 0]``. Bartlett, Jordan and McAuliffe ("Convexity, classification,
and risk bounds", JASA 2006) measure a surrogate by its psi-transform: with
``eta = Pr(y = 1 | x)``, ``H(eta) = inf_a [eta phi(a) + (1 - eta) phi(-a)]``
the best conditional phi-risk and ``H^-(eta)`` the same infimum over scores
of the wrong sign, ``psi(theta) = H^-((1 + theta)/2) - H((1 + theta)/2)``
(convexified; already convex for the losses here). Then for every f,
``psi(R_01(f) - R_01*) <= R_phi(f) - R_phi*``: a small excess phi-risk forces
a small excess 0-1 risk. phi is *classification-calibrated* when
``psi(theta) > 0`` for ``theta != 0``; a convex phi is calibrated exactly
when it is differentiable at 0 with ``phi'(0) < 0``.

=================  ========================  =========================================  ==========
loss               phi(m)                    psi(theta)                                 calibrated
=================  ========================  =========================================  ==========
zero_one           1[m <= 0]                 abs(theta)                                 yes
hinge              max(0, 1 - m)             abs(theta)                                 yes
squared_hinge      max(0, 1 - m)^2           theta^2                                    yes
logistic           log(1 + e^-m)             ((1+t)/2) log(1+t) + ((1-t)/2) log(1-t)    yes
logistic2          log2(1 + e^-m)            the same / log 2                           yes
exponential        e^-m                      1 - sqrt(1 - theta^2)                      yes
perceptron         max(0, -m)                0                                          no
=================  ========================  =========================================  ==========

The margin losses, their derivatives and psi-transforms take numpy, torch,
JAX and other array-API arrays and return one of the same namespace, dtype
and device (differentiable where the formula is; ``theta``'s range check is
skipped under ``jax.jit``); dask arrays are refused with a TypeError naming
``m`` (or ``theta``).

``logistic2`` (bits) equals 1 at m = 0 and bounds the 0-1 loss from above;
the perceptron loss, the beta -> inf limit of the logistic loss, is not
calibrated: the score 0 is optimal for every eta.

The multiclass story (Zhang 2004; Tewari and Bartlett 2007): the
cross-entropy ``logsumexp(z) - z_y`` is calibrated for every K, its
minimizer being ``softmax(z) = Pr(y | x)``; the Crammer-Singer hinge
``max_k (1[k != y] + z_k) - z_y`` is calibrated for K = 2 but not for
K >= 3: when no class has probability above 1/2 its minimizer need not
rank the most probable class first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam import special
from expfam._core.dispatch import tier_of, tiered
from expfam._core.xp import as_real, concrete, constant, finish, namespace

__all__ = [
    "MARGIN_LOSSES",
    "MarginLoss",
    "perceptron",
    "tempered_cross_entropy",
    "tempered_cross_entropy_gradient",
]

_LOG2 = float(np.log(2.0))


# ------------------------------------------------------------------ tempered cross-entropy


def _tempered_args(
    logits: ArrayLike, y: ArrayLike, beta: ArrayLike
) -> tuple[NDArray, NDArray, NDArray, np.dtype]:
    """Logits (..., K) float64, indices and beta broadcast to the batch, the result dtype."""
    z = np.asarray(logits)
    if z.dtype.kind not in "biuf":
        raise TypeError(f"logits: expected real numbers, got an array of dtype {z.dtype}")
    if z.ndim == 0:
        raise ValueError("logits: expected an array with a class axis, got a scalar")
    dtype = z.dtype if z.dtype.kind == "f" else np.dtype(np.float64)
    z = z.astype(np.float64)
    if not np.isfinite(z).all():
        raise ValueError("logits: expected finite values")
    idx = np.asarray(y)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"y: expected integer class indices, got dtype {idx.dtype}")
    b = np.asarray(beta, dtype=np.float64)
    if not (b > 0).all():
        raise ValueError("beta: the inverse temperature must be > 0 (inf allowed)")
    try:
        batch = np.broadcast_shapes(z.shape[:-1], idx.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"y, beta: shapes {idx.shape}, {b.shape} do not broadcast with the batch shape "
            f"{z.shape[:-1]} of logits"
        ) from None
    k = z.shape[-1]
    if ((idx < 0) | (idx >= k)).any():
        raise ValueError(f"y: class indices must lie in [0, {k})")
    z = np.broadcast_to(z, (*batch, k))
    return z, np.broadcast_to(idx, batch), np.broadcast_to(b, batch), dtype


def _by_beta(z: NDArray, b: NDArray, fn: Callable[[NDArray, float], NDArray]) -> NDArray:
    """Apply ``fn(rows, beta)`` to the rows of z grouped by their (scalar) beta."""
    out = np.empty(z.shape, dtype=np.float64)
    for value in np.unique(b):
        rows = b == value
        out[rows] = fn(z[rows], float(value))
    return out


@tiered
def tempered_cross_entropy(logits: ArrayLike, y: ArrayLike, beta: ArrayLike = 1.0) -> NDArray:
    r"""The log-loss at inverse temperature beta, divided by beta; the perceptron loss at inf.

    .. math::

        \ell_\beta(z, y) = \frac{1}{\beta}\left[\log \sum_k e^{\beta z_k} - \beta z_y\right]

    Parameters
    ----------
    logits : array_like, shape (..., K)
        Finite logits z.
    y : array_like of int, shape (...)
        Class indices in [0, K).
    beta : array_like, shape (...)
        Inverse temperature, > 0; ``inf`` gives the perceptron loss.
        Broadcasts over the batch.

    Returns
    -------
    ndarray, shape (...)
        ``l_beta = (1/beta) [logsumexp(beta z) - beta z_y]``; at beta = inf
        ``max z - z_y``. Same float dtype as ``logits``.

    Notes
    -----
    The sandwich ``max z - z_y <= l_beta <= max z - z_y + log K / beta``
    (derivation 32): the tempered loss is the perceptron loss smoothed by at
    most ``log K / beta``. Computed as ``-log_softmax(z, beta)[y] / beta``,
    whose shift ``beta (z - max z)`` is formed exactly: at most 2 ULP
    (``tests/learn/test_losses.py`` holds it against mpmath), and the sandwich
    holds to that rounding. Rows are grouped by beta: one kernel call per
    distinct value.

    Examples
    --------
    >>> tempered_cross_entropy([1.0, 3.0, 2.0], 2, beta=[1.0, 10.0, np.inf]).round(6)
    array([1.407606, 1.000005, 1.      ])
    """
    z, idx, b, dtype = _tempered_args(logits, y, beta)
    if z.shape[-1] == 0:
        raise ValueError("logits: expected at least one class")

    def rows(zr: NDArray, value: float) -> NDArray:
        if value == np.inf:
            return np.max(zr, axis=-1, keepdims=True) - zr
        return -special.log_softmax(zr, beta=value) / value

    per_class = _by_beta(z, b, rows)
    out = np.take_along_axis(per_class, idx[..., None], axis=-1)[..., 0].astype(dtype)
    return out[()] if out.ndim == 0 else out


@tiered
def tempered_cross_entropy_gradient(
    logits: ArrayLike, y: ArrayLike, beta: ArrayLike = 1.0
) -> NDArray:
    r"""Gradient of :func:`tempered_cross_entropy` in the logits: ``softmax(beta z) - e_y``.

    .. math::

        \nabla_z \ell_\beta = \operatorname{softmax}(\beta z) - e_y

    Parameters
    ----------
    logits, y, beta
        As in :func:`tempered_cross_entropy`.

    Returns
    -------
    ndarray, shape (..., K)
        ``softmax(beta z) - e_y``; at beta = inf ``e_argmax - e_y`` (tied
        maxima sharing the mass equally), the perceptron's update, which is 0
        when the prediction is right.

    Notes
    -----
    The softmax is ``expfam.softmax(z, beta=beta)`` (3 ULP).

    Examples
    --------
    >>> tempered_cross_entropy_gradient([1.0, 3.0, 2.0], 2, beta=np.inf)
    array([ 0.,  1., -1.])
    """
    z, idx, b, dtype = _tempered_args(logits, y, beta)
    grad = _by_beta(z, b, lambda zr, value: special.softmax(zr, beta=value))
    np.put_along_axis(grad, idx[..., None], np.take_along_axis(grad, idx[..., None], -1) - 1, -1)
    return grad.astype(dtype)


def perceptron(
    X: ArrayLike,
    y: ArrayLike,
    *,
    beta: float = np.inf,
    epochs: int = 10,
    learning_rate: float = 1.0,
    fit_intercept: bool = True,
    rng: np.random.Generator | int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Train a linear classifier on the tempered loss, sample by sample; the perceptron at inf.

    .. math::

        W \leftarrow W - \eta\, (\operatorname{softmax}(\beta W x_n) - e_{y_n})\, x_n^\top

    Parameters
    ----------
    X : array_like, shape (N, D)
        Features.
    y : array_like of int, shape (N,)
        Class indices in [0, K), K = max(y) + 1 >= 2.
    beta : float
        Inverse temperature, > 0; ``inf`` (the default) is the multiclass
        perceptron.
    epochs : int
        Passes over the data, each in a fresh random order.
    learning_rate : float
        Step size eta.
    fit_intercept : bool
        Learn an intercept per class.
    rng : numpy.random.Generator, int or None
        Source of the sample order.

    Returns
    -------
    coef : ndarray, shape (K, D)
        The weights ``W`` after the last epoch, one row per class.
    intercept : ndarray, shape (K,)
        The intercepts after the last epoch; zeros without ``fit_intercept``.

    Notes
    -----
    From W = 0, for each sample ``W <- W - eta (softmax(beta W x) - e_y) x^T``:
    stochastic gradient descent on the unregularized tempered cross-entropy
    (:func:`tempered_cross_entropy_gradient`). At beta = inf the step is
    ``eta (e_y - e_yhat) x^T``: nothing when the prediction is right, else
    the class row of y moves toward x and that of the prediction away (ties
    share the step). On separable data it stops changing after finitely many
    mistakes (Novikoff's bound, multiclass form).

    Examples
    --------
    >>> X, y = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], [0, 1, 2]
    >>> coef, intercept = perceptron(X, y, epochs=5, rng=0)
    >>> np.argmax(np.asarray(X) @ coef.T + intercept, axis=1).tolist()
    [0, 1, 2]
    """
    if tier_of(X=X, y=y) != "numpy":
        raise TypeError(
            "X, y: expected numpy arrays, got array-API arrays (perceptron is numpy-only)"
        )
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2 or not np.isfinite(arr).all():
        raise ValueError(f"X: expected a finite 2-D array, got shape {arr.shape}")
    labels = np.asarray(y)
    if labels.dtype.kind not in "iu" or labels.shape != (arr.shape[0],) or (labels < 0).any():
        raise ValueError(f"y: expected {arr.shape[0]} non-negative integer class indices")
    k = int(labels.max()) + 1
    if k < 2:
        raise ValueError("y: needs at least 2 classes")
    if not (isinstance(epochs, int | np.integer) and epochs >= 0):
        raise ValueError(f"epochs: expected a non-negative integer, got {epochs!r}")
    X1 = np.hstack([arr, np.ones((len(arr), 1))]) if fit_intercept else arr
    W = np.zeros((k, X1.shape[1]))
    gen = np.random.default_rng(rng)
    for _ in range(epochs):
        for n in gen.permutation(len(X1)):
            g = tempered_cross_entropy_gradient(W @ X1[n], labels[n], beta)
            W -= learning_rate * np.outer(g, X1[n])
    d = arr.shape[1]
    return W[:, :d].copy(), (W[:, d].copy() if fit_intercept else np.zeros(k))


# ------------------------------------------------------------------ binary margin losses


def _real(x: ArrayLike, name: str) -> tuple[Any, Any, Any]:
    """The namespace of ``x``, ``x`` as a real array of it and the result dtype.

    Integers promote to float; float16 is computed in float32 and rounds back.

    numpy arrays and lists compute through array-api-compat's numpy namespace,
    torch, JAX and other array-API arrays through their own; dask arrays are
    refused.
    """
    tier = tier_of(**{name: x})
    if tier == "dask":
        raise TypeError(
            f"{name}: expected a numpy or array-API array, got a dask array (the margin "
            "losses are elementwise: map them over the blocks)"
        )
    if tier == "numpy":
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected real numbers, got dtype {x.dtype}")
        x = x if x.dtype.kind == "f" else x.astype(np.float64)
    xp = namespace(x)
    work, dtype = as_real(xp, x, name)
    return xp, work, dtype


def _theta(theta: ArrayLike) -> tuple[Any, Any, Any]:
    xp, t, dtype = _real(theta, "theta")
    if concrete(xp.any(xp.abs(t) > 1)):  # skipped under jax.jit
        raise ValueError("theta: the psi-transform is defined on [-1, 1]")
    return xp, t, dtype


def _where(xp: Any, cond: Any, a: Any, b: float) -> Any:
    return xp.where(cond, a, constant(xp, b, a))


def _psi_logistic(theta: ArrayLike) -> Any:
    """``((1+t)/2) log(1+t) + ((1-t)/2) log(1-t)``, without cancellation near 0."""
    xp, t, dtype = _theta(theta)
    a = xp.abs(t)
    small = a <= 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        # |t| <= 1/2: log((1-t)(1+t))/2 + t atanh t (each ~ t^2 of the same order)
        near = 0.5 * xp.log1p(-a * a) + a * xp.atanh(_where(xp, small, a, 0.0))
        # |t| > 1/2: 1 - |t| is exact (Sterbenz), x log x is 0 at x = 0
        below_one = a < 1
        edge = (1 - a) * xp.log1p(-_where(xp, below_one, a, 0.0))
        far = 0.5 * (xp.log1p(a) * (1 + a) + _where(xp, below_one, edge, 0.0))
    return finish(xp, xp.where(small, near, far), dtype)


def _psi_exponential(theta: ArrayLike) -> Any:
    """``1 - sqrt(1 - t^2) = t^2 / (1 + sqrt((1 - t)(1 + t)))``."""
    xp, t, dtype = _theta(theta)
    return finish(xp, t * t / (1 + xp.sqrt((1 - t) * (1 + t))), dtype)


def _psi_abs(theta: ArrayLike) -> Any:
    xp, t, dtype = _theta(theta)
    return finish(xp, xp.abs(t), dtype)


def _psi_square(theta: ArrayLike) -> Any:
    xp, t, dtype = _theta(theta)
    return finish(xp, t * t, dtype)


def _psi_zero(theta: ArrayLike) -> Any:
    xp, t, dtype = _theta(theta)
    return finish(xp, xp.zeros_like(t), dtype)


def _psi_logistic2(theta: ArrayLike) -> Any:
    return _psi_logistic(theta) / _LOG2


@dataclass(frozen=True)
class MarginLoss:
    """A binary surrogate loss phi of the margin m = y f, its derivative and its psi-transform.

    The entries of :data:`MARGIN_LOSSES`; each parameter is the attribute of the
    same name.

    Parameters
    ----------
    name : str
        The key of the loss in :data:`MARGIN_LOSSES`.
    formula : str
        ``phi(m)`` as text, with its derivative (and the value taken at a kink).
    loss : callable
        ``phi(m)``, elementwise.
    derivative : callable
        ``phi'(m)``; at a kink, the value stated in ``formula``.
    psi : callable
        The psi-transform on ``theta in [-1, 1]`` (Bartlett, Jordan and McAuliffe 2006).
    calibrated : bool
        Whether phi is classification-calibrated.
    """

    name: str
    formula: str
    loss: Callable[[ArrayLike], NDArray]
    derivative: Callable[[ArrayLike], NDArray]
    psi: Callable[[ArrayLike], NDArray]
    calibrated: bool


def _elementwise(fn: Callable[[Any, Any], Any]) -> Callable[[ArrayLike], Any]:
    """``fn(xp, m)`` on the margins ``m``, in their namespace: NaN in gives NaN out, a value
    beyond the float range is ``+-inf`` (no warning), and no ``-0.0`` comes out."""

    def apply(m: ArrayLike) -> Any:
        xp, x, dtype = _real(m, "m")
        with np.errstate(over="ignore"):
            out = fn(xp, x)
        return finish(xp, xp.where(xp.isnan(x), x, out) + 0.0, dtype)

    return apply


def _hinge(xp: Any, m: Any) -> Any:
    return _where(xp, m < 1, 1.0 - m, 0.0)


MARGIN_LOSSES: Mapping[str, MarginLoss] = MappingProxyType(
    {
        "zero_one": MarginLoss(
            "zero_one",
            "1[m <= 0]; derivative 0 (undefined at 0)",
            _elementwise(lambda xp, m: _where(xp, m <= 0, xp.ones_like(m), 0.0)),
            _elementwise(lambda xp, m: xp.zeros_like(m)),
            _psi_abs,
            True,
        ),
        "hinge": MarginLoss(
            "hinge",
            "max(0, 1 - m); derivative -1[m < 1]",
            _elementwise(_hinge),
            _elementwise(lambda xp, m: _where(xp, m < 1, -xp.ones_like(m), 0.0)),
            _psi_abs,
            True,
        ),
        "squared_hinge": MarginLoss(
            "squared_hinge",
            "max(0, 1 - m)^2; derivative -2 max(0, 1 - m)",
            _elementwise(lambda xp, m: _hinge(xp, m) ** 2),
            _elementwise(lambda xp, m: -2.0 * _hinge(xp, m)),
            _psi_square,
            True,
        ),
        "logistic": MarginLoss(
            "logistic",
            "log(1 + e^-m) = softplus(-m); derivative -sigmoid(-m)",
            _elementwise(lambda xp, m: special.softplus(-m)),
            _elementwise(lambda xp, m: -special.sigmoid(-m)),
            _psi_logistic,
            True,
        ),
        "logistic2": MarginLoss(
            "logistic2",
            "log2(1 + e^-m) = softplus(-m) / log 2; derivative -sigmoid(-m) / log 2",
            _elementwise(lambda xp, m: special.softplus(-m) / _LOG2),
            _elementwise(lambda xp, m: -special.sigmoid(-m) / _LOG2),
            _psi_logistic2,
            True,
        ),
        "exponential": MarginLoss(
            "exponential",
            "e^-m; derivative -e^-m",
            _elementwise(lambda xp, m: xp.exp(-m)),
            _elementwise(lambda xp, m: -xp.exp(-m)),
            _psi_exponential,
            True,
        ),
        "perceptron": MarginLoss(
            "perceptron",
            "max(0, -m); derivative -1[m < 0]",
            _elementwise(lambda xp, m: _where(xp, m < 0, -m, 0.0)),
            _elementwise(lambda xp, m: _where(xp, m < 0, -xp.ones_like(m), 0.0)),
            _psi_zero,
            False,
        ),
    }
)
"""The binary margin losses by name (read-only); see the module docstring's table."""
