"""The optimizer specs shared by the exact solver and the Monte Carlo (theory/_optimizers.py).

Construction validates once and names the argument (docs/math.md#monte-carlo-optimizers,
#heavy-ball-momentum, #normalized-sgd); specs are values: equal when their fields are, hashed alike,
immutable, and a pickle or a (deep)copy gives an equal, validated spec with read-only arrays again.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ramplab.simulations
import ramplab.theory
from ramplab.theory import NSGD, SGD, Adam, HeavyBall, OptimizerSpec, SignSGD, resolve_optimizer

Q = np.array([[0.6, -0.8], [0.8, 0.6]])
EXAMPLES = [
    SGD(), NSGD(), NSGD("conditional"), HeavyBall(), HeavyBall(0.5, optimizer="nsgd"),
    HeavyBall([0.0, 0.9, 1.2]), Adam(), Adam(betas=(0.5, 0.9), eps=0.0, weight_decay=0.1, rotation=Q),
    Adam(rotation="random"), SignSGD(), SignSGD(0.9, rotation=Q),
]
fractions = st.floats(0.0, 1.0, exclude_max=True, allow_nan=False)


# ---------------------------------------------------------------- defaults and shorthands
def test_defaults_are_the_documented_values():
    assert NSGD().normalization == "expected"
    assert (HeavyBall().momentum, HeavyBall().optimizer) == (0.9, "sgd")
    a = Adam()
    assert (a.betas, a.eps, a.weight_decay, a.rotation) == ((0.9, 0.999), 1e-8, 0.0, None)
    assert (SignSGD().momentum, SignSGD().rotation) == (0.0, None)


@pytest.mark.parametrize(("shorthand", "spec"), [
    ("sgd", SGD()), ("nsgd", NSGD("expected")), ("momentum", HeavyBall(0.9, optimizer="sgd")),
    ("adam", Adam((0.9, 0.999), 1e-8, 0.0, None)), ("signsgd", SignSGD(0.0, None)),
])
def test_shorthand_resolves_to_the_spec_with_defaults(shorthand, spec):
    assert resolve_optimizer(shorthand) == spec and spec.name == shorthand
    assert resolve_optimizer(spec) is spec
    assert resolve_optimizer(shorthand, where="monte_carlo") == spec


def test_exact_support():
    supported = {"SGD()", "NSGD(normalization='expected')"}
    for spec in EXAMPLES:
        expected = isinstance(spec, (SGD, HeavyBall)) or repr(spec) in supported
        assert spec.exact_supported is expected, spec
        if expected:
            assert resolve_optimizer(spec, where="exact") is spec
        else:
            with pytest.raises(ValueError, match=r"^optimizer=.* has no exact solver: .*simulations\.simulate"):
                resolve_optimizer(spec, where="exact")
    with pytest.raises(ValueError, match="optimizer=NSGD\\(normalization='conditional'\\) has no exact solver"):
        resolve_optimizer(NSGD("conditional"), where="exact")
    with pytest.raises(ValueError, match="optimizer=SignSGD"):
        resolve_optimizer("signsgd", where="exact")


@pytest.mark.parametrize("bad", ["adagrad", "SGD", "", None, 3, ["sgd"], np.array(["sgd", "nsgd"]), SGD, object()])
def test_unknown_optimizer_names_itself(bad):
    with pytest.raises(ValueError, match=r"^optimizer must be one of \('sgd', 'nsgd', 'momentum', 'adam', "
                                          r"'signsgd'\) or an optimizer spec .*; got "):
        resolve_optimizer(bad)


def test_unknown_where_names_itself():
    with pytest.raises(ValueError, match="where must be one of"):
        resolve_optimizer("sgd", where="gpu")


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(("build", "error", "match"), [
    (lambda: NSGD("median"), ValueError, r"normalization must be one of \('expected', 'conditional'\); got 'median'"),
    (lambda: NSGD(None), ValueError, "normalization must be one of"),
    (lambda: HeavyBall(1.0), ValueError, r"momentum must lie in \[0, 1\); got 1.0"),
    (lambda: HeavyBall(-0.1), ValueError, "momentum"),
    (lambda: HeavyBall(math.nan), ValueError, "momentum must be finite"),
    (lambda: HeavyBall(True), TypeError, "momentum must be a number in"),
    (lambda: HeavyBall(None), TypeError, "momentum must be a number in"),
    (lambda: HeavyBall("0.9"), TypeError, "momentum must be a number in"),
    (lambda: HeavyBall(1 + 0j), TypeError, "momentum must be a real number"),
    (lambda: HeavyBall([0.5, -0.1]), ValueError, r"momentum must be finite and ≥ 0 at every step; got -0.1 at index 1"),
    (lambda: HeavyBall([0.5, math.inf]), ValueError, "momentum must be finite and ≥ 0"),
    (lambda: HeavyBall([[0.5]]), ValueError, r"momentum must be a number or a non-empty 1-D array .*shape \(1, 1\)"),
    (lambda: HeavyBall([]), ValueError, "non-empty 1-D array"),
    (lambda: HeavyBall([0.5, True]), TypeError, "momentum must hold real numbers"),
    (lambda: HeavyBall(0.5, optimizer="adam"), ValueError, "optimizer must be 'sgd' or 'nsgd'"),
    (lambda: HeavyBall(0.5, optimizer=NSGD()), ValueError, "optimizer must be 'sgd' or 'nsgd'"),
    (lambda: Adam(betas=0.9), TypeError, r"betas must be a pair \(beta1, beta2\); got 0.9"),
    (lambda: Adam(betas="ab"), TypeError, "betas must be a pair"),
    (lambda: Adam(betas=(0.9, 0.99, 0.999)), TypeError, "betas must be a pair"),
    (lambda: Adam(betas=(0.9, 1.0)), ValueError, r"betas must lie in \[0, 1\)"),
    (lambda: Adam(betas=(-0.1, 0.9)), ValueError, "betas"),
    (lambda: Adam(betas=(True, 0.9)), TypeError, "betas must be a real number"),
    (lambda: Adam(eps=-1e-8), ValueError, "eps must be ≥ 0"),
    (lambda: Adam(eps=None), TypeError, "eps must be a real number"),
    (lambda: Adam(weight_decay=math.inf), ValueError, "weight_decay must be finite"),
    (lambda: Adam(rotation="haar"), ValueError, "rotation must be None, 'random' or an orthogonal"),
    (lambda: Adam(rotation=[["a"]]), TypeError, "rotation must be None, 'random' or an orthogonal"),
    (lambda: Adam(rotation=np.ones((2, 2))), ValueError, "rotation must be orthogonal"),
    (lambda: Adam(rotation=np.eye(3)[:2]), ValueError, r"rotation must be a square \(d, d\) matrix; got shape \(2, 3\)"),
    (lambda: SignSGD(rotation=np.full((2, 2), np.nan)), ValueError, "rotation must be finite"),
    (lambda: SignSGD(momentum=[0.5]), TypeError, "momentum must be a real number"),
    (lambda: SignSGD(momentum=1.0), ValueError, r"momentum must lie in \[0, 1\)"),
    (lambda: SGD(momentum=0.9), TypeError, "momentum"),
    (lambda: NSGD(rotation="random"), TypeError, "rotation"),
])
def test_bad_arguments_name_themselves(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_per_step_momentum_follows_the_exact_solvers_rules():
    """Entries ≥ 1 of an array are allowed (torch's warmup gives them), a constant ≥ 1 is not."""
    spec = HeavyBall(np.array([0.0, 1.5, 0.9]))
    assert spec.per_step and spec.momenta(3).tolist() == [0.0, 1.5, 0.9]
    assert not HeavyBall(0.5).per_step and HeavyBall(0.5).momenta(2).tolist() == [0.5, 0.5]
    assert HeavyBall(np.float32(0.5)).momentum == 0.5 and HeavyBall(np.array(0.25)).momentum == 0.25
    with pytest.raises(ValueError, match=r"momentum must be a number or one value per step \(shape \(4,\)\); got "
                                          r"shape \(3,\)"):
        spec.momenta(4)


def test_arrays_are_read_only_copies():
    mu = np.array([0.1, 0.2])
    spec = HeavyBall(mu)
    mu[0] = 0.9
    assert spec.momentum[0] == 0.1 and not spec.momentum.flags.writeable
    q = Q.copy()
    adam = Adam(rotation=q)
    q[0, 0] = 5.0
    assert adam.rotation[0, 0] == 0.6 and not adam.rotation.flags.writeable
    with pytest.raises(ValueError):
        adam.rotation[0, 0] = 1.0
    out = spec.momenta(2)
    out[0] = 0.7  # a writable copy
    assert spec.momentum[0] == 0.1


def test_specs_are_frozen():
    for spec in EXAMPLES:
        for f in dataclasses.fields(spec):
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(spec, f.name, None)


# ---------------------------------------------------------------- values
def test_equality_and_hash():
    assert HeavyBall([0.5, 0.5]) == HeavyBall(np.array([0.5, 0.5])) == HeavyBall((0.5, 0.5))
    assert hash(HeavyBall([0.5, 0.5])) == hash(HeavyBall((0.5, 0.5)))
    assert HeavyBall([0.0, -0.0]) == HeavyBall([0.0, 0.0]) and hash(HeavyBall([-0.0])) == hash(HeavyBall([0.0]))
    assert HeavyBall(0.5) != HeavyBall([0.5]) and HeavyBall(0.5) != HeavyBall(0.5, optimizer="nsgd")
    assert Adam(rotation=Q) == Adam(rotation=Q.tolist()) and Adam(rotation=Q) != Adam(rotation=Q.T)
    assert Adam(betas=[0.9, 0.99]) == Adam(betas=np.array([0.9, 0.99]))
    assert NSGD() != SGD() and SGD() != "sgd" and SignSGD() != Adam(betas=(0.0, 0.0), eps=0.0)
    assert len(set(EXAMPLES)) == len(EXAMPLES)
    assert {spec: i for i, spec in enumerate(EXAMPLES)}[copy.deepcopy(EXAMPLES[5])] == 5


@pytest.mark.parametrize("spec", EXAMPLES, ids=repr)
def test_pickle_and_copy_round_trip(spec):
    for twin in (pickle.loads(pickle.dumps(spec)), copy.copy(spec), copy.deepcopy(spec)):
        assert type(twin) is type(spec) and twin == spec and hash(twin) == hash(spec)
        for f in dataclasses.fields(spec):
            value = getattr(twin, f.name)
            if isinstance(value, np.ndarray):
                assert not value.flags.writeable, f.name


@given(mu=fractions, nsgd=st.booleans())
def test_constant_momentum_round_trips(mu, nsgd):
    spec = HeavyBall(mu, optimizer="nsgd" if nsgd else "sgd")
    assert spec.momentum == mu and pickle.loads(pickle.dumps(spec)) == spec
    assert spec == HeavyBall(np.float64(mu), optimizer=spec.optimizer)


@given(mus=st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=1, max_size=20))
def test_per_step_momentum_is_kept_exactly(mus):
    spec = HeavyBall(mus)
    assert spec.momenta(len(mus)).tolist() == [m + 0.0 for m in mus]
    twin = pickle.loads(pickle.dumps(spec))
    assert twin == spec and hash(twin) == hash(spec)


