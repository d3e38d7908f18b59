"""The figure checklist, as an automated test over the figure registry: every registered figure,
rendered at CI size (``quick=True``), is inspected through matplotlib's artist tree for what a
reader would trip over (issue 10, "The figures, as a reader sees them"):

- ``titles``: every panel (an axes that is not a colorbar) has a non-empty title, unique within the
  figure; a one-panel figure may use the figure's suptitle instead;
- ``raw_tex``: no rendered text shows ``^``, ``_{``, ``{`` or ``}`` outside ``$…$`` mathtext (what
  a TeX fragment looks like when it was not written as mathtext);
- ``inside``: every visible text (titles, labels, tick labels, legend entries, annotations, table
  cells) lies inside the canvas, and inside its clip box when it is clipped;
- ``legend_contrast``: every legend entry's line, marker or patch colour differs from the legend
  box's colour by a WCAG contrast ratio of at least :data:`MIN_CONTRAST` (a white dashed line on a
  white legend box has ratio 1).

A figure's ``data`` runs once per test session (the ``quick_data`` fixture, shared with
``test_data_draw.py``) and its ``draw`` once per test process (no files written); the checks then
read the drawn figure. Cases that other branches fix are
``xfail(strict=True)``: when the fix lands the test passes, strict xfail fails, and the mark goes.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import Collection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from ramplab.figures import REGISTRY, load_all  # noqa: E402

load_all()
CHECKS = ("titles", "raw_tex", "inside", "legend_contrast")
#: Below this WCAG contrast ratio a legend entry is taken as invisible on its box (1 = same colour;
#: a 30 %-alpha tab:blue band on white is ≈ 1.5, clearly visible).
MIN_CONTRAST = 1.25
#: (figure, check) → why it fails today; each becomes ``xfail(strict=True)``. Empty: every
#: registered figure passes every check.
KNOWN: dict[tuple[str, str], str] = {}


_RENDERED: dict[str, object] = {}


def rendered(name: str, quick_data):
    """``draw(data(ctx))`` of figure ``name`` at CI size, drawn once per test process."""
    if name not in _RENDERED:
        figure = REGISTRY[name].draw(quick_data(name))
        assert figure is not None, f"{name}: draw returned no figure"
        figure.canvas.draw()
        _RENDERED[name] = figure
    return _RENDERED[name]


def panels(fig):
    return [ax for ax in fig.axes if ax.get_visible() and not hasattr(ax, "_colorbar")
            and ax.get_label() != "<colorbar>"]


def _undrawn_tick_labels(fig) -> set[int]:
    """Tick labels matplotlib keeps but does not draw (ticks outside the view limits)."""
    undrawn = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            drawn = {id(t) for t in axis._update_ticks()} if ax.axison and axis.get_visible() else set()
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if id(tick) not in drawn:
                    undrawn.update({id(tick.label1), id(tick.label2)})
    return undrawn


def visible_texts(fig):
    """Every text the reader sees: visible, non-empty, in a visible axes, drawn."""
    undrawn = _undrawn_tick_labels(fig)
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and id(t) not in undrawn \
                and (t.axes is None or t.axes.get_visible()):
            yield t


MATHTEXT = re.compile(r"(?<!\\)\$.*?(?<!\\)\$")


def raw_tex(text: str) -> list[str]:
    """The TeX-looking fragments of ``text`` outside ``$…$`` mathtext."""
    outside = MATHTEXT.sub("", text) if text.count("$") - text.count(r"\$") >= 2 else text
    return [frag for frag in ("^", "_{", "{", "}") if frag in outside]


def title_failures(fig) -> list[str]:
    axes = panels(fig)
    titles = [" ".join(filter(None, (ax.get_title("left"), ax.get_title(), ax.get_title("right")))).strip()
              for ax in axes]
    suptitle = fig._suptitle.get_text().strip() if fig._suptitle is not None else ""
    if len(axes) == 1 and not titles[0] and suptitle:
        return []
    out = [f"panel {i} has no title" for i, t in enumerate(titles) if not t]
    seen = {}
    for i, t in enumerate(titles):
        if t and t in seen:
            out.append(f"panels {seen[t]} and {i} share the title {t!r}")
        seen.setdefault(t, i)
    return out


def raw_tex_failures(fig) -> list[str]:
    return [f"{t.get_text()!r} shows {raw_tex(t.get_text())}" for t in visible_texts(fig) if raw_tex(t.get_text())]


def inside_failures(fig) -> list[str]:
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    out = []
    for t in visible_texts(fig):
        box = t.get_window_extent(renderer)
        if box.width == 0 and box.height == 0:
            continue
        if box.x0 < canvas.x0 - 1 or box.y0 < canvas.y0 - 1 or box.x1 > canvas.x1 + 1 or box.y1 > canvas.y1 + 1:
            out.append(f"{t.get_text()!r} extends outside the canvas ({box.bounds} vs {canvas.bounds})")
            continue
        clip = t.get_clip_box() if t.get_clip_on() else None
        if clip is not None and (box.x0 < clip.x0 - 1 or box.y0 < clip.y0 - 1
                                 or box.x1 > clip.x1 + 1 or box.y1 > clip.y1 + 1):
            out.append(f"{t.get_text()!r} is clipped by its axes")
    return out


def _luminance(rgb) -> float:
    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    """WCAG contrast ratio of two opaque RGB colours (1 … 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _over(colour, background) -> np.ndarray:
    rgba = np.asarray(mcolors.to_rgba(colour), dtype=float)
    return rgba[:3] * rgba[3] + np.asarray(background[:3]) * (1 - rgba[3])


def _legend_background(legend) -> np.ndarray:
    parent = legend.axes.patch.get_facecolor() if legend.axes is not None else legend.figure.get_facecolor()
    base = _over(parent, (1.0, 1.0, 1.0))
    frame = legend.get_frame()
    return _over(frame.get_facecolor(), base) if legend.get_frame_on() else base


def _handle_colours(handle, background) -> list[np.ndarray]:
    colours = []
    if isinstance(handle, Line2D):
        if handle.get_linestyle() not in ("None", "none", "", " ") and handle.get_linewidth() > 0:
            colours.append(_over(handle.get_color(), background))
        if handle.get_marker() not in (None, "None", "none", "", " "):
            for c in (handle.get_markerfacecolor(), handle.get_markeredgecolor()):
                if c is not None and not (isinstance(c, str) and c.lower() == "none"):
                    colours.append(_over(c, background))
    elif isinstance(handle, Patch):
        colours.append(_over(handle.get_facecolor(), background))
        if handle.get_linewidth() > 0:
            colours.append(_over(handle.get_edgecolor(), background))
    elif isinstance(handle, Collection):
        for c in list(handle.get_facecolor()[:1]) + (list(handle.get_edgecolor()[:1])
                                                      if np.max(handle.get_linewidth(), initial=0) > 0 else []):
            colours.append(_over(c, background))
    return colours


def legend_failures(fig) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    out = []
    for legend in legends:
        background = _legend_background(legend)
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            colours = _handle_colours(handle, background)
            if colours and max(contrast(c, background) for c in colours) < MIN_CONTRAST:
                out.append(f"legend entry {text.get_text()!r} is invisible on its box "
                           f"(contrast {max(contrast(c, background) for c in colours):.2f})")
    return out


FAILURES = {"titles": title_failures, "raw_tex": raw_tex_failures, "inside": inside_failures,
            "legend_contrast": legend_failures}


def _cases():
    for name in sorted(REGISTRY):
        for check in CHECKS:
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[(name, check)])] if (name, check) in KNOWN else []
            yield pytest.param(name, check, id=f"{name}-{check}", marks=marks)


