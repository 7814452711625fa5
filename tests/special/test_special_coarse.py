"""The coarse path of the row engine: float32 rows whose output is float32 or float16.

Such rows run in plain float64 (exp_coarse, plain lane sums, one reciprocal), within 2**-30
relative of the exact value before the last rounding (``_engine.c``, seg_fast_coarse), so
every output is within ``0.5 + 2**-6`` ULP of float32 (``0.5 + 2**-19`` of float16): these
tests hold that, which is far tighter than the catalogue's 1 and 3 ULP, against mpmath on
adversarial rows. logsumexp rows near cancellation (kappa above 2**9) take the float64 path;
the coarse path's error there would be amplified by kappa and show."""

from __future__ import annotations

import functools

import mpmath
import mpref
import numpy as np
import pytest

import expfam.special as es
from expfam.special import _engine

F16, F32 = np.float16, np.float32
# 0.5 ULP of the last rounding plus 2**-30 relative before it, in ULPs of each dtype
HALF_ULP_AND_COARSE = {F32: 0.5 + 2.0**-6, F16: 0.5 + 2.0**-19}


def _assert_rounded(computed, exact, dtype, what):
    err = mpref.ulp_errors(np.asarray(computed), exact)
    bound = HALF_ULP_AND_COARSE[dtype]
    worst = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
    assert err[worst] <= bound, f"{what}: {err[worst]:.6g} ULP > {bound} at {worst}"


# ---------------------------------------------------------------- exp_coarse


def _exp_coarse_sweep() -> np.ndarray:
    """[-708, 0] on a fine grid, the reduction's rounding boundaries (k + 1/2) log(2)/16 and
    their neighbours, and the ends."""
    rng = np.random.default_rng(41)
    grid = np.linspace(-708.0, 0.0, 30_001) + rng.uniform(-0.01, 0.01, 30_001)
    grid = grid[(grid >= -708.0) & (grid <= 0.0)]
    halfway = (np.arange(-16_343, 0, 7) + 0.5) * (np.log(2.0) / 16)
    near = np.concatenate([np.nextafter(halfway, -np.inf), halfway, np.nextafter(halfway, 0)])
    ends = np.array([-708.0, np.nextafter(-708.0, 0), -1e-300, -5e-324, -0.0, 0.0])
    return np.concatenate([grid, near, ends])


def test_exp_coarse_against_mpmath_on_a_dense_sweep():
    """exp_coarse: relative error below 2**-41.5 on [-708, 0] (its bound, in the C)."""
    x = _exp_coarse_sweep()
    y = np.empty_like(x)
    _engine.exp(x, y, True)
    worst = 0.0
    with mpmath.workprec(120):
        for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
            exact = mpmath.exp(mpmath.mpf(xi))
            worst = max(worst, float(abs(mpmath.mpf(yi) / exact - 1)))
    assert worst < 2.0**-41.5
    assert worst > 2.0**-44  # the sweep reaches the truncation of the series


def test_exp_coarse_limits():
    x = np.array([-np.inf, -1e300, -1e5, -745.0, -708.5, np.nextafter(-708.0, -np.inf), 0.0])
    y = np.empty_like(x)
    _engine.exp(x, y, True)
    assert y.tolist() == [0.0] * 6 + [1.0]
    assert not np.signbit(y).any()


def test_exp_coarse_rounds_every_operation_as_written():
    """The vector loop (and its scalar tail) equals, bit for bit, its formula in numpy one
    rounded operation at a time: a fused multiply-add would change the last bits."""
    x = _exp_coarse_sweep()
    y = np.empty_like(x)
    _engine.exp(x, y, True)
    shifter = np.float64(1.5 * 2.0**52)
    inv_c16, c16 = float.fromhex("0x1.71547652b82fep+4"), float.fromhex("0x1.62e42fefa39efp-5")
    big = x * inv_c16 + shifter
    kf = big - shifter
    k = big.view(np.int64) - shifter.view(np.int64)
    r = x - kf * c16
    p = r * float.fromhex("0x1.1111111111111p-7") + float.fromhex("0x1.5555555555555p-5")
    p = p * r + float.fromhex("0x1.5555555555555p-3")
    p = p * r + 0.5
    q = r + (r * r) * p
    table = np.array([float(mpmath.mpf(2) ** (mpmath.mpf(j) / 16)) for j in range(16)])
    t = table[k & 15]
    z = t + t * q
    z = (z.view(np.int64) + ((k >> 4) << 52)).view(np.float64)
    z = np.where(x < -708.0, 0.0, z)
    assert np.array_equal(y.view(np.int64), z.view(np.int64))


# ---------------------------------------------------------------- the kernels on adversarial rows


def _rows32() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20261207)
    return {
        "spread_20_40": [0.0, -23.4, -31.7, -38.9, -27.2],
        "spread_20_40_shifted": [12.5, -10.25, 4.0, -27.0, 0.3],
        "dominant": [10.0, -30.0, -35.0, -12.0],
        "subnormal_float32_results": [0.0, -88.0, -95.0, -100.0, -103.0, -104.5],
        "underflowing": [0.0, -110.0, -800.0, -1e30, -np.inf],
        "near_ties": [1.0, np.nextafter(F32(1), F32(2)), np.nextafter(F32(1), F32(0))],
        "huge": [3e38, -3e38, 0.0, 2.9e38],
        "huge_1000": [1000.0, 1001.0, 1002.0],
        "long_N(0,5^2)_5e4": rng.standard_normal(50_000) * 5.0,
        "long_dominant_5e4": np.r_[25.0, rng.standard_normal(49_999)],
    }


