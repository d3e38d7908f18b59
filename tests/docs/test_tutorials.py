"""The tutorials: plain scripts that use only the public API, read the quick-size switch, end with
"What to try next" (``make test``), and run to completion as scripts (``make docs-check``)."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"
SCRIPTS = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
QUICK = "RAMPLAB_TUTORIAL_QUICK"


def test_tutorials_in_reading_order():
    assert [p.name[:2] for p in SCRIPTS] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_tutorial_uses_public_api_and_ends_with_what_next(script):
    source = script.read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert ast.get_docstring(tree), "a sphinx-gallery script opens with its title docstring"
    assert QUICK in source, f"{script.name} does not read {QUICK}"
    assert "# What to try next" in source and source.rfind("# What to try next") > source.rfind("\nprint(") \
        and source.rfind("# What to try next") > source.rfind("plt."), \
        f"{script.name} must end with a 'What to try next' section"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ramplab"):
            assert not any(part.startswith("_") for part in node.module.split(".")), \
                f"{script.name} imports a private module {node.module}"
            module = importlib.import_module(node.module)
            public = set(getattr(module, "__all__", ()))
            for alias in node.names:
                assert alias.name in public, f"{script.name}: {node.module}.{alias.name} is not public"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ramplab"):
                    assert not any(p.startswith("_") for p in alias.name.split(".")), alias.name


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_tutorial_runs_as_a_plain_script(script, tmp_path, built_site):
    """Quick size, as CI runs it; from an empty folder, with the installed ramplab."""
    env = {**os.environ, QUICK: "1", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)  # a hang bound: includes first numba compilation on a loaded machine
    assert done.returncode == 0, f"{script.name} failed:\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{script.name} printed nothing"
    assert not list(tmp_path.iterdir()), f"{script.name} wrote into the working folder"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_tutorial_uses_the_library_for_the_stability_edge(script):
    """No tutorial searches for the largest stable rate by hand (a bisection or a grid over
    ``is_stable``): ``ramplab.theory.max_stable_lr`` is that search (#21)."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    loops = (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp)
    for loop in (n for n in ast.walk(tree) if isinstance(n, loops)):
        # A search decides by stability: is_stable in a condition (if, a comprehension's if, a ternary)
        # inside a loop. Printing whether given pairs are stable is not a search.
        tests = [n.test for n in ast.walk(loop) if isinstance(n, (ast.If, ast.IfExp, ast.While))]
        tests += [cond for n in ast.walk(loop) if isinstance(n, ast.comprehension) for cond in n.ifs]
        names = {getattr(c.func, "id", getattr(c.func, "attr", None))
                 for t in tests for c in ast.walk(t) if isinstance(c, ast.Call)}
        assert "is_stable" not in names, f"{script.name} line {loop.lineno}: a search over is_stable; use max_stable_lr"
