"""Smoke test of ``ramplab bench --suite exact``: the quick run produces every row and the
implementations agree. Times are printed by the benchmark, never asserted here."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.benchmarks.cli import main
from ramplab.benchmarks.exact_solver import (
    PARTS,
    QUICK_SIZES,
    measure,
    naive_averaged_risk,
    report,
)
from ramplab.theory import Problem, Schedule, expected_risk, is_stable
from ramplab.workloads import largest_stable_lr, workload_problem


@pytest.fixture(scope="module")
def rows():
    return measure(QUICK_SIZES, full_uncompressed=True)


def _by_item(rows, item):
    return [r for r in rows if r.item == item]


def test_every_part_produces_its_rows(rows):
    parts = [r.part for r in rows]
    for d, steps in QUICK_SIZES.workloads:
        # 15 rows, 18 with JAX (its CPU-time ratios); 4 of them (5 with JAX) for the default reduce="auto"
        assert sum(p.startswith("(") and f"d={d}, {steps} steps" in p for p in parts) in (15, 18)
    for item in ("NumPy triad a = b + s*c", "NumPy copy a = b", "solver effective bandwidth"):
        (row,) = _by_item(rows, item)
        assert row.value > 0 and np.isfinite(row.value)
    assert any(p.startswith("full scale") for p in parts)
    assert any(p.startswith("memory") for p in parts)
    assert _by_item(rows, "uncompressed")[0].value > 0  # --full-uncompressed ran
    text = report(rows)
    for row in rows:
        assert row.item in text


def test_implementations_agree(rows):
    naive = _by_item(rows, "max rel diff naive vs ramplab")
    assert len(naive) == 2 and all(r.value <= 1e-12 for r in naive)
    for r in _by_item(rows, "max rel diff JAX vs ramplab"):
        if r.value is None:
            assert "pip install 'ramplab[bench]'" in r.note or "jax" in r.note
        else:
            assert r.value <= 1e-12
    reduced = _by_item(rows, "max rel diff JAX vs reduce=True")  # against JAX, or the unreduced solver without it
    assert len(reduced) == 2 and all(r.value <= 1e-12 for r in reduced)
    auto = _by_item(rows, "max rel diff JAX vs auto")  # the default, reduced or not
    assert len(auto) == 2 and all(r.value <= 1e-12 for r in auto)


def test_compressed_and_memory_rows_are_measured(rows):
    (compressed,) = _by_item(rows, "compress=0.001")
    (memory,) = [r for r in rows if r.part.startswith("memory") and r.item.startswith("time (warm)")]
    assert compressed.value > 0 and memory.value > 0


def test_naive_loop_matches_the_solver_on_a_decaying_schedule():
    # The per-step rate table path (not only constant rates), against expected_risk.
    p = Problem.power_law(30, a=1.3, b=2.0, noise_variance=0.1)
    lr = 0.4 / np.sqrt(np.arange(1, 201))
    (traj,) = expected_risk(p, [Schedule(lr, 1)], average="uniform")
    ours = naive_averaged_risk(p.eigenvalues, p.initial_second_moment, p.noise_variance, lr[:, None])[0]
    np.testing.assert_allclose(ours, traj.averaged_risk, rtol=1e-12)


def test_largest_stable_lr_is_the_stability_edge():
    p = workload_problem(500)
    top = largest_stable_lr(p)
    assert is_stable(p, top * (1 - 1e-8), 1)
    assert not is_stable(p, top * (1 + 1e-8), 1)


def test_cli_quick_prints_the_table(capsys):
    assert main(["--suite", "all", "--quick", "--parts", "memory"]) == 0
    out = capsys.readouterr().out
    assert "Exact solver benchmark" in out and "memory d=10" in out
    assert "Monte Carlo sampler cost" in out


def test_cli_rejects_unknown_part(capsys):
    with pytest.raises(SystemExit):
        main(["--suite", "exact", "--quick", "--parts", "nope"])
    assert "unknown part" in capsys.readouterr().err
    assert set(PARTS) == {"workloads", "bandwidth", "full", "memory"}


def test_full_scale_and_memory_parts_with_the_real_solver():
    """At quick sizes: the compressed full-scale curves agree with the uncompressed ones within the
    rtol the benchmark asks for, and the reported estimate is at least the true error."""
    import ramplab.benchmarks.exact_solver as bench

    rows = bench.measure(QUICK_SIZES, parts=("full", "memory"), full_uncompressed=True)
    (err,) = _by_item(rows, "max rel err compressed")
    (estimate,) = _by_item(rows, "compression error estimate")
    assert err.value is not None and estimate.value is not None
    assert err.value <= 1e-3 and err.value <= estimate.value
    memory = [r for r in rows if r.part.startswith("memory")]
    assert len(memory) == 3 and all(r.value is not None and r.value >= 0 for r in memory)
    assert _by_item(rows, "compress=0.001")[0].value > 0
