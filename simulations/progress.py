"""A one-line progress bar on stderr for long simulations (no third-party dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Progress of ``total`` units of work, redrawn in place at most every ``interval`` seconds.

    Parameters
    ----------
    total : int
        Units of work (the simulator counts run-steps).
    enabled : bool or None
        ``True`` draws from the start, ``False`` never draws, ``None`` starts drawing only once the
        work has taken longer than ``delay`` seconds (short runs stay silent).
    label : str
    delay, interval : float
        Seconds before the first draw (``enabled=None``) and between redraws. When the stream is
        not a terminal (a log file), the bar is printed as whole lines at most every 15 seconds.
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
            self._tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self._tty = False
        if not self._tty:
            self.interval = max(interval, 15.0)
        self._start = time.perf_counter()
        self._last = -float("inf")
        self._drawn = False

    def update(self, amount: int) -> None:
        """Add ``amount`` units of finished work and redraw when due."""
        self.done += int(amount)
        if self.enabled is False:
            return
        now = time.perf_counter()
        if now - self._last < self.interval:
            return
        if self.enabled is None and now - self._start < self.delay:
            return
        self._draw(now)

    def _draw(self, now: float) -> None:
        self._last = now
        frac = min(self.done / self.total, 1.0)
        elapsed = now - self._start
        left = elapsed * (1 - frac) / frac if frac > 0 else float("inf")
        width = 30
        filled = int(round(width * frac))
        bar = "#" * filled + "." * (width - filled)
        eta = f"~{left:.0f} s left" if frac < 1 else "done"
        line = f"[{self.label}] [{bar}] {100 * frac:3.0f}% {elapsed:.1f} s, {eta}"
        self.stream.write(f"\r{line}   " if self._tty else f"{line}\n")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Draw the final state (if the bar was ever shown) and end the line."""
        if self._drawn or self.enabled is True:
            self._draw(time.perf_counter())
            if self._tty:
                self.stream.write("\n")
            self.stream.flush()
