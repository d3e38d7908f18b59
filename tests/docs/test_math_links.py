"""On the site every ``docs/math.md#<anchor>`` citation of a docstring is a link (#21 item 6): the
autodoc handler of docs/_ext/math_links.py rewrites each into a ``:ref:`` to the section's MyST
label, and every cited anchor is a label docs/math.md defines (so no link is broken)."""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _math_links():
    spec = importlib.util.spec_from_file_location("math_links", DOCS / "_ext" / "math_links.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_citations_become_links_outside_examples():
    ml = _math_links()
    lines = ["Stability (docs/math.md#stability), see ``docs/math.md#lr-shapes``.", "",
             "Examples", "--------", ">>> f()  # docs/math.md#stability", "",
             "A literal block::", "", "    docs/math.md#stability", "", "after docs/math.md#seesaw"]
    ml.link_math_citations(None, "function", "f", None, {}, lines)
    assert lines[0] == ("Stability (:ref:`docs/math.md#stability <stability>`), see "
                        ":ref:`docs/math.md#lr-shapes <lr-shapes>`.")
    assert lines[4] == ">>> f()  # docs/math.md#stability" and lines[8] == "    docs/math.md#stability"
    assert lines[10] == "after :ref:`docs/math.md#seesaw <seesaw>`"


def test_every_cited_anchor_is_a_label_of_math_md(public_api):
    labels = set(re.findall(r"^\(([A-Za-z0-9_-]+)\)=\s*$", (DOCS / "math.md").read_text(), re.M))
    ml = _math_links()
    cited: dict[str, str] = {}
    for item in public_api.public_names():
        doc = (inspect.getdoc(item.obj) or "") if item.kind != "data" else ""
        for m in ml.CITATION.finditer(doc):
            cited.setdefault(m.group(2), item.canonical)
    assert cited, "no docstring cites docs/math.md"
    broken = {anchor: where for anchor, where in cited.items() if anchor not in labels}
    assert not broken, f"citations of anchors docs/math.md does not define: {broken}"


def test_code_blocks_wrap_or_scroll():
    css = (DOCS / "_static" / "ramplab.css").read_text()
    assert "pre-wrap" in css and "overflow-x: auto" in css
    conf = (DOCS / "conf.py").read_text()
    assert 'html_css_files = ["ramplab.css"]' in conf and "math_links.link_math_citations" in conf
