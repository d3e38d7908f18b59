"""The full-scale figure at CI size: files, one CSV series per selected curve, the protocol in the JSON,
and one panel's 44 scores, its selection and a plotted curve against an independent plain NumPy loop."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.benchmarks.exact_solver import naive_averaged_risk
from ramplab.figures.full_scale_curves import FAMILIES, QUICK_D, QUICK_STEPS
from ramplab.theory import LR_MULTIPLIERS, Problem, sweep_checkpoints


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure("full_scale_curves", tmp_path_factory.mktemp("fig"))


def test_files_series_and_protocol(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"full_scale_curves.{ext}").stat().st_size > 0
    assert summary["problem"]["d"] == QUICK_D and summary["steps"] == QUICK_STEPS
    assert summary["problem"]["target_norm"] == 1.0
    checks = sweep_checkpoints(QUICK_STEPS).tolist()
    assert summary["protocol"]["checkpoints"] == checks and len(checks) == 8
    assert summary["protocol"]["multipliers"] == LR_MULTIPLIERS.tolist()
    assert "published" in summary["paper"] and any("quick" in d for d in summary["differs_from_paper"])
    series = {(r["a"], r["b"], r["family"]) for r in rows}
    assert len(series) == 6 * 2
    for key in series:
        mine = [r for r in rows if (r["a"], r["b"], r["family"]) == key]
        assert len({r["m"] for r in mine}) == 1
        assert [int(r["step"]) for r in mine if r["checkpoint"] == "True"] == checks
        assert all(np.isfinite(float(r["averaged_risk"])) and float(r["averaged_risk"]) > 0 for r in mine)
    for panel, per_family in summary["scores"].items():
        for label, scores in per_family.items():
            scores = np.array([float(s) for s in scores])
            chosen = summary["selection"][panel][label]
            assert scores.size == 22 and chosen["index"] == int(np.argmin(scores))
            assert chosen["m"] == LR_MULTIPLIERS[chosen["index"]] and chosen["score"] == scores.min()
            assert chosen["at_grid_edge"] == (chosen["index"] in (0, 21))


def test_one_panel_against_a_plain_loop(built):
    """Every multiplier's score of panel a = 1.5, b = 3 from an independent NumPy loop of the averaged-risk
    recursion (uncompressed, unreduced: the quick size runs the full problem, so round-off only), the
    selection by hand, and the plotted 1/√t curve."""
    _, summary, rows = built
    a, b = 1.5, 3.0
    problem = Problem.power_law(QUICK_D, a=a, b=b, noise_variance=0.01, target_norm=1.0)
    t = np.arange(1, QUICK_STEPS + 1)
    eta = LR_MULTIPLIERS / problem.trace
    lr = np.concatenate([np.tile(eta, (QUICK_STEPS, 1)), eta[None, :] / np.sqrt(t)[:, None]], axis=1)
    with np.errstate(all="ignore"):
        plain = naive_averaged_risk(problem.eigenvalues, problem.initial_second_moment, 0.01, lr)
    plain = plain.reshape(2, LR_MULTIPLIERS.size, QUICK_STEPS + 1)
    checks = sweep_checkpoints(QUICK_STEPS)
    panel = f"a={a:g}, b={b:g}"
    for f, label in enumerate(FAMILIES.values()):
        scores = np.array([float(s) for s in summary["scores"][panel][label]])
        finite = np.isfinite(scores)
        expected = plain[f][:, checks].mean(axis=1)
        np.testing.assert_allclose(scores[finite], expected[finite], rtol=1e-10)
        assert np.all(~np.isfinite(expected[~finite]) | (expected[~finite] > 1e3))   # diverged in the loop too
        k = int(np.argmin(np.where(finite, expected, np.inf)))
        assert summary["selection"][panel][label]["index"] == k
        mine = [r for r in rows if float(r["a"]) == a and float(r["b"]) == b and r["family"] == label]
        steps = np.array([int(r["step"]) for r in mine])
        np.testing.assert_allclose([float(r["averaged_risk"]) for r in mine], plain[f, k, steps], rtol=1e-10)


def test_the_figure_and_the_benchmark_share_one_workload_and_figures_do_not_import_benchmarks():
    """``ramplab.workloads`` defines the full-scale problems once; the figure and the exact-solver benchmark
    both use those objects, and no figure module imports the benchmarks."""
    import ast
    from pathlib import Path

    import ramplab.benchmarks.exact_solver as bench
    import ramplab.figures
    import ramplab.figures.full_scale_curves as figure
    import ramplab.workloads as workloads

    for name in ("FULL_SCALE_EXPONENTS", "FULL_SCALE_NOISE_VARIANCE", "full_scale_problem"):
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
