"""Abstract values: what the static observer knows about a Python value at one point of a program.

`None` means unknown. Every value class is frozen and hashable, so environments can be compared and joined, and
function summaries can be memoised by their argument values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from lossguard.contracts import Kind, LossContract

if TYPE_CHECKING:
    import libcst as cst

    from lossguard.static.classes import ClassInfo
    from lossguard.static.flow import ModuleObserver


@dataclass(frozen=True)
class Origin:
    """Where a kind was established (the activation call, the layer, the one-hot builder).

    Holds the node and its module's observer; the line and column are computed only when a finding needs them,
    because positions cost a pass over the whole tree and most modules have no finding at all.
    """

    observer: "ModuleObserver"
    node: "cst.CSTNode"
    what: str  # "sigmoid", "Softmax layer", "one-hot encoding", ...

    @property
    def path(self) -> str:
        return self.observer.path

    @property
    def line(self) -> int:
        return self.observer.locate(self.observer.positions[self.node].start.line)[1]

    @property
    def cell(self) -> int | None:
        return self.observer.locate(self.observer.positions[self.node].start.line)[0]

    @property
    def column(self) -> int:
        return self.observer.positions[self.node].start.column + 1

    def describe(self, from_path: str) -> str:
        """`line 12`, `cell 3, line 2`, or `models.py:12` when seen from another file."""
        where = f"cell {self.cell}, line {self.line}" if self.cell is not None else f"line {self.line}"
        return where if self.path == from_path else f"{self.path}:{where.replace('line ', '')}"


Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class Tensor:
    """A tensor. `shape` None: rank unknown; a None inside: that size unknown.

    `nondiff` names the operation that cut the autograd graph (argmax, round, a comparison, .item());
    `over_batch` marks a softmax taken over dim 0; `classes_last` marks a Linear applied to a tensor of rank >= 3,
    whose classes therefore sit in the last dimension.
    """

    kind: Kind = Kind.UNKNOWN
    origin: Origin | None = None
    dtype: str | None = None
    shape: Shape | None = None
    nondiff: str | None = None
    over_batch: bool = False
    classes_last: bool = False


@dataclass(frozen=True)
class Module:
    """A layer or model: calling it returns `returns` (unknown when None).

    `affine` marks a Linear layer: its output's shape follows its input's, `(..., affine_out)`.
    """

    returns: "Tensor | TupleValue | None"
    affine_out: int | None = None
    affine: bool = False


@dataclass(frozen=True)
class TupleValue:
    """A tuple whose items are known one by one, e.g. what an LSTM returns: (output, (h, c))."""

    items: tuple["Value", ...]


@dataclass(frozen=True)
class LossResult:
    """The value a loss call returns. Findings that only matter if it is back-propagated wait in `pending`
    (LG401: the input has no gradient; LG404: the loss is not reduced) until `.backward()` is called on it."""

    pending: tuple[Any, ...] = ()
    unreduced: tuple[Any, ...] = ()


@dataclass(frozen=True)
class LayerList:
    """A list of layers being assembled for `nn.Sequential(*layers)`; only its last element matters."""

    last: "Value"


@dataclass(frozen=True)
class Loss:
    """An instance of a loss module, e.g. `criterion = nn.BCEWithLogitsLoss()`."""

    contract: LossContract
    unreduced: bool = False  # built with reduction="none"


@dataclass(frozen=True)
class Instance:
    """An instance of a class defined in the analysed source (a model, a LightningModule, a trainer)."""

    cls: "ClassInfo"


@dataclass(frozen=True)
class ClassRef:
    cls: "ClassInfo"


@dataclass(frozen=True)
class Function:
    """A `def` of the analysed source; `observer` is the module that defines it, `owner` its class if a method."""

    node: "cst.FunctionDef"
    observer: "ModuleObserver"
    owner: "ClassInfo | None" = None


@dataclass(frozen=True)
class ModuleRef:
    """A module of the project itself, reached through `import models` or `from . import models`."""

    observer: "ModuleObserver"


Value = Union[Tensor, Module, LayerList, Loss, Instance, ClassRef, Function, ModuleRef, TupleValue, LossResult, None]


def join(a: Value, b: Value) -> Value:
    """What is known after two paths meet: equal values stay; tensors of the same kind keep the first origin."""
    if a == b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        same_kind = a.kind is b.kind and a.kind is not Kind.UNKNOWN
        joined = Tensor(
            a.kind if same_kind else Kind.UNKNOWN, a.origin if same_kind else None,
            a.dtype if a.dtype == b.dtype else None, a.shape if a.shape == b.shape else None,
            a.nondiff if a.nondiff == b.nondiff else None, a.over_batch and b.over_batch,
            a.classes_last and b.classes_last,
        )
        return joined if joined != Tensor() else None
    if isinstance(a, Module) and isinstance(b, Module):
        returns = join(a.returns, b.returns)
        return Module(returns if isinstance(returns, (Tensor, TupleValue)) else None,
                      a.affine_out if a.affine_out == b.affine_out else None, a.affine and b.affine)
    if isinstance(a, TupleValue) and isinstance(b, TupleValue) and len(a.items) == len(b.items):
        return TupleValue(tuple(join(x, y) for x, y in zip(a.items, b.items)))
    if isinstance(a, LossResult) and isinstance(b, LossResult):
        return LossResult(tuple(dict.fromkeys(a.pending + b.pending)), tuple(dict.fromkeys(a.unreduced + b.unreduced)))
    if isinstance(a, LayerList) and isinstance(b, LayerList):
        return LayerList(join(a.last, b.last))
    return None


def join_envs(a: dict[str, Value], b: dict[str, Value]) -> dict[str, Value]:
    return {name: join(a.get(name), b.get(name)) for name in a.keys() | b.keys()}
