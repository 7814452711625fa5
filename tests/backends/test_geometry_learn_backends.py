"""expfam.geometry and expfam.learn on array-API arrays: the portable tier against numpy.

Divergences and geodesics on array-api-strict, torch and JAX arrays agree with
the numpy tier (itself held against mpmath in tests/geometry) within 1e-12
relative, from random points to nearby ones and the boundary; return arrays of
the input's kind; and have gradients that match the closed forms of KL and
directional finite differences of the numpy tier along tangent directions,
finite (no NaN) at ``p_k = 0``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import grad

import expfam.geometry as G
import expfam.learn as L
import expfam.special as S

RNG = np.random.default_rng(23)


def points():
    """Pairs of rows: random, nearby, with zeros (q on p's support and not), Bernoulli-sized."""
    p = RNG.dirichlet(np.ones(6), size=5)
    q = RNG.dirichlet(np.ones(6), size=5)
    q[1] = p[1] * (1 + 1e-7 * RNG.standard_normal(6))
    q[1] /= q[1].sum()
    p[2, 0] = 0.0
    p[2] /= p[2].sum()
    q[3, 4] = 0.0
    q[3] /= q[3].sum()
    p[4, [1, 2]] = 0.0
    p[4] /= p[4].sum()
    q[4, [1, 2]] = 0.0
    q[4] /= q[4].sum()
    return p, q


P, Q = points()

DIVERGENCES = {
    "kl": lambda p, q: G.kl(p, q),
    "jeffreys": lambda p, q: G.jeffreys(p, q),
    "jensen_shannon": lambda p, q: G.jensen_shannon(p, q),
    "jensen_shannon_distance": lambda p, q: G.jensen_shannon_distance(p, q),
    "hellinger": lambda p, q: G.hellinger(p, q),
    "bhattacharyya_coefficient": lambda p, q: G.bhattacharyya_coefficient(p, q),
    "bhattacharyya_distance": lambda p, q: G.bhattacharyya_distance(p, q),
    "alpha-3": lambda p, q: G.alpha_divergence(p, q, -3.0),
    "alpha-0.4": lambda p, q: G.alpha_divergence(p, q, -0.4),
    "alpha0": lambda p, q: G.alpha_divergence(p, q, 0.0),
    "alpha0.9": lambda p, q: G.alpha_divergence(p, q, 0.9),
    "alpha2.5": lambda p, q: G.alpha_divergence(p, q, 2.5),
    "tsallis0.3": lambda p, q: G.tsallis_divergence(p, q, 0.3),
    "tsallis2": lambda p, q: G.tsallis_divergence(p, q, 2.0),
    "renyi0.5": lambda p, q: G.renyi_divergence(p, q, 0.5),
    "renyi1": lambda p, q: G.renyi_divergence(p, q, 1.0),
    "renyi3": lambda p, q: G.renyi_divergence(p, q, 3.0),
    "chernoff": lambda p, q: G.chernoff_information(p, q).information,
    "chernoff_exponent": lambda p, q: G.chernoff_information(p, q).exponent,
    "fisher_rao_distance": lambda p, q: G.fisher_rao_distance(p, q),
}


def same_kind(out, like):
    import array_api_compat

    assert array_api_compat.array_namespace(out) is array_api_compat.array_namespace(like)
    assert array_api_compat.device(out) == array_api_compat.device(like)
    assert out.dtype == like.dtype


@pytest.mark.parametrize("name", DIVERGENCES)
def test_divergences_agree_with_numpy(backend, name):
    f = DIVERGENCES[name]
    p, q = backend.asarray(P), backend.asarray(Q)
    out = f(p, q)
    same_kind(out, p)
    got, want = backend.numpy(out), np.asarray(f(P, Q))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    # l* is stationary, known to about eps / max |log(q/p)| (1e-9 for the nearby pair)
    atol = 1e-8 if name == "chernoff_exponent" else 1e-300
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=atol)
    if name == "chernoff_exponent":
        return  # in float32 the nearby pair's l* is below rounding: undetermined
    got32 = backend.numpy(f(backend.asarray(P, "float32"), backend.asarray(Q, "float32")))
    assert got32.dtype == np.float32
    want32 = np.asarray(f(P.astype(np.float32), Q.astype(np.float32)))
    close = np.isfinite(want32) & (want32 > 1e-3)
    np.testing.assert_allclose(got32[close], want32[close], rtol=2e-5)


