"""Parameter sweeps over any executor, cached by content (docs/design.md, "Sweeps").

- :func:`sweep` maps a pure function of one spec over a list of specs (:func:`grid` builds a
  Cartesian one) on any :class:`concurrent.futures.Executor` — :class:`SerialExecutor` by default,
  a process pool, or a Dask ``distributed.Client`` (:func:`open_executor` builds each by name) — and
  returns a :class:`SweepResult`: a pandas table, one row per spec, plus each row's curves.
- Results do not depend on the executor: :func:`spec_seed` derives seeds from the spec's content,
  and :func:`pinned_threads` fixes BLAS and numba thread counts inside every task.
- ``cache=FOLDER`` serves rows computed before from a :class:`joblib.Memory` store, keyed by
  :func:`spec_hash` and :func:`code_hash` (the installed sources, not a version string). Entries
  are pickles: a cache is trusted code, so a folder that is not the user's own or that group or
  others can write is refused; a damaged entry is recomputed; each row is stored as it finishes.

Needs the ``sweeps`` extra: ``pip install 'ramplab[sweeps]'``.
"""

from .executors import EXECUTORS, SerialExecutor, open_executor, pinned_threads
from .keys import code_hash, spec_hash, spec_seed
from .sweep import SweepResult, grid, sweep

__all__ = [
    "EXECUTORS",
    "SerialExecutor",
    "SweepResult",
    "code_hash",
    "grid",
    "open_executor",
    "pinned_threads",
    "spec_hash",
    "spec_seed",
    "sweep",
]
