"""
6. Reproducing a published training run's schedule
==================================================

The Seesaw paper released its language-model runs: 150M, 300M and 600M-parameter models trained
on a fixed number of tokens with a warmup + cosine baseline and Seesaw ramps. Its code counts
*tokens* and grows the batch by accumulation, which changes the step counts slightly from the
idealised ramp of tutorial 3. ramplab replays that bookkeeping exactly ("token mode"), so the
released step counts can be checked, and any Seesaw schedule can be exported for your own trainer.
"""

# %%
import csv
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ramplab.interop import batch_sizes, optax_schedule, torch_momentum, torch_scheduler
from ramplab.theory import WarmupCosine, released_grid, released_seesaw_run, seesaw_schedule

QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in ("", "0")
tokens = 3.3e8 if QUICK else 3.3e9  # the 150M model's budget is 3.3e9 tokens

# %%
# The released grid's step counts
# -------------------------------
# :func:`~ramplab.theory.released_grid` replays every released configuration
# (model size, initial batch :math:`B_0` in sequences of 1024 tokens) for Seesaw and its cosine
# baseline; the reduction in serial steps is close to the idealised 38.4 % of tutorial 3 at
# :math:`f=1.1` (:doc:`/math`, "Reference-compatible token mode").
print(f"{'model':>6} {'B0':>5} {'cosine steps':>13} {'Seesaw steps':>13} {'reduction':>10} {'final batch':>12}")
for row in released_grid():
    if row["group"] == "main":
        print(f"{row['model']:>6} {row['initial_batch']:>5} {row['baseline_steps']:>13} {row['steps']:>13} "
              f"{100 * row['reduction']:>9.1f}% {row['final_batch']:>12}")

# %%
# One run, step by step
# ---------------------
# :func:`~ramplab.theory.released_seesaw_run` returns the per-step batch (in
# sequences) and learning rate (relative to the peak) of one run; with ``batch_factor=1`` and
# ``lr_factor=1`` it is the cosine baseline.
seesaw = released_seesaw_run(tokens, 1024, 256)
cosine = released_seesaw_run(tokens, 1024, 256, batch_factor=1.0, lr_factor=1.0)
fig, (ax_lr, ax_b) = plt.subplots(1, 2, figsize=(10, 3.8))
for run, label in ((cosine, "cosine baseline"), (seesaw, "Seesaw")):
    ax_lr.plot(run.tokens_before, run.lr, label=f"{label}: {run.steps} steps")
    ax_b.plot(run.tokens_before, run.batch, label=label)
ax_lr.set(xlabel="tokens", ylabel="learning rate / peak", title="Learning rate")
ax_b.set(xlabel="tokens", ylabel="batch (sequences)", title="Batch size")
ax_lr.legend()
fig.tight_layout()
print(f"{seesaw.steps} vs {cosine.steps} steps: −{100 * seesaw.reduction_vs(cosine):.1f} % serial steps, "
      f"{seesaw.milestones_consumed} batch increases, final batch {int(seesaw.batch[-1])} sequences")

# %%
# Export a schedule for your own trainer
# --------------------------------------
# A schedule is two per-step arrays, the learning rate and the batch size, so any trainer can
# follow it. Here a Seesaw ramp of a warmup + cosine base is built in *samples* (sequences), then
# written as CSV: one row per optimizer step. In a training loop, read the row of step ``t``, set
# the optimizer's learning rate to ``lr`` and accumulate ``batch`` sequences before stepping.
peak_lr, initial_batch, total_sequences = 3e-3, 256, int(tokens / 1024)
schedule = seesaw_schedule(WarmupCosine(peak_lr, total_sequences), initial_batch, 1.1, rounding="floor")
lr, batch = schedule.step_arrays()
out = Path(tempfile.mkdtemp()) / "seesaw_schedule.csv"
with out.open("w", newline="") as fh:
    writer = csv.writer(fh)
    writer.writerow(["step", "lr", "batch_sequences", "sequences_before"])
    before = np.concatenate([[0], np.cumsum(batch)[:-1]])
    writer.writerows(zip(range(lr.size), lr.tolist(), batch.astype(int).tolist(), before.astype(int).tolist()))
print(f"wrote {lr.size} steps to {out.name}; first rows:")
print("".join(out.read_text().splitlines(keepends=True)[:4]), end="")
print(f"batch grows {int(batch[0])} → {int(batch[-2])}, as in the released run; the last step takes the "
      f"{int(batch[-1])} sequences left over, so that {int(batch.sum())} sequences are used in all "
      f"(asked {total_sequences})")

