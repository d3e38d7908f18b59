"""No legend sits over data: for every registered figure (CI size), every legend's box holds none of
the plotted points (#21 item 4).

Each figure is drawn from its quick table (the session's shared ``quick_data``), the canvas is drawn,
and each legend's window extent (display coordinates, a small margin inside its frame) is compared
with every visible plotted point of the axes it may cover: the vertices of each line, points along
its segments (a line through a legend is covered data even between two vertices), and the offsets
of scatter collections, in display coordinates, kept where they fall inside their axes. An axes
legend is checked against its own axes, a figure legend against every axes. One line per figure is
printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ramplab.figures import REGISTRY, load_all  # noqa: E402

load_all()

#: Pixels taken off each side of a legend's box: its frame's antialiased edge is not a cover.
MARGIN_PX = 2.0
#: The largest gap (pixels) between two checked points along a drawn segment.
STEP_PX = 2.0


def _densify(xy: np.ndarray) -> np.ndarray:
    """``xy`` (display coordinates of a polyline's vertices) with points every ``STEP_PX`` between them."""
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if len(xy) < 2:
        return xy
    gaps = np.hypot(*(xy[1:] - xy[:-1]).T)
    counts = np.clip(np.ceil(gaps / STEP_PX), 1, 2000).astype(int)
    seg = np.repeat(np.arange(len(gaps)), counts)
    t = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 1) / np.repeat(counts, counts)
    return np.concatenate([xy[:1], xy[seg] + t[:, None] * (xy[seg + 1] - xy[seg])])


def plotted_points(ax) -> np.ndarray:
    """The display coordinates of the data drawn in ``ax`` that lie inside it (``(n, 2)``)."""
    pieces = [np.empty((0, 2))]
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
        has_line = line.get_linestyle() not in ("None", "none", "", " ") and line.get_linewidth() > 0
        pieces.append(_densify(xy) if has_line else xy[np.all(np.isfinite(xy), axis=1)])
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible():
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if offsets.size:
                xy = coll.get_offset_transform().transform(offsets)
                pieces.append(xy[np.all(np.isfinite(xy), axis=1)])
    points = np.concatenate(pieces)
    box = ax.get_window_extent()
    inside = ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
              & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1))
    return points[inside]


def covered(legend, points: np.ndarray) -> int:
    """How many of ``points`` lie inside ``legend``'s box (less ``MARGIN_PX`` on each side)."""
    box = legend.get_window_extent()
    x0, x1, y0, y1 = box.x0 + MARGIN_PX, box.x1 - MARGIN_PX, box.y0 + MARGIN_PX, box.y1 - MARGIN_PX
    return int(np.count_nonzero((points[:, 0] > x0) & (points[:, 0] < x1)
                                & (points[:, 1] > y0) & (points[:, 1] < y1)))


def legend_report(fig) -> list[tuple[str, int, int]]:
    """``(where, points checked, points covered)`` for every legend of ``fig`` (after drawing it)."""
    fig.canvas.draw()
    report = []
    for i, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            points = plotted_points(ax)
            where = f"axes {i}" + (f" ({ax.get_title()[:30]!r})" if ax.get_title() else "")
            report.append((where, len(points), covered(legend, points)))
    for j, legend in enumerate(fig.legends):
        points = np.concatenate([plotted_points(ax) for ax in fig.axes] or [np.empty((0, 2))])
        report.append((f"figure legend {j}", len(points), covered(legend, points)))
    return report


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_no_legend_covers_plotted_points(name, quick_data):
    fig = REGISTRY[name].draw(quick_data(name))
    try:
        report = legend_report(fig)
    finally:
        plt.close(fig)
    bad = [(where, n) for where, _, n in report if n]
    checked = sum(n for _, n, _ in report)
    print(f"\n[legends] {name}: {len(report)} legend(s), {checked} points checked, "
          + ("no point covered" if not bad else "covered: " + "; ".join(f"{w}: {n} points" for w, n in bad)))
    assert not bad, f"{name}: legend over data: {bad}"


def test_the_check_sees_a_covering_legend():
    """A legend placed over a line's points is found; moved outside the axes, it is not."""
    fig, ax = plt.subplots()
    x = np.linspace(0.0, 1.0, 50)
    ax.plot(x, np.full_like(x, 0.95), label="top")
    ax.plot(x, np.full_like(x, 0.05), label="bottom")
    ax.set_ylim(0.0, 1.0)
    ax.legend(loc="upper left")
    try:
        [(_, _, n)] = legend_report(fig)
        assert n > 0
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        [(_, _, n)] = legend_report(fig)
        assert n == 0
    finally:
        plt.close(fig)
