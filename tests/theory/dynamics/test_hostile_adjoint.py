"""Hostile inputs to the exact gradient, its Hessian and the flat direction (docs/math.md#risk-gradient; the
machinery, and how a table works: tests/hostile.py).

Oracles: the objective from tests/oracles.py's plain float64 recursion (``sgd_moments``), and the gradient
against central differences of that recursion (an independent implementation) where the problem is moderate.
"""

from __future__ import annotations

import math

import numpy as np

from ramplab.theory import DivergenceError, Problem, Schedule, risk_gradient, risk_hessian

from hostile import P, Public, Table, choice, close, finite, make_tests, problem_of
from oracles import sgd_moments

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt

M = "ramplab.theory.dynamics"
S2 = Schedule.from_segments([0.3, 0.2], [2, 4], [2, 2])


def _objective(problem: Problem, lrs: np.ndarray, batches: np.ndarray, optimizer: str, checkpoints: list[int] | None
               ) -> float:
    risk = sgd_moments(problem, lrs.tolist(), batches.tolist(), optimizer=optimizer)["risk"]
    if len(risk) < len(lrs) + 1:
        return math.inf
    return float(risk[-1] if checkpoints is None else np.mean(risk[checkpoints]))


def o_gradient(r, kw):
    p = problem_of(kw["problem"])
    sched = kw["schedule"]
    assert isinstance(sched, Schedule), f"accepted {sched!r} for a Schedule"
    optimizer = choice(kw["optimizer"], ("sgd", "nsgd"))
    choice(kw["objective"], ("final", "mean_over_checkpoints"))
    assert kw["average"] is None, f"accepted average={kw['average']!r}"
    checks = None if kw["objective"] == "final" else [int(c) for c in np.asarray(kw["checkpoints"]).tolist()]
    lrs, batches = sched.step_arrays()
    blocks = np.asarray(r.segment_steps)
    assert int(blocks.sum()) == len(sched)
    finite(r.value, nonnegative=True)
    finite(r.d_log_lr)
    finite(r.d_log_batch)
    assert r.d_log_lr.shape == r.d_log_batch.shape == blocks.shape
    value = _objective(p, lrs, batches, optimizer, checks)
    close(r.value, value, 1e-9, "objective")
    if not (p.initial_risk < 1e100 and p.noise_variance < 1e100 and p.largest_eigenvalue < 1e100):
        return  # differences of an extreme problem are no reference
    h = 1e-5
    ref = []
    for which in ("lr", "batch"):
        for k in range(blocks.size):
            vals = []
            for sign in (1.0, -1.0):
                factor = np.ones(blocks.size)
                factor[k] = math.exp(sign * h)
                step_factor = np.repeat(factor, blocks)
                l2, b2 = (lrs * step_factor, batches) if which == "lr" else (lrs, batches * step_factor)
                vals.append(_objective(p, l2, b2, optimizer, checks))
            ref.append((vals[0] - vals[1]) / (2 * h))
    ref = np.array(ref)
    scale = max(float(np.linalg.norm(ref)), 1e-12 * max(value, 1e-300))
    assert float(np.linalg.norm(r.gradient - ref)) <= 1e-5 * scale, f"gradient {r.gradient!r} != differences {ref!r}"


entry(f"{M}:risk_gradient", risk_gradient,
      lambda: {"problem": P, "schedule": S2, "optimizer": "sgd", "objective": "mean_over_checkpoints",
               "checkpoints": [0, 2, 4], "average": None, "segment_steps": None, "divergence_threshold": 1e12,
               "chunk": None},
      {"problem": "problem", "schedule": "schedule", "optimizer": "choice", "objective": "choice",
       "checkpoints": "vector", "average": "choice", "segment_steps": "vector", "divergence_threshold": "real",
       "chunk": "int"},
      o_gradient, raises=(DivergenceError,))
entry(f"{M}:risk_gradient[nsgd-final]", risk_gradient,
      lambda: {"problem": P, "schedule": S2, "optimizer": "nsgd", "objective": "final", "checkpoints": None,
               "average": None, "segment_steps": [1, 3], "divergence_threshold": 1e12, "chunk": 3},
      {"problem": "problem", "schedule": "schedule", "segment_steps": "vector", "chunk": "int"},
      o_gradient, raises=(DivergenceError,))


def o_hessian(r, kw):
    problem_of(kw["problem"])
    assert isinstance(kw["schedule"], Schedule)
    step = kw["step"]
    assert isinstance(step, (float, int, np.floating, np.integer)) and not isinstance(step, (bool, np.bool_))
    assert 1e-8 <= float(step) <= 0.1, f"accepted step={step!r}"
    finite(r.hessian)
    np.testing.assert_array_equal(r.hessian, r.hessian.T)
    close(r.eigenvectors @ np.diag(r.eigenvalues) @ r.eigenvectors.T, r.hessian, 1e-8, "eigen-decomposition")
    ref = risk_gradient(kw["problem"], kw["schedule"])
    close(r.gradient, ref.gradient, 1e-12, "gradient")


entry(f"{M}:risk_hessian", risk_hessian, lambda: {"problem": P, "schedule": S2, "step": 1e-4},
      {"problem": "problem", "schedule": "schedule", "step": "real"}, o_hessian, raises=(DivergenceError,))

H0 = risk_hessian(P, S2)
flat = Public(M)


def o_flat(r, kw):
    assert np.isclose(np.linalg.norm(r.direction), 1.0)
    for value in (r.global_alignment, r.family_alignment):
        assert 0.0 <= value <= 1.0 + 1e-12, f"alignment {value!r}"
    finite([r.eigenvalue, r.relative_eigenvalue, r.family_exponent, r.family_curvature])
    if kw["exponent"] is not None:
        close(r.family_exponent, float(kw["exponent"]), 0.0, "exponent")


entry(f"{M}:flat_direction", lambda **kw: flat.flat_direction(**kw), {"hessian": H0, "exponent": None},
      {"hessian": "any", "exponent": "real"}, o_flat)
exempt(f"{M}:RiskGradient", "result record, built by risk_gradient")
exempt(f"{M}:RiskHessian", "result record, built by risk_hessian")
exempt(f"{M}:FlatDirection", "result record, built by flat_direction")

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
