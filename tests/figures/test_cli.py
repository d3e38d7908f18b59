"""The figures CLI: listing, unknown names, and one quick build through main()."""

from __future__ import annotations

import pytest

from ramplab.figures.cli import main


def test_list(capsys):
    assert main(["--list"]) == 0
    assert "lr_decay_vs_batch_ramp" in capsys.readouterr().out


def test_unknown_figure_is_an_error(capsys):
    with pytest.raises(SystemExit):
        main(["--only", "no_such_figure"])
    assert "unknown figure" in capsys.readouterr().err


def test_quick_build(tmp_path, capsys):
    assert main(["--only", "lr_decay_vs_batch_ramp", "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "lr_decay_vs_batch_ramp.csv").exists()
    assert "done in" in capsys.readouterr().out
