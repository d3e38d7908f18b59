"""A progress bar on stderr for long simulations, drawn by tqdm (the ``sweeps`` extra).

Without tqdm installed, no bar is drawn (a requested one says once how to get it); the simulation
itself never depends on it.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, TextIO

__all__ = ["ProgressBar"]

_warned = False


def _tqdm() -> Any:
    """tqdm's class, or ``None`` when it is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class ProgressBar:
    """Progress of ``total`` units of work, redrawn in place at most every ``interval`` seconds.

    Parameters
    ----------
    total : int
        Units of work (the simulator counts run-steps).
    enabled : bool or None
        ``True`` draws from the start (on any stream), ``False`` never draws, ``None`` draws only on
        a terminal and only once the work has taken longer than ``delay`` seconds (short runs and
        logs stay silent).
    label : str
        Shown before the bar.
    delay, interval : float
        Seconds before the first draw (``enabled=None``) and between redraws. When the stream is
        not a terminal (a log file), a requested bar redraws at most every 15 seconds.
    stream : file, optional
        Defaults to ``sys.stderr``.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(10, enabled=True, label="demo", stream=out, interval=0.0)
    >>> bar.update(10); bar.close()
    >>> "demo" in out.getvalue() and "100%" in out.getvalue()
    True
    """

    def __init__(
        self,
        total: int,
        enabled: bool | None = None,
        *,
        label: str = "simulate",
        delay: float = 2.0,
        interval: float = 0.5,
        stream: TextIO | None = None,
    ) -> None:
        self.total, self.enabled, self.label = max(int(total), 1), enabled, label
        self.delay, self.interval = delay, interval
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        try:
            tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            tty = False
        self._bar = None
        if enabled is False or (enabled is None and not tty):
            return
        tqdm = _tqdm()
        if tqdm is None:
            global _warned
            if enabled is True and not _warned:
                _warned = True
                warnings.warn("progress bars need tqdm: pip install 'ramplab[sweeps]'", UserWarning, stacklevel=3)
            return
        self._bar = tqdm(total=self.total, desc=label, file=self.stream, leave=True, unit_scale=True,
                         mininterval=interval if tty else max(interval, 15.0),
                         delay=delay if enabled is None else 0.0, dynamic_ncols=tty)

    def update(self, amount: int) -> None:
        """Add ``amount`` units of finished work and redraw when due.

        Parameters
        ----------
        amount : int
            Units finished since the last call (run-steps for the simulator).
        """
        self.done += int(amount)
        if self._bar is not None:
            self._bar.update(int(amount))

    def close(self) -> None:
        """Draw the final state (if the bar was ever shown) and end the line."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
