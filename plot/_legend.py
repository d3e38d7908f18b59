"""A legend that covers no data: the first empty corner of the axes, else outside on the right."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.legend import Legend

from ..theory._validate import finite_real

__all__ = ["covered_points", "place_legend"]

#: Inside locations tried, in order, before the legend goes outside the axes.
_INSIDE = ("upper right", "upper left", "lower left", "lower right", "center right", "center left",
           "upper center", "lower center")
_STEP_PX = 2.0


def _densify(xy: np.ndarray) -> np.ndarray:
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if len(xy) < 2:
        return xy
    gaps = np.hypot(*(xy[1:] - xy[:-1]).T)
    counts = np.clip(np.ceil(gaps / _STEP_PX), 1, 2000).astype(int)
    seg = np.repeat(np.arange(len(gaps)), counts)
    t = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 1) / np.repeat(counts, counts)
    return np.concatenate([xy[:1], xy[seg] + t[:, None] * (xy[seg + 1] - xy[seg])])


def _display_points(ax: Axes) -> np.ndarray:
    """Display coordinates of the drawn data of ``ax`` (line vertices and points along their
    segments, scatter offsets) that lie inside the axes."""
    pieces = [np.empty((0, 2))]
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
        drawn = line.get_linestyle() not in ("None", "none", "", " ") and line.get_linewidth() > 0
        pieces.append(_densify(xy) if drawn else xy[np.all(np.isfinite(xy), axis=1)])
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible():
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if offsets.size:
                xy = coll.get_offset_transform().transform(offsets)
                pieces.append(xy[np.all(np.isfinite(xy), axis=1)])
    points = np.concatenate(pieces)
    box = ax.get_window_extent()
    keep = (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
    return points[keep]


def covered_points(ax: Axes, legend: Legend | None = None, *, margin: float = 2.0) -> int:
    """How many plotted points of ``ax`` a legend covers, in display coordinates.

    The points are the vertices of the axes' lines, points every 2 pixels along their drawn
    segments and the offsets of scatter collections, kept where they lie inside the axes; a point
    is covered when it lies inside the legend's box less ``margin`` pixels on each side, as the
    figure is laid out now (call it after ``tight_layout``).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes whose data are checked.
    legend : matplotlib.legend.Legend, optional
        The legend; by default the legend of ``ax``.
    margin : float, default 2.0
        Pixels taken off each side of the legend's box (its frame's edge covers nothing).

    Returns
    -------
    int
        The number of covered points (0 without a legend).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [1, 1], label="top"); _ = ax.set_ylim(0, 1.05)
    >>> _ = ax.legend(loc="upper center")
    >>> covered_points(ax) > 0
    True
    >>> plt.close(fig)
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes; got {type(ax).__name__}")
    margin = finite_real(margin, "margin", minimum=0.0)
    legend = ax.get_legend() if legend is None else legend
    if legend is None or not legend.get_visible():
        return 0
    ax.get_xlim(), ax.get_ylim()  # settles pending autoscaling, so the transforms are final
    points = _display_points(ax)
    box = legend.get_window_extent()
    inside = ((points[:, 0] > box.x0 + margin) & (points[:, 0] < box.x1 - margin)
              & (points[:, 1] > box.y0 + margin) & (points[:, 1] < box.y1 - margin))
    return int(np.count_nonzero(inside))


def place_legend(ax: Axes, *, outside: str = "right", **kwargs: Any) -> Legend:
    """Put the legend of ``ax`` where it covers none of the plotted points.

    The inside corners and edges are tried in turn (upper right, upper left, lower left, lower
    right, center right, center left, upper center, lower center); the first where
    :func:`covered_points` is 0 is kept. If every one covers data, the legend goes outside the
    axes (on the right, or below). Call it after the data are drawn and after the axes' limits are
    set; ``fig.tight_layout()`` afterwards keeps an outside legend in the figure.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes (with labelled artists).
    outside : {"right", "below"}, default "right"
        Where the legend goes when no inside place is free.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.legend` (``fontsize``, ``ncol``, ``title``, …;
        not ``loc`` or ``bbox_to_anchor``, which this function chooses).

    Returns
    -------
    matplotlib.legend.Legend

    Raises
    ------
    ValueError
        For an unknown ``outside``, or ``loc``/``bbox_to_anchor`` in ``kwargs`` (named).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> fig, ax = plt.subplots()
    >>> x = np.linspace(0, 1, 50)
    >>> _ = ax.plot(x, x, label="rising")        # covers the upper-left and lower-right corners? no:
    >>> _ = ax.plot(x, 1 - x, label="falling")   # together the lines cross every corner
    >>> legend = place_legend(ax)
    >>> covered_points(ax)
    0
    >>> plt.close(fig)
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes; got {type(ax).__name__}")
    if not isinstance(outside, str) or outside not in ("right", "below"):
        raise ValueError(f"outside must be 'right' or 'below'; got {outside!r}")
    for key in ("loc", "bbox_to_anchor"):
        if key in kwargs:
            raise ValueError(f"{key}: place_legend chooses the legend's place; do not pass {key}")
    for loc in _INSIDE:
        legend = ax.legend(loc=loc, **kwargs)
        if covered_points(ax, legend) == 0:
            return legend
    if outside == "right":
        return ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), **kwargs)
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), **kwargs)
