"""pytest plugin: `pytest --lossguard` runs the test session under the runtime guard with policy `raise`.

A training smoke test then fails on a loss pitfall instead of passing with a model that cannot learn. Registered
through the `pytest11` entry point; it imports torch only when `--lossguard` is given.
"""

from __future__ import annotations

from typing import Any

import pytest

_STASH_KEY = "_lossguard_guard"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lossguard")
    group.addoption("--lossguard", action="store_true", default=False,
                    help="Check every PyTorch loss call with the lossguard runtime guard; a pitfall fails the test.")
    group.addoption("--lossguard-policy", choices=("raise", "warn", "log"), default="raise",
                    help="What a pitfall does under --lossguard (default: raise).")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("lossguard", default=False):
        return
    from lossguard.runtime.api import install

    setattr(config, _STASH_KEY, install(config.getoption("lossguard_policy")))


def pytest_unconfigure(config: pytest.Config) -> None:
    handle: Any = getattr(config, _STASH_KEY, None)
    if handle is not None:
        handle.uninstall()
        delattr(config, _STASH_KEY)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> None:
    """A test failed by the guard: end its traceback at the user's loss call, not inside torch and the guard, so
    that the report's last location is the test's (or the training code's) line."""
    excinfo = call.excinfo
    if excinfo is None or getattr(item.config, _STASH_KEY, None) is None:
        return
    from lossguard.runtime.report import LossGuardError

    error = excinfo.value
    if not isinstance(error, LossGuardError) or error.path is None:
        return
    tb, user_tb = excinfo.tb, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == error.path and tb.tb_lineno == error.line:
            user_tb = tb
        tb = tb.tb_next
    if user_tb is not None:
        user_tb.tb_next = None  # pytest rebuilds its view from the raw chain, so the chain itself ends here


def pytest_report_header(config: pytest.Config) -> str | None:
    if getattr(config, _STASH_KEY, None) is None:
        return None
    return f"lossguard: runtime guard installed (policy {config.getoption('lossguard_policy')})"
