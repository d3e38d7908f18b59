"""#19 kind 7: numbers that are silently wrong (long doubles in sweep keys, masked arrays, underflow
of the step's noise term, overflowing problems, sample counts beyond 2**53).

Oracles are independent: exact fractions for the step, Python ints for counts, byte-level
copies for the keys. Monte Carlo's step-0 spread (also kind 7) is measured by helper E's file.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np


def _named(exc, name):
    return "ok" if re.search(rf"\b{re.escape(name)}\b", str(exc)) else "unclear"


def _refused(call, name):
    """A value that must be refused: ``ok`` for an error naming ``name``, ``silent`` when accepted."""
    try:
        call()
    except (TypeError, ValueError) as exc:
        return _named(exc, name)
    return "silent"


# ----------------------------------------------------------------------------- sweep keys
def _ld_padding(values):
    from ramplab.sweeps import spec_hash

    a = np.array(values, dtype=np.longdouble)
    if np.finfo(np.longdouble).nmant != 63:
        return "ok"  # no padding bytes on this platform
    raw = np.frombuffer(a.tobytes(), dtype=np.uint8).copy()
    for i in range(a.size):
        raw[i * a.itemsize + 10:(i + 1) * a.itemsize] = 0xAB
    b = np.frombuffer(raw.tobytes(), dtype=np.longdouble).copy()
    assert np.array_equal(a, b)
    try:
        same = spec_hash({"x": a}) == spec_hash({"x": b})
    except (TypeError, ValueError) as exc:
        return _named(exc, "x")
    return "ok" if same else "silent"


def _ld_rounded(num, den):
    from ramplab.sweeps import spec_hash

    x = np.longdouble(num) / np.longdouble(den)
    try:
        h = spec_hash({"x": x})
    except (TypeError, ValueError) as exc:
        return _named(exc, "x")
    if Fraction(*(int(v) for v in x.as_integer_ratio())) == Fraction(float(x)):
        return "ok" if h == spec_hash({"x": float(x)}) else "silent"
    return "ok" if h != spec_hash({"x": float(x)}) else "silent"


def _masked_spec():
    from ramplab.sweeps import spec_hash

    a = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    b = np.ma.masked_array([1.0, 2.0], mask=[False, False])
    try:
        same = spec_hash({"x": a}) == spec_hash({"x": b})
    except TypeError as exc:
        return "ok" if "masked" in str(exc) else "unclear"
    return "silent" if same else "ok"


# ----------------------------------------------------------------------------- masked arrays in theory
def _masked_problem(arg):
    from ramplab.theory import Problem

    kwargs = {"eigenvalues": [1.0, 0.5], "initial_second_moment": [1.0, 1.0]}
    kwargs[arg] = np.ma.masked_array([1.0, -5.0], mask=[False, True])
    return _refused(lambda: Problem(**kwargs), arg)


def _masked_schedule(arg):
    from ramplab.theory import Schedule

    kwargs = {"lr": [0.1, 0.2], "batch": [1, 2]}
    kwargs[arg] = np.ma.masked_array(kwargs[arg], mask=[False, True])
    return _refused(lambda: Schedule(**kwargs), arg)


def _masked_in_list():
    from ramplab.theory import Problem

    return _refused(lambda: Problem([1.0, np.ma.masked], [1.0, 1.0]), "eigenvalues")


def _masked_step():
    from ramplab.theory import second_moment_step

    return _refused(lambda: second_moment_step(np.ma.masked_array([1.0, 9.0], mask=[0, 1]), [1.0, 0.5], 0.1, 1, 0.0),
                    "s")


# ----------------------------------------------------------------------------- the step's noise term
def _noise_term(lr, noise, lam, batch, how):
    from ramplab.theory import Numerics, Problem, Schedule, expected_risk, second_moment_step

    exact = Fraction(lr) ** 2 / batch * Fraction(noise) * Fraction(lam)
    if how == "step":
        got = float(second_moment_step(np.array([0.0]), np.array([lam]), lr, batch, noise)[0])
    else:
        p = Problem([lam], [0.0], noise_variance=noise)
        got = 2 * float(expected_risk(p, Schedule.constant(lr, batch, steps=1), numerics=Numerics(kernel=how)).risk[1]) / lam
    return "ok" if abs(Fraction(got) - exact) <= 1e-12 * exact else "silent"


# ----------------------------------------------------------------------------- overflowing problems
def _overflow(lam, s0, name):
    from ramplab.theory import Problem

    return _refused(lambda: Problem(lam, s0), name)


def _overflow_multiplicity():
    from ramplab.theory import Problem

    return _refused(lambda: Problem([1e300], [1.0], multiplicity=[1e10]), "multiplicity")


def _overflow_power_law():
    from ramplab.theory import Problem

    try:
        p = Problem.power_law(4, 1.0, 1.0, scale=1e308)
    except (TypeError, ValueError) as exc:
        return "ok" if re.search(r"\b(scale|eigenvalues|d)\b", str(exc)) else "unclear"
    return "ok" if np.isfinite(p.trace) and np.isfinite(p.initial_risk) else "silent"


# ----------------------------------------------------------------------------- sample counts
def _samples(samples, batch, how):
    from ramplab.theory import Schedule

    try:
        if how == "constant":
            s = Schedule.constant(0.1, batch, samples=samples)
        else:
            s = Schedule.from_phases([(0.1, batch, samples), (0.05, batch, samples)])
            samples = 2 * samples
    except (TypeError, ValueError) as exc:
        return _named(exc, "samples")
    return "ok" if s.total_samples == samples and int(s.samples_at(len(s))) == samples else "silent"


def _samples_real_batch():
    from ramplab.theory import Schedule

    try:
        s = Schedule.constant(0.1, 1.5, samples=2**53 + 1, integer_batch=False)
    except (TypeError, ValueError) as exc:
        return _named(exc, "samples")
    return "ok" if s.total_samples == 2**53 + 1 else "silent"


CASES = [
    ("spec_hash long double array [0.1, 0.2] with padding", lambda: _ld_padding([0.1, 0.2])),
    ("spec_hash long double array [1/3] with padding", lambda: _ld_padding([1 / 3])),
    ("spec_hash long double array [0, -0, 1e300] with padding", lambda: _ld_padding([0.0, -0.0, 1e300])),
    ("spec_hash long double scalar 1/3 vs its float64", lambda: _ld_rounded(1, 3)),
    ("spec_hash long double scalar 1/10 vs its float64", lambda: _ld_rounded(1, 10)),
    ("spec_hash long double scalar 1/2 equals 0.5", lambda: _ld_rounded(1, 2)),
    ("spec_hash masked array vs unmasked", _masked_spec),
    ("Problem(eigenvalues=masked)", lambda: _masked_problem("eigenvalues")),
    ("Problem(initial_second_moment=masked)", lambda: _masked_problem("initial_second_moment")),
    ("Problem(multiplicity=masked)", lambda: _masked_problem("multiplicity")),
    ("Problem([1.0, np.ma.masked])", _masked_in_list),
    ("Schedule(lr=masked)", lambda: _masked_schedule("lr")),
    ("Schedule(batch=masked)", lambda: _masked_schedule("batch")),
    ("second_moment_step(s=masked)", _masked_step),
    ("noise term η=1e-160 σ²=1e300 (second_moment_step)", lambda: _noise_term(1e-160, 1e300, 2.0, 3, "step")),
    ("noise term η=3e-162 σ²=1e300 (second_moment_step)", lambda: _noise_term(3e-162, 1e300, 1.0, 1, "step")),
    ("noise term η=1e-158 σ²=1e280 B=7 (second_moment_step)", lambda: _noise_term(1e-158, 1e280, 0.3, 7, "step")),
    ("noise term η=1e-160 σ²=1e300 (fused kernel)", lambda: _noise_term(1e-160, 1e300, 2.0, 3, "fused")),
    ("noise term η=1e-160 σ²=1e300 (reference loop)", lambda: _noise_term(1e-160, 1e300, 2.0, 3, "reference")),
    ("noise term η=2e-170 σ²=1e300 (fused kernel)", lambda: _noise_term(2e-170, 1e300, 5.0, 2, "fused")),
    ("Problem trace overflow [1e308, 1e308]", lambda: _overflow([1e308, 1e308], [1.0, 1.0], "eigenvalues")),
    ("Problem trace overflow 1000 × 1e306", lambda: _overflow([1e306] * 1000, [0.0] * 1000, "eigenvalues")),
    ("Problem initial risk overflow λ=s=1e200", lambda: _overflow([1e200], [1e200], "initial_second_moment")),
    ("Problem initial risk overflow λ=1, s=[1e308]*2", lambda: _overflow([1.0, 1.0], [1e308, 1e308],
                                                                        "initial_second_moment")),
    ("Problem multiplicity overflow", _overflow_multiplicity),
    ("Problem.power_law(scale=1e308)", _overflow_power_law),
    ("Schedule.constant(samples=2**53 + 1)", lambda: _samples(2**53 + 1, 1, "constant")),
    ("Schedule.constant(samples=2**60 + 3, batch=7)", lambda: _samples(2**60 + 3, 7, "constant")),
    ("Schedule.constant(samples=np.int64(2**62 + 1), batch=2)", lambda: _samples(np.int64(2**62 + 1), 2, "constant")),
    ("Schedule.from_phases(samples=2**54 + 1)", lambda: _samples(2**54 + 1, 3, "phases")),
    ("Schedule.constant(samples=2**53 + 1, integer_batch=False)", _samples_real_batch),
]
