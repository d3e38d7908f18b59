"""The 12 peer curves at full scale with the quadrature reduction (#20 item 1; docs/math.md#quadrature-reduction).

``d = 5·10⁵``, 50 000 steps, batch 1, SGD, uniform iterate averaging, ``λ_i = i^-a``,
``λ_i s_i(0) = i^-b`` for ``a ∈ {1.1, 1.5, 1.9}``, ``b ∈ {a, 2a}``, ``σ² = 0.01``, learning rate
``m/tr H`` constant and ``m/(tr H √t)`` with ``m = ½ m_max`` (the problems and schedules of
:mod:`ramplab.workloads`, as in ``ramplab bench --suite exact``'s full-scale part).
:func:`peer_scale_rows` times ``expected_risk(..., reduce=True)`` per problem (both schedules in one call)
and compares its risk and averaged risk with the uncompressed solver's at :data:`COMPARE_STEPS`.

The uncompressed reference costs ≈ 15 CPU-minutes at full scale (far more on a loaded machine);
:func:`compute_reference` writes it once to an ``.npz`` that :func:`peer_scale_rows` reads when its sizes match
(``data/peer_scale_reference_<steps>.json``, then ``.npz``, then :data:`REFERENCE`, shipped with the package), and
otherwise computes it in the same process. Shipped: ``d = 5·10⁵`` at 5 000 steps (``.npz``) and at 50 000 steps
(``peer_scale_reference_50000.json``: hexadecimal floats with the command, commit and dates that produced them,
from ``expected_risk(..., reduce=False)`` with one numba thread).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..theory import expected_risk
from ..workloads import FULL_SCALE_EXPONENTS, full_scale_m, full_scale_problem, full_scale_schedules

__all__ = ["COMPARE_STEPS", "REFERENCE", "compute_reference", "peer_scale_rows", "read_json_reference", "report"]

#: Steps at which the reduced and the uncompressed curves are compared (those ≤ the horizon).
COMPARE_STEPS = (0, 1, 10, 100, 1_000, 5_000, 10_000, 20_000, 30_000, 40_000, 50_000)
#: The cached uncompressed values at full scale.
REFERENCE = Path(__file__).resolve().parent / "data" / "peer_scale_reference.npz"
M_FRACTION = 0.5


def _cases(dimension: int, steps: int) -> list[tuple[float, float, Any, Any]]:
    out = []
    for a, b in FULL_SCALE_EXPONENTS:
        problem = full_scale_problem(dimension, a, b)
        m, _ = full_scale_m(problem, M_FRACTION)
        out.append((a, b, problem, full_scale_schedules(problem, steps, m)))
    return out


def _checkpoints(steps: int) -> list[int]:
    return sorted({k for k in COMPARE_STEPS if k <= steps} | {steps})


def _uncompressed(dimension: int, steps: int, skip: int = 0) -> dict[str, np.ndarray]:
    checks = _checkpoints(steps)
    risk, avg = [], []
    for _, _, problem, pair in _cases(dimension, steps)[skip:]:
        for t in expected_risk(problem, pair, average="uniform", checkpoints=checks, reduce=False):
            risk.append(t.risk)
            avg.append(t.averaged_risk)
    return {"dimension": np.array(dimension), "steps": np.array(steps), "checkpoints": np.array(checks),
            "risk": np.array(risk), "averaged_risk": np.array(avg)}


def compute_reference(path: str | Path = REFERENCE, *, dimension: int = 500_000, steps: int = 50_000) -> Path:
    """Compute the uncompressed values of the 12 curves and save them to ``path`` (``.npz``).

    Parameters
    ----------
    path : str or Path, default :data:`REFERENCE`
    dimension, steps : int
        Problem size and horizon (full scale by default: ≈ 15 CPU-minutes).

    Returns
    -------
    Path
        Where the values were written (keys ``dimension``, ``steps``, ``checkpoints``, ``risk``,
        ``averaged_risk``; curves in the order problem × (constant, ``1/√t``)).

    Examples
    --------
    >>> import tempfile, os
    >>> out = compute_reference(os.path.join(tempfile.mkdtemp(), "ref.npz"), dimension=200, steps=20)
    >>> sorted(np.load(out).files)
    ['averaged_risk', 'checkpoints', 'dimension', 'risk', 'steps']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **_uncompressed(int(dimension), int(steps)))
    return path


