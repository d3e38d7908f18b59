"""docs/design.md's table from docs/math.md sections to code: every row names a section that exists, a module
that imports and objects that it holds; and every section of docs/math.md that holds a formula has a row."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DESIGN = REPO / "docs" / "design.md"
MATH = REPO / "docs" / "math.md"
ROW = re.compile(r"^\| `#([a-z0-9-]+)` \| `([\w.]+)` \| (.+) \|$", re.M)
#: Sections of docs/math.md with no code of their own (bibliography).
NO_CODE = {"sources", "attribution"}


def _rows() -> list[tuple[str, str, list[str]]]:
    return [(anchor, module, re.findall(r"`([\w.]+)`", names))
            for anchor, module, names in ROW.findall(DESIGN.read_text(encoding="utf-8"))]


def test_the_table_has_rows():
    assert len(_rows()) >= 40


@pytest.mark.parametrize("anchor, module, names", _rows(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_row_names_what_exists(anchor, module, names):
    anchors = set(re.findall(r"^\(([a-z0-9-]+)\)=$", MATH.read_text(encoding="utf-8"), re.M))
    assert anchor in anchors, f"docs/math.md has no section #{anchor}"
    mod = importlib.import_module(module)
    assert names, f"row #{anchor} names no object"
    for name in names:
        obj = mod
        for part in name.split("."):
            assert hasattr(obj, part), f"{module}.{name} (row #{anchor}) does not exist"
            obj = getattr(obj, part)


def test_every_section_with_formulas_has_a_row():
    anchors = set(re.findall(r"^\(([a-z0-9-]+)\)=$", MATH.read_text(encoding="utf-8"), re.M))
    covered = {anchor for anchor, _, _ in _rows()}
    assert anchors - NO_CODE - covered == set()
