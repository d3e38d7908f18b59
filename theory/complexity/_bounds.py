"""The master bound on noisy linear regression: its constants and what it predicts (docs/math.md#sfo-complexity).

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
guarantees; ``"squared"`` asks ``E‖∇f‖² ≤ ε``.

The measurement beside the bound is in ``_hitting`` (steps to a target) and ``_critical_batch``
(the measured ``b*``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._limits import MAX_STEP_ARRAY
from .._validate import check_range, choice, describe, finite_real, positive_real, strict_real_array
from ..dynamics import Problem
from ..schedules._schedule import Schedule

__all__ = [
    "BoundConstants",
    "bound_critical_batch",
    "bound_sfo",
    "bound_steps",
    "gradient_target",
    "gradient_variance",
    "sfo_bound",
]

CONVENTIONS = ("general", "small_step")
STATIONARITY = ("norm", "squared")
VARIANCES = ("optimum", "initial")


def check_problem(problem: Any) -> Problem:
    """``problem`` if it is a :class:`Problem`; a ``TypeError`` naming it otherwise (package-internal)."""
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
    if choice(stationarity, "stationarity", STATIONARITY) == "squared":
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
    problem = check_problem(problem)
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
        L = positive_real(self.smoothness, "smoothness")
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
        problem = check_problem(problem)
        if isinstance(variance, str):
            choice(variance, "variance", VARIANCES)
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
        choice(convention, "convention", CONVENTIONS)
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
    choice(convention, "convention", CONVENTIONS)
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
    """Critical batch size of the bound, ``b* = 2C₂/τ`` (the same quantity and name as :func:`ramplab.proofs.bound_critical_batch`, which also takes sympy objects).

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
