"""Top-level task functions for the sweep tests (pickled by value to worker processes).

``solver_task`` touches everything whose numbers could depend on where it runs: the exact solver
(numba kernel when installed), Monte Carlo seeded from the spec, and a BLAS matrix solve.
``counted_task`` leaves one marker file per execution, so tests count how often each spec ran;
``fragile_task`` kills its own worker process once (guarded by a marker file).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import cloudpickle
import numpy as np

from ramplab.simulations import simulate
from ramplab.sweeps import spec_seed
from ramplab.theory import Numerics, Problem, Schedule, expected_risk

# Worker processes cannot import this test module by name: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def solver_task(spec: dict) -> dict:
    problem = Problem.power_law(spec["d"], a=spec["a"], b=1.0, noise_variance=0.1)
    schedule = Schedule.constant(spec["lr"], spec["batch"], steps=spec["steps"])
    exact = expected_risk(problem, schedule)
    mc = simulate(problem, schedule, runs=16, seed=spec_seed(spec), numerics=Numerics(backend="numpy"), progress=False)
    rng = np.random.default_rng(spec_seed(spec, root_seed=1))
    m = rng.standard_normal((96, 96))
    x = np.linalg.solve(m @ m.T + 96 * np.eye(96), rng.standard_normal(96))
    return {"final_risk": float(exact.risk[-1]), "risk": exact.risk, "mc_mean": mc.mean_risk,
            "blas": x, "blas_sum": float(x.sum())}


def _mark(spec: dict) -> None:
    folder = Path(spec["markers"])
    (folder / f"ran-{spec['i']}-{uuid.uuid4().hex}").touch()


def executions(folder: Path) -> dict[int, int]:
    """Per spec index ``i``, how many times it was executed (marker files)."""
    counts: dict[int, int] = {}
    for p in folder.glob("ran-*"):
        i = int(p.name.split("-")[1])
        counts[i] = counts.get(i, 0) + 1
    return counts


def counted_task(spec: dict) -> dict:
    _mark(spec)
    return {"y": float(spec["i"]) ** 2 + spec.get("shift", 0.0), "path": np.arange(3.0) * spec["i"]}


def fragile_task(spec: dict) -> dict:
    _mark(spec)
    if spec["i"] == spec["kill"]:
        guard = Path(spec["markers"]) / "killed-once"
        if not guard.exists():
            guard.touch()
            time.sleep(1.0)  # every result finished earlier on this worker has reached the client
            os._exit(1)  # the worker process dies mid-task, as on a lost machine
    time.sleep(0.2)
    return {"y": float(spec["i"]) ** 2}
