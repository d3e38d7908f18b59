"""The measured ε-exponent of exponential growth, one ``(γ, δ)`` cell at a time (docs/math.md#growth-exponent-measurement).

:func:`measure_growth_exponent` takes a :class:`GrowthCell` — the problem, the growth factors, the
target (gradient norm, the papers', or excess risk), the grid of tolerances and the schedule's
scale — and returns a :class:`GrowthExponent`: the samples to each tolerance, the least-squares
slope of ``ln N`` against ``ln(1/ε)`` with its standard error, and which term of the exact solver's
bias/variance split held the larger share at each crossing. It is a pure function of its one
argument (no global state, no randomness), so a sweep can map it over any executor.

The dynamics are the exact SGD recursion (docs/math.md#sgd-second-moment-recursion). Within a stage
``(η, b)`` is constant and the step is the affine map ``s ← Ms + v``; :func:`measure_growth_exponent`
squares the augmented step matrix ``⌈log₂ K⌉`` times and reaches any step of the stage by binary
lifting, so a stage of ``10¹²`` steps costs about 40 products of ``(d+1) × (d+1)`` matrices, not
``10¹²`` passes. :func:`term_exponent` gives the exponent each term would produce alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._frozen import ValueRecord
from .._limits import MAX_CELL_STAGES
from .._validate import check_range, choice, describe, finite_real, positive_int, strict_real_array
from ..dynamics import Problem
from ..dynamics import _step as step_formulas  # the solver's step coefficients, once
from ..schedules._growth import float_power
from ._growth_bounds import sfo_exponent

__all__ = ["GrowthCell", "GrowthExponent", "TARGETS", "TERMS", "measure_growth_exponent", "term_exponent"]

#: What a cell drives below ``ε²``: ``E‖∇f‖² = Σ mλ²s`` (the papers') or the excess risk ``½ Σ mλs``.
TARGETS = ("gradient_norm", "excess_risk")
#: The two parts of the exact solver's split (docs/math.md#sgd-second-moment-recursion).
TERMS = ("bias", "variance")


def term_exponent(term: str, gamma: float, delta: float, bias_decay: float = 1.0) -> float:
    """ε-exponent of ``N_ε`` when one term of the split alone decides the crossings.

    With stages ``b_m = b₀δ^m``, ``η_m = η₀γ^m`` and the target ``ε²`` on a quantity whose

    - **variance** part tracks its quasi-stationary level ``∝ η_m/b_m ∝ (γ/δ)^m``:
      ``e_var = 2 ln δ/(ln δ − ln γ)`` (``inf`` for ``δ ≤ γ``);
    - **bias** part decays like ``(Σ η)^{−p}`` (``p = bias_decay``) with ``Σ η ∝ γ^m``:
      ``e_bias = 2 ln δ/(p ln γ)`` (``inf`` for ``γ ≤ 1``).

    For the master bound ``p = 1`` and ``max(e_bias, e_var)`` is :func:`~theory.sfo_exponent`. On
    a power law ``λ_i = i^{−a}``, ``λ_i s_i(0) = i^{−b}``, ``p = (a + b − 1)/a`` for the gradient
    norm and ``(b − 1)/a`` for the excess risk (docs/math.md#growth-exponent-measurement).

    Parameters
    ----------
    term : {"bias", "variance"}
    gamma, delta : float
        Learning-rate and batch growth factors per stage (positive).
    bias_decay : float, default 1.0
        ``p > 0``; only the bias term uses it.

    Returns
    -------
    float
        The exponent, ``inf`` where the term does not vanish polynomially fast in ``N``.

    Raises
    ------
    ValueError
        For an unknown ``term`` or a non-positive or non-finite number.
    TypeError
        For a number that is not real, or a ``term`` that is not a string.

    See Also
    --------
    measure_growth_exponent : the measured exponent and the dominant term of a cell.

    Examples
    --------
    >>> round(term_exponent("variance", 1.2, 1.3), 2), round(term_exponent("bias", 1.2, 1.3), 2)
    (6.56, 2.88)
    >>> round(term_exponent("bias", 1.2, 1.44), 12), round(term_exponent("variance", 1.2, 1.44), 12)
    (4.0, 4.0)
    """
    term = choice(term, "term", TERMS)
    g, d = finite_real(gamma, "gamma"), finite_real(delta, "delta")
    p = finite_real(bias_decay, "bias_decay")
    for name, v in (("gamma", g), ("delta", d), ("bias_decay", p)):
        if v <= 0:
            raise ValueError(f"{name} must be positive; got {v!r}")
    if term == "variance":
        if d <= g:
            return math.inf
        # x/(x − 1) with x = ln δ/ln γ is not defined at γ = 1; write it as ln δ/(ln δ − ln γ).
        return 2.0 * math.log(d) / (math.log(d) - math.log(g))
    if g <= 1.0 or d <= 1.0:
        return math.inf
    return 2.0 * math.log(d) / (p * math.log(g))


@dataclass(frozen=True, eq=False)
class GrowthCell(ValueRecord):
    """One ``(γ, δ)`` cell of an ε-exponent measurement: everything :func:`measure_growth_exponent` needs.

    Parameters
    ----------
    problem : Problem
    gamma, delta : float
        Growth factors per stage of the learning rate and the batch (positive).
    epsilons : array_like, shape (n,)
        Tolerances, decreasing, positive; the target is ``ε²`` on the quantity ``target`` names.
        At least 3 (a slope and its standard error).
    target : {"gradient_norm", "excess_risk"}, default "gradient_norm"
        ``E‖∇f‖² ≤ ε²`` (the papers' stationarity, norm convention) or excess risk ``≤ ε²``.
    lr0 : float, default 1e-3
        ``η₀`` of stage 0.
    batch0 : float, default 1.0
        ``b₀ ≥ 1`` (real batches).
    stage_steps : int, default 100
        ``K`` steps per stage.
    max_stages : int, default 400
        Stages run at most; tolerances not reached by then are ``inf``.
    lr_cap : float or None, default None
        Learning rates are ``min(η₀γ^m, lr_cap)``; ``None`` means ``1/λ_1`` (the small-step
        convention of the bound). A run that passes the stability edge (a growing ``η`` or a
        shrinking batch) stops there, before the first unstable stage; its later tolerances stay
        unreached (see :attr:`GrowthExponent.diverged_at_stage`).

    Raises
    ------
    TypeError
        For a ``problem`` that is not a :class:`Problem`, or a number that is not real.
    ValueError
        For a value out of its domain (non-positive factors or rates, fewer than 3 or non-decreasing
        tolerances, an unknown ``target``), naming the argument.

    See Also
    --------
    measure_growth_exponent : runs the cell.

    Examples
    --------
    >>> p = Problem([1.0, 0.1], [1.0, 1.0], noise_variance=1.0)
    >>> cell = GrowthCell(p, 1.2, 1.44, [0.3, 0.2, 0.1])
    >>> cell.target, cell.lr_cap
    ('gradient_norm', 1.0)
    """

    problem: Problem
    gamma: float
    delta: float
    epsilons: Any
    target: str = "gradient_norm"
    lr0: float = 1e-3
    batch0: float = 1.0
    stage_steps: int = 100
    max_stages: int = 400
    lr_cap: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.problem, Problem):
            raise TypeError(f"problem must be a Problem; got {describe(self.problem)}")
        for name in ("gamma", "delta", "lr0"):
            v = finite_real(getattr(self, name), name)
            if v <= 0:
                raise ValueError(f"{name} must be positive; got {describe(getattr(self, name))}")
            object.__setattr__(self, name, v)
        object.__setattr__(self, "batch0", finite_real(self.batch0, "batch0", minimum=1.0))
        object.__setattr__(self, "target", choice(self.target, "target", TARGETS))
        object.__setattr__(self, "stage_steps", positive_int(self.stage_steps, "stage_steps", maximum=2**40))
        object.__setattr__(self, "max_stages", positive_int(self.max_stages, "max_stages", maximum=MAX_CELL_STAGES))
        eps = strict_real_array(self.epsilons, "epsilons")
        if eps.ndim != 1 or eps.shape[0] < 3:
            raise ValueError(f"epsilons must be a 1-D sequence of at least 3 tolerances; got {describe(self.epsilons)}")
        check_range(eps, "epsilons", lower=0.0, strict=True, original=self.epsilons)
        if np.any(~np.isfinite(eps)) or np.any(np.diff(eps) >= 0):
            raise ValueError(f"epsilons must be finite and strictly decreasing; got {describe(self.epsilons)}")
        with np.errstate(under="ignore", over="ignore"):
            if np.any(eps * eps == 0) or np.any(~np.isfinite(eps * eps)):
                raise ValueError(f"epsilons**2 must be positive finite float64; got {describe(self.epsilons)}")
        eps = eps.copy()
        eps.flags.writeable = False
        object.__setattr__(self, "epsilons", eps)
        if self.lr_cap is None:
            cap = 1.0 / self.problem.largest_eigenvalue
            if not math.isfinite(cap):
                raise ValueError(f"the default lr_cap = 1/λ_1 overflows float64 for problem={self.problem!r}; "
                                 f"pass lr_cap=")
        else:
            cap = finite_real(self.lr_cap, "lr_cap")
            if cap <= 0:
                raise ValueError(f"lr_cap must be positive (or None); got {describe(self.lr_cap)}")
        object.__setattr__(self, "lr_cap", cap)


@dataclass(frozen=True, eq=False)
class GrowthExponent:
    """What :func:`measure_growth_exponent` found for one cell.

    Attributes
    ----------
    cell : GrowthCell
    sfo : ndarray, shape (n,)
        Samples until the target first drops to ``ε²`` (crossing located inside its step by
        interpolating the logarithm); ``inf`` where not reached within ``max_stages``.
    steps : ndarray, shape (n,)
        The same crossing in steps.
    bias_share : ndarray, shape (n,)
        Bias part over the total at the first step at or below ``ε²`` (``nan`` where not reached).
    stage_level : ndarray, shape (stages,)
        ``ε`` reached at the end of each stage: the square root of the target quantity there.
    stage_sfo : ndarray, shape (stages,)
        Samples used by the end of each stage. Where the target falls monotonically this is
        ``N`` at ``ε = stage_level``, measured at the same phase of every stage.
    stage_bias_share : ndarray, shape (stages,)
        Bias part over the total at the end of each stage.
    fitted : ndarray of bool, shape (stages,)
        The stage ends that enter the fit: those inside the window ``min(ε) ≤ stage_level ≤ max(ε)``
        and the nearest one beyond each edge, so that the fit spans the whole window.
    exponent, stderr : float
        Least-squares slope of ``ln stage_sfo`` against ``ln(1/stage_level)`` over the fitted stage
        ends, and its standard error (``nan`` with fewer than 3 points, and ``nan`` when the run
        diverged before its last tolerance was reached). Stage ends, not the
        crossings of the grid, because within a stage ``N`` and the target move on different
        curves: a fit through crossings at arbitrary phases carries a periodic bias of a few per
        cent that no standard error shows.
    dominant : str
        ``"bias"`` or ``"variance"`` if that part held more than half of the target at every fitted
        stage end, ``"mixed"`` otherwise, ``"diverged"`` when the run passed the stability edge
        before its last tolerance was reached, ``"none"`` without a fit otherwise.
    capped : bool
        Whether the learning-rate cap came into force before the smallest tolerance was reached or
        at a fitted stage end (the schedule then no longer grows ``η``: the measurement is not of
        exponential growth, and the run stops there).
    bound_exponent : float
        The master bound's exponent, :func:`~theory.sfo_exponent` ``(γ, δ)``.
    stages : int
        Stages run.
    diverged_at_stage : int or None
        The first stage past the stability edge, where the run stopped without running it: its
        step map ``s ← Ms + v`` has spectral radius ``ρ(M) ≥ 1`` (docs/math.md#stability: some
        ``ηλ_i(2 − cηλ_i) ≤ 0`` or ``(η/b) Σ m_i λ_i/(2 − cηλ_i) ≥ 1``), or its ``η`` or its
        second moments overflowed; ``None`` for a run that stayed stable. The stage ends before it
        are kept in ``stage_level`` and the other per-stage arrays.

    Examples
    --------
    Almost no label noise: the bias part decides every fitted stage end.

    >>> p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1e-4)
    >>> cell = GrowthCell(p, 1.2, 1.44, np.geomspace(0.3, 0.03, 5), lr0=0.01, stage_steps=100)
    >>> r = measure_growth_exponent(cell)
    >>> r.sfo.shape, r.dominant, r.capped, round(r.exponent, 1)
    ((5,), 'bias', False, 2.4)
    """

    cell: GrowthCell
    sfo: np.ndarray
    steps: np.ndarray
    bias_share: np.ndarray
    stage_level: np.ndarray
    stage_sfo: np.ndarray
    stage_bias_share: np.ndarray
    fitted: np.ndarray
    exponent: float
    stderr: float
    dominant: str
    capped: bool
    bound_exponent: float
    stages: int
    diverged_at_stage: int | None = None

    @property
    def decades(self) -> float:
        """Decades of ε spanned by the fitted stage ends (0 without a fit)."""
        e = self.stage_level[self.fitted]
        return float(np.log10(e.max() / e.min())) if e.size >= 2 else 0.0


def _fit_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of ``y`` on ``x`` and its standard error (``nan`` with fewer than 3 points, or when a
    value is not finite: SFO counts past float64, e.g. at ``batch0 = 2.4e305``, have no exponent)."""
    n = x.size
    if n < 3 or np.unique(x).size < 3 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return math.nan, math.nan
    xm = x - x.mean()
    sxx = float(xm @ xm)
    slope = float(xm @ (y - y.mean())) / sxx
    resid = y - y.mean() - slope * xm
    return slope, math.sqrt(float(resid @ resid) / (n - 2) / sxx)


def measure_growth_exponent(cell: GrowthCell) -> GrowthExponent:
    """Run exponential growth on ``cell.problem`` to every tolerance and fit the ε-exponent of the SFO.

    Stage ``m`` runs ``K`` steps at ``η_m = min(η₀γ^m, lr_cap)``, ``b_m = b₀δ^m``. The exact second
    moments are split into a bias part (from ``s(0)``, no label noise) and a variance part (from 0
    with the label noise); they add up to the state (docs/math.md#sgd-second-moment-recursion). The
    crossing of each ``ε²`` is the first step at or below it, located inside that step as in
    :func:`~theory.schedule_to_target`.

    Parameters
    ----------
    cell : GrowthCell
        The cell's specification.

    Returns
    -------
    GrowthExponent

    Raises
    ------
    TypeError
        If ``cell`` is not a :class:`GrowthCell`.

    See Also
    --------
    term_exponent : what each term alone would give.
    theory.sfo_exponent : the master bound's exponent.

    Examples
    --------
    Label noise only (``s(0) = 0``): the variance part is the whole target and the slope follows
    ``2 ln δ/(ln δ − ln γ) = 2 ln 2/ln(2/1.2) ≈ 2.714``:

    >>> p = Problem([1.0, 0.5], [0.0, 0.0], noise_variance=1.0)
    >>> r = measure_growth_exponent(GrowthCell(p, 1.2, 2.0, np.geomspace(1e-4, 1e-4 / 10**1.5, 7), lr0=1e-6,
    ...                                        stage_steps=10**9))
    >>> r.dominant, round(r.exponent, 3), r.stderr < 1e-3, r.decades >= 1.5
    ('variance', 2.714, True, True)

    A learning rate that grows past the stability edge before the smallest tolerance (here
    ``η₀γ^m`` with ``lr_cap=100``; ``η ≈ 0.99`` at stage 17 is past the edge at ``b = 1``): the run
    stops there, the last tolerance stays unreached and there is no exponent:

    >>> p = Problem([1.0, 0.1], [1.0, 1.0], noise_variance=1.0)
    >>> r = measure_growth_exponent(GrowthCell(p, 1.5, 1.0, [0.3, 0.2, 0.1], lr_cap=100.0))
    >>> r.diverged_at_stage, r.dominant, r.exponent, np.round(r.sfo)
    (17, 'diverged', nan, array([489., 559.,  inf]))
    """
    if not isinstance(cell, GrowthCell):
        raise TypeError(f"cell must be a GrowthCell; got {describe(cell)}")
    problem = cell.problem
    lam, w = problem.eigenvalues, problem.multiplicity
    root_w = np.sqrt(w)
    u = root_w * lam
    functional = root_w * lam * lam if cell.target == "gradient_norm" else 0.5 * root_w * lam
    kappa, sigma2 = problem.kurtosis, problem.noise_variance
    eps = cell.epsilons
    tau = eps * eps
    n = eps.size
    sfo, steps = np.full(n, np.inf), np.full(n, np.inf)
    share = np.full(n, np.nan)
    stage_of_hit = np.full(n, -1)
    y_b = root_w * problem.initial_second_moment
    with np.errstate(over="ignore", invalid="ignore"):
        f_b, f_v = float(functional @ y_b), 0.0
    pending = 0
    while pending < n and f_b + f_v <= tau[pending]:
        sfo[pending] = steps[pending] = 0.0
        share[pending], stage_of_hit[pending] = (f_b / (f_b + f_v) if f_b + f_v > 0 else 1.0), 0
        pending += 1
    K = cell.stage_steps
    bits = [j for j in range(K.bit_length()) if K >> j & 1]
    fvec = np.concatenate([functional, [0.0]])
    # Columns: the bias part (forcing switched off) and the variance part (forcing on), each with the
    # augmented coordinate that carries the constant forcing: z ← T z with T = [[S, v], [0, 1]].
    z = np.zeros((lam.size + 1, 2))
    z[:-1, 0], z[-1, 1] = y_b, 1.0
    samples_before, steps_before = 0.0, 0.0
    stage = 0
    levels, stage_samples, stage_share, stage_capped = [], [], [], []
    cap_before_end = False
    diverged_at: int | None = None
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        while stage < cell.max_stages and math.isfinite(f_b):
            lr = min(cell.lr0 * float_power(cell.gamma, stage), cell.lr_cap)
            batch = cell.batch0 * float_power(cell.delta, stage)
            if not math.isfinite(lr):
                diverged_at = stage  # η overflowed: past every stability edge
                break
            if not math.isfinite(batch):
                break
            x = lr * lam
            c = step_formulas.batch_factor(kappa - 2.0, batch)
            coupling = step_formulas.noise_gain(lr, batch)
            # The stability edge (docs/math.md#stability): the stage's linear map has spectral radius
            # < 1 iff every 1 − D_i = x_i(2 − c x_i) > 0 and Σ m_i x_i²/(b(1 − D_i)) < 1. Past it the
            # second moments grow geometrically for the rest of the run: stop before the stage.
            contraction = step_formulas.contraction(x, c)
            if not (np.all(contraction > 0.0) and float(np.sum(w * x * x / batch / contraction)) < 1.0):
                diverged_at = stage
                if pending < n and lr >= cell.lr_cap:
                    cap_before_end = True
                break
            # One step, symmetrised (y = sqrt(m) s): S = diag(1 − x(2 − cx)) + (η²/b) u uᵀ, forcing (η²/b) σ² u.
            step = np.zeros((lam.size + 1, lam.size + 1))
            step[:-1, :-1] = np.diag(1.0 - contraction) + coupling * np.outer(u, u)
            step[:-1, -1] = coupling * sigma2 * u
            step[-1, -1] = 1.0
            powers = [step]  # T^(2^j), j = 0 … ⌊log2 K⌋
            for _ in range(K.bit_length() - 1):
                powers.append(powers[-1] @ powers[-1])
            end = z
            for j in bits:
                end = powers[j] @ end
            parts_end = fvec @ end
            if not np.all(np.isfinite(parts_end)):
                diverged_at = stage
                break
            while pending < n and parts_end.sum() <= tau[pending]:
                # Binary lifting: the last step t < K still above τ (the target falls monotonically
                # within a stage), then the crossing is step t + 1.
                lo, z_lo = 0, z
                for j in range(len(powers) - 1, -1, -1):
                    if lo + (1 << j) < K:
                        cand = powers[j] @ z_lo
                        if (fvec @ cand).sum() > tau[pending]:
                            lo, z_lo = lo + (1 << j), cand
                before_parts = fvec @ z_lo
                hit_parts = fvec @ (step @ z_lo)
                before, after = float(before_parts.sum()), float(hit_parts.sum())
                if not after <= tau[pending]:  # not monotone here: take the stage end
                    lo, before, after, hit_parts = K - 1, before, float(parts_end.sum()), parts_end
                while pending < n and after <= tau[pending]:
                    t_ = tau[pending]
                    lb, la = math.log(max(before, t_)), math.log(min(after, t_))
                    theta = (lb - math.log(t_)) / (lb - la) if lb > la else 1.0
                    theta = min(max(theta, 0.0), 1.0)
                    steps[pending] = steps_before + lo + theta
                    sfo[pending] = samples_before + (lo + theta) * batch
                    share[pending] = float(hit_parts[0]) / after if after > 0 else 1.0
                    stage_of_hit[pending] = stage
                    pending += 1
            z = end
            f_b, f_v = float(parts_end[0]), float(parts_end[1])
            if not math.isfinite(f_b + f_v):
                diverged_at = stage
                break
            samples_before += K * batch
            steps_before += K
            stage += 1
            levels.append(math.sqrt(max(f_b + f_v, 0.0)))
            stage_samples.append(samples_before)
            stage_share.append(f_b / (f_b + f_v) if f_b + f_v > 0 else 1.0)
            stage_capped.append(cell.lr0 * float_power(cell.gamma, stage - 1) >= cell.lr_cap)
            if pending >= n and f_b + f_v < 0.25 * tau[-1]:
                break  # past the window by a factor 4 in the target: nothing more to fit
            if stage_capped[-1] and pending < n:
                cap_before_end = True
                break  # η no longer grows: what follows is not exponential growth
    level, stage_sfo = np.array(levels), np.array(stage_samples)
    stage_share_arr = np.array(stage_share)
    inside = (level >= eps[-1]) & (level <= eps[0])
    fitted = inside.copy()
    if inside.any():
        # One stage end beyond each edge as well, so that the fit spans the whole window.
        first, last = int(np.flatnonzero(inside)[0]), int(np.flatnonzero(inside)[-1])
        fitted[max(first - 1, 0)] = True
        fitted[min(last + 1, level.size - 1)] = True
    fitted &= stage_sfo > 0
    if diverged_at is not None and pending < n:
        # The window was not crossed before the stability edge: no fit (and none through the
        # stage ends of a run on its way back up).
        fitted[:] = False
        exponent, stderr = math.nan, math.nan
    else:
        exponent, stderr = _fit_slope(-np.log(level[fitted]), np.log(stage_sfo[fitted]))
    if diverged_at is not None and pending < n:
        dominant = "diverged"
    elif not math.isfinite(exponent):
        dominant = "none"
    elif np.all(stage_share_arr[fitted] > 0.5):
        dominant = "bias"
    elif np.all(stage_share_arr[fitted] < 0.5):
        dominant = "variance"
    else:
        dominant = "mixed"
    capped = cap_before_end or (bool(np.any(np.array(stage_capped, dtype=bool)[fitted])) if fitted.any() else False)
    return GrowthExponent(cell, sfo, steps, share, level, stage_sfo, stage_share_arr, fitted, exponent, stderr,
                          dominant, capped, sfo_exponent(cell.gamma, cell.delta), stage, diverged_at)
