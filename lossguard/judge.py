"""The judge: one pure function from (loss contract, observed facts) to the rules they break.

Both observers describe what they saw as an `Observed`: the static observer fills in what the source proves, the
runtime observer what the real tensors show; anything not known stays `None` / `Kind.UNKNOWN`, and an unknown
fact never breaks a rule. Keeping every rule's condition here means a pitfall has one definition, one code and one
message, whichever observer saw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from lossguard.contracts import CLASS_INDEX_TASKS, BINARY_TASKS, Kind, LossContract, Task

Shape = Tuple[Optional[int], ...]  # None: a dimension whose size is not known

_INTEGER_DTYPES = frozenset({"int64", "int32", "int16", "int8", "uint8", "bool"})
_CLASS_INDEX_DTYPES = frozenset({"int64", "uint8"})  # what cross_entropy/nll_loss accept as indices


@dataclass(frozen=True)
class Observed:
    """What an observer knows about the arguments of one loss call. dtypes are names such as `float32`."""

    input_kind: Kind = Kind.UNKNOWN
    target_kind: Kind = Kind.UNKNOWN
    input_dtype: str | None = None
    target_dtype: str | None = None
    input_shape: Shape | None = None
    target_shape: Shape | None = None
    input_requires_grad: bool | None = None
    grad_enabled: bool | None = None
    # (min, max) of the class-index target values other than `ignore_index`; only a runtime observer sees them.
    class_index_range: tuple[int, int] | None = None
    # The input's classes are provably in its last dimension (a Linear applied to a rank >= 3 tensor).
    input_class_dim_last: bool | None = None
    # The input was normalised (softmax / log_softmax) over dim 0, the batch.
    normalised_over_batch: bool | None = None


@dataclass(frozen=True)
class Violation:
    """A broken rule. `subject` says which argument showed it: `input` or `target`."""

    code: str
    subject: str


# (task, observed input kind) -> rule. A kind absent here is acceptable (or not provably wrong) for that task.
_INPUT_RULES: dict[tuple[Task, Kind], str] = {
    (Task.BINARY_LOGITS, Kind.PROBABILITIES): "LG101",
    (Task.BINARY_LOGITS, Kind.DISTRIBUTION): "LG107",
    (Task.BINARY_LOGITS, Kind.NONNEGATIVE): "LG107",
    (Task.MULTICLASS, Kind.DISTRIBUTION): "LG102",
    (Task.MULTICLASS, Kind.LOG_DISTRIBUTION): "LG103",
    (Task.MULTICLASS, Kind.PROBABILITIES): "LG107",
    (Task.MULTICLASS, Kind.NONNEGATIVE): "LG107",
    (Task.LOG_MULTICLASS, Kind.DISTRIBUTION): "LG104",
    (Task.LOG_MULTICLASS, Kind.LOGITS): "LG105",
    (Task.BINARY_PROBABILITIES, Kind.LOGITS): "LG106",
    (Task.DIVERGENCE, Kind.DISTRIBUTION): "LG108",
    (Task.DIVERGENCE, Kind.PROBABILITIES): "LG108",
}


_DISTRIBUTION_TASKS = frozenset({Task.MULTICLASS, Task.LOG_MULTICLASS, Task.DIVERGENCE})


def judge(contract: LossContract, observed: Observed) -> list[Violation]:
    """The rules broken by passing `observed` to the loss of `contract`, input rules first."""
    violations: list[Violation] = []
    input_rule = _INPUT_RULES.get((contract.task, observed.input_kind))
    if input_rule:
        violations.append(Violation(input_rule, "input"))
    if observed.normalised_over_batch and contract.task in _DISTRIBUTION_TASKS:
        violations.append(Violation("LG306", "input"))
    if observed.input_requires_grad is False and observed.grad_enabled:
        violations.append(Violation("LG401", "input"))
    if contract.task in CLASS_INDEX_TASKS:
        violations += _class_index_rules(contract, observed)
    elif contract.task in BINARY_TASKS:
        violations += _binary_rules(contract, observed)
    elif contract.task is Task.REGRESSION:
        if _broadcasts_differently(observed.input_shape, observed.target_shape):
            violations.append(Violation("LG301", "target"))
    elif contract.task is Task.SIGN_TARGETS and observed.target_kind is Kind.BINARY_TARGETS:
        violations.append(Violation("LG206", "target"))
    return violations


def _class_index_rules(contract: LossContract, seen: Observed) -> list[Violation]:
    cross_entropy = contract.task is Task.MULTICLASS
    inp, tgt = seen.input_shape, seen.target_shape
    target_is_integer = seen.target_dtype in _INTEGER_DTYPES
    target_is_float = seen.target_dtype is not None and not target_is_integer
    out: list[Violation] = []

    if cross_entropy and inp is not None and len(inp) >= 2 and inp[1] == 1:
        out.append(Violation("LG109", "input"))

    unbatched = (cross_entropy and inp is not None and len(inp) == 1 and target_is_float
                 and (tgt is None or not _shapes_differ(inp, tgt)))
    if unbatched:
        out.append(Violation("LG305", "input"))
    elif seen.target_kind is Kind.ONE_HOT:
        out.append(Violation("LG201", "target"))
    elif seen.target_kind is Kind.FLOAT_CLASS_INDICES and not _probability_shaped(cross_entropy, inp, tgt):
        out.append(Violation("LG202", "target"))
    elif seen.target_kind is Kind.MULTI_HOT and cross_entropy:
        out.append(Violation("LG205", "target"))
    elif inp is not None and tgt is not None:
        column_target = len(tgt) == len(inp) == 2 and tgt[1] == 1 and inp[1] not in (1, None)
        if column_target:
            out.append(Violation("LG303", "target"))
        elif target_is_integer and len(tgt) == len(inp) >= 2 and tgt == inp and cross_entropy:
            out.append(Violation("LG201", "target"))
        elif target_is_float and (len(tgt) == len(inp) - 1 or not cross_entropy):
            out.append(Violation("LG202", "target"))
        elif cross_entropy and _class_dim_last(inp, tgt) and not target_is_float:
            out.append(Violation("LG304", "input"))
    if cross_entropy and seen.input_class_dim_last and not any(v.code == "LG304" for v in out):
        out.append(Violation("LG304", "input"))
    if target_is_integer and seen.target_dtype not in _CLASS_INDEX_DTYPES and seen.target_dtype != "bool":
        if not any(v.code in ("LG201", "LG202") for v in out):
            out.append(Violation("LG202", "target"))
    if _index_out_of_range(inp, seen.class_index_range):
        out.append(Violation("LG204", "target"))
    return out


def _probability_shaped(cross_entropy: bool, inp: Shape | None, tgt: Shape | None) -> bool:
    """A float target shaped like the input (rank >= 2, no size known to differ) is read by CrossEntropyLoss as
    class probabilities, not indices: legal, so never LG202."""
    return (cross_entropy and inp is not None and tgt is not None and len(inp) == len(tgt) >= 2
            and all(a is None or b is None or a == b for a, b in zip(inp, tgt)))


def _index_out_of_range(inp: Shape | None, index_range: tuple[int, int] | None) -> bool:
    """Some class index is negative or >= C, where C is the input's class dim (dim 1, or dim 0 unbatched)."""
    if inp is None or index_range is None or not inp:
        return False
    classes = inp[1] if len(inp) >= 2 else inp[0]
    return classes is not None and (index_range[0] < 0 or index_range[1] >= classes)


