"""``ramplab figures`` with the sweep options: Dask gives the serial CSV, the second run comes from the
cache, and bad sweep options stop before any figure is built."""

from __future__ import annotations

import json

import pytest

from ramplab.cli import main as ramplab_main
from ramplab.figures.cli import main

NAME = "sfo_critical_batch"  # the quickest of the figures that sweep


def _sweeps(out):
    entries = json.loads((out / f"{NAME}.json").read_text())["sweeps"]
    for e in entries:
        assert e.pop("seconds") >= 0
    return entries


def test_dask_and_serial_write_the_same_numbers_and_the_cache_serves_the_rerun(tmp_path, capsys):
    cache = tmp_path / "cache"
    assert main(["--only", NAME, "--quick", "--out", str(tmp_path / "serial"), "--cache-dir", str(cache)]) == 0
    first = _sweeps(tmp_path / "serial")
    assert first == [{"function": "critical_batch_row", "rows": 3, "computed": 3, "cached": 0}]

    assert ramplab_main(["figures", "--only", NAME, "--quick", "--out", str(tmp_path / "dask"),
                         "--executor", "dask", "--workers", "2", "--no-cache"]) == 0
    assert _sweeps(tmp_path / "dask")[0]["computed"] == 3
    assert "sweeps run on dask" in capsys.readouterr().out
    serial_csv = (tmp_path / "serial" / f"{NAME}.csv").read_bytes()
    assert (tmp_path / "dask" / f"{NAME}.csv").read_bytes() == serial_csv

    assert main(["--only", NAME, "--quick", "--out", str(tmp_path / "again"), "--cache-dir", str(cache)]) == 0
    assert _sweeps(tmp_path / "again")[0] == {"function": "critical_batch_row", "rows": 3, "computed": 0,
                                              "cached": 3}
    assert "sweep rows from cache 3/3" in capsys.readouterr().out
    assert (tmp_path / "again" / f"{NAME}.csv").read_bytes() == serial_csv




def _bad(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("keep\n")
    return [
        (["--scheduler", "tcp://127.0.0.1:1"], "argument --scheduler: a Dask scheduler address needs --executor dask"),
        (["--executor", "threads"], "argument --executor: invalid choice"),
        (["--workers", "0"], "argument --workers: must be a positive integer; got '0'"),
        (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
         "argument --workers: the cluster at --scheduler has its own workers"),
        (["--cache-dir", str(a_file)], f"argument --cache-dir: {str(a_file)!r} exists and is not a folder"),
    ]


@pytest.mark.parametrize("case", range(5))
def test_bad_sweep_options_fail_before_any_figure_is_built(case, tmp_path, booby_trapped, capsys):
    argv, message = _bad(tmp_path)[case]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--out", str(tmp_path / "out")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert booby_trapped == []
    assert (tmp_path / "a_file").read_text() == "keep\n"
