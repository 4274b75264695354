"""Abstract values: what the static observer knows about a Python value at one point of a program.

`None` means unknown. Every value class is frozen and hashable, so environments can be compared and joined, and
function summaries can be memoised by their argument values. Every value is bounded in size (`MAX_ITEMS` entries
in a container or an object, `MAX_CHOICES` alternatives, `MAX_DEPTH` levels of nesting): what would grow past a
bound becomes unknown, so no input can make one value, or the work of comparing two, large.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Optional, Tuple, Union

from lossguard.contracts import Kind, LossContract

if TYPE_CHECKING:
    from lossguard.static.classes import ClassInfo
    from lossguard.static.flow import ModuleObserver

MAX_ITEMS = 64
MAX_CHOICES = 8
MAX_DEPTH = 5


@dataclass(frozen=True)
class Origin:
    """Where a kind was established (the activation call, the layer, the one-hot builder)."""

    observer: "ModuleObserver"
    node: ast.AST
    what: str  # "sigmoid", "Softmax layer", "one-hot encoding", ...

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Origin) and self.node is other.node and self.what == other.what

    def __hash__(self) -> int:
        return hash((id(self.node), self.what))

    @property
    def path(self) -> str:
        return self.observer.path

    @property
    def line(self) -> int:
        return self.observer.locate(self.node.lineno)[1]  # type: ignore[attr-defined]

    @property
    def cell(self) -> int | None:
        return self.observer.locate(self.node.lineno)[0]  # type: ignore[attr-defined]

    @property
    def column(self) -> int:
        return self.observer.column_of(self.node.lineno, self.node.col_offset) + 1  # type: ignore[attr-defined]

    def describe(self, from_path: str) -> str:
        """`line 12`, `cell 3, line 2`, or `models.py:12` when seen from another file."""
        where = f"cell {self.cell}, line {self.line}" if self.cell is not None else f"line {self.line}"
        return where if self.path == from_path else f"{self.path}:{where.replace('line ', '')}"


Shape = Tuple[Optional[int], ...]


@dataclass(frozen=True)
class Tensor:
    """A tensor. `shape` None: rank unknown; a None inside: that size unknown.

    `nondiff` names the operation that cut the autograd graph (argmax, round, a comparison, .item());
    `over_batch` marks a softmax taken over dim 0; `classes_last` marks a Linear applied to a tensor of rank >= 3,
    whose classes therefore sit in the last dimension. `zeros_at` marks a tensor (or list) of zeros made at that
    loop depth: writing a single 1 into it at the same depth makes a one-hot vector. `floored` marks values
    clamped from below (`p.clamp(min=eps)`): their log never underflows to -inf.
    """

    kind: Kind = Kind.UNKNOWN
    origin: Origin | None = None
    dtype: str | None = None
    shape: Shape | None = None
    nondiff: str | None = None
    over_batch: bool = False
    classes_last: bool = False
    zeros_at: int | None = None
    floored: bool = False


@dataclass(frozen=True)
class Module:
    """A layer or model of torch: calling it returns `returns` (unknown when None).

    `affine` marks a Linear layer: its output's shape follows its input's, `(..., affine_out)`. `keeps_shape`
    marks an elementwise layer (an activation): its output has its input's shape. `passes` marks a layer whose
    output is its input as far as the loss is concerned (Dropout, BatchNorm, Identity).
    """

    returns: "Value"
    affine_out: int | None = None
    affine: bool = False
    keeps_shape: bool = False
    passes: bool = False


@dataclass(frozen=True)
class TupleValue:
    """A tuple or list whose items are known one by one: what an LSTM returns, `[logits, probs]`, `(x, y)`."""

    items: tuple["Value", ...]
    is_list: bool = False


@dataclass(frozen=True)
class LayerList:
    """A list of unknown length whose last element is known (layers assembled for `nn.Sequential(*layers)`)."""

    last: "Value"


@dataclass(frozen=True)
class DictValue:
    """A dict with constant keys: `{"logits": out, "probs": torch.sigmoid(out)}`, a registry of loss classes."""

    items: tuple[tuple[Any, "Value"], ...]

    def get(self, key: Any) -> "Value":
        for name, value in self.items:
            if name == key:
                return value
        return None

    def with_item(self, key: Any, value: "Value") -> "DictValue | None":
        items = tuple((k, v) for k, v in self.items if k != key) + ((key, value),)
        return DictValue(items) if len(items) <= MAX_ITEMS else None


@dataclass(frozen=True)
class Record:
    """A plain record with named fields in order: an argparse namespace, a namedtuple made by `namedtuple()`, or
    (`partial`) an unknown object given constant attributes (`config.last_act = "sigmoid"`), whose other attributes
    stay unknown.

    `from_defaults`: the fields are command-line defaults, so what they decide holds "with the default
    configuration".
    """

    fields: tuple[tuple[str, "Value"], ...]
    from_defaults: bool = False
    partial: bool = False  # an object otherwise unknown, with constants assigned to some attributes: not a tuple

    def get(self, name: str) -> "Value":
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def with_field(self, name: str, value: "Value") -> "Record | None":
        """The record after `record.name = value`: a field keeps its place, so both paths of a branch still join."""
        if any(key == name for key, _ in self.fields):
            fields = tuple((k, value if k == name else v) for k, v in self.fields)
        else:
            fields = self.fields + ((name, value),)
            if len(fields) > MAX_ITEMS and self.by_name:
                fields = fields[-MAX_ITEMS:]  # past the bound, the oldest attribute is forgotten: it reads unknown
        return Record(fields, self.from_defaults, self.partial) if len(fields) <= MAX_ITEMS else None

    @property
    def by_name(self) -> bool:
        """Read by attribute name only, never unpacked by position: a command-line namespace or a partial record.
        Forgetting one of its fields (it then reads unknown) keeps the rest true."""
        return self.from_defaults or self.partial


@dataclass(frozen=True)
class RecordType:
    """`namedtuple("Out", ["logits", "probs"])`: calling it makes a Record with these field names."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class ArgParser:
    """An `argparse.ArgumentParser` and the defaults of the options added to it so far."""

    defaults: tuple[tuple[str, "Value"], ...] = ()


