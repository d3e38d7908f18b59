"""SFO complexity, the critical batch size and growth schedules on noisy linear regression.

Every public name is importable from here (and from :mod:`ramplab.theory`); the modules that hold
them are private:

- the master bound: :class:`BoundConstants`, :func:`sfo_bound`, :func:`bound_steps`,
  :func:`bound_sfo`, :func:`bound_critical_batch`, with :func:`gradient_target` and
  :func:`gradient_variance` (``docs/math.md#master-bound``, ``docs/math.md#sfo-complexity``);
- the exact measurement beside it: :func:`steps_to_target` and :func:`schedule_to_target` return a
  :class:`TargetHitting` (``docs/math.md#sfo-on-linear-regression``); :func:`critical_batch`, the
  measured ``b*``, returns a :class:`CriticalBatch` (``docs/math.md#critical-batch-size``);
- growth of batch size and learning rate: the bound's ε-exponents :func:`sfo_exponent` and
  :func:`polynomial_sfo_exponent`, the measured ones over a grid (:func:`growth_grid`) and one
  ``(γ, δ)`` cell at a time with the term of the bias/variance split that decides it
  (:func:`measure_growth_exponent`, ``docs/math.md#growth-exponent-measurement``), and the adaptive
  rule (:class:`AdaptiveRule`, ``docs/math.md#adaptive-rule``). The growth schedules themselves are
  built by :mod:`ramplab.theory.schedules` (``docs/math.md#growth-schedules``).

- the gradient noise scale at exact second moments: :func:`gradient_noise_scale` returns a
  :class:`GradientNoiseScale` (``B_simple``, ``B_noise`` and their four terms,
  ``docs/math.md#gradient-noise-scale``).

- the batch sizes others call critical, measured exactly (``docs/math.md#critical-batch-definitions``):
  McCandlish et al.'s :func:`pareto_critical_batch` (a :class:`ParetoCriticalBatch`, from :func:`tuned_steps`),
  Zhang et al.'s :func:`linear_scaling_critical_batch` and Merrill et al.'s :func:`local_critical_batch`
  (a :class:`LocalCriticalBatch`); :func:`local_critical_batch_warmup` grows a run's batch as its local critical
  batch grows (``docs/math.md#local-critical-batch-warmup``).

- optimal joint learning-rate / batch-size schedules at exact sample and serial-step budgets:
  :func:`optimal_schedule` (an :class:`OptimalSchedule`), the best objective per serial-step budget
  :func:`serial_step_frontier` (a :class:`SerialStepFrontier`) and the :func:`named_schedules` placed on it
  (``docs/math.md#optimal-schedules``).

"Critical batch size" alone means the SFO minimiser ``b*`` here (``docs/math.md#attribution``); each other
definition has its own name.
"""

from ._adaptive import AdaptiveRule, AdaptiveRun
from ._batch_warmup import local_critical_batch_warmup
from ._batch_definitions import (
    LocalCriticalBatch,
    ParetoCriticalBatch,
    linear_scaling_critical_batch,
    local_critical_batch,
    pareto_critical_batch,
    tuned_steps,
)
from ._bounds import (
    BoundConstants,
    bound_critical_batch,
    bound_sfo,
    bound_steps,
    gradient_target,
    gradient_variance,
    sfo_bound,
)
from ._critical_batch import CriticalBatch, critical_batch
from ._growth_bounds import polynomial_sfo_exponent, sfo_exponent
from ._growth_exponents import TARGETS, TERMS, GrowthCell, GrowthExponent, measure_growth_exponent, term_exponent
from ._growth_grid import GrowthGrid, growth_grid
from ._hitting import TargetHitting, schedule_to_target, steps_to_target
from ._noise_scale import GradientNoiseScale, gradient_noise_scale
from ._optimal import (OptimalSchedule, SerialStepFrontier, named_schedules, optimal_schedule, serial_step_frontier,
                       stretched_schedule)

__all__ = [
    # the master bound
    "BoundConstants", "bound_critical_batch", "bound_sfo", "bound_steps", "gradient_target", "gradient_variance",
    "sfo_bound",
    # exact measurement
    "TargetHitting", "schedule_to_target", "steps_to_target", "CriticalBatch", "critical_batch",
    # growth
    "sfo_exponent", "polynomial_sfo_exponent", "GrowthGrid", "growth_grid",
    "GrowthCell", "GrowthExponent", "TARGETS", "TERMS", "measure_growth_exponent", "term_exponent",
    "AdaptiveRule", "AdaptiveRun",
    # the gradient noise scale at exact second moments
    "GradientNoiseScale", "gradient_noise_scale",
    # the other critical batch sizes (McCandlish et al., Zhang et al., Merrill et al.)
    "ParetoCriticalBatch", "pareto_critical_batch", "linear_scaling_critical_batch", "tuned_steps",
    "LocalCriticalBatch", "local_critical_batch",
    # a batch warmup from the local critical batch (Merrill et al.)
    "local_critical_batch_warmup",
    # optimal schedules at exact budgets and the serial-step frontier
    "OptimalSchedule", "optimal_schedule", "SerialStepFrontier", "serial_step_frontier", "named_schedules", "stretched_schedule",
]
