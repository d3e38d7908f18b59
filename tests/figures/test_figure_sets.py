"""A figure's four files change as a unit (#19 kind 4), tested for real on child ``ramplab figures`` runs.

The children (tests/figures/fake_figures_driver.py) build fake figures whose every file tells which
run wrote it; they are killed (SIGKILL, SIGTERM) after each rename of a commit and at the steps of
the ``RAMPLAB_FIGURES_FAULT`` hook, and two of them write into one folder at once. After each, every
figure's files must be all old or all new, and the next run must leave no half-written files.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from figure_sets import consistent, generations, leftovers, plant_old, run_driver  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

NAMES = ("fake_a", "fake_b")
ENV = {"FAKE_NAMES": ",".join(NAMES)}


# With two figures: renames 1-6 commit the first figure, 7-12 the second (the older layout made 4 per
# figure, 8 in all: these points tear a set there).
@pytest.mark.parametrize(("action", "after"), [("kill", k) for k in (1, 2, 3, 5, 6, 7)]
                         + [("term", k) for k in (1, 3, 6)])
def test_killed_after_any_rename_leaves_whole_sets(tmp_path, action, after):
    plant_old(tmp_path, NAMES)
    proc = run_driver(tmp_path, {**ENV, "FAKE_TAG": "1", "FAKE_FAULT": action, "FAKE_FAULT_AFTER": str(after)})
    assert proc.returncode != 2, proc.stdout + proc.stderr
    assert consistent(tmp_path, NAMES), {n: generations(tmp_path, n) for n in NAMES}


@pytest.mark.parametrize("action", ["kill", "term"])
def test_the_run_after_a_kill_completes_and_cleans_up(tmp_path, action):
    plant_old(tmp_path, NAMES)
    run_driver(tmp_path, {**ENV, "FAKE_TAG": "1", "FAKE_FAULT": action, "FAKE_FAULT_AFTER": "2"})
    again = run_driver(tmp_path, {**ENV, "FAKE_TAG": "2"})
    assert again.returncode == 0, again.stdout + again.stderr
    assert all(set(generations(tmp_path, n).values()) == {"2"} for n in NAMES)
    assert leftovers(tmp_path) == []
    for name in NAMES:  # the documented paths stay readable files
        for ext in ("png", "pdf", "csv", "json"):
            path = tmp_path / f"{name}.{ext}"
            assert path.is_file() and path.stat().st_size > 0


@pytest.mark.parametrize(("step", "action"), [("staged", "kill"), ("adopted", "kill"), ("switched", "kill"),
                                             ("staged", "term"), ("switched", "term")])
def test_fault_hook_steps(tmp_path, step, action):
    plant_old(tmp_path, NAMES)
    first = run_driver(tmp_path, {**ENV, "FAKE_TAG": "1"})  # a set layout already in place
    assert first.returncode == 0, first.stdout + first.stderr
    proc = run_driver(tmp_path, {**ENV, "FAKE_TAG": "2", "RAMPLAB_FIGURES_FAULT": f"{step}:{action}"})
    assert proc.returncode in (-signal.SIGKILL, 143, -signal.SIGTERM), proc.stdout + proc.stderr
    assert consistent(tmp_path, NAMES), {n: generations(tmp_path, n) for n in NAMES}
    if action == "term":  # SIGTERM ends the run like Ctrl-C: it removes its own half-written files
        assert leftovers(tmp_path) == []
    again = run_driver(tmp_path, {**ENV, "FAKE_TAG": "1"})
    assert again.returncode == 0 and leftovers(tmp_path) == []


def test_orphans_of_a_killed_run_are_removed(tmp_path):
    plant_old(tmp_path, NAMES)
    proc = run_driver(tmp_path, {**ENV, "FAKE_TAG": "1", "FAKE_FAULT": "kill", "FAKE_FAULT_AFTER": "1"})
    assert proc.returncode == -signal.SIGKILL
    (tmp_path / ".fake_a.png.0123abcd.part").write_bytes(b"half")  # what older versions left
    again = run_driver(tmp_path, {**ENV, "FAKE_TAG": "2", "FAKE_NAMES": "fake_b"})
    assert again.returncode == 0, again.stdout + again.stderr
    assert leftovers(tmp_path) == []
    assert consistent(tmp_path, NAMES)


def test_two_writers_into_one_folder(tmp_path):
    # The first writer moves one file, then holds still until the second has moved one too (at most
    # 20 s): without a folder lock their moves interleave; with it the second waits for the first.
    plant_old(tmp_path, NAMES)
    mark_a = tmp_path.parent / f"{tmp_path.name}-a-is-moving"
    mark_b = tmp_path.parent / f"{tmp_path.name}-b-is-moving"
    a = run_driver(tmp_path, {**ENV, "FAKE_TAG": "1", "FAKE_MARK": str(mark_a), "FAKE_WAIT_FOR": str(mark_b)},
                   wait=False)
    deadline = time.monotonic() + 240  # a hang bound, not a timing assertion
    while not mark_a.exists() and a.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    b = run_driver(tmp_path, {**ENV, "FAKE_TAG": "2", "FAKE_MARK": str(mark_b)}, wait=False)
    outs = [p.communicate(timeout=240)[0] for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, outs
    assert consistent(tmp_path, NAMES), {n: generations(tmp_path, n) for n in NAMES}
    # one run's figures, not a mix: the runs did not interleave
    assert len({generations(tmp_path, n)["csv"] for n in NAMES}) == 1, {n: generations(tmp_path, n) for n in NAMES}
    assert leftovers(tmp_path) == []
