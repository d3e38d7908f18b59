"""The adaptive rule of Umeda & Iiduka (arXiv 2508.05302) on the expected dynamics (docs/math.md#adaptive-rule).

:class:`AdaptiveRule`: every ``check_every`` steps, if the gradient norm is at most ``ε_m`` and the
batch is below its cap, grow ``b ← δb``, ``η ← γη`` and set ``ε_{m+1} = ε₀ sqrt(b₀/b_{m+1})`` (as
released: frozen at the cap, integer batches ``⌈b₀δ^m⌉``). :meth:`AdaptiveRule.run` applies it to
the *expected* dynamics of noisy linear regression, measuring ``sqrt(E‖∇f‖²) = sqrt(Σ λ² s)`` (the
root-mean-square norm; a deterministic stand-in for the one noisy run of the paper, as NSGD's
expected denominator is for the per-batch one), and returns the realised
:class:`~ramplab.theory.Schedule` in an :class:`AdaptiveRun`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._limits import MAX_EXACT_INTEGER, MAX_STEP_ARRAY
from .._validate import choice, finite_real, flag, nonnegative_int, optional_positive_real, positive_int, positive_real
from ..dynamics import Problem, controlled_risk
from ..schedules._growth import float_power
from ..schedules._schedule import Schedule

__all__ = ["AdaptiveRule", "AdaptiveRun"]

#: When the rule measures and switches (docs/math.md#adaptive-rule): ``"released"`` as the training loop of
#: arXiv 2508.05302's code — the norm is measured before the check step's update and the new learning rate
#: already applies to that step, the new batch from the next one; ``"after_update"`` measures after the check
#: step and switches both from the next step.
ORDERS = ("released", "after_update")


@dataclass(frozen=True, eq=False)
class AdaptiveRun:
    """The adaptive rule applied to the expected dynamics.

    Attributes
    ----------
    rule : AdaptiveRule
    schedule : Schedule
        The realised per-step ``(η, b)``; ``expected_risk`` on it reproduces the run.
    check_steps : ndarray of int
        The step count of each measured state: ``k·check_every − 1`` with ``order="released"`` (the
        norm before the update of step ``k·check_every``), ``k·check_every`` with ``"after_update"``.
        Either way a new learning rate applies from step ``check_steps + 1`` (1-based).
    gradient_norms : ndarray
        ``sqrt(Σλ²s)`` at those checks.
    thresholds : ndarray
        ``ε_m`` in force at each check.
    stages : ndarray of int
        Stage after each check.
    risk : ndarray
        Excess risk after each step, ``risk[0]`` the initial one; ``+inf`` from ``diverged_at`` on.
    diverged_at : int or None
        With ``run(..., on_divergence="flag")``: the step at which the risk diverged
        (docs/math.md#divergence); the checks stop there.

    Examples
    --------
    >>> p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.1)
    >>> run = AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=50).run(p, 200)
    >>> run.check_steps.tolist(), run.risk.shape
    ([49, 99, 149, 199], (201,))
    """

    rule: "AdaptiveRule"
    schedule: Schedule
    check_steps: np.ndarray
    gradient_norms: np.ndarray
    thresholds: np.ndarray
    stages: np.ndarray
    risk: np.ndarray
    diverged_at: int | None = None

    @property
    def switch_steps(self) -> np.ndarray:
        """The measured states' steps (:attr:`check_steps`) at which the stage advanced."""
        before = np.concatenate([[0], self.stages[:-1]])
        return self.check_steps[self.stages > before]


