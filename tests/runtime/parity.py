"""Run one loss call with and without the guard and say how the two differ (None when they do not).

The guard must never change what a loss does: the outputs and the gradients are compared bit for bit (dtype, shape,
NaN positions and payloads included), and where PyTorch raises, the same exception type and message must reach the
user. The guard must not say anything of its own either, apart from its findings: an internal error of the guard
(which it turns into a warning) and any warning the call did not give without the guard are differences too.

Used by tests/runtime/test_parity.py (OpInfo samples and hypothesis-generated calls, bounded) and by
bench/runtime_parity.py (the long run by hand). `python -m tests.runtime.parity` runs PyTorch's OpInfo samples in
a process of their own (importing torch's internal test suite changes global flags) and prints what it covered.
"""

from __future__ import annotations

import json
import sys
import traceback
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch
import torch.nn as nn

import lossguard
from lossguard.runtime import monitor, wrap
from lossguard.runtime.report import LossGuardWarning

PARITY_DTYPES = (torch.float32, torch.float64, torch.bfloat16)
# Every call is value-checked (the sampled checks are where the guard reads the tensors), under policy warn.
GUARD_SETTINGS = {"policy": "warn", "first_calls": 1, "sample_every": 1}
_BITS = {8: torch.int64, 4: torch.int32, 2: torch.int16, 1: torch.int8}


@dataclass(frozen=True)
class Raised:
    """PyTorch raised: where (the call or its backward), the type and the message the user sees."""

    stage: str
    type: type
    message: str


@dataclass
class Outcome:
    """What one call gave: its output and the gradients of every leaf that requires grad, or what it raised; the
    warnings other than the guard's findings; the guard's internal errors."""

    result: Any
    warnings: list[tuple[type, str]]
    internal_errors: list[str]
    findings: list[str]


def same_bits(a: Any, b: Any) -> bool:
    """Tensors with the same dtype, shape, layout and bits (NaN payloads too); other values equal."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return False
        if (a.dtype, a.shape, a.layout, a.device) != (b.dtype, b.shape, b.layout, b.device):
            return False
        if a.device.type == "meta":
            return True
        if a.layout is not torch.strided:
            a, b = a.to_dense(), b.to_dense()
        a, b = a.detach(), b.detach()
        if a.is_complex():
            a, b = torch.view_as_real(a), torch.view_as_real(b)
        if a.is_floating_point():
            bits = _BITS[a.element_size()]
            a, b = a.contiguous().view(bits), b.contiguous().view(bits)
        return torch.equal(a, b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same_bits(x, y) for x, y in zip(a, b))
    return a == b


def _leaves(value: Any) -> list[torch.Tensor]:
    """The tensors among the call's arguments whose gradients are compared."""
    if isinstance(value, torch.Tensor):
        return [value] if value.requires_grad and value.is_leaf else []
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return []


def _run(call: Callable[[], Any], arguments: Any) -> Any:
    """The output and the gradients (a fixed output gradient), or where and what PyTorch raised."""
    try:
        output = call()
    except Exception as error:
        return Raised("call", type(error), str(error))
    leaves = _leaves(arguments)
    if not (isinstance(output, torch.Tensor) and output.requires_grad and leaves):
        return output, None
    try:
        gradients = torch.autograd.grad(output, leaves, torch.ones_like(output), allow_unused=True)
    except Exception as error:
        return Raised("backward", type(error), str(error))
    return output, gradients


@contextmanager
def recorded_internal_errors() -> Iterator[list[str]]:
    """Every internal error of the guard (each one, not only the first, which the guard warns about), with its
    traceback."""
    errors: list[str] = []
    original = monitor.Monitor.internal_error

    def record(self: monitor.Monitor, error: BaseException) -> None:
        errors.append("".join(traceback.format_exception(error)))
        original(self, error)

    monitor.Monitor.internal_error = record  # type: ignore[method-assign]
    try:
        yield errors
    finally:
        monitor.Monitor.internal_error = original  # type: ignore[method-assign]


def outcome(call: Callable[[], Any], arguments: Any, guarded: bool) -> Outcome:
    with warnings.catch_warnings(record=True) as caught, recorded_internal_errors() as errors:
        warnings.simplefilter("always")
        if guarded:
            with lossguard.guard(**GUARD_SETTINGS):
                result = _run(call, arguments)
        else:
            result = _run(call, arguments)
    said = [(w.category, str(w.message)) for w in caught if not issubclass(w.category, LossGuardWarning)]
    findings = [str(w.message) for w in caught if issubclass(w.category, LossGuardWarning)
                and not str(w.message).startswith("lossguard: internal error")]
    return Outcome(result, said, errors, findings)


