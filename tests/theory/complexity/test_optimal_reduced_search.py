"""optimal_schedule's search on the quadrature-reduced problem (``reduce``; docs/math.md#optimal-schedules).

Reference: the same search on the full problem (``reduce=False``). Both start at the same point, and the reduction is
exact to rounding for every schedule inside the bounds, so the two searches end at the same optimum; a reduction that
were wrong on the objective would show in ``reduction_gap`` and in the objectives."""

from __future__ import annotations

import pytest

from ramplab.theory import Problem, optimal_schedule

pytestmark = pytest.mark.filterwarnings("ignore::ramplab.theory.UnstableScheduleWarning")


@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_reduced_search_ends_at_the_full_search_optimum(optimizer):
    p = Problem.power_law(3000, a=1.5, b=1.0, noise_variance=0.1)
    kw = dict(segments=4, optimizer=optimizer, integer_batch=False)
    red = optimal_schedule(p, 16 * 400, 400, reduce=True, **kw)
    full = optimal_schedule(p, 16 * 400, 400, reduce=False, **kw)
    assert red.converged and full.converged, (red.message, full.message)
    assert 0 < red.reduced_dimension < p.dimension  # NSGD: a looser bound on the effective rate, a larger split
    assert red.reduced_nit > 0 and full.reduced_nit == 0 and full.reduced_dimension == 0
    assert red.reduction_gap < 1e-9  # measured: about 1e-14
    assert abs(red.objective / full.objective - 1) < 1e-8


def test_auto_reduces_only_large_problems():
    small = Problem.power_law(200, a=1.5, b=1.0, noise_variance=0.1)
    assert optimal_schedule(small, 64 * 8, 64, segments=2).reduced_dimension == 0
    large = Problem.power_law(2000, a=1.5, b=1.0, noise_variance=0.1)
    assert optimal_schedule(large, 16 * 200, 200, segments=2).reduced_dimension > 0


def test_nsgd_without_noise_is_not_reduced():
    # NSGD's effective rate has no bound without noise: no split is valid for every schedule.
    p = Problem.power_law(2000, a=1.5, b=1.0, noise_variance=0.0)
    opt = optimal_schedule(p, 16 * 100, 100, segments=2, optimizer="nsgd", reduce=True)
    assert opt.reduced_dimension == 0 and opt.reduction_gap == 0.0


@pytest.mark.parametrize("bad, error", [("yes", TypeError), (1, TypeError), (None, TypeError)])
def test_reduce_must_be_a_flag_or_auto(bad, error):
    with pytest.raises(error, match="reduce"):
        optimal_schedule(Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2), 64, 8, segments=2, reduce=bad)
