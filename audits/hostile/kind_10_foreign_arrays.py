"""#19 kind 10: foreign arrays (torch, JAX, pandas, objects whose ``__array__`` or ``__len__``
raises, lists of strings) for every kind of array argument.

``ok``: a TypeError/ValueError naming the argument, or (for a foreign array that converts) the same
result as the NumPy array of its values; ``unclear``: any other exception (torch's RuntimeError, …);
``silent``: accepted with a different result than the NumPy array of its values (a pandas NA reads
as NaN there, which a state ``s`` may hold: non-finite states propagate by design).
"""

from __future__ import annotations

import re

import numpy as np


class _RaisingArray:
    def __init__(self, exc):
        self.exc = exc

    def __array__(self, *args, **kwargs):
        raise self.exc


class _LyingSequence:
    def __len__(self):
        raise RuntimeError("len")

    def __getitem__(self, i):
        raise RuntimeError("getitem")


def _torch_grad(values):
    import torch

    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def _torch_bf16(values):
    import torch

    return torch.tensor(values, dtype=torch.bfloat16)


def _torch_plain(values):
    import torch

    return torch.tensor(values, dtype=torch.float64)


def _jax(values):
    import jax.numpy as jnp

    return jnp.asarray(values)


def _pandas(values):
    import pandas as pd

    return pd.Series(values)


def _pandas_na(values):
    import pandas as pd

    return pd.array([*values[:-1], None], dtype="Float64")


MAKERS = {
    "torch requires_grad": (_torch_grad, False),
    "torch bfloat16": (_torch_bf16, False),
    "__array__ raises RuntimeError": (lambda v: _RaisingArray(RuntimeError("boom")), False),
    "__array__ raises ZeroDivisionError": (lambda v: _RaisingArray(ZeroDivisionError("x")), False),
    "__len__ raises": (lambda v: _LyingSequence(), False),
    "list of strings": (lambda v: [str(x) for x in v], False),
    "pandas Float64 with NA": (_pandas_na, True),  # NumPy reads NA as NaN: the answer of that array
    "torch plain": (_torch_plain, True),
    "jax": (_jax, True),
    "pandas Series": (_pandas, True),
}


def _targets():
    from ramplab.theory import Problem, Schedule, expected_risk, second_moment_step

    def problem(arg):
        def call(v):
            kw = {"eigenvalues": [1.0, 0.5], "initial_second_moment": [1.0, 1.0], arg: v}
            p = Problem(**kw)
            return np.concatenate([p.eigenvalues, p.initial_second_moment, p.multiplicity])
        return call

    return {
        "eigenvalues": (problem("eigenvalues"), [1.0, 0.5]),
        "initial_second_moment": (problem("initial_second_moment"), [2.0, 1.0]),
        "multiplicity": (problem("multiplicity"), [1.0, 3.0]),
        "lr": (lambda v: np.asarray(Schedule(v, [1, 2]).lr), [0.1, 0.2]),
        "s": (lambda v: second_moment_step(v, [1.0, 0.5], 0.1, 1, 0.0), [1.0, 1.0]),
        "checkpoints": (lambda v: expected_risk(Problem([1.0], [1.0]), Schedule.constant(0.1, 1, steps=3),
                                                checkpoints=v).risk, [1, 3]),
    }


def _case(target, maker):
    import importlib.util

    fn, good = _targets()[target]
    make, converts = MAKERS[maker]
    for mod in ("torch", "jax", "pandas"):
        if mod in maker and importlib.util.find_spec(mod) is None:
            return "ok"  # not installed here: nothing to measure
    value = make(good)
    try:
        out = fn(value)
    except (TypeError, ValueError) as exc:
        return "ok" if re.search(rf"\b{re.escape(target)}\b", str(exc)) else "unclear"
    if not converts:
        return "silent"
    # The answer of the NumPy array of its values (JAX's float32 default rounds 0.1: the user's values).
    want = fn(np.asarray(value.detach() if hasattr(value, "detach") else value))
    return "ok" if np.array_equal(np.asarray(out), np.asarray(want), equal_nan=True) else "silent"


CASES = [(f"{target} = {maker}", lambda t=target, m=maker: _case(t, m))
         for target in ("eigenvalues", "initial_second_moment", "multiplicity", "lr", "s", "checkpoints")
         for maker in MAKERS
         if not (target == "checkpoints" and maker in ("pandas Float64 with NA",))]
