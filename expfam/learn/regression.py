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

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam import special
from expfam._core.exceptions import NotFittedError
from expfam.learn import optimize

__all__ = [
    "SoftmaxRegression",
    "empirical_fisher",
    "fisher",
    "fisher_vp",
    "gradient",
    "hessian",
    "natural_gradient",
    "objective",
]


# ------------------------------------------------------------------ arguments


def _design(X: ArrayLike, name: str = "X") -> NDArray[np.float64]:
    """``X`` as a finite float64 (N, D) array."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got an array of dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (N samples, D features), got {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return arr


def _weights(sample_weight: ArrayLike | None, n: int) -> NDArray[np.float64]:
    """Sample weights as a non-negative (N,) float64 array, ones by default."""
    if sample_weight is None:
        return np.ones(n)
    s = np.asarray(sample_weight, dtype=np.float64)
    if s.shape != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), got {s.shape}")
    if not (np.isfinite(s).all() and (s >= 0).all()):
        raise ValueError("sample_weight: expected finite non-negative weights")
    if not s.sum() > 0:
        raise ValueError("sample_weight: all weights are 0")
    return s


def _penalty(C: float) -> float:
    try:
        value = float(C)
    except (TypeError, ValueError):
        raise TypeError(f"C: expected a positive number, got {C!r}") from None
    if not (value > 0 and np.isfinite(value)):
        raise ValueError(f"C: the inverse regularization strength must be > 0, got {C!r}")
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


# ------------------------------------------------------------------ the objective


def log_softmax_rows(Z: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log softmax`` of the rows of a finite float64 (N, K) array: the solvers' fast path.

    ``d - log1p(t)`` with ``d = z - max z`` and ``t`` the sum of ``exp(d)``
    over the non-maximal classes: two terms of one sign, and ``log1p`` keeps
    the loss of a confident right prediction (``t`` below machine epsilon)
    instead of rounding it to 0. The error is at most ``4 u max(1, |log p|)``
    (u = 2^-53; ``tests/learn/test_regression.py`` holds it against mpmath):
    a few ULP where ``|log p| >= 1``, and a few ``u`` absolute below, where
    the rounding of the shift ``d``, amplified by ``exp``, makes tiny
    ``|log p|`` lose relative digits. A sum of losses only needs the absolute
    bound. Solvers evaluate it thousands of times on small arrays, where
    ``expfam.log_softmax``'s last-digit machinery (exact shifts,
    double-double, row blocks) costs 10 to 20 times more.
    """
    n = np.arange(Z.shape[0])
    top = np.argmax(Z, axis=1)
    d = Z - Z[n, top][:, None]
    e = np.exp(d)
    e[n, top] = 0.0
    return d - np.log1p(np.sum(e, axis=1, keepdims=True))


