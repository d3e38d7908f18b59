"""``sweep(func, specs)``: one pure function of one spec, mapped over any executor, cached by content.

The unit of work is a *spec*, a mapping of plain parameters (:mod:`.keys`), and a top-level function
``func(spec) -> mapping`` that computes it. Scalars of the returned mapping become columns of a tidy
:class:`pandas.DataFrame` (one row per spec, the spec's own parameters first); arrays become that
row's *curves*. Why a DataFrame and not an ``xarray.Dataset``: sweeps here are lists, not dense
grids (a learning rate chosen per batch size, ``m`` values that depend on ``a``), their columns mix
floats, integers and strings (a hitting status), and their curves have different lengths (different
step counts) — a row table plus per-row arrays holds that without padding; a dense grid is one
``table.pivot`` away.

Results never depend on the executor: seeds come from the spec (:func:`.spec_seed`), every task
runs with the same thread counts (:func:`.pinned_threads`), and results are put back in spec order.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import itertools
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from .cache import open_store
from .executors import SerialExecutor, check_threads, pinned_threads
from .keys import package_hash, code_hash, spec_hash

__all__ = ["SweepResult", "grid", "sweep"]


def grid(**axes: Any) -> list[dict[str, Any]]:
    """The Cartesian product of parameter axes, as a list of specs (the first axis varies slowest).

    Parameters
    ----------
    **axes
        Parameter name → a list, tuple or 1-D array of values (an axis), or any other value (a
        constant shared by every spec; wrap a list-valued constant as ``[(1, 2)]``).

    Returns
    -------
    list of dict
        One spec per combination, keys in the order given.

    Raises
    ------
    ValueError
        If an axis is empty or an array axis is not 1-D.

    See Also
    --------
    sweep : map a function over the specs.

    Examples
    --------
    >>> grid(lr=[0.1, 0.2], batch=(1, 4), d=100)
    [{'lr': 0.1, 'batch': 1, 'd': 100}, {'lr': 0.1, 'batch': 4, 'd': 100}, {'lr': 0.2, 'batch': 1, 'd': 100}, {'lr': 0.2, 'batch': 4, 'd': 100}]
    """
    names, values = [], []
    for name, value in axes.items():
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                raise ValueError(f"{name}: an array axis must be 1-D; got shape {value.shape}")
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            if len(value) == 0:
                raise ValueError(f"{name}: an axis needs at least one value; got an empty {type(value).__name__}")
            values.append(list(value))
        else:
            values.append([value])
        names.append(name)
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


@dataclass(frozen=True, eq=False)
class SweepResult:
    """What :func:`sweep` returns: a tidy table, the curves of each row, and what was computed.

    A result compares and hashes by identity (compare its ``table`` and ``curves``); it pickles
    and copies with its table and curves.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per spec, in the order given: the spec's parameters, then the scalar results.
    curves : list of dict of str to ndarray
        Per row, the array results by name.
    specs : list of dict
        The specs, as given.
    keys : list of str
        Per row, the cache key (function, code hash, spec hash).
    computed, cached : int
        Tasks run by this call, and rows served from the cache (a spec repeated in ``specs`` runs
        once).

    Examples
    --------
    >>> result = sweep(lambda spec: {"y": 2 * spec["x"], "path": [spec["x"]] * 2}, grid(x=[1, 2]))
    >>> result.table["y"].tolist(), result.curves[1]["path"].tolist(), result.computed, result.cached
    ([2, 4], [2, 2], 2, 0)
    """

    table: Any
    curves: list[dict[str, np.ndarray]]
    specs: list[dict[str, Any]]
    keys: list[str]
    computed: int
    cached: int

    def curve(self, name: str) -> np.ndarray:
        """The curve ``name`` of every row, stacked.

        Parameters
        ----------
        name : str
            A name of an array that ``func`` returned.

        Returns
        -------
        ndarray, shape ``(rows, *curve_shape)``
            Row ``i`` is ``curves[i][name]``.

        Raises
        ------
        KeyError
            If a row lacks the curve.
        ValueError
            If the rows' curves differ in shape (different step counts): index ``curves`` instead.
        """
        arrays = [c[name] for c in self.curves]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"curve {name!r} has different shapes across rows: {sorted(shapes)}")
        return np.stack(arrays)


def _run_task(payload: Any, spec: dict[str, Any], threads: int) -> tuple[str, Any]:
    """Run one spec where the executor put it: unpickle ``func`` if needed, pin threads, call it.

    Returns the worker's ``ramplab`` code hash with the result, so a cluster running other code is
    caught instead of filling the cache with its numbers.
    """
    if isinstance(payload, bytes):
        import cloudpickle

        func = cloudpickle.loads(payload)
    else:
        func = payload
    with pinned_threads(threads):
        result = func(spec)
    return package_hash(), result


def _sweep_key(func: Callable[..., Any], spec: Mapping[str, Any]) -> str:
    name = f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', repr(func))}"
    h = hashlib.sha256(b"ramplab-sweep-v1\0" + name.encode() + b"\0")
    h.update(code_hash(func).encode() + b"\0" + spec_hash(spec).encode())
    return h.hexdigest()


def _split_result(result: Any, spec: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Scalars (table columns) and arrays (curves) of one task's result; checks names and types."""
    if not isinstance(result, Mapping):
        raise TypeError(f"func must return a mapping of result names to scalars or arrays; got "
                        f"{type(result).__name__} for spec {dict(spec)!r}")
    scalars: dict[str, Any] = {}
    curves: dict[str, np.ndarray] = {}
    for name, value in result.items():
        if not isinstance(name, str):
            raise TypeError(f"func returned a non-string result name {name!r}")
        if name in spec:
            raise ValueError(f"func returned {name!r}, which is also a spec parameter; rename one of them")
        if value is None or isinstance(value, (bool, int, float, str, np.generic)):
            scalars[name] = value.item() if isinstance(value, np.generic) else value
        elif isinstance(value, (np.ndarray, list, tuple)):
            arr = np.asarray(value)
            if arr.dtype == object:
                raise TypeError(f"func returned {name!r} as an object array; curves are numeric, bool or str")
            if arr.ndim == 0:
                scalars[name] = arr.item()
            else:
                curves[name] = arr
        else:
            raise TypeError(f"func returned {name!r} as a {type(value).__name__}; results are scalars "
                            "(table columns) or arrays (curves)")
    return scalars, curves


