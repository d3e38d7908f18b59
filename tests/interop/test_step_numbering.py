"""Error messages count steps from 0, as the docstrings do."""
import pytest

from ramplab.interop import torch_momentum
from ramplab.theory import Schedule
from ramplab.theory.dynamics import heavy_ball_momentum_of_torch_sgd


def test_torch_momentum_names_zero_based_steps():
    with pytest.raises(ValueError, match=r"0 at step 0 and positive at step 1 \(0-based\)"):
        torch_momentum(Schedule([0.0, 0.1], [1, 1]), 0.9)


def test_heavy_ball_of_torch_sgd_names_zero_based_steps():
    with pytest.raises(ValueError, match=r"0 at step 0 and positive at step 1 \(0-based\)"):
        heavy_ball_momentum_of_torch_sgd([0.0, 0.1], 0.9)
    with pytest.raises(ValueError, match=r"0 at step 2 and positive at step 3 \(0-based\)"):
        heavy_ball_momentum_of_torch_sgd([0.1, 0.1, 0.0, 0.1], 0.9)
