"""Hostile inputs to the batch warmup from the local critical batch (issue 23 item 4; the machinery, and how a table
works: tests/hostile.py)."""

from __future__ import annotations

import math

from ramplab.theory import DivergenceError, Schedule

from hostile import P, Public, Table, choice, make_tests, problem_of, real

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


def _register() -> None:
    theory = Public("ramplab.theory")

    def o_warmup(r, kw):
        problem_of(kw["problem"])
        assert isinstance(kw["base"], Schedule) and isinstance(r, Schedule)
        assert real(kw["check_every"]) > 0 and real(kw["window"]) > 0 and real(kw["factor"]) > 1
        choice(kw["lr_rule"], ("keep", "linear", "sqrt"))
        assert math.isclose(float(r.total_samples), float(kw["base"].total_samples), rel_tol=1e-9)
        assert r.serial_steps <= kw["base"].serial_steps

    entry("ramplab.theory.complexity:local_critical_batch_warmup", theory.local_critical_batch_warmup,
          lambda: {"problem": P, "base": Schedule.constant(0.2, 2, steps=64), "check_every": 32.0, "window": 16.0,
                   "factor": 2.0, "lr_rule": "linear"},
          {"problem": "problem", "base": "schedule", "check_every": "real", "window": "real", "factor": "real",
           "lr_rule": "choice"}, o_warmup, raises=(DivergenceError,))  # documented: a diverging measured run


_register()
test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
