"""Smoke test of adaptive_growth: files, CSV = the rule's checks, the released variant freezes at the cap."""

from __future__ import annotations

import pytest

from ramplab.theory import AdaptiveRule, Problem

NAME = "adaptive_growth"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure(NAME, tmp_path_factory.mktemp("fig"))


def test_files_and_numbers(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    p = summary["problem"]
    problem = Problem.power_law(p["d"], a=p["a"], b=p["b"], noise_variance=p["noise_variance"], scale=p["scale"])
    rule = summary["rule"]
    for freeze in (True, False):
        run = AdaptiveRule(check_every=rule["check_every"], epsilon0=rule["epsilon0"], integer_batch=True,
                           freeze_at_cap=freeze).run(problem, summary["steps"], on_divergence="flag")
        got = [r for r in rows if r["freeze_at_cap"] == str(freeze) and r["check_step"] != ""]
        assert [int(r["check_step"]) for r in got] == run.check_steps.tolist()
        assert [float(r["gradient_norm"]) for r in got] == pytest.approx(run.gradient_norms.tolist(), rel=1e-12)
        assert [int(r["stage_after"]) for r in got] == run.stages.tolist()
        # After the checks, one row per step: the per-step curves of the middle and right panels.
        label = next(k for k, v in summary["variants"].items() if v["freeze_at_cap"] == freeze)
        per_step = [r for r in rows if r["variant"] == label and r["curve"] == "per step"]
        assert [int(r["step"]) for r in per_step] == list(range(1, summary["steps"] + 1))
        assert [float(r["risk"]) for r in per_step] == pytest.approx(run.risk[1:].tolist(), rel=1e-12)
    released = summary["variants"]["released: freeze at the cap"]
    free = summary["variants"]["never freeze (not released)"]
    assert released["final_batch"] == 4096 and released["final_lr"] == pytest.approx(0.1 * 1.4**9)
    assert released["stage_batches"] == [8.0 * 2**m for m in range(10)]
    assert free["final_lr"] > released["final_lr"] and float(free["final_risk"]) > 1e3 * released["final_risk"]
    # The never-freezing variant diverges by the solver's one rule (docs/math.md#divergence), flagged.
    assert released["diverged_at"] is None and free["diverged_at"] is not None


def test_the_rule_triggers_and_the_figure_says_so(built):
    """The setting is one where the released rule adapts (#21: it once never triggered), and the JSON's
    claim states the released rule's behaviour with its numbers."""
    _, summary, _ = built
    released = summary["variants"]["released: freeze at the cap"]
    assert len(released["switch_steps"]) == released["final_stage"] >= 1
    claim = summary["claim"]
    assert claim["released_switches"] == len(released["switch_steps"])
    assert "freezes" in claim["statement"] and claim["never_freeze_diverged_at"] is not None
