"""Figure registry: every figure is a ``data`` and a ``draw`` function under a name, run by ``ramplab figures``.

A figure module defines two functions and registers them with :func:`register`:

- ``data(ctx: FigureContext) -> FigureTable`` computes exactly the plotted numbers (one row per
  point, long format) and the summary for the JSON (parameters and key figures);
- ``draw(table: FigureTable) -> matplotlib.figure.Figure`` draws from that table alone (selecting
  and reshaping its rows, nothing recomputed).

:meth:`FigureSpec.build` calls ``data``, then :meth:`FigureContext.save` writes ``NAME.csv`` (the
table's rows: the CSV *is* the table), ``NAME.json`` (seed, versions, sweeps and the summary), calls
``draw`` and writes ``NAME.png`` and ``NAME.pdf``.

The four files of a figure change together: they are written into a new set folder and switched in
with one rename, under a lock on the output folder (:mod:`figures._sets` describes the layout:
``OUT/NAME.<ext>`` are symlinks into the figure's current set). A failure, Ctrl-C, SIGTERM or SIGKILL
at any point leaves all four files old or all four new, never a new PNG beside a stale CSV.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from . import _sets
from ._table import FigureTable, jsonable

__all__ = ["FigureContext", "FigureSpec", "REGISTRY", "register"]


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: its name, a one-line description, and its ``data`` and ``draw`` functions.

    Parameters
    ----------
    name : str
        The registry key (``ramplab figures --only NAME``) and the output files' stem.
    description : str
        One line, printed while the figure is built.
    data : callable
        ``data(ctx: FigureContext) -> FigureTable``: the plotted numbers and the JSON summary.
    draw : callable
        ``draw(table: FigureTable) -> matplotlib.figure.Figure``: the picture, from the table alone.

    Examples
    --------
    >>> from ramplab.figures import load_all
    >>> spec = load_all()["step_reduction"]
    >>> spec.name, callable(spec.data), callable(spec.draw)
    ('step_reduction', True, True)
    """

    name: str
    description: str
    data: Callable[["FigureContext"], FigureTable]
    draw: Callable[[FigureTable], Any]

    def build(self, ctx: "FigureContext") -> list[Path]:
        """Compute the table with :attr:`data` and write it, its JSON and :attr:`draw`'s picture.

        Parameters
        ----------
        ctx : FigureContext
            Output folder, size and sweep executor of this build.

        Returns
        -------
        list of pathlib.Path
            The files written (:meth:`FigureContext.outputs`).
        """
        return ctx.save(self.data(ctx), self.draw)


REGISTRY: dict[str, FigureSpec] = {}


def register(name: str, description: str, data: Callable[["FigureContext"], FigureTable],
             draw: Callable[[FigureTable], Any]) -> FigureSpec:
    """Register a figure's ``data`` and ``draw`` functions under ``name``. Names are unique.

    Parameters
    ----------
    name : str
        Registry key and output stem; must not be registered yet.
    description : str
        One line for ``ramplab figures``.
    data : callable
        ``data(ctx: FigureContext) -> FigureTable``.
    draw : callable
        ``draw(table: FigureTable) -> matplotlib.figure.Figure``, drawing from the table alone.

    Returns
    -------
    FigureSpec
        The registered figure.

    Raises
    ------
    ValueError
        When ``name`` is already registered.
    TypeError
        When ``data`` or ``draw`` is not callable.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> def data(ctx):
    ...     return FigureTable([{"x": 0.0, "y": 1.0}, {"x": 1.0, "y": 0.5}], {"note": "demo"})
    >>> def draw(table):
    ...     fig, ax = plt.subplots()
    ...     ax.plot(table.column("x"), table.column("y"))
    ...     return fig
    >>> spec = register("docs_demo_figure", "a figure defined in a docstring", data, draw)
    >>> REGISTRY.pop("docs_demo_figure").description
    'a figure defined in a docstring'
    """
    if name in REGISTRY:
        raise ValueError(f"figure name {name!r} is already registered")
    for arg, func in (("data", data), ("draw", draw)):
        if not callable(func):
            raise TypeError(f"{arg} must be callable; got {type(func).__name__}")
    spec = REGISTRY[name] = FigureSpec(name, description, data, draw)
    return spec


