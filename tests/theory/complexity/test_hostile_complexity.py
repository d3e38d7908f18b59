"""Hostile inputs to ramplab.theory's complexity part: SFO bounds and measurements, growth schedules, growth
exponents (the machinery, and how a table works: tests/hostile.py)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ramplab.theory import DivergenceError, Problem, Schedule

from hostile import (
    FLOAT_MAX, P, Public, S, Table, choice, close, finite, first_hit, flag, integer, make_tests,
    plain_gradient_norms, problem_of, real, same_segments, vector,
)

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


def _constants():
    from ramplab.theory import BoundConstants
    return BoundConstants(1.0, 1.0, 1.0)


# --- theory.complexity.sfo ------------------------------------------------------------------
def _register_sfo() -> None:
    sfo = Public("ramplab.theory.complexity.sfo")

    M = "ramplab.theory.complexity.sfo"
    exempt(f"{M}:TargetHitting {M}:CriticalBatch", "result record, built by the measuring functions")

    def tau_of(eps: float, stationarity: str) -> float:
        return eps * eps if stationarity == "norm" else eps

    def o_target(r, kw):
        eps = real(kw["epsilon"])
        assert eps > 0
        ref = tau_of(eps, choice(kw["stationarity"], ("norm", "squared")))
        assert r == ref and math.isfinite(r) and r > 0, f"{r!r} != {ref!r}"

    entry(f"{M}:gradient_target", sfo.gradient_target, {"epsilon": 0.1, "stationarity": "norm"},
          {"epsilon": "real", "stationarity": "choice"}, o_target)

    def variance_ref(problem: Problem, s: np.ndarray) -> np.ndarray:
        lam = [float(x) for x in problem.eigenvalues]
        tr = sum(lam)
        flat = s.reshape(-1, len(lam))
        out = [(problem.kurtosis - 2) * sum(l * l * x for l, x in zip(lam, row))
               + tr * (sum(l * x for l, x in zip(lam, row)) + problem.noise_variance) for row in flat]
        return np.array(out).reshape(s.shape[:-1])

    def o_variance(r, kw):
        p = problem_of(kw["problem"])
        s = vector(kw["second_moment"])
        assert s.ndim >= 1 and s.shape[-1] == p.dimension and np.all(s >= 0), f"accepted {s!r}"
        finite(r, nonnegative=True)
        close(r, variance_ref(p, s), 1e-12)

    entry(f"{M}:gradient_variance", sfo.gradient_variance, lambda: {"problem": P, "second_moment": [1.0, 2.0]},
          {"problem": "problem", "second_moment": "vector"}, o_variance)

    def o_constants(r, kw):
        L, v, d = real(kw["smoothness"]), real(kw["gradient_variance"]), real(kw["initial_gap"])
        assert L > 0 and v >= 0 and d >= 0
        assert (r.smoothness, r.gradient_variance, r.initial_gap) == (L, v, d)

    entry(f"{M}:BoundConstants", sfo.BoundConstants,
          {"smoothness": 1.0, "gradient_variance": 2.0, "initial_gap": 3.0},
          {"smoothness": "real", "gradient_variance": "real", "initial_gap": "real"}, o_constants)

    def o_from_problem(r, kw):
        p = problem_of(kw["problem"])
        v = kw["variance"]
        if isinstance(v, str):
            s = np.zeros(p.dimension) if choice(v, ("optimum", "initial")) == "optimum" else p.initial_second_moment
            ref_v = float(variance_ref(p, s))
        else:
            ref_v = real(v)
            assert ref_v >= 0
        ref_gap = 0.5 * sum(float(l) * float(x) for l, x in zip(p.eigenvalues, p.initial_second_moment))
        finite([r.smoothness, r.gradient_variance, r.initial_gap], nonnegative=True)
        close([r.smoothness, r.gradient_variance, r.initial_gap], [max(p.eigenvalues), ref_v, ref_gap], 1e-12)

    entry(f"{M}:BoundConstants.from_problem", sfo.BoundConstants.from_problem,
          lambda: {"problem": P, "variance": "initial"}, {"problem": "problem", "variance": "choice"},
          o_from_problem)

    def coeffs_ref(c, lr, convention):
        L, sig, gap = Fraction(c.smoothness), Fraction(c.gradient_variance), Fraction(c.initial_gap)
        lr = Fraction(lr)
        if convention == "general":
            assert 0 < L * lr < 2, "accepted L*lr outside (0, 2)"
            return 2 * gap / (2 - L * lr), L * sig / (2 - L * lr)
        assert 0 < L * lr <= 1 + Fraction(1, 10**12), "accepted L*lr outside (0, 1]"
        return 2 * gap, L * sig

    def o_coefficients(r, kw):
        ref = coeffs_ref(_constants(), real(kw["lr_max"]), choice(kw["convention"], ("general", "small_step")))
        finite(r, nonnegative=True)
        close(r, [float(x) for x in ref], 1e-12)

    entry(f"{M}:BoundConstants.coefficients", lambda **kw: _constants().coefficients(**kw),
          {"lr_max": 0.5, "convention": "general"}, {"lr_max": "real", "convention": "choice"}, o_coefficients)

    def o_sfo_bound(r, kw):
        s, c = kw["schedule"], kw["constants"]
        assert isinstance(s, Schedule) and isinstance(c, sfo.BoundConstants), "accepted a wrong type"
        conv = choice(kw["convention"], ("general", "small_step"))
        lrs, bs = s.step_arrays()
        L, sig, gap = c.smoothness, c.gradient_variance, c.initial_gap
        s1 = s2 = 0.0
        top = 0.0
        ref = []
        for lr, b in zip(lrs.tolist(), bs.tolist()):
            top = max(top, lr)
            s1 += lr
            s2 += lr * lr / b
            if conv == "general":
                a_, b_ = 2 * gap / (2 - L * top), L * sig / (2 - L * top)
            else:
                a_, b_ = 2 * gap, L * sig
            ref.append(math.inf if s1 == 0 else a_ / s1 + b_ * s2 / s1)
        r = np.asarray(r)
        assert not np.any(np.isnan(r)), "NaN in the bound"
        close(r, ref, 1e-10, "sfo_bound")

    entry(f"{M}:sfo_bound", sfo.sfo_bound, lambda: {"schedule": S, "constants": _constants(), "convention": "general"},
          {"schedule": "schedule", "constants": "constants", "convention": "choice"}, o_sfo_bound)

    def k_exact(kw):
        c = _constants()
        conv = choice(kw["convention"], ("general", "small_step"))
        st_ = choice(kw["stationarity"], ("norm", "squared"))
        lr = real(kw["lr"])
        a, bb = coeffs_ref(c, lr, conv)
        eps = Fraction(real(kw["epsilon"]))
        assert eps > 0
        tau = eps * eps if st_ == "norm" else eps
        return a / Fraction(lr), bb * Fraction(lr), tau

    def k_of(c1, c2, tau, b):
        b = Fraction(b)
        return c1 * b / (tau * b - c2) if tau * b > c2 else math.inf

    def as_float_or_raise(x):
        if x == math.inf:
            return math.inf
        assert x <= Fraction(FLOAT_MAX), "exact value beyond float64 returned instead of an error"
        return float(x)

    def batch_values(kw):
        b = vector(kw["batch"])
        assert np.all(b > 0), f"accepted non-positive batch {b!r}"
        return b

    def compare_k(r, kw, times_b: bool, what: str):
        """Exact reference, with a tolerance from the conditioning of ``τb − C₂`` (the function rounds
        ``τ``, ``C₁``, ``C₂`` to float64: relative error ≈ 2⁻⁵²·(τb + C₂)/|τb − C₂|); within that
        distance of the feasibility threshold either answer (finite or inf) is right."""
        c1, c2, tau = k_exact(kw)
        b = batch_values(kw)
        got = np.asarray(r, dtype=np.float64)
        assert got.shape == b.shape and not np.any(np.isnan(got)), f"{what} {got!r}"
        for g, x in zip(got.ravel().tolist(), b.ravel().tolist()):
            xb = Fraction(x)
            gap, scale = tau * xb - c2, tau * xb + c2
            slack = Fraction(16, 2**52) * scale
            if abs(gap) <= slack:
                continue
            k = k_of(c1, c2, tau, x)
            want = as_float_or_raise(k if k == math.inf or not times_b else k * xb)
            rtol = 1e-9 + float(Fraction(16, 2**52) * scale / abs(gap))
            close(g, want, rtol, what)

    def o_bound_steps(r, kw):
        compare_k(r, kw, False, "bound_steps")

    kw_bound = {"lr": 0.5, "batch": [1.0, 100.0, 1000.0], "epsilon": 0.1, "convention": "general",
                "stationarity": "norm"}
    kinds_bound = {"lr": "real", "batch": "vector", "epsilon": "real", "convention": "choice",
                   "stationarity": "choice"}
    entry(f"{M}:bound_steps", lambda **kw: sfo.bound_steps(_constants(), **kw), kw_bound, kinds_bound,
          o_bound_steps)

    def o_bound_sfo(r, kw):
        compare_k(r, kw, True, "bound_sfo")

    entry(f"{M}:bound_sfo", lambda **kw: sfo.bound_sfo(_constants(), **kw), kw_bound, kinds_bound, o_bound_sfo)

    def o_bound_critical(r, kw):
        c1, c2, tau = k_exact(kw)
        ref = as_float_or_raise(2 * c2 / tau)
        finite(r, nonnegative=True)
        close(r, ref, 1e-12)

    entry(f"{M}:bound_critical_batch", lambda **kw: sfo.bound_critical_batch(_constants(), **kw),
          {k: v for k, v in kw_bound.items() if k != "batch"},
          {k: v for k, v in kinds_bound.items() if k != "batch"}, o_bound_critical)

    def check_hitting(h, problem, lrs_rows, batch_rows, taus, horizon):
        """Rows: per-step rate and batch lists (or constants, repeated up to ``horizon``)."""
        for i in range(len(taus)):
            lrs, bs = lrs_rows[i], batch_rows[i]
            norms = plain_gradient_norms(problem, lrs, bs)
            t = first_hit(norms, taus[i])
            if h.status[i] == "reached":
                assert h.steps[i] == t, f"row {i}: steps {h.steps[i]} != reference {t}"
                ref_samples = math.fsum(float(x) for x in bs[: int(t)])
                close(h.samples[i], ref_samples, 1e-12, "samples")
                finite([h.fractional_steps[i], h.fractional_samples[i]], nonnegative=True)
            else:
                assert h.status[i] in ("unreachable", "diverged", "horizon"), h.status[i]
                assert t == math.inf, f"row {i}: status {h.status[i]} but the reference reaches at {t}"
                assert h.steps[i] == math.inf
            assert not np.isnan(h.max_gradient_variance[i]) or h.status[i] == "diverged"

    def o_steps_to_target(r, kw):
        p = problem_of(kw["problem"])
        lr, b = np.broadcast_arrays(vector(kw["lr"]), vector(kw["batch"]))
        lr, b = lr.ravel(), b.ravel()
        assert np.all(lr > 0) and np.all(b >= 1)
        horizon = min(integer(kw["max_steps"]), 3000)
        taus = np.broadcast_to(vector(kw["target"]), lr.shape)
        assert np.all(taus > 0)
        check_hitting(r, p, [[x] * horizon for x in lr], [[x] * horizon for x in b], list(taus), horizon)

    entry(f"{M}:steps_to_target", sfo.steps_to_target,
          lambda: {"problem": P, "lr": 0.5, "batch": [1.0, 4.0], "target": 1e-2, "max_steps": 500},
          {"problem": "problem", "lr": "vector", "batch": "vector", "target": "vector", "max_steps": "int"},
          o_steps_to_target)

    def o_schedule_to_target(r, kw):
        p = problem_of(kw["problem"])
        items = [kw["schedules"]] if isinstance(kw["schedules"], Schedule) else list(kw["schedules"])
        assert all(isinstance(x, Schedule) for x in items)
        taus = np.broadcast_to(vector(kw["target"]), (len(items),))
        lrs = [x.step_arrays(0, min(len(x), 5000))[0].tolist() for x in items]
        bs = [x.step_arrays(0, min(len(x), 5000))[1].tolist() for x in items]
        check_hitting(r, p, lrs, bs, list(taus), None)

    entry(f"{M}:schedule_to_target", sfo.schedule_to_target,
          lambda: {"problem": P, "schedules": [S, Schedule.constant(0.5, 1, steps=40)], "target": 1e-2},
          {"problem": "problem", "schedules": "schedules", "target": "vector"}, o_schedule_to_target)

    def o_critical_batch(r, kw):
        p = problem_of(kw["problem"])
        b = vector(kw["batches"])
        assert b.ndim == 1 and b.size >= 3 and np.all(np.diff(b) > 0) and b[0] >= 1
        choice(kw["stationarity"], ("norm", "squared"))
        choice(kw["convention"], ("general", "small_step"))
        if not isinstance(kw["variance"], str):
            assert real(kw["variance"]) >= 0
        assert integer(kw["max_steps"]) >= 1 and integer(kw["refine"]) >= 0
        assert real(kw["convex_slack"]) >= 0
        tau = r.target
        close(tau, tau_of(real(kw["epsilon"]), kw["stationarity"]), 1e-15)
        lr = real(kw["lr"])
        horizon = min(integer(kw["max_steps"]), 3000)
        check_hitting(r.hitting, p, [[lr] * horizon for _ in b], [[x] * horizon for x in b], [tau] * b.size, horizon)
        if r.hitting.reached.any():
            assert b[0] <= r.critical_batch <= b[-1]
        else:
            assert math.isnan(r.critical_batch)
        finite(r.bound_critical_batch, nonnegative=True)

    entry(f"{M}:critical_batch", sfo.critical_batch,
          lambda: {"problem": P, "lr": 0.5, "epsilon": 0.1, "batches": [1.0, 2.0, 4.0], "stationarity": "norm",
                   "convention": "general", "variance": "optimum", "max_steps": 400, "convex_slack": 0.0,
                   "refine": 1},
          {"problem": "problem", "lr": "real", "epsilon": "real", "batches": "vector", "stationarity": "choice",
           "convention": "choice", "variance": "choice", "max_steps": "int", "convex_slack": "real",
           "refine": "int"}, o_critical_batch)

    def o_noise_scale(r, kw):
        p = problem_of(kw["problem"])
        s = np.atleast_2d(vector(kw["at"]))
        assert s.shape[-1] == p.dimension and np.all(s >= 0), f"accepted {s!r}"
        lam, m = p.eigenvalues, p.multiplicity
        g2 = s @ (m * lam**2)
        close(r.grad_norm_sq, g2, 1e-12)
        close(r.trace_cov, variance_ref(p, s), 1e-12)
        finite(r.grad_hessian_grad, nonnegative=True)
        finite(r.trace_hessian_cov, nonnegative=True)

    entry(f"{M}:gradient_noise_scale", sfo.gradient_noise_scale, lambda: {"problem": P, "at": [1.0, 2.0]},
          {"problem": "problem", "at": "vector"}, o_noise_scale)
    exempt(f"{M}:GradientNoiseScale", "result record, built by gradient_noise_scale")
    exempt(f"{M}:ParetoCriticalBatch {M}:LocalCriticalBatch",
           "result record, built by pareto_critical_batch / local_critical_batch")
    lrs_small = [0.05, 0.2, 0.8]

    def o_tuned(r, kw):
        problem_of(kw["problem"])
        b = vector(kw["batches"]).ravel()
        assert b.size and np.all(b >= 1), f"accepted batches {b!r}"
        assert real(kw["target"]) > 0
        batches, steps, best = r
        assert np.array_equal(batches, b) and steps.shape == b.shape and best.shape == b.shape
        assert np.all((steps >= 0) | np.isnan(steps))

    entry(f"{M}:tuned_steps", sfo.tuned_steps,
          lambda: {"problem": P, "batches": [1.0, 4.0], "target": 0.1, "lrs": lrs_small, "max_steps": 200},
          {"problem": "problem", "batches": "vector", "target": "real", "lrs": "vector", "max_steps": "int"},
          o_tuned, skip={"max_steps": (2**31, 2**62, 2**63 - 1)})

    def o_pareto(r, kw):
        assert real(kw["target"]) > 0
        assert r.critical_batch > 0 and math.isfinite(r.critical_batch)
        close(r.samples_min, r.steps_min * r.critical_batch, 1e-12)

    entry(f"{M}:pareto_critical_batch", sfo.pareto_critical_batch,
          lambda: {"problem": P, "batches": [1.0, 2.0, 4.0, 8.0], "target": 0.1, "lrs": lrs_small, "max_steps": 200},
          {"problem": "problem", "batches": "vector", "target": "real", "lrs": "vector", "max_steps": "int"},
          o_pareto, skip={"max_steps": (2**31, 2**62, 2**63 - 1)})

    def o_zhang(r, kw):
        assert real(kw["overhead"]) > 0 and real(kw["target"]) > 0
        b = vector(kw["batches"]).ravel()
        assert r == math.inf or b[0] <= r <= b[-1]

    entry(f"{M}:linear_scaling_critical_batch", sfo.linear_scaling_critical_batch,
          lambda: {"problem": P, "batches": [1.0, 2.0, 4.0, 8.0], "target": 0.1, "overhead": 0.2, "lrs": lrs_small,
                   "max_steps": 200},
          {"problem": "problem", "batches": "vector", "target": "real", "overhead": "real", "lrs": "vector",
           "max_steps": "int"}, o_zhang, skip={"max_steps": (2**31, 2**62, 2**63 - 1)})

    def o_local(r, kw):
        assert real(kw["samples"]) > 0 and real(kw["tolerance"]) > 0
        choice(kw["lr_rule"], ("keep", "linear", "sqrt"))
        k = vector(kw["multipliers"]).ravel()
        assert np.all(k >= 1) and np.all(np.diff(k) > 0)
        assert r.critical_batch == 0.0 or r.critical_batch / r.base_batch in set(k.tolist())

    entry(f"{M}:local_critical_batch",
          lambda **kw: sfo.local_critical_batch(P, S, **kw),
          {"step": 1, "samples": 8.0, "multipliers": [1.0, 2.0], "lr_rule": "sqrt", "tolerance": 0.1},
          {"step": "int", "samples": "real", "multipliers": "vector", "lr_rule": "choice", "tolerance": "real"},
          o_local)


# --- theory.complexity.growth ---------------------------------------------------------------
def _register_growth() -> None:
    growth = Public("ramplab.theory.complexity.growth")

    M = "ramplab.theory.complexity.growth"
    exempt(f"{M}:AdaptiveRun {M}:GrowthGrid", "result record, built by AdaptiveRule.run / growth_grid")

    def exponent_ref(g, d):
        if g <= 1 or d <= g:
            return math.inf
        x = math.log(d) / math.log(g)
        return 2 * x / (x - 1) if x < 2 else 2 * x

    def o_sfo_exponent(r, kw):
        g, d = real(kw["gamma"]), real(kw["delta"])
        assert g > 0 and d > 0
        close(r, exponent_ref(g, d), 1e-12)
        assert r > 0

    entry(f"{M}:sfo_exponent", growth.sfo_exponent, {"gamma": 1.4, "delta": 2.0},
          {"gamma": "real", "delta": "real"}, o_sfo_exponent)

    def o_poly_exponent(r, kw):
        p, q = real(kw["p"]), real(kw["q"])
        assert p > 0 and q >= 0
        ref = math.inf if p <= q else 2 * (p + 1) / min(q + 1, p - q)
        close(r, ref, 1e-12)
        assert r > 0

    entry(f"{M}:polynomial_sfo_exponent", growth.polynomial_sfo_exponent, {"p": 1.0, "q": 0.0},
          {"p": "real", "q": "real"}, o_poly_exponent)

    def stage_runs(lrs, batches, kw):
        """Reference (lr, batch, steps) per stage from the documented rule."""
        lr_cap = None if kw.get("lr_cap") is None else real(kw["lr_cap"])
        b_cap = None if kw.get("batch_cap") is None else real(kw["batch_cap"])
        integer_batch = flag(kw.get("integer_batch", False))
        runs = []
        for lr, b in zip(lrs, batches):
            lr = min(lr, lr_cap) if lr_cap is not None else lr
            b = min(b, b_cap) if b_cap is not None else b
            if integer_batch:
                b = float(max(1, math.floor(b + 0.5)))
            assert lr >= 0 and math.isfinite(lr) and 1 <= b < math.inf, f"stage value {(lr, b)} accepted"
            if kw.get("stage_steps") is not None:
                assert kw.get("stage_epochs") is None
                n = integer(kw["stage_steps"])
            else:
                e, size = real(kw["stage_epochs"]), real(kw["dataset_size"])
                assert e > 0 and size > 0
                n = max(1, math.ceil(e * size / b * (1 - 1e-12)))
            assert n >= 1
            runs.append((lr, b, n))
        return runs

    def o_stage_schedule(r, kw):
        lrs = [real(x) for x in kw["lrs"]]
        bs = [real(x) for x in kw["batches"]]
        assert lrs and len(lrs) == len(bs) and all(x > 0 for x in lrs) and all(x >= 1 for x in bs)
        assert isinstance(kw["label"], str) and isinstance(kw["metadata"], (dict, type(None)))
        same_segments(r, stage_runs(lrs, bs, kw))

    stage_valid = {"lrs": [0.1, 0.2], "batches": [4.0, 8.0], "stage_steps": 2, "stage_epochs": None,
                   "dataset_size": None, "lr_cap": None, "batch_cap": None, "integer_batch": False, "label": "",
                   "metadata": None}
    entry(f"{M}:stage_schedule", growth.stage_schedule, stage_valid,
          {"lrs": "sequence", "batches": "sequence", "stage_steps": "int", "lr_cap": "real", "batch_cap": "real",
           "integer_batch": "flag", "label": "label", "metadata": "mapping"}, o_stage_schedule)
    entry(f"{M}:stage_schedule[epochs]", growth.stage_schedule,
          dict(stage_valid, stage_steps=None, stage_epochs=1.0, dataset_size=64.0),
          {"stage_epochs": "real", "dataset_size": "real"}, o_stage_schedule)

    def pow_or_inf(base: float, m: int) -> float:
        try:
            return base**m
        except OverflowError:
            return math.inf

    def o_exponential(r, kw):
        lr0, b0, g, d = real(kw["lr0"]), real(kw["batch0"]), real(kw["gamma"]), real(kw["delta"])
        stages = integer(kw["stages"])
        assert lr0 > 0 and b0 >= 1 and g > 0 and d > 0 and stages >= 1
        lrs = [lr0 * pow_or_inf(g, m) for m in range(stages)]
        bs = [b0 * pow_or_inf(d, m) for m in range(stages)]
        same_segments(r, stage_runs(lrs, bs, kw))

    exp_valid = {"lr0": 0.1, "batch0": 8.0, "gamma": 1.4, "delta": 2.0, "stages": 3, "stage_steps": 2,
                 "integer_batch": True}
    exp_kinds = {"lr0": "real", "batch0": "real", "gamma": "real", "delta": "real", "stages": "int",
                 "stage_steps": "int", "integer_batch": "flag"}
    entry(f"{M}:exponential_growth", growth.exponential_growth, exp_valid, exp_kinds, o_exponential)

    def o_polynomial(r, kw):
        lr0, b0, p, q = real(kw["lr0"]), real(kw["batch0"]), real(kw["p"]), real(kw["q"])
        stages = integer(kw["stages"])
        assert lr0 > 0 and b0 >= 1 and p >= 0 and q >= 0 and stages >= 1
        lrs = [lr0 * pow_or_inf(float(m + 1), q) if True else 0 for m in range(stages)]
        bs = [b0 * pow_or_inf(float(m + 1), p) for m in range(stages)]
        same_segments(r, stage_runs(lrs, bs, kw))

    entry(f"{M}:polynomial_growth", growth.polynomial_growth,
          {"lr0": 0.1, "batch0": 2.0, "p": 1.0, "q": 0.0, "stages": 3, "stage_steps": 1, "integer_batch": False},
          {"lr0": "real", "batch0": "real", "p": "real", "q": "real", "stages": "int", "stage_steps": "int",
           "integer_batch": "flag"}, o_polynomial)

    rule_valid = {"lr0": 0.1, "batch0": 8.0, "gamma": 1.4, "delta": 2.0, "epsilon0": 0.5, "check_every": 10,
                  "batch_cap": 4096.0, "lr_cap": None, "integer_batch": False, "freeze_at_cap": True,
                  "order": "released"}

    def o_rule(r, kw):
        for k in ("lr0", "gamma", "epsilon0"):
            assert real(kw[k]) > 0
        assert real(kw["batch0"]) >= 1 and real(kw["delta"]) >= 1 and integer(kw["check_every"]) >= 1
        for k in ("batch_cap", "lr_cap"):
            if kw[k] is not None:
                assert real(kw[k]) > 0
        if kw["batch_cap"] is not None:  # the rule only grows the batch; integer batches need an integer in range
            assert real(kw["batch_cap"]) >= real(kw["batch0"])
            if flag(kw["integer_batch"]):
                assert math.floor(real(kw["batch_cap"])) >= math.ceil(real(kw["batch0"]))
        flag(kw["integer_batch"])
        assert r.freeze_at_cap == flag(kw["freeze_at_cap"])
        assert r.order == choice(kw["order"], ("released", "after_update"))
        assert r.lr0 == real(kw["lr0"]) and r.check_every == integer(kw["check_every"])

    entry(f"{M}:AdaptiveRule", growth.AdaptiveRule, rule_valid,
          {"lr0": "real", "batch0": "real", "gamma": "real", "delta": "real", "epsilon0": "real",
           "check_every": "int", "batch_cap": "real", "lr_cap": "real", "integer_batch": "flag",
           "freeze_at_cap": "flag", "order": "choice"}, o_rule)

    def rule_values(stage):
        m = integer(stage)
        assert m >= 0
        lr = 0.1 * pow_or_inf(1.4, m)
        b = min(8.0 * pow_or_inf(2.0, m), 4096.0)
        assert math.isfinite(lr), "accepted a stage whose rate overflows"
        return lr, b

    def o_stage_values(r, kw):
        close(r, rule_values(kw["stage"]), 1e-12)
        finite(r, nonnegative=True)

    RULE = growth.AdaptiveRule(check_every=10)
    entry(f"{M}:AdaptiveRule.stage_values", RULE.stage_values, {"stage": 3}, {"stage": "int"}, o_stage_values)

    def o_threshold(r, kw):
        m = integer(kw["stage"])
        assert m >= 0
        b = min(8.0 * pow_or_inf(2.0, m), 4096.0)  # the batch only: ε_m does not depend on the rate
        close(r, 0.5 * math.sqrt(8.0 / b), 1e-12)

    entry(f"{M}:AdaptiveRule.threshold", RULE.threshold, {"stage": 3}, {"stage": "int"}, o_threshold)

    def o_next_stage(r, kw):
        m = integer(kw["stage"])
        assert m >= 0
        b = min(8.0 * pow_or_inf(2.0, m), 4096.0)  # the batch only: neither ε_m nor the freeze needs the rate
        g = real(kw["gradient_norm"])
        assert g >= 0
        assert r == (m + 1 if g <= 0.5 * math.sqrt(8.0 / b) and b < 4096.0 else m)  # released: frozen at b_max

    def o_frozen(r, kw):
        m = integer(kw["stage"])
        assert m >= 0
        assert r is (min(8.0 * pow_or_inf(2.0, m), 4096.0) >= 4096.0)  # the batch only, as for the threshold

    entry(f"{M}:AdaptiveRule.frozen", RULE.frozen, {"stage": 9}, {"stage": "int"}, o_frozen)
    entry(f"{M}:AdaptiveRule.next_stage", RULE.next_stage, {"stage": 0, "gradient_norm": 0.4},
          {"stage": "int", "gradient_norm": "real"}, o_next_stage)

    def o_run(r, kw):
        p = problem_of(kw["problem"])
        steps = integer(kw["steps"])
        # The "after_update" order (test_growth_adaptive.py transcribes the released one).
        rule = growth.AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=5, order="after_update")
        lam = [float(x) for x in p.eigenvalues]
        stage, lrs, bs = 0, [], []
        s = [float(x) for x in p.initial_second_moment]
        for t in range(steps):
            lr, b = rule.stage_values(stage)
            lrs.append(lr)
            bs.append(b)
            q = sum(l * x for l, x in zip(lam, s))
            s = [(1 - lr * l) ** 2 * x + lr * lr / b * ((p.kurtosis - 2) * l * l * x + l * (q + p.noise_variance))
                 for l, x in zip(lam, s)]
            if (t + 1) % 5 == 0:
                stage = rule.next_stage(stage, math.sqrt(sum(l * l * x for l, x in zip(lam, s))))
        lr_got, b_got = r.schedule.step_arrays()
        close(lr_got, lrs, 1e-12, "lr")
        close(b_got, bs, 1e-12, "batch")
        finite(r.risk, nonnegative=True)

    entry(f"{M}:AdaptiveRule.run",
          lambda **kw: growth.AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=5,
                                           order="after_update").run(**kw),
          lambda: {"problem": P, "steps": 40}, {"problem": "problem", "steps": "int"}, o_run, (DivergenceError,))

    def o_grid(r, kw):
        problem_of(kw["problem"])
        g, d, e = vector(kw["gammas"]), vector(kw["deltas"]), vector(kw["epsilons"])
        assert g.ndim == d.ndim == e.ndim == 1 and g.size and d.size and e.size
        assert np.all(g > 0) and np.all(d > 0) and np.all(e > 0)
        assert real(kw["lr0"]) > 0 and real(kw["batch0"]) >= 1 and integer(kw["stages"]) >= 1
        assert integer(kw["stage_steps"]) >= 1
        assert r.sfo.shape == (g.size, d.size, e.size)
        close(r.predicted, [[exponent_ref(a, b) for b in d] for a in g], 1e-12, "predicted")
        assert not np.any(np.isnan(r.sfo)) and np.all(r.sfo >= 0)

    entry(f"{M}:growth_grid", growth.growth_grid,
          lambda: {"problem": P, "gammas": [1.2], "deltas": [1.44, 2.0], "epsilons": [0.3, 0.15], "lr0": 0.1,
                   "batch0": 1.0, "stage_steps": 5, "stages": 8, "lr_cap": None, "batch_cap": None},
          {"problem": "problem", "gammas": "vector", "deltas": "vector", "epsilons": "vector", "lr0": "real",
           "batch0": "real", "stage_steps": "int", "stages": "int", "lr_cap": "real", "batch_cap": "real"}, o_grid)


# --- theory.complexity.growth_exponents ----------------------------------------------------
def _register_growth_exponents() -> None:
    ge = Public("ramplab.theory.complexity.growth_exponents")

    M = "ramplab.theory.complexity.growth_exponents"
    exempt(f"{M}:GrowthExponent", "result record, built by measure_growth_exponent")
    exempt(f"{M}:TARGETS {M}:TERMS", "constant")

    def o_term(r, kw):
        term = choice(kw["term"], ("bias", "variance"))
        g, d, p = real(kw["gamma"]), real(kw["delta"]), real(kw["bias_decay"])
        assert g > 0 and d > 0 and p > 0
        if term == "variance":
            ref = math.inf if d <= g else 2 * math.log(d) / (math.log(d) - math.log(g))
        else:
            ref = math.inf if g <= 1 or d <= 1 else 2 * math.log(d) / (p * math.log(g))
        close(r, ref, 1e-9)
        assert r > 0

    entry(f"{M}:term_exponent", ge.term_exponent, {"term": "variance", "gamma": 1.2, "delta": 1.3, "bias_decay": 1.0},
          {"term": "choice", "gamma": "real", "delta": "real", "bias_decay": "real"}, o_term)

    cell_valid = {"problem": P, "gamma": 1.2, "delta": 1.5, "epsilons": [0.5, 0.3, 0.2], "target": "gradient_norm",
                  "lr0": 0.01, "batch0": 1.0, "stage_steps": 10, "max_stages": 20, "lr_cap": None}

    def o_cell(r, kw):
        problem_of(kw["problem"])
        for k in ("gamma", "delta", "lr0"):
            assert real(kw[k]) > 0
        assert real(kw["batch0"]) >= 1 and integer(kw["stage_steps"]) >= 1 and 1 <= integer(kw["max_stages"])
        e = vector(kw["epsilons"])
        assert e.ndim == 1 and e.size >= 3 and np.all(np.diff(e) < 0) and np.all(e > 0)
        choice(kw["target"], ge.TARGETS)
        if kw["lr_cap"] is not None:
            assert real(kw["lr_cap"]) > 0
        res = ge.measure_growth_exponent(r)
        assert res.sfo.shape == e.shape and not np.any(np.isnan(res.sfo))
        assert res.dominant in ("bias", "variance", "mixed", "none", "diverged")

    entry(f"{M}:GrowthCell", ge.GrowthCell, lambda: dict(cell_valid),
          {"problem": "problem", "gamma": "real", "delta": "real", "epsilons": "vector", "target": "choice",
           "lr0": "real", "batch0": "real", "stage_steps": "int", "max_stages": "int", "lr_cap": "real"}, o_cell)

    def o_measure(r, kw):
        assert isinstance(kw["cell"], ge.GrowthCell)

    entry(f"{M}:measure_growth_exponent", ge.measure_growth_exponent,
          lambda: {"cell": ge.GrowthCell(**cell_valid)}, {"cell": "problem"}, o_measure)


for _register in (_register_sfo, _register_growth, _register_growth_exponents):
    _register()

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
