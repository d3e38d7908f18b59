"""The rates a real torch.optim.SGD and a real optax optimizer see are the Schedule's own, step by step.

docs/math.md#torch-interop. The torch loop reads ``param_groups[0]["lr"]`` at every
``optimizer.step()`` of a real training loop; the optax loop records the learning rate that
``optax.inject_hyperparams`` stores in the optimizer state at every update (and checks one update
against ``−lr·g``). References: ``schedule.lr`` itself (rounded to JAX's default float dtype).
"""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.interop import batch_sizes, learning_rate_at, optax_schedule, torch_momentum, torch_scheduler
from ramplab.theory import Cosine, Schedule, WarmupCosine, exponential_growth, seesaw_schedule

torch = pytest.importorskip("torch", reason="the interop extra (torch) is not installed")


def _schedules() -> dict[str, Schedule]:
    cosine = Schedule.from_shape(Cosine(0.3, 2048), 8)
    return {
        "cosine": cosine,
        "warmup cosine": Schedule.from_shape(WarmupCosine(0.3, 2048), 8),
        "seesaw": seesaw_schedule(Cosine(0.3, 2048), 8, 2.0, rounding="floor"),
        "growth": exponential_growth(0.05, 4, 1.5, 2.0, 4, stage_steps=7),
    }


SCHEDULES = _schedules()


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_torch_sgd_sees_the_schedule(name):
    schedule = SCHEDULES[name]
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1, dtype=torch.float64)
    opt = torch.optim.SGD(model.parameters(), lr=123.0, momentum=0.9)
    sched = torch_scheduler(schedule, opt)
    seen, batches = [], batch_sizes(schedule)
    for k in range(len(schedule)):
        x = torch.randn(int(batches[k]), 3, dtype=torch.float64)
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == schedule.lr.tolist()  # bit for bit
    assert opt.param_groups[0]["lr"] == schedule.lr[-1]  # one scheduler step past the horizon: held
    assert [learning_rate_at(schedule, k) for k in range(len(schedule))] == seen


def test_growth_and_seesaw_batches_are_the_schedules():
    for name in ("seesaw", "growth"):
        s = SCHEDULES[name]
        b = batch_sizes(s)
        assert b.dtype == np.int64 and b.tolist() == s.batch.tolist() and b.sum() == s.total_samples
        assert len(np.unique(b)) > 1  # the ramp reaches the sampler


def test_fractional_batches_are_refused():
    s = seesaw_schedule(Cosine(0.3, 2048), 8, 2.0, rounding="exact", p=0.5)
    with pytest.raises(ValueError, match="schedule"):
        batch_sizes(s)


def test_torch_scheduler_refuses_a_non_optimizer():
    with pytest.raises(TypeError, match="optimizer"):
        torch_scheduler(SCHEDULES["cosine"], object())


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_optax_sees_the_schedule(name):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jnp = jax.numpy
    schedule = SCHEDULES[name]
    fn = optax_schedule(schedule)
    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=fn)
    params = jnp.ones(3)
    state = opt.init(params)
    seen = []

    @jax.jit
    def update(params, state):
        grads = 2.0 * params
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, updates, grads

    for k in range(len(schedule)):
        before = params
        params, state, updates, grads = update(params, state)
        rate = float(state.hyperparams["learning_rate"])
        seen.append(rate)
        if k == 0:  # the update applied is −lr·g with this step's rate
            np.testing.assert_allclose(np.asarray(updates), -float(fn(0)) * np.asarray(2.0 * before), rtol=1e-6)
    # inject_hyperparams evaluates the schedule at the count *before* each update: state after k
    # updates holds lr[k − 1]; the rate used by update k (1-based) is fn(k − 1) = lr[k − 1].
    # JAX's default float: float32, or float64 where another test turned jax_enable_x64 on.
    dtype = np.dtype(fn(0).dtype)
    want = np.asarray(schedule.lr, dtype=dtype).tolist()
    assert seen == want
    assert [float(fn(k)) for k in range(len(schedule))] == want
    assert float(jax.jit(fn)(len(schedule) + 5)) == want[-1]


def test_optax_scale_by_schedule_applies_the_rates():
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    schedule = SCHEDULES["seesaw"]
    opt = optax.scale_by_schedule(optax_schedule(schedule))
    state = opt.init(jax.numpy.zeros(1))
    got = []
    for _ in range(len(schedule)):
        updates, state = opt.update(jax.numpy.ones(1), state)
        got.append(float(updates[0]))
    dtype = np.dtype(updates.dtype)
    assert got == np.asarray(schedule.lr, dtype=dtype).tolist()


def test_torch_momentum_mapping_values():
    s = SCHEDULES["warmup cosine"]
    mu = torch_momentum(s, 0.9)
    lr = s.lr
    np.testing.assert_allclose(mu[1:], 0.9 * lr[1:] / lr[:-1], rtol=1e-15)
    assert mu[0] == 0.9 and mu.max() > 1.0  # the warmup drives μ_t above 1
    with pytest.raises(ValueError, match="lr"):
        torch_momentum(Schedule([0.1, 0.0, 0.1], [1, 1, 1]), 0.5)
    np.testing.assert_array_equal(torch_momentum(Schedule([0.1, 0.0, 0.0], [1, 1, 1]), 0.5), [0.5, 0.0, 0.0])
