"""#19 kind 11: progress that users see — on a terminal (a pty) and in a log (a pipe).

Each case runs a child Python with the installed ``ramplab`` and reads what it wrote to stderr and
stdout. Outcomes: "ok" when the user saw what they should (plain lines in a log, a bar on a
terminal, silence where silence is asked for or the work is short); "silent" when a long
computation reported nothing; "unclear" when progress came out garbled (carriage-return redraws in a
log). Only API of commit de6f77e is used; the long runs are real (several seconds), no knobs.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tempfile
import textwrap
import time

SIM = textwrap.dedent("""
    import sys
    from ramplab.simulations import simulate
    from ramplab.theory import Numerics, Problem, Schedule
    p = Problem.power_law(64, a=1.5, b=1.0, noise_variance=0.5)
    s = Schedule.from_phases([(0.8, 2, 2000), (0.4, 4, 4000), (0.2, 8, 8000)], label="ramp")
    runs = int(sys.argv[1]); progress = {"none": None, "true": True, "false": False}[sys.argv[2]]
    simulate(p, s, runs=runs, seed=0, numerics=Numerics(backend="numpy"), progress=progress)
""")

SWEEP = textwrap.dedent("""
    import sys, time
    from ramplab.sweeps import sweep, grid
    def slow(spec):
        time.sleep(float(sys.argv[1]))
        return {"y": spec["x"]}
    sweep(slow, grid(x=list(range(int(sys.argv[2])))), label="slowsweep")
""")

FIGURES = "import sys; from ramplab.cli import main; sys.exit(main(sys.argv[1:]))"


def _log(code, *args, env=None, timeout=240):
    """Run with stdout/stderr to pipes (a log file, a batch job); return (returncode, combined text)."""
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          timeout=timeout, env={**os.environ, "MPLBACKEND": "Agg", **(env or {})},
                          cwd=tempfile.mkdtemp(prefix="kind11-"))
    # bytes, decoded without newline translation: a carriage return must stay one
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def _tty(code, *args, timeout=240):
    """Run with stderr on a pseudo-terminal; return (returncode, what the terminal got)."""
    master, slave = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal's size
    proc = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=slave, env={**os.environ, "MPLBACKEND": "Agg"})
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
        if time.monotonic() > deadline:
            proc.kill()
            break
    proc.wait()
    os.close(master)
    return proc.returncode, b"".join(chunks).decode(errors="replace")


def _judge_log(rc, text, marker):
    if rc != 0:
        return "unclear"
    hits = [ln for ln in text.split("\n") if marker in ln]
    if not hits:
        return "silent"
    if any("\r" in ln for ln in hits):
        return "unclear"  # carriage-return redraws: one unreadable line in a log
    return "ok" if any("%" in ln for ln in hits) else "silent"


def _judge_quiet(rc, text, marker):
    if rc != 0:
        return "unclear"
    return "ok" if marker not in text else "unclear"


def sim_long_default_in_log():
    return _judge_log(*_log(SIM, 1024, "none"), "simulate")  # past the 2 s delay with the fused sampler too


def sim_longer_default_in_log():
    return _judge_log(*_log(SIM, 512, "none"), "simulate")


def sim_long_requested_in_log():
    return _judge_log(*_log(SIM, 256, "true"), "simulate")


def sim_long_default_on_terminal():
    rc, text = _tty(SIM, 1024, "none")  # long enough past the 2 s delay with the fused sampler too
    return "ok" if rc == 0 and "simulate" in text and "%" in text else ("unclear" if rc else "silent")


def sim_short_default_in_log_is_quiet():
    return _judge_quiet(*_log(SIM, 2, "none"), "simulate")


def sim_progress_false_is_quiet():
    return _judge_quiet(*_log(SIM, 256, "false"), "simulate")


def sweep_slow_default_in_log():
    return _judge_log(*_log(SWEEP, 1.0, 5), "slowsweep")


def sweep_slow_default_on_terminal():
    rc, text = _tty(SWEEP, 1.0, 5)
    return "ok" if rc == 0 and "slowsweep" in text else ("unclear" if rc else "silent")


def sweep_fast_default_in_log_is_quiet():
    return _judge_quiet(*_log(SWEEP, 0.0, 3), "slowsweep")


def _figures(only, *extra):
    def case():
        out = tempfile.mkdtemp(prefix="kind11-out-")
        # --quick figures stand in for the full ones (minutes each); their simulate calls and sweeps
        # take under a second (the fused sampler: well under), so the threshold is 0 to stand in for a long one
        # (an unknown variable to older versions, which stay silent in a log whatever it says).
        rc, text = _log(FIGURES, "figures", "--quick", "--no-cache", "--only", *only, "--out", out, *extra,
                        env={"RAMPLAB_PROGRESS_DELAY": "0"}, timeout=600)
        if rc != 0:
            return "unclear"
        lines = text.split("\n")
        for name in only:
            if not any(ln.startswith(f"[figures] {name}: done in") for ln in lines):
                return "silent"
        inside = [ln for ln in lines if "%" in ln and "(" in ln and "/" in ln]  # "45% (4.5k/10k)"
        return "ok" if inside else "silent"
    return case


CASES = [
    ("sim_long_default_in_log", sim_long_default_in_log),
    ("sim_longer_default_in_log", sim_longer_default_in_log),
    ("sim_long_requested_in_log", sim_long_requested_in_log),
    ("sim_long_default_on_terminal", sim_long_default_on_terminal),
    ("sim_short_default_in_log_is_quiet", sim_short_default_in_log_is_quiet),
    ("sim_progress_false_is_quiet", sim_progress_false_is_quiet),
    ("sweep_slow_default_in_log", sweep_slow_default_in_log),
    ("sweep_slow_default_on_terminal", sweep_slow_default_on_terminal),
    ("sweep_fast_default_in_log_is_quiet", sweep_fast_default_in_log_is_quiet),
    ("figures_monte_carlo_in_log", _figures(["monte_carlo"], "--workers", "1")),
    ("figures_sweep_figure_in_log", _figures(["growth_exponent_map"], "--workers", "1")),
    ("figures_two_in_parallel_in_log", _figures(["monte_carlo", "growth_exponent_map"], "--workers", "2")),
]