T = np.array([0.0, 0.25, 0.5, 1.0])


@pytest.mark.parametrize("name", ["e_geodesic", "m_geodesic", "fisher_rao_geodesic"])
def test_geodesics_agree_with_numpy(backend, name):
    f = getattr(G, name)
    p, q = P[[0, 1, 3]], Q[[0, 1, 3]]
    for t in (T[:, None], 0.3):
        args = [backend.asarray(a) for a in (p, q)]
        tt = backend.asarray(t) if isinstance(t, np.ndarray) else t
        out = f(*args, tt)
        same_kind(out, args[0])
        np.testing.assert_allclose(backend.numpy(out), f(p, q, t), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("coords", ["probs", "logits"])
def test_tangent_maps_agree_with_numpy(backend, coords):
    p = P[[0, 1, 3]]
    v = RNG.standard_normal(p.shape) * 0.2 * np.min(np.where(p > 0, p, 1))
    v -= v.mean(axis=-1, keepdims=True)
    if coords == "probs":
        v = np.where(p > 0, v, 0.0)
        v -= np.where(p > 0, v.sum(-1, keepdims=True) / (p > 0).sum(-1, keepdims=True), 0.0)
    pb, vb = backend.asarray(p), backend.asarray(v)
    for name, args, np_args in (
        ("fisher_rao_inner", (pb, vb, vb * 2.0), (p, v, v * 2)),
        ("fisher_rao_norm", (pb, vb), (p, v)),
        ("exp_map", (pb, vb), (p, v)),
        (
            "log_map",
            (pb, backend.asarray(G.exp_map(p, v, coords=coords))),
            (p, G.exp_map(p, v, coords=coords)),
        ),
    ):
        out = getattr(G, name)(*args, coords=coords)
        same_kind(out, pb)
        want = getattr(G, name)(*np_args, coords=coords)
        np.testing.assert_allclose(backend.numpy(out), want, rtol=1e-12, atol=1e-16, err_msg=name)


def test_geometry_errors_name_the_argument(backend):
    p, q = backend.asarray(P), backend.asarray(Q)
    with pytest.raises(ValueError, match=r"^p: expected probabilities"):
        G.kl(backend.asarray(P * 2), q)
    with pytest.raises(ValueError, match=r"^q: expected 6 classes like p"):
        G.hellinger(p, backend.asarray(Q[:, :3] / Q[:, :3].sum(-1, keepdims=True)))
    with pytest.raises(ValueError, match=r"^order: expected a number > 0"):
        G.renyi_divergence(p, q, -1.0)
    with pytest.raises(ValueError, match=r"^t: "):
        G.m_geodesic(p, q, 5.0)
    with pytest.raises(TypeError, match=r"^q: expected a .* array like the other"):
        G.kl(p, Q)


def test_numpy_only_functions_refuse_tensors(backend):
    p = backend.asarray(P)
    with pytest.raises(TypeError, match=r"^points: expected a numpy array, got a .* array"):
        G.left_kl_centroid(p)
    with pytest.raises(TypeError, match=r"^joint: expected a numpy array, got a .* array"):
        G.mutual_information(p)


# ---------------------------------------------------------------- gradients


def test_grad_kl_closed_form(autodiff):
    # KL of the normalized points: d/dp = log(p/q) - KL, d/dq = 1 - p/q (at sums 1)
    p, q = P[0], Q[0]
    gp = grad(autodiff, lambda a, b: G.kl(a, b), p, q, argnum=0)
    gq = grad(autodiff, lambda a, b: G.kl(a, b), p, q, argnum=1)
    np.testing.assert_allclose(gp, np.log(p / q) - G.kl(p, q), rtol=1e-12)
    np.testing.assert_allclose(gq, 1 - p / q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", [n for n in DIVERGENCES if n != "chernoff_exponent"])
def test_grad_is_the_directional_derivative_of_numpy(autodiff, name):
    f = DIVERGENCES[name]
    p, q = P[0], Q[0]
    v = RNG.standard_normal(6)
    v -= v.mean()  # a tangent direction: p + h v stays on the simplex
    h = 1e-6
    fd = (f(p + h * v, q) - f(p - h * v, q)) / (2 * h)
    g = grad(autodiff, lambda a, b: f(a, b), p, q)
    assert float(g @ v) == pytest.approx(float(fd), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", [n for n in DIVERGENCES if n != "chernoff_exponent"])
def test_grad_finite_on_the_boundary(autodiff, name):
    f = DIVERGENCES[name]
    for i in (2, 4):  # p with zeros (q with or without them)
        value = f(P[i], Q[i])
        if not np.isfinite(value):
            continue
        for argnum in (0, 1):
            g = grad(autodiff, lambda a, b: f(a, b), P[i], Q[i], argnum=argnum)
            assert np.all(np.isfinite(g)), (name, i, argnum, g)


@pytest.mark.parametrize("name", ["e_geodesic", "m_geodesic", "fisher_rao_geodesic"])
def test_grad_geodesics(autodiff, name):
    f = getattr(G, name)
    p, q, w = P[0], Q[0], RNG.standard_normal(6)
    v = RNG.standard_normal(6)
    v -= v.mean()
    h = 1e-6
    fd = (f(p + h * v, q, 0.3) @ w - f(p - h * v, q, 0.3) @ w) / (2 * h)
    g = grad(autodiff, lambda a, b: (f(a, b, 0.3) * _as(a, w)).sum(), p, q)
    assert float(g @ v) == pytest.approx(float(fd), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("alpha", [0.5, -3.0, 2.5, 9.0])
def test_alpha_geodesic_agrees_with_numpy(backend, alpha):
    p, q = P.copy(), Q.copy()
    if alpha > 1:  # the open simplex
        p, q = (p + 0.01) / (1 + 0.06), (q + 0.01) / (1 + 0.06)
    t = np.array([0.0, 0.3, 0.5, 0.9, 1.0])
    want = G.alpha_geodesic(p, q, t, alpha)
    pb = backend.asarray(p)
    out = G.alpha_geodesic(pb, backend.asarray(q), backend.asarray(t), alpha)
    same_kind(out, pb)
    np.testing.assert_allclose(backend.numpy(out), want, rtol=1e-12, atol=1e-300)
    with pytest.raises(ValueError, match=r"^t: expected values in \[0, 1\]"):
        G.alpha_geodesic(pb, backend.asarray(q), 1.5, alpha)


def test_alpha_geodesic_refuses_zeros_above_one(backend):
    with pytest.raises(ValueError, match=r"^p, q: expected points of the open simplex"):
        G.alpha_geodesic(backend.asarray(P), backend.asarray(Q), 0.5, 2.0)


@pytest.mark.parametrize("alpha", [0.5, -3.0, 2.5])
def test_grad_alpha_geodesic_is_the_numpy_finite_difference(alpha):
    # torch only: the solve reads values, which jax.grad's tracers do not have
    torch = pytest.importorskip("torch")
    p, q = (P[0] + 0.01) / 1.06, (Q[0] + 0.01) / 1.06
    w = RNG.standard_normal(6)
    v = RNG.standard_normal(6)
    v -= v.mean()
    h = 1e-6

    def numpy_curve(a, b, t):
        return G.alpha_geodesic(a, b, t, alpha) @ w

    fd_p = (numpy_curve(p + h * v, q, 0.3) - numpy_curve(p - h * v, q, 0.3)) / (2 * h)
    fd_q = (numpy_curve(p, q + h * v, 0.7) - numpy_curve(p, q - h * v, 0.7)) / (2 * h)
    fd_t = (numpy_curve(p, q, 0.3 + h) - numpy_curve(p, q, 0.3 - h)) / (2 * h)
    a, b = torch.tensor(p, requires_grad=True), torch.tensor(q, requires_grad=True)
    t = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    weights = torch.tensor(w)
    ga, gt = torch.autograd.grad((G.alpha_geodesic(a, b, t, alpha) * weights).sum(), (a, t))
    (gb,) = torch.autograd.grad((G.alpha_geodesic(a, b, 0.7, alpha) * weights).sum(), b)
    assert float(ga.numpy() @ v) == pytest.approx(fd_p, rel=1e-6, abs=1e-9)
    assert float(gb.numpy() @ v) == pytest.approx(fd_q, rel=1e-6, abs=1e-9)
    assert float(gt) == pytest.approx(fd_t, rel=1e-6, abs=1e-9)


def _as(like, a):
    import array_api_compat

    xp = array_api_compat.array_namespace(like)
    return xp.asarray(a, device=array_api_compat.device(like))


def test_jit_geometry(autodiff):
    if autodiff.name != "jax":
        pytest.skip("jax.jit only")
    import jax

    p, q = autodiff.asarray(P[:2]), autodiff.asarray(Q[:2])
    for name in ("kl", "hellinger", "alpha0.9", "renyi3", "chernoff", "fisher_rao_distance"):
        f = DIVERGENCES[name]
        np.testing.assert_allclose(np.asarray(jax.jit(f)(p, q)), np.asarray(f(p, q)), rtol=1e-13)
    geo = jax.jit(lambda a, b: G.fisher_rao_geodesic(a, b, 0.4))
    np.testing.assert_allclose(np.asarray(geo(p, q)), G.fisher_rao_geodesic(P[:2], Q[:2], 0.4))


# ---------------------------------------------------------------- learn


def test_tempered_losses_agree_with_numpy(backend):
    z = RNG.standard_normal((4, 5)) * 3
    y = np.array([0, 4, 2, 2])
    beta = np.array([0.5, 1.0, 10.0, np.inf])
    zb, yb, bb = (backend.asarray(a) for a in (z, y, beta))
    out = L.tempered_cross_entropy(zb, yb, bb)
    same_kind(out, zb)
    np.testing.assert_allclose(
        backend.numpy(out), L.tempered_cross_entropy(z, y, beta), rtol=1e-14
    )
    g = L.tempered_cross_entropy_gradient(zb, yb, bb)
    same_kind(g, zb)
    want = L.tempered_cross_entropy_gradient(z, y, beta)
    np.testing.assert_allclose(backend.numpy(g), want, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(
        backend.numpy(L.tempered_cross_entropy(zb, yb, 2.0)), L.tempered_cross_entropy(z, y, 2.0)
    )
    with pytest.raises(ValueError, match=r"^y: expected class indices in \[0, 5\)"):
        L.tempered_cross_entropy(zb, backend.asarray(np.array([5, 0, 0, 0])), 1.0)
    with pytest.raises(ValueError, match=r"^beta: expected inverse temperatures > 0"):
        L.tempered_cross_entropy(zb, yb, 0.0)


def test_autodiff_of_the_tempered_loss_is_its_gradient(autodiff):
    z = RNG.standard_normal(5) * 2
    for beta in (0.5, 3.0):
        g = grad(autodiff, lambda t, beta=beta: L.tempered_cross_entropy(t, 2, beta), z)
        # d l_beta / dz = softmax(beta z) - e_y (the division by beta cancels the chain rule)
        want = L.tempered_cross_entropy_gradient(z, 2, beta)
        np.testing.assert_allclose(g, want, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(g, S.softmax(z, beta=3.0) - np.eye(5)[2], rtol=1e-13, atol=1e-16)


MARGINS = np.array([-800.0, -3.0, -0.7, -1e-9, 0.0, 0.25, 0.9, 1.0, 1.6, 30.0, 800.0, np.nan])
THETAS = np.array([-1.0, -0.9, -0.5, -1e-8, 0.0, 1e-8, 0.3, 0.5, 0.7, 1.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_margin_losses_on_the_namespace_as_on_numpy(backend, dtype):
    """phi, phi' and psi on a tensor: the numpy tier's values (its tests hold the formulas), in
    the tensor's namespace and dtype."""
    if dtype not in backend.floats:
        pytest.skip(f"{backend.name} has no {dtype}")
    m, t = MARGINS.astype(dtype), THETAS.astype(dtype)
    for name, loss in L.MARGIN_LOSSES.items():
        for fn, x in ((loss.loss, m), (loss.derivative, m), (loss.psi, t)):
            out = fn(backend.asarray(x))
            assert out.dtype == backend.dtype(dtype), name
            np.testing.assert_allclose(
                backend.numpy(out), fn(x), rtol=4 * np.finfo(dtype).eps, atol=0, err_msg=name
            )
    with pytest.raises(ValueError, match=r"^theta: the psi-transform is defined on \[-1, 1\]"):
        L.MARGIN_LOSSES["logistic"].psi(backend.asarray(np.array([0.5, 1.5])))


def test_margin_loss_gradients_are_their_derivatives(autodiff):
    """Autodiff of phi equals the stated phi' away from the kinks (hinge, squared hinge,
    perceptron at 1 or 0 are left out), and is finite where phi is."""
    m = np.array([-30.0, -3.0, -0.7, -1e-9, 0.25, 0.9, 1.6, 30.0, 700.0])
    for name, loss in L.MARGIN_LOSSES.items():
        g = grad(autodiff, lambda a, f=loss.loss: f(a).sum(), m)
        np.testing.assert_allclose(g, loss.derivative(m), rtol=1e-13, atol=0, err_msg=name)


def test_margin_losses_refuse_dask():
    da = pytest.importorskip("dask.array")
    with pytest.raises(TypeError, match=r"^m: expected a numpy or array-API array, got a dask"):
        L.MARGIN_LOSSES["hinge"].loss(da.zeros(3))


def test_perceptron_refuses_tensors(backend):
    with pytest.raises(TypeError, match=r"^X, y: expected numpy arrays"):
        L.perceptron(backend.asarray(np.eye(3)), backend.asarray(np.arange(3)))


def test_recalibration_maps_refuse_tensors(backend):
    """fit, transform and predict_proba name the tensor argument instead of converting it (the
    result would have no gradient); the numpy fit still serves numpy inputs."""
    rng = np.random.default_rng(3)
    z = rng.standard_normal((40, 3)) * 2
    y = rng.integers(0, 3, 40)
    tensor_z = backend.asarray(z)
    for cls in (L.TemperatureScaling, L.VectorScaling, L.MatrixScaling, L.DirichletCalibration):
        with pytest.raises(TypeError, match=r"^logits: expected a numpy array, got a .* array"):
            cls().fit(tensor_z, y)
        fitted = cls().fit(z, y)
        for method in (fitted.transform, fitted.predict_proba):
            with pytest.raises(TypeError, match=r"^logits: expected a numpy array"):
                method(tensor_z)
        assert np.allclose(fitted.predict_proba(z).sum(axis=1), 1.0)
    s = z[:, 0]
    with pytest.raises(TypeError, match=r"^scores: expected a numpy array"):
        L.PlattScaling().fit(backend.asarray(s), y % 2)
    with pytest.raises(TypeError, match=r"^scores: expected a numpy array"):
        L.PlattScaling().fit(s, y % 2).transform(backend.asarray(s))