@dataclass(frozen=True, eq=False)
class Problem:
    """The objective of softmax regression on fixed data: what the solvers work on.

    ``X1`` is the design with a column of ones appended when the intercept
    is fitted; ``mask`` is 1 on the penalized columns and 0 on the
    intercept. Parameters are arrays of shape ``(K, D1)``.
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
    ) -> Problem:
        """Validate the data and build the problem."""
        X = _design(X)
        n = X.shape[0]
        X1 = np.hstack([X, np.ones((n, 1))]) if fit_intercept else X
        mask = np.ones(X1.shape[1])
        if fit_intercept:
            mask[-1] = 0.0
        return cls(X1, _indices(y, n, k), k, _penalty(C), _weights(sample_weight, n), mask)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.k, self.X1.shape[1])

    @property
    def gradient_scale(self) -> float:
        """``C sum_n s_n``: the gradient divided by it is that of the mean loss."""
        return self.C * float(self.s.sum())

    def check(self, coef: ArrayLike, name: str = "coef") -> NDArray[np.float64]:
        W = np.asarray(coef, dtype=np.float64)
        if W.shape != self.shape:
            raise ValueError(f"{name}: expected shape {self.shape}, got {W.shape}")
        return W

    def log_probs(self, W: NDArray) -> NDArray[np.float64]:
        """log p_n, shape (N, K) (:func:`log_softmax_rows` of the logits)."""
        return log_softmax_rows(self.X1 @ W.T)

    def value(self, W: NDArray) -> float:
        """The objective f(W)."""
        lp = self.log_probs(W)
        loss = -np.take_along_axis(lp, self.y[:, None], axis=1)[:, 0]
        return self.C * float(self.s @ loss) + 0.5 * float(np.sum((W * self.mask) ** 2))

    def evaluate(self, W: NDArray) -> tuple[float, NDArray, NDArray]:
        """``(f(W), grad f(W), P)``; P (N, K) the probabilities, for the curvature."""
        lp = self.log_probs(W)
        loss = -np.take_along_axis(lp, self.y[:, None], axis=1)[:, 0]
        value = self.C * float(self.s @ loss) + 0.5 * float(np.sum((W * self.mask) ** 2))
        P = np.exp(lp)
        R = P.copy()
        R[np.arange(len(self.y)), self.y] -= 1.0  # P - Y without forming Y
        return value, self.C * ((self.s[:, None] * R).T @ self.X1) + W * self.mask, P

    def fisher_vp(self, P: NDArray, V: NDArray) -> NDArray:
        """``sum_n s_n [(diag p_n - p_n p_n^T) V x_n] x_n^T``, O(N K D)."""
        U = self.X1 @ V.T  # row n: V x_n
        R = P * U - P * np.sum(P * U, axis=1, keepdims=True)  # the categorical's F u
        return (self.s[:, None] * R).T @ self.X1

    def hessian_vp(self, P: NDArray, V: NDArray) -> NDArray:
        """Hessian of the objective times V: ``C F V + mask * V``."""
        return self.C * self.fisher_vp(P, V) + self.mask * V

    def penalty_hessian(self) -> NDArray:
        """The penalty's Hessian, ``diag(vec(mask))``: 1 on the weights, 0 on the intercept."""
        return np.diag(np.tile(self.mask, self.k))

    def hessian_diag(self, P: NDArray) -> NDArray:
        """The diagonal of the Hessian (a Jacobi preconditioner), shape (K, D1)."""
        return self.C * ((self.s[:, None] * P * (1.0 - P)).T @ self.X1**2) + self.mask

    def lipschitz(self) -> float:
        """A Lipschitz constant of the gradient: ``C lambda_max(X^T S X) / 2 + 1``.

        ``diag p - p p^T`` has eigenvalues in [0, 1/2], so F is at most
        ``(1/2) I (x) X^T S X``.
        """
        gram = (self.s[:, None] * self.X1).T @ self.X1
        return 0.5 * self.C * float(np.linalg.eigvalsh(gram)[-1]) + float(self.mask.max())

    def kfac_factors(self, P: NDArray) -> tuple[NDArray, NDArray]:
        """K-FAC: ``F ~ G (x) A`` with G the mean class covariance and A = X^T S X."""
        total = float(self.s.sum())
        sp = self.s[:, None] * P
        G = (np.diag(sp.sum(axis=0)) - sp.T @ P) / total
        A = (self.s[:, None] * self.X1).T @ self.X1
        return G, A

    def per_sample_gradients(self, P: NDArray) -> NDArray:
        """``g_n = (p_n - e_{y_n}) (x) x_n``, shape (N, K * D1) (row-major vec)."""
        R = P.copy()
        R[np.arange(len(self.y)), self.y] -= 1.0
        return (R[:, :, None] * self.X1[:, None, :]).reshape(len(self.y), -1)

    def fisher(self, P: NDArray) -> NDArray:
        """The dense Fisher (K D1, K D1), row-major vec of (K, D1)."""
        k, d1 = self.shape
        blocks = np.einsum("nk,nd,ne->kde", self.s[:, None] * P, self.X1, self.X1)
        F = np.zeros((k, d1, k, d1))
        F[np.arange(k), :, np.arange(k), :] = blocks
        U = (P[:, :, None] * self.X1[:, None, :]).reshape(len(self.y), -1)
        return F.reshape(k * d1, k * d1) - (self.s[:, None] * U).T @ U


# ------------------------------------------------------------------ the functional core


def _problem(coef, X, y, C, sample_weight, fit_intercept) -> tuple[Problem, NDArray]:
    W = np.asarray(coef, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] < 2:
        raise ValueError(f"coef: expected a (K, D) array with K >= 2, got shape {W.shape}")
    n = np.shape(X)[0] if np.ndim(X) == 2 else 0
    labels = np.zeros(n, dtype=np.intp) if y is None else y
    problem = Problem.build(X, labels, W.shape[0], C, sample_weight, fit_intercept)
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
    """The softmax-regression objective (scikit-learn's multinomial L2 objective).

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
    Each log-loss is within ``4 u max(1, loss)`` (:func:`log_softmax_rows`),
    so the objective is accurate to a few ``u`` times the sum of the
    weighted losses plus the rounding of the sums.

    Examples
    --------
    >>> X = [[1.0, 0.0], [0.0, 1.0]]
    >>> round(objective([[0.0, 0.0], [0.0, 0.0]], X, [0, 1]), 6)  # 2 log 2
    1.386294
    """
    problem, W = _problem(coef, X, y, C, sample_weight, fit_intercept)
    return problem.value(W)


