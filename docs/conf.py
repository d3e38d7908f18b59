"""Sphinx configuration of the ramplab documentation site (``make docs``).

Built from the *installed* ramplab (``make docs`` runs ``make install`` first), like the tests: the
reference shows what a user imports. Warnings are errors (``-W --keep-going`` in the Makefile).

- **Tutorials**: sphinx-gallery executes every ``docs/tutorials/*.py`` script and keeps its
  figures; each script also runs as ``python docs/tutorials/NAME.py``. ``RAMPLAB_TUTORIAL_QUICK=1``
  makes them small (CI).
- **API reference**: generated, never hand-listed. ``docs/_ext/public_api.py`` walks the installed
  package (every public module's ``__all__``) and this file writes ``api/*.rst`` from it, one page
  per package; autosummary then writes one page per public name into ``api/generated/``.
- **Mathematics**: ``math.md`` through the MyST parser (``$…$``/``$$…$$`` and ``(anchor)=``
  targets). MathJax 3 is served from the site itself (``_static/mathjax/``), copied from
  ``docs/_build/npm`` where ``make docs`` installs it with ``npm ci`` from ``package-lock.json``:
  no equation needs network access when the page is read.
"""

from __future__ import annotations

import inspect
import os
import shutil
import sys
from pathlib import Path

import ramplab
from sphinx.pycode import ModuleAnalyzer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import public_api  # noqa: E402  (docs/_ext, after the path insert)
import math_links  # noqa: E402  (docs/_ext: docs/math.md#<anchor> citations as links)

project = "ramplab"
author = "ramplab developers"
copyright = "ramplab developers (MIT licence)"
release = ramplab.__version__
version = release.split("+")[0]

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "_templates", "tutorials/README.txt", "**/node_modules",
                    "tutorials_built/*.ipynb", "tutorials_built/*.py", "tutorials_built/*.zip",
                    "tutorials_built/*.json", "tutorials_built/*.md5"]
templates_path = ["_templates"]

# -- MyST: docs/math.md and docs/design.md ----------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# -- API reference --------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters section carries the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_api_pages(out: Path = HERE / "api") -> list[str]:
    """Write ``api/index.rst`` and one ``api/<package>.rst`` per package from the installed ramplab.

    Returns the packages, in page order. Stale package pages (a package that no longer has public
    names) are removed, so the reference never lists a name that is gone.
    """
    groups = public_api.groups()
    pages = list(groups)
    index = ["API reference", "=============", "",
             "Generated from the installed package: every name in a public module's ``__all__``, "
             "on one page per package. A name that several modules export is documented once, under "
             "the shortest public path, the one to import (``ramplab.theory.bound_steps``), in the "
             "section of the deepest module that exports it (``ramplab.theory.complexity``).", "",
             ".. toctree::", "   :maxdepth: 2", ""]
    index += ["   topics"] + [f"   {g}" for g in pages]
    if public_api.UNAVAILABLE:
        index += ["", "Not in this build (an optional dependency is not installed where it was built):", ""]
        index += [f"- ``{m}`` needs ``{dep}``" for m, dep in sorted(public_api.UNAVAILABLE.items())]
    _write_if_changed(out / "index.rst", "\n".join(index) + "\n")
    topics = ["API by topic", "============", "",
              "The user-facing functions and classes by what they are for (each package's page lists "
              "everything it exports).", ""]
    for title, blurb, members in public_api.TOPICS:
        topics += [title, "-" * len(title), "", blurb, "", ".. autosummary::", "   :nosignatures:", ""]
        topics += [f"   ~ramplab.{name}" for name in members] + [""]
    _write_if_changed(out / "topics.rst", "\n".join(topics))
    for group, modules in groups.items():
        lines = [f".. _api-{group}:", "", group, "=" * len(group), "",
                 f".. automodule:: {group}", "   :no-members:", "   :no-index:", ""]
        for section, items in modules.items():
            if section != group:
                lines += [section, "-" * len(section), "",
                          f".. automodule:: {section}", "   :no-members:", "   :no-index:", ""]
            for module in sorted({n.module for n in items}):
                names = [n for n in items if n.module == module]
                own = [n for n in names if not n.external]
                lines += [f".. currentmodule:: {module}", ""]
                if own:
                    lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
                    lines += [f"   {n.name}" for n in own] + [""]
                for n in names:
                    if n.external:
                        home = f"{n.obj.__module__.split('.')[0]}.{n.obj.__name__}"
                        directive = "function" if n.kind == "function" else "class"
                        lines += [f".. py:{directive}:: {n.name}", "",
                                  f"   Re-exported from ``{home}``; documented by that project.", ""]
        _write_if_changed(out / f"{group}.rst", "\n".join(lines))
    own = {n.canonical for mods in groups.values() for items in mods.values() for n in items if not n.external}
    for stub in (out / "generated").glob("*.rst"):  # autosummary never deletes a stub
        if stub.stem not in own:
            stub.unlink()
    for stale in out.glob("*.rst"):
        if stale.stem not in pages and stale.name not in ("index.rst", "topics.rst"):
            stale.unlink()
    return pages


