"""
7. The optimal ramp
===================

Tutorials 2, 3 and 5 compared *named* schedules: learning-rate decay against batch ramps, Seesaw against
cosine, growth with δ = γ². None of them says what the *best* schedule is. On noisy linear regression the
risk is exact and so is its gradient in the schedule, so the best joint (learning rate, batch size)
schedule for a fixed number of samples ``N`` and serial steps ``S`` can be computed. Doing this for
several ``S`` gives the *serial-step frontier*: the lowest risk that any schedule with that many steps
reaches. Every named schedule lies on or above it, and the gap measures how much a ramp leaves on the
table.
"""

# %%
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

from ramplab.proofs import greedy_learning_rates, greedy_one_dimension
from ramplab.theory import (
    Problem,
    UnstableScheduleWarning,
    expected_risk,
    max_stable_lr,
    named_schedules,
    optimal_schedule,
    risk_gradient,
    serial_step_frontier,
)

QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in ("", "0")
d, samples, batch0, segments = (24, 1024, 8.0, 8) if QUICK else (200, 8192, 16.0, 16)
problem = Problem.power_law(d, a=1.5, b=1.0, noise_variance=0.5)

# %%
# Step 1: the gradient of the risk in the schedule
# ------------------------------------------------
# :func:`~ramplab.theory.risk_gradient` differentiates the final risk with respect to each
# segment's log learning rate and log batch size. It uses one backward (adjoint) pass over the same
# recursion as :func:`~ramplab.theory.expected_risk` (:doc:`/math`, "Gradients of the risk in the
# schedule"). Here it is applied to a cosine schedule at constant batch.
cosine = named_schedules(samples, batch0, 0.5 * max_stable_lr(problem, batch0))["cosine"]
grad = risk_gradient(problem, cosine)
print(f"cosine: final risk {grad.value:.4g}, {cosine.serial_steps} steps; "
      f"largest |dJ/dlog η_k| {np.abs(grad.d_log_lr).max():.3g}, largest |dJ/dlog B_k| {np.abs(grad.d_log_batch).max():.3g}")

# %%
# Step 2: one optimal schedule at exact budgets
# ---------------------------------------------
# :func:`~ramplab.theory.optimal_schedule` gives SciPy's SLSQP the variables :math:`\log\eta_k,\log B_k`
# of ``K`` equal segments, the exact gradient, and the equality constraint
# :math:`\sum_k n_k B_k = N` (:doc:`/math`, "Optimal schedules at exact budgets"). The returned
# schedule has integer batches (a documented rounding) and uses exactly ``N`` samples in ``S`` steps.
steps = cosine.serial_steps
opt = optimal_schedule(problem, samples, steps, segments=segments)
print(f"optimum with {steps} steps: risk {opt.objective:.4g} after rounding "
      f"({opt.continuous_objective:.4g} continuous), {opt.schedule.total_samples} samples, "
      f"converged={opt.converged} in {opt.nit} iterations")
print("segment batches:", np.round(opt.batch, 1).tolist())

# %%
# Step 3: check the optimiser against a closed form
# -------------------------------------------------
# With one eigenvalue and a fixed batch, choosing each step's rate to minimise the next second
# moment (the greedy rate) is globally optimal. The derivation ``greedy_one_dimension`` proves this
# with sympy. With one segment per step, the optimiser must find the same risk.
print("derivation verified:", greedy_one_dimension().verified)
one = Problem([1.0], [1.5], noise_variance=0.5)
lr_greedy, s_final = greedy_learning_rates(1.0, 1.5, 0.5, [2.0] * 10)
opt1 = optimal_schedule(one, 20, 10, segments=10, batch_bounds=(2, 2), integer_batch=False, lr_bounds=(1e-4, 1.9))
print(f"greedy risk {0.5 * s_final:.10f}, optimiser {opt1.objective:.10f} "
      f"(relative gap {abs(opt1.objective / (0.5 * s_final) - 1):.1e})")

# %%
# Step 4: the frontier and the named schedules
# --------------------------------------------
# :func:`~ramplab.theory.serial_step_frontier` runs one optimisation per budget. It accepts an
# ``executor=`` (a process pool or a Dask client's ``get_executor()``) to run them in parallel.
# The named schedules all use the same ``N`` samples; each gets its best peak rate on a small grid.
# The growth ramps raise the rate as the batch grows, so the largest peaks of the grid cross the
# stability edge; those runs only score badly, and their warnings are silenced here.
warnings.simplefilter("ignore", UnstableScheduleWarning)
edge = max_stable_lr(problem, batch0)
named = {}
for peak in np.geomspace(edge / 16, edge, 5 if QUICK else 9):
    schedules = named_schedules(samples, batch0, float(peak))
    for (label, sched), traj in zip(schedules.items(), expected_risk(problem, list(schedules.values()),
                                                                      on_divergence="flag")):
        if np.isfinite(traj.risk[-1]) and traj.risk[-1] < named.get(label, (np.inf,))[0]:
            named[label] = (float(traj.risk[-1]), sched.serial_steps)
budgets = sorted({int(s) for s in np.geomspace(1, samples / batch0, 6).round()} | {s for _, s in named.values()})
frontier = serial_step_frontier(problem, samples, budgets, segments=segments)
best = dict(zip(frontier.serial_steps.tolist(), frontier.objective))
print(f"{'schedule':>16} {'steps':>6} {'risk / frontier':>16}")
for label, (risk, s) in named.items():
    print(f"{label:>16} {s:>6} {risk / best[s]:>16.3f}")

# %%
# Step 5: plot it
# ---------------
fig, (ax_f, ax_b) = plt.subplots(1, 2, figsize=(11, 4))
ax_f.loglog(frontier.serial_steps, frontier.objective, "k-o", ms=3, label="optimal frontier")
for label, (risk, s) in named.items():
    ax_f.loglog([s], [risk], "o", label=label)
ax_f.set(xlabel="serial steps", ylabel="final excess risk", title=f"N = {samples} samples")
ax_f.legend(fontsize=7)
for r in frontier.results[-3:]:
    edges = np.concatenate([[0.0], np.cumsum(r.steps * r.batch)])
    ax_b.stairs(r.batch, edges, baseline=None, label=f"S = {r.serial_steps}")
ax_b.set(xlabel="samples", ylabel="batch size", yscale="log", title="optimal batch ramps")
ax_b.legend()
fig.tight_layout()

# %%
# What to try next
# ----------------
# - ``optimizer="nsgd"`` (normalized SGD with the expected denominator; :doc:`/math`, "Normalized SGD"): every
#   function above takes it. NSGD's rates live on another scale (the effective rate is :math:`\eta/\sqrt{G_t}`),
#   so give the named schedules a peak grid scaled by :math:`\sqrt{G_0}`
#   (:func:`~ramplab.theory.gradient_second_moment`). Does the optimal NSGD ramp follow Seesaw's
#   :math:`\eta/\sqrt B` rule?
# - ``objective="averaged"`` (uniform iterate averaging): does averaging flatten the optimal rate decay?
# - More ``segments`` shows the shape of the optimum in more detail; compare ``opt.objective`` and
#   ``opt.continuous_objective`` to see what the integer rounding costs.
# - ``ramplab figures --only optimal_frontier`` builds this comparison at a larger size for SGD, NSGD and
#   heavy ball (one row each), with a CSV of every point (its ``optimizer`` column says which).
