"""The row engine: its threads (affinity, EXPFAM_NUM_THREADS, set_num_threads), results that do
not depend on them, and the memory it uses."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import expfam.special as es
from expfam._core import threads as _threads


def _threads_used(blocks: int) -> set[int]:
    """The threads that the pool's policy (``run_chunks``) runs ``blocks`` blocks on."""
    seen = set()
    lock = threading.Lock()

    def work(chunk):
        for _ in chunk:
            with lock:
                seen.add(threading.get_ident())
            time.sleep(0.002)  # long enough that no worker takes every block alone

    _threads.run_chunks(range(blocks), work, parallel=True)
    return seen


def test_default_is_the_cpus_this_process_may_use():
    code = "import expfam.special as es; print(es.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k != "EXPFAM_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == len(os.sched_getaffinity(0))


def test_environment_variable_sets_the_count():
    code = "import expfam.special as es; print(es.get_num_threads())"
    env = {**os.environ, "EXPFAM_NUM_THREADS": "3"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == 3


@pytest.mark.parametrize("value", ["many", "0", "-2"])
def test_bad_environment_variable_is_an_error_naming_it_at_first_use(value):
    """Not at import: a script that sets its own count still runs (issue 17)."""
    env = {**os.environ, "EXPFAM_NUM_THREADS": value}
    code = "import expfam; expfam.special.set_num_threads(1); expfam.softmax([1.0, 2.0])"
    ok = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    code = "import expfam; expfam.softmax([1.0, 2.0])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "EXPFAM_NUM_THREADS: expected a positive integer" in out.stderr


def test_numpy_integer_count_is_accepted():
    with es.set_num_threads(np.int64(2)):
        assert es.get_num_threads() == 2
        assert type(es.get_num_threads()) is int


def test_context_manager_restores_the_previous_count():
    before = es.get_num_threads()
    with es.set_num_threads(1) as setting:
        assert es.get_num_threads() == 1
        assert isinstance(setting, es.set_num_threads)
    assert es.get_num_threads() == before


def test_plain_call_stays():
    before = es.get_num_threads()
    try:
        es.set_num_threads(2)
        assert es.get_num_threads() == 2
    finally:
        es.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1])
def test_non_positive_count_is_a_value_error(bad):
    with pytest.raises(ValueError, match="n: expected a positive integer"):
        es.set_num_threads(bad)


@pytest.mark.parametrize("bad", [2.0, "2", True, None])
def test_non_integer_count_is_a_type_error(bad):
    with pytest.raises(TypeError, match="n: expected a positive integer"):
        es.set_num_threads(bad)


def test_one_thread_means_no_pool():
    with es.set_num_threads(1):
        assert _threads_used(16) == {threading.get_ident()}


def test_several_threads_share_large_inputs():
    with es.set_num_threads(2):
        used = _threads_used(16)
    assert threading.get_ident() not in used
    assert len(used) == 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "kernel", [es.softmax, es.log_softmax, es.logsumexp, es.entropy, es.kl_divergence]
)
def test_results_do_not_depend_on_the_thread_count(kernel, dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((600, 2000)) * 6).astype(dtype)
    x[::7, 3] = 80.0  # some dominated rows
    args = (x, x[::-1]) if kernel is es.kl_divergence else (x,)
    with es.set_num_threads(1):
        one = kernel(*args)
    with es.set_num_threads(2):
        two = kernel(*args)
    np.testing.assert_array_equal(one, two)


def test_cross_entropy_with_class_indices_does_not_form_log_softmax():
    x = np.random.default_rng(2).standard_normal((2048, 4096), dtype=np.float32)
    y = np.arange(2048) % 4096
    with es.set_num_threads(1):
        tracemalloc.start()
        loss = es.cross_entropy(x, y)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert loss.shape == (2048,)
    assert peak < x.nbytes / 2  # log_softmax alone would be x.nbytes


@pytest.mark.parametrize("kernel", [es.softmax, es.log_softmax, es.logsumexp, es.entropy])
def test_a_long_row_needs_work_arrays_of_a_few_chunks_not_of_the_row(kernel):
    x = np.random.default_rng(3).standard_normal(1 << 20) * 4  # 8 MB: column chunks
    tracemalloc.start()
    out = kernel(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    output = out.nbytes if np.ndim(out) else 0
    assert peak - output < x.nbytes / 2  # the blocks would hold 4-5 copies of the row
