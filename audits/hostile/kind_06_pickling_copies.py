"""Issue #19, kind 6: pickling, copies and equality of the package's records and errors.

Each case pickles, copies or compares one public object the way a process pool, a cache or a
``copy.deepcopy`` does, and classifies what came back: ``"ok"`` an equal, still read-only object
(or an error that names the problem); ``"silent"`` a copy that is quietly different (writeable
where the original was read-only, metadata shared with the caller, identical values unequal);
``"unclear"`` a foreign exception (``cannot pickle 'mappingproxy'``, ``__init__() missing 2
required positional arguments``, ``BrokenProcessPool``, ``truth value of an array is ambiguous``).
Only API present on de6f77e is used, so the file measures before and after alike.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np


def _problem():
    from ramplab.theory import Problem

    return Problem.isotropic(2, noise_variance=0.1)


def _schedule(**kw):
    from ramplab.theory import Schedule

    return Schedule.constant(0.1, 2, steps=4, label="c", **kw)


WAYS = {"pickle": lambda o: pickle.loads(pickle.dumps(o)), "deepcopy": copy.deepcopy, "copy": copy.copy}


def _readonly_kept(original, again, names):
    for name in names:
        a, b = original, again
        for part in name.split("."):
            a, b = getattr(a, part), getattr(b, part)
        if not a.flags.writeable and b.flags.writeable:
            return False
        if not np.array_equal(a, b, equal_nan=True):
            return False
    return True


def _round_trip(build, way, arrays=(), equal=None):
    def case():
        obj = build()
        try:
            again = WAYS[way](obj)
        except Exception:  # noqa: BLE001 - a foreign error is the finding
            return "unclear"
        if equal is not None and not equal(obj, again):
            return "silent"
        return "ok" if _readonly_kept(obj, again, arrays) else "silent"
    return case


def _same_schedule(a, b):
    sa, sb = a.segments, b.segments
    return all(np.array_equal(x, y) for x, y in zip(sa, sb)) and a.label == b.label


# ----------------------------------------------------------------------------------- cases
def schedule_equality():
    a, b = _schedule(), _schedule()
    return "ok" if a == b else "silent"


def schedule_hash_dedup():
    a, b = _schedule(), _schedule()
    try:
        return "ok" if len({a, b}) == 1 and hash(a) == hash(b) else "silent"
    except TypeError:
        return "unclear"


def schedule_metadata_follows_callers_list():
    from ramplab.theory import Schedule

    milestones = [1, 2]
    s = Schedule([0.1, 0.2], [1, 2], metadata={"milestones": milestones})
    milestones.append(99)
    return "ok" if list(s.metadata["milestones"]) == [1, 2] else "silent"


def schedule_metadata_array_follows_caller():
    from ramplab.theory import Schedule

    phase = np.arange(3)
    s = Schedule([0.1, 0.2], [1, 2], metadata={"phase": phase})
    phase[0] = 7
    return "ok" if s.metadata["phase"][0] == 0 else "silent"


def problem_metadata_follows_callers_list():
    from ramplab.theory import Problem

    tags = ["a"]
    p = Problem([1.0], [1.0], metadata={"tags": tags})
    tags.append("b")
    return "ok" if list(p.metadata["tags"]) == ["a"] else "silent"


def problem_metadata_assignable():
    p = _problem()
    try:
        p.metadata["family"] = "tampered"
    except TypeError:
        return "ok"
    return "silent"


def segments_equality():
    from ramplab.theory import Schedule

    a = Schedule([0.1, 0.2], [1, 2]).segments
    b = Schedule([0.1, 0.2], [1, 2]).segments
    try:
        return "ok" if a == b else "silent"
    except ValueError:
        return "unclear"


def growth_cell_hash():
    from ramplab.theory import GrowthCell, Problem

    cell = GrowthCell(Problem([1.0, 0.1], [1.0, 1.0], noise_variance=1.0), 1.2, 1.44, [0.3, 0.2, 0.1])
    try:
        again = copy.deepcopy(cell)
        return "ok" if again == cell and hash(again) == hash(cell) else "silent"
    except (TypeError, ValueError):
        return "unclear"


def sweep_result_compare():
    from ramplab.sweeps import grid, sweep

    result = sweep(lambda spec: {"y": spec["x"]}, grid(x=[1, 2]), progress=False)
    try:
        same = result == copy.deepcopy(result)
        return "ok" if isinstance(same, bool) else "silent"
    except ValueError:
        return "unclear"


def divergence_error_pickle():
    from ramplab.theory import DivergenceError

    err = DivergenceError(7, 1, "lab")
    try:
        again = pickle.loads(pickle.dumps(err))
    except Exception:  # noqa: BLE001
        return "unclear"
    return "ok" if (again.step, again.schedule_index, again.label, str(again)) == (7, 1, "lab", str(err)) else "silent"


def divergence_error_copy():
    from ramplab.theory import DivergenceError

    try:
        again = copy.copy(DivergenceError(7, 1, "lab"))
    except Exception:  # noqa: BLE001
        return "unclear"
    return "ok" if again.step == 7 and again.label == "lab" else "silent"


def simulation_divergence_error_pickle():
    from ramplab.simulations import SimulationDivergenceError

    err = SimulationDivergenceError(7, 3, "lab")
    try:
        again = pickle.loads(pickle.dumps(err))
    except Exception:  # noqa: BLE001
        return "unclear"
    return "ok" if type(again) is type(err) and vars(again) == vars(err) and str(again) == str(err) else "silent"


def raised_divergence_error_pickle():
    from ramplab.theory import DivergenceError, Problem, Schedule, expected_risk

    try:
        expected_risk(Problem.isotropic(2), Schedule.constant(5.0, 1, steps=100, label="hot"))
    except DivergenceError as err:
        try:
            again = pickle.loads(pickle.dumps(err))
        except Exception:  # noqa: BLE001
            return "unclear"
        return "ok" if again.label == "hot" and again.step == err.step else "silent"
    return "silent"


def process_pool_divergence_names_spec():
    import concurrent.futures as cf
    import multiprocessing

    from ramplab.sweeps import sweep
    from ramplab.theory import DivergenceError

    def task(spec):
        from ramplab.theory import Problem, Schedule, expected_risk

        s = Schedule.constant(spec["lr"], 1, steps=50, label=f"lr={spec['lr']}")
        return {"risk": float(expected_risk(Problem.isotropic(2), s).risk[-1])}

    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        try:
            sweep(task, [{"lr": 0.1}, {"lr": 5.0}, {"lr": 0.2}], executor=pool, progress=False)
        except DivergenceError as err:
            notes = " ".join(getattr(err, "__notes__", []))
            return "ok" if err.label == "lr=5.0" and "5.0" in notes else "silent"
        except Exception:  # noqa: BLE001 - BrokenProcessPool blaming another spec
            return "unclear"
    return "silent"


def _trajectory():
    from ramplab.theory import expected_risk

    return expected_risk(_problem(), _schedule())


def _trajectory_split():
    from ramplab.theory import expected_risk

    return expected_risk(_problem(), _schedule(), split=True, checkpoints=[2, 4], keep_states=True)


def _simulation():
    from ramplab.simulations import simulate

    return simulate(_problem(), _schedule(), runs=8, seed=1, keep_runs=True, progress=False)


def _report():
    from ramplab.theory import Schedule, equivalence_report

    return equivalence_report(_problem(), [Schedule.constant(0.1, 1, steps=20), Schedule.constant(0.2, 2, steps=10)])


def _adaptive():
    from ramplab.theory import AdaptiveRule, Problem

    rule = AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=50)
    return rule.run(Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.1), 200)


def _released():
    from ramplab.theory import released_seesaw_run

    return released_seesaw_run(3.3e7, 1024, 256)


def _grouping():
    from ramplab.theory import Problem
    from ramplab.theory.dynamics import spectral_groups

    return spectral_groups(Problem([1.0, 1.0, 0.5], [1.0, 3.0, 2.0]), _schedule(), rtol=0.0)


def _schedule_with_metadata():
    from ramplab.theory import Schedule

    return Schedule([0.1, 0.2], [1, 2], metadata={"m": [1, 2], "phase": np.arange(2)})


def _segments():
    from ramplab.theory import Schedule

    return Schedule([0.1, 0.2, 0.2], [1, 2, 2]).segments


def _growth_cell():
    from ramplab.theory import GrowthCell, Problem

    return GrowthCell(Problem([1.0, 0.1], [1.0, 1.0], noise_variance=1.0), 1.2, 1.44, [0.3, 0.2, 0.1])


PROBLEM_ARRAYS = ("eigenvalues", "initial_second_moment", "multiplicity")

CASES = [
    ("schedule_pickle", _round_trip(_schedule, "pickle", equal=_same_schedule)),
    ("schedule_deepcopy", _round_trip(_schedule, "deepcopy", equal=_same_schedule)),
    ("schedule_metadata_pickle", _round_trip(_schedule_with_metadata, "pickle", equal=_same_schedule)),
    ("schedule_equality", schedule_equality),
    ("schedule_hash_dedup", schedule_hash_dedup),
    ("schedule_metadata_follows_callers_list", schedule_metadata_follows_callers_list),
    ("schedule_metadata_array_follows_caller", schedule_metadata_array_follows_caller),
    ("segments_pickle_read_only", _round_trip(_segments, "pickle", arrays=("lr", "batch", "steps"))),
    ("segments_equality", segments_equality),
    ("problem_pickle_read_only", _round_trip(_problem, "pickle", arrays=PROBLEM_ARRAYS)),
    ("problem_deepcopy_read_only", _round_trip(_problem, "deepcopy", arrays=PROBLEM_ARRAYS)),
    ("problem_metadata_follows_callers_list", problem_metadata_follows_callers_list),
    ("problem_metadata_assignable", problem_metadata_assignable),
    ("risk_trajectory_pickle", _round_trip(_trajectory, "pickle", arrays=("risk",))),
    ("risk_trajectory_deepcopy", _round_trip(_trajectory_split, "deepcopy", arrays=("risk", "bias"))),
    ("simulation_result_pickle", _round_trip(_simulation, "pickle", arrays=("mean_risk", "effective_lr"))),
    ("simulation_result_deepcopy", _round_trip(_simulation, "deepcopy", arrays=("run_risk",))),
    ("equivalence_report_pickle", _round_trip(_report, "pickle", arrays=("risk",))),
    ("equivalence_report_deepcopy", _round_trip(_report, "deepcopy", arrays=("grid",))),
    ("adaptive_run_pickle", _round_trip(_adaptive, "pickle", arrays=("risk",))),
    ("released_run_pickle_read_only", _round_trip(_released, "pickle", arrays=("batch", "lr", "tokens_before"))),
    ("spectral_grouping_deepcopy_read_only", _round_trip(_grouping, "deepcopy", arrays=("group_index",))),
    ("growth_cell_pickle_read_only", _round_trip(_growth_cell, "pickle", arrays=("epsilons",))),
    ("growth_cell_hash", growth_cell_hash),
    ("sweep_result_compare", sweep_result_compare),
    ("divergence_error_pickle", divergence_error_pickle),
    ("divergence_error_copy", divergence_error_copy),
    ("simulation_divergence_error_pickle", simulation_divergence_error_pickle),
    ("raised_divergence_error_pickle", raised_divergence_error_pickle),
    ("process_pool_divergence_names_spec", process_pool_divergence_names_spec),
]
