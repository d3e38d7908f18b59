"""The one backend resolver."""

from __future__ import annotations

import array_api_strict
import numpy as np
import pytest

from ramplab.theory import backend_name, cupy_available, resolve_backend, to_numpy


def test_names_resolve():
    assert backend_name(resolve_backend("numpy")) == "numpy"
    assert backend_name(resolve_backend(np)) == "numpy"
    assert resolve_backend("array_api_strict") is array_api_strict
    assert backend_name(resolve_backend("auto")) == ("cupy" if cupy_available() else "numpy")


def test_unknown_and_unavailable():
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("jax")
    if not cupy_available():
        with pytest.raises(ValueError, match="CuPy"):
            resolve_backend("cupy")


def test_to_numpy(xp):
    a = xp.asarray([1.0, 2.0], dtype=xp.float64)
    out = to_numpy(a)
    assert isinstance(out, np.ndarray) and out.tolist() == [1.0, 2.0]


# Found by tests/test_hostile_inputs.py.
@pytest.mark.parametrize("bad", [np.array([1, 2], dtype=object), np.zeros(0), 3, 1.5])
def test_resolve_backend_refuses_non_names(bad):
    # Arrays used to fail on "The truth value of an array ... is ambiguous".
    with pytest.raises(TypeError, match="backend must be one of"):
        resolve_backend(bad)


def test_modules_that_are_not_array_namespaces_are_refused():
    import sympy

    with pytest.raises(TypeError, match="is not an array API namespace"):  # was returned as the namespace
        resolve_backend(sympy)
    with pytest.raises(TypeError, match="xp must be an array namespace"):
        backend_name(sympy)
    with pytest.raises(TypeError, match="xp must be an array namespace"):  # was AttributeError: __name__
        backend_name(3.0)
