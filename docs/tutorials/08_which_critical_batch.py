"""
8. Which critical batch?
========================

Papers call at least four different numbers "the critical batch size", and they do not agree. This
tutorial computes all four on one noisy linear regression problem, where each is exact, and says in
plain words what question each one answers:

- the **SFO-minimising batch** :math:`b^\\star`: at a *fixed* learning rate, the batch that reaches the
  target with the fewest samples (Iiduka and co-authors; tutorial 04);
- the **Pareto critical batch** :math:`B_{\\rm crit}`: with the learning rate *re-tuned for every
  batch*, the batch where the steps-versus-samples trade-off turns (McCandlish et al.), predicted by
  the **gradient noise scale** :math:`B_{\\rm noise}`;
- the **linear-scaling critical batch**: the batch where tuned steps stop falling like
  :math:`1/B` and need 20 % more than perfect scaling (Zhang et al.);
- the **local critical batch** at step :math:`t`: branch the run at :math:`t` into larger batches
  and keep the largest one that still reaches the same loss with about the same data (Merrill et
  al.).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from ramplab.plot import place_legend
from ramplab.theory import (
    Problem,
    Schedule,
    critical_batch,
    expected_risk,
    gradient_noise_scale,
    linear_scaling_critical_batch,
    local_critical_batch,
    pareto_critical_batch,
    tuned_steps,
)

QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in ("", "0")
d = 20 if QUICK else 100
n_lrs = 16 if QUICK else 40

# %%
# One problem, one target
# -----------------------
# A power-law spectrum (:math:`\lambda_i = i^{-1.5}`) with label noise :math:`\sigma^2 = 0.5`. The
# target is on the expected squared gradient norm, :math:`\mathbb E\|\nabla f\|^2 \le \tau`, as in
# tutorial 04. "Steps" are serial optimizer steps; "samples" are steps times batch.
problem = Problem.power_law(d, 1.5, 1.0, noise_variance=0.5)
tau = 1e-2
batches = np.geomspace(1, 512, 10)
lrs = np.geomspace(1e-2, 2.0, n_lrs)

# %%
# 1. The SFO-minimising batch b*: fixed learning rate, fewest samples
# ---------------------------------------------------------------------
# Hold :math:`\eta` fixed and ask which batch reaches :math:`\tau` with the fewest samples. Small
# batches are too noisy to reach the target at this rate; large ones waste samples. The minimum
# moves with :math:`\eta` (roughly :math:`\propto\eta`), so :math:`b^\star` is a property of the
# learning rate you chose as much as of the problem.
eta = 0.2
sfo = critical_batch(problem, eta, np.sqrt(tau), np.geomspace(1, 4096, 25))
print(f"SFO-minimising batch b* at η = {eta}: {sfo.critical_batch:.1f}")

# %%
# 2. The Pareto critical batch: re-tune the learning rate for every batch
# -------------------------------------------------------------------------
# Now tune :math:`\eta` separately at every batch and record the fewest steps :math:`S(B)`. McCandlish
# et al. fit :math:`S = S_{\min}(1 + B_{\rm crit}/B)`: below :math:`B_{\rm crit}` doubling the batch
# halves the steps; above it, it barely helps. Their prediction of :math:`B_{\rm crit}` is the gradient
# noise scale :math:`B_{\rm noise} = \mathrm{tr}(H\Sigma)/G^\top HG`, the batch at which the
# gradient's noise equals its signal (curvature-weighted), here exact at the state where the tuned
# run reaches the target.
front = pareto_critical_batch(problem, batches, tau, lrs=lrs)
first = int(np.argmax(np.isfinite(front.steps)))
steps_needed = int(np.ceil(front.steps[first]))
run = expected_risk(problem, Schedule.constant(float(front.best_lr[first]), float(front.batches[first]),
                                               steps=steps_needed), keep_states=True)
noise = gradient_noise_scale(problem, run.state_at(steps_needed))
print(f"Pareto critical batch: {front.critical_batch:.1f} (fit within {100 * front.fit_residual:.0f} %); "
      f"B_noise = {noise.b_noise[0]:.1f}, B_simple = {noise.b_simple[0]:.1f} at the target")

# %%
# 3. The linear-scaling critical batch: where perfect scaling ends
# ------------------------------------------------------------------
# Zhang et al. ask a stricter question on the same tuned steps: up to which batch does the run scale
# *almost perfectly*, i.e. needs at most 20 % more than :math:`S(B_0)B_0/B`? That is far below the
# Pareto batch, where the overhead is already 100 %.
zhang = linear_scaling_critical_batch(problem, batches, tau, lrs=lrs)
print(f"linear-scaling critical batch (20 % overhead): {zhang:.1f}")

fig, ax = plt.subplots(figsize=(6.4, 4.2))
ok = np.isfinite(front.steps)
ax.loglog(front.samples[ok], front.steps[ok], "o-", label="tuned steps S(B) against samples E(B) = B·S")
for value, style, name in ((sfo.critical_batch, ":", "SFO-minimising b* (fixed η)"),
                           (front.critical_batch, "-", "Pareto critical batch"),
                           (zhang, "--", "linear-scaling critical batch"),
                           (noise.b_noise[0], "-.", "gradient noise scale B_noise")):
    s = np.interp(np.log(value), np.log(front.batches[ok]), np.log(front.steps[ok]))
    ax.plot(value * np.exp(s), np.exp(s), "k" + ("s" if style == "-" else "x"), ms=6)
    ax.annotate(f"{name}: {value:.3g}", (value * np.exp(s), np.exp(s)), fontsize=7,
                xytext=(6, 4), textcoords="offset points")
ax.set(xlabel="samples to target", ylabel="serial steps to target",
       title=f"the Pareto front of steps against samples (τ = {tau:g})")
place_legend(ax, fontsize=8)
fig.tight_layout()

# %%
# 4. The local critical batch: branch the run in time
# -----------------------------------------------------
# The first three ask about a whole run to a target. Merrill et al. ask *during* a run: from the
# state at step :math:`t`, would a :math:`k` times larger batch (rate scaled by :math:`\sqrt k` here,
# the default rule) reach the loss the run reaches after :math:`\Delta` samples, using at most 10 %
# more samples? The largest such batch is the local critical batch. It starts small and grows as the
# gradient's signal fades, which is why Merrill et al. warm the batch up
# (:func:`~ramplab.theory.local_critical_batch_warmup` builds that schedule). The rule matters: with
# the rate scaled by :math:`k` the larger batch keeps the run's noise level, and near its noise
# floor a larger rate's floor is a little higher, so no larger batch recovers the loss there.
base = Schedule.constant(0.2, 4, steps=2000)
for t in (0, 50, 500, 1900):
    local = local_critical_batch(problem, base, t, 400.0)
    linear = local_critical_batch(problem, base, t, 400.0, lr_rule="linear")
    print(f"step {t:5d}: local critical batch {local.critical_batch:5.0f} (√k rule), "
          f"{linear.critical_batch:5.0f} (linear rule)")

# %%
# Which one to use
# ----------------
# - A fixed learning rate and a sample budget: :math:`b^\star`.
# - Trading wall-clock steps for samples with the rate re-tuned: the Pareto critical batch, or its
#   cheap predictor :math:`B_{\rm noise}`; but note that trainers *estimate* :math:`B_{\rm noise}`
#   from noisy gradients (:func:`~ramplab.simulations.noise_scale_estimators` shows how far off those
#   estimates land).
# - "How far does linear scaling go?": the linear-scaling critical batch.
# - When to grow the batch during a run: the local critical batch.
#
# Always say which one you report: on this problem they differ by an order of magnitude.

# %%
# What to try next
# ----------------
# - Lower the target ``tau``: all three target-based batches grow with the data the target needs
#   (Zhang et al.'s claim, stated and tested in :doc:`/math`, "Three more batch sizes called critical").
# - Set ``noise_variance=0`` in the problem: without label noise, what happens to :math:`b^\star` and
#   to the gradient noise scale?
# - Run :func:`~ramplab.simulations.noise_scale_estimators` along ``base`` and compare its
#   two-batch estimates with ``gradient_noise_scale``.
