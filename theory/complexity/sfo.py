"""SFO complexity on noisy linear regression: the worst-case bound beside exact measurement (docs/math.md#sfo-complexity).

The Iiduka-line bound for SGD needs three constants, all computable on noisy linear regression:

- ``L = λ_1``, the smoothness of ``f(w) = ½ E (xᵀw − y)²`` (its Hessian is ``H``);
- ``Δ = f(w_0) − f* = R(w_0)``, the initial excess risk;
- ``σ²``, a bound on the variance of a *one-sample* stochastic gradient ``g_1 = x(xᵀw − y)``. At error
  second moments ``s`` it is exactly (any κ)

      V(s) = E‖g_1 − ∇f‖² = (κ − 2) Σ λ_i² s_i + tr H (Σ λ_i s_i + σ_y²),

  which depends on where the iterate is. :class:`BoundConstants` offers ``variance="optimum"``
  (``V(0) = σ_y² tr H``, the noise the iterates feel near the target; *not* an upper bound early
  on), ``"initial"`` (``V(s(0))``) or a number. :func:`gradient_variance` evaluates ``V``; every
  measurement records ``sup_t V(s(t))`` along its run (:attr:`TargetHitting.max_gradient_variance`).
  With that σ² the master bound's proof goes through on noisy linear regression (it only needs
  ``E V(w_t) ≤ σ²``), so :attr:`CriticalBatch.trajectory_bound_steps` must bound the measured steps —
  a theorem the tests check; with ``"optimum"`` it can fail, and does.

Stationarity is measured on the quantity the bound controls: ``E‖∇f(w_t)‖² = Σ λ_i² s_i(t)`` (exact
from the second moments, since ``∇f(w) = H(w − w*)``). ``stationarity="norm"`` (docs/math.md's
``min E‖∇f‖ ≤ ε``) asks ``E‖∇f‖² ≤ ε²`` — sufficient by Jensen, and exactly what the bound
guarantees; ``"squared"`` asks ``E‖∇f‖² ≤ ε``. "Steps to ε" is the first ``t`` with
``Σ λ² s(t) ≤ τ`` (the iterate after ``t`` steps), and "SFO to ε" the samples used by then.

Measurements run the exact SGD recursion (docs/math.md#sgd-second-moment-recursion) and stop early: a row reaches the target,
or is *certified unreachable*, or runs out of ``max_steps``; each outcome is reported, never hidden
in an ``inf``. At constant ``(η, b)`` the recursion is affine, ``s ← Ms + v`` with ``M ≥ 0``
entrywise when κ ≥ 2, so two certificates hold: the stationary gradient norm is at least the target
and the state lies above the stationary one in every coordinate (``s_t − s^∞ = M^t(s_0 − s^∞) ≥ 0``);
or the state grew in every coordinate over one step (``s_{t+1} − s_t = M(s_t − s_{t−1}) ≥ 0``, so the
gradient norm never decreases again — unstable rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .._limits import MAX_REFINE, MAX_STEP_ARRAY
from .._validate import check_range, choice, describe, finite_real, nonnegative_int, positive_int, strict_real_array
from ..dynamics.problem import Problem
from ..dynamics.recursion import second_moment_step
from ..schedules._schedule import Schedule, schedule_list

__all__ = [
    "BoundConstants",
    "CriticalBatch",
    "TargetHitting",
    "bound_critical_batch",
    "bound_sfo",
    "bound_steps",
    "critical_batch",
    "gradient_target",
    "gradient_variance",
    "schedule_to_target",
    "sfo_bound",
    "steps_to_target",
]

CONVENTIONS = ("general", "small_step")
STATIONARITY = ("norm", "squared")
VARIANCES = ("optimum", "initial")
STATUSES = ("reached", "unreachable", "diverged", "horizon")

# How often (steps) the early-exit tests run: each costs a pass over the state.
_CHECK_EVERY = 64
# Steps of the schedules read at a time by schedule_to_target (never the whole per-step arrays).
_CHUNK = 4096


def _choice(value: Any, name: str, options: Sequence[str]) -> str:
    return choice(value, name, options)


def _problem(problem: Any) -> Problem:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    return problem


def _bound_constants(constants: Any) -> "BoundConstants":
    if not isinstance(constants, BoundConstants):
        raise TypeError(f"constants must be a BoundConstants; got {describe(constants)}")
    return constants


def gradient_target(epsilon: float, stationarity: str = "norm") -> float:
    """Level ``τ`` that ``E‖∇f‖²`` must reach: ``ε²`` (``"norm"``) or ``ε`` (``"squared"``).

    Parameters
    ----------
    epsilon : float
        Tolerance ``ε > 0`` (units of the gradient norm for ``"norm"``).
    stationarity : {"norm", "squared"}, default "norm"
        ``E‖∇f‖² ≤ ε²`` (docs/math.md#sfo-complexity, sufficient for ``E‖∇f‖ ≤ ε``) or ``E‖∇f‖² ≤ ε``.

    Returns
    -------
    float
        The level ``τ``.

    Raises
    ------
    ValueError
        For a non-positive ``epsilon``, an ``ε²`` outside float64, or an unknown ``stationarity``.
    TypeError
        For an ``epsilon`` that is not a real number.

    Examples
    --------
    >>> round(gradient_target(0.1), 12), gradient_target(0.1, "squared")
    (0.01, 0.1)
    """
    eps = finite_real(epsilon, "epsilon")
    if eps <= 0:
        raise ValueError(f"epsilon must be positive; got {describe(epsilon)}")
    if _choice(stationarity, "stationarity", STATIONARITY) == "squared":
        return eps
    tau = eps * eps
    if not 0.0 < tau < math.inf:
        raise ValueError(f"epsilon**2 must be a positive finite float64 for stationarity='norm'; got "
                         f"epsilon={describe(epsilon)} (epsilon**2 = {tau!r})")
    return tau


def gradient_variance(problem: Problem, second_moment: Any) -> np.ndarray:
    """Variance of a one-sample gradient, ``(κ−2) Σλ²s + tr H (Σλs + σ²)``, for states ``(..., d)``.

    Parameters
    ----------
    problem : Problem
    second_moment : array_like, shape (..., d)
        Non-negative, finite per-direction second moments ``s``.

    Returns
    -------
    ndarray, shape (...)
        ``V(s)`` per state (docs/math.md#sfo-complexity), the variance of one sample's gradient.

    Raises
    ------
    ValueError
        For a wrong last dimension, a negative or non-finite entry, or a variance beyond float64.
    TypeError
        For a ``problem`` that is not a :class:`Problem`, or entries that are not real numbers.

    Examples
    --------
    >>> p = Problem([1.0, 0.5], [1.0, 0.0], noise_variance=0.5)
    >>> float(gradient_variance(p, np.zeros(2)))      # at the optimum: σ² tr H
    0.75
    >>> float(gradient_variance(p, p.initial_second_moment))   # 1·1 + 1.5·(1 + 0.5)
    3.25
    """
    problem = _problem(problem)
    s = strict_real_array(second_moment, "second_moment")
    if s.ndim == 0 or s.shape[-1] != problem.dimension:
        raise ValueError(f"second_moment must have shape (..., d) with d = problem.dimension = {problem.dimension}; "
                         f"got shape {s.shape}")
    check_range(s, "second_moment", lower=0.0, original=second_moment)
    lam, weight = problem.eigenvalues, problem.multiplicity * problem.eigenvalues  # docs/math.md#multiplicity
    with np.errstate(over="ignore", invalid="ignore"):
        out = ((problem.kurtosis - 2.0) * (s @ (weight * lam))
               + problem.trace * (s @ weight + problem.noise_variance))
    if not np.all(np.isfinite(out)):
        raise ValueError(f"the gradient variance overflows float64 for second_moment={describe(second_moment)} "
                         f"on problem={problem!r}")
    return np.maximum(out, 0.0)


@dataclass(frozen=True)
class BoundConstants:
    """``(L, σ², Δ)`` of the master bound.

    Parameters
    ----------
    smoothness : float
        ``L > 0``.
    gradient_variance : float
        ``σ² ≥ 0``, variance bound of a one-sample stochastic gradient.
    initial_gap : float
        ``Δ = f(x_0) − f* ≥ 0``.

    Examples
    --------
    >>> p = Problem([1.0, 0.5], [1.0, 0.0], noise_variance=0.5)
    >>> BoundConstants.from_problem(p)
    BoundConstants(smoothness=1.0, gradient_variance=0.75, initial_gap=0.5)
    >>> BoundConstants.from_problem(p, variance="initial").gradient_variance
    3.25
    """

    smoothness: float
    gradient_variance: float
    initial_gap: float

    def __post_init__(self) -> None:
        L = finite_real(self.smoothness, "smoothness")
        if L <= 0:
            raise ValueError(f"smoothness must be positive; got {L!r}")
        object.__setattr__(self, "smoothness", L)
        object.__setattr__(self, "gradient_variance",
                           finite_real(self.gradient_variance, "gradient_variance", minimum=0.0))
        object.__setattr__(self, "initial_gap", finite_real(self.initial_gap, "initial_gap", minimum=0.0))

    @classmethod
    def from_problem(cls, problem: Problem, variance: str | float = "optimum") -> "BoundConstants":
        """``L = λ_1``, ``Δ = R(w_0)`` and ``σ²`` from ``variance`` (module docstring).

        Parameters
        ----------
        problem : Problem
        variance : {"optimum", "initial"} or float, default "optimum"
            ``σ²`` as :func:`gradient_variance` at the optimum (``s = 0``) or at the start
            (``s(0)``), or a given number ``≥ 0`` (docs/math.md#sfo-complexity).

        Returns
        -------
        BoundConstants

        Raises
        ------
        ValueError
            For an unknown ``variance`` name or a negative or non-finite number.
        TypeError
            For a ``problem`` that is not a :class:`Problem`.
        """
        problem = _problem(problem)
        if isinstance(variance, str):
            _choice(variance, "variance", VARIANCES)
            s = np.zeros(problem.dimension) if variance == "optimum" else problem.initial_second_moment
            sigma2 = float(gradient_variance(problem, s))
        else:
            sigma2 = finite_real(variance, "variance", minimum=0.0)
        return cls(problem.largest_eigenvalue, sigma2, problem.initial_risk)

    def coefficients(self, lr_max: float, convention: str = "general") -> tuple[float, float]:
        """``(A, B)`` of the master bound at the largest rate ``lr_max``.

        Parameters
        ----------
        lr_max : float
            Largest learning rate of the run (``0 < Lη < 2``; ``≤ 1`` for ``"small_step"``).
        convention : {"general", "small_step"}, default "general"
            ``A = 2Δ/(2 − Lη)``, ``B = Lσ²/(2 − Lη)``, or the small-step ``A = 2Δ``, ``B = Lσ²``
            (docs/math.md#sfo-complexity).

        Returns
        -------
        tuple of float
            ``(A, B)``.

        Raises
        ------
        ValueError
            For a rate outside the convention's range, an unknown convention, or an overflow.

        Examples
        --------
        >>> [round(c, 12) for c in BoundConstants(1.0, 2.0, 3.0).coefficients(0.5)]  # 2Δ/(2 − Lη), Lσ²/(2 − Lη)
        [4.0, 1.333333333333]
        >>> BoundConstants(1.0, 2.0, 3.0).coefficients(0.5, "small_step")
        (6.0, 2.0)
        """
        return self._coefficients(lr_max, convention, "lr_max")

    def _coefficients(self, lr: Any, convention: str, name: str) -> tuple[float, float]:
        """:meth:`coefficients` with errors naming the caller's argument ``name``."""
        _choice(convention, "convention", CONVENTIONS)
        value = finite_real(lr, name)
        product = self.smoothness * value
        if convention == "general":
            if not 0 < product < 2:
                raise ValueError(f"the general convention needs 0 < L*lr < 2; got {name}={describe(lr)} "
                                 f"with L = {self.smoothness!r} (L*lr = {product!r})")
            margin = 2.0 - product
            a, b = 2.0 * self.initial_gap / margin, self.smoothness * self.gradient_variance / margin
        else:
            if not 0 < product <= 1.0 + 1e-12:
                raise ValueError(f"the small-step convention needs 0 < L*lr ≤ 1; got {name}={describe(lr)} "
                                 f"with L = {self.smoothness!r} (L*lr = {product!r})")
            a, b = 2.0 * self.initial_gap, self.smoothness * self.gradient_variance
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"the bound's constants overflow float64 at {name}={describe(lr)} with {self!r}")
        return a, b


def sfo_bound(schedule: Schedule, constants: BoundConstants, convention: str = "general") -> np.ndarray:
    """Master bound on ``min_{t<K} E‖∇f(x_t)‖²`` after each ``K = 1 … T`` steps of ``schedule``.

    ``A/Σ_{t<K} η_t + B Σ_{t<K} (η_t²/b_t) / Σ_{t<K} η_t`` with ``A, B`` at the largest rate of the
    first ``K`` steps (docs/math.md#sfo-complexity).

    While no step has a positive rate yet (``Σ η = 0``, zero-LR warmup steps) the bound is ``+inf``:
    it says nothing there.

    Parameters
    ----------
    schedule : Schedule
        Per-step learning rates and batch sizes, ``T`` steps.
    constants : BoundConstants
    convention : {"general", "small_step"}, default "general"
        See :meth:`BoundConstants.coefficients`.

    Returns
    -------
    ndarray, shape (T,)
        The bound after ``K = 1 … T`` steps.

    Raises
    ------
    ValueError
        If a rate violates the convention (``Lη < 2``, or ``Lη ≤ 1``), naming the first such step;
        if the schedule has more than ``MAX_STEP_ARRAY`` steps (the result has one value per step);
        if the bound overflows float64.
    TypeError
        For a ``schedule`` that is not a :class:`Schedule` or ``constants`` that are not
        :class:`BoundConstants`.

    Examples
    --------
    >>> c = BoundConstants(1.0, 1.0, 1.0)
    >>> sfo_bound(Schedule.constant(0.5, 4, steps=3), c).round(6).tolist()   # C₁/K + C₂/b
    [2.75, 1.416667, 0.972222]
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
    constants = _bound_constants(constants)
    _choice(convention, "convention", CONVENTIONS)
    if len(schedule) > MAX_STEP_ARRAY:
        raise ValueError(f"sfo_bound returns one value per step; schedule has {len(schedule)} steps, more than "
                         f"MAX_STEP_ARRAY = {MAX_STEP_ARRAY}")
    lr, batch = schedule.step_arrays()
    product = constants.smoothness * lr
    bad = product >= 2.0 if convention == "general" else product > 1.0 + 1e-12
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"schedule violates the {convention} convention at step {i + 1}: "
                         f"L*lr = {constants.smoothness * lr[i]!r}")
    L, delta, sigma2 = constants.smoothness, constants.initial_gap, constants.gradient_variance
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if convention == "general":
            margin = 2.0 - L * np.maximum.accumulate(lr)
            a, b = 2.0 * delta / margin, L * sigma2 / margin
        else:
            a, b = 2.0 * delta, L * sigma2
        s1 = np.cumsum(lr)
        s2 = np.cumsum(lr * lr / batch)
        started = s1 > 0
        safe = np.where(started, s1, 1.0)
        out = np.where(started, a / safe + b * (s2 / safe), np.inf)
    if not np.all(np.isfinite(out[started])):
        raise ValueError(f"the bound overflows float64 for constants={constants!r} on schedule={schedule!r}")
    return out


def _constant_terms(constants: BoundConstants, lr: float, epsilon: float, convention: str,
                    stationarity: str) -> tuple[float, float, float]:
    constants = _bound_constants(constants)
    a, b = constants._coefficients(lr, convention, "lr")
    value = float(lr)
    c1, c2 = a / value, b * value
    if not (math.isfinite(c1) and math.isfinite(c2)):
        raise ValueError(f"C₁ = A/lr or C₂ = B·lr overflows float64 at lr={describe(lr)} with {constants!r}")
    return c1, c2, gradient_target(epsilon, stationarity)


def _batch_grid(batch: Any) -> np.ndarray:
    b = strict_real_array(batch, "batch")
    return check_range(b, "batch", lower=0.0, strict=True, original=batch)


def _steps_needed(c1: float, c2: float, tau: float, b: np.ndarray, what: str, args: str) -> np.ndarray:
    """``K(b) = C₁/(τ − C₂/b)`` where ``τb > C₂`` (inf elsewhere); raise if a finite value overflows."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        excess = tau - c2 / b
        feasible = excess > 0
        k = np.where(feasible, c1 / np.where(feasible, excess, 1.0), np.inf)
    if not np.all(np.isfinite(k[feasible])):
        i = int(np.argmax(feasible.ravel() & ~np.isfinite(k.ravel())))
        raise ValueError(f"{what} exceeds float64 at batch={float(b.ravel()[i])!r} ({args})")
    return k


def bound_steps(constants: BoundConstants, lr: float, batch: Any, epsilon: float, *,
                convention: str = "general", stationarity: str = "norm") -> np.ndarray:
    """Steps the bound needs at constant ``(η, b)``: ``K(b) = C₁b/(τb − C₂)``; ``inf`` for ``b ≤ C₂/τ``.

    Here ``inf`` is a value, not a failure: below the feasibility threshold no number of steps
    brings the bound to ``τ`` (docs/math.md#sfo-complexity).

    Parameters
    ----------
    constants : BoundConstants
    lr : float
        Constant learning rate ``η``.
    batch : float or array_like
        Batch size(s) ``b ≥ 1`` (samples per step).
    epsilon : float
        Tolerance; the level is :func:`gradient_target` ``(epsilon, stationarity)``.
    convention : {"general", "small_step"}, default "general"
        See :meth:`BoundConstants.coefficients`.
    stationarity : {"norm", "squared"}, default "norm"
        See :func:`gradient_target`.

    Returns
    -------
    ndarray, shape of ``batch``
        ``K(b)`` in steps.

    Raises
    ------
    ValueError
        For a rate outside the convention, a non-positive ``epsilon``, a batch below 1, or a result beyond float64.
    TypeError
        For ``constants`` that are not :class:`BoundConstants` or numbers that are not real.

    Examples
    --------
    With ``L = σ² = Δ = 1``, ``η = ½``: ``C₁ = 8/3``, ``C₂ = 1/3``, ``τ = 0.01``:

    >>> c = BoundConstants(1.0, 1.0, 1.0)
    >>> bound_steps(c, 0.5, [1, 100, 1000], 0.1).round(3).tolist()
    [inf, 400.0, 275.862]
    """
    c1, c2, tau = _constant_terms(constants, lr, epsilon, convention, stationarity)
    b = _batch_grid(batch)
    return _steps_needed(c1, c2, tau, b, "K(b)", f"lr={describe(lr)}, epsilon={describe(epsilon)}")


def bound_sfo(constants: BoundConstants, lr: float, batch: Any, epsilon: float, *,
              convention: str = "general", stationarity: str = "norm") -> np.ndarray:
    """SFO complexity the bound needs at constant ``(η, b)``: ``N(b) = b K(b)`` (``inf`` if infeasible).

    docs/math.md#sfo-complexity.

    Parameters
    ----------
    constants : BoundConstants
    lr : float
        Constant learning rate ``η``.
    batch : float or array_like
        Batch size(s) ``b ≥ 1`` (samples per step).
    epsilon : float
        Tolerance; the level is :func:`gradient_target` ``(epsilon, stationarity)``.
    convention : {"general", "small_step"}, default "general"
        See :meth:`BoundConstants.coefficients`.
    stationarity : {"norm", "squared"}, default "norm"
        See :func:`gradient_target`.

    Returns
    -------
    ndarray, shape of ``batch``
        ``N(b)`` in samples.

    Raises
    ------
    ValueError
        For a rate outside the convention, a non-positive ``epsilon``, a batch below 1, or a result beyond float64.
    TypeError
        For ``constants`` that are not :class:`BoundConstants` or numbers that are not real.

    Examples
    --------
    >>> c = BoundConstants(1.0, 1.0, 1.0)
    >>> round(float(bound_sfo(c, 0.5, 200 / 3, 0.1)), 3)   # at b* = 2C₂/τ: N = 4C₁C₂/τ²
    35555.556
    """
    c1, c2, tau = _constant_terms(constants, lr, epsilon, convention, stationarity)
    b = _batch_grid(batch)
    k = _steps_needed(c1, c2, tau, b, "K(b)", f"lr={describe(lr)}, epsilon={describe(epsilon)}")
    with np.errstate(over="ignore"):
        n = b * k
    if not np.all(np.isfinite(n[np.isfinite(k)])):
        i = int(np.argmax(np.isfinite(k.ravel()) & ~np.isfinite(n.ravel())))
        raise ValueError(f"N(b) = b·K(b) exceeds float64 at batch={float(b.ravel()[i])!r} "
                         f"(lr={describe(lr)}, epsilon={describe(epsilon)})")
    return n


def bound_critical_batch(constants: BoundConstants, lr: float, epsilon: float, *,
                         convention: str = "general", stationarity: str = "norm") -> float:
    """Critical batch size of the bound, ``b* = 2C₂/τ`` (numeric twin of :func:`proofs.critical_batch_size`).

    docs/math.md#sfo-complexity.

    Parameters
    ----------
    constants : BoundConstants
    lr : float
        Constant learning rate ``η``.
    epsilon : float
        Tolerance; the level is :func:`gradient_target` ``(epsilon, stationarity)``.
    convention : {"general", "small_step"}, default "general"
        See :meth:`BoundConstants.coefficients`.
    stationarity : {"norm", "squared"}, default "norm"
        See :func:`gradient_target`.

    Returns
    -------
    float
        ``b*`` in samples per step, the minimiser of :func:`bound_sfo` over ``b``.

    Raises
    ------
    ValueError
        For a rate outside the convention, a non-positive ``epsilon``, or a result beyond float64.
    TypeError
        For ``constants`` that are not :class:`BoundConstants` or numbers that are not real.

    Examples
    --------
    >>> round(bound_critical_batch(BoundConstants(1.0, 2.0, 1.0), 0.5, 0.1), 6)
    133.333333
    """
    _, c2, tau = _constant_terms(constants, lr, epsilon, convention, stationarity)
    out = 2.0 * c2 / tau
    if not math.isfinite(out):
        raise ValueError(f"b* = 2C₂/τ exceeds float64 at lr={describe(lr)}, epsilon={describe(epsilon)} "
                         f"with {constants!r}")
    return out


# ---------------------------------------------------------------------------------- measurement
@dataclass(frozen=True, eq=False)
class TargetHitting:
    """When the exact expected dynamics first reach ``E‖∇f‖² ≤ target``, one entry per row.

    Attributes
    ----------
    target : ndarray
        The level of each row.
    steps : ndarray of float
        First step ``t`` with ``Σλ²s(t) ≤ target`` (0 if the start qualifies); ``inf`` where not
        reached — :attr:`status` says why.
    samples : ndarray of float
        Samples consumed by then; ``inf`` where not reached.
    status : ndarray of str
        ``"reached"``, ``"unreachable"`` (certified, see the module docstring), ``"diverged"`` or
        ``"horizon"`` (``max_steps`` or the schedule exhausted, undecided).
    final_gradient_norm2 : ndarray
        ``Σλ²s`` when the row stopped.
    fractional_steps, fractional_samples : ndarray
        The crossing located inside the hitting step by interpolating ``log Σλ²s`` linearly between
        steps ``t − 1`` and ``t``: continuous in the schedule's parameters, unlike :attr:`steps`, so
        argmins and convexity are not masked by integer rounding.
    max_gradient_variance : ndarray
        ``sup_t V(s(t))`` over the steps simulated (up to the hit): the smallest one-sample variance
        bound ``σ²`` valid along this trajectory for the master bound.

    Examples
    --------
    One direction, no noise, η = ½, b = 1: ``s`` shrinks by 0.75 per step, and 0.75^16 ≈ 0.01002
    is still above 0.01, so the first step at or below it is 17:

    >>> p = Problem([1.0], [1.0], noise_variance=0.0)
    >>> h = schedule_to_target(p, Schedule.constant(0.5, 1, steps=40), 0.01)
    >>> h.status.tolist(), h.steps.tolist(), bool(h.reached[0])
    (['reached'], [17.0], True)
    """

    target: np.ndarray
    steps: np.ndarray
    samples: np.ndarray
    status: np.ndarray
    final_gradient_norm2: np.ndarray
    fractional_steps: np.ndarray
    fractional_samples: np.ndarray
    max_gradient_variance: np.ndarray

    @property
    def reached(self) -> np.ndarray:
        """Boolean mask of the rows that reached the target."""
        return self.status == "reached"


def _crossing_fraction(before: np.ndarray, after: np.ndarray, tau: Any) -> np.ndarray:
    """Where ``log g`` crosses ``log τ`` inside a step, as a fraction in ``[0, 1]``."""
    before = np.maximum(before, tau)  # the start of the step is above the target by construction
    after = np.minimum(after, tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        span = np.log(before) - np.log(after)
        frac = np.where(span > 0, (np.log(before) - np.log(tau)) / np.where(span > 0, span, 1.0), 1.0)
    return np.clip(frac, 0.0, 1.0)


def _positive_targets(target: Any, rows: int) -> np.ndarray:
    tau = strict_real_array(target, "target")
    if tau.ndim > 1 or (tau.ndim == 1 and tau.shape[0] != rows):
        raise ValueError(f"target must be a scalar or have one entry per row ({rows}); got shape {tau.shape}")
    if np.any(~np.isfinite(tau) | (tau <= 0)):
        raise ValueError(f"target must be positive and finite; got {describe(target)}")
    return np.broadcast_to(tau, (rows,)).copy()


def _hitting(*args: Any, **kwargs: Any) -> TargetHitting:
    """:func:`_hitting_loop` with float64 overflow allowed: overflowing rows are reported as diverged."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _hitting_loop(*args, **kwargs)


def _hitting_loop(problem: Problem, lr_at: Any, batch_at: Any, samples_after: Any, rows: int, horizon: int,
                  tau: np.ndarray, *, ends: np.ndarray | None = None, s_inf: np.ndarray | None = None,
                  constant: bool = False) -> TargetHitting:
    """The shared loop. ``lr_at(t, idx)``, ``batch_at(t, idx)``: step ``t``'s (0-based) rate and batch
    for rows ``idx``; ``samples_after(t, idx)``: cumulative samples after step ``t``."""
    lam = problem.eigenvalues
    moments = np.stack([lam, lam * lam], axis=1) * problem.multiplicity[:, None]  # docs/math.md#multiplicity
    kappa_excess, trace, sigma2 = problem.kurtosis - 2.0, problem.trace, problem.noise_variance
    certify = constant and problem.kurtosis >= 2.0
    steps, samples = np.full(rows, np.inf), np.full(rows, np.inf)
    frac_steps, frac_samples = np.full(rows, np.inf), np.full(rows, np.inf)
    status = np.full(rows, "horizon", dtype=object)
    final = np.full(rows, np.nan)
    s = np.repeat(problem.initial_second_moment[None, :], rows, axis=0)
    qm = s @ moments
    q, g = qm[:, 0], qm[:, 1]
    vmax = kappa_excess * g + trace * (q + sigma2)
    hit = g <= tau
    steps[hit] = samples[hit] = frac_steps[hit] = frac_samples[hit] = 0.0
    status[hit], final[hit] = "reached", g[hit]
    active = np.flatnonzero(~hit)
    s, q, g = s[active], q[active], g[active]
    hopeless = None
    if certify and s_inf is not None:
        with np.errstate(invalid="ignore"):
            hopeless = np.isfinite(s_inf[:, 0]) & (s_inf @ moments[:, 1] >= tau)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(horizon):
            if not active.size:
                break
            lr, batch = lr_at(t, active), batch_at(t, active)
            previous, s_before = g, s
            s = second_moment_step(s, lam, lr[:, None], batch[:, None], sigma2, problem.kurtosis,
                                   q=q[:, None], xp=np)
            qm = s @ moments
            q, g = qm[:, 0], qm[:, 1]
            vmax[active] = np.fmax(vmax[active], kappa_excess * g + trace * (q + sigma2))
            done = g <= tau[active]
            if done.any():
                idx = active[done]
                frac = _crossing_fraction(previous[done], g[done], tau[idx])
                after = samples_after(t, idx)
                steps[idx], samples[idx], status[idx], final[idx] = float(t + 1), after, "reached", g[done]
                frac_steps[idx] = t + frac
                frac_samples[idx] = after - batch[done] * (1.0 - frac)
            stop = done
            if done.any() or (t + 1) % _CHECK_EVERY == 0 or t + 1 == horizon:
                bad = ~np.isfinite(g) & ~done
                status[active[bad]] = "diverged"
                stop = stop | bad
                if certify:
                    # Both certificates of the module docstring (constant (η, b), κ ≥ 2).
                    grew = np.all(s >= s_before, axis=1)
                    if hopeless is not None:
                        grew |= hopeless[active] & np.all(s >= s_inf[active], axis=1)
                    stuck = grew & ~stop
                    status[active[stuck]] = "unreachable"
                    stop = stop | stuck
            if ends is not None:
                stop = stop | (ends[active] <= t + 1)
            if stop.any():
                final[active[stop & ~done]] = g[stop & ~done]
                keep = ~stop
                active, s, q, g = active[keep], s[keep], q[keep], g[keep]
    if active.size:
        final[active] = g
    return TargetHitting(tau, steps, samples, status.astype(str), final, frac_steps, frac_samples, vmax)


def steps_to_target(problem: Problem, lr: Any, batch: Any, target: float, *,
                    max_steps: int = 100_000) -> TargetHitting:
    """Exact steps (and samples) for constant-``(η, b)`` SGD to reach ``E‖∇f‖² ≤ target``.

    Parameters
    ----------
    problem : Problem
    lr, batch : float or array_like
        Broadcast against each other; one row per pair. Real batch sizes are allowed.
    target : float or array_like
        Level of ``E‖∇f‖² = Σλ²s`` (see :func:`gradient_target`); one per row or shared.
    max_steps : int

    Returns
    -------
    TargetHitting
        Arrays of the broadcast shape, flattened to 1-D.

    Examples
    --------
    One direction, λ = 1, no noise, Gaussian: each step multiplies ``s`` by ``1/4 + 1/(2B)`` at η = ½:

    >>> p = Problem([1.0], [1.0], noise_variance=0.0)
    >>> h = steps_to_target(p, 0.5, [1, 1000], 1e-4)      # 0.75^t and 0.2505^t reach 1e-4
    >>> h.steps.tolist(), h.status.tolist()
    ([33.0, 7.0], ['reached', 'reached'])
    >>> steps_to_target(Problem([1.0], [1.0], noise_variance=1.0), 0.5, 1, 1e-4).status.tolist()
    ['unreachable']
    """
    problem = _problem(problem)
    lr_in, batch_in = strict_real_array(lr, "lr"), strict_real_array(batch, "batch")
    if np.any(~np.isfinite(lr_in) | (lr_in <= 0)):
        raise ValueError(f"lr must be positive and finite; got {describe(lr)}")
    if np.any(~np.isfinite(batch_in) | (batch_in < 1)):
        raise ValueError(f"batch must be ≥ 1 and finite; got {describe(batch)}")
    try:
        lr_arr, batch_arr = np.broadcast_arrays(lr_in, batch_in)
    except ValueError as exc:
        raise ValueError(f"lr and batch must broadcast together; got shapes {lr_in.shape} and {batch_in.shape}") \
            from exc
    lr_arr, batch_arr = lr_arr.ravel().copy(), batch_arr.ravel().copy()
    if lr_arr.size == 0:
        raise ValueError(f"lr and batch must hold at least one pair; got lr={describe(lr)}, batch={describe(batch)}")
    max_steps = positive_int(max_steps, "max_steps")
    rows = lr_arr.shape[0]
    tau = _positive_targets(target, rows)
    s_inf = np.full((rows, problem.dimension), np.nan)
    if problem.kurtosis >= 2.0:
        from ..dynamics.stability import is_stable, stationary_second_moment

        for i in range(rows):
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    if is_stable(problem, lr_arr[i], batch_arr[i]):
                        s_inf[i] = stationary_second_moment(problem, lr_arr[i], batch_arr[i])
            except (OverflowError, ZeroDivisionError):
                pass  # η² or η²λ² beyond float64: certainly not stable; no certificate for this row
    hit = _hitting(problem, lambda t, idx: lr_arr[idx], lambda t, idx: batch_arr[idx],
                   lambda t, idx: (t + 1) * batch_arr[idx], rows, max_steps, tau, s_inf=s_inf, constant=True)
    return _finite_samples(hit, "batch", batch)


def schedule_to_target(problem: Problem, schedules: Schedule | Sequence[Schedule],
                       target: float) -> TargetHitting:
    """Steps and samples for SGD along each schedule to reach ``E‖∇f‖² ≤ target`` (exact, early exit).

    A schedule that ends before reaching the target is ``"horizon"``. Schedules of different
    lengths run together, one row each; ``target`` is shared or one per schedule (pass the same
    schedule several times to get several targets along one trajectory).
    Exact SGD recursion, docs/math.md#sgd-second-moment-recursion.

    Parameters
    ----------
    problem : Problem
    schedules : Schedule or sequence of Schedule
        One row per schedule.
    target : float or array_like, shape (rows,)
        Level(s) of ``E‖∇f‖²``, positive.

    Returns
    -------
    TargetHitting
        One entry per schedule.

    Raises
    ------
    ValueError
        For a non-positive or non-finite target, a target array of the wrong length, or no schedule.
    TypeError
        For a ``problem`` that is not a :class:`Problem` or a schedule that is not a :class:`Schedule`.

    Examples
    --------
    Two steps at B = 1 (× 0.75 each), then B = 4 (× 0.375 each) until 0.5625 · 0.375^n ≤ 1e-4:

    >>> p = Problem([1.0], [1.0], noise_variance=0.0)
    >>> h = schedule_to_target(p, Schedule.from_phases([(0.5, 1, 2), (0.5, 4, 40)]), 1e-4)
    >>> h.steps.tolist(), h.samples.tolist(), h.status.tolist()
    ([11.0], [38.0], ['reached'])
    """
    items = schedule_list(schedules)
    problem = _problem(problem)
    rows, horizon = len(items), max(len(x) for x in items)
    tau = _positive_targets(target, rows)
    ends = np.array([len(x) for x in items], dtype=np.int64)
    # Per-step (lr, batch) are read _CHUNK steps at a time (Schedule.step_arrays), so a long segment
    # schedule costs memory for one chunk, and time only for the steps simulated (early exit).
    table = {"start": -1, "lr": None, "batch": None, "cum": None}
    running = np.zeros(rows)

    def load(t: int) -> None:
        start = (t // _CHUNK) * _CHUNK
        if table["start"] == start:
            return
        stop = start + _CHUNK
        lr_tab = np.zeros((_CHUNK, rows))  # zero rate past a schedule's end leaves its state alone
        batch_tab = np.ones((_CHUNK, rows))
        for j, sched in enumerate(items):
            lo, hi = min(start, len(sched)), min(stop, len(sched))
            if hi > lo:
                lr_j, b_j = sched.step_arrays(lo, hi)
                lr_tab[: hi - lo, j], batch_tab[: hi - lo, j] = lr_j, b_j
        base = running if table["cum"] is None else table["cum"][-1]
        table.update(start=start, lr=lr_tab, batch=batch_tab, cum=base + np.cumsum(batch_tab, axis=0))

    def lr_at(t: int, idx: np.ndarray) -> np.ndarray:
        load(t)
        return table["lr"][t - table["start"], idx]

    def batch_at(t: int, idx: np.ndarray) -> np.ndarray:
        load(t)
        return table["batch"][t - table["start"], idx]

    def samples_after(t: int, idx: np.ndarray) -> np.ndarray:
        load(t)
        return table["cum"][t - table["start"], idx]

    return _finite_samples(_hitting(problem, lr_at, batch_at, samples_after, rows, horizon, tau, ends=ends),
                           "schedules", schedules)


def _finite_samples(hit: TargetHitting, name: str, value: Any) -> TargetHitting:
    """Refuse a result whose reached rows count samples beyond float64 (batches near 1e308)."""
    bad = hit.reached & ~(np.isfinite(hit.samples) & np.isfinite(hit.fractional_samples))
    if bad.any():
        raise ValueError(f"the samples consumed to the target overflow float64 (row {int(np.argmax(bad))}); "
                         f"got {name}={describe(value)}")
    return hit


@dataclass(frozen=True, eq=False)
class CriticalBatch:
    """Measured steps and SFO to a target over a batch grid at fixed ``η``, beside the bound.

    Attributes
    ----------
    lr, epsilon, target : float
    batches : ndarray
    steps, sfo : ndarray
        Measured, with the crossing located inside its step (``hitting.fractional_steps``,
        ``hitting.fractional_samples``); ``inf`` where the target is not reached (``hitting.status``
        says why). Integer counts are in ``hitting.steps`` and ``hitting.samples``.
    hitting : TargetHitting
    critical_batch : float
        ``argmin_b`` of the measured SFO, on the grid refined around the minimum (``nan`` if no
        batch reaches the target).
    interior : bool
        Whether that minimum lies strictly inside the (refined) grid with reached neighbours on both
        sides — a minimum at the first reachable batch is not interior.
    convex : bool
        Whether the measured SFO is convex in ``b`` on the reached part of the grid (divided second
        differences ``≥ −slack·N/h²``). The bound's ``N(b)`` is convex; the measured one need not be
        (several eigen-directions superpose), and :attr:`unimodal` is the weaker property.
    unimodal : bool
        Whether the measured SFO decreases up to its grid minimum and increases after it.
    constants : BoundConstants
        With ``σ²`` chosen by ``variance``.
    bound_steps, bound_sfo : ndarray
        The bound's ``K(b)``, ``N(b)`` on the grid with those constants.
    bound_critical_batch : float
        ``b* = 2C₂/τ`` with those constants.
    bound_holds : ndarray of bool
        Per reached batch, whether the measured integer steps are ``≤ K(b)``.
    trajectory_bound_steps : ndarray
        ``K(b)`` with ``σ²`` replaced by that trajectory's ``sup_t V(s_t)`` — the constant the master
        bound's proof needs, so this bound must hold (a theorem on noisy linear regression).
    settings : dict

    Examples
    --------
    >>> p = Problem.isotropic(4, 1.0, 1.0, noise_variance=1.0)
    >>> cb = critical_batch(p, 0.1, 0.1, np.geomspace(1, 1024, 11))
    >>> cb.sfo.shape, bool(np.all(cb.bound_holds))
    ((11,), True)
    """

    lr: float
    epsilon: float
    target: float
    batches: np.ndarray
    steps: np.ndarray
    sfo: np.ndarray
    hitting: TargetHitting
    critical_batch: float
    interior: bool
    convex: bool
    unimodal: bool
    constants: BoundConstants
    bound_steps: np.ndarray
    bound_sfo: np.ndarray
    bound_critical_batch: float
    bound_holds: np.ndarray
    trajectory_bound_steps: np.ndarray
    settings: dict = field(default_factory=dict)


def _unimodal(y: np.ndarray) -> bool:
    """Non-increasing up to the argmin, non-decreasing after it (up to rounding)."""
    if y.size < 2:
        return True
    i = int(np.argmin(y))
    slack = 1e-12 * np.abs(y).max()
    return bool(np.all(np.diff(y[: i + 1]) <= slack) and np.all(np.diff(y[i:]) >= -slack))


def _convex_on_grid(x: np.ndarray, y: np.ndarray, slack: float) -> bool:
    """Discrete convexity of ``y(x)`` on a non-uniform grid."""
    if x.size < 3:
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        d1 = np.diff(y) / np.diff(x)
        h = 0.5 * (x[2:] - x[:-2])
        d2 = np.diff(d1) / h
        return bool(np.all(d2 >= -slack * np.abs(y[1:-1]) / h**2))


def _trajectory_bound(constants: BoundConstants, variance: float, lr: float, batch: float, epsilon: float,
                      kw: dict) -> float:
    """``K(b)`` with ``σ²`` = a trajectory's own sup of ``V``; ``inf`` when that is not finite (a diverged
    row) or when ``K`` exceeds float64 (the bound then says nothing either)."""
    if not math.isfinite(variance):
        return math.inf
    try:
        return float(bound_steps(BoundConstants(constants.smoothness, variance, constants.initial_gap), lr, batch,
                                 epsilon, **kw))
    except ValueError:
        return math.inf


def critical_batch(problem: Problem, lr: float, epsilon: float, batches: Any, *,
                   stationarity: str = "norm", convention: str = "general",
                   variance: str | float = "optimum", max_steps: int = 200_000,
                   convex_slack: float = 0.0, refine: int = 2) -> CriticalBatch:
    """Empirical critical batch size (argmin of measured SFO-to-ε over ``batches``) beside the bound's.

    Parameters
    ----------
    problem : Problem
    lr : float
        Constant learning rate ``η`` (``Lη < 2`` for the general convention).
    epsilon : float
        Tolerance; the target is :func:`gradient_target` ``(epsilon, stationarity)``.
    batches : array_like
        Increasing grid of (real) batch sizes, at least 3.
    stationarity, convention, variance
        See :func:`gradient_target`, :meth:`BoundConstants.coefficients`,
        :meth:`BoundConstants.from_problem`.
    max_steps : int
    convex_slack : float
        Relative slack of the convexity test.
    refine : int
        Rounds of zooming (17 geometric points between the argmin's neighbours) that locate the
        critical batch more finely than the grid. Zoom points enter ``critical_batch`` and
        ``interior`` only; the arrays stay on ``batches``.

    Returns
    -------
    CriticalBatch
        Measured and bound quantities on ``batches`` (docs/math.md#sfo-complexity).

    Raises
    ------
    ValueError
        For a non-positive ``lr`` or ``epsilon``, a grid that is not increasing, has fewer than 3
        points or a batch below 1, or an unknown option name.
    TypeError
        For a ``problem`` that is not a :class:`Problem` or numbers that are not real.

    Examples
    --------
    >>> p = Problem.isotropic(4, 1.0, 1.0, noise_variance=1.0)
    >>> cb = critical_batch(p, 0.1, 0.1, np.geomspace(1, 1024, 31))
    >>> cb.interior, cb.convex, round(cb.critical_batch / cb.bound_critical_batch, 2)
    (True, True, 0.57)
    """
    problem = _problem(problem)
    lr_in = lr
    lr = finite_real(lr, "lr")
    if lr <= 0:
        raise ValueError(f"lr must be positive; got {describe(lr_in)}")
    b = strict_real_array(batches, "batches")
    if b.ndim != 1 or b.size < 3:
        raise ValueError(f"batches must be an increasing 1-D grid of at least 3 sizes; got {describe(batches)}")
    check_range(b, "batches", lower=1.0, original=batches)
    if np.any(np.diff(b) <= 0):
        raise ValueError(f"batches must be an increasing 1-D grid of at least 3 sizes; got {describe(batches)}")
    refine = nonnegative_int(refine, "refine", maximum=MAX_REFINE)
    convex_slack = finite_real(convex_slack, "convex_slack", minimum=0.0)
    max_steps = positive_int(max_steps, "max_steps")
    _choice(convention, "convention", CONVENTIONS)
    target = gradient_target(epsilon, stationarity)
    # The bound's side first: its argument errors come before any measurement.
    constants = BoundConstants.from_problem(problem, variance)
    kw = dict(convention=convention, stationarity=stationarity)
    try:
        k_bound = bound_steps(constants, lr, b, epsilon, **kw)
        n_bound = bound_sfo(constants, lr, b, epsilon, **kw)
        b_star = bound_critical_batch(constants, lr, epsilon, **kw)
    except ValueError as exc:
        raise ValueError(f"{exc}; the constants come from problem and variance={describe(variance)}") from exc
    hit = steps_to_target(problem, lr, b, target, max_steps=max_steps)
    sfo = hit.fractional_samples
    reached = hit.reached
    if reached.any():
        i = int(np.argmin(np.where(reached, sfo, np.inf)))
        crit, best = float(b[i]), float(sfo[i])
        interior = bool(0 < i < b.size - 1 and reached[i - 1] and reached[i + 1])
        convex = _convex_on_grid(b[reached], sfo[reached], convex_slack)
        unimodal = _unimodal(sfo[reached])
        lo, hi = b[max(i - 1, 0)], b[min(i + 1, b.size - 1)]
        at_threshold = bool(i > 0 and not reached[i - 1])
        rounds = 0
        # Zoom between the argmin's neighbours. Next to the feasibility threshold N blows up only
        # logarithmically (linear convergence to a stationary level just below the target), so a
        # minimum there may need extra rounds (up to 8 more) before it shows as interior.
        while rounds < refine or (refine and at_threshold and not interior and rounds < refine + 8):
            rounds += 1
            zoom = np.geomspace(lo, hi, 17)
            z = steps_to_target(problem, lr, zoom, target, max_steps=max_steps)
            zs = np.where(z.reached, z.fractional_samples, np.inf)
            j = int(np.argmin(zs))
            if zs[j] <= best:
                crit, best = float(zoom[j]), float(zs[j])
                interior = bool(0 < j < zoom.size - 1 and z.reached[j - 1] and z.reached[j + 1])
                at_threshold = bool(j > 0 and not z.reached[j - 1])
            lo, hi = zoom[max(j - 1, 0)], zoom[min(j + 1, zoom.size - 1)]
    else:
        crit, interior, convex, unimodal = math.nan, False, False, False
    per_row = np.array([_trajectory_bound(constants, float(v), lr, float(bi), epsilon, kw)
                        for v, bi in zip(hit.max_gradient_variance, b)])
    return CriticalBatch(
        lr=lr, epsilon=float(epsilon), target=target, batches=b, steps=hit.fractional_steps, sfo=sfo,
        hitting=hit, critical_batch=crit, interior=interior, convex=convex, unimodal=unimodal,
        constants=constants,
        bound_steps=k_bound, bound_sfo=n_bound,
        bound_critical_batch=b_star,
        bound_holds=np.where(reached, hit.steps <= k_bound, True),
        trajectory_bound_steps=per_row,
        settings={"stationarity": stationarity, "convention": convention, "variance": variance,
                  "max_steps": max_steps, "convex_slack": convex_slack, "refine": refine},
    )
