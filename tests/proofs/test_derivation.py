"""The Derivation object and its checks: each check must be able to fail, and the object is validated."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

from ramplab.proofs.derivation import (
    Check,
    Derivation,
    check_equal,
    check_limit,
    check_negative,
    check_nonnegative,
    check_positive,
    check_true,
    check_zero,
    equation,
)

x = sp.Symbol("x", positive=True)
y = sp.Symbol("y", real=True)


def test_checks_pass_and_fail():
    assert check_zero("identity", sp.sin(y) ** 2 + sp.cos(y) ** 2 - 1).passed
    assert not check_zero("not an identity", sp.sin(y) - sp.cos(y)).passed
    assert check_equal("equal", (x + 1) ** 2, x**2 + 2 * x + 1).passed
    assert not check_equal("off by one", (x + 1) ** 2, x**2 + 2 * x).passed
    assert check_positive("positive", x + 1).passed
    assert not check_positive("sign unknown", y).passed
    assert not check_positive("negative", -x).passed
    assert check_negative("negative", -x - 1).passed
    assert not check_negative("positive", x).passed
    assert check_nonnegative("square", y**2).passed
    assert not check_nonnegative("unknown", y).passed
    assert check_limit("1/x → 0", 1 / x, x, sp.oo, 0).passed
    assert not check_limit("1/x ↛ 1", 1 / x, x, sp.oo, 1).passed
    assert check_limit("x → ∞", x, x, sp.oo, sp.oo).passed
    assert check_true("relation", sp.Integer(2) > 1).passed
    assert not check_true("undecided relation", y > 0).passed


def test_undecidable_limit_is_a_failed_check_not_an_exception():
    a = sp.Symbol("a", real=True)  # sign unknown: sympy raises inside gruntz
    c = check_limit("depends on the sign of a", sp.exp(a * x), x, sp.oo, 0)
    assert not c.passed and c.expression is sp.nan


def test_check_kind_is_validated():
    with pytest.raises(ValueError, match="kind"):
        Check("bad", "maybe", sp.Integer(0), True)


def test_derivation_object():
    d = Derivation("demo", "title", "statement", ["x > 0"], [equation("f", x**2)],
                   [check_positive("f > 0", x**2), check_zero("fails", x)])
    assert d.assumptions == ("x > 0",) and isinstance(d.results, tuple)
    assert not d.verified and [c.description for c in d.failed] == ["fails"]
    assert d.latex == ("f = x^{2}",)
    assert d.result("f") == x**2
    with pytest.raises(KeyError, match="no result 'g'"):
        d.result("g")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.name = "other"  # type: ignore[misc]


def test_derivation_validation():
    with pytest.raises(ValueError, match="at least one check"):
        Derivation("empty", "t", "s", (), (equation("f", x),), ())
    with pytest.raises(TypeError, match="must be sympy Eq"):
        Derivation("bad", "t", "s", (), (x**2,), (check_positive("p", x),))  # type: ignore[arg-type]


# ------------------------------------------------------------------ hostile-input regressions
def test_checks_never_evaluate_strings_and_name_bad_arguments():
    from ramplab.proofs.derivation import check_positive, check_zero

    with pytest.raises(TypeError, match="expr must be a sympy expression or a real number"):
        check_zero("d", "__import__('os').getcwd()")            # sympify would have run it
    with pytest.raises(TypeError, match="simplify must be a callable or None"):
        check_zero("d", 0, simplify=3)
    assert not check_positive("oo is not a verified positive quantity", sp.oo).passed
    assert not check_zero("nan", float("nan")).passed
