"""Multiplicity and spectral compression (docs/math.md#multiplicity, docs/math.md#spectral-compression).

References: (1) multiplicity against the same problem with the coordinates written out, and against the
plain loop of the weighted recursion (tests/oracles.py, ``sgd_moments``); (2) compressed
curves against the uncompressed solver on the same problem (the error the estimate must bound).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import Problem, Schedule, expected_risk
from ramplab.theory.dynamics import (
    SpectralGrouping,
    contraction_exponent,
    resolution_for,
    spectral_groups,
)
from ramplab.theory.dynamics import is_stable

from oracles import Spectrum, sgd_moments

CURVES = ("risk", "bias", "variance", "averaged_risk", "effective_lr", "gradient_second_moment",
          "mean_variance_ratio")


def relative_gap(a, b):
    """Largest |a − b| / max(|a|, |b|) over entries (0 where both are equal, zeros included)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same = a == b
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(same, 0.0, gap)))


def curve_error(full, compressed):
    return max(relative_gap(getattr(full, n), getattr(compressed, n)) for n in CURVES)


# ----------------------------------------------------------------------------------------- multiplicity
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_two_equal_coordinates_equal_one_of_multiplicity_two(optimizer):
    lam, s0 = [0.9, 0.3, 0.3, 0.05], [1.0, 2.0, 2.0, 4.0]
    written_out = Problem(lam, s0, noise_variance=0.2)
    grouped = Problem([0.9, 0.3, 0.05], [1.0, 2.0, 4.0], noise_variance=0.2, multiplicity=[1.0, 2.0, 1.0])
    assert grouped.trace == written_out.trace and grouped.initial_risk == written_out.initial_risk
    sched = [Schedule(np.linspace(0.6, 0.1, 40), np.arange(1, 41) % 3 + 1),
             Schedule.constant(0.2, 2, steps=25)]
    a = expected_risk(written_out, sched, optimizer, average="uniform", split=True)
    b = expected_risk(grouped, sched, optimizer, average="uniform", split=True)
    for x, y in zip(a, b):
        for name in CURVES:
            # Equal up to the order of a three- vs four-term sum (x + x = 2x is exact in floating point).
            np.testing.assert_allclose(getattr(y, name), getattr(x, name), rtol=1e-13, atol=0, err_msg=name)
        np.testing.assert_allclose(y.final_second_moment, x.final_second_moment[[0, 1, 3]], rtol=1e-13)


@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_non_integer_multiplicity_matches_a_plain_loop_and_splits_additively(optimizer):
    lam, s0, mult = [1.0, 0.4, 0.1], [0.5, 1.5, 3.0], [1.0, 2.5, 7.25]
    p = Problem(lam, s0, noise_variance=0.3, kurtosis=2.5, multiplicity=mult)
    lrs, batches = np.linspace(0.3, 0.05, 30), np.arange(1, 31) % 4 + 1
    r = expected_risk(p, Schedule(lrs, batches), optimizer)
    plain = sgd_moments(Spectrum(lam, s0, 0.3, 2.5, mult), lrs, batches, optimizer=optimizer)["risk"]
    np.testing.assert_allclose(r.risk, plain, rtol=1e-12)
    # m = 2.5 is m = 1.5 plus m = 1 of the same coordinate: the reductions only see the sum.
    split = Problem([1.0, 0.4, 0.4, 0.1], [0.5, 1.5, 1.5, 3.0], noise_variance=0.3, kurtosis=2.5,
                    multiplicity=[1.0, 1.5, 1.0, 7.25])
    np.testing.assert_allclose(expected_risk(split, Schedule(lrs, batches), optimizer).risk, r.risk, rtol=1e-13)


# ------------------------------------------------------------------------------------------- grouping
spectra = st.lists(st.sampled_from([1.0, 0.5, 0.25, 0.2, 0.1, 0.05, 0.01, 1e-3, 1e-4, 3e-5]),
                   min_size=1, max_size=25)


@settings(max_examples=40)
@given(lam=spectra, seed=st.integers(0, 10_000), lr=st.floats(0.01, 0.8), steps=st.integers(1, 200),
       resolution=st.floats(0.0, 2.0))