@pytest.mark.parametrize(("name", "check"), list(_cases()))
def test_figure_checklist(name, check, quick_data):
    problems = FAILURES[check](rendered(name, quick_data))
    assert not problems, f"{name}: " + "; ".join(problems)


# The checks themselves, on figures built to fail them (so each check can fail).

def _figure(**kw):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    return fig, axes


def test_checks_catch_what_they_are_for():
    import matplotlib.pyplot as plt

    fig, (a, b) = _figure()
    a.set_title("same")
    b.set_title("same")
    a.set_xlabel("f^{−1/2}")
    a.plot([0, 1], [0, 1], "w--", label="white dashed")
    a.legend(facecolor="white")
    b.text(5.0, 0.5, "far outside", transform=b.transAxes)
    fig.canvas.draw()
    assert title_failures(fig) and raw_tex_failures(fig) and inside_failures(fig) and legend_failures(fig)
    plt.close(fig)

    fig, (a, b) = _figure()
    a.set_title("left")
    b.set_title("right")
    a.set_xlabel(r"$f^{-1/2}$")
    a.plot([0, 1], [0, 1], "k--", label="black dashed")
    a.fill_between([0, 1], [0, 0], [1, 1], color="tab:blue", alpha=0.3, label="band")
    a.legend()
    fig.tight_layout()
    fig.canvas.draw()
    assert not (title_failures(fig) or raw_tex_failures(fig) or inside_failures(fig) or legend_failures(fig))
    plt.close(fig)


def test_monte_carlo_z_score_is_undefined_without_spread(quick_data):
    """At samples = 0 every run starts at w₀: the standard error is 0 (up to rounding), so the CSV
    holds no z-score there (NaN, with the reason), and finite z-scores everywhere else."""
    rows = quick_data("monte_carlo").rows
    compared = [r for r in rows if r["exact_is_reference"]]
    start = [r for r in compared if r["samples"] == 0.0]
    rest = [r for r in compared if r["samples"] > 0.0]
    assert start and rest
    assert all(np.isnan(r["z_score"]) and "no spread" in r["z_score_note"] for r in start)
    assert all(np.isfinite(r["z_score"]) and r["z_score_note"] == "" for r in rest)
    assert max(abs(r["z_score"]) for r in rest) < 6  # |z| of a few: the band check of the figure test
