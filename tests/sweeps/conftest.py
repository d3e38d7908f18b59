"""Sweep tests import their task functions from ``sweep_tasks.py`` beside this file; ``booby_trapped``
replaces every registered figure by one that fails the test if it is built."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest


@pytest.fixture
def booby_trapped(monkeypatch):
    """Every registered figure raises if built; the list records the names that were (it must stay empty)."""
    from ramplab.figures import REGISTRY, load_all
    from ramplab.figures.registry import FigureSpec

    load_all()
    built = []

    def trap(ctx):
        built.append(ctx.name)
        raise AssertionError(f"figure {ctx.name!r} was built although the command should have refused")

    for name, spec in list(REGISTRY.items()):
        monkeypatch.setitem(REGISTRY, name, FigureSpec(name, spec.description, trap, spec.draw))
    return built
