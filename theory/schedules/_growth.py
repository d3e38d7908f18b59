"""Growth schedules: batch size and learning rate increased together by stages (docs/math.md#growth-schedules).

- :func:`exponential_growth`: stage ``m`` at ``b_m = b₀δ^m``, ``η_m = η₀γ^m``;
- :func:`polynomial_growth`: ``b_m = b₀(m+1)^p``, ``η_m = η₀(m+1)^q``;
- :func:`stage_schedule`: any per-stage values. Stages are counted in **steps** (``stage_steps`` per
  stage, the setting of the theory) or in **epochs** of a dataset of ``n`` samples
  (``⌈E n / b_m⌉`` steps, or per epoch with a partial or dropped last batch: ``epoch_remainder``; later stages take fewer steps — with ``γ < δ`` the sum ``Σ η`` then
  stays bounded while ``b_m ≤ n``; past that every stage still takes one step and ``Σ η`` grows
  again). Caps ``lr_cap`` (keep ``η < 2/L``) and ``batch_cap`` apply to every stage.

What the master bound predicts for them (the ε-exponents) and the adaptive rule are in
:mod:`ramplab.theory.complexity`.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from .._limits import MAX_EXACT_INTEGER, MAX_INT64, MAX_STAGES
from .._validate import (
    choice,
    describe,
    finite_real,
    flag,
    optional_positive_real,
    positive_int,
    positive_real,
    strict_real_array,
)
from ._schedule import Schedule

#: How a stage of ``E`` epochs ends each epoch (``stage_epochs=``): ``"round_up"`` counts ``⌈E n / b⌉`` full
#: batches per stage; ``"partial"`` takes ``⌈n / b⌉`` steps per epoch with a partial last batch, exactly ``E n``
#: samples per stage (a PyTorch DataLoader without ``drop_last``: the released trainer of arXiv 2409.08770);
#: ``"drop_last"`` takes ``⌊n / b⌋`` full batches per epoch and drops the rest (the released trainer of
#: arXiv 2508.05297, whose batch sampler drops the last partial batch).
EPOCH_REMAINDERS = ("round_up", "partial", "drop_last")
MAX_PARTIAL_EPOCHS = 100_000  # epochs × stages in "partial"/"drop_last" mode (up to two segments per epoch)

__all__ = ["exponential_growth", "polynomial_growth", "stage_schedule"]


def float_power(base: float, exponent: float) -> float:
    """``base**exponent`` in float64, ``inf`` on overflow (Python raises OverflowError instead).

    Package-internal: the stage values of growth schedules and of the adaptive rule.
    """
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
                  integer_batch: Any, label: Any, metadata: Any, epoch_remainder: Any = "round_up",
                  extra_meta: dict | None = None) -> Schedule:
    """Apply caps and rounding to per-stage values, count steps, and build the segment schedule.

    ``context`` names the caller's arguments in errors about the derived stage values; ``batch_name``
    says how a stage's batch is called there (``"batches[m]"``, ``"batch0 * delta**m"``).
    """
    lr_cap, batch_cap = optional_positive_real(lr_cap, "lr_cap"), optional_positive_real(batch_cap, "batch_cap")
    if batch_cap is not None and batch_cap < 1:
        raise ValueError(f"batch_cap must be ≥ 1; got {describe(batch_cap)}")
    integer_batch = flag(integer_batch, "integer_batch")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping (dict) or None; got {describe(metadata)}")
    if not isinstance(label, str):
        raise TypeError(f"label must be a string; got {describe(label)}")
    if (stage_steps is None) == (stage_epochs is None):
        raise ValueError("give exactly one of stage_steps= or stage_epochs=")
    epoch_remainder = choice(epoch_remainder, "epoch_remainder", EPOCH_REMAINDERS)
    if epoch_remainder != "round_up" and stage_epochs is None:
        raise ValueError(f"epoch_remainder={epoch_remainder!r} counts stages in epochs: pass stage_epochs= and "
                         f"dataset_size=")
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
        epochs = positive_real(stage_epochs, "stage_epochs")
        if dataset_size is None:
            raise ValueError("stage_epochs needs dataset_size=")
        n = positive_real(dataset_size, "dataset_size")
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
    seg_lr, seg_b, seg_steps = lr_vals, b_vals, n_steps
    if counting == "epochs" and epoch_remainder != "round_up":
        seg_lr, seg_b, seg_steps, n_steps = _partial_epochs(lr_vals, b_vals, stage_epochs, dataset_size,
                                                            drop_last=epoch_remainder == "drop_last")
    starts, acc = [], 0
    for k in n_steps:
        starts.append(acc)
        acc += k
    meta = {"counting": counting, "stage_lr": tuple(lr_vals), "stage_batch": tuple(b_vals),
            "stage_steps": tuple(int(k) for k in n_steps), "stage_starts": tuple(starts),
            "lr_cap": lr_cap, "batch_cap": batch_cap}
    if counting == "epochs":
        meta.update(stage_epochs=stage_epochs, dataset_size=dataset_size, epoch_remainder=epoch_remainder)
    meta.update(extra_meta or {})
    meta.update(metadata or {})
    return Schedule.from_segments(seg_lr, seg_b, seg_steps, label=label, metadata=meta,
                                  integer_batch=integer_batch)


def _partial_epochs(lr_vals: list[float], b_vals: list[float], stage_epochs: Any,
                    dataset_size: Any, drop_last: bool = False) -> tuple[list[float], list[float], list[int], list[int]]:
    """Segments of stages of ``E`` whole epochs, each ``⌈n/b⌉`` steps with a partial last batch ``n − (⌈n/b⌉−1)b``.

    Exactly ``E n`` samples per stage, as a data loader without ``drop_last`` draws them (the released
    trainer of arXiv 2409.08770). With ``drop_last``: ``⌊n/b⌋`` full batches per epoch, the rest dropped (the
    released trainer of arXiv 2508.05297). Returns the segments and the steps per stage.
    """
    mode = "drop_last" if drop_last else "partial"
    n = dataset_size
    if not (float(n).is_integer() and float(stage_epochs).is_integer()):
        raise ValueError(f"epoch_remainder={mode!r} needs whole numbers of epochs and samples; got "
                         f"stage_epochs={describe(stage_epochs)}, dataset_size={describe(dataset_size)}")
    n, epochs = int(n), int(stage_epochs)
    if epochs * len(b_vals) > MAX_PARTIAL_EPOCHS:
        raise ValueError(f"epoch_remainder={mode!r} builds one segment pair per epoch: stage_epochs × stages = "
                         f"{epochs} × {len(b_vals)} exceeds {MAX_PARTIAL_EPOCHS}")
    seg_lr, seg_b, seg_steps, per_stage = [], [], [], []
    for lr, b in zip(lr_vals, b_vals):
        if not float(b).is_integer():
            raise ValueError(f"epoch_remainder={mode!r} needs whole-number batches (integer_batch=True); got {b!r}")
        b = int(b)
        full, rest = divmod(n, b)
        if drop_last:
            if not full:
                raise ValueError(f"epoch_remainder='drop_last' drops every batch of an epoch whose batch {b} exceeds "
                                 f"dataset_size={describe(dataset_size)}: the stage would take no step")
            seg_lr.append(lr), seg_b.append(float(b)), seg_steps.append(epochs * full)   # whole epochs in one segment
            per_stage.append(epochs * full)
            continue
        pattern = [(lr, float(b), full)] if full else []
        if rest:
            pattern.append((lr, float(rest), 1))
        for _ in range(epochs):
            for seg in pattern:
                seg_lr.append(seg[0]), seg_b.append(seg[1]), seg_steps.append(seg[2])
        per_stage.append(epochs * (full + (1 if rest else 0)))
    return seg_lr, seg_b, seg_steps, per_stage


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
    epoch_remainder: str = "round_up",
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
    epoch_remainder : {"round_up", "partial", "drop_last"}, default "round_up"
        With ``stage_epochs``: ``"round_up"`` gives a stage ``⌈E n / b_m⌉`` full batches;
        ``"partial"`` gives every epoch ``⌈n / b_m⌉`` steps, the last with the remaining
        ``n − (⌈n/b_m⌉ − 1) b_m`` samples, so a stage consumes exactly ``E n`` samples (a data loader
        without ``drop_last``: the released trainer of arXiv 2409.08770); ``"drop_last"`` gives every epoch
        ``⌊n / b_m⌋`` full batches and drops the remaining ``n mod b_m`` samples (the released trainer of
        arXiv 2508.05297; a batch above ``n`` is refused). Both need whole ``E``, ``n`` and batches.

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
    >>> stage_schedule([0.1], [8], stage_epochs=2, dataset_size=20, integer_batch=True).batch.tolist()
    [8, 8, 8, 8, 8]
    >>> stage_schedule([0.1], [8], stage_epochs=2, dataset_size=20, integer_batch=True,
    ...                epoch_remainder="partial").batch.tolist()
    [8, 8, 4, 8, 8, 4]
    >>> stage_schedule([0.1], [8], stage_epochs=2, dataset_size=20, integer_batch=True,
    ...                epoch_remainder="drop_last").batch.tolist()
    [8, 8, 8, 8]
    """
    lr_vals = _stage_list(lrs, "lrs", minimum=0.0, strict=True)
    b_vals = _stage_list(batches, "batches", minimum=1.0, strict=False)
    if len(lr_vals) != len(b_vals):
        raise ValueError(
            f"lrs and batches must be non-empty and of equal length; got {len(lr_vals)} and {len(b_vals)}")
    return _build_stages(lr_vals, b_vals, context="", batch_name="batches[m]", stage_steps=stage_steps,
                         stage_epochs=stage_epochs, dataset_size=dataset_size, lr_cap=lr_cap, batch_cap=batch_cap,
                         integer_batch=integer_batch, label=label, metadata=metadata,
                         epoch_remainder=epoch_remainder)


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
    lr0, batch0 = positive_real(lr0, "lr0"), finite_real(batch0, "batch0", minimum=1.0)
    gamma, delta = positive_real(gamma, "gamma"), positive_real(delta, "delta")
    stages = positive_int(stages, "stages", maximum=MAX_STAGES)
    meta = {"kind": "exponential_growth", "lr0": lr0, "batch0": batch0, "gamma": gamma, "delta": delta,
            "stages": stages}
    context = f"(lr0={lr0!r}, batch0={batch0!r}, gamma={gamma!r}, delta={delta!r}, stages={stages})"
    return _grown(kw, [lr0 * float_power(gamma, m) for m in range(stages)],
                  [batch0 * float_power(delta, m) for m in range(stages)], context, "batch0 * delta**m", meta)


def _grown(kw: dict, lr_vals: list[float], b_vals: list[float], context: str, batch_name: str,
           meta: dict) -> Schedule:
    options = {"stage_steps": None, "stage_epochs": None, "dataset_size": None, "lr_cap": None,
               "batch_cap": None, "integer_batch": False, "label": "", "metadata": None,
               "epoch_remainder": "round_up"}
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
    lr0, batch0 = positive_real(lr0, "lr0"), finite_real(batch0, "batch0", minimum=1.0)
    p, q = finite_real(p, "p", minimum=0.0), finite_real(q, "q", minimum=0.0)
    stages = positive_int(stages, "stages", maximum=MAX_STAGES)
    meta = {"kind": "polynomial_growth", "lr0": lr0, "batch0": batch0, "p": p, "q": q, "stages": stages}
    context = f"(lr0={lr0!r}, batch0={batch0!r}, p={p!r}, q={q!r}, stages={stages})"
    return _grown(kw, [lr0 * float_power(float(m + 1), q) for m in range(stages)],
                  [batch0 * float_power(float(m + 1), p) for m in range(stages)], context, "batch0 * (m+1)**p", meta)
