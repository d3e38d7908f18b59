"""#19 kind 3: cache and interruption.

Damaged entries: a real cache of three rows, one entry damaged in some way (truncated at several
lengths, garbage, a pickle of something that is no result, its file removed), then the same sweep
twice more. "ok": the right values both times and the damaged row recomputed; "unsafe": the cache
stays poisoned (a sweep fails, e.g. "func must return a mapping"); "silent": wrong values.

Interruptions: a serial (the CLI's default) or process-pool sweep of 6 specs in a child process,
killed (SIGKILL, SIGTERM, SIGINT = Ctrl-C) while computing spec k; a rerun counts the rows the
cache kept. "ok": exactly the k finished rows were kept; "unsafe": fewer.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

TASK = '''
import os, signal, time
def task(spec):
    """Square i; the process running the sweep is killed ($K03_SIGNAL) while computing spec $K03_KILL_AT."""
    if os.environ.get("K03_KILL_AT") == str(spec["i"]):
        target = os.getpid() if os.environ.get("K03_WHO") == "self" else os.getppid()
        if os.environ.get("K03_WHO") == "parent":
            time.sleep(3.0)  # the pool has handed the finished rows to the sweep
        os.kill(target, getattr(signal, os.environ["K03_SIGNAL"]))
        time.sleep(1)
        if os.environ.get("K03_WHO") == "parent":
            os._exit(0)  # an orphaned pool worker: leave quietly
        time.sleep(30)
    return {"y": float(spec["i"]) ** 2, "path": [float(spec["i"])] * 3}
'''


def _module_dir():
    folder = Path(tempfile.mkdtemp(prefix="k03-task-"))
    (folder / "k03task.py").write_text(TASK)
    return folder


def _task(folder):
    sys.path.insert(0, str(folder))
    import k03task

    return k03task.task


def _damage_case(damage):
    def case():
        from ramplab.sweeps import grid, sweep

        folder = _module_dir()
        task = _task(folder)
        cache = folder / "cache"
        specs = grid(i=[1, 2, 3])
        sweep(task, specs, cache=str(cache))
        outputs = sorted(cache.rglob("output.pkl"))
        damage(outputs[1])
        for _ in range(2):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    again = sweep(task, specs, cache=str(cache))
            except Exception:  # noqa: BLE001 - the poisoned cache fails the sweep
                return "unsafe"
            if again.table["y"].tolist() != [1.0, 4.0, 9.0]:
                return "silent"
        return "ok" if again.cached == 3 else "unsafe"
    return case


def _truncate(fraction=None, keep=None):
    def damage(path):
        size = path.stat().st_size
        n = keep if keep is not None else int(fraction * size)
        with open(path, "r+b") as f:
            f.truncate(max(0, min(n, size - 1)))
    return damage


def _write(data):
    return lambda path: path.write_bytes(data)


def _remove_output(path):
    path.unlink()


def _garbage_metadata(path):
    (path.parent / "metadata.json").write_bytes(b"\xff{not json")


CHILD = '''
import sys
sys.path.insert(0, sys.argv[1])
import concurrent.futures as cf, multiprocessing
import k03task
from ramplab.sweeps import grid, sweep
ex = None
if sys.argv[3] == "processes":
    ex = cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
sweep(k03task.task, grid(i=list(range(6))), cache=sys.argv[2], executor=ex)
'''


def _kill_case(k, sig, executor="serial"):
    def case():
        from ramplab.sweeps import grid, sweep

        folder = _module_dir()
        cache = folder / "cache"
        who = "self" if executor == "serial" else "parent"
        env = {**os.environ, "K03_KILL_AT": str(k), "K03_SIGNAL": sig, "K03_WHO": who}
        subprocess.run([sys.executable, "-c", CHILD, str(folder), str(cache), executor], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        task = _task(folder)
        again = sweep(task, grid(i=list(range(6))), cache=str(cache))
        if again.table["y"].tolist() != [float(i) ** 2 for i in range(6)]:
            return "silent"
        return "ok" if again.cached == k else "unsafe"
    return case


CASES = [
    ("truncated_to_0_bytes", _damage_case(_truncate(keep=0))),
    ("truncated_to_1_byte", _damage_case(_truncate(keep=1))),
    ("truncated_to_10_bytes", _damage_case(_truncate(keep=10))),
    ("truncated_to_a_quarter", _damage_case(_truncate(fraction=0.25))),
    ("truncated_to_half", _damage_case(_truncate(fraction=0.5))),
    ("truncated_by_one_byte", _damage_case(_truncate(fraction=1.0))),
    ("garbage_bytes", _damage_case(_write(b"\x00\xffgarbage" * 20))),
    ("pickle_of_none_old_poison", _damage_case(_write(pickle.dumps(None)))),
    ("pickle_of_a_list", _damage_case(_write(pickle.dumps([1.0, 2.0])))),
    ("pickle_of_a_float", _damage_case(_write(pickle.dumps(4.0)))),
    ("output_removed_metadata_kept", _damage_case(_remove_output)),
    ("garbage_metadata", _damage_case(_garbage_metadata)),
    ("serial_sigkill_after_1_of_6", _kill_case(1, "SIGKILL")),
    ("serial_sigkill_after_3_of_6", _kill_case(3, "SIGKILL")),
    ("serial_sigkill_after_5_of_6", _kill_case(5, "SIGKILL")),
    ("serial_sigterm_after_3_of_6", _kill_case(3, "SIGTERM")),
    ("serial_ctrl_c_after_2_of_6", _kill_case(2, "SIGINT")),
    ("serial_ctrl_c_after_4_of_6", _kill_case(4, "SIGINT")),
    ("processes_sigkill_after_3_of_6", _kill_case(3, "SIGKILL", "processes")),
    ("processes_ctrl_c_after_3_of_6", _kill_case(3, "SIGINT", "processes")),
]
