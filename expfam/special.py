"""Stable, accurate kernels of the softmax family (placeholder implementation).

The signatures here are the public contract; the accurate implementations
replace these bodies.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sc
from numpy.typing import ArrayLike, NDArray


def logsumexp(
    a: ArrayLike,
    axis=-1,
    b: ArrayLike | None = None,
    keepdims: bool = False,
    return_sign: bool = False,
):
    return sc.logsumexp(np.asarray(a), axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)


def softmax(x: ArrayLike, axis: int = -1, beta: float = 1.0) -> NDArray:
    return sc.softmax(beta * np.asarray(x), axis=axis)


def log_softmax(x: ArrayLike, axis: int = -1, beta: float = 1.0) -> NDArray:
    return sc.log_softmax(beta * np.asarray(x), axis=axis)


def sigmoid(x: ArrayLike) -> NDArray:
    return sc.expit(x)


def log_sigmoid(x: ArrayLike) -> NDArray:
    return sc.log_expit(x)


def softplus(x: ArrayLike) -> NDArray:
    return np.logaddexp(0.0, x)


def logit(p: ArrayLike) -> NDArray:
    return sc.logit(p)


def log1mexp(x: ArrayLike) -> NDArray:
    x = np.asarray(x, dtype=float)
    return np.where(x > -np.log(2), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def cross_entropy(logits: ArrayLike, target: ArrayLike) -> NDArray:
    lp = log_softmax(logits)
    target = np.asarray(target)
    if np.issubdtype(target.dtype, np.integer):
        return -np.take_along_axis(lp, target[..., None], axis=-1)[..., 0]
    return -np.sum(np.where(target == 0, 0.0, target * lp), axis=-1)


def entropy(logits: ArrayLike) -> NDArray:
    lp = log_softmax(logits)
    p = np.exp(lp)
    return -np.sum(np.where(p == 0, 0.0, p * lp), axis=-1)


def kl_divergence(logits_p: ArrayLike, logits_q: ArrayLike) -> NDArray:
    lp = log_softmax(logits_p)
    lq = log_softmax(logits_q)
    p = np.exp(lp)
    return np.sum(np.where(p == 0, 0.0, p * (lp - lq)), axis=-1)
