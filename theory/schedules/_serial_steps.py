"""Serial-step accounting: how many optimizer steps a schedule needs for its samples (docs/math.md#serial-step-reduction).

Three levels of description, from the most concrete:

- a :class:`~theory.Schedule` has an integer number of steps (``schedule.serial_steps``), and
  :func:`step_reduction` compares two schedules that consume the same samples;
- the *phase* count of a discretised Seesaw ramp, ``Σ_k D_k / B_k`` over its phases (fractional
  steps allowed; what the discretisation alone costs, independent of ``B_0``):
  :func:`phase_serial_steps`;
- the *continuous limit* ``(τ_w + ∫_{τ_w}^{D} (η_base/η_0)^p dτ) / B_0``:
  :func:`continuous_serial_steps`.

:func:`seesaw_step_reduction` turns either count into the reduction against the constant-batch
base, ``1 − steps / (D / B_0)``. Reference values (docs/math.md#serial-step-reduction): quarter cosine ``1 − 2/π``;
half cosine to 0, ``50 %`` continuous and ``37.8 %`` at ``f = 2``; the released setting (10 %
warmup from ``0.1 η_0``, half cosine to ``0.1 η_0``) ``40.5 %`` continuous, ``38.4 %`` at
``f = 1.1``, ``33.8 %`` at ``f = √2`` and ``28.1 %`` at ``f = 2``.
"""

from __future__ import annotations

import numpy as np

from .._limits import MAX_MILESTONES
from .._validate import finite_real
from ._lr_shapes import LRShape
from ._milestones import MIN_LEVEL, Milestones, PhaseValues, check_base, check_cap, check_factor, check_p
from ._schedule import Schedule

__all__ = [
    "continuous_serial_steps",
    "phase_serial_steps",
    "seesaw_step_reduction",
    "step_reduction",
]

# Two schedules "consume the same samples" when their totals agree to this relative precision
# (cumulative sums of real batches carry rounding).
_SAMPLES_RTOL = 1e-9


def step_reduction(reference: Schedule, other: Schedule) -> float:
    """``1 − other.serial_steps / reference.serial_steps`` for two schedules with equal samples.

    Parameters
    ----------
    reference : Schedule
        The baseline (typically constant batch).
    other : Schedule
        The schedule compared with it; same total samples.

    Returns
    -------
    float
        The fraction of serial steps ``other`` saves (negative if it takes more).

    Raises
    ------
    ValueError
        If the schedules do not consume the same number of samples.

    Examples
    --------
    >>> a = Schedule.constant(0.1, 4, steps=10)
    >>> b = Schedule.from_phases([(0.1, 4, 20), (0.1, 10, 20)])
    >>> step_reduction(a, b)
    0.3
    """
    for name, s in (("reference", reference), ("other", other)):
        if not isinstance(s, Schedule):
            raise TypeError(f"{name} must be a Schedule; got {type(s).__name__}")
    a, b = float(reference.total_samples), float(other.total_samples)
    if abs(a - b) > _SAMPLES_RTOL * max(a, b):
        raise ValueError(
            f"step reductions compare schedules at equal samples; got {a!r} (reference) and {b!r} (other)"
        )
    return 1.0 - other.serial_steps / reference.serial_steps


def phase_serial_steps(
    base: LRShape,
    initial_batch: float,
    factor: float,
    *,
    p: float = 1.0,
    batch_cap: float | None = None,
) -> float:
    """``Σ_k D_k / B_k`` over the phases of the discretised ramp (fractional steps, real batches).

    Phase ``k`` runs from milestone ``τ_k`` to ``τ_{k+1}`` (``τ_0 = 0``, the warmup included,
    the last phase ends at the horizon) at batch ``B_0 f^{pk}`` (see
    :func:`ramplab.theory.phase_batches` for the cap).

    Parameters
    ----------
    base : LRShape
        The learning-rate shape the ramp replaces (samples on its x axis).
    initial_batch : float
        ``B_0 ≥ 1``, the batch (samples per step) during the warmup and the first phase.
    factor : float
        ``f > 1``: milestones where the base falls by ``f``, batch × ``f^p`` at each.
    p : float, default 1.0
        Batch exponent: the batch grows as ``(η_0/η_base)^p`` (``p = 1`` is Seesaw).
    batch_cap : float, optional
        Largest batch (samples per step); none by default.

    Returns
    -------
    float
        Serial steps of the discretised ramp (fractional: samples / batch per phase, summed).

    Raises
    ------
    ValueError
        For bad arguments, or more than ``MAX_MILESTONES`` phases (a factor so close to 1 that the
        sum is, to ``O(f − 1)``, the continuous limit: pass ``factor=None`` to
        :func:`seesaw_step_reduction`, or use :func:`continuous_serial_steps`).

    Examples
    --------
    Linear decay to 0, halvings: phases of 1/2, 1/4, 1/8, … of the horizon at batches 1, 2, 4, …,
    so ``Σ 2^{−2k−1} = 2/3`` of the constant-batch steps (to the ``1e-12`` level cut-off):

    >>> from ramplab.theory.schedules import Linear
    >>> round(phase_serial_steps(Linear(1.0, 300), 1, 2.0), 9)
    200.0
    """
    base = check_base(base)
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    f, p = check_factor(factor), check_p(p)
    values = PhaseValues(1.0, b0, f, p, check_cap(batch_cap, b0))
    ms = Milestones(base, f, MIN_LEVEL)
    if ms.count + 1 > MAX_MILESTONES:
        raise ValueError(
            f"factor={factor!r} gives {ms.count + 1} phases, more than MAX_MILESTONES = {MAX_MILESTONES} "
            f"summed one by one; use a larger factor, or factor=None (continuous_serial_steps, the "
            f"limit of this count as the factor falls to 1)"
        )
    edges = np.concatenate([[0.0], ms.listed(), [base.total_samples]])
    batches = np.array([values.batch(k) for k in range(edges.shape[0] - 1)], dtype=np.float64)
    return float(np.sum(np.diff(edges) / batches))


