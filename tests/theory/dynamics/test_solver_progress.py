"""Progress of the exact solver (issue #19 kind 11): long ``expected_risk`` calls report on stderr, as ``simulate``
and sweeps do, through the one ProgressBar; short ones and ``progress=False`` stay silent. No clock is
asserted on: the delay is set to 0 or to a day."""

from __future__ import annotations

import pytest

from ramplab.theory import Problem, Schedule, expected_risk

PROBLEM = Problem.power_law(50, a=1.5, b=1.0, noise_variance=0.1)
LONG = Schedule.constant(0.1, 2, steps=20_000)  # five chunks of the loop


def test_progress_true_reports_every_step_in_a_log(capsys):
    expected_risk(PROBLEM, LONG, progress=True)
    err = capsys.readouterr().err
    assert "expected_risk" in err and "100%" in err and "\r" not in err


def test_default_reports_once_the_delay_has_passed(capsys, monkeypatch):
    monkeypatch.setenv("RAMPLAB_PROGRESS_DELAY", "0")
    expected_risk(PROBLEM, LONG)
    assert "expected_risk" in capsys.readouterr().err
    monkeypatch.setenv("RAMPLAB_PROGRESS", "off")
    expected_risk(PROBLEM, LONG)
    assert capsys.readouterr().err == ""


def test_short_calls_and_progress_false_stay_silent(capsys, monkeypatch):
    monkeypatch.setenv("RAMPLAB_PROGRESS_DELAY", "86400")
    expected_risk(PROBLEM, LONG)
    expected_risk(PROBLEM, LONG, progress=False)
    monkeypatch.setenv("RAMPLAB_PROGRESS_DELAY", "0")
    expected_risk(PROBLEM, LONG, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_is_checked_by_name():
    with pytest.raises(TypeError, match="progress"):
        expected_risk(PROBLEM, LONG, progress="yes")
