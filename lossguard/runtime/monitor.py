"""The check run before every wrapped loss call: observe, judge, report, and never get in the way.

Hot path, per call in steady state: a handful of attribute reads (dtype, shape, grad_fn's class), a dict lookup
for the call site, and a dict lookup of the judge's verdict for those facts (the judge runs once per distinct set
of facts). Value checks, which need a host synchronisation, run on the first calls of each call site and then on
every `sample_every`-th call. The call site is the user's frame, found by skipping torch's and the guard's frames
with a per-code-object cache, so a loss module used in two places gets two sites.
"""

from __future__ import annotations

import sys
import threading
import warnings
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import torch

from lossguard.contracts import Kind, LossContract, Task
from lossguard.findings import Finding
from lossguard.judge import Observed, Violation, judge
from lossguard.rules import get_rule
from lossguard.runtime import observe, report
from lossguard.runtime.report import LossGuardError, LossGuardWarning

POLICIES = ("warn", "raise", "log")
_HOT_TARGETS = (Kind.ONE_HOT, Kind.MULTI_HOT)
_VERDICT_CACHE_LIMIT = 4096
_SITE_LIMIT = 4096
_is_functorch_wrapped = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", lambda tensor: False)
_is_compiling = torch.compiler.is_compiling


@dataclass(frozen=True)
class Settings:
    """How a guard behaves. `first_calls` value-checks the first calls of each call site; then one call in
    `sample_every` (0: never again). `hot_target_evidence` is how many value checks in a row must see one-hot (or
    multi-hot) targets, and no soft target ever, before a site is reported: a mixup pipeline that leaves some
    batches unmixed must not be flagged."""

    policy: str = "warn"
    value_checks: bool = True
    first_calls: int = 8
    sample_every: int = 200
    hot_target_evidence: int = 3
    select: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {self.policy!r}")


@dataclass
class Recorder:
    """One active installation: its settings and the findings seen while it was active (each once)."""

    settings: Settings
    findings: list[Finding] = field(default_factory=list)
    seen: set[tuple[str, int, int, str]] = field(default_factory=set)


class _Site:
    """One call site's state; it holds its code object so that the id in its key cannot be reused."""

    __slots__ = ("code", "calls", "hot_streak", "soft_seen", "signature", "verdict")

    def __init__(self, code: Any) -> None:
        self.code = code
        self.signature: tuple | None = None  # the metadata of the last call judged without value facts
        self.verdict: tuple = ()
        self.calls = 0
        self.hot_streak = 0
        self.soft_seen = False