def test_groups_partition_the_coordinates(lam, seed, lr, steps, resolution):
    rng = np.random.default_rng(seed)
    lam = np.array(lam) * rng.uniform(0.9, 1.1) ** rng.integers(0, 2, len(lam))
    p = Problem(lam, rng.uniform(0.0, 2.0, lam.size), noise_variance=0.1, multiplicity=rng.uniform(1, 3, lam.size))
    sched = Schedule(lr / np.sqrt(np.arange(1, steps + 1)), 1)
    g = spectral_groups(p, sched, resolution=resolution)
    assert isinstance(g, SpectralGrouping)
    idx = g.group_index
    assert idx.shape == (p.dimension,) and idx.min() == 0 and idx.max() == g.groups - 1
    assert np.all(np.bincount(idx) > 0)  # every group holds a coordinate; each coordinate one group
    # Groups are intervals of the spectrum, numbered by decreasing λ.
    order = np.argsort(-lam, kind="stable")
    assert np.all(np.diff(idx[order]) >= 0)
    assert g.groups <= np.unique(lam).size
    q = g.problem
    np.testing.assert_allclose(q.multiplicity, np.bincount(idx, weights=p.multiplicity), rtol=1e-12)
    assert q.trace == pytest.approx(p.trace, rel=1e-12)
    assert q.initial_risk == pytest.approx(p.initial_risk, rel=1e-12, abs=1e-300)
    lo = np.array([lam[idx == k].min() for k in range(g.groups)])
    hi = np.array([lam[idx == k].max() for k in range(g.groups)])
    assert np.all((lo <= q.eigenvalues) & (q.eigenvalues <= hi))
    # Dyadic resolutions nest: the partition at δ/2 refines the one at δ.
    fine = spectral_groups(p, sched, resolution=resolution / 2).group_index
    for k in range(fine.max() + 1):
        assert np.unique(idx[fine == k]).size == 1


@settings(max_examples=25)
@given(lam=spectra, seed=st.integers(0, 10_000), optimizer=st.sampled_from(["sgd", "nsgd"]))
def test_rtol_zero_groups_equal_eigenvalues_and_is_exact(lam, seed, optimizer):
    rng = np.random.default_rng(seed)
    lam = np.array(lam)
    p = Problem(lam, rng.uniform(0.0, 2.0, lam.size), noise_variance=0.05)
    sched = Schedule(rng.uniform(0.05, 0.5, 30), rng.integers(1, 4, 30))
    g = spectral_groups(p, sched, rtol=0.0)
    assert g.groups == np.unique(lam).size and g.exact
    assert np.all(p.eigenvalues == g.problem.eigenvalues[g.group_index])
    full = expected_risk(p, sched, optimizer, average="uniform", split=True)
    comp = expected_risk(p, sched, optimizer, average="uniform", split=True, compress=0.0)
    assert comp.compression_error == 0.0 and comp.compressed_dimension == g.groups
    for name in CURVES:
        np.testing.assert_allclose(getattr(comp, name), getattr(full, name), rtol=1e-11, atol=1e-300, err_msg=name)
    # Expanded final state: each coordinate gets its group's mean, which keeps q(T).
    assert float((p.multiplicity * lam) @ comp.final_second_moment) == pytest.approx(2 * full.final_risk, rel=1e-11,
                                                                                      abs=1e-300)


