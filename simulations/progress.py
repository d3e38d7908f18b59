"""Progress of long computations on stderr: a tqdm bar on a terminal, plain lines in a log.

One implementation serves the exact solver, the Monte Carlo, sweeps and ``ramplab figures``; it
lives beside the solver (``theory/_progress.py``, which ``theory`` may import without importing
``simulations``) and is public here. :class:`ProgressBar` and :func:`progress_prefix` document the
behaviour and the environment variables (``RAMPLAB_PROGRESS``, ``RAMPLAB_PROGRESS_DELAY``,
``RAMPLAB_PROGRESS_INTERVAL``).
"""

from ..theory._progress import ProgressBar, progress_prefix

__all__ = ["ProgressBar", "progress_prefix"]
