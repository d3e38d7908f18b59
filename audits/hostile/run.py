"""Run the hostile-caller sweep (issue #19) and count outcomes per kind.

Each ``kind_NN_*.py`` beside this file defines ``CASES``: a list of ``(name, function)``
pairs. A function takes no argument, runs one hostile call against the installed
``ramplab`` and returns the outcome's class:

``"ok"``       the right answer, or an error that names the argument (TypeError/ValueError/…)
``"silent"``   a wrong answer returned with no error or warning
``"unclear"``  an error that does not name what was wrong (a foreign or internal exception)
``"unsafe"``   lost rows, a torn or stale file set, a poisoned cache
``"code"``     code the caller did not write ran

A case that raises is ``"unclear"``; one that runs past ``--timeout`` seconds is ``"hang"``.
Every case runs in its own child process (``--python``, default this interpreter), so a
checkout is measured by pointing ``--python`` at a virtual environment that has it installed:

    python audits/hostile/run.py --python .venv/bin/python [--only kind_04] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
CLASSES = ("ok", "silent", "unclear", "hang", "unsafe", "code")

CHILD = r"""
import runpy, sys, tempfile, os
os.chdir(tempfile.mkdtemp(prefix="hostile-"))
cases = dict(runpy.run_path(sys.argv[1], run_name="hostile_case")["CASES"])
try:
    outcome = cases[sys.argv[2]]()
except BaseException as exc:  # the case itself failed: the library raised something it should not
    print("##details", type(exc).__name__, str(exc)[:200])
    outcome = "unclear"
print("##outcome", outcome)
"""


def case_names(python, path):
    out = subprocess.run(
        [python, "-c",
         "import runpy,sys,json; print(json.dumps([n for n, _ in "
         "runpy.run_path(sys.argv[1], run_name='hostile_list')['CASES']]))", str(path)],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_case(python, path, name, timeout):
    try:
        out = subprocess.run([python, "-c", CHILD, str(path), name], capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hang", ""
    lines = out.stdout.splitlines()
    outcome = next((ln.split()[1] for ln in reversed(lines) if ln.startswith("##outcome")), None)
    details = " ".join(ln[10:] for ln in lines if ln.startswith("##details"))
    if outcome not in CLASSES:
        return "unclear", details or (out.stderr.strip().splitlines() or [""])[-1][:200]
    return outcome, details


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--only", default="kind_", help="run files whose name starts with this")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", help="write every case's outcome here")
    args = parser.parse_args(argv)
    results = []
    for path in sorted(HERE.glob("kind_*.py")):
        if not path.name.startswith(args.only):
            continue
        kind = path.stem
        for name in case_names(args.python, path):
            outcome, details = run_case(args.python, path, name, args.timeout)
            results.append({"kind": kind, "case": name, "outcome": outcome, "details": details})
            print(f"{kind:32s} {outcome:8s} {name} {details}", flush=True)
    table = collections.defaultdict(collections.Counter)
    for row in results:
        table[row["kind"]][row["outcome"]] += 1
    print("\n" + f"{'kind':32s} {'cases':>5s} " + " ".join(f"{c:>7s}" for c in CLASSES))
    for kind, counts in sorted(table.items()):
        print(f"{kind:32s} {sum(counts.values()):5d} " + " ".join(f"{counts[c]:7d}" for c in CLASSES))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
