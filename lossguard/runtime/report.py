"""Where a runtime finding is reported, and how: the user's line, the rank, and the policy (warn, raise, log).

Everything here runs only when a loss call breaks a rule, never on the hot path of a clean training step.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import warnings
from types import FrameType
from typing import Any

import torch

import lossguard

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_LOSSGUARD_ENTRY_POINTS = tuple(
    os.path.join(os.path.dirname(os.path.abspath(lossguard.__file__)), name) for name in ("auto.py", "pytest_plugin.py")
)
_internal_code: dict[int, tuple[Any, bool]] = {}  # id(code) -> (code, is torch's or ours)

logger = logging.getLogger("lossguard")


class LossGuardWarning(UserWarning):
    """A loss pitfall seen by the runtime guard (policy `warn`)."""


class LossGuardError(ValueError):
    """A loss pitfall seen by the runtime guard (policy `raise`), raised before the loss runs.

    A ValueError, because the arguments passed to the loss are wrong for it: code that already handles a bad
    argument (or a test expecting `pytest.raises(ValueError)` from PyTorch's own shape check) keeps working.
    """


# Shown as lossguard.LossGuardError in tracebacks and pytest reports: the public name, not where it is defined.
LossGuardWarning.__module__ = LossGuardError.__module__ = "lossguard"


def _classify(code: Any) -> bool:
    """True for code of torch or of the guard itself; cached by id, with the code object kept alive so that its
    id cannot be reused (hashing a code object hashes its whole bytecode: too slow for every loss call)."""
    filename = os.path.abspath(code.co_filename) if code.co_filename[:1] != "<" else code.co_filename
    internal = filename.startswith((_TORCH_DIR, _RUNTIME_DIR)) or filename in _LOSSGUARD_ENTRY_POINTS
    _internal_code[id(code)] = (code, internal)
    return internal


def user_frame(start: FrameType | None = None) -> FrameType | None:
    """The first frame, walking outwards, whose code is neither torch's nor the guard's: the user's line.

    Runs on every loss call (the call site keys the sampling), so the walk is one inlined loop with one dict
    lookup by id per frame.
    """
    frame = start if start is not None else sys._getframe(1)
    internal = _internal_code
    while frame is not None:
        code = frame.f_code
        entry = internal.get(id(code))
        flag = entry[1] if entry is not None and entry[0] is code else _classify(code)
        if not flag:
            return frame
        frame = frame.f_back
    return None


def rank() -> int | None:
    """This process's rank in a distributed job, without any collective: from torch.distributed, else the env."""
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank()
    except Exception:  # a half-initialised process group is not our concern here
        pass
    for name in ("RANK", "LOCAL_RANK"):
        value = os.environ.get(name)
        if value is not None and value.lstrip("-").isdigit():
            return int(value)
    return None


def _job_key() -> str:
    """Identifies the processes of one job on one node: they share a parent (torchrun's agent, mp.spawn's parent).

    The parent's start time guards against a reused pid; the run id and master port against unrelated jobs.
    """
    parent = os.getppid()
    started = ""
    try:
        with open(f"/proc/{parent}/stat", "rb") as stat:
            started = stat.read().rsplit(b")", 1)[-1].split()[19].decode()
    except (OSError, IndexError):
        pass
    parts = (str(parent), started, os.environ.get("TORCHELASTIC_RUN_ID", ""), os.environ.get("MASTER_PORT", ""))
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def first_on_node(key: str) -> bool:
    """True for the first process of this job on this node to report `key`: a marker file, created atomically.

    This is how a finding that every rank sees is printed once per node, without a collective (the guard must
    never make ranks wait for each other). Any filesystem problem means "print it": a duplicate beats a miss.
    """
    folder = os.path.join(tempfile.gettempdir(), f"lossguard-{os.getuid() if hasattr(os, 'getuid') else 0}",
                          _job_key())
    marker = os.path.join(folder, hashlib.sha1(key.encode()).hexdigest()[:20])
    try:
        os.makedirs(folder, exist_ok=True)
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    except OSError:
        return True
    return True


def emit(policy: str, code: str, text: str, frame: FrameType | None) -> None:
    """Report one finding at the user's frame according to `policy` (`raise` is handled by the caller)."""
    if policy == "log":
        logger.warning("%s", text)
        return
    if frame is None:
        warnings.warn(text, LossGuardWarning, stacklevel=2)
        return
    globals_ = frame.f_globals
    warnings.warn_explicit(
        text, LossGuardWarning, frame.f_code.co_filename, frame.f_lineno,
        module=globals_.get("__name__", "<unknown>"),
    )


def is_torch_code(code: object) -> bool:
    """True for code objects that live in the installed torch package."""
    filename = getattr(code, "co_filename", "")
    return os.path.abspath(filename).startswith(_TORCH_DIR)
