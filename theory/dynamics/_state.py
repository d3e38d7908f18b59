"""The exact solver's state at one step: what a run hands back and what a run may start from."""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .._validate import describe, finite_real, nonnegative_int, strict_real_array

__all__ = ["SolverState", "solver_made"]

#: True while the solver builds a state from its own arrays (:func:`solver_made`).
_SOLVER_MADE: contextvars.ContextVar[bool] = contextvars.ContextVar("solver_made", default=False)


@contextlib.contextmanager
def solver_made():
    """``with solver_made():`` states built inside skip the value checks (signs, Cauchy–Schwarz), keeping the shape
    and pairing checks: the solver's own moments can sit a rounding error below 0 or past the bound where the exact
    ones cancel to 0 (kurtosis 1 and no noise at ``η = 1/λ``), and such a state is still the run's state."""
    token = _SOLVER_MADE.set(True)
    try:
        yield
    finally:
        _SOLVER_MADE.reset(token)

#: The companions of the second moment, in the order the loop stores them.
COMPANIONS = ("cross_moment", "previous_moment", "average_second_moment", "average_cross_moment",
              "average_previous_moment", "target_moment", "previous_target_moment", "average_target_moment")


def _frozen(value: Any, name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.array(strict_real_array(value, name), dtype=np.float64, copy=True)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {describe(value)}")
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
    target_moment : ndarray of shape (rows, d), or None
        With weight decay: the cross moment ``E e_t w*`` with the target (docs/math.md#weight-decay);
        ``−E w*²`` at the start (``w_0 = 0``), 0 on a variance row.
    previous_target_moment : ndarray of shape (rows, d), or None
        With weight decay and heavy ball: ``E e_{t−1} w*``.
    average_target_moment : ndarray of shape (d,), or None
        With weight decay and an average: ``E ē_t w*``.

    Raises
    ------
    TypeError, ValueError
        When built by hand with arrays that are not real, finite and of matching shapes, a negative
        second moment, or companions that do not come in their pairs (named).

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
    target_moment: np.ndarray | None = None
    previous_target_moment: np.ndarray | None = None
    average_target_moment: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "step", nonnegative_int(self.step, "step"))
        samples = self.samples
        if isinstance(samples, (int, np.integer)) and not isinstance(samples, (bool, np.bool_)):
            samples = nonnegative_int(samples, "samples")
        else:
            samples = finite_real(samples, "samples", minimum=0.0)
        object.__setattr__(self, "samples", samples)
        if self.second_moment is None:
            raise TypeError("second_moment must be an array of shape (1, d) or (3, d); got None")
        for f in fields(self):
            if f.name not in ("step", "samples"):
                object.__setattr__(self, f.name, _frozen(getattr(self, f.name), f.name))
        s = self.second_moment
        if s.ndim != 2 or s.shape[0] not in (1, 3) or s.shape[1] == 0:
            raise ValueError(f"second_moment must have shape (1, d) or (3, d); got shape {s.shape}")
        checked = not _SOLVER_MADE.get()  # a state the solver made is its run's state, rounding and all
        object.__setattr__(self, "_solver_made", not checked)
        if checked and np.any(s < 0):
            raise ValueError("second_moment must be ≥ 0 (a second moment)")
        if (self.cross_moment is None) != (self.previous_moment is None):
            raise ValueError("cross_moment and previous_moment come together (heavy ball) or not at all")
        for name in ("cross_moment", "previous_moment"):
            v = getattr(self, name)
            if v is not None and v.shape != s.shape:
                raise ValueError(f"{name} must have the shape of second_moment {s.shape}; got {v.shape}")
        if checked and self.previous_moment is not None and np.any(self.previous_moment < 0):
            raise ValueError("previous_moment must be ≥ 0 (a second moment)")
        if (self.average_second_moment is None) != (self.average_cross_moment is None):
            raise ValueError("average_second_moment and average_cross_moment come together (averaging) or not at all")
        if self.average_previous_moment is not None and (self.average_second_moment is None
                                                         or self.cross_moment is None):
            raise ValueError("average_previous_moment needs both the averaging and the heavy-ball moments")
        if self.cross_moment is not None and self.average_second_moment is not None \
                and self.average_previous_moment is None:
            raise ValueError("with heavy ball and averaging, average_previous_moment is needed too")
        if self.target_moment is None and (self.previous_target_moment is not None
                                           or self.average_target_moment is not None):
            raise ValueError("previous_target_moment and average_target_moment need target_moment (weight decay)")
        if self.target_moment is not None:
            if self.target_moment.shape != s.shape:
                raise ValueError(f"target_moment must have the shape of second_moment {s.shape}; got "
                                 f"{self.target_moment.shape}")
            if (self.previous_target_moment is None) != (self.cross_moment is None):
                raise ValueError("with weight decay, previous_target_moment comes with the heavy-ball moments "
                                 "(and only with them)")
            if self.previous_target_moment is not None and self.previous_target_moment.shape != s.shape:
                raise ValueError(f"previous_target_moment must have the shape of second_moment {s.shape}; got "
                                 f"{self.previous_target_moment.shape}")
            if (self.average_target_moment is None) != (self.average_second_moment is None):
                raise ValueError("with weight decay, average_target_moment comes with the averaging moments "
                                 "(and only with them)")
        for name in ("average_second_moment", "average_cross_moment", "average_previous_moment",
                     "average_target_moment"):
            v = getattr(self, name)
            if v is not None and v.shape != (s.shape[1],):
                raise ValueError(f"{name} must have shape ({s.shape[1]},); got {v.shape}")
        if checked and self.average_second_moment is not None and np.any(self.average_second_moment < 0):
            raise ValueError("average_second_moment must be ≥ 0 (a second moment)")
        # Cross moments of a covariance: |E uv| ≤ sqrt(E u² E v²), with slack for the rounding of a float32 run
        # (whose moments sit on that bound at the start, ē_0 = e_0 = e_{−1}).
        pairs = [("cross_moment", s, self.previous_moment, "second_moment and previous_moment")]
        if self.average_second_moment is not None:
            pairs.append(("average_cross_moment", s[0], self.average_second_moment,
                          "second_moment and average_second_moment"))
            if self.average_previous_moment is not None:
                pairs.append(("average_previous_moment", self.previous_moment[0], self.average_second_moment,
                              "previous_moment and average_second_moment"))
        for name, u2, v2, of in pairs if checked else ():
            v = getattr(self, name)
            with np.errstate(over="ignore"):  # a bound past float64 is no bound
                beyond = v is not None and bool(np.any(np.abs(v) > np.sqrt(u2) * np.sqrt(v2) * (1 + 1e-4) + 1e-300))
            if beyond:
                raise ValueError(f"{name} is not a cross moment of {of}: |{name}| exceeds the square root of their "
                                 f"product somewhere (Cauchy–Schwarz)")

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
    def decay(self) -> bool:
        """Whether the weight-decay cross moments with the target are present (docs/math.md#weight-decay)."""
        return self.target_moment is not None

    @property
    def averaging(self) -> bool:
        """Whether the iterate-average moments are present."""
        return self.average_second_moment is not None

    def __reduce__(self) -> tuple:
        # Through the constructor: a copy or an unpickled state is checked and read-only again (a state the solver
        # made, as the solver made it: see solver_made).
        return (_rebuild, (getattr(self, "_solver_made", False), self.step, self.samples,
                           *(getattr(self, n) for n in ("second_moment", *COMPANIONS))))


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


def _rebuild(made_by_solver: bool, *args: Any) -> SolverState:
    """A copied or unpickled :class:`SolverState` (``__reduce__``)."""
    if made_by_solver:
        with solver_made():
            return SolverState(*args)
    return SolverState(*args)
