"""The check run before every wrapped loss call: observe, judge, report, and never get in the way.

Hot path, per call in steady state: a handful of attribute reads (dtype, shape, grad_fn's class), a dict lookup
for the call site, and a dict lookup of the judge's verdict for those facts (the judge runs once per distinct set
of facts). Value checks, which need a host synchronisation, run on the first calls of each call site and then on
every `sample_every`-th call. The call site is the user's frame, found by skipping torch's and the guard's frames
with a per-code-object cache, so a loss module used in two places gets two sites.

Two rules are not decided when the loss is called, because the call alone cannot tell a pitfall from correct code:
- LG201 (float one-hot targets) is decided when the run's findings are read (`guard.findings`, the end of a
  `lossguard run`, `uninstall()`), from every value check of the site: a mixup or cutmix pipeline whose first
  batches happen to be unmixed shows soft targets later, and then nothing is reported. It never stops a run.
- LG401 (a prediction without gradient) is reported when the loss takes part in a backward pass: a hook on the
  loss's output fires then. A metric computed with grad enabled and only logged is never reported.
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
_VERDICT_CACHE_LIMIT = 4096
_SITE_LIMIT = 4096
_Tensor = torch.Tensor
_SIZE_WARNING_LOSSES = report.SIZE_WARNING_LOSSES  # a module global: read on every call
_grad_enabled = torch.is_grad_enabled
_is_functorch_wrapped = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", lambda tensor: False)
_tracing_state = torch._C._get_tracing_state  # not None while torch.jit.trace records
_DEFERRED = frozenset({"LG401"})  # reported from a hook on the loss's output, during backward
# FX GraphModules (torch.compile's graphs run by an eager backend, symbolic_trace output) run generated code
# named like this: a loss called there is part of a compiled or traced program, not the user's line.
_GRAPH_CODE_PREFIX = "<eval_with_key>"


def _compiler_flag() -> Any:
    """`torch.compiler.is_compiling()` without its two Python calls: the flag is held for a whole compilation,
    TorchDynamo's tracing, AOTAutograd's and the backend's included."""
    compiler = torch.compiler
    if hasattr(compiler, "_is_compiling_flag"):
        return compiler
    return None


_COMPILER = _compiler_flag()


