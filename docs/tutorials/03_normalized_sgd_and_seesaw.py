"""
3. Normalized SGD and Seesaw
============================

Normalized SGD (NSGD, the proxy for Adam used by the Seesaw paper) divides each step by the
gradient's size. That changes which learning-rate/batch moves are equivalent: the invariant becomes
:math:`\\alpha\\sqrt\\beta` instead of :math:`\\alpha\\beta`. Seesaw uses it to replace a cosine
decay by a batch ramp with the same risk in fewer serial steps, as long as the gradient noise
dominates. This tutorial shows all three: the family, the Seesaw schedule, and where it stops
matching cosine.
"""

# %%
import math
import os

import matplotlib.pyplot as plt
import numpy as np

from ramplab.theory import (gradient_second_moment, is_stable, max_stable_lr, RELEASED_ALPHA_BETA, Cosine, Problem, Schedule, WarmupCosine,
                            equivalence_report, phase_schedule, satisfies_ramp_bound, seesaw_schedule,
                            seesaw_step_reduction, step_reduction)

QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in ("", "0")
d, total, steps = (100, 2.0e4, 400) if QUICK else (300, 6.0e4, 2000)
problem = Problem.power_law(d, a=1.5, b=2.0, noise_variance=1.0)


def nsgd_peak_lr(batch, margin=0.5):
    """A peak NSGD rate whose effective rate stays below ``margin`` × SGD's stability edge at
    ``batch``: :func:`~ramplab.theory.max_stable_lr` with ``"nsgd"`` is the largest rate whose
    effective rate η/sqrt(E‖g‖²) ≤ η sqrt(B / (tr H σ²)) never passes that edge."""
    return margin * max_stable_lr(problem, batch, "nsgd")


# %%
# The :math:`\alpha\sqrt\beta` family
# -----------------------------------
# NSGD's step is :math:`\eta\,g_t/\sqrt{\mathbb E\|g_t\|^2}`. When the gradient variance dominates,
# :math:`\mathbb E\|g_t\|^2\approx\sigma^2\operatorname{tr}H/B`, so the effective learning rate is
# :math:`\eta\sqrt B/(\sigma\sqrt{\operatorname{tr}H})` and its temperature scales as
# :math:`\eta/\sqrt B`: a phase that divides :math:`\eta` by :math:`\alpha` and multiplies
# :math:`B` by :math:`\beta` cools by :math:`\alpha\sqrt\beta` (:doc:`/math`, "Normalized SGD").
# The released Seesaw runs use five pairs with :math:`\alpha\sqrt\beta=2`; the last two break
# :math:`\alpha\ge\sqrt\beta` (the effective rate would *rise* at a phase boundary).
batch0 = 4
schedules = [phase_schedule(nsgd_peak_lr(batch0), batch0, a, b, [total / 5] * 5,
                            label=f"(α, β) = ({a:.3g}, {b:.3g})") for a, b in RELEASED_ALPHA_BETA]
report = equivalence_report(problem, schedules, "nsgd", on_divergence="flag")
fig, ax = plt.subplots(figsize=(6.5, 4))
for traj, (a, b) in zip(report.trajectories, RELEASED_ALPHA_BETA):
    style = "-" if satisfies_ramp_bound(a, b) else "--"
    ax.semilogy(traj.samples[1:], traj.risk[1:], style, label=traj.schedule.label + ("" if style == "-" else ", α < √β"))
ax.set(xlabel="samples", ylabel="excess risk", title="NSGD, α√β = 2 at matched samples")
ax.legend()
fig.tight_layout()
print("largest mean/variance ratio of the gradient:", f"{np.max(report.max_mean_variance_ratio):.3f}")

