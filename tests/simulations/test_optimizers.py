"""Monte Carlo heavy ball, Adam and SignSGD (docs/math.md#monte-carlo-optimizers).

References: heavy ball against a plain-loop exact second-moment recursion written out here from
the update (per coordinate, the 2×2 moments of ``(e_t, e_{t−1})``: fresh gradient noise is
uncorrelated with both), and against ``theory.expected_risk(..., HeavyBall(...))``;
the Adam and SignSGD updates against a plain Python-float loop on given gradients; the rotation
against its invariances (signed permutations, rotation-equivariant optimizers).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ramplab.simulations import NSGD, SGD, Adam, HeavyBall, SignSGD, simulate
from ramplab.simulations.configuration import REMOVED_KEYWORDS, optimizer_hyperparameters, rotation_matrix
from ramplab.simulations.updates import OptimizerStep
from ramplab.theory import Cosine, Numerics, Problem, Schedule, expected_risk

from oracles import heavy_ball_moments


PROBLEM = Problem.power_law(10, a=1.5, b=1.0, noise_variance=0.3)
SPECS = {"sgd": SGD, "nsgd": NSGD, "momentum": HeavyBall, "adam": Adam, "signsgd": SignSGD}
PHASES = Schedule.from_phases([(0.15, 4, 320), (0.075, 8, 640)])


def heavy_ball_risk(problem: Problem, lr, batch, momentum) -> np.ndarray:
    """Exact E R after each heavy-ball step (``e_{−1} = e_0``, ``momentum[t]`` of 0-based step t): the plain
    covariance propagation of tests/oracles.py (docs/math.md#heavy-ball-momentum)."""
    return heavy_ball_moments(problem, lr, batch, momentum)["risk"]


def test_momentum_zero_is_sgd_draw_for_draw():
    sgd = simulate(PROBLEM, PHASES, runs=64, seed=3, numerics=Numerics(backend="numpy"))
    hb = simulate(PROBLEM, PHASES, HeavyBall(0.0), runs=64, seed=3, numerics=Numerics(backend="numpy"))
    assert np.array_equal(sgd.mean_risk, hb.mean_risk)


def test_plain_loop_reference_reduces_to_sgd():
    """μ = 0 in the reference is the SGD recursion of the exact solver (to rounding)."""
    ref = heavy_ball_risk(PROBLEM, PHASES.lr, PHASES.batch, np.zeros(len(PHASES)))
    np.testing.assert_allclose(ref, expected_risk(PROBLEM, PHASES).risk, rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_heavy_ball_matches_exact_moments(backend):
    runs = 3000 if backend == "numpy" else 600
    mu = 0.6
    ref = heavy_ball_risk(PROBLEM, PHASES.lr, PHASES.batch, np.full(len(PHASES), mu))
    mc = simulate(PROBLEM, PHASES, HeavyBall(mu), runs=runs, seed=11, numerics=Numerics(backend=backend))
    steps = np.linspace(len(PHASES) // 9, len(PHASES), 9).astype(int)
    z = mc.z_score(ref)[steps]
    assert np.all(np.abs(z) < 4), z
    # The reference must be able to fail: momentum 0.6 is far from SGD at these rates (from the
    # second step on; the first has no momentum term).
    sgd = expected_risk(PROBLEM, PHASES).risk[steps]
    assert np.all(np.abs(mc.mean_risk[steps] - sgd) > 4 * mc.stderr[steps])


def test_heavy_ball_per_step_momentum():
    """A per-step μ_t array (torch's mapping along a cosine) is applied at its own step."""
    s = Schedule.from_shape(Cosine(0.2, 1024), 4)
    lr = s.lr
    mu = np.concatenate([[0.8], 0.8 * lr[1:] / lr[:-1]])
    ref = heavy_ball_risk(PROBLEM, s.lr, s.batch, mu)
    mc = simulate(PROBLEM, s, HeavyBall(mu), runs=3000, seed=5, numerics=Numerics(backend="numpy"))
    steps = np.linspace(len(s) // 9, len(s), 9).astype(int)
    assert np.all(np.abs(mc.z_score(ref)[steps]) < 4)
    const = heavy_ball_risk(PROBLEM, s.lr, s.batch, np.full(len(s), 0.8))
    assert np.max(np.abs(const[steps] - ref[steps]) / mc.stderr[steps]) > 4  # the per-step values matter


@pytest.mark.parametrize("mu", [0.6, "torch"])
def test_heavy_ball_matches_exact_solver(mu):
    s = Schedule.from_shape(Cosine(0.2, 1024), 4)
    if mu == "torch":
        mu = np.concatenate([[0.8], 0.8 * s.lr[1:] / s.lr[:-1]])
    exact = expected_risk(PROBLEM, s, HeavyBall(mu))
    ref = heavy_ball_risk(PROBLEM, s.lr, s.batch, np.broadcast_to(mu, (len(s),)))
    np.testing.assert_allclose(exact.risk, ref, rtol=1e-10)
    mc = simulate(PROBLEM, s, HeavyBall(mu), runs=3000, seed=6, numerics=Numerics(backend="numpy"))
    steps = np.linspace(len(s) // 9, len(s), 9).astype(int)
    assert np.all(np.abs(mc.z_score(exact.risk)[steps]) < 4)


# ---------------------------------------------------------------- the coordinate-wise updates
def plain_adam(e0, grads, rates, beta1, beta2, eps, decay):
    """Adam/AdamW on Python floats, one coordinate at a time; ``w = e − e_0``."""
    e = [list(row) for row in e0]
    m = [[0.0] * len(row) for row in e0]
    v = [[0.0] * len(row) for row in e0]
    for t, (g, eta) in enumerate(zip(grads, rates), start=1):
        for r in range(len(e)):
            for i in range(len(e[r])):
                m[r][i] = beta1 * m[r][i] + (1 - beta1) * g[r][i]
                v[r][i] = beta2 * v[r][i] + (1 - beta2) * g[r][i] ** 2
                mh, vh = m[r][i] / (1 - beta1**t), v[r][i] / (1 - beta2**t)
                w = e[r][i] - e0[r][i]
                e[r][i] = e[r][i] - eta * (mh / (math.sqrt(vh) + eps) + decay * w)
    return np.array(e)


def plain_sign(e0, grads, rates, mu):
    e = [list(row) for row in e0]
    m = [[0.0] * len(row) for row in e0]
    for g, eta in zip(grads, rates):
        for r in range(len(e)):
            for i in range(len(e[r])):
                m[r][i] = mu * m[r][i] + g[r][i]
                e[r][i] -= eta * (0.0 if m[r][i] == 0 else math.copysign(1.0, m[r][i]))
    return np.array(e)


def _drive(step, e0, grads, rates):
    e = e0
    for g, eta in zip(grads, rates):
        e = step(e, g, eta)
    return e


@pytest.fixture(scope="module")
def gradients():
    rng = np.random.default_rng(7)
    e0 = rng.normal(size=(3, 4))
    grads = rng.normal(size=(6, 3, 4)) * np.array([1.0, 1e-3, 10.0, 0.1])
    grads[2, 0, 1] = 0.0  # a zero coordinate: sign 0
    rates = [0.1, 0.05, 0.2, 0.0, 0.1, 0.03]
    return e0, grads, rates


@pytest.mark.parametrize("hyper", [dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
                                   dict(betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1)])
def test_adam_update_matches_plain_loop(gradients, hyper):
    e0, grads, rates = gradients
    got = _drive(OptimizerStep(np, "adam", hyper, False, e0, None), e0, grads, rates)
    ref = plain_adam(e0.tolist(), grads.tolist(), rates, *hyper["betas"], hyper["eps"], hyper["weight_decay"])
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("mu", [0.0, 0.9])
def test_sign_update_matches_plain_loop(gradients, mu):
    e0, grads, rates = gradients
    got = _drive(OptimizerStep(np, "signsgd", {"momentum": mu}, False, e0, None), e0, grads, rates)
    np.testing.assert_allclose(got, plain_sign(e0.tolist(), grads.tolist(), rates, mu), rtol=1e-14, atol=1e-15)


def test_rotated_update_is_the_plain_loop_in_rotated_coordinates(gradients):
    e0, grads, rates = gradients
    q = rotation_matrix("random", 4, seed=2)
    hyper = dict(betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)
    got = _drive(OptimizerStep(np, "adam", hyper, False, e0, q), e0, grads, rates)
    theta = plain_adam((e0 @ q).tolist(), [(g @ q).tolist() for g in grads], rates, 0.8, 0.99, 1e-6, 0.05)
    np.testing.assert_allclose(got, theta @ q.T, rtol=1e-12, atol=1e-14)


def test_adam_without_averaging_or_eps_is_signsgd():
    """β₁ = β₂ = 0, ε = 0: m̂/sqrt(v̂) = g/|g| = sign(g) exactly, draw for draw."""
    s = Schedule.constant(0.01, 4, steps=200)
    adam = simulate(PROBLEM, s, Adam(betas=(0.0, 0.0), eps=0.0), runs=64, seed=1, numerics=Numerics(backend="numpy"))
    sign = simulate(PROBLEM, s, "signsgd", runs=64, seed=1, numerics=Numerics(backend="numpy"))
    np.testing.assert_allclose(adam.mean_risk, sign.mean_risk, rtol=1e-13)


def test_sign_descent_without_noise_is_deterministic():
    """d = 1, σ = 0: g = λ z² e has the sign of e, so every run takes the same steps η sign(e)."""
    p = Problem([2.0], [1.0], noise_variance=0.0)
    s = Schedule.constant(0.3, 3, steps=5)
    mc = simulate(p, s, "signsgd", runs=16, seed=0, numerics=Numerics(backend="numpy"))
    e, ref = 1.0, [1.0]
    for _ in range(5):
        e -= 0.3 * math.copysign(1.0, e)
        ref.append(e * e)
    np.testing.assert_allclose(mc.mean_risk, np.array(ref), rtol=1e-12, atol=1e-15)
    assert np.all(mc.stderr[1:] < 1e-15)  # rounding of the running mean only


# ---------------------------------------------------------------- rotation
def test_signed_permutation_changes_nothing():
    perm = np.eye(10)[np.random.default_rng(0).permutation(10)] * np.where(np.arange(10) % 3 == 0, -1.0, 1.0)
    s = Schedule.constant(0.02, 4, steps=100)
    plain = simulate(PROBLEM, s, "adam", runs=64, seed=2, numerics=Numerics(backend="numpy"))
    permuted = simulate(PROBLEM, s, Adam(rotation=perm), runs=64, seed=2, numerics=Numerics(backend="numpy"))
    np.testing.assert_allclose(permuted.mean_risk, plain.mean_risk, rtol=1e-12)


def test_rotation_is_ignored_by_rotation_equivariant_optimizers(gradients):
    """SGD, NSGD and heavy ball commute with rotations: their update ignores one, their specs take none."""
    e0, grads, rates = gradients
    q = rotation_matrix("random", 4, seed=2)
    for optimizer, hyper in (("sgd", {}), ("nsgd", {}), ("momentum", {"momentum": 0.9})):
        plain, rotated = (OptimizerStep(np, optimizer, hyper, False, e0, r) for r in (None, q))
        a = b = e0
        for g, eta in zip(grads, rates):
            a, b = plain(a, g, eta, 0.9), rotated(b, g, eta, 0.9)
        assert np.array_equal(a, b)
    for spec in (SGD, NSGD, HeavyBall):
        with pytest.raises(TypeError, match="rotation"):
            spec(rotation="random")


def test_rotation_matters_for_adam_and_sign():
    """In the eigenbasis a diagonal preconditioner fits the covariance; rotated, it does not."""
    s = Schedule.constant(0.01, 8, steps=300)
    for optimizer in ("adam", "signsgd"):
        plain = simulate(PROBLEM, s, optimizer, runs=400, seed=8, numerics=Numerics(backend="numpy"))
        rotated = simulate(PROBLEM, s, SPECS[optimizer](rotation="random"), runs=400, seed=8,
                           numerics=Numerics(backend="numpy"))
        gap = abs(rotated.mean_risk[-1] - plain.mean_risk[-1]) / math.hypot(rotated.stderr[-1], plain.stderr[-1])
        assert gap > 6, (optimizer, gap)


def test_random_rotation_is_orthogonal_and_seeded():
    q = rotation_matrix("random", 5, seed=[1, 2])
    np.testing.assert_allclose(q.T @ q, np.eye(5), atol=1e-12)
    assert np.array_equal(q, rotation_matrix("random", 5, seed=[1, 2]))
    assert not np.allclose(q, rotation_matrix("random", 5, seed=[1, 3]))


# ---------------------------------------------------------------- hyper-parameters
def test_defaults_are_documented_values():
    assert optimizer_hyperparameters("momentum", 2)[0] == {"momentum": 0.9}
    assert optimizer_hyperparameters("signsgd", 2) == ({"momentum": 0.0}, None)
    hyper = simulate(PROBLEM, Schedule.constant(0.01, 2, steps=2), "adam", runs=2, seed=0,
                     numerics=Numerics(backend="numpy")).hyperparameters
    assert hyper == {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}


@pytest.mark.parametrize(("optimizer", "kwargs", "name"), [
    ("sgd", {"momentum": 0.9}, "momentum"),
    ("nsgd", {"betas": (0.9, 0.99)}, "betas"),
    ("momentum", {"eps": 1e-8}, "eps"),
    ("signsgd", {"weight_decay": 0.1}, "weight_decay"),
    ("momentum", {"momentum": 1.0}, "momentum"),
    ("momentum", {"momentum": -0.1}, "momentum"),
    ("momentum", {"momentum": [0.5, 0.5]}, "momentum"),
    ("momentum", {"momentum": math.nan}, "momentum"),
    ("signsgd", {"momentum": np.full(3, 0.5)}, "momentum"),
    ("adam", {"betas": (0.9, 1.0)}, "betas"),
    ("adam", {"betas": 0.9}, "betas"),
    ("adam", {"betas": (0.9, 0.99, 0.999)}, "betas"),
    ("adam", {"eps": -1e-8}, "eps"),
    ("adam", {"weight_decay": math.inf}, "weight_decay"),
    ("adam", {"rotation": np.ones((10, 10))}, "rotation"),
    ("adam", {"rotation": np.eye(9)}, "rotation"),
    ("adam", {"rotation": "haar"}, "rotation"),
    ("adam", {"rotation": [["a"]]}, "rotation"),
])
def test_bad_hyperparameters_name_themselves(optimizer, kwargs, name):
    # A spec checks its hyper-parameters when built; the schedule's length and the problem's
    # dimension (a per-step momentum, a rotation matrix) are checked by simulate.
    with pytest.raises((ValueError, TypeError), match=name):
        simulate(PROBLEM, Schedule.constant(0.01, 2, steps=3), SPECS[optimizer](**kwargs), runs=2, seed=0,
                 numerics=Numerics(backend="numpy"))


# ---------------------------------------------------------------- the optimizer specs
@pytest.mark.parametrize(("shorthand", "spec"), [
    ("sgd", SGD()), ("nsgd", NSGD("expected")), ("momentum", HeavyBall(0.9)), ("adam", Adam()),
    ("signsgd", SignSGD(0.0, rotation=None)),
])
def test_shorthand_is_the_spec_with_defaults(shorthand, spec):
    """A shorthand runs its spec with the documented defaults, draw for draw (every per-run curve)."""
    kw = dict(runs=40, seed=9, numerics=Numerics(backend="numpy"), keep_runs=True, average="uniform")
    a = simulate(PROBLEM, PHASES, shorthand, **kw)
    b = simulate(PROBLEM, PHASES, spec, **kw)
    for name in ("mean_risk", "stderr", "run_risk", "mean_averaged_risk", "run_averaged_risk", "effective_lr"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.optimizer == b.optimizer == shorthand == spec.name
    assert a.optimizer_spec == b.optimizer_spec == spec
    assert a.hyperparameters.keys() == b.hyperparameters.keys()


@pytest.mark.parametrize("spec", [SGD(), NSGD(), NSGD("conditional"), HeavyBall(0.6), HeavyBall(0.6, optimizer="nsgd"),
                                  Adam(betas=(0.8, 0.99), weight_decay=0.1, rotation="random"),
                                  SignSGD(0.9, rotation="random")])
def test_result_spec_reruns_the_same_simulation(spec):
    first = simulate(PROBLEM, PHASES, spec, runs=16, seed=2, numerics=Numerics(backend="numpy"))
    again = simulate(PROBLEM, PHASES, first.optimizer_spec, runs=16, seed=2, numerics=Numerics(backend="numpy"))
    np.testing.assert_array_equal(first.mean_risk, again.mean_risk)
    np.testing.assert_array_equal(np.asarray(first.rotation, dtype=float), np.asarray(again.rotation, dtype=float))


def test_nsgd_denominators_and_heavy_ball_on_nsgd_are_reported():
    cond = simulate(PROBLEM, PHASES, NSGD("conditional"), runs=4, seed=0, numerics=Numerics(backend="numpy"))
    hb = simulate(PROBLEM, PHASES, HeavyBall(0.5, optimizer="nsgd"), runs=4, seed=0, numerics=Numerics(backend="numpy"))
    plain = simulate(PROBLEM, PHASES, HeavyBall(0.5), runs=4, seed=0, numerics=Numerics(backend="numpy"))
    assert (cond.normalization, cond.effective_lr) == ("conditional", None)
    assert (hb.optimizer, hb.normalization, plain.normalization) == ("momentum", "expected", None)
    np.testing.assert_array_equal(plain.effective_lr, PHASES.lr)


def test_heavy_ball_on_nsgd_applies_the_exact_solvers_rates():
    """HeavyBall(μ, optimizer="nsgd") steps with the exact momentum solver's η_t/sqrt(G_t), and its
    Monte Carlo mean agrees with that solver (docs/math.md#heavy-ball-momentum); μ = 0 is NSGD draw for draw."""
    exact = expected_risk(PROBLEM, PHASES, HeavyBall(0.6, optimizer="nsgd"))
    mc = simulate(PROBLEM, PHASES, HeavyBall(0.6, optimizer="nsgd"), runs=3000, seed=12,
                  numerics=Numerics(backend="numpy"))
    np.testing.assert_array_equal(mc.effective_lr, exact.effective_lr)
    steps = np.linspace(len(PHASES) // 9, len(PHASES), 9).astype(int)
    assert np.all(np.abs(mc.z_score(exact.risk)[steps]) < 4)
    plain_nsgd = expected_risk(PROBLEM, PHASES, "nsgd").risk[steps]
    assert np.all(np.abs(mc.mean_risk[steps] - plain_nsgd) > 4 * mc.stderr[steps])  # momentum matters here
    zero = simulate(PROBLEM, PHASES, HeavyBall(0.0, optimizer="nsgd"), runs=64, seed=3,
                    numerics=Numerics(backend="numpy"))
    nsgd = simulate(PROBLEM, PHASES, NSGD(), runs=64, seed=3, numerics=Numerics(backend="numpy"))
    np.testing.assert_array_equal(zero.mean_risk, nsgd.mean_risk)


@pytest.mark.parametrize("name", sorted(set(REMOVED_KEYWORDS) - {"backend", "dtype", "chunk_size"}))
def test_removed_keywords_say_which_spec_takes_them(name):
    # The numerical keywords moved to Numerics instead (tests/theory/test_numerics.py).
    with pytest.raises(TypeError, match=rf"^{name}= moved: pass optimizer=(NSGD|HeavyBall|Adam|SignSGD)\({name}="):
        simulate(PROBLEM, PHASES, runs=2, numerics=Numerics(backend="numpy"), **{name: 0.5})
    with pytest.raises(TypeError, match="unexpected keyword argument 'momentun'"):
        simulate(PROBLEM, PHASES, runs=2, numerics=Numerics(backend="numpy"), momentun=0.5)


def test_per_step_momentum_length_is_checked_against_the_schedule():
    with pytest.raises(ValueError, match=r"momentum must be a number or one value per step \(shape \(160,\)\)"):
        simulate(PROBLEM, PHASES, HeavyBall(np.full(10, 0.5)), runs=2, numerics=Numerics(backend="numpy"))
    with pytest.raises(ValueError, match=r"rotation must have shape \(10, 10\)"):
        simulate(PROBLEM, PHASES, SignSGD(rotation=np.eye(3)), runs=2, numerics=Numerics(backend="numpy"))
