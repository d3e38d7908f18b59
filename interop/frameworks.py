"""A :class:`~ramplab.theory.Schedule` as a PyTorch LR scheduler and as an optax schedule.

(docs/math.md#torch-interop.) PyTorch and JAX/optax are optional: they are imported when one of
these functions is called, and a missing one raises ImportError saying how to install it (the
``interop`` extra; PyTorch's CPU build comes from PyTorch's own CPU wheel index).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import numpy as np

from .steps import as_schedule, learning_rate_at
from ..theory._validate import describe

__all__ = ["INSTALL_HINT", "optax_schedule", "torch_scheduler"]

#: How to install what :mod:`ramplab.interop` imports lazily (also in the README).
INSTALL_HINT = (
    "install the interop extra: pip install 'ramplab[interop]'; for PyTorch's CPU-only build (about 0.2 GB "
    "instead of several GB of CUDA libraries) install torch first with "
    "pip install torch --index-url https://download.pytorch.org/whl/cpu"
)


def _require(module: str, what: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{what} needs {module.split('.')[0]}, which is not installed; {INSTALL_HINT}") from exc


def torch_scheduler(schedule: Any, optimizer: Any) -> Any:
    """A ``torch.optim.lr_scheduler.LambdaLR`` that gives ``optimizer`` the schedule's rate at every step.

    Every parameter group's base rate is set to 1 and the factor at scheduler epoch ``k`` is
    ``schedule.lr[k]`` (the last rate beyond the horizon), so after ``k`` calls of
    ``scheduler.step()`` each group's ``"lr"`` is bit for bit ``schedule.lr[k]``. Use it in the
    usual order, ``optimizer.step(); scheduler.step()``, and draw
    :func:`~ramplab.interop.batch_sizes` ``[k]`` samples for step ``k``. With
    ``torch.optim.SGD(momentum=μ)`` the run is heavy ball with ``μ_t`` of
    :func:`~ramplab.interop.torch_momentum` (docs/math.md#torch-interop).

    Parameters
    ----------
    schedule : Schedule
    optimizer : torch.optim.Optimizer
        Any torch optimizer; its groups' ``lr`` (and ``initial_lr``) are overwritten with 1.

    Returns
    -------
    torch.optim.lr_scheduler.LambdaLR

    Raises
    ------
    ImportError
        Without PyTorch (the message says how to install the CPU build).
    TypeError
        For a ``schedule`` that is not a Schedule or an ``optimizer`` that is not a torch optimizer.

    See Also
    --------
    ramplab.interop.learning_rate_at, ramplab.interop.optax_schedule

    Examples
    --------
    >>> import pytest; torch = pytest.importorskip("torch")   # the interop extra
    >>> from ramplab.theory import Schedule
    >>> w = torch.zeros(2, requires_grad=True)
    >>> opt = torch.optim.SGD([w], lr=0.0)
    >>> sched = torch_scheduler(Schedule([0.1, 0.05], [2, 4]), opt)
    >>> seen = []
    >>> for _ in range(2):
    ...     seen.append(opt.param_groups[0]["lr"])
    ...     opt.step(); sched.step()
    >>> seen
    [0.1, 0.05]
    """
    schedule = as_schedule(schedule)
    torch = _require("torch", "torch_scheduler")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer; got {describe(optimizer)}")
    segments = schedule.segments
    ends = np.cumsum(segments.steps)
    rates = [float(x) for x in segments.lr]
    last = len(rates) - 1

    def factor(epoch: int) -> float:
        return rates[min(int(np.searchsorted(ends, epoch, side="right")), last)]

    for group in optimizer.param_groups:
        group["lr"] = 1.0
        group["initial_lr"] = 1.0
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=factor)


def optax_schedule(schedule: Any) -> Callable[[Any], Any]:
    """The schedule as an optax schedule: a pure function ``step ↦ schedule.lr[step]`` (jit-compatible).

    ``step`` is optax's 0-based count of updates already applied (``optax.scale_by_schedule``,
    ``optax.inject_hyperparams``); beyond the horizon the last rate is returned. The function
    looks the step up among the schedule's constant segments (``O(K)`` memory, never one value per
    step), so it works on traced steps inside ``jax.jit``. The value has JAX's default float dtype:
    float32 unless ``jax_enable_x64`` is on, i.e. the schedule's rate rounded to float32. Steps
    are JAX integers: 0 … 2**31 - 1 without ``jax_enable_x64``; a Python int step beyond that raises
    ValueError, a traced step cannot be checked (JAX wraps or rejects it before the lookup).

    Parameters
    ----------
    schedule : Schedule

    Returns
    -------
    callable
        ``f(step) -> jax.Array`` (a scalar).

    Raises
    ------
    ImportError
        Without JAX (the message says how to install the ``interop`` extra).
    TypeError
        For a ``schedule`` that is not a Schedule.

    See Also
    --------
    ramplab.interop.learning_rate_at, ramplab.interop.torch_scheduler

    Examples
    --------
    >>> import pytest; _ = pytest.importorskip("jax")   # the interop extra
    >>> from ramplab.theory import Schedule
    >>> f = optax_schedule(Schedule([0.5, 0.25], [2, 4]))
    >>> [float(f(k)) for k in range(3)]
    [0.5, 0.25, 0.25]
    """
    schedule = as_schedule(schedule)
    jnp = _require("jax.numpy", "optax_schedule")
    segments = schedule.segments
    ends_host = np.cumsum(segments.steps)
    lr_host = np.asarray(segments.lr, dtype=np.float64)
    if lr_host.size == 1:
        rate = jnp.asarray(lr_host[0])

        def constant(step: Any) -> Any:
            return rate

        return constant
    # JAX's default integers are 32-bit unless ``jax_enable_x64`` is on, so a step is at most
    # ``imax`` (2**31 - 1 without x64). Step ``k`` lies past segment ``i`` iff ``ends[i] <= k``, i.e.
    # ``ends[i] - 1 < k``; ``ends - 1`` is clipped to ``imax``, which no representable step exceeds,
    # so an end beyond the range is never passed (and the last representable step keeps its rate).
    imax = int(np.iinfo(jnp.asarray(0).dtype).max)
    ends = jnp.asarray(np.minimum(ends_host - 1, imax))
    lr = jnp.asarray(lr_host)
    last = lr_host.size - 1

    def rate_at(step: Any) -> Any:
        if isinstance(step, (int, np.integer)) and not isinstance(step, bool) and int(step) > imax:
            raise ValueError(f"step must be at most {imax} (JAX's integer range); got {int(step)}")
        index = jnp.searchsorted(ends, jnp.asarray(step), side="left")
        return lr[jnp.minimum(index, last)]

    return rate_at
