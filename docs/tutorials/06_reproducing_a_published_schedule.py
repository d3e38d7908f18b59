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

from ramplab.theory import WarmupCosine, released_grid, released_seesaw_run, seesaw_schedule

QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in ("", "0")
tokens = 3.3e8 if QUICK else 3.3e9  # the 150M model's budget is 3.3e9 tokens

# %%
# The released grid's step counts
# -------------------------------
# :func:`~ramplab.theory.schedules.released.released_grid` replays every released configuration
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
# :func:`~ramplab.theory.schedules.released.released_seesaw_run` returns the per-step batch (in
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
# What to try next
# ----------------
# - ``released_seesaw_run(..., batch_factor=2.0, lr_factor=2 ** -0.5, milestone_factor=0.5)``: a
#   coarser ramp (:math:`f=2`). How many steps does it save, and how does it compare with
#   ``seesaw_step_reduction(WarmupCosine(1, 1), 2.0)``?
# - Feed the exported schedule to the exact solver (tutorial 3) at a small scale, under
#   ``"nsgd"``, before you spend a GPU-week on it.
# - The ``rounding=`` argument of ``seesaw_schedule`` decides how fractional batches become whole
#   sequences; compare ``"floor"`` and ``"exact"``.
