"""The fused ``gaussian-exact`` kernels (issue #20 item 5): same streams, same law, deterministic.

References: the array version of the sampler and of the SGD update (:func:`gaussian_exact_gradient`,
:func:`iterate_update`) on the same draws — agreement to rounding (1e-12 relative; the sums run in
another order) — and the ``array_api_strict`` backend, which never takes the fused path.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.simulations import simulate
from ramplab.simulations import _sampler_kernels
from ramplab.simulations.samplers import _gaussian_exact_gradient as array_gradient
from ramplab.simulations.samplers import fused_sgd_step, gaussian_exact_gradient
from ramplab.simulations.streams import block_streams, root_seed_sequence
from ramplab.simulations.updates import iterate_update
from ramplab.theory import Numerics, Problem, Schedule

pytestmark = pytest.mark.skipif(not _sampler_kernels.AVAILABLE, reason="numba (the 'fast' extra) not installed")


def _state(d, runs, seed):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.01, 2.0, d)
    e = rng.standard_normal((runs, d))
    e[0] = 0.0  # a run at the optimum: â is the first basis vector
    return np.sqrt(lam), e


@settings(max_examples=20)
@given(d=st.integers(1, 40), runs=st.integers(1, 150), batch=st.sampled_from([1, 2, 7, 1024]),
       sigma=st.sampled_from([0.0, 0.7]), seed=st.integers(0, 2**16))
def test_fused_step_is_the_array_step_on_the_same_draws(d, runs, batch, sigma, seed):
    root, e = _state(d, runs, seed)
    a = root * e
    q = np.sum(a * a, axis=1)
    streams = lambda: block_streams(root_seed_sequence(seed), 0, runs, 64, np, np.float64)  # noqa: E731
    g = array_gradient(np, streams(), a, q, root, batch, sigma)
    want = iterate_update(np, e, g, 0.3, False)
    got, q_new = fused_sgd_step(np, streams(), e, root, q, batch, sigma, 0.3)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    np.testing.assert_allclose(q_new, np.sum((root * want) ** 2, axis=1), rtol=1e-12, atol=1e-300)
    # The gradient kernel alone (what the other optimizers use) is the array version's too.
    np.testing.assert_allclose(gaussian_exact_gradient(np, streams(), a, q, root, batch, sigma), g, rtol=1e-12,
                               atol=1e-12 * np.max(np.abs(g)))
    # Deterministic: the same inputs give the same bits.
    again, q_again = fused_sgd_step(np, streams(), e, root, q, batch, sigma, 0.3)
    np.testing.assert_array_equal(again, got)
    np.testing.assert_array_equal(q_again, q_new)


def test_fused_simulation_matches_the_array_backend_and_stays_flat_in_batch():
    problem = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.5)
    schedule = Schedule.from_phases([(0.5, 1, 100), (0.3, 64, 6400)])
    kw = dict(runs=70, seed=3, keep_runs=True)
    fused = simulate(problem, schedule, numerics=Numerics(backend="numpy"), **kw)
    strict = simulate(problem, schedule, numerics=Numerics(backend="array_api_strict"), **kw)
    np.testing.assert_allclose(fused.run_risk, strict.run_risk, rtol=1e-10)
    for optimizer in ("nsgd",):
        f = simulate(problem, schedule, optimizer, numerics=Numerics(backend="numpy"), **kw)
        s = simulate(problem, schedule, optimizer, numerics=Numerics(backend="array_api_strict"), **kw)
        np.testing.assert_allclose(f.run_risk, s.run_risk, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 7, 8, 37])
def test_fused_step_returns_row_norms_of_what_it_wrote_into_given_buffers(dtype, d):
    # The loop takes the kernel's q as ‖Λ^{1/2} e‖² of the new errors, where every other path calls row_norms:
    # the two must be the same function, bit for bit (heavy ball with μ = 0 is SGD bit for bit through it);
    # and writing into reused buffers must change nothing.
    root, e = _state(d, 70, 11)
    root, e = root.astype(dtype), e.astype(dtype)
    q = _sampler_kernels.row_norms(e, root)
    streams = lambda: block_streams(root_seed_sequence(5), 0, 70, 64, np, dtype)  # noqa: E731
    fresh, q_fresh = fused_sgd_step(np, streams(), e, root, q, 3, 0.7, 0.2)
    buffers = (np.full_like(e, np.nan), np.full_like(q, np.nan))
    got, q_got = fused_sgd_step(np, streams(), e, root, q, 3, 0.7, 0.2, out=buffers)
    assert got is buffers[0] and q_got is buffers[1]
    np.testing.assert_array_equal(got, fresh)
    np.testing.assert_array_equal(q_got, q_fresh)
    np.testing.assert_array_equal(q_got, _sampler_kernels.row_norms(got, root))
    np.testing.assert_allclose(q_got, np.sum((root.astype(np.float64) * got) ** 2, axis=1),
                               rtol=1e-12 if dtype == np.float64 else 1e-5)
