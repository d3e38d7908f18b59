"""One small instance of every public class of the package, and the process-pool tasks, for
tests/test_records.py (issue #19, kind 6). Imported by name (tests/ is on ``sys.path``), so a
forked pool worker finds the task functions."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

# Public classes (by ``module:Name``) that have no instance to round-trip: abstract bases.
ABSTRACT = {"LRShape", "Averaging", "OptimizerSpec", "Controller"}


def factories() -> dict[str, Callable[[], Any]]:
    """``name → build()``: one instance per public class (several for the ones with variants)."""
    import ramplab.proofs as P
    import ramplab.simulations as M
    import ramplab.sweeps as W
    import ramplab.theory as T
    import ramplab.theory.dynamics as D

    def problem() -> Any:
        return T.Problem.isotropic(2, noise_variance=0.1)

    def schedule() -> Any:
        return T.Schedule.constant(0.1, 2, steps=4, label="c")

    return {
        "Problem": problem,
        "Problem[metadata]": lambda: T.Problem([1.0, 0.5], [1.0, 2.0], 0.1, metadata={"tags": ["a"], "d": {"x": 1}},
                                               multiplicity=[1.0, 3.0]),
        "Schedule": schedule,
        "Schedule[metadata]": lambda: T.Schedule([0.1, 0.2], [1, 2], label="m",
                                                 metadata={"milestones": [1, 2], "phase": np.arange(3)}),
        "Schedule[real]": lambda: T.Schedule([0.1, 0.2], [1.5, 2], integer_batch=False),
        "Segments": lambda: T.Schedule([0.1, 0.2, 0.2], [1, 2, 2]).segments,
        "RiskTrajectory": lambda: T.expected_risk(problem(), schedule()),
        "RiskTrajectory[split]": lambda: T.expected_risk(problem(), schedule(), split=True, checkpoints=[2, 4],
                                                         keep_states=True),
        "SolverState": lambda: T.expected_risk(problem(), schedule()).state_at(4),
        "EquivalenceReport": lambda: T.equivalence_report(problem(), [T.Schedule.constant(0.1, 1, steps=20),
                                                                      T.Schedule.constant(0.2, 2, steps=10)]),
        "RiskGradient": lambda: T.risk_gradient(problem(), schedule()),
        "RiskHessian": lambda: T.risk_hessian(problem(), schedule()),
        "FlatDirection": lambda: T.flat_direction(T.risk_hessian(problem(), schedule())),
        "UniformAverage": T.UniformAverage,
        "TailAverage": lambda: T.TailAverage(3),
        "ExponentialAverage": lambda: T.ExponentialAverage(0.1),
        "SpectralGrouping": lambda: D.spectral_groups(T.Problem([1.0, 1.0, 0.5], [1.0, 3.0, 2.0]), schedule(),
                                                      rtol=0.0),
        "LoopView": lambda: D.LoopView(10, np.array([0.5]), np.array([0.2]), np.array([True]), dict),
        "Constant": lambda: T.Constant(0.1, 100.0),
        "StepDecay": lambda: T.StepDecay(0.1, 100.0, boundaries=[0.3, 0.6]),
        "Linear": lambda: T.Linear(1.0, 8),
        "Cosine": lambda: T.Cosine(1.0, 8),
        "WarmupCosine": lambda: T.WarmupCosine(1.0, 8),
        "WSD": lambda: T.WSD(1.0, 8),
        "InverseSqrt": lambda: T.InverseSqrt(1.0, 8, warmup_fraction=0.25),
        "PowerDecay": lambda: T.PowerDecay(1.0, 8, power=2.0),
        "QuadratureReduction": lambda: T.reduce_problem(T.Problem.power_law(2_000, a=1.5, b=1.0,
                                                                            noise_variance=0.1),
                                                         [T.Schedule.constant(0.5, 1, steps=50)]),
        "GradientNoiseScale": lambda: T.gradient_noise_scale(problem(), [1.0, 2.0]),
        "ParetoCriticalBatch": lambda: T.pareto_critical_batch(T.Problem.power_law(10, a=1.5, b=1.0,
                                                                                   noise_variance=0.1),
                                                               [1.0, 4.0, 16.0], 1e-1, lrs=[0.1, 0.3, 1.0]),
        "LocalCriticalBatch": lambda: T.local_critical_batch(problem(), T.Schedule.constant(0.1, 2, steps=20), 10,
                                                             8.0, multipliers=[1, 2]),
        "LRMultiplierSweep": lambda: T.lr_multiplier_sweep(T.Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.1),
                                                           50, multipliers=[0.5, 1.0]),
        "NoiseScaleEstimates": lambda: M.noise_scale_estimators(problem(), T.Schedule.constant(0.3, 8, steps=20),
                                                                small_batch=2, runs=16, checkpoints=[10, 19], seed=1),
        "OptimalSchedule": lambda: T.optimal_schedule(T.Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2), 64, 8,
                                                      segments=2),
        "SerialStepFrontier": lambda: T.serial_step_frontier(T.Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2),
                                                             64, [2, 8], segments=2),
        "UnstableScheduleWarning": lambda: T.UnstableScheduleWarning("segment 1 is unstable"),
        "ReleasedRun": lambda: T.released_seesaw_run(3.3e7, 1024, 256),
        "BoundConstants": lambda: T.BoundConstants(1.0, 1.0, 1.0),
        "TargetHitting": lambda: T.steps_to_target(T.Problem([1.0], [1.0]), 0.5, [1, 1000], 1e-4),
        "CriticalBatch": lambda: T.critical_batch(T.Problem.isotropic(4, 1.0, 1.0, noise_variance=1.0), 0.1, 0.1,
                                                  np.geomspace(1, 1024, 5)),
        "GrowthGrid": lambda: T.growth_grid(T.Problem.power_law(30, a=1.5, b=1.0, noise_variance=1.0), [1.2], [1.44],
                                            [0.3, 0.15], lr0=0.01, stage_steps=20, stages=40),
        "GrowthCell": lambda: T.GrowthCell(T.Problem([1.0, 0.1], [1.0, 1.0], noise_variance=1.0), 1.2, 1.44,
                                           [0.3, 0.2, 0.1]),
        "GrowthExponent": lambda: T.measure_growth_exponent(T.GrowthCell(
            T.Problem.power_law(30, a=1.5, b=1.0, noise_variance=1e-4), 1.2, 1.44, np.geomspace(0.3, 0.03, 3),
            lr0=0.01, stage_steps=50)),
        "AdaptiveRule": lambda: T.AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=50),
        "AdaptiveRun": lambda: T.AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=50).run(
            T.Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.1), 200),
        "SGD": M.SGD,
        "NSGD": M.NSGD,
        "HeavyBall": lambda: M.HeavyBall(0.5),
        "Adam": M.Adam,
        "SignSGD": M.SignSGD,
        "Numerics": lambda: M.Numerics(kernel="reference"),
        "SimulationResult": lambda: M.simulate(problem(), schedule(), runs=8, seed=1, keep_runs=True, progress=False),
        "SimulationResult[average]": lambda: M.simulate(problem(), schedule(), runs=8, seed=1, average="uniform",
                                                        progress=False),
        "SerialExecutor": W.SerialExecutor,
        "SweepResult": lambda: W.sweep(_double, W.grid(x=[1, 2]), progress=False),
        "Check": lambda: P.derivations(["ramp_bound"])[0].checks[0],  # one quick derivation, not all of them
        "Derivation": lambda: P.derivations(["ramp_bound"])[0],
        "DivergenceError": lambda: T.DivergenceError(7, 1, "lab"),
        "SimulationDivergenceError": lambda: M.SimulationDivergenceError(7, 3, "lab"),
    }


def _double(spec: dict) -> dict:
    return {"y": 2 * spec["x"], "path": np.array([spec["x"]] * 2)}


def risk_task(spec: dict) -> float:
    """Final exact risk of a constant schedule labelled by the spec (diverges for large ``lr``)."""
    from ramplab.theory import Problem, Schedule, expected_risk

    schedule = Schedule.constant(spec["lr"], 1, steps=50, label=f"lr={spec['lr']}")
    return float(expected_risk(Problem.isotropic(2), schedule).risk[-1])


def risk_row(spec: dict) -> dict:
    """:func:`risk_task` as a sweep row."""
    return {"risk": risk_task(spec)}
