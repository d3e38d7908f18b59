"""The exact expected dynamics: the problem, the one step, the one loop, and what is read off them.

Layered (docs/design.md, "The exact core"); every module is private and its public names are
re-exported here:

- ``_problem`` — :class:`Problem`, the spectrum, initial second moments and label noise
  (``docs/math.md#noisy-linear-regression``); ``_sketched`` — problems built from a Gaussian sketch:
  :func:`sketched_problem`, :func:`power_law_random_features` (``docs/math.md#sketched-problems``);
- ``_step`` — every per-coordinate update, written once (SGD/NSGD, the averaging moments,
  heavy ball's moments): :func:`second_moment_step`, :func:`momentum_moment_step`,
  :func:`gradient_second_moment` (``docs/math.md#sgd-second-moment-recursion``);
- ``_loop`` — the one loop: chunks, the divergence rule and other stop rules, a controller hook,
  with the array API reference and the compiled kernels (``_kernels``, ``_cupy_kernels``) as backends
  (``docs/math.md#exact-solver-layout``);
- ``_state`` — :class:`SolverState`, what a run hands back and may start from (``docs/math.md#solver-state``);
- ``_risk`` / ``_solver`` / ``_trajectory`` — :func:`expected_risk`, its checked request, and
  :class:`RiskTrajectory` / :class:`DivergenceError`;
- ``_averaging`` — the iterate averages' weights (``docs/math.md#iterate-averaging``);
- ``_compression`` — spectral compression, a client of the loop (``docs/math.md#spectral-compression``);
- ``_quadrature`` — the quadrature reduction of the slow spectrum, a client of the loop
  (``docs/math.md#quadrature-reduction``);
- ``_momentum`` — heavy ball's ``momentum`` checked, torch's convention and heavy-ball stability
  (``docs/math.md#heavy-ball-momentum``);
- ``_stability`` — stability of a constant (η, B) and the stationary point (``docs/math.md#stability``);
- ``_equivalence`` — risk ratios between schedules of one family (``docs/math.md#equivalence``);
- ``_lr_sweep`` — the learning-rate multiplier sweep and its selection, the protocol of the published
  exact-recursion figures (``docs/math.md#lr-multiplier-sweep``).
- ``_adjoint`` (with the compiled ``_adjoint_kernels``) — exact gradients and Hessians of the risk in
  the schedule's log learning rates and log batch sizes, by the adjoint of the step
  (:func:`risk_gradient`, :func:`risk_hessian`, :func:`flat_direction`; ``docs/math.md#risk-gradient``).

Dependency order (no cycles): ``_problem`` → ``_step`` → ``_kernels`` → ``_state`` → ``_loop`` →
``_trajectory`` → ``_solver`` → ``_compression`` → ``_quadrature`` → ``_risk`` → ``_equivalence``,
``_lr_sweep``; ``_averaging``, ``_momentum``, ``_stability`` and ``_sketched`` depend only on ``_problem`` /
``_step``; ``_adjoint`` comes after ``_risk``.
"""

from ._adjoint import FlatDirection, RiskGradient, RiskHessian, flat_direction, risk_gradient, risk_hessian
from ._averaging import Averaging, ExponentialAverage, TailAverage, UniformAverage, resolve_average
from ._compression import SpectralGrouping, contraction_exponent, resolution_for, spectral_groups
from ._equivalence import EquivalenceReport, equivalence_report, risk_ratio
from ._loop import Controller, LoopView, initial_state, step_tables
from ._lr_sweep import LR_FAMILIES, LR_MULTIPLIERS, LRMultiplierSweep, lr_multiplier_sweep, sweep_checkpoints
from ._momentum import heavy_ball_momentum_of_torch_sgd, is_stable_with_momentum, momentum_stability_limit
from ._problem import Problem
from ._quadrature import QuadratureReduction, gauss_rule, reduce_problem
from ._risk import expected_risk
from ._sketched import power_law_random_features, sketched_problem
from ._solver import controlled_risk
from ._stability import (
    UnstableScheduleWarning,
    is_stable,
    max_stable_lr,
    spectral_radius,
    stationary_risk,
    stationary_second_moment,
)
from ._state import SolverState
from ._step import gradient_second_moment, momentum_moment_step, second_moment_step
from ._trajectory import DivergenceError, RiskTrajectory

__all__ = [
    "Averaging", "ExponentialAverage", "TailAverage", "UniformAverage", "resolve_average",
    "SpectralGrouping", "contraction_exponent", "resolution_for", "spectral_groups",
    "EquivalenceReport", "equivalence_report", "risk_ratio",
    "LR_FAMILIES", "LR_MULTIPLIERS", "LRMultiplierSweep", "lr_multiplier_sweep", "sweep_checkpoints",
    "Controller", "LoopView", "controlled_risk", "initial_state", "step_tables",
    "heavy_ball_momentum_of_torch_sgd", "is_stable_with_momentum", "momentum_stability_limit",
    "Problem", "expected_risk", "power_law_random_features", "sketched_problem",
    "QuadratureReduction", "gauss_rule", "reduce_problem",
    "UnstableScheduleWarning", "is_stable", "max_stable_lr", "spectral_radius", "stationary_risk",
    "stationary_second_moment",
    "SolverState",
    "gradient_second_moment", "momentum_moment_step", "second_moment_step",
    "DivergenceError", "RiskTrajectory",
    "RiskGradient", "risk_gradient", "RiskHessian", "risk_hessian", "FlatDirection", "flat_direction",
]
