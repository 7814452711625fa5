"""The worker threads of the row engine: how many, and the pool that runs them.

The row engine splits large inputs into blocks of rows and hands them to a
pool of threads; numpy releases the GIL inside its loops, so the blocks run
in parallel. The number of threads is, in order of precedence:

1. the value set by :func:`set_num_threads` (also a context manager);
2. the environment variable ``EXPFAM_NUM_THREADS``, read once, at first use;
3. the number of CPUs this process may run on (``os.sched_getaffinity``,
   which honours ``taskset`` and container CPU sets, unlike ``os.cpu_count``).

One thread means no pool: every block runs on the calling thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

import numpy as np


def _available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _from_environment() -> int:
    value = os.environ.get("EXPFAM_NUM_THREADS", "").strip()
    if not value:
        return _available_cpus()
    try:
        return _checked(int(value), "EXPFAM_NUM_THREADS")
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"EXPFAM_NUM_THREADS: expected a positive integer, got {value!r}"
        ) from exc


def _checked(n: object, name: str = "n") -> int:
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise TypeError(f"{name}: expected a positive integer, got {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"{name}: expected a positive integer, got {n}")
    return n


_lock = threading.Lock()
_num_threads: int | None = None  # None: EXPFAM_NUM_THREADS or the CPUs, read at first use
_executor: ThreadPoolExecutor | None = None
_pool_size = 0


class set_num_threads:  # lower case: called like a function
    """Set the number of threads of the row kernels; usable as a context manager.

    Parameters
    ----------
    n : int
        Number of threads, ``>= 1``; ``1`` runs everything on the calling
        thread (no pool).

    Notes
    -----
    As a plain call the setting stays; in a ``with`` block the previous
    value comes back at the end of the block. Results do not depend on the
    number of threads (each row is computed the same way by one thread).

    Examples
    --------
    >>> from expfam.special import get_num_threads, set_num_threads
    >>> with set_num_threads(1):
    ...     get_num_threads()
    1
    """

    def __init__(self, n: int) -> None:
        global _num_threads
        n = _checked(n)
        self._previous = _num_threads
        with _lock:
            _num_threads = n

    def __enter__(self) -> set_num_threads:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _num_threads
        with _lock:
            _num_threads = self._previous


def get_num_threads() -> int:
    """The number of threads the row kernels use (see :func:`set_num_threads`).

    Returns
    -------
    int
        The value set by :func:`set_num_threads` if any; otherwise
        ``EXPFAM_NUM_THREADS``, read at first use; otherwise the number of
        CPUs this process may run on. Always ``>= 1``.

    Examples
    --------
    >>> from expfam.special import get_num_threads
    >>> get_num_threads() >= 1
    True
    """
    global _num_threads
    if _num_threads is None:
        _num_threads = _from_environment()
    return _num_threads


def run_chunks(starts: range, work: Callable[[range], None], parallel: bool) -> None:
    """``work`` on interleaved slices of ``starts``, one per thread when ``parallel``.

    The workers run in the caller's numpy error state (``np.errstate`` is per
    thread: without this a caller's ``errstate(all="ignore")`` would not reach them).
    """
    threads = min(get_num_threads(), len(starts)) if parallel else 1
    if threads <= 1:
        work(starts)
        return
    state = np.geterr()

    def in_state(chunk: range) -> None:
        with np.errstate(**state):
            work(chunk)

    for future in [pool().submit(in_state, starts[i::threads]) for i in range(threads)]:
        future.result()


def pool() -> ThreadPoolExecutor:
    """The shared pool, grown to :func:`get_num_threads` workers when the setting grows."""
    global _executor, _pool_size
    n = get_num_threads()
    with _lock:
        if _pool_size < n:
            old = _executor
            _executor = ThreadPoolExecutor(max_workers=n, thread_name_prefix="expfam")
            _pool_size = n
            if old is not None:
                old.shutdown(wait=False)
        return _executor
