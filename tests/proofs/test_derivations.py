"""Every registered derivation verifies, carries LaTeX from sympy, and ``ramplab proofs`` reports it."""

from __future__ import annotations

import pytest
import sympy as sp

from ramplab import proofs
from ramplab.proofs import DERIVATIONS, derivations
from ramplab.proofs.cli import document, main


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_each_derivation_verifies(name):
    (d,) = derivations([name])
    assert d.name == name
    failed = [(c.description, c.expression) for c in d.failed]
    assert d.verified, failed
    assert d.statement and d.title and d.source
    assert d.results and all(isinstance(r, sp.Eq) for r in d.results)
    # LaTeX is sympy's, one string per result.
    assert d.latex == tuple(sp.latex(r) for r in d.results)
    assert all(c.description for c in d.checks)


def test_registry_covers_the_issue():
    names = set(DERIVATIONS)
    for required in ("master_bound", "sfo_constant_general_norm", "sfo_constant_small_step_norm",
                     "sums_constant", "sums_cosine", "sums_linear", "sums_polynomial", "sums_diminishing",
                     "sums_step_decay", "growth_exponential", "growth_polynomial", "stationary_point",
                     "temperature", "nsgd_invariant", "ramp_bound", "serial_step_integrals"):
        assert required in names
    with pytest.raises(ValueError, match="unknown derivation"):
        derivations(["no_such_thing"])


def test_main_prints_status_and_writes_latex(tmp_path, capsys):
    out = tmp_path / "proofs.md"
    assert main(["--only", "ramp_bound", "sums_constant", "--latex", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[ok  ] ramp_bound" in printed and "2/2 derivations verified" in printed
    text = out.read_text()
    assert "$$" in text and sp.latex(derivations(["ramp_bound"])[0].results[0]) in text
    assert "**verified**" in text


def test_main_exits_nonzero_when_a_check_fails(monkeypatch, capsys):
    x = sp.Symbol("x", positive=True)
    broken = proofs.Derivation("broken", "t", "s", (), (proofs.derivation.equation("f", x),),
                               (proofs.derivation.check_zero("x is not 0", x),))
    monkeypatch.setitem(DERIVATIONS, "broken", lambda: broken)
    assert main(["--only", "broken"]) == 1
    captured = capsys.readouterr()
    assert "[FAIL] broken" in captured.out and "✗ x is not 0" in captured.out
    assert "FAILED: broken" in captured.err
    assert "**FAILED**" in document((broken,))


def test_main_lists_and_rejects_unknown_names(capsys):
    assert main(["--list"]) == 0
    assert "growth_exponential" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--only", "nope"])


def test_latex_path_that_cannot_be_written_is_a_usage_error(tmp_path, capsys):
    """``--latex`` under a regular file: exit status 2 naming the option, before any derivation runs."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["--only", "ramp_bound", "--latex", str(blocker / "out.md")])
    assert exc.value.code == 2
    err = capsys.readouterr()
    assert "argument --latex: cannot write" in err.err and "ramp_bound" not in err.out
