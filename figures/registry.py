"""Figure registry: every figure is a function registered under a name, run by ``ramplab figures``.

A figure function takes a :class:`FigureContext` and returns nothing; it draws with matplotlib and
calls :meth:`FigureContext.save`, which writes ``NAME.png``, ``NAME.pdf``, ``NAME.csv`` (exactly the
plotted numbers, long format) and ``NAME.json`` (parameters, seed, versions, key figures).
"""

from __future__ import annotations

import csv
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

__all__ = ["FigureContext", "FigureSpec", "REGISTRY", "register"]


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: its name, a one-line description and the function that builds it."""

    name: str
    description: str
    build: Callable[["FigureContext"], None]


REGISTRY: dict[str, FigureSpec] = {}


def register(name: str, description: str) -> Callable[[Callable[["FigureContext"], None]], Callable]:
    """Register ``build(ctx)`` under ``name`` (decorator). Names are unique."""

    def decorate(build: Callable[["FigureContext"], None]) -> Callable[["FigureContext"], None]:
        if name in REGISTRY:
            raise ValueError(f"figure name {name!r} is already registered")
        REGISTRY[name] = FigureSpec(name, description, build)
        return build

    return decorate


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


@dataclass
class FigureContext:
    """What a figure builder gets: where to write, at which size, with which backend and seed."""

    name: str
    out_dir: Path
    quick: bool = False
    backend: str = "numpy"
    seed: int = 0
    formats: tuple[str, ...] = ("png", "pdf")
    written: list[Path] = field(default_factory=list)

    def save(
        self,
        fig: Any,
        rows: Iterable[Mapping[str, Any]],
        summary: Mapping[str, Any],
    ) -> list[Path]:
        """Write the figure, the plotted numbers (``rows``, one dict per plotted point) and a summary.

        ``rows`` is long format: every row carries the series it belongs to and its coordinates,
        so the CSV reproduces the plot without the figure code.
        """
        import matplotlib.pyplot as plt

        self.out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for fmt in self.formats:
            path = self.out_dir / f"{self.name}.{fmt}"
            fig.savefig(path, dpi=150 if fmt == "png" else None, bbox_inches="tight")
            paths.append(path)
        plt.close(fig)
        rows = list(rows)
        csv_path = self.out_dir / f"{self.name}.csv"
        columns: list[str] = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
        with csv_path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _jsonable(v) for k, v in row.items()})
        paths.append(csv_path)
        json_path = self.out_dir / f"{self.name}.json"
        info = {
            "figure": self.name,
            "quick": self.quick,
            "backend": self.backend,
            "seed": self.seed,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": _versions(),
            **_jsonable(dict(summary)),
        }
        json_path.write_text(json.dumps(info, indent=2, sort_keys=False) + "\n")
        paths.append(json_path)
        self.written.extend(paths)
        return paths


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
