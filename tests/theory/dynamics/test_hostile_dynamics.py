"""Hostile inputs to ramplab.theory's dynamics part and backend: the problem, stability, averaging, the exact
solver, equivalence, spectral compression and heavy-ball momentum (the machinery, and how a table works:
tests/hostile.py)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ramplab.theory import DivergenceError, HeavyBall, Numerics, Problem, Schedule, expected_risk, spectral_groups

from hostile import (
    FLOAT_MAX, P, POOLS, Public, S, Table, make_problem, choice, close, finite, flag, integer, make_tests, problem_of,
    real, vector,
)
from oracles import heavy_ball_moment_matrix, heavy_ball_moments, sgd_moment_matrix, sgd_moments

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


# --- theory.dynamics.equivalence -----------------------------------------------------------
def _register_equivalence() -> None:
    equivalence = Public("ramplab.theory.dynamics.equivalence")

    M = "ramplab.theory.dynamics.equivalence"
    exempt(f"{M}:EquivalenceReport", "result record, built by equivalence_report (its methods are driven)")

    def ratio_ref(a, b):
        if a == 0 and b == 0:
            return 1.0
        if b == 0 or a == math.inf:
            return math.inf
        if b == math.inf:
            return 0.0
        x = Fraction(a) / Fraction(b)
        return math.inf if x > Fraction(FLOAT_MAX) else float(x)

    def o_ratio(r, kw):
        a, b = np.asarray(kw["numerator"]), np.asarray(kw["denominator"])
        for x in (a, b):
            assert x.dtype.kind in "iuf" or x.dtype.kind == "O" and all(
                isinstance(v, int) and not isinstance(v, bool) for v in x.ravel()), f"accepted {x!r}"
        a, b = np.broadcast_arrays(a.astype(float), b.astype(float))
        assert not np.any(np.isnan(a) | np.isnan(b)) and np.all(a >= 0) and np.all(b >= 0), "accepted bad risks"
        assert not np.any(np.isinf(b)) or True
        ref = np.array([ratio_ref(x, y) if not (math.isinf(x) and math.isinf(y)) else math.inf
                        for x, y in zip(a.ravel(), b.ravel())]).reshape(a.shape)
        assert not np.any(np.isnan(r)) and np.all(np.asarray(r) >= 0)
        close(r, ref, 1e-15)

    entry(f"{M}:risk_ratio", equivalence.risk_ratio, {"numerator": [1.0, 0.0, 2.0], "denominator": [2.0, 0.0, 0.0]},
          {"numerator": "vector", "denominator": "vector"}, o_ratio)

    A = Schedule.constant(0.5, 4, steps=4, label="a")
    B = Schedule.constant(0.25, 2, steps=8, label="b")

    def o_report(r, kw):
        problem_of(kw["problem"])
        items = list(kw["schedules"])
        assert items and all(isinstance(s, Schedule) for s in items)
        choice(kw["optimizer"], ("sgd", "nsgd"))
        start = real(kw["start"])
        assert start >= 0
        finite(r.risk, nonnegative=True)
        finite(r.grid, nonnegative=True)
        assert r.grid.min() >= start and r.grid.max() <= min(s.total_samples for s in items)
        assert np.all(r.max_ratio >= 1) and np.allclose(r.max_ratio, r.max_ratio.T)
        if kw["grid"] is not None and not isinstance(kw["grid"], (int, np.integer)):
            close(r.grid, vector(kw["grid"]), 0)

    entry(f"{M}:equivalence_report", equivalence.equivalence_report,
          lambda: {"problem": P, "schedules": [A, B], "optimizer": "sgd", "grid": None, "start": 0.0},
          {"problem": "problem", "schedules": "schedules", "optimizer": "choice", "grid": "vector",
           "start": "real"}, o_report, (DivergenceError,))

    REP = equivalence.equivalence_report(P, [A, B])

    def o_rep_ratio(r, kw):
        i, j = integer(kw["i"]), integer(kw["j"])
        assert 0 <= i < 2 and 0 <= j < 2, "accepted an index out of range"
        close(r, [ratio_ref(x, y) for x, y in zip(REP.risk[i], REP.risk[j])], 1e-15)

    entry(f"{M}:EquivalenceReport.ratio", REP.ratio, {"i": 0, "j": 1}, {"i": "int", "j": "int"}, o_rep_ratio)

    def o_dominated(r, kw):
        th = real(kw["threshold"])
        assert th >= 0
        ref = [max(m.tolist(), default=0.0) <= th for m in REP.mean_variance_ratio]
        assert r.tolist() == ref

    entry(f"{M}:EquivalenceReport.variance_dominated", REP.variance_dominated, {"threshold": 0.1},
          {"threshold": "real"}, o_dominated)


def _same_problem(r: Problem, lam, s0, noise, kurt, mult=None) -> None:
    assert isinstance(r, Problem)
    close(r.eigenvalues, lam, 1e-12, "eigenvalues")
    close(r.initial_second_moment, s0, 1e-12, "initial_second_moment")
    close([r.noise_variance, r.kurtosis], [noise, kurt], 0.0, "noise/kurtosis")
    close(r.multiplicity, np.ones(len(lam)) if mult is None else mult, 0.0, "multiplicity")


def _register_problem() -> None:
    problem = Public("ramplab.theory.dynamics.problem")

    M = "ramplab.theory.dynamics.problem"

    def o_problem(r, kw):
        lam, s0 = vector(kw["eigenvalues"]), vector(kw["initial_second_moment"])
        assert lam.ndim == 1 and lam.size and s0.shape == lam.shape, "accepted wrong shapes"
        assert np.all(lam > 0) and np.all(s0 >= 0), "accepted a non-positive λ or a negative s(0)"
        noise, kurt = real(kw["noise_variance"]), real(kw["kurtosis"])
        assert noise >= 0 and kurt >= 1
        m = kw["multiplicity"]
        if m is not None:
            m = vector(m)
            assert m.shape == lam.shape and np.all(m > 0), f"accepted multiplicity {m!r}"
        _same_problem(r, lam, s0, noise, kurt, m)

    entry(f"{M}:Problem", problem.Problem,
          {"eigenvalues": [1.0, 0.5], "initial_second_moment": [1.0, 2.0], "noise_variance": 0.1, "kurtosis": 3.0,
           "multiplicity": None},
          {"eigenvalues": "vector", "initial_second_moment": "vector", "noise_variance": "real", "kurtosis": "real",
           "multiplicity": "vector"}, o_problem, skip={"multiplicity": (None,)})

    def o_power_law(r, kw):
        d, a, b, scale = integer(kw["d"]), real(kw["a"]), real(kw["b"]), real(kw["scale"])
        assert d >= 1 and a > 0 and scale > 0
        i = np.arange(1, d + 1, dtype=float)
        lam = np.array([scale * float(k) ** -a for k in range(1, d + 1)])
        s0 = np.array([scale * float(k) ** -b for k in range(1, d + 1)]) / lam
        _same_problem(r, lam, s0, real(kw["noise_variance"]), real(kw["kurtosis"]))
        del i

    entry(f"{M}:Problem.power_law", problem.Problem.power_law,
          {"d": 3, "a": 1.5, "b": 2.0, "noise_variance": 0.1, "kurtosis": 3.0, "scale": 1.0},
          {"d": "int", "a": "real", "b": "real", "noise_variance": "real", "kurtosis": "real", "scale": "real"},
          o_power_law, skip={"d": (2**31,)})  # 2**31 coordinates is valid (16 GiB), not hostile

    def o_isotropic(r, kw):
        d, lam, s0 = integer(kw["d"]), real(kw["eigenvalue"]), real(kw["initial_second_moment"])
        assert d >= 1 and lam > 0 and s0 >= 0
        _same_problem(r, np.full(d, lam), np.full(d, s0), real(kw["noise_variance"]), real(kw["kurtosis"]))

    entry(f"{M}:Problem.isotropic", problem.Problem.isotropic,
          {"d": 2, "eigenvalue": 0.5, "initial_second_moment": 2.0, "noise_variance": 0.0, "kurtosis": 3.0},
          {"d": "int", "eigenvalue": "real", "initial_second_moment": "real", "noise_variance": "real",
           "kurtosis": "real"}, o_isotropic, skip={"d": (2**31,)})  # valid, 16 GiB

    def o_from_cov(r, kw):
        cov, e0 = vector(kw["covariance"]), vector(kw["initial_error"])
        assert cov.ndim == 2 and cov.shape[0] == cov.shape[1] and e0.shape == (cov.shape[0],)
        assert np.allclose(cov, cov.T), "accepted a non-symmetric covariance"
        lam_ref = np.sort(np.linalg.eigvalsh(cov))[::-1]
        assert lam_ref[-1] > 0, "accepted a covariance that is not positive definite"
        close(r.eigenvalues, lam_ref, 1e-10, "eigenvalues")
        # Rotation-invariant checks: Σ s_i = |e0|², Σ λ_i s_i = e0ᵀ H e0.
        close(r.initial_second_moment.sum(), e0 @ e0, 1e-10, "Σ s(0)")
        close(r.eigenvalues @ r.initial_second_moment, e0 @ cov @ e0, 1e-10, "Σ λ s(0)")
        assert r.noise_variance == real(kw["noise_variance"]) and r.kurtosis == real(kw["kurtosis"])

    entry(f"{M}:Problem.from_covariance", problem.Problem.from_covariance,
          {"covariance": [[2.0, 1.0], [1.0, 2.0]], "initial_error": [1.0, 0.5], "noise_variance": 0.0,
           "kurtosis": 3.0},
          {"covariance": "vector", "initial_error": "vector", "noise_variance": "real", "kurtosis": "real"},
          o_from_cov)

    def o_sketched(r, kw):
        lam, w = vector(kw["eigenvalues"]), vector(kw["target"])
        assert lam.ndim == 1 and lam.shape == w.shape and np.all(lam > 0), f"accepted {lam!r}, {w!r}"
        m = integer(kw["features"])
        assert 1 <= m <= lam.size
        sigma2 = real(kw["noise_variance"])
        assert sigma2 >= 0
        integer(kw["seed"])
        assert r.dimension == m
        # Rotation-invariant: tr H_S = tr(SᵀHS), and the noise is σ² plus a non-negative approximation error.
        close(r.noise_variance, sigma2 + r.metadata["approximation_error"], 1e-12, "noise")
        assert r.metadata["approximation_error"] >= 0
        finite(r.eigenvalues, nonnegative=True)

    entry(f"{M}:sketched_problem", lambda **kw: __import__("ramplab.theory", fromlist=["x"]).sketched_problem(**kw),
          {"eigenvalues": [1.0, 0.5, 0.25], "target": [1.0, 1.0, 1.0], "features": 2, "noise_variance": 0.1,
           "seed": 0},
          {"eigenvalues": "vector", "target": "vector", "features": "int", "noise_variance": "real", "seed": "int"},
          o_sketched)

    def o_plrf(r, kw):
        d, m = integer(kw["d"]), integer(kw["features"])
        a, b = real(kw["alpha"]), real(kw["beta"])
        assert 1 <= m <= d and a > 0
        assert r.dimension == m and r.metadata["alpha"] == a and r.metadata["beta"] == b
        finite(r.eigenvalues, nonnegative=True)

    entry(f"{M}:power_law_random_features",
          lambda **kw: __import__("ramplab.theory", fromlist=["x"]).power_law_random_features(**kw),
          {"d": 40, "features": 8, "alpha": 0.7, "beta": 0.9, "noise_variance": 0.0, "seed": 0},
          {"d": "int", "features": "int", "alpha": "real", "beta": "real", "noise_variance": "real", "seed": "int"},
          o_plrf, skip={"d": (2**31,)})

    def o_replace(r, kw):
        noise = real(kw["noise_variance"])
        assert noise >= 0
        _same_problem(r, P.eigenvalues, P.initial_second_moment, noise, P.kurtosis)

    entry(f"{M}:Problem.replace", P.replace, {"noise_variance": 1.0}, {"noise_variance": "real"}, o_replace)

    PM = Problem([1.0, 0.5], [1.0, 2.0], 0.1, multiplicity=[2.0, 1.0])

    def o_expanded(r, kw):
        _same_problem(r, [1.0, 1.0, 0.5], [1.0, 1.0, 2.0], 0.1, 3.0)

    entry(f"{M}:Problem.expanded", PM.expanded, {}, {}, o_expanded)

    def o_groups(r, kw):
        ss = kw["schedules"]
        assert isinstance(ss, Schedule) or (isinstance(ss, (list, tuple)) and ss
                                            and all(isinstance(s, Schedule) for s in ss))
        tol = kw["rtol"]
        tol = None if tol is None else real(tol)
        assert tol is None or tol >= 0
        g = r.problem
        # Grouping conserves the coordinates counted, the trace and the initial risk.
        close([g.effective_dimension, g.trace, g.initial_risk], [P.effective_dimension, P.trace, P.initial_risk],
              1e-12, "grouped totals")

    entry(f"{M}:spectral_groups[problem-first]", lambda **kw: spectral_groups(P, **kw),
          lambda: {"schedules": S, "rtol": 1e-3}, {"schedules": "schedules", "rtol": "real"}, o_groups)


def _recursion_matrix(p: Problem, lr: float, b: float) -> np.ndarray:
    """The constant-(η, B) second-moment map ``s ↦ M s`` as a dense matrix (tests/oracles.py)."""
    return sgd_moment_matrix(p, lr, b)


def _stable_args(kw) -> tuple[Problem, float, float]:
    p = problem_of(kw["problem"])
    lr, b = real(kw["lr"]), real(kw["batch"])
    assert lr > 0 and b >= 1, f"accepted lr={lr!r}, batch={b!r}"
    assert p.dimension <= 3 or True
    return p, lr, b


def _register_dynamics() -> None:
    backend = Public("ramplab.theory.backend")
    averaging, stability = Public("ramplab.theory.dynamics.averaging"), Public("ramplab.theory.dynamics.stability")

    M = "ramplab.theory.dynamics.stability"
    exempt(f"{M}:UnstableScheduleWarning", "warning category (emitted by expected_risk and simulate, driven there)")
    PS = make_problem([1.0, 0.5], [1.0, 0.5], 0.1)

    def radius_ref(p, lr, b):
        with np.errstate(all="ignore"):
            mat = _recursion_matrix(p, lr, b)
        if not np.all(np.isfinite(mat)):
            return math.inf
        return float(np.max(np.abs(np.linalg.eigvals(mat))))

    def o_radius(r, kw):
        p, lr, b = _stable_args(kw)
        ref = radius_ref(p, lr, b)
        assert not math.isnan(r)
        if math.isfinite(ref) and p.dimension <= 3:
            close(r, ref, 1e-8, "spectral_radius")
        else:
            assert r >= 0

    def o_is_stable(r, kw):
        p, lr, b = _stable_args(kw)
        assert isinstance(r, (bool, np.bool_))
        ref = radius_ref(p, lr, b)
        if p.dimension <= 3 and abs(ref - 1) > 1e-9:
            assert bool(r) == (ref < 1), f"is_stable {r} but the radius is {ref}"

    def o_second(r, kw):
        p, lr, b = _stable_args(kw)
        mat = _recursion_matrix(p, lr, b)
        rad = radius_ref(p, lr, b)
        assert rad < 1 + 1e-9, "returned a stationary point of an unstable recursion"
        finite(r, nonnegative=True)
        if rad < 1 - 1e-9:  # else too close to 1 for a float64 solve to be a reference
            rhs = lr * lr / b * p.noise_variance * p.eigenvalues
            close(r, np.linalg.solve(np.eye(p.dimension) - mat, rhs), 1e-8, "stationary_second_moment")

    def o_risk(r, kw):
        p, lr, b = _stable_args(kw)
        mat = _recursion_matrix(p, lr, b)
        rad = radius_ref(p, lr, b)
        assert rad < 1 + 1e-9, "returned a stationary risk of an unstable recursion"
        finite(r, nonnegative=True)
        if rad >= 1 - 1e-9:
            return
        ref = np.linalg.solve(np.eye(p.dimension) - mat, lr * lr / b * p.noise_variance * p.eigenvalues)
        close(r, 0.5 * float(np.sum(p.multiplicity * p.eigenvalues * ref)), 1e-8, "stationary_risk")

    for name, o in (("spectral_radius", o_radius), ("is_stable", o_is_stable),
                    ("stationary_second_moment", o_second), ("stationary_risk", o_risk)):
        entry(f"{M}:{name}", getattr(stability, name), lambda: {"problem": PS, "lr": 0.5, "batch": 2},
              {"problem": "problem", "lr": "real", "batch": "real"}, o)

    def o_max_lr(r, kw):
        p, b = problem_of(kw["problem"]), real(kw["batch"])
        assert b >= 1, f"accepted batch={b!r}"
        r = real(r)
        assert 0 < r < math.inf
        if kw["optimizer"] == "sgd":
            assert stability.is_stable(p, r, b), "max_stable_lr returned an unstable rate"

    entry(f"{M}:max_stable_lr", stability.max_stable_lr, lambda: {"problem": PS, "batch": 2, "optimizer": "sgd"},
          {"problem": "problem", "batch": "real", "optimizer": "choice"}, o_max_lr)

    A = "ramplab.theory.dynamics.averaging"
    exempt(f"{A}:Averaging", "abstract base class (its weights() raises NotImplementedError)")

    def o_uniform(r, kw):
        assert isinstance(r, averaging.UniformAverage)
        close(r.weights(np.array([1, 2, 4])), [1.0, 0.5, 0.25], 0.0)

    entry(f"{A}:UniformAverage", averaging.UniformAverage, {}, {}, o_uniform)

    def o_tail(r, kw):
        k = integer(kw["start"])
        assert k >= 1
        t = np.arange(1, 6)
        close(r.weights(t), [1.0 if i < k else 1.0 / (i - k + 1) for i in range(1, 6)], 1e-15)

    entry(f"{A}:TailAverage", averaging.TailAverage, {"start": 3}, {"start": "int"}, o_tail)

    def o_exp(r, kw):
        w = kw["weight"]
        if np.ndim(w) == 0:
            w = real(w)
            assert 0 < w <= 1
            close(r.weights(np.array([1, 2])), [w, w], 0.0)
        else:
            w = vector(w)
            assert w.ndim == 1 and w.size and np.all((w > 0) & (w <= 1)), f"accepted weight {w!r}"
            close(r.weights(np.arange(1, w.size + 1)), w, 0.0)

    entry(f"{A}:ExponentialAverage", averaging.ExponentialAverage, {"weight": 0.1}, {"weight": "vector"}, o_exp)

    def o_resolve(r, kw):
        a = kw["average"]
        if a is None:
            assert r is None
        elif isinstance(a, averaging.Averaging):
            assert r is a
        else:
            assert choice(a, ("uniform",)) and isinstance(r, averaging.UniformAverage)

    entry(f"{A}:resolve_average", averaging.resolve_average, {"average": "uniform"}, {"average": "choice"},
          o_resolve, skip={"average": (None,)})

    B = "ramplab.theory.backend"
    exempt(f"{B}:BACKENDS", "constant")

    def o_cupy(r, kw):
        assert isinstance(r, bool)

    entry(f"{B}:cupy_available", backend.cupy_available, {}, {}, o_cupy)

    def o_resolve_backend(r, kw):
        v = kw["backend"]
        assert hasattr(r, "asarray") and hasattr(r, "float64"), f"returned {r!r}, not an array namespace"
        if isinstance(v, str):
            choice(v, ("auto", "numpy", "array_api_strict"))
        else:
            assert v is None or hasattr(v, "asarray"), f"accepted {v!r} as an array namespace"

    entry(f"{B}:resolve_backend", backend.resolve_backend, {"backend": "numpy"}, {"backend": "xp"},
          o_resolve_backend, skip={"backend": (None,)})

    def o_backend_name(r, kw):
        xp = kw["xp"]
        assert hasattr(xp, "asarray"), f"named {xp!r}, not an array namespace"
        assert isinstance(r, str) and r

    entry(f"{B}:backend_name", backend.backend_name, {"xp": np}, {"xp": "xp"}, o_backend_name)

    def o_to_numpy(r, kw):
        assert isinstance(r, np.ndarray)
        ref = np.asarray(kw["x"])
        assert r.shape == ref.shape and r.dtype == ref.dtype

    entry(f"{B}:to_numpy", backend.to_numpy, {"x": [1.0, 2.0]}, {"x": "any"}, o_to_numpy)


def plain_risks(p: Problem, lrs: list[float], batches: list[float], optimizer: str = "sgd") -> list[float]:
    """Risks ``R_0 … R_T`` by the plain float64 loop of tests/oracles.py (docs/math.md#sgd-second-moment-recursion,
    #normalized-sgd); a diverging run ends at its first non-finite risk, +inf."""
    return sgd_moments(p, lrs, batches, optimizer=optimizer)["risk"].tolist()


def _register_recursion() -> None:
    averaging, recursion = Public("ramplab.theory.dynamics.averaging"), Public("ramplab.theory.dynamics.recursion")

    M = "ramplab.theory.dynamics.recursion"
    exempt(f"{M}:DivergenceError", "exception class")
    exempt(f"{M}:RiskTrajectory", "result record, built by expected_risk (state_at is driven by its entry)")
    SR = Schedule([0.5, 0.5, 0.25], [4, 4, 2])

    def o_expected(r, kw):
        p = problem_of(kw["problem"])
        sched = kw["schedules"]
        if not isinstance(sched, Schedule):
            assert isinstance(sched, (list, tuple)) and len(sched) == 1 and isinstance(sched[0], Schedule)
            assert isinstance(r, tuple) and len(r) == 1
            sched, r = sched[0], r[0]
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        avg = kw["average"]
        assert avg is None or isinstance(avg, averaging.Averaging) or choice(avg, ("uniform",))
        split = flag(kw["split"])
        mode = choice(kw["on_divergence"], ("raise", "flag"))
        be = kw["backend"]
        assert be is None or be is np or choice(be, ("numpy", "array_api_strict", "auto")), f"accepted {be!r}"
        dt = kw["dtype"]
        assert dt is None or dt in (np.float64, np.float32, "float64", "float32"), f"accepted dtype {dt!r}"
        choice(kw["kernel"], ("auto", "fused", "reference"))
        thr = real(kw["divergence_threshold"])
        assert thr > 1
        comp = kw["compress"]
        if comp is not None:
            comp = real(comp)
            assert comp >= 0
        lrs, bs = sched.step_arrays()
        ref = plain_risks(p, lrs.tolist(), bs.tolist(), opt)
        bound = thr * (ref[0] + p.noise_variance)
        first_bad = next((t for t, x in enumerate(ref) if not x <= bound), None)
        steps = np.arange(len(sched) + 1)
        cps = kw["checkpoints"]
        if cps is not None:
            c = vector(cps)
            assert c.ndim == 1 and np.all(c == np.floor(c)) and np.all(c >= 0) and np.all(np.diff(c) > 0)
            assert np.all(c <= len(sched)), f"accepted checkpoints {cps!r}"
            steps = c.astype(int)
        close(r.steps, steps, 0.0, "steps")
        risk = np.asarray(r.risk, dtype=float)
        assert not np.any(np.isnan(risk)), "NaN risk"
        if first_bad is not None and first_bad < len(ref):
            assert mode == "flag" and r.diverged_at is not None, "a diverging run was not reported"
        tol = 1e-5 if dt in (np.float32, "float32") else 1e-10
        if comp is not None:
            if comp >= 1e-3:
                finite(risk[np.isfinite(risk)], nonnegative=True)
                return
            tol = max(tol, 100 * comp)
        want = np.array([ref[t] if t < len(ref) else math.inf for t in steps])
        if r.diverged_at is not None:
            keep = steps < r.diverged_at
            assert first_bad is not None and r.diverged_at <= first_bad + 1, f"flagged {r.diverged_at}, ref {first_bad}"
            risk, want = risk[keep], want[keep]
        close(risk, want, tol, "risk")
        if split and r.diverged_at is None:
            close(np.asarray(r.bias) + np.asarray(r.variance), r.risk, max(tol, 1e-9), "bias + variance")
        if avg is not None and r.diverged_at is None:
            finite(r.averaged_risk, nonnegative=True)

    def expected_risk(backend, dtype, kernel, **kw):
        """``expected_risk`` with the fields of its ``numerics=`` flat, as the table fuzzes them (the
        :class:`Numerics` record checks each, naming it)."""
        return recursion.expected_risk(numerics=Numerics(backend=backend, dtype=dtype, kernel=kernel), **kw)

    base = {"problem": P, "schedules": SR, "optimizer": "sgd", "average": None, "split": False,
            "on_divergence": "raise", "backend": "numpy", "dtype": None, "checkpoints": None, "kernel": "auto",
            "divergence_threshold": 1e12, "compress": None}
    kinds = {"problem": "problem", "schedules": "schedule", "optimizer": "choice", "average": "choice",
             "split": "flag", "on_divergence": "choice", "backend": "xp", "dtype": "choice", "checkpoints": "vector",
             "kernel": "choice", "divergence_threshold": "real", "compress": "real"}
    # A 2**40-step schedule is valid (the solver takes its time), not hostile.
    long = tuple(x for x in POOLS["schedule"] if isinstance(x, Schedule) and len(x) > 2**20)
    entry(f"{M}:expected_risk", expected_risk, lambda: dict(base), kinds, o_expected,
          raises=(DivergenceError,), skip={"schedules": long})
    entry(f"{M}:expected_risk[nsgd-flag]", expected_risk,
          lambda: {**base, "optimizer": "nsgd", "on_divergence": "flag", "split": True, "average": "uniform",
                   "checkpoints": [0, 2, 3]},
          {k: kinds[k] for k in ("problem", "checkpoints", "divergence_threshold", "average", "dtype")},
          o_expected, raises=(DivergenceError,))
    entry(f"{M}:expected_risk[compress]", expected_risk,
          lambda: {**base, "compress": 1e-6, "kernel": "reference", "backend": "array_api_strict"},
          {k: kinds[k] for k in ("compress", "kernel", "backend")}, o_expected, raises=(DivergenceError,))

    def numbers(v):
        arr = np.asarray(v)
        assert arr.dtype.kind in "iuf" or (arr.dtype.kind == "O" and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in arr.ravel())), f"accepted {v!r}"
        return arr.astype(np.float64)

    def o_step(r, kw):
        s, lam = numbers(kw["s"]), numbers(kw["eigenvalues"])
        lr, b, noise = (numbers(kw[k]) for k in ("lr", "batch", "noise_variance"))
        assert not np.any(b <= 0), f"accepted batch {b!r}"  # NaN propagates, as documented
        kappa = real(kw["kurtosis"])
        with np.errstate(all="ignore"):
            q = np.sum(s * lam, axis=-1, keepdims=True)
            ref = (1 - lr * lam) ** 2 * s + lr * lr / b * ((kappa - 2) * lam * lam * s + lam * (q + noise))
            ref = np.where(ref < 0, 0.0, ref)  # documented: the new state is clamped at 0
        assert np.array_equal(np.isnan(r), np.isnan(ref)), f"NaN pattern {r!r} != reference {ref!r}"
        keep = ~np.isnan(ref)
        close(np.asarray(r)[keep], ref[keep], 1e-12, "second_moment_step")

    entry(f"{M}:second_moment_step", recursion.second_moment_step,
          lambda: {"s": np.array([[1.0, 2.0]]), "eigenvalues": np.array([1.0, 0.5]), "lr": 0.5, "batch": 4.0,
                   "noise_variance": 0.1, "kurtosis": 3.0},
          {"s": "vector", "eigenvalues": "vector", "lr": "real", "batch": "real", "noise_variance": "real",
           "kurtosis": "real"}, o_step)

    TR = recursion.expected_risk(P, SR, average="uniform")

    def o_at_samples(r, kw):
        g = vector(kw["grid"])
        averaged = flag(kw["averaged"])
        total = float(TR.samples[-1])
        assert np.all((g >= 0) & (g <= total * (1 + 1e-9))), f"accepted grid {kw['grid']!r}"
        curve = TR.averaged_risk if averaged else TR.risk
        xs, ys = TR.samples.astype(float).tolist(), curve.tolist()
        ref = []
        for x in g.ravel().tolist():
            k = max(i for i in range(len(xs)) if xs[i] <= x) if x < xs[-1] else len(xs) - 2
            w = (x - xs[k]) / (xs[k + 1] - xs[k])
            ref.append(ys[k] + w * (ys[k + 1] - ys[k]))
        close(np.ravel(r), ref, 1e-12, "at_samples")

    entry(f"{M}:RiskTrajectory.at_samples", TR.at_samples, {"grid": [0.0, 3.0, 10.0], "averaged": False},
          {"grid": "vector", "averaged": "flag"}, o_at_samples)

    def o_g2(r, kw):
        p = problem_of(kw["problem"])
        s = vector(kw["second_moment"])
        b = real(kw["batch"])
        assert b >= 1 and s.shape == (p.dimension,) and np.all(s >= 0), f"accepted s={s!r}, batch={b!r}"
        lam, m = p.eigenvalues.tolist(), p.multiplicity.tolist()
        ref = (1 + (p.kurtosis - 2) / b) * sum(mi * l * l * x for mi, l, x in zip(m, lam, s.tolist())) \
            + sum(mi * l for mi, l in zip(m, lam)) / b * (sum(mi * l * x for mi, l, x in zip(m, lam, s.tolist()))
                                                           + p.noise_variance)
        assert math.isfinite(r) and r >= 0
        close(r, ref, 1e-12, "gradient_second_moment")

    entry(f"{M}:gradient_second_moment", recursion.gradient_second_moment,
          lambda: {"problem": P, "second_moment": [1.0, 2.0], "batch": 4},
          {"problem": "problem", "second_moment": "vector", "batch": "real"}, o_g2)

    def o_tables(r, kw):
        ss = kw["schedules"]
        assert not isinstance(ss, (str, bytes, dict)), f"accepted schedules={ss!r}"
        ss = list(ss)
        assert all(isinstance(s, Schedule) for s in ss)
        a, b = integer(kw["start"]), integer(kw["stop"])
        assert 0 <= a <= b
        lr_ref = [[float(s.step_arrays(t, t + 1)[0][0]) if t < len(s) else 0.0 for t in range(a, b)] for s in ss]
        b_ref = [[float(s.step_arrays(t, t + 1)[1][0]) if t < len(s) else 1.0 for t in range(a, b)] for s in ss]
        close(r[0], np.array(lr_ref).reshape(len(ss), b - a), 0.0, "lr table")
        close(r[1], np.array(b_ref).reshape(len(ss), b - a), 0.0, "batch table")

    entry(f"{M}:step_tables", recursion.step_tables, lambda: {"schedules": [SR, S], "start": 1, "stop": 4},
          {"schedules": "schedules", "start": "int", "stop": "int"}, o_tables,
          skip={"stop": (2**31,)})  # a 2**31-column table is valid (32 GiB), not hostile

    def o_initial(r, kw):
        p = problem_of(kw["problem"])
        n = integer(kw["n_schedules"])
        split = flag(kw["split"])
        assert n >= 1, f"accepted n_schedules={n}"
        s0 = p.initial_second_moment.tolist()
        rows = [s0] * n + ([s0] * n + [[0.0] * p.dimension] * n if split else [])
        noise = [p.noise_variance] * n + ([0.0] * n + [p.noise_variance] * n if split else [])
        close(r[0], np.array(rows), 0.0, "state")
        close(r[1], noise, 0.0, "noise")

    entry(f"{M}:initial_state", recursion.initial_state, lambda: {"problem": P, "n_schedules": 2, "split": True},
          {"problem": "problem", "n_schedules": "int", "split": "flag"}, o_initial,
          skip={"n_schedules": (2**31,)})  # valid, 2**31 rows


