"""Smoke test of the full-scale figure at CI size: files, one CSV series per curve, JSON parameters,
and one plotted curve against an independent plain NumPy loop."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.benchmarks.exact_solver import naive_averaged_risk
from ramplab.figures.full_scale_curves import M_FRACTIONS, QUICK_D, QUICK_STEPS
from ramplab.theory import Problem


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure("full_scale_curves", tmp_path_factory.mktemp("fig"))


def test_files_and_series(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"full_scale_curves.{ext}").stat().st_size > 0
    assert summary["problem"]["d"] == QUICK_D and summary["steps"] == QUICK_STEPS
    series = {(r["a"], r["b"], r["family"], r["m_fraction"]) for r in rows}
    assert len(series) == 6 * 2 * len(M_FRACTIONS)
    assert len(rows) == len(series) * summary["plotted_steps"]
    assert len(summary["final_averaged_risk"]) == len(series)
    for a_key, info in summary["m_chosen"].items():
        assert 0 < info["m"]["0.001"] < info["m"]["0.9"] < info["m_max"]
    assert all(np.isfinite(float(r["averaged_risk"])) and float(r["averaged_risk"]) > 0 for r in rows)
    if summary["compress_rtol"] is None:
        assert summary["compression_estimate"] is None


def test_a_plotted_curve_matches_a_plain_loop(built):
    _, summary, rows = built
    a, b, frac = 1.5, 3.0, 0.9
    mine = [r for r in rows if float(r["a"]) == a and float(r["b"]) == b and r["family"] == "m/(trH sqrt t)"
            and float(r["m_fraction"]) == frac]
    steps = np.array([int(r["step"]) for r in mine])
    plotted = np.array([float(r["averaged_risk"]) for r in mine])
    problem = Problem.power_law(QUICK_D, a=a, b=b, noise_variance=0.01)
    m = summary["m_chosen"]["a=1.5"]["m"]["0.9"]
    lr = m / problem.trace / np.sqrt(np.arange(1, QUICK_STEPS + 1))
    reference = naive_averaged_risk(problem.eigenvalues, problem.initial_second_moment, 0.01, lr[:, None])[0]
    # Uncompressed: round-off only. Compressed: within a few times the requested tolerance.
    rtol = 1e-10 if summary["compress_rtol"] is None else 10 * summary["compress_rtol"]
    np.testing.assert_allclose(plotted, reference[steps], rtol=rtol)


def test_the_figure_and_the_benchmark_share_one_workload_and_figures_do_not_import_benchmarks():
    """``ramplab.workloads`` defines the full-scale problems and schedules once; the figure and the
    exact-solver benchmark both use those objects, and no figure module imports the benchmarks."""
    import ast
    from pathlib import Path

    import ramplab.benchmarks.exact_solver as bench
    import ramplab.figures
    import ramplab.figures.full_scale_curves as figure
    import ramplab.workloads as workloads

    for name in ("FULL_SCALE_EXPONENTS", "full_scale_m", "full_scale_schedules", "averaged_risk_at",
                 "compression_estimates"):
        assert getattr(figure, name) is getattr(workloads, name)
    for name in ("FULL_SCALE_EXPONENTS", "full_scale_m", "full_scale_problem", "full_scale_schedules",
                 "largest_stable_lr", "workload_problem", "workload_lrs"):
        assert getattr(bench, name) is getattr(workloads, name)
    for path in Path(ramplab.figures.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert "benchmarks" not in (node.module or ""), f"{path.name} imports from {node.module}"
            elif isinstance(node, ast.Import):
                assert not any("benchmarks" in a.name for a in node.names), path.name
