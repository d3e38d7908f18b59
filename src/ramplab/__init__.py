"""ramplab: when the learning rate should fall, can the batch size grow instead?

Exact expected-risk solvers for noisy linear regression under SGD and normalized SGD with any
per-step learning-rate and batch-size schedule, Monte Carlo of the same problems, sympy
derivations of SFO complexity and growth rates, and the figures built from them.

Subpackages (imported on first use, so ``import ramplab`` stays light):

- :mod:`ramplab.theory` — exact dynamics, schedule algebra, SFO complexity;
- :mod:`ramplab.simulations` — Monte Carlo SGD / NSGD, NumPy or CuPy;
- :mod:`ramplab.proofs` — sympy derivations;
- :mod:`ramplab.figures` — the figure registry and builders (needs matplotlib);
- :mod:`ramplab.benchmarks` — ratio benchmarks.

The mathematics is in ``docs/math.md``; the layout in ``docs/design.md``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

try:
    __version__ = version("ramplab")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"

_SUBPACKAGES = ("theory", "simulations", "proofs", "figures", "benchmarks")

__all__ = ["__version__", *_SUBPACKAGES]


def __getattr__(name: str) -> ModuleType:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
