"""Repository-wide pytest configuration (applies to tests/ and to the doctests in the packages).

- ``slow`` tests run only with ``RAMPLAB_SLOW=1`` (each has a quick twin that always runs).
- ``gpu`` tests run only where CuPy sees a CUDA device; elsewhere they skip with a reason.
- ``tests/`` is on ``sys.path`` (appended, after the working directory and the installed package), so a test
  imports the shared helpers beside this file by name: ``oracles`` (the reference recursions) and ``hostile``
  (the hostile-input machinery). pytest's ``--import-mode=importlib`` does not put test folders on the path.
- Hypothesis: a ``ci`` profile (derandomized, no deadline) is loaded under ``CI``; the default
  profile has no deadline either, since the exact solver's first call imports and warms up NumPy.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")
# Figures that tests keep open (session fixtures reuse drawn figures) must not turn into matplotlib's "more than
# 20 figures" RuntimeWarning inside later tests of the same worker: the hostile-input oracles count warnings as errors.
matplotlib.rcParams["figure.max_open_warning"] = 0

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.append(_TESTS)

settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SLOW = os.environ.get("RAMPLAB_SLOW") == "1"

# tests/test_hostile_inputs.py: one hypothesis test per (entry point, argument), some 250 of them, so
# few examples each by default (the fixed hostile pools run in full anyway); RAMPLAB_SLOW=1 draws many.
settings.register_profile("hostile", deadline=None, max_examples=6, derandomize=bool(os.environ.get("CI")),
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("hostile-slow", deadline=None, max_examples=300,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from ramplab.theory import cupy_available

    has_gpu = None
    for item in items:
        if "slow" in item.keywords and not SLOW:
            item.add_marker(pytest.mark.skip(reason="slow: set RAMPLAB_SLOW=1 (a quick twin runs)"))
        if "gpu" in item.keywords:
            if has_gpu is None:
                has_gpu = cupy_available()
            if not has_gpu:
                item.add_marker(pytest.mark.skip(reason="gpu: CuPy with a CUDA device not available"))


@pytest.fixture(params=["numpy", "array_api_strict"])
def xp(request: pytest.FixtureRequest):
    """The array namespaces every backend-generic function must run on without a GPU."""
    from ramplab.theory import resolve_backend

    return resolve_backend(request.param)


@pytest.fixture(scope="session")
def warm_kernels() -> None:
    """Every numba kernel of the exact solver compiled once in this process, with no time bound, so that
    a test bounding a call by wall-clock time (tests/hostile.py) never times compilation."""
    from hostile import warm_numba_kernels

    warm_numba_kernels()
