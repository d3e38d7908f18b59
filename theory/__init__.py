"""Exact (expected) dynamics of noisy linear regression under SGD and normalized SGD, and the
schedule algebra of learning-rate decay versus batch-size ramps.

This package depends on nothing else in the repository.
"""

from theory.backend import resolve_backend, to_numpy
from theory.lr_shapes import WSD, Constant, Cosine, Linear, LRShape, StepDecay, WarmupCosine
from theory.problem import Problem
from theory.schedule import Schedule

__all__ = [
    "WSD",
    "Constant",
    "Cosine",
    "LRShape",
    "Linear",
    "Problem",
    "Schedule",
    "StepDecay",
    "WarmupCosine",
    "resolve_backend",
    "to_numpy",
]

from theory.recursion import DivergenceError, RiskTrajectory, expected_risk  # noqa: E402

__all__ += ["DivergenceError", "RiskTrajectory", "expected_risk"]
from theory import stability  # noqa: E402,F401
__all__ += ["stability"]

# Seesaw and the equivalence theorems (MATH.md §2–§3).
from theory.families import (  # noqa: E402
    RELEASED_ALPHA_BETA,
    family_invariant,
    family_member,
    family_members,
    phase_schedule,
    satisfies_ramp_bound,
)
from theory.seesaw import continuous_seesaw, milestones, seesaw_schedule  # noqa: E402
from theory.serial_steps import (  # noqa: E402
    continuous_serial_steps,
    phase_serial_steps,
    seesaw_step_reduction,
    step_reduction,
)
from theory.released import ReleasedRun, released_grid, released_seesaw_run  # noqa: E402
from theory.equivalence import EquivalenceReport, equivalence_report  # noqa: E402

__all__ += [
    "RELEASED_ALPHA_BETA", "family_invariant", "family_member", "family_members", "phase_schedule",
    "satisfies_ramp_bound", "continuous_seesaw", "milestones", "seesaw_schedule", "continuous_serial_steps",
    "phase_serial_steps", "seesaw_step_reduction", "step_reduction", "ReleasedRun", "released_grid",
    "released_seesaw_run", "EquivalenceReport", "equivalence_report",
]

# SFO complexity, critical batch size and growth schedules on noisy linear regression (MATH.md §4).
from theory.sfo import (  # noqa: E402
    BoundConstants,
    CriticalBatch,
    TargetHitting,
    bound_critical_batch,
    bound_sfo,
    bound_steps,
    critical_batch,
    gradient_target,
    gradient_variance,
    schedule_to_target,
    sfo_bound,
    steps_to_target,
)
from theory.growth import (  # noqa: E402
    AdaptiveRule,
    AdaptiveRun,
    GrowthGrid,
    exponential_growth,
    growth_grid,
    polynomial_growth,
    polynomial_sfo_exponent,
    sfo_exponent,
    stage_schedule,
)

__all__ += [
    "BoundConstants", "CriticalBatch", "TargetHitting", "bound_critical_batch", "bound_sfo", "bound_steps",
    "critical_batch", "gradient_target", "gradient_variance", "schedule_to_target", "sfo_bound",
    "steps_to_target", "AdaptiveRule", "AdaptiveRun", "GrowthGrid", "exponential_growth", "growth_grid",
    "polynomial_growth", "polynomial_sfo_exponent", "sfo_exponent", "stage_schedule",
]
