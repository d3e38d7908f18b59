"""The learning-rate multiplier sweep (docs/math.md#lr-multiplier-sweep) and the normalised target
(docs/math.md#normalised-target).

References: the curves against an independent plain NumPy loop of the averaged-risk recursion
(:func:`ramplab.benchmarks.exact_solver.naive_averaged_risk`), the scores and the selection recomputed
from those curves by hand; the quadrature-reduced sweep against the unreduced one; the normalisation
against ``math.fsum`` of the unnormalised ``s(0)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ramplab.theory.dynamics._lr_sweep as lr_sweep_module
from ramplab.benchmarks.exact_solver import naive_averaged_risk
from ramplab.theory import LR_MULTIPLIERS, Problem, is_stable, lr_multiplier_sweep, sweep_checkpoints


# ------------------------------------------------------------------ Problem.power_law(target_norm=)
@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 3000), a=st.floats(0.2, 3.0), b=st.floats(-1.0, 6.0), norm=st.floats(1e-3, 1e3))
def test_target_norm_sets_the_norm_and_keeps_the_shape(d, a, b, norm):
    plain = Problem.power_law(d, a=a, b=b)
    scaled = Problem.power_law(d, a=a, b=b, target_norm=norm)
    s0 = scaled.initial_second_moment
    assert math.fsum(s0.tolist()) == pytest.approx(norm**2, rel=1e-13)
    np.testing.assert_array_equal(scaled.eigenvalues, plain.eigenvalues)
    # one factor for every coordinate: λ_i s_i(0) ∝ i^-b is kept
    factor = s0 / plain.initial_second_moment
    np.testing.assert_allclose(factor, norm**2 / math.fsum(plain.initial_second_moment.tolist()), rtol=1e-14)
    assert scaled.metadata["target_norm"] == norm


def test_target_norm_by_hand_and_default_unchanged():
    # d = 3, a = 1, b = 2: s(0) = (1, 1/2, 1/3), Σ = 11/6
    p = Problem.power_law(3, a=1.0, b=2.0, target_norm=2.0)
    np.testing.assert_allclose(p.initial_second_moment, np.array([1, 1 / 2, 1 / 3]) * 4 * 6 / 11, rtol=1e-15)
    q = Problem.power_law(3, a=1.0, b=2.0)
    assert "target_norm" not in q.metadata
    np.testing.assert_allclose(q.initial_second_moment, [1, 1 / 2, 1 / 3], rtol=1e-15)
    # b = a: every s_i(0) = 1/d, so the initial risk is tr H / (2d)
    r = Problem.power_law(1000, a=1.5, b=1.5, target_norm=1.0)
    assert r.initial_risk == pytest.approx(r.trace / 2000, rel=1e-13)


@pytest.mark.parametrize("bad, error", [(0.0, ValueError), (-1.0, ValueError), (float("nan"), ValueError),
                                        (float("inf"), ValueError), ("1", TypeError), (True, TypeError)])
def test_target_norm_refused_by_name(bad, error):
    with pytest.raises(error, match="target_norm"):
        Problem.power_law(10, a=1.5, b=3.0, target_norm=bad)


# ------------------------------------------------------------------------------- the sweep
def test_default_grid_and_checkpoints():
    assert LR_MULTIPLIERS.size == 22
    np.testing.assert_allclose(LR_MULTIPLIERS[1:] / LR_MULTIPLIERS[:-1], np.sqrt(2), rtol=1e-15)
    assert LR_MULTIPLIERS[0] == 2.0**-8 and LR_MULTIPLIERS[-1] == 2.0**2.5
    assert sweep_checkpoints(50_000).tolist() == [391, 781, 1562, 3125, 6250, 12500, 25000, 50000]
    assert sweep_checkpoints(1).tolist() == [1]


def test_sweep_against_a_plain_loop_and_a_selection_by_hand():
    d, steps = 40, 300
    problem = Problem.power_law(d, a=1.5, b=3.0, noise_variance=0.01, target_norm=1.0)
    ms = np.array([0.05, 0.3, 1.0, 1.3, 3.0])  # 3.0 diverges at a constant rate
    record = np.array([0, 1, 7, 100])
    sweep = lr_multiplier_sweep(problem, steps, multipliers=ms, record=record)
    checks = sweep_checkpoints(steps)
    np.testing.assert_array_equal(sweep.steps, np.union1d(record, checks))
    t = np.arange(1, steps + 1)
    lr = np.concatenate([np.tile(ms / problem.trace, (steps, 1)),
                         (ms / problem.trace)[None, :] / np.sqrt(t)[:, None]], axis=1)
    with np.errstate(all="ignore"):
        plain = naive_averaged_risk(problem.eigenvalues, problem.initial_second_moment, 0.01, lr)
    plain = plain.reshape(2, ms.size, steps + 1)
    ok = sweep.diverged_at < 0
    assert ok.sum() == 2 * ms.size - 1 and sweep.diverged_at[0, -1] > 0   # only m = 3 at a constant rate
    np.testing.assert_allclose(sweep.averaged_risk[ok], plain[ok][:, sweep.steps], rtol=1e-12)
    assert not np.all(np.isfinite(plain[0, -1])) or plain[0, -1, -1] > 1e6   # the plain loop blows up too
    by_hand = np.where(ok, plain[:, :, checks].mean(axis=-1), np.inf)
    np.testing.assert_allclose(sweep.scores, by_hand, rtol=1e-12)
    assert np.isinf(sweep.scores[0, -1])
    assert sweep.selected_index.tolist() == np.argmin(by_hand, axis=1).tolist()
    best = {f: float(ms[k]) for f, k in zip(sweep.families, np.argmin(by_hand, axis=1))}
    assert sweep.selected_multiplier == best
    for f, family in enumerate(sweep.families):
        np.testing.assert_array_equal(sweep.selected_curve(family), sweep.averaged_risk[f, sweep.selected_index[f]])
    assert sweep.reduction_error is None and sweep.reduced_dimension is None


def test_one_solver_call_for_the_whole_grid(monkeypatch):
    calls = []
    real = lr_sweep_module.expected_risk

    def counting(problem, schedules, *args, **kw):
        calls.append(len(schedules))
        return real(problem, schedules, *args, **kw)

    monkeypatch.setattr(lr_sweep_module, "expected_risk", counting)
    problem = Problem.power_law(20, a=1.5, b=3.0, noise_variance=0.01, target_norm=1.0)
    lr_multiplier_sweep(problem, 50, multipliers=LR_MULTIPLIERS[:12])   # all stable: one call
    assert calls == [2 * 12]
    calls.clear()
    # the default grid: the constant rates beyond the edge of stability get a call of their own
    unstable = sum(not is_stable(problem, m / problem.trace, 1) for m in LR_MULTIPLIERS)
    assert unstable >= 3
    lr_multiplier_sweep(problem, 50)
    assert calls == [2 * 22 - unstable, unstable]


def test_reduced_sweep_matches_the_unreduced_one():
    """The quadrature reduction is chosen once for the grid (the largest contraction over its schedules):
    every curve, diverged ones included, as without it, to rounding."""
    problem = Problem.power_law(4000, a=1.5, b=3.0, noise_variance=0.01, target_norm=1.0)
    ms = [0.01, 0.2, 1.0, 4.0]
    reduced = lr_multiplier_sweep(problem, 400, multipliers=ms, reduce=True)
    full = lr_multiplier_sweep(problem, 400, multipliers=ms, reduce=False)
    assert reduced.reduced_dimension is not None and reduced.reduced_dimension < 500
    assert reduced.reduction_error < 1e-10
    np.testing.assert_array_equal(reduced.diverged_at, full.diverged_at)
    finite = np.isfinite(full.averaged_risk)
    np.testing.assert_array_equal(np.isfinite(reduced.averaged_risk), finite)
    np.testing.assert_allclose(reduced.averaged_risk[finite], full.averaged_risk[finite], rtol=1e-10)
    assert reduced.selected_multiplier == full.selected_multiplier


def test_all_diverged_family_selects_nothing():
    problem = Problem.power_law(20, a=1.5, b=3.0, noise_variance=0.01, target_norm=1.0)
    sweep = lr_multiplier_sweep(problem, 200, multipliers=[5.0, 8.0], families=["constant"])
    assert sweep.families == ("constant",)
    assert sweep.selected_index.tolist() == [-1] and math.isnan(sweep.selected_multiplier["constant"])
    with pytest.raises(ValueError, match="diverged"):
        sweep.selected_curve("constant")
    with pytest.raises(ValueError, match="family"):
        sweep.selected_curve("inverse_sqrt")


def test_edge_selection_is_reported():
    problem = Problem.power_law(20, a=1.5, b=3.0, noise_variance=0.01, target_norm=1.0)
    sweep = lr_multiplier_sweep(problem, 100, multipliers=[1e-4, 2e-4], families="inverse_sqrt")
    assert sweep.selected_multiplier == {"inverse_sqrt": 2e-4} and sweep.selected_at_edge == {"inverse_sqrt": True}


@pytest.mark.parametrize("kw, error, name", [
    ({"steps": 0}, ValueError, "steps"),
    ({"multipliers": []}, ValueError, "multipliers"),
    ({"multipliers": [1.0, -1.0]}, ValueError, "multipliers"),
    ({"multipliers": [1.0, float("nan")]}, ValueError, "multipliers"),
    ({"families": ["cosine"]}, ValueError, "families"),
    ({"families": ["constant", "constant"]}, ValueError, "families"),
    ({"families": []}, ValueError, "families"),
    ({"checkpoints": [0, 5]}, ValueError, "checkpoints"),
    ({"checkpoints": [5, 3]}, ValueError, "checkpoints"),
    ({"checkpoints": [5, 11]}, ValueError, "checkpoints"),
    ({"checkpoints": [2.5]}, ValueError, "checkpoints"),
    ({"checkpoints": [True]}, TypeError, "checkpoints"),
    ({"record": [0, 0]}, ValueError, "record"),
    ({"average": None}, ValueError, "average"),
])
def test_bad_arguments_are_named(kw, error, name):
    problem = Problem.power_law(5, a=1.5, b=3.0, noise_variance=0.01)
    args = {"steps": 10, **kw}
    steps = args.pop("steps")
    with pytest.raises(error, match=name):
        lr_multiplier_sweep(problem, steps, **args)


def test_problem_must_be_a_problem():
    with pytest.raises(TypeError, match="problem"):
        lr_multiplier_sweep([1.0, 2.0], 10)
