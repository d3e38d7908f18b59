"""
5. Growing batch size and learning rate together
================================================

Tutorials 2 and 3 *decay* the temperature. Umeda & Iiduka instead let the learning rate and the
batch size *grow* together, by factors :math:`\\gamma` and :math:`\\delta` per stage, and ask how
the SFO complexity to reach :math:`\\epsilon` scales: :math:`N \\propto \\epsilon^{-e}` with an
exponent :math:`e(\\gamma, \\delta)`. This tutorial builds the growth schedules and maps the
predicted exponent.

.. note::

   This tutorial is being extended: the measured exponent on noisy linear regression, its
   disagreement with the bound for :math:`\\gamma<\\delta<\\gamma^2`, and the adaptive
   gradient-norm rule are added with the rebuilt growth figures.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from ramplab.proofs import growth_exponent
from ramplab.theory import exponential_growth, polynomial_growth, sfo_exponent

QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in ("", "0")
n_grid = 41 if QUICK else 121

# %%
# Growth schedules
# ----------------
# Stage :math:`m` runs a fixed number of steps at :math:`\eta_0\gamma^m` and :math:`b_0\delta^m`
# (exponential growth) or at :math:`\eta_0(m+1)^p` and :math:`b_0(m+1)^q` (polynomial growth);
# caps stop either from growing past a limit (:doc:`/math`, "Growth schedules").
exp_schedule = exponential_growth(0.05, 8, 1.2, 1.44, 8, stage_steps=50, batch_cap=512)
poly_schedule = polynomial_growth(0.05, 8, 0.5, 1.0, 8, stage_steps=50)
fig, (ax_lr, ax_b) = plt.subplots(1, 2, figsize=(10, 3.8))
for schedule, label in ((exp_schedule, "exponential γ = 1.2, δ = 1.44"), (poly_schedule, "polynomial p = 0.5, q = 1")):
    steps = np.arange(1, schedule.serial_steps + 1)
    ax_lr.plot(steps, schedule.lr, label=label)
    ax_b.plot(steps, schedule.batch, label=label)
ax_lr.set(xlabel="step", ylabel="learning rate", title="Learning rate per step")
ax_b.set(xlabel="step", ylabel="batch size", yscale="log", title="Batch size per step")
ax_lr.legend()
fig.tight_layout()
print(f"exponential: {exp_schedule.serial_steps} steps, {exp_schedule.total_samples:.0f} samples")

# %%
# The predicted exponent
# ----------------------
# The bound gives :math:`e = 2\ln\delta/(\ln\delta-\ln\gamma)` for :math:`\gamma<\delta<\gamma^2` and
# :math:`e = 2\ln\delta/\ln\gamma` for :math:`\delta\ge\gamma^2`, so the two branches meet at
# :math:`e=4` on the ridge :math:`\delta=\gamma^2`; with :math:`\delta\le\gamma` the bound has no
# polynomial rate. :func:`ramplab.proofs.growth_exponent` derives it symbolically and
# :func:`~ramplab.theory.complexity.growth.sfo_exponent` evaluates it.
print("ridge γ = 1.5, δ = 2.25:", sfo_exponent(1.5, 2.25), "| symbolic:", growth_exponent(1.5, 2.25))
gammas = np.linspace(1.02, 2.0, n_grid)
deltas = np.linspace(1.02, 4.0, n_grid)
exponent = np.array([[sfo_exponent(g, dl) for g in gammas] for dl in deltas])
fig, ax = plt.subplots(figsize=(6.5, 4.8))
mesh = ax.pcolormesh(gammas, deltas, np.where(np.isfinite(exponent), exponent, np.nan),
                     vmin=2, vmax=12, shading="auto", cmap="viridis")
ax.plot(gammas, gammas**2, "w--", lw=1.5, label="ridge δ = γ²")
ax.plot(gammas, gammas, color="k", lw=1.0, label="δ = γ (no rate below)")
ax.set(xlabel="learning-rate growth γ", ylabel="batch growth δ", ylim=(deltas[0], deltas[-1]),
       title="Predicted SFO exponent e(γ, δ)")
fig.colorbar(mesh, ax=ax, extend="max", label=r"$e$: SFO $\propto \epsilon^{-e}$ (yellow: 12 or more)")
ax.legend(loc="upper left", facecolor="0.5", framealpha=0.9)
fig.tight_layout()

# %%
# What to try next
# ----------------
# - Evaluate ``sfo_exponent`` along the ridge :math:`\delta=\gamma^2`: is it 4 everywhere?
# - ``polynomial_growth`` has its own exponent, ``ramplab.theory.polynomial_sfo_exponent(p, q)``.
# - Next: :doc:`06_reproducing_a_published_schedule`.
