"""Issue #19 kind 8: divergence told the same way by the exact solver and by Monte Carlo.

Oracle: the exact solver's own divergence step, ``expected_risk(..., on_divergence="flag").diverged_at``
(docs/math.md#divergence), on the same problem, schedule and optimizer. A Monte Carlo call is

- ``"ok"`` when it raises ``DivergenceError`` (``SimulationDivergenceError``) or flags ``diverged_at`` within one
  check interval (256 steps) of the exact step, and never flags a schedule the exact solver does not;
- ``"silent"`` when the exact solver diverges and ``simulate`` returns finite means past that step (no error, or a
  flag hundreds of steps late), or when a schedule holds an unstable constant ``(η, B)`` and nothing warns;
- ``"unclear"`` when it raises or flags at a step the exact solver does not (a stable schedule flagged, an early
  step), or raises something else.

Only API that exists on de6f77e is used, so the same file measures before and after.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ramplab.simulations import simulate
from ramplab.theory import DivergenceError, HeavyBall, Numerics, Problem, Schedule, expected_risk, spectral_radius

CHECK = 256


def _edge(problem, batch):
    lo, hi = 1e-6, 1e3
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        if spectral_radius(problem, mid, batch) < 1.0:
            lo = mid
        else:
            hi = mid
    return hi


def _exact_step(problem, schedule, optimizer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return expected_risk(problem, schedule, optimizer, on_divergence="flag").diverged_at


def _judge(problem, schedule, optimizer="sgd", mode="raise", runs=64, **kw):
    exact = _exact_step(problem, schedule, optimizer)
    numerics = kw.pop("numerics", Numerics(backend="numpy"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mc = simulate(problem, schedule, optimizer, runs=runs, seed=0, numerics=numerics, on_divergence=mode, **kw)
    except DivergenceError as exc:
        if exact is None or abs(exc.step - exact) >= CHECK:
            return "unclear"
        return "ok"
    if mode == "raise":
        return "ok" if exact is None else "silent"
    if exact is None:
        return "ok" if mc.diverged_at is None else "unclear"
    if mc.diverged_at is None or mc.diverged_at - exact >= CHECK:
        return "silent"
    if exact - mc.diverged_at >= CHECK:
        return "unclear"
    return "ok" if np.all(mc.mean_risk[-1:] == np.inf) else "silent"


def _warns(fn):
    """``"ok"`` when calling ``fn`` emits a warning (other than NumPy's RuntimeWarnings), ``"silent"`` otherwise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn()
        except DivergenceError:
            pass
    return "ok" if any(not issubclass(w.category, RuntimeWarning) for w in caught) else "silent"


ONE = Problem.isotropic(1)
ONE_NOISY = Problem.isotropic(1, noise_variance=1.0)
PL100 = Problem.power_law(100, a=1.5, b=1.0, noise_variance=0.5)
PL30 = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.5)
PL_STEEP = Problem.power_law(50, a=2.0, b=1.0, noise_variance=0.0)
PL_FLAT = Problem.power_law(500, a=1.1, b=1.0, noise_variance=0.5)
ISO10 = Problem.isotropic(10, noise_variance=0.5)
MULTI = Problem([1.0, 0.1], [1.0, 1.0], noise_variance=0.5, multiplicity=[3, 40])
RADEMACHER = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.5, kurtosis=1.0)


def _const(problem, factor, batch, steps, label=""):
    return Schedule.constant(factor * _edge(problem, batch), batch, steps=steps, label=label)


