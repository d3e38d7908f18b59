"""A sweep cache is trusted code (#19 kind 2): entries are pickles, so a folder that someone else can
write into must be refused before anything in it is loaded.

A planted entry here is a pickle whose loading creates a marker file (``open(marker, "w")``): the
tests assert that the marker never appears, and that the refusal names the folder and the fix.
"""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import joblib
import pytest
from hypothesis import example, given, settings, strategies as st

from ramplab.sweeps import grid, sweep
from sweep_tasks import counted_task

POSIX = hasattr(os, "geteuid")
pytestmark = pytest.mark.skipif(not POSIX, reason="owner and mode bits are POSIX")


class _Planted:
    """Unpickling this runs ``open(marker, "w")``: stands for any command an attacker would run."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _specs(tmp: Path) -> list[dict]:
    (tmp / "m").mkdir(exist_ok=True)
    return grid(i=[1, 2], markers=str(tmp / "m"))


def _filled_cache(tmp: Path) -> tuple[Path, list[Path]]:
    """A cache folder with two real entries (made by a sweep), and the entries' output files."""
    cache = tmp / "cache"
    sweep(counted_task, _specs(tmp), cache=cache)
    outputs = sorted(cache.rglob("output.pkl"))
    assert len(outputs) == 2
    return cache, outputs


def _plant(output: Path, marker: Path) -> None:
    output.write_bytes(pickle.dumps(_Planted(str(marker))))


def _level(cache: Path, output: Path, level: str) -> Path:
    """The file or folder at ``level`` on the way from the cache folder to ``output``."""
    return {"root": cache, "joblib": cache / "joblib", "function": output.parent.parent,
            "entry": output.parent, "file": output}[level]


LEVELS = ["root", "joblib", "function", "entry", "file"]


@settings(max_examples=12)
@given(level=st.sampled_from(LEVELS), bits=st.sampled_from([stat.S_IWGRP, stat.S_IWOTH, stat.S_IWGRP | stat.S_IWOTH,
                                                              stat.S_IWOTH | stat.S_ISVTX]))
@example(level="root", bits=stat.S_IWGRP | stat.S_IWOTH)
@example(level="entry", bits=stat.S_IWGRP)
@example(level="file", bits=stat.S_IWOTH)
def test_a_planted_entry_under_a_group_or_world_writable_path_is_refused_and_never_loaded(
        tmp_path_factory, level, bits):
    tmp = tmp_path_factory.mktemp("trust")
    cache, outputs = _filled_cache(tmp)
    marker = tmp / "planted-code-ran"
    _plant(outputs[0], marker)  # as someone who can write at `level` could
    target = _level(cache, outputs[0], level)
    os.chmod(target, stat.S_IMODE(target.stat().st_mode) | bits)
    with pytest.raises(ValueError, match="cache: refusing") as info:
        sweep(counted_task, _specs(tmp), cache=cache)
    message = str(info.value)
    assert "chmod" in message and str(cache.resolve()) in message
    assert not marker.exists(), "a planted cache entry ran its code"


def test_a_cache_made_under_umask_002_is_private_and_served_but_refused_once_opened_to_the_group(tmp_path):
    """The store never makes what it refuses (joblib creates folders with the umask's mode), and a
    folder that the group can write is refused even if every entry in it is the user's own."""
    old = os.umask(0o002)
    try:
        specs = _specs(tmp_path)
        first = sweep(counted_task, specs, cache=tmp_path / "c")
        again = sweep(counted_task, specs, cache=tmp_path / "c")
    finally:
        os.umask(old)
    assert (first.computed, again.cached) == (2, 2)
    for path in [tmp_path / "c", *(tmp_path / "c").rglob("*")]:
        assert not path.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH), f"{path} is writable by others"
    os.chmod(tmp_path / "c", 0o770)
    with pytest.raises(ValueError, match="writable by group"):
        sweep(counted_task, specs, cache=tmp_path / "c")


@pytest.mark.skipif(not POSIX or os.geteuid() != 0, reason="giving a folder to another user needs root")
@pytest.mark.parametrize("level", LEVELS)
def test_a_path_owned_by_another_user_is_refused(tmp_path, level):
    cache, outputs = _filled_cache(tmp_path)
    marker = tmp_path / "planted-code-ran"
    _plant(outputs[0], marker)
    os.chown(_level(cache, outputs[0], level), 65534, -1)  # nobody
    with pytest.raises(ValueError, match="is owned by uid 65534, not by you"):
        sweep(counted_task, _specs(tmp_path), cache=cache)
    assert not marker.exists()


def test_a_symbolic_link_inside_the_cache_is_refused(tmp_path):
    cache, outputs = _filled_cache(tmp_path)
    marker = tmp_path / "planted-code-ran"
    elsewhere = tmp_path / "elsewhere.pkl"
    _plant(elsewhere, marker)
    outputs[0].unlink()
    outputs[0].symlink_to(elsewhere)
    with pytest.raises(ValueError, match="symbolic link"):
        sweep(counted_task, _specs(tmp_path), cache=cache)
    assert not marker.exists()


def test_a_world_writable_joblib_memory_and_a_sticky_shared_folder_are_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp: anyone may create entries
    with pytest.raises(ValueError, match="writable by group and others"):
        sweep(counted_task, _specs(tmp_path), cache=str(shared))
    assert list(shared.iterdir()) == []  # refused before anything was created in it
    with pytest.raises(ValueError, match="writable by group and others"):
        sweep(counted_task, _specs(tmp_path), cache=joblib.Memory(str(shared), verbose=0))


# --- the CLI: --cache-dir and $RAMPLAB_CACHE_DIR --------------------------------------------------


@pytest.mark.parametrize("how", ["--cache-dir", "RAMPLAB_CACHE_DIR"])
def test_the_cli_refuses_a_world_writable_cache_folder_with_a_usage_error(how, tmp_path, monkeypatch, capsys,
                                                                         booby_trapped):
    from ramplab.figures.cli import main

    cache = tmp_path / "cache"
    cache.mkdir()
    os.chmod(cache, 0o777)
    argv = ["--only", "sfo_critical_batch", "--quick", "--out", str(tmp_path / "out")]
    if how == "--cache-dir":
        argv += ["--cache-dir", str(cache)]
    else:
        monkeypatch.setenv("RAMPLAB_CACHE_DIR", str(cache))
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --cache-dir" in err and str(cache) in err and "chmod" in err and "Traceback" not in err
    assert booby_trapped == []