def gradient(
    coef: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    C: float = 1.0,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
) -> NDArray[np.float64]:
    """Gradient of :func:`objective`: ``C (P - Y)^T S X + W`` (intercept unpenalized).

    Parameters are those of :func:`objective`.

    Returns
    -------
    ndarray, shape of ``coef``
        Row k is ``C sum_n s_n (p_nk - [y_n = k]) x_n + w_k``, with a last
        entry ``C sum_n s_n (p_nk - [y_n = k])`` for the intercept.

    Notes
    -----
    The residual ``p - y``, per sample, times ``x_n^T`` (derivation 30).
    Rows sum to ``sum_k w_k`` (the loss part sums to 0 over classes).

    Examples
    --------
    >>> gradient([[0.0], [0.0]], [[2.0]], [0])  # (p - y) x = (0.5 - 1, 0.5) * 2
    array([[-1.],
           [ 1.]])
    """
    problem, W = _problem(coef, X, y, C, sample_weight, fit_intercept)
    return problem.evaluate(W)[1]


def fisher_vp(
    coef: ArrayLike,
    X: ArrayLike,
    V: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
) -> NDArray[np.float64]:
    """The Fisher information of the model, in parameter space, applied to V.

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
    >>> fisher_vp([[0.0], [0.0]], [[2.0]], [[1.0], [0.0]])  # (diag p - p p^T) (1, 0) * 4
    array([[ 1.],
           [-1.]])
    """
    problem, W = _problem(coef, X, None, 1.0, sample_weight, fit_intercept)
    P = np.exp(problem.log_probs(W))
    return problem.fisher_vp(P, problem.check(V, "V"))