def _class_dim_last(inp: Shape, tgt: Shape) -> bool:
    """(n, L, C) logits against (n, L) indices: the target fits the input without its last dim, not without dim 1."""
    if len(inp) < 3 or len(tgt) != len(inp) - 1 or None in inp or None in tgt:
        return False
    return tgt == inp[:-1] and tgt != (inp[0],) + inp[2:]


def _binary_rules(contract: LossContract, seen: Observed) -> list[Violation]:
    out: list[Violation] = []
    dtype = seen.target_dtype
    if dtype in _INTEGER_DTYPES:
        out.append(Violation("LG203", "target"))
    elif (
        contract.task is Task.BINARY_PROBABILITIES
        and dtype is not None and seen.input_dtype is not None and dtype != seen.input_dtype
    ):
        out.append(Violation("LG203", "target"))
    if _shapes_differ(seen.input_shape, seen.target_shape):
        out.append(Violation("LG302", "target"))
    return out


def _shapes_differ(a: Shape | None, b: Shape | None) -> bool:
    """True only when the two shapes are provably different (known ranks that differ, or a known size that does)."""
    if a is None or b is None:
        return False
    if len(a) != len(b):
        return True
    return any(x is not None and y is not None and x != y for x, y in zip(a, b))


def _broadcasts_differently(a: Shape | None, b: Shape | None) -> bool:
    """True for the `(n, 1)` against `(n,)` pitfall: one shape is the other with a trailing 1, so the loss
    silently compares all n x n pairs. Other broadcasts (a `(d,)` centre against `(n, d)` features, a 0-d target)
    are deliberate, and `.view(-1, 1)` would not even fit them."""
    if a is None or b is None or abs(len(a) - len(b)) != 1:
        return False
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    if not shorter or longer[-1] != 1 or shorter[-1] == 1:
        return False
    return all(x is None or y is None or x == y for x, y in zip(longer[:-1], shorter))
