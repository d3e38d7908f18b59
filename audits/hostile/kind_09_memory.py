"""Issue #19, kind 9: sizes the machine cannot hold.

Each case builds a problem or starts a run whose peak memory exceeds what the process may use,
with the address space capped first (``RLIMIT_AS`` = what the process already maps + a little),
so nothing huge is ever allocated and "the machine" is small and known. Outcomes: ``"ok"`` a
``ValueError`` naming the sizes that drive the memory (``d``, ``runs``, ``keep_runs`` …) with an
estimate (or the run fits and finishes); ``"unclear"`` NumPy's ``MemoryError`` (or any other
error that does not name the argument). ``RAMPLAB_MEMORY_LIMIT`` is removed from the environment,
so the check uses the available memory (a checkout without the check ignores it anyway).
"""

from __future__ import annotations

import os
import re

import numpy as np

GiB = 2**30


def _cap(extra: int) -> None:
    import resource

    os.environ.pop("RAMPLAB_MEMORY_LIMIT", None)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = used + extra if hard == resource.RLIM_INFINITY else min(hard, used + extra)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _warm():
    """Import and compile what the runs use before the cap (compilation is not the finding)."""
    from ramplab.simulations import Numerics, simulate
    from ramplab.theory import Problem, Schedule, expected_risk, schedule_to_target

    p, s = Problem.isotropic(2, eigenvalue=0.1), Schedule.constant(0.1, 1, steps=3)
    expected_risk(p, s)
    expected_risk(p, s, split=True, checkpoints=[1, 3], keep_states=True)
    schedule_to_target(p, s, 1e-3)
    simulate(p, s, runs=4, progress=False, numerics=Numerics(backend="numpy"))


def _refused(call, names, extra=GiB, setup=None):
    def case():
        _warm()
        args = setup() if setup is not None else ()
        _cap(extra)
        try:
            call(*args)
        except ValueError as exc:
            text = str(exc)
            print("##details", text[:90])
            named = all(re.search(rf"\b{re.escape(n)}\b", text) for n in names)
            return "ok" if named and re.search(r"[0-9.]+ (B|KiB|MiB|GiB|TiB|PiB)", text) else "unclear"
        except MemoryError:
            print("##details MemoryError")
            return "unclear"
        print("##details fitted")
        return "ok"  # it fitted after all
    return case


def _problem(d, **kw):
    from ramplab.theory import Problem

    return Problem.power_law(d, 1.5, 1.0, noise_variance=0.1, **kw)


def _schedule(steps, lr=0.01, batch=1):
    from ramplab.theory import Schedule

    return Schedule.constant(lr, batch, steps=steps)


def _expected_risk(*args, **kw):
    from ramplab.theory import expected_risk

    return expected_risk(*args, **kw)


def _simulate(*args, **kw):
    from ramplab.simulations import simulate

    kw.setdefault("progress", False)
    return simulate(*args, **kw)


def _power_law(d):
    from ramplab.theory import Problem

    return lambda: Problem.power_law(d, 1.5, 1.0)


def _isotropic(d):
    from ramplab.theory import Problem

    return lambda: Problem.isotropic(d)


