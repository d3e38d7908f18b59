"""Smoke test of the optimizer study (quick mode): the table's numbers are the plotted ones and agree
with what the figure states; the exact rows are recomputed independently."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ramplab.figures.ramp_vs_decay_by_optimizer import DECAY, PAIRS, RULES, TRACKING_FACTOR, noise_scale, setup
from ramplab.theory import expected_risk, phase_schedule


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure("ramp_vs_decay_by_optimizer", tmp_path_factory.mktemp("fig"))


def test_files_and_table(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"ramp_vs_decay_by_optimizer.{ext}").stat().st_size > 0
    cfg = setup(quick=True)
    assert {(r["optimizer"], r["rule"]) for r in rows} == set(PAIRS)
    assert len(rows) == len(PAIRS) * len(cfg["batches"])
    for r in rows:
        ratio, se = float(r["risk_ratio_ramp_over_decay"]), float(r["se"])
        ramp, decay = float(r["ramp_risk"]), float(r["decay_risk"])
        assert ratio == pytest.approx(ramp / decay, rel=1e-12)
        assert se == pytest.approx(ratio * math.hypot(float(r["ramp_se"]) / ramp, float(r["decay_se"]) / decay),
                                   rel=1e-12, abs=0.0)
        fails = ratio - 2 * se > TRACKING_FACTOR or ratio + 2 * se < 1 / TRACKING_FACTOR
        assert (r["tracks"] == "True") == (not fails)
        assert (int(r["batch"]) in summary["failures"].get(f"{r['optimizer']} ({r['rule']})", [])) == fails
        if r["exact"] == "False":
            assert se > 0 and int(r["ramp_steps"]) < int(r["decay_steps"])
    assert len(summary["statements"]) == len(PAIRS)


def test_exact_rows_recomputed(built):
    """SGD and NSGD rows against a fresh exact solve of the two members (αβ for SGD, α√β for NSGD)."""
    _, summary, rows = built
    cfg = setup(quick=True)
    p, n, phases = cfg["problem"], cfg["steps_per_phase"], cfg["phases"]
    for r in rows:
        if r["exact"] != "True":
            continue
        b0, lr0 = int(r["batch"]), float(r["lr0"])
        members = [phase_schedule(lr0, b0, *m, [float(n * b0)] * phases, integer_batch=True)
                   for m in (DECAY, RULES[r["rule"]])]
        dec, ramp = expected_risk(p, members, r["optimizer"])
        assert float(r["decay_risk"]) == pytest.approx(dec.final_risk, rel=1e-12)
        assert float(r["ramp_risk"]) == pytest.approx(ramp.final_risk, rel=1e-12)
    assert summary["gradient_noise_scale"]["at_initialisation"] == pytest.approx(
        noise_scale(p, p.initial_second_moment), rel=1e-12)


def test_noise_scale_matches_the_nsgd_mean_variance_ratio():
    """B_noise = B/μ with μ the exact solver's mean/variance ratio (docs/math.md#normalized-sgd)."""
    cfg = setup(quick=True)
    p = cfg["problem"]
    s = phase_schedule(0.01, 8, 2.0, 1.0, [64.0], integer_batch=True)
    mu0 = expected_risk(p, s, "nsgd").mean_variance_ratio[0]
    assert noise_scale(p, p.initial_second_moment) == pytest.approx(8 / mu0, rel=1e-12)
    assert np.isinf(noise_scale(p, np.zeros(p.dimension)))


def test_legend_tells_the_two_rules_apart(quick_data):
    """Each ramp rule has its own line style and marker, and its legend entry names the rule in words
    (#21: the αβ and α√β lines of one optimizer looked alike); the title counts the pairs that track."""
    import matplotlib.pyplot as plt

    from ramplab.figures import REGISTRY

    table = quick_data("ramp_vs_decay_by_optimizer")
    fig = REGISTRY["ramp_vs_decay_by_optimizer"].draw(table)
    try:
        ax = fig.axes[0]
        handles, labels = ax.get_legend_handles_labels()
        looks = {}
        for handle, label in zip(handles, labels):
            line = handle[0] if isinstance(handle, tuple) else handle.lines[0]
            rule = "α√β" if "α√β rule" in label else "αβ" if "αβ rule" in label else None
            assert rule is not None, f"legend entry {label!r} does not name its rule"
            looks.setdefault(rule, set()).add((line.get_linestyle(), line.get_marker()))
        assert len(looks["αβ"]) == len(looks["α√β"]) == 1 and looks["αβ"] != looks["α√β"]
        claim = table.summary["claim"]
        assert f"{claim['pairs_tracking']} of {claim['pairs']} pairs" in ax.get_title()
    finally:
        plt.close(fig)
