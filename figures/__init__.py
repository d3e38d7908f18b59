"""Figures: one module per figure, a registry, and ``ramplab figures`` to build them all.

A figure is two functions: ``data(ctx)`` computes the :class:`FigureTable` of exactly the plotted
numbers (the CSV) and the JSON summary, ``draw(table)`` draws the picture from that table alone.
Each figure module registers its pair with :func:`figures.registry.register` on import;
:func:`load_all` imports every module of this package (other than the registry, the CLI and
private ``_``-prefixed helpers), so adding a figure is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._table import FigureTable
from .registry import REGISTRY, FigureContext, register

__all__ = ["REGISTRY", "FigureContext", "FigureTable", "load_all", "register"]

_NOT_FIGURES = {"registry", "cli"}


def load_all() -> dict:
    """Import every figure module (registering its figures) and return the registry.

    Returns
    -------
    dict of str to FigureSpec
        The figure registry (:data:`~ramplab.figures.registry.REGISTRY`), keyed by figure name
        (the output files' stem), in registration order.

    Examples
    --------
    >>> from ramplab.figures import load_all
    >>> registry = load_all()
    >>> "beyond_critical_batch" in registry and "sfo_critical_batch" in registry
    True
    """
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in _NOT_FIGURES or info.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{info.name}")
    return REGISTRY
