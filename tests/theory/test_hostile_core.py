"""Hostile inputs to what the one-step/one-loop core added to the public surface (docs/design.md, "The exact
core"): the optimizer specs shared by ``expected_risk`` and ``simulate``, the solver state that a run hands back
and may start from, and the controller hook (the machinery, and how a table works: tests/hostile.py)."""

from __future__ import annotations

import math

import numpy as np

from ramplab.theory import (
    NSGD,
    Numerics,
    SGD,
    Adam,
    HeavyBall,
    Problem,
    SignSGD,
    SolverState,
    expected_risk,
    memory_estimate,
    resolve_optimizer,
)
from ramplab.theory.dynamics import DivergenceError, controlled_risk

from hostile import P, Table, close, finite, make_tests

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt
T = "ramplab.theory"
D = "ramplab.theory.dynamics"


def _register_specs() -> None:
    exempt(f"{T}:OptimizerSpec", "base class of the specs (each spec is driven)")

    def o_sgd(r, kw):
        assert isinstance(r, SGD) and r == SGD() and r.name == "sgd" and r.exact_supported

    entry(f"{T}:SGD", SGD, {}, {}, o_sgd)

    def o_nsgd(r, kw):
        assert isinstance(r, NSGD) and r.normalization in ("expected", "conditional")
        assert r.normalization == kw["normalization"] and r.exact_supported == (r.normalization == "expected")

    entry(f"{T}:NSGD", NSGD, {"normalization": "expected"}, {"normalization": "choice"}, o_nsgd)

    def o_heavy(r, kw):
        assert isinstance(r, HeavyBall) and r.optimizer == kw["optimizer"]
        mu = np.asarray(r.momentum, dtype=float)
        assert np.all(np.isfinite(mu)) and np.all(mu >= 0)
        if mu.ndim == 0:
            assert 0 <= float(mu) < 1
        close(mu, np.asarray(kw["momentum"], dtype=float), 0, "momentum")

    entry(f"{T}:HeavyBall", HeavyBall, {"momentum": 0.5, "optimizer": "sgd"},
          {"momentum": "vector", "optimizer": "choice"}, o_heavy)

    def o_adam(r, kw):
        assert isinstance(r, Adam)
        b1, b2 = r.betas
        # ε = 0 is allowed: Adam with β = (0, 0), ε = 0 is sign descent (tests/simulations/test_optimizers.py).
        assert 0 <= b1 < 1 and 0 <= b2 < 1 and r.eps >= 0 and math.isfinite(r.eps) and r.weight_decay >= 0
        close([b1, b2], np.asarray(kw["betas"], dtype=float), 0, "betas")

    entry(f"{T}:Adam", Adam, {"betas": (0.9, 0.99), "eps": 1e-8, "weight_decay": 0.0},
          {"betas": "vector", "eps": "real", "weight_decay": "real"}, o_adam)

    def o_sign(r, kw):
        assert isinstance(r, SignSGD) and 0 <= r.momentum < 1
        close(r.momentum, float(kw["momentum"]), 0, "momentum")

    entry(f"{T}:SignSGD", SignSGD, {"momentum": 0.5, "rotation": None}, {"momentum": "real", "rotation": "vector"},
          o_sign)

    def o_resolve(r, kw):
        assert r.name == (kw["optimizer"] if isinstance(kw["optimizer"], str) else kw["optimizer"].name)
        if kw["where"] == "exact":
            assert r.exact_supported

    entry(f"{T}:resolve_optimizer", resolve_optimizer, {"optimizer": "nsgd", "where": "exact"},
          {"optimizer": "choice", "where": "choice"}, o_resolve)


