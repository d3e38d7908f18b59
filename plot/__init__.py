"""Plotting helpers: risk curves (exact and Monte Carlo), schedules, a one-call comparison, legends.

Everything here draws with matplotlib (a core dependency) on a given ``ax`` or a new figure, and
returns what it drew, so a caller can restyle it:

- :func:`plot_risk` — excess risk against samples or serial steps, for exact
  :class:`~ramplab.theory.RiskTrajectory` curves and Monte Carlo
  :class:`~ramplab.simulations.SimulationResult` means with bands of ± k standard errors;
- :func:`plot_schedule` — the learning rate and the batch size of schedules, in two panels;
- :func:`compare` — a schedule against others (its Seesaw ramp, say) on the exact solver: a small
  table (samples, serial steps, final risk, ratio) and its figure, as a :class:`Comparison`;
- :func:`place_legend` — a legend where it covers no plotted point (an empty corner of the axes,
  else outside it); the figures of :mod:`ramplab.figures` place theirs with it.

The largest stable learning rate is :func:`ramplab.theory.max_stable_lr`.
"""

from ._compare import Comparison, compare
from ._curves import plot_risk, plot_schedule
from ._legend import covered_points, place_legend

__all__ = ["Comparison", "compare", "covered_points", "place_legend", "plot_risk", "plot_schedule"]