CASES = [
    # Problem factories: 8 bytes per coordinate per array, several arrays.
    ("power_law_d_2_31", _refused(lambda: _power_law(2**31)(), ["d"])),
    ("power_law_d_2_30", _refused(lambda: _power_law(2**30)(), ["d"])),
    ("power_law_d_1e9", _refused(lambda: _power_law(10**9)(), ["d"])),
    ("power_law_d_2_28_small_cap", _refused(lambda: _power_law(2**28)(), ["d"], extra=GiB // 2)),
    ("isotropic_d_2_31", _refused(lambda: _isotropic(2**31)(), ["d"])),
    ("isotropic_d_2_29", _refused(lambda: _isotropic(2**29)(), ["d"])),
    ("isotropic_d_3e8", _refused(lambda: _isotropic(3 * 10**8)(), ["d"], extra=GiB // 2)),
    ("expanded_multiplicity_2_30", _refused(
        lambda p: p.expanded(), ["d"],
        setup=lambda: (__import__("ramplab.theory", fromlist=["Problem"]).Problem([1.0], [1.0], multiplicity=[2.0**30]),))),
    # expected_risk: rows × d × moments, kept states, curves.
    ("exact_many_schedules_split", _refused(
        lambda p, s: _expected_risk(p, [s] * 64, split=True), ["d"], setup=lambda: (_problem(2**22), _schedule(4)))),
    ("exact_keep_states_1000", _refused(
        lambda p, s: _expected_risk(p, s, checkpoints=list(range(1001)), keep_states=True), ["d", "keep_states"],
        setup=lambda: (_problem(2**20), _schedule(1000)))),
    ("exact_keep_states_heavy_ball", _refused(
        lambda p, s: _expected_risk(p, s, __import__("ramplab.theory", fromlist=["HeavyBall"]).HeavyBall(0.5),
                                    checkpoints=list(range(0, 401)), keep_states=True), ["d", "keep_states"],
        setup=lambda: (_problem(2**20), _schedule(400)))),
    ("exact_long_full_curves", _refused(
        lambda p, s: _expected_risk(p, [s] * 32), ["d"], setup=lambda: (_problem(4), _schedule(2**25)))),
    ("exact_average_many_rows", _refused(
        lambda p, s: _expected_risk(p, [s] * 128, average="uniform"), ["d"],
        setup=lambda: (_problem(2**21), _schedule(3)))),
    ("schedule_to_target_many_rows", _refused(
        lambda p, s: __import__("ramplab.theory", fromlist=["schedule_to_target"]).schedule_to_target(p, [s] * 256, 1e-9),
        ["d"], setup=lambda: (_problem(2**21), _schedule(3)))),
    ("equivalence_report_many", _refused(
        lambda p, s: __import__("ramplab.theory", fromlist=["equivalence_report"]).equivalence_report(p, [s] * 64),
        ["d"], setup=lambda: (_problem(2**21), _schedule(3)))),
    # simulate: (chunk, d) arrays, per-run curves with keep_runs.
    ("simulate_runs_2_22_keep_runs", _refused(
        lambda p, s: _simulate(p, s, runs=2**22, keep_runs=True), ["runs", "keep_runs"],
        setup=lambda: (_problem(10), _schedule(999)))),
    ("simulate_runs_2_20_keep_runs_4000", _refused(
        lambda p, s: _simulate(p, s, runs=2**20, keep_runs=True), ["runs", "keep_runs"],
        setup=lambda: (_problem(10), _schedule(4000)))),
    ("simulate_keep_runs_average", _refused(
        lambda p, s: _simulate(p, s, runs=2**21, keep_runs=True, average="uniform"), ["runs", "keep_runs"],
        setup=lambda: (_problem(4), _schedule(1000)))),
    ("simulate_keep_runs_checkpoints", _refused(
        lambda p, s: _simulate(p, s, runs=2**22, keep_runs=True, checkpoints=np.arange(0, 100_001, 50)),
        ["runs", "keep_runs"], setup=lambda: (_problem(4), _schedule(100_000)))),
    ("simulate_d_2e6_runs_1e5", _refused(
        lambda p, s: _simulate(p, s, runs=10**5), ["d", "runs"], setup=lambda: (_problem(2 * 10**6), _schedule(50)))),
    ("simulate_d_2_23_runs_256", _refused(
        lambda p, s: _simulate(p, s, runs=256), ["d", "runs"], setup=lambda: (_problem(2**23), _schedule(5)))),
    ("simulate_adam_wide", _refused(
        lambda p, s: _simulate(p, s, __import__("ramplab.theory", fromlist=["Adam"]).Adam(), runs=128), ["d", "runs"],
        setup=lambda: (_problem(2**22), _schedule(5)))),
    ("simulate_big_chunk", _refused(
        lambda p, s: _simulate(p, s, runs=2**14, numerics={"chunk_size": 2**14}), ["d", "runs"],
        setup=lambda: (_problem(2**16), _schedule(5)))),
    ("simulate_multiplicity_expanded", _refused(
        lambda p, s: _simulate(p, s, runs=64), ["d"],
        setup=lambda: (__import__("ramplab.theory", fromlist=["Problem"]).Problem([1.0], [1.0], multiplicity=[2.0**30]),
                       _schedule(5)))),
    # Fitting runs still run under the same cap (no false refusal).
    ("fits_power_law_1e5", _refused(lambda: _power_law(10**5)(), ["d"])),
    ("fits_simulate_small", _refused(lambda p, s: _simulate(p, s, runs=256, keep_runs=True), ["runs"],
                                     setup=lambda: (_problem(100), _schedule(50)))),
]
