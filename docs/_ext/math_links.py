"""Docstrings cite ``docs/math.md#<anchor>``: on the site each citation is a link to that section,
and each formula written in double backticks (``η/√B``) is rendered by MathJax.

:func:`link_math_citations` is an ``autodoc-process-docstring`` handler: it rewrites every citation
(bare or in double backticks) into a ``:ref:`` to the MyST label
``(anchor)=`` that docs/math.md defines for the section, titled with the citation as written, so
the text reads as before and follows the link. Citations inside literal blocks (``>>>`` examples
and ``::`` blocks) are left alone.
"""

from __future__ import annotations

import re

__all__ = ["CITATION", "MATH_CHARS", "link_citations", "link_math_citations", "render_math_literals"]

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


#: Characters that only mathematics uses in the docstrings: Greek letters and mathematical symbols. A
#: double-backtick literal holding one of them is a formula (code is ASCII), rendered by MathJax.
MATH_CHARS = re.compile(r"[\u0391-\u03a9\u03b1-\u03c9√≤≥≈∝‖∑Σ∫·×⁻⁰¹²³⁴ᵀ∞≠±∈⌊⌋⌈⌉∂→−ε]")
LITERAL = re.compile(r"``([^`]+)``")
_TEX_ESCAPES = {"%": r"\%", "#": r"\#", "&": r"\&", "$": r"\$"}


def _tex(formula: str) -> str:
    """A docstring formula as MathJax TeX: Unicode kept (MathJax reads it), words upright, specials escaped."""
    out = "".join(_TEX_ESCAPES.get(c, c) for c in formula)
    out = re.sub(r"(?<![\\A-Za-z_])([A-Za-z]{2,})(?![A-Za-z])", r"\\mathrm{\1}", out)  # tr, min, log, …
    out = re.sub(r"_([A-Za-z0-9]{2,})", r"_{\\mathrm{\1}}", out)  # b_max: one subscript, upright
    return out.replace(" ", "\\ ")  # keep the spaces a reader sees


def render_math_literals(text: str) -> str:
    """``text`` with each double-backtick formula (a literal holding a Greek letter or a math symbol) as ``:math:``.

    >>> render_math_literals("rate ``η/√B`` of ``expected_risk``")
    'rate :math:`η/√B` of ``expected_risk``'
    >>> print(render_math_literals("``tr Σ = Σ λ_i`` and ``b_max``"))
    :math:`\\mathrm{tr}\\ Σ\\ =\\ Σ\\ λ_i` and ``b_max``
    """
    def repl(m: re.Match) -> str:
        body = m.group(1)
        if not MATH_CHARS.search(body) or "`" in body:
            return m.group(0)
        return f":math:`{_tex(body)}`"

    return LITERAL.sub(repl, text)


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
        lines[i] = render_math_literals(link_citations(line))
        if line.rstrip().endswith("::"):
            literal_indent = indent
