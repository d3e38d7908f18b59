"""ramplab.plot (#21 item 5), image-free: what each helper puts on the axes, read back from the artists."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ramplab.plot import Comparison, compare, covered_points, place_legend, plot_risk, plot_schedule  # noqa: E402
from ramplab.simulations import simulate  # noqa: E402
from ramplab.theory import (Cosine, Problem, Schedule, expected_risk, is_stable, max_stable_lr,  # noqa: E402
                            seesaw_schedule)

PROBLEM = Problem.power_law(30, 1.5, 1.0, noise_variance=0.5)
SCHEDULE = Schedule.from_phases([(0.3, 4, 10), (0.15, 8, 10)], label="two phases")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_risk_exact_curves_against_samples_and_steps():
    other = Schedule.constant(0.2, 4, steps=20, label="constant")
    trajs = expected_risk(PROBLEM, [SCHEDULE, other])
    ax = plot_risk(trajs)
    assert [l.get_label() for l in ax.lines] == ["two phases", "constant"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), trajs[0].samples)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), trajs[0].risk)
    assert ax.get_xlabel() == "samples" and ax.get_yscale() == "log" and ax.get_legend() is not None
    ax = plot_risk(trajs[0], x="steps", log=False, legend=False)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), trajs[0].steps)
    assert ax.get_xlabel() == "serial steps" and ax.get_yscale() == "linear" and ax.get_legend() is None


def test_plot_risk_monte_carlo_band_is_k_standard_errors():
    mc = simulate(PROBLEM, SCHEDULE, runs=64, seed=3)
    fig, ax = plt.subplots()
    assert plot_risk(mc, ax=ax, bands=3.0, log=False) is ax
    assert ax.lines[0].get_label() == "two phases (Monte Carlo)"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mc.mean_risk)
    [band] = ax.collections
    y = band.get_paths()[0].vertices[:, 1]
    assert y.max() == pytest.approx(np.max(mc.mean_risk + 3.0 * mc.stderr), rel=1e-9)
    assert y.min() == pytest.approx(np.min(mc.mean_risk - 3.0 * mc.stderr), rel=1e-9, abs=1e-15)
    assert len(plot_risk(mc, bands=0).collections) == 0


def test_plot_risk_drops_diverged_points():
    unstable = Schedule.constant(50.0, 1, steps=30, label="unstable")
    traj = expected_risk(PROBLEM, unstable, on_divergence="flag")
    assert not np.all(np.isfinite(traj.risk))
    ax = plot_risk(traj)
    assert np.all(np.isfinite(ax.lines[0].get_ydata()))


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"results": []}, ValueError, "results"),
    ({"results": [3]}, TypeError, r"results\[0\]"),
    ({"x": "time"}, ValueError, "x must be"),
    ({"bands": -1.0}, ValueError, "bands"),
    ({"labels": ["a", "b"]}, ValueError, "labels"),
    ({"ax": "axes"}, TypeError, "ax must be"),
])
def test_plot_risk_refuses_bad_arguments(kwargs, error, match):
    call = {"results": expected_risk(PROBLEM, SCHEDULE), **kwargs}
    with pytest.raises(error, match=match):
        plot_risk(**call)


def test_plot_schedule_draws_rate_and_batch_per_segment():
    base = Cosine(0.5, 4000)
    cosine = Schedule.from_shape(base, 8, label="cosine")
    ramp = seesaw_schedule(base, 8, 2.0, label="Seesaw")
    ax_lr, ax_b = plot_schedule([cosine, ramp], x="steps")
    assert [l.get_label() for l in ax_b.lines] == ["cosine", "Seesaw"]
    for line, sched in zip(ax_b.lines, (cosine, ramp)):
        x, y = line.get_xdata(), line.get_ydata()
        assert x[-1] == sched.serial_steps and y.max() == sched.batch.max()
    ax_lr, _ = plot_schedule(ramp)
    assert ax_lr.lines[0].get_xdata()[-1] == ramp.total_samples
    # A schedule of 2**40 steps costs its segments, not its steps.
    long = Schedule.from_segments([0.1, 0.05], [1, 2], [2**40, 2**40])
    _, ax_b = plot_schedule(long, x="steps")
    assert ax_b.lines[0].get_xdata()[-1] == 2**41
    with pytest.raises(ValueError, match="x must be"):
        plot_schedule(ramp, x=np.array(["steps", "samples"]))


def test_compare_table_and_figure():
    base = Cosine(0.2, 4000)
    cosine = Schedule.from_shape(base, 8, label="cosine", integer_batch=False)
    ramp = seesaw_schedule(base, 8, 2.0, label="Seesaw")
    result = compare(PROBLEM, cosine, against=ramp, optimizer="nsgd")
    assert isinstance(result, Comparison)
    first, second = result.rows
    assert first["ratio"] == 1.0 and first["serial_steps"] == cosine.serial_steps
    assert second["serial_steps"] == ramp.serial_steps < first["serial_steps"]
    assert second["ratio"] == pytest.approx(result.trajectories[1].risk[-1] / result.trajectories[0].risk[-1])
    ax_s, ax_t = result.figure.axes
    assert len(ax_s.lines) == len(ax_t.lines) == 2 and ax_t.get_xlabel() == "serial steps"
    text = str(result)
    assert "cosine" in text and "Seesaw" in text and "ratio" in text
    assert compare(PROBLEM, cosine, [ramp, cosine], plot=False).figure is None
    with pytest.raises(TypeError, match="against"):
        compare(PROBLEM, cosine, against="seesaw")


def test_place_legend_finds_an_empty_corner_or_goes_outside():
    fig, ax = plt.subplots()
    x = np.linspace(0, 1, 200)
    ax.plot(x, np.full_like(x, 0.98), label="top")
    ax.plot(x, np.full_like(x, 0.02), label="bottom")
    ax.set_ylim(0, 1)
    legend = place_legend(ax)
    assert covered_points(ax) == 0 and legend.get_bbox_to_anchor() is not None
    # Data everywhere: the legend goes outside the axes.
    fig, ax = plt.subplots()
    xx, yy = np.meshgrid(np.linspace(0, 1, 40), np.linspace(0, 1, 40))
    ax.plot(xx.ravel(), yy.ravel(), "o", ms=2, label="everywhere")
    legend = place_legend(ax)
    fig.canvas.draw()
    assert legend.get_window_extent().x0 > ax.get_window_extent().x1 and covered_points(ax) == 0
    with pytest.raises(ValueError, match="loc"):
        place_legend(ax, loc="upper left")
    with pytest.raises(ValueError, match="outside"):
        place_legend(ax, outside="left")


def test_max_stable_lr_is_the_stability_edge():
    for batch in (1, 4, 64):
        edge = max_stable_lr(PROBLEM, batch)
        assert is_stable(PROBLEM, edge, batch) and not is_stable(PROBLEM, edge * (1 + 1e-9), batch)
    assert max_stable_lr(PROBLEM, 4, "momentum") < max_stable_lr(PROBLEM, 4)
    nsgd = max_stable_lr(PROBLEM, 4, "nsgd")
    assert nsgd == pytest.approx(max_stable_lr(PROBLEM, 4) * np.sqrt(PROBLEM.noise_variance * PROBLEM.trace / 4))
    with pytest.raises(ValueError, match="optimizer"):
        max_stable_lr(PROBLEM, 4, "adam")
    with pytest.raises(ValueError, match="batch"):
        max_stable_lr(PROBLEM, 0.5)
