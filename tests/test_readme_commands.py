"""Every command the README documents exists: ``make`` targets in the Makefile, ``ramplab`` subcommands and
their options in the installed command's ``--help``, linked files in the repository (issue #21: a test that
fails when a documented command disappears)."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
MAKEFILE = (REPO / "Makefile").read_text(encoding="utf-8")

MAKE = re.compile(r"\bmake ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)*)")
# `ramplab X …` in backticks, or at the start of a line of a code block (prose "ramplab answers" is neither).
RAMPLAB = re.compile(r"(?:^|`)ramplab ([a-z]+)((?: (?:--?[a-z][a-z-]*|[^\s`#]+))*)", re.M)
LINK = re.compile(r"\]\(((?!https?:)[^)#\s]+)")


def make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][A-Za-z0-9_-]*):", MAKEFILE, re.M))


def documented_make_targets() -> list[str]:
    out = []
    for match in MAKE.finditer(README):
        words = match.group(1).split()
        out.append(words[0])  # `make lock TORCH_WHEELS=…`: the target is the first word
    return sorted(set(out))


def documented_ramplab_commands() -> list[tuple[str, tuple[str, ...]]]:
    seen: dict[str, set[str]] = {}
    for match in RAMPLAB.finditer(README):
        command = match.group(1)
        options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", match.group(2)))
        seen.setdefault(command, set()).update(options)
    return sorted((c, tuple(sorted(o))) for c, o in seen.items())


@lru_cache(maxsize=None)
def help_text(*command: str) -> str:
    out = subprocess.run([sys.executable, "-m", "ramplab", *command, "--help"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_readme_documents_commands_at_all():
    # The patterns below must keep finding the two commands and the CLI (else every check passes vacuously).
    assert {"figures", "test"} <= set(documented_make_targets())
    assert {"figures", "proofs", "bench"} <= {c for c, _ in documented_ramplab_commands()}


@pytest.mark.parametrize("target", documented_make_targets())
def test_documented_make_target_exists(target):
    assert target in make_targets(), f"README documents `make {target}`, which the Makefile does not define"


@pytest.mark.parametrize("command, options", documented_ramplab_commands())
def test_documented_ramplab_command_and_options_exist(command, options):
    assert re.search(rf"^\s+{command}\b", help_text(), re.M), f"`ramplab {command}` is not a subcommand"
    sub = help_text(command)
    missing = [o for o in options if not re.search(rf"(?<![\w-]){re.escape(o)}\b", sub)]
    assert not missing, f"README documents `ramplab {command} {' '.join(missing)}`, not in its --help"


@pytest.mark.parametrize("link", sorted(set(LINK.findall(README))))
def test_linked_files_exist(link):
    assert (REPO / link).exists(), f"README links {link}, which is not in the repository"
