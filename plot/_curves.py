"""Risk curves (exact trajectories and Monte Carlo means with bands) and schedules, on matplotlib axes."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes

from ..theory._validate import finite_real

__all__ = ["plot_risk", "plot_schedule"]

_X = ("samples", "steps")


def _axes(ax: Axes | None, **subplots: Any) -> Axes:
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}")
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(**subplots)[1]


def _as_list(value: Any, kind: type | tuple[type, ...], name: str) -> list[Any]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ValueError(f"{name} must hold at least one item; got an empty sequence")
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise TypeError(f"{name}[{i}] must be a {names}; got {type(item).__name__}")
    return items


def plot_risk(results: Any, x: str = "samples", ax: Axes | None = None, *, bands: float = 2.0,
              labels: Sequence[str] | None = None, log: bool = True, legend: bool = True,
              **line_kwargs: Any) -> Axes:
    """Draw excess-risk curves against samples or serial steps.

    An exact :class:`~ramplab.theory.RiskTrajectory` is one line (its ``risk``); a Monte Carlo
    :class:`~ramplab.simulations.SimulationResult` is its mean (``mean_risk``) with a band of
    ``± bands`` standard errors (``stderr``). Points where the risk is not finite (a flagged
    divergence) are left out, and so is step 0 on a logarithmic ``x`` axis.

    Parameters
    ----------
    results : RiskTrajectory, SimulationResult, or a sequence of them
        The curves; a tuple from ``expected_risk(problem, [s1, s2])`` works as given.
    x : {"samples", "steps"}, default "samples"
        The horizontal axis: cumulative samples or serial steps.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.
    bands : float, default 2.0
        Half-width of the Monte Carlo bands in standard errors (0: no band).
    labels : sequence of str, optional
        One label per result; by default the schedule's label, with " (Monte Carlo)" for
        simulations.
    log : bool, default True
        Logarithmic risk axis.
    legend : bool, default True
        Add a legend where it covers no curve (:func:`place_legend`).
    **line_kwargs
        Passed to every :meth:`~matplotlib.axes.Axes.plot` call (``lw``, ``alpha``, …).

    Returns
    -------
    matplotlib.axes.Axes
        The axes: one line per result (``ax.lines``), one band per simulation (``ax.collections``).

    Raises
    ------
    TypeError, ValueError
        For a result of another type, an unknown ``x``, a negative or non-finite ``bands``, or a
        ``labels`` of the wrong length (named).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from ramplab.theory import Problem, Schedule, expected_risk
    >>> from ramplab.simulations import simulate
    >>> problem = Problem.isotropic(4, noise_variance=0.5)
    >>> schedule = Schedule.constant(0.1, 4, steps=20, label="constant")
    >>> exact = expected_risk(problem, schedule)
    >>> mc = simulate(problem, schedule, runs=64, seed=0)
    >>> ax = plot_risk([exact, mc], x="steps")
    >>> [line.get_label() for line in ax.lines], len(ax.collections)
    (['constant', 'constant (Monte Carlo)'], 1)
    >>> ax.get_xlabel(), ax.get_yscale()
    ('serial steps', 'log')
    >>> plt.close(ax.figure)
    """
    from ..simulations import SimulationResult
    from ..theory import RiskTrajectory

    items = _as_list(results, (RiskTrajectory, SimulationResult), "results")
    if not isinstance(x, str) or x not in _X:
        raise ValueError(f"x must be one of {_X}; got {x!r:.80}")
    bands = finite_real(bands, "bands", minimum=0.0)
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(items):
            raise ValueError(f"labels must hold one label per result ({len(items)}); got {len(labels)}")
    ax = _axes(ax, figsize=(6.5, 4))
    for i, item in enumerate(items):
        horizontal = np.asarray(item.samples if x == "samples" else item.steps, dtype=float)
        if isinstance(item, SimulationResult):
            mean, se = np.asarray(item.mean_risk, float), np.asarray(item.stderr, float)
            label = labels[i] if labels else f"{item.schedule.label} (Monte Carlo)"
            keep = np.isfinite(mean) & np.isfinite(se) & np.isfinite(horizontal)
            line, = ax.plot(horizontal[keep], mean[keep], label=label, **line_kwargs)
            if bands > 0:
                low = mean[keep] - bands * se[keep]
                if log:
                    low = np.maximum(low, mean[keep] * 1e-3)
                ax.fill_between(horizontal[keep], low, mean[keep] + bands * se[keep], color=line.get_color(),
                                alpha=0.2, lw=0, label=f"± {bands:g} SE")
        else:
            risk = np.asarray(item.risk, float)
            label = labels[i] if labels else item.schedule.label
            keep = np.isfinite(risk) & np.isfinite(horizontal)
            ax.plot(horizontal[keep], risk[keep], label=label, **line_kwargs)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="samples" if x == "samples" else "serial steps", ylabel="excess risk")
    if legend:
        _legend_here(ax)
    return ax


def _legend_here(ax: Axes) -> None:
    from ._legend import place_legend

    if ax.get_legend_handles_labels()[1]:
        place_legend(ax, fontsize=8)


def plot_schedule(schedules: Any, x: str = "samples", axes: Sequence[Axes] | None = None, *,
                  log: bool = True, legend: bool = True) -> tuple[Axes, Axes]:
    """Draw the learning rate and the batch size of schedules, in two panels, as step functions.

    Parameters
    ----------
    schedules : Schedule or sequence of Schedule
        The schedules (each labelled by its ``label``); drawn from their constant segments, so a
        long schedule costs no more than its segment list.
    x : {"samples", "steps"}, default "samples"
        The horizontal axis: cumulative samples at the end of each step, or the step index.
    axes : pair of matplotlib.axes.Axes, optional
        ``(ax_lr, ax_batch)``; a new figure with two panels by default.
    log : bool, default True
        Logarithmic vertical axes.
    legend : bool, default True
        A legend on the learning-rate panel, where it covers no line.

    Returns
    -------
    tuple of matplotlib.axes.Axes
        ``(ax_lr, ax_batch)``, one line per schedule in each.

    Raises
    ------
    TypeError, ValueError
        For a non-schedule, an unknown ``x`` or ``axes`` that is not a pair (named).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from ramplab.theory import Cosine, Schedule, seesaw_schedule
    >>> base = Cosine(0.5, 4000)
    >>> cosine = Schedule.from_shape(base, 8, label="cosine")
    >>> ramp = seesaw_schedule(base, 8, 2.0, label="Seesaw")
    >>> ax_lr, ax_b = plot_schedule([cosine, ramp])
    >>> [line.get_label() for line in ax_b.lines], ax_lr.get_ylabel(), ax_b.get_ylabel()
    (['cosine', 'Seesaw'], 'learning rate η', 'batch size B')
    >>> float(ax_b.lines[1].get_ydata().max()) > float(ax_b.lines[0].get_ydata().max())
    True
    >>> plt.close(ax_lr.figure)
    """
    from ..theory import Schedule

    items = _as_list(schedules, Schedule, "schedules")
    if not isinstance(x, str) or x not in _X:
        raise ValueError(f"x must be one of {_X}; got {x!r:.80}")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes = tuple(axes)
    if len(axes) != 2 or not all(isinstance(a, Axes) for a in axes):
        raise ValueError("axes must be a pair (ax_lr, ax_batch) of matplotlib Axes")
    ax_lr, ax_b = axes
    for sched in items:
        # One point per constant segment (its start) and one at the end: as cheap as the segment
        # list, whatever the number of steps.
        seg = sched.segments
        lr, batch = np.asarray(seg.lr, float), np.asarray(seg.batch, float)
        widths = np.asarray(seg.steps, float) * (batch if x == "samples" else 1.0)
        edges = np.concatenate([[0.0], np.cumsum(widths)])
        ax_lr.step(edges, np.append(lr, lr[-1]), where="post", label=sched.label)
        ax_b.step(edges, np.append(batch, batch[-1]), where="post", label=sched.label)
    xlabel = "samples" if x == "samples" else "serial steps"
    ax_lr.set(xlabel=xlabel, ylabel="learning rate η")
    ax_b.set(xlabel=xlabel, ylabel="batch size B")
    if log:
        ax_lr.set_yscale("log")
        ax_b.set_yscale("log")
    if legend:
        _legend_here(ax_lr)
    return ax_lr, ax_b
