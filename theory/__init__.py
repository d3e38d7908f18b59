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
