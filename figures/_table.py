"""The table a figure's ``data`` returns: its plotted points, one row each, and its JSON summary.

pandas is not a dependency of ramplab, so the table is a small row container: a tuple of row dicts
(long format: every row carries the series it belongs to and its coordinates; rows of different
kinds may hold different columns) and a summary dict. The CSV is the rows, written by
:meth:`FigureTable.write_csv`; a figure's ``draw`` reads the rows back by column and selection.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterable, Mapping

import numpy as np

__all__ = ["FigureTable"]

_MISSING = object()


def jsonable(value: Any) -> Any:
    """``value`` as plain Python: mappings and sequences recursively, NumPy arrays and scalars
    unwrapped, non-finite floats as strings (JSON has none)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


def with_claim(table: FigureTable, claim: Callable[[dict], dict], paper_counterpart: dict | None = None
               ) -> FigureTable:
    """``table`` with its JSON summary's ``claim`` (``claim(table.summary)``: what the figure shows and the
    numbers supporting it) and, where given, ``paper_counterpart`` (the paper figure it redraws and what
    differs) added, in that order."""
    table.summary["claim"] = claim(table.summary)
    if paper_counterpart is not None:
        table.summary["paper_counterpart"] = paper_counterpart
    return table


def _is_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float, np.bool_, np.number))


@dataclass(frozen=True, init=False)
class FigureTable:
    """Exactly the plotted numbers of a figure (one row per point) and the key figures of its JSON.

    A figure module's ``data(ctx)`` computes and returns one; its ``draw(table)`` draws from it
    alone; :meth:`FigureContext.save <ramplab.figures.FigureContext.save>` writes the rows as the
    figure's CSV and the summary into its JSON.

    Parameters
    ----------
    rows : iterable of mapping, default ()
        The plotted points, one mapping of column name to value each (long format). Rows of
        different kinds may have different columns; the CSV's columns are their union, in order
        of first appearance, and a cell a row lacks is empty.
    summary : mapping, optional
        Parameters and key numbers for the JSON (and whatever ``draw`` needs beyond the points:
        titles' parameters, reference values). ``None``: empty.

    Attributes
    ----------
    rows : tuple of dict
        Copies of the given rows.
    summary : dict
        A copy of the given summary (its values are not copied).

    Examples
    --------
    >>> table = FigureTable([{"series": "a", "x": 1, "y": 0.5}, {"series": "b", "x": 1, "y": 0.25},
    ...                      {"series": "a", "x": 2, "y": 0.125}], {"note": "demo"})
    >>> len(table), table.columns
    (3, ('series', 'x', 'y'))
    >>> table.select(series="a").column("y").tolist(), table.unique("series")
    ([0.5, 0.125], ['a', 'b'])
    """

    rows: tuple[dict[str, Any], ...]
    summary: dict[str, Any]

    def __init__(self, rows: Iterable[Mapping[str, Any]] = (), summary: Mapping[str, Any] | None = None) -> None:
        copied = []
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise TypeError(f"rows[{i}] must be a mapping of column name to value; got {type(row).__name__}")
            copied.append(dict(row))
        if summary is not None and not isinstance(summary, Mapping):
            raise TypeError(f"summary must be a mapping or None; got {type(summary).__name__}")
        object.__setattr__(self, "rows", tuple(copied))
        object.__setattr__(self, "summary", dict(summary or {}))

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names: the union of the rows' keys, in order of first appearance."""
        names: dict[str, None] = {}
        for row in self.rows:
            names.update(dict.fromkeys(row))
        return tuple(names)

    def select(self, **equal: Any) -> FigureTable:
        """The rows whose columns equal the given values (a row without one of them is left out).

        Parameters
        ----------
        **equal
            Column name → value; a row is kept when ``row[name] == value`` for every pair.

        Returns
        -------
        FigureTable
            The kept rows, in their order, with the same summary.
        """
        kept = [row for row in self.rows
                if all(name in row and row[name] == value for name, value in equal.items())]
        return FigureTable(kept, self.summary)

    def where(self, keep: Callable[[dict[str, Any]], bool]) -> FigureTable:
        """The rows for which ``keep(row)`` is true.

        Parameters
        ----------
        keep : callable
            ``keep(row) -> bool``, called with each row (a dict).

        Returns
        -------
        FigureTable
            The kept rows, in their order, with the same summary.
        """
        return FigureTable([row for row in self.rows if keep(row)], self.summary)

    def column(self, name: str, default: Any = _MISSING) -> np.ndarray:
        """The values of one column, row by row.

        Parameters
        ----------
        name : str
            The column.
        default : optional
            Taken for a row without the column; without it such a row is an error.

        Returns
        -------
        numpy.ndarray
            Numbers (and booleans) as a numeric array, anything else as an object array.

        Raises
        ------
        KeyError
            When a row lacks the column and no ``default`` is given.
        """
        values = []
        for i, row in enumerate(self.rows):
            if name in row:
                values.append(row[name])
            elif default is _MISSING:
                raise KeyError(f"column {name!r} is missing from row {i} (columns of that row: {list(row)})")
            else:
                values.append(default)
        if values and all(_is_number(v) for v in values):
            return np.asarray(values)
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    def unique(self, name: str) -> list[Any]:
        """The distinct values of a column, in order of first appearance (rows without it skipped).

        Parameters
        ----------
        name : str
            The column.

        Returns
        -------
        list
            Its values, each once.
        """
        seen: list[Any] = []
        for row in self.rows:
            if name in row and row[name] not in seen:
                seen.append(row[name])
        return seen

    def write_csv(self, fh: IO[str]) -> None:
        """Write the rows as CSV: a header of :attr:`columns`, then one line per row.

        NumPy scalars and arrays are written as plain Python values; a cell a row lacks is empty.

        Parameters
        ----------
        fh : text file
            Open for writing (``newline=""``, as :mod:`csv` asks).
        """
        writer = csv.DictWriter(fh, fieldnames=list(self.columns))
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: jsonable(v) for k, v in row.items()})
