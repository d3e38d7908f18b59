"""The :class:`Derivation` object every proof returns, and the checks that verify it.

A derivation is a small frozen record: a statement in words, its assumptions, the sympy results
(equations ``name = expression``), and the checks that verify them — a simplification to zero, the
sign of an expression under positive-symbol assumptions, or a limit. Its LaTeX comes from
:func:`sympy.latex` on the results; no mathematics is assembled from strings.

Signs are decided by sympy's assumption system only: domains such as "b above the feasibility
threshold" are encoded by a change of variables onto positive symbols (``b = (C₂ + u)/τ`` with
``u > 0``), so that ``is_positive`` can answer. A check that sympy cannot decide counts as failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import sympy as sp

from ._arguments import BOOL_TYPES, expression, simplifier, text

__all__ = [
    "Check",
    "Derivation",
    "check_equal",
    "check_limit",
    "check_negative",
    "check_nonnegative",
    "check_positive",
    "check_true",
    "check_zero",
    "equation",
]

KINDS = ("zero", "positive", "negative", "nonnegative", "limit", "true")


@dataclass(frozen=True)
class Check:
    """One verification step.

    Attributes
    ----------
    description : str
        What is verified, in words.
    kind : str
        ``"zero"`` (simplifies to 0), ``"positive"`` / ``"negative"`` / ``"nonnegative"`` (sign
        under the symbols' assumptions), ``"limit"`` (a limit equals the stated value) or ``"true"``
        (a relation sympy evaluates to ``True``).
    expression : sympy.Basic
        The quantity examined (after simplification), e.g. a residual or a derivative.
    passed : bool
        Whether the check passed.

    Examples
    --------
    >>> c = check_zero("x − x", sp.Symbol("x") - sp.Symbol("x"))
    >>> c.kind, c.expression, c.passed
    ('zero', 0, True)
    """

    description: str
    kind: str
    expression: sp.Basic
    passed: bool

    def __post_init__(self) -> None:
        text(self.description, "description")
        if not isinstance(self.kind, str) or self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {self.kind!r}")
        object.__setattr__(self, "expression", expression(self.expression, "expression"))
        if not isinstance(self.passed, BOOL_TYPES):
            raise TypeError(f"passed must be True or False; got {self.passed!r}")
        object.__setattr__(self, "passed", bool(self.passed))


def _simplified(expr: Any, simplify: Callable[[Any], Any] | None) -> sp.Basic:
    return expression((simplify or sp.simplify)(expr), "the simplified expression")


def _finite(value: sp.Basic) -> bool:
    """Not NaN, not ``zoo``, not an infinite number: a sign or zero check on those never passes."""
    return not value.has(sp.nan, sp.zoo, sp.oo, -sp.oo)


def _arguments(description: Any, expr: Any, simplify: Any, name: str = "expr") -> sp.Basic:
    text(description, "description")
    simplifier(simplify)
    return expression(expr, name)


def check_zero(description: str, expr: Any, *, simplify: Callable[[Any], Any] | None = None) -> Check:
    """Pass when ``expr`` simplifies to exactly 0.

    Parameters
    ----------
    description : str
        What is verified, in words (shown by ``ramplab proofs``).
    expr : sympy expression or number
        The residual that should vanish.
    simplify : callable, optional
        Simplifier applied first (default: ``sympy.simplify``).

    Returns
    -------
    Check
        The check, with the examined expression and whether it passed.

    Examples
    --------
    >>> x = sp.Symbol("x")
    >>> check_zero("difference of squares", (x - 1) * (x + 1) - (x**2 - 1)).passed
    True
    >>> check_zero("not an identity", x - 1).passed
    False
    """
    expr = _arguments(description, expr, simplify)
    value = _simplified(expr, simplify)
    return Check(description, "zero", value, bool(value == 0))


def check_equal(description: str, lhs: Any, rhs: Any, *,
                simplify: Callable[[Any], Any] | None = None) -> Check:
    """Pass when ``lhs − rhs`` simplifies to 0 (the residual is what the check records).

    Parameters
    ----------
    description : str
        What is verified, in words (shown by ``ramplab proofs``).
    lhs, rhs : sympy expression or number
        The two sides.
    simplify : callable, optional
        Simplifier applied first (default: ``sympy.simplify``).

    Returns
    -------
    Check
        The check, with the examined expression and whether it passed.

    Examples
    --------
    >>> x = sp.Symbol("x", positive=True)
    >>> check_equal("log of a product", sp.log(2 * x), sp.log(2) + sp.log(x),
    ...             simplify=lambda e: sp.expand_log(e, force=True)).passed
    True
    """
    text(description, "description")
    simplifier(simplify)
    return check_zero(description, expression(lhs, "lhs") - expression(rhs, "rhs"), simplify=simplify)


def _sign_check(description: str, expr: Any, kind: str, simplify: Callable[[Any], Any] | None) -> Check:
    expr = _arguments(description, expr, simplify)
    value = _simplified(expr, simplify or sp.factor)
    decided = {"positive": value.is_positive, "negative": value.is_negative,
               "nonnegative": value.is_nonnegative}[kind]
    return Check(description, kind, value, decided is True and _finite(value))


def check_positive(description: str, expr: Any, *, simplify: Callable[[Any], Any] | None = None) -> Check:
    """Pass when sympy proves ``expr > 0`` from the symbols' assumptions (after ``factor``).

    Parameters
    ----------
    description : str
        What is verified, in words (shown by ``ramplab proofs``).
    expr : sympy expression or number
        The quantity whose sign is checked.
    simplify : callable, optional
        Simplifier applied first (default: ``sympy.factor``).

    Returns
    -------
    Check
        The check, with the examined expression and whether it passed.

    Examples
    --------
    >>> a, b = sp.symbols("a b", positive=True)
    >>> check_positive("sum of squares plus one", a**2 + 2 * a * b + b**2 + 1).passed
    True
    >>> check_positive("undecidable sign", a - b).passed
    False
    """
    return _sign_check(description, expr, "positive", simplify)


def check_negative(description: str, expr: Any, *, simplify: Callable[[Any], Any] | None = None) -> Check:
    """Pass when sympy proves ``expr < 0`` from the symbols' assumptions (after ``factor``).

    Parameters
    ----------
    description : str
        What is verified, in words (shown by ``ramplab proofs``).
    expr : sympy expression or number
        The quantity whose sign is checked.
    simplify : callable, optional
        Simplifier applied first (default: ``sympy.factor``).

    Returns
    -------
    Check
        The check, with the examined expression and whether it passed.

    Examples
    --------
    >>> a = sp.Symbol("a", positive=True)
    >>> check_negative("minus a square", -a**2).passed
    True
    """
    return _sign_check(description, expr, "negative", simplify)


def check_nonnegative(description: str, expr: Any, *,
                      simplify: Callable[[Any], Any] | None = None) -> Check:
    """Pass when sympy proves ``expr ≥ 0`` from the symbols' assumptions (after ``factor``).

    Parameters
    ----------
    description : str
        What is verified, in words (shown by ``ramplab proofs``).
    expr : sympy expression or number
        The quantity whose sign is checked.
    simplify : callable, optional
        Simplifier applied first (default: ``sympy.factor``).

    Returns
    -------
    Check
        The check, with the examined expression and whether it passed.

    Examples
    --------
    >>> a = sp.Symbol("a", real=True)
    >>> check_nonnegative("a square", a**2).passed
    True
    """
    return _sign_check(description, expr, "nonnegative", simplify)


def check_limit(description: str, expr: Any, var: sp.Symbol, point: Any, expected: Any, *,
                direction: str = "+") -> Check:
    """Pass when ``lim_{var → point} expr`` equals ``expected`` (the limit is what is recorded).

    Parameters
    ----------
    description : str
        What is verified, in words (shown by ``ramplab proofs``).
    expr : sympy expression
        The expression whose limit is taken.
    var : sympy.Symbol
        The variable.
    point : sympy expression or number
        Where the limit is taken (``sympy.oo`` allowed).
    expected : sympy expression or number
        The value the limit should have.
    direction : {"+", "-", "+-"}, default "+"
        Side of the limit.

    Returns
    -------
    Check
        The check, with the examined expression and whether it passed.

    Examples
    --------
    >>> n = sp.Symbol("n", positive=True)
    >>> check_limit("(1 + 1/n)^n → e", (1 + 1 / n) ** n, n, sp.oo, sp.E).passed
    True
    """
    expr = _arguments(description, expr, None)
    if not isinstance(var, sp.Symbol):
        raise TypeError(f"var must be a sympy Symbol; got {var!r}")
    point = expression(point, "point")
    expected = expression(expected, "expected")
    if not isinstance(direction, str) or direction not in ("+", "-", "+-"):
        raise ValueError(f"direction must be one of ('+', '-', '+-'); got {direction!r}")
    try:
        value = sp.limit(expr, var, point, dir=direction)
    except (NotImplementedError, ValueError, TypeError):
        # sympy could not decide (e.g. "result depends on the sign of …"): not verified.
        return Check(description, "limit", sp.nan, False)
    if value.has(sp.oo, -sp.oo, sp.zoo) or expected.has(sp.oo, -sp.oo, sp.zoo):
        passed = value == expected
    else:
        passed = sp.simplify(value - expected) == 0
    return Check(description, "limit", value, passed)


def check_true(description: str, relation: Any) -> Check:
    """Pass when ``relation`` (a sympy relational or boolean) evaluates to ``True``.

    Parameters
    ----------
    description : str
        What is verified, in words (shown by ``ramplab proofs``).
    relation : sympy relational, sympy boolean or bool
        The relation to evaluate.

    Returns
    -------
    Check
        The check, with the examined expression and whether it passed.

    Examples
    --------
    >>> check_true("√2 < 3/2", sp.sqrt(2) < sp.Rational(3, 2)).passed
    True
    """
    text(description, "description")
    if isinstance(relation, bool):
        relation = sp.true if relation else sp.false
    if not isinstance(relation, sp.logic.boolalg.Boolean):
        raise TypeError(f"relation must be a sympy relational or boolean (or a bool); got {relation!r}")
    value = relation
    return Check(description, "true", value, value is sp.true)


def equation(name: str | sp.Basic, rhs: Any) -> sp.Eq:
    """``name = rhs`` as an unevaluated :class:`sympy.Eq` (a string name becomes a symbol).

    Parameters
    ----------
    name : str or sympy expression
        The left-hand side (a string becomes a symbol).
    rhs : sympy expression or number
        The right-hand side.

    Returns
    -------
    sympy.Eq
        ``name = rhs``, unevaluated.

    Examples
    --------
    >>> equation("b^*", 2 * sp.Symbol("C_2"))
    Eq(b^*, 2*C_2)
    """
    if isinstance(name, str):
        if not name:
            raise ValueError("name must be a non-empty string or a sympy object; got ''")
        lhs = sp.Symbol(name)
    elif isinstance(name, sp.Basic):
        lhs = name
    else:
        raise TypeError(f"name must be a string or a sympy object; got {name!r}")
    return sp.Eq(lhs, expression(rhs, "rhs"), evaluate=False)


@dataclass(frozen=True)
class Derivation:
    """A derived statement, its sympy results and the checks that verify it.

    Attributes
    ----------
    name : str
        Identifier (``"sfo_constant_general"``, …).
    title : str
        One line.
    statement : str
        The claim in words.
    assumptions : tuple of str
        Hypotheses the checks rely on (also encoded as sympy symbol assumptions where possible).
    results : tuple of sympy.Eq
        The derived formulas, ``lhs = rhs``.
    checks : tuple of Check
        The verification; :attr:`verified` is their conjunction.
    source : str
        Where the statement comes from (an anchor of ``docs/math.md``, paper).

    Examples
    --------
    >>> x = sp.Symbol("x", positive=True)
    >>> d = Derivation("demo", "a square", "x² is positive for x > 0", ("x > 0",),
    ...                (equation("f", x**2),), (check_positive("f > 0", x**2),))
    >>> d.verified, d.latex
    (True, ('f = x^{2}',))
    >>> d.result("f")
    x**2
    """

    name: str
    title: str
    statement: str
    assumptions: tuple[str, ...]
    results: tuple[sp.Eq, ...]
    checks: tuple[Check, ...]
    source: str = ""

    def __post_init__(self) -> None:
        for field_name in ("name", "title", "statement", "source"):
            text(getattr(self, field_name), field_name)
        for field_name in ("assumptions", "results", "checks"):
            if not isinstance(getattr(self, field_name), (tuple, list)):
                raise TypeError(f"{field_name} must be a tuple or list; got {getattr(self, field_name)!r}")
        object.__setattr__(self, "assumptions", tuple(self.assumptions))
        object.__setattr__(self, "results", tuple(self.results))
        object.__setattr__(self, "checks", tuple(self.checks))
        for a in self.assumptions:
            text(a, "assumptions")
        if not self.checks:
            raise ValueError(f"checks must not be empty: derivation {self.name!r} needs at least one check")
        for c in self.checks:
            if not isinstance(c, Check):
                raise TypeError(f"checks of {self.name!r} must be Check objects; got {c!r}")
        for r in self.results:
            if not isinstance(r, sp.Eq):
                raise TypeError(f"results of {self.name!r} must be sympy Eq; got {r!r}")

    @property
    def verified(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that did not pass."""
        return tuple(c for c in self.checks if not c.passed)

    @property
    def latex(self) -> tuple[str, ...]:
        """:func:`sympy.latex` of each result."""
        return tuple(sp.latex(r) for r in self.results)

    def result(self, name: str | sp.Basic) -> sp.Basic:
        """The right-hand side of the result whose left-hand side is ``name`` (a sympy object) or
        prints as ``name`` (a string).

        Parameters
        ----------
        name : str or sympy expression
            The result's left-hand side.

        Returns
        -------
        sympy.Basic
            Its right-hand side.

        Raises
        ------
        UnknownResult
            (a ``KeyError`` and ``ValueError``) when no result has that left-hand side.
        """
        if not isinstance(name, (str, sp.Basic)):
            raise TypeError(f"name must be a string or a sympy object; got {name!r}")
        for r in self.results:
            if (r.lhs == name) if isinstance(name, sp.Basic) else (str(r.lhs) == name):
                return r.rhs
        raise UnknownResult(f"derivation {self.name!r} has no result {name!r} (argument name); "
                            f"it has {[str(r.lhs) for r in self.results]}")


class UnknownResult(KeyError, ValueError):
    """:meth:`Derivation.result` of a name the derivation does not have (a ``KeyError`` and a
    ``ValueError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def all_verified(derivations: Sequence[Derivation]) -> bool:
    """Whether every derivation in ``derivations`` verified.

    Examples
    --------
    >>> all_verified([])
    True
    """
    return all(d.verified for d in derivations)
