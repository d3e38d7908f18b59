"""Hostile inputs: the tables of every subpackage together cover every public name.

The hostile-input tables live next to each subpackage's tests (``tests/**/test_hostile*.py``); their
shared machinery, and how a table works, is in tests/hostile.py. This file checks that the tables,
all of them loaded together, cover :data:`hostile.MODULES`: every public name has an entry or an
exemption somewhere (a re-export counts as its original), no two tables drive the same name, and
every entry and exemption names something public.

Run as a script for the sweep's counts over all tables: ``python tests/test_hostile_inputs.py
[--verbose] [--match TEXT] [--isolated]``.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent))  # as tests/conftest.py does, for the script

from hostile import OUTCOMES, Table, short_repr, all_tables, owner, public_names, resolve  # noqa: E402


def test_table_is_complete():
    """Every public name of :data:`hostile.MODULES` has an entry or an exemption in some table, and
    every entry and exemption names something public."""
    tables = all_tables()
    assert len(tables) >= 7, f"hostile tables found: {sorted(tables)}"
    entries = [n for t in tables.values() for n in t.entries]
    exempt = [n for t in tables.values() for n in t.exempt_names]
    duplicated = [n for n, k in Counter(entries + exempt).items() if k > 1]
    assert not duplicated, f"entries or exemptions in more than one table: {duplicated}"
    public = public_names()
    public_ids = {id(obj) for obj in public.values()}
    covered = {id(resolve(owner(n))) for n in entries + exempt}
    missing = [n for n, obj in public.items() if id(obj) not in covered]
    assert not missing, f"public names without a hostile-input entry or an exemption: {missing}"
    stale = [n for n in entries + exempt if id(resolve(owner(n))) not in public_ids]
    assert not stale, f"entries or exemptions for names that are not public: {stale}"
    for n in entries:
        resolve(n)  # methods exist


# ----------------------------------------------------------------------------- the sweep
def _merged() -> Table:
    """One table holding every entry (names are unique across tables)."""
    merged = Table()
    for table in all_tables().values():
        merged.entries.update(table.entries)
    return merged


def sweep(table: Table, pattern: str = "", verbose: bool = False) -> Counter:
    """Classify every (entry, argument, fixed hostile value); print the counts."""
    table.warm()
    cases = [(n, a) for n, a in table.cases if pattern in n]
    counts: Counter = Counter()
    for name, arg in cases:
        for value in table.entries[name].values(arg):
            outcome, detail = table.classify(name, arg, value)
            counts[outcome] += 1
            if verbose and outcome not in ("clear error", "correct"):
                print(f"{outcome:13s} {name}({arg}={short_repr(value)}): {detail}")
    print(f"{len({n for n, _ in cases})} entries, {len(cases)} arguments, {sum(counts.values())} cases")
    for o in OUTCOMES:
        print(f"  {o:14s} {counts[o]}")
    return counts


def _cases_of(table: Table, name: str) -> list[tuple[str, Any]]:
    return [(arg, value) for arg in table.entries[name].args for value in table.entries[name].values(arg)]


def _isolated_sweep(table: Table, verbose: bool) -> None:
    """The sweep with each entry in a child process, so that a crash (segfault, OOM kill) of one
    case is counted as an unclear error and the sweep goes on."""
    import json
    import subprocess

    counts: Counter = Counter()
    for name in table.entries:
        total, skip = len(_cases_of(table, name)), 0
        while skip < total:
            proc = subprocess.run([sys.executable, __file__, "--entry", name, "--skip", str(skip)],
                                  capture_output=True, text=True)
            lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
            for rec in lines:
                counts[rec["outcome"]] += 1
                if verbose and rec["outcome"] not in ("clear error", "correct"):
                    print(f"{rec['outcome']:13s} {name}({rec['arg']}={rec['value']}): {rec['detail']}")
            skip += len(lines)
            if proc.returncode != 0 and skip < total:
                arg, value = _cases_of(table, name)[skip]
                counts["unclear error"] += 1
                if verbose:
                    print(f"unclear error {name}({arg}={short_repr(value)}): process died ({proc.returncode})")
                skip += 1
    print(f"{len(table.entries)} entries, {len(table.cases)} arguments, {sum(counts.values())} cases")
    for o in OUTCOMES:
        print(f"  {o:14s} {counts[o]}")


if __name__ == "__main__":
    import json
    import warnings

    warnings.simplefilter("error", RuntimeWarning)  # as under pytest (pyproject.toml filterwarnings)
    TABLE = _merged()
    if "--entry" in sys.argv:
        name = sys.argv[sys.argv.index("--entry") + 1]
        skip = int(sys.argv[sys.argv.index("--skip") + 1])
        TABLE.warm()
        for arg, value in _cases_of(TABLE, name)[skip:]:
            outcome, detail = TABLE.classify(name, arg, value)
            record = {"arg": arg, "value": short_repr(value), "outcome": outcome, "detail": detail}
            print(json.dumps(record), flush=True)
    elif "--isolated" in sys.argv:
        _isolated_sweep(TABLE, "--verbose" in sys.argv)
    else:
        pattern = sys.argv[sys.argv.index("--match") + 1] if "--match" in sys.argv else ""
        sweep(TABLE, pattern, verbose="--verbose" in sys.argv)
