"""Softmax regression: its objective, gradient and Fisher, and an estimator that fits it.

The model: K classes, logits ``z_n = W x_n + b`` for a row ``x_n`` of X
(N, D). The parameters are one array ``coef`` of shape (K, D), or (K, D + 1)
with ``fit_intercept=True``, the intercept ``b`` being the last column. The
objective is scikit-learn's multinomial L2 objective,

    f(W) = C sum_n s_n [logsumexp(z_n) - z_{n, y_n}] + (1/2) ||W||^2

with sample weights ``s_n`` (default 1) and the intercept unpenalized, so
numbers compare with scikit-learn's ``LogisticRegression`` one for one.

The information geometry: the log-loss is the negative log-likelihood of a
categorical with natural parameters z = W x (a canonical link), so its
Hessian is the Fisher information of the model,

    F = sum_n s_n (diag p_n - p_n p_n^T) (x) x_n x_n^T,

which does not depend on the labels, and the exact natural-gradient step is
Newton's step (IRLS). ``F`` is applied through its Kronecker structure:
``F V = sum_n s_n [(diag p_n - p_n p_n^T) V x_n] x_n^T`` costs O(N K D) and
never builds the (K D)^2 matrix; :func:`fisher` builds it when asked.

Adding one vector to every class row of ``coef`` changes no prediction:
``F`` is singular in those directions (``(1 (x) v)`` for every v). The
penalty makes the objective strictly convex in the weights; the intercept
keeps one null direction, ``b -> b + c 1``, and every step taken here is the
minimum-norm one, orthogonal to it (intercepts summing to 0).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike, NDArray

from expfam import special
from expfam._core.exceptions import NotFittedError
from expfam.learn import optimize

__all__ = [
    "SoftmaxProblem",
    "SoftmaxRegression",
    "empirical_fisher",
    "fisher",
    "gradient",
    "hessian",
    "objective",
    "regression_fisher_vp",
    "regression_natural_gradient",
]


# ------------------------------------------------------------------ arguments


def _design(X: ArrayLike, name: str = "X") -> NDArray[np.float64]:
    """``X`` as a finite float64 (N, D) array, N, D >= 1; sparse matrices are refused."""
    if scipy.sparse.issparse(X):
        raise TypeError(f"{name}: sparse input is not supported; pass a dense array (.toarray())")
    arr = np.asarray(X)
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name}: expected real numbers, got objects ({error})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got an array of dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (N samples, D features), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least 1 sample, got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(
            f"{name}: expected at least 1 feature, got 0 feature(s) (shape={arr.shape}) "
            "while a minimum of 1 is required."
        )
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return arr


def _sample_weights(sample_weight: ArrayLike | None, n: int) -> NDArray[np.float64]:
    """Sample weights as a non-negative (N,) float64 array with a positive sum, ones by default."""
    if sample_weight is None:
        return np.ones(n)
    try:
        s = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"sample_weight: expected real numbers, got {sample_weight!r}") from None
    if s.ndim == 0:
        s = np.full(n, float(s))
    if s.shape != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), got {s.shape}")
    if not (np.isfinite(s).all() and (s >= 0).all()):
        raise ValueError("sample_weight: expected finite non-negative weights")
    if not s.max() > 0:
        raise ValueError("sample_weight: expected a positive sum, got all weights zero")
    return s


def _penalty(C: float) -> float:
    if isinstance(C, bool | str):
        raise TypeError(f"C: expected a positive number, got {C!r}")
    try:
        value = float(C)
    except (TypeError, ValueError):
        raise TypeError(f"C: expected a positive number, got {C!r}") from None
    if not (value > 0 and np.isfinite(value)):
        raise ValueError(f"C: expected a finite number > 0 (inverse regularization), got {C!r}")
    return value


def _indices(y: ArrayLike, n: int, k: int) -> NDArray[np.intp]:
    """Class indices in [0, K), one per sample."""
    arr = np.asarray(y)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"y: expected integer class indices, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"y: expected {n} labels (one per row of X), got shape {arr.shape}")
    if ((arr < 0) | (arr >= k)).any():
        raise ValueError(f"y: class indices must lie in [0, {k}) (K = coef.shape[0])")
    return arr.astype(np.intp)


def _class_labels(y: ArrayLike, n: int) -> tuple[NDArray, NDArray[np.intp]]:
    """The sorted distinct labels of ``y`` and each sample's index into them.

    Labels are numbers (integers, or floats with integer values), bools or
    strings, all of one kind; NaN, non-integer floats (a regression target)
    and mixed kinds are refused.
    """
    if y is None:
        raise ValueError("y: SoftmaxRegression requires y to be passed, but the target y is None")
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"y: expected {n} labels (one per row of X), got shape {labels.shape}")
    if labels.dtype.kind in "OUS":
        items = np.asarray(y, dtype=object).tolist()  # the values as given: [1, "a"] keeps 1
        strings = {isinstance(v, str | bytes) for v in items}
        if len(strings) > 1:
            raise TypeError("y: expected labels of one kind, got a mix of strings and numbers")
        try:
            labels = np.asarray(items, dtype=str if strings == {True} else np.float64)
        except (TypeError, ValueError):
            raise TypeError("y: expected numbers or strings as labels") from None
    if labels.dtype.kind in "fc":
        if labels.dtype.kind == "c" or np.isnan(labels).any():
            raise ValueError("y: expected class labels, got NaN or complex values")
        if not (np.isfinite(labels).all() and (labels == np.round(labels)).all()):
            raise ValueError(
                "y: expected class labels, got non-integer floats "
                "(Unknown label type: continuous; this is a classifier)"
            )
    classes, codes = np.unique(labels, return_inverse=True)
    return classes, codes.reshape(-1).astype(np.intp)


# ------------------------------------------------------------------ the objective


@dataclass(frozen=True, eq=False)
class SoftmaxProblem:
    r"""Softmax regression on fixed data, in the form the solvers minimize.

    The solvers (:mod:`expfam.learn.optimize`) minimize the objective divided by
    ``C sum(s)``,

    .. math::

        F(W) = \sum_n w_n \ell_n(W) + \frac{\lambda}{2} \|W \odot m\|^2,
        \qquad w_n = s_n / \textstyle\sum s, \quad \lambda = 1 / (C \textstyle\sum s),

    which has the same minimizer and Newton steps as :func:`objective` and
    stays in the float range for every ``C`` and weight scale (``C = 1e300``
    or ``1e-300``). Its gradient is that of the weighted mean loss (plus the
    penalty's), so ``max |grad F| <= tol`` is scikit-learn's stopping rule.

    Made by :meth:`build`, which checks the data. Parameters ``W`` of the
    objective are arrays of shape ``(K, D1)``.

    Parameters
    ----------
    X1 : ndarray of float64, shape (N, D1)
        The design: the features, with a column of ones appended when the
        intercept is fitted (``D1 = D + 1``, else ``D1 = D``).
    y : ndarray of intp, shape (N,)
        The class indices in ``[0, K)``.
    k : int
        K, the number of classes.
    C : float
        Inverse regularization strength, ``> 0``.
    s : ndarray of float64, shape (N,)
        The sample weights ``s_n >= 0``, not normalized.
    mask : ndarray of float64, shape (D1,)
        1 on the penalized columns, 0 on the intercept's.
    """

    X1: NDArray[np.float64]
    y: NDArray[np.intp]
    k: int
    C: float
    s: NDArray[np.float64]
    mask: NDArray[np.float64]

    @classmethod
    def build(
        cls,
        X: ArrayLike,
        y: ArrayLike,
        k: int,
        C: float = 1.0,
        sample_weight: ArrayLike | None = None,
        fit_intercept: bool = False,
    ) -> SoftmaxProblem:
        """Validate the data and build the problem.

        Parameters
        ----------
        X : array_like, shape (N, D)
            Finite real features, one row per sample.
        y : array_like of int, shape (N,)
            Class indices in ``[0, k)``.
        k : int
            K, the number of classes.
        C : float
            Inverse regularization strength, ``> 0``.
        sample_weight : array_like, shape (N,), optional
            Non-negative weights ``s_n`` with a positive sum (default 1).
        fit_intercept : bool
            Append a column of ones to the design for an unpenalized intercept.

        Returns
        -------
        SoftmaxProblem
            The problem on the checked data.
        """
        X = _design(X)
        n = X.shape[0]
        X1 = np.hstack([X, np.ones((n, 1))]) if fit_intercept else X
        mask = np.ones(X1.shape[1])
        if fit_intercept:
            mask[-1] = 0.0
        return cls(X1, _indices(y, n, k), k, _penalty(C), _sample_weights(sample_weight, n), mask)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.k, self.X1.shape[1])

    @functools.cached_property
    def w(self) -> NDArray[np.float64]:
        """The normalized sample weights ``s / sum(s)`` (summed after scaling by the largest)."""
        r = self.s / self.s.max()
        return r / r.sum()

    @functools.cached_property
    def _scale_parts(self) -> tuple[float, int]:
        """``(mantissa, exponent)`` of ``C sum(s)``, formed without overflow or underflow."""
        top = float(self.s.max())
        mc, ec = np.frexp(self.C)
        mt, et = np.frexp(top)
        return float(mc * mt * np.sum(self.s / top)), int(ec + et)

    @functools.cached_property
    def lam(self) -> float:
        """The penalty of F, ``1 / (C sum s)`` (at most the largest float)."""
        mantissa, exponent = self._scale_parts
        with np.errstate(over="ignore", under="ignore"):
            value = np.ldexp(1.0 / mantissa, -exponent)
        return float(min(value, np.finfo(np.float64).max))

    def objective_scale(self) -> float:
        """``C sum_n s_n``: the objective of :func:`objective` is this times F (inf beyond).

        Returns
        -------
        float
            ``C sum_n s_n``, formed without intermediate overflow; ``inf``
            beyond the float range.
        """
        mantissa, exponent = self._scale_parts
        with np.errstate(over="ignore", under="ignore"):
            return float(np.ldexp(mantissa, exponent))

    def check(self, coef: ArrayLike, name: str = "coef") -> NDArray[np.float64]:
        """``coef`` as a float64 array of :attr:`shape` (ValueError naming ``name`` otherwise).

        Parameters
        ----------
        coef : array_like, shape (K, D1)
            Parameters given by the caller.
        name : str
            The caller's name for them, used in the error message.

        Returns
        -------
        ndarray of float64, shape (K, D1)
            ``coef`` as a float64 array.
        """
        W = np.asarray(coef, dtype=np.float64)
        if W.shape != self.shape:
            raise ValueError(f"{name}: expected shape {self.shape}, got {W.shape}")
        return W

    def log_probs(self, W: NDArray) -> NDArray[np.float64]:
        """log p_n, shape (N, K): ``log_softmax`` of the logits.

        Parameters
        ----------
        W : ndarray, shape (K, D1)
            The parameters (class weights, the intercept as the last column).

        Returns
        -------
        ndarray of float64, shape (N, K)
            ``log_softmax(X1 W^T)``, row n the log-probabilities of sample n.
        """
        return special.log_softmax(self.X1 @ W.T)

    def losses(self, W: NDArray) -> tuple[NDArray, NDArray]:
        """``(l, log P)``: per-sample log-losses ``-log p_{n, y_n}`` and the log-probabilities.

        Parameters
        ----------
        W : ndarray, shape (K, D1)
            The parameters (class weights, the intercept as the last column).

        Returns
        -------
        losses : ndarray, shape (N,)
            ``-log p_{n, y_n}``, each sample's log-loss.
        log_probs : ndarray, shape (N, K)
            :meth:`log_probs` of ``W``.
        """
        lp = self.log_probs(W)
        return -np.take_along_axis(lp, self.y[:, None], axis=1)[:, 0], lp

    def residual(self, P: NDArray) -> NDArray:
        """``P - Y`` without forming the one-hot Y.

        Parameters
        ----------
        P : ndarray, shape (N, K)
            The probabilities ``p_n = softmax(W x_n)``, as :meth:`evaluate` returns.

        Returns
        -------
        ndarray, shape (N, K)
            ``p_nk - [y_n = k]``, the gradient of each log-loss in the logits.
        """
        R = P.copy()
        R[np.arange(len(self.y)), self.y] -= 1.0
        return R

    def value(self, W: NDArray) -> float:
        r"""F(W).

        .. math::

            F(W) = \sum_n w_n \ell_n(W) + \frac{\lambda}{2} \|W \odot m\|^2

        Parameters
        ----------
        W : ndarray, shape (K, D1)
            The parameters (class weights, the intercept as the last column).

        Returns
        -------
        float
            ``sum_n w_n l_n(W) + (lambda / 2) ||W mask||^2``.
        """
        loss, _ = self.losses(W)
        return float(self.w @ loss) + 0.5 * self.lam * float(np.sum((W * self.mask) ** 2))

    def evaluate(self, W: NDArray) -> tuple[float, NDArray, NDArray]:
        """``(F(W), grad F(W), P)``; P (N, K) the probabilities, for the curvature.

        Parameters
        ----------
        W : ndarray, shape (K, D1)
            The parameters (class weights, the intercept as the last column).

        Returns
        -------
        value : float
            ``F(W)``.
        gradient : ndarray, shape (K, D1)
            ``grad F = (P - Y)^T diag(w) X1 + lambda W mask``.
        P : ndarray, shape (N, K)
            The probabilities at ``W``.
        """
        loss, lp = self.losses(W)
        value = float(self.w @ loss) + 0.5 * self.lam * float(np.sum((W * self.mask) ** 2))
        P = np.exp(lp)
        grad = (self.w[:, None] * self.residual(P)).T @ self.X1 + self.lam * (W * self.mask)
        return value, grad, P

    def fisher_vp(self, P: NDArray, V: NDArray, weights: NDArray) -> NDArray:
        r"""``sum_n weights_n [(diag p_n - p_n p_n^T) V x_n] x_n^T``, O(N K D).

        .. math::

            F V = \sum_n \mathrm{weights}_n
                \left[(\operatorname{diag} p_n - p_n p_n^\top) V x_n\right] x_n^\top

        Parameters
        ----------
        P : ndarray, shape (N, K)
            The probabilities ``p_n = softmax(W x_n)``, as :meth:`evaluate` returns.
        V : ndarray, shape (K, D1)
            A direction in parameter space.
        weights : ndarray, shape (N,)
            The per-sample weights of the sum (``w`` for F, ``s`` for the Fisher
            of :func:`regression_fisher_vp`).

        Returns
        -------
        ndarray, shape (K, D1)
            The weighted Fisher information applied to ``V``.
        """
        U = self.X1 @ V.T  # row n: V x_n
        R = P * U - P * np.sum(P * U, axis=1, keepdims=True)  # the categorical's F u
        return (weights[:, None] * R).T @ self.X1

    def hessian_vp(self, P: NDArray, V: NDArray) -> NDArray:
        r"""Hessian of F times V: ``F_w V + lambda mask V``.

        .. math::

            \nabla^2 F\, V = \sum_n w_n
                \left[(\operatorname{diag} p_n - p_n p_n^\top) V x_n\right] x_n^\top
                + \lambda\, m \odot V

        Parameters
        ----------
        P : ndarray, shape (N, K)
            The probabilities ``p_n = softmax(W x_n)``, as :meth:`evaluate` returns.
        V : ndarray, shape (K, D1)
            A direction in parameter space.

        Returns
        -------
        ndarray, shape (K, D1)
            The Hessian of F applied to ``V``: the Fisher with weights ``w``
            plus the penalty's curvature.
        """
        return self.fisher_vp(P, V, self.w) + self.lam * (self.mask * V)

    def hessian_diag(self, P: NDArray) -> NDArray:
        """The diagonal of F's Hessian (a Jacobi preconditioner), shape (K, D1).

        Parameters
        ----------
        P : ndarray, shape (N, K)
            The probabilities ``p_n = softmax(W x_n)``, as :meth:`evaluate` returns.

        Returns
        -------
        ndarray, shape (K, D1)
            ``sum_n w_n p_nk (1 - p_nk) x_nd^2 + lambda mask_d`` at ``(k, d)``.
        """
        return (self.w[:, None] * P * (1.0 - P)).T @ self.X1**2 + self.lam * self.mask

    def lipschitz(self) -> float:
        r"""A Lipschitz constant of grad F: ``lambda_max(X^T diag(w) X) / 2 + lambda``.

        .. math::

            L = \tfrac12 \lambda_{\max}\big(X_1^\top \operatorname{diag}(w) X_1\big)
                + \lambda \max_d m_d

        ``diag p - p p^T`` has eigenvalues in [0, 1/2], so the Fisher is at most
        ``(1/2) I (x) X^T diag(w) X``.

        Returns
        -------
        float
            ``lambda_max(X1^T diag(w) X1) / 2 + lambda max(mask)``.
        """
        gram = (self.w[:, None] * self.X1).T @ self.X1
        return 0.5 * float(np.linalg.eigvalsh(gram)[-1]) + self.lam * float(self.mask.max())

    def kfac_system(self, P: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        r"""K-FAC: F's Hessian ``~ G (x) A + I (x) diag(lambda mask)``.

        .. math::

            \nabla^2 F \approx G \otimes A + I \otimes \operatorname{diag}(\lambda m), \qquad
            G = \sum_n w_n (\operatorname{diag} p_n - p_n p_n^\top), \quad
            A = X_1^\top \operatorname{diag}(w) X_1

        G is the weighted mean class covariance, ``A = X^T diag(w) X``.

        Parameters
        ----------
        P : ndarray, shape (N, K)
            The probabilities ``p_n = softmax(W x_n)``, as :meth:`evaluate` returns.

        Returns
        -------
        G : ndarray, shape (K, K)
            ``sum_n w_n (diag p_n - p_n p_n^T)``.
        A : ndarray, shape (D1, D1)
            ``X1^T diag(w) X1``.
        m : ndarray, shape (D1,)
            ``lambda mask``, the penalty's curvature per column.
        """
        wp = self.w[:, None] * P
        G = np.diag(wp.sum(axis=0)) - wp.T @ P
        A = (self.w[:, None] * self.X1).T @ self.X1
        return G, A, self.lam * self.mask

    def per_sample_gradients(self, P: NDArray) -> NDArray:
        r"""``g_n = (p_n - e_{y_n}) (x) x_n``, shape (N, K * D1) (row-major vec).

        .. math::

            g_n = (p_n - e_{y_n}) \otimes x_n

        Parameters
        ----------
        P : ndarray, shape (N, K)
            The probabilities ``p_n = softmax(W x_n)``, as :meth:`evaluate` returns.

        Returns
        -------
        ndarray, shape (N, K * D1)
            Row n the gradient of sample n's log-loss, flattened in row-major
            order of ``W``.
        """
        R = self.residual(P)
        return (R[:, :, None] * self.X1[:, None, :]).reshape(len(self.y), -1)

    def empirical_hessian(self, P: NDArray) -> NDArray:
        r"""``sum_n w_n g_n g_n^T + lambda diag(mask)``: the empirical-Fisher curvature of F.

        .. math::

            \hat F = \sum_n w_n g_n g_n^\top + \lambda \operatorname{diag}(\operatorname{vec} m)

        Parameters
        ----------
        P : ndarray, shape (N, K)
            The probabilities ``p_n = softmax(W x_n)``, as :meth:`evaluate` returns.

        Returns
        -------
        ndarray, shape (K * D1, K * D1)
            The dense matrix, in row-major order of ``W``.
        """
        G = self.per_sample_gradients(P)
        return (self.w[:, None] * G).T @ G + self.lam * self.penalty_hessian()

    def penalty_hessian(self) -> NDArray:
        """``diag(vec(mask))``: 1 on the weights, 0 on the intercept.

        Returns
        -------
        ndarray, shape (K * D1, K * D1)
            The Hessian of ``||W mask||^2 / 2``, in row-major order of ``W``.
        """
        return np.diag(np.tile(self.mask, self.k))

    def remove_null(self, d: NDArray) -> NDArray:
        """Remove the null direction ``b + c 1`` (intercept column) from a step.

        Parameters
        ----------
        d : ndarray, shape (K, D1)
            A step in parameter space.

        Returns
        -------
        ndarray, shape (K, D1)
            ``d`` with its intercept column centred (mean 0 over the classes)
            when the intercept is fitted; ``d`` itself otherwise.
        """
        if self.mask[-1] == 0.0:
            d = d.copy()
            d[:, -1] -= d[:, -1].mean()
        return d

    def fisher(self, P: NDArray) -> NDArray:
        r"""The dense Fisher ``sum_n s_n (diag p_n - p_n p_n^T) (x) x_n x_n^T``, (K D1, K D1).

        .. math::

            F = \sum_n s_n (\operatorname{diag} p_n - p_n p_n^\top) \otimes x_n x_n^\top

        The categorical's diagonal ``p_k (1 - p_k)`` is formed as ``p_k`` times
        the sum of the other classes' probabilities (prefix and suffix sums,
        no subtraction), so it keeps its digits where ``p_k`` is close to 1
        (``p_k - p_k^2`` cancelled to 0 there, against 3e-10 of the Hessian).

        Parameters
        ----------
        P : ndarray, shape (N, K)
            The probabilities ``p_n = softmax(W x_n)``, as :meth:`evaluate` returns.

        Returns
        -------
        ndarray, shape (K * D1, K * D1)
            The Fisher with the unnormalized weights ``s``, row-major order of ``W``.
        """
        k, d1 = self.shape
        zero = np.zeros((len(P), 1))
        before = np.concatenate([zero, np.cumsum(P[:, :-1], axis=1)], axis=1)
        after = np.concatenate([np.cumsum(P[:, :0:-1], axis=1)[:, ::-1], zero], axis=1)
        categorical = -P[:, :, None] * P[:, None, :]
        diagonal = np.arange(k)
        categorical[:, diagonal, diagonal] = P * (before + after)
        F = np.einsum("nkl,nd,ne->kdle", self.s[:, None, None] * categorical, self.X1, self.X1)
        return F.reshape(k * d1, k * d1)


# ------------------------------------------------------------------ the functional core


def _problem(coef, X, y, C, sample_weight, fit_intercept) -> tuple[SoftmaxProblem, NDArray]:
    W = np.asarray(coef, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] < 2:
        raise ValueError(f"coef: expected a (K, D) array with K >= 2, got shape {W.shape}")
    n = np.shape(X)[0] if np.ndim(X) == 2 else 0
    labels = np.zeros(n, dtype=np.intp) if y is None else y
    problem = SoftmaxProblem.build(X, labels, W.shape[0], C, sample_weight, fit_intercept)
    return problem, problem.check(W)


def objective(
    coef: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    C: float = 1.0,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
) -> float:
    r"""The softmax-regression objective (scikit-learn's multinomial L2 objective).

    .. math::

        f(W) = C \sum_n s_n \left[\log \sum_k e^{z_{nk}} - z_{n y_n}\right]
        + \tfrac12 \|W \odot m\|^2, \qquad z_n = W x_n

    Parameters
    ----------
    coef : array_like, shape (K, D) or (K, D + 1)
        Class weights, the intercept as the last column with ``fit_intercept``.
    X : array_like, shape (N, D)
        Features, one row per sample.
    y : array_like of int, shape (N,)
        Class indices in [0, K).
    C : float
        Inverse regularization strength, > 0.
    sample_weight : array_like, shape (N,), optional
        Non-negative weights s_n (default 1).
    fit_intercept : bool
        Whether the last column of ``coef`` is an (unpenalized) intercept.

    Returns
    -------
    float
        ``C sum_n s_n [logsumexp(z_n) - z_{n, y_n}] + ||W||^2 / 2``.

    Notes
    -----
    Each log-loss is :func:`expfam.log_softmax` of the logits (a few ULP), so
    the objective is accurate to a few ``u`` times the sum of the weighted
    losses plus the rounding of the sums (``tests/learn/test_regression.py``
    holds it to 64 u against mpmath). Beyond the float range it is ``inf``.

    Examples
    --------
    >>> X = [[1.0, 0.0], [0.0, 1.0]]
    >>> round(objective([[0.0, 0.0], [0.0, 0.0]], X, [0, 1]), 6)  # 2 log 2
    1.386294
    """
    problem, W = _problem(coef, X, y, C, sample_weight, fit_intercept)
    loss, _ = problem.losses(W)
    with np.errstate(over="ignore"):  # beyond the float range the objective is inf
        return problem.C * float(problem.s @ loss) + 0.5 * float(np.sum((W * problem.mask) ** 2))


def gradient(
    coef: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    C: float = 1.0,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
) -> NDArray[np.float64]:
    r"""Gradient of :func:`objective`: ``C (P - Y)^T S X + W`` (intercept unpenalized).

    .. math::

        \nabla f = C\, (P - Y)^\top S X_1 + W \odot m

    Parameters
    ----------
    coef : array_like, shape (K, D) or (K, D + 1)
        Class weights, the intercept as the last column with ``fit_intercept``.
    X : array_like, shape (N, D)
        Features, one row per sample.
    y : array_like of int, shape (N,)
        Class indices in [0, K).
    C : float
        Inverse regularization strength, > 0.
    sample_weight : array_like, shape (N,), optional
        Non-negative weights s_n (default 1).
    fit_intercept : bool
        Whether the last column of ``coef`` is an (unpenalized) intercept.

    Returns
    -------
    ndarray, shape of ``coef``
        Row k is ``C sum_n s_n (p_nk - [y_n = k]) x_n + w_k``, with a last
        entry ``C sum_n s_n (p_nk - [y_n = k])`` for the intercept.

    Notes
    -----
    The log-loss gradient ``p - y`` per sample, times ``x_n^T``
    (``derivations/30_regression_gradient.py``).
    Rows sum to ``sum_k w_k`` (the loss part sums to 0 over classes).

    Examples
    --------
    >>> gradient([[0.0], [0.0]], [[2.0]], [0])  # (p - y) x = (0.5 - 1, 0.5) * 2
    array([[-1.],
           [ 1.]])
    """
    problem, W = _problem(coef, X, y, C, sample_weight, fit_intercept)
    P = np.exp(problem.log_probs(W))
    with np.errstate(over="ignore"):
        return problem.C * ((problem.s[:, None] * problem.residual(P)).T @ problem.X1) + (
            W * problem.mask
        )


def regression_fisher_vp(
    coef: ArrayLike,
    X: ArrayLike,
    V: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
) -> NDArray[np.float64]:
    r"""The Fisher information of the model, in parameter space, applied to V.

    .. math::

        F V = \sum_n s_n \left[(\operatorname{diag} p_n - p_n p_n^\top) V x_n\right] x_n^\top

    Parameters
    ----------
    coef, X
        As in :func:`objective`; no labels: the Fisher does not depend on them.
    V : array_like, shape of ``coef``
        A direction in parameter space.
    sample_weight, fit_intercept
        As in :func:`objective`.

    Returns
    -------
    ndarray, shape of ``coef``
        ``F V = sum_n s_n [(diag p_n - p_n p_n^T) V x_n] x_n^T``.

    Notes
    -----
    ``F = sum_n s_n (diag p_n - p_n p_n^T) (x) x_n x_n^T`` is the Hessian of
    the summed log-loss (canonical link); the product goes through the
    Kronecker structure, O(N K D) time and O(N K) memory, without the
    (K D)^2 matrix. ``F (1 v^T) = 0`` for every v: shifting every class row
    by one vector changes no prediction.

    Examples
    --------
    >>> # (diag p - p p^T) (1, 0) * 4
    >>> regression_fisher_vp([[0.0], [0.0]], [[2.0]], [[1.0], [0.0]])
    array([[ 1.],
           [-1.]])
    """
    problem, W = _problem(coef, X, None, 1.0, sample_weight, fit_intercept)
    P = np.exp(problem.log_probs(W))
    return problem.fisher_vp(P, problem.check(V, "V"), problem.s)


def fisher(
    coef: ArrayLike,
    X: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
) -> NDArray[np.float64]:
    r"""The dense Fisher information matrix, (K D1, K D1), row-major order of ``coef``.

    .. math::

        F = \sum_n s_n (\operatorname{diag} p_n - p_n p_n^\top) \otimes x_n x_n^\top

    Parameters
    ----------
    coef : array_like, shape (K, D) or (K, D + 1)
        Class weights, the intercept as the last column with ``fit_intercept``.
    X : array_like, shape (N, D)
        Features, one row per sample.
    sample_weight : array_like, shape (N,), optional
        Non-negative weights s_n (default 1).
    fit_intercept : bool
        Whether the last column of ``coef`` is an (unpenalized) intercept.

    Returns
    -------
    ndarray, shape (K D1, K D1)
        Row-major order of ``coef``.

    Notes
    -----
    ``sum_n s_n (diag p_n - p_n p_n^T) (x) x_n x_n^T``: (K D)^2 memory, for
    study and tests; solvers use :func:`regression_fisher_vp`.

    Examples
    --------
    >>> fisher([[0.0], [0.0]], [[2.0]])
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    problem, W = _problem(coef, X, None, 1.0, sample_weight, fit_intercept)
    return problem.fisher(np.exp(problem.log_probs(W)))


def hessian(
    coef: ArrayLike,
    X: ArrayLike,
    *,
    C: float = 1.0,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
) -> NDArray[np.float64]:
    r"""The dense Hessian of :func:`objective`: ``C F + diag(penalty)``; no labels needed.

    .. math::

        \nabla^2 f = C F + \operatorname{diag}(\operatorname{vec} m)

    Parameters
    ----------
    coef : array_like, shape (K, D) or (K, D + 1)
        Class weights, the intercept as the last column with ``fit_intercept``.
    X : array_like, shape (N, D)
        Features, one row per sample.
    C : float
        Inverse regularization strength, > 0.
    sample_weight : array_like, shape (N,), optional
        Non-negative weights s_n (default 1).
    fit_intercept : bool
        Whether the last column of ``coef`` is an (unpenalized) intercept.

    Returns
    -------
    ndarray, shape (K D1, K D1)
        Row-major order of ``coef``; the penalty adds 1 on the diagonal
        entries of the weights (not of the intercept).

    Examples
    --------
    >>> hessian([[0.0], [0.0]], [[2.0]], C=2.0)
    array([[ 3., -2.],
           [-2.,  3.]])
    """
    problem, W = _problem(coef, X, None, C, sample_weight, fit_intercept)
    F = problem.fisher(np.exp(problem.log_probs(W)))
    return problem.C * F + problem.penalty_hessian()


def empirical_fisher(
    coef: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
) -> NDArray[np.float64]:
    r"""The empirical Fisher ``sum_n s_n g_n g_n^T``, g_n the per-sample gradient at y_n.

    .. math::

        E = \sum_n s_n g_n g_n^\top, \qquad g_n = (p_n - e_{y_n}) \otimes x_n

    Parameters
    ----------
    coef : array_like, shape (K, D) or (K, D + 1)
        Class weights, the intercept as the last column with ``fit_intercept``.
    X : array_like, shape (N, D)
        Features, one row per sample.
    y : array_like of int, shape (N,)
        Class indices in [0, K).
    sample_weight : array_like, shape (N,), optional
        Non-negative weights s_n (default 1).
    fit_intercept : bool
        Whether the last column of ``coef`` is an (unpenalized) intercept.

    Returns
    -------
    ndarray, shape (K D1, K D1)
        Row-major order of ``coef``.

    Notes
    -----
    ``g_n = (p_n - e_{y_n}) (x) x_n``. Its expectation over ``y_n ~ p_n`` is
    the Fisher, but at the observed labels it is a different matrix: it
    depends on y, shrinks as the fit improves on separable data, and
    preconditioning with it is not the natural gradient (Kunstner, Balles
    and Hennig, "Limitations of the empirical Fisher approximation for
    natural gradient descent", NeurIPS 2019).

    Examples
    --------
    >>> empirical_fisher([[0.0], [0.0]], [[2.0]], [0])  # g = (-1, 1)
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    problem, W = _problem(coef, X, y, 1.0, sample_weight, fit_intercept)
    g = problem.per_sample_gradients(np.exp(problem.log_probs(W)))
    return (problem.s[:, None] * g).T @ g


def regression_natural_gradient(
    coef: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    C: float = 1.0,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
    rtol: float = 1e-12,
) -> NDArray[np.float64]:
    r"""The natural gradient of :func:`objective`: ``H^+ g``, by conjugate gradient.

    .. math::

        d = (C F + \operatorname{diag} m)^{+}\, \nabla f

    Parameters
    ----------
    coef, X, y, C, sample_weight, fit_intercept
        As in :func:`objective`.
    rtol : float
        Relative residual at which conjugate gradient stops.

    Returns
    -------
    ndarray, shape of ``coef``
        The minimum-norm solution of ``(C F + diag(penalty)) d = grad f``:
        minus the Newton step, the step of IRLS.

    Notes
    -----
    The metric is the Fisher of the log-likelihood plus the penalty's
    curvature, which is exactly the Hessian of the objective (canonical
    link). Conjugate gradient runs on :func:`regression_fisher_vp` products, Jacobi
    preconditioned, O(N K D) per iteration; the intercept's null direction
    (``b + c 1``) is projected out, which leaves the minimum-norm solution.

    Examples
    --------
    >>> X, y = [[1.0], [-1.0], [2.0]], [0, 1, 1]
    >>> d = regression_natural_gradient([[0.0], [0.0]], X, y)
    >>> np.allclose(hessian([[0.0], [0.0]], X) @ d.ravel(), gradient([[0.0], [0.0]], X, y).ravel())
    True
    """
    problem, W = _problem(coef, X, y, C, sample_weight, fit_intercept)
    _, g, P = problem.evaluate(W)
    return optimize.newton_direction(problem, P, g, rtol)


# ------------------------------------------------------------------ the estimator


class SoftmaxRegression:
    r"""Multinomial logistic (softmax) regression, a scikit-learn estimator written by hand.

    Parameters
    ----------
    C : float
        Inverse regularization strength, > 0.
    fit_intercept : bool
        Fit an unpenalized intercept per class.
    solver : str
        A key of :data:`expfam.learn.optimize.SOLVERS` (``"natural"``, ``"gd"``,
        ``"kfac"``, ``"empirical_fisher"``, ``"lbfgs"``); see
        :func:`expfam.learn.optimize.minimize`. ``"natural"``, the exact
        natural gradient (= Newton = IRLS) by conjugate gradient, is the default.
    tol : float
        Stop when the gradient of the mean loss, ``max |grad f| / (C sum s)``, is
        at most ``tol`` (scikit-learn's ``tol`` of its lbfgs solver).
    max_iter : int
        Stop after this many iterations, with a
        :class:`~expfam.exceptions.ConvergenceWarning`.

    Attributes
    ----------
    coef_ : ndarray, shape (K, D)
        The class weights W, one row per class in ``classes_`` order.
    intercept_ : ndarray, shape (K,)
        Zeros without ``fit_intercept``; otherwise summing to 0.
    classes_ : ndarray, shape (K,)
        The sorted label values; ``y`` may hold any labels of one kind (ints, strings).
    n_features_in_ : int
        D, the number of features seen in :meth:`fit`.
    n_iter_ : int
        Iterations of the solver.
    converged_ : bool
        Whether the tolerance was met (a ConvergenceWarning was given otherwise).
    history_ : dict of ndarray
        ``"objective"`` and ``"gradient_norm"`` (max-abs), at the start and
        after each iteration.

    Notes
    -----
    Minimizes (:func:`objective`), scikit-learn's multinomial objective,

    .. math::

        f(W, b) = C \sum_n s_n \left[\operatorname{logsumexp}(z_n) - z_{n, y_n}\right]
        + \tfrac12 \|W\|^2, \qquad z_n = W x_n + b,

    so ``coef_`` and ``intercept_`` compare with its ``LogisticRegression``
    number for number. For K = 2 both class rows are kept (``w_1 = -w_2``),
    which is scikit-learn's binary model with ``w = w_1 - w_2`` at twice the C.
    The estimator follows scikit-learn's API without depending on it
    (``get_params``, ``set_params``, ``__sklearn_tags__``, ``fit`` returning
    ``self``), so ``Pipeline``, ``cross_val_score`` and ``GridSearchCV`` take it.

    Examples
    --------
    >>> from expfam.datasets import load_iris
    >>> iris = load_iris()
    >>> model = SoftmaxRegression(C=1.0).fit(iris.data, iris.target)
    >>> model.coef_.shape, model.n_iter_ < 15, round(model.score(iris.data, iris.target), 2)
    ((3, 4), True, 0.97)
    """

    _PARAMETERS = ("C", "fit_intercept", "solver", "tol", "max_iter")
    _estimator_type = "classifier"

    def __init__(
        self,
        C: float = 1.0,
        fit_intercept: bool = True,
        solver: str = "natural",
        tol: float = 1e-6,
        max_iter: int = 100,
    ) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._PARAMETERS)
        return f"SoftmaxRegression({params})"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters by name, as scikit-learn's ``get_params``.

        Parameters
        ----------
        deep : bool
            Accepted for scikit-learn's signature; the estimator holds no
            sub-estimators, so it changes nothing.

        Returns
        -------
        dict of str to object
            ``C``, ``fit_intercept``, ``solver``, ``tol`` and ``max_iter`` as set.
        """
        return {k: getattr(self, k) for k in self._PARAMETERS}

    def set_params(self, **params: Any) -> SoftmaxRegression:
        """Set hyper-parameters by name (scikit-learn's ``set_params``); return ``self``.

        Parameters
        ----------
        **params : object
            New values of constructor arguments by name (``C``,
            ``fit_intercept``, ``solver``, ``tol``, ``max_iter``); another
            name is a ValueError. They are checked at the next :meth:`fit`.

        Returns
        -------
        SoftmaxRegression
            ``self``.
        """
        for key, value in params.items():
            if key not in self._PARAMETERS:
                raise ValueError(
                    f"{key}: not a parameter of SoftmaxRegression; expected one of "
                    f"{', '.join(self._PARAMETERS)}"
                )
            setattr(self, key, value)
        return self

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags (called by scikit-learn only, which it imports)."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(),
            input_tags=InputTags(),
        )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "coef_")

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> SoftmaxRegression:
        """Fit the model to features X (N, D) and labels y (N,); return ``self``.

        Parameters
        ----------
        X : array_like, shape (N, D)
            Finite real features, one sample per row (dense; ``N, D >= 1``).
        y : array_like, shape (N,)
            The labels: numbers with integer values, bools or strings, all of
            one kind, at least 2 distinct; they become :attr:`classes_`.
        sample_weight : array_like, shape (N,) or float, optional
            Non-negative finite weights ``s_n`` with a positive sum; default all 1.

        Returns
        -------
        SoftmaxRegression
            ``self``, with ``coef_``, ``intercept_``, ``classes_``,
            ``n_features_in_``, ``n_iter_``, ``converged_`` and ``history_`` set
            (a ConvergenceWarning if ``max_iter`` stopped the solver).
        """
        optimize.check_solver(self.solver)
        X = _design(X)
        classes, codes = _class_labels(y, X.shape[0])
        if len(classes) < 2:
            raise ValueError(
                f"y: expected at least 2 classes, got one class ({classes.tolist()!r})"
            )
        problem = SoftmaxProblem.build(
            X, codes, len(classes), self.C, sample_weight, self.fit_intercept
        )
        result = optimize.minimize(
            problem, np.zeros(problem.shape), self.solver, self.tol, self.max_iter
        )
        d = X.shape[1]
        self.coef_ = result.coef[:, :d].copy()
        self.intercept_ = (
            result.coef[:, d].copy() if self.fit_intercept else np.zeros(len(classes))
        )
        self.classes_ = classes
        self.n_features_in_ = d
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.history_ = result.history
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                "This SoftmaxRegression is not fitted yet: call fit(X, y) before using it"
            )

    def _logit_parts(self, X: ArrayLike) -> tuple[NDArray, NDArray, np.dtype]:
        """``(u, m, dtype)`` with logits ``z = m u``: ``m`` a power of 2 per row, ``u`` finite.

        Rows of X beyond ``2^500`` are divided by a power of two (exactly) that
        leaves them below ``2^24``, so that ``u = W (x / m) + b / m`` cannot
        overflow; ``m = 1`` elsewhere.
        """
        self._fitted()
        arr = np.asarray(X)
        Xf = _design(arr)
        if Xf.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X: has {Xf.shape[1]} features, but SoftmaxRegression is expecting "
                f"{self.n_features_in_} features as input"
            )
        dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64)
        big = np.max(np.abs(Xf), axis=1)
        m = np.where(big > 2.0**500, np.ldexp(1.0, np.frexp(big)[1] - 24), 1.0)  # |x/m| < 2^24
        u = (Xf / m[:, None]) @ self.coef_.T + self.intercept_ / m[:, None]
        return u, m, dtype

    def decision_function(self, X: ArrayLike) -> NDArray:
        r"""Logits ``z_n = W x_n + b``, shape (N, K); for K = 2 the log-odds ``z_n1 - z_n0``, (N,).

        .. math::

            z_n = W x_n + b, \qquad s_n = z_{n1} - z_{n0} \ \text{for } K = 2

        The two-class form is scikit-learn's convention (a positive score
        predicts ``classes_[1]``), which its scorers (``roc_auc``) rely on.

        Parameters
        ----------
        X : array_like, shape (N, D)
            Finite real features, one sample per row (dense; D as in :meth:`fit`).

        Returns
        -------
        ndarray, shape (N, K), or (N,) for K = 2
            The logits ``W x_n + b`` (columns in ``classes_`` order), or the
            log-odds of ``classes_[1]``; in X's float dtype (float64 for ints),
            values beyond the float range ``+-inf`` (no warning).
        """
        u, m, dtype = self._logit_parts(X)
        if u.shape[1] == 2:
            u = u[:, 1] - u[:, 0]
            with np.errstate(over="ignore"):
                return (m * u).astype(dtype)
        with np.errstate(over="ignore"):
            return (m[:, None] * u).astype(dtype)

    def _shifted_logits(self, X: ArrayLike) -> tuple[NDArray, np.dtype]:
        """Logits up to a per-row shift (softmax's invariance): ``m (u - max u)`` for large rows.

        For rows of X beyond ``2^500`` the shifted logits ``m (u - max u)`` are
        formed exactly in ``m`` (a power of two) and overflow only to ``-inf``,
        the limit of a class infinitely far below the top one.
        """
        u, m, dtype = self._logit_parts(X)
        with np.errstate(over="ignore"):
            shifted = m[:, None] * (u - np.max(u, axis=1, keepdims=True))
        return np.where(m[:, None] == 1.0, u, shifted), dtype

    def predict_proba(self, X: ArrayLike) -> NDArray:
        r"""Class probabilities ``softmax(z_n)``, shape (N, K), columns in ``classes_`` order.

        .. math::

            P(y = k \mid x_n) = \operatorname{softmax}(W x_n + b)_k

        Logits beyond the float range give their limit (no overflow, no warning).

        Parameters
        ----------
        X : array_like, shape (N, D)
            Finite real features, one sample per row (dense; D as in :meth:`fit`).

        Returns
        -------
        ndarray, shape (N, K)
            The probabilities, rows summing to 1, in X's float dtype (float64
            for ints).
        """
        z, dtype = self._shifted_logits(X)
        return special.softmax(z).astype(dtype)

    def predict_log_proba(self, X: ArrayLike) -> NDArray:
        r"""Log-probabilities ``log_softmax(z_n)``, shape (N, K).

        .. math::

            \log P(y = k \mid x_n) = z_{nk} - \log \sum_j e^{z_{nj}}, \qquad z_n = W x_n + b

        Parameters
        ----------
        X : array_like, shape (N, D)
            Finite real features, one sample per row (dense; D as in :meth:`fit`).

        Returns
        -------
        ndarray, shape (N, K)
            The log-probabilities (``<= 0``), columns in ``classes_`` order, in
            X's float dtype (float64 for ints).
        """
        z, dtype = self._shifted_logits(X)
        return special.log_softmax(z).astype(dtype)

    def predict(self, X: ArrayLike) -> NDArray:
        """The most probable class label of each row, shape (N,).

        Parameters
        ----------
        X : array_like, shape (N, D)
            Finite real features, one sample per row (dense; D as in :meth:`fit`).

        Returns
        -------
        ndarray, shape (N,)
            ``classes_[argmax_k z_nk]``, the first of tied classes.
        """
        u, _, _ = self._logit_parts(X)
        return self.classes_[np.argmax(u, axis=1)]

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        r"""Accuracy: the (weighted) fraction of rows whose label is predicted.

        .. math::

            \mathrm{acc} = \frac{\sum_n s_n [\hat y_n = y_n]}{\sum_n s_n}

        Parameters
        ----------
        X : array_like, shape (N, D)
            Finite real features, one sample per row (dense; D as in :meth:`fit`).
        y : array_like, shape (N,)
            The true labels.
        sample_weight : array_like, shape (N,) or float, optional
            Non-negative finite weights with a positive sum; default all 1.

        Returns
        -------
        float
            ``sum_n s_n [predict(X)_n = y_n] / sum_n s_n``, in ``[0, 1]``.
        """
        hits = self.predict(X) == np.asarray(y)
        return float(np.average(hits, weights=_sample_weights(sample_weight, len(hits))))


_RENAMED = {"fisher_vp": "regression_fisher_vp", "natural_gradient": "regression_natural_gradient"}


def __getattr__(name: str) -> Any:
    """The 0.1 names ``fisher_vp`` and ``natural_gradient``: deprecated aliases."""
    if name in _RENAMED:
        warnings.warn(
            f"expfam.learn.{name} is deprecated and will be removed in the next release: use "
            f"expfam.learn.{_RENAMED[name]} (Categorical.{name} is the family's own)",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[_RENAMED[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