def _resolve_executor(executor: Any) -> cf.Executor:
    if executor is None:
        return SerialExecutor()
    if isinstance(executor, cf.Executor):
        return executor
    if callable(getattr(executor, "get_executor", None)):  # a distributed.Client
        return executor.get_executor(pure=False)
    raise TypeError(f"executor must be a concurrent.futures.Executor, a distributed.Client or None; "
                    f"got {executor!r}")


def _table_value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def sweep(
    func: Callable[[dict[str, Any]], Mapping[str, Any]],
    specs: Iterable[Mapping[str, Any]],
    *,
    executor: Any = None,
    cache: Any = None,
    threads: int = 1,
    progress: bool | None = None,
    label: str | None = None,
) -> SweepResult:
    """Compute ``func(spec)`` for every spec on ``executor``, serving what ``cache`` already holds.

    Parameters
    ----------
    func : callable
        A pure function of one spec (a ``dict``) returning a mapping: scalars become table columns,
        arrays (or lists) become the row's curves. Defined at module top level for the process and
        Dask executors (it is pickled with cloudpickle; a module outside ``ramplab`` must be
        importable on the workers or registered with ``cloudpickle.register_pickle_by_value``).
    specs : iterable of mapping
        At least one spec; each a mapping of plain values (see :func:`spec_hash`). Repeated specs
        run once.
    executor : concurrent.futures.Executor or distributed.Client, optional
        Default: :class:`SerialExecutor` (in this process). A ``ProcessPoolExecutor``, a Dask
        client or its ``get_executor()`` run the specs in parallel; see :func:`open_executor`.
    cache : str, path-like or joblib.Memory, optional
        A folder for the on-disk store (:class:`joblib.Memory`). A row is served from it when the
        same function, the same code (:func:`code_hash`) and the same spec (:func:`spec_hash`) were
        computed before; each row is stored as soon as it finishes, whatever the executor, so a
        failed, interrupted or killed sweep keeps its finished rows. An entry that cannot be loaded
        (truncated, garbage) is dropped with a ``CacheWarning`` and computed again. **A cache is
        trusted code**: its entries are pickles, so the folder (and everything in it) must be the
        user's own and not writable by group or others, else ``ValueError``. ``None``: no cache.
    threads : int, default 1
        BLAS and numba threads in every task (:func:`pinned_threads`), the same in every executor.
    progress : bool or None
        A progress bar over the tasks on stderr (plain lines when stderr is not a terminal;
        :class:`~ramplab.simulations.progress.ProgressBar`): ``None`` shows it once the sweep has
        taken 2 s.
    label : str, optional
        The bar's label (default: the function's name).

    Returns
    -------
    SweepResult
        ``table`` (pandas DataFrame, one row per spec in the given order), ``curves``, ``specs``,
        ``keys``, ``computed`` and ``cached`` counts (docs/design.md, "Sweeps").

    Raises
    ------
    TypeError
        If ``func`` is not callable, a spec is not a mapping of plain values, ``executor`` or
        ``cache`` has the wrong type, or ``func`` returns something other than a mapping of scalars
        and arrays.
    ValueError
        If ``specs`` is empty, ``threads`` is not positive, a result name repeats a parameter, or
        the cache folder or an entry in it is not the user's own or is writable by group or others
        (the message names it and the fix, e.g. ``chmod -R go-w FOLDER``).
    RuntimeError
        If a worker runs a different ``ramplab`` than this process.
    Exception
        Whatever ``func`` raised for a spec (with a note naming the spec); rows finished before it
        are in the cache.

    See Also
    --------
    grid : the Cartesian product of parameter axes.
    open_executor : an executor by name.

    Examples
    --------
    >>> def square(spec):
    ...     return {"y": spec["x"] ** 2, "path": [0.0, spec["x"]]}
    >>> result = sweep(square, grid(x=[1.0, 2.0, 3.0]))
    >>> result.table
         x    y
    0  1.0  1.0
    1  2.0  4.0
    2  3.0  9.0
    >>> result.curve("path")[:, 1].tolist(), result.computed
    ([1.0, 2.0, 3.0], 3)
    """
    if not callable(func):
        raise TypeError(f"func must be callable; got {func!r}")
    if isinstance(specs, (str, bytes, Mapping)) or not isinstance(specs, Iterable):
        raise TypeError(f"specs must be an iterable of mappings (e.g. a list of dicts); got {type(specs).__name__}")
    try:
        given = list(specs)
    except TypeError as exc:  # e.g. a 0-d array
        raise TypeError(f"specs must be an iterable of mappings; {exc}") from None
    spec_list = []
    for i, spec in enumerate(given):
        if not isinstance(spec, Mapping):
            raise TypeError(f"specs[{i}] must be a mapping of parameter names to values; got {type(spec).__name__}")
        spec_list.append(dict(spec))
    if not spec_list:
        raise ValueError("specs must hold at least one spec; got none")
    threads = check_threads(threads)
    if not (progress is None or isinstance(progress, (bool, np.bool_))):
        raise TypeError(f"progress must be True, False or None; got {progress!r}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a str or None; got {label!r}")
    store = open_store(cache)
    pool = _resolve_executor(executor)
    keys = [_sweep_key(func, spec) for spec in spec_list]

    results: dict[str, Any] = {}
    todo: dict[str, dict[str, Any]] = {}
    for key, spec in zip(keys, spec_list):
        if key in results or key in todo:
            continue
        found, value = store.load(key) if store is not None else (False, None)
        if found:  # a damaged entry is dropped (with a CacheWarning) and computed again
            results[key] = value
        else:
            todo[key] = spec
    cached = len({k for k in keys if k in results})

    if todo:
        payload = func if isinstance(pool, SerialExecutor) else _pickled(func)
        mine = package_hash()
        from ..simulations.progress import ProgressBar  # a bar on a terminal, plain lines in a log

        bar = ProgressBar(len(todo), None if progress is None else bool(progress), unit="spec",
                          label=label or getattr(func, "__name__", "sweep"), stream=sys.stderr)
        futures: dict[cf.Future, str] = {}

        def harvest(done: Iterable[cf.Future]) -> None:
            # Finished rows first, so a failure still leaves them in the cache.
            for future in sorted(done, key=lambda f: f.exception() is not None):
                # Drop every reference to a finished future at once: on Dask that releases the
                # result held by its worker, so losing that worker later recomputes nothing.
                key = futures.pop(future)
                try:
                    theirs, result = future.result()
                except Exception as exc:
                    exc.add_note(f"ramplab.sweeps: raised while computing spec {todo[key]!r}")
                    raise
                if theirs != mine:
                    raise RuntimeError("a worker runs a different ramplab than this process (code hash "
                                       f"{theirs[:12]} vs {mine[:12]}); install the same version everywhere")
                _split_result(result, todo[key])  # check before it is cached
                if store is not None:
                    store.put(key, result)  # each row as it arrives: an interrupted sweep keeps it
                results[key] = result
                bar.update(1)

        try:
            for key, spec in todo.items():
                future = pool.submit(_run_task, payload, spec, threads)
                futures[future] = key
                # A SerialExecutor (or any executor that runs the task inside submit) has finished
                # this row: store it before the next one starts.
                if future.done():
                    harvest([future])
                del future
            while futures:
                done, _ = cf.wait(set(futures), return_when=cf.FIRST_COMPLETED)
                harvest(done)
                del done
        finally:
            for future in futures:
                future.cancel()
            bar.close()

    import pandas as pd

    rows, curves = [], []
    for key, spec in zip(keys, spec_list):
        scalars, arrays = _split_result(results[key], spec)
        rows.append({**{k: _table_value(v) for k, v in spec.items()}, **scalars})
        curves.append(arrays)
    return SweepResult(table=pd.DataFrame(rows), curves=curves, specs=spec_list, keys=keys,
                       computed=len(todo), cached=cached)


def _pickled(func: Callable[..., Any]) -> bytes:
    import cloudpickle

    try:
        return cloudpickle.dumps(func)
    except Exception as exc:  # noqa: BLE001 - any pickling failure is the function's
        raise TypeError(f"func cannot be pickled for a parallel executor: {exc}") from exc
