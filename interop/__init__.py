"""Schedules for real trainers: PyTorch LR schedulers, optax schedules, batch sizes, torch's momentum.

(docs/math.md#torch-interop.) ``ramplab.interop`` hands any :class:`~ramplab.theory.Schedule`
(cosine, a Seesaw ramp, a growth schedule, ...) to a training loop:

- :func:`torch_scheduler` — a ``LambdaLR`` that gives a real ``torch.optim`` optimizer the
  schedule's rate at every step;
- :func:`optax_schedule` — a pure, jit-compatible function of optax's step count;
- :func:`batch_sizes` — the integer batch of every step, for the data sampler;
- :func:`torch_momentum` — ``torch.optim.SGD(momentum=μ)`` is heavy ball with ``μ_t = μ η_t/η_{t−1}``:
  the per-step ``μ_t`` for ``simulate(..., HeavyBall(μ_t))`` and the exact momentum solver;
- :func:`learning_rate_at` — the rate of any step, without a framework.

PyTorch and JAX/optax are optional (the ``interop`` extra) and imported only when needed.
"""

from .frameworks import INSTALL_HINT, optax_schedule, torch_scheduler
from .steps import batch_sizes, learning_rate_at, torch_momentum

__all__ = ["INSTALL_HINT", "batch_sizes", "learning_rate_at", "optax_schedule", "torch_momentum", "torch_scheduler"]