@dataclass(frozen=True)
class Const:
    """A Python constant (str, int, float, bool, None). `from_default`: an argparse default, not a fixed value."""

    value: Any
    from_default: bool = False


@dataclass(frozen=True)
class Number:
    """A number whose value is not known: an int from `x.size(0)`, `x.shape[0]`, `len(data)` (a batch size, say),
    or a float from `float(...)`."""

    is_float: bool = False


@dataclass(frozen=True)
class Opaque:
    """A value known to exist (never None) and nothing more: `x.shape`, `x.shape[1:]`, `x.size()`. It decides
    `if seg_size is None:` when the caller passed one."""


@dataclass(frozen=True)
class LightningTrainer:
    """A Lightning `Trainer`: `fit(model, train_loader, val_loader)` runs the model's `training_step` on the
    loader's batches (and `validation_step` on the other's)."""


@dataclass(frozen=True)
class DatasetValue:
    """A dataset whose samples are known: `dataset[i]` holds `item` (`TensorDataset(x, y)`, a split of one)."""

    item: "Value"


@dataclass(frozen=True)
class Batches:
    """A DataLoader (or anything iterated for batches): each iteration gives `item`, batched."""

    item: "Value"


@dataclass(frozen=True)
class Enumerated:
    """`enumerate(inner)`: each iteration gives `(index, item of inner)`."""

    inner: "Value"


@dataclass(frozen=True)
class LossResult:
    """The value a loss call returns. Findings that only matter if it is back-propagated wait in `pending`
    (LG401: the input has no gradient; LG404: the loss is not reduced; contract findings of a test file's loss)
    until `.backward()` is called on it."""

    pending: tuple[Any, ...] = ()
    unreduced: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Loss:
    """An instance of a loss module, e.g. `criterion = nn.BCEWithLogitsLoss()`."""

    contract: LossContract
    unreduced: bool = False  # built with reduction="none"


@dataclass(frozen=True)
class ExternalRef:
    """A name imported from outside the project, fully qualified: `torch.nn.CrossEntropyLoss`, `argparse`.

    Calling it is what PyTorch's semantics say (torch_semantics.py); anything else outside the project is unknown.
    """

    name: str


@dataclass(frozen=True)
class Instance:
    """An instance of a class defined in the analysed source (a model, a trainer, a dataclass record).

    `fields` holds what is known of its attributes: a name mapped to None was assigned something unknown (it
    shadows the class attribute); an absent name was never assigned, so the class attribute or method applies.
    """

    cls: "ClassInfo"
    fields: tuple[tuple[str, "Value"], ...] = ()

    def field(self, name: str) -> tuple[bool, "Value"]:
        for key, value in self.fields:
            if key == name:
                return True, value
        return False, None

    def with_field(self, name: str, value: "Value") -> "Instance | None":
        fields = tuple((k, v) for k, v in self.fields if k != name) + ((name, value),)
        if len(fields) > MAX_ITEMS or depth(value) >= MAX_DEPTH:
            fields = tuple((k, v) for k, v in self.fields if k != name) + ((name, None),)
        return Instance(self.cls, fields)


