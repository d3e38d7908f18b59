"""optax_schedule at the edge of JAX's 32-bit step range."""
import pytest

from ramplab.interop import learning_rate_at, optax_schedule
from ramplab.theory import Schedule

jax = pytest.importorskip("jax")


def test_last_int32_step_keeps_its_rate():
    s = Schedule.from_phases([(0.1, 1, 2**31 + 5), (0.2, 1, 10)])
    f = optax_schedule(s)
    for k in (0, 2**31 - 2, 2**31 - 1):
        assert float(f(k)) == pytest.approx(learning_rate_at(s, k), rel=1e-6)
    assert float(jax.jit(f)(2**31 - 1)) == pytest.approx(0.1, rel=1e-6)


def test_end_exactly_at_int32_limit():
    s = Schedule.from_phases([(0.1, 1, 2**31 - 1), (0.2, 1, 10)])
    f = optax_schedule(s)
    assert float(f(2**31 - 2)) == pytest.approx(0.1, rel=1e-6)
    assert float(f(2**31 - 1)) == pytest.approx(0.2, rel=1e-6)


def test_python_step_beyond_range_raises_value_error():
    if jax.config.jax_enable_x64:
        pytest.skip("64-bit steps")
    f = optax_schedule(Schedule([0.5, 0.25], [2, 4]))
    with pytest.raises(ValueError, match="step"):
        f(2**31)
