"""The compiled elementwise kernels (``sigmoid``, ``log_sigmoid``, ``softplus``, ``logit``,
``log1mexp`` in ``_engine.c``): one implementation for a Python float, a numpy scalar, a
0-d array and every entry of an array, on any number of threads, at the bounds of
``test_special_accuracy.py`` (mpmath, ``mpref``) on the threaded path of large arrays."""

from __future__ import annotations

import mpref
import numpy as np
import pytest

import expfam
from expfam.special import _elementwise, _engine, set_num_threads

# name -> (reference, bound in ULPs, domain sampler)
KERNELS = {
    "sigmoid": (mpref.sigmoid_ref, 2, "real"),
    "log_sigmoid": (mpref.log_sigmoid_ref, 1, "real"),
    "softplus": (mpref.softplus_ref, 1, "real"),
    "logit": (mpref.logit_ref, 1, "unit"),
    "log1mexp": (mpref.log1mexp_ref, 1, "negative"),
}
_EDGES = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e308, -1e308, np.inf, -np.inf]
_EDGES += [np.nan, 1.7976931348623157e308, -1.7976931348623157e308, 0.25, 0.5, 1.0, -np.log(2)]


def _inputs(domain: str, n: int, seed: int) -> np.ndarray:
    """``n`` float64 values of ``domain`` spread over the scales, the edges of the float
    range (in and out of the domain) first."""
    rng = np.random.default_rng(seed)
    scale = np.exp(rng.uniform(-30.0, 6.7, n)) * rng.choice([-1.0, 1.0], n)
    values = {
        "real": scale,
        "unit": np.where(rng.random(n) < 0.5, rng.random(n), np.exp(-np.abs(scale))),
        "negative": -np.abs(scale),
    }[domain]
    values[: len(_EDGES)] = _EDGES
    return values


def _same(a, b) -> bool:
    """Equal bit for bit (NaN included, the sign of zero included)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", KERNELS)
def test_large_arrays_on_threads_are_the_python_float_results(name, dtype):
    """Past the threshold of the threads, every entry on 1, 2 or 3 threads is the kernel of
    the entry alone (a Python float for float64, a numpy scalar for float32: the paths the
    accuracy tests hold to mpmath); a sample of the entries meets the bound against mpmath
    directly."""
    ref, bound, domain = KERNELS[name]
    kernel = getattr(expfam, name)
    with np.errstate(over="ignore"):  # +-1e308 become +-inf in float32
        x = _inputs(domain, _elementwise._PARALLEL + 1001, 7).astype(dtype)
    with set_num_threads(1):
        one = kernel(x)
    for threads in (2, 3):
        with set_num_threads(threads):
            assert _same(kernel(x), one), threads
    picks = np.r_[: len(_EDGES), np.linspace(len(_EDGES), x.size - 1, 150).astype(int)]
    alone = [kernel(float(v) if dtype is np.float64 else v) for v in x[picks]]
    assert _same(one[picks], np.array(alone, dtype=dtype))
    finite = picks[np.isfinite(one[picks])]  # the limits: test_elementwise_limits_...
    errors = [mpref.ulp_error(one[i], ref(x[i])[()], dtype) for i in finite]
    assert max(errors) <= bound, (name, x[finite][int(np.argmax(errors))])


@pytest.mark.parametrize("name", KERNELS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64, np.bool_])
def test_zero_dim_arrays_scalars_and_floats_agree(name, dtype):
    """A 0-d array and a numpy scalar give a numpy scalar of the input's float dtype
    (float64 for integers and bools), the value of a 1-d array of the same entry (for
    float64, and for what is computed as float64, that of the Python float)."""
    kernel = getattr(expfam, name)
    value = {"logit": 0.25, "log1mexp": -2.0}.get(name, 3.0)
    if dtype is np.bool_:
        value = 1.0 if name != "log1mexp" else 0.0
    x = np.asarray(value).astype(dtype)
    out_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    expected = kernel(x.reshape(1))
    if dtype is not np.float32:
        assert _same(expected, np.asarray([kernel(float(x))]).astype(out_dtype))
    for arg in (x, x[()]):
        got = kernel(arg)
        assert type(got) is out_dtype.type
        assert _same(got, expected[0])


@pytest.mark.parametrize("name", KERNELS)
def test_strided_and_fortran_inputs_keep_their_shape(name):
    kernel = getattr(expfam, name)
    base = _inputs(KERNELS[name][2], 60, 3)[len(_EDGES) :].reshape(4, 11)
    for x in (base[:, ::2], np.asfortranarray(base), base.T):
        got = kernel(x)
        assert got.shape == x.shape
        assert _same(got, np.reshape([kernel(float(v)) for v in x.ravel()], x.shape))


def test_the_engine_entry_checks_its_buffers():
    x = np.linspace(-1.0, 0.0, 5)
    with pytest.raises(TypeError, match="x, out: expected"):
        _engine.sigmoid(x, np.empty(5, np.float32), 1)
    with pytest.raises(TypeError, match="x, out: expected"):
        _engine.sigmoid(x, np.empty(4), 1)
    with pytest.raises(TypeError, match="out: expected a C-contiguous writable"):
        _engine.sigmoid(x, np.empty(10)[::2], 1)
    with pytest.raises(TypeError, match="expected"):
        _engine.sigmoid(x)
    out = x.copy()
    _engine.log1mexp(out, out, 2)  # in place
    assert _same(out, np.array([expfam.log1mexp(float(v)) for v in x]))


@pytest.mark.parametrize("name", KERNELS)
def test_the_python_float_shortcut_gives_the_array_bits(name):
    """A Python float goes straight to the compiled kernel (``@tiered(floats=...)``); a
    keyword call, a numpy float64 (a float subclass) and a list take the function body:
    all give the bits of the array, on values of every branch of the kernel."""
    kernel = getattr(expfam, name)
    x = _inputs(KERNELS[name][2], 200, 11)
    arg = "p" if name == "logit" else "x"
    want = kernel(x)
    for i, v in enumerate(x):
        got = [kernel(float(v)), kernel(**{arg: float(v)}), kernel(np.float64(v))]
        got.append(kernel([float(v)])[0])
        assert all(_same(g, want[i]) for g in got), (name, v, got, want[i])
        assert type(got[0]) is np.float64
