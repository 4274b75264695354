"""Frame: the interpreter state of one function (or module body) while the static observer walks it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from lossguard.static.values import Value

if TYPE_CHECKING:
    from lossguard.static.classes import ClassInfo

EVAL_MODE = "<eval-mode>"  # pseudo-variable: True after `model.eval()` in the current function


@dataclass
class Frame:
    env: dict[str, Value]
    reporting: bool
    inference: bool = False
    closure: Mapping[str, Value] = field(default_factory=dict)
    owner: "ClassInfo | None" = None
    analysing_init: "ClassInfo | None" = None
    returns: list[Value] = field(default_factory=list)
    loop_nesting: int = 0
    is_module: bool = False
    function_name: str = ""

    @property
    def on_training_path(self) -> bool:
        """Findings are reported only where training happens: not under no_grad, not after model.eval()."""
        return self.reporting and not self.inference and self.env.get(EVAL_MODE) is not True
