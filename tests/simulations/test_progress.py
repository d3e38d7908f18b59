"""Progress users see (#19 kind 11): a bar on a terminal, periodic plain lines in a log, in simulate,
sweeps and ``ramplab figures``; tested with a fake clock and a tiny threshold, never with wall time."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import pytest

from ramplab.simulations.progress import ProgressBar


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _log_bar(clock, enabled=None, **kw):
    out = io.StringIO()  # not a terminal: a log
    return out, ProgressBar(1000, enabled, label="work", stream=out, clock=clock, **kw)


def test_log_stays_silent_before_the_delay():
    clock = FakeClock()
    out, bar = _log_bar(clock, delay=2.0, log_interval=30.0)
    clock.now += 1.0
    bar.update(500)
    clock.now += 0.5
    bar.update(500)
    bar.close()
    assert out.getvalue() == ""


def test_log_gets_periodic_plain_lines_after_the_delay():
    clock = FakeClock()
    out, bar = _log_bar(clock, delay=2.0, log_interval=30.0)
    for _ in range(100):  # 100 updates of 10 units, 1 fake second apart
        clock.now += 1.0
        bar.update(10)
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0].startswith("work: 2% (20/1k) after 2 s")
    assert "left" in lines[0]
    assert len(lines) == 1 + 3 + 1  # at 2 s, then every 30 s (32, 62, 92), then the final line
    assert lines[-1] == "work: 100% (1k/1k) done in 1 min 40 s"


def test_a_requested_bar_reports_at_once_in_a_log():
    clock = FakeClock()
    out, bar = _log_bar(clock, enabled=True)
    bar.update(1)
    bar.close()
    assert out.getvalue().splitlines()[0].startswith("work: 0% (1/1k) after 0 s")


def test_disabled_bar_and_environment_switch(monkeypatch):
    clock = FakeClock()
    out, bar = _log_bar(clock, enabled=False, delay=0.0)
    bar.update(1000); bar.close()
    monkeypatch.setenv("RAMPLAB_PROGRESS", "off")
    out2, bar2 = _log_bar(clock, delay=0.0)
    bar2.update(1000); bar2.close()
    assert out.getvalue() == out2.getvalue() == ""


def test_environment_sets_the_delay_and_interval(monkeypatch):
    monkeypatch.setenv("RAMPLAB_PROGRESS_DELAY", "0")
    monkeypatch.setenv("RAMPLAB_PROGRESS_INTERVAL", "0")
    clock = FakeClock()
    out, bar = _log_bar(clock)
    for _ in range(4):
        clock.now += 0.01
        bar.update(250)
    bar.close()
    assert len(out.getvalue().splitlines()) == 5


def test_terminal_gets_a_tqdm_bar_after_the_delay():
    pytest.importorskip("tqdm")
    clock = FakeClock()

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    bar = ProgressBar(10, None, label="work", stream=out, delay=0.0, interval=0.0, clock=clock)
    bar.update(10)
    bar.close()
    assert "work" in out.getvalue() and "100%" in out.getvalue() and "\r" in out.getvalue()


CHILD_SIMULATE = textwrap.dedent("""
    from ramplab.simulations import simulate
    from ramplab.theory import Numerics, Problem, Schedule
    p = Problem.power_law(16, a=1.5, b=1.0, noise_variance=0.5)
    s = Schedule.from_phases([(0.8, 2, 200), (0.4, 4, 400), (0.2, 8, 800)], label="ramp")
    simulate(p, s, runs=64, seed=0, numerics=Numerics(backend="numpy"))  # progress=None: the default
""")


def _child(code_or_args, env, timeout=240):
    full_env = {**os.environ, "MPLBACKEND": "Agg", **env}
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    return subprocess.run([sys.executable, *args], env=full_env, capture_output=True, text=True, timeout=timeout)


def test_simulate_default_progress_reaches_a_log():
    # stderr is a pipe (a log); a tiny threshold stands in for a long run
    proc = _child(CHILD_SIMULATE, {"RAMPLAB_PROGRESS_DELAY": "0", "RAMPLAB_PROGRESS_INTERVAL": "0"})
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("simulate ")]
    assert len(lines) >= 2 and "%" in lines[0] and lines[-1].endswith(tuple(f"{n} s" for n in range(60)))
    assert "done in" in lines[-1]


def test_sweep_default_progress_reaches_a_log():
    code = textwrap.dedent("""
        from ramplab.sweeps import sweep, grid
        def square(spec):
            return {"y": spec["x"] ** 2}
        sweep(square, grid(x=[1.0, 2.0, 3.0]), label="squares")
    """)
    proc = _child(code, {"RAMPLAB_PROGRESS_DELAY": "0", "RAMPLAB_PROGRESS_INTERVAL": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "squares: 100% (3/3) done in" in proc.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_figures_report_each_figure_and_progress_inside(tmp_path, workers):
    proc = _child(["-c", "import sys; from ramplab.cli import main; sys.exit(main(sys.argv[1:]))", "figures",
                   "--quick", "--only", "monte_carlo", "step_reduction", "--no-cache", "--workers", workers,
                   "--out", str(tmp_path)],
                  {"RAMPLAB_PROGRESS_DELAY": "0", "RAMPLAB_PROGRESS_INTERVAL": "0"}, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    for name in ("monte_carlo", "step_reduction"):
        assert f"[figures] {name}: " in text and f"[figures] {name}: done in" in text
    inside = [ln for ln in text.splitlines() if ln.startswith("[figures] monte_carlo: simulate ")]
    assert inside and any("%" in ln for ln in inside), text