class Monitor:
    """The state shared by all active installations: call sites, cached verdicts, what was reported."""

    def __init__(self) -> None:
        self.recorders: list[Recorder] = []
        self.settings: Settings | None = None  # the innermost recorder's, None when none is active
        self.sites: dict[tuple[int, int], _Site] = {}
        self.verdicts: dict[tuple, tuple[Violation, ...]] = {}
        self.reported = _ALL_FINDING_KEYS  # process-wide, as ALL_FINDINGS: not one duplicate per install cycle
        self.internal_errors = 0
        self.lock = threading.Lock()

    def check(self, contract: LossContract, args: tuple, kwargs: dict, caller: FrameType) -> None:
        settings = self.settings
        if settings is None:
            return
        inp = args[0] if args else kwargs.get(contract.input_keyword)
        if not isinstance(inp, torch.Tensor) or _is_functorch_wrapped(inp):
            return
        position = contract.target_position
        if position is None:
            tgt = None
        else:
            tgt = args[position] if len(args) > position else kwargs.get(contract.target_keyword)
        where = report.user_frame(caller)
        code = where.f_code if where is not None else None
        site_key = (id(code), where.f_lasti if where is not None else 0)  # by id: hashing code objects is slow
        site = self.sites.get(site_key)
        if site is None or site.code is not code:
            if len(self.sites) >= _SITE_LIMIT:  # fresh code objects (exec, re-run cells) must not grow it forever
                self.sites.clear()
            site = self.sites[site_key] = _Site(code)
        calls = site.calls = site.calls + 1
        grad_enabled = torch.is_grad_enabled()
        target_is_tensor = isinstance(tgt, torch.Tensor)
        target_dtype = tgt.dtype if target_is_tensor else None
        target_shape = tgt.shape if target_is_tensor else None
        value_check_due = settings.value_checks and (calls <= settings.first_calls or (
            settings.sample_every and calls % settings.sample_every == 0))

        # Steady state: the same call site seeing tensors with the same metadata as last time gets last time's
        # verdict without the producer walk, the verdict key or the judge. (A view in front of the producer is
        # taken as the same view of the same producer; a call site practically never alternates between two.)
        signature = (contract, inp.grad_fn.__class__, inp.dtype, inp.shape, inp.requires_grad, grad_enabled,
                     target_dtype, target_shape)
        if not value_check_due and signature == site.signature:
            verdict = site.verdict
            if verdict:
                self._report(contract, verdict, inp, tgt, observe.producer(inp)[1], None, caller, where, settings)
            return

        made_by, made_by_name = observe.producer(inp)
        input_kind = made_by if made_by.__class__ is Kind else None
        # LG401 only where no doubt is possible: an integer/bool input (argmax, a comparison) or a zero-gradient op
        # (round, sign). A detached float input is what metrics and logging pass; it is never flagged.
        no_grad = grad_enabled and (made_by == "zero-grad" or (
            not inp.requires_grad and not inp.is_floating_point() and not inp.is_complex()))
        autocast = (target_is_tensor and contract.task is Task.BINARY_PROBABILITIES
                    and self._autocast_hides_dtype(inp, tgt))

        values = None
        if value_check_due and observe.is_value_checkable(inp) and (
                not target_is_tensor or observe.is_value_checkable(tgt)):
            values = observe.check_values(contract, inp, tgt, input_kind, inp.grad_fn is not None, args, kwargs)
            values = self._weigh_targets(site, values, settings)

        key = (contract.functional, inp.dtype, inp.shape, input_kind, no_grad, grad_enabled, target_dtype, target_shape,
               values, autocast)
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self._judge(contract, inp, tgt, input_kind, no_grad, grad_enabled, values, autocast)
            if len(self.verdicts) >= _VERDICT_CACHE_LIMIT:
                self.verdicts.clear()
            self.verdicts[key] = verdict
        if values is None and not autocast:
            site.signature, site.verdict = signature, verdict
        if verdict:
            self._report(contract, verdict, inp, tgt, made_by_name, values, caller, where, settings)

    def set_recorders(self, recorders: list[Recorder]) -> None:
        self.recorders = recorders
        self.settings = recorders[-1].settings if recorders else None

    def _weigh_targets(self, site: _Site, values: observe.ValueFacts, settings: Settings) -> observe.ValueFacts:
        """Keep a one-hot/multi-hot target verdict only once enough value checks in a row agree on it."""
        if values.target_kind is Kind.SOFT_TARGETS:
            site.soft_seen = True
        if values.target_kind in _HOT_TARGETS:
            site.hot_streak += 1
            if site.soft_seen or site.hot_streak < settings.hot_target_evidence:
                return observe.ValueFacts(values.input_kind, Kind.UNKNOWN, values.index_range, values.detail)
        elif values.target_kind is not Kind.UNKNOWN or values.index_range is not None:
            site.hot_streak = 0
        return values

    @staticmethod
    def _autocast_hides_dtype(inp: torch.Tensor, tgt: torch.Tensor) -> bool:
        """Under autocast, binary_cross_entropy runs in float32 whatever the input's dtype: no dtype mismatch."""
        return inp.dtype != tgt.dtype and torch.is_autocast_enabled(inp.device.type)

    @staticmethod
    def _judge(contract: LossContract, inp: torch.Tensor, tgt: Any, input_kind: Kind | None, no_grad: bool,
               grad_enabled: bool, values: observe.ValueFacts | None, autocast: bool) -> tuple[Violation, ...]:
        target_is_tensor = isinstance(tgt, torch.Tensor)
        kind = input_kind or (values.input_kind if values else Kind.UNKNOWN)
        seen = Observed(
            input_kind=kind,
            target_kind=values.target_kind if values else Kind.UNKNOWN,
            input_dtype=None if autocast else observe.dtype_name(inp.dtype),
            target_dtype=observe.dtype_name(tgt.dtype) if target_is_tensor else None,
            input_shape=tuple(inp.shape),
            target_shape=tuple(tgt.shape) if target_is_tensor else None,
            input_requires_grad=False if no_grad else None,
            grad_enabled=grad_enabled,
            class_index_range=values.index_range if values else None,
        )
        return tuple(judge(contract, seen))

    def _report(self, contract: LossContract, verdict: tuple[Violation, ...], inp: torch.Tensor, tgt: Any,
                made_by: str | None, values: observe.ValueFacts | None, caller: FrameType,
                where: FrameType | None, settings: Settings) -> None:
        loss_name = _loss_name(contract, caller)
        path, line, column, end_line, end_column = _location(where)
        rank = report.rank()
        for violation in verdict:
            if settings.select is not None and violation.code not in settings.select:
                continue
            seen = _describe(violation.code, inp, tgt, made_by, values, rank)
            message = f"{get_rule(violation.code).render(loss_name)} ({seen})"
            finding = Finding(violation.code, path, line, column, end_line, end_column, message)
            key = (path, line, column, violation.code)
            top_is_new = self._record(finding, key)
            text = f"{violation.code} {message}. Fix: {get_rule(violation.code).fix}"
            if settings.policy == "raise":
                raise LossGuardError(f"{path}:{line}: {text}", path, line)
            if top_is_new and (rank is None or report.first_on_node(f"{path}:{line}:{column}:{violation.code}")):
                report.emit(settings.policy, violation.code, text, where)

    def _record(self, finding: Finding, key: tuple[str, int, int, str]) -> bool:
        """Add the finding to every active recorder that has not seen it; True if the innermost one had not."""
        with self.lock:
            if key not in self.reported:
                self.reported.add(key)
                ALL_FINDINGS.append(finding)
                report.share_finding(finding)
            new_to_top = False
            for index, recorder in enumerate(self.recorders):
                if key not in recorder.seen:
                    recorder.seen.add(key)
                    recorder.findings.append(finding)
                    new_to_top = index == len(self.recorders) - 1
            return new_to_top

    def internal_error(self, error: BaseException) -> None:
        """An error of the guard itself: one warning per monitor, then silence; the loss still runs normally."""
        self.internal_errors += 1
        if self.internal_errors == 1:
            text = (f"lossguard: internal error in the runtime guard ({type(error).__name__}: {error}); the loss was "
                    "computed normally and training goes on. Further internal errors are not reported.")
            try:
                warnings.warn(text, LossGuardWarning, stacklevel=4)
            except Warning:  # `-W error`: the guard's own bug must still not stop training
                print(text, file=sys.stderr)


