"""The last step of a figure's ``draw``: lay the figure out with every legend clear of the data."""

from __future__ import annotations

import textwrap
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..plot import covered_points, place_legend


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