@dataclass(frozen=True)
class ClassRef:
    cls: "ClassInfo"


@dataclass(frozen=True)
class SuperRef:
    """`super()` inside a method of `cls`: attribute lookups start after `cls` in the bases, with `self` bound."""

    cls: "ClassInfo"
    self_value: "Value"


@dataclass(frozen=True)
class Function:
    """A `def` (or lambda) of the analysed source; `observer` is its module, `owner` its class if a method."""

    node: ast.AST
    observer: "ModuleObserver"
    owner: "ClassInfo | None" = None
    bound: "Value" = None  # the instance of a bound method: `fn = self.compute_loss`

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Function) and self.node is other.node and self.owner is other.owner
                and self.bound == other.bound)

    def __hash__(self) -> int:
        return hash((id(self.node), id(self.owner)))


@dataclass(frozen=True)
class ModuleRef:
    """A module of the project itself, reached through `import models` or `from . import models`."""

    observer: "ModuleObserver"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModuleRef) and self.observer is other.observer

    def __hash__(self) -> int:
        return id(self.observer)


@dataclass(frozen=True)
class Choice:
    """One of a few known values, where branches disagree on an object (two candidate models, two losses).

    Calling it calls each; only what every alternative agrees on survives (see the interpreter's `apply`).
    """

    options: tuple["Value", ...]


Value = Union[
    Tensor, Module, LayerList, Loss, Instance, ClassRef, SuperRef, Function, ModuleRef, TupleValue, DictValue,
    Record, RecordType, ArgParser, Const, Number, LossResult, ExternalRef, Choice, DatasetValue, Batches, Enumerated,
    Opaque, LightningTrainer, None,
]

_CHOOSABLE = (Module, Loss, Instance, ClassRef, Function, ExternalRef, ModuleRef)


def depth(value: Value) -> int:
    """How deeply containers and objects nest inside `value` (a tensor or a constant is 0)."""
    if isinstance(value, TupleValue):
        return 1 + max((depth(item) for item in value.items), default=0)
    if isinstance(value, DictValue):
        return 1 + max((depth(item) for _, item in value.items), default=0)
    if isinstance(value, (Instance, Record)):
        return 1 + max((depth(item) for _, item in value.fields), default=0)
    if isinstance(value, Choice):
        return max((depth(item) for item in value.options), default=0)
    if isinstance(value, (DatasetValue, Batches)):
        return 1 + depth(value.item)
    if isinstance(value, Enumerated):
        return 1 + depth(value.inner)
    return 0


def bounded(value: Value) -> Value:
    """`value`, or unknown when it is past the size bounds."""
    return None if depth(value) > MAX_DEPTH else value


def join(a: Value, b: Value) -> Value:
    """What is known after two paths meet: equal values stay; tensors of the same kind keep the first origin;
    objects of one class keep the attributes both paths agree on; different objects become a bounded Choice."""
    if a == b:
        return a
    if a is None or b is None:
        return None
    if is_int(a) and is_int(b):
        return Number()
    if isinstance(a, Number) and isinstance(b, Number):
        return Number(True)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        same_kind = a.kind is b.kind and a.kind is not Kind.UNKNOWN
        joined = Tensor(
            a.kind if same_kind else Kind.UNKNOWN, a.origin if same_kind else None,
            a.dtype if a.dtype == b.dtype else None, a.shape if a.shape == b.shape else None,
            a.nondiff if a.nondiff == b.nondiff else None, a.over_batch and b.over_batch,
            a.classes_last and b.classes_last, a.zeros_at if a.zeros_at == b.zeros_at else None,
            a.floored or b.floored,
        )
        return joined if joined != Tensor() else None
    if isinstance(a, Module) and isinstance(b, Module):
        return Module(join(a.returns, b.returns), a.affine_out if a.affine_out == b.affine_out else None,
                      a.affine and b.affine, a.keeps_shape and b.keeps_shape, a.passes and b.passes)
    if isinstance(a, TupleValue) and isinstance(b, TupleValue):
        if len(a.items) == len(b.items):
            return TupleValue(tuple(join(x, y) for x, y in zip(a.items, b.items)), a.is_list and b.is_list)
        if a.is_list and b.is_list and (a.items or b.items):
            # a list that grows in a loop: its length is unknown, its last item is what was appended
            last_a, last_b = (a.items or b.items)[-1], (b.items or a.items)[-1]
            return LayerList(join(last_a, last_b))
        return None
    if isinstance(a, (TupleValue, LayerList)) and isinstance(b, (TupleValue, LayerList)):
        if any(isinstance(v, TupleValue) and not v.is_list for v in (a, b)):
            return None
        lasts = [v.last if isinstance(v, LayerList) else v.items[-1] for v in (a, b)
                 if isinstance(v, LayerList) or v.items]  # an empty list adds no last item
        return LayerList(join_all(lasts)) if lasts else None
    if isinstance(a, LayerList) and isinstance(b, LayerList):
        return LayerList(join(a.last, b.last))
    if isinstance(a, LossResult) and isinstance(b, LossResult):
        return LossResult(tuple(dict.fromkeys(a.pending + b.pending)), tuple(dict.fromkeys(a.unreduced + b.unreduced)))
    if isinstance(a, Instance) and isinstance(b, Instance) and a.cls is b.cls:
        return Instance(a.cls, _join_fields(a.fields, b.fields))
    if isinstance(a, DictValue) and isinstance(b, DictValue):
        keys_b = dict(b.items)
        return DictValue(tuple((k, join(v, keys_b[k])) for k, v in a.items if k in keys_b))
    if isinstance(a, Record) and isinstance(b, Record) and [k for k, _ in a.fields] == [k for k, _ in b.fields]:
        return Record(tuple((k, join(v, w)) for (k, v), (_, w) in zip(a.fields, b.fields)),
                      a.from_defaults or b.from_defaults, a.partial or b.partial)
    if isinstance(a, Record) and isinstance(b, Record) and a.from_defaults and b.from_defaults:
        # a command-line namespace given an attribute on one path only (`args.wandb_url = ...` under an `if`):
        # the attributes both paths have are joined; one set on one path only reads unknown
        in_b = dict(b.fields)
        return Record(tuple((k, join(v, in_b[k])) for k, v in a.fields if k in in_b), True, a.partial or b.partial)
    return _choice(a, b)


