"""The runtime observer: what the real tensors passed to a loss show, as the judge's `Observed` facts.

Two sources of evidence, both chosen so that a genuine model output is never mistaken for a pitfall:

- the producer of the input, read from `grad_fn` (walking back through views, reshapes, copies and dtype casts):
  a `SigmoidBackward0` is proof of probabilities, whatever the values are. An opaque producer (the backward of a
  custom `autograd.Function`: a `torch.compile`d model, reentrant activation checkpointing) proves nothing, like
  no producer at all;
- value properties, computed only when the caller asks (sampled calls). They need strong evidence: a softmax is
  recognised by non-negative rows summing to 1 within a dtype-aware tolerance, never by "values are small", and
  elementwise [0, 1] only counts for an input with no `grad_fn` (or an opaque one) and many elements. All
  statistics of one call are stacked and read back with a single `.tolist()`: at most one host synchronisation
  per value check.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import torch

from lossguard.contracts import CLASS_INDEX_TASKS, Kind, LossContract, Task

_VIEW = "view"
ZERO_GRAD = "zero-grad"  # the producer's gradient is zero everywhere (round, sign, ...)
OPAQUE = "opaque"  # the backward of a custom autograd.Function: what it computed is unknown

# Nodes that keep the values of their (single) input, or a subset of them: the kind flows through.
_PASS_THROUGH = (
    "View", "UnsafeView", "ReshapeAlias", "Reshape", "Squeeze", "Unsqueeze", "Permute", "Transpose", "T",
    "Clone", "ToCopy", "Select", "Slice", "Index", "Expand", "Alias", "AsStrided", "Contiguous",
    "Unbind", "Split", "SplitWithSizes", "Narrow",
)
_PRODUCERS: dict[str, Any] = {
    "Sigmoid": Kind.PROBABILITIES,
    "Softmax": Kind.DISTRIBUTION,
    "LogSoftmax": Kind.LOG_DISTRIBUTION,
    "Relu": Kind.NONNEGATIVE,
    "Softplus": Kind.NONNEGATIVE,
    # Their gradient is zero everywhere: a loss on their output trains nothing.
    "Round": ZERO_GRAD, "Sign": ZERO_GRAD, "Floor": ZERO_GRAD, "Ceil": ZERO_GRAD, "Trunc": ZERO_GRAD,
    **{name: _VIEW for name in _PASS_THROUGH},
}
_MAX_WALK = 16
_UNSEEN = object()
_node_actions: dict[type, Any] = {}  # grad_fn class -> Kind, _VIEW, ZERO_GRAD, OPAQUE or None; filled lazily
_CUSTOM_FUNCTION_BACKWARD = torch.autograd.function.BackwardCFunction

_DTYPE_NAMES: dict[torch.dtype, str] = {}
_INT64_MIN, _INT64_MAX = torch.iinfo(torch.int64).min, torch.iinfo(torch.int64).max
_INTEGER_DTYPES = frozenset({torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool})

# How far from 1 a row sum may be and still count as "sums to 1", by input dtype. bfloat16 keeps 8 bits of
# mantissa, so a bfloat16 softmax row sums to 1 only within ~1e-2.
_TOLERANCE = {torch.float64: 1e-6, torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 2e-2}
# "Every value in [0, 1]" is weak evidence: a freshly initialised binary head with a positive bias gives small
# non-negative logits. Without a grad_fn it counts only for BCEWithLogitsLoss, over many elements that spread
# across most of [0, 1], as sigmoid outputs do and small logits do not.
_MIN_ELEMENTS_FOR_RANGE = 256
_MIN_SPREAD = 0.5


def dtype_name(dtype: torch.dtype) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).rsplit(".", 1)[-1]
    return name


def _action(node: Any) -> Any:
    cls = type(node)
    try:
        return _node_actions[cls]
    except KeyError:
        if issubclass(cls, _CUSTOM_FUNCTION_BACKWARD):
            _node_actions[cls] = OPAQUE
            return OPAQUE
        base = cls.__name__.rstrip("0123456789")
        base = base[: -len("Backward")] if base.endswith("Backward") else base
        action = _node_actions[cls] = _PRODUCERS.get(base)
        return action


def producer(tensor: torch.Tensor) -> tuple[Any, str | None]:
    """The kind proven by the op that produced `tensor` (`Kind`, `ZERO_GRAD`, `OPAQUE` or None) and that node's
    name."""
    node = tensor.grad_fn
    for _ in range(_MAX_WALK):
        if node is None:
            return None, None
        action = _node_actions.get(node.__class__, _UNSEEN)
        if action is _UNSEEN:
            action = _action(node)
        if action is None:
            return None, None
        if action != _VIEW:
            return action, type(node).__name__ if action is not None else None
        inputs = node.next_functions
        if not inputs:
            return None, None
        node = inputs[0][0]
    return None, None


def ignore_index(arguments: tuple) -> int | None:
    """`ignore_index` of cross_entropy / nll_loss (the 5th parameter of both), as PyTorch reads it: any integer,
    a NumPy integer or a 0-d integer tensor included. None when it is not an integer (PyTorch refuses it): then
    which indices are ignored is unknown."""
    value = arguments[4] if len(arguments) > 4 else -100
    if isinstance(value, bool):
        return None
    try:
        index = operator.index(value)
    except (TypeError, ValueError, RuntimeError):
        return None
    return index if _INT64_MIN <= index <= _INT64_MAX else None


@dataclass(frozen=True)
class ValueFacts:
    """What one sampled value check found; every field may stay unknown."""

    input_kind: Kind = Kind.UNKNOWN
    target_kind: Kind = Kind.UNKNOWN
    index_range: tuple[int, int] | None = None  # (min, max) of the class indices that are not ignore_index
    detail: str = ""  # a short note for the message, e.g. "rows sum to 1"


def is_value_checkable(tensor: Any) -> bool:
    """Plain dense tensors holding real numbers: not meta, not sparse, not fake or functorch wrappers, not tensor
    subclasses, not nested, not complex (reading one as real warns) or quantized."""
    return ((type(tensor) is torch.Tensor or type(tensor) is torch.nn.Parameter) and tensor.device.type != "meta"
            and tensor.layout is torch.strided and not tensor.is_nested and not tensor.is_complex()
            and not tensor.is_quantized)


def check_values(contract: LossContract, inp: torch.Tensor, tgt: Any, input_kind: Any,
                 has_grad_fn: bool, arguments: tuple) -> ValueFacts:
    """Value properties of the input (when its producer proved nothing) and of the target, in one host sync.

    `has_grad_fn`: the input comes from a known, transparent op (a Linear, say), so only values that op cannot
    give away count. False for no `grad_fn` and for an opaque one: then rows summing to 1, a row logsumexp of 0,
    or values spread over [0, 1] count too."""
    stats: list[torch.Tensor] = []
    readers: list[Any] = []
    task = contract.task
    with torch.no_grad():
        if input_kind is None and inp.is_floating_point() and inp.numel() > 0 and inp.ndim >= 1:
            _input_stats(task, inp, has_grad_fn, stats, readers)
        if isinstance(tgt, torch.Tensor) and tgt.numel() > 0 and is_value_checkable(tgt):
            _target_stats(contract, inp, tgt, arguments, stats, readers)
        if not stats:
            return ValueFacts()
        values = torch.stack([s.reshape(()).to(torch.float32) for s in stats]).tolist()  # the one host sync
    facts: dict[str, Any] = {}
    position = 0
    for width, read in readers:
        read(values[position:position + width], facts)
        position += width
    return ValueFacts(**facts)


def _class_dim(task: Task, tensor: torch.Tensor) -> int:
    if tensor.ndim < 2:
        return 0
    return 1 if task in CLASS_INDEX_TASKS else tensor.ndim - 1


def _input_stats(task: Task, inp: torch.Tensor, has_grad_fn: bool, stats: list, readers: list) -> None:
    tolerance = _TOLERANCE.get(inp.dtype, 1e-4)
    if has_grad_fn:
        # The producer is a known non-activation op (a Linear, say): only NLLLoss and BCELoss can still be told:
        # log-probabilities are never positive, probabilities never leave [0, 1].
        if task in (Task.LOG_MULTICLASS, Task.BINARY_PROBABILITIES):
            stats += list(torch.aminmax(inp))

            def read_range(v: list[float], facts: dict) -> None:
                _read_logits(task, v[0], v[1], tolerance, facts)
            readers.append((2, read_range))
        return
    origin = "" if inp.grad_fn is not None else "no grad_fn; "
    x = inp.float()
    dim = _class_dim(task, x)
    rows = x.ndim >= 2 and x.shape[dim] >= 2
    count = x.numel()  # known on the host: no need to read it back
    stats += list(torch.aminmax(x))
    if rows:
        stats += [(x.sum(dim) - 1).abs().max(), torch.logsumexp(x, dim).abs().max()]

    def read_input(v: list[float], facts: dict) -> None:
        low, high = v[0], v[1]
        sum_error, lse_error = (v[2], v[3]) if rows else (float("inf"), float("inf"))
        if low >= 0 and sum_error <= tolerance:
            facts["input_kind"], facts["detail"] = Kind.DISTRIBUTION, f"{origin}rows sum to 1"
        elif high <= tolerance and lse_error <= tolerance:
            facts["input_kind"], facts["detail"] = Kind.LOG_DISTRIBUTION, f"{origin}row logsumexp is 0"
        elif task is Task.BINARY_LOGITS and 0 <= low and high <= 1 and high - low >= _MIN_SPREAD \
                and count >= _MIN_ELEMENTS_FOR_RANGE:
            facts["input_kind"], facts["detail"] = Kind.PROBABILITIES, f"{origin}all values in [0, 1]"
        else:
            _read_logits(task, low, high, tolerance, facts)
    readers.append((4 if rows else 2, read_input))


def _read_logits(task: Task, low: float, high: float, tolerance: float, facts: dict) -> None:
    """Values no log-probability (for NLLLoss) or probability (for BCELoss) can take: these are logits."""
    if task is Task.LOG_MULTICLASS and high > tolerance:
        facts["input_kind"], facts["detail"] = Kind.LOGITS, f"input max {high:.3g} > 0"
    elif task is Task.BINARY_PROBABILITIES and (low < 0 or high > 1):
        facts["input_kind"], facts["detail"] = Kind.LOGITS, f"input values span [{low:.3g}, {high:.3g}]"


def _target_stats(contract: LossContract, inp: torch.Tensor, tgt: torch.Tensor, arguments: tuple,
                  stats: list, readers: list) -> None:
    task = contract.task
    if task in CLASS_INDEX_TASKS:
        if tgt.dtype in _INTEGER_DTYPES and tgt.dtype is not torch.bool and tgt.ndim == inp.ndim - 1:
            ignored = ignore_index(arguments)
            if ignored is None:  # not an index PyTorch takes: which classes count is unknown
                return
            t = tgt.to(torch.int64)
            is_ignored = t == ignored
            stats += [torch.where(is_ignored, torch.iinfo(torch.int64).max, t).min(),
                      torch.where(is_ignored, torch.iinfo(torch.int64).min, t).max(),
                      (~is_ignored).sum()]

            def read_range(v: list[float], facts: dict) -> None:
                if v[2] > 0:
                    facts["index_range"] = (int(v[0]), int(v[1]))
            readers.append((3, read_range))
        elif tgt.shape == inp.shape and tgt.ndim >= 2:  # 1-D: an unbatched input, a shape rule (LG305)
            _distribution_target_stats(task, tgt, stats, readers)
    elif task is Task.SIGN_TARGETS:
        t = tgt.float()
        stats += [((t == 0) | (t == 1)).all(), (t == 0).any()]

        def read_sign(v: list[float], facts: dict) -> None:
            if v[0] and v[1]:
                facts["target_kind"], facts["detail"] = Kind.BINARY_TARGETS, "target values in {0, 1}"
        readers.append((2, read_sign))


def _distribution_target_stats(task: Task, tgt: torch.Tensor, stats: list, readers: list) -> None:
    """A target of the input's shape for CE/NLL: one-hot rows, multi-hot rows, or soft targets (legitimate)."""
    t = tgt.float()
    dim = _class_dim(task, t)
    tolerance = _TOLERANCE.get(tgt.dtype, 1e-4)
    sums = t.sum(dim) if t.ndim >= 2 else t.sum().reshape(1)
    binary = ((t == 0) | (t == 1)).all()
    stats += [binary, sums.min(), sums.max(), t.min()]

    def read_target(v: list[float], facts: dict) -> None:
        is_binary, low_sum, high_sum, low = v
        if is_binary and abs(low_sum - 1) <= tolerance and abs(high_sum - 1) <= tolerance:
            facts["target_kind"], facts["detail"] = Kind.ONE_HOT, "every target row is one-hot"
        elif is_binary and high_sum >= 2:
            facts["target_kind"], facts["detail"] = Kind.MULTI_HOT, "target rows hold several 1s"
        elif low >= 0 and high_sum > 1 + tolerance:
            facts["target_kind"], facts["detail"] = Kind.MULTI_HOT, f"a target row sums to {high_sum:.3g}"
        elif low >= 0 and abs(high_sum - 1) <= tolerance:
            facts["target_kind"] = Kind.SOFT_TARGETS
    readers.append((4, read_target))