def read_json_reference(path: str | Path) -> dict[str, Any]:
    """The uncompressed values of a ``.json`` reference (curves in the order problem × (constant, ``1/√t``)).

    Parameters
    ----------
    path : str or Path
        A file with keys ``dimension``, ``steps``, ``checkpoints``, ``provenance`` and ``curves`` (each with
        ``a``, ``b``, ``schedule`` and ``risk``/``averaged_risk`` as hexadecimal floats, ``float.hex``).

    Returns
    -------
    dict
        ``dimension``, ``steps``, ``checkpoints``, ``risk`` and ``averaged_risk`` (arrays of shape
        ``(curves, checkpoints)``), ``provenance`` and ``complete`` (all 12 curves present).

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "ref.json")
    >>> _ = open(f, "w").write(json.dumps({"dimension": 10, "steps": 2, "checkpoints": [0, 2], "provenance": {},
    ...     "curves": [{"a": 1.1, "b": 1.1, "schedule": "constant", "risk": ["0x1.0p+0", "0x1.0p-1"],
    ...                 "averaged_risk": ["0x1.0p+0", "0x1.8p-1"]}]}))
    >>> ref = read_json_reference(f)
    >>> ref["risk"].tolist(), ref["averaged_risk"].tolist(), ref["complete"]
    ([[1.0, 0.5]], [[1.0, 0.75]], False)
    """
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    curves = doc["curves"]
    return {"dimension": np.array(doc["dimension"]), "steps": np.array(doc["steps"]),
            "checkpoints": np.array(doc["checkpoints"]),
            "risk": np.array([[float.fromhex(v) for v in c["risk"]] for c in curves]).reshape(len(curves), -1),
            "averaged_risk": np.array([[float.fromhex(v) for v in c["averaged_risk"]] for c in curves]
                                      ).reshape(len(curves), -1),
            "provenance": doc.get("provenance", {}), "complete": len(curves) == 2 * len(FULL_SCALE_EXPONENTS)}


