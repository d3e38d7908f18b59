"""Executable derivations: SFO complexity, critical batch size, growth exponents, equivalence algebra,
heavy-ball momentum, weight decay, the greedy one-eigenvalue learning rate.

Every derivation is a function returning a frozen :class:`~proofs.derivation.Derivation` — statement,
assumptions, sympy results, the checks that verify them, LaTeX. ``ramplab proofs`` prints them all
with their status and exits non-zero if any check fails; ``--latex FILE`` writes a document.

This package may import :mod:`theory` only to cross-check numbers; :mod:`theory` never imports it.

Examples
--------
>>> round(bound_critical_batch(1.0, 2.0, 0.1, 0.1), 6)       # 2Lσ²η/((2 − Lη)ε²)
21.052632
>>> round(growth_exponent(1.4, 2.0), 3)
4.12
"""

from __future__ import annotations

from typing import Callable

from .derivation import Check, Derivation
from .equivalence import (
    nsgd_invariant,
    ramp_bound,
    serial_step_integrals,
    stationary_point,
    temperature,
)
from .greedy import greedy_learning_rates, greedy_one_dimension
from .growth import (
    growth_exponent,
    growth_exponential,
    growth_polynomial,
    polynomial_growth_exponent,
)
from .momentum import heavy_ball_averaging, heavy_ball_moments, heavy_ball_stability, torch_momentum_mapping
from .schedule_sums import SCHEDULES, schedule_sums
from .sfo import CONVENTIONS, STATIONARITY, bound_critical_batch, master_bound, sfo_constant
from .symbols import substitute
from .weight_decay import weight_decay_moments

__all__ = [
    "Check",
    "DERIVATIONS",
    "Derivation",
    "bound_critical_batch",
    "derivations",
    "greedy_learning_rates",
    "greedy_one_dimension",
    "growth_exponent",
    "growth_exponential",
    "growth_polynomial",
    "heavy_ball_averaging",
    "heavy_ball_moments",
    "heavy_ball_stability",
    "master_bound",
    "nsgd_invariant",
    "polynomial_growth_exponent",
    "ramp_bound",
    "schedule_sums",
    "serial_step_integrals",
    "sfo_constant",
    "stationary_point",
    "substitute",
    "temperature",
    "torch_momentum_mapping",
    "weight_decay_moments",
]


def __getattr__(name: str) -> object:
    # Deprecated names, kept importable for one release (they warn when called).
    if name == "critical_batch_size":
        from .sfo import critical_batch_size

        return critical_batch_size
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _registry() -> dict[str, Callable[[], Derivation]]:
    out: dict[str, Callable[[], Derivation]] = {"master_bound": master_bound}
    for convention in CONVENTIONS:
        for stationarity in STATIONARITY:
            out[f"sfo_constant_{convention}_{stationarity}"] = (
                lambda c=convention, s=stationarity: sfo_constant(c, s))
    for schedule in SCHEDULES:
        out[f"sums_{schedule}"] = lambda s=schedule: schedule_sums(s)
    out.update({
        "growth_exponential": growth_exponential,
        "growth_polynomial": growth_polynomial,
        "stationary_point": stationary_point,
        "temperature": temperature,
        "nsgd_invariant": nsgd_invariant,
        "ramp_bound": ramp_bound,
        "serial_step_integrals": serial_step_integrals,
        "heavy_ball_moments": heavy_ball_moments,
        "heavy_ball_averaging": heavy_ball_averaging,
        "heavy_ball_stability": heavy_ball_stability,
        "torch_momentum_mapping": torch_momentum_mapping,
        "weight_decay_moments": weight_decay_moments,
        "greedy_one_dimension": greedy_one_dimension,
    })
    return out


#: Every derivation by name, in the order ``ramplab proofs`` prints them (each call is cached).
DERIVATIONS: dict[str, Callable[[], Derivation]] = _registry()


def derivations(names: list[str] | None = None) -> tuple[Derivation, ...]:
    """Build (or fetch from cache) the derivations named, all of them by default.

    Parameters
    ----------
    names : list of str, optional
        Keys of :data:`DERIVATIONS`; all of them, in order, by default.

    Returns
    -------
    tuple of Derivation
        In the order asked.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).

    Examples
    --------
    >>> [d.name for d in derivations(["ramp_bound"])]
    ['ramp_bound']
    >>> derivations(["nope"])
    Traceback (most recent call last):
    ...
    ValueError: names has unknown derivation(s) ['nope']; known: [...]
    """
    if names is not None and (not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names)):
        raise TypeError(f"names must be None or a list of derivation names (strings); got {names!r}")
    chosen = list(DERIVATIONS) if names is None else list(names)
    unknown = [n for n in chosen if n not in DERIVATIONS]
    if unknown:
        raise ValueError(f"names has unknown derivation(s) {unknown}; known: {sorted(DERIVATIONS)}")
    return tuple(DERIVATIONS[n]() for n in chosen)
