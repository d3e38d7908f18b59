"""Exact (expected) dynamics of noisy linear regression under SGD and normalized SGD, and the
schedule algebra of learning-rate decay versus batch-size ramps.

The package is grouped by what each part holds (``docs/design.md``):

- :mod:`ramplab.theory.dynamics` — the problem, the exact second-moment recursion
  (``docs/math.md#sgd-second-moment-recursion``), stability and the equivalence measurement;
- :mod:`ramplab.theory.schedules` — learning-rate shapes, schedules, (α, β) families, Seesaw,
  serial steps and the released runs (``docs/math.md#schedules``, ``docs/math.md#seesaw``);
- :mod:`ramplab.theory.complexity` — SFO complexity, critical batch size and growth schedules
  (``docs/math.md#sfo-complexity``);
- :mod:`ramplab.theory.backend` — the one place that resolves the array backend.

It depends on nothing else in ramplab. The public names are re-exported here.
"""

from .backend import resolve_backend, to_numpy
from .complexity.growth import (
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
from .complexity.growth_exponents import GrowthCell, GrowthExponent, measure_growth_exponent, term_exponent
from .complexity.sfo import (
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
from .dynamics import stability
from .dynamics.averaging import ExponentialAverage, TailAverage, UniformAverage
from .dynamics.equivalence import EquivalenceReport, equivalence_report
from .dynamics.momentum import (
    heavy_ball_momentum_of_torch_sgd,
    is_stable_with_momentum,
    momentum_moment_step,
    momentum_stability_limit,
)
from .dynamics.problem import Problem
from .dynamics.recursion import DivergenceError, RiskTrajectory, expected_risk
from .schedules import (
    RELEASED_ALPHA_BETA,
    family_invariant,
    family_member,
    family_members,
    phase_schedule,
    satisfies_ramp_bound,
)
from .schedules import WSD, Constant, Cosine, Linear, LRShape, StepDecay, WarmupCosine
from .schedules import ReleasedRun, released_grid, released_seesaw_run
from .schedules import Schedule
from .schedules import continuous_seesaw, milestones, seesaw_schedule
from .schedules import (
    continuous_serial_steps,
    phase_serial_steps,
    seesaw_step_reduction,
    step_reduction,
)

__all__ = [
    # dynamics
    "Problem", "expected_risk", "RiskTrajectory", "DivergenceError", "stability",
    "UniformAverage", "TailAverage", "ExponentialAverage",
    "EquivalenceReport", "equivalence_report",
    "heavy_ball_momentum_of_torch_sgd", "is_stable_with_momentum", "momentum_moment_step", "momentum_stability_limit",
    # schedules
    "Schedule", "LRShape", "Constant", "StepDecay", "Linear", "Cosine", "WarmupCosine", "WSD",
    "RELEASED_ALPHA_BETA", "family_invariant", "family_member", "family_members", "phase_schedule",
    "satisfies_ramp_bound", "continuous_seesaw", "milestones", "seesaw_schedule",
    "continuous_serial_steps", "phase_serial_steps", "seesaw_step_reduction", "step_reduction",
    "ReleasedRun", "released_grid", "released_seesaw_run",
    # complexity
    "BoundConstants", "CriticalBatch", "TargetHitting", "bound_critical_batch", "bound_sfo", "bound_steps",
    "critical_batch", "gradient_target", "gradient_variance", "schedule_to_target", "sfo_bound",
    "steps_to_target", "AdaptiveRule", "AdaptiveRun", "GrowthGrid", "exponential_growth", "growth_grid",
    "polynomial_growth", "polynomial_sfo_exponent", "sfo_exponent", "stage_schedule",
    "GrowthCell", "GrowthExponent", "measure_growth_exponent", "term_exponent",
    # backend
    "resolve_backend", "to_numpy",
]