def _reference(dimension: int, steps: int, reference: str | Path | None) -> tuple[dict[str, np.ndarray], str]:
    paths = ([Path(reference)] if reference is not None
             else [REFERENCE.with_name(f"{REFERENCE.stem}_{steps}.json"),
                   REFERENCE.with_name(f"{REFERENCE.stem}_{steps}.npz"), REFERENCE])
    for path in paths:
        if path.suffix == ".json" and path.exists():
            cached = read_json_reference(path)
            if int(cached["dimension"]) == dimension and int(cached["steps"]) == steps:
                if cached["complete"]:
                    return cached, f"cached {path.name}"
                missing = _uncompressed(dimension, steps, skip=cached["risk"].shape[0] // 2)
                for key in ("risk", "averaged_risk"):
                    cached[key] = np.concatenate([cached[key], missing[key]])
                return cached, f"cached {path.name} ({len(cached['risk']) - len(missing['risk'])} curves), rest here"
            continue
        if path.exists():
            with np.load(path) as data:
                cached = {k: data[k] for k in data.files}
            if int(cached["dimension"]) == dimension and int(cached["steps"]) == steps:
                return cached, f"cached {path.name}"
    start = time.perf_counter()
    values = _uncompressed(dimension, steps)
    return values, f"computed here in {time.perf_counter() - start:.1f} s"


def _rel(x: np.ndarray, ref: np.ndarray) -> float:
    x, ref = np.asarray(x, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(x == ref, 0.0, np.abs(x - ref) / np.abs(ref))
    return float(np.max(gap))


def peer_scale_rows(*, dimension: int = 500_000, steps: int = 50_000, reference: str | Path | None = None,
                    repeat: int = 2) -> list[dict[str, Any]]:
    """Wall time and error of the quadrature-reduced solver on the 12 peer curves.

    Parameters
    ----------
    dimension, steps : int
        Problem size and horizon (the peer scale by default).
    reference : str or Path, optional
        An ``.npz`` from :func:`compute_reference`; default ``data/peer_scale_reference_<steps>.npz``, then
        :data:`REFERENCE`. Used when its sizes match;
        otherwise the uncompressed values are computed here (≈ 15 CPU-minutes at full scale).
    repeat : int, default 2
        Timed runs per problem; the best is reported (the first also pays numba's compilation).

    Returns
    -------
    list of dict
        One row per curve: ``a``, ``b``, ``schedule`` (``"constant"`` or ``"1/sqrt(t)"``), ``seconds``
        (warm wall time of the call that solved the problem's two curves, counted once per problem, on
        its first curve's row; ``0.0`` on the second), ``cpu_seconds`` (the same call's CPU time, all threads:
        on a loaded machine the wall time measures the load), ``reduced_dimension``, ``reduction_error`` (the
        solver's estimate), ``error_risk`` and ``error_averaged_risk`` (largest relative difference to
        the uncompressed values at :data:`COMPARE_STEPS`), and ``reference`` (where the uncompressed
        values came from).

    Examples
    --------
    >>> rows = peer_scale_rows(dimension=3_000, steps=200, repeat=1)
    >>> len(rows), max(r["error_averaged_risk"] for r in rows) < 1e-11
    (12, True)
    """
    dimension, steps = int(dimension), int(steps)
    checks = _checkpoints(steps)
    ref, source = _reference(dimension, steps, reference)
    rows = []
    k = 0
    for a, b, problem, pair in _cases(dimension, steps):
        best, best_cpu, runs = np.inf, np.inf, None
        for _ in range(max(1, int(repeat))):
            start, cpu = time.perf_counter(), time.process_time()
            runs = expected_risk(problem, pair, average="uniform", checkpoints=checks, reduce=True, progress=False)
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        for j, (name, run) in enumerate(zip(("constant", "1/sqrt(t)"), runs)):
            rows.append({
                "a": a, "b": b, "schedule": name, "seconds": best if j == 0 else 0.0,
                "cpu_seconds": best_cpu if j == 0 else 0.0,
                "reduced_dimension": run.reduced_dimension, "reduction_error": run.reduction_error,
                "error_risk": _rel(run.risk, ref["risk"][k]),
                "error_averaged_risk": _rel(run.averaged_risk, ref["averaged_risk"][k]),
                "reference": source,
            })
            k += 1
    return rows


def _load() -> str:
    """``"; load avg 1.0/… on N cores"`` where the OS reports it (wall times on a shared machine measure its load)."""
    try:
        import os

        one, five, fifteen = os.getloadavg()
        return f"; load avg {one:.1f}/{five:.1f}/{fifteen:.1f} on {os.cpu_count()} cores"
    except (AttributeError, OSError):  # pragma: no cover - platforms without getloadavg
        return ""


def report(rows: list[dict[str, Any]]) -> str:
    """The rows of :func:`peer_scale_rows` as a text table with a total.

    Parameters
    ----------
    rows : list of dict

    Returns
    -------
    str

    Examples
    --------
    >>> print(report([{"a": 1.1, "b": 1.1, "schedule": "constant", "seconds": 0.5, "cpu_seconds": 0.4,
    ...                "reduced_dimension": 90, "reduction_error": 1e-13, "error_risk": 2e-14,
    ...                "error_averaged_risk": 3e-14, "reference": "cached"}]).splitlines()[-1])
    total 0.50 s wall, 0.40 CPU-s for 1 curves; max error 3.0e-14 (estimate max 1.0e-13); reference: cached...
    """
    lines = [f"{'a':>4} {'b':>4} {'schedule':>10} {'wall s':>7} {'CPU s':>6} {'dim':>5} {'estimate':>9} "
             f"{'err risk':>9} {'err avg':>9}"]
    for r in rows:
        lines.append(f"{r['a']:>4.1f} {r['b']:>4.1f} {r['schedule']:>10} {r['seconds']:>7.2f} "
                     f"{r.get('cpu_seconds', float('nan')):>6.2f} "
                     f"{r['reduced_dimension']:>5d} {r['reduction_error']:>9.1e} {r['error_risk']:>9.1e} "
                     f"{r['error_averaged_risk']:>9.1e}")
    total = sum(r["seconds"] for r in rows)
    cpu = sum(r.get("cpu_seconds", float("nan")) for r in rows)
    err = max(max(r["error_risk"], r["error_averaged_risk"]) for r in rows)
    est = max(r["reduction_error"] for r in rows)
    lines.append(f"total {total:.2f} s wall, {cpu:.2f} CPU-s for {len(rows)} curves; max error {err:.1e} "
                 f"(estimate max {est:.1e}); reference: {rows[0]['reference']}{_load()}")
    return "\n".join(lines)
