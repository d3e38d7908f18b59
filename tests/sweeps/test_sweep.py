"""The sweep API on the serial and process executors: order, table, curves, identical numbers, cache."""

from __future__ import annotations

import concurrent.futures as cf

import numpy as np
import pandas as pd
import pytest

from ramplab.sweeps import code_hash, grid, open_executor, spec_hash, spec_seed, sweep
from sweep_tasks import counted_task, executions, solver_task

SPECS = grid(d=[20, 40], a=1.5, lr=[0.3, 0.6], batch=[1, 4], steps=60)


def assert_identical(one, other):
    """Bitwise: the same table and the same curves, row by row."""
    pd.testing.assert_frame_equal(one.table, other.table, check_exact=True)
    assert len(one.curves) == len(other.curves)
    for mine, theirs in zip(one.curves, other.curves):
        assert mine.keys() == theirs.keys()
        for name in mine:
            assert np.array_equal(mine[name], theirs[name]), name


@pytest.fixture(scope="module")
def serial_result():
    return sweep(solver_task, SPECS)


def test_table_rows_follow_the_specs(serial_result):
    table = serial_result.table
    assert list(table.columns) == ["d", "a", "lr", "batch", "steps", "final_risk", "blas_sum"]
    assert len(table) == len(SPECS) == 8
    assert table[["d", "lr", "batch"]].to_dict("records") == [
        {"d": s["d"], "lr": s["lr"], "batch": s["batch"]} for s in SPECS]
    assert serial_result.computed == 8 and serial_result.cached == 0
    for row, curves in zip(table.itertuples(), serial_result.curves):
        assert set(curves) == {"risk", "mc_mean", "blas"}
        assert curves["risk"][-1] == row.final_risk and curves["blas"].sum() == row.blas_sum


def test_seeds_come_from_the_spec_not_the_order(serial_result):
    reversed_result = sweep(solver_task, SPECS[::-1])
    for i, curves in enumerate(reversed_result.curves[::-1]):
        assert np.array_equal(curves["mc_mean"], serial_result.curves[i]["mc_mean"])
    assert spec_seed(SPECS[0]).entropy != spec_seed(SPECS[1]).entropy


def test_processes_give_bitwise_the_same_numbers(serial_result):
    with open_executor("processes", workers=2) as pool:
        assert isinstance(pool, cf.ProcessPoolExecutor)
        in_processes = sweep(solver_task, SPECS, executor=pool)
    assert_identical(in_processes, serial_result)


def test_cache_serves_the_second_run_and_recomputes_only_changed_specs(tmp_path):
    markers, store = tmp_path / "markers", tmp_path / "cache"
    markers.mkdir()
    specs = grid(i=[1, 2, 3], markers=str(markers))
    first = sweep(counted_task, specs, cache=store)
    assert (first.computed, first.cached) == (3, 0)
    assert executions(markers) == {1: 1, 2: 1, 3: 1}

    second = sweep(counted_task, specs, cache=store)
    assert (second.computed, second.cached) == (0, 3)
    assert executions(markers) == {1: 1, 2: 1, 3: 1}  # nothing ran
    assert_identical(second, first)

    changed = [specs[0], {**specs[1], "shift": 0.5}, specs[2]]
    third = sweep(counted_task, changed, cache=store)
    assert (third.computed, third.cached) == (1, 2)
    assert executions(markers) == {1: 1, 2: 2, 3: 1}
    assert third.table["y"].tolist() == [1.0, 4.5, 9.0]

    uncached = sweep(counted_task, specs)  # no cache: everything runs again
    assert uncached.computed == 3 and executions(markers) == {1: 2, 2: 3, 3: 2}


def test_repeated_specs_run_once(tmp_path):
    specs = [{"i": 5, "markers": str(tmp_path)}] * 3
    result = sweep(counted_task, specs)
    assert result.computed == 1 and executions(tmp_path) == {5: 1}
    assert result.table["y"].tolist() == [25.0] * 3