ALL_FINDINGS: list[Finding] = []  # every finding recorded since import, each (path, line, column, code) once
_ALL_FINDING_KEYS: set[tuple[str, int, int, str]] = set()
_monitor: Monitor | None = None


def check(contract: LossContract, args: tuple, kwargs: dict) -> None:
    """The checker every wrapper calls: a no-op unless a guard is installed, and never an error of its own."""
    monitor = _monitor
    if monitor is None or _is_compiling():
        return
    try:
        monitor.check(contract, args, kwargs, sys._getframe(2))
    except (LossGuardError, LossGuardWarning):  # a LossGuardWarning raised: `-W error` asked for the finding so
        raise
    except Exception as error:
        monitor.internal_error(error)


def set_monitor(monitor: Monitor | None) -> None:
    global _monitor
    _monitor = monitor


def _loss_name(contract: LossContract, caller: FrameType) -> str:
    """The module's name when the call came through its `forward` (torch/nn/modules/loss.py), else the function's."""
    code = caller.f_code
    if code.co_name == "forward" and code.co_filename.endswith(("loss.py",)) and report.is_torch_code(code):
        return contract.module
    return contract.functional


def _location(frame: FrameType | None) -> tuple[str, int, int, int, int]:
    """Path, line, column, end line, end column (1-based) of the call the frame is executing."""
    if frame is None:
        return "<unknown>", 1, 1, 1, 1
    line = frame.f_lineno
    try:
        start, end, column, end_column = list(frame.f_code.co_positions())[frame.f_lasti // 2]
        if start == line and None not in (end, column, end_column):
            return frame.f_code.co_filename, line, column + 1, end, end_column + 1
    except (AttributeError, IndexError, ValueError):  # co_positions is Python >= 3.11
        pass
    return frame.f_code.co_filename, line, 1, line, 1


def _shape(tensor: torch.Tensor) -> str:
    return str(tuple(tensor.shape))


def _describe(code: str, inp: torch.Tensor, tgt: Any, made_by: str | None, values: observe.ValueFacts | None,
              rank: int | None) -> str:
    """What was seen, for the message: dtypes and shapes, the producer, and what a value check found."""
    parts = [f"input {observe.dtype_name(inp.dtype)} {_shape(inp)}" + (f" from {made_by}" if made_by else "")]
    if isinstance(tgt, torch.Tensor):
        parts.append(f"target {observe.dtype_name(tgt.dtype)} {_shape(tgt)}")
    text = ", ".join(parts)
    if code == "LG204" and values is not None and values.index_range is not None:
        classes = inp.shape[1] if inp.ndim >= 2 else inp.shape[0]
        text += f"; class indices span {list(values.index_range)} for {classes} classes"
    elif code == "LG401" and not inp.is_floating_point():
        text += "; an integer tensor has no gradient"
    elif values is not None and values.detail:
        text += f"; {values.detail}"
    if rank is not None:
        text += f"; rank {rank}"
    return text
