"""The 12 peer curves at full scale with the quadrature reduction (#20 item 1; docs/math.md#quadrature-reduction).

``d = 5·10⁵``, 50 000 steps, batch 1, SGD, uniform iterate averaging, ``λ_i = i^-a``,
``λ_i s_i(0) = i^-b`` for ``a ∈ {1.1, 1.5, 1.9}``, ``b ∈ {a, 2a}``, ``σ² = 0.01``, learning rate
``m/tr H`` constant and ``m/(tr H √t)`` with ``m = ½ m_max`` (the problems and schedules of
:mod:`ramplab.workloads`, as in ``ramplab bench --suite exact``'s full-scale part).
:func:`peer_scale_rows` times ``expected_risk(..., reduce=True)`` per problem (both schedules in one call)
and compares its risk and averaged risk with the uncompressed solver's at :data:`COMPARE_STEPS`.

The uncompressed reference costs ≈ 15 CPU-minutes at full scale; :func:`compute_reference` writes it once
to an ``.npz`` that :func:`peer_scale_rows` reads when its sizes match (``data/peer_scale_reference_<steps>.npz``
or :data:`REFERENCE`, shipped with the package), and otherwise computes it in the same process. Shipped:
``d = 5·10⁵`` at 5 000 steps (``peer_scale_rows(steps=5000)``); the 50 000-step file is not computed yet.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..theory import expected_risk
from ..workloads import FULL_SCALE_EXPONENTS, full_scale_m, full_scale_problem, full_scale_schedules

__all__ = ["COMPARE_STEPS", "REFERENCE", "compute_reference", "peer_scale_rows"]

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


def _uncompressed(dimension: int, steps: int) -> dict[str, np.ndarray]:
    checks = _checkpoints(steps)
    risk, avg = [], []
    for _, _, problem, pair in _cases(dimension, steps):
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


def _reference(dimension: int, steps: int, reference: str | Path | None) -> tuple[dict[str, np.ndarray], str]:
    paths = ([Path(reference)] if reference is not None
             else [REFERENCE.with_name(f"{REFERENCE.stem}_{steps}.npz"), REFERENCE])
    for path in paths:
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
        its first curve's row; ``0.0`` on the second), ``reduced_dimension``, ``reduction_error`` (the
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
        best, runs = np.inf, None
        for _ in range(max(1, int(repeat))):
            start = time.perf_counter()
            runs = expected_risk(problem, pair, average="uniform", checkpoints=checks, reduce=True)
            best = min(best, time.perf_counter() - start)
        for j, (name, run) in enumerate(zip(("constant", "1/sqrt(t)"), runs)):
            rows.append({
                "a": a, "b": b, "schedule": name, "seconds": best if j == 0 else 0.0,
                "reduced_dimension": run.reduced_dimension, "reduction_error": run.reduction_error,
                "error_risk": _rel(run.risk, ref["risk"][k]),
                "error_averaged_risk": _rel(run.averaged_risk, ref["averaged_risk"][k]),
                "reference": source,
            })
            k += 1
    return rows


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
    >>> print(report([{"a": 1.1, "b": 1.1, "schedule": "constant", "seconds": 0.5, "reduced_dimension": 90,
    ...                "reduction_error": 1e-13, "error_risk": 2e-14, "error_averaged_risk": 3e-14,
    ...                "reference": "cached"}]).splitlines()[-1])
    total 0.50 s for 1 curves; max error 3.0e-14 (estimate max 1.0e-13)
    """
    lines = [f"{'a':>4} {'b':>4} {'schedule':>10} {'seconds':>8} {'dim':>5} {'estimate':>9} {'err risk':>9} "
             f"{'err avg':>9}"]
    for r in rows:
        lines.append(f"{r['a']:>4.1f} {r['b']:>4.1f} {r['schedule']:>10} {r['seconds']:>8.2f} "
                     f"{r['reduced_dimension']:>5d} {r['reduction_error']:>9.1e} {r['error_risk']:>9.1e} "
                     f"{r['error_averaged_risk']:>9.1e}")
    total = sum(r["seconds"] for r in rows)
    err = max(max(r["error_risk"], r["error_averaged_risk"]) for r in rows)
    est = max(r["reduction_error"] for r in rows)
    lines.append(f"total {total:.2f} s for {len(rows)} curves; max error {err:.1e} (estimate max {est:.1e})")
    return "\n".join(lines)
