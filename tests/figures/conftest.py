"""Shared by the figure tests: build one figure at CI size and read back what it wrote; compute a
figure's table (its ``data``) once per test session."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ramplab.figures import REGISTRY, load_all
from ramplab.figures.registry import FigureContext, FigureTable


def build_quick(name: str, out: Path) -> tuple[Path, dict, list[dict]]:
    """Build figure ``name`` with ``quick=True`` into ``out``; return (folder, JSON summary, CSV rows)."""
    load_all()
    REGISTRY[name].build(FigureContext(name=name, out_dir=out, quick=True))
    summary = json.loads((out / f"{name}.json").read_text())
    with (out / f"{name}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return out, summary, rows


@pytest.fixture(scope="session")
def quick_figure():
    """The :func:`build_quick` helper, as a fixture (conftest modules are not importable by name)."""
    return build_quick


_TABLES: dict[str, FigureTable] = {}


def quick_table(name: str) -> FigureTable:
    """``data(ctx)`` of figure ``name`` at CI size (``quick=True``, no cache, no files written),
    computed once per test session and shared by every test that asks (do not modify it)."""
    load_all()
    if name not in _TABLES:
        _TABLES[name] = REGISTRY[name].data(FigureContext(name=name, out_dir=Path("unused"), quick=True))
    return _TABLES[name]


@pytest.fixture(scope="session")
def quick_data():
    """The :func:`quick_table` helper, as a fixture."""
    return quick_table

#: A child-process driver run as a script (it calls ``sys.exit`` on import): not a test module, and its
#: import by ``--doctest-modules`` would end the collection.
collect_ignore = ["fake_figures_driver.py"]
