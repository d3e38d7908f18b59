"""The three figures that redraw the Iiduka-line papers' figures on exact dynamics (docs/math.md#paper-figures):
files, the CSV against independent recomputation, and the claims' numbers.

References: the per-step ``E‖∇f‖²`` the figures read off the trajectory (``G_t r_t/(1 + r_t)``) is checked against
``Σλ²s`` summed from kept solver states; the adaptive run against :meth:`AdaptiveRule.run`; the schedules against
their constructors; the bound against :func:`sfo_bound` (its own tests hold it to its closed forms).
"""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.figures._paper_runs import gradient_norm_curves
from ramplab.theory import AdaptiveRule, Problem, Schedule, expected_risk, stage_schedule


def _problem(summary):
    p = summary["problem"]
    return Problem.power_law(p["d"], a=p["a"], b=p["b"], noise_variance=p["noise_variance"], scale=p["scale"])


def test_gradient_norm_identity_matches_the_kept_states():
    """``E‖∇f‖²`` read from ``G_t`` and the mean/variance ratio equals ``Σλ²s`` summed from the states."""
    problem = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.7, scale=0.5)
    schedule = stage_schedule([0.1, 0.3], [3, 17], stage_epochs=2, dataset_size=50, integer_batch=True,
                              epoch_remainder="partial")
    [curve] = gradient_norm_curves(problem, [schedule])
    checks = [0, 1, 7, 20, len(schedule)]
    kept = expected_risk(problem, schedule, checkpoints=checks, keep_states=True)
    for t in checks:
        direct = float(problem.eigenvalues ** 2 @ kept.state_at(t).second_moment.reshape(-1))
        assert curve["grad_sq"][t] == pytest.approx(direct, rel=1e-10)
    assert len(curve["grad_sq"]) == len(schedule) + 1 and curve["batch"].tolist() == schedule.batch.tolist()


@pytest.fixture(scope="module")
def schedulers(tmp_path_factory, quick_figure):
    return quick_figure("batch_lr_schedulers", tmp_path_factory.mktemp("fig"))


def test_four_schedulers(schedulers):
    from ramplab.figures.batch_lr_schedulers import SCHEDULERS, scheduler_values

    out, summary, rows = schedulers
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"batch_lr_schedulers.{ext}").stat().st_size > 0
    assert summary["paper_counterpart"]["paper"].endswith("arXiv 2409.08770")
    problem, n = _problem(summary), summary["epoch_samples"]
    values = scheduler_values(summary["stage_epochs"])
    for name in SCHEDULERS:
        lr, b = values[name]
        per_epoch = [r for r in rows if r["scheduler"] == name and r["curve"] == "per epoch"]
        assert [float(r["lr"]) for r in per_epoch] == pytest.approx(lr, rel=1e-15)
        assert [float(r["batch"]) for r in per_epoch] == b
        schedule = stage_schedule(lr, b, stage_epochs=1, dataset_size=n, integer_batch=True, epoch_remainder="partial")
        # Exactly n samples per epoch (the released trainers' count), and the final state recomputed.
        assert schedule.total_samples == n * len(lr) == summary["runs"][name]["samples"]
        final = expected_risk(problem, schedule).final_second_moment
        assert summary["runs"][name]["final_grad_sq"] == pytest.approx(float(problem.eigenvalues ** 2 @ final),
                                                                     rel=1e-12)
        # The bound holds at every plotted step (σ² is the largest variance met along the runs).
        steps = [r for r in rows if r["scheduler"] == name and r["curve"] == "per step"]
        bound = np.array([float(r["bound"]) for r in steps])
        running = np.array([float(r["running_min"]) for r in steps])
        assert np.all(bound[1:] >= running[1:]) and np.isinf(bound[0])
    # The release's configurations: (i) batch 128; (ii)–(iv) the affine-exponential batches 8 → 1024, derived by
    # hand from ⌈a·2^m + 8 − a⌉ with a = 1016/511 (so a·2^9 + 8 − a = 1024 exactly); (iii) η 0.1 → 0.2 by 2^{1/9}
    # per stage; (iv) warm-up to 0.2 within the first stage, then cosine to 0; (i), (ii) cosine from 0.1.
    epochs = summary["stage_epochs"]
    assert values[SCHEDULERS[0]][1] == [128] * (10 * epochs)
    for name in SCHEDULERS[1:]:
        assert values[name][1][::epochs] == [8, 10, 14, 22, 38, 70, 134, 261, 516, 1024]
    assert values[SCHEDULERS[2]][0][::epochs] == pytest.approx([0.1 * 2 ** (m / 9) for m in range(10)])
    warm = values[SCHEDULERS[3]][0]
    assert warm[0] == 0.1 and warm[epochs - 1] == pytest.approx(0.2) and warm[epochs] == pytest.approx(0.2)
    assert warm[-1] == pytest.approx(0.1 * (1 + np.cos(np.pi * (9 * epochs - 1) / (9 * epochs))), abs=1e-15)
    assert values[SCHEDULERS[1]][0][0] == 0.1 and values[SCHEDULERS[0]][0] == values[SCHEDULERS[1]][0]
    assert summary["claim"]["bound_over_exact_min"] >= 1.0


