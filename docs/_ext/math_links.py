"""Docstrings cite ``docs/math.md#<anchor>``: on the site each citation is a link to that section.

:func:`link_math_citations` is an ``autodoc-process-docstring`` handler: it rewrites every citation
(bare or in double backticks) into a ``:ref:`` to the MyST label
``(anchor)=`` that docs/math.md defines for the section, titled with the citation as written, so
the text reads as before and follows the link. Citations inside literal blocks (``>>>`` examples
and ``::`` blocks) are left alone.
"""

from __future__ import annotations

import re

__all__ = ["CITATION", "link_citations", "link_math_citations"]

#: A citation: ``docs/math.md#<anchor>``, optionally in double backticks.
CITATION = re.compile(r"(``)?docs/math\.md#([A-Za-z0-9][A-Za-z0-9_-]*)(``)?")


def link_citations(text: str) -> str:
    """``text`` with each ``docs/math.md#<anchor>`` citation replaced by a ``:ref:`` link to ``anchor``.

    >>> link_citations("The recursion (docs/math.md#stability).")
    'The recursion (:ref:`docs/math.md#stability <stability>`).'
    >>> link_citations("see ``docs/math.md#lr-shapes``")
    'see :ref:`docs/math.md#lr-shapes <lr-shapes>`'
    """
    def repl(m: re.Match) -> str:
        if bool(m.group(1)) != bool(m.group(3)):  # a backtick on one side only: leave it as written
            return m.group(0)
        return f":ref:`docs/math.md#{m.group(2)} <{m.group(2)}>`"

    return CITATION.sub(repl, text)


def link_math_citations(app, what, name, obj, options, lines: list[str]) -> None:
    """Rewrite the citations of one docstring in place (autodoc's ``lines``), outside literal blocks."""
    literal_indent = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                continue
        if stripped.startswith(">>>") or stripped.startswith("..."):
            continue
        lines[i] = link_citations(line)
        if line.rstrip().endswith("::"):
            literal_indent = indent
