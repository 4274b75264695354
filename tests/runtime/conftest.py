"""Shared helpers for the runtime guard's tests: no guard leaks from one test into the next."""

from __future__ import annotations

import warnings

import pytest
import torch

import lossguard
from lossguard.runtime import wrap


@pytest.fixture(autouse=True)
def _no_guard_left_behind():
    """Each test starts and ends with the original torch functions (and the same number of threads)."""
    threads = torch.get_num_threads()
    lossguard.uninstall()
    yield
    lossguard.uninstall()
    assert not wrap.is_patched()
    torch.set_num_threads(threads)


@pytest.fixture
def quiet():
    """Record LossGuardWarnings instead of printing them; yields the list of caught warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


@pytest.fixture
def one_thread():
    """Small losses run in one thread: on a shared machine, waking the intra-op pool costs milliseconds a call."""
    torch.set_num_threads(1)  # `_no_guard_left_behind` restores the count
