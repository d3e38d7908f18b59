"""Hostile inputs to the optimal schedules, the serial-step frontier, the named schedules and the d = 1 greedy rates
(issue 22; the machinery, and how a table works: tests/hostile.py)."""

from __future__ import annotations

import math

import numpy as np

from ramplab.theory import Schedule

from hostile import P, Public, Table, choice, finite, flag, integer, make_tests, problem_of, real, vector

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


def _register() -> None:
    theory = Public("ramplab.theory")
    M = "ramplab.theory.complexity"
    exempt(f"{M}:OptimalSchedule {M}:SerialStepFrontier",
           "result record, built by optimal_schedule / serial_step_frontier")

    def o_named(r, kw):
        n, b, peak = real(kw["samples"]), real(kw["batch"]), real(kw["peak"])
        assert n > 0 and b >= 1 and peak > 0 and 0 <= real(kw["floor"]) <= 1
        assert r and all(isinstance(s, Schedule) for s in r.values())
        for s in r.values():
            assert math.isclose(float(s.total_samples), n, rel_tol=1e-9), (s.label, s.total_samples, n)

    entry(f"{M}:named_schedules", theory.named_schedules,
          {"samples": 256.0, "batch": 4.0, "peak": 0.1, "floor": 0.0},
          {"samples": "real", "batch": "real", "peak": "real", "floor": "real"}, o_named)

    def o_optimal(r, kw):
        p = problem_of(kw["problem"])
        n = real(kw["samples"])
        steps = r.serial_steps if kw["serial_steps"] is None else integer(kw["serial_steps"])
        choice(kw["objective"], ("final", "averaged", "mean_over_checkpoints"))
        whole = flag(kw["integer_batch"])
        assert r.schedule.serial_steps == steps and math.isclose(float(r.schedule.total_samples), n, rel_tol=1e-9)
        finite(r.objective, nonnegative=True)
        assert r.objective <= p.initial_risk + p.noise_variance * 10 or not r.converged
        if whole:
            assert np.all(r.schedule.segments.batch == np.round(r.schedule.segments.batch))

    entry(f"{M}:optimal_schedule", theory.optimal_schedule,
          lambda: {"problem": P, "samples": 32, "serial_steps": 4, "segments": 2, "objective": "final",
                   "integer_batch": True},
          {"problem": "problem", "samples": "real", "serial_steps": "int", "segments": "int",
           "objective": "choice", "integer_batch": "flag"}, o_optimal,
          skip={"serial_steps": (2**31, 2**53, 2**53 + 1, 2**62, np.uint64(2**64 - 1))})  # valid, huge runs

    def o_frontier(r, kw):
        problem_of(kw["problem"])
        budgets = sorted({int(v) for v in vector(kw["serial_steps"]).ravel()})
        assert r.serial_steps.tolist() == budgets and len(r.results) == len(budgets)
        finite(r.objective, nonnegative=True)

    entry(f"{M}:serial_step_frontier", theory.serial_step_frontier,
          lambda: {"problem": P, "samples": 32, "serial_steps": [2, 4], "segments": 2},
          {"problem": "problem", "samples": "real", "serial_steps": "vector", "segments": "int"}, o_frontier)

    def o_stretched(r, kw):
        assert r.serial_steps == int(kw["serial_steps"]) >= kw["schedule"].serial_steps
        assert np.all(r.batch >= 1) and np.all(np.isfinite(r.lr)) and np.all(r.lr >= 0)

    entry(f"{M}:stretched_schedule", theory.stretched_schedule,
          lambda: {"schedule": theory.Schedule([0.4, 0.2], [8, 16]), "serial_steps": 4, "optimizer": "sgd"},
          {"schedule": "schedule", "serial_steps": "int", "optimizer": "choice"}, o_stretched)

    proofs = Public("ramplab.proofs")

    def o_greedy(r, kw):
        lr, final = r
        b = vector(kw["batch"]).ravel()
        assert lr.shape == b.shape and np.all(lr > 0) and final >= 0
        assert real(kw["eigenvalue"]) > 0 and real(kw["initial_second_moment"]) > 0
        assert real(kw["noise_variance"]) >= 0 and real(kw["kurtosis"]) >= 1

    entry("ramplab.proofs:greedy_learning_rates", proofs.greedy_learning_rates,
          {"eigenvalue": 1.0, "initial_second_moment": 1.0, "noise_variance": 0.1, "batch": [1.0, 2.0],
           "kurtosis": 3.0},
          {"eigenvalue": "real", "initial_second_moment": "real", "noise_variance": "real", "batch": "vector",
           "kurtosis": "real"}, o_greedy)
    exempt("ramplab.proofs:greedy_one_dimension", "derivation without arguments (nothing to substitute)")


_register()
test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