ROWS32 = {k: np.asarray(v, dtype=F32) for k, v in _rows32().items()}


@pytest.fixture(params=["rows", "segments"])
def path(request):
    """The rows path, or the segments' (segments of 4099 columns: every block boundary and
    partial lanes)."""
    saved = _engine.set_segments(0, 4099) if request.param == "segments" else None
    try:
        yield request.param
    finally:
        if saved is not None:
            _engine.set_segments(*saved)


# every short row at every temperature; the long rows (mpmath is slow on them) at two
_CASES = [
    (case, beta)
    for case, x in ROWS32.items()
    for beta in ((1.0, 1e-30, 0.37, 1e30) if x.size < 100 else (1.0, 0.37))
]


@functools.cache
def _references(case, beta):
    finite = ROWS32[case][np.isfinite(ROWS32[case])]
    return mpref.log_softmax_ref(finite, beta), mpref.softmax_ref(finite, beta)


@pytest.mark.parametrize(("case", "beta"), _CASES)
def test_coarse_kernels_are_rounded_to_nearest_but_2_to_the_minus_30(case, beta, path):
    x = ROWS32[case]
    finite = x[np.isfinite(x)]
    ls, p_exact = _references(case, beta)
    keep = np.isfinite(x)
    got = es.log_softmax(x, beta=beta)
    assert (got[~keep] == -np.inf).all()
    _assert_rounded(got[keep], ls, F32, f"log_softmax {case} beta={beta}")
    p = es.softmax(x, beta=beta)
    _assert_rounded(p[keep], p_exact, F32, f"softmax {case} beta={beta}")
    for y in {int(np.argmax(x)), int(np.argmin(np.where(keep, x, np.inf))), x.size // 2}:
        if keep[y]:
            j = int(np.flatnonzero(keep).tolist().index(y))
            got = es.cross_entropy(x, y, beta=beta)
            _assert_rounded(got, -ls[j], F32, f"cross_entropy {case} beta={beta} target={y}")
    if beta == 1.0:
        _assert_rounded(es.entropy(x), mpref.entropy_ref(x), F32, f"entropy {case}")
        exact = mpref.logsumexp_ref(finite)[0]
        _assert_rounded(es.logsumexp(x), exact, F32, f"logsumexp {case}")


@pytest.mark.parametrize(
    "row",
    [[0.0, -5.0, -9.5, -11.0], [3.0, 2.5, -1.0, -7.25], [0.0, -15.0, -16.5], [0.0, 0.0, -0.5]],
)
def test_coarse_float16_rows_round_once(row):
    x = np.asarray(row, dtype=F16)
    ls = mpref.log_softmax_ref(x)
    _assert_rounded(es.log_softmax(x), ls, F16, "log_softmax")
    _assert_rounded(es.softmax(x), mpref.softmax_ref(x), F16, "softmax")
    _assert_rounded(es.entropy(x), mpref.entropy_ref(x), F16, "entropy")
    _assert_rounded(es.logsumexp(x), mpref.logsumexp_ref(x)[0], F16, "logsumexp")
    _assert_rounded(es.cross_entropy(x, 1), -ls[1], F16, "cross_entropy")


# ---------------------------------------------------------------- the threshold


def _near_cancelling_rows() -> np.ndarray:
    """Rows whose logsumexp cancels to a few float32 ULPs of their maximum: each row shifted
    by its own log-partition rounded to float32 (kappa ~ 2**24 / |m|)."""
    rng = np.random.default_rng(5)
    rows = [[0.0, a] for a in (-0.5, -3.0, -10.0, -17.0)]
    rows = [np.asarray(r) for r in rows] + [rng.standard_normal(9) * s for s in (0.5, 3.0, 9.0)]
    out = []
    for z in rows:
        z = z.astype(F32)
        with mpmath.workdps(40):
            lse = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in z))
        out.append((z.astype(np.float64) - float(lse)).astype(F32))
    return out


def test_threshold_sends_near_cancelling_rows_to_the_float64_path():
    """logsumexp near 0 takes the float64 path: the same bits as that path, and rounded to
    nearest but 2**-30 in spite of the cancellation (the coarse sum's 2**-39 would show here
    as up to 2**-15 relative, hundreds of ULPs)."""
    for x in _near_cancelling_rows():
        got = es.logsumexp(x)
        exact = mpref.logsumexp_ref(x)[0]
        kappa = 1 / abs(float(exact))  # t / (1 + t) is below 1
        assert kappa > 2.0**9, "a row that does not cancel"
        _assert_rounded(got, exact, F32, f"logsumexp {x.tolist()}")
        rows = x[None, :]
        coarse, accurate = np.empty(1, F32), np.empty(1, F32)
        _engine.rows(0, rows, 1.0, None, coarse, 1, True)
        _engine.rows(0, rows, 1.0, None, accurate, 1, False)
        assert coarse.view(np.int32)[0] == accurate.view(np.int32)[0] == got.view(np.int32)
