"""The compiled elementwise kernels (``sigmoid``, ``log_sigmoid``, ``softplus``, ``logit``,
``log1mexp`` in ``_engine.c``): one implementation for a Python float, a numpy scalar, a
0-d array and every entry of an array, on any number of threads, at the bounds of
``test_special_accuracy.py`` (mpmath, ``mpref``) on the threaded path of large arrays."""

from __future__ import annotations

import re
from pathlib import Path

import mpmath
import mpref
import numpy as np
import pytest

import expfam
from expfam.special import _elementwise, _engine, set_num_threads

mpf = mpmath.mpf

# name -> (reference, bound in ULPs, domain sampler)
KERNELS = {
    "sigmoid": (mpref.sigmoid_ref, 2, "real"),
    "log_sigmoid": (mpref.log_sigmoid_ref, 1, "real"),
    "softplus": (mpref.softplus_ref, 1, "real"),
    "logit": (mpref.logit_ref, 1, "unit"),
    "log1mexp": (mpref.log1mexp_ref, 0.77, "negative"),
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


# ---------------------------------------------------------------- log1mexp's vector code

_SOURCE = Path(expfam.special.__file__).with_name("_engine.c")


def _c_table(name: str) -> np.ndarray:
    """A ``static const double NAME[...]`` table of _engine.c, exactly (hex floats)."""
    text = _SOURCE.read_text()
    body = re.search(rf"static const double {name}\[\d+\] = \{{([^}}]*)\}}", text).group(1)
    return np.array([float.fromhex(v) for v in body.split(",")])


def _c_define(name: str) -> str:
    return re.search(rf"#define {name} (\S+)", _SOURCE.read_text()).group(1)


def _bits(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float64).view(np.uint64)


def _float(u) -> np.ndarray:
    return np.asarray(u, dtype=np.uint64).view(np.float64)


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a, b):
    s = a + b
    return s, b - (s - a)


def _horner(x, c):
    acc = np.full_like(x, c[-1])
    for coefficient in c[-2::-1]:
        acc = acc * x + coefficient
    return acc


def _log1mexp_twin(x: np.ndarray) -> np.ndarray:
    """log1mexp_one of _engine.c in numpy, one rounded operation at a time."""
    from expfam._core import dd

    u = np.uint64
    t26_hi, t26_lo = _c_table("T26_HI"), _c_table("T26_LO")
    inv_c, log_c, poly_c = _c_table("LOG_INVC"), _c_table("LOG_C"), _c_table("LOG1P_POLY")
    ln2_hi, ln2_lo = (float.fromhex(_c_define(n)) for n in ("LN2_HI", "LN2_LO"))
    log_off = u(int(_c_define("LOG_OFF").removesuffix("ULL"), 16))
    shifter = np.float64(1.5 * 2.0**52)
    big = x * dd._INV_C + shifter
    kf = big - shifter
    kb = _bits(big) - _bits(shifter) + u(1 << 20)
    n = (kb >> u(6)).astype(np.int64) - (1 << 14)
    j = (kb & u(63)).astype(np.int64)
    r, r_err = _two_sum(x - kf * dd._C1, -(kf * dd._C2))
    q_hi, q_lo = _fast_two_sum(r, r * r * _horner(r, dd._EXP_TAIL) + r_err)
    t = t26_hi[j]
    q_top = _float(_bits(q_hi) & ~u((1 << 26) - 1))
    m_hi, m_lo = _fast_two_sum(t, t * q_top)
    m_lo = m_lo + (t * ((q_hi - q_top) + q_lo) + t26_lo[j] * (1.0 + q_hi))
    n1 = n >> 1
    scale1 = _float(((n1 + 1023) << 52).astype(np.uint64))
    scale2 = _float(((n - n1 + 1023) << 52).astype(np.uint64))
    scale = scale1 * scale2
    a_hi, a_lo = _fast_two_sum(1.0, -(scale * m_hi))
    s_hi, s_lo = _fast_two_sum(a_hi, a_lo - scale * m_lo)
    half_e = 0.5 * (scale * m_hi)
    tail = 0.0 - (m_hi + (m_lo + m_hi * half_e)) * scale1 * scale2
    tiny = np.where(s_hi < 2.0**-1000, u(100), u(0))
    up = _float(_bits(1.0) + (tiny << u(52)))
    s_hi, s_lo = s_hi * up, s_lo * up
    off = _bits(s_hi) - log_off
    i = ((off >> u(45)) & u(127)).astype(np.int64)
    k_biased = (off + (u(2048) << u(52))) >> u(52)
    z = _float(_bits(s_hi) - ((k_biased - u(2048)) << u(52)))
    z_h = _float(_bits(z) & ~u((1 << 27) - 1))
    inv = inv_c[i]
    r_hi, r_lo = _two_sum(z_h * inv - 1.0, (z - z_h) * inv)
    r_lo = r_lo + s_lo * _float((u(3071) - k_biased) << u(52)) * inv
    k_log = _float(_bits(shifter) + k_biased - tiny) - (shifter + 2048.0)
    h1, e1 = _fast_two_sum(k_log * ln2_hi, log_c[i])
    h2, e2 = _fast_two_sum(h1, r_hi)
    rr = r_hi + r_lo
    poly = rr * rr * (rr * _horner(rr, poly_c) - 0.5)
    y = h2 + ((e1 + e2) + k_log * ln2_lo + (r_lo + poly))
    y = np.where(x < -32.0, tail, y)
    edge = np.where(x < -746.0, 0.0, np.where(x == 0.0, -np.inf, np.nan))
    edge = np.where(np.isnan(x), x, edge)
    return np.where((x < 0.0) & (x >= -746.0), y, edge)


