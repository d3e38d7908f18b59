"""The exact solver's state at one step: what a run hands back and what a run may start from."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = ["SolverState"]

#: The companions of the second moment, in the order the loop stores them.
COMPANIONS = ("cross_moment", "previous_moment", "average_second_moment", "average_cross_moment",
              "average_previous_moment")


def _frozen(value: Any, name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.array(value, dtype=np.float64, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class SolverState:
    """The exact solver state of one schedule after ``step`` steps (docs/math.md#solver-state).

    :meth:`RiskTrajectory.state_at <ramplab.theory.RiskTrajectory.state_at>` returns it;
    ``expected_risk(problem, schedule, initial_state=state)`` continues from it, bit for bit the
    uninterrupted run. Arrays are read-only float64 NumPy arrays, in the eigenbasis.

    Attributes
    ----------
    step : int
        Steps taken since the start of the trajectory (the first run of the chain).
    samples : int or float
        Cumulative samples after ``step`` steps.
    second_moment : ndarray, shape (rows, d)
        ``E e_t²`` per coordinate (``e = w − w*``); ``rows = 1``, or 3 with ``split`` (the full run,
        its bias run and its variance run).
    cross_moment, previous_moment : ndarray of shape (rows, d), or None
        Heavy-ball momentum's ``E e_t e_{t−1}`` and ``E e_{t−1}²`` (docs/math.md#heavy-ball-momentum).
    average_second_moment, average_cross_moment : ndarray of shape (d,), or None
        With an iterate average ``ē``: ``E ē_t²`` and ``E ē_t e_t`` (docs/math.md#iterate-averaging).
    average_previous_moment : ndarray of shape (d,), or None
        With momentum and an average: ``E ē_t e_{t−1}`` (docs/math.md#heavy-ball-averaging).

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule, expected_risk
    >>> p = Problem.isotropic(2)
    >>> state = expected_risk(p, Schedule.constant(0.1, 2, steps=4)).state_at(4)
    >>> state.step, state.samples, state.second_moment.shape
    (4, 8, (1, 2))
    """

    step: int
    samples: int | float
    second_moment: np.ndarray
    cross_moment: np.ndarray | None = None
    previous_moment: np.ndarray | None = None
    average_second_moment: np.ndarray | None = None
    average_cross_moment: np.ndarray | None = None
    average_previous_moment: np.ndarray | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name not in ("step", "samples"):
                object.__setattr__(self, f.name, _frozen(getattr(self, f.name), f.name))
        if self.second_moment.ndim != 2 or self.second_moment.shape[0] not in (1, 3):
            raise ValueError(f"second_moment must have shape (1, d) or (3, d); got {self.second_moment.shape}")

    @property
    def dimension(self) -> int:
        """``d``, the number of coordinates."""
        return int(self.second_moment.shape[1])

    @property
    def split(self) -> bool:
        """Whether the bias and variance runs come along (``expected_risk(..., split=True)``)."""
        return self.second_moment.shape[0] == 3

    @property
    def momentum(self) -> bool:
        """Whether the heavy-ball companions are present."""
        return self.cross_moment is not None

    @property
    def averaging(self) -> bool:
        """Whether the iterate-average moments are present."""
        return self.average_second_moment is not None

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays that are present, by field name.

        Returns
        -------
        dict of str to ndarray
            ``second_moment`` and whichever companions the run kept.
        """
        return {name: getattr(self, name) for name in ("second_moment", *COMPANIONS)
                if getattr(self, name) is not None}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SolverState):
            return NotImplemented
        mine, theirs = self.arrays(), other.arrays()
        return (self.step == other.step and self.samples == other.samples and mine.keys() == theirs.keys()
                and all(np.array_equal(mine[k], theirs[k], equal_nan=True) for k in mine))

    __hash__ = None  # type: ignore[assignment]