def _register_compression() -> None:
    compression = Public("ramplab.theory.dynamics.compression")

    M = "ramplab.theory.dynamics.compression"
    exempt(f"{M}:SpectralGrouping", "result record, built by spectral_groups")
    SR = Schedule([0.5, 0.5, 0.25], [4, 4, 2])

    def o_resolution(r, kw):
        tol = real(kw["rtol"])
        assert tol >= 0
        # docs/math.md#spectral-compression: δ ∝ sqrt(rtol).
        close(r, compression.resolution_for(1e-4) * math.sqrt(tol / 1e-4), 1e-12, "resolution_for")

    entry(f"{M}:resolution_for", compression.resolution_for, {"rtol": 1e-4}, {"rtol": "real"}, o_resolution)

    def o_contraction(r, kw):
        lam = vector(kw["eigenvalues"])
        lr, b = vector(kw["lr"]), vector(kw["batch"])
        kappa = real(kw["kurtosis"])
        assert lam.ndim == 1 and np.all(lam > 0) and lr.ndim == 1 and lr.shape == b.shape
        assert np.all(lr >= 0) and np.all(b >= 1) and kappa >= 1, "accepted an out-of-range argument"
        a_ref, v_ref = [], []
        for l in lam.tolist():
            a = v = 0.0
            for e, bb in zip(lr.tolist(), b.tolist()):
                c = 1 + (kappa - 2) / bb
                dd = 1 - 2 * e * l + c * e * e * l * l
                a -= math.log(dd)
                v += abs((-2 * e * l + 2 * c * e * e * l * l) / dd)
            a_ref.append(a)
            v_ref.append(v)
        close(r[0], a_ref, 1e-9, "A")
        close(r[1], v_ref, 1e-9, "V")

    entry(f"{M}:contraction_exponent", compression.contraction_exponent,
          {"eigenvalues": [1.0, 0.5], "lr": [0.5, 0.25], "batch": [4.0, 2.0], "kurtosis": 3.0},
          {"eigenvalues": "vector", "lr": "vector", "batch": "vector", "kurtosis": "real"}, o_contraction)

    def o_groups(r, kw):
        p = problem_of(kw["problem"])
        ss = kw["schedules"]
        assert isinstance(ss, Schedule) or (isinstance(ss, (list, tuple)) and ss
                                            and all(isinstance(s, Schedule) for s in ss))
        tol = real(kw["rtol"])
        assert tol >= 0
        g = r.problem
        close([g.effective_dimension, g.trace, g.initial_risk], [p.effective_dimension, p.trace, p.initial_risk],
              1e-12, "grouped totals")

    entry(f"{M}:spectral_groups", compression.spectral_groups, lambda: {"problem": P, "schedules": SR, "rtol": 1e-3},
          {"problem": "problem", "schedules": "schedules", "rtol": "real"}, o_groups)

    def o_compressed(r, kw):
        p = problem_of(kw["problem"])
        assert isinstance(kw["schedules"], Schedule)
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        tol = real(kw["rtol"])
        assert tol >= 0
        ref = plain_risks(p, *(a.tolist() for a in SR.step_arrays()), opt)
        finite(r.risk, nonnegative=True)
        if tol < 1e-3:
            close(r.risk, ref, max(1e-10, 100 * tol), "compressed risk")

    # Compression is reached through the front door (expected_risk(compress=rtol)); the loop does the rest.
    entry("ramplab.theory.dynamics.recursion:expected_risk[compress-rtol]",
          lambda problem, schedules, optimizer, rtol: expected_risk(problem, schedules, optimizer, compress=rtol),
          lambda: {"problem": P, "schedules": SR, "optimizer": "sgd", "rtol": 1e-6},
          {"problem": "problem", "optimizer": "choice", "rtol": "real"},
          # compress=None is the uncompressed solve, exact: held to the oracle as rtol = 0.
          lambda r, kw: o_compressed(r, dict(kw, rtol=0.0) if kw["rtol"] is None else kw), raises=(DivergenceError,))


