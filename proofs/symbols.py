"""The sympy symbols the derivations share (one definition, so results from different modules combine).

All are declared positive: every quantity here is a rate, a size, a variance or a tolerance. Domain
restrictions beyond positivity (``Lη < 2``, ``b > C₂/τ``, ``γ < δ``) are imposed by a change of
variables inside each derivation, never by hoping sympy guesses them.
"""

from __future__ import annotations

import sympy as sp

__all__ = [
    "A", "B", "C1", "C2", "Delta", "K", "L", "M", "b", "b0", "delta", "epsilon", "eta", "eta0",
    "gamma", "sigma2", "tau",
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
