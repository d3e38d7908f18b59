"""#19 kind 4: a figure's files as one unit — killed writers, two writers in one folder, leftovers.

Every case runs child ``ramplab figures`` processes on fake figures (tests/figures/fake_figures_driver.py,
API of commit de6f77e only) whose every file tells which run wrote it, then checks each figure's four
files: all old or all new ("ok"), else "unsafe"; half-written files left behind after a later
successful run are "unsafe" too.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "figures"))
from figure_sets import consistent, generations, leftovers, plant_old, run_driver  # noqa: E402

NAMES = ("fake_a", "fake_b")
ENV = {"FAKE_NAMES": ",".join(NAMES)}


def _out():
    import tempfile

    return Path(tempfile.mkdtemp(prefix="kind04-")) / "out"


def _killed(action, after):
    def case():
        out = _out()
        plant_old(out, NAMES)
        proc = run_driver(out, {**ENV, "FAKE_TAG": "1", "FAKE_FAULT": action, "FAKE_FAULT_AFTER": str(after)})
        if proc.returncode == 2:
            return "unclear"
        return "ok" if consistent(out, NAMES) else "unsafe"
    return case


def _killed_on_second_write(after):
    def case():
        out = _out()
        first = run_driver(out, {**ENV, "FAKE_TAG": "1"})
        if first.returncode != 0:
            return "unclear"
        run_driver(out, {**ENV, "FAKE_TAG": "2", "FAKE_FAULT": "kill", "FAKE_FAULT_AFTER": str(after)})
        return "ok" if consistent(out, NAMES) else "unsafe"
    return case


def killed_then_rerun_leaves_no_partial_files():
    out = _out()
    plant_old(out, NAMES)
    run_driver(out, {**ENV, "FAKE_TAG": "1", "FAKE_FAULT": "kill", "FAKE_FAULT_AFTER": "1"})
    again = run_driver(out, {**ENV, "FAKE_TAG": "2", "FAKE_NAMES": "fake_b"})
    if again.returncode != 0:
        return "unclear"
    return "ok" if not leftovers(out) and consistent(out, NAMES) else "unsafe"


def planted_part_files_are_cleaned():
    out = _out()
    plant_old(out, NAMES)
    (out / ".fake_a.csv.deadbeef.part").write_text("half")
    again = run_driver(out, {**ENV, "FAKE_TAG": "2"})
    if again.returncode != 0:
        return "unclear"
    return "ok" if not leftovers(out) else "unsafe"


def _two_writers(sleep, names, only_b=None):
    def case():
        out = _out()
        plant_old(out, names)
        env = {"FAKE_NAMES": ",".join(names), "FAKE_REPLACE_SLEEP": str(sleep)}
        a = run_driver(out, {**env, "FAKE_TAG": "1"}, wait=False)
        b_env = {**env, "FAKE_TAG": "2", **({"FAKE_NAMES": only_b} if only_b else {})}
        b = run_driver(out, b_env, wait=False)
        for p in (a, b):
            p.communicate(timeout=240)
        if a.returncode != 0 or b.returncode != 0:
            return "unclear"
        if not consistent(out, names) or leftovers(out):
            return "unsafe"
        if only_b is None and len({generations(out, n)["csv"] for n in names}) != 1:
            return "unsafe"  # figures of two runs mixed in one folder
        return "ok"
    return case


def sigint_during_moves_is_held():
    out = _out()
    plant_old(out, NAMES)
    import os
    import subprocess

    code = ("import os, signal, runpy, sys; real = os.replace; n = [0]\n"
            "def r(a, b):\n"
            "    real(a, b); n[0] += 1\n"
            "    if n[0] == 2: os.kill(os.getpid(), signal.SIGINT)\n"
            "os.replace = r\n"
            f"sys.argv = ['driver', '--out', {str(out)!r}, '--workers', '1', '--no-cache']\n"
            f"runpy.run_path({str(ROOT / 'tests/figures/fake_figures_driver.py')!r}, run_name='__main__')\n")
    subprocess.run([sys.executable, "-c", code], env={**os.environ, **ENV, "FAKE_TAG": "1", "MPLBACKEND": "Agg"},
                   capture_output=True, timeout=240)
    return "ok" if consistent(out, NAMES) else "unsafe"


def failure_in_draw_keeps_old_files():
    out = _out()
    plant_old(out, NAMES)
    proc = run_driver(out, {**ENV, "FAKE_TAG": "x"})  # int("x") fails at import: nothing written
    return "ok" if consistent(out, NAMES) and proc.returncode != 0 else "unsafe"


CASES = [
    *[(f"sigkill_after_rename_{k}", _killed("kill", k)) for k in (1, 2, 3, 5, 6, 7, 9, 11)],
    *[(f"sigterm_after_rename_{k}", _killed("term", k)) for k in (1, 2, 6, 7)],
    *[(f"sigkill_second_write_after_rename_{k}", _killed_on_second_write(k)) for k in (1, 2, 3)],
    ("killed_then_rerun_leaves_no_partial_files", killed_then_rerun_leaves_no_partial_files),
    ("planted_part_files_are_cleaned", planted_part_files_are_cleaned),
    ("two_writers_slow_renames", _two_writers(0.15, NAMES)),
    ("two_writers_three_figures", _two_writers(0.05, ("fake_a", "fake_b", "fake_c"))),
    ("two_writers_overlapping_only", _two_writers(0.15, NAMES, only_b="fake_b")),
    ("sigint_during_moves_is_held", sigint_during_moves_is_held),
    ("driver_crash_before_writing_keeps_old_files", failure_in_draw_keeps_old_files),
]
