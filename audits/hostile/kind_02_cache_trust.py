"""#19 kind 2: the sweep cache trusts any pickle.

Each case builds a real cache with one sweep, then plays someone else who can write somewhere in
it (a folder or file that the group or others can write, a path owned by another user, a symbolic
link, a shared sticky folder) and plants a pickle whose loading creates a marker file. A second
sweep then reads the cache. Outcomes: "code" the planted pickle ran; "unsafe" the untrusted folder
was used without complaint; "ok" a ValueError naming the cache (or the CLI's usage error, status 2)
refused it before anything was loaded; "unclear" any other error.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path

TASK = "def task(spec):\n    return {'y': float(spec['i']) ** 2}\n"


def _task():
    folder = Path(tempfile.mkdtemp(prefix="k02-task-"))
    (folder / "k02task.py").write_text(TASK)
    sys.path.insert(0, str(folder))
    import k02task

    return k02task.task


class _Planted:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _filled(tmp):
    from ramplab.sweeps import grid, sweep

    cache = tmp / "cache"
    sweep(_task(), grid(i=[1, 2]), cache=str(cache))
    outputs = sorted(cache.rglob("output.pkl"))
    return cache, outputs


def _level(cache, output, level):
    return {"root": cache, "joblib": cache / "joblib", "function": output.parent.parent,
            "entry": output.parent, "file": output}[level]


def _read_again(cache_arg, marker):
    from ramplab.sweeps import grid, sweep

    try:
        sweep(_task(), grid(i=[1, 2]), cache=cache_arg)
    except ValueError as exc:
        if Path(marker).exists():
            return "code"
        return "ok" if "cache" in str(exc) and ("refus" in str(exc) or "trust" in str(exc)) else "unclear"
    except Exception:  # noqa: BLE001
        return "code" if Path(marker).exists() else "unclear"
    return "code" if Path(marker).exists() else "unsafe"


def _planted_case(level, change):
    def case():
        tmp = Path(tempfile.mkdtemp(prefix="k02-"))
        cache, outputs = _filled(tmp)
        marker = tmp / "planted-code-ran"
        target = _level(cache, outputs[0], level)
        outputs[0].write_bytes(pickle.dumps(_Planted(str(marker))))
        change(target)
        return _read_again(str(cache), marker)
    return case


def _chmod(bits):
    return lambda p: os.chmod(p, stat.S_IMODE(p.stat().st_mode) | bits)


def _chown_nobody(p):
    if os.geteuid() != 0:
        raise RuntimeError("needs root to give a path to another user")
    os.chown(p, 65534, -1)


def symlinked_output():
    tmp = Path(tempfile.mkdtemp(prefix="k02-"))
    cache, outputs = _filled(tmp)
    marker = tmp / "planted-code-ran"
    shared = tmp / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    (shared / "x.pkl").write_bytes(pickle.dumps(_Planted(str(marker))))
    outputs[0].unlink()
    outputs[0].symlink_to(shared / "x.pkl")
    return _read_again(str(cache), marker)


def symlinked_entry_folder():
    tmp = Path(tempfile.mkdtemp(prefix="k02-"))
    cache, outputs = _filled(tmp)
    marker = tmp / "planted-code-ran"
    entry = outputs[0].parent
    elsewhere = tmp / "elsewhere"
    os.rename(entry, elsewhere)
    (elsewhere / "output.pkl").write_bytes(pickle.dumps(_Planted(str(marker))))
    os.chmod(elsewhere, 0o777)
    entry.symlink_to(elsewhere)
    return _read_again(str(cache), marker)


def joblib_memory_world_writable():
    import joblib

    tmp = Path(tempfile.mkdtemp(prefix="k02-"))
    cache, outputs = _filled(tmp)
    marker = tmp / "planted-code-ran"
    outputs[0].write_bytes(pickle.dumps(_Planted(str(marker))))
    os.chmod(cache, 0o777)
    return _read_again(joblib.Memory(str(cache), verbose=0), marker)


def env_cache_dir_world_writable():
    """RAMPLAB_CACHE_DIR pointing at a 0777 folder with a planted entry, read through default_cache_dir."""
    from ramplab.sweeps.cache import default_cache_dir

    tmp = Path(tempfile.mkdtemp(prefix="k02-"))
    cache, outputs = _filled(tmp)
    marker = tmp / "planted-code-ran"
    outputs[1].write_bytes(pickle.dumps(_Planted(str(marker))))
    os.chmod(cache, 0o777)
    os.environ["RAMPLAB_CACHE_DIR"] = str(cache)
    return _read_again(str(default_cache_dir()), marker)


def shared_tmp_like_folder_as_cache():
    """A folder like /tmp (sticky, writable by everyone, owned by another user) as the cache."""
    tmp = Path(tempfile.mkdtemp(prefix="k02-"))
    shared = tmp / "tmp-like"
    shared.mkdir()
    if os.geteuid() == 0:
        os.chown(shared, 65534, -1)
    os.chmod(shared, 0o1777)
    return _read_again(str(shared), tmp / "never")


def _cli_case(how, mode):
    def case():
        from ramplab.figures import REGISTRY, load_all
        from ramplab.figures.cli import main
        from ramplab.figures.registry import FigureSpec

        load_all()
        built = []

        def trap(ctx):
            built.append(ctx.name)
            raise RuntimeError("trap")

        for name, spec in list(REGISTRY.items()):
            REGISTRY[name] = FigureSpec(name, spec.description, trap, spec.draw)
        tmp = Path(tempfile.mkdtemp(prefix="k02-"))
        cache = tmp / "cache"
        cache.mkdir()
        os.chmod(cache, mode)
        argv = ["--only", "sfo_critical_batch", "--quick", "--out", str(tmp / "out")]
        if how == "option":
            argv += ["--cache-dir", str(cache)]
        else:
            os.environ["RAMPLAB_CACHE_DIR"] = str(cache)
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                main(argv)
        except SystemExit as exc:
            if exc.code == 2 and str(cache) in err.getvalue() and not built:
                return "ok"
            return "unclear"
        return "unsafe" if built else "unclear"
    return case


def own_cache_under_umask_002_is_served():
    """Not hostile: the user's own cache, made under umask 002, must still be served."""
    from ramplab.sweeps import grid, sweep

    tmp = Path(tempfile.mkdtemp(prefix="k02-"))
    old = os.umask(0o002)
    try:
        sweep(_task(), grid(i=[1, 2]), cache=str(tmp / "c"))
        again = sweep(_task(), grid(i=[1, 2]), cache=str(tmp / "c"))
    except ValueError:
        return "unclear"
    finally:
        os.umask(old)
    return "ok" if again.cached == 2 else "unsafe"


