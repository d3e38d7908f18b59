"""A figure's files as one unit on disk: per-figure set folders switched by one rename, a folder lock.

Layout of an output folder ``OUT`` (``ramplab figures --out OUT``)::

    OUT/NAME.png  -> .ramplab/NAME/NAME.png      (one relative symlink per file, made once)
    OUT/NAME.pdf  -> .ramplab/NAME/NAME.pdf
    OUT/NAME.csv  -> .ramplab/NAME/NAME.csv
    OUT/NAME.json -> .ramplab/NAME/NAME.json
    OUT/.ramplab/NAME -> NAME.3f9a1c0e           (the figure's current set: one symlink)
    OUT/.ramplab/NAME.3f9a1c0e/                  (the set: the four files, real files)
    OUT/.ramplab/lock                            (held by the process writing into OUT)

The documented paths ``OUT/NAME.<ext>`` stay what readers open. A new set is written into a fresh
``NAME.<token>`` folder and made current by replacing the one symlink ``.ramplab/NAME`` with
:func:`os.replace` — a single rename — so at every instant, whatever kills the writer (Ctrl-C,
SIGTERM, SIGKILL, a power cut after the rename reached the disk), all four paths resolve into the
same set: all old or all new. The previous set folder is removed after the switch.

A folder written by an older ``ramplab`` (real files ``OUT/NAME.<ext>``) is adopted the first time:
its files are hard-linked (or copied) into a set that becomes current, then each path is replaced
by its symlink, which still shows the same bytes; only then is the new set switched in.

The folder lock (:func:`output_lock`, a :class:`filelock.FileLock` on ``.ramplab/lock``) keeps a
second writer out: ``ramplab figures`` holds it for its whole run, :meth:`FigureContext.save
<ramplab.figures.FigureContext.save>` for its commit. The operating system drops the lock when its
holder dies, so a killed run never leaves the folder locked. Whoever takes the lock at the start
of a run removes what an interrupted writer left (:func:`clean_orphans`): set folders no symlink
points to, half-made symlinks, and the hidden ``.NAME.<ext>.<token>.part`` files of older versions.

Where the file system has no symlinks, the four files are replaced one by one (the older
behaviour; a kill between two replaces can then leave a mixed set).

Testing hook: ``RAMPLAB_FIGURES_FAULT=STEP:ACTION`` (STEP one of ``staged``, ``adopted``,
``switched``; ACTION ``kill``, ``term`` or ``sleep=SECONDS``) sends the process SIGKILL or SIGTERM,
or pauses it, when a commit reaches that step. Tests use it to kill ``ramplab figures`` at chosen
points; it is not for anything else.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import time
from pathlib import Path
from typing import Any, Iterator

__all__: list[str] = []

#: Hidden folder inside an output folder that holds the figures' sets and the lock.
STORE = ".ramplab"
#: Environment variable of the fault-injection hook (module docstring).
FAULT_ENV = "RAMPLAB_FIGURES_FAULT"


def fault(step: str) -> None:
    """Act on ``RAMPLAB_FIGURES_FAULT`` when it names ``step`` (kill, terminate or pause this process)."""
    spec = os.environ.get(FAULT_ENV, "")
    where, _, action = spec.partition(":")
    if where != step:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "term":
        os.kill(os.getpid(), signal.SIGTERM)
    elif action.startswith("sleep="):
        time.sleep(float(action[len("sleep="):]))


def store_of(out: Path) -> Path:
    """The hidden store folder of output folder ``out``."""
    return Path(out) / STORE


def output_lock(out: Path) -> Any:
    """The lock of output folder ``out``: one :class:`filelock.FileLock` per folder and process.

    Re-entrant within a thread (``ramplab figures`` holds it, and a save inside takes it again);
    creates the store folder.
    """
    from filelock import FileLock

    store = store_of(out)
    store.mkdir(parents=True, exist_ok=True)
    return FileLock(str((store / "lock").resolve()), is_singleton=True)


def new_set(out: Path, name: str) -> Path:
    """Create an empty set folder for figure ``name`` (not current until :func:`commit`)."""
    store = store_of(out)
    store.mkdir(parents=True, exist_ok=True)
    while True:
        folder = store / f"{name}.{secrets.token_hex(4)}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder


def _point(link: Path, target: str) -> None:
    """Make ``link`` a symlink to ``target`` with one rename (a fresh symlink moved over it)."""
    tmp = link.with_name(f".{link.name}.{secrets.token_hex(4)}.link")
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def symlinks_work(out: Path) -> bool:
    """Whether the file system of ``out`` takes symlinks (it does on Linux and macOS)."""
    probe = store_of(out) / f".probe.{secrets.token_hex(4)}.link"
    try:
        os.symlink("nowhere", probe)
    except (OSError, NotImplementedError):
        return False
    probe.unlink()
    return True


def commit(out: Path, name: str, folder: Path, files: list[str]) -> None:
    """Make set ``folder`` (holding ``files``) figure ``name``'s current set in ``out``, atomically.

    The caller holds :func:`output_lock`. Returns once the old set is removed.
    """
    out = Path(out)
    store = store_of(out)
    link = store / name
    for f in files:
        top = out / f
        if top.is_dir() and not top.is_symlink():
            raise IsADirectoryError(f"cannot write {top}: it is a folder")
    if not symlinks_work(out):
        _commit_without_symlinks(out, folder, files)
        return
    if not link.is_symlink():
        # First set-based write here: adopt the files already there (an older ramplab's) as a set.
        adopted = new_set(out, name)
        for f in files:
            top = out / f
            if top.is_file():  # follows a symlink: whatever a reader sees now is kept
                try:
                    os.link(top, adopted / f, follow_symlinks=True)
                except OSError:
                    shutil.copy2(top, adopted / f)
        _point(link, adopted.name)
    for f in files:
        top, want = out / f, os.path.join(STORE, name, f)
        if not (top.is_symlink() and os.readlink(top) == want):
            _point(top, want)  # same bytes as before: the link resolves into the current set
    fault("adopted")
    previous = os.readlink(link)
    _point(link, folder.name)  # the switch: one rename
    fault("switched")
    if previous != folder.name and "/" not in previous and previous not in ("", ".", ".."):
        shutil.rmtree(store / previous, ignore_errors=True)


def _commit_without_symlinks(out: Path, folder: Path, files: list[str]) -> None:
    """The fallback: move the four files over the old ones one by one, then drop the set folder."""
    for f in files:
        os.replace(folder / f, out / f)
    shutil.rmtree(folder, ignore_errors=True)


def clean_orphans(out: Path) -> list[str]:
    """Remove what an interrupted writer left in ``out``; the caller holds :func:`output_lock`.

    Returns the removed names (relative to ``out``).
    """
    out = Path(out)
    store = store_of(out)
    removed: list[str] = []
    if out.is_dir():
        for p in out.iterdir():
            n = p.name
            if n.startswith(".") and (n.endswith(".part") or n.endswith(".link")
                                      or n.startswith(".ramplab-write-probe-")) and not p.is_dir():
                p.unlink(missing_ok=True)
                removed.append(n)
    if not store.is_dir():
        return removed
    live = set()
    for p in store.iterdir():
        if p.is_symlink() and not p.name.startswith("."):
            live.add(os.readlink(p))
    for p in store.iterdir():
        n = p.name
        if p.is_symlink() and n.startswith("."):
            p.unlink(missing_ok=True)
            removed.append(f"{STORE}/{n}")
        elif p.is_dir() and not p.is_symlink() and n not in live:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(f"{STORE}/{n}")
    return removed


@contextlib.contextmanager
def held_sigint() -> Iterator[list[int]]:
    """Hold Ctrl-C back inside the block (main thread only); re-deliver it after the block."""
    held: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    except ValueError:  # not the main thread
        yield held
        return
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
    if held:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous is None or previous == signal.SIG_DFL:
            raise KeyboardInterrupt
