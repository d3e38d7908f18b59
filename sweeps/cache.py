"""The on-disk store of sweep results, kept by :class:`joblib.Memory`.

Results are looked up and stored in the process that runs the sweep, never on the workers: a Dask
cluster needs no shared file system, and a killed worker cannot leave half an entry. Each entry is
keyed by the sweep key (spec hash, code hash and the function's name; see :mod:`.keys`) alone.

**A cache is trusted code.** An entry is a pickle, and loading a pickle can run any code, so
whoever can write into the cache folder can run commands as the user of the next sweep that
reads it. The store therefore refuses (``ValueError`` naming the path and the fix) a cache folder,
or anything below it on the way to an entry, that is not owned by the current user or that group or
others can write (``chmod go-w`` fixes one; a shared cache is never safe), and a symbolic link
below the folder. What the store creates has no group/other write, whatever the umask, so a
cache made by ramplab always passes. (POSIX only: Windows has no owner/mode bits to
check.)

**A damaged entry is recomputed.** An entry that cannot be loaded (truncated by a full disk or a
killed copy, garbage, or the ``None`` that an older ramplab stored for a truncated entry) is
dropped with a :class:`CacheWarning` and its row computed again; it never fails a sweep.
"""

from __future__ import annotations

import contextlib
import os
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator

__all__: list[str] = []


class CacheWarning(UserWarning):
    """A cache entry could not be loaded; it was dropped and its row is computed again."""


class _Missing(LookupError):
    """Raised by :func:`_deliver` when asked for a result that is not stored (never stores one)."""


_NOT_GIVEN = object()


def _deliver(key: str, result: Any = _NOT_GIVEN) -> Any:
    """What joblib memoizes: the result handed in, filed under ``key`` (``result`` is not hashed).

    Called without ``result`` only when joblib found no loadable entry: raise, so that joblib never
    files a placeholder (an older version filed ``None`` there, poisoning the entry for good).
    """
    if result is _NOT_GIVEN:
        raise _Missing(key)
    return result


_UNSAFE_BITS = stat.S_IWGRP | stat.S_IWOTH


def _owner_checks() -> bool:
    return hasattr(os, "geteuid")


def _untrusted(st: os.stat_result) -> str | None:
    """Why a file or folder with this ``stat`` cannot be trusted (``None``: it can)."""
    if st.st_uid != os.geteuid():
        return f"is owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    if st.st_mode & _UNSAFE_BITS:
        who = " and ".join(w for w, bit in (("group", stat.S_IWGRP), ("others", stat.S_IWOTH)) if st.st_mode & bit)
        return f"is writable by {who} (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def check_cache_folder(path: str | os.PathLike[str]) -> Path:
    """Refuse a cache folder that someone other than the current user could write into.

    Parameters
    ----------
    path : str or path-like
        The cache folder (it need not exist yet: then nothing is checked).

    Returns
    -------
    pathlib.Path
        ``path`` with symbolic links resolved (the folder the store will use).

    Raises
    ------
    ValueError
        If the folder is not owned by the current user or is writable by group or others: its
        entries are pickles, so anyone who can write there can run code in the next sweep.
    """
    real = Path(os.path.realpath(path))
    if not _owner_checks() or not real.exists():
        return real
    why = _untrusted(real.stat())
    if why is not None:
        raise ValueError(
            f"cache: refusing the cache folder {str(path)!r}: it {why}. Cache entries are pickles, "
            "so anyone who can write there can run code as you when a sweep reads them. Use a private "
            f"folder (--cache-dir / RAMPLAB_CACHE_DIR / cache=), or if every entry in it is yours: "
            f"chmod -R go-w {str(real)!r}")
    return real


def _check_below(root: Path, target: Path) -> None:
    """Check every path from below ``root`` down to ``target``: no links, ours, not writable by others."""
    if not _owner_checks():
        return
    parts = target.relative_to(root).parts
    current = root
    for part in parts:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(st.st_mode):
            why = "is a symbolic link (the store never makes one)"
        else:
            why = _untrusted(st)
        if why is not None:
            raise ValueError(
                f"cache: refusing to read {str(current)!r} in the cache folder {str(root)!r}: it {why}. "
                "Cache entries are pickles: loading one written by someone else can run their code. "
                f"Remove it (rm -r {str(current)!r}) or, if it is yours, chmod -R go-w {str(root)!r}")


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    """Inside the block, files and folders are created without group/other write, whatever the umask.

    (A umask of 002 is common; joblib creates its folders with the umask's mode. Only ever
    removes bits, so another thread creating files meanwhile gets no looser modes.)
    """
    old = os.umask(0o022)
    os.umask(old | 0o022)
    try:
        yield
    finally:
        os.umask(old)


