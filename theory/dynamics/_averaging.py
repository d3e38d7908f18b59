"""Iterate averages as per-step weights ρ_t: uniform, tail and exponential moving average.

Every average here follows one update, ``w̄_t = (1 − ρ_t) w̄_{t−1} + ρ_t w_t`` with ``w̄_0 = w_0``;
only the weights differ (``docs/math.md#iterate-averaging``). The exact solver tracks the average
with the three-moment recursion of that section, and the Monte Carlo applies the update to every
run, so both read the same weights from here.

- :class:`UniformAverage` — ``ρ_t = 1/t``: the mean of ``w_1 … w_t`` (Polyak–Ruppert).
- :class:`TailAverage` — ``ρ_t = 1`` before ``start`` (the average is the last iterate), then
  ``ρ_t = 1/(t − start + 1)``: the mean of ``w_start … w_t``.
- :class:`ExponentialAverage` — ``ρ_t = weight`` (a constant, or one weight per step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import as_numpy, finite_real, positive_int, strict_real_array

__all__ = ["Averaging", "ExponentialAverage", "TailAverage", "UniformAverage", "resolve_average"]


class Averaging:
    """Base of the iterate averages: subclasses define :meth:`weights`.

    Every average follows ``w̄_t = (1 − ρ_t) w̄_{t−1} + ρ_t w_t`` from ``w̄_0 = w_0``
    (docs/math.md#iterate-averaging); a subclass only says what ``ρ_t`` is.

    Examples
    --------
    >>> import numpy as np
    >>> class Halving(Averaging):
    ...     def weights(self, steps):
    ...         return np.full(np.shape(steps), 0.5)
    >>> Halving().weights(np.array([1, 2, 3])).tolist()
    [0.5, 0.5, 0.5]
    """

    def weights(self, steps: Any) -> np.ndarray:  # pragma: no cover - abstract
        """``ρ_t`` for the 1-based step indices ``steps``.

        Parameters
        ----------
        steps : array_like of int
            1-based step indices ``t`` (steps).

        Returns
        -------
        ndarray of float64, same shape as ``steps``
            The weights ``ρ_t`` of ``w̄_t = (1 − ρ_t) w̄_{t−1} + ρ_t w_t`` (docs/math.md#iterate-averaging).
        """
        raise NotImplementedError


@dataclass(frozen=True)
class UniformAverage(Averaging):
    """Uniform average of all iterates after step 0: ``ρ_t = 1/t``.

    Examples
    --------
    >>> UniformAverage().weights(np.array([1, 2, 4])).tolist()
    [1.0, 0.5, 0.25]
    """

    def weights(self, steps: Any) -> np.ndarray:
        """``ρ_t = 1/t``.

        Parameters
        ----------
        steps : array_like of int
            1-based step indices ``t`` (steps).

        Returns
        -------
        ndarray of float64, same shape as ``steps``
            The weights ``ρ_t`` of ``w̄_t = (1 − ρ_t) w̄_{t−1} + ρ_t w_t`` (docs/math.md#iterate-averaging).
        """
        return 1.0 / np.asarray(steps, dtype=np.float64)


@dataclass(frozen=True)
class TailAverage(Averaging):
    """Uniform average of the iterates from step ``start`` on (tail averaging).

    Parameters
    ----------
    start : int
        First step (1-based) in the average; before it the "average" is the last iterate.

    Examples
    --------
    >>> TailAverage(start=3).weights(np.arange(1, 6)).tolist()
    [1.0, 1.0, 1.0, 0.5, 0.3333333333333333]
    """

    start: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", positive_int(self.start, "start"))

    def weights(self, steps: Any) -> np.ndarray:
        """``ρ_t = 1`` before ``start``, then ``1/(t − start + 1)``.

        Parameters
        ----------
        steps : array_like of int
            1-based step indices ``t`` (steps).

        Returns
        -------
        ndarray of float64, same shape as ``steps``
            The weights ``ρ_t`` of ``w̄_t = (1 − ρ_t) w̄_{t−1} + ρ_t w_t`` (docs/math.md#iterate-averaging).
        """
        t = np.asarray(steps, dtype=np.float64)
        return np.where(t < self.start, 1.0, 1.0 / np.maximum(t - self.start + 1.0, 1.0))


@dataclass(frozen=True)
class ExponentialAverage(Averaging):
    """Exponential moving average ``w̄_t = (1 − ρ_t) w̄_{t−1} + ρ_t w_t`` from ``w̄_0 = w_0``.

    Parameters
    ----------
    weight : float or array_like of shape (T,)
        ``ρ ∈ (0, 1]``; an array gives one weight per step (step ``t`` uses ``weight[t − 1]``),
        and must be at least as long as the schedules averaged.

    Examples
    --------
    >>> ExponentialAverage(0.1).weights(np.array([1, 2])).tolist()
    [0.1, 0.1]
    >>> ExponentialAverage(1.5)
    Traceback (most recent call last):
    ...
    ValueError: weight must lie in (0, 1]; got 1.5
    """

    weight: Any = 0.01

    def __post_init__(self) -> None:
        if as_numpy(self.weight, "weight").ndim == 0:
            w = finite_real(self.weight, "weight")
            if not 0.0 < w <= 1.0:
                raise ValueError(f"weight must lie in (0, 1]; got {self.weight!r}")
            object.__setattr__(self, "weight", w)
            return
        try:
            arr = strict_real_array(self.weight, "weight")
        except (TypeError, ValueError) as exc:
            raise TypeError(f"weight must be a number or a 1-D array of numbers; got {self.weight!r}") from exc
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"weight must be a number or a non-empty 1-D array; got shape {arr.shape}")
        bad = ~(np.isfinite(arr) & (arr > 0) & (arr <= 1))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"weight must lie in (0, 1]; got {arr[i]!r} at step {i + 1}")
        arr.flags.writeable = False
        object.__setattr__(self, "weight", arr)

    def weights(self, steps: Any) -> np.ndarray:
        """``ρ_t = weight`` (or ``weight[t − 1]`` for a per-step array).

        Parameters
        ----------
        steps : array_like of int
            1-based step indices ``t`` (steps).

        Returns
        -------
        ndarray of float64, same shape as ``steps``
            The weights ``ρ_t`` of ``w̄_t = (1 − ρ_t) w̄_{t−1} + ρ_t w_t`` (docs/math.md#iterate-averaging).

        Raises
        ------
        ValueError
            If a step exceeds the length of a per-step ``weight`` array.
        """
        t = np.asarray(steps, dtype=np.int64)
        if as_numpy(self.weight, "weight").ndim == 0:
            return np.full(t.shape, float(self.weight))
        if t.size and int(t.max()) > self.weight.shape[0]:
            raise ValueError(f"weight has {self.weight.shape[0]} entries but step {int(t.max())} was asked for")
        return self.weight[t - 1]


def resolve_average(average: Any) -> Averaging | None:
    """``None`` → ``None``; ``"uniform"`` → :class:`UniformAverage`; an :class:`Averaging` as is.

    Parameters
    ----------
    average : None, "uniform" or Averaging
        The ``average=`` argument of the solvers (docs/math.md#iterate-averaging).

    Returns
    -------
    Averaging or None
        ``None`` when no average is tracked.

    Raises
    ------
    ValueError
        For any other string.
    TypeError
        For any other type.

    Examples
    --------
    >>> resolve_average("uniform")
    UniformAverage()
    """
    if average is None or isinstance(average, Averaging):
        return average
    if isinstance(average, str):
        if average == "uniform":
            return UniformAverage()
        raise ValueError(
            f"average must be None, 'uniform' or an Averaging (TailAverage(start), ExponentialAverage(weight)); "
            f"got {average!r}"
        )
    raise TypeError(f"average must be None, 'uniform' or an Averaging; got {type(average).__name__}")
