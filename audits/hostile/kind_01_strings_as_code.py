"""#19 kind 1: strings evaluated as code.

Each case feeds a string whose evaluation creates a marker file (in the case's own temporary
folder) to a public function that takes sympy objects, numbers, arrays or specs, and classifies:
``"code"`` when the marker appeared, ``"silent"`` when a string came back as an expression (parsed,
no error), ``"ok"`` for an error naming the argument (or a string kept as data), ``"unclear"`` for
another error.
"""

from __future__ import annotations

import os
import re

MARKER = "string_ran_as_code"
TOUCH = f"__import__('pathlib').Path({MARKER!r}).touch()"


def _run(call, name, *, data_ok=False):
    import sympy as sp

    if os.path.exists(MARKER):
        os.remove(MARKER)
    try:
        out = call()
    except (TypeError, ValueError) as exc:
        if os.path.exists(MARKER):
            return "code"
        return "ok" if re.search(rf"\b{re.escape(name)}\b", str(exc)) else "unclear"
    except Exception:  # noqa: BLE001
        return "code" if os.path.exists(MARKER) else "unclear"
    if os.path.exists(MARKER):
        return "code"
    if data_ok:
        return "ok"
    return "silent" if isinstance(out, sp.Basic) or out is not None else "silent"


def _g():
    import sympy as sp

    return sp.Symbol("g", positive=True)


def _proofs():
    import ramplab.proofs as p

    return p


def _derivation():
    import ramplab.proofs.derivation as d

    return d


def _growth():
    import ramplab.proofs.growth as g

    return g


CASES = [
    ("growth_exponent(symbol, touch)", lambda: _run(lambda: _proofs().growth_exponent(_g(), TOUCH + " or 2"), "delta")),
    ("growth_exponent(touch, symbol)", lambda: _run(lambda: _proofs().growth_exponent(TOUCH + " or 2", _g()), "gamma")),
    ("growth_exponent(sympy 2, touch)", lambda: _run(
        lambda: _proofs().growth_exponent(__import__("sympy").Integer(2), TOUCH + " or 3"), "delta")),
    ("growth_exponent(2, touch)", lambda: _run(lambda: _proofs().growth_exponent(2, TOUCH + " or 3"), "delta")),
    ("growth_exponent(symbol, [touch])", lambda: _run(lambda: _proofs().growth_exponent(_g(), [TOUCH + " or 2"]),
                                                      "delta")),
    ("growth_exponent(symbol, 'x')", lambda: _run(lambda: _proofs().growth_exponent(_g(), "x"), "delta")),
    ("polynomial_growth_exponent(symbol, touch)", lambda: _run(
        lambda: _proofs().polynomial_growth_exponent(_g(), TOUCH + " or 1"), "q")),
    ("polynomial_growth_exponent(touch, symbol)", lambda: _run(
        lambda: _proofs().polynomial_growth_exponent(TOUCH + " or 3", _g()), "p")),
    ("polynomial_growth_exponent(touch, 1)", lambda: _run(
        lambda: _proofs().polynomial_growth_exponent(TOUCH + " or 3", 1), "p")),
    ("polynomial_growth_exponent(sympy 3, '1')", lambda: _run(
        lambda: _proofs().polynomial_growth_exponent(__import__("sympy").Integer(3), "1"), "q")),
    ("derived_exponential_exponent(touch, 36/25)", lambda: _run(
        lambda: _growth().derived_exponential_exponent(TOUCH + " or 6/5", __import__("sympy").Rational(36, 25)), "g")),
    ("derived_polynomial_exponent(2, touch)", lambda: _run(
        lambda: _growth().derived_polynomial_exponent(__import__("sympy").Integer(2), TOUCH + " or 0"), "qv")),
    ("check_zero(expr=touch)", lambda: _run(lambda: _derivation().check_zero("d", TOUCH + " or 0"), "expr")),
    ("check_equal(lhs=touch)", lambda: _run(lambda: _derivation().check_equal("d", TOUCH + " or 1", 1), "lhs")),
    ("check_equal(rhs=touch)", lambda: _run(lambda: _derivation().check_equal("d", _g(), TOUCH + " or g"), "rhs")),
    ("check_positive(expr=touch)", lambda: _run(lambda: _derivation().check_positive("d", TOUCH + " or 1"), "expr")),
    ("check_nonnegative(expr=touch)", lambda: _run(
        lambda: _derivation().check_nonnegative("d", TOUCH + " or 1"), "expr")),
    ("check_limit(point=touch)", lambda: _run(
        lambda: _derivation().check_limit("d", _g(), _g(), TOUCH + " or 1", 1), "point")),
    ("check_limit(expected=touch)", lambda: _run(
        lambda: _derivation().check_limit("d", _g(), _g(), 1, TOUCH + " or 1"), "expected")),
    ("check_true(relation=touch)", lambda: _run(lambda: _derivation().check_true("d", TOUCH + " or True"),
                                                "relation")),
    ("equation(rhs=touch)", lambda: _run(lambda: _derivation().equation("y", TOUCH + " or 1"), "rhs")),
    ("critical_batch_size(L=touch)", lambda: _run(
        lambda: _proofs().critical_batch_size(TOUCH + " or 1", 2.0, 0.1, 0.1), "L")),
    ("critical_batch_size(symbol, touch)", lambda: _run(
        lambda: _proofs().critical_batch_size(_g(), TOUCH + " or 2", 0.1, 0.1), "sigma2")),
    ("sfo_constant(convention=touch)", lambda: _run(lambda: _proofs().sfo_constant(TOUCH), "convention")),
    ("schedule_sums(touch)", lambda: _run(lambda: _proofs().schedule_sums(TOUCH), "schedule")),
    ("theory sfo_exponent(touch, 2)", lambda: _run(
        lambda: __import__("ramplab.theory.complexity", fromlist=["x"]).sfo_exponent(TOUCH + " or 1.5", 2.0),
        "gamma")),
    ("Problem(eigenvalues=[touch])", lambda: _run(
        lambda: __import__("ramplab.theory", fromlist=["x"]).Problem([TOUCH + " or 1"], [1.0]), "eigenvalues")),
    ("Schedule.constant(lr=touch)", lambda: _run(
        lambda: __import__("ramplab.theory", fromlist=["x"]).Schedule.constant(TOUCH + " or 0.1", 1, steps=2), "lr")),
    ("spec_hash({'x': touch}) keeps it as data", lambda: _run(
        lambda: __import__("ramplab.sweeps", fromlist=["x"]).spec_hash({"x": TOUCH}), "spec", data_ok=True)),
]