# --- theory.dynamics.momentum, expected_risk(HeavyBall(μ)) ------------------------------------------
def plain_momentum_risks(p: Problem, lrs: list[float], batches: list[float], mus: list[float],
                         optimizer: str = "sgd") -> list[float]:
    """Risks ``R_0 … R_T`` of heavy ball by tests/oracles.py's covariance propagation
    (docs/math.md#heavy-ball-momentum); ``mus[0]`` is not used (``w_{−1} = w_0``)."""
    return heavy_ball_moments(p, lrs, batches, mus, optimizer=optimizer)["risk"].tolist()


def _momentum_matrix(p: Problem, lr: float, mu: float, b: float) -> np.ndarray:
    """The dense constant-(η, μ, B) map of ``(S_i, C_i, P_i)_i`` (tests/oracles.py)."""
    return heavy_ball_moment_matrix(p, lr, mu, b)


def _register_momentum() -> None:
    momentum, recursion = Public("ramplab.theory.dynamics.momentum"), Public("ramplab.theory.dynamics.recursion")

    M = "ramplab.theory.dynamics.momentum"
    PM = make_problem([1.0, 0.5], [1.0, 0.5], 0.1)

    def radius(p, lr, mu, b):
        with np.errstate(all="ignore"):
            mat = _momentum_matrix(p, lr, mu, b)
        if not np.all(np.isfinite(mat)):
            return math.nan
        return float(np.max(np.abs(np.linalg.eigvals(mat))))

    def o_torch(r, kw):
        mu = real(kw["momentum"])
        assert 0 <= mu < 1, f"accepted momentum {mu!r}"
        lrs = kw["lrs"]
        eta = lrs.step_arrays()[0] if isinstance(lrs, Schedule) else vector(lrs)
        assert eta.ndim == 1 and eta.size and np.all(eta >= 0), f"accepted lrs {lrs!r}"
        ref = [mu]
        for t in range(1, eta.size):
            prev, cur = float(eta[t - 1]), float(eta[t])
            assert not (mu > 0 and prev == 0 and cur > 0), "accepted a rate after a zero rate"
            ref.append(mu * cur / prev if prev > 0 else 0.0)
        close(r, ref, 1e-15, "torch momentum")

    entry(f"{M}:heavy_ball_momentum_of_torch_sgd", momentum.heavy_ball_momentum_of_torch_sgd,
          {"lrs": [0.4, 0.2, 0.1], "momentum": 0.9}, {"lrs": "vector", "momentum": "real"}, o_torch)

    def o_is_stable(r, kw):
        p = problem_of(kw["problem"])
        lr, mu, b = real(kw["lr"]), real(kw["momentum"]), real(kw["batch"])
        assert lr > 0 and 0 <= mu < 1 and b >= 1, f"accepted lr={lr!r}, momentum={mu!r}, batch={b!r}"
        assert isinstance(r, bool)
        rad = radius(p, lr, mu, b)
        if p.dimension <= 3 and math.isfinite(rad) and abs(rad - 1) > 1e-9:
            assert r == (rad < 1), f"is_stable_with_momentum {r} but the radius is {rad}"

    entry(f"{M}:is_stable_with_momentum", momentum.is_stable_with_momentum,
          {"problem": PM, "lr": 0.5, "momentum": 0.5, "batch": 2},
          {"problem": "problem", "lr": "real", "momentum": "real", "batch": "real"}, o_is_stable)

    def o_limit(r, kw):
        p = problem_of(kw["problem"])
        mu, b = real(kw["momentum"]), real(kw["batch"])
        assert 0 <= mu < 1 and b >= 1, f"accepted momentum={mu!r}, batch={b!r}"
        r = real(r)
        assert 0 < r <= 2 * (1 + mu) / float(np.max(p.eigenvalues)) * (1 + 1e-12)
        assert momentum.is_stable_with_momentum(p, r, mu, b)
        # Resolvable in float64: the dense eigenvalues of this non-normal map carry errors of about
        # 1e-10 near radius 1, so the ±1e-6 bracket is checked only away from μ → 1 (at μ = 0.99999
        # the radius at 0.999999 η* is 1 − O(1e-11), below what the dense solver resolves).
        if p.dimension <= 3 and mu <= 0.999 and radius(p, 1e-3 * r, mu, b) < 1 - 1e-9:
            assert radius(p, r * (1 - 1e-6), mu, b) < 1 < radius(p, r * (1 + 1e-6), mu, b)

    entry(f"{M}:momentum_stability_limit", momentum.momentum_stability_limit,
          {"problem": PM, "momentum": 0.5, "batch": 2},
          {"problem": "problem", "momentum": "real", "batch": "real"}, o_limit)

    def o_step(r, kw):
        s, c, p_, lam = (vector(kw[k]) for k in ("second_moment", "cross_moment", "previous_moment", "eigenvalues"))
        assert s.ndim == 1 and s.shape == c.shape == p_.shape == lam.shape, "accepted mismatched shapes"
        assert np.all(lam > 0) and np.all(s >= 0) and np.all(p_ >= 0)
        lr, mu, b, noise, k = (real(kw[n]) for n in ("lr", "momentum", "batch", "noise_variance", "kurtosis"))
        assert lr >= 0 and mu >= 0 and b >= 1 and noise >= 0 and k >= 1
        m = np.ones_like(lam) if kw["multiplicity"] is None else vector(kw["multiplicity"])
        assert m.shape == lam.shape and np.all(m >= 1)
        q = float(np.sum(m * lam * s))
        ref = []
        for i in range(lam.size):
            li, x = float(lam[i]), lr * float(lam[i])
            a = 1 + mu - x
            with np.errstate(all="ignore"):  # another order of operations may overflow where the function did not
                new_s = (a * a + (k - 2) / b * x * x) * s[i] - 2 * a * mu * c[i] + mu * mu * p_[i] \
                    + lr * lr / b * li * (q + noise)
                ref.append((max(new_s, 0.0), a * s[i] - mu * c[i], s[i]))
        for j, name in enumerate(("S", "C", "P")):
            finite(r[j])
            close(r[j], [v[j] for v in ref], 1e-12, name)

    entry(f"{M}:momentum_moment_step", momentum.momentum_moment_step,
          {"second_moment": [1.0, 2.0], "cross_moment": [0.5, -1.0], "previous_moment": [1.0, 1.5],
           "eigenvalues": [1.0, 0.5], "lr": 0.3, "momentum": 0.8, "batch": 2.0, "noise_variance": 0.1,
           "kurtosis": 3.0, "multiplicity": None},
          {"second_moment": "vector", "cross_moment": "vector", "previous_moment": "vector", "eigenvalues": "vector",
           "lr": "real", "momentum": "real", "batch": "real", "noise_variance": "real", "kurtosis": "real",
           "multiplicity": "vector"}, o_step)

    SR = Schedule([0.5, 0.5, 0.25], [4, 4, 2])

    def o_expected(r, kw):
        p = problem_of(kw["problem"])
        sched = kw["schedules"]
        if not isinstance(sched, Schedule):
            assert isinstance(sched, (list, tuple)) and len(sched) == 1 and isinstance(sched[0], Schedule)
            assert isinstance(r, tuple) and len(r) == 1
            sched, r = sched[0], r[0]
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        mom = kw["momentum"]
        if np.ndim(mom) == 0 and not isinstance(mom, (list, tuple)):
            mu = real(mom)
            assert 0 <= mu < 1, f"accepted momentum {mom!r}"
            mus = [mu] * len(sched)
        else:
            arr = vector(mom)
            assert arr.ndim == 1 and arr.size == len(sched) and np.all(arr >= 0), f"accepted momentum {mom!r}"
            mus = arr.tolist()
        lrs, bs = sched.step_arrays()
        ref = plain_momentum_risks(p, lrs.tolist(), bs.tolist(), mus, opt)
        bound = 1e12 * (ref[0] + p.noise_variance)
        first_bad = next((t for t, x in enumerate(ref) if not x <= bound), None)
        assert first_bad is None, "a diverging run was not reported"  # on_divergence="raise"
        close(r.risk, ref, 1e-10, "risk")

    def heavy_ball_expected_risk(problem, schedules, optimizer, momentum):
        """``expected_risk`` with heavy ball: the momentum and its step fuzzed through the spec."""
        return recursion.expected_risk(problem, schedules, HeavyBall(momentum, optimizer=optimizer))

    entry("ramplab.theory.dynamics.recursion:expected_risk[momentum]", heavy_ball_expected_risk,
          {"problem": P, "schedules": SR, "optimizer": "sgd", "momentum": 0.5},
          {"problem": "problem", "schedules": "schedule", "optimizer": "choice", "momentum": "vector"},
          o_expected, raises=(DivergenceError,),
          skip={"schedules": tuple(x for x in POOLS["schedule"] if isinstance(x, Schedule) and len(x) > 2**20)})