def fisher(
    coef: ArrayLike,
    X: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
) -> NDArray[np.float64]:
    """The dense Fisher information matrix, (K D1, K D1), row-major order of ``coef``.

    Parameters are those of :func:`fisher_vp`.

    Notes
    -----
    ``sum_n s_n (diag p_n - p_n p_n^T) (x) x_n x_n^T``: (K D)^2 memory, for
    study and tests; solvers use :func:`fisher_vp`.

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
    """The dense Hessian of :func:`objective`: ``C F + diag(penalty)``; no labels needed.

    Parameters are those of :func:`objective` without ``y``.

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
    """The empirical Fisher ``sum_n s_n g_n g_n^T``, g_n the per-sample gradient at y_n.

    Parameters are those of :func:`objective` without ``C``.

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


def natural_gradient(
    coef: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    *,
    C: float = 1.0,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = False,
    rtol: float = 1e-12,
) -> NDArray[np.float64]:
    """The natural gradient of :func:`objective`: ``H^+ g``, by conjugate gradient.

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
    link). Conjugate gradient runs on :func:`fisher_vp` products, Jacobi
    preconditioned, O(N K D) per iteration; the intercept's null direction
    (``b + c 1``) is projected out, which leaves the minimum-norm solution.

    Examples
    --------
    >>> X, y = [[1.0], [-1.0], [2.0]], [0, 1, 1]
    >>> d = natural_gradient([[0.0], [0.0]], X, y)
    >>> np.allclose(hessian([[0.0], [0.0]], X) @ d.ravel(), gradient([[0.0], [0.0]], X, y).ravel())
    True
    """
    problem, W = _problem(coef, X, y, C, sample_weight, fit_intercept)
    _, g, P = problem.evaluate(W)
    return optimize.newton_direction(problem, P, g, rtol)


# ------------------------------------------------------------------ the estimator


class SoftmaxRegression:
    """Multinomial logistic (softmax) regression, with scikit-learn's conventions.

    Parameters
    ----------
    C : float
        Inverse regularization strength, > 0.
    fit_intercept : bool
        Fit an unpenalized intercept per class.
    solver : {"natural", "gd", "kfac", "empirical_fisher", "lbfgs"}
        See :func:`expfam.learn.optimize.minimize`. ``"natural"``, the exact
        natural gradient (= Newton = IRLS) by conjugate gradient, is the default.
    tol : float
        Stop when ``max |grad f| <= tol * C * sum(s)`` (scikit-learn's ``tol``
        of its lbfgs solver: the gradient of the mean loss).
    max_iter : int
        Stop after this many iterations, with a
        :class:`~expfam.exceptions.ConvergenceWarning`.

    Attributes
    ----------
    coef_ : ndarray, shape (K, D)
    intercept_ : ndarray, shape (K,)
        Zeros without ``fit_intercept``; otherwise summing to 0.
    classes_ : ndarray, shape (K,)
        The sorted label values; ``y`` may hold any labels (ints, strings).
    n_iter_ : int
    history_ : dict of ndarray
        ``"objective"`` and ``"gradient_norm"`` (max-abs), at the start and
        after each iteration.

    Notes
    -----
    Minimizes ``C sum_n s_n [logsumexp(z_n) - z_{n, y_n}] + ||W||^2 / 2``,
    ``z_n = W x_n + b`` (:func:`objective`), scikit-learn's multinomial
    objective, so ``coef_`` and ``intercept_`` compare with its
    ``LogisticRegression`` number for number. For K = 2 both class rows are
    kept (``w_1 = -w_2``), which is scikit-learn's binary model with
    ``w = w_1 - w_2`` at twice the C.

    Examples
    --------
    >>> from expfam.datasets import load_iris
    >>> iris = load_iris()
    >>> model = SoftmaxRegression(C=1.0).fit(iris.data, iris.target)
    >>> model.coef_.shape, model.n_iter_ < 15, round(model.score(iris.data, iris.target), 2)
    ((3, 4), True, 0.97)
    """

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
        return (
            f"SoftmaxRegression(C={self.C!r}, fit_intercept={self.fit_intercept!r}, "
            f"solver={self.solver!r}, tol={self.tol!r}, max_iter={self.max_iter!r})"
        )

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> SoftmaxRegression:
        """Fit the model to features X (N, D) and labels y (N,); return ``self``."""
        optimize.check_solver(self.solver)
        X = _design(X)
        labels = np.asarray(y)
        if labels.ndim != 1 or labels.shape[0] != X.shape[0]:
            raise ValueError(
                f"y: expected {X.shape[0]} labels (one per row of X), got shape {labels.shape}"
            )
        classes, codes = np.unique(labels, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"y: needs at least 2 classes, got only {classes.tolist()}")
        problem = Problem.build(X, codes, len(classes), self.C, sample_weight, self.fit_intercept)
        result = optimize.minimize(
            problem, np.zeros(problem.shape), self.solver, self.tol, self.max_iter
        )
        d = X.shape[1]
        self.coef_ = result.coef[:, :d].copy()
        self.intercept_ = (
            result.coef[:, d].copy() if self.fit_intercept else np.zeros(len(classes))
        )
        self.classes_ = classes
        self.n_iter_ = result.n_iter
        self.history_ = result.history
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                "This SoftmaxRegression is not fitted yet: call fit(X, y) before using it"
            )

    def decision_function(self, X: ArrayLike) -> NDArray:
        """Logits ``z_n = W x_n + b``, shape (N, K), in X's float dtype (float64 for ints)."""
        self._fitted()
        arr = np.asarray(X)
        Xf = _design(arr)
        if Xf.shape[1] != self.coef_.shape[1]:
            raise ValueError(
                f"X: has {Xf.shape[1]} features, the model was fitted with {self.coef_.shape[1]}"
            )
        dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64)
        return (Xf @ self.coef_.T + self.intercept_).astype(dtype)

    def predict_proba(self, X: ArrayLike) -> NDArray:
        """Class probabilities ``softmax(z_n)``, shape (N, K), columns in ``classes_`` order."""
        return special.softmax(self.decision_function(X))

    def predict_log_proba(self, X: ArrayLike) -> NDArray:
        """Log-probabilities ``log_softmax(z_n)``, shape (N, K)."""
        return special.log_softmax(self.decision_function(X))

    def predict(self, X: ArrayLike) -> NDArray:
        """The most probable class label of each row, shape (N,)."""
        logits = self.decision_function(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Accuracy: the (weighted) fraction of rows whose label is predicted."""
        hits = self.predict(X) == np.asarray(y)
        return float(np.average(hits, weights=_weights(sample_weight, len(hits))))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters, as scikit-learn's ``get_params``."""
        return {k: getattr(self, k) for k in ("C", "fit_intercept", "solver", "tol", "max_iter")}
