"""Recalibration maps: temperature, vector, matrix and Dirichlet scaling, and Platt scaling.

Each map is a small estimator fitted on held-out logits by minimizing the
negative log-likelihood of the labels, with ``fit`` (returning ``self``),
``transform`` (the calibrated logits) and ``predict_proba``
(``softmax`` of them):

- :class:`TemperatureScaling`: ``beta z`` (1 parameter);
- :class:`VectorScaling`: ``a * z + b``, a scale and a bias per class (2K);
- :class:`MatrixScaling`: ``A z + b`` (K^2 + K);
- :class:`DirichletCalibration`: ``A log softmax(z) + b`` (K^2 + K);
- :class:`PlattScaling`: ``a s + b`` for a binary score ``s`` (2).

Every calibrated logit is linear in the parameters, so the NLL
``sum_n w_n [logsumexp(u_n) - u_{n, y_n}]`` is convex in them (a convex
function of an affine map), with the Hessian ``J^T (diag p - p p^T) J`` of
softmax regression: for matrix and Dirichlet scaling it is exactly softmax
regression's Fisher, ``sum_n (diag p_n - p_n p_n^T) (x) x_n x_n^T`` with
``x_n = (z_n, 1)``. Temperature scaling is solved by
:func:`~expfam.learn.calibration.fit_temperature`; the others by the exact
natural gradient (= Newton, by conjugate gradient on Fisher-vector products,
with an Armijo line search) of :func:`expfam.learn.optimize.minimize`. A fit
that stops short of its tolerance warns with :class:`ConvergenceWarning`
and sets ``converged_ = False``. On separable data the NLL has no
minimum (its infimum is 0): the parameters grow until the gradient is below
``tol`` and the probabilities approach 0 and 1; a penalty (``off_diagonal``,
``intercept``, ``l2``) restores a finite optimum.

The maps are numpy-only: a torch, JAX or other array-API array passed to
``fit``, ``transform`` or ``predict_proba`` is refused with a TypeError
naming the argument, not converted (the result would carry no gradient and
live on the host). On such arrays,
:func:`~expfam.learn.calibration.fit_temperature` fits the temperature and
``beta * logits`` applies it, with its gradient.

Dirichlet calibration (Kull et al., 2019) is matrix scaling on the
log-probabilities, with the ODIR penalty: ``lambda / (K (K - 1))`` times the
sum of the squared off-diagonal entries of ``A`` and ``mu / K`` times the
squared intercepts, added to the mean NLL.

References
----------
C. Guo, G. Pleiss, Y. Sun and K. Weinberger, "On calibration of modern neural
networks", ICML 2017. M. Kull, M. Perello-Nieto, M. Kängsepp, T. Silva Filho,
H. Song and P. Flach, "Beyond temperature scaling: obtaining well-calibrated
multiclass probabilities with Dirichlet calibration", NeurIPS 2019.
J. Platt, "Probabilistic outputs for support vector machines and comparisons
to regularized likelihood methods", 1999.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from expfam import special
from expfam._core.args import as_real
from expfam._core.dispatch import tier_of
from expfam._core.exceptions import NotFittedError
from expfam.learn import optimize
from expfam.learn.calibration import _check_labels, _check_logits, _check_weights, fit_temperature

__all__ = [
    "DirichletCalibration",
    "MatrixScaling",
    "PlattScaling",
    "TemperatureScaling",
    "VectorScaling",
]


# ------------------------------------------------------------------ the objective


@dataclass(frozen=True, eq=False)
class _AffineProblem:
    """The penalized NLL of calibrated logits linear in the parameters W.

    ``kind = "vector"``: ``W`` is (K, 2), ``u_nk = W_k0 x_nk + W_k1``;
    ``kind = "matrix"``: ``W`` is (K, D + 1), ``u_n = W [x_n; 1]``.
    The objective is ``sum_n s_n [logsumexp(u_n) - t_n . u_n] + (1/2) sum penalty * W^2``
    with ``s`` summing to 1 and ``t_n`` the target distributions (one-hot or
    Platt's smoothed targets). It has the duck type that
    :func:`expfam.learn.optimize.minimize` solves (the
    :class:`~expfam.learn.optimize.Problem` protocol; the null directions,
    where there are any, are left to the conjugate gradient's minimum-norm
    step).
    """

    X: NDArray
    t: NDArray
    s: NDArray
    kind: str
    penalty: NDArray

    @property
    def shape(self) -> tuple[int, int]:
        return self.penalty.shape

    def remove_null(self, d: NDArray) -> NDArray:
        return d

    def objective_scale(self) -> float:
        return 1.0

    def check(self, coef: ArrayLike, name: str = "coef") -> NDArray:
        return np.asarray(coef, dtype=np.float64).reshape(self.shape)

    def logits(self, W: NDArray) -> NDArray:
        """``u = J(W)``, shape (n, K); linear in W."""
        if self.kind == "vector":
            return self.X * W[:, 0] + W[:, 1]
        return self.X @ W[:, :-1].T + W[:, -1]

    def pullback(self, R: NDArray) -> NDArray:
        """``J^T R`` for R of shape (n, K): the gradient in W of ``sum R * u``."""
        if self.kind == "vector":
            return np.stack([np.sum(R * self.X, axis=0), np.sum(R, axis=0)], axis=1)
        return np.hstack([R.T @ self.X, np.sum(R, axis=0)[:, None]])

    def _loss(self, W: NDArray) -> tuple[float, NDArray]:
        lp = special.log_softmax(self.logits(W), axis=-1)
        value = -float(self.s @ np.sum(self.t * lp, axis=1))
        return value + 0.5 * float(np.sum(self.penalty * W**2)), lp

    def value(self, W: NDArray) -> float:
        return self._loss(W)[0]

    def evaluate(self, W: NDArray) -> tuple[float, NDArray, NDArray]:
        value, lp = self._loss(W)
        P = np.exp(lp)
        return value, self.pullback(self.s[:, None] * (P - self.t)) + self.penalty * W, P

    def hessian_vp(self, P: NDArray, V: NDArray) -> NDArray:
        """``J^T S (diag p - p p^T) J V + penalty * V``."""
        U = self.logits(V)
        R = P * U - P * np.sum(P * U, axis=1, keepdims=True)
        return self.pullback(self.s[:, None] * R) + self.penalty * V

    def hessian_diag(self, P: NDArray) -> NDArray:
        """The diagonal of the Hessian (Jacobi preconditioner), floored above 0."""
        q = self.s[:, None] * P * (1.0 - P)
        if self.kind == "vector":
            d = np.stack([np.sum(q * self.X**2, axis=0), np.sum(q, axis=0)], axis=1)
        else:
            d = np.hstack([q.T @ self.X**2, np.sum(q, axis=0)[:, None]])
        d = d + self.penalty
        return np.maximum(d, 1e-12 * max(float(np.max(d)), np.finfo(float).tiny))


# ------------------------------------------------------------------ the maps


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def _check_penalty(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name}: expected a number >= 0, got {value!r}")
    if not (0 <= float(value) < np.inf):
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)


def _numpy_only(x: ArrayLike, name: str) -> ArrayLike:
    """``x``, unless it is a torch, JAX, dask or other array-API array: those are refused."""
    if tier_of(**{name: x}) != "numpy":
        raise TypeError(
            f"{name}: expected a numpy array, got a {type(x).__module__.partition('.')[0]} "
            "array (the recalibration maps are numpy-only; fit_temperature takes it)"
        )
    return x


class _Recalibrator:
    """Shared door of the maps: argument checks, the fitted check, predict_proba."""

    def _fitted(self) -> None:
        if not hasattr(self, "n_iter_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit(logits, labels) "
                "before transform or predict_proba"
            )

    def _read(self, logits: ArrayLike) -> NDArray:
        self._fitted()
        z = _check_logits(_numpy_only(logits, "logits"))
        if z.shape[1] != self.n_classes_:
            raise ValueError(
                f"logits: expected {self.n_classes_} classes (as in fit), got {z.shape[1]}"
            )
        return z

    transform: Any  # each map's calibrated logits, shape (n, K)

    def predict_proba(self, logits: ArrayLike) -> NDArray:
        """Calibrated probabilities ``softmax(transform(logits))``, shape (n, K).

        Parameters
        ----------
        logits : array_like, shape (n, K)
            Finite logits of n held-out samples, ``K >= 2`` (not probabilities:
            pass ``np.log(probs)`` for a model that outputs probabilities).
            The number of classes is the one seen by ``fit``.

        Returns
        -------
        ndarray, shape (n, K)
            The calibrated class probabilities, rows summing to 1.
        """
        return special.softmax(self.transform(logits))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters, as scikit-learn's ``get_params``.

        Parameters
        ----------
        deep : bool
            Accepted for scikit-learn's signature; the maps hold no
            sub-estimators, so it changes nothing.

        Returns
        -------
        dict of str to object
            The constructor's arguments by name, as set on the instance.
        """
        return {k: getattr(self, k) for k in self._params}

    _params: tuple[str, ...] = ()


class TemperatureScaling(_Recalibrator):
    r"""Temperature scaling: one inverse temperature for every logit.

    .. math::

        u_n = \beta z_n, \quad \beta^* = \arg\min_{\beta \ge 0}
        \sum_n w_n \left[\log \sum_k e^{\beta z_{nk}} - \beta z_{n y_n}\right]

    The path ``beta -> softmax(beta z)`` is the e-geodesic from the
    uniform distribution through ``softmax(z)``; fitted by
    :func:`~expfam.learn.calibration.fit_temperature`.

    Parameters
    ----------
    max_iter : int
        Step limit of the fit.

    Attributes
    ----------
    beta_ : float
        The fitted inverse temperature (0 or inf at a boundary, with a
        :class:`~expfam.exceptions.CalibrationWarning`).
    n_classes_ : int
        K, the number of classes seen by :meth:`fit`.
    n_iter_ : int
        Steps of the solver.
    converged_ : bool
        Whether the solver met its stopping rule.

    Examples
    --------
    >>> z = np.array([[2.0, 0.0, 0.0]] * 4)
    >>> scaler = TemperatureScaling().fit(z, [0, 0, 0, 1])
    >>> scaler.predict_proba(z)[0].round(6)  # the top class is right 3 times in 4
    array([0.75 , 0.125, 0.125])
    """

    _params = ("max_iter",)

    def __init__(self, max_iter: int = 100) -> None:
        self.max_iter = max_iter

    def fit(
        self, logits: ArrayLike, labels: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> TemperatureScaling:
        r"""Fit ``beta`` on held-out logits (n, K) and labels (n,); return ``self``.

        .. math::

            \beta^* = \arg\min_{\beta \ge 0} \frac{\sum_n w_n \left[\log \sum_k
            e^{\beta z_{nk}} - \beta z_{n y_n}\right]}{\sum_n w_n}

        Parameters
        ----------
        logits : array_like, shape (n, K)
            Finite logits of n held-out samples, ``K >= 2`` (not probabilities:
            pass ``np.log(probs)`` for a model that outputs probabilities).
        labels : array_like of int, shape (n,)
            Their classes, indices in ``[0, K)``.
        sample_weight : array_like, shape (n,), optional
            Non-negative finite weights, not all 0; default all 1.

        Returns
        -------
        TemperatureScaling
            ``self``, with ``beta_``, ``n_classes_``, ``n_iter_`` and
            ``converged_`` set (by :func:`~expfam.learn.calibration.fit_temperature`).
        """
        _numpy_only(logits, "logits")
        _numpy_only(labels, "labels")
        result = fit_temperature(logits, labels, sample_weight, max_iter=self.max_iter)
        self.beta_ = result.beta
        self.n_classes_ = np.shape(logits)[1]
        self.n_iter_ = result.iterations
        self.converged_ = result.converged
        return self

    def transform(self, logits: ArrayLike) -> NDArray:
        r"""``beta z``; at ``beta = inf``, the limit: 0 on the top logits and -inf elsewhere.

        .. math::

            u_n = \beta z_n

        Parameters
        ----------
        logits : array_like, shape (n, K)
            Finite logits of n held-out samples, ``K >= 2`` (not probabilities:
            pass ``np.log(probs)`` for a model that outputs probabilities).
            The number of classes is the one seen by :meth:`fit`.

        Returns
        -------
        ndarray, shape (n, K)
            The calibrated logits ``beta_ * logits``.
        """
        z = self._read(logits)
        if self.beta_ == np.inf:
            return np.where(z == np.max(z, axis=1, keepdims=True), 0.0, -np.inf)
        return self.beta_ * z


class _AffineMap(_Recalibrator):
    """Vector, matrix and Dirichlet scaling: a penalized affine map fitted by Newton."""

    kind = "matrix"

    def _features(self, z: NDArray) -> NDArray:
        return z

    _penalty: Any  # the per-parameter L2 coefficients, shape of coef_

    def _start(self, k: int) -> NDArray:
        if self.kind == "vector":
            return np.column_stack([np.ones(k), np.zeros(k)])
        return np.hstack([np.eye(k), np.zeros((k, 1))])

    def fit(
        self, logits: ArrayLike, labels: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Any:
        """Fit on held-out logits (n, K) and labels (n,); return ``self``.

        Parameters
        ----------
        logits : array_like, shape (n, K)
            Finite logits of n held-out samples, ``K >= 2`` (not probabilities:
            pass ``np.log(probs)`` for a model that outputs probabilities).
        labels : array_like of int, shape (n,)
            Their classes, indices in ``[0, K)``.
        sample_weight : array_like, shape (n,), optional
            Non-negative finite weights, not all 0; default all 1.

        Returns
        -------
        VectorScaling, MatrixScaling or DirichletCalibration
            ``self``, with ``coef_``, ``n_classes_``, ``n_iter_``,
            ``converged_`` and ``history_`` set (a :class:`ConvergenceWarning`
            if ``max_iter`` steps did not meet ``tol``).
        """
        tol = _check_penalty(self.tol, "tol")
        if not tol > 0:
            raise ValueError(f"tol: expected a positive number, got {self.tol!r}")
        max_iter = _check_positive_int(self.max_iter, "max_iter")
        z = _check_logits(_numpy_only(logits, "logits"))
        n, k = z.shape
        y = _check_labels(labels, n, k)
        w = _check_weights(sample_weight, n)
        t = np.zeros((n, k))
        t[np.arange(n), y] = 1.0
        problem = _AffineProblem(self._features(z), t, w / np.sum(w), self.kind, self._penalty(k))
        result = optimize.minimize(problem, self._start(k), "natural", tol, max_iter)
        self.coef_ = result.coef
        self.n_classes_ = k
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.history_ = result.history
        return self

    def transform(self, logits: ArrayLike) -> NDArray:
        """The calibrated logits, shape (n, K).

        Parameters
        ----------
        logits : array_like, shape (n, K)
            Finite logits of n held-out samples, ``K >= 2`` (not probabilities:
            pass ``np.log(probs)`` for a model that outputs probabilities).
            The number of classes is the one seen by :meth:`fit`.

        Returns
        -------
        ndarray, shape (n, K)
            The fitted affine map applied to the logits (to their
            log-probabilities for :class:`DirichletCalibration`).
        """
        z = self._read(logits)
        problem = _AffineProblem(
            self._features(z), z, np.ones(len(z)), self.kind, np.zeros_like(self.coef_)
        )
        return problem.logits(self.coef_)


class VectorScaling(_AffineMap):
    r"""Vector scaling: a scale and a bias per class.

    .. math::

        u_{nk} = a_k z_{nk} + b_k, \quad (a, b) = \arg\min \sum_n w_n
        \left[\log \sum_k e^{u_{nk}} - u_{n y_n}\right] / \sum_n w_n
        + \frac{\lambda}{2} \left(\|a\|^2 + \|b\|^2\right)

    (Guo et al., 2017), without penalty by default (``lambda = l2 = 0``).
    The NLL is convex in ``(a, b)``, since ``u`` is linear in them; ``b + c 1``
    gives the same probabilities.

    Parameters
    ----------
    l2 : float
        Ridge penalty ``(l2 / 2) (||a||^2 + ||b||^2)`` added to the mean NLL
        (0: none).
    tol : float
        Converged when the largest gradient entry is at most ``tol``.
    max_iter : int
        Newton steps, at most; then a :class:`ConvergenceWarning`.

    Attributes
    ----------
    scale_, bias_ : ndarray, shape (K,)
        ``a`` and ``b``.
    coef_ : ndarray, shape (K, 2)
        ``[a, b]`` as columns.
    n_classes_ : int
        K, the number of classes seen by ``fit``.
    n_iter_ : int
        Newton steps taken.
    converged_ : bool
        Whether the largest gradient entry reached ``tol``.
    history_ : dict of ndarray
        The objective and the max-abs gradient per Newton step.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(2000, 3)) * 3
    >>> y = np.array([rng.choice(3, p=p) for p in special.softmax([0.5, 1.0, 0.25] * z)])
    >>> VectorScaling().fit(z, y).scale_.round(1)
    array([0.5, 1. , 0.2])
    """

    kind = "vector"
    _params = ("l2", "tol", "max_iter")

    def __init__(self, l2: float = 0.0, tol: float = 1e-10, max_iter: int = 100) -> None:
        self.l2 = l2
        self.tol = tol
        self.max_iter = max_iter

    def _penalty(self, k: int) -> NDArray:
        return np.full((k, 2), _check_penalty(self.l2, "l2"))

    @property
    def scale_(self) -> NDArray:
        self._fitted()
        return self.coef_[:, 0]

    @property
    def bias_(self) -> NDArray:
        self._fitted()
        return self.coef_[:, 1]


class MatrixScaling(_AffineMap):
    r"""Matrix scaling: an affine map of the logits.

    .. math::

        u_n = A z_n + b, \quad (A, b) = \arg\min \frac{\sum_n w_n
        \left[\log \sum_k e^{u_{nk}} - u_{n y_n}\right]}{\sum_n w_n}
        + \frac{\lambda}{K (K - 1)} \sum_{i \ne j} A_{ij}^2 + \frac{\mu}{K} \|b\|^2

    (Guo et al., 2017), with Kull et al.'s ODIR penalty (off-diagonal and
    intercept regularization), none by default. ``A + 1 c^T`` and ``b + c_0 1``
    give the same probabilities, so without a penalty the parameters are
    defined up to those directions (the solver takes the minimum-norm step).

    Parameters
    ----------
    off_diagonal : float
        ``lambda >= 0``.
    intercept : float
        ``mu >= 0``.
    tol : float
        Converged when the largest gradient entry is at most ``tol``.
    max_iter : int
        Newton steps, at most; then a :class:`ConvergenceWarning`.

    Attributes
    ----------
    coef_ : ndarray, shape (K, K + 1)
        ``[A, b]``.
    weights_ : ndarray, shape (K, K)
        ``A``.
    intercept_ : ndarray, shape (K,)
        ``b``.
    n_classes_ : int
        K, the number of classes seen by ``fit``.
    n_iter_ : int
        Newton steps taken.
    converged_ : bool
        Whether the largest gradient entry reached ``tol``.
    history_ : dict of ndarray
        The objective and the max-abs gradient per Newton step.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(400, 3))
    >>> A = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y = np.array([rng.choice(3, p=p) for p in special.softmax(z @ A.T)])
    >>> scaler = MatrixScaling(off_diagonal=1e-3).fit(z, y)
    >>> scaler.converged_, scaler.predict_proba(z).shape
    (True, (400, 3))
    """

    _params = ("off_diagonal", "intercept", "tol", "max_iter")

    def __init__(
        self,
        off_diagonal: float = 0.0,
        intercept: float = 0.0,
        tol: float = 1e-10,
        max_iter: int = 100,
    ) -> None:
        self.off_diagonal = off_diagonal
        self.intercept = intercept
        self.tol = tol
        self.max_iter = max_iter

    def _penalty(self, k: int) -> NDArray:
        lam = _check_penalty(self.off_diagonal, "off_diagonal")
        mu = _check_penalty(self.intercept, "intercept")
        penalty = np.full((k, k + 1), 2 * lam / (k * (k - 1)))
        penalty[np.arange(k), np.arange(k)] = 0.0
        penalty[:, -1] = 2 * mu / k
        return penalty

    @property
    def weights_(self) -> NDArray:
        self._fitted()
        return self.coef_[:, :-1]

    @property
    def intercept_(self) -> NDArray:
        self._fitted()
        return self.coef_[:, -1]


class DirichletCalibration(MatrixScaling):
    r"""Dirichlet calibration (Kull et al., 2019): matrix scaling of the log-probabilities.

    .. math::

        u_n = A \log \mathrm{softmax}(z_n) + b

    fitted as :class:`MatrixScaling` (with its ODIR penalty, ``lambda``
    on the off-diagonal of ``A`` and ``mu`` on ``b``). ``softmax(u_n)`` is
    the posterior of the class under a generative model in which the
    classifier's probability vectors are Dirichlet-distributed given each
    class (Kull et al., 2019). It takes the classifier's logits, or
    ``np.log(probs)`` for a model that outputs probabilities (the result is
    the same: ``log softmax`` of either is the log-probability).

    Parameters
    ----------
    off_diagonal, intercept : float
        ``lambda, mu >= 0``.
    tol : float
        Converged when the largest gradient entry is at most ``tol``.
    max_iter : int
        Newton steps, at most; then a :class:`ConvergenceWarning`.

    Attributes
    ----------
    coef_ : ndarray, shape (K, K + 1)
        ``[A, b]``.
    weights_ : ndarray, shape (K, K)
        ``A``, applied to the log-probabilities.
    intercept_ : ndarray, shape (K,)
        ``b``.
    n_classes_ : int
        K, the number of classes seen by ``fit``.
    n_iter_ : int
        Newton steps taken.
    converged_ : bool
        Whether the largest gradient entry reached ``tol``.
    history_ : dict of ndarray
        The objective and the max-abs gradient per Newton step.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> z = rng.normal(size=(300, 3)) * 2
    >>> y = np.array([rng.choice(3, p=p) for p in special.softmax(0.5 * z)])
    >>> calibrated = DirichletCalibration(off_diagonal=1e-2, intercept=1e-2).fit(z, y)
    >>> calibrated.weights_.shape, calibrated.converged_
    ((3, 3), True)
    """

    def _features(self, z: NDArray) -> NDArray:
        return special.log_softmax(z)


class PlattScaling(_Recalibrator):
    r"""Platt scaling of a binary classifier's score.

    .. math::

        P(y = 1 \mid s) = \sigma(a s + b), \quad (a, b) = \arg\min -\sum_n w_n
        \left[t_n \log \sigma(a s_n + b) + (1 - t_n) \log \sigma(-a s_n - b)\right]

    with Platt's targets ``t_n = (N_+ + 1) / (N_+ + 2)`` for the positives
    and ``1 / (N_- + 2)`` for the negatives (``smooth_targets=True``, as
    scikit-learn's ``method="sigmoid"``; ``N`` the weighted counts), or the
    labels themselves. It is two-class softmax regression on the score.

    Parameters
    ----------
    smooth_targets : bool
        Platt's prior-corrected targets, or the 0/1 labels.
    tol : float
        Converged when the largest gradient entry is at most ``tol``.
    max_iter : int
        Newton steps, at most; then a :class:`ConvergenceWarning`.

    Attributes
    ----------
    slope_, intercept_ : float
        ``a`` and ``b``.
    n_classes_ : int
        2.
    n_iter_ : int
        Newton steps taken.
    converged_ : bool
        Whether the largest gradient entry reached ``tol``.

    Examples
    --------
    >>> s = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    >>> platt = PlattScaling(smooth_targets=False).fit(s, [0, 0, 1, 0, 1, 1])
    >>> platt.predict_proba(s).shape, bool(platt.slope_ > 0)
    ((6, 2), True)
    """

    _params = ("smooth_targets", "tol", "max_iter")

    def __init__(self, smooth_targets: bool = True, tol: float = 1e-10, max_iter: int = 100):
        self.smooth_targets = smooth_targets
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _scores(scores: ArrayLike) -> NDArray:
        s, _ = as_real(_numpy_only(scores, "scores"), "scores")
        if s.ndim != 1 or s.shape[0] < 1:
            raise ValueError(f"scores: expected shape (n,) with n >= 1, got {s.shape}")
        if not np.all(np.isfinite(s)):
            raise ValueError("scores: expected finite scores, got a non-finite entry")
        return s.astype(np.float64)

    def fit(
        self, scores: ArrayLike, labels: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> PlattScaling:
        """Fit on binary scores (n,) and labels in {0, 1} (n,); return ``self``.

        Parameters
        ----------
        scores : array_like, shape (n,)
            Finite scores of a binary classifier on n held-out samples.
        labels : array_like of int, shape (n,)
            Their classes, 0 or 1.
        sample_weight : array_like, shape (n,), optional
            Non-negative finite weights, not all 0; default all 1.

        Returns
        -------
        PlattScaling
            ``self``, with ``slope_``, ``intercept_``, ``n_classes_``,
            ``n_iter_`` and ``converged_`` set.
        """
        tol = _check_penalty(self.tol, "tol")
        if not tol > 0:
            raise ValueError(f"tol: expected a positive number, got {self.tol!r}")
        max_iter = _check_positive_int(self.max_iter, "max_iter")
        s = self._scores(scores)
        y = _check_labels(labels, len(s), 2)
        w = _check_weights(sample_weight, len(s))
        positive = float(np.sum(w[y == 1]))
        negative = float(np.sum(w[y == 0]))
        if self.smooth_targets:
            target = np.where(y == 1, (positive + 1) / (positive + 2), 1 / (negative + 2))
        else:
            target = y.astype(np.float64)
        t = np.column_stack([1 - target, target])
        # two-class softmax regression on the score: the difference of its rows is (a, b)
        problem = _AffineProblem(s[:, None], t, w / np.sum(w), "matrix", np.zeros((2, 2)))
        result = optimize.minimize(problem, np.zeros((2, 2)), "natural", tol, max_iter)
        coef = result.coef[1] - result.coef[0]
        self.slope_, self.intercept_ = float(coef[0]), float(coef[1])
        self.n_classes_ = 2
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        return self

    def transform(self, scores: ArrayLike) -> NDArray:
        r"""The calibrated log-odds ``a s + b``, shape (n,).

        .. math::

            u_n = a s_n + b = \log\frac{P(y = 1 \mid s_n)}{P(y = 0 \mid s_n)}

        Parameters
        ----------
        scores : array_like, shape (n,)
            Finite scores ``s`` of the classifier.

        Returns
        -------
        ndarray, shape (n,)
            ``slope_ * s + intercept_``, the log-odds of class 1.
        """
        self._fitted()
        return self.slope_ * self._scores(scores) + self.intercept_

    def predict_proba(self, scores: ArrayLike) -> NDArray:
        r"""``[1 - sigma(a s + b), sigma(a s + b)]``, shape (n, 2).

        .. math::

            P(y = 1 \mid s) = \sigma(a s + b) = \operatorname{softmax}\big((0, a s + b)\big)_1

        Parameters
        ----------
        scores : array_like, shape (n,)
            Finite scores ``s`` of the classifier.

        Returns
        -------
        ndarray, shape (n, 2)
            The probabilities of class 0 and class 1, rows summing to 1.
        """
        u = self.transform(scores)
        return special.softmax(np.column_stack([np.zeros_like(u), u]))
