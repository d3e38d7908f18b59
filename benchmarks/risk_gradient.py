"""The exact gradient against one forward solve, side by side (``ramplab bench --suite gradient``).

Issue #22 item 1: :func:`ramplab.theory.risk_gradient` (forward sweep, checkpointed reverse sweep,
docs/math.md#risk-gradient) should cost at most 4 forward solves of the same schedule
(:func:`ramplab.theory.expected_risk`, fused kernel, ``checkpoints=[T]``, ``reduce=False``) at
``d = 10⁴`` and ``10⁵``. Each pair is timed interleaved in one process (best of ``repeat``), for SGD,
NSGD, SGD with uniform averaging and heavy ball, on a power-law problem with a three-segment
decaying-rate, growing-batch schedule. The ``memory`` part runs one gradient at ``d = T = 10⁵`` (full
size only) and reports the bytes it held (stored states, chunk buffer, per-step records). Nothing is
asserted: the tests check the rows exist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..theory import HeavyBall, Problem, Schedule, expected_risk, risk_gradient
from .exact_solver import Row

__all__ = ["FULL_GRADIENT_SIZES", "GRADIENT_PARTS", "GradientSizes", "QUICK_GRADIENT_SIZES", "measure"]

#: The parts, in the order they run.
GRADIENT_PARTS = ("ratio", "memory")
#: The optimizers timed (label → (optimizer, average)).
CASES: dict[str, tuple[Any, Any]] = {
    "sgd": ("sgd", None),
    "nsgd": ("nsgd", None),
    "sgd + uniform average": ("sgd", "uniform"),
    "heavy ball 0.5": (HeavyBall(0.5), None),
}


@dataclass(frozen=True)
class GradientSizes:
    """Sizes of the gradient benchmark.

    Parameters
    ----------
    ratio : tuple of (int, int)
        ``(d, steps)`` of the side-by-side timings.
    memory : tuple of (int, int) or None
        ``(d, steps)`` of the memory run (``None``: skipped).
    repeat : int
        Timed repetitions of each pair (best kept).

    Examples
    --------
    >>> QUICK_GRADIENT_SIZES.ratio, QUICK_GRADIENT_SIZES.memory
    (((1000, 300), (3000, 300)), None)
    """

    ratio: tuple[tuple[int, int], ...]
    memory: tuple[int, int] | None
    repeat: int


FULL_GRADIENT_SIZES = GradientSizes(ratio=((10_000, 10_000), (100_000, 10_000)), memory=(100_000, 100_000), repeat=2)
QUICK_GRADIENT_SIZES = GradientSizes(ratio=((1_000, 300), (3_000, 300)), memory=None, repeat=1)


def _case(d: int, steps: int) -> tuple[Problem, Schedule]:
    problem = Problem.power_law(d, a=1.5, b=1.0, noise_variance=0.1)
    lr = 0.5 / problem.trace
    a, b = steps // 2, steps // 4
    return problem, Schedule.from_segments([lr, lr / 2, lr / 4], [4, 8, 16], [a, b, steps - a - b])


def _best(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(sizes: GradientSizes = FULL_GRADIENT_SIZES, parts: Sequence[str] = GRADIENT_PARTS,
            progress: Callable[[str], None] | None = None) -> list[Row]:
    """Time ``risk_gradient`` beside ``expected_risk`` on the same schedules; see the module docstring.

    Parameters
    ----------
    sizes : GradientSizes
    parts : sequence of str
        Any of :data:`GRADIENT_PARTS`.
    progress : callable, optional
        Called with a line before each measurement.

    Returns
    -------
    list of Row
        Per ``(d, T)`` and optimizer: forward seconds, gradient seconds and their ratio; the memory row.

    Examples
    --------
    >>> rows = measure(GradientSizes(ratio=((50, 20),), memory=None, repeat=1), parts=["ratio"])
    >>> rows[2].item, rows[2].unit
    ('sgd: gradient / forward', 'x')
    """
    rows: list[Row] = []
    say = progress or (lambda line: None)
    if "ratio" in parts:
        for d, steps in sizes.ratio:
            problem, sched = _case(d, steps)
            part = f"gradient vs one forward solve (d={d}, T={steps})"
            for label, (opt, avg) in CASES.items():
                say(f"gradient bench: d={d}, T={steps}, {label}")

                def forward() -> Any:
                    return expected_risk(problem, sched, opt, average=avg, checkpoints=[steps], reduce=False,
                                         progress=False)

                def gradient() -> Any:
                    return risk_gradient(problem, sched, opt, average=avg)

                forward(), gradient()  # compile, warm
                t_fwd = t_grad = float("inf")
                for _ in range(sizes.repeat):  # interleaved: both see the same machine load
                    t_fwd = min(t_fwd, _best(forward, 1))
                    t_grad = min(t_grad, _best(gradient, 1))
                rows.append(Row(part, f"{label}: forward", t_fwd, "s", "expected_risk, fused kernel"))
                rows.append(Row(part, f"{label}: gradient", t_grad, "s", "risk_gradient (forward + reverse sweep)"))
                rows.append(Row(part, f"{label}: gradient / forward", t_grad / t_fwd, "x", "target ≤ 4"))
    if "memory" in parts and sizes.memory is not None:
        d, steps = sizes.memory
        say(f"gradient bench: memory at d={d}, T={steps}")
        problem, sched = _case(d, steps)
        t = time.perf_counter()
        g = risk_gradient(problem, sched)
        wall = time.perf_counter() - t
        part = f"memory (d={d}, T={steps}, SGD)"
        rows.append(Row(part, "held by risk_gradient", float(g.memory_bytes), "B",
                        f"stored states every {g.chunk} steps, sub-chunks of {g.sub_chunk}, per-step records"))
        rows.append(Row(part, "wall time", wall, "s", ""))
    return rows
