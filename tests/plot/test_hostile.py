"""Hostile inputs to ramplab.plot (the machinery, and how a table works: tests/hostile.py)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from ramplab.theory import DivergenceError, Problem, Schedule, expected_risk  # noqa: E402

from hostile import Public, Table, make_tests  # noqa: E402

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


def _register_plot() -> None:
    plot = Public("ramplab.plot")
    M = "ramplab.plot"
    problem = Problem.power_law(8, 1.5, 1.0, noise_variance=0.5)
    sched = Schedule.constant(0.2, 4, steps=6, label="c")
    other = Schedule.constant(0.1, 8, steps=3, label="d")
    traj = expected_risk(problem, sched)
    exempt(f"{M}:Comparison", "result record (built by compare)")

    def closing(check):
        def oracle(r, kw):
            try:
                check(r, kw)
            finally:
                plt.close("all")
        return oracle

    def o_risk(r, kw):
        assert isinstance(r, Axes) and len(r.lines) == 1
        assert r.get_xlabel() in ("samples", "serial steps")

    entry(f"{M}:plot_risk", plot.plot_risk, {"results": traj, "x": "samples", "bands": 2.0},
          {"results": "any", "x": "choice", "bands": "real"}, closing(o_risk))

    def o_schedule(r, kw):
        ax_lr, ax_b = r
        scheds = kw["schedules"] if isinstance(kw["schedules"], (list, tuple)) else [kw["schedules"]]
        assert all(isinstance(s, Schedule) for s in scheds) and len(ax_lr.lines) == len(ax_b.lines) == len(scheds)
        for line, s in zip(ax_b.lines, scheds):
            assert line.get_xdata()[-1] in (s.total_samples, s.serial_steps)

    entry(f"{M}:plot_schedule", plot.plot_schedule, {"schedules": sched, "x": "steps"},
          {"schedules": "schedule", "x": "choice"}, closing(o_schedule))

    def o_compare(r, kw):
        assert [row["label"] for row in r.rows] == ["c", "d"]
        first = r.rows[0]
        assert first["ratio"] == 1.0 if first["final_risk"] > 0 else math.isnan(first["ratio"])

    entry(f"{M}:compare", plot.compare, {"problem": problem, "schedule": sched, "against": other,
                                         "optimizer": "sgd", "plot": False},
          {"problem": "problem", "optimizer": "choice", "plot": "flag"}, closing(o_compare),
          raises=(DivergenceError,))  # an unstable problem: the solver's documented refusal

    fig, shared = plt.subplots()  # one figure for every call (a hostile value that raises closes nothing)

    def axes_with_legend():
        shared.clear()
        shared.plot([0, 1], [0, 1], label="line")
        return shared

    def o_place(r, kw):
        assert r is kw["ax"].get_legend()

    entry(f"{M}:place_legend", plot.place_legend, lambda: {"ax": axes_with_legend(), "outside": "right"},
          {"ax": "any", "outside": "choice"}, closing(o_place))

    def o_covered(r, kw):
        assert isinstance(r, int) and r >= 0

    def axes_legend():
        ax = axes_with_legend()
        ax.legend()
        return ax

    entry(f"{M}:covered_points", plot.covered_points, lambda: {"ax": axes_legend(), "margin": 2.0},
          {"ax": "any", "margin": "real"}, closing(o_covered))


for _register in (_register_plot,):
    _register()

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