@dataclass
class FigureContext:
    """What a figure's ``data`` gets: where to write, at which size, with which backend and seed.

    Parameters
    ----------
    name : str
        The figure's registry name (the output files' stem).
    out_dir : pathlib.Path
        Folder the files go to (created by :meth:`save`).
    quick : bool, default False
        CI size (``ramplab figures --quick``).
    backend : str, default "numpy"
        Array backend for the Monte Carlo figures.
    seed : int, default 0
        Root seed, recorded in the JSON.
    formats : tuple of str, default ("png", "pdf")
        Image formats written.
    written : list of pathlib.Path
        Files written so far (filled by :meth:`save`).
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where :meth:`sweep` runs its tasks; ``None`` (default): in this process, one after another.
    cache : pathlib.Path, optional
        Folder of :meth:`sweep`'s result cache; ``None`` (default): no cache.
    sweeps : list of dict
        One entry per :meth:`sweep` call (rows, computed, served from the cache, wall seconds),
        written to the JSON; filled by :meth:`sweep`.
    seconds : float, optional
        Wall seconds the figure's ``data`` took, written to the JSON as ``data_seconds`` when set
        (``ramplab figures`` sets it, and starts the slowest figures of the previous run first).

    Examples
    --------
    >>> from pathlib import Path
    >>> ctx = FigureContext(name="demo", out_dir=Path("out"))
    >>> [p.name for p in ctx.outputs()]
    ['demo.png', 'demo.pdf', 'demo.csv', 'demo.json']
    """

    name: str
    out_dir: Path
    quick: bool = False
    backend: str = "numpy"
    seed: int = 0
    formats: tuple[str, ...] = ("png", "pdf")
    written: list[Path] = field(default_factory=list)
    #: Where :meth:`sweep` runs its tasks (a ``concurrent.futures.Executor`` or a Dask client;
    #: ``None``: in this process) and the folder of its result cache (``None``: no cache).
    executor: Any = None
    cache: Path | None = None
    #: One entry per :meth:`sweep` call: rows, computed, served from the cache, wall seconds (written to the JSON).
    sweeps: list[dict[str, Any]] = field(default_factory=list)
    seconds: float | None = None

    def sweep(self, func: Callable[[dict], Mapping[str, Any]], specs: Iterable[Mapping[str, Any]]) -> Any:
        """:func:`ramplab.sweeps.sweep` of ``func`` over ``specs`` on this context's executor and cache.

        A figure's sweep-heavy part goes through here, so ``ramplab figures --executor …
        --cache-dir …`` reaches it; the numbers do not depend on either.

        Parameters
        ----------
        func : callable
            A pure top-level function of one spec (a dict) returning scalars and arrays.
        specs : iterable of mapping
            The specs, one table row each.

        Returns
        -------
        ramplab.sweeps.SweepResult
            Its computed and cached counts and wall time are also appended to :attr:`sweeps`
            (and so to the figure's JSON).
        """
        from ..sweeps import sweep

        start = time.perf_counter()
        result = sweep(func, specs, executor=self.executor, cache=self.cache,
                       label=getattr(func, "__name__", "sweep"))
        self.sweeps.append({"function": getattr(func, "__name__", repr(func)), "rows": len(result.specs),
                            "computed": result.computed, "cached": result.cached,
                            "seconds": round(time.perf_counter() - start, 3)})
        return result

    def outputs(self) -> list[Path]:
        """The files :meth:`save` writes: ``NAME.<format>`` for each of :attr:`formats`, then CSV and JSON.

        Returns
        -------
        list of pathlib.Path
            In that order, inside :attr:`out_dir`.
        """
        return [self.out_dir / f"{self.name}.{ext}" for ext in (*self.formats, "csv", "json")]

    def save(self, table: FigureTable, draw: Callable[[FigureTable], Any]) -> list[Path]:
        """Write the table as the CSV, its summary into the JSON, then ``draw(table)`` as the images.

        The CSV is the table's rows (:meth:`FigureTable.write_csv`), so it reproduces the plot
        without the figure code; the JSON is the summary with the figure's name, size, backend,
        seed, versions, sweeps and time added. The four files are written into a new set folder
        (:meth:`stage`) that then replaces the figure's current set in one rename (:meth:`commit`;
        module docstring): on any error or kill the folder keeps what it had, all four files old.

        Parameters
        ----------
        table : FigureTable
            The figure's numbers, as its ``data`` returned them.
        draw : callable
            ``draw(table) -> matplotlib.figure.Figure``; the figure is closed afterwards.

        Returns
        -------
        list of pathlib.Path
            The files written (:meth:`outputs`).

        Raises
        ------
        TypeError
            When ``table`` is not a :class:`FigureTable`.
        """
        return self.commit(self.stage(table, draw))

    def stage(self, table: FigureTable, draw: Callable[[FigureTable], Any]) -> Path:
        """Write the figure's four files into a new set folder that is not yet current.

        ``ramplab figures`` stages figures in worker processes and commits them in its own.

        Parameters
        ----------
        table : FigureTable
            The figure's numbers.
        draw : callable
            ``draw(table) -> matplotlib.figure.Figure``.

        Returns
        -------
        pathlib.Path
            The set folder (inside the output folder's hidden ``.ramplab`` store); pass it to
            :meth:`commit`. On an error it is removed.

        Raises
        ------
        TypeError
            When ``table`` is not a :class:`FigureTable`.
        """
        import matplotlib.pyplot as plt

        if not isinstance(table, FigureTable):
            raise TypeError(f"table must be a FigureTable (what a figure's data returns); got {type(table).__name__}")
        for target in self.outputs():
            if target.is_dir() and not target.is_symlink():
                raise IsADirectoryError(f"cannot write {target}: it is a folder")
        folder = _sets.new_set(self.out_dir, self.name)
        try:
            names = [p.name for p in self.outputs()]
            with (folder / names[-2]).open("x", newline="") as fh:
                table.write_csv(fh)
            info = {
                "figure": self.name,
                "quick": self.quick,
                "backend": self.backend,
                "seed": self.seed,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "versions": _versions(),
                **({"sweeps": list(self.sweeps)} if self.sweeps else {}),
                **({"data_seconds": round(self.seconds, 3)} if self.seconds is not None else {}),
                **jsonable(dict(table.summary)),
            }
            (folder / names[-1]).write_text(json.dumps(info, indent=2, sort_keys=False) + "\n")
            fig = draw(table)
            try:
                for fmt, fname in zip(self.formats, names):
                    fig.savefig(folder / fname, format=fmt, dpi=150 if fmt == "png" else None, bbox_inches="tight")
            finally:
                plt.close(fig)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _sets.fault("staged")
        return folder

    def commit(self, folder: Path) -> list[Path]:
        """Make a staged set folder the figure's current files, in one rename, under the folder lock.

        Ctrl-C is held back until the switch is done.

        Parameters
        ----------
        folder : pathlib.Path
            What :meth:`stage` returned.

        Returns
        -------
        list of pathlib.Path
            The figure's files (:meth:`outputs`), now showing the new set.
        """
        targets = self.outputs()
        try:
            with _sets.output_lock(self.out_dir), _sets.held_sigint():
                _sets.commit(self.out_dir, self.name, Path(folder), [p.name for p in targets])
        except BaseException:
            current = (self.out_dir / _sets.STORE / self.name).resolve()
            if Path(folder).exists() and current != Path(folder).resolve():  # not switched in: drop it
                shutil.rmtree(folder, ignore_errors=True)
            raise
        self.written.extend(targets)
        return targets


def _versions() -> dict[str, object]:
    import matplotlib
    import scipy
    import sympy

    from .. import build_provenance

    return {
        **build_provenance(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
        "matplotlib": matplotlib.__version__,
    }