@dataclass(frozen=True)
class AdaptiveRule:
    """Gradient-norm-triggered growth of batch and learning rate (Umeda & Iiduka, arXiv 2508.05302).

    Every ``check_every`` steps the gradient norm is measured; if it is at most ``ε_m`` **and the
    batch is still below its cap**, the rule moves to stage ``m + 1``: ``b ← δb`` (capped),
    ``η ← γη``, ``ε_{m+1} = ε₀ sqrt(b₀/b_{m+1})`` (docs/math.md#adaptive-rule). Defaults are the
    released ones, ``δ = 2``, ``γ = 1.4``, ``ε₀ = 0.5``, ``b₀ = 8``, ``η₀ = 0.1``, ``b_max = 4096``, except
    the check interval: every 1000 steps here, every 1800 in the released configuration
    (``src/json/free.json`` of hikarumeda1030/adaptive_scheduler @1fd0b7b; pass ``check_every=1800`` to
    match it). As in the released code, the rule stops triggering once the batch has
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
    order : {"released", "after_update"}, default "released"
        When the rule measures and switches (steps numbered from 1; step ``t`` maps ``w_{t−1}`` to
        ``w_t``). ``"released"``, as the training loop of arXiv 2508.05302's code: at every step
        ``t = k·check_every`` the norm is measured at ``w_{t−1}``, before the update, and on a
        trigger the new learning rate already applies to step ``t`` (the scheduler steps before the
        optimizer) and the new batch from step ``t + 1`` (the loader's next batch).
        ``"after_update"``: measured at ``w_t`` after step ``t``, both switch from step ``t + 1``.

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
    order: str = "released"

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr0", positive_real(self.lr0, "lr0"))
        object.__setattr__(self, "batch0", finite_real(self.batch0, "batch0", minimum=1.0))
        object.__setattr__(self, "gamma", positive_real(self.gamma, "gamma"))
        object.__setattr__(self, "delta", positive_real(self.delta, "delta"))
        object.__setattr__(self, "epsilon0", positive_real(self.epsilon0, "epsilon0"))
        object.__setattr__(self, "check_every", positive_int(self.check_every, "check_every"))
        object.__setattr__(self, "batch_cap", optional_positive_real(self.batch_cap, "batch_cap"))
        object.__setattr__(self, "lr_cap", optional_positive_real(self.lr_cap, "lr_cap"))
        object.__setattr__(self, "integer_batch", flag(self.integer_batch, "integer_batch"))
        object.__setattr__(self, "freeze_at_cap", flag(self.freeze_at_cap, "freeze_at_cap"))
        object.__setattr__(self, "order", choice(self.order, "order", ORDERS))
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
        batch = self.batch0 * float_power(self.delta, m)
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
        lr = self.lr0 * float_power(self.gamma, m)
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

    def run(self, problem: Problem, steps: int, on_divergence: str = "raise") -> AdaptiveRun:
        """Apply the rule for ``steps`` steps of exact expected SGD on ``problem``.

        The gradient norm at each check is the exact ``sqrt(Σ λ² s)`` of the expected dynamics
        (docs/math.md#adaptive-rule, docs/math.md#sgd-second-moment-recursion). The rule is the
        controller of the solver's one loop (:func:`~ramplab.theory.dynamics.controlled_risk`), so the
        run is the one ``expected_risk`` computes on the realised schedule, bit for bit.

        Parameters
        ----------
        problem : Problem
        steps : int
            Steps to run, at most ``MAX_STEP_ARRAY``.
        on_divergence : {"raise", "flag"}
            A diverging run raises :class:`~ramplab.theory.DivergenceError`, or (``"flag"``) stops
            there and says so in ``diverged_at`` (risk ``+inf`` from that step on).

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
            If the risk diverges: the solver's one rule (docs/math.md#divergence), not only an
            overflow (a risk of 1e97 raises).

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
        rule = self
        checks, norms, thresholds, stages = [], [], [], []

        released = self.order == "released"
        # The measured states: after k·check_every − 1 steps (released: before the update of step k·check_every)
        # or after k·check_every steps.
        offset = 1 if released else 0

        class Checks:
            """The rule as the controller of the solver's loop: a chunk ends at every measured state."""

            stage = 0
            lr, batch = rule.stage_values(0)
            pending_batch: float | None = None  # released order: the new batch waits one step

            def next_stop(self, step: int) -> int:
                return ((step + offset) // rule.check_every + 1) * rule.check_every - offset

            def tables(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
                lrs, batches = np.full((1, stop - start), self.lr), np.full((1, stop - start), self.batch)
                if self.pending_batch is not None:
                    batches[0, 0] = self.pending_batch
                    self.pending_batch = None
                return lrs, batches

            def check(self, step: int, norm2: float) -> None:
                norm = math.sqrt(norm2)
                checks.append(step)
                norms.append(norm)
                thresholds.append(rule.threshold(self.stage))
                before = self.batch
                self.stage = rule.next_stage(self.stage, norm)
                stages.append(self.stage)
                self.lr, self.batch = rule.stage_values(self.stage)
                if released and self.batch != before:
                    self.pending_batch = before

            def observe(self, view: Any) -> None:
                if (view.step + offset) % rule.check_every:
                    return
                self.check(view.step, float(view.gradient_norm2[0]))

        controller = Checks()
        if released and rule.check_every == 1:  # the first measured state is the initial one
            lam, m = problem.eigenvalues, problem.multiplicity
            controller.check(0, float((m * lam**2) @ problem.initial_second_moment))

        trajectory = controlled_risk(problem, steps, controller, label="adaptive", integer_batch=self.integer_batch,
                                     on_divergence=on_divergence)
        risk = trajectory.risk
        lrs, batches = trajectory.schedule.step_arrays()
        schedule = Schedule(lrs, batches, label="adaptive", integer_batch=self.integer_batch,
                            metadata={"kind": "adaptive_growth", "rule": self})
        return AdaptiveRun(self, schedule, np.array(checks, dtype=int), np.array(norms), np.array(thresholds),
                           np.array(stages, dtype=int), risk, trajectory.diverged_at)
