"""Two locks, two weights (#21 item 1): `make figures` installs the runtime lock, `make test` the
development lock, and the runtime lock is the development lock's pins for what drawing needs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV, FIGURES = ROOT / "requirements.lock", ROOT / "requirements-figures.lock"
#: What only development, the docs or interop need: never in the runtime lock.
HEAVY = ("torch", "jax", "jaxlib", "sphinx", "playwright", "dask", "distributed", "pytest", "hypothesis",
         "optax", "furo")


def _pins(path: Path) -> dict[tuple[str, str], set[str]]:
    """``(name, version + marker) → hashes`` of a uv-compiled, hash-pinned lock."""
    pins: dict[tuple[str, str], set[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)(.*?)\s*\\?$", line)
        if m:
            current = (m.group(1).lower(), m.group(2) + m.group(3).strip())
            pins[current] = set()
        elif current and "--hash=" in line:
            pins[current].add(line.split("--hash=")[1].strip(" \\"))
    return pins


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


@pytest.mark.skipif(not FIGURES.exists(), reason="needs the source tree's locks")
def test_runtime_lock_is_the_dev_lock_pins_for_the_figures_extra():
    dev, runtime = _pins(DEV), _pins(FIGURES)
    assert runtime and all(runtime.values()), "the runtime lock must pin with hashes"
    missing = [pin for pin in runtime if pin not in dev]
    assert not missing, f"runtime pins not in requirements.lock (regenerate with `make lock`): {missing}"
    assert all(runtime[pin] <= dev[pin] for pin in runtime), "runtime hashes differ from the dev lock's"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["figures"]}
    names = {name for name, _ in runtime}
    assert needed <= names, f"the runtime lock lacks {sorted(needed - names)}"
    assert not names & set(HEAVY), f"the runtime lock holds development packages: {sorted(names & set(HEAVY))}"
    assert len(runtime) < len(dev) / 2


@pytest.mark.skipif(not FIGURES.exists(), reason="needs the source tree's locks")
def test_make_figures_installs_the_runtime_lock_and_make_test_the_dev_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^figures: install-figures$", makefile, re.M)
    assert re.search(r"^figures-quick: install-figures$", makefile, re.M)
    assert re.search(r"^test: install decoys$", makefile, re.M)
    assert "-r $(FIG_LOCK)" in makefile and "FIG_LOCK  := requirements-figures.lock" in makefile
