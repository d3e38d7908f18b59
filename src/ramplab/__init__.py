"""ramplab: when the learning rate should fall, can the batch size grow instead?

Exact expected-risk solvers for noisy linear regression under SGD and normalized SGD with any
per-step learning-rate and batch-size schedule, Monte Carlo of the same problems, sympy
derivations of SFO complexity and growth rates, and the figures built from them.

Subpackages (imported on first use, so ``import ramplab`` stays light):

- :mod:`ramplab.theory` — exact dynamics, schedule algebra, SFO complexity;
- :mod:`ramplab.simulations` — Monte Carlo SGD / NSGD, NumPy or CuPy;
- :mod:`ramplab.proofs` — sympy derivations;
- :mod:`ramplab.figures` — the figure registry and builders (needs matplotlib);
- :mod:`ramplab.benchmarks` — ratio benchmarks;
- :mod:`ramplab.workloads` — the problems and schedules the benchmarks and the figures share.

The mathematics is in ``docs/math.md``; the layout in ``docs/design.md``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Written at build time by setuptools-scm from git: ``0.1.devN+g<commit>[.d<date>]``.
from ._version import __commit_id__, __version__

_SUBPACKAGES = ("theory", "simulations", "proofs", "figures", "benchmarks", "workloads")

__all__ = ["__version__", "build_provenance", *_SUBPACKAGES]


def build_provenance() -> dict[str, object]:
    """The version and git commit this installed ramplab was built from.

    Returns
    -------
    dict
        ``{"ramplab": version, "git_commit": short hash or None, "git_dirty": bool or None}``;
        ``git_dirty`` is true when the working tree had uncommitted changes at build time
        (setuptools-scm appends ``.d<date>`` to the local version then). Both git fields are
        ``None`` for a build made outside a git checkout.

    Examples
    --------
    >>> sorted(build_provenance())
    ['git_commit', 'git_dirty', 'ramplab']
    """
    commit = __commit_id__[1:] if __commit_id__ and __commit_id__.startswith("g") else __commit_id__
    local = __version__.partition("+")[2]
    dirty = None if commit is None else any(part.startswith("d") for part in local.split("."))
    return {"ramplab": __version__, "git_commit": commit, "git_dirty": dirty}


def __getattr__(name: str) -> ModuleType:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
