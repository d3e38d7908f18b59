"""
2. Decay the learning rate or grow the batch
============================================

Halving the learning rate and doubling the batch size both halve the *temperature*
:math:`\\eta/B`, the quantity that sets how much noise SGD keeps at a fixed learning rate. This
tutorial measures, exactly, when the two moves are interchangeable at matched samples, how many
serial steps the batch ramp saves, and where the equivalence breaks.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from ramplab.theory import (HeavyBall, is_stable, max_stable_lr, stationary_risk, Problem, Schedule, equivalence_report, expected_risk, family_invariant, family_member,
                            phase_schedule)

QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in ("", "0")
d, phase = (100, 2000.0) if QUICK else (400, 8000.0)
problem = Problem.power_law(d, a=1.5, b=2.0, noise_variance=1.0)

# %%
# The temperature
# ---------------
# At constant :math:`(\eta, B)` SGD settles at a stationary risk. For small :math:`\eta\lambda` it
# is :math:`\approx \frac{\sigma^2}{4}\,\frac{\eta}{B}\operatorname{tr}H`: only the ratio
# :math:`\eta/B` matters (:doc:`/math`, "Stability, stationary point, temperature").
# :func:`~ramplab.theory.stationary_risk` gives the exact fixed point, so we
# can see the ratio rule hold for small rates and fail for large ones.
pairs = [(0.05, 1), (0.1, 2), (0.2, 4), (0.4, 8), (0.8, 16)]
for lr, batch in pairs:
    print(f"η = {lr:<4}  B = {batch:<2}  η/B = {lr / batch:.3f}  stationary risk = "
          f"{stationary_risk(problem, lr, batch):.5f}  stable: {is_stable(problem, lr, batch)}")

# %%
# The :math:`\alpha\beta` family
# ------------------------------
# A phase schedule multiplies the learning rate by :math:`1/\alpha` and the batch by :math:`\beta`
# at each phase boundary (phases of equal samples). For SGD the temperature falls by
# :math:`\alpha\beta` per phase, so members with the same invariant :math:`c=\alpha\beta` should
# reach the same risk at the same samples: :math:`(\alpha,\beta)=(2,1)` is pure decay,
# :math:`(1,2)` pure batch doubling (:doc:`/math`, "Learning-rate decay versus batch ramp").
members = [family_member(2.0, p=p) for p in (0.0, 0.5, 1.0)]
print("invariants:", [round(family_invariant(a, b), 6) for a, b in members])


def family(lr0):
    schedules = [phase_schedule(lr0, 4, a, b, [phase] * 5, label=f"(α, β) = ({a:.3g}, {b:.3g})")
                 for a, b in members]
    return equivalence_report(problem, schedules, "sgd", on_divergence="flag")


small = family(0.1)
fig, (ax_s, ax_t) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for traj in small.trajectories:
    ax_s.semilogy(traj.samples[1:], traj.risk[1:], label=traj.schedule.label)
    ax_t.semilogy(traj.steps[1:], traj.risk[1:], label=f"{traj.schedule.serial_steps} serial steps")
ax_s.set(xlabel="samples", ylabel="excess risk", title="Matched samples: the members coincide")
ax_t.set(xlabel="serial steps", title="Serial steps: the ramp finishes first")
ax_s.legend()
ax_t.legend()
fig.tight_layout()
print(f"η₀ = 0.1: worst risk ratio between members at matched samples {small.max_ratio.max():.3f}")

# %%
# Where it breaks
# ---------------
# The equivalence is a small-:math:`\eta` statement. Start the same family at a learning rate
# near the stability edge and the members separate: the pure-decay member keeps the large rate for
# longer at a small batch, where the :math:`\eta^2` terms of the recursion (not just
# :math:`\eta/B`) matter.
edge = max_stable_lr(problem, 4)  # the largest stable constant rate at B = 4
large = family(0.9 * edge)
fig, ax = plt.subplots(figsize=(6, 4))
for traj in large.trajectories:
    finite = np.isfinite(traj.risk)
    ax.semilogy(traj.samples[finite][1:], traj.risk[finite][1:], label=traj.schedule.label)
ax.set(xlabel="samples", ylabel="excess risk", title=f"η₀ = {0.9 * edge:.2f} (0.9 × the stability edge)")
ax.legend()
fig.tight_layout()
print(f"η₀ = {0.9 * edge:.2f}: worst ratio {np.nanmax(large.max_ratio):.3f} "
      f"(η₀ = 0.1: {small.max_ratio.max():.3f})")

# %%
# Momentum: a rate of :math:`\eta/(1-\mu)`
# ----------------------------------------
# Heavy-ball momentum :math:`w_{t+1}=w_t-\eta g_t+\mu(w_t-w_{t-1})` has its exact second-moment
# recursion too: ``expected_risk(..., HeavyBall(μ))`` (:doc:`/math`, "Heavy-ball momentum"). For small
# :math:`\eta\lambda`, once the velocity has built up (about :math:`1/(1-\mu)` steps), it behaves
# like plain SGD at the rate :math:`\eta/(1-\mu)`, and so at the
# temperature :math:`\eta/((1-\mu)B)`. Compare plain SGD at :math:`\eta=0.1` with momentum 0.9 at
# :math:`\eta=0.01`, both at batch 4.
steps = 2000 if QUICK else 8000
plain = expected_risk(problem, Schedule.constant(0.1, 4, steps=steps))
heavy = expected_risk(problem, Schedule.constant(0.01, 4, steps=steps), HeavyBall(0.9))
fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(np.arange(1, steps + 1), plain.risk[1:], label="SGD, η = 0.1")
ax.loglog(np.arange(1, steps + 1), heavy.risk[1:], "--", label="heavy ball μ = 0.9, η = 0.01")
ax.set(xlabel="step", ylabel="excess risk", title="Momentum μ acts like a rate η/(1 − μ)")
ax.legend()
fig.tight_layout()
print(f"final risk: SGD {plain.final_risk:.4g}, heavy ball {heavy.final_risk:.4g} "
      f"(ratio {heavy.final_risk / plain.final_risk:.3f})")

# %%
# What to try next
# ----------------
# - Push the momentum run towards the edge (μ = 0.99 at η = 0.001, or η = 0.05 at μ = 0.9): where
#   does "η/(1 − μ)" stop describing it?
# - Change the invariant: ``family_member(4.0, p=...)`` (faster decay). Does the equivalence hold as
#   well?
# - Use ``optimizer="nsgd"`` in :func:`~ramplab.theory.equivalence_report`
#   with the same :math:`\alpha\beta` family: normalized SGD has a different invariant, the subject
#   of the next tutorial, :doc:`03_normalized_sgd_and_seesaw`.