def test_log1mexp_tables_hold_their_definitions():
    """The tables of log1mexp's vector code (_engine.c) against mpmath: 2^(j/64) as a 26-bit
    head and a tail; 1/c of 26 bits and log c as one double to 2^-64 of itself, c within
    1.0032 2^-8 of every z of its cell; the log1p polynomial within 2^-62.9 |r| there."""
    two = mpmath.mpf(2)
    with mpmath.workdps(50):
        for j, (hi, lo) in enumerate(zip(_c_table("T26_HI"), _c_table("T26_LO"), strict=True)):
            exact = two ** (mpmath.mpf(j) / 64)
            assert hi == float(mpmath.ldexp(mpmath.nint(mpmath.ldexp(exact, 25)), -25))
            assert abs(mpf(hi) + mpf(lo) - exact) < exact * two**-80
        off = int(_c_define("LOG_OFF").removesuffix("ULL"), 16)
        table = zip(_c_table("LOG_INVC"), _c_table("LOG_C"), strict=True)
        for i, (inv, log_c) in enumerate(table):
            m, _ = mpmath.frexp(inv)
            assert mpmath.ldexp(m, 26) == mpmath.nint(mpmath.ldexp(m, 26))
            assert abs(mpf(log_c) + mpmath.log(inv)) <= abs(mpf(log_c)) * two**-64
            edges = [mpf(float(_float(np.uint64(off + (c << 45))))) for c in (i, i + 1)]
            assert max(abs(e * mpf(inv) - 1) for e in edges) < mpf("1.0032") * two**-8
            if log_c != 0:
                assert max(abs(e * mpf(inv) - 1) for e in edges) < abs(log_c) - 0.0019
        poly = _c_table("LOG1P_POLY")
        for r in map(mpf, np.linspace(-1.0033, 1.0033, 203) * 2.0**-8):
            approx = r**3 * sum(mpf(c) * r**k for k, c in enumerate(poly))
            assert abs(approx - (mpmath.log1p(r) - r + r**2 / 2)) <= abs(r) * two**-62.9


def test_log1mexp_rounds_every_operation_as_written():
    """log1mexp equals, bit for bit, its formula evaluated in numpy one rounded operation
    at a time (-ffp-contract=off), on every regime: a fused multiply-add in TwoSum, the
    exact products T26_HI q_top and z_h / c, the polynomials or the scalings would change
    the last bits of some of these values."""
    rng = np.random.default_rng(5)
    x = np.concatenate(
        [
            -(10.0 ** rng.uniform(-320, 0.5, 20_000)),
            -rng.exponential(3.0, 20_000),
            rng.uniform(-750.0, -700.0, 5_000),
            rng.uniform(-40.0, -25.0, 5_000),
            -np.log(2) + rng.uniform(-1e-3, 1e-3, 5_000),
            [0.0, -0.0, -5e-324, -(2.0**-1000), -32.0, -746.0, -745.5, -np.inf, np.inf, 1.0],
            [np.nan, -1e308],
        ]
    )
    with np.errstate(all="ignore"):  # the values selected away over- and underflow
        want = _log1mexp_twin(x)
    assert _same(expfam.log1mexp(x), want)
