"""Monte Carlo SGD and normalized SGD on noisy linear regression (docs/math.md#noisy-linear-regression, §1.3, §5).

The independent witness of the exact solver in :mod:`theory`: many runs advance together as
``(runs, d)`` arrays on NumPy, CuPy or any array API namespace, with an exact ``O(d)``-per-step
sampler of Gaussian mini-batch gradients and a direct sampler for any data distribution.

- :func:`simulate` runs SGD, NSGD (expected or conditional denominator), heavy ball, Adam or
  SignSGD and returns a :class:`SimulationResult` (mean excess risk, standard error, optional
  per-run curves; with ``average=`` also those of an iterate average,
  docs/math.md#iterate-averaging).
- The optimizer specs it takes as ``optimizer=`` (:class:`~ramplab.theory.SGD`,
  :class:`~ramplab.theory.NSGD`, :class:`~ramplab.theory.HeavyBall`, :class:`~ramplab.theory.Adam`,
  :class:`~ramplab.theory.SignSGD`) are those of the exact solver, re-exported here
  (docs/math.md#monte-carlo-optimizers); so is the numerics record it takes as ``numerics=``
  (:class:`~ramplab.theory.Numerics`: backend, dtype, chunk size).
- :mod:`simulations.configuration`, :mod:`simulations.updates` and :mod:`simulations.recording`
  hold its parts: validated arguments and per-step tables, the per-step updates of the runs, and
  the statistics of their curves.
- :func:`noise_scale_estimators` replays practitioners' gradient-noise-scale estimators (two-batch,
  moving average, per-example) along runs, beside the exact values (docs/math.md#noise-scale-estimators).
- :mod:`simulations.samplers` holds the samplers and the analytic gradient moments.
- :mod:`simulations.streams` holds the seeding scheme (runs extend, never reshuffle).
"""

from .monte_carlo import SimulationDivergenceError, SimulationResult, simulate
from ._noise_estimators import ESTIMATORS, NoiseScaleEstimates, noise_scale_estimators
from .samplers import DATA_KURTOSIS, SAMPLERS, gradient_covariance, gradient_samples
from ..theory._numerics import Numerics
from ..theory._optimizers import NSGD, SGD, Adam, HeavyBall, OptimizerSpec, SignSGD, resolve_optimizer

__all__ = [
    "Adam",
    "DATA_KURTOSIS",
    "ESTIMATORS",
    "HeavyBall",
    "NSGD",
    "NoiseScaleEstimates",
    "Numerics",
    "OptimizerSpec",
    "SGD",
    "SignSGD",
    "SAMPLERS",
    "SimulationDivergenceError",
    "SimulationResult",
    "gradient_covariance",
    "gradient_samples",
    "noise_scale_estimators",
    "resolve_optimizer",
    "simulate",
]
