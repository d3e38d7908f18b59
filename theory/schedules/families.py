"""Phase-indexed schedule families ``(η_k, B_k) = (η_0 α^{−k}, B_0 β^k)`` (docs/math.md#equivalence).

Phase boundaries are fixed in *samples*, so two members of a family see the same data in every
phase and differ only in how they spend it: phase ``k`` of ``D_k`` samples takes ``D_k / B_k``
serial steps.

Equivalence classes:

- **SGD** (Seesaw Theorem 1): members with equal ``α·β`` have excess risks within a constant factor
  at matched sample counts (the temperature ``η/B`` is what matters to first order).
- **NSGD** (Corollary 1, variance-dominated regime): ``E‖g‖² ≈ C/B`` makes the effective SGD rate
  ``η √B / √C``, so the invariant is ``α·√β``.

On an NSGD family ``α√β = c`` the ``p``-parametrisation of docs/math.md#seesaw-rule is ``α = c^{1 − p/2}``,
``β = c^p``: ``p = 0`` is pure learning-rate decay, ``p = 1`` is Seesaw (``α = √β``, the most
aggressive ramp whose effective NSGD rate does not increase), ``p ∈ (1, 2]`` violates ``α ≥ √β``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from .._validate import finite_real
from .schedule import Schedule

__all__ = [
    "RELEASED_ALPHA_BETA",
    "family_invariant",
    "family_member",
    "family_members",
    "phase_schedule",
    "satisfies_ramp_bound",
]

OPTIMIZERS = ("sgd", "nsgd")

#: The (α, β) pairs of the released NSGD/Adam runs on the family α√β = 2 (docs/math.md#equivalence), in the order
#: p = 0, ½, 1, 3/2, 2. The last two violate α ≥ √β.
RELEASED_ALPHA_BETA: tuple[tuple[float, float], ...] = (
    (2.0, 1.0),
    (2.0**0.75, math.sqrt(2.0)),
    (math.sqrt(2.0), 2.0),
    (2.0**0.25, 2.0**1.5),
    (1.0, 4.0),
)

# Comparisons of α with √β are made up to this relative slack, so that (√2, 2) passes the bound
# it sits exactly on despite rounding.
_BOUND_RTOL = 1e-12


def _optimizer(optimizer: Any) -> str:
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r}")
    return optimizer


def _positive(value: Any, name: str) -> float:
    v = finite_real(value, name)
    if v <= 0:
        raise ValueError(f"{name} must be positive; got {v!r}")
    return v


def family_invariant(alpha: float, beta: float, optimizer: str = "sgd") -> float:
    """The quantity a family holds fixed: ``α·β`` for SGD, ``α·√β`` for NSGD.

    Examples
    --------
    >>> family_invariant(2.0, 1.0), family_invariant(1.0, 2.0)
    (2.0, 2.0)
    >>> round(family_invariant(math.sqrt(2), 2.0, "nsgd"), 12)
    2.0
    """
    alpha, beta = _positive(alpha, "alpha"), _positive(beta, "beta")
    return alpha * beta if _optimizer(optimizer) == "sgd" else alpha * math.sqrt(beta)


def family_member(
    c: float,
    *,
    beta: float | None = None,
    p: float | None = None,
    optimizer: str = "sgd",
) -> tuple[float, float]:
    """The member ``(α, β)`` of the family with invariant ``c``, given ``β`` or ``p`` (exactly one).

    Parameters
    ----------
    c : float
        The invariant (``αβ`` for SGD, ``α√β`` for NSGD); positive.
    beta : float, optional
        Batch growth per phase; then ``α = c/β`` (SGD) or ``α = c/√β`` (NSGD).
    p : float, optional
        Position on the family: ``β = c^p`` and ``α = c^{1−p}`` (SGD) or ``α = c^{1−p/2}`` (NSGD).
        ``p = 0`` is pure learning-rate decay; on the NSGD family ``p = 1`` is Seesaw.
    optimizer : {"sgd", "nsgd"}

    Examples
    --------
    >>> family_member(2.0, beta=2.0)
    (1.0, 2.0)
    >>> a, b = family_member(2.0, p=1.0, optimizer="nsgd")   # Seesaw
    >>> round(a, 12), b
    (1.414213562373, 2.0)
    """
    c = _positive(c, "c")
    optimizer = _optimizer(optimizer)
    if (beta is None) == (p is None):
        raise ValueError("give exactly one of beta= or p=")
    if p is not None:
        p = finite_real(p, "p")
        beta = c**p
        alpha = c ** (1.0 - p) if optimizer == "sgd" else c ** (1.0 - 0.5 * p)
        return alpha, beta
    beta = _positive(beta, "beta")
    return (c / beta if optimizer == "sgd" else c / math.sqrt(beta)), beta


def family_members(
    c: float,
    *,
    betas: Sequence[float] | None = None,
    ps: Sequence[float] | None = None,
    optimizer: str = "sgd",
) -> list[tuple[float, float]]:
    """Several members of one family (see :func:`family_member`), given ``betas`` or ``ps``.

    Examples
    --------
    >>> family_members(4.0, betas=[1, 2, 4])
    [(4.0, 1.0), (2.0, 2.0), (1.0, 4.0)]
    >>> [(round(a, 9), round(b, 9)) for a, b in family_members(2.0, ps=[0, 1, 2], optimizer="nsgd")]
    [(2.0, 1.0), (1.414213562, 2.0), (1.0, 4.0)]
    """
    if (betas is None) == (ps is None):
        raise ValueError("give exactly one of betas= or ps=")
    if betas is not None:
        return [family_member(c, beta=b, optimizer=optimizer) for b in betas]
    return [family_member(c, p=q, optimizer=optimizer) for q in ps]  # type: ignore[union-attr]


def satisfies_ramp_bound(alpha: float, beta: float) -> bool:
    """Whether ``α ≥ √β``: the NSGD effective rate ``η√B`` does not increase from phase to phase.

    docs/math.md#equivalence: the most aggressive stable ramp. Equality (Seesaw) passes, up to a relative
    ``1e-12`` of rounding.

    Examples
    --------
    >>> [satisfies_ramp_bound(a, b) for a, b in RELEASED_ALPHA_BETA]
    [True, True, True, False, False]
    """
    alpha, beta = _positive(alpha, "alpha"), _positive(beta, "beta")
    return alpha * (1.0 + _BOUND_RTOL) >= math.sqrt(beta)


def phase_schedule(
    lr0: float,
    batch0: float,
    alpha: float,
    beta: float,
    phase_samples: Sequence[float],
    *,
    integer_batch: bool = False,
    label: str = "",
) -> Schedule:
    """``(η_0 α^{−k}, B_0 β^k)`` on consecutive phases of ``phase_samples[k]`` samples.

    Parameters
    ----------
    lr0, batch0 : float
        ``η_0`` and ``B_0`` of phase 0.
    alpha, beta : float
        Learning-rate decay and batch growth per phase (positive).
    phase_samples : sequence of float
        Samples of each phase; the boundaries are their cumulative sums.
    integer_batch : bool, default False
        ``False`` keeps the exact real batches ``B_0 β^k`` (up to the step-count rounding of
        :meth:`Schedule.from_phases`); ``True`` requires every ``B_0 β^k`` to be an integer.
    label : str

    Examples
    --------
    >>> s = phase_schedule(1.0, 4, 2.0, 2.0, [16, 16])
    >>> s.lr.tolist(), s.batch.tolist()
    ([1.0, 1.0, 1.0, 1.0, 0.5, 0.5], [4.0, 4.0, 4.0, 4.0, 8.0, 8.0])
    >>> s.metadata["alpha"], s.metadata["phase_boundaries"]
    (2.0, (16.0, 32.0))
    """
    lr0, batch0 = _positive(lr0, "lr0"), _positive(batch0, "batch0")
    alpha, beta = _positive(alpha, "alpha"), _positive(beta, "beta")
    samples = [finite_real(d, f"phase_samples[{k}]") for k, d in enumerate(phase_samples)]
    if not samples:
        raise ValueError("phase_samples must not be empty")
    phases = [(lr0 * alpha**-k, batch0 * beta**k, d) for k, d in enumerate(samples)]
    bounds, acc = [], 0.0
    for d in samples:
        acc += d
        bounds.append(acc)
    meta = {"kind": "phase_family", "lr0": lr0, "batch0": batch0, "alpha": alpha, "beta": beta,
            "phase_samples": tuple(samples), "phase_boundaries": tuple(bounds)}
    return Schedule.from_phases(phases, label=label, metadata=meta, integer_batch=integer_batch)
