"""Progress of long computations on stderr: a tqdm bar on a terminal, plain lines in a log.

On a terminal the bar is drawn by tqdm (the ``sweeps`` extra) and redrawn in place; when stderr is
not a terminal (a log file, a batch job, a pipe) the progress is written as one plain line every
``log_interval`` seconds (default 30) and a last line when the work ends — no carriage returns, so
logs stay readable. Both start only once the work has taken ``delay`` seconds (default 2), so short
calls stay silent.

The environment can change the defaults (for batch systems and tests):

``RAMPLAB_PROGRESS``
    ``off``: no progress where the caller left the choice (``enabled=None``) to the library;
    ``lines``: plain lines even on a terminal (what ``ramplab figures`` uses in its worker processes,
    which share one terminal).
``RAMPLAB_PROGRESS_DELAY``, ``RAMPLAB_PROGRESS_INTERVAL``
    Seconds before the first report, and between two plain lines.

Without tqdm installed a terminal gets plain lines too; the computation never depends on either.

The exact solver (``expected_risk(..., progress=...)``), the Monte Carlo (``simulate``), sweeps and
``ramplab figures`` all report through this one class; it is public as
:mod:`ramplab.simulations.progress`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, Callable, Iterator, TextIO

__all__ = ["ProgressBar", "progress_prefix"]

_prefix: list[str] = []


@contextlib.contextmanager
def progress_prefix(text: str) -> Iterator[None]:
    """Put ``text`` before the label of every progress bar and line started inside the block.

    ``ramplab figures`` names the figure this way (``[figures] monte_carlo: simulate …``).

    Parameters
    ----------
    text : str
        The prefix, e.g. ``"[figures] monte_carlo: "``.

    Yields
    ------
    None

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with progress_prefix("[job 7] "):
    ...     bar = ProgressBar(4, enabled=True, label="demo", stream=out, lines=True)
    >>> bar.update(4); bar.close()
    >>> out.getvalue().splitlines()[-1].startswith("[job 7] demo: 100%")
    True
    """
    _prefix.append(str(text))
    try:
        yield
    finally:
        _prefix.pop()


def _tqdm() -> Any:
    """tqdm's class, or ``None`` when it is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def _env_seconds(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value >= 0 and value == value else default


def _count(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}"


def _seconds(s: float) -> str:
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class ProgressBar:
    """Progress of ``total`` units of work: a tqdm bar on a terminal, plain periodic lines in a log.

    Parameters
    ----------
    total : int
        Units of work (the simulator counts run-steps, a sweep its specs).
    enabled : bool or None
        ``True`` reports from the start, ``False`` never, ``None`` only once the work has taken
        longer than ``delay`` seconds (short calls stay silent), on a terminal as a bar and in a
        log as lines; ``RAMPLAB_PROGRESS=off`` silences this case.
    label : str
        Shown before the bar or in each line.
    delay : float, optional
        Seconds before the first report when ``enabled`` is ``None`` (default 2, or
        ``RAMPLAB_PROGRESS_DELAY``).
    interval : float
        Seconds between two redraws of a bar.
    stream : file, optional
        Defaults to ``sys.stderr``.
    lines : bool, optional
        Force plain lines (``True``) or a bar (``False``); default: a bar on a terminal with tqdm
        installed and ``RAMPLAB_PROGRESS`` not ``lines``, else lines.
    log_interval : float, optional
        Seconds between two plain lines (default 30, or ``RAMPLAB_PROGRESS_INTERVAL``).
    unit : str
        What one unit of work is called in a bar.
    clock : callable, optional
        Seconds now, for the plain lines (default :func:`time.monotonic`; tests pass a fake clock).

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
        delay: float | None = None,
        interval: float = 0.5,
        stream: TextIO | None = None,
        lines: bool | None = None,
        log_interval: float | None = None,
        unit: str = "it",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.total, self.enabled = max(int(total), 1), enabled
        self.label = "".join(_prefix) + label
        self.delay = _env_seconds("RAMPLAB_PROGRESS_DELAY", 2.0) if delay is None else float(delay)
        self.interval = interval
        self.log_interval = (_env_seconds("RAMPLAB_PROGRESS_INTERVAL", 30.0) if log_interval is None
                             else float(log_interval))
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self._clock = time.monotonic if clock is None else clock
        self._bar = None
        self._lines = False
        self._printed = False
        mode = os.environ.get("RAMPLAB_PROGRESS", "").strip().lower()
        if enabled is False or (enabled is None and mode in ("off", "0", "no", "false")):
            return
        try:
            tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            tty = False
        tqdm = _tqdm()
        if lines is None:
            lines = not tty or tqdm is None or mode == "lines"
        if lines:
            self._lines = True
            self._start = self._clock()
            self._next = self._start + (self.delay if enabled is None else 0.0)
            return
        self._bar = tqdm(total=self.total, desc=self.label, file=self.stream, leave=True,
                         unit_scale=self.total >= 1000, unit=unit, mininterval=interval,
                         delay=self.delay if enabled is None else 0.0, dynamic_ncols=True)

    def _line(self, now: float, final: bool = False) -> None:
        elapsed = now - self._start
        share = min(self.done / self.total, 1.0)
        text = f"{self.label}: {100 * share:.0f}% ({_count(self.done)}/{_count(self.total)})"
        if final:
            text += f" done in {_seconds(elapsed)}"
        else:
            text += f" after {_seconds(elapsed)}"
            if 0 < share < 1:
                text += f", about {_seconds(elapsed * (1 - share) / share)} left"
        try:
            print(text, file=self.stream, flush=True)
        except (OSError, ValueError):  # a closed log must not stop the computation
            self._lines = False
        self._printed = True

    def update(self, amount: int) -> None:
        """Add ``amount`` units of finished work and report when due.

        Parameters
        ----------
        amount : int
            Units finished since the last call (run-steps for the simulator).
        """
        self.done += int(amount)
        if self._bar is not None:
            self._bar.update(int(amount))
        elif self._lines:
            now = self._clock()
            if now >= self._next:
                self._line(now)
                self._next = now + self.log_interval

    def close(self) -> None:
        """Report the final state (if anything was reported) and end the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._lines:
            if self._printed:
                self._line(self._clock(), final=True)
            self._lines = False