CASES = [
    # the two examples
    ("issue_eta08_B1_lambda1_raise", lambda: _judge(ONE, Schedule.constant(0.8, 1, steps=400))),
    ("issue_eta08_B1_lambda1_flag", lambda: _judge(ONE, Schedule.constant(0.8, 1, steps=400), mode="flag")),
    ("issue_eta08_noisy_flag", lambda: _judge(ONE_NOISY, Schedule.constant(0.8, 1, steps=2000), mode="flag")),
    ("issue_powerlaw_d100_eta10_raise", lambda: _judge(PL100, Schedule.constant(10.0, 1, steps=400))),
    ("issue_powerlaw_d100_eta10_flag", lambda: _judge(PL100, Schedule.constant(10.0, 1, steps=400), mode="flag")),
    # the family: unstable constant schedules of several shapes
    ("one_coord_just_past_edge_flag", lambda: _judge(ONE, _const(ONE, 1.1, 1, 3000), mode="flag")),
    ("iso10_just_past_edge_B4_flag", lambda: _judge(ISO10, _const(ISO10, 1.1, 4, 3000), mode="flag")),
    ("steep_powerlaw_x1p5_raise", lambda: _judge(PL_STEEP, _const(PL_STEEP, 1.5, 1, 1500))),
    ("steep_powerlaw_x1p5_flag", lambda: _judge(PL_STEEP, _const(PL_STEEP, 1.5, 1, 1500), mode="flag")),
    ("flat_powerlaw_x3_B8_flag", lambda: _judge(PL_FLAT, _const(PL_FLAT, 3.0, 8, 600), mode="flag")),
    ("heavy_ball_mu05_flag", lambda: _judge(PL30, Schedule.constant(3.0, 1, steps=400), HeavyBall(0.5), mode="flag")),
    ("heavy_ball_mu09_raise", lambda: _judge(PL30, Schedule.constant(1.5, 1, steps=600), HeavyBall(0.9))),
    ("averaging_uniform_flag", lambda: _judge(PL_STEEP, _const(PL_STEEP, 1.3, 1, 1500), mode="flag",
                                              average="uniform")),
    ("checkpoints_flag", lambda: _judge(PL_STEEP, _const(PL_STEEP, 1.3, 2, 1500), mode="flag",
                                        checkpoints=[0, 100, 1000, 3000])),
    ("multiplicity_flag", lambda: _judge(MULTI, _const(MULTI, 1.5, 1, 1500), mode="flag")),
    ("rademacher_direct_flag", lambda: _judge(RADEMACHER, _const(RADEMACHER, 1.5, 2, 1500), mode="flag")),
    ("float32_state_flag", lambda: _judge(PL_STEEP, _const(PL_STEEP, 1.5, 1, 1500), mode="flag",
                                          numerics=Numerics(backend="numpy", dtype=np.float32))),
    ("one_run_flag", lambda: _judge(PL_STEEP, _const(PL_STEEP, 1.5, 1, 1500), mode="flag", runs=1)),
    ("many_runs_small_chunks_flag", lambda: _judge(ONE, Schedule.constant(0.8, 1, steps=600), mode="flag", runs=512,
                                                   numerics=Numerics(backend="numpy", chunk_size=64))),
    ("stable_then_unstable_phase_flag",
     lambda: _judge(PL30, Schedule.from_phases([(0.5 * _edge(PL30, 2), 2, 400), (2.0 * _edge(PL30, 2), 2, 2000)]),
                    mode="flag")),
    # stable schedules: never flagged
    ("stable_half_edge_flag", lambda: _judge(PL30, _const(PL30, 0.5, 4, 800), mode="flag")),
    ("stable_near_edge_raise", lambda: _judge(PL_FLAT, _const(PL_FLAT, 0.9, 8, 600), runs=16)),
    ("stable_one_step_spike_flag",
     lambda: _judge(PL30, Schedule.from_phases([(0.4 * _edge(PL30, 1), 1, 100), (1.5 * _edge(PL30, 1), 1, 1),
                                                (0.4 * _edge(PL30, 1), 1, 100)]), mode="flag")),
    ("nsgd_large_rate_flag", lambda: _judge(PL30, Schedule.constant(30.0, 1, steps=300), "nsgd", mode="flag")),
    ("nothing_moves_flag", lambda: _judge(Problem([1.0, 2.0], [0.0, 0.0]), Schedule.constant(5.0, 1, steps=300),
                                          mode="flag")),
    # a warning when a schedule holds an unstable constant (η, B), before anything runs
    ("warn_mc_unstable_segment_that_recovers",
     lambda: _warns(lambda: simulate(PL30, Schedule.from_phases([(0.4 * _edge(PL30, 1), 1, 100),
                                                                 (1.5 * _edge(PL30, 1), 1, 5),
                                                                 (0.4 * _edge(PL30, 1), 1, 100)]),
                                     runs=8, seed=0, numerics=Numerics(backend="numpy")))),
    ("warn_exact_unstable_segment_that_recovers",
     lambda: _warns(lambda: expected_risk(PL30, Schedule.from_phases([(0.4 * _edge(PL30, 1), 1, 100),
                                                                       (1.5 * _edge(PL30, 1), 1, 5),
                                                                       (0.4 * _edge(PL30, 1), 1, 100)])))),
    ("warn_mc_issue_example", lambda: _warns(lambda: simulate(ONE, Schedule.constant(0.8, 1, steps=400), runs=8,
                                                              seed=0, numerics=Numerics(backend="numpy"),
                                                              on_divergence="flag"))),
    ("warn_exact_issue_example", lambda: _warns(lambda: expected_risk(ONE, Schedule.constant(0.8, 1, steps=400),
                                                                      on_divergence="flag"))),
]