def difference(call: Callable[[], Any], arguments: Any, values_defined: bool = True,
               tally: Counter | None = None) -> str | None:
    """How the call differs with the guard from without it; None when it does not. `values_defined=False`: PyTorch
    gives no defined value for this call (see `values_defined`), so only the output's dtype and shape count.
    `tally` counts what PyTorch did without the guard (returned, raised in the call or in the backward) and the
    guard's findings."""
    plain = outcome(call, arguments, guarded=False)
    guarded = outcome(call, arguments, guarded=True)
    if tally is not None:
        tally[f"raised in the {plain.result.stage}" if isinstance(plain.result, Raised) else "returned"] += 1
        tally["with a finding of the guard"] += bool(guarded.findings)
    if guarded.internal_errors:
        return "internal error of the guard:\n" + guarded.internal_errors[0]
    # PyTorch warns some things once per process: only a warning the plain call did not give is the guard's.
    extra = [w for w in guarded.warnings if w not in plain.warnings]
    if extra:
        return f"a warning only with the guard: {extra[0][0].__name__}: {extra[0][1]}"
    a, b = plain.result, guarded.result
    if isinstance(a, Raised) or isinstance(b, Raised):
        return None if a == b else f"without the guard: {_describe(a)}; with it: {_describe(b)}"
    if not values_defined:
        a, b = _as_meta(a), _as_meta(b)
    if not same_bits(a[0], b[0]):
        return f"outputs differ: {_describe(a[0])} vs {_describe(b[0])}"
    if not same_bits(a[1], b[1]):
        return "gradients differ"
    return None


# torch 2.13 returns uninitialised memory for these losses over an empty batch (reduction mean or sum): the value
# changes from one call to the next, with or without the guard.
_UNDEFINED_ON_EMPTY_BATCH = frozenset({"multi_margin_loss", "multilabel_margin_loss"})


def values_defined(loss: str, inputs: tuple) -> bool:
    """False for the calls whose output PyTorch leaves undefined."""
    first = inputs[0] if inputs else None
    return not (loss in _UNDEFINED_ON_EMPTY_BATCH and isinstance(first, torch.Tensor) and first.numel() == 0)


def _as_meta(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().to("meta")
    if isinstance(value, (tuple, list)):
        return type(value)(_as_meta(item) for item in value)
    return value


def _describe(value: Any) -> str:
    if isinstance(value, Raised):
        return f"{value.type.__name__} in the {value.stage}: {value.message[:300]}"
    if isinstance(value, torch.Tensor):
        return f"{value.dtype} {tuple(value.shape)} {value.detach().flatten()[:6].tolist()}"
    return "a result" if value is not None else "None"


def loss_module(contract: Any, options: dict) -> nn.Module | None:
    """The module form of a functional call's keywords, `nn.<Loss>(**options)`; None where the module does not
    take them."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # size_average and reduce are deprecated
            return getattr(nn, contract.module)(**options)
    except (TypeError, ValueError):  # an option the module does not have, or refuses (TripletMarginLoss, margin 0)
        return None


# -------------------------------------------------------------------------------- PyTorch's OpInfo samples
def opinfo_parity(dtypes: tuple[torch.dtype, ...] = PARITY_DTYPES) -> dict:
    """Every OpInfo sample (and error input) of every wrapped loss on the CPU, functional and module form, with and
    without the guard: {"covered": {loss: {form: count}}, "outcomes": {what PyTorch did: count}, "failures":
    [text]}."""
    from torch.testing._internal.common_methods_invocations import op_db

    contracts = {c.functional: c for c in wrap.wrapped_contracts()}
    covered: dict[str, dict[str, int]] = {name: {"functional": 0, "module": 0, "error inputs": 0}
                                          for name in contracts}
    failures: list[str] = []
    outcomes: Counter = Counter()

    def check(name: str, form: str, call: Callable[[], Any], arguments: Any, what: str) -> None:
        found = difference(call, arguments, values_defined(name, arguments[0]), outcomes)
        covered[name][form] += 1
        if found is not None:
            failures.append(f"{name} {form} {what}: {found}")

    for op in op_db:
        name = op.name.removeprefix("nn.functional.")
        if not op.name.startswith("nn.functional.") or name not in contracts:
            continue
        function = getattr(torch.nn.functional, name)
        supported = op.supported_dtypes("cpu")
        for dtype in (d for d in dtypes if d in supported):
            for number, sample in enumerate(op.sample_inputs("cpu", dtype, requires_grad=op.supports_autograd)):
                inputs, options = (sample.input, *sample.args), dict(sample.kwargs)
                arguments = (inputs, options)
                what = f"{dtype} sample {number} {sample.summary() if hasattr(sample, 'summary') else ''}"[:200]
                check(name, "functional", lambda: function(*inputs, **options), arguments, what)
                module = loss_module(contracts[name], options)
                if module is not None:
                    check(name, "module", lambda: module(*inputs), arguments, what)
        if op.error_inputs_func is not None:
            for number, error in enumerate(op.error_inputs("cpu")):
                sample = error.sample_input
                inputs, options = (sample.input, *sample.args), dict(sample.kwargs)
                check(name, "error inputs", lambda: function(*inputs, **options), (inputs, options),
                      f"error input {number}")
    return {"covered": covered, "outcomes": dict(outcomes), "failures": failures}


if __name__ == "__main__":
    torch.set_num_threads(1)  # the losses are small: threads only cost here, on a shared machine
    json.dump(opinfo_parity(), sys.stdout)