def is_int(value: Value) -> bool:
    """An int, known or not: a constant, `x.size(0)`, `len(data)`, their sums."""
    return (isinstance(value, Number) and not value.is_float) or (isinstance(value, Const) and type(value.value) is int)


def is_constant(value: Value) -> bool:
    """A value fixed in the program's text: a Python constant, a torch dtype (`torch.float16`), or one of a few
    dtypes where branches chose between them (`model.fl_dtype = torch.float16` / `torch.float32`)."""
    from lossguard.static.names import DTYPES

    if isinstance(value, Const):
        return True
    if isinstance(value, ExternalRef):
        return value.name in DTYPES
    return isinstance(value, Choice) and all(is_constant(option) for option in value.options)


def constant_key(value: Value) -> Any:
    """The str or int a value is, usable as a dict key or an index; None when it is not a known one."""
    if isinstance(value, Const) and isinstance(value.value, (str, int)) and not isinstance(value.value, bool):
        return value.value
    return None


def _join_fields(a: tuple[tuple[str, Value], ...], b: tuple[tuple[str, Value], ...]) -> tuple[tuple[str, Value], ...]:
    """Attributes after two paths: both assigned -> joined; assigned on one path only -> unknown."""
    in_b = dict(b)
    joined = [(k, join(v, in_b[k]) if k in in_b else None) for k, v in a]
    in_a = dict(a)
    joined += [(k, None) for k, _ in b if k not in in_a]
    return tuple(joined)


def _choice(a: Value, b: Value) -> Value:
    options = [*_options(a), *_options(b)]
    if not all(isinstance(option, _CHOOSABLE) for option in options):
        return None
    unique = tuple(dict.fromkeys(options))
    return Choice(unique) if len(unique) <= MAX_CHOICES else None


def _options(value: Value) -> Iterable[Value]:
    return value.options if isinstance(value, Choice) else (value,)


def join_envs(a: dict[str, Value], b: dict[str, Value]) -> dict[str, Value]:
    return {name: join(a.get(name), b.get(name)) for name in a.keys() | b.keys()}


def join_all(values: Iterable[Value]) -> Value:
    result: Value = None
    first = True
    for value in values:
        result = value if first else join(result, value)
        first = False
    return result


def truth(value: Value) -> bool | None:
    """Whether a value is truthy, when that is known (None, constants, objects that are never falsy)."""
    if isinstance(value, Const):
        return bool(value.value)
    if isinstance(value, (Loss, Module, Instance, ClassRef, Function, ExternalRef, Choice)):
        return True
    return None


def is_none(value: Value) -> bool | None:
    """Whether a value is `None` (the Python constant), when that is known."""
    if isinstance(value, Const):
        return value.value is None
    if value is None:
        return None
    return False


def from_default(value: Value) -> bool:
    return isinstance(value, Const) and value.from_default

