"""What each PyTorch loss expects: kinds of values and the loss contracts, as plain data.

Both observers (static and runtime) describe a tensor by its *kind*; the judge compares those kinds with the
contract of the loss the tensor is passed to. Nothing here imports torch or libcst, so the static checker,
the runtime guard, the CLI and the README generator can all read the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    """What a tensor holds, as far as an observer can tell."""

    LOGITS = "logits"
    PROBABILITIES = "probabilities"  # elementwise in [0, 1], from a sigmoid
    DISTRIBUTION = "distribution"  # rows summing to 1, from a softmax
    LOG_DISTRIBUTION = "log_distribution"  # from log_softmax: rows whose logsumexp is 0
    NONNEGATIVE = "nonnegative"  # from ReLU/Softplus/abs: cannot be logits of a classifier
    CLASS_INDICES = "class_indices"
    FLOAT_CLASS_INDICES = "float_class_indices"
    ONE_HOT = "one_hot"
    MULTI_HOT = "multi_hot"
    SOFT_TARGETS = "soft_targets"  # rows summing to 1 that are not one-hot: label smoothing, mixup
    BINARY_TARGETS = "binary_targets"  # values in {0, 1}
    VALUES = "values"
    UNKNOWN = "unknown"


class Task(str, Enum):
    """The family a loss belongs to; it decides which target and shape rules apply."""

    MULTICLASS = "multiclass"  # CrossEntropyLoss
    LOG_MULTICLASS = "log_multiclass"  # NLLLoss
    BINARY_LOGITS = "binary_logits"  # BCEWithLogitsLoss
    BINARY_PROBABILITIES = "binary_probabilities"  # BCELoss
    REGRESSION = "regression"  # MSE, L1, SmoothL1, Huber
    DIVERGENCE = "divergence"  # KLDivLoss
    SIGN_TARGETS = "sign_targets"  # margin losses whose target is -1/+1
    OTHER = "other"  # losses lossguard wraps but has no target rule for


@dataclass(frozen=True)
class LossContract:
    """One loss, in both its `nn` module form and its functional form.

    `target_position` is where the target sits among the functional positional arguments (and the module's
    `forward` arguments); `None` means the loss takes no target. `contract_keywords` are the keyword arguments
    that change what the loss accepts, so observers know to look at them.
    """

    module: str
    functional: str
    task: Task
    expected_input: Kind
    target_position: int | None = 1
    target_keyword: str = "target"
    input_keyword: str = "input"
    contract_keywords: tuple[str, ...] = ()
    accepted_targets: str = ""

    @property
    def module_path(self) -> str:
        return f"torch.nn.{self.module}"

    @property
    def functional_path(self) -> str:
        return f"torch.nn.functional.{self.functional}"


_CLASS_KEYWORDS = ("weight", "ignore_index", "reduction", "label_smoothing")
_BINARY_KEYWORDS = ("weight", "reduction", "pos_weight")

CONTRACTS: tuple[LossContract, ...] = (
    LossContract(
        "CrossEntropyLoss", "cross_entropy", Task.MULTICLASS, Kind.LOGITS,
        contract_keywords=_CLASS_KEYWORDS,
        accepted_targets="class indices, long, shape (n,); or class probabilities, float, same shape as the input",
    ),
    LossContract(
        "NLLLoss", "nll_loss", Task.LOG_MULTICLASS, Kind.LOG_DISTRIBUTION,
        contract_keywords=("weight", "ignore_index", "reduction"),
        accepted_targets="class indices, long, shape (n,)",
    ),
    LossContract(
        "BCEWithLogitsLoss", "binary_cross_entropy_with_logits", Task.BINARY_LOGITS, Kind.LOGITS,
        contract_keywords=_BINARY_KEYWORDS,
        accepted_targets="float in [0, 1], same shape as the input",
    ),
    LossContract(
        "BCELoss", "binary_cross_entropy", Task.BINARY_PROBABILITIES, Kind.PROBABILITIES,
        contract_keywords=("weight", "reduction"),
        accepted_targets="float in [0, 1], same shape as the input",
    ),
    LossContract("MSELoss", "mse_loss", Task.REGRESSION, Kind.VALUES,
                 accepted_targets="float, same shape as the input"),
    LossContract("L1Loss", "l1_loss", Task.REGRESSION, Kind.VALUES,
                 accepted_targets="float, same shape as the input"),
    LossContract("SmoothL1Loss", "smooth_l1_loss", Task.REGRESSION, Kind.VALUES,
                 accepted_targets="float, same shape as the input"),
    LossContract("HuberLoss", "huber_loss", Task.REGRESSION, Kind.VALUES,
                 accepted_targets="float, same shape as the input"),
    LossContract(
        "KLDivLoss", "kl_div", Task.DIVERGENCE, Kind.LOG_DISTRIBUTION,
        contract_keywords=("reduction", "log_target"),
        accepted_targets="probabilities (or log-probabilities with log_target=True), same shape as the input",
    ),
    LossContract("HingeEmbeddingLoss", "hinge_embedding_loss", Task.SIGN_TARGETS, Kind.VALUES,
                 accepted_targets="-1 or +1, same shape as the input"),
    LossContract("SoftMarginLoss", "soft_margin_loss", Task.SIGN_TARGETS, Kind.VALUES,
                 accepted_targets="-1 or +1, same shape as the input"),
    LossContract("MarginRankingLoss", "margin_ranking_loss", Task.SIGN_TARGETS, Kind.VALUES,
                 target_position=2, input_keyword="input1",
                 accepted_targets="-1 or +1, same shape as the inputs"),
    LossContract("CosineEmbeddingLoss", "cosine_embedding_loss", Task.SIGN_TARGETS, Kind.VALUES,
                 target_position=2, input_keyword="input1",
                 accepted_targets="-1 or +1, shape (n,)"),
    LossContract("MultiMarginLoss", "multi_margin_loss", Task.OTHER, Kind.LOGITS,
                 accepted_targets="class indices, long, shape (n,)"),
    LossContract("MultiLabelMarginLoss", "multilabel_margin_loss", Task.OTHER, Kind.LOGITS,
                 accepted_targets="class indices padded with -1, long, same shape as the input"),
    LossContract("MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss", Task.OTHER, Kind.LOGITS,
                 accepted_targets="0/1, same shape as the input"),
    LossContract("TripletMarginLoss", "triplet_margin_loss", Task.OTHER, Kind.VALUES,
                 target_position=None, input_keyword="anchor", accepted_targets="no target"),
)

BY_MODULE: dict[str, LossContract] = {c.module: c for c in CONTRACTS}
BY_FUNCTIONAL: dict[str, LossContract] = {c.functional: c for c in CONTRACTS}

CLASS_INDEX_TASKS = frozenset({Task.MULTICLASS, Task.LOG_MULTICLASS})
BINARY_TASKS = frozenset({Task.BINARY_LOGITS, Task.BINARY_PROBABILITIES})


def contract_for(name: str) -> LossContract | None:
    """The contract of a loss given its module class name or functional name (last dotted part is enough)."""
    short = name.rsplit(".", 1)[-1]
    return BY_MODULE.get(short) or BY_FUNCTIONAL.get(short)


def prefilter_vocabulary() -> tuple[bytes, ...]:
    """Byte strings of which at least one must occur in a file for it to possibly call a loss.

    Activation names ("softmax", "sigmoid") are deliberately absent: they are everywhere in model code, and a
    pitfall needs a loss call to exist.
    """
    words: set[bytes] = set()
    for contract in CONTRACTS:
        words.add(contract.module.encode())
        words.add(contract.functional.encode())
    return tuple(sorted(words))
