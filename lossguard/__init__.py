"""lossguard: catch PyTorch loss-function pitfalls before and during training.

The static half (`check_source`, `check_paths`) needs only click (and libcst for `--fix`); the runtime half
(`install`, `uninstall`, `guard`, `findings`) needs torch and is imported on first use, so `import lossguard` stays
cheap and torch-free.
"""

from __future__ import annotations

from typing import Any

from lossguard.findings import Finding, Location

__version__ = "0.1.0"

_RUNTIME_API = ("install", "uninstall", "guard", "LossGuardWarning", "LossGuardError")
_STATIC_API = ("check_source", "check_paths", "CheckResult")

__all__ = ["Finding", "Location", "__version__", "findings", *_STATIC_API, *_RUNTIME_API]


def findings() -> list[Finding]:
    """Every finding the runtime guard has recorded in this process (defined here, not lazily, because the
    submodule `lossguard.findings` would otherwise shadow it)."""
    from lossguard.runtime import api

    return api.findings()


def __getattr__(name: str) -> Any:
    if name in _STATIC_API:
        from lossguard.static import checker

        return getattr(checker, name)
    if name in _RUNTIME_API:
        from lossguard.runtime import api

        return getattr(api, name)
    raise AttributeError(f"module 'lossguard' has no attribute {name!r}")
