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


def pytest_report_header(config: pytest.Config) -> str | None:
    if getattr(config, _STASH_KEY, None) is None:
        return None
    return f"lossguard: runtime guard installed (policy {config.getoption('lossguard_policy')})"
