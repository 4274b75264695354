"""Frame: the interpreter state of one function (or module body) while the static observer walks it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from lossguard.static.values import Value

if TYPE_CHECKING:
    from lossguard.findings import Location
    from lossguard.static.classes import ClassInfo

EVAL_MODE = "<eval-mode>"  # pseudo-variable: True after `model.eval()` in the current function


@dataclass
class Frame:
    """`reporting`: findings made here are kept (False while learning a summary or a loop's first pass).
    `evaluation`: the code runs for evaluation (no_grad, model.eval(), validation_step): loss contracts are still
    judged, with a message that says so, but nothing here trains. `inference_branch`: an `if not self.training:`
    branch, whose returns are not what the model returns in training. `sink`: where findings go (the checked
    file's list, also for code of another module it calls into); `via`: the call site in the checked file that
    led into another module. `assumes_defaults`: a branch was decided by an argparse default. `loss_site`: a lambda
    is an expression at its call (`self.loss_func = lambda o, t: F.cross_entropy(o, t)`), so the loss call in its
    body is reported at that call, where the arguments that break the contract are passed."""

    env: dict[str, Value]
    reporting: bool
    sink: list[Any] | None = None
    sink_id: int = 0
    evaluation: bool = False
    inference_branch: bool = False
    closure: Mapping[str, Value] = field(default_factory=dict)
    owner: "ClassInfo | None" = None
    returns: list[Value] = field(default_factory=list)
    loop_nesting: int = 0
    block_nesting: int = 0
    is_module: bool = False
    function_name: str = ""
    self_name: str | None = None  # the first parameter of a method: `self`
    via: "Location | None" = None
    assumes_defaults: bool = False
    defer_contracts: bool = False  # a test's code: contract findings wait for `.backward()`
    stopped: bool = False  # a return, raise, break or continue ended this path: what follows does not run
    unknown_parameters: frozenset[str] = frozenset()  # parameters read with unknown arguments (see loss_defaults)
    loss_site: Any = None  # in a lambda's body: the call of the lambda, where its loss call is reported

    @property
    def in_evaluation(self) -> bool:
        return self.evaluation or self.env.get(EVAL_MODE) is True

    @property
    def on_training_path(self) -> bool:
        """Findings that need back-propagation (LG401, LG404) are reported only where training happens."""
        return self.reporting and not self.in_evaluation

    def child(self, **changes: Any) -> "Frame":
        """A frame for a comprehension or lambda body: same state, own environment."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(env=dict(self.env), returns=[])
        values.update(changes)
        return Frame(**values)
