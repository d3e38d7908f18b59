"""Smoke test of the equivalence-families figure: files, CSV ↔ JSON, and the key numbers."""

from __future__ import annotations


import numpy as np
import pytest

from ramplab.theory.schedules import RELEASED_ALPHA_BETA

NAME = "equivalence_families"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure(NAME, tmp_path_factory.mktemp("fig"))


def test_files_and_numbers(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    assert np.allclose(summary["nsgd"]["pairs"], RELEASED_ALPHA_BETA)
    for opt in ("sgd", "nsgd"):
        series = sorted({r["series"] for r in rows if r["optimizer"] == opt})
        assert len(series) == 5
        for name, steps, final in zip(
            [r["series"] for r in rows if r["optimizer"] == opt and r["step"] == "1"],
            summary[opt]["serial_steps"], summary[opt]["final_risk"],
        ):
            mine = [r for r in rows if r["optimizer"] == opt and r["series"] == name]
            assert int(mine[-1]["step"]) == steps  # the last step is always drawn
            assert float(mine[-1]["risk"]) == pytest.approx(final, rel=1e-12)
            assert float(mine[-1]["samples"]) == pytest.approx(sum(summary["phase_samples"]))
    # Serial steps: phase k of D samples takes D/(B_0 β^k) steps.
    phase, b0 = summary["phase_samples"][0], summary["batch0"]
    for (alpha, beta), steps in zip(summary["sgd"]["pairs"], summary["sgd"]["serial_steps"]):
        assert steps == pytest.approx(sum(phase / (b0 * beta**k) for k in range(5)), abs=5)
    # The families hold (within the test-suite bounds) except the two pairs with α < √β.
    assert summary["sgd"]["worst_ratio"] < 2.0
    assert summary["nsgd"]["worst_ratio_within_alpha_ge_sqrt_beta"] < 1.25
    stable_worst = summary["nsgd"]["worst_ratio_within_alpha_ge_sqrt_beta"]
    assert summary["nsgd"]["ratio_to_lr_halving"][4] > stable_worst  # (1, 4) degrades
