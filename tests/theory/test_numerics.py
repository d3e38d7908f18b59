"""The numerics record shared by the exact solver and the Monte Carlo (issue #18: one options record).

``Numerics(backend, dtype, kernel, chunk_size)`` is validated when built (errors name the field),
immutable, hashable and survives pickle and copy; ``expected_risk`` and ``simulate`` take it as
``numerics=`` (or a dict of its fields) and refuse their old flat keywords with a TypeError saying
where each moved. References: the same calls through the spelled-out record (bitwise identity, since
the record only carries the settings).
"""

from __future__ import annotations

import copy
import pickle

import array_api_strict
import numpy as np
import pytest

from ramplab import simulations, theory
from ramplab.simulations import simulate
from ramplab.theory import Numerics, Problem, Schedule, expected_risk

P = Problem.power_law(12, a=1.4, b=1.0, noise_variance=0.3)
S = Schedule.from_phases([(0.3, 4, 200), (0.15, 8, 400)])


def test_defaults_equality_hash_and_exports():
    assert Numerics() == Numerics(None, None, "auto", None)
    assert hash(Numerics(kernel="reference")) == hash(Numerics(kernel="reference"))
    assert Numerics(kernel="reference") != Numerics(kernel="fused")
    assert Numerics(chunk_size=64.0).chunk_size == 64 and isinstance(Numerics(chunk_size=64.0).chunk_size, int)
    assert theory.Numerics is simulations.Numerics is Numerics
    with pytest.raises(AttributeError):
        Numerics().kernel = "fused"


@pytest.mark.parametrize("numerics", [Numerics(), Numerics("numpy", np.float32, "reference", 128),
                                      Numerics(np, "float32"), Numerics(array_api_strict, None, "reference")])
def test_pickle_and_copy_round_trip(numerics):
    for other in (pickle.loads(pickle.dumps(numerics)), copy.copy(numerics), copy.deepcopy(numerics)):
        assert other == numerics and hash(other) == hash(numerics)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(backend="tpu"), ValueError, "backend must be one of .* got 'tpu'"),
    (dict(backend=3), TypeError, "backend must be one of"),
    (dict(backend=pickle), TypeError, "backend module 'pickle' is not an array API namespace"),
    (dict(dtype=np.int64), TypeError, "dtype must be float64 or float32"),
    (dict(dtype="float16"), TypeError, "dtype must be float64 or float32"),
    (dict(dtype=1.0), TypeError, "dtype must be float64 or float32"),
    (dict(dtype=np.float32(1.0)), TypeError, "dtype must be float64 or float32"),
    (dict(kernel="gpu"), ValueError, r"kernel must be one of \('auto', 'fused', 'reference'\); got 'gpu'"),
    (dict(kernel=None), ValueError, "kernel must be one of"),
    (dict(chunk_size=0), ValueError, "chunk_size must be ≥ 1; got 0"),
    (dict(chunk_size=2.5), TypeError, "chunk_size must be an integer"),
    (dict(chunk_size=True), TypeError, "chunk_size must be an integer"),
])
def test_bad_fields_are_refused_naming_them(kwargs, error, match):
    with pytest.raises(error, match=match):
        Numerics(**kwargs)
    with pytest.raises(error, match=match):  # the dict shorthand builds the same record
        expected_risk(P, S, numerics=kwargs)


def test_dict_shorthand_and_bad_numerics():
    a = expected_risk(P, S, numerics={"kernel": "reference", "dtype": "float32"})
    b = expected_risk(P, S, numerics=Numerics(dtype="float32", kernel="reference"))
    np.testing.assert_array_equal(a.risk, b.risk)
    with pytest.raises(TypeError, match="numerics has no field 'kernal'"):
        expected_risk(P, S, numerics={"kernal": "reference"})
    with pytest.raises(TypeError, match="numerics must be a Numerics, a dict of its fields"):
        expected_risk(P, S, numerics="numpy")


def test_each_function_refuses_the_field_that_is_not_its_own():
    with pytest.raises(ValueError, match="numerics.chunk_size applies to simulate"):
        expected_risk(P, S, numerics=Numerics(chunk_size=64))
    with pytest.raises(ValueError, match="numerics.kernel applies to the exact solver"):
        simulate(P, S, runs=4, numerics=Numerics(backend="numpy", kernel="reference"))


@pytest.mark.parametrize(("name", "value"), [("backend", "numpy"), ("dtype", np.float32), ("kernel", "fused")])
def test_expected_risk_old_keywords_say_where_they_moved(name, value):
    with pytest.raises(TypeError, match=rf"^{name}= moved: pass numerics=Numerics\({name}=\.\.\.\) to expected_risk"):
        expected_risk(P, S, **{name: value})


@pytest.mark.parametrize(("name", "value"), [("backend", "numpy"), ("dtype", np.float32), ("chunk_size", 64)])
def test_simulate_old_keywords_say_where_they_moved(name, value):
    with pytest.raises(TypeError, match=rf"^{name}= moved: pass numerics=Numerics\({name}=\.\.\.\) to simulate"):
        simulate(P, S, runs=4, **{name: value})


def test_default_backend_is_each_functions_own():
    # expected_risk: None means NumPy (not "auto"); simulate: None means "auto" (NumPy without a GPU).
    a = expected_risk(P, S, numerics=Numerics(kernel="reference"))
    b = expected_risk(P, S, numerics=Numerics(backend="numpy", kernel="reference"))
    np.testing.assert_array_equal(a.risk, b.risk)
    mc = simulate(P, S, runs=4, seed=1, numerics=Numerics())
    assert mc.backend == simulate(P, S, runs=4, seed=1).backend


def test_results_are_those_of_the_settings_it_carries():
    # The record only carries the settings: a float32 reference run differs from the float64 one by rounding,
    # the array_api_strict run is the NumPy reference loop's numbers, and chunking changes no run's numbers.
    ref = expected_risk(P, S, numerics=Numerics(kernel="reference"))
    strict = expected_risk(P, S, numerics=Numerics(backend="array_api_strict"))
    np.testing.assert_allclose(strict.risk, ref.risk, rtol=1e-13)
    f32 = expected_risk(P, S, numerics={"dtype": np.float32, "kernel": "reference"})
    assert 0 < np.max(np.abs(f32.risk / ref.risk - 1)) < 1e-4
    whole = simulate(P, S, runs=130, seed=3, keep_runs=True, numerics={"backend": "numpy"})
    chunked = simulate(P, S, runs=130, seed=3, keep_runs=True, numerics={"backend": "numpy", "chunk_size": 64})
    np.testing.assert_array_equal(whole.run_risk, chunked.run_risk)
