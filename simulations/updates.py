"""One step of every run: the gradient draw, the iterate update and the averaged-iterate update.

All functions act on ``(n, d)`` arrays of errors ``e = w − w*`` in the eigenbasis, one row per run,
through the array namespace ``xp``, and never modify their arguments.

- :func:`draw_gradient` — a batch gradient per run from the chosen sampler
  (:mod:`simulations.samplers`).
- :func:`iterate_update` — ``e ← e − η_t g_t`` (SGD, and NSGD with the expected denominator, whose
  deterministic rate ``η_t/sqrt(G_t)`` the caller passes) or ``e ← e − η_t g_t/‖g_t‖`` (NSGD with
  the conditional denominator; no step when ``g_t = 0``), docs/math.md#monte-carlo.
- :func:`averaged_update` — ``ē_t = (1 − ρ_t) ē_{t−1} + ρ_t e_t``, docs/math.md#iterate-averaging.
- :class:`OptimizerStep` — the update of every optimizer of :func:`simulations.simulate`, with the
  state it carries from step to step (heavy-ball previous iterate, Adam's moments, Signum's buffer)
  and the optional rotation of the coordinates the optimizer sees,
  docs/math.md#monte-carlo-optimizers.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Sequence

from .samplers import direct_gradient, gaussian_exact_gradient
from .streams import BlockStream

__all__ = ["OptimizerStep", "averaged_update", "draw_gradient", "iterate_update"]


def draw_gradient(
    xp: ModuleType,
    sampler: str,
    streams: Sequence[BlockStream],
    scaled_error: Any,
    norm_squared: Any,
    sqrt_eigenvalues: Any,
    batch: int,
    noise_std: float,
    data: str,
) -> Any:
    """Batch gradients ``(n, d)`` of every run, from ``sampler`` (``"gaussian-exact"`` or ``"direct"``).

    Parameters
    ----------
    xp : namespace
        Array namespace of the state (``numpy``, ``cupy``, …).
    sampler : {"gaussian-exact", "direct"}
        ``"gaussian-exact"`` draws the batch gradient from its exact law given ``a`` (Gaussian data
        only); ``"direct"`` draws the ``batch`` samples (docs/math.md#monte-carlo).
    streams : sequence of BlockStream
        The runs' random streams, one per block of runs (:func:`~simulations.streams.block_streams`).
    scaled_error : array, shape (n, d)
        ``a = Λ^{1/2} e``.
    norm_squared : array, shape (n,)
        ``‖a‖²`` (used by the ``gaussian-exact`` sampler).
    sqrt_eigenvalues : array, shape (d,)
        ``Λ^{1/2}``.
    batch : int
        Samples in the step's batch.
    noise_std : float
        Label-noise standard deviation ``σ``.
    data : str
        Data law of the ``direct`` sampler.

    Returns
    -------
    array, shape (n, d)
        One mini-batch gradient per run, in the eigenbasis.

    Examples
    --------
    >>> import numpy as np
    >>> from ramplab.simulations.streams import block_streams
    >>> streams = block_streams(np.random.SeedSequence(0), 0, 2, 2, np, np.float64)
    >>> a = np.ones((2, 3))
    >>> g = draw_gradient(np, "direct", streams, a, (a * a).sum(1), np.ones(3), 4, 0.0, "gaussian")
    >>> g.shape, bool(np.all(np.isfinite(g)))
    ((2, 3), True)
    """
    if sampler == "gaussian-exact":
        return gaussian_exact_gradient(xp, streams, scaled_error, norm_squared, sqrt_eigenvalues, batch, noise_std)
    return direct_gradient(xp, streams, scaled_error, sqrt_eigenvalues, batch, noise_std, data)


def iterate_update(xp: ModuleType, error: Any, gradient: Any, rate: float, conditional: bool) -> Any:
    """The errors ``(n, d)`` after one SGD or NSGD step.

    Parameters
    ----------
    xp : namespace
    error, gradient : array, shape (n, d)
    rate : float
        The deterministic rate of the step: ``η_t`` (SGD, conditional NSGD) or ``η_t/sqrt(G_t)``
        (NSGD with the expected denominator).
    conditional : bool
        Divide each run's step by its own ``‖g_t‖`` (a zero gradient gives no step).

    Returns
    -------
    array, shape (n, d)
        ``e − η g`` or ``e − η g/‖g‖`` per run (docs/math.md#monte-carlo).

    Examples
    --------
    >>> import numpy as np
    >>> e, g = np.array([[1.0, 1.0]]), np.array([[3.0, 4.0]])
    >>> iterate_update(np, e, g, 0.5, False).tolist(), iterate_update(np, e, g, 0.5, True).tolist()
    ([[-0.5, -1.0]], [[0.7, 0.6]])
    """
    if conditional:
        norm = xp.sqrt(xp.sum(gradient * gradient, axis=1))
        scale = xp.where(norm > 0, rate / xp.where(norm > 0, norm, 1.0), 0.0)
        return error - scale[:, None] * gradient
    return error - rate * gradient


def averaged_update(averaged: Any, error: Any, weight: float) -> Any:
    """``(1 − ρ) ē + ρ e``: the averaged errors after a step with averaging weight ``ρ ∈ (0, 1]``.

    Written as the convex combination (not ``ē + ρ (e − ē)``), so that ``ρ = 1`` gives ``e``
    exactly: before a tail average starts, the "average" is bitwise the last iterate.

    Parameters
    ----------
    averaged : array, shape (n, d)
        The averaged errors ``ē`` before the step.
    error : array, shape (n, d)
        The iterate's errors ``e`` after the step.
    weight : float
        ``ρ ∈ (0, 1]`` of the step (docs/math.md#iterate-averaging).

    Returns
    -------
    array, shape (n, d)
        The averaged errors after the step.

    Examples
    --------
    >>> import numpy as np
    >>> averaged_update(np.array([[2.0]]), np.array([[4.0]]), 0.25).tolist()
    [[2.5]]
    """
    return (1.0 - weight) * averaged + weight * error


class OptimizerStep:
    """The optimizer of one chunk of runs: its state, and the errors after each step.

    Every optimizer acts on the error ``e = w − w*`` (eigenbasis, one row per run); with
    ``w_0 = 0`` the iterate is ``w = e − e_0`` (docs/math.md#monte-carlo). Per step ``t`` (1-based,
    gradient ``g_t`` drawn at ``e_{t−1}``, rate ``η_t``):

    - ``"sgd"``, ``"nsgd"``: :func:`iterate_update`.
    - ``"momentum"`` (heavy ball): ``e_t = e_{t−1} − η_t g_t + μ_t (e_{t−1} − e_{t−2})`` with
      ``e_{−1} = e_0``, so the first step has no momentum term.
    - With weight decay (``hyperparameters["decay_per_step"]``, ``u_t = η_t ω_t`` with the schedule's
      ``η_t``), SGD, NSGD and heavy ball subtract ``u_t w_{t−1}`` besides (docs/math.md#weight-decay).
    - ``"signsgd"``: ``e_t = e_{t−1} − η_t sign(m_t)``, ``m_t = μ m_{t−1} + g_t``, ``m_0 = 0``
      (``μ = 0``: SignSGD; ``μ > 0``: Signum; the sign does not see the scale of ``m``, so this
      is Signum's EMA buffer too).
    - ``"adam"``: ``m_t = β_1 m_{t−1} + (1 − β_1) g_t``, ``v_t = β_2 v_{t−1} + (1 − β_2) g_t²``,
      ``e_t = e_{t−1} − η_t [m̂_t/(sqrt(v̂_t) + ε) + λ w_{t−1}]`` with ``m̂_t = m_t/(1 − β_1^t)``,
      ``v̂_t = v_t/(1 − β_2^t)`` (AdamW's decoupled decay ``λ``; a zero denominator gives a zero
      step).

    SignSGD and Adam act coordinate-wise in the optimizer's coordinates ``θ = Qᵀ e``: with a
    rotation ``Q`` the gradient is rotated in (``Qᵀ g``) and the step rotated back (``Q``), two
    ``(n, d) × (d, d)`` products per step. SGD, NSGD and heavy ball are rotation-equivariant (their
    iterates in ``θ`` are ``Qᵀ`` times those in ``e``, draw for draw), so no rotation is applied to them.

    Parameters
    ----------
    xp : namespace
    optimizer : str
    hyperparameters : dict
        Resolved by :func:`simulations.configuration.optimizer_hyperparameters`.
    conditional : bool
        NSGD with the realised ``‖g_t‖`` as denominator.
    initial_error : array, shape (n, d)
        ``e_0`` (the decay term needs ``w = e − e_0``).
    rotation : array, shape (d, d), or None
        ``Q`` in the namespace and dtype of the state.

    Examples
    --------
    >>> import numpy as np
    >>> e0 = np.array([[1.0, -2.0]])
    >>> step = OptimizerStep(np, "signsgd", {"momentum": 0.0}, False, e0, None)
    >>> step(e0, np.array([[3.0, -0.5]]), 0.25).tolist()
    [[0.75, -1.75]]
    """

    def __init__(self, xp: ModuleType, optimizer: str, hyperparameters: dict, conditional: bool,
                 initial_error: Any, rotation: Any) -> None:
        self.xp, self.optimizer, self.conditional = xp, optimizer, conditional
        self.hyper = dict(hyperparameters)
        self.initial_error = initial_error
        self.rotation = rotation if optimizer in ("adam", "signsgd") else None
        self.rotation_t = None if self.rotation is None else self.rotation.T
        self.previous: Any = None
        self.first: Any = None
        self.second: Any = None
        self.count = 0

    def __call__(self, error: Any, gradient: Any, rate: float, momentum: float | None = None) -> Any:
        """The errors ``(n, d)`` after one step from ``error`` with gradient ``gradient`` and rate ``rate``.

        ``momentum`` is the step's heavy-ball ``μ_t`` (``optimizer="momentum"`` only).
        """
        xp = self.xp
        if self.optimizer in ("sgd", "nsgd", "momentum"):
            if self.optimizer == "momentum":
                previous = error if self.previous is None else self.previous
                self.previous = error
                mu = 0.0 if momentum is None else momentum
                out = error - rate * gradient + mu * (error - previous)
            else:
                out = iterate_update(xp, error, gradient, rate, self.conditional)
            decay = self.hyper.get("decay_per_step")
            if decay is not None:  # decoupled weight decay: w ← (1 − u_t) w − (step), w = e − e_0
                u = float(decay[self.count])
                self.count += 1
                if u != 0.0:
                    out = out - u * (error - self.initial_error)
            return out
        g = gradient if self.rotation is None else xp.matmul(gradient, self.rotation)
        if self.optimizer == "signsgd":
            mu = self.hyper["momentum"]
            if mu > 0:
                self.first = g if self.first is None else mu * self.first + g
                g = self.first
            direction = xp.sign(g)
        else:
            beta1, beta2 = self.hyper["betas"]
            eps = self.hyper["eps"]
            self.count += 1
            self.first = (1.0 - beta1) * g if self.first is None else beta1 * self.first + (1.0 - beta1) * g
            self.second = ((1.0 - beta2) * (g * g) if self.second is None
                           else beta2 * self.second + (1.0 - beta2) * (g * g))
            m_hat = self.first / (1.0 - beta1**self.count)
            v_hat = self.second / (1.0 - beta2**self.count)
            denominator = xp.sqrt(v_hat) + eps
            positive = denominator > 0
            direction = xp.where(positive, m_hat / xp.where(positive, denominator, 1.0), 0.0)
        if self.rotation is not None:
            direction = xp.matmul(direction, self.rotation_t)
        out = error - rate * direction
        decay = self.hyper.get("weight_decay", 0.0)
        if decay > 0:
            out = out - (rate * decay) * (error - self.initial_error)
        return out
