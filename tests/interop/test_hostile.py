"""Hostile inputs to ramplab.interop (the machinery, and how a table works: tests/hostile.py)."""

from __future__ import annotations


import numpy as np

from ramplab.theory import Schedule

from hostile import (
    Public, Table, close, integer, make_tests, real,
)

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


def _register_interop() -> None:
    frameworks, steps = Public("ramplab.interop.frameworks"), Public("ramplab.interop.steps")

    M, N = "ramplab.interop.steps", "ramplab.interop.frameworks"
    exempt(f"{N}:INSTALL_HINT", "constant (a message)")
    SI = Schedule.from_segments([0.2, 0.1, 0.05], [2, 4, 4], [2, 3, 1])

    def segment_runs(s: Schedule) -> list[tuple[float, int]]:
        return [(float(a), int(n)) for a, n in zip(s.segments.lr, s.segments.steps)]

    def o_lr_at(r, kw):
        s = kw["schedule"]
        assert isinstance(s, Schedule), f"accepted schedule {s!r}"
        k = integer(kw["step"])
        assert k >= 0
        acc, ref = 0, None
        for lr, n in segment_runs(s):  # plain walk over the constant runs
            acc += n
            if k < acc:
                ref = lr
                break
        ref = segment_runs(s)[-1][0] if ref is None else ref
        assert r == ref, f"{r!r} != {ref!r}"

    entry(f"{M}:learning_rate_at", steps.learning_rate_at, {"schedule": SI, "step": 3},
          {"schedule": "schedule", "step": "int"}, o_lr_at)

    def o_batches(r, kw):
        s = kw["schedule"]
        assert isinstance(s, Schedule)
        ref = [int(b) for b, n in zip(s.segments.batch, s.segments.steps) for _ in range(int(n))]
        assert r.dtype == np.int64 and r.tolist() == ref

    entry(f"{M}:batch_sizes", steps.batch_sizes, {"schedule": SI}, {"schedule": "schedule"}, o_batches)

    def o_momentum(r, kw):
        s = kw["schedule"]
        assert isinstance(s, Schedule)
        mu = real(kw["momentum"])
        assert 0 <= mu < 1
        lr = [a for a, n in segment_runs(s) for _ in range(n)]
        ref = [mu] + [0.0 if b == 0 else mu * b / a for a, b in zip(lr, lr[1:])]
        close(r, ref, 1e-15, "torch momentum")

    entry(f"{M}:torch_momentum", steps.torch_momentum, {"schedule": SI, "momentum": 0.9},
          {"schedule": "schedule", "momentum": "real"}, o_momentum)

    try:
        import torch
    except ImportError:
        exempt(f"{N}:torch_scheduler", "PyTorch (the interop extra) is not installed")
    else:
        def o_scheduler(r, kw):
            s = kw["schedule"]
            assert isinstance(s, Schedule)
            assert isinstance(kw["optimizer"], torch.optim.Optimizer)
            assert r.optimizer.param_groups[0]["lr"] == float(s.segments.lr[0])

        def valid_scheduler():
            return {"schedule": SI, "optimizer": torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=1.0)}

        entry(f"{N}:torch_scheduler", frameworks.torch_scheduler, valid_scheduler,
              {"schedule": "schedule", "optimizer": "any"}, o_scheduler)
    try:
        import jax  # noqa: F401
    except ImportError:
        exempt(f"{N}:optax_schedule", "JAX (the interop extra) is not installed")
    else:
        def o_optax(r, kw):
            s = kw["schedule"]
            assert isinstance(s, Schedule)
            dt = np.dtype(r(0).dtype)  # JAX's default float (float64 under jax_enable_x64)
            assert float(r(0)) == float(np.asarray(s.segments.lr[0], dtype=dt))
            assert float(r(2**31 - 1)) == float(np.asarray(s.segments.lr[-1], dtype=dt))

        entry(f"{N}:optax_schedule", frameworks.optax_schedule, {"schedule": SI}, {"schedule": "schedule"}, o_optax)


for _register in (_register_interop,):
    _register()

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