def test_code_hash_follows_the_function_module_source(tmp_path, monkeypatch):
    module = tmp_path / "user_sweep_module.py"
    module.write_text("def f(spec):\n    return {'y': 1.0}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    mod = importlib.import_module("user_sweep_module")
    before = code_hash(mod.f)
    module.write_text("def f(spec):\n    return {'y': 2.0}\n")
    assert code_hash(mod.f) != before
    assert code_hash() == code_hash(spec_hash)  # ramplab's own functions: the package hash


def test_spec_hash_is_stable_and_exact():
    # The encoding is part of the cache format: a change here invalidates every user's cache.
    assert spec_hash({"lr": 0.5, "batch": 4}) == spec_hash({"batch": np.int64(4), "lr": np.float64(0.5)})
    assert spec_hash({"x": 1}) != spec_hash({"x": 1.0}) != spec_hash({"x": True})
    assert spec_hash({"x": 0.1 + 0.2}) != spec_hash({"x": 0.3})
    assert spec_hash({"v": np.arange(3.0)}) != spec_hash({"v": np.arange(3)})
    assert spec_hash({"v": [1, 2]}) == spec_hash({"v": (1, 2)})
    assert spec_hash({"n": {"b": 1, "a": 2}}) == spec_hash({"n": {"a": 2, "b": 1}})


def test_failures_name_the_spec_and_keep_finished_rows(tmp_path):
    specs = grid(i=[1, 2], markers=str(tmp_path / "m"))
    (tmp_path / "m").mkdir()
    bad = [*specs, {"i": "x", "markers": str(tmp_path / "m")}]
    with pytest.raises(ValueError, match="could not convert") as info:
        sweep(counted_task, bad, cache=tmp_path / "c")
    assert "'i': 'x'" in "".join(getattr(info.value, "__notes__", []))
    again = sweep(counted_task, specs, cache=tmp_path / "c")
    assert again.cached == 2 and again.computed == 0


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(func=3), TypeError, "func must be callable"),
    (dict(specs={"x": 1}), TypeError, "specs must be an iterable"),
    (dict(specs=[]), ValueError, "specs must hold at least one spec"),
    (dict(specs=[3]), TypeError, r"specs\[0\] must be a mapping"),
    (dict(specs=[{"x": object()}]), TypeError, "specs: spec\\['x'\\] is a object"),
    (dict(executor="dask"), TypeError, "executor must be"),
    (dict(cache=3), TypeError, "cache must be"),
    (dict(threads=0), ValueError, "threads must be an integer from 1 to 1024"),
    (dict(progress="yes"), TypeError, "progress must be"),
])
def test_bad_arguments(kwargs, error, match):
    args = {"func": counted_task, "specs": [{"i": 1, "markers": "."}], **kwargs}
    with pytest.raises(error, match=match):
        sweep(args.pop("func"), args.pop("specs"), **args)


def test_results_must_be_scalars_or_arrays():
    with pytest.raises(TypeError, match="results are scalars"):
        sweep(lambda spec: {"y": {"nested": 1}}, [{"x": 1}])
    with pytest.raises(ValueError, match="also a spec parameter"):
        sweep(lambda spec: {"x": 2.0}, [{"x": 1}])
    with pytest.raises(TypeError, match="must return a mapping"):
        sweep(lambda spec: 1.0, [{"x": 1}])


def test_the_code_hash_reads_every_subpackage_source():
    from ramplab.sweeps.keys import _source_files

    names = {name for name, _ in _source_files()}
    for expected in ("ramplab/cli.py", "theory/dynamics/_risk.py", "simulations/monte_carlo.py",
                     "figures/sfo_critical_batch.py", "sweeps/keys.py", "benchmarks/exact_solver.py"):
        assert expected in names
    assert not any("__pycache__" in n for n in names)
    assert not any(n.startswith("ramplab/theory/") for n in names)  # each file once, under its subpackage


def test_cache_folder_that_cannot_be_created_is_named(tmp_path):
    """A cache path under a regular file cannot become a folder: ValueError naming ``cache``, not a
    bare OSError from joblib."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="cache: cannot create the folder"):
        sweep(counted_task, grid(i=[1]), cache=blocker / "sub")


def test_nothing_listening_at_the_scheduler_fails_within_the_connect_timeout():
    """``open_executor('dask', scheduler=…)`` gives up after SCHEDULER_CONNECT_TIMEOUT s, not Dask's 30 s."""
    from ramplab.sweeps import executors

    with pytest.raises((OSError, TimeoutError), match=f"after {executors.SCHEDULER_CONNECT_TIMEOUT} s"):
        with open_executor("dask", scheduler="tcp://127.0.0.1:1"):
            pass


def test_two_lambdas_on_one_line_do_not_share_cache_entries(tmp_path):
    """Same file, same name ``<lambda>``, different code: different keys, so no stale cache hit."""
    first, second = (sweep(lambda s: {"y": 1.0}, grid(i=[1]), cache=tmp_path),
                     sweep(lambda s: {"y": 2.0}, grid(i=[1]), cache=tmp_path))
    assert first.table["y"].tolist() == [1.0] and second.table["y"].tolist() == [2.0]
    assert second.computed == 1 and second.cached == 0
