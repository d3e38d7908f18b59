"""Growth schedules: batch size and learning rate increased together by stages (docs/math.md#sfo-complexity).

- :func:`exponential_growth`: stage ``m`` at ``b_m = b₀δ^m``, ``η_m = η₀γ^m``;
- :func:`polynomial_growth`: ``b_m = b₀(m+1)^p``, ``η_m = η₀(m+1)^q``;
- :func:`stage_schedule`: any per-stage values. Stages are counted in **steps** (``stage_steps`` per
  stage, the setting of the theory) or in **epochs** of a dataset of ``n`` samples
  (``⌈E n / b_m⌉`` steps, so later stages take fewer steps — with ``γ < δ`` the sum ``Σ η`` then
  stays bounded while ``b_m ≤ n``; past that every stage still takes one step and ``Σ η`` grows
  again). Caps ``lr_cap`` (keep ``η < 2/L``) and ``batch_cap`` apply to every stage.
- :class:`AdaptiveRule`: the gradient-norm rule of Umeda & Iiduka (arXiv 2508.05302): every
  ``check_every`` steps, if the gradient norm is at most ``ε_m`` and the batch is below its cap, grow
  ``b ← δb``, ``η ← γη`` and set ``ε_{m+1} = ε₀ sqrt(b₀/b_{m+1})`` (as released: frozen at the cap,
  integer batches ``⌈b₀δ^m⌉``; docs/math.md#adaptive-rule). :meth:`AdaptiveRule.run` applies it to the *expected* dynamics
  of noisy linear regression, measuring ``sqrt(E‖∇f‖²) = sqrt(Σ λ² s)`` (the root-mean-square norm;
  a deterministic stand-in for the one noisy run of the paper, as NSGD's expected denominator is for
  the per-batch one), and returns the realised :class:`~theory.Schedule`.

:func:`sfo_exponent` is the numeric twin of :func:`proofs.growth_exponent` (theory never imports
proofs; the tests check that they agree).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .._limits import MAX_EXACT_INTEGER, MAX_INT64, MAX_STAGES, MAX_STEP_ARRAY
from .._validate import (
    check_range,
    describe,
    finite_real,
    flag,
    nonnegative_int,
    positive_int,
    strict_real_array,
)
from ..dynamics.problem import Problem
from ..dynamics.recursion import second_moment_step
from ..schedules._schedule import Schedule

__all__ = [
    "AdaptiveRule",
    "AdaptiveRun",
    "GrowthGrid",
    "exponential_growth",
    "growth_grid",
    "polynomial_growth",
    "polynomial_sfo_exponent",
    "sfo_exponent",
    "stage_schedule",
]


def _positive(value: Any, name: str) -> float:
    v = finite_real(value, name)
    if v <= 0:
        raise ValueError(f"{name} must be positive; got {v!r}")
    return v


def _optional_cap(value: Any, name: str) -> float | None:
    return None if value is None else _positive(value, name)


def _power(base: float, exponent: float) -> float:
    """``base**exponent`` in float64, ``inf`` on overflow (Python raises OverflowError instead)."""
    try:
        return base**exponent
    except OverflowError:
        return math.inf


def _stage_list(values: Any, name: str, *, minimum: float, strict: bool) -> list[float]:
    arr = strict_real_array(values, name)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of per-stage values; got {describe(values)}")
    if arr.shape[0] > MAX_STAGES:
        raise ValueError(f"{name} may hold at most MAX_STAGES = {MAX_STAGES} stages; got {arr.shape[0]}")
    out = arr.tolist()
    for m, v in enumerate(out):
        if not math.isfinite(v):
            raise ValueError(f"{name}[{m}] must be finite; got {v!r}")
        if strict and v <= minimum:
            raise ValueError(f"{name}[{m}] must be positive; got {v!r}")
        if v < minimum:
            raise ValueError(f"{name}[{m}] must be ≥ {minimum}; got {v!r}")
    return out


def _build_stages(lr_vals: list[float], b_vals: list[float], *, context: str, batch_name: str,
                  stage_steps: Any, stage_epochs: Any, dataset_size: Any, lr_cap: Any, batch_cap: Any,
                  integer_batch: Any, label: Any, metadata: Any, extra_meta: dict | None = None) -> Schedule:
    """Apply caps and rounding to per-stage values, count steps, and build the segment schedule.

    ``context`` names the caller's arguments in errors about the derived stage values; ``batch_name``
    says how a stage's batch is called there (``"batches[m]"``, ``"batch0 * delta**m"``).
    """
    lr_cap, batch_cap = _optional_cap(lr_cap, "lr_cap"), _optional_cap(batch_cap, "batch_cap")
    if batch_cap is not None and batch_cap < 1:
        raise ValueError(f"batch_cap must be ≥ 1; got {describe(batch_cap)}")
    integer_batch = flag(integer_batch, "integer_batch")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping (dict) or None; got {describe(metadata)}")
    if not isinstance(label, str):
        raise TypeError(f"label must be a string; got {describe(label)}")
    if (stage_steps is None) == (stage_epochs is None):
        raise ValueError("give exactly one of stage_steps= or stage_epochs=")
    lr_vals = [min(v, lr_cap) if lr_cap is not None else v for v in lr_vals]
    b_vals = [min(v, batch_cap) if batch_cap is not None else v for v in b_vals]
    for m, v in enumerate(lr_vals):
        if not math.isfinite(v):
            raise ValueError(f"the learning rate of stage m = {m} overflows float64 {context}; pass lr_cap= or "
                             f"fewer stages")
    for m, v in enumerate(b_vals):
        if not math.isfinite(v):
            raise ValueError(f"{batch_name} overflows float64 at stage m = {m} {context}; pass batch_cap= or "
                             f"fewer stages")
        if v < 1:
            raise ValueError(f"{batch_name} = {v!r} falls below 1 at stage m = {m} {context}")
    if integer_batch:
        b_vals = [float(max(1, math.floor(v + 0.5))) for v in b_vals]
        for m, v in enumerate(b_vals):
            if v > MAX_EXACT_INTEGER:
                raise ValueError(f"{batch_name} = {v:.6g} at stage m = {m} exceeds 2**53, the limit for integer "
                                 f"batches {context}; pass batch_cap=, fewer stages, or integer_batch=False")
    if stage_steps is not None:
        per_stage = positive_int(stage_steps, "stage_steps")
        n_steps = [per_stage] * len(lr_vals)
        if per_stage * len(lr_vals) > MAX_INT64:
            raise ValueError(f"stage_steps × stages = {per_stage} × {len(lr_vals)} exceeds 2**63 − 1 steps")
        counting = "steps"
    else:
        epochs = _positive(stage_epochs, "stage_epochs")
        if dataset_size is None:
            raise ValueError("stage_epochs needs dataset_size=")
        n = _positive(dataset_size, "dataset_size")
        # A whole number of epochs' samples rounded up to whole steps (1e-12 guards exact multiples).
        n_steps = []
        for b in b_vals:
            k = epochs * n / b * (1 - 1e-12)
            if not k < MAX_INT64:
                raise ValueError(f"stage_epochs × dataset_size / batch = {epochs!r} × {n!r} / {b!r} steps exceeds "
                                 f"2**63 − 1 (stage_epochs={describe(stage_epochs)}, "
                                 f"dataset_size={describe(dataset_size)})")
            n_steps.append(max(1, math.ceil(k)))
        if sum(n_steps) > MAX_INT64:
            raise ValueError(f"the stages add up to {sum(n_steps)} steps, more than 2**63 − 1 "
                             f"(stage_epochs={describe(stage_epochs)}, dataset_size={describe(dataset_size)})")
        counting = "epochs"
    if integer_batch:
        total = sum(int(b) * k for b, k in zip(b_vals, n_steps))
        if total > MAX_INT64:
            where = "stage_steps" if counting == "steps" else "stage_epochs, dataset_size"
            raise ValueError(f"the schedule would consume {total} samples, more than 2**63 − 1 ({where} and "
                             f"{batch_name} {context}); use fewer stages or steps, or integer_batch=False")
    starts, acc = [], 0
    for k in n_steps:
        starts.append(acc)
        acc += k
    meta = {"counting": counting, "stage_lr": tuple(lr_vals), "stage_batch": tuple(b_vals),
            "stage_steps": tuple(int(k) for k in n_steps), "stage_starts": tuple(starts),
            "lr_cap": lr_cap, "batch_cap": batch_cap}
    if counting == "epochs":
        meta.update(stage_epochs=stage_epochs, dataset_size=dataset_size)
    meta.update(extra_meta or {})
    meta.update(metadata or {})
    return Schedule.from_segments(lr_vals, b_vals, n_steps, label=label, metadata=meta,
                                  integer_batch=integer_batch)


def sfo_exponent(gamma: float, delta: float) -> float:
    """The master bound's ε-exponent of the SFO complexity of exponential growth (norm convention).

    ``2 ln δ/(ln δ − ln γ)`` for ``γ < δ < γ²``, ``2 ln δ/ln γ`` for ``δ ≥ γ²`` (4 on the ridge
    ``δ = γ²``), ``inf`` when ``γ ≤ 1`` or ``δ ≤ γ`` (no polynomial rate). These exponents and the
    ridge as their minimum are this library's reconstruction from the bound (the papers print the
    guideline ``δ ≈ γ²``; docs/math.md#attribution); within the bound the ridge only matches the
    constant-critical-batch order ``ε^{−4}`` up to ``ln²(1/ε)``. ``ramplab proofs`` derives them
    and checks this function at sample points (docs/math.md#growth-schedules); what the exact
    dynamics measure is :func:`~theory.measure_growth_exponent`.

    Parameters
    ----------
    gamma, delta : float
        Learning-rate and batch growth factors per stage (positive).

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        For a non-positive, non-finite or non-real factor, naming it.

    Examples
    --------
    >>> round(sfo_exponent(1.4, 2.0), 3), sfo_exponent(1.5, 2.25), sfo_exponent(1.2, 1.1)
    (4.12, 4.0, inf)
    """
    g, d = _positive(gamma, "gamma"), _positive(delta, "delta")
    if g <= 1.0 or d <= g:
        return math.inf
    x = math.log(d) / math.log(g)
    return 2.0 * x / (x - 1.0) if x < 2.0 else 2.0 * x


def polynomial_sfo_exponent(p: float, q: float) -> float:
    """The bound's ε-exponent ``2(p+1)/min(q+1, p−q)`` of polynomial growth (``inf`` for ``p ≤ q``).

    A reconstruction within the master bound, minimal (4) at ``p = 2q + 1`` (docs/math.md#attribution);
    ``ramplab proofs`` derives it and checks this function at sample points
    (docs/math.md#growth-schedules).

    Parameters
    ----------
    p, q : float
        Batch and learning-rate growth powers, ``p > 0``, ``q ≥ 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        For an argument out of its domain or not a real number, naming it.

    Examples
    --------
    >>> polynomial_sfo_exponent(1.0, 0.0), polynomial_sfo_exponent(2.0, 0.0)
    (4.0, 6.0)
    """
    p = _positive(p, "p")
    q = finite_real(q, "q", minimum=0.0)
    if p <= q:
        return math.inf
    return 2.0 * (p + 1.0) / min(q + 1.0, p - q)


def stage_schedule(
    lrs: Sequence[float],
    batches: Sequence[float],
    *,
    stage_steps: int | None = None,
    stage_epochs: float | None = None,
    dataset_size: float | None = None,
    lr_cap: float | None = None,
    batch_cap: float | None = None,
    integer_batch: bool = False,
    label: str = "",
    metadata: dict | None = None,
) -> Schedule:
    """A schedule held constant within stages, ``(lrs[m], batches[m])`` for stage ``m``.

    Parameters
    ----------
    lrs, batches : sequence of float
        Per-stage values before capping (same length).
    stage_steps : int, optional
        Steps per stage (exactly one of ``stage_steps`` and ``stage_epochs``).
    stage_epochs, dataset_size : float, optional
        Epochs per stage over ``dataset_size`` samples: stage ``m`` takes ``⌈E n / b_m⌉`` steps.
    lr_cap, batch_cap : float, optional
        Upper limits applied to every stage.
    integer_batch : bool
        Round batches to the nearest integer (``Schedule`` then stores int64).
    label : str
    metadata : dict, optional
        Extra entries merged into the schedule's metadata.

    Returns
    -------
    Schedule
        Stage ``m`` repeated for its length (docs/math.md#growth-schedules).

    Raises
    ------
    ValueError
        For lists of different lengths or empty ones, a non-positive rate, a batch below 1, both or
        neither stage length given, or a non-positive cap.
    TypeError
        For entries that are not real numbers.

    Examples
    --------
    >>> s = stage_schedule([0.1, 0.2], [4, 8], stage_steps=2)
    >>> s.lr.tolist(), s.batch.tolist()
    ([0.1, 0.1, 0.2, 0.2], [4.0, 4.0, 8.0, 8.0])
    >>> stage_schedule([0.1, 0.2], [4, 8], stage_epochs=1, dataset_size=16).batch.tolist()
    [4.0, 4.0, 4.0, 4.0, 8.0, 8.0]
    """
    lr_vals = _stage_list(lrs, "lrs", minimum=0.0, strict=True)
    b_vals = _stage_list(batches, "batches", minimum=1.0, strict=False)
    if len(lr_vals) != len(b_vals):
        raise ValueError(
            f"lrs and batches must be non-empty and of equal length; got {len(lr_vals)} and {len(b_vals)}")
    return _build_stages(lr_vals, b_vals, context="", batch_name="batches[m]", stage_steps=stage_steps,
                         stage_epochs=stage_epochs, dataset_size=dataset_size, lr_cap=lr_cap, batch_cap=batch_cap,
                         integer_batch=integer_batch, label=label, metadata=metadata)


def exponential_growth(
    lr0: float,
    batch0: float,
    gamma: float,
    delta: float,
    stages: int,
    **kw: Any,
) -> Schedule:
    """Stages ``m = 0 … stages−1`` at ``η₀γ^m`` and ``b₀δ^m`` (keywords as in :func:`stage_schedule`).

    docs/math.md#growth-schedules.

    Parameters
    ----------
    lr0 : float
        ``η₀ > 0``, the learning rate of stage 0.
    batch0 : float
        ``b₀ ≥ 1``, the batch size (samples per step) of stage 0.
    gamma, delta : float
        Growth factors per stage of the learning rate and the batch (positive).
    stages : int
        Number of stages.
    **kw
        Stage length (``stage_steps``, or ``stage_epochs`` and ``dataset_size``), caps,
        ``integer_batch``, ``label``: as in :func:`stage_schedule`.

    Returns
    -------
    Schedule
        ``stages`` stages of constant ``(η, b)``, with the growth parameters in its metadata.

    Raises
    ------
    ValueError
        For a non-positive rate or factor, a batch below 1, a non-positive ``stages``, a bad stage
        length, or a value beyond float64.
    TypeError
        For a number that is not real.

    Examples
    --------
    >>> s = exponential_growth(0.1, 8, 1.4, 2.0, 3, stage_steps=2, batch_cap=24)
    >>> s.lr.round(3).tolist(), s.batch.tolist()
    ([0.1, 0.1, 0.14, 0.14, 0.196, 0.196], [8.0, 8.0, 16.0, 16.0, 24.0, 24.0])
    >>> s.metadata["kind"], s.metadata["gamma"], s.metadata["stage_starts"]
    ('exponential_growth', 1.4, (0, 2, 4))
    """
    lr0, batch0 = _positive(lr0, "lr0"), finite_real(batch0, "batch0", minimum=1.0)
    gamma, delta = _positive(gamma, "gamma"), _positive(delta, "delta")
    stages = positive_int(stages, "stages", maximum=MAX_STAGES)
    meta = {"kind": "exponential_growth", "lr0": lr0, "batch0": batch0, "gamma": gamma, "delta": delta,
            "stages": stages}
    context = f"(lr0={lr0!r}, batch0={batch0!r}, gamma={gamma!r}, delta={delta!r}, stages={stages})"
    return _grown(kw, [lr0 * _power(gamma, m) for m in range(stages)],
                  [batch0 * _power(delta, m) for m in range(stages)], context, "batch0 * delta**m", meta)


def _grown(kw: dict, lr_vals: list[float], b_vals: list[float], context: str, batch_name: str,
           meta: dict) -> Schedule:
    options = {"stage_steps": None, "stage_epochs": None, "dataset_size": None, "lr_cap": None,
               "batch_cap": None, "integer_batch": False, "label": "", "metadata": None}
    unknown = sorted(set(kw) - set(options))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {unknown}; known: {sorted(options)}")
    options.update(kw)
    return _build_stages(lr_vals, b_vals, context=context, batch_name=batch_name, extra_meta=meta, **options)


def polynomial_growth(
    lr0: float,
    batch0: float,
    p: float,
    q: float,
    stages: int,
    **kw: Any,
) -> Schedule:
    """Stages ``m = 0 … stages−1`` at ``η₀(m+1)^q`` and ``b₀(m+1)^p`` (keywords as in :func:`stage_schedule`).

    docs/math.md#growth-schedules.

    Parameters
    ----------
    lr0 : float
        ``η₀ > 0``, the learning rate of stage 0.
    batch0 : float
        ``b₀ ≥ 1``, the batch size (samples per step) of stage 0.
    p, q : float
        Polynomial degrees (``≥ 0``) of the batch and the learning rate in the stage index.
    stages : int
        Number of stages.
    **kw
        Stage length, caps, ``integer_batch``, ``label``: as in :func:`stage_schedule`.

    Returns
    -------
    Schedule
        ``stages`` stages of constant ``(η, b)``, with the growth parameters in its metadata.

    Raises
    ------
    ValueError
        For a non-positive rate or factor, a batch below 1, a non-positive ``stages``, a bad stage
        length, or a value beyond float64.
    TypeError
        For a number that is not real.

    Examples
    --------
    >>> polynomial_growth(0.1, 2, 1.0, 0.0, 3, stage_steps=1).batch.tolist()
    [2.0, 4.0, 6.0]
    """
    lr0, batch0 = _positive(lr0, "lr0"), finite_real(batch0, "batch0", minimum=1.0)
    p, q = finite_real(p, "p", minimum=0.0), finite_real(q, "q", minimum=0.0)
    stages = positive_int(stages, "stages", maximum=MAX_STAGES)
    meta = {"kind": "polynomial_growth", "lr0": lr0, "batch0": batch0, "p": p, "q": q, "stages": stages}
    context = f"(lr0={lr0!r}, batch0={batch0!r}, p={p!r}, q={q!r}, stages={stages})"
    return _grown(kw, [lr0 * _power(float(m + 1), q) for m in range(stages)],
                  [batch0 * _power(float(m + 1), p) for m in range(stages)], context, "batch0 * (m+1)**p", meta)


@dataclass(frozen=True, eq=False)
class AdaptiveRun:
    """The adaptive rule applied to the expected dynamics.

    Attributes
    ----------
    rule : AdaptiveRule
    schedule : Schedule
        The realised per-step ``(η, b)``; ``expected_risk`` on it reproduces the run.
    check_steps : ndarray of int
        Steps after which the gradient norm was measured.
    gradient_norms : ndarray
        ``sqrt(Σλ²s)`` at those checks.
    thresholds : ndarray
        ``ε_m`` in force at each check.
    stages : ndarray of int
        Stage after each check.
    risk : ndarray
        Excess risk after each step, ``risk[0]`` the initial one.

    Examples
    --------
    >>> p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.1)
    >>> run = AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=50).run(p, 200)
    >>> run.check_steps.tolist(), run.risk.shape
    ([50, 100, 150, 200], (201,))
    """

    rule: "AdaptiveRule"
    schedule: Schedule
    check_steps: np.ndarray
    gradient_norms: np.ndarray
    thresholds: np.ndarray
    stages: np.ndarray
    risk: np.ndarray

    @property
    def switch_steps(self) -> np.ndarray:
        """Steps after which the stage advanced."""
        before = np.concatenate([[0], self.stages[:-1]])
        return self.check_steps[self.stages > before]


@dataclass(frozen=True)
class AdaptiveRule:
    """Gradient-norm-triggered growth of batch and learning rate (Umeda & Iiduka, arXiv 2508.05302).

    Every ``check_every`` steps the gradient norm is measured; if it is at most ``ε_m`` **and the
    batch is still below its cap**, the rule moves to stage ``m + 1``: ``b ← δb`` (capped),
    ``η ← γη``, ``ε_{m+1} = ε₀ sqrt(b₀/b_{m+1})`` (docs/math.md#adaptive-rule). Defaults are the
    released ones: ``δ = 2``, ``γ = 1.4``, ``ε₀ = 0.5``, ``b₀ = 8``, ``η₀ = 0.1``, a check every 1000
    steps, ``b_max = 4096``; as in the released code, the rule stops triggering once the batch has
    reached ``b_max`` (with these defaults at stage 9: ``b = 4096``, ``η = 0.1·1.4⁹ ≈ 2.07``), and
    integer batches are ``⌈b₀δ^m⌉``.

    Parameters
    ----------
    lr0, batch0 : float
        ``η₀ > 0`` and ``b₀ ≥ 1`` (samples).
    gamma, delta : float
        Growth factors per stage, ``γ > 0``, ``δ ≥ 1``.
    epsilon0 : float
        ``ε₀ > 0``, the stage-0 threshold on the gradient norm.
    check_every : int
        Steps between checks.
    batch_cap : float or None
        ``b_max ≥ b₀`` (samples); ``None`` for none. With ``integer_batch`` no batch exceeds it:
        batches are ``min(⌈b₀δ^m⌉, ⌊b_max⌋)``, the released ``min(⌈b₀δ^m⌉, b_max)`` for an integer
        ``b_max``.
    lr_cap : float or None
        Not in the released rule: an upper limit on ``η`` (``None``, the default, as released).
    integer_batch : bool
        Batches ``⌈b₀δ^m⌉`` (the released rounding) instead of real ``b₀δ^m``.
    freeze_at_cap : bool, default True
        ``True`` (released): no stage advances once the batch is at ``batch_cap``. ``False`` is *not*
        the released rule: stages keep advancing, so ``η`` keeps growing by ``γ`` at the capped batch
        (and with a small cap the run eventually diverges).

    Raises
    ------
    ValueError, TypeError
        For an argument out of its domain or of the wrong kind, naming it; ``ValueError`` naming
        ``batch_cap`` for ``batch_cap < batch0`` (or, with ``integer_batch``, no integer in
        ``[batch0, batch_cap]``).

    Examples
    --------
    >>> rule = AdaptiveRule(check_every=10)
    >>> lr, batch = rule.stage_values(3)                     # η₀γ³, b₀δ³
    >>> round(lr, 6), batch, round(rule.threshold(3), 6)     # ε₃ = 0.5·sqrt(8/64)
    (0.2744, 64.0, 0.176777)
    >>> rule.next_stage(0, 0.6), rule.next_stage(0, 0.4)
    (0, 1)
    >>> rule.next_stage(9, 0.0), round(rule.stage_values(9)[0], 2)   # b = 4096 = b_max: frozen
    (9, 2.07)
    >>> [AdaptiveRule(batch0=5, delta=1.5, integer_batch=True).stage_values(m)[1] for m in range(5)]
    [5.0, 8.0, 12.0, 17.0, 26.0]
    >>> [AdaptiveRule(batch0=5, delta=1.5, integer_batch=True, batch_cap=10.5).stage_values(m)[1] for m in range(4)]
    [5.0, 8.0, 10.0, 10.0]
    """

    lr0: float = 0.1
    batch0: float = 8.0
    gamma: float = 1.4
    delta: float = 2.0
    epsilon0: float = 0.5
    check_every: int = 1000
    batch_cap: float | None = 4096.0
    lr_cap: float | None = None
    integer_batch: bool = False
    freeze_at_cap: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr0", _positive(self.lr0, "lr0"))
        object.__setattr__(self, "batch0", finite_real(self.batch0, "batch0", minimum=1.0))
        object.__setattr__(self, "gamma", _positive(self.gamma, "gamma"))
        object.__setattr__(self, "delta", _positive(self.delta, "delta"))
        object.__setattr__(self, "epsilon0", _positive(self.epsilon0, "epsilon0"))
        object.__setattr__(self, "check_every", positive_int(self.check_every, "check_every"))
        object.__setattr__(self, "batch_cap", _optional_cap(self.batch_cap, "batch_cap"))
        object.__setattr__(self, "lr_cap", _optional_cap(self.lr_cap, "lr_cap"))
        object.__setattr__(self, "integer_batch", flag(self.integer_batch, "integer_batch"))
        object.__setattr__(self, "freeze_at_cap", flag(self.freeze_at_cap, "freeze_at_cap"))
        if self.delta < 1:
            raise ValueError(f"delta must be ≥ 1 (the rule grows the batch); got {self.delta!r}")
        if self.batch_cap is not None and self.batch_cap < 1:
            raise ValueError(f"batch_cap must be ≥ 1; got {self.batch_cap!r}")
        if self.batch_cap is not None and self.batch_cap < self.batch0:
            raise ValueError(f"batch_cap must be ≥ batch0 (the rule only grows the batch); got "
                             f"batch_cap={self.batch_cap!r} < batch0={self.batch0!r}")
        if self.integer_batch and self.batch_cap is not None and math.floor(self.batch_cap) < math.ceil(self.batch0):
            raise ValueError(f"batch_cap must admit an integer batch ≥ batch0 with integer_batch=True; got "
                             f"batch_cap={self.batch_cap!r}, batch0={self.batch0!r}")

    def _batch_limit(self) -> float | None:
        """The largest batch a stage may use: ``b_max``, or ``⌊b_max⌋`` for integer batches."""
        if self.batch_cap is None:
            return None
        return float(math.floor(self.batch_cap)) if self.integer_batch else self.batch_cap

    def _stage_batch(self, m: int) -> float:
        """``b_m``: ``min(b₀δ^m, b_max)``, or ``min(⌈b₀δ^m⌉, ⌊b_max⌋)`` for integer batches."""
        batch = self.batch0 * _power(self.delta, m)
        limit = self._batch_limit()
        if limit is not None:
            batch = min(batch, limit)
        if not math.isfinite(batch):
            raise ValueError(f"batch0 * delta**stage overflows float64 at stage={m} (batch0={self.batch0!r}, "
                             f"delta={self.delta!r}); set batch_cap")
        if self.integer_batch:
            if batch > MAX_EXACT_INTEGER:
                raise ValueError(f"batch0 * delta**stage = {batch:.6g} exceeds 2**53, the limit for integer "
                                 f"batches, at stage={m}; set batch_cap or integer_batch=False")
            # ⌈·⌉ then the cap, as released; the limit ⌊b_max⌋ is an integer, so capping before the
            # ceiling gives the same batch.
            batch = float(math.ceil(batch))
        return batch

    def stage_values(self, stage: int) -> tuple[float, float]:
        """``(η_m, b_m)`` of stage ``m``: ``η₀γ^m`` and ``b₀δ^m`` after caps (``⌈·⌉`` for integer batches).

        With ``freeze_at_cap`` (the default) :meth:`run` never goes past the first stage whose
        batch is at the cap; this method still answers for any ``m``.

        Parameters
        ----------
        stage : int
            ``m ≥ 0``.

        Returns
        -------
        lr, batch : float

        Raises
        ------
        ValueError
            If ``stage`` is not a non-negative integer, or the uncapped rate or batch of that stage
            overflows float64 (or an integer batch exceeds 2**53).

        Examples
        --------
        >>> lr, batch = AdaptiveRule(batch0=5, delta=1.5, integer_batch=True, batch_cap=20).stage_values(4)
        >>> round(lr, 4), batch                       # 0.1·1.4⁴; ⌈25.3⌉ = 26 capped at 20
        (0.3842, 20.0)
        """
        m = nonnegative_int(stage, "stage")
        lr = self.lr0 * _power(self.gamma, m)
        if self.lr_cap is not None:
            lr = min(lr, self.lr_cap)
        if not math.isfinite(lr):
            raise ValueError(f"lr0 * gamma**stage overflows float64 at stage={m} (lr0={self.lr0!r}, "
                             f"gamma={self.gamma!r}); set lr_cap")
        return lr, self._stage_batch(m)

    def frozen(self, stage: int) -> bool:
        """Whether the rule stays at ``stage`` whatever it measures (``freeze_at_cap`` and ``b_m`` at the cap).

        Parameters
        ----------
        stage : int
            ``m ≥ 0``.

        Returns
        -------
        bool

        Raises
        ------
        ValueError
            For a negative ``stage``, or where the batch of that stage overflows float64 (or an
            integer batch exceeds 2**53); not where only the rate does.

        Examples
        --------
        >>> AdaptiveRule().frozen(8), AdaptiveRule().frozen(9), AdaptiveRule(freeze_at_cap=False).frozen(9)
        (False, True, False)
        """
        m = nonnegative_int(stage, "stage")
        limit = self._batch_limit()
        return bool(self.freeze_at_cap and limit is not None and self._stage_batch(m) >= limit)

    def threshold(self, stage: int) -> float:
        """``ε_m = ε₀ sqrt(b₀/b_m)`` with the stage's (capped, rounded) batch ``b_m``.

        Parameters
        ----------
        stage : int
            Stage index ``m ≥ 0``.

        Returns
        -------
        float
            The gradient-norm threshold of stage ``m`` (docs/math.md#adaptive-rule).

        Raises
        ------
        ValueError
            For a negative ``stage``, or where the batch of that stage overflows float64 (or an
            integer batch exceeds 2**53). The rate does not enter: an ``η₀γ^m`` that overflows does
            not raise here.
        TypeError
            For a ``stage`` that is not an integer.

        Examples
        --------
        >>> round(AdaptiveRule().threshold(3), 6), round(AdaptiveRule(batch_cap=None, delta=1.0).threshold(10_000), 6)
        (0.176777, 0.5)
        """
        return self.epsilon0 * math.sqrt(self.batch0 / self._stage_batch(nonnegative_int(stage, "stage")))

    def next_stage(self, stage: int, gradient_norm: float) -> int:
        """Stage after a check that measured ``gradient_norm``: ``m + 1`` if it is ``≤ ε_m`` and the
        rule is not :meth:`frozen` at ``m``, else ``m``.

        Parameters
        ----------
        stage : int
            Current stage ``m ≥ 0``.
        gradient_norm : float
            Measured ``‖∇f‖ ≥ 0`` (docs/math.md#adaptive-rule).

        Returns
        -------
        int
            The stage after the check.

        Raises
        ------
        ValueError
            For a negative ``stage`` or a negative or non-finite ``gradient_norm``.
        TypeError
            For arguments that are not numbers of the right kind.
        """
        m = nonnegative_int(stage, "stage")
        norm = finite_real(gradient_norm, "gradient_norm", minimum=0.0)
        return m + 1 if norm <= self.threshold(m) and not self.frozen(m) else m

    def run(self, problem: Problem, steps: int) -> AdaptiveRun:
        """Apply the rule for ``steps`` steps of exact expected SGD on ``problem``.

        The gradient norm at each check is the exact ``sqrt(Σ λ² s)`` of the expected dynamics
        (docs/math.md#adaptive-rule, docs/math.md#sgd-second-moment-recursion).

        Parameters
        ----------
        problem : Problem
        steps : int
            Steps to run, at most ``MAX_STEP_ARRAY``.

        Returns
        -------
        AdaptiveRun
            The realised schedule, the checks and the risk after every step.

        Raises
        ------
        ValueError
            For a non-positive ``steps`` or more than ``MAX_STEP_ARRAY``.
        TypeError
            For a ``problem`` that is not a :class:`Problem`.
        DivergenceError
            If the risk leaves float64.

        Examples
        --------
        >>> p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.1)
        >>> run = AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=20).run(p, 200)
        >>> run.schedule.serial_steps, bool(run.stages[-1] >= 1)
        (200, True)
        """
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
        if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool) and steps > MAX_STEP_ARRAY:
            raise ValueError(f"steps must be ≤ MAX_STEP_ARRAY = {MAX_STEP_ARRAY}: the run records per-step "
                             f"rates, batches and risks; got steps={steps}")
        steps = positive_int(steps, "steps", maximum=MAX_STEP_ARRAY)
        lam = problem.eigenvalues
        weight = problem.multiplicity * lam  # reductions count each coordinate m_i times (docs/math.md#multiplicity)
        s = problem.initial_second_moment.copy()
        stage = 0
        lrs, batches = np.empty(steps), np.empty(steps)
        risk = np.empty(steps + 1)
        risk[0] = 0.5 * float(weight @ s)
        checks, norms, thresholds, stages = [], [], [], []
        lr, batch = self.stage_values(stage)
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(steps):
                lrs[t], batches[t] = lr, batch
                s = second_moment_step(s, lam, lr, batch, problem.noise_variance, problem.kurtosis,
                                       q=float(weight @ s), xp=np)
                risk[t + 1] = 0.5 * float(weight @ s)
                if not math.isfinite(risk[t + 1]):
                    from ..dynamics.recursion import DivergenceError

                    raise DivergenceError(t + 1, 0, "adaptive")
                if (t + 1) % self.check_every == 0:
                    norm = math.sqrt(float((weight * lam) @ s))
                    checks.append(t + 1)
                    norms.append(norm)
                    thresholds.append(self.threshold(stage))
                    stage = self.next_stage(stage, norm)
                    stages.append(stage)
                    lr, batch = self.stage_values(stage)
        schedule = Schedule(lrs, batches, label="adaptive", integer_batch=self.integer_batch,
                            metadata={"kind": "adaptive_growth", "rule": self})
        return AdaptiveRun(self, schedule, np.array(checks, dtype=int), np.array(norms), np.array(thresholds),
                           np.array(stages, dtype=int), risk)


@dataclass(frozen=True, eq=False)
class GrowthGrid:
    """Measured SFO-to-ε of exponential growth over a ``(γ, δ)`` grid, beside the predicted exponent.

    Attributes
    ----------
    gammas, deltas, epsilons : ndarray
    sfo : ndarray, shape (len(gammas), len(deltas), len(epsilons))
        Samples until ``E‖∇f‖² ≤ ε²`` (crossing located inside its step; ``inf`` if not reached).
    steps : ndarray, same shape
    predicted : ndarray, shape (len(gammas), len(deltas))
        :func:`sfo_exponent`.
    measured : ndarray, same shape
        Least-squares slope of ``ln N`` against ``ln(1/ε)`` over the reached tolerances (``nan``
        with fewer than two).
    capped : ndarray of bool, same shape
        Whether the learning-rate cap was already in force when the smallest tolerance was reached
        (the schedule then no longer grows η, unlike the theory's).
    settings : dict

    Examples
    --------
    >>> p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1.0)
    >>> g = growth_grid(p, [1.2], [1.44], [0.3, 0.15], lr0=0.01, stage_steps=20, stages=40)
    >>> g.sfo.shape, g.measured.shape
    ((1, 1, 2), (1, 1))
    """

    gammas: np.ndarray
    deltas: np.ndarray
    epsilons: np.ndarray
    sfo: np.ndarray
    steps: np.ndarray
    predicted: np.ndarray
    measured: np.ndarray
    capped: np.ndarray
    settings: dict


def growth_grid(
    problem: Problem,
    gammas: Sequence[float],
    deltas: Sequence[float],
    epsilons: Sequence[float],
    *,
    lr0: float,
    batch0: float = 1.0,
    stage_steps: int,
    stages: int,
    lr_cap: float | None = None,
    batch_cap: float | None = None,
) -> GrowthGrid:
    """Run every exponential-growth schedule of the grid to every tolerance, in one exact computation.

    ``lr_cap`` defaults to ``1/λ_1`` (the small-step convention; the bound needs ``η < 2/L`` and
    the recursion diverges beyond about that). Tolerances use the norm convention (target ``ε²``).
    docs/math.md#growth-schedules.

    Parameters
    ----------
    problem : Problem
    gammas, deltas : sequence of float
        Learning-rate and batch growth factors per stage (positive); one schedule per pair.
    epsilons : sequence of float
        Tolerances (positive); the target is ``E‖∇f‖² ≤ ε²``.
    lr0 : float
        ``η₀ > 0`` of stage 0.
    batch0 : float, default 1.0
        ``b₀ ≥ 1`` (samples per step) of stage 0.
    stage_steps : int
        Steps per stage.
    stages : int
        Stages per schedule.
    lr_cap, batch_cap : float, optional
        Caps on every stage's rate and batch (``lr_cap`` defaults to ``1/λ_1``).

    Returns
    -------
    GrowthGrid
        Samples and steps to every tolerance, the measured and predicted exponents.

    Raises
    ------
    ValueError
        For a non-positive factor, rate or tolerance, a batch below 1, or a bad count.
    TypeError
        For a ``problem`` that is not a :class:`Problem` or numbers that are not real.

    Examples
    --------
    >>> p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1.0)
    >>> g = growth_grid(p, [1.2], [1.44, 2.0], [0.3, 0.15], lr0=0.01, stage_steps=20, stages=40)
    >>> g.sfo.shape, g.predicted.round(2).tolist()
    ((1, 2, 2), [[4.0, 7.6]])
    """
    from .sfo import schedule_to_target

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    grids = {}
    for name, values in (("gammas", gammas), ("deltas", deltas), ("epsilons", epsilons)):
        arr = strict_real_array(values, name)
        if arr.ndim != 1 or arr.shape[0] == 0:
            raise ValueError(f"{name} must be a non-empty 1-D sequence; got {describe(values)}")
        grids[name] = check_range(arr, name, lower=0.0, strict=True, original=values)
    gammas, deltas, eps = grids["gammas"], grids["deltas"], grids["epsilons"]
    with np.errstate(over="ignore", under="ignore"):
        targets_eps = eps * eps
    if not np.all((targets_eps > 0) & np.isfinite(targets_eps)):
        i = int(np.argmax(~((targets_eps > 0) & np.isfinite(targets_eps))))
        raise ValueError(f"epsilons[{i}]**2 must be a positive finite float64; got epsilons[{i}] = {eps[i]!r}")
    cap = 1.0 / problem.largest_eigenvalue if lr_cap is None else _positive(lr_cap, "lr_cap")
    if not math.isfinite(cap):
        raise ValueError(f"the default lr_cap = 1/λ_1 overflows float64 for problem={problem!r}; pass lr_cap=")
    lr0 = _positive(lr0, "lr0")
    schedules, targets = [], []
    for g in gammas:
        for d in deltas:
            try:
                sched = exponential_growth(lr0, batch0, g, d, stages, stage_steps=stage_steps, lr_cap=cap,
                                           batch_cap=batch_cap)
            except ValueError as exc:
                raise ValueError(f"{exc} [from gammas entry {g!r}, deltas entry {d!r}]") from exc
            schedules += [sched] * eps.size
            targets += list(targets_eps)
    hit = schedule_to_target(problem, schedules, targets)
    shape = (gammas.size, deltas.size, eps.size)
    sfo = np.where(hit.reached, hit.fractional_samples, np.inf).reshape(shape)
    steps = np.where(hit.reached, hit.fractional_steps, np.inf).reshape(shape)
    predicted = np.array([[sfo_exponent(g, d) for d in deltas] for g in gammas])
    measured = np.full(shape[:2], np.nan)
    capped = np.zeros(shape[:2], dtype=bool)
    x = -np.log(eps)
    for i, g in enumerate(gammas):
        # First stage (0-based) whose rate reaches the cap.
        ratio = cap / lr0
        if cap <= lr0:
            cap_stage = 0.0
        elif g > 1 and math.isfinite(ratio) and math.isfinite(math.log(ratio) / math.log(g)):
            cap_stage = float(math.ceil(math.log(ratio) / math.log(g)))
        else:
            cap_stage = math.inf
        for j in range(deltas.size):
            ok = np.isfinite(sfo[i, j]) & (sfo[i, j] > 0)  # 0 samples: the start already qualifies
            if np.unique(x[ok]).size >= 2:  # a slope needs two distinct tolerances
                measured[i, j] = np.polyfit(x[ok], np.log(sfo[i, j, ok]), 1)[0]
            last = steps[i, j, ok][-1] if ok.any() else np.inf
            capped[i, j] = bool(math.isfinite(cap_stage) and last > cap_stage * stage_steps)
    settings = {"lr0": lr0, "batch0": batch0, "stage_steps": stage_steps, "stages": stages,
                "lr_cap": cap, "batch_cap": batch_cap, "stationarity": "norm"}
    return GrowthGrid(gammas, deltas, eps, sfo, steps, predicted, measured, capped, settings)
