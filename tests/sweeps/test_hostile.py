"""Hostile inputs to ramplab.sweeps (the machinery, and how a table works: tests/hostile.py)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np


from hostile import (
    Table, choice, flag, integer, make_tests, real,
)

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


# --- sweeps ----------------------------------------------------------------------------------
def _sweep_spec_size(spec: dict) -> dict:
    """The sweep entry's task: defined for every spec a sweep accepts."""
    return {"n": len(spec)}


def _hex64(r: Any) -> str:
    assert isinstance(r, str) and re.fullmatch(r"[0-9a-f]{64}", r), f"not 64 hex digits: {r!r}"
    return r


def _register_sweeps() -> None:
    import contextlib
    import itertools
    import tempfile

    import ramplab.sweeps as sweeps
    from collections.abc import Mapping as MappingABC

    M = "ramplab.sweeps"
    exempt(f"{M}:EXECUTORS", "constant")
    exempt(f"{M}:SweepResult", "result record, built by sweep")
    exempt(f"{M}:SerialExecutor", "takes no arguments; submit/shutdown are the concurrent.futures API, "
                                  "tested in tests/sweeps")

    def mapping_of_str(v: Any) -> dict:
        assert isinstance(v, MappingABC) and all(isinstance(k, str) for k in v), f"accepted {v!r} as a spec"
        return dict(v)

    def o_spec_hash(r, kw):
        spec = mapping_of_str(kw["spec"])
        _hex64(r)
        # Order of keys does not matter; one more key does.
        assert r == sweeps.spec_hash(dict(reversed(list(spec.items()))))
        assert r != sweeps.spec_hash({**spec, "__extra__": 1})

    entry(f"{M}:spec_hash", sweeps.spec_hash, lambda: {"spec": {"lr": 0.1, "batch": 4}},
          {"spec": "mapping"}, o_spec_hash)

    def o_spec_seed(r, kw):
        spec = mapping_of_str(kw["spec"])
        root = integer(kw["root_seed"])
        assert root >= 0 and isinstance(r, np.random.SeedSequence)
        # The documented entropy: the root seed, then the spec hash read as four 64-bit integers.
        h = _hex64(sweeps.spec_hash(spec))
        assert list(r.entropy) == [root, *(int(h[i:i + 16], 16) for i in range(0, 64, 16))]

    entry(f"{M}:spec_seed", sweeps.spec_seed, lambda: {"spec": {"lr": 0.1}, "root_seed": 0},
          {"spec": "mapping", "root_seed": "int"}, o_spec_seed)

    def o_code_hash(r, kw):
        _hex64(r)
        assert kw["func"] is None or callable(kw["func"]), f"accepted {kw['func']!r}"
        if kw["func"] is None:
            assert r == sweeps.code_hash()

    entry(f"{M}:code_hash", sweeps.code_hash, {"func": None}, {"func": "callable"}, o_code_hash)

    def call_grid(**axes):
        return sweeps.grid(**axes)

    def o_grid(r, kw):
        axes = []
        for v in kw.values():
            if isinstance(v, np.ndarray):
                assert v.ndim == 1, f"accepted an array axis of shape {v.shape}"
                v = v.tolist()
            if isinstance(v, (list, tuple)):
                assert len(v) > 0, "accepted an empty axis"
                axes.append(list(v))
            else:
                axes.append([v])
        expected = [dict(zip(kw, combo)) for combo in itertools.product(*axes)]
        assert len(r) == len(expected)
        for got, want in zip(r, expected):
            assert list(got) == list(want) and all(got[k] is want[k] or got[k] == want[k] for k in want)

    entry(f"{M}:grid", call_grid, {"lr": [0.1, 0.2], "batch": 4}, {"lr": "any", "batch": "any"}, o_grid)

    def call_sweep(**kw):
        # A string ``cache`` is a folder: keep the ones the pools hand in out of the working directory.
        with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
            return sweeps.sweep(kw.pop("func"), kw.pop("specs"), **kw)

    def o_sweep(r, kw):
        assert callable(kw["func"])
        specs = list(kw["specs"])
        assert specs and all(isinstance(s, MappingABC) for s in specs), f"accepted specs {kw['specs']!r}"
        threads = integer(kw["threads"])
        assert 1 <= threads <= 1024
        assert kw["progress"] is None or isinstance(kw["progress"], (bool, np.bool_)), "accepted progress"
        assert kw["label"] is None or isinstance(kw["label"], str), "accepted label"
        assert kw["executor"] is None, f"accepted executor {kw['executor']!r}"
        assert kw["cache"] is None or kw["cache"] is False or isinstance(kw["cache"], str), "accepted cache"
        assert r.table["n"].tolist() == [len(s) for s in specs]

    entry(f"{M}:sweep", call_sweep,
          lambda: {"func": _sweep_spec_size, "specs": [{"x": 1.0}, {"x": 2.0, "y": 3}], "executor": None,
                   "cache": None, "threads": 1, "progress": False, "label": None},
          {"func": "callable", "specs": "sequence", "executor": "any", "cache": "any", "threads": "int",
           "progress": "flag", "label": "label"}, o_sweep)

    def call_open_executor(**kw):
        with sweeps.open_executor(**kw) as ex:
            return type(ex).__name__

    def o_open_executor(r, kw):
        choice(kw["kind"], ("serial",))
        assert kw["workers"] is None or 1 <= integer(kw["workers"]) <= 65536
        assert kw["scheduler"] is None, f"accepted scheduler {kw['scheduler']!r} for a serial executor"
        assert kw["scheduler_timeout"] is None or 0 < real(kw["scheduler_timeout"]) <= 86400, "accepted timeout"
        assert r == "SerialExecutor"

    entry(f"{M}:open_executor", call_open_executor,
          {"kind": "serial", "workers": None, "scheduler": None, "scheduler_timeout": None},
          {"kind": "choice", "workers": "int", "scheduler": "any", "scheduler_timeout": "real"}, o_open_executor)

    def call_pinned(**kw):
        with sweeps.pinned_threads(**kw):
            try:
                import numba
            except ImportError:
                return None
            return numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS

    def o_pinned(r, kw):
        threads = integer(kw["threads"])
        assert 1 <= threads <= 1024
        if r is not None:
            assert r[0] == min(threads, r[1])

    entry(f"{M}:pinned_threads", call_pinned, {"threads": 1}, {"threads": "int"}, o_pinned)


for _register in (_register_sweeps,):
    _register()

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
