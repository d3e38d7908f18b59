"""#19 kind 1: strings are never turned into expressions (``sympify``/``nsimplify`` run them as code).

On de6f77e, once one argument of ``growth_exponent`` or ``polynomial_growth_exponent`` was a sympy
object, the other went through ``sympify``: any text became an expression (``"x"`` a symbol,
``"__import__('os').system('id') or 2"`` a shell command). The growth derivations' ``nsimplify``
did the same. Now a string is a ``TypeError`` naming the argument, whatever sits beside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ramplab.proofs import growth_exponent, polynomial_growth_exponent
from ramplab.proofs.growth import derived_exponential_exponent, derived_polynomial_exponent

G = sp.Symbol("gamma", positive=True)

#: The functions and the names of their two arguments.
PAIRS = [(growth_exponent, ("gamma", "delta")), (polynomial_growth_exponent, ("p", "q"))]
DERIVED = [(derived_exponential_exponent, ("g", "d")), (derived_polynomial_exponent, ("pv", "qv"))]

#: Companions of the string: a sympy symbol, a sympy number, a plain number.
COMPANIONS = st.sampled_from([G, sp.Integer(2), sp.Rational(3, 2), 2, 1.5])


def _touch(path: Path) -> str:
    return f"__import__('pathlib').Path({str(path)!r}).touch() or 2"


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=30), companion=COMPANIONS, which=st.sampled_from([0, 1]),
       pair=st.sampled_from(PAIRS + DERIVED))
@example(text="__import__('os').getcwd() and 2", companion=G, which=1, pair=PAIRS[0])
@example(text="x", companion=G, which=1, pair=PAIRS[0])
@example(text="2", companion=sp.Integer(1), which=0, pair=PAIRS[1])
@example(text="6/5", companion=sp.Rational(36, 25), which=0, pair=DERIVED[0])
def test_a_string_is_a_type_error_naming_it(text, companion, which, pair):
    fn, names = pair
    args = [companion, companion]
    args[which] = text
    with pytest.raises(TypeError, match=names[which]):
        fn(*args)


@pytest.mark.parametrize(("fn", "names"), PAIRS + DERIVED, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("which", [0, 1])
def test_a_string_with_a_side_effect_never_runs(fn, names, which, tmp_path):
    """The issue's example with a harmless side effect: the marker file is never created."""
    marker = tmp_path / "ran"
    args = [G, G]
    args[which] = _touch(marker)
    with pytest.raises(TypeError, match=names[which]):
        fn(*args)
    assert not marker.exists()


def test_sympy_and_numbers_still_work():
    assert growth_exponent(sp.Integer(3), sp.Integer(9)) == 4 or sp.simplify(
        growth_exponent(sp.Integer(3), sp.Integer(9)) - 4) == 0
    assert float(polynomial_growth_exponent(sp.Integer(3), 1)) == 4.0
    assert derived_polynomial_exponent(sp.Integer(2), 0) == 6
