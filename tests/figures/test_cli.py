"""The figures CLI: listing, argument checks before any work, atomic files, one quick build through main()."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from ramplab.cli import main as ramplab_main
from ramplab.figures import REGISTRY, FigureTable, load_all
from ramplab.figures import registry as registry_module
from ramplab.figures.cli import main
from ramplab.figures.registry import FigureContext, FigureSpec

EXTS = ("png", "pdf", "csv", "json")


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
    assert sorted(_snapshot(tmp_path)) == sorted(f"lr_decay_vs_batch_ramp.{e}" for e in EXTS)


# ------------------------------------------------------------------------------ fail fast
@pytest.fixture
def booby_trapped(monkeypatch):
    """Every registered figure replaced by one that fails the test if it is ever built."""
    load_all()
    built = []

    def trap(ctx):
        built.append(ctx.name)
        raise AssertionError(f"figure {ctx.name} was built although the arguments were bad")

    def draw_trap(table):
        raise AssertionError("a figure was drawn although the arguments were bad")

    for name, spec in list(REGISTRY.items()):
        monkeypatch.setitem(REGISTRY, name, FigureSpec(name, spec.description, trap, draw_trap))
    return built


def _bad_arguments(tmp_path):
    a_file = tmp_path / "not_a_folder"
    a_file.write_text("keep me\n")
    return [
        (["--seed", "-1"], "argument --seed: must be a non-negative integer; got '-1'"),
        (["--seed", "1.5"], "argument --seed: must be a non-negative integer; got '1.5'"),
        (["--backend", "bogus"], "argument --backend: backend must be one of"),
        (["--out", str(a_file)], f"argument --out: {str(a_file)!r} exists and is not a folder"),
        (["--out", str(a_file / "sub")], "argument --out: cannot create folder"),
        (["--only", "nope"], "unknown figure(s) ['nope']"),
    ]


@pytest.mark.parametrize("case", range(6))
@pytest.mark.parametrize("entry", ["figures", "ramplab"])
def test_bad_argument_fails_before_any_figure_is_built(case, entry, tmp_path, booby_trapped, capsys):
    argv, message = _bad_arguments(tmp_path)[case]
    if "--out" not in argv:
        argv = [*argv, "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as info:
        main(argv) if entry == "figures" else ramplab_main(["figures", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert booby_trapped == []
    assert (tmp_path / "not_a_folder").read_text() == "keep me\n"
    assert not (tmp_path / "out").exists()  # nothing created when another argument was bad


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_unwritable_folder_fails_fast(tmp_path, booby_trapped, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(SystemExit) as info:
            main(["--out", str(locked)])
    finally:
        locked.chmod(0o700)
    assert info.value.code == 2
    assert "cannot write into" in capsys.readouterr().err
    assert booby_trapped == []


def test_folder_without_write_permission_fails_fast(tmp_path, booby_trapped, monkeypatch, capsys):
    # Root ignores permission bits, so the check is exercised through os.access here.
    import ramplab.figures.cli as cli_module

    monkeypatch.setattr(cli_module.os, "access", lambda path, mode: False)
    with pytest.raises(SystemExit) as info:
        main(["--out", str(tmp_path)])
    assert info.value.code == 2
    assert f"argument --out: cannot write into {str(tmp_path)!r}" in capsys.readouterr().err
    assert booby_trapped == [] and list(tmp_path.iterdir()) == []


def test_output_path_taken_by_a_folder_fails_fast(tmp_path, booby_trapped, capsys):
    (tmp_path / "step_reduction.csv").mkdir()
    with pytest.raises(SystemExit) as info:
        main(["--only", "step_reduction", "--out", str(tmp_path)])
    assert info.value.code == 2
    assert "outputs are folders" in capsys.readouterr().err
    assert booby_trapped == []


def test_arguments_are_checked_before_the_first_figure(tmp_path, booby_trapped):
    # With good arguments the first figure does get built (the trap fires): the trap is live.
    assert main(["--only", "step_reduction", "--out", str(tmp_path)]) == 1
    assert booby_trapped == ["step_reduction"]


# ------------------------------------------------------------------------------ atomic files
class _Unprintable:
    def __str__(self):
        raise RuntimeError("CSV step failed")


def _fake_figure(monkeypatch, name, *, row_value=1.0, fail_before_save=False, fail_in_draw=False,
                 interrupt=False):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def data(ctx):
        if fail_before_save:
            raise RuntimeError("failed while computing")
        value = row_value
        if interrupt:
            class _Interrupt:
                def __str__(self):
                    raise KeyboardInterrupt

            value = _Interrupt()
        return FigureTable([{"series": "a", "x": 0.0, "y": value}], {"note": "fresh"})

    def draw(table):
        if fail_in_draw:
            raise RuntimeError("failed while drawing")
        fig, ax = plt.subplots()
        ax.plot(table.column("x"), [0.0])
        return fig

    load_all()
    monkeypatch.setitem(REGISTRY, name, FigureSpec(name, "a test figure", data, draw))


def _old_files(folder, name):
    folder.mkdir(exist_ok=True)
    for ext in EXTS:
        (folder / f"{name}.{ext}").write_bytes(f"old {ext}\n".encode())
    (folder / "other.txt").write_text("unrelated\n")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _snapshot(folder):
    """What a reader sees: every visible name and its bytes (symlinks followed), and no leftovers
    in the hidden store (only the current sets, their symlinks and the lock)."""
    store = folder / ".ramplab"
    if store.is_dir():
        live = {os.readlink(p) for p in store.iterdir() if p.is_symlink()}
        stray = [p.name for p in store.iterdir()
                 if not (p.is_symlink() or p.name in live or p.name == "lock")]
        assert stray == [], f"leftovers in the store: {stray}"
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".ramplab"}


def test_failure_before_save_leaves_folder_untouched(tmp_path, monkeypatch, capsys):
    _fake_figure(monkeypatch, "fake_fig", fail_before_save=True)
    before = _old_files(tmp_path, "fake_fig")
    assert main(["--only", "fake_fig", "--out", str(tmp_path)]) == 1
    assert _snapshot(tmp_path) == before
    out = capsys.readouterr()
    assert "fake_fig: FAILED" in out.out and "failed while computing" in out.err


@pytest.mark.parametrize("old", [True, False])
def test_failure_in_csv_step_leaves_no_new_png(tmp_path, monkeypatch, old):
    _fake_figure(monkeypatch, "fake_fig", row_value=_Unprintable())
    before = _old_files(tmp_path, "fake_fig") if old else {}
    assert main(["--only", "fake_fig", "--out", str(tmp_path)]) == 1
    assert _snapshot(tmp_path) == before  # no new PNG/PDF, no temporary files left behind


@pytest.mark.parametrize("old", [True, False])
def test_failure_in_draw_leaves_no_new_csv(tmp_path, monkeypatch, old, capsys):
    """The CSV and JSON are written before ``draw`` runs; a failing ``draw`` still leaves none of them."""
    _fake_figure(monkeypatch, "fake_fig", fail_in_draw=True)
    before = _old_files(tmp_path, "fake_fig") if old else {}
    assert main(["--only", "fake_fig", "--out", str(tmp_path)]) == 1
    assert _snapshot(tmp_path) == before
    assert "failed while drawing" in capsys.readouterr().err


def test_interrupt_in_csv_step_leaves_folder_untouched(tmp_path, monkeypatch, capsys):
    _fake_figure(monkeypatch, "fake_fig", interrupt=True)
    before = _old_files(tmp_path, "fake_fig")
    assert main(["--only", "fake_fig", "--out", str(tmp_path)]) == 130
    assert _snapshot(tmp_path) == before
    assert "interrupted" in capsys.readouterr().out


def test_success_replaces_all_files(tmp_path, monkeypatch):
    _fake_figure(monkeypatch, "fake_fig")
    before = _old_files(tmp_path, "fake_fig")
    assert main(["--only", "fake_fig", "--out", str(tmp_path)]) == 0
    after = _snapshot(tmp_path)
    assert sorted(after) == sorted(before)  # the same names: no temporary files left
    assert all(after[f"fake_fig.{e}"] != before[f"fake_fig.{e}"] for e in EXTS)
    assert after["fake_fig.png"].startswith(b"\x89PNG") and b'"note": "fresh"' in after["fake_fig.json"]
    assert after["fake_fig.csv"].decode().splitlines() == ["series,x,y", "a,0.0,1.0"]
    assert oct((tmp_path / "fake_fig.png").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_save_takes_a_figure_table(tmp_path):
    ctx = FigureContext(name="plain_rows", out_dir=tmp_path)
    with pytest.raises(TypeError, match="table must be a FigureTable"):
        ctx.save([{"x": 1}], lambda table: None)
    assert list(tmp_path.iterdir()) == []


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_ctrl_c_during_the_moves_is_held_until_all_files_are_in_place(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real_replace = os.replace
    moved = []

    def replace_then_interrupt(src, dst):
        if not moved:
            os.kill(os.getpid(), signal.SIGINT)  # arrives at the first rename of the commit
        real_replace(src, dst)
        moved.append(dst)

    monkeypatch.setattr(registry_module.os, "replace", replace_then_interrupt)
    ctx = FigureContext(name="held", out_dir=tmp_path)
    fig, ax = plt.subplots()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C → KeyboardInterrupt
    try:
        with pytest.raises(KeyboardInterrupt):
            ctx.save(FigureTable([{"x": 1}]), lambda table: fig)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    finally:
        signal.signal(signal.SIGINT, previous)
    assert len(moved) >= 1
    # every file is in place (the interrupt came after the commit), and nothing else is left
    snap = _snapshot(tmp_path)
    assert sorted(snap) == sorted(f"held.{e}" for e in EXTS)
    assert snap["held.csv"].decode().splitlines() == ["x", "1"] and snap["held.png"].startswith(b"\x89PNG")
