"""The mathematics ships with the code: every anchor of docs/math.md that is cited exists, and nothing in
the repository cites a document the repository does not contain."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ramplab

REPO = Path(__file__).resolve().parents[1]
MATH = REPO / "docs" / "math.md"
CITATION = re.compile(r"docs/math\.md#([A-Za-z0-9_-]+)")
ANCHOR = re.compile(r"^\(([A-Za-z0-9_-]+)\)=\s*$", re.M)
#: Documents of the specification that live outside the repository (spelled in pieces, so that this
#: file does not itself cite them).
OUTSIDE_DOCUMENTS = ("MATH" + ".md", "DESIGN" + ".md", "shared/" + "spec")
SKIP_DIRS = {".git", ".venv", ".venv-latest", ".test-run", "build", "output", "__pycache__",
             ".hypothesis", ".pytest_cache"}


def _repo_text_files():
    for path in REPO.rglob("*"):
        parts = path.relative_to(REPO).parts
        if path.is_file() and not SKIP_DIRS & set(parts) and not any(p.endswith(".egg-info") for p in parts) \
                and path.suffix in {".py", ".md", ".toml", ".txt", ""} and path.name != "LICENSE":
            yield path


def _installed_sources():
    return sorted(Path(ramplab.__file__).resolve().parent.rglob("*.py"))


def anchors() -> set[str]:
    found = ANCHOR.findall(MATH.read_text(encoding="utf-8"))
    duplicates = {a for a in found if found.count(a) > 1}
    assert not duplicates, f"anchors defined twice in docs/math.md: {sorted(duplicates)}"
    return set(found)


def test_math_document_ships_with_anchors():
    assert MATH.is_file()
    assert len(anchors()) >= 20


@pytest.mark.parametrize("where", ["installed package", "repository"])
def test_every_cited_anchor_exists(where):
    files = _installed_sources() if where == "installed package" else \
        [p for p in _repo_text_files() if p != MATH]  # math.md defines anchors; its prose is no citation
    known = anchors()
    cited: dict[str, list[str]] = {}
    for path in files:
        for anchor in CITATION.findall(path.read_text(encoding="utf-8", errors="replace")):
            cited.setdefault(anchor, []).append(path.name)
    assert cited, "no docstring cites docs/math.md"
    missing = {a: sorted(set(f)) for a, f in cited.items() if a not in known}
    assert not missing, f"cited anchors missing from docs/math.md: {missing}"


def test_public_modules_cite_the_math():
    """Every module of theory/ and simulations/ that implements a formula points to docs/math.md."""
    root = Path(ramplab.__file__).resolve().parent
    uncited = [str(p.relative_to(root)) for p in (root / "theory").rglob("*.py")
               if p.name not in {"__init__.py", "_validate.py", "_backend.py", "_limits.py", "_frozen.py", "_memory.py",
                                "_progress.py"}
               and "docs/math.md#" not in p.read_text(encoding="utf-8")]
    assert not uncited, f"modules that cite no docs/math.md anchor: {uncited}"


def test_no_citation_of_documents_outside_the_repository():
    offending = []
    for path in _repo_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(name in text for name in OUTSIDE_DOCUMENTS):
            offending.append(str(path.relative_to(REPO)))
    assert not offending, f"files citing a document the repository lacks: {offending}"


def test_readme_example_prints_what_it_says():
    """The README's ``pycon`` block runs as a doctest against the installed package."""
    import doctest

    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```pycon\n(.*?)```", text, re.S)
    assert blocks, "README has no pycon example"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"README.md[{i}]", "README.md", 0)
        result = runner.run(test)
        assert result.failed == 0, f"README example {i} failed ({result.failed} of {result.attempted})"