def _register_numerics() -> None:
    def o_numerics(r, kw):
        assert isinstance(r, Numerics) and r.kernel in ("auto", "fused", "reference")
        assert r.chunk_size is None or (isinstance(r.chunk_size, int) and r.chunk_size >= 1)
        assert r == Numerics(**{k: getattr(r, k) for k in ("backend", "dtype", "kernel", "chunk_size")})

    entry(f"{T}:Numerics", Numerics, {"backend": "numpy", "dtype": None, "kernel": "auto", "chunk_size": None},
          {"backend": "choice", "dtype": "choice", "kernel": "choice", "chunk_size": "int"}, o_numerics,
          skip={"chunk_size": (2**31, 2**53, 2**53 + 1, 2**62)})  # valid: a record only (simulate caps it by memory)


def _register_state() -> None:
    state = expected_risk(P, __import__("hostile").S, HeavyBall(0.5), average="uniform").state_at(3)

    def o_state(r, kw):
        assert isinstance(r, SolverState) and r.step == kw["step"] >= 0
        finite(r.second_moment, nonnegative=True)
        close(r.second_moment, np.asarray(kw["second_moment"], dtype=float), 0, "second_moment")
        assert r.samples == kw["samples"] and r.samples >= 0
        # A state built by hand continues a run like the one it copies.
        if r.dimension == P.dimension and r == state:
            more = expected_risk(P, __import__("hostile").S, HeavyBall(0.5), average="uniform", initial_state=r)
            assert np.all(np.isfinite(more.risk))

    entry(f"{T}:SolverState", SolverState,
          lambda: {"step": state.step, "samples": state.samples, "second_moment": state.second_moment,
                   "cross_moment": state.cross_moment, "previous_moment": state.previous_moment,
                   "average_second_moment": state.average_second_moment,
                   "average_cross_moment": state.average_cross_moment,
                   "average_previous_moment": state.average_previous_moment},
          {"step": "int", "samples": "real", "second_moment": "vector", "cross_moment": "vector",
           "previous_moment": "vector", "average_second_moment": "vector", "average_cross_moment": "vector",
           "average_previous_moment": "vector"}, o_state)


class _Halving:
    """Halve the rate every 4 steps (a valid controller)."""

    def __init__(self) -> None:
        self.lr = 0.5

    def next_stop(self, step):
        return (step // 4 + 1) * 4

    def tables(self, start, stop):
        return np.full((1, stop - start), self.lr), np.full((1, stop - start), 4.0)

    def observe(self, view):
        if view.step % 4 == 0:
            self.lr /= 2


def _register_controller() -> None:
    exempt(f"{D}:Controller", "base class of controllers (its methods raise NotImplementedError; driven through "
                              "controlled_risk)")
    exempt(f"{D}:LoopView", "record the loop hands a controller")

    def o_controlled(r, kw):
        p = kw["problem"]
        assert r.steps[-1] == kw["steps"] and r.schedule.serial_steps == kw["steps"]
        # Reference: the front door on the realised schedule (same loop, same step: bitwise).
        again = expected_risk(p, r.schedule, kw["optimizer"], on_divergence="flag")
        assert np.array_equal(again.risk, r.risk)

    entry(f"{D}:controlled_risk", lambda **kw: controlled_risk(controller=_Halving(), **kw),
          {"problem": P, "steps": 20, "optimizer": "sgd", "label": "x", "integer_batch": False,
           "divergence_threshold": 1e12},
          {"problem": "problem", "steps": "int", "optimizer": "choice", "label": "label", "integer_batch": "flag",
           "divergence_threshold": "real"}, o_controlled, raises=(DivergenceError,),
          skip={"steps": (2**31, 2**53, 2**53 + 1, 2**62)})  # valid but long: 2**31 steps are hours of work


def _register_memory() -> None:
    def o_memory(r, kw):
        # Independent: the documented model (theory/_memory.py) in exact integers.
        d, points = int(kw["d"]), int(kw["points"])
        rows = 3 if kw["split"] else 1
        assert isinstance(r, int) and r == 64 * d + 32 * rows * d + 64 * rows * points

    entry(f"{T}:memory_estimate", memory_estimate, {"d": 100, "points": 11, "split": False},
          {"d": "int", "points": "int", "split": "flag"}, o_memory)


for _register in (_register_specs, _register_numerics, _register_state, _register_controller, _register_memory):
    _register()

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
