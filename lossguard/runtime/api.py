"""The runtime guard's public API: install, uninstall, guard, findings, and the warning and error it reports.

Installations nest: each `install()` pushes a recorder (its policy and settings win while it is innermost, and it
collects what is seen while it is active); the torch functions are patched by the first and restored by the last.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from lossguard.findings import Finding
from lossguard.rules import select_codes
from lossguard.runtime import monitor as _monitor_module
from lossguard.runtime import wrap
from lossguard.runtime.monitor import ALL_FINDINGS, Monitor, Recorder, Settings
from lossguard.runtime.report import LossGuardError, LossGuardWarning

__all__ = ["Guard", "LossGuardError", "LossGuardWarning", "findings", "guard", "install", "uninstall"]

_lock = threading.RLock()
_monitor: Monitor | None = None
_handles: list[Guard] = []


class Guard:
    """The handle returned by `install()`: `.uninstall()` undoes that installation; also a context manager."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self.active = True

    @property
    def policy(self) -> str:
        return self._recorder.settings.policy

    @property
    def findings(self) -> list[Finding]:
        """The findings seen while this installation was active, in the order they were first seen (those decided
        with all the evidence, LG201, are decided now)."""
        _settle()
        return list(self._recorder.findings)

    def uninstall(self) -> None:
        """Remove this installation (idempotent); the last one to go restores the original torch functions."""
        global _monitor
        with _lock:
            if not self.active:
                return
            _settle()
            self.active = False
            _handles.remove(self)
            if _monitor is not None:
                _monitor.set_recorders([handle._recorder for handle in _handles])
            if not _handles:
                _monitor_module.set_monitor(None)
                wrap.unpatch()
                _monitor = None

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.uninstall()

    def __repr__(self) -> str:
        state = "active" if self.active else "uninstalled"
        return f"<lossguard.Guard policy={self.policy!r} {state}, {len(self._recorder.findings)} findings>"


def install(
    policy: str = "warn",
    *,
    value_checks: bool = True,
    first_calls: int = 8,
    sample_every: int = 200,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> Guard:
    """Check every loss call from now on, until the returned handle (or `uninstall()`) removes the guard.

    policy: `warn` (a LossGuardWarning at the user's line, once per call site and rule), `raise` (a
    LossGuardError before the loss runs) or `log` (the `lossguard` logger). value_checks: run the sampled
    value checks (the first `first_calls` calls of each call site, then one in `sample_every`; 0 means never
    again); shape, dtype and producer checks run on every call regardless. select/ignore: rule codes or
    prefixes, as on the command line.
    """
    global _monitor
    _check_arguments(policy, value_checks, first_calls, sample_every)
    codes = None
    if select is not None or ignore is not None:
        codes = select_codes(_codes("select", select), _codes("ignore", ignore))
    settings = Settings(policy=policy, value_checks=value_checks, first_calls=first_calls,
                        sample_every=sample_every, select=codes)
    with _lock:
        if _monitor is None:
            _monitor = Monitor()
        handle = Guard(Recorder(settings))
        _handles.append(handle)
        _monitor.set_recorders([h._recorder for h in _handles])
        _monitor_module.set_monitor(_monitor)
        wrap.patch(_monitor_module.check)
    return handle


def _check_arguments(policy: Any, value_checks: Any, first_calls: Any, sample_every: Any) -> None:
    """Wrong arguments are the caller's error, said at once: never an internal error that disables the guard."""
    if not isinstance(policy, str):
        raise TypeError(f"policy must be a string ('warn', 'raise' or 'log'), not {type(policy).__name__}")
    if not isinstance(value_checks, bool):
        raise TypeError(f"value_checks must be True or False, not {value_checks!r}")
    for name, value in (("first_calls", first_calls), ("sample_every", sample_every)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, not {type(value).__name__} ({value!r})")
        if value < 0:
            raise ValueError(f"{name} must be 0 or more, not {value}")


def _codes(name: str, codes: Iterable[str] | None) -> list[str]:
    """A list of rule codes or prefixes; a lone string would be read letter by letter, so it is refused."""
    if codes is None:
        return []
    if isinstance(codes, str):
        raise TypeError(f"{name} must be a list of codes such as [{codes!r}], not a string")
    try:
        listed = list(codes)
    except TypeError:
        raise TypeError(f"{name} must be a list of codes, not {type(codes).__name__}") from None
    for code in listed:
        if not isinstance(code, str):
            raise TypeError(f"{name} must list codes as strings, not {type(code).__name__} ({code!r})")
    return listed


def uninstall() -> None:
    """Remove every active installation and restore the original torch functions."""
    with _lock:
        for handle in reversed(list(_handles)):
            handle.uninstall()


@contextmanager
def guard(policy: str = "warn", **settings: Any) -> Iterator[Guard]:
    """`with lossguard.guard() as g:` checks the loss calls inside the block; `g.findings` lists what it saw."""
    handle = install(policy, **settings)
    try:
        yield handle
    finally:
        handle.uninstall()


def findings() -> list[Finding]:
    """Every finding the runtime guard has recorded in this process, each (location, code) once."""
    _settle()
    return list(ALL_FINDINGS)


def _settle() -> None:
    """Decide the findings that wait for all the evidence of the run (see `Monitor.settle`)."""
    with _lock:
        if _monitor is not None:
            _monitor.settle()
