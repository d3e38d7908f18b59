"""Exact (expected) dynamics of noisy linear regression under SGD and normalized SGD, and the
schedule algebra of learning-rate decay versus batch-size ramps.

The package is grouped by what each part holds (``docs/design.md``):

- :mod:`ramplab.theory.dynamics` — the problem, the exact second-moment recursion
  (``docs/math.md#sgd-second-moment-recursion``), stability and the equivalence measurement;
- :mod:`ramplab.theory.schedules` — learning-rate shapes, schedules, (α, β) families, Seesaw,
  serial steps, the released runs and growth schedules (``docs/math.md#schedules``,
  ``docs/math.md#seesaw``);
- :mod:`ramplab.theory.complexity` — the master bound, SFO complexity, critical batch size and
  growth exponents (``docs/math.md#sfo-complexity``);
- the array backend (:func:`resolve_backend`, :func:`to_numpy`, :func:`backend_name`,
  :func:`cupy_available`, :data:`BACKENDS`), resolved in one private module;
- the optimizer specs (:class:`SGD`, :class:`NSGD`, :class:`HeavyBall`, …) and the numerics record
  (:class:`Numerics`: backend, dtype, kernel, chunk size) that :func:`expected_risk` and
  :func:`ramplab.simulations.simulate` share.

It depends on nothing else in ramplab. The public names of the subpackages are re-exported here,
except the solver's extension points, which stay in :mod:`ramplab.theory.dynamics` (``Controller``,
``LoopView``, ``controlled_risk``, ``step_tables``, ``initial_state``, and the helpers
``resolve_average``, ``contraction_exponent``, ``resolution_for``, ``risk_ratio``); the modules that
implement them are private (``_name.py``).

Size guards. Calls that would allocate or loop without bound refuse, with a ``ValueError`` naming
the argument and the guard, beyond these limits (defined once, in the private ``_limits`` module;
the table in ``docs/design.md`` says what each protects): ``MAX_EXACT_INTEGER`` (2**53),
``MAX_INT64`` (2**63 − 1), ``MAX_DIMENSION`` (2**31), ``MAX_TABLE_ENTRIES`` (2**31),
``MAX_STEP_ARRAY`` (2**27), ``MAX_SEGMENTS`` (2**19), ``MAX_WARMUP_STEPS`` (2**24),
``MAX_MILESTONES`` (2**20), ``MAX_SEESAW_STEPS`` (2**62), ``MAX_RELEASED_MILESTONES`` (10**6),
``MAX_STAGES`` (2**20), ``MAX_CELL_STAGES`` (100 000) and ``MAX_REFINE`` (64).
"""
from ._backend import BACKENDS, backend_name, cupy_available, resolve_backend, to_numpy
from ._memory import memory_estimate
from ._numerics import Numerics
from ._optimizers import NSGD, SGD, Adam, HeavyBall, OptimizerSpec, SignSGD, resolve_optimizer
from .dynamics import (
    Averaging,
    DivergenceError,
    EquivalenceReport,
    ExponentialAverage,
    LR_FAMILIES,
    LR_MULTIPLIERS,
    LRMultiplierSweep,
    FlatDirection,
    Problem,
    QuadratureReduction,
    RiskGradient,
    RiskHessian,
    RiskTrajectory,
    SolverState,
    SpectralGrouping,
    TailAverage,
    UniformAverage,
    UnstableScheduleWarning,
    equivalence_report,
    expected_risk,
    lr_multiplier_sweep,
    sweep_checkpoints,
    flat_direction,
    power_law_random_features,
    sketched_problem,
    gauss_rule,
    gradient_second_moment,
    heavy_ball_momentum_of_torch_sgd,
    is_stable,
    is_stable_with_momentum,
    max_stable_lr,
    momentum_moment_step,
    momentum_stability_limit,
    reduce_problem,
    risk_gradient,
    risk_hessian,
    second_moment_step,
    spectral_groups,
    spectral_radius,
    stationary_risk,
    stationary_second_moment,
)
from .complexity import (
    TARGETS,
    TERMS,
    AdaptiveRule,
    AdaptiveRun,
    BoundConstants,
    CriticalBatch,
    GradientNoiseScale,
    LocalCriticalBatch,
    ParetoCriticalBatch,
    GrowthCell,
    GrowthExponent,
    GrowthGrid,
    TargetHitting,
    bound_critical_batch,
    bound_sfo,
    bound_steps,
    critical_batch,
    gradient_noise_scale,
    linear_scaling_critical_batch,
    local_critical_batch,
    local_critical_batch_warmup,
    named_schedules,
    optimal_schedule,
    OptimalSchedule,
    pareto_critical_batch,
    serial_step_frontier,
    SerialStepFrontier,
    stretched_schedule,
    tuned_steps,
    gradient_target,
    gradient_variance,
    growth_grid,
    measure_growth_exponent,
    polynomial_sfo_exponent,
    schedule_to_target,
    sfo_bound,
    sfo_exponent,
    steps_to_target,
    term_exponent,
)
from .schedules import (
    RELEASED_ALPHA_BETA,
    RELEASED_MANIFEST_FACTORS,
    RELEASED_MODELS,
    RELEASED_SEQ_LEN,
    ROUNDINGS,
    WSD,
    Constant,
    Cosine,
    InverseSqrt,
    Linear,
    LRShape,
    PowerDecay,
    ReleasedRun,
    Schedule,
    Segments,
    StepDecay,
    WarmupCosine,
    continuous_seesaw,
    continuous_serial_steps,
    exponential_growth,
    family_invariant,
    family_member,
    family_members,
    format_released_table,
    milestones,
    phase_batches,
    phase_learning_rates,
    phase_schedule,
    phase_serial_steps,
    polynomial_growth,
    released_grid,
    released_milestones,
    released_seesaw_run,
    round_batch,
    satisfies_ramp_bound,
    seesaw_schedule,
    seesaw_step_reduction,
    stage_schedule,
    step_reduction,
)

