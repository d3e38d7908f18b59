"""The schedule algebra: per-step learning rates and batch sizes and the rules that build them.

Every public name is importable from here (and from :mod:`ramplab.theory`); the modules that hold
them are private:

- learning-rate shapes as functions of samples (``docs/math.md#lr-shapes``): :class:`LRShape`,
  :class:`Constant`, :class:`StepDecay`, :class:`Linear`, :class:`Cosine`, :class:`WarmupCosine`,
  :class:`WSD` (linear, cosine and ``1 − √`` cooldowns), :class:`InverseSqrt` (rsqrt with warmup, or
  constant-then-``1/√t``), :class:`PowerDecay` (``(1 − τ/D)^p``);
- :class:`Schedule`, the step ↔ sample mapping, and its :class:`Segments` (``docs/math.md#schedules``);
- the (α, β) phase families (``docs/math.md#equivalence``);
- the Seesaw scheduler and its phase values (``docs/math.md#seesaw-rule``);
- serial-step accounting (``docs/math.md#serial-step-reduction``);
- the released runs' token mode (``docs/math.md#token-mode``);
- growth schedules, batch size and learning rate increased together by stages
  (``docs/math.md#growth-schedules``): :func:`stage_schedule`, :func:`exponential_growth`,
  :func:`polynomial_growth`.
"""

from ._families import (
    RELEASED_ALPHA_BETA,
    family_invariant,
    family_member,
    family_members,
    phase_schedule,
    satisfies_ramp_bound,
)
from ._growth import exponential_growth, polynomial_growth, stage_schedule
from ._lr_shapes import WSD, Constant, Cosine, InverseSqrt, Linear, LRShape, PowerDecay, StepDecay, WarmupCosine
from ._released import (
    RELEASED_MANIFEST_FACTORS,
    RELEASED_MODELS,
    RELEASED_SEQ_LEN,
    ReleasedRun,
    format_released_table,
    released_grid,
    released_milestones,
    released_seesaw_run,
)
from ._schedule import Schedule, Segments
from ._seesaw import (
    ROUNDINGS,
    continuous_seesaw,
    milestones,
    phase_batches,
    phase_learning_rates,
    round_batch,
    seesaw_schedule,
)
from ._serial_steps import continuous_serial_steps, phase_serial_steps, seesaw_step_reduction, step_reduction

__all__ = [
    # learning-rate shapes and schedules
    "LRShape", "Constant", "StepDecay", "Linear", "Cosine", "WarmupCosine", "WSD", "InverseSqrt", "PowerDecay",
    "Schedule", "Segments",
    # (α, β) families
    "RELEASED_ALPHA_BETA", "family_invariant", "family_member", "family_members", "phase_schedule",
    "satisfies_ramp_bound",
    # Seesaw
    "ROUNDINGS", "continuous_seesaw", "milestones", "phase_batches", "phase_learning_rates", "round_batch",
    "seesaw_schedule",
    # serial steps
    "continuous_serial_steps", "phase_serial_steps", "seesaw_step_reduction", "step_reduction",
    # released runs
    "RELEASED_MANIFEST_FACTORS", "RELEASED_MODELS", "RELEASED_SEQ_LEN", "ReleasedRun", "format_released_table", "released_grid",
    "released_milestones", "released_seesaw_run",
    # growth schedules
    "stage_schedule", "exponential_growth", "polynomial_growth",
]
