"""The sweep API on a real Dask cluster (worker processes on this machine): the same numbers as the
serial executor, and a worker killed mid-sweep costs only the work it lost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ramplab.sweeps import grid, sweep
from sweep_tasks import executions, fragile_task, solver_task

distributed = pytest.importorskip("distributed")

SPECS = grid(d=[20, 40], a=1.5, lr=[0.3, 0.6], batch=[1, 4], steps=60)


@pytest.fixture(scope="module")
def client():
    """One two-worker LocalCluster for the module (starting one costs seconds)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


def test_dask_gives_bitwise_the_same_numbers_as_serial(client):
    serial = sweep(solver_task, SPECS)
    for executor in (client, client.get_executor(pure=False)):
        on_dask = sweep(solver_task, SPECS, executor=executor)
        pd.testing.assert_frame_equal(on_dask.table, serial.table, check_exact=True)
        for mine, theirs in zip(on_dask.curves, serial.curves):
            assert all(np.array_equal(mine[k], theirs[k]) for k in ("risk", "mc_mean", "blas"))


def test_a_killed_worker_costs_only_its_lost_task(client, tmp_path):
    # Spec 0 is among the first two tasks sent out, one per single-threaded worker, so nothing had
    # finished on its worker before it died: exactly one execution is lost, whatever the timing.
    kill = 0
    specs = grid(i=list(range(8)), kill=kill, markers=str(tmp_path))
    result = sweep(fragile_task, specs, executor=client)
    assert (tmp_path / "killed-once").exists()  # the worker did die
    assert result.table["i"].tolist() == list(range(8))
    assert result.table["y"].tolist() == [float(i * i) for i in range(8)]
    # The task that was running on the dead worker ran twice; every finished row only once.
    assert executions(tmp_path) == {i: 2 if i == kill else 1 for i in range(8)}
    client.wait_for_workers(2, timeout=300)  # the nanny restarted it (a hang bound: generous on a loaded machine)
