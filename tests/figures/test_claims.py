"""Every figure says what it shows (#21 item 4): its JSON states a claim and the numbers supporting
it, its title leads with that claim, and its logarithmic axes are clipped to the data that matter."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from ramplab.figures import REGISTRY, load_all  # noqa: E402

load_all()

#: The widest a logarithmic axis may be, in decades (the adaptive figure's risk axis was 98 wide).
MAX_DECADES = 8.0


def _numbers(claim: dict) -> list[float]:
    out = []
    for key, value in claim.items():
        if key == "statement" or isinstance(value, bool):
            continue
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            if isinstance(v, (int, float)) and math.isfinite(v):
                out.append(float(v))
    return out


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_json_states_the_claim_and_its_number(name, quick_data):
    claim = quick_data(name).summary.get("claim")
    assert isinstance(claim, dict), f"{name}: no claim in the JSON summary"
    assert isinstance(claim.get("statement"), str) and len(claim["statement"]) > 20
    assert _numbers(claim), f"{name}: the claim carries no number supporting it: {claim}"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_title_states_the_claim_and_log_axes_are_clipped(name, quick_data):
    table = quick_data(name)
    fig = REGISTRY[name].draw(table)
    try:
        fig.canvas.draw()
        title = fig._suptitle.get_text() if fig._suptitle is not None else ""
        words = table.summary["claim"]["statement"].split()[1:6]  # the claim's opening, after its first word
        assert " ".join(words) in " ".join(title.split()), f"{name}: the title does not state the claim: {title!r}"
        for i, ax in enumerate(fig.axes):
            for axis, scale, (lo, hi) in (("x", ax.get_xscale(), ax.get_xlim()), ("y", ax.get_yscale(), ax.get_ylim())):
                if scale == "log":
                    decades = math.log10(hi / lo)
                    assert decades <= MAX_DECADES, f"{name}: axes {i} {axis} spans {decades:.1f} decades"
    finally:
        plt.close(fig)
