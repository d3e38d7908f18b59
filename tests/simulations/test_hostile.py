"""Hostile inputs to ramplab.simulations: samplers, random streams, simulate (the machinery, and how a table
works: tests/hostile.py)."""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np

from ramplab.theory import NSGD, DivergenceError, Numerics, Problem, Schedule, resolve_backend, resolve_optimizer

from hostile import (
    P, POOLS, Public, Table, choice, close, finite, flag, integer, make_tests, problem_of, real, real_values,
    vector,
)

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


# --- simulations ----------------------------------------------------------------------------
def _register_simulations() -> None:
    samplers, streams = Public("ramplab.simulations.samplers"), Public("ramplab.simulations.streams")

    M, N = "ramplab.simulations.samplers", "ramplab.simulations.streams"
    exempt(f"{M}:DATA_KURTOSIS {M}:DIRECT_PIECE_ELEMENTS {M}:SAMPLERS", "constant")
    XP = resolve_backend("numpy")

    def o_piece(r, kw):
        d, b = integer(kw["dimension"]), integer(kw["batch"])
        assert d >= 1 and b >= 1
        assert r == min(b, max(1, 65536 // d))

    entry(f"{M}:direct_piece", samplers.direct_piece, {"dimension": 1000, "batch": 1024},
          {"dimension": "int", "batch": "int"}, o_piece)

    def cov_ref(p, e, batch, kappa):
        lam = [float(x) for x in p.eigenvalues]
        a = [math.sqrt(l) * x for l, x in zip(lam, e)]
        n2 = sum(x * x for x in a)
        d = len(lam)
        out = np.zeros((d, d))
        for i in range(d):
            for j in range(d):
                inner = (n2 + p.noise_variance) * (i == j) + a[i] * a[j] + (kappa - 3) * (i == j) * a[i] ** 2
                out[i, j] = math.sqrt(lam[i]) * inner * math.sqrt(lam[j]) / batch
        return out

    def o_cov(r, kw):
        p = problem_of(kw["problem"])
        e = vector(kw["error"])
        assert e.shape == (p.dimension,)
        b = integer(kw["batch"])
        assert b >= 1
        kappa = p.kurtosis if kw["kurtosis"] is None else real(kw["kurtosis"])
        assert kappa >= 1
        finite(r)
        assert np.all(np.diag(r) >= 0)
        close(r, cov_ref(p, e.tolist(), b, kappa), 1e-12)

    entry(f"{M}:gradient_covariance", samplers.gradient_covariance,
          lambda: {"problem": P, "error": [1.0, -2.0], "batch": 2, "kurtosis": None},
          {"problem": "problem", "error": "vector", "batch": "int", "kurtosis": "real"}, o_cov)

    def o_samples(r, kw):
        p = problem_of(kw["problem"])
        e = vector(kw["error"])
        assert e.shape == (p.dimension,)
        assert integer(kw["batch"]) >= 1
        draws = integer(kw["draws"])
        choice(kw["sampler"], ("gaussian-exact", "direct"))
        choice(kw["data"], ("gaussian", "rademacher", "uniform"))
        assert isinstance(r, np.ndarray) and r.shape == (draws, p.dimension)
        finite(r)

    entry(f"{M}:gradient_samples", samplers.gradient_samples,
          lambda: {"problem": P, "error": [1.0, -2.0], "batch": 4, "draws": 8, "sampler": "gaussian-exact",
                   "data": "gaussian", "seed": 0, "backend": "numpy"},
          {"problem": "problem", "error": "vector", "batch": "int", "draws": "int", "sampler": "choice",
           "data": "choice", "seed": "seed", "backend": "choice"}, o_samples)
    entry(f"{M}:gradient_samples[direct]", samplers.gradient_samples,
          lambda: {"problem": P, "error": [1.0, -2.0], "batch": 4, "draws": 8, "sampler": "direct",
                   "data": "rademacher", "seed": 0, "backend": "numpy"},
          {"batch": "int", "draws": "int", "data": "choice"}, o_samples)

    def kernel_args():
        root = streams.root_seed_sequence(0)
        return {"xp": XP, "streams": streams.block_streams(root, 0, 3, 64, XP, XP.float64),
                "scaled_error": np.ones((3, 2)), "sqrt_eigenvalues": np.array([1.0, 0.5]), "batch": 4,
                "noise_std": 0.1}

    def o_kernel(r, kw):
        assert isinstance(kw["xp"], ModuleType)
        a = real_values(kw["scaled_error"])
        root = real_values(kw["sqrt_eigenvalues"])
        assert a.ndim == 2 and root.shape == (a.shape[1],)
        assert integer(kw["batch"]) >= 1 and real(kw["noise_std"]) >= 0
        assert a.shape[0] == sum(s.used for s in kw["streams"])
        assert np.asarray(r).shape == a.shape
        # A per-step kernel propagates what it is given (Monte Carlo detects divergence): the result
        # must be finite when the inputs are moderate.
        inputs = [a, root, np.array([real(kw["noise_std"])])]
        if "norm_squared" in kw:
            inputs.append(real_values(kw["norm_squared"]))
        if all(np.all(np.abs(x) < 1e100) for x in inputs):  # NaN compares False: NaN in may give NaN out
            finite(r)

    entry(f"{M}:direct_gradient", samplers.direct_gradient, lambda: dict(kernel_args(), data="gaussian"),
          {"xp": "xp", "streams": "streams", "scaled_error": "vector", "sqrt_eigenvalues": "vector",
           "batch": "batch", "noise_std": "real", "data": "choice"}, o_kernel)

    def o_exact_kernel(r, kw):
        n2 = real_values(kw["norm_squared"])
        a = real_values(kw["scaled_error"])
        assert n2.shape == (a.shape[0],)
        if np.allclose(n2, (a * a).sum(axis=1)):  # the kernel's contract: norm_squared = Σ a² (trusted)
            o_kernel(r, kw)

    entry(f"{M}:gaussian_exact_gradient", samplers.gaussian_exact_gradient,
          lambda: dict(kernel_args(), norm_squared=np.full(3, 1.25)),
          {"xp": "xp", "streams": "streams", "scaled_error": "vector", "norm_squared": "vector",
           "sqrt_eigenvalues": "vector", "batch": "batch", "noise_std": "real"}, o_exact_kernel)

    def o_default_block(r, kw):
        assert kw["xp"] is XP or kw["xp"] is np
        assert r == 64

    entry(f"{N}:default_block", streams.default_block, {"xp": XP}, {"xp": "xp"}, o_default_block)

    def o_namespace(r, kw):
        assert isinstance(kw["xp"], ModuleType) and hasattr(kw["xp"], "asarray") and r is kw["xp"]
        assert isinstance(kw["name"], str)

    entry(f"{N}:namespace", streams.namespace, {"xp": XP, "name": "xp"}, {"xp": "xp"}, o_namespace)

    def o_root(r, kw):
        seed = kw["seed"]
        assert isinstance(r, np.random.SeedSequence)
        if isinstance(seed, np.random.SeedSequence):
            assert r is seed
        elif seed is not None:
            if isinstance(seed, (list, tuple)):
                assert seed and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= 0
                                    for x in seed)
                assert r.entropy == [int(x) for x in seed]
            else:
                assert isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0
                assert r.entropy == int(seed)

    entry(f"{N}:root_seed_sequence", streams.root_seed_sequence, {"seed": 7}, {"seed": "seed"}, o_root)

    def o_block_streams(r, kw):
        first, runs, block = integer(kw["first_run"]), integer(kw["runs"]), integer(kw["block"])
        assert first >= 0 and runs >= 1 and block >= 1 and first % block == 0
        assert isinstance(kw["root"], np.random.SeedSequence)
        assert kw["dtype"] in (XP.float64, XP.float32)
        assert sum(s.used for s in r) == runs and all(s.rows == block for s in r)

    entry(f"{N}:block_streams", streams.block_streams,
          lambda: {"root": streams.root_seed_sequence(3), "first_run": 64, "runs": 7, "block": 64, "xp": XP,
                   "dtype": XP.float64},
          {"root": "seed", "first_run": "int", "runs": "int", "block": "int", "xp": "xp", "dtype": "choice"},
          o_block_streams)

    def o_concat(r, kw):
        parts = kw["parts"]
        assert isinstance(parts, (list, tuple)) and parts and all(isinstance(p, np.ndarray) for p in parts)
        assert np.array_equal(r, np.concatenate(parts, axis=0))

    entry(f"{N}:concat_draws", streams.concat_draws,
          lambda: {"xp": XP, "parts": [np.ones((2, 3)), np.zeros((1, 3))]}, {"xp": "xp", "parts": "streams"}, o_concat)

    def o_stream(r, kw):
        rows, used = integer(kw["rows"]), integer(kw["used"])
        assert 1 <= used <= rows
        assert hasattr(kw["generator"], "normal")

    def gen():
        return streams.block_streams(streams.root_seed_sequence(1), 0, 1, 4, XP, XP.float64)[0].generator

    entry(f"{N}:BlockStream", streams.BlockStream, lambda: {"generator": gen(), "rows": 4, "used": 2},
          {"generator": "any", "rows": "int", "used": "int"}, o_stream)

    def stream():
        return streams.BlockStream(gen(), 4, 2)

    def splat(tail):
        """``tail`` as the method's positional dimensions: a tuple is splatted, anything else is one."""
        return tail if isinstance(tail, tuple) else (tail,)

    def o_draw(kind):
        def check(r, kw):
            tail = tuple(integer(t) for t in splat(kw["tail"]))
            assert all(t >= 0 for t in tail)
            if kind == "gamma":
                k = vector(kw["shape_parameter"])
                assert np.all(k > 0)
            assert np.asarray(r).shape == (2, *tail)
            finite(r, nonnegative=kind in ("gamma", "uniform"))
            if kind == "signs":
                assert np.all(np.abs(r) == 1)
            if kind == "uniform":
                assert np.all(np.asarray(r) < 1)
        return check

    for kind in ("normal", "signs", "uniform"):
        entry(f"{N}:BlockStream.{kind}", lambda tail, k=kind: getattr(stream(), k)(*splat(tail)), {"tail": (3,)},
              {"tail": "sizes"}, o_draw(kind))
    entry(f"{N}:BlockStream.gamma", lambda shape_parameter, tail: stream().gamma(shape_parameter, *splat(tail)),
          {"shape_parameter": np.array([2.0, 1.5]), "tail": (2,)}, {"shape_parameter": "vector", "tail": "sizes"},
          o_draw("gamma"))


def o_hyperparameters(r, kw, optimizer: str, p: Problem, s: Schedule) -> None:
    """What simulate accepted as hyper-parameters and rotation is what docs/math.md#monte-carlo-optimizers allows."""
    owners = {"momentum": ("momentum", "signsgd"), "betas": ("adam",), "eps": ("adam",), "weight_decay": ("adam",)}
    for name, allowed in owners.items():
        value = kw.get(name)
        if value is None:
            continue
        assert optimizer in allowed, f"accepted {name}={value!r} for optimizer={optimizer!r}"
        if name == "momentum":
            if optimizer == "momentum" and np.ndim(value) >= 1:
                mu = vector(value)
                assert mu.shape == (len(s),) and np.all(mu >= 0), f"accepted momentum={value!r}"
                close(r.hyperparameters["momentum"], mu, 0.0, "momentum")
            else:
                mu = real(value)
                assert 0 <= mu < 1, f"accepted momentum={value!r}"
                assert r.hyperparameters["momentum"] == mu
        elif name == "betas":
            b = vector(value)
            assert b.shape == (2,) and np.all((b >= 0) & (b < 1)), f"accepted betas={value!r}"
            assert r.hyperparameters["betas"] == tuple(b.tolist())
        else:
            v = real(value)
            assert v >= 0, f"accepted {name}={value!r}"
            assert r.hyperparameters[name] == v
    rot = kw.get("rotation")
    if rot is None:
        assert r.rotation is None
    elif isinstance(rot, str):
        assert rot == "random", f"accepted rotation={rot!r}"
    else:
        q = vector(rot)
        assert q.shape == (p.dimension, p.dimension), f"accepted rotation of shape {q.shape}"
        assert np.max(np.abs(q.T @ q - np.eye(p.dimension))) <= 1e-8, "accepted a non-orthogonal rotation"
        close(r.rotation, q, 0.0, "rotation")


def _register_monte_carlo() -> None:
    monte_carlo = Public("ramplab.simulations.monte_carlo")
    averaging = Public("ramplab.theory.dynamics.averaging")

    def simulate(problem, schedule, optimizer, normalization, backend, dtype, chunk_size, momentum=None, betas=None,
                 eps=None, weight_decay=None, rotation=None, **kw):
        """``simulate`` with the optimizer's hyper-parameters and the fields of its ``numerics=`` flat, as the
        table fuzzes them: each hyper-parameter goes into the spec of ``optimizer`` (its constructor refuses one
        it does not take, naming it), the numerics into a :class:`Numerics` record (which checks each, naming
        it); ``normalization`` is checked whatever the optimizer and used by NSGD."""
        NSGD(normalization)
        hyper = {k: v for k, v in (("momentum", momentum), ("betas", betas), ("eps", eps),
                                   ("weight_decay", weight_decay), ("rotation", rotation)) if v is not None}
        cls = type(resolve_optimizer(optimizer))
        spec = cls(normalization, **hyper) if cls is NSGD else cls(**hyper)
        numerics = Numerics(backend=backend, dtype=dtype, chunk_size=chunk_size)
        return monte_carlo.simulate(problem, schedule, spec, numerics=numerics, **kw)

    M = "ramplab.simulations.monte_carlo"
    exempt(f"{M}:NORMALIZATIONS {M}:OPTIMIZERS", "constant")
    exempt(f"{M}:SimulationDivergenceError", "exception class")
    exempt(f"{M}:SimulationResult", "result record, built by simulate")
    SM = Schedule([0.5, 0.5, 0.25], [4, 4, 2])

    def o_simulate(r, kw):
        p = problem_of(kw["problem"])
        s = kw["schedule"]
        assert isinstance(s, Schedule), f"accepted schedule {s!r}"
        optimizer = choice(kw["optimizer"], ("sgd", "nsgd", "momentum", "adam", "signsgd"))
        choice(kw["normalization"], ("expected", "conditional"))
        o_hyperparameters(r, kw, optimizer, p, s)
        runs = integer(kw["runs"])
        assert runs >= 1
        be = kw["backend"]
        assert be is None or be is np or choice(be, ("numpy", "array_api_strict", "auto")), f"accepted {be!r}"
        choice(kw["sampler"], ("auto", "gaussian-exact", "direct"))
        assert kw["data"] is None or choice(kw["data"], ("gaussian", "rademacher", "uniform"))
        keep = flag(kw["keep_runs"])
        mode = choice(kw["on_divergence"], ("raise", "flag"))
        thr = real(kw["divergence_threshold"])
        assert thr > 1, f"accepted divergence_threshold={thr!r}"
        assert kw["progress"] is None or isinstance(kw["progress"], (bool, np.bool_)), "accepted progress"
        dt = kw["dtype"]
        assert dt is None or dt in (np.float64, np.float32, "float64", "float32"), f"accepted dtype {dt!r}"
        for k in ("chunk_size", "runs_per_stream"):
            if kw[k] is not None:
                assert integer(kw[k]) >= 1, f"accepted {k}={kw[k]!r}"
        avg = kw["average"]
        assert avg is None or isinstance(avg, averaging.Averaging) or choice(avg, ("uniform",))
        cps = kw["checkpoints"]
        if cps is None:
            k = len(s) + 1
        else:
            c = vector(cps).reshape(-1)  # documented: array_like, flattened
            assert c.size and np.all((c >= 0) & (c <= s.total_samples)), f"accepted {cps!r}"
            k = c.size
        mean = np.asarray(r.mean_risk, dtype=float)
        assert mean.shape == (k,) and np.asarray(r.stderr).shape == (k,), f"shapes {mean.shape}, {k}"
        assert not np.any(np.isnan(mean)) and not np.any(np.isnan(r.stderr)), "NaN in the Monte Carlo mean"
        if r.diverged_at is None:
            finite(mean, nonnegative=True)
            se = np.asarray(r.stderr, dtype=float)
            assert np.all(se >= 0), f"negative stderr {se!r}"
            # Documented (RunningMoments): a spread whose sum of squares overflows is reported as +inf.
            # and with a single run the spread is undefined (+inf).
            assert runs == 1 or np.all(np.isfinite(se) | (mean > 1e150)), f"infinite stderr {se!r} at {mean!r}"
        else:
            assert mode == "flag"
        if cps is None:
            close(mean[0], p.initial_risk, 1e-12, "risk[0]")
        if keep:
            assert np.asarray(r.run_risk).shape == (runs, k)

    base = {"problem": P, "schedule": SM, "optimizer": "sgd", "normalization": "expected", "runs": 8, "seed": 0,
            "backend": "numpy", "sampler": "auto", "data": None, "checkpoints": None, "keep_runs": False,
            "on_divergence": "raise", "progress": False, "dtype": None, "chunk_size": None,
            "runs_per_stream": None, "average": None, "divergence_threshold": 1e12}
    kinds = {"problem": "problem", "schedule": "schedule", "optimizer": "choice", "normalization": "choice",
             "runs": "batch", "seed": "seed", "backend": "xp", "sampler": "choice", "data": "choice",
             "checkpoints": "vector", "keep_runs": "flag", "on_divergence": "choice", "progress": "flag",
             "dtype": "choice", "chunk_size": "batch", "runs_per_stream": "batch", "average": "choice",
             "divergence_threshold": "real"}
    # A 2**40-step schedule is valid (the simulation takes its time), not hostile.
    long = tuple(x for x in POOLS["schedule"] if isinstance(x, Schedule) and len(x) > 2**20)
    nones = (None,)
    entry(f"{M}:simulate", simulate, lambda: dict(base), kinds, o_simulate,
          raises=(DivergenceError,),
          skip={"schedule": long, "data": nones, "checkpoints": nones, "progress": nones, "dtype": nones,
                "chunk_size": nones, "runs_per_stream": nones, "average": nones})
    entry(f"{M}:simulate[nsgd-flag]", simulate,
          lambda: {**base, "optimizer": "nsgd", "normalization": "conditional", "on_divergence": "flag",
                   "keep_runs": True, "average": "uniform", "checkpoints": [0.0, 5.0, 10.0], "chunk_size": 64,
                   "runs_per_stream": 8},
          {k: kinds[k] for k in ("problem", "normalization", "checkpoints", "average", "chunk_size", "runs_per_stream",
                                 "dtype")},
          o_simulate, raises=(DivergenceError,), skip={"dtype": nones})
    # The optimizers of docs/math.md#monte-carlo-optimizers: each hyper-parameter with its own optimizer.
    hyper_kinds = {"momentum": "vector", "betas": "sequence", "eps": "real", "weight_decay": "real",
                   "rotation": "vector"}
    entry(f"{M}:simulate[momentum]", simulate,
          lambda: {**base, "optimizer": "momentum", "momentum": 0.5},
          {"momentum": "vector", "rotation": "vector", "betas": "sequence"}, o_simulate, raises=(DivergenceError,))
    entry(f"{M}:simulate[adam]", simulate,
          lambda: {**base, "optimizer": "adam", "betas": (0.9, 0.99), "eps": 1e-8, "weight_decay": 0.01,
                   "rotation": np.array([[0.6, -0.8], [0.8, 0.6]])},
          {k: hyper_kinds[k] for k in ("betas", "eps", "weight_decay", "rotation", "momentum")}, o_simulate,
          raises=(DivergenceError,), skip={"betas": nones, "eps": nones, "weight_decay": nones, "rotation": nones})
    entry(f"{M}:simulate[signsgd]", simulate,
          lambda: {**base, "optimizer": "signsgd", "momentum": 0.9, "rotation": "random"},
          {"momentum": "real", "rotation": "vector", "eps": "real"}, o_simulate, raises=(DivergenceError,),
          skip={"momentum": nones, "rotation": nones})


for _register in (_register_simulations, _register_monte_carlo):
    _register()

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
