"""The sympy symbols the derivations share (one definition, so results from different modules combine).

All are declared positive: every quantity here is a rate, a size, a variance or a tolerance. Domain
restrictions beyond positivity (``Lη < 2``, ``b > C₂/τ``, ``γ < δ``) are imposed by a change of
variables inside each derivation, never by hoping sympy guesses them.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ._arguments import expression

__all__ = [
    "A", "B", "C1", "C2", "Delta", "K", "L", "M", "NAMES", "b", "b0", "delta", "epsilon", "eta", "eta0",
    "gamma", "sigma2", "substitute", "tau",
]

L = sp.Symbol("L", positive=True)  # smoothness constant
sigma2 = sp.Symbol("sigma^2", positive=True)  # variance bound of a one-sample stochastic gradient
eta = sp.Symbol("eta", positive=True)  # constant learning rate (or η_max)
epsilon = sp.Symbol("epsilon", positive=True)  # stationarity tolerance
Delta = sp.Symbol("Delta", positive=True)  # f(x_0) − f*
b = sp.Symbol("b", positive=True)  # batch size
K = sp.Symbol("K", positive=True)  # number of steps (or steps per stage)
M = sp.Symbol("M", positive=True)  # number of stages
tau = sp.Symbol("tau", positive=True)  # target on min E‖∇f‖²: ε² (norm convention) or ε (squared)
A = sp.Symbol("A", positive=True)  # bias constant of the master bound
B = sp.Symbol("B", positive=True)  # variance constant of the master bound
C1 = sp.Symbol("C_1", positive=True)  # A/η
C2 = sp.Symbol("C_2", positive=True)  # Bη
eta0 = sp.Symbol("eta_0", positive=True)
b0 = sp.Symbol("b_0", positive=True)
gamma = sp.Symbol("gamma", positive=True)  # learning-rate growth per stage
delta = sp.Symbol("delta", positive=True)  # batch growth per stage


#: Plain names of the symbols, for :func:`substitute`: the Python names of this module, and the
#: argument names ``ramplab.theory`` uses for the same quantities (``BoundConstants``' fields, ``lr``).
NAMES: dict[str, sp.Symbol] = {
    "A": A, "B": B, "C1": C1, "C2": C2, "Delta": Delta, "K": K, "L": L, "M": M, "b": b, "b0": b0,
    "delta": delta, "epsilon": epsilon, "eta": eta, "eta0": eta0, "gamma": gamma, "sigma2": sigma2,
    "tau": tau,
    "smoothness": L, "gradient_variance": sigma2, "initial_gap": Delta, "lr": eta, "batch": b,
    "initial_lr": eta0, "initial_batch": b0, "steps": K,
}


def substitute(expr: Any, **values: Any) -> sp.Basic:
    """``expr`` with symbols replaced by values given under plain names.

    The symbols print as the papers write them (``sigma^2``, ``C_1``), and a symbol carries its
    assumptions, so ``expr.subs({"sigma2": 3})`` would not find ``sigma^2``; this does.

    Parameters
    ----------
    expr : sympy.Basic
        An expression built from the symbols of this module (e.g. a :class:`Derivation` result).
    **values : number or sympy.Basic
        Keyed by a name of :data:`NAMES`: this module's names (``L``, ``sigma2``, ``eta``, ``epsilon``,
        ``Delta``, ``b``, …) or ``ramplab.theory``'s (``smoothness``, ``gradient_variance``,
        ``initial_gap``, ``lr``, ``batch``, ``steps``). Strings are refused (never parsed).

    Returns
    -------
    sympy.Basic
        Simultaneous substitution of every value.

    Raises
    ------
    TypeError
        For an unknown name (listing the known ones), a value that is neither a real number nor
        a sympy object, or two names for one symbol.

    Examples
    --------
    >>> from ramplab.proofs import bound_critical_batch
    >>> expr = bound_critical_batch(L, sigma2, eta, epsilon)
    >>> substitute(expr, L=1, sigma2=2, eta=sp.Rational(1, 2), epsilon=sp.Rational(1, 10))
    400/3
    >>> substitute(expr, smoothness=1, gradient_variance=2, lr=sp.Rational(1, 2), epsilon=sp.Rational(1, 10))
    400/3
    """
    if not isinstance(expr, sp.Basic):
        raise TypeError(f"expr must be a sympy expression; got {type(expr).__name__}")
    unknown = sorted(set(values) - set(NAMES))
    if unknown:
        raise TypeError(f"substitute got unknown symbol name(s) {unknown}; known: {sorted(NAMES)}")
    mapping: dict[sp.Symbol, sp.Basic] = {}
    for name, value in values.items():
        symbol = NAMES[name]
        if symbol in mapping:
            raise TypeError(f"substitute got two names for the symbol {symbol}: {name!r} and another")
        mapping[symbol] = expression(value, name)
    return expr.subs(mapping, simultaneous=True)
