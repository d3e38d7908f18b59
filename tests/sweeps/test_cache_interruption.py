"""Cache and interruption (#19 kind 3): a damaged entry is dropped and recomputed, never poisons the
cache; every executor stores each row as it finishes, so a killed sweep keeps the rows it finished."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from hypothesis import example, given, settings, strategies as st

from ramplab.sweeps import grid, sweep
from sweep_tasks import counted_task


def _filled(tmp: Path) -> tuple[list[dict], Path, list[Path]]:
    (tmp / "m").mkdir()
    specs = grid(i=[1, 2, 3], markers=str(tmp / "m"))
    first = sweep(counted_task, specs, cache=tmp / "c")
    assert first.computed == 3
    outputs = sorted((tmp / "c").rglob("output.pkl"))
    assert len(outputs) == 3
    return specs, tmp / "c", outputs


def _recomputed_once(specs: list[dict], cache: Path, expected: list[float]) -> None:
    with pytest.warns(UserWarning, match="damaged entry"):
        again = sweep(counted_task, specs, cache=cache)
    assert (again.computed, again.cached) == (1, 2)
    assert again.table["y"].tolist() == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # repaired: no second warning
        third = sweep(counted_task, specs, cache=cache)
    assert (third.computed, third.cached) == (0, 3)
    assert third.table["y"].tolist() == expected


@settings(max_examples=15)
@given(which=st.integers(0, 2), fraction=st.floats(0.0, 1.0, exclude_max=True))
@example(which=0, fraction=0.0)
@example(which=1, fraction=0.5)
def test_any_truncation_of_an_entry_is_dropped_and_recomputed_to_the_same_value(tmp_path_factory, which, fraction):
    tmp = tmp_path_factory.mktemp("trunc")
    specs, cache, outputs = _filled(tmp)
    size = outputs[which].stat().st_size
    with open(outputs[which], "r+b") as f:
        f.truncate(int(fraction * size))
    _recomputed_once(specs, cache, [1.0, 4.0, 9.0])


@settings(max_examples=10)
@given(garbage=st.binary(max_size=200))
@example(garbage=pickle.dumps(None))  # what an earlier ramplab stored for a truncated entry
@example(garbage=pickle.dumps([1.0]))
def test_an_entry_that_holds_garbage_or_no_mapping_is_dropped_and_recomputed(tmp_path_factory, garbage):
    tmp = tmp_path_factory.mktemp("garbage")
    specs, cache, outputs = _filled(tmp)
    outputs[2].write_bytes(garbage)
    _recomputed_once(specs, cache, [1.0, 4.0, 9.0])


# --- a sweep killed after k rows keeps k rows ------------------------------------------------------
TASKS = '''
import os, signal, time
def killing_task(spec):
    """Square ``i``; the child sweep's process kills itself (``$KILL_SIGNAL``) at spec ``$KILL_AT``."""
    if os.environ.get("KILL_AT") == str(spec["i"]):
        # Default handlers, whatever the parent ignored (a pytest-xdist worker may ignore SIGINT).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), getattr(signal, os.environ["KILL_SIGNAL"]))
        # Not signal.pause(): a signal handled between os.kill and pause() would leave pause() waiting for
        # another one forever. A sleeping loop lets Python raise KeyboardInterrupt at the next check.
        for _ in range(600):
            time.sleep(0.1)
    return {"y": float(spec["i"]) ** 2}
'''

CHILD = '''
import sys
sys.path.insert(0, sys.argv[1])
import killtasks
from ramplab.sweeps import grid, sweep
sweep(killtasks.killing_task, grid(i=list(range(6))), cache=sys.argv[2], executor=None)
'''


def _killed_sweep(tmp: Path, k: int, sig: str) -> int:
    """Run a serial sweep of 6 specs in a child killed by ``sig`` while computing spec ``k``;
    return how many rows a rerun finds in the cache."""
    (tmp / "killtasks.py").write_text(textwrap.dedent(TASKS))
    env = {**os.environ, "KILL_AT": str(k), "KILL_SIGNAL": sig}
    child = subprocess.run([sys.executable, "-c", CHILD, str(tmp), str(tmp / "c")], env=env,
                           capture_output=True, text=True, timeout=600)
    assert child.returncode != 0, child.stderr
    sys.path.insert(0, str(tmp))
    try:
        import importlib

        import killtasks

        importlib.reload(killtasks)
        again = sweep(killtasks.killing_task, grid(i=list(range(6))), cache=tmp / "c")
    finally:
        sys.path.remove(str(tmp))
        sys.modules.pop("killtasks", None)
    assert again.table["y"].tolist() == [float(i) ** 2 for i in range(6)]
    assert again.computed + again.cached == 6
    return again.cached


@settings(max_examples=4)
@given(k=st.integers(0, 5), sig=st.sampled_from(["SIGKILL", "SIGINT", "SIGTERM"]))
@example(k=3, sig="SIGKILL")  # the example: 3 of 6 rows finished, 0 were kept
@example(k=5, sig="SIGINT")  # Ctrl-C
def test_a_serial_sweep_killed_after_k_rows_keeps_k_rows(tmp_path_factory, k, sig):
    assert _killed_sweep(tmp_path_factory.mktemp("kill"), k, sig) == k


def test_a_failing_spec_stops_a_serial_sweep_after_storing_the_rows_before_it(tmp_path):
    """The serial executor stores each row before running the next: the rows finished before a
    failure are kept, and the specs after it are not run for nothing."""
    (tmp_path / "m").mkdir()
    specs = grid(i=[1, 2, 3, 4], markers=str(tmp_path / "m"))
    specs[1]["i"] = "x"  # fails inside counted_task
    with pytest.raises(ValueError):
        sweep(counted_task, specs, cache=tmp_path / "c")
    assert sorted(p.name.split("-")[1] for p in (tmp_path / "m").glob("ran-*")) == ["1", "x"]
    good = [s for s in specs if s["i"] != "x"]
    again = sweep(counted_task, good, cache=tmp_path / "c")
    assert (again.cached, again.computed) == (1, 2)