def continuous_serial_steps(
    base: LRShape,
    initial_batch: float,
    *,
    p: float = 1.0,
    batch_cap: float | None = None,
) -> float:
    """``∫ dτ / B(τ)``: the warmup at ``B_0``, then ``B(τ) = min(B_0 (η_0/η_base(τ))^p, cap)``.

    For ``p = 1`` without a cap this is ``(τ_w + ∫_{τ_w}^{D} η_base/η_0 dτ) / B_0`` in closed form
    (:meth:`theory.LRShape.integral`); otherwise adaptive quadrature.

    Parameters
    ----------
    base : LRShape
        The learning-rate shape the ramp replaces (samples on its x axis).
    initial_batch : float
        ``B_0 ≥ 1``, the batch (samples per step) during the warmup and the first phase.
    p : float, default 1.0
        Batch exponent: the batch grows as ``(η_0/η_base)^p`` (``p = 1`` is Seesaw).
    batch_cap : float, optional
        Largest batch (samples per step); none by default.

    Returns
    -------
    float
        Serial steps of the continuous ramp (the ``f → 1`` limit of :func:`phase_serial_steps`).

    Examples
    --------
    >>> from ramplab.theory.schedules import Cosine
    >>> round(continuous_serial_steps(Cosine(1.0, 100.0, quarter=True), 1.0), 9)   # 100 · 2/π
    63.661977237
    """
    base = check_base(base)
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    p = check_p(p)
    cap = check_cap(batch_cap, b0)
    w, total = base.warmup_samples, base.total_samples
    if p == 1.0 and cap is None:
        return (w + base.integral(w, total) / base.peak) / b0
    from scipy.integrate import quad

    def inverse_batch(tau: float) -> float:
        g = float(base(tau)) / base.peak
        out = g**p / b0
        return max(out, 1.0 / cap) if cap is not None else out

    points = _breakpoints(base, w, total)
    value, _ = quad(inverse_batch, w, total, points=points or None, limit=500,
                    epsabs=1e-13 * total, epsrel=1e-11)
    return w / b0 + float(value)


def _breakpoints(base: LRShape, start: float, stop: float) -> list[float]:
    """Where the base may jump or bend inside ``(start, stop)`` (helps the quadrature)."""
    pts = [u * base.total_samples for u in base._kinks()]
    return [x for x in pts if start < x < stop]


def seesaw_step_reduction(
    base: LRShape,
    factor: float | None = None,
    *,
    p: float = 1.0,
    initial_batch: float = 1.0,
    batch_cap: float | None = None,
) -> float:
    """Serial-step reduction of the Seesaw ramp against the constant-batch base, ``1 − steps/(D/B_0)``.

    ``factor=None`` gives the continuous limit (:func:`continuous_serial_steps`); a factor ``f > 1``
    the discretised ramp's phase count (:func:`phase_serial_steps`). Without a cap the reduction
    does not depend on ``initial_batch``.

    Parameters
    ----------
    base : LRShape
        The learning-rate shape the ramp replaces.
    factor : float, optional
        ``f > 1`` for the discretised ramp; ``None`` (default) for the continuous limit.
    p : float, default 1.0
        Batch exponent: the batch grows as ``(η_0/η_base)^p`` (``p = 1`` is Seesaw).
    initial_batch : float, default 1.0
        ``B_0 ≥ 1`` (matters only with a cap).
    batch_cap : float, optional
        Largest batch (samples per step); none by default.

    Returns
    -------
    float
        ``1 − steps/(D/B_0)``: the fraction of the constant-batch base's serial steps saved.

    Examples
    --------
    >>> import math
    >>> from ramplab.theory.schedules import Cosine, WarmupCosine
    >>> round(seesaw_step_reduction(Cosine(1.0, 1.0, quarter=True)), 6), round(1 - 2 / math.pi, 6)
    (0.36338, 0.36338)
    >>> round(seesaw_step_reduction(WarmupCosine(1.0, 1.0)), 6)     # docs/math.md#serial-step-reduction: 40.5 %
    0.405
    >>> round(seesaw_step_reduction(WarmupCosine(1.0, 1.0), 1.1), 4)  # discretised: ≈ 38.4 %
    0.3845
    """
    base = check_base(base)
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    if factor is None:
        steps = continuous_serial_steps(base, b0, p=p, batch_cap=batch_cap)
    else:
        steps = phase_serial_steps(base, b0, factor, p=p, batch_cap=batch_cap)
    return 1.0 - steps * b0 / base.total_samples
