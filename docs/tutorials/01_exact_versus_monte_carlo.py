"""
1. Exact versus Monte Carlo
===========================

ramplab computes the *expected* excess risk of mini-batch SGD on noisy linear regression exactly,
for any per-step learning rate :math:`\\eta_t` and batch size :math:`B_t`. This tutorial puts that
closed form next to a plain Monte Carlo simulation of the same problem, so you can see what
"exact" means before you rely on it in the other tutorials.

The problem: inputs :math:`x = H^{1/2} z` with :math:`H = \\operatorname{diag}(\\lambda_1, \\dots,
\\lambda_d)`, labels :math:`y = \\langle w^*, x\\rangle + \\sigma\\nu`, and the excess risk
:math:`R(w) = \\tfrac12 (w - w^*)^\\top H (w - w^*)`. See :doc:`/math`, section
"Noisy linear regression".
"""

# %%
# Sizes
# -----
# Every tutorial reads ``RAMPLAB_TUTORIAL_QUICK``: set it to ``1`` for the small sizes the
# continuous-integration build uses; unset, the sizes below still run in well under a minute.
import os

import matplotlib.pyplot as plt
import numpy as np

from ramplab.plot import place_legend, plot_risk
from ramplab.simulations import simulate
from ramplab.theory import Problem, Schedule, expected_risk

QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in ("", "0")
d, phase, runs = (20, 512, 300) if QUICK else (50, 2048, 1000)

# %%
# One problem, one schedule
# -------------------------
# A power-law spectrum :math:`\lambda_i = i^{-1.5}` with :math:`\lambda_i s_i(0) = i^{-1}` and
# label noise :math:`\sigma^2 = 0.5`. The schedule halves the learning rate twice at a fixed
# batch of 4; phases are measured in **samples** (steps × batch), as everywhere in ramplab.
problem = Problem.power_law(d, a=1.5, b=1.0, noise_variance=0.5)
schedule = Schedule.from_phases([(0.5, 4, phase), (0.25, 4, phase), (0.125, 4, phase)],
                                label="lr 0.5 → 0.25 → 0.125, batch 4")
print(f"{schedule.serial_steps} steps, {schedule.total_samples} samples")

# %%
# The exact expected risk
# -----------------------
# :func:`~ramplab.theory.expected_risk` runs the second-moment recursion
# :math:`s_i \leftarrow (1-\eta\lambda_i)^2 s_i + \frac{\eta^2}{B}\bigl[(\kappa-2)\lambda_i^2 s_i
# + \lambda_i (q + \sigma^2)\bigr]` with :math:`q = \sum_j \lambda_j s_j`: :math:`d` numbers per
# step, no sampling, and :math:`\mathbb E R(w_t) = q(t)/2` exactly.
exact = expected_risk(problem, schedule)
print(f"exact final risk: {exact.final_risk:.5f}")

# %%
# Monte Carlo of the same problem
# -------------------------------
# :func:`~ramplab.simulations.monte_carlo.simulate` runs many independent SGD runs at once and
# reports the mean risk and its standard error at the checkpoints we ask for. The seed is fixed,
# so the numbers below are the same on every build.
grid = np.linspace(0, schedule.total_samples, 49)
mc = simulate(problem, schedule, runs=runs, seed=1, checkpoints=grid, progress=False)
reference = exact.at_samples(grid)

fig, (ax, ax_z) = plt.subplots(1, 2, figsize=(10, 4))
# ramplab.plot draws both: the exact curve as a line, the Monte Carlo mean with a band of ± 2 SE.
plot_risk([exact, mc], x="samples", ax=ax, bands=2.0,
          labels=["exact (expected_risk)", f"Monte Carlo mean ({runs} runs)"])
ax.set(title="Risk against samples")

# %%
# Why they agree, and how well
# ----------------------------
# The Monte Carlo mean is an unbiased estimate of the very expectation the recursion computes, so
# the difference divided by the standard error, :math:`z = (\bar R - \mathbb E R)/\mathrm{SE}`,
# should look like draws from a standard normal: about 95 % of checkpoints within :math:`\pm 2`.
# At samples = 0 every run starts from the same :math:`w_0`, the spread is zero and :math:`z` is
# undefined, so that checkpoint is left out.
spread = mc.stderr > 1e-9 * mc.mean_risk
z = (mc.mean_risk[spread] - reference[spread]) / mc.stderr[spread]
ax_z.axhspan(-2, 2, color="0.9", label="± 2")
ax_z.plot(mc.samples[spread], z, "o-", ms=3, color="tab:blue", label="(MC − exact) / SE")
ax_z.set(xlabel="samples", ylabel="standard errors", title="Difference in standard errors")
place_legend(ax_z)
fig.tight_layout()
print(f"checkpoints within ±2 SE: {np.mean(np.abs(z) <= 2):.0%} (of {z.size})")

# %%
# The standard error shrinks like :math:`1/\sqrt{\text{runs}}`: four times the runs, half the
# band. The exact curve needs no runs at all, which is why the other tutorials can compare
# schedules whose risks differ by less than a Monte Carlo band would resolve.
mc4 = simulate(problem, schedule, runs=4 * runs, seed=2, checkpoints=grid, progress=False)
ratio = np.median(mc.stderr[spread] / mc4.stderr[spread])
print(f"median SE ratio, {runs} vs {4 * runs} runs: {ratio:.2f} (≈ 2 expected)")

# %%
# What to try next
# ----------------
# - Pass ``optimizer="nsgd"`` to both calls: normalized SGD divides the step by
#   :math:`\sqrt{\mathbb E\|g_t\|^2}` and the exact solver still applies (:doc:`/math`,
#   "Normalized SGD"). With ``simulate(..., NSGD("conditional"))`` the step is divided by
#   the realised :math:`\|g_t\|` instead, which the exact solver does not model: how far apart are
#   they?
# - Use ``simulate(..., data="rademacher")``: the kurtosis :math:`\kappa` changes the recursion's
#   :math:`(\kappa-2)` term; pass the same data to ``Problem.power_law(..., kurtosis=...)``.
# - Next tutorial: :doc:`02_decay_or_grow_the_batch`.
