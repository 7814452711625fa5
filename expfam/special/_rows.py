"""The row engine behind softmax, log_softmax, logsumexp, entropy and cross_entropy.

Every kernel that normalizes along the last axis runs one compiled per-row
kernel (``_engine.c``, C, the GIL released) for every size of input. For a
row ``x`` and inverse temperature ``beta``:

1. ``k = argmax(x)``, ``m = x[k]`` (the first maximum);
2. ``d = beta * (x - m)`` formed exactly as an unevaluated sum ``hi + lo``
   (TwoSum for the shift, Dekker's product for ``beta``), so that ``exp``
   does not amplify the rounding of the shift (its error grows with ``|d|``);
3. ``e = exp(hi) (1 + lo)`` and ``t = sum_{j != k} e_j``, accumulated with
   TwoSum as a double-double in 8 interleaved lanes (entry ``i`` of a row in
   lane ``i % 8``, added in lane order at the end);
4. the log-partition is ``m + log1p(t)`` (``log1p`` keeps the digits when
   one entry dominates) and the probabilities are ``e / (1 + t)``.

Probabilities (``softmax``) divide by ``1 + t`` carried in double-double,
``p = e r_hi + (e lo r_hi + e r_lo)`` with ``r_hi + r_lo = 1 / (1 + t)``:
at most 3 ULP (2.0 measured, rows of ``10**4`` entries included). The
float64 log-domain outputs (``log_softmax``, ``logsumexp``, ``entropy``,
``cross_entropy``) need ``log1p(t)`` to a fraction of an ULP: float64
``exp`` (the engine's own, below: ``1.04 * 2**-53`` relative) moves
``log1p(t)`` by ``1.04 kappa u``, ``kappa = t / ((1 + t) log1p t)``, so rows
with ``kappa > 0.47`` (a dominant class) sum every term again with ``exp`` in
double-double (relative error below ``2**-58``; for ``logsumexp`` and
``cross_entropy`` kappa measures the move against the output itself,
``m + log1p t`` or ``log1p t - d_y``, which rows near cancellation fail and
rows far from it pass), and rows with
``t < 2**-900`` sum them scaled by ``2**600`` (``log1p(t) = t``, and terms
below the normal range keep their digits). ``log1p(t)`` is then carried in
double-double and each output formed with TwoSum and rounded once: at most
1 ULP. The entropy ``log1p(t) + S / (1 + t)``, ``S = sum_k e_k (-d_k)``,
takes every term in double-double (both parts non-negative): 1 ULP.
Float16 rows run the same float64 code and round once.

Float32 rows whose output is float32 are computed in float64 too, but only
as far as that output can see. Rows of more than 64 classes take the coarse
path (``_engine.c``, ``seg_fast_coarse``, with the proof of each bound): it
forms ``d = beta (x - m)`` in plain float64, ``e^d`` by ``exp_coarse`` (a
degree-5 polynomial on a 16-entry table: ``2**-41.5`` relative on
``[-708, 0]``, ``0`` below), ``t`` and the entropy's ``S`` in 8 plain
float64 lanes, and ``p = e (1 / (1 + t))`` with one reciprocal: every output
within ``2**-30`` relative before its one rounding to float32, so within
``0.5 + 2**-6`` ULP of float32 after it. Short rows (packed in groups) take
the float64 pass's ``t`` and libm's ``log1p`` (the entropy's two terms in
float64), within ``(1.04 + 2 log K) kappa 2**-53 + 2**-52`` of the output
before its rounding. Only ``logsumexp`` can cancel (``m + log1p t`` near 0, where the
error grows by kappa): rows with kappa above ``2**9`` (coarse) or ``2**16``
(the float64 pass) take the double-double path above instead. Float32 rows
asked for a float64 output (``kl_divergence`` reads them so) take the
float64 path. After rows that needed the double-double pass, a thread tries
that pass first on its next rows, and keeps its sum without the float64
pass when kappa is well above 0.47 (where that pass's test would send the
row there anyway): the result of every row is the same whatever the rows
before it.

The float64 ``exp`` is the engine's own (``exp_fast``), branch-free so that
it vectorises: Cody-Waite reduction ``r = x - k log(2)/64`` (exact high
part, ``|r| <= 0.0054``), ``2**(k/64)`` from a 64-entry table in
double-double, ``e**r - 1`` by its degree-6 Taylor polynomial, and the scale
``2**n`` built from exponent bits as two normal factors ``2**(n//2)`` and
``2**(n - n//2)`` (so a subnormal result is rounded once). Its relative
error is below ``1.04 * 2**-53`` (0.52 ULP; the last rounding, ``2**-53``,
plus at most ``0.031 * 2**-53`` from the reduction, the polynomial and the
table) for normal results, below ``0.76 * 2**-1074`` for subnormal ones,
exactly ``0`` below ``-745.14`` (and at ``-inf``) and ``inf`` above
``709.79`` (``tests/special/test_special_engine.py`` sweeps it against
mpmath). The hot loops run over blocks of 256 entries in stack arrays, one
simple loop per step, which the compiler vectorises; on x86-64 they are
compiled for AVX-512, AVX2 and the baseline, chosen when the module loads.
Every build of these loops computes the same operations in the same order (8 lanes
whatever the vector width), so their results do not depend on the machine.

Rows longer than 65536 entries are cut into segments of 16384 columns
(``_engine.set_segments``); every pass runs over the segments (shared among
the threads) and adds their partial sums in segment order, so no work array
grows with the row and results do not depend on the number of threads.
Shorter rows are shared among the threads, one row per thread at a time;
rows of up to 64 entries in groups of up to 64 rows (256 entries): the
maxima, then the shifts of the group's rows one after the other in one
block, the terms of the whole block in one vector loop, and each row's sum
in lanes of its own (entry ``i`` of the row in lane ``i % 8``), the same
operations as on a row alone, so the same bits: a short row alone is one
chain of dependent steps with little work for the vector loops.
The kernels are compiled without FMA contraction or reassociation
(``-ffp-contract=off``), which the error-free transformations need.

Rows whose maximum is not finite (a NaN, a ``+inf``, or nothing but
``-inf``) take the limits of the mathematics: NaN gives NaN; ``c > 0``
entries ``+inf`` share the mass (``p = 1/c`` on them, ``log p = -log c``,
log-partition ``+inf``, entropy ``log c``); a row of all ``-inf`` has no
distribution (log-partition ``-inf``, everything else NaN).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from expfam._core import threads as _threads
from expfam.special import _engine

_KINDS = {
    "logsumexp": 0,
    "softmax": 1,
    "log_softmax": 2,
    "log_softmax_dd": 3,
    "entropy": 4,
    "cross_entropy": 5,
}
_COMPUTED = (np.dtype(np.float32), np.dtype(np.float64))


def run(
    kind: str,
    x: NDArray,
    beta: float | NDArray,
    out_dtype: np.dtype,
    target: NDArray | None = None,
) -> NDArray:
    """Apply ``kind`` to every row of the 2-D array ``x``.

    ``beta`` is one finite inverse temperature ``> 0`` or an array of them, one per row.

    Returns an array of ``out_dtype`` with shape ``x.shape`` (softmax,
    log_softmax), ``x.shape + (2,)`` (log_softmax_dd: float64 rows only, the
    log-probabilities as ``[..., 0] + [..., 1]``), or ``x.shape[:1]``
    (logsumexp, entropy, and cross_entropy: ``-log p_y`` for the class
    indices ``target``, one per row, without forming ``log p``).
    """
    rows, k = x.shape
    shape = {"softmax": (rows, k), "log_softmax": (rows, k), "log_softmax_dd": (rows, k, 2)}
    shape = shape.get(kind, (rows,))
    out_dtype = np.dtype(out_dtype)
    # float16 results are rounded once, from float64
    out = np.empty(shape, dtype=out_dtype if out_dtype in _COMPUTED else np.float64)
    if rows == 0 or k == 0:
        # An empty row: the log of the empty sum is -inf, its entropy the empty sum, 0.
        out.fill({"logsumexp": -np.inf, "entropy": 0.0}.get(kind, np.nan))
        return out.astype(out_dtype, copy=False)
    if x.dtype not in _COMPUTED:
        x = x.astype(np.float32 if x.dtype == np.float16 else np.float64)
    x = np.ascontiguousarray(x)
    if np.ndim(beta) > 0:
        beta = np.ascontiguousarray(np.broadcast_to(beta, (rows,)), dtype=np.float64)
    else:
        beta = float(beta)
    if target is not None and not (
        target.shape == (rows,) and target.dtype == np.int64 and target.flags.c_contiguous
    ):
        target = np.ascontiguousarray(np.broadcast_to(target, (rows,)), dtype=np.int64)
    # float32 or float16 results of float32 rows take the coarse path (within 2**-30)
    coarse = x.dtype == np.float32 and out_dtype.itemsize <= 4
    _engine.rows(_KINDS[kind], x, beta, target, out, _threads.get_num_threads(), coarse)
    if out.dtype != out_dtype:
        with np.errstate(over="ignore"):  # beyond float16's range: inf, as the rounding says
            return out.astype(out_dtype)
    return out


def plain_rows(x: object, axis: object, where: object) -> NDArray | None:
    """``x`` as rows ``(n, K)`` when its arguments need no reading: a C-contiguous float
    ndarray of 2 or more axes, ``axis`` its last, no mask, no empty axis. The fast path of
    batches (the rows are a view of ``x``); None otherwise."""
    if (
        type(x) is np.ndarray
        and x.ndim >= 2
        and x.dtype.kind == "f"
        and x.dtype.itemsize <= 8
        and type(axis) is int
        and axis in (-1, x.ndim - 1)
        and where is None
        and x.size > 0
        and x.flags.c_contiguous
    ):
        return x.reshape(-1, x.shape[-1])
    return None
