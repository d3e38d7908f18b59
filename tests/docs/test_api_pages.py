"""The API reference covers every public name: in the walk (``make test``) and in the built site
(``make docs-check``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import ramplab


#: Implementation modules without a leading underscore (the solver kernels), written out here
#: independently of docs/_ext; emptied when ramplab.theory.dynamics renames them private.
NOT_DOCUMENTED: set[str] = set()


def _independent_public_paths() -> set[str]:
    """Every ``module.name`` of a public module's ``__all__`` that is not a module, walked here
    without docs/_ext (so a bug in the walker's dedupe or privacy rule shows)."""
    out = set()
    for info in pkgutil.walk_packages(ramplab.__path__, "ramplab."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]) or info.name in NOT_DOCUMENTED:
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            if not inspect.ismodule(getattr(module, name)):
                out.add(f"{info.name}.{name}")
    out.update(f"ramplab.{n}" for n in ramplab.__all__ if not inspect.ismodule(getattr(ramplab, n)))
    return out


def test_every_public_name_is_in_the_reference(public_api):
    names = public_api.public_names()
    aliases = {a for n in names for a in n.aliases}
    missing = _independent_public_paths() - aliases
    assert not missing, f"public names the reference walk misses: {sorted(missing)}"
    assert len({n.canonical for n in names}) == len(names), "a canonical path documented twice"
    in_pages = [n.canonical for mods in public_api.groups().values() for items in mods.values() for n in items]
    assert sorted(in_pages) == sorted(n.canonical for n in names)


def test_re_exports_are_documented_once_under_the_path_a_user_imports(public_api):
    by_alias = {a: n for n in public_api.public_names() for a in n.aliases}
    problem = by_alias["ramplab.theory.Problem"]
    assert problem.canonical == "ramplab.theory.Problem"
    assert "ramplab.theory.dynamics.Problem" in problem.aliases
    assert by_alias["ramplab.simulations.simulate"].canonical == "ramplab.simulations.simulate"
    # Defined in a private module, exported by the subpackage and by ramplab.theory.
    bound = by_alias["ramplab.theory.complexity.bound_steps"]
    assert bound.canonical == "ramplab.theory.bound_steps" and bound.section == "ramplab.theory.complexity"
    assert by_alias["ramplab.theory.schedules.round_batch"].canonical == "ramplab.theory.round_batch"
    assert not [a for n in public_api.public_names() for a in n.aliases
                if any(part.startswith("_") for part in a.split(".")[1:-1])], "an alias through a private module"
    pages = public_api.groups()
    assert "ramplab.theory.complexity" in pages["ramplab.theory"]


def test_kernel_constants_are_not_listed(public_api):
    paths = {a for n in public_api.public_names() for a in n.aliases}
    assert not {p for p in paths if ".kernels." in p or ".cupy_kernels." in p or p.endswith((".TILE", ".SUB"))}
    assert public_api.group_of("ramplab.simulations.monte_carlo") == "ramplab.simulations"


def test_every_public_name_has_a_page(public_api, built_site):
    missing = []
    for item in public_api.public_names():
        page, _, anchor = item.page.partition("#")
        path = built_site / page
        if not path.is_file():
            missing.append(f"{item.canonical} (no {page})")
        elif anchor and f'id="{anchor}"' not in path.read_text(encoding="utf-8"):
            missing.append(f"{item.canonical} (no #{anchor} in {page})")
    assert not missing, f"public names without a reference page in the built site: {missing}"


def test_every_package_page_and_the_math_anchors_are_built(public_api, built_site):
    for group in public_api.groups():
        assert (built_site / "api" / f"{group}.html").is_file(), group
    math = (built_site / "math.html").read_text(encoding="utf-8")
    source = (built_site.parents[1] / "math.md").read_text(encoding="utf-8")
    anchors = re.findall(r"^\(([A-Za-z0-9_-]+)\)=\s*$", source, re.M)
    assert anchors
    lost = [a for a in anchors if f'id="{a.lower()}"' not in math and f'id="{a}"' not in math]
    assert not lost, f"docs/math.md anchors missing from the built page: {lost}"


def test_optional_adapters_are_skipped_but_broken_modules_fail(public_api, tmp_path, monkeypatch):
    """A public module that needs a missing optional dependency is recorded, not fatal; a module
    that fails for any other reason stops the walk (so the build cannot hide it)."""
    import sys

    pkg = tmp_path / "docsprobe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('__all__ = ["one"]\n\ndef one():\n    """One."""\n')
    (pkg / "adapter.py").write_text("import framework_not_installed_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(public_api, "UNAVAILABLE", {})
    try:
        names = [m.__name__ for m in public_api.public_modules("docsprobe")]
        assert names == ["docsprobe"]
        assert public_api.UNAVAILABLE == {"docsprobe.adapter": "framework_not_installed_anywhere"}
        (pkg / "broken.py").write_text("raise RuntimeError('a bug, not a missing dependency')\n")
        import pytest

        with pytest.raises(RuntimeError, match="a bug"):
            public_api.public_modules("docsprobe")
    finally:
        for name in [n for n in sys.modules if n == "docsprobe" or n.startswith("docsprobe.")]:
            del sys.modules[name]
