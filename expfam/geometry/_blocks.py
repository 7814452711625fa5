"""Blocks of rows for the batched kernels of ``expfam.geometry``, with reused work arrays.

:func:`for_blocks` runs a kernel on blocks of rows small enough that all of its
block-sized temporaries stay in the cache (a block holds
``_BLOCK_ELEMENTS`` float64 values over all its work arrays; large batches are
shared among the threads of :mod:`expfam._core.threads`). The kernel takes those temporaries from
:func:`work`: fresh block-sized arrays are returned to the system when freed and
page-fault on every block (measured: 2-3x the time of the arithmetic on them), so
each thread keeps its own and hands them out again from the start of each block
(at most ``_MAX_ARRAYS`` of 512 KiB each).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from expfam._core import threads

__all__ = ["blend", "errstate_ignored", "for_blocks", "work"]

# Elements per block over its work arrays (2 MiB per array, the L2 size here).
_BLOCK_ELEMENTS = 1 << 18
# Batches of this many elements or more are shared among the threads.
_PARALLEL_ELEMENTS = 1 << 20
# Block-sized temporaries a kernel holds at once: each gets 1/4 of the budget.
_WORKING_ARRAYS = 4
_MAX_ARRAYS = 32  # a kernel that takes more gets fresh arrays beyond
_LARGEST = _BLOCK_ELEMENTS // _WORKING_ARRAYS  # elements of a block's array


class _Pool(threading.local):
    """One thread's work arrays and how many of them the current block has taken."""

    def __init__(self) -> None:
        self.arrays: list[NDArray] = []
        self.used = 0


_POOL = _Pool()


def for_blocks(rows: int, k: int, body: Callable[[int, int], None]) -> None:
    """``body(start, stop)`` on blocks of rows of a (rows, k) batch, on all cores if large."""

    block_rows = max(1, _BLOCK_ELEMENTS // max(k * _WORKING_ARRAYS, 1))

    def chunk(starts: range) -> None:
        for start in starts:
            taken = _POOL.used  # 0, or what an enclosing loop of this thread holds
            try:
                body(start, min(start + block_rows, rows))
            finally:
                _POOL.used = taken

    parallel = rows * k * _WORKING_ARRAYS >= _PARALLEL_ELEMENTS
    threads.run_chunks(range(0, rows, block_rows), chunk, parallel)


def errstate_ignored(body: Callable[[int, int], None]) -> Callable[[int, int], None]:
    """``body`` with numpy's floating-point warnings off.

    For kernels that validate their input after the loop (invalid values then raise)
    and handle zeros and infinities explicitly.
    """

    def wrapped(start: int, stop: int) -> None:
        with np.errstate(all="ignore"):
            body(start, stop)

    return wrapped


def work(shape: tuple[int, ...]) -> NDArray:
    """An uninitialized float64 array of ``shape``, the kernel's until the end of its block.

    Each thread keeps at most ``_MAX_ARRAYS`` of them, of at most one block
    (larger ones, rows longer than a block, are allocated afresh).
    """
    size, pool = math.prod(shape), _POOL
    if size > _LARGEST:
        return np.empty(shape)
    if pool.used == len(pool.arrays):
        if pool.used == _MAX_ARRAYS:
            return np.empty(shape)
        pool.arrays.append(np.empty(size))
    if pool.arrays[pool.used].size < size:
        pool.arrays[pool.used] = np.empty(size)
    pool.used += 1
    return pool.arrays[pool.used - 1][:size].reshape(shape)


def blend(mask: NDArray, inside: NDArray, outside: NDArray) -> NDArray:
    """``inside = where(mask, inside, outside)`` in place, for finite ``inside`` and ``outside``.

    Arithmetic (multiplications by 0 and 1 are exact): a masked copy or ``np.where``
    costs several times a multiplication here. ``mask`` is overwritten.
    """
    inside *= mask
    np.logical_not(mask, out=mask)
    outside *= mask
    inside += outside
    return inside
