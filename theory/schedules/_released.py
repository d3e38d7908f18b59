"""Reference-compatible token mode: the released Seesaw runs' bookkeeping, step for step (docs/math.md#token-mode).

The released runs count *tokens* and draw batches of whole sequences. This module reproduces
their step-by-step rule (it does not train anything):

- Milestones: ``k_max = int(log α_f / log r)`` (truncation) with ``r`` the milestone factor; for
  ``k = 1 … k_max``, ``c_k = clip(2 (r^k − α_f)/(1 − α_f) − 1, −1, 1)`` and
  ``τ_k = τ_w + round((D − τ_w) · arccos(c_k)/π)`` with ``τ_w = warmup_fraction · D`` (a float;
  ``round`` is Python's, half to even). These are the points where the half cosine from ``η_0`` to
  ``α_f η_0`` after the warmup falls to ``η_0 r^k``.
- Batch: a float accumulator starts at ``B_0``. Before each batch, if the tokens already scheduled
  are ``≥`` the next milestone, the accumulator is multiplied by the batch factor and the milestone
  is consumed (*at most one per batch*). The batch is ``⌊acc⌋``, or ``⌈acc⌉`` when
  ``⌊acc⌋ mod 32 = 1``; the token counter then grows by ``batch · L``.
- Stop: training stops before a batch once the tokens consumed are ``≥ D`` (the last batch may
  overshoot ``D``).
- Learning rate (``"staircase"``): linear warmup from ``warmup_start · η_0`` to ``η_0`` over
  ``τ_w`` tokens (evaluated at the tokens consumed before the batch); afterwards held at ``η_0`` and
  multiplied by the learning-rate factor at each consumed milestone, floored at ``α_f η_0``.

**Reading of the baseline.** With ``batch_factor = lr_factor = 1`` the staircase rule would hold
the rate at ``η_0`` forever; the released constant-batch baseline instead runs the *cosine*
schedule (the same warmup, then the half cosine to ``α_f η_0`` over ``D − τ_w`` tokens, at the tokens
consumed before each batch) under the same stop rule. So ``lr_mode="auto"`` (the default) selects
``"cosine"`` exactly when both factors are 1 and ``"staircase"`` otherwise; either can be forced.
The batch sequence, hence the step count, does not depend on this choice: the baseline takes
``⌈D / (B_0 L)⌉`` steps.

The construction loops over milestones, not over batches: between two milestones the batch is
constant, so the number of batches until the next milestone (or the stop) is one integer division.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from collections.abc import Mapping, Sequence

from .._frozen import FrozenRecord
from .._limits import MAX_EXACT_INTEGER, MAX_INT64, MAX_RELEASED_MILESTONES, MAX_STEP_ARRAY
from .._validate import choice, describe, finite_real, positive_int, positive_real, strict_real_array
from ._families import RELEASED_ALPHA_BETA
from ._lr_shapes import WarmupCosine
from ._schedule import Schedule

__all__ = [
    "RELEASED_MANIFEST_FACTORS",
    "RELEASED_MODELS",
    "RELEASED_SEQ_LEN",
    "ReleasedRun",
    "format_released_table",
    "released_grid",
    "released_milestones",
    "released_seesaw_run",
]

#: The (learning-rate factor, batch factor) each released (α, β) run used, as its run manifest writes them:
#: floats with 7–8 significant digits (√2 = 1.4142135, 2^{3/2} = 2.8284271, 2^{-3/4} = 0.5946035,
#: 2^{-1/4} = 0.8408964), keyed by the exact (α, β) of RELEASED_ALPHA_BETA. The batch factor decides the
#: steps and tokens (the accumulator reaches 512 … 4096 with them, 511 … 4095 with the exact values); the
#: learning-rate factor of the (√2, 2) run is not in the manifest excerpt this library has, so it is 1/√2
#: (it changes no step or token count). docs/math.md#token-mode.
RELEASED_MANIFEST_FACTORS: dict[tuple[float, float], tuple[float, float]] = {
    RELEASED_ALPHA_BETA[0]: (0.5, 1.0),
    RELEASED_ALPHA_BETA[1]: (0.5946035, 1.4142135),
    RELEASED_ALPHA_BETA[2]: (2.0**-0.5, 2.0),
    RELEASED_ALPHA_BETA[3]: (0.8408964, 2.8284271),
    RELEASED_ALPHA_BETA[4]: (1.0, 4.0),
}
FACTOR_SOURCES = ("manifest", "exact")

#: Model sizes of the released runs and their token budgets D (docs/math.md#token-mode).
RELEASED_MODELS: tuple[tuple[str, float], ...] = (("150M", 3.3e9), ("300M", 6.6e9), ("600M", 13.2e9))
#: Sequence length L of the released runs.
RELEASED_SEQ_LEN = 1024

LR_MODES = ("auto", "staircase", "cosine")


def _whole(value: Any, name: str) -> int:
    v = finite_real(value, name)
    if not v.is_integer() or v < 1:
        raise ValueError(f"{name} must be a positive whole number; got {describe(value)}")
    out = int(value) if isinstance(value, (int, np.integer)) else int(v)
    if out > MAX_INT64:
        raise ValueError(f"{name} must be ≤ 2**63 − 1; got {describe(value)}")
    return out


def released_milestones(
    total_tokens: int, milestone_factor: float, warmup_fraction: float = 0.1, alpha_f: float = 0.1
) -> np.ndarray:
    """Milestones ``τ_1 … τ_{k_max}`` (tokens) of the released scheduler (module docstring).

    Parameters
    ----------
    total_tokens : int
        ``D``, the token budget (a whole number).
    milestone_factor : float
        ``r ∈ (0, 1)``: milestones where the cosine base falls to ``η_0 r^k``.
    warmup_fraction : float, default 0.1
        Fraction of ``D`` spent in the warmup, in ``[0, 1)``.
    alpha_f : float, default 0.1
        Floor of the cosine relative to ``η_0``, in ``(0, 1)``.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(k_max,)``: the milestones in tokens, increasing.

    Examples
    --------
    >>> released_milestones(1000, 0.5).tolist()     # k_max = int(log 0.1 / log 0.5) = 3
    [582.0, 759.0, 904.0]
    >>> len(released_milestones(3.3e9, 1 / 1.1))
    24
    """
    total = _whole(total_tokens, "total_tokens")
    r = finite_real(milestone_factor, "milestone_factor")
    if not 0.0 < r < 1.0:
        raise ValueError(f"milestone_factor must lie in (0, 1); got {r!r}")
    w = finite_real(warmup_fraction, "warmup_fraction")
    if not 0.0 <= w < 1.0:
        raise ValueError(f"warmup_fraction must lie in [0, 1); got {w!r}")
    floor = finite_real(alpha_f, "alpha_f")
    if not 0.0 < floor < 1.0:
        raise ValueError(f"alpha_f must lie in (0, 1); got {floor!r}")
    warm = w * total
    k_float = math.log(floor) / math.log(r)
    if not k_float <= MAX_RELEASED_MILESTONES:
        raise ValueError(f"milestone_factor={describe(milestone_factor)} and alpha_f={describe(alpha_f)} give "
                         f"{k_float:.3g} milestones, more than MAX_RELEASED_MILESTONES = {MAX_RELEASED_MILESTONES}")
    k_max = int(k_float)
    out = []
    for k in range(1, k_max + 1):
        c = min(1.0, max(-1.0, 2.0 * (r**k - floor) / (1.0 - floor) - 1.0))
        out.append(warm + round((total - warm) * math.acos(c) / math.pi))
    return np.array(out, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class ReleasedRun(FrozenRecord):
    """One run of the released scheduler: per-step batches (sequences) and learning rates.

    Attributes
    ----------
    total_tokens, seq_len, initial_batch : int
    milestone_factor, batch_factor, lr_factor, warmup_fraction, alpha_f, peak_lr : float
    lr_mode : str
        ``"staircase"`` or ``"cosine"`` (the baseline reading, see the module docstring).
    batch : ndarray of int64, shape (steps,)
        Sequences per batch.
    lr : ndarray, shape (steps,)
        Learning rate of each step.
    tokens_before : ndarray of int64, shape (steps,)
        Tokens consumed before each step.
    milestones : ndarray, shape (k_max,)
        Milestones in tokens.
    milestones_consumed : int
        Milestones consumed before the stop.

    Examples
    --------
    >>> run = released_seesaw_run(3.3e9, 1024, 256)      # built by released_seesaw_run, not by hand
    >>> run.steps, int(run.batch[0]), int(run.batch[-1]), run.lr_mode
    (7756, 256, 2521, 'staircase')
    """

    total_tokens: int
    seq_len: int
    initial_batch: int
    milestone_factor: float
    batch_factor: float
    lr_factor: float
    warmup_fraction: float
    alpha_f: float
    peak_lr: float
    lr_mode: str
    batch: np.ndarray
    lr: np.ndarray
    tokens_before: np.ndarray
    milestones: np.ndarray
    milestones_consumed: int

    @property
    def steps(self) -> int:
        """Optimizer steps until the stop rule fires."""
        return int(self.batch.shape[0])

    @property
    def tokens(self) -> int:
        """Tokens consumed (``≥ total_tokens``; the last batch may overshoot)."""
        return int(self.tokens_before[-1] + self.batch[-1] * self.seq_len)

    @property
    def batch_tokens(self) -> np.ndarray:
        """Tokens per batch, ``batch · seq_len``."""
        return self.batch * self.seq_len

    def reduction_vs(self, baseline: "ReleasedRun") -> float:
        """Serial-step reduction ``1 − steps / baseline.steps``.

        Parameters
        ----------
        baseline : ReleasedRun
            The run compared with (typically the cosine baseline of the same budget).

        Returns
        -------
        float
            The fraction of the baseline's steps saved.
        """
        if not isinstance(baseline, ReleasedRun):
            raise TypeError(f"baseline must be a ReleasedRun; got {type(baseline).__name__}")
        return 1.0 - self.steps / baseline.steps

    def schedule(self, unit: str = "sequences", label: str = "") -> Schedule:
        """The run as a :class:`~theory.Schedule`, batches counted in ``"sequences"`` or ``"tokens"``.

        Parameters
        ----------
        unit : {"sequences", "tokens"}, default "sequences"
            What one unit of the schedule's batch (and samples) counts.
        label : str, optional
            Name carried by the schedule.

        Returns
        -------
        Schedule
            The per-step learning rates and batches, with the run's milestones in ``metadata``.
        """
        choice(unit, "unit", ("sequences", "tokens"))
        batch = self.batch if unit == "sequences" else self.batch_tokens
        meta = {"kind": "released", "unit": unit, "total_tokens": self.total_tokens,
                "seq_len": self.seq_len, "milestones": tuple(self.milestones.tolist())}
        return Schedule(self.lr, batch, label=label, metadata=meta)

    def __repr__(self) -> str:
        return (f"ReleasedRun(D={self.total_tokens:.4g}, L={self.seq_len}, B0={self.initial_batch}, "
                f"steps={self.steps}, tokens={self.tokens}, lr_mode={self.lr_mode!r})")


def _integer_batch(acc: float) -> int:
    b = math.floor(acc)
    return math.ceil(acc) if b % 32 == 1 else b


def released_seesaw_run(
    total_tokens: float,
    seq_len: int,
    initial_batch: int,
    milestone_factor: float = 1 / 1.1,
    batch_factor: float = 1.1,
    lr_factor: float = 1.1**-0.5,
    warmup_fraction: float = 0.1,
    alpha_f: float = 0.1,
    *,
    peak_lr: float = 1.0,
    warmup_start: float = 0.1,
    lr_mode: str = "auto",
) -> ReleasedRun:
    """Replay the released Seesaw scheduler in tokens (docs/math.md#token-mode; rules in the module docstring).

    Parameters
    ----------
    total_tokens : float
        ``D``, a whole number of tokens (``3.3e9`` is accepted).
    seq_len : int
        ``L``, tokens per sequence.
    initial_batch : int
        ``B_0`` in sequences.
    milestone_factor : float, default 1/1.1
        ``r``: milestones where the cosine base falls to ``η_0 r^k``.
    batch_factor : float, default 1.1
        Accumulator growth per consumed milestone (1 keeps the batch constant).
    lr_factor : float, default 1.1^{−1/2}
        Learning-rate factor per consumed milestone (staircase mode).
    warmup_fraction : float, default 0.1
    alpha_f : float, default 0.1
        Floor of the cosine, relative to ``η_0``.
    peak_lr : float, default 1.0
        ``η_0`` (the returned rates scale with it).
    warmup_start : float, default 0.1
        The warmup starts at ``warmup_start · η_0``.
    lr_mode : {"auto", "staircase", "cosine"}
        ``"auto"``: cosine for the baseline (both factors 1), staircase otherwise.

    Returns
    -------
    ReleasedRun

    Examples
    --------
    >>> seesaw = released_seesaw_run(3.3e9, 1024, 256)
    >>> cosine = released_seesaw_run(3.3e9, 1024, 256, batch_factor=1.0, lr_factor=1.0)
    >>> cosine.steps, cosine.lr_mode, seesaw.steps, seesaw.milestones_consumed
    (12589, 'cosine', 7756, 24)
    >>> round(seesaw.reduction_vs(cosine), 4), int(seesaw.batch[-1])
    (0.3839, 2521)
    """
    total = _whole(total_tokens, "total_tokens")
    seq_len = positive_int(seq_len, "seq_len")
    b0 = positive_int(initial_batch, "initial_batch")
    bf = finite_real(batch_factor, "batch_factor")
    if bf < 1.0:
        raise ValueError(f"batch_factor must be ≥ 1; got {bf!r}")
    lf = positive_real(lr_factor, "lr_factor")
    peak = positive_real(peak_lr, "peak_lr")
    start = finite_real(warmup_start, "warmup_start")
    if not 0.0 <= start <= 1.0:
        raise ValueError(f"warmup_start must lie in [0, 1]; got {start!r}")
    choice(lr_mode, "lr_mode", LR_MODES)
    if lr_mode == "auto":
        lr_mode = "cosine" if bf == 1.0 and lf == 1.0 else "staircase"
    taus = released_milestones(total, milestone_factor, warmup_fraction, alpha_f)
    k_max = taus.shape[0]
    warm = float(warmup_fraction) * total

    args = (f"(total_tokens={describe(total_tokens)}, seq_len={seq_len}, initial_batch={b0}, "
            f"batch_factor={describe(batch_factor)}, lr_factor={describe(lr_factor)})")
    if b0 > MAX_EXACT_INTEGER:
        raise ValueError(f"initial_batch must be ≤ 2**53; got {describe(initial_batch)}")
    tokens, acc, k, level = 0, float(b0), 0, peak
    seg_n, seg_b, seg_level, seg_tokens = [], [], [], []
    steps = 0
    while tokens < total:
        if k < k_max and tokens >= taus[k]:
            acc *= bf
            level = max(level * lf, alpha_f * peak)
            k += 1
            if not acc <= MAX_EXACT_INTEGER:
                raise ValueError(f"the batch grows beyond 2**53 sequences at milestone {k} {args}")
            if not math.isfinite(level):
                raise ValueError(f"the learning rate overflows float64 at milestone {k} (peak_lr={describe(peak_lr)}) "
                                 f"{args}")
        b = _integer_batch(acc)
        step_tokens = b * seq_len
        target = min(float(taus[k]), float(total)) if k < k_max else float(total)
        # Smallest n ≥ 1 with tokens + n·step_tokens ≥ target: before the 2nd … n-th batch of this
        # segment neither a milestone nor the stop can fire. Exact int/float comparisons.
        n = max(1, math.ceil((target - tokens) / step_tokens))
        while n > 1 and tokens + (n - 1) * step_tokens >= target:
            n -= 1
        while tokens + n * step_tokens < target:
            n += 1
        seg_n.append(n)
        seg_b.append(b)
        seg_level.append(level)
        seg_tokens.append(tokens)
        tokens += n * step_tokens
        steps += n
        if steps > MAX_STEP_ARRAY:
            raise ValueError(f"the run would take more than MAX_STEP_ARRAY = {MAX_STEP_ARRAY} steps, whose "
                             f"per-step arrays it stores {args}")
        if tokens > MAX_INT64:
            raise ValueError(f"the run would consume more than 2**63 − 1 tokens {args}")

    counts = np.array(seg_n, dtype=np.int64)
    batch = np.repeat(np.array(seg_b, dtype=np.int64), counts)
    offsets = np.arange(batch.shape[0], dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    tokens_before = np.repeat(np.array(seg_tokens, dtype=np.int64), counts) + offsets * batch * seq_len
    if lr_mode == "cosine":
        shape = WarmupCosine(peak, float(total), warmup_fraction=float(warmup_fraction),
                             warmup_start=start, floor=float(alpha_f))
        lr = shape(tokens_before.astype(np.float64))
    else:
        lr = np.repeat(np.array(seg_level), counts)
        in_warmup = tokens_before < warm
        lr[in_warmup] = peak * (start + (1.0 - start) * tokens_before[in_warmup] / warm)
    batch.flags.writeable = False
    lr.flags.writeable = False
    tokens_before.flags.writeable = False
    return ReleasedRun(
        total_tokens=total, seq_len=seq_len, initial_batch=b0,
        milestone_factor=float(milestone_factor), batch_factor=bf, lr_factor=lf,
        warmup_fraction=float(warmup_fraction), alpha_f=float(alpha_f), peak_lr=peak, lr_mode=lr_mode,
        batch=batch, lr=lr, tokens_before=tokens_before, milestones=taus, milestones_consumed=k,
    )


def released_grid(
    models: tuple[tuple[str, float], ...] = RELEASED_MODELS,
    seq_len: int = RELEASED_SEQ_LEN,
    main_batches: tuple[int, ...] = (128, 256, 512, 1024),
    large_batches: tuple[int, ...] = (1024, 2048, 4096, 8192),
    factors: str = "manifest",
) -> list[dict[str, Any]]:
    """Steps and reductions of the released grid, one row per run (docs/math.md#token-mode).

    Groups: ``"main"`` (Seesaw at ``f = 1.1``, ``B_0 ∈ main_batches``), ``"alpha_beta"`` (milestone
    factor 1/2, the five released ``(α, β)`` pairs: batch factor ``β``, learning-rate factor
    ``1/α``, ``B_0 ∈ main_batches``) and ``"large_batch"`` (Seesaw at ``f = 1.1``,
    ``B_0 ∈ large_batches``), for every model. Each row compares with the constant-batch cosine
    baseline at the same ``D`` and ``B_0``.

    Parameters
    ----------
    models : tuple of (str, float)
        ``(name, total tokens)`` per model; the released 150M/300M/600M by default.
    seq_len : int, default 1024
        Tokens per sequence.
    main_batches : tuple of int
        Initial batches (sequences) of the main and ``(α, β)`` runs.
    large_batches : tuple of int
        Initial batches of the large-batch runs (may be empty).
    factors : {"manifest", "exact"}, default "manifest"
        The ``(α, β)`` runs' factors: ``"manifest"`` uses the floats the released runs used
        (:data:`RELEASED_MANIFEST_FACTORS`, e.g. 1.4142135 for √2), which reproduce their logged
        step and token counts; ``"exact"`` uses ``1/α`` and ``β`` exactly (the accumulator then
        stops one short of each power of two: 4 of the 20 rows per model differ by up to 2 steps
        or in tokens).

    Returns
    -------
    list of dict
        One row per run: ``group``, ``model``, ``total_tokens``, ``seq_len``, ``initial_batch``, the
        factors used (``milestone_factor``, ``batch_factor``, ``lr_factor``), the exact ``alpha``,
        ``beta``, ``steps``, ``baseline_steps``, ``reduction``, ``tokens``,
        ``baseline_tokens``, ``final_batch``, ``milestones_consumed``.

    Examples
    --------
    >>> rows = released_grid(models=(("150M", 3.3e9),), main_batches=(256,), large_batches=())
    >>> [(r["group"], round(r["alpha"], 12), r["steps"]) for r in rows][:2]
    [('main', 1.04880884817, 7756), ('alpha_beta', 2.0, 12589)]

    The logged run at ``B_0 = 256``, ``β = √2`` took 10245 steps and 3 300 396 032 tokens:

    >>> [(r["steps"], r["tokens"]) for r in rows if r["beta"] == 2**0.5]
    [(10245, 3300396032)]
    >>> [(r["steps"], r["tokens"]) for r in released_grid(models=(("150M", 3.3e9),), main_batches=(256,),
    ...                                                    large_batches=(), factors="exact") if r["beta"] == 2**0.5]
    [(10243, 3300284416)]
    """
    factors = choice(factors, "factors", FACTOR_SOURCES)
    if isinstance(models, (str, bytes)) or not isinstance(models, Sequence) or not models:
        raise TypeError(f"models must be a non-empty sequence of (name, total_tokens) pairs; got {describe(models)}")
    for i, pair in enumerate(models):
        if (isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2
                or not isinstance(pair[0], str)):
            raise TypeError(f"models[{i}] must be a (name, total_tokens) pair; got {describe(pair)}")
    seq_len = positive_int(seq_len, "seq_len")
    groups = {}
    for name, values in (("main_batches", main_batches), ("large_batches", large_batches)):
        arr = strict_real_array(values, name)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be a 1-D sequence of batch sizes; got {describe(values)}")
        groups[name] = [positive_int(v, f"{name}[{j}]", maximum=MAX_EXACT_INTEGER)
                        for j, v in enumerate(np.asarray(values, dtype=object).tolist())]
    main_batches, large_batches = tuple(groups["main_batches"]), tuple(groups["large_batches"])
    rows: list[dict[str, Any]] = []
    for i, (model, total) in enumerate(models):
        try:
            _whole(total, "total_tokens")
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"models[{i}] = {describe(models[i])}: {exc}") from exc
        runs: list[tuple[str, int, float, float, float, float, float]] = []
        for b0 in main_batches:
            runs.append(("main", b0, 1 / 1.1, 1.1, 1.1**-0.5, 1.1**0.5, 1.1))
        for b0 in main_batches:
            for alpha, beta in RELEASED_ALPHA_BETA:
                lf, bf = RELEASED_MANIFEST_FACTORS[(alpha, beta)] if factors == "manifest" else (1.0 / alpha, beta)
                runs.append(("alpha_beta", b0, 0.5, bf, lf, alpha, beta))
        for b0 in large_batches:
            runs.append(("large_batch", b0, 1 / 1.1, 1.1, 1.1**-0.5, 1.1**0.5, 1.1))
        baselines: dict[int, ReleasedRun] = {}
        for group, b0, r, bf, lf, alpha, beta in runs:
            if b0 not in baselines:
                baselines[b0] = released_seesaw_run(total, seq_len, b0, batch_factor=1.0, lr_factor=1.0)
            base = baselines[b0]
            run = released_seesaw_run(total, seq_len, b0, milestone_factor=r, batch_factor=bf,
                                      lr_factor=lf)
            rows.append({
                "group": group, "model": model, "total_tokens": int(total), "seq_len": seq_len,
                "initial_batch": b0, "milestone_factor": r, "batch_factor": bf, "lr_factor": lf,
                "alpha": alpha, "beta": beta, "steps": run.steps, "baseline_steps": base.steps,
                "reduction": run.reduction_vs(base), "tokens": run.tokens,
                "baseline_tokens": base.tokens, "final_batch": int(run.batch[-1]),
                "milestones_consumed": run.milestones_consumed,
            })
    return rows


_ROW_FIELDS = {"group": str, "model": str, "total_tokens": int, "initial_batch": int, "milestone_factor": float,
               "beta": float, "alpha": float, "steps": int, "baseline_steps": int, "reduction": float,
               "final_batch": int}


def _check_rows(rows: Any) -> None:
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a sequence of released_grid rows (dicts); got {describe(rows)}")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"rows[{i}] must be a dict as released_grid returns; got {describe(row)}")
        missing = [k for k in _ROW_FIELDS if k not in row]
        if missing:
            raise ValueError(f"rows[{i}] lacks the field(s) {missing}")
        for key, kind in _ROW_FIELDS.items():
            v = row[key]
            ok = isinstance(v, str) if kind is str else (
                isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) if kind is int else
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                and math.isfinite(v))
            if not ok:
                raise TypeError(f"rows[{i}][{key!r}] must be a {'finite ' if kind is float else ''}"
                                f"{kind.__name__}; got {describe(v)}")


def format_released_table(rows: list[dict[str, Any]]) -> str:
    """A fixed-width text table of :func:`released_grid` rows.

    Parameters
    ----------
    rows : list of dict
        Rows as :func:`released_grid` returns them.

    Returns
    -------
    str
        A header line and one line per row.

    Examples
    --------
    >>> rows = released_grid(models=(("150M", 3.3e9),), main_batches=(256,), large_batches=())
    >>> print(format_released_table(rows[:1]))
    group        model         D     B0      r      β      α     steps  baseline  reduction  final B
    main         150M    3.3e+09    256  0.909  1.100  1.049      7756     12589     38.39%     2521
    """
    _check_rows(rows)
    head = (f"{'group':12s} {'model':5s} {'D':>9s} {'B0':>6s} {'r':>6s} {'β':>6s} {'α':>6s} "
            f"{'steps':>9s} {'baseline':>9s} {'reduction':>10s} {'final B':>8s}")
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['group']:12s} {r['model']:5s} {r['total_tokens']:9.3g} {r['initial_batch']:6d} "
            f"{r['milestone_factor']:6.3f} {r['beta']:6.3f} {r['alpha']:6.3f} {r['steps']:9d} "
            f"{r['baseline_steps']:9d} {100 * r['reduction']:9.2f}% {r['final_batch']:8d}"
        )
    return "\n".join(lines)
