"""The metrics under the threaded scheduler and on a dask.distributed LocalCluster.

The cluster has 2 worker processes on localhost (one thread each); it is
started once for the module and shut down at its end.
"""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from expfam import learn, special  # noqa: E402


def data():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(500, 40)) * 3
    y = np.where(rng.random(500) < 0.6, z.argmax(1), rng.integers(0, 40, 500))
    return z, y


def run_metrics(z: np.ndarray, y: np.ndarray) -> dict[str, object]:
    rows = da.from_array(z, chunks=(125, 40))
    split = da.from_array(z, chunks=(125, 16))
    nll, entropy = dask.compute(
        special.cross_entropy(split, y).mean(), special.entropy(split).sum()
    )
    return {
        "nll": float(nll),
        "entropy": float(entropy),
        "log_softmax": special.log_softmax(split).compute(),
        "ece": learn.expected_calibration_error(logits=rows, labels=y),
        "beta": learn.fit_temperature(rows, y).beta,
    }


def check(got: dict[str, object], z: np.ndarray, y: np.ndarray) -> None:
    eps = np.finfo(float).eps
    assert got["nll"] == pytest.approx(float(np.mean(special.cross_entropy(z, y))), rel=8 * eps)
    assert got["entropy"] == pytest.approx(float(np.sum(special.entropy(z))), rel=8 * eps)
    np.testing.assert_allclose(got["log_softmax"], special.log_softmax(z), rtol=4 * eps)
    assert got["ece"] == pytest.approx(learn.expected_calibration_error(logits=z, labels=y))
    assert got["beta"] == pytest.approx(learn.fit_temperature(z, y).beta, rel=1e-12)


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_local_schedulers(scheduler):
    z, y = data()
    with dask.config.set(scheduler=scheduler):
        check(run_metrics(z, y), z, y)


def test_distributed_local_cluster():
    distributed = pytest.importorskip("distributed")
    z, y = data()
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit="1GiB",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        got = run_metrics(z, y)
    check(got, z, y)
