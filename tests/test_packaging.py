"""The suite runs against the *installed* ramplab: one import package, a console command, provenance.

`make test` installs ramplab (not editable) and runs pytest from a scratch folder holding a decoy
``theory.py`` and ``proofs/``; these tests check that this is what happened and that the install
leaves nothing but ``ramplab`` at the top of site-packages.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import ramplab

REPO = Path(__file__).resolve().parents[1]


def test_imported_from_site_packages_not_the_tree():
    installed = Path(ramplab.__file__).resolve()
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert installed.parent == site / "ramplab", f"ramplab imported from {installed}, not {site}"
    for name in ("theory", "simulations", "proofs", "figures", "benchmarks"):
        module = getattr(ramplab, name)
        assert Path(module.__file__).resolve().parents[1] == installed.parent


def test_only_ramplab_at_the_top_of_site_packages():
    files = importlib.metadata.files("ramplab")
    assert files, "ramplab's RECORD is empty"
    tops = {f.parts[0] for f in files if f.parts[0] not in ("..",)}
    tops = {t for t in tops if not t.endswith(".dist-info")}
    assert tops == {"ramplab"}, f"top-level entries besides ramplab: {sorted(tops - {'ramplab'})}"


def test_imports_ignore_decoys_in_the_working_directory(tmp_path):
    (tmp_path / "theory.py").write_text("raise ImportError('decoy theory.py imported')\n")
    (tmp_path / "proofs").mkdir()
    (tmp_path / "proofs" / "__init__.py").write_text("raise ImportError('decoy proofs/ imported')\n")
    code = "import ramplab.theory, ramplab.simulations, ramplab.proofs, ramplab.figures; print('ok')"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    # `python -c` puts the working directory first on sys.path: the decoys are importable as
    # `theory` and `proofs`, and must never be imported.
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("command", [[sys.executable, "-m", "ramplab"],
                                     [str(Path(sys.executable).with_name("ramplab"))]])
def test_console_command_lists_subcommands(command, tmp_path):
    out = subprocess.run([*command, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for sub in ("figures", "proofs", "bench"):
        assert sub in out.stdout


def test_cli_dispatches_to_subcommands(capsys):
    from ramplab.cli import main

    assert main(["proofs", "--list"]) == 0
    assert "master_bound" in capsys.readouterr().out.split()
    assert main(["figures", "--list"]) == 0
    assert "lr_decay_vs_batch_ramp" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["no-such-command"])


def test_build_provenance_names_the_commit():
    info = ramplab.build_provenance()
    assert info["ramplab"] == ramplab.__version__ == importlib.metadata.version("ramplab")
    if info["git_commit"] is not None:  # built from a git checkout (as `make test` does)
        assert all(c in "0123456789abcdef" for c in info["git_commit"]) and len(info["git_commit"]) >= 7
        assert isinstance(info["git_dirty"], bool)
