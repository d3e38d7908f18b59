"""The four-definition figure's data through the sweep API (issue #23, speed target: d = 10³ in ≤ 2 min on 2 cores).

``ramplab bench --suite critical-batch-figure`` builds ``critical_batch_definitions``'s table (``data(ctx)``) at full
size (d = 1000) on a pool of two worker processes, and prints the wall time of each sweep and of the whole, against
the 120 s target (``--quick``: the CI size, serial). Nothing is asserted.
"""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["measure", "report"]

TARGET_SECONDS = 120.0


def measure(*, quick: bool = False, workers: int = 2) -> dict:
    """Wall time of the figure's data at full (``d = 1000``, ``workers`` processes) or quick size (serial).

    Parameters
    ----------
    quick : bool, default False
    workers : int, default 2

    Returns
    -------
    dict
        ``seconds`` (the whole ``data``), ``sweeps`` (each sweep's rows and seconds), ``d``, ``workers``.

    Raises
    ------
    TypeError
        When ``quick`` is not a bool.
    ValueError
        When ``workers`` is not a positive int (both checked before anything runs).

    Examples
    --------
    The quick size builds the CI-sized figure data serially (about 10 s, so not run as a doctest):

    >>> result = measure(quick=True)  # doctest: +SKIP
    >>> result["workers"]  # doctest: +SKIP
    1
    """
    if not isinstance(quick, bool):
        raise TypeError(f"quick must be a bool; got {type(quick).__name__}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int; got {workers!r}")
    from ramplab.figures import REGISTRY, load_all
    from ramplab.figures.registry import FigureContext
    from ramplab.sweeps import open_executor

    load_all()
    spec = REGISTRY["critical_batch_definitions"]
    start = time.perf_counter()
    with open_executor("serial" if quick else "processes", workers=None if quick else workers) as executor:
        ctx = FigureContext(name=spec.name, out_dir=Path("unused"), quick=quick, executor=executor)
        table = spec.data(ctx)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "sweeps": list(ctx.sweeps), "d": table.summary["problem"]["d"],
            "workers": 1 if quick else workers}


def report(result: dict) -> str:
    """The measurement as text: per sweep, then the whole against the target.

    Parameters
    ----------
    result : dict
        What :func:`measure` returned.

    Returns
    -------
    str
        One line per sweep (tasks, seconds), then the total as a fraction of the 120 s target.

    Examples
    --------
    >>> print(report({"d": 1000, "workers": 2, "seconds": 60.0,
    ...               "sweeps": [{"function": "pareto", "rows": 12, "seconds": 40.0}]}))
    critical_batch_definitions data at d = 1000 on 2 worker(s)
      pareto        12 tasks      40.0 s
      total 60.0 s = 0.50 × the 120 s target
    """
    lines = [f"critical_batch_definitions data at d = {result['d']} on {result['workers']} worker(s)"]
    for s in result["sweeps"]:
        lines.append(f"  {s['function']:<12} {s['rows']:3d} tasks  {s['seconds']:8.1f} s")
    lines.append(f"  total {result['seconds']:.1f} s = {result['seconds'] / TARGET_SECONDS:.2f} × the "
                 f"{TARGET_SECONDS:.0f} s target")
    return "\n".join(lines)