# --- theory.dynamics.quadrature (docs/math.md#quadrature-reduction) -------------------------------
def _register_quadrature() -> None:
    quadrature = Public("ramplab.theory.dynamics.quadrature")

    M = "ramplab.theory.dynamics.quadrature"
    exempt(f"{M}:QuadratureReduction", "result record, built by reduce_problem (its expand is driven by expected_risk)")
    SR = Schedule([0.5, 0.5, 0.25], [4, 4, 2])

    def o_rule(r, kw):
        x, w = vector(kw["points"]), vector(kw["weights"])
        n = integer(kw["nodes"])
        assert x.ndim == 1 and x.shape == w.shape and np.all(np.isfinite(x)) and n >= 1
        assert np.all(w >= 0) and np.isfinite(w.sum()) and w.sum() > 0, "accepted bad weights"
        node, weight = r
        assert node.size <= n and np.all(weight > 0)
        assert np.all((node >= x.min()) & (node <= x.max()))
        # The rule integrates constants exactly: its weights add up to the measure's mass.
        close(float(weight.sum()), float(w.sum()), 1e-12, "rule mass")

    entry(f"{M}:gauss_rule", quadrature.gauss_rule, {"points": [1.0, 0.5, 0.25], "weights": [1.0, 2.0, 3.0], "nodes": 2},
          {"points": "vector", "weights": "vector", "nodes": "int"}, o_rule)

    def o_reduce(r, kw):
        p = problem_of(kw["problem"])
        ss = kw["schedules"]
        assert isinstance(ss, Schedule) or (isinstance(ss, (list, tuple)) and ss
                                            and all(isinstance(s, Schedule) for s in ss))
        g = r.problem
        # The reduction keeps the trace and the initial risk (docs/math.md#quadrature-reduction).
        close([g.trace, g.initial_risk], [p.trace, p.initial_risk], 1e-12, "reduced totals")

    entry(f"{M}:reduce_problem", quadrature.reduce_problem, lambda: {"problem": P, "schedules": SR},
          {"problem": "problem", "schedules": "schedules"}, o_reduce)


for _register in (
    _register_equivalence, _register_problem, _register_dynamics, _register_recursion, _register_compression,
    _register_momentum, _register_quadrature,
):
    _register()

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
