"""The on-disk store of sweep results, kept by :class:`joblib.Memory`.

Results are looked up and stored in the process that runs the sweep, never on the workers: a Dask
cluster needs no shared file system, and a killed worker cannot leave half an entry. Each entry is
keyed by the sweep key (spec hash, code hash and the function's name; see :mod:`.keys`) alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__: list[str] = []


def _deliver(key: str, result: Any = None) -> Any:
    """What joblib memoizes: the result handed in, filed under ``key`` (``result`` is not hashed)."""
    return result


class ResultStore:
    """Look up and store sweep results under a key, in a :class:`joblib.Memory` folder."""

    def __init__(self, memory: Any) -> None:
        self.memory = memory
        self._memo = memory.cache(_deliver, ignore=["result"])

    def has(self, key: str) -> bool:
        return bool(self._memo.check_call_in_cache(key))

    def get(self, key: str) -> Any:
        return self._memo(key)

    def put(self, key: str, result: Any) -> None:
        if not self.has(key):
            try:
                self._memo(key, result=result)
            except OSError as exc:  # a folder that cannot be created or written (read-only, /proc, …)
                raise ValueError(f"cache: cannot store results in {str(self.memory.location)!r}: {exc}") from exc


def default_cache_dir() -> Path:
    """``$RAMPLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/ramplab/sweeps``, else ``~/.cache/ramplab/sweeps``."""
    if os.environ.get("RAMPLAB_CACHE_DIR"):
        return Path(os.environ["RAMPLAB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ramplab" / "sweeps"


def open_store(cache: Any) -> ResultStore | None:
    """``None``/``False`` → no store; a folder (str or path) or a :class:`joblib.Memory` → a store."""
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
        try:
            memory = joblib.Memory(str(path), verbose=0)  # creates the folder
        except OSError as exc:
            raise ValueError(f"cache: cannot create the folder {str(path)!r}: {exc}") from exc
        return ResultStore(memory)
    raise TypeError(f"cache must be a folder (str or path), a joblib.Memory or None; got {cache!r}")