def test_contraction_exponent_series_matches_the_exact_sum():
    lam = np.geomspace(1e-6, 1.0, 40)
    lr = 0.3 / np.sqrt(np.arange(1, 3001))
    batch = np.ones_like(lr) * 2
    A, V = contraction_exponent(lam, lr, batch, kurtosis=3.0)
    c = 1.0 + 1.0 / 2
    x = lr[None, :] * lam[:, None]
    d = 1 - 2 * x + c * x * x
    np.testing.assert_allclose(A, -np.log(d).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(V, np.abs(x * (2 - 2 * c * x) / d).sum(axis=1), rtol=1e-5)


def test_grouping_is_coarse_in_the_tail_and_fine_where_coordinates_contract():
    p = Problem.power_law(200_000, a=1.5, b=3.0, noise_variance=0.01)
    sched = Schedule.constant(0.5 / p.trace, 1, steps=1000)
    g = spectral_groups(p, sched, rtol=1e-3)
    A, _ = contraction_exponent(g.problem.eigenvalues, sched.lr, sched.batch)
    assert g.groups < 300
    # Coordinates that barely move share few groups although they span decades of λ.
    assert np.sum(A < 1e-2) < 10 and np.ptp(np.log10(p.eigenvalues[g.group_index == g.groups - 1])) > 1


# ------------------------------------------------------------------------------------ error estimate
def _power_law_case(d, steps, a, b, shape, fraction):
    p = Problem.power_law(d, a=a, b=b, noise_variance=0.01)
    lo, hi = 0.01, 10.0  # largest stable constant m = η tr H (bisection on the closed stability test)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if is_stable(p, mid / p.trace, 1) else (lo, mid)
    lr = fraction * lo / p.trace
    t = np.arange(1, steps + 1)
    return p, Schedule(lr / np.sqrt(t) if shape == "sqrt" else np.full(steps, lr), 1)


def _check_estimate(d, steps, a, b, optimizer, rtol, fractions=(0.9, 1e-3)):
    cases = [_power_law_case(d, steps, a, b, shape, f) for shape in ("constant", "sqrt") for f in fractions]
    p = cases[0][0]
    scheds = [s for _, s in cases]
    full = expected_risk(p, scheds, optimizer, average="uniform", split=True, reduce=False)
    comp = expected_risk(p, scheds, optimizer, average="uniform", split=True, compress=rtol)
    for f, c in zip(full, comp):
        err = curve_error(f, c)
        assert c.compressed_dimension < d / 4
        assert err <= rtol, (c.schedule, err)
        assert err <= c.compression_error, (c.schedule, err, c.compression_error)
        assert c.final_second_moment.shape == (d,)


@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
@pytest.mark.parametrize("a, b", [(1.1, 2.2), (1.5, 1.5), (1.9, 3.8)])
def test_compression_error_bounds_the_true_error_quick(a, b, optimizer):
    _check_estimate(2000, 600, a, b, optimizer, rtol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
@pytest.mark.parametrize("a", [1.1, 1.5, 1.9])
@pytest.mark.parametrize("b_over_a", [1.0, 2.0])
def test_compression_error_bounds_the_true_error(a, b_over_a, optimizer):
    _check_estimate(20_000, 5000, a, a * b_over_a, optimizer, rtol=1e-3, fractions=(0.9, 0.1, 1e-2, 1e-3))


def test_a_loose_tolerance_gives_a_larger_error_that_the_estimate_still_bounds():
    p, sched = _power_law_case(3000, 800, 1.5, 3.0, "constant", 0.5)
    full = expected_risk(p, sched, average="uniform")
    loose = expected_risk(p, sched, average="uniform", compress=3e-2)
    tight = expected_risk(p, sched, average="uniform", compress=1e-4)
    assert loose.compressed_dimension < tight.compressed_dimension
    assert curve_error(full, tight) < curve_error(full, loose) <= loose.compression_error <= 3e-2


def test_resolution_for_and_argument_errors():
    assert resolution_for(0.0) == 0.0 and resolution_for(1e-2) == pytest.approx(4 * resolution_for(1e-2 / 16))
    p = Problem.power_law(10, 1.5, 1.5)
    s = Schedule.constant(0.1, 1, steps=3)
    with pytest.raises(ValueError, match="exactly one of rtol= and resolution="):
        spectral_groups(p, s)
    with pytest.raises(ValueError, match="rtol"):
        spectral_groups(p, s, rtol=-1.0)
    with pytest.raises(ValueError, match="compress"):
        expected_risk(p, s, compress=-1e-3)
    with pytest.raises(TypeError, match="schedules"):
        spectral_groups(p, [1.0], rtol=1e-3)
    with pytest.raises(ValueError, match="groups"):
        spectral_groups(p, s, rtol=0.0).expand(np.zeros(3))


# ----------------------------------------------------------------- hostile-input regressions
# Found by tests/test_hostile_inputs.py: contraction_exponent took any array (["1"] and [True] as
# numbers, a scalar failing on "iteration over a 0-d array", NaN rates an IndexError, overflow a
# RuntimeWarning), and compressed_expected_risk(rtol=nan) named "compress" only.
def test_contraction_exponent_checks_its_arguments():
    from ramplab.theory.dynamics import contraction_exponent

    with pytest.raises(TypeError, match="eigenvalues must hold real numbers"):
        contraction_exponent(["1"], [0.5], [1])
    with pytest.raises(ValueError, match="eigenvalues must be a 1-D array"):
        contraction_exponent(float("nan"), [0.5], [1])
    with pytest.raises(ValueError, match="lr must be finite"):
        contraction_exponent([1.0], [float("nan")], [1])
    with pytest.raises(ValueError, match="lr and batch must be 1-D of one length"):
        contraction_exponent([1.0], [0.5, 0.5], [1])
    with pytest.raises(ValueError, match="kurtosis must be finite"):
        contraction_exponent([1.0], [0.5], [1], kurtosis=float("inf"))
    with pytest.raises(ValueError, match=r"lr and lr × eigenvalues must be ≤ 1e100"):
        contraction_exponent([1e308], [0.5], [1])


def test_compressed_expected_risk_names_rtol():
    from ramplab.theory import Problem, Schedule, expected_risk

    with pytest.raises(ValueError, match=r"compress=rtol must be finite"):
        expected_risk(Problem.isotropic(2), Schedule.constant(0.1, 1, steps=2), compress=float("nan"))