write_api_pages()

# -- Tutorials (sphinx-gallery) ---------------------------------------------------------------------
QUICK = os.environ.get("RAMPLAB_TUTORIAL_QUICK", "") not in {"", "0"}
sphinx_gallery_conf = {
    "examples_dirs": ["tutorials"],
    "gallery_dirs": ["tutorials_built"],
    "filename_pattern": r"/\d\d_",          # every numbered tutorial is executed
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "doc_module": ("ramplab",),
    "backreferences_dir": "api/generated/backreferences",
    "reference_url": {"ramplab": None},
    "show_memory": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "abort_on_example_error": False,
    "run_stale_examples": True,  # every build executes every tutorial (quick and full sizes differ)
    "only_warn_on_example_error": False,
}

# -- HTML -----------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"ramplab {version}"
# Code blocks and output wrap instead of overflowing sideways (docs/_static/ramplab.css).
html_static_path = ["_static"]
html_css_files = ["ramplab.css"]
html_show_sourcelink = False
# No _sources/ copies: the repository tests scan text files, and a copy of docs/math.md would read
# as a second document citing its own placeholder anchors.
html_copy_source = False
# MathJax 3, served from this site (see the module docstring); Sphinx's default config for v3.
mathjax_path = "mathjax/tex-chtml.js"
MATHJAX_SOURCE = Path(os.environ.get("RAMPLAB_MATHJAX_DIR",
                                     HERE / "_build" / "npm" / "node_modules" / "mathjax" / "es5"))


def _copy_mathjax(app, exception) -> None:
    """Copy MathJax's es5/ folder into the built site's ``_static/mathjax``."""
    if exception is not None or app.builder.format != "html":
        return
    if not (MATHJAX_SOURCE / "tex-chtml.js").is_file():
        raise RuntimeError(
            f"MathJax not found at {MATHJAX_SOURCE}: run `make docs` (it runs `npm ci` in docs/_build/npm "
            "from docs/package-lock.json), or point RAMPLAB_MATHJAX_DIR at a MathJax 3 es5/ folder")
    shutil.copytree(MATHJAX_SOURCE, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def _attr_comment(modname: str, attr: str) -> list[str] | None:
    """The ``#:`` comment of ``modname.attr``; None if there is none (or it is no module name)."""
    try:
        comments = ModuleAnalyzer.for_module(modname).find_attr_docs()
    except Exception:
        return None
    found = comments.get(("", attr))
    return list(found) if found is not None else None


def _drop_inherited_data_docs(app, what, name, obj, options, lines) -> None:
    """A constant's documentation is its ``#:`` comment; without one, autodoc would show the
    docstring of the constant's *type* (a sympy expression's class, say), which is not about it.
    A constant re-exported from a private module (``ramplab.theory.TARGETS``) takes the comment of
    the ramplab module that defines it under the same name."""
    if what not in {"data", "attribute"} or inspect.isclass(obj) or inspect.isroutine(obj):
        return
    modname, _, attr = name.rpartition(".")
    if modname not in sys.modules:  # not a module-level name (a class attribute): leave it to autodoc
        return
    if _attr_comment(modname, attr) is not None:
        return
    for other, module in sorted(sys.modules.items()):
        if other.startswith(public_api.PACKAGE + ".") and getattr(module, attr, None) is obj:
            comment = _attr_comment(other, attr)
            if comment is not None:
                lines[:] = comment
                return
    lines[:] = []


def setup(app):
    app.connect("autodoc-process-docstring", _drop_inherited_data_docs, priority=400)
    app.connect("autodoc-process-docstring", math_links.link_math_citations, priority=600)
    app.connect("build-finished", _copy_mathjax)
