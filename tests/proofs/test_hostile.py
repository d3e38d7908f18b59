"""Hostile inputs to ramplab.proofs (the machinery, and how a table works: tests/hostile.py)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp


from hostile import (
    FLOAT_MAX, Public, Table, choice, close, finite, flag, make_tests, module_of, real,
)

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


# --- proofs ----------------------------------------------------------------------------------
def _register_proofs() -> None:
    import ramplab.proofs as proofs
    derivation = Public("ramplab.proofs.derivation")
    growth = Public("ramplab.proofs.growth")
    schedule_sums = Public("ramplab.proofs.schedule_sums")
    psfo = Public("ramplab.proofs.sfo")

    M = "ramplab.proofs"
    exempt(f"{M}:DERIVATIONS", "registry of the zero-argument derivations")
    for name in ("master_bound", "growth_exponential", "growth_polynomial", "nsgd_invariant", "ramp_bound",
                 "serial_step_integrals", "stationary_point", "temperature"):
        where = "sfo" if name == "master_bound" else "growth" if "growth" in name else "equivalence"
        exempt(f"ramplab.proofs.{where}:{name}", "derivation without arguments (nothing to substitute)")
    exempt("ramplab.proofs.sfo:sfo_expressions", "derivation without arguments (nothing to substitute)")
    exempt("ramplab.proofs.sfo:CONVENTIONS ramplab.proofs.sfo:STATIONARITY", "constant")
    exempt(" ".join(f"ramplab.proofs.growth:{n}" for n in ("SFO", "SUM_RATE", "SUM_RATE2_BATCH")), "sympy constant")
    exempt(" ".join(f"ramplab.proofs.schedule_sums:{n}" for n in
                    ("BIAS", "BIAS_LIMIT", "SCHEDULES", "SUM1", "SUM2", "SUM_KIND", "VARIANCE", "VARIANCE_LIMIT")),
           "sympy constant")
    for n in ("heavy_ball_averaging", "heavy_ball_moments", "heavy_ball_stability", "torch_momentum_mapping"):
        exempt(f"ramplab.proofs.momentum:{n}", "derivation without arguments (nothing to substitute)")
    exempt("ramplab.proofs.weight_decay:weight_decay_moments", "derivation without arguments (nothing to substitute)")
    for n in module_of("ramplab.proofs.symbols").__all__:
        exempt(f"ramplab.proofs.symbols:{n}", "sympy symbol")

    def o_cbs(r, kw):
        vals = [Fraction(real(kw[k])) for k in ("smoothness", "gradient_variance", "lr", "epsilon")]
        assert all(v > 0 for v in vals)
        L, s2, eta, eps = vals
        conv = choice(kw["convention"], ("general", "small_step"))
        tau = eps * eps if choice(kw["stationarity"], ("norm", "squared")) == "norm" else eps
        if conv == "general":
            assert L * eta < 2
            ref = 2 * (L * s2 / (2 - L * eta)) * eta / tau
        else:
            assert L * eta <= 1
            ref = 2 * L * s2 * eta / tau
        assert ref <= Fraction(FLOAT_MAX), "finite exact value beyond float64 returned"
        finite(r, nonnegative=True)
        close(r, float(ref), 1e-12)

    cbs_valid = {"smoothness": 1.0, "gradient_variance": 2.0, "lr": 0.5, "epsilon": 0.1, "convention": "general",
                 "stationarity": "norm"}
    entry("ramplab.proofs.sfo:bound_critical_batch", proofs.bound_critical_batch, cbs_valid,
          {"smoothness": "real", "gradient_variance": "real", "lr": "real", "epsilon": "real",
           "convention": "choice", "stationarity": "choice"}, o_cbs)

    def o_growth_exp(r, kw):
        g, d = real(kw["gamma"]), real(kw["delta"])
        assert g > 0 and d > 0
        if g <= 1 or d <= g:
            assert r == math.inf
            return
        x = math.log(d) / math.log(g)
        close(r, 2 * x / (x - 1) if x < 2 else 2 * x, 1e-12)

    def o_poly_exp(r, kw):
        p, q = real(kw["p"]), real(kw["q"])
        assert p > 0 and q >= 0
        close(r, math.inf if p <= q else 2 * (p + 1) / min(q + 1, p - q), 1e-12)

    entry("ramplab.proofs.growth:growth_exponent", growth.growth_exponent, {"gamma": 1.4, "delta": 2.0},
          {"gamma": "real", "delta": "real"}, o_growth_exp)
    entry("ramplab.proofs.growth:polynomial_growth_exponent", growth.polynomial_growth_exponent,
          {"p": 1.0, "q": 0.0}, {"p": "real", "q": "real"}, o_poly_exp)

    def o_derivations(r, kw):
        names = list(proofs.DERIVATIONS) if kw["names"] is None else kw["names"]
        assert isinstance(names, (list, tuple)) and all(isinstance(n, str) and n in proofs.DERIVATIONS
                                                        for n in names)
        assert [d.name for d in r] == list(names)

    # names=None is the documented default (every derivation, ~6 s of sympy): tests/proofs covers it.
    entry(f"{M}:derivations", proofs.derivations, lambda: {"names": ["ramp_bound"]}, {"names": "names"}, o_derivations,
          skip={"names": (None,)})

    def o_sums(r, kw):
        assert choice(kw["schedule"], schedule_sums.SCHEDULES)
        assert isinstance(r, derivation.Derivation) and r.verified

    entry("ramplab.proofs.schedule_sums:schedule_sums", schedule_sums.schedule_sums, {"schedule": "constant"},
          {"schedule": "choice"}, o_sums)

    def o_constant(r, kw):
        choice(kw["convention"], ("general", "small_step"))
        choice(kw["stationarity"], ("norm", "squared"))
        assert isinstance(r, derivation.Derivation) and r.verified

    entry("ramplab.proofs.sfo:sfo_constant", psfo.sfo_constant, {"convention": "general", "stationarity": "norm"},
          {"convention": "choice", "stationarity": "choice"}, o_constant)

    def o_bound_constants(r, kw):
        conv = choice(kw["convention"], ("general", "small_step"))
        e = kw["eta_max"]
        assert isinstance(e, (sp.Basic, int, float, np.integer, np.floating)) and not isinstance(e, bool)
        ex = sp.sympify(e)
        assert ex.is_finite is not False and ex.is_extended_real is not False and not ex.has(sp.nan)
        assert len(r) == 2

    entry("ramplab.proofs.sfo:bound_constants", psfo.bound_constants, {"convention": "general", "eta_max": sp.Symbol("eta", positive=True)},
          {"convention": "choice", "eta_max": "sympy"}, o_bound_constants)

    def o_target(r, kw):
        choice(kw["stationarity"], ("norm", "squared"))
        e = kw["eps"]
        assert isinstance(e, (sp.Basic, int, float, np.integer, np.floating)) and not isinstance(e, bool)
        ex = sp.sympify(e)
        assert ex.is_extended_real is not False and not ex.has(sp.nan, sp.zoo)
        if ex.is_number:
            assert ex.is_positive and ex.is_finite
        assert not sp.sympify(r).has(sp.nan, sp.zoo)

    entry("ramplab.proofs.sfo:target", psfo.target, {"stationarity": "norm", "eps": sp.Symbol("epsilon", positive=True)},
          {"stationarity": "choice", "eps": "sympy"}, o_target)

    D = "ramplab.proofs.derivation"
    x = sp.Symbol("x", positive=True)

    def expr_ok(e):
        assert not isinstance(e, (str, bytes, bool, np.bool_)), f"accepted {e!r} for an expression"
        return sp.sympify(e.item() if isinstance(e, np.generic) else e)

    def o_check(kind):
        def check(r, kw):
            assert isinstance(kw["description"], str)
            assert kw.get("simplify") is None or callable(kw["simplify"])
            ex = expr_ok(kw["expr"])
            assert isinstance(r, derivation.Check) and r.kind == kind and isinstance(r.passed, bool)
            if ex.has(sp.nan, sp.zoo) or ex.is_number and not ex.is_finite:
                assert not r.passed, "a check on nan/zoo/oo passed"
        return check

    for kind, fn in (("zero", derivation.check_zero), ("positive", derivation.check_positive),
                     ("negative", derivation.check_negative), ("nonnegative", derivation.check_nonnegative)):
        entry(f"{D}:check_{kind}", fn, {"description": "d", "expr": x, "simplify": None},
              {"description": "label", "expr": "sympy", "simplify": "callable"}, o_check(kind))

    def o_equal(r, kw):
        assert isinstance(kw["description"], str)
        expr_ok(kw["lhs"]), expr_ok(kw["rhs"])
        assert isinstance(r, derivation.Check) and isinstance(r.passed, bool)

    entry(f"{D}:check_equal", derivation.check_equal, {"description": "d", "lhs": x, "rhs": x, "simplify": None},
          {"description": "label", "lhs": "sympy", "rhs": "sympy", "simplify": "callable"}, o_equal)

    def o_limit(r, kw):
        assert isinstance(kw["description"], str) and isinstance(kw["var"], sp.Symbol)
        assert kw["direction"] in ("+", "-", "+-")
        expr_ok(kw["expr"]), expr_ok(kw["point"]), expr_ok(kw["expected"])
        assert isinstance(r, derivation.Check) and isinstance(r.passed, bool)

    entry(f"{D}:check_limit", derivation.check_limit,
          {"description": "d", "expr": 1 / x, "var": x, "point": sp.oo, "expected": 0, "direction": "+"},
          {"description": "label", "expr": "sympy", "var": "sympy", "point": "sympy", "expected": "sympy",
           "direction": "choice"}, o_limit)

    def o_true(r, kw):
        assert isinstance(kw["description"], str)
        rel = kw["relation"]
        rel = (sp.true if rel else sp.false) if isinstance(rel, bool) else expr_ok(rel)
        assert isinstance(r, derivation.Check) and r.passed == (rel is sp.true)

    entry(f"{D}:check_true", derivation.check_true, {"description": "d", "relation": sp.sqrt(2) < 2},
          {"description": "label", "relation": "sympy"}, o_true)

    def o_equation(r, kw):
        assert isinstance(kw["name"], (str, sp.Basic))
        expr_ok(kw["rhs"])
        assert isinstance(r, sp.Eq)

    entry(f"{D}:equation", derivation.equation, {"name": "f", "rhs": x**2}, {"name": "label", "rhs": "sympy"},
          o_equation)

    def o_check_ctor(r, kw):
        assert isinstance(kw["description"], str) and kw["kind"] in derivation.KINDS
        assert isinstance(kw["passed"], (bool, np.bool_))
        expr_ok(kw["expression"])

    entry(f"{D}:Check", derivation.Check, {"description": "d", "kind": "zero", "expression": sp.Integer(0),
                                            "passed": True},
          {"description": "label", "kind": "choice", "expression": "sympy", "passed": "flag"}, o_check_ctor)

    CHK = derivation.check_positive("x > 0", x)

    def o_derivation(r, kw):
        for k in ("name", "title", "statement", "source"):
            assert isinstance(kw[k], str), f"accepted {k}={kw[k]!r}"
        assert isinstance(kw["assumptions"], (tuple, list)) and all(isinstance(a, str) for a in kw["assumptions"])
        assert all(isinstance(c, derivation.Check) for c in kw["checks"]) and len(kw["checks"]) >= 1
        assert all(isinstance(e, sp.Eq) for e in kw["results"])

    entry(f"{D}:Derivation", derivation.Derivation,
          lambda: {"name": "demo", "title": "t", "statement": "s", "assumptions": ("x > 0",),
                   "results": (derivation.equation("f", x**2),), "checks": (CHK,), "source": ""},
          {"name": "label", "title": "label", "statement": "label", "assumptions": "sequence", "results": "sequence",
           "checks": "sequence", "source": "label"}, o_derivation)

    DEMO = derivation.Derivation("demo", "t", "s", (), (derivation.equation("f", x**2),), (CHK,))

    def o_result(r, kw):
        assert kw["name"] == "f" or kw["name"] == sp.Symbol("f")
        assert r == x**2

    entry(f"{D}:Derivation.result", DEMO.result, {"name": "f"}, {"name": "label"}, o_result)


for _register in (_register_proofs,):
    _register()

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