@dataclass(frozen=True)
class Settings:
    """How a guard behaves. `first_calls` value-checks the first calls of each call site; then one call in
    `sample_every` (0: never again). `hot_target_evidence` is how many value checks must see one-hot (or
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


@dataclass(frozen=True)
class _Place:
    """Where a finding is reported, kept without the frame (a frame would keep the user's locals alive)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    module: str
    loss_name: str


class _Site:
    """One call site's state; it holds its code object so that the id in its key cannot be reused."""

    __slots__ = ("code", "calls", "graph", "hot_streak", "next_value_check", "soft_seen", "one_hot", "signature",
                 "verdict")

    def __init__(self, code: Any) -> None:
        self.code = code
        # Generated code of an FX graph: the loss runs inside a compiled or traced program; no check applies.
        self.graph = code is not None and code.co_filename.startswith(_GRAPH_CODE_PREFIX)
        self.signature: tuple | None = None  # the metadata of the last call judged without value facts
        self.verdict: tuple = ()
        self.calls = 0
        self.next_value_check = 1  # the number of the call that gets the next sampled value check
        self.hot_streak = 0  # value checks in a row that saw multi-hot targets
        self.soft_seen = False
        # Float one-hot targets: (checks that saw them, where, what was seen), decided by `Monitor.settle`.
        self.one_hot: tuple[int, _Place, str] | None = None


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

    def judge_call(self, contract: LossContract, site: _Site, calls: int, signature: tuple, inp: torch.Tensor,
                   tgt: Any, arguments: tuple, caller: FrameType, where: FrameType | None, settings: Settings) -> Any:
        """The slow path of `check`: a new call site, new metadata, or a sampled value check."""
        grad_enabled = signature[4]
        target_is_tensor = isinstance(tgt, torch.Tensor)
        value_check_due = calls >= site.next_value_check
        if value_check_due:
            site.next_value_check = _next_value_check(calls, settings)
            value_check_due = settings.value_checks
        target_dtype, target_shape = signature[-2:]
        made_by, made_by_name = observe.producer(inp)
        input_kind = made_by if made_by.__class__ is Kind else None
        # LG401 only where no doubt is possible: an integer/bool input (argmax, a comparison) or a zero-gradient op
        # (round, sign). A detached float input is what metrics and logging pass; it is never flagged. It is
        # reported only if the loss then takes part in a backward pass (see `report`).
        no_grad = grad_enabled and (made_by == observe.ZERO_GRAD or (
            not inp.requires_grad and not inp.is_floating_point() and not inp.is_complex()))
        autocast = (target_is_tensor and contract.task is Task.BINARY_PROBABILITIES
                    and self._autocast_hides_dtype(inp, tgt))

        values = None
        target_is_tensor = isinstance(tgt, torch.Tensor)
        if value_check_due and observe.is_value_checkable(inp) and (
                not target_is_tensor or observe.is_value_checkable(tgt)):
            # An opaque producer (a compiled graph, a custom autograd.Function, reentrant checkpointing) proves
            # nothing, like no producer at all: the values decide, with the same strict rules.
            proven_by_graph = inp.grad_fn is not None and made_by != observe.OPAQUE
            values = observe.check_values(contract, inp, tgt, input_kind, proven_by_graph, arguments)
            values = self._weigh_targets(site, values, settings, contract, inp, tgt, made_by_name, caller, where)

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
            return self.report(contract, verdict, inp, tgt, made_by_name, values, caller, where, settings)
        return None

    def set_recorders(self, recorders: list[Recorder]) -> None:
        self.recorders = recorders
        self.settings = recorders[-1].settings if recorders else None

    def _weigh_targets(self, site: _Site, values: observe.ValueFacts, settings: Settings, contract: LossContract,
                       inp: torch.Tensor, tgt: Any, made_by: str | None, caller: FrameType,
                       where: FrameType | None) -> observe.ValueFacts:
        """Keep a multi-hot target verdict only once enough value checks in a row agree on it; keep one-hot
        targets out of the verdict altogether and count them for `settle`, which decides with all the evidence."""
        kind = values.target_kind
        if kind is Kind.SOFT_TARGETS:
            site.soft_seen = True
        if kind is Kind.ONE_HOT:
            if site.one_hot is None:
                seen = _describe("LG201", inp, tgt, made_by, values, report.rank())
                site.one_hot = (0, _place(where, caller, contract), seen)
            site.one_hot = (site.one_hot[0] + 1, *site.one_hot[1:])
            return observe.ValueFacts(values.input_kind, Kind.UNKNOWN, values.index_range, values.detail)
        if kind is Kind.MULTI_HOT:
            site.hot_streak += 1
            if site.soft_seen or site.hot_streak < settings.hot_target_evidence:
                return observe.ValueFacts(values.input_kind, Kind.UNKNOWN, values.index_range, values.detail)
        elif kind is not Kind.UNKNOWN or values.index_range is not None:
            site.hot_streak = 0
        return values

    def settle(self) -> None:
        """Decide LG201 for every call site with all the evidence gathered so far: reported where every value
        check saw float one-hot targets (at least `hot_target_evidence` of them) and none saw a soft target.
        Never raises: a correct run must not be stopped by a finding that changes no result."""
        settings = self.settings
        if settings is None:
            return
        for site in list(self.sites.values()):
            evidence = site.one_hot
            if evidence is None or site.soft_seen or evidence[0] < settings.hot_target_evidence:
                continue
            site.one_hot = None
            _, place, seen = evidence
            try:
                self._publish("LG201", seen, place, settings,
                              "warn" if settings.policy == "raise" else settings.policy)
            except LossGuardWarning:  # `-W error` asked for the finding to be raised
                raise
            except Exception as error:  # read from `findings` or `uninstall()`: the caller's code must go on
                self.internal_error(error)

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

    def report(self, contract: LossContract, verdict: tuple[Violation, ...], inp: torch.Tensor, tgt: Any,
                made_by: str | None, values: observe.ValueFacts | None, caller: FrameType,
                where: FrameType | None, settings: Settings) -> Any:
        """Report the verdict's findings now; return the hook-setter of a finding that waits for backward."""
        rank = report.rank()
        place = _place(where, caller, contract)
        after = None
        for violation in verdict:
            code = violation.code
            if settings.select is not None and code not in settings.select:
                continue
            seen = _describe(code, inp, tgt, made_by, values, rank)
            if code in _DEFERRED:
                after = self._when_backward_reaches(code, seen, place)
                continue
            message = f"{get_rule(code).render(place.loss_name)} ({seen})"
            finding = Finding(code, place.path, place.line, place.column, place.end_line, place.end_column, message)
            top_is_new = self._record(finding, (place.path, place.line, place.column, code))
            text = f"{code} {message}. Fix: {get_rule(code).fix}"
            if settings.policy == "raise":
                raise LossGuardError(f"{place.path}:{place.line}: {text}", place.path, place.line)
            if top_is_new and (rank is None or report.first_on_node(f"{place.path}:{place.line}:{place.column}:{code}")):
                report.emit(settings.policy, code, text, where)
        return after

    def _when_backward_reaches(self, code: str, seen: str, place: _Place) -> Any:
        """A function that hooks the loss's output: the finding is published when a backward pass reaches it."""
        def on_gradient(gradient: torch.Tensor) -> None:
            settings = self.settings
            if settings is None:
                return
            try:
                self._publish(code, seen, place, settings, settings.policy)
            except LossGuardError:
                raise
            except Exception as error:
                self.internal_error(error)

        def call_and_hook(original: Any, args: tuple, kwargs: dict) -> Any:
            output = original(*args, **kwargs)
            try:
                if isinstance(output, torch.Tensor) and output.requires_grad:
                    output.register_hook(on_gradient)
            except Exception as error:
                self.internal_error(error)
            return output
        return call_and_hook

    def _publish(self, code: str, seen: str, place: _Place, settings: Settings, policy: str) -> None:
        """Record and report a finding decided away from its call (no frame): at the place kept for it."""
        if settings.select is not None and code not in settings.select:
            return
        message = f"{get_rule(code).render(place.loss_name)} ({seen})"
        finding = Finding(code, place.path, place.line, place.column, place.end_line, place.end_column, message)
        top_is_new = self._record(finding, (place.path, place.line, place.column, code))
        text = f"{code} {message}. Fix: {get_rule(code).fix}"
        if policy == "raise":
            raise LossGuardError(f"{place.path}:{place.line}: {text}", place.path, place.line)
        if not top_is_new or (report.rank() is not None
                              and not report.first_on_node(f"{place.path}:{place.line}:{place.column}:{code}")):
            return
        if policy == "log":
            report.logger.warning("%s", text)
        else:
            warnings.warn_explicit(text, LossGuardWarning, place.path, place.line, module=place.module)

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


def check(contract: LossContract, arguments: tuple) -> Any:
    """The checker every patched loss calls first, with all its parameters in order: a no-op unless a guard is
    installed, while nothing compiles or traces; never an error of its own. Returns None, or a function the
    loss's output is passed through.

    This is the hot path. Steady state: the same call site seeing tensors with the same metadata as last time
    gets last time's verdict without the producer walk, the verdict key or the judge (a view in front of the
    producer is taken as the same view of the same producer; a call site practically never alternates between
    two)."""
    monitor = _monitor
    if monitor is None or _tracing_state() is not None or (
            _COMPILER._is_compiling_flag if _COMPILER is not None else torch.compiler.is_compiling()):
        return None
    if _dispatching and _thread_id() in _dispatching:
        return None  # called again by a tensor subclass's __torch_function__: the user's call was checked
    try:
        settings = monitor.settings
        if settings is None:
            return None
        inp = arguments[0]
        position = contract.target_position
        tgt = arguments[position] if position is not None else None
        caller = sys._getframe(2)  # the frame that called the loss (1 is the loss's forwarder)
        if inp.__class__ is _Tensor and (tgt.__class__ is _Tensor or not isinstance(tgt, _Tensor)):
            return _check(monitor, settings, contract, arguments, inp, tgt, caller)
        if not isinstance(inp, _Tensor) or inp.__class__ is not _Tensor and _is_functorch_wrapped(inp):
            return None  # not a tensor; inside a torch.func transform
        # A tensor subclass: its __torch_function__ must not see the guard's reads (a handler that logs, counts
        # or refuses what it does not know would see calls the program never made).
        with _torch_function_of_subclasses_disabled():
            after = _check(monitor, settings, contract, arguments, inp, tgt, caller)
        return _through_dispatch(after)
    except (LossGuardError, LossGuardWarning):  # a LossGuardWarning raised: `-W error` asked for the finding so
        raise
    except Exception as error:
        monitor.internal_error(error)
        return None


_torch_function_of_subclasses_disabled = torch._C.DisableTorchFunctionSubclass
_thread_id = threading.get_ident
_dispatching: set[int] = set()  # threads running a loss whose arguments dispatch to __torch_function__


def _through_dispatch(then: Any) -> Any:
    """The follow-up of a call with tensor subclasses: PyTorch hands the call to the subclass's
    `__torch_function__`, which calls the loss again (`super().__torch_function__` does, and so does a handler
    that unwraps its tensors); that inner call is part of the user's call, already checked, and is not checked
    (nor reported at the handler's line) again."""
    def call(original: Any, args: tuple, kwargs: dict) -> Any:
        thread = _thread_id()
        _dispatching.add(thread)
        try:
            return then(original, args, kwargs) if then is not None else original(*args, **kwargs)
        finally:
            _dispatching.discard(thread)
    return call


def _check(monitor: Monitor, settings: Settings, contract: LossContract, arguments: tuple, inp: torch.Tensor,
           tgt: Any, caller: FrameType) -> Any:
    """`check` for a tensor input: the call site, the metadata, the verdict (cached, or judged anew)."""
    if inp.is_nested or tgt.__class__ is _Tensor and tgt.is_nested:
        return None  # a nested tensor has no shape to judge
    where = report.user_frame(caller)
    code = where.f_code if where is not None else None
    site_key = (id(code), where.f_lasti if where is not None else 0)  # by id: hashing code objects is slow
    site = monitor.sites.get(site_key)
    if site is None or site.code is not code:
        if len(monitor.sites) >= _SITE_LIMIT:  # fresh code objects (exec, re-run cells) must not grow it forever
            monitor.sites.clear()
        site = monitor.sites[site_key] = _Site(code)
    if site.graph:
        return None
    calls = site.calls = site.calls + 1
    # An integer input never requires grad and a float one's LG401 depends on its producer only: the dtype
    # and the producer stand for `requires_grad`.
    if tgt.__class__ is _Tensor or isinstance(tgt, _Tensor):
        signature = (contract, inp.grad_fn.__class__, inp.dtype, inp.shape, _grad_enabled(), tgt.dtype,
                     tgt.shape)
    else:
        signature = (contract, inp.grad_fn.__class__, inp.dtype, inp.shape, _grad_enabled(), None, None)
    if calls < site.next_value_check and signature == site.signature:
        verdict = site.verdict
        after = monitor.report(contract, verdict, inp, tgt, observe.producer(inp)[1], None, caller, where,
                               settings) if verdict else None
    else:
        after = monitor.judge_call(contract, site, calls, signature, inp, tgt, arguments, caller, where, settings)
    if contract.functional in _SIZE_WARNING_LOSSES and signature[6] is not None and (
            signature[3] != signature[6]):
        return report.warnings_at(caller, after)  # PyTorch warns about these sizes: at the user's line
    return after


def _next_value_check(calls: int, settings: Settings) -> int | float:
    """After call number `calls`: the next one that is value-checked (the first calls, then every n-th)."""
    if not settings.value_checks:
        return float("inf")
    if calls < settings.first_calls:
        return calls + 1
    every = settings.sample_every
    return (calls // every + 1) * every if every else float("inf")


def set_monitor(monitor: Monitor | None) -> None:
    global _monitor
    _monitor = monitor


def _loss_name(contract: LossContract, caller: FrameType) -> str:
    """The module's name when the call came through its `forward` (torch/nn/modules/loss.py), else the function's."""
    code = caller.f_code
    if code.co_name == "forward" and code.co_filename.endswith(("loss.py",)) and report.is_torch_code(code):
        return contract.module
    return contract.functional


def _place(where: FrameType | None, caller: FrameType, contract: LossContract) -> _Place:
    """Path, line, column, end line, end column (1-based) of the call the user's frame is executing."""
    loss_name = _loss_name(contract, caller)
    if where is None:
        return _Place("<unknown>", 1, 1, 1, 1, "<unknown>", loss_name)
    module = where.f_globals.get("__name__", "<unknown>")
    line = where.f_lineno
    try:
        start, end, column, end_column = list(where.f_code.co_positions())[where.f_lasti // 2]
        if start == line and None not in (end, column, end_column):
            return _Place(where.f_code.co_filename, line, column + 1, end, end_column + 1, module, loss_name)
    except (AttributeError, IndexError, ValueError):  # co_positions is Python >= 3.11
        pass
    return _Place(where.f_code.co_filename, line, 1, line, 1, module, loss_name)


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
    elif code == "LG201":
        text += "; every value check of this call saw one-hot rows, none a soft target"
    elif values is not None and values.detail:
        text += f"; {values.detail}"
    if rank is not None:
        text += f"; rank {rank}"
    return text