__all__ = [
    # optimizer specs
    "SGD", "NSGD", "HeavyBall", "Adam", "SignSGD", "OptimizerSpec", "resolve_optimizer",
    # numerics
    "Numerics",
    # dynamics
    "Problem", "expected_risk", "RiskTrajectory", "DivergenceError", "UnstableScheduleWarning", "SolverState",
    "sketched_problem", "power_law_random_features",
    "second_moment_step", "gradient_second_moment", "spectral_groups", "SpectralGrouping",
    "reduce_problem", "QuadratureReduction", "gauss_rule",
    "is_stable", "max_stable_lr", "spectral_radius", "stationary_risk", "stationary_second_moment", "Averaging",
    "UniformAverage", "TailAverage", "ExponentialAverage",
    "EquivalenceReport", "equivalence_report",
    "LR_FAMILIES", "LR_MULTIPLIERS", "LRMultiplierSweep", "lr_multiplier_sweep", "sweep_checkpoints",
    "heavy_ball_momentum_of_torch_sgd", "is_stable_with_momentum", "momentum_moment_step", "momentum_stability_limit",
    # dynamics: gradients of the risk in the schedule
    "RiskGradient", "risk_gradient", "RiskHessian", "risk_hessian", "FlatDirection", "flat_direction",
    # memory
    "memory_estimate",
    # backend
    "BACKENDS", "backend_name", "cupy_available", "resolve_backend", "to_numpy",
    # schedules: learning-rate shapes and schedules
    "LRShape", "Constant", "StepDecay", "Linear", "Cosine", "WarmupCosine", "WSD", "InverseSqrt", "PowerDecay", "Schedule", "Segments",
    # schedules: (α, β) families
    "RELEASED_ALPHA_BETA", "family_invariant", "family_member", "family_members", "phase_schedule",
    "satisfies_ramp_bound",
    # schedules: Seesaw
    "ROUNDINGS", "continuous_seesaw", "milestones", "phase_batches", "phase_learning_rates", "round_batch",
    "seesaw_schedule",
    # schedules: serial steps
    "continuous_serial_steps", "phase_serial_steps", "seesaw_step_reduction", "step_reduction",
    # schedules: released runs
    "RELEASED_MANIFEST_FACTORS", "RELEASED_MODELS", "RELEASED_SEQ_LEN", "ReleasedRun", "format_released_table", "released_grid",
    "released_milestones", "released_seesaw_run",
    # schedules: growth schedules
    "stage_schedule", "exponential_growth", "polynomial_growth",
    # complexity: the master bound
    "BoundConstants", "bound_critical_batch", "bound_sfo", "bound_steps", "gradient_target", "gradient_variance",
    "sfo_bound",
    # complexity: exact measurement
    "TargetHitting", "schedule_to_target", "steps_to_target", "CriticalBatch", "critical_batch",
    "GradientNoiseScale", "gradient_noise_scale",
    "ParetoCriticalBatch", "pareto_critical_batch", "linear_scaling_critical_batch", "tuned_steps",
    "LocalCriticalBatch", "local_critical_batch", "local_critical_batch_warmup",
    # complexity: growth
    "sfo_exponent", "polynomial_sfo_exponent", "GrowthGrid", "growth_grid", "GrowthCell", "GrowthExponent",
    "TARGETS", "TERMS", "measure_growth_exponent", "term_exponent", "AdaptiveRule", "AdaptiveRun",
    # complexity: optimal schedules and the serial-step frontier
    "OptimalSchedule", "optimal_schedule", "SerialStepFrontier", "serial_step_frontier", "named_schedules", "stretched_schedule",
]
