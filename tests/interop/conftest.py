"""Shared by the interop tests: torch on one thread (tiny tensors; a thread pool only spins on a shared machine)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="package")
def torch_one_thread():
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
