"""The exact theory predicts real PyTorch training (docs/math.md#torch-interop).

Noisy linear regression trained by the real ``torch.optim.SGD``, driven by
:func:`ramplab.interop.torch_scheduler` and :func:`ramplab.interop.batch_sizes`: one float64
parameter tensor of shape ``(runs, d)`` whose rows never interact (the loss is *summed* over runs,
each row's gradient is its own batch mean), data drawn in the eigenbasis of ``H`` (``x = Λ^{1/2} z``,
``z ~ N(0, I)``, ``y = ⟨w*, x⟩ + σν``), ``w_0 = 0`` and ``(w*_i)² = s_i(0)``. The mean excess risk
over runs must match ``theory.expected_risk`` within 4 standard errors at several checkpoints, for
a cosine schedule and its Seesaw ramp; with ``momentum=μ`` it must match heavy ball with torch's
``μ_t = μ η_t/η_{t−1}`` (:func:`ramplab.interop.torch_momentum`): against a plain-loop exact
heavy-ball recursion written out here, and against ``expected_risk(..., HeavyBall(μ_t))``.
"""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.interop import batch_sizes, torch_momentum, torch_scheduler
from ramplab.theory import Cosine, HeavyBall, Problem, Schedule, expected_risk, seesaw_schedule

from oracles import heavy_ball_moments

torch = pytest.importorskip("torch", reason="the interop extra (torch) is not installed")

PROBLEM = Problem.power_law(8, a=1.5, b=1.0, noise_variance=0.25)
RUNS = 2000
COSINE = Schedule.from_shape(Cosine(0.4, 512), 4, label="cosine")
SEESAW = seesaw_schedule(Cosine(0.4, 512), 4, 2.0, rounding="floor", label="seesaw")


def train(schedule: Schedule, *, momentum: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean excess risk and its standard error after every step of real torch SGD, shape (T + 1,)."""
    gen = torch.Generator().manual_seed(seed)
    lam = torch.tensor(np.array(PROBLEM.eigenvalues), dtype=torch.float64)
    w_star = torch.tensor(np.sqrt(PROBLEM.initial_second_moment), dtype=torch.float64)
    sigma = float(np.sqrt(PROBLEM.noise_variance))
    w = torch.zeros(RUNS, PROBLEM.dimension, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.0, momentum=momentum)
    sched = torch_scheduler(schedule, opt)

    def risks() -> torch.Tensor:
        with torch.no_grad():
            e = w - w_star
            return 0.5 * (lam * e * e).sum(dim=1)

    curve = [risks()]
    for b in batch_sizes(schedule).tolist():
        z = torch.randn(RUNS, b, PROBLEM.dimension, dtype=torch.float64, generator=gen)
        x = z * lam.sqrt()
        y = x @ w_star + sigma * torch.randn(RUNS, b, dtype=torch.float64, generator=gen)
        pred = (x * w.unsqueeze(1)).sum(dim=-1)  # row r's inputs against row r's parameters
        loss = 0.5 * ((pred - y) ** 2).mean(dim=1).sum()  # summed over runs: each row its own gradient
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        curve.append(risks())
    per_run = torch.stack(curve, dim=1).numpy()
    return per_run.mean(axis=0), per_run.std(axis=0, ddof=1) / np.sqrt(RUNS)


def checkpoints(schedule: Schedule) -> np.ndarray:
    return np.linspace(len(schedule) // 6, len(schedule), 6).astype(int)


@pytest.mark.parametrize("schedule", [COSINE, SEESAW], ids=["cosine", "seesaw"])
def test_torch_sgd_matches_expected_risk(schedule):
    mean, se = train(schedule, seed=1)
    exact = expected_risk(PROBLEM, schedule).risk
    k = checkpoints(schedule)
    z = (mean[k] - exact[k]) / se[k]
    assert np.all(np.abs(z) < 4), z
    assert mean[-1] < 0.2 * mean[0]  # it trained


def test_seesaw_ramp_is_a_ramp():
    assert len(SEESAW) < len(COSINE) and batch_sizes(SEESAW).max() > 4 * batch_sizes(SEESAW).min()


def heavy_ball_risk(problem: Problem, lr, batch, momentum) -> np.ndarray:
    """Exact E R after each heavy-ball step (``e_{−1} = e_0``, ``momentum[t]`` of 0-based step t): the plain
    covariance propagation of tests/oracles.py (docs/math.md#heavy-ball-momentum)."""
    return heavy_ball_moments(problem, lr, batch, momentum)["risk"]


@pytest.mark.parametrize("schedule", [COSINE, SEESAW], ids=["cosine", "seesaw"])
def test_torch_momentum_is_heavy_ball_with_mapped_mu(schedule):
    mu = torch_momentum(schedule, 0.5)
    mean, se = train(schedule, momentum=0.5, seed=2)
    ref = heavy_ball_risk(PROBLEM, schedule.lr, schedule.batch, mu)
    k = checkpoints(schedule)
    z = (mean[k] - ref[k]) / se[k]
    assert np.all(np.abs(z) < 4), z
    # Able to fail: the constant-μ heavy ball differs where the rate moves (the Seesaw's cuts, the cosine's tail).
    naive = heavy_ball_risk(PROBLEM, schedule.lr, schedule.batch, np.full(len(schedule), 0.5))
    sgd = expected_risk(PROBLEM, schedule).risk
    assert np.max(np.abs(mean[k] - sgd[k]) / se[k]) > 4
    assert np.max(np.abs(naive - ref)) > 0


@pytest.mark.parametrize("schedule", [COSINE, SEESAW], ids=["cosine", "seesaw"])
def test_torch_momentum_matches_exact_momentum_solver(schedule):
    mu = torch_momentum(schedule, 0.5)
    mean, se = train(schedule, momentum=0.5, seed=3)
    exact = expected_risk(PROBLEM, schedule, HeavyBall(mu)).risk
    k = checkpoints(schedule)
    z = (mean[k] - exact[k]) / se[k]
    assert np.all(np.abs(z) < 4), z