# %%
# Seesaw against cosine
# ---------------------
# Seesaw turns a learning-rate shape into a ramp: each time the base (here a warmup then a cosine
# decay to 10 %) falls by a factor :math:`f` in *samples*, it multiplies the rate by
# :math:`1/\sqrt f` and the batch by :math:`f` (:doc:`/math`, "The Seesaw scheduler"). The same
# samples, far fewer serial steps. The risk rises during the warmup (grey band) in both curves: the
# large-eigenvalue directions, which hold most of the initial risk here (:math:`b = 2`), are fitted
# within the first few hundred samples; from then on the risk tracks the noise floor, which grows
# with the learning rate while the warmup raises it tenfold.
#
# It matches cosine while the gradient is variance-dominated. The mean part of
# :math:`\mathbb E\|g\|^2` does not shrink with the batch, so above the *gradient noise scale* (the batch
# at which mean and noise of the gradient are equal; :doc:`08_which_critical_batch`) it dominates,
# NSGD becomes normalized gradient descent, and the :math:`\alpha\sqrt\beta` argument fails:
# cutting the rate by only :math:`1/\sqrt f` per milestone leaves the iterate in a larger
# neighbourhood of the optimum than cosine's full cut. Below, :math:`B_0 = 4` (variance-dominated)
# against :math:`B_0 = 4096` (mean-dominated), both with the same number of base steps. At the large
# batch the variance-floor rate above would be far too small to move at all, so the peak rate is
# tuned on the *initial* :math:`\mathbb E\|g\|^2`, as one would tune normalized gradient descent.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax, b0 in zip(axes, (4, 4096)):
    if b0 == 4:
        lr0 = nsgd_peak_lr(b0)
    else:
        g0 = gradient_second_moment(problem, problem.initial_second_moment, b0)
        lr0 = 0.5 * max_stable_lr(problem, b0) * math.sqrt(g0)
    base = WarmupCosine(lr0, float(b0 * steps))
    cosine = Schedule.from_shape(base, b0, label="warmup + cosine", integer_batch=False)
    seesaw = seesaw_schedule(base, b0, 1.1, label="Seesaw, f = 1.1")
    rep = equivalence_report(problem, [cosine, seesaw], "nsgd")
    for traj, style in zip(rep.trajectories, ("-", "--")):
        ax.semilogy(traj.samples[1:], traj.risk[1:], style, label=traj.schedule.label)
    ax.axvspan(0, 0.1 * base.total_samples, color="0.92", lw=0, zorder=0)
    ax.set(xlabel="samples", title=f"B₀ = {b0}: final risk Seesaw/cosine = {rep.final_ratio[1, 0]:.2f}")
    print(f"B₀ = {b0:5d}: final risk ratio Seesaw/cosine {rep.final_ratio[1, 0]:.3f}, "
          f"serial steps {cosine.serial_steps} → {seesaw.serial_steps} "
          f"(−{100 * step_reduction(cosine, seesaw):.1f} %), "
          f"largest mean/variance ratio of the gradient {np.max(rep.max_mean_variance_ratio):.2f}")
axes[0].set_ylabel("excess risk")
axes[0].legend()
fig.tight_layout()

# %%
# At :math:`B_0 = 4096` the Seesaw curve also swings from step to step. With the mean gradient
# dominating, NSGD is normalized gradient descent: every step has length about :math:`\eta`
# whatever the distance to the optimum, so once the iterate is within :math:`O(\eta)` of it, it
# jumps across the valley and back (a period-2 oscillation). Only a falling rate shrinks that
# neighbourhood, and Seesaw's rate falls by :math:`\sqrt f` where cosine's falls by :math:`f`.

# %%
# Serial-step savings and their limits
# ------------------------------------
# How many steps Seesaw saves depends only on the base shape (without a batch cap): in the limit
# :math:`f\to1` the ramp takes :math:`\int\eta_{\rm base}/\eta_0` of the base's steps
# (:doc:`/math`, "Serial-step reduction"). A quarter cosine saves :math:`1-2/\pi\approx36.3\%`, a
# half cosine or a linear decay to 0 saves 50 %, the released warmup + cosine to 10 % about 40.5 %.
for name, shape in (("quarter cosine", Cosine(1.0, 1.0, quarter=True)), ("half cosine", Cosine(1.0, 1.0)),
                    ("warmup + cosine to 0.1", WarmupCosine(1.0, 1.0))):
    print(f"{name:24s} f = 1.1: {100 * seesaw_step_reduction(shape, 1.1):5.1f} %   "
          f"f → 1: {100 * seesaw_step_reduction(shape):5.1f} %")
print(f"1 − 2/π = {100 * (1 - 2 / math.pi):.1f} %")

# %%
# What to try next
# ----------------
# - Run the Seesaw comparison with ``"sgd"`` instead of ``"nsgd"``: SGD's invariant is
#   :math:`\alpha\beta`, so Seesaw's :math:`1/\sqrt f` is the wrong rate cut. What happens?
# - Pass ``batch_cap=...`` to :func:`~ramplab.theory.seesaw_schedule`: a cap
#   (memory!) reduces the savings; compare with ``seesaw_step_reduction(shape, 1.1, batch_cap=...)``.
# - Next: :doc:`04_sfo_and_critical_batch`, where the SFO-minimising batch :math:`b^\star` (this library's
#   *critical batch size*) gets a formula; :doc:`08_which_critical_batch` sets it beside the three other batch
#   sizes called critical.
