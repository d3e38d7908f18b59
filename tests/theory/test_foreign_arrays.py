"""#19 kind 10: foreign arrays end in a TypeError/ValueError naming the argument, or a correct answer.

On de6f77e a torch tensor that requires grad raised torch's own ``RuntimeError`` from ``Problem``;
an object whose ``__array__`` raises leaked its exception. Every array argument now goes through
``theory._validate.as_numpy``: the conversion's own errors become a ``TypeError`` naming the argument.
A foreign array that converts cleanly (JAX, pandas, a plain torch tensor) gives the same answer as
the NumPy array of its values.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ramplab.theory import Problem, Schedule, expected_risk, second_moment_step

torch = pytest.importorskip("torch")


class RaisingArray:
    """An ``__array__`` that raises ``exc``."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise self.exc

    def __repr__(self) -> str:
        return f"RaisingArray({self.exc!r})"


class LyingSequence:
    """A sequence whose ``__len__`` and ``__getitem__`` raise ``exc``."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __len__(self) -> int:
        raise self.exc

    def __getitem__(self, i: int) -> float:
        raise self.exc


EXCEPTIONS = st.sampled_from([RuntimeError("boom"), ZeroDivisionError("x"), KeyError("k"), AttributeError("a"),
                              OSError("disk"), LookupError("l"), ArithmeticError("a"), AssertionError("no")])


def _torch_grad(values: list[float]) -> Any:
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def _torch_bf16(values: list[float]) -> Any:
    return torch.tensor(values, dtype=torch.bfloat16)


def _pandas_na(values: list[float]) -> Any:
    pd = pytest.importorskip("pandas")
    return pd.array([*values[:-1], None], dtype="Float64")


def _strings(values: list[float]) -> Any:
    return [str(v) for v in values]


#: Foreign arrays that cannot stand for the values: each must be refused naming the argument.
BAD_MAKERS = [_torch_grad, _torch_bf16, _pandas_na, _strings]


@st.composite
def bad_arrays(draw, n: int) -> Any:
    values = [draw(st.floats(0.5, 2.0)) for _ in range(n)]
    kind = draw(st.sampled_from(["maker", "raising", "lying"]))
    if kind == "maker":
        return draw(st.sampled_from(BAD_MAKERS))(values)
    exc = draw(EXCEPTIONS)
    return RaisingArray(exc) if kind == "raising" else LyingSequence(exc)


def _problem(arg: str, value: Any) -> Problem:
    kwargs = {"eigenvalues": [1.0, 0.5], "initial_second_moment": [1.0, 1.0], "multiplicity": None, arg: value}
    return Problem(**kwargs)


#: ``name → (call(value), length)``: one array argument of a public entry point each.
TARGETS: dict[str, tuple[Callable[[Any], Any], int]] = {
    "eigenvalues": (lambda v: _problem("eigenvalues", v), 2),
    "initial_second_moment": (lambda v: _problem("initial_second_moment", v), 2),
    "multiplicity": (lambda v: _problem("multiplicity", v), 2),
    "covariance": (lambda v: Problem.from_covariance(v, [1.0]), 1),
    "initial_error": (lambda v: Problem.from_covariance([[1.0, 0.0], [0.0, 2.0]], v), 2),
    "lr": (lambda v: Schedule(v, [1, 1]), 2),
    "batch": (lambda v: Schedule([0.1, 0.1], v), 2),
    "steps": (lambda v: Schedule.from_segments([0.1, 0.1], [1, 2], v), 2),
    "s": (lambda v: second_moment_step(v, [1.0, 0.5], 0.1, 1, 0.0), 2),
    "checkpoints": (lambda v: expected_risk(Problem([1.0], [1.0]), Schedule.constant(0.1, 1, steps=3),
                                            checkpoints=v), 2),
}


@settings(max_examples=40, deadline=None)
@given(data=st.data(), target=st.sampled_from(sorted(TARGETS)))
@example(data=None, target="eigenvalues")
def test_foreign_arrays_are_refused_naming_the_argument(data, target):
    call, n = TARGETS[target]
    value = _torch_grad([1.0] * n) if data is None else data.draw(bad_arrays(n))
    with pytest.raises((TypeError, ValueError), match=target):
        call(value)


def test_torch_tensor_with_grad_in_problem_is_a_type_error():
    """The issue's example."""
    with pytest.raises(TypeError, match="eigenvalues"):
        Problem(torch.ones(3, requires_grad=True), np.ones(3))


@pytest.mark.parametrize("convert", ["torch", "jax", "pandas"])
def test_foreign_arrays_that_convert_give_the_numpy_answer(convert):
    lam, s0 = [1.0, 0.5, 0.25], [1.0, 2.0, 3.0]
    if convert == "torch":
        wrap = torch.tensor
    elif convert == "jax":
        jnp = pytest.importorskip("jax.numpy")
        wrap = jnp.asarray
    else:
        pd = pytest.importorskip("pandas")
        wrap = pd.Series
    plain = Problem(lam, s0, noise_variance=0.1)
    foreign = Problem(wrap(lam), wrap(s0), noise_variance=0.1)
    assert np.array_equal(plain.eigenvalues, foreign.eigenvalues)
    assert np.array_equal(plain.initial_second_moment, foreign.initial_second_moment)
