"""Every registered figure is ``data`` then ``draw``: ``draw(data(ctx))`` works from the table alone.

At CI size (the session's shared ``quick_data`` tables, also drawn by ``test_checklist.py``), each
figure's ``draw`` gets a deep copy of its table while every computation its module could reach is
a trap: the library's solvers, simulations, workloads and sweeps, the Seesaw set-up helpers, the
module's own public functions (``data`` included). The CSV written from the table is the table.
"""

from __future__ import annotations

import copy
import csv
import inspect
import io
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ramplab.figures import REGISTRY, FigureTable, load_all  # noqa: E402

load_all()

#: Where a figure's numbers come from: ``draw`` must call none of these.
COMPUTING = ("ramplab.theory", "ramplab.simulations", "ramplab.workloads", "ramplab.sweeps",
             "ramplab.benchmarks", "ramplab.figures._seesaw_setup")


class _Trap:
    """Stands in for a function or class: calling it or reaching through it (``Problem.power_law``) fails."""

    def __init__(self, name):
        self._name = name

    def _fail(self):
        raise AssertionError(f"draw used {self._name}: it must draw from the table alone")

    def __call__(self, *args, **kwargs):
        self._fail()

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        self._fail()


def _trap_computations(module, monkeypatch):
    for attr, value in list(vars(module).items()):
        if not callable(value):
            continue
        home = getattr(value, "__module__", None) or ""
        own_public = home == module.__name__ and not attr.startswith("_") and attr != "draw" \
            and inspect.isfunction(value)
        if own_public or home.startswith(COMPUTING):
            monkeypatch.setattr(module, attr, _Trap(f"{module.__name__}.{attr}"))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_draw_works_from_the_table_alone(name, quick_data, monkeypatch):
    spec = REGISTRY[name]
    table = quick_data(name)
    assert isinstance(table, FigureTable) and len(table) > 0 and table.summary
    # The CSV is the table: its header is the table's columns and it has one line per row.
    buffer = io.StringIO()
    table.write_csv(buffer)
    reader = csv.DictReader(io.StringIO(buffer.getvalue()))
    assert tuple(reader.fieldnames) == table.columns and sum(1 for _ in reader) == len(table)

    module = sys.modules[spec.draw.__module__]
    _trap_computations(module, monkeypatch)
    fig = spec.draw(FigureTable(copy.deepcopy(table.rows), copy.deepcopy(table.summary)))
    try:
        assert isinstance(fig, Figure) and fig.axes
        fig.canvas.draw()
    finally:
        plt.close(fig)


def test_the_trap_fires():
    """A ``draw`` that recomputes (here: calls a theory function) fails the check above."""
    import types

    from ramplab.theory import Problem

    module = types.ModuleType("ramplab.figures.fake_recomputing")
    module.Problem = Problem

    def draw(table):
        module.Problem.power_law(4, 1.5, 1.0, 0.1)
        return plt.figure()

    draw.__module__ = module.__name__
    module.draw = draw
    with pytest.MonkeyPatch.context() as mp:
        _trap_computations(module, mp)
        with pytest.raises(AssertionError, match="from the table alone"):
            draw(FigureTable([{"x": 1}]))