@given(b1=fractions, b2=fractions, eps=st.floats(0.0, 1.0), decay=st.floats(0.0, 10.0))
def test_adam_hyperparameters_are_floats(b1, b2, eps, decay):
    spec = Adam(betas=[b1, b2], eps=eps, weight_decay=decay)
    assert spec.betas == (b1, b2) and type(spec.betas[0]) is float
    assert (spec.eps, spec.weight_decay) == (eps, decay)
    assert copy.deepcopy(spec) == spec


@given(beta=st.floats(1.0, 1e300) | st.floats(max_value=-1e-300, allow_infinity=False))
def test_out_of_range_fractions_are_refused(beta):
    for build in (lambda: Adam(betas=(0.5, beta)), lambda: SignSGD(beta), lambda: HeavyBall(beta)):
        with pytest.raises(ValueError):
            build()


# ---------------------------------------------------------------- exports
def test_reexported_from_theory_and_simulations():
    for name in ("OptimizerSpec", "SGD", "NSGD", "HeavyBall", "Adam", "SignSGD", "resolve_optimizer"):
        assert name in ramplab.theory.__all__ and name in ramplab.simulations.__all__
        assert getattr(ramplab.theory, name) is getattr(ramplab.simulations, name)
    assert all(isinstance(spec, OptimizerSpec) for spec in EXAMPLES)