class ResultStore:
    """Look up and store sweep results under a key, in a :class:`joblib.Memory` folder.

    The folder is checked when the store opens (:func:`check_cache_folder`), and every entry's path
    before it is loaded: a cache is trusted code.
    """

    def __init__(self, memory: Any) -> None:
        self.memory = memory
        self.root = check_cache_folder(memory.location)
        with _private_umask():  # joblib creates the function's folder here
            self._memo = memory.cache(_deliver, ignore=["result"])
        # joblib keeps its entries in <location>/joblib/<function id>/<argument hash>/output.pkl.
        below = os.path.relpath(self._memo.store_backend.location, memory.location)
        self._func_dir = self.root / below / self._memo.func_id
        _check_below(self.root, self._func_dir)

    def _output(self, ref: Any) -> Path:
        return self._func_dir / ref.args_id / "output.pkl"

    def has(self, key: str) -> bool:
        _check_below(self.root, self._func_dir)
        return bool(self._memo.check_call_in_cache(key))

    def load(self, key: str) -> tuple[bool, Any]:
        """``(True, result)`` for a stored, loadable entry; ``(False, None)`` otherwise.

        An entry that exists but cannot be loaded, or holds no mapping, is dropped with a
        :class:`CacheWarning` (the sweep computes it again). An entry that fails the trust checks
        raises ``ValueError``.
        """
        if not self.has(key):
            return False, None
        try:
            ref = self._memo.call_and_shelve(key)  # a reference; loads nothing yet
        except _Missing:  # removed meanwhile (e.g. by another sweep)
            return False, None
        output = self._output(ref)
        _check_below(self.root, output)
        try:
            value = ref.get()
        except Exception as exc:  # noqa: BLE001 - any failure to unpickle means a damaged entry
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if isinstance(value, Mapping):
                return True, value
            problem = f"it holds a {type(value).__name__}, not a result mapping"
        warnings.warn(f"cache: dropped the damaged entry {str(output.parent)!r} and computing its row again "
                      f"({problem[:200]})", CacheWarning, stacklevel=3)
        try:
            ref.clear()
        except OSError as exc:
            raise ValueError(f"cache: cannot remove the damaged entry {str(output.parent)!r}: {exc}") from exc
        return False, None

    def get(self, key: str) -> Any:
        found, value = self.load(key)
        if not found:
            raise KeyError(key)
        return value

    def put(self, key: str, result: Any) -> None:
        if self.has(key):
            return
        try:
            with warnings.catch_warnings(), _private_umask():
                # joblib turns a failed write into a warning; here it is an error naming the folder.
                warnings.simplefilter("error", category=_joblib_cache_warning())
                self._memo(key, result=result)
        except (OSError, Warning) as exc:  # a folder that cannot be created or written (read-only, /proc, …)
            raise ValueError(f"cache: cannot store results in {str(self.memory.location)!r}: {exc}") from exc


def _joblib_cache_warning() -> type[Warning]:
    try:
        from joblib.memory import CacheWarning as JoblibCacheWarning
    except ImportError:  # pragma: no cover - older joblib
        return RuntimeWarning
    return JoblibCacheWarning


def default_cache_dir() -> Path:
    """``$RAMPLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/ramplab/sweeps``, else ``~/.cache/ramplab/sweeps``."""
    if os.environ.get("RAMPLAB_CACHE_DIR"):
        return Path(os.environ["RAMPLAB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ramplab" / "sweeps"


def open_store(cache: Any) -> ResultStore | None:
    """``None``/``False`` → no store; a folder (str or path) or a :class:`joblib.Memory` → a store.

    The folder must be the user's own and not writable by group or others (:func:`check_cache_folder`).
    """
    if cache is None or cache is False:
        return None
    import joblib

    if isinstance(cache, joblib.Memory):
        if cache.location is None:
            raise ValueError("cache: a joblib.Memory without a location caches nothing; pass a folder")
        return ResultStore(cache)
    if isinstance(cache, (str, os.PathLike)) and not isinstance(cache, bytes):
        path = Path(cache)
        if str(cache).strip() == "":
            raise ValueError("cache must be a folder, a joblib.Memory or None; got an empty path")
        if path.exists() and not path.is_dir():
            raise ValueError(f"cache: {str(path)!r} exists and is not a folder")
        check_cache_folder(path)
        try:
            with _private_umask():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.mkdir(exist_ok=True)
                # The checked folder itself, links resolved: a link swapped later cannot redirect it.
                memory = joblib.Memory(str(check_cache_folder(path)), verbose=0)  # creates its joblib/
        except OSError as exc:
            raise ValueError(f"cache: cannot create the folder {str(path)!r}: {exc}") from exc
        return ResultStore(memory)
    raise TypeError(f"cache must be a folder (str or path), a joblib.Memory or None; got {cache!r}")
