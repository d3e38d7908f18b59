"""Hostile inputs to the learning-rate multiplier sweep and its checkpoints (issue 24 item 5; the machinery, and how a
table works: tests/hostile.py)."""

from __future__ import annotations

import numpy as np

from hostile import P, Public, Table, integer, make_tests, problem_of, vector

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


def _register() -> None:
    theory = Public("ramplab.theory")
    M = "ramplab.theory.dynamics"
    exempt(f"{M}:LRMultiplierSweep", "result record, built by lr_multiplier_sweep")
    exempt(f"{M}:LR_FAMILIES {M}:LR_MULTIPLIERS", "constants (the families' names, the default multiplier grid)")

    def o_checkpoints(r, kw):
        steps, count = integer(kw["steps"]), integer(kw["count"])
        assert steps >= 1 and count >= 1
        assert r.dtype.kind == "i" and r.ndim == 1 and 1 <= r.size <= count
        assert r[-1] == steps and np.all(np.diff(r) > 0) and r[0] >= 1

    entry(f"{M}:sweep_checkpoints", theory.sweep_checkpoints, {"steps": 64, "count": 4},
          {"steps": "int", "count": "int"}, o_checkpoints,
          skip={"steps": (2**31, 2**53, 2**62, np.uint64(2**64 - 1)), "count": (2**31, 2**53, 2**62)})  # valid, large

    def o_sweep(r, kw):
        problem_of(kw["problem"])
        m = theory.LR_MULTIPLIERS if kw["multipliers"] is None else vector(kw["multipliers"]).ravel()
        assert np.all(m > 0) and np.all(np.isfinite(m))
        assert r.scores.shape == (len(r.families), m.size)
        for f, row in zip(r.families, r.scores):  # the least score; NaN (documented) when every run diverged
            want = float(m[np.argmin(row)]) if np.isfinite(row).any() else None
            got = r.selected_multiplier[f]
            assert (np.isnan(got) if want is None else got == want), (f, got, want)

    entry(f"{M}:lr_multiplier_sweep", theory.lr_multiplier_sweep,
          {"problem": P, "steps": 16, "multipliers": [0.25, 0.5]},
          {"problem": "problem", "steps": "int", "multipliers": "vector"}, o_sweep,
          skip={"steps": (2**31, 2**53, 2**53 + 1, 2**62, np.uint64(2**64 - 1))})  # valid: runs that long


_register()
test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
