"""Shared by the documentation tests: the public-name walker of docs/_ext, and the built site.

The walker (``docs/_ext/public_api.py``) is the one the Sphinx build uses, loaded by file path (the
docs folder is not a package). Tests of the *built* site run only under ``make docs-check``
(``RAMPLAB_DOCS_CHECK=1``), after ``make docs``; in ``make test`` they skip with that reason. Under
``CI=true`` inside ``make docs-check``, a missing site or a missing Chromium fails instead.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SITE = DOCS / "_build" / "html"
SCREENSHOTS = DOCS / "_build" / "screenshots"
TUTORIALS = DOCS / "tutorials"


def load_public_api():
    """Import ``docs/_ext/public_api.py`` (cached in ``sys.modules`` under its own name)."""
    if "public_api" in sys.modules:
        return sys.modules["public_api"]
    spec = importlib.util.spec_from_file_location("public_api", DOCS / "_ext" / "public_api.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["public_api"] = module
    spec.loader.exec_module(module)
    return module


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def docs_check() -> bool:
    return os.environ.get("RAMPLAB_DOCS_CHECK", "") not in {"", "0"}


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` fails, except under CI=true, where it is an error."""
    if not condition:
        if in_ci():
            pytest.fail(f"{reason} (CI=true: this check may not be skipped)")
        pytest.skip(reason)


@pytest.fixture(scope="session", name="require")
def require_fixture():
    """:func:`require`, for test modules (conftest is not importable under importlib mode)."""
    return require


@pytest.fixture(scope="session")
def public_api():
    return load_public_api()


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The built HTML site; only under ``make docs-check``."""
    if not docs_check():
        pytest.skip("checks the built site: run by `make docs-check` after `make docs`")
    require((SITE / "index.html").is_file(), f"no built site at {SITE}: run `make docs` first")
    return SITE
