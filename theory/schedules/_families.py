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

from .._limits import MAX_EXACT_INTEGER, MAX_INT64
from .._validate import choice, describe, finite_real, flag, strict_real_array
from ._schedule import Schedule

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
    return choice(optimizer, "optimizer", OPTIMIZERS)


def _finite_result(value: float, what: str, args: str) -> float:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{what} = {value!r} is not a positive finite float64 for {args}")
    return value


def _pow(base: float, exponent: float) -> float:
    try:
        return base**exponent
    except OverflowError:
        return math.inf


def _value_list(values: Any, name: str) -> list[float]:
    arr = strict_real_array(values, name)
    if arr.ndim == 1 and arr.shape[0] == 0:
        raise ValueError(f"{name} must not be empty")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a non-empty 1-D sequence; got {describe(values)}")
    return arr.tolist()


def _positive(value: Any, name: str) -> float:
    v = finite_real(value, name)
    if v <= 0:
        raise ValueError(f"{name} must be positive; got {v!r}")
    return v


def family_invariant(alpha: float, beta: float, optimizer: str = "sgd") -> float:
    """The quantity a family holds fixed: ``α·β`` for SGD, ``α·√β`` for NSGD.

    Parameters
    ----------
    alpha : float
        Learning-rate decay per phase (``η`` is divided by ``α``); positive.
    beta : float
        Batch growth per phase (``B`` is multiplied by ``β``); positive.
    optimizer : {"sgd", "nsgd"}, default "sgd"
        Which family (docs/math.md#equivalence).

    Returns
    -------
    float
        ``αβ`` (SGD) or ``α√β`` (NSGD).

    Examples
    --------
    >>> family_invariant(2.0, 1.0), family_invariant(1.0, 2.0)
    (2.0, 2.0)
    >>> round(family_invariant(math.sqrt(2), 2.0, "nsgd"), 12)
    2.0
    """
    a, b = _positive(alpha, "alpha"), _positive(beta, "beta")
    out = a * b if _optimizer(optimizer) == "sgd" else a * math.sqrt(b)
    return _finite_result(out, "the invariant", f"alpha={describe(alpha)}, beta={describe(beta)}")


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
        Which family, default ``"sgd"``.

    Returns
    -------
    alpha, beta : tuple of float
        The member's learning-rate decay and batch growth per phase.

    Raises
    ------
    ValueError
        Unless exactly one of ``beta`` and ``p`` is given, or for a non-positive ``c``/``beta``.

    Examples
    --------
    >>> family_member(2.0, beta=2.0)
    (1.0, 2.0)
    >>> a, b = family_member(2.0, p=1.0, optimizer="nsgd")   # Seesaw
    >>> round(a, 12), b
    (1.414213562373, 2.0)
    """
    c_in = c
    c = _positive(c, "c")
    optimizer = _optimizer(optimizer)
    if (beta is None) == (p is None):
        raise ValueError("give exactly one of beta= or p=")
    if p is not None:
        p_in = p
        p = finite_real(p, "p")
        args = f"c={describe(c_in)}, p={describe(p_in)}"
        power = (1.0 - p) if optimizer == "sgd" else (1.0 - 0.5 * p)
        b = _finite_result(_pow(c, p), "beta = c**p", args)
        a = _finite_result(_pow(c, power), "alpha", args)
        return a, b
    beta_in = beta
    beta = _positive(beta, "beta")
    a = c / beta if optimizer == "sgd" else c / math.sqrt(beta)
    return _finite_result(a, "alpha", f"c={describe(c_in)}, beta={describe(beta_in)}"), beta


def family_members(
    c: float,
    *,
    betas: Sequence[float] | None = None,
    ps: Sequence[float] | None = None,
    optimizer: str = "sgd",
) -> list[tuple[float, float]]:
    """Several members of one family (see :func:`family_member`), given ``betas`` or ``ps``.

    Parameters
    ----------
    c : float
        The invariant (``αβ`` for SGD, ``α√β`` for NSGD); positive.
    betas : sequence of float, optional
        Batch growths per phase, one member each.
    ps : sequence of float, optional
        Positions on the family (see :func:`family_member`), one member each.
    optimizer : {"sgd", "nsgd"}, default "sgd"
        Which family.

    Returns
    -------
    list of tuple of float
        ``[(α, β), …]`` in the order given.

    Raises
    ------
    ValueError
        Unless exactly one of ``betas`` and ``ps`` is given; an entry's error names its index.

    Examples
    --------
    >>> family_members(4.0, betas=[1, 2, 4])
    [(4.0, 1.0), (2.0, 2.0), (1.0, 4.0)]
    >>> [(round(a, 9), round(b, 9)) for a, b in family_members(2.0, ps=[0, 1, 2], optimizer="nsgd")]
    [(2.0, 1.0), (1.414213562, 2.0), (1.0, 4.0)]
    """
    if (betas is None) == (ps is None):
        raise ValueError("give exactly one of betas= or ps=")
    name, values = ("betas", betas) if betas is not None else ("ps", ps)
    out = []
    for k, v in enumerate(_value_list(values, name)):
        try:
            out.append(family_member(c, beta=v, optimizer=optimizer) if name == "betas"
                       else family_member(c, p=v, optimizer=optimizer))
        except ValueError as exc:
            if str(exc).startswith(("c ", "optimizer ")):
                raise
            raise ValueError(f"{name}[{k}]: {exc}") from exc
    return out


def satisfies_ramp_bound(alpha: float, beta: float) -> bool:
    """Whether ``α ≥ √β``: the NSGD effective rate ``η√B`` does not increase from phase to phase.

    docs/math.md#equivalence: the most aggressive stable ramp. Equality (Seesaw) passes, up to a relative
    ``1e-12`` of rounding.

    Parameters
    ----------
    alpha : float
        Learning-rate decay per phase; positive.
    beta : float
        Batch growth per phase; positive.

    Returns
    -------
    bool
        ``True`` when ``α ≥ √β`` (to the rounding tolerance).

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
        Name carried by the schedule (legends).

    Returns
    -------
    Schedule
        The phases in order, with ``metadata`` ``alpha``, ``beta`` and ``phase_boundaries``.

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
    integer_batch = flag(integer_batch, "integer_batch")
    if not isinstance(label, str):
        raise TypeError(f"label must be a string; got {describe(label)}")
    samples = _value_list(phase_samples, "phase_samples")
    for k, d in enumerate(samples):
        if not (math.isfinite(d) and d >= 1):
            raise ValueError(f"phase_samples[{k}] must be ≥ 1 and finite; got {d!r}")
        if integer_batch and not d.is_integer():
            raise ValueError(f"phase_samples[{k}] must be a whole number with integer_batch=True; got {d!r}")
    args = f"(lr0={lr0!r}, batch0={batch0!r}, alpha={alpha!r}, beta={beta!r}, {len(samples)} phases)"
    phases = []
    for k, d in enumerate(samples):
        try:
            lr = lr0 * alpha**-k
        except OverflowError:
            lr = math.inf
        try:
            b = batch0 * beta**k
        except OverflowError:
            b = math.inf
        if not math.isfinite(lr):
            raise ValueError(f"lr0 * alpha**-k overflows float64 at phase k = {k} {args}")
        if not math.isfinite(b):
            raise ValueError(f"batch0 * beta**k overflows float64 at phase k = {k} {args}")
        if b < 1:
            raise ValueError(f"batch0 * beta**k = {b!r} falls below 1 at phase k = {k} {args}")
        if integer_batch:
            if b > MAX_EXACT_INTEGER:
                raise ValueError(f"batch0 * beta**k = {b:.6g} exceeds 2**53, the limit for integer batches, at phase "
                                 f"k = {k} {args}; pass integer_batch=False")
            if not b.is_integer():
                raise ValueError(f"batch0 * beta**k = {b!r} is not an integer at phase k = {k} {args}; pass "
                                 f"integer_batch=False for real batches")
        steps = d / b if integer_batch else max(1.0, min(round(d / b), math.floor(d)))
        if steps > MAX_INT64:
            raise ValueError(f"phase_samples[{k}] = {d!r} at batch {b!r} is more than 2**63 − 1 steps {args}")
        phases.append((lr, b, d))
    total_steps = sum(d // b if integer_batch else max(1.0, min(round(d / b), math.floor(d))) for _, b, d in phases)
    if (integer_batch and sum(int(d) for d in samples) > MAX_INT64) or total_steps > MAX_INT64:
        raise ValueError(f"phase_samples add up to more than 2**63 − 1 samples or steps {args}")
    bounds, acc = [], 0.0
    for d in samples:
        acc += d
        bounds.append(acc)
    meta = {"kind": "phase_family", "lr0": lr0, "batch0": batch0, "alpha": alpha, "beta": beta,
            "phase_samples": tuple(samples), "phase_boundaries": tuple(bounds)}
    return Schedule.from_phases(phases, label=label, metadata=meta, integer_batch=integer_batch)
