"""Smoke test of ``ramplab bench --suite kernels`` and of the section registry: the quick run produces
every row of every part, and a registered section runs from the command line. Values are printed by
the benchmark, never asserted here (only that they exist and, for the threads, agree bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.benchmarks import cli
from ramplab.benchmarks.fused_kernel import KERNEL_PARTS, QUICK_KERNEL_SIZES, measure
from ramplab.theory.dynamics import _kernels

needs_numba = pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba is not installed (the `fast` extra)")


@pytest.fixture(scope="module")
def rows():
    return measure(QUICK_KERNEL_SIZES)


@needs_numba
def test_every_kernel_part_produces_its_rows(rows):
    parts = {r.part.split(" (")[0] for r in rows}
    assert parts == set(KERNEL_PARTS)
    items = [r.item for r in rows]
    for d, _ in QUICK_KERNEL_SIZES.ideal:
        for what in ("fused kernel", "expected_risk", "plain fastmath loop", "fused speed / plain",
                     "expected_risk speed / plain"):
            assert f"d={d}: {what}" in items
    assert any(i.startswith("empty cache: ") for i in items)
    assert any(i.startswith("cache filled by the run above: ") for i in items)
    for d in QUICK_KERNEL_SIZES.residency:
        assert f"d={d}: solver / triad" in items
    for r in rows:
        if r.unit != "-" and not (r.part.startswith("threads") and r.value is None):
            assert r.value is not None and np.isfinite(r.value) and r.value > 0, r


@needs_numba
def test_two_threads_give_the_same_bits(rows):
    notes = [r.note for r in rows if r.item.endswith(": 2 threads")]
    assert all(n == "bitwise equal" for n in notes if n.startswith(("bitwise", "DIFF")))


def test_unknown_kernel_part_is_named():
    with pytest.raises(ValueError, match="parts must be among"):
        measure(parts=["nonsense"])


def test_a_registered_section_runs_from_the_command_line(capsys, monkeypatch):
    monkeypatch.setattr(cli, "SECTIONS", dict(cli.SECTIONS))
    cli.register(cli.Section("demo", "a demo section", lambda args: f"demo report quick={args.quick}"))
    with pytest.raises(ValueError, match="taken"):
        cli.register(cli.Section("demo", "again", lambda args: ""))
    assert cli.main(["--suite", "demo", "--quick"]) == 0
    assert capsys.readouterr().out.strip() == "demo report quick=True"
    assert list(cli.SECTIONS)[:3] == ["exact", "kernels", "samplers"]