CASES = []
for _level_name in ("root", "joblib", "function", "entry", "file"):
    for _bits, _who in ((stat.S_IWGRP, "group"), (stat.S_IWOTH, "others")):
        CASES.append((f"planted_{_level_name}_writable_by_{_who}", _planted_case(_level_name, _chmod(_bits))))
for _level_name in ("root", "entry", "file"):
    CASES.append((f"planted_{_level_name}_owned_by_nobody", _planted_case(_level_name, _chown_nobody)))
CASES += [
    ("planted_root_sticky_world_writable", _planted_case("root", _chmod(stat.S_IWOTH | stat.S_IWGRP | stat.S_ISVTX))),
    ("symlinked_output_into_shared_folder", symlinked_output),
    ("symlinked_entry_folder_world_writable", symlinked_entry_folder),
    ("joblib_memory_world_writable", joblib_memory_world_writable),
    ("env_cache_dir_world_writable", env_cache_dir_world_writable),
    ("shared_tmp_like_folder_as_cache", shared_tmp_like_folder_as_cache),
    ("cli_cache_dir_0777", _cli_case("option", 0o777)),
    ("cli_cache_dir_0770", _cli_case("option", 0o770)),
    ("cli_env_cache_dir_0777", _cli_case("env", 0o777)),
    ("own_cache_under_umask_002_is_served", own_cache_under_umask_002_is_served),
]