# %%
# Hand the schedule to PyTorch and optax
# --------------------------------------
# :mod:`ramplab.interop` does the same without a file. :func:`~ramplab.interop.torch_scheduler`
# wraps a real ``torch.optim`` optimizer in a ``LambdaLR`` whose rate after ``k`` calls of
# ``scheduler.step()`` is ``schedule.lr[k]``; :func:`~ramplab.interop.batch_sizes` gives the data
# sampler the integer batch of every step; :func:`~ramplab.interop.optax_schedule` is a pure,
# jit-compatible function of optax's step count. PyTorch and JAX are optional (the ``interop``
# extra), so the script only notes their absence.
sizes = batch_sizes(schedule)
first_increase = int(np.argmax(sizes != sizes[0]))
print(f"batch_sizes: {sizes[:3].tolist()} ... first increase at step {first_increase}: "
      f"{sizes[first_increase - 1]} → {sizes[first_increase]} sequences")
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: pip install 'ramplab[interop]' to run this part")
if torch is not None:
    model = torch.nn.Linear(4, 1, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)
    scheduler = torch_scheduler(schedule, optimizer)
    watch = {0, 1, 2, first_increase - 1, first_increase}
    for step in range(first_increase + 1):
        if step in watch:  # the rate this step will use, read back from torch itself
            print(f"  torch step {step:4d}: param_groups lr = {optimizer.param_groups[0]['lr']:.6g}, "
                  f"schedule.lr = {lr[step]:.6g}, batch {sizes[step]}")
        x = torch.randn(int(sizes[step]), 4, dtype=torch.float64)
        optimizer.zero_grad()
        model(x).pow(2).mean().backward()
        optimizer.step()
        scheduler.step()
try:
    import optax  # noqa: F401  (the schedule itself needs only jax.numpy)
except ImportError:
    print("optax/JAX are not installed: pip install 'ramplab[interop]' to run this part")
else:
    rate = optax_schedule(schedule)
    print("optax schedule at steps 0, 1, first increase:",
          [f"{float(rate(k)):.6g}" for k in (0, 1, first_increase)], "(float32 unless jax_enable_x64)")

# %%
# Momentum: what torch actually runs
# ----------------------------------
# ``torch.optim.SGD(momentum=μ)`` keeps a buffer :math:`b_t=\mu b_{t-1}+g_t` and steps
# :math:`w_t=w_{t-1}-\eta_t b_t`. Written as heavy ball,
# :math:`w_t=w_{t-1}-\eta_t g_t+\mu_t(w_{t-1}-w_{t-2})` with :math:`\mu_t=\mu\,\eta_t/\eta_{t-1}`:
# under a changing rate the effective momentum is *not* μ. It grows during warmup and drops at
# every Seesaw rate cut. :func:`~ramplab.interop.torch_momentum` returns these :math:`\mu_t`, ready
# for ``simulate(..., HeavyBall(mu_t))`` and the exact momentum solver
# ``expected_risk(..., HeavyBall(mu_t))`` (:doc:`/math`, "Schedules in PyTorch and optax; torch's momentum as heavy ball").
mu_t = torch_momentum(schedule, 0.9)
cuts = np.flatnonzero(mu_t < 0.9 - 1e-9)
print(f"μ_t: {mu_t[1]:.4f} early in warmup, {mu_t[lr.size // 2]:.4f} mid-run, "
      f"{mu_t[cuts[0]]:.4f} at the first Seesaw cut (step {cuts[0]})" if cuts.size else f"μ_t: {mu_t[:3]}")

# %%
# What to try next
# ----------------
# - ``released_seesaw_run(..., batch_factor=2.0, lr_factor=2 ** -0.5, milestone_factor=0.5)``: a
#   coarser ramp (:math:`f=2`). How many steps does it save, and how does it compare with
#   ``seesaw_step_reduction(WarmupCosine(1, 1), 2.0)``?
# - Feed the exported schedule to the exact solver (tutorial 3) at a small scale, under
#   ``"nsgd"``, before you spend a GPU-week on it.
# - The ``rounding=`` argument of ``seesaw_schedule`` decides how fractional batches become whole
#   sequences; compare ``"floor"`` and ``"exact"``.
# - Run ``expected_risk`` on a small problem with ``HeavyBall(torch_momentum(schedule, 0.9))`` and
#   with a constant 0.9: how much does torch's rate-scaled momentum change the risk after a cut?
# - Next: :doc:`07_the_optimal_ramp`.