@pytest.fixture(scope="module")
def adaptive(tmp_path_factory, quick_figure):
    return quick_figure("adaptive_vs_periodic", tmp_path_factory.mktemp("fig"))


def test_adaptive_vs_periodic(adaptive):
    from ramplab.figures.adaptive_vs_periodic import SCHEDULERS

    _, summary, rows = adaptive
    problem, rule_info = _problem(summary), summary["rule"]
    rule = AdaptiveRule(check_every=rule_info["check_every"], epsilon0=rule_info["epsilon0"], integer_batch=True)
    run = rule.run(problem, summary["steps"])
    checks = [r for r in rows if r["curve"] == "check"]
    assert [int(r["step"]) for r in checks] == run.check_steps.tolist()
    assert [float(r["gradient_norm"]) for r in checks] == pytest.approx(run.gradient_norms.tolist(), rel=1e-12)
    assert summary["runs"][SCHEDULERS[0]]["switch_steps"] == run.switch_steps.tolist()
    assert len(run.switch_steps) >= 2                              # the rule adapts in this setting
    # The periodic scheduler: b × 2 and η × 1.4 every period, capped at 4096.
    periodic = [r for r in rows if r["scheduler"] == SCHEDULERS[1] and r["curve"] == "per step" and r["step"] != "0"]
    period = summary["period"]
    for r in periodic:
        m = (int(r["step"]) - 1) // period
        assert float(r["batch"]) == min(8 * 2 ** m, 4096) and float(r["lr"]) == pytest.approx(0.1 * 1.4 ** m)
    # The claim's steps to the common target, recomputed on the exact runs.
    target2 = summary["claim"]["target_gradient_norm"] ** 2
    constant = Schedule.constant(0.1, 128, steps=summary["steps"])            # the release's constant baseline
    for name, schedule in ((SCHEDULERS[0], run.schedule), (SCHEDULERS[2], constant)):
        [curve] = gradient_norm_curves(problem, [schedule])
        assert summary["runs"][name]["steps_to_target"] == int(np.flatnonzero(curve["grad_sq"] <= target2)[0])
    a, p, k = summary["claim"]["steps_to_target"]
    sfo_a, _, sfo_k = summary["claim"]["sfo_to_target"]
    assert a < p and sfo_a < sfo_k          # the rule beats periodic growth in steps, the constant batch in samples
    assert summary["period"] == round(summary["rule"]["check_every"] * 20000 / 1800)


@pytest.fixture(scope="module")
def growth(tmp_path_factory, quick_figure):
    return quick_figure("growth_schedules_sfo", tmp_path_factory.mktemp("fig"))


def test_growth_schedules(growth):
    from ramplab.figures.growth_schedules_sfo import SCHEDULERS

    _, summary, rows = growth
    n, stages, epochs = summary["epoch_samples"], summary["stages"], summary["stage_epochs"]
    # The release's configurations (hikarumeda1030/optimal-schedule @409abf6): b₀ = 16, ×2 or +8 per stage, ≤ 2048.
    want_batches = {SCHEDULERS[0]: [16] * stages, SCHEDULERS[1]: [16 * 2 ** m for m in range(stages)],
                    SCHEDULERS[2]: [16 + 8 * m for m in range(stages)], SCHEDULERS[3]: [16 * 2 ** m for m in range(stages)]}
    for name in SCHEDULERS:
        per_epoch = [r for r in rows if r["scheduler"] == name and r["curve"] == "per epoch"]
        assert [float(r["batch"]) for r in per_epoch[::epochs]] == want_batches[name]
        run = summary["runs"][name]
        # The released sampler's count: E·⌊n/b⌋ full batches per stage, the rest of each epoch dropped.
        assert run["stage_steps"] == [epochs * (n // b) for b in want_batches[name]]
        assert run["samples"] == sum(epochs * (n // b) * b for b in want_batches[name])
        hits = [r for r in rows if r["scheduler"] == name and r["curve"] == "to target"]
        sfo = [float(r["sfo"]) for r in hits]
        assert sfo == sorted(sfo)                                  # smaller targets need more samples
    lr = [float(r["lr"]) for r in rows if r["scheduler"] == SCHEDULERS[3] and r["curve"] == "per epoch"][::epochs]
    assert lr == pytest.approx([0.1 * 1.4 ** m for m in range(stages)])
    steps = summary["claim"]["steps"]
    assert steps[1] == steps[3] < steps[2] < steps[0]              # growth takes fewer serial steps
    sfo = summary["claim"]["sfo_to_target"]
    assert all(s is not None and s < sfo[0] for s in sfo[1:])      # and fewer samples to the common target
    assert summary["paper_counterpart"]["paper"].endswith("arXiv 2508.05297")
