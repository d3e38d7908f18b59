"""numpydoc validation of every public name (``make test``).

*Public names* are those of ``docs/_ext/public_api.py`` (every public module's ``__all__``), so a
name added anywhere is validated without editing this file. For classes, their public methods are
validated too (the reference shows them).

Failing codes (:data:`REQUIRED`) are the ones that leave a reader *without information* or with
*wrong information*; style codes (capitalisation, final periods, type spelling, section order) do
not fail, since they mislead nobody and would churn most docstrings for no reader's gain:

- ``GL08`` no docstring, ``SS01`` no summary line: the reference page would be empty;
- ``PR01`` a parameter of the signature is not documented; ``PR02`` a documented parameter does
  not exist (a stale docstring after a rename);
- ``RT01`` a function that returns a value has no Returns section; ``YD01`` the same for Yields;
- ``EX01`` a function or class has no Examples section (they run as doctests in ``make test``, so
  they are checked examples). Methods and properties are exempt: their class shows the use.

Not failing, on purpose: ``PR07``/``RT03`` (an entry with a type but no description: ``problem :
Problem`` says all there is), ``SA01`` (See Also), ``ES01`` (extended summary).

A *record* class (a dataclass of results) documents its fields in an ``Attributes`` section;
constructor parameters found there count as documented for ``PR01``.
"""

from __future__ import annotations

import inspect
import re

import pytest
from numpydoc.docscrape import get_doc_object
from numpydoc.validate import validate

REQUIRED = {"GL08", "SS01", "PR01", "PR02", "RT01", "YD01", "EX01"}
METHOD_EXEMPT = {"EX01"}

#: Name → the codes it may fail, each with a comment saying why. Empty: every public name passes.
#: A listed name that passes fails ``test_allow_list_is_not_stale``; any failure not listed fails
#: ``test_public_docstrings_are_complete``.
ALLOWED: dict[str, set[str]] = {}


def _targets(public_api) -> list[tuple[str, bool]]:
    """``(dotted path, is_method)`` for every non-external, non-data public name and the public
    methods its classes define themselves."""
    out = []
    for item in public_api.public_names():
        if item.external or item.kind == "data":
            continue
        out.append((item.canonical, False))
        if item.kind in {"class", "exception"}:
            for name, value in vars(item.obj).items():
                func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
                if not name.startswith("_") and inspect.isfunction(func):
                    out.append((f"{item.canonical}.{name}", True))
    return out


def _attributes_documented(path: str) -> set[str]:
    obj = _resolve(path)
    if not inspect.isclass(obj):
        return set()
    doc = get_doc_object(obj)
    names = set()
    for entry in doc["Attributes"]:
        names.update(n.strip() for n in entry.name.split(","))
    return names


def _resolve(path: str):
    import importlib

    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def failures(public_api) -> dict[str, set[str]]:
    """``{dotted path: failing REQUIRED codes}`` over every validated public name."""
    out: dict[str, set[str]] = {}
    for path, is_method in _targets(public_api):
        result = validate(path)
        codes = set()
        for code, message in result["errors"]:
            if code not in REQUIRED or (is_method and code in METHOD_EXEMPT):
                continue
            if code == "PR01":
                missing = set(re.findall(r"'([^']+)'", message))
                if missing and missing <= _attributes_documented(path):
                    continue
            codes.add(code)
        if codes:
            out[path] = codes
    return out


@pytest.fixture(scope="module")
def found(public_api):
    return failures(public_api)


def test_public_docstrings_are_complete(found):
    new = {path: sorted(codes - ALLOWED.get(path, set())) for path, codes in found.items()
           if codes - ALLOWED.get(path, set())}
    assert not new, ("public names whose docstrings fail numpydoc validation (codes: "
                     "https://numpydoc.readthedocs.io/en/latest/validation.html): "
                     + "; ".join(f"{p}: {', '.join(c)}" for p, c in sorted(new.items())))


def test_allow_list_is_not_stale(found):
    fixed = {path: sorted(codes - found.get(path, set())) for path, codes in ALLOWED.items()
             if codes - found.get(path, set())}
    assert not fixed, f"allow-listed failures that no longer fail (remove them from ALLOWED): {fixed}"


def test_validation_sees_every_kind(public_api):
    """The walk reaches functions, classes, methods and every package (a broken walk would pass
    the tests above by validating nothing)."""
    targets = _targets(public_api)
    assert len(targets) > 150
    assert any(m for _, m in targets) and any(not m for _, m in targets)
    validated = {p for p, _ in targets}
    # Names are validated at their canonical (shortest) path; each package exports some of them.
    exported = {a for n in public_api.public_names() if n.canonical in validated for a in n.aliases}
    for package in ("ramplab.theory.dynamics", "ramplab.theory.schedules", "ramplab.theory.complexity",
                    "ramplab.simulations", "ramplab.proofs", "ramplab.figures"):
        assert any(p.startswith(package + ".") for p in exported), package


def test_validation_fails_on_a_bad_docstring():
    """The filter fails a function with an undocumented parameter, a stale one, no Returns and no
    Examples (so the test above can fail)."""

    def sample(x, y):
        """Add.

        Parameters
        ----------
        x : float
            First.
        z : float
            Renamed long ago.
        """
        return x + y

    import types, sys

    module = types.ModuleType("ramplab_docstring_probe")
    module.sample = sample
    sample.__module__ = module.__name__
    sys.modules[module.__name__] = module
    try:
        codes = {c for c, _ in validate(f"{module.__name__}.sample")["errors"]} & REQUIRED
    finally:
        del sys.modules[module.__name__]
    assert codes == {"PR01", "PR02", "RT01", "EX01"}
