"""
4. SFO complexity and the critical batch size
=============================================

How many stochastic gradients (the *SFO complexity*, :math:`N = bK` for :math:`K` steps at batch
:math:`b`) does SGD need to reach a tolerance, and which batch needs the fewest? The bound of
Umeda & Iiduka answers with a *critical batch size* :math:`b^\\star`, the SFO-minimising batch (tutorial 8,
"Which critical batch?", sets it beside the three other quantities that go by that name). This tutorial derives it
symbolically with :mod:`ramplab.proofs`, then measures the real minimum on a problem where the
expected gradient norm is computable exactly, and compares the two.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import sympy

from ramplab.plot import place_legend
from ramplab.proofs import bound_critical_batch, derivations, substitute
from ramplab.theory import Problem, critical_batch

QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in ("", "0")
n_batches = 21 if QUICK else 41

# %%
# The derivation
# --------------
# With a constant rate :math:`\eta` (:math:`L\eta<2`) the bound reads
# :math:`\min_k\mathbb E\|\nabla f(w_k)\|^2 \le C_1/K + C_2/b` with :math:`C_1 = 2\Delta/(\eta(2-L\eta))`
# and :math:`C_2 = L\eta\sigma^2/(2-L\eta)` (:doc:`/math`, "Master bound"). Setting it to the target
# :math:`\tau=\epsilon^2` gives :math:`K(b)`, and :math:`N(b)=bK(b)` is convex with its minimum at
# :math:`b^\star = 2C_2/\tau`. Each step below is a sympy computation with checks.
derivation = derivations(["sfo_constant_general_norm"])[0]
print(derivation.statement)
for check in derivation.checks:
    print(f"  [{'ok' if check.passed else 'FAILED'}] {check.description}")
b_star = derivation.result("b^*")
print("b* =", b_star)
# Plain names substitute the paper's symbols (σ² is ``sigma2``, or ``gradient_variance`` as in theory):
print("b* at L = 1, σ² = 2, η = 1/2, ε = 1/10:",
      substitute(b_star, smoothness=1, gradient_variance=2, lr=sympy.Rational(1, 2), epsilon=sympy.Rational(1, 10)))
print("the same in floats:", round(bound_critical_batch(1.0, 2.0, 0.5, 0.1), 3))

# %%
# The bound against the measured minimum
# --------------------------------------
# :func:`~ramplab.theory.critical_batch` runs the exact solver for every batch on a
# grid, counts the steps until the expected squared gradient norm first reaches
# :math:`\epsilon^2`, and reports the measured SFO curve, its minimum, and the bound's curve with
# its constants taken from the problem (:doc:`/math`, "SFO numerics on noisy linear regression").
#
# The problem is a power law (:math:`\lambda_i = i^{-1.5}`, :math:`\sigma^2 = 0.5`): its directions
# are fitted on many time scales, so the measured SFO has a genuine interior minimum, higher on both
# sides. (On an isotropic problem the SFO is smallest at the first batch that can reach the target
# at all: the "minimum" sits on the edge of the reachable range.) Batches too small to reach
# :math:`\epsilon^2` at this rate (the noise floor :math:`\propto\eta\sigma^2/b` is above it) have
# infinite SFO; the plot shows the reachable range.
problem = Problem.power_law(50, 1.5, 1.0, noise_variance=0.5)
batches = np.geomspace(1, 4096, n_batches)
lr, eps = 0.1, 0.05
cb = critical_batch(problem, lr, eps, batches)
reachable = np.isfinite(cb.sfo)
fig, ax = plt.subplots(figsize=(6.5, 4.2))
ax.loglog(cb.batches[reachable], cb.sfo[reachable], "o-", ms=3, label="measured (exact solver)")
ax.loglog(cb.batches[reachable], cb.bound_sfo[reachable], "--", label="bound")
ax.axvline(cb.critical_batch, color="tab:blue", lw=0.8, ls=":", label=f"measured b* = {cb.critical_batch:.1f}")
ax.axvline(cb.bound_critical_batch, color="tab:orange", lw=0.8, ls=":", label=f"bound b* = {cb.bound_critical_batch:.1f}")
ax.set(xlabel="batch size b", ylabel="SFO to reach ε² (samples)",
       title=f"The measured SFO has an interior minimum below the bound's (η = {lr}, ε = {eps})")
place_legend(ax, fontsize=8)
fig.tight_layout()
lowest = int(np.argmin(np.where(reachable, cb.sfo, np.inf)))
print(f"measured b* = {cb.critical_batch:.1f}, bound b* = {cb.bound_critical_batch:.1f}, "
      f"convex: {cb.convex}, bound holds: {bool(np.all(cb.bound_holds))}, "
      f"grid minimum interior: {cb.sfo[lowest - 1] > cb.sfo[lowest] < cb.sfo[lowest + 1]}")

# %%
# Where they agree and where they do not
# --------------------------------------
# The bound is an upper bound, so its *level* is off: the measured critical batch is a constant
# fraction (about 0.43 here) of the bound's. Its *scaling* in :math:`\eta` is right: both grow
# linearly in :math:`\eta` for :math:`L\eta\ll 2`, so the ratio stays put as :math:`\eta` changes.
for lr in (0.05, 0.1, 0.2):
    c = critical_batch(problem, lr, eps, batches)
    print(f"η = {lr:<5} measured b* = {c.critical_batch:7.2f}  bound b* = {c.bound_critical_batch:7.2f}  "
          f"ratio = {c.critical_batch / c.bound_critical_batch:.2f}")

# %%
# What to try next
# ----------------
# - ``critical_batch(..., stationarity="squared")`` uses the target :math:`\epsilon` for the squared
#   norm instead: how do :math:`b^\star` and the ratio change?
# - Try a power-law problem (``Problem.power_law(100, 1.5, 1.0, 0.5)``): the bound's constants
#   :math:`L` and :math:`\sigma^2` are now loose in different directions.
# - Next: :doc:`05_growth_exponents`, where batch and learning rate grow during training.
