"""Where a runtime finding is reported, and how: the user's line, the rank, and the policy (warn, raise, log).

Also what a finding leaves outside the process: the node-level markers that print a finding once per node, and
the run folder where worker processes of a `lossguard run` write theirs. Apart from `user_frame`, nothing here runs
on a clean training step.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from types import FrameType
from typing import Any, Iterator

import torch

import lossguard
from lossguard.findings import Finding

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_LOSSGUARD_ENTRY_POINTS = tuple(
    os.path.join(os.path.dirname(os.path.abspath(lossguard.__file__)), name) for name in ("auto.py", "pytest_plugin.py")
)
_internal_code: dict[int, tuple[Any, bool]] = {}  # id(code) -> (code, is torch's or ours)
# A program that makes fresh code objects (exec, notebooks re-running cells) would otherwise grow the cache without
# end; refilling it costs one classification per code object.
_INTERNAL_CODE_LIMIT = 4096

logger = logging.getLogger("lossguard")


class LossGuardWarning(UserWarning):
    """A loss pitfall seen by the runtime guard (policy `warn`)."""


class LossGuardError(ValueError):
    """A loss pitfall seen by the runtime guard (policy `raise`), raised before the loss runs.

    A ValueError, because the arguments passed to the loss are wrong for it: code that already handles a bad
    argument (or a test expecting `pytest.raises(ValueError)` from PyTorch's own shape check) keeps working.
    `path` and `line` are the user's call (the pytest plugin ends a failing test's traceback there).
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


# Shown as lossguard.LossGuardError in tracebacks and pytest reports: the public name, not where it is defined.
LossGuardWarning.__module__ = LossGuardError.__module__ = "lossguard"


def _classify(code: Any) -> bool:
    """True for code of torch or of the guard itself; cached by id, with the code object kept alive so that its
    id cannot be reused (hashing a code object hashes its whole bytecode: too slow for every loss call)."""
    filename = os.path.abspath(code.co_filename) if code.co_filename[:1] != "<" else code.co_filename
    internal = filename.startswith((_TORCH_DIR, _RUNTIME_DIR)) or filename in _LOSSGUARD_ENTRY_POINTS
    if len(_internal_code) >= _INTERNAL_CODE_LIMIT:
        _internal_code.clear()
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
    parts = (_process_stamp(os.getppid()), os.environ.get("TORCHELASTIC_RUN_ID", ""),
             os.environ.get("MASTER_PORT", ""))
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def job_folder() -> str:
    """The folder of this job's node-level files (markers, the workers' findings for the node's summary)."""
    return os.path.join(tempfile.gettempdir(), f"lossguard-{os.getuid() if hasattr(os, 'getuid') else 0}", _job_key())


_created_markers: list[str] = []  # removed when this process exits
_UNWRITTEN_MARKER_AGE = 60.0  # seconds: an empty marker older than this was left by a process that died


def _process_stamp(pid: int) -> str:
    """`pid start-time`: names a live process; a pid reused by another process gets another stamp."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return f"{pid} {stat.read().rsplit(b')', 1)[-1].split()[19].decode()}"
    except (OSError, IndexError):
        return str(pid)


def _stamp_of(marker: str) -> str | None:
    """What a marker says about its creator (`pid start-time`); None when it cannot be read."""
    try:
        with open(marker, encoding="ascii") as handle:
            return handle.read().strip()
    except (OSError, ValueError):
        return None


def _is_stale(marker: str) -> bool:
    """True when the process that created `marker` is gone (killed, or a forked child that skipped atexit)."""
    stamp = _stamp_of(marker)
    if stamp is None:
        return False
    if not stamp:  # being written, unless its writer died right after creating it
        try:
            return time.time() - os.path.getmtime(marker) > _UNWRITTEN_MARKER_AGE
        except OSError:
            return False
    pid = stamp.split(" ", 1)[0]
    if not pid.isdigit():
        return False
    if stamp != pid:
        return _process_stamp(int(pid)) != stamp
    try:  # no start time where there is no /proc: is the process alive at all?
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        pass
    return False


def _claim(marker: str) -> None:
    """Create `marker` with this process's stamp; FileExistsError if it exists (an empty one is being written)."""
    descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(_process_stamp(os.getpid()))


def first_on_node(key: str) -> bool:
    """True for the first process of this job on this node to report `key`: a marker file, created atomically.

    This is how a finding that every rank sees is printed once per node, without a collective (the guard must
    never make ranks wait for each other). Markers belong to one run: each process removes its own at exit, and a
    marker whose creator is gone is taken over, so a second run from the same shell reports again. Any filesystem
    problem means "print it": a duplicate beats a miss.
    """
    folder = job_folder()
    marker = os.path.join(folder, hashlib.sha1(key.encode()).hexdigest()[:20])
    try:
        os.makedirs(folder, exist_ok=True)
        try:
            _claim(marker)
        except FileExistsError:
            if not _is_stale(marker):
                return False
            os.unlink(marker)
            _claim(marker)
    except FileExistsError:
        return False
    except OSError:
        return True
    if not _created_markers:
        atexit.register(remove_markers)
    _created_markers.append(marker)
    return True


def remove_markers() -> None:
    """Remove the markers this process created, then the job's folder if nothing else is left in it."""
    while _created_markers:
        marker = _created_markers.pop()
        try:
            if _stamp_of(marker) == _process_stamp(os.getpid()):  # not one a forked child inherited the name of
                os.unlink(marker)
        except OSError:
            pass
        _remove_empty_folders(os.path.dirname(marker))


