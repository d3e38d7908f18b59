"""Every registered figure's JSON says which paper figure it redraws and what differs (#24, "must hold"):
``paper_counterpart`` is ``"none"`` or a dict with at least ``paper``, ``figure`` and ``differs``, non-empty strings, the paper named with its
arXiv number (or saying that the repository does not record it)."""

from __future__ import annotations

import re

import pytest

from ramplab.figures import REGISTRY, load_all

load_all()


def check_counterpart(value) -> None:
    """Raise AssertionError unless ``value`` is a well-formed ``paper_counterpart``."""
    if value == "none":
        return
    assert isinstance(value, dict), f"paper_counterpart must be 'none' or a dict; got {value!r}"
    assert {"paper", "figure", "differs"} <= set(value), sorted(value)
    for key in ("paper", "figure", "differs"):
        assert isinstance(value[key], str) and len(value[key]) > 15, (key, value[key])
    # The paper by its arXiv number; or, where the repository never recorded it, a paper that says so.
    assert (re.search(r"arXiv[ :]?\d{4}\.\d{4,5}", value["paper"])
            or "arXiv number is not recorded" in value["paper"]), value["paper"]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_figure_states_its_paper_counterpart(name, quick_data):
    summary = quick_data(name).summary
    assert "paper_counterpart" in summary, f"{name}: no paper_counterpart in the JSON summary"
    check_counterpart(summary["paper_counterpart"])


def test_the_check_can_fail():
    for bad in (None, "", {"paper": "Seesaw", "figure": "Figure 1: the main runs", "differs": "x" * 20},
                {"paper": "Meterez et al., arXiv 2510.14717", "figure": "Figure 1: the main runs"}):
        with pytest.raises(AssertionError):
            check_counterpart(bad)
    check_counterpart({"paper": "Meterez et al., arXiv 2510.14717", "figure": "Figure 1: the main runs",
                       "differs": "the model is noisy linear regression"})
