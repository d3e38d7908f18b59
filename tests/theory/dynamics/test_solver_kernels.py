"""The two kernels of the exact solver against each other, checkpoints, multiplicities and the parts.

References used here:
- the reference kernel (the array API loop over ``second_moment_step``), itself held to exact
  rational arithmetic and covariance oracles in tests/theory/dynamics/test_recursion.py;
- the same solver's full curves, for checkpoints (recording never changes what is computed, so the
  values must be equal, not just close);
- a problem with repeated coordinates, for multiplicities (m copies of a coordinate = one coordinate
  of weight m);
- the fused kernel's own serial layout, for its parallel layouts (the summation order is fixed, so
  they must agree bit for bit), and its tiled step loop (a split run's full row) for the one-tile step loop.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from ramplab.theory import DivergenceError, Numerics, Problem, Schedule, expected_risk
from ramplab.theory.dynamics import _kernels as kernels
from ramplab.theory.dynamics import _loop
from ramplab.theory import second_moment_step
from ramplab.theory.dynamics import ExponentialAverage, TailAverage
from ramplab.theory.dynamics import initial_state, step_tables

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed (the `fast` extra)")

CURVES = ("risk", "bias", "variance", "averaged_risk", "effective_lr", "gradient_second_moment",
          "mean_variance_ratio")
AVERAGES = {"none": None, "uniform": "uniform", "tail": TailAverage(start=150), "ema": ExponentialAverage(0.02)}


def _assert_same(a, b, rtol, names=CURVES):
    assert a.diverged_at == b.diverged_at
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.samples, b.samples)
    for name in names:
        x, y = getattr(a, name), getattr(b, name)
        if x is None or y is None:
            assert x is None and y is None, name
            continue
        assert x.shape == y.shape, name
        if rtol == 0:
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            np.testing.assert_allclose(x, y, rtol=rtol, atol=0, err_msg=name)


def _schedules():
    # Lengths differ and cross several chunks (the chunk is shrunk to 256 steps below).
    return [Schedule.constant(0.5, 2, steps=700),
            Schedule.from_phases([(0.6, 1, 150), (0.3, 4, 260)]),
            Schedule.constant(0.2, 1, steps=37),
            Schedule.from_phases([(0.4, 3, 300), (0.4, 6, 300), (0.1, 12, 100)])]


@needs_numba
@pytest.mark.parametrize("checkpoints", [None, [0, 1, 2, 37, 255, 256, 257, 409, 512, 699, 700]],
                         ids=["full", "checkpoints"])
@pytest.mark.parametrize("average", list(AVERAGES), ids=list(AVERAGES))
@pytest.mark.parametrize("split", [False, True], ids=["whole", "split"])
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_fused_matches_reference(optimizer, split, average, checkpoints, monkeypatch):
    monkeypatch.setattr(_loop, "CHUNK", 256)
    problem = Problem.power_law(40, a=1.5, b=1.0, noise_variance=0.2, kurtosis=2.5)
    kw = dict(split=split, average=AVERAGES[average], checkpoints=checkpoints)
    fused = expected_risk(problem, _schedules(), optimizer, numerics=Numerics(kernel="fused"), **kw)
    ref = expected_risk(problem, _schedules(), optimizer, numerics=Numerics(kernel="reference"), **kw)
    for a, b in zip(fused, ref):
        _assert_same(a, b, rtol=1e-12)
        np.testing.assert_allclose(a.final_second_moment, b.final_second_moment, rtol=1e-12)


@needs_numba
def test_auto_picks_fused_on_numpy_and_reference_elsewhere(monkeypatch):
    calls = []
    monkeypatch.setattr(_loop, "FusedBackend", lambda *a, **k: calls.append("fused") or _raise())
    monkeypatch.setattr(_loop, "ReferenceBackend", lambda *a, **k: calls.append("reference") or _raise())
    p, s = Problem.isotropic(2), Schedule.constant(0.1, 1, steps=3)
    for numerics in (Numerics(), Numerics(dtype=np.float32), Numerics(backend="array_api_strict"),
                     Numerics(kernel="reference")):
        with pytest.raises(_Stop):
            expected_risk(p, s, numerics=numerics)
    assert calls == ["fused", "fused", "reference", "reference"]


class _Stop(Exception):
    pass


def _raise():
    raise _Stop


def test_kernel_argument_is_checked():
    p, s = Problem.isotropic(2), Schedule.constant(0.1, 1, steps=3)
    with pytest.raises(ValueError, match="kernel"):
        expected_risk(p, s, numerics=Numerics(kernel="gpu"))
    with pytest.raises(ValueError, match="kernel='fused'"):
        expected_risk(p, s, numerics=Numerics(backend="array_api_strict", kernel="fused"))


# ------------------------------------------------------------------------------------ checkpoints
@pytest.mark.parametrize("kernel", ["fused", "reference"])
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_checkpoints_are_the_full_curves_at_those_steps(optimizer, kernel, monkeypatch):
    if kernel == "fused" and not kernels.AVAILABLE:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(_loop, "CHUNK", 256)
    problem = Problem.power_law(30, a=1.3, b=0.7, noise_variance=0.4)
    scheds = [Schedule([0.5] * 300 + [0.25] * 300, [2] * 300 + [5] * 300), Schedule.constant(0.3, 3, steps=200)]
    cps = np.array([0, 3, 199, 200, 201, 256, 599, 600])
    kw = dict(split=True, average="uniform", numerics=Numerics(kernel=kernel))
    full = expected_risk(problem, scheds, optimizer, **kw)
    part = expected_risk(problem, scheds, optimizer, checkpoints=cps, **kw)
    for f, p, sched in zip(full, part, scheds):
        kept = cps[cps <= len(sched)]  # checkpoints past a schedule's end are dropped for it
        np.testing.assert_array_equal(p.steps, kept)
        np.testing.assert_array_equal(p.samples, np.concatenate([[0], sched.samples])[kept])
        for name in ("risk", "bias", "variance", "averaged_risk"):
            np.testing.assert_array_equal(getattr(p, name), getattr(f, name)[kept])
        for name in ("effective_lr", "gradient_second_moment", "mean_variance_ratio"):
            got = getattr(p, name)
            assert np.isnan(got[0])  # checkpoint 0: no step taken yet
            np.testing.assert_array_equal(got[1:], getattr(f, name)[kept[1:] - 1])  # step t's own value
        np.testing.assert_array_equal(p.final_second_moment, f.final_second_moment)
    # at_samples interpolates between the available points.
    grid = part[0].samples[[1, 3]]
    np.testing.assert_array_equal(part[0].at_samples(grid), part[0].risk[[1, 3]])
    mid = 0.5 * (part[0].samples[3] + part[0].samples[4])
    assert part[0].at_samples([mid])[0] == pytest.approx(0.5 * (part[0].risk[3] + part[0].risk[4]))


@needs_numba
def test_checkpoint_memory_does_not_grow_with_the_horizon():
    problem = Problem.power_law(10, a=1.5, b=1.0, noise_variance=0.1)
    sched = Schedule.constant(0.5, 1, steps=200_000)
    cps = np.unique(np.geomspace(1, 200_000, 50).astype(int))
    expected_risk(problem, Schedule.constant(0.5, 1, steps=10), checkpoints=[0, 10], average="uniform")  # compile
    tracemalloc.start()
    expected_risk(problem, sched, checkpoints=cps, average="uniform")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Full curves would hold ≥ 5 float64 arrays of 200 001 entries (8 MB). The chunked tables of
    # 4096 steps and the 50 checkpoints need well under 1 MB (the checkpoints' samples come from the
    # schedule's segments, never from a per-step array).
    assert peak < 1_000_000, peak


@pytest.mark.parametrize(
    "checkpoints, error, match",
    [([3, 1], ValueError, "sorted"), ([1, 1], ValueError, "sorted"), ([-1, 2], ValueError, r"\[0, 10\]"),
     ([0, 11], ValueError, r"\[0, 10\]"), ([], ValueError, "non-empty"), ([[1, 2]], ValueError, "1-D"),
     ([0.5], TypeError, "integer"), ([True], TypeError, "integer")],
)
def test_bad_checkpoints_name_themselves(checkpoints, error, match):
    with pytest.raises(error, match=match):
        expected_risk(Problem.isotropic(2), Schedule.constant(0.1, 1, steps=10), checkpoints=checkpoints)


def test_integer_valued_float_checkpoints_are_accepted():
    res = expected_risk(Problem.isotropic(2), Schedule.constant(0.1, 1, steps=10), checkpoints=[0.0, 10.0])
    assert res.steps.tolist() == [0, 10] and res.steps.dtype.kind == "i"


# ------------------------------------------------------------------------------------ divergence
@pytest.mark.parametrize("on_divergence", ["raise", "flag"])
def test_divergence_bookkeeping_agrees_between_kernels(on_divergence, monkeypatch):
    if not kernels.AVAILABLE:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(_loop, "CHUNK", 512)
    problem = Problem.isotropic(3, noise_variance=1.0)
    # Schedule 0 diverges late, schedule 1 in the middle, schedule 2 just before it ends (it passes the
    # blow-up bound of docs/math.md#divergence at step 204, long before its state overflows), schedule 3
    # never. The loop stops at the first check that sees a non-finite state; by then schedules 1 and 2
    # have passed the bound, and the first of them in call order (1, at step 409) is raised.
    scheds = [Schedule.from_phases([(0.1, 1, 900), (3.0, 1, 700)]),
              Schedule.from_phases([(0.1, 1, 400), (2.5, 1, 400)]),
              Schedule.from_phases([(0.1, 1, 200), (30.0, 1, 100)]),
              Schedule.constant(0.1, 1, steps=1000)]
    for checkpoints in (None, [0, 100, 255, 256, 300, 513, 1000, 1600]):
        results = {}
        for kernel in ("fused", "reference"):
            try:
                results[kernel] = expected_risk(problem, scheds, on_divergence=on_divergence,
                                                numerics=Numerics(kernel=kernel),
                                                checkpoints=checkpoints, average="uniform")
            except DivergenceError as err:
                results[kernel] = (err.step, err.schedule_index)
        if on_divergence == "raise":
            assert results["fused"] == results["reference"]
            step, index = results["fused"]
            assert index == 1 and 400 < step <= 420
        else:
            for a, b in zip(results["fused"], results["reference"]):
                _assert_same(a, b, rtol=1e-12)
            assert [r.diverged_at is None for r in results["fused"]] == [False, False, False, True]


# ------------------------------------------------------------------------------------ multiplicity
def _with_multiplicity(problem: Problem, m: np.ndarray) -> Problem:
    try:
        return problem.replace(multiplicity=m)
    except TypeError:  # Problem has no multiplicity field yet: the solver reads it as an attribute
        object.__setattr__(problem, "multiplicity", np.asarray(m, dtype=np.float64))
        return problem


@pytest.mark.parametrize("kernel", ["fused", "reference"])
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_multiplicity_equals_repeated_coordinates(optimizer, kernel):
    if kernel == "fused" and not kernels.AVAILABLE:
        pytest.skip("numba is not installed")
    lam, s0, m = np.array([1.0, 0.4, 0.1]), np.array([0.5, 2.0, 1.0]), np.array([1, 3, 5])
    expanded = Problem(np.repeat(lam, m), np.repeat(s0, m), noise_variance=0.3, kurtosis=2.0)
    weighted = _with_multiplicity(Problem(lam, s0, noise_variance=0.3, kurtosis=2.0), m)
    sched = Schedule.from_phases([(0.15, 2, 40), (0.05, 4, 40)])
    kw = dict(split=True, average=TailAverage(start=30), numerics=Numerics(kernel=kernel))
    want = expected_risk(expanded, sched, optimizer, **kw)
    got = expected_risk(weighted, sched, optimizer, **kw)
    _assert_same(got, want, rtol=1e-13)
    np.testing.assert_allclose(np.repeat(got.final_second_moment, m), want.final_second_moment, rtol=1e-13)


# ------------------------------------------------------------------------------------ layouts
@needs_numba
@pytest.mark.parametrize("average", [None, "uniform"])
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_parallel_layouts_equal_the_serial_one_bit_for_bit(optimizer, average, monkeypatch):
    # d spans three tiles; one schedule runs its tiles in parallel ("wide"), several run in parallel
    # by schedule; with one thread both run serially. The summation order is the same in all three.
    problem = Problem.power_law(2 * kernels.TILE + 123, a=1.2, b=0.8, noise_variance=0.2)
    scheds = [Schedule.constant(0.3, 2, steps=60), Schedule.constant(0.2, 1, steps=45)]
    kw = dict(split=True, average=average)
    monkeypatch.setattr(_loop, "WIDE_MIN_ENTRIES", 1)
    monkeypatch.setattr(kernels, "thread_count", lambda: 2)
    wide = expected_risk(problem, scheds[0], optimizer, **kw)
    grouped = expected_risk(problem, scheds, optimizer, **kw)
    monkeypatch.setattr(kernels, "thread_count", lambda: 1)
    serial = expected_risk(problem, scheds, optimizer, **kw)
    _assert_same(wide, serial[0], rtol=0)
    for a, b in zip(grouped, serial):
        _assert_same(a, b, rtol=0)
    ref = expected_risk(problem, scheds[0], optimizer, numerics=Numerics(kernel="reference"), **kw)
    _assert_same(wide, ref, rtol=1e-12)


@needs_numba
@pytest.mark.parametrize("d", [1, 17, 1000, kernels.TILE, kernels.TILE + 1])
@pytest.mark.parametrize("average", ["none", "uniform", "ema"])
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_the_one_tile_step_loop_is_the_tiled_loop_bit_for_bit(optimizer, average, d):
    # Without split a schedule with d ≤ TILE runs _kernels._one_tile_group (the tile's body inlined into the
    # step loop); with split its full row runs the tile kernels of _advance_group. The full row takes the same
    # operations in the same order either way, so its curves are the same bits (d = TILE + 1: tiled both ways).
    problem = Problem.power_law(d, a=1.2, b=0.8, noise_variance=0.2)
    schedule = Schedule.from_phases([(0.4, 2, 300), (0.2, 4, 213)])
    kw = dict(average=AVERAGES[average], numerics=Numerics(kernel="fused"), reduce=False)
    one = expected_risk(problem, schedule, optimizer, **kw)
    tiled = expected_risk(problem, schedule, optimizer, split=True, **kw)
    assert one.diverged_at is None
    _assert_same(one, tiled, rtol=0, names=("risk", "averaged_risk", "effective_lr", "gradient_second_moment",
                                            "mean_variance_ratio"))
    np.testing.assert_array_equal(one.final_second_moment, tiled.final_second_moment)


@needs_numba
def test_float32_kernel_keeps_float32_accuracy():
    problem = Problem.power_law(64, a=1.5, b=1.0, noise_variance=0.4)
    sched = Schedule.from_phases([(0.5, 2, 400), (0.3, 8, 800)])
    ref = expected_risk(problem, sched, "nsgd", average="uniform").averaged_risk
    got = expected_risk(problem, sched, "nsgd", average="uniform", numerics=Numerics(dtype=np.float32,
                                                                                     kernel="fused")).averaged_risk
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    assert np.max(np.abs(got / ref - 1)) > 1e-12  # it really ran in float32


# ------------------------------------------------------------------------------------ the parts
def test_step_tables_pad_with_a_step_that_changes_nothing():
    a, b = Schedule([0.1, 0.2, 0.3], [1, 2, 3]), Schedule([0.5], [4])
    lr, batch = step_tables([a, b], 1, 3)
    assert lr.tolist() == [[0.2, 0.3], [0.0, 0.0]] and batch.tolist() == [[2.0, 3.0], [1.0, 1.0]]
    lam = np.array([1.0, 0.5])
    s = np.array([[0.3, 0.7]])
    # η = 0, B = 1 leaves any state unchanged.
    np.testing.assert_array_equal(second_moment_step(s, lam, 0.0, 1.0, 2.0), s)
    with pytest.raises(ValueError, match="start"):
        step_tables([a], 2, 1)


def test_initial_state_rows():
    p = Problem([1.0, 0.25], [4.0, 1.0], noise_variance=0.5)
    s, noise = initial_state(p, 2, split=True)
    assert s.shape == (6, 2) and noise.tolist() == [0.5, 0.5, 0.0, 0.0, 0.5, 0.5]
    np.testing.assert_array_equal(s[:4], np.tile([4.0, 1.0], (4, 1)))
    assert not s[4:].any()
    s, noise = initial_state(p, 3)
    assert s.shape == (3, 2) and noise.tolist() == [0.5] * 3
