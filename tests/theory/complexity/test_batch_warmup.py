"""The batch warmup from the local critical batch (issue #23 item 4; docs/math.md#local-critical-batch-warmup)."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.theory import (
    Problem,
    Schedule,
    StepDecay,
    expected_risk,
    local_critical_batch,
    local_critical_batch_warmup,
)


def test_warmup_grows_where_the_local_critical_batch_allows_and_keeps_the_samples():
    p = Problem.power_law(50, a=1.5, b=1.0, noise_variance=0.1)
    total = 8000
    base = Schedule.from_shape(StepDecay(0.3, total, boundaries=(0.5,), factor=0.5), 4)
    warm = local_critical_batch_warmup(p, base, check_every=total / 20, window=total / 20)
    growth = [int(n) for n in warm.metadata["growth_samples"]]
    assert growth and warm.total_samples == base.total_samples and warm.serial_steps < base.serial_steps
    before = warm.samples_before
    lr, batch = warm.lr, warm.batch
    # Before the first growth the warmup is the base, step for step.
    first = int(np.searchsorted(before, growth[0]))
    assert np.array_equal(lr[:first], base.lr[:first]) and np.array_equal(batch[:first], base.batch[:first])
    # At each growth the local critical batch of the run so far (the step at the old batch appended), computed
    # by local_critical_batch directly, allows the doubling.
    for n in growth[:2]:
        k = int(np.searchsorted(before, n))
        prefix = Schedule(np.r_[lr[:k], lr[k] / 2], np.r_[batch[:k], batch[k] / 2], integer_batch=False)
        local = local_critical_batch(p, prefix, k, total / 20, multipliers=(1, 2), lr_rule="linear")
        assert local.critical_batch == 2 * prefix.batch[k]
    # The rate follows the batch linearly (lr_rule="linear"): η/B is the base's at every step.
    idx = np.searchsorted(np.cumsum(base.batch), before, side="right")
    np.testing.assert_allclose((lr / batch)[:-1], (base.lr / base.batch)[idx[:-1]], rtol=1e-15)


def test_no_growth_when_the_tolerance_forbids_it():
    p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.0)      # no label noise: larger batches never pay
    base = Schedule.constant(0.2, 2, steps=500)
    warm = local_critical_batch_warmup(p, base, check_every=100, window=100, lr_rule="keep", tolerance=0.01)
    assert warm.metadata["growth_samples"] == () and np.array_equal(warm.batch, base.batch)
    r0, r1 = expected_risk(p, base), expected_risk(p, warm)
    assert np.array_equal(r0.risk, r1.risk)


def test_bad_inputs_name_the_argument():
    p = Problem.power_law(10, a=1.5, b=1.0, noise_variance=0.1)
    base = Schedule.constant(0.2, 2, steps=50)
    with pytest.raises(ValueError, match="check_every"):
        local_critical_batch_warmup(p, base, check_every=0, window=10)
    with pytest.raises(ValueError, match="window"):
        local_critical_batch_warmup(p, base, check_every=10, window=-1)
    with pytest.raises(ValueError, match="factor"):
        local_critical_batch_warmup(p, base, check_every=10, window=10, factor=1.0)
    with pytest.raises(ValueError, match="lr_rule"):
        local_critical_batch_warmup(p, base, check_every=10, window=10, lr_rule="cubic")
    with pytest.raises(TypeError, match="base"):
        local_critical_batch_warmup(p, "base", check_every=10, window=10)
