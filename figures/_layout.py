"""The frame of a figure's ``draw``: lay the figure out with every legend clear of the data (:func:`finish`),
a row of three panels around a figure's own curves (:func:`panel_row`), and values set per epoch drawn as
steps (:func:`epoch_steps`)."""

from __future__ import annotations

import textwrap
from typing import Any, Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..plot import covered_points, place_legend
from ._table import FigureTable


def finish(fig: Figure, *legends: tuple[Axes, dict[str, Any]], claim: str | None = None, **tight: Any) -> Figure:
    """``fig.tight_layout()`` with each ``(ax, legend kwargs)`` legend placed by
    :func:`ramplab.plot.place_legend` (an empty corner, else outside the axes), re-placed while the
    layout moves (a legend inside the axes may cover data once the axes shrink).

    ``claim``: what the figure shows (its JSON's ``claim.statement``), put first in the figure's
    title, above the setting the title already states."""
    if claim:
        claim = textwrap.fill(claim[:1].upper() + claim[1:], width=max(50, int(fig.get_figwidth() * 9)))
        setting = fig._suptitle.get_text() if fig._suptitle is not None else ""
        size = fig._suptitle.get_fontsize() if fig._suptitle is not None else 11
        fig.suptitle(claim + ("\n" + setting if setting else ""), fontsize=min(size, 10.5))
    fig.tight_layout(**tight)
    for ax, kwargs in legends:
        place_legend(ax, **kwargs)
    for _ in range(3):
        fig.tight_layout(**tight)
        moved = [(ax, kwargs) for ax, kwargs in legends if covered_points(ax)]
        if not moved:
            break
        for ax, kwargs in moved:
            place_legend(ax, **kwargs)
    return fig


def panel_row(table: FigureTable, panels: Callable[[FigureTable, np.ndarray], None], setting: str, *,
              figsize: tuple[float, float] = (16, 4.8)) -> Figure:
    """Three panels side by side: ``panels(table, axes)`` draws the figure's curves into them, ``setting`` (what
    the figure runs: problem, constants, sizes) is the title, and :func:`finish` lays it out with every panel's
    legend at font size 7 and the table's ``claim.statement`` above the setting."""
    fig, axes = plt.subplots(1, 3, figsize=figsize)
    panels(table, axes)
    fig.suptitle(setting, fontsize=10)
    return finish(fig, *[(ax, dict(fontsize=7)) for ax in axes], claim=table.summary["claim"]["statement"])


def epoch_steps(ax: Axes, per_epoch: FigureTable, column: str, **style: Any) -> None:
    """The values of ``column`` set for epochs ``0 … E−1`` (rows of ``per_epoch`` with an ``epoch`` column, in
    order) as a step curve on ``[0, E]``, each value held through its epoch; ``style`` goes to ``ax.step``."""
    values = per_epoch.column(column)
    ax.step(np.append(per_epoch.column("epoch"), len(per_epoch)), np.append(values, values[-1]), where="post",
            **style)
