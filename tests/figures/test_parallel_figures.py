"""``ramplab figures`` builds independent figures side by side (#21 item 2), with the CSVs of a serial run."""

from __future__ import annotations

import os

import pytest

from ramplab.figures.cli import main

#: Quick figures that build in seconds: tables, exact curves, and one through the sweep API.
QUICK = ["step_reduction", "released_runs_table", "equivalence_families", "sfo_critical_batch"]


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def test_parallel_build_writes_the_serial_csvs_byte_for_byte(tmp_path, capfd):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert main(["--quick", "--no-cache", "--only", *QUICK, "--workers", "1", "--out", str(serial)]) == 0
    assert main(["--quick", "--no-cache", "--only", *QUICK, "--workers", "2", "--out", str(parallel)]) == 0
    out = capfd.readouterr().out
    assert f"[figures] {len(QUICK)} figures on 2 processes" in out  # they did run side by side
    for name in QUICK:
        assert (parallel / f"{name}.csv").read_bytes() == (serial / f"{name}.csv").read_bytes(), name
        assert out.count(f"[figures] {name}: done in") == 2
        for ext in ("png", "pdf", "json"):
            assert (parallel / f"{name}.{ext}").stat().st_size > 0


@pytest.mark.skipif(_cores() < 2, reason="needs two usable cores")
def test_default_uses_every_usable_core(tmp_path, capfd):
    assert main(["--quick", "--no-cache", "--only", "step_reduction", "released_runs_table",
                 "--out", str(tmp_path)]) == 0
    assert "[figures] 2 figures on 2 processes" in capfd.readouterr().out


def test_a_failing_figure_in_a_worker_fails_alone(tmp_path, capfd, monkeypatch):
    # a figure name that the workers cannot build (its module is not importable there): exit 1,
    # the other figure is still written
    from ramplab.figures import REGISTRY, load_all
    from ramplab.figures.registry import FigureSpec

    load_all()
    monkeypatch.setitem(REGISTRY, "only_in_parent", FigureSpec("only_in_parent", "x", lambda ctx: None,
                                                               lambda table: None))
    assert main(["--quick", "--no-cache", "--only", "only_in_parent", "step_reduction", "--workers", "2",
                 "--out", str(tmp_path)]) == 1
    captured = capfd.readouterr()
    assert "[figures] 2 figures on 2 processes" in captured.out
    assert "only_in_parent: FAILED" in captured.out
    assert (tmp_path / "step_reduction.csv").is_file() and not (tmp_path / "only_in_parent.csv").exists()