def _remove_empty_folders(folder: str) -> None:
    for empty in (folder, os.path.dirname(folder)):
        try:
            os.rmdir(empty)
        except OSError:
            return


# Set by `lossguard run` for the program it runs: a folder where its worker processes (forked, or started by
# torch.multiprocessing) write what they find, so that the summary and `--strict` count it.
RUN_FOLDER_VARIABLE = "LOSSGUARD_RUN_FOLDER"
RUN_PID_VARIABLE = "LOSSGUARD_RUN_PID"


def share_finding(finding: Finding) -> None:
    """In a worker process of a `lossguard run`, append a new finding to the run's folder (one file per process).

    Runs once per finding and process, never on the hot path; a filesystem problem only loses the sharing.
    """
    folder = os.environ.get(RUN_FOLDER_VARIABLE)
    if not folder or os.environ.get(RUN_PID_VARIABLE) == str(os.getpid()):
        return
    record = {name: getattr(finding, name) for name in SHARED_FIELDS}
    try:
        with open(os.path.join(folder, f"{os.getpid()}.jsonl"), "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    except OSError:
        pass


SHARED_FIELDS = ("code", "path", "line", "column", "end_line", "end_column", "message")


def read_findings(folder: str) -> list[Finding]:
    """The findings written into `folder` by `share_finding` (or as JSON lines of the same fields)."""
    found: list[Finding] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return found
    for name in names:
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                record = json.loads(line)
                found.append(Finding(**{field: record[field] for field in SHARED_FIELDS}))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a worker that died while writing it
    return found


def emit(policy: str, code: str, text: str, frame: FrameType | None) -> None:
    """Report one finding at the user's frame according to `policy` (`raise` is handled by the caller)."""
    if policy == "log":
        _log_at(frame, text)
        return
    if frame is None:
        warnings.warn(text, LossGuardWarning, stacklevel=2)
        return
    globals_ = frame.f_globals
    warnings.warn_explicit(
        text, LossGuardWarning, frame.f_code.co_filename, frame.f_lineno,
        module=globals_.get("__name__", "<unknown>"),
    )


def _log_at(frame: FrameType | None, text: str) -> None:
    """A WARNING record on the `lossguard` logger whose file, line and function are the user's call."""
    if not logger.isEnabledFor(logging.WARNING):
        return
    if frame is None:
        logger.warning("%s", text)
        return
    code = frame.f_code
    record = logger.makeRecord(logger.name, logging.WARNING, code.co_filename, frame.f_lineno, "%s", (text,), None,
                               func=code.co_name)
    logger.handle(record)


def is_torch_code(code: object) -> bool:
    """True for code objects that live in the installed torch package."""
    filename = getattr(code, "co_filename", "")
    return os.path.abspath(filename).startswith(_TORCH_DIR)




# PyTorch's functional losses that warn, with stacklevel=2, when the target's size differs from the input's: the
# warning names the function's caller, which is the guard's frame while the guard is installed.
SIZE_WARNING_LOSSES = frozenset({"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"})
_registries: dict[str, dict] = {}  # "default" warnings shown once per location, for files whose globals we lack


@contextmanager
def _every_warning_recorded() -> Iterator[list[warnings.WarningMessage]]:
    """`warnings.catch_warnings(record=True)` with the "always" filter, without telling the warnings module that
    its filters changed: that resets every "once per location" registry of the process, so that each warning the
    program had been shown once (PyTorch's size warning here first) was shown again after every such call."""
    module = warnings
    saved = module.filters, module.showwarning, module._showwarnmsg_impl  # type: ignore[attr-defined]
    caught: list[warnings.WarningMessage] = []
    module.filters = [("always", None, Warning, None, 0)]  # type: ignore[attr-defined]
    module.showwarning = module._showwarning_orig  # type: ignore[attr-defined]
    module._showwarnmsg_impl = caught.append  # type: ignore[attr-defined]
    try:
        yield caught
    finally:
        module.filters, module.showwarning, module._showwarnmsg_impl = saved  # type: ignore[attr-defined]


def warnings_at(caller: FrameType, then: Any) -> Any:
    """What a patched loss calls instead of PyTorch's function (see wrap.py) when PyTorch will warn about the
    arguments: the call (through `then`, the check's own follow-up, if any), with the warnings that name the
    guard's frames moved to `caller`, the line PyTorch would name without the guard, through that frame's filters
    and registry. Only such calls come here: recording warnings is process-wide, and costs a few microseconds.
    Under `-W error` the warning is raised from here, after the loss was computed: the program stops at the same
    call with the same exception as without the guard."""
    def call(original: Any, args: tuple, kwargs: dict) -> Any:
        with _every_warning_recorded() as caught:
            result = then(original, args, kwargs) if then is not None else original(*args, **kwargs)
        for warning in caught:
            if os.path.abspath(warning.filename).startswith(_RUNTIME_DIR):  # named the guard, not the user
                globals_ = caller.f_globals
                warnings.warn_explicit(warning.message, warning.category, caller.f_code.co_filename,
                                       caller.f_lineno, module=globals_.get("__name__", "<unknown>"),
                                       registry=globals_.setdefault("__warningregistry__", {}))
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno,
                                       registry=_registries.setdefault(warning.filename, {}))
        return result
    return call
