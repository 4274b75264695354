"""ClassInfo: a class of the analysed source, with the facts the observer derives from it lazily.

A model's summary comes from its class and the instance at hand: the attributes `__init__` (and the helper methods
it calls) stores on `self`, class-level attributes (`loss_cls = nn.BCEWithLogitsLoss`), and what `forward` returns
in training mode for that instance. Record classes (dataclasses, `typing.NamedTuple`) get their fields in order.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from lossguard.static.syntax import FunctionNode, attribute_stores, decorator_names, dotted

if TYPE_CHECKING:
    from lossguard.static.flow import ModuleObserver

_UNSET: Any = object()


class ClassInfo:
    """Identity-hashed, so abstract values can refer to it."""

    def __init__(self, node: ast.ClassDef, observer: "ModuleObserver") -> None:
        self.node = node
        self.name = node.name
        self.observer = observer
        self.methods: dict[str, ast.AST] = {
            stmt.name: stmt for stmt in node.body if isinstance(stmt, FunctionNode)
        }
        self.bases: Any = _UNSET  # list[ClassInfo], resolved by the observer on first need
        self.class_attributes: Any = _UNSET  # dict[str, Value] of the class body's assignments
        self.default_instance: Any = _UNSET  # Instance after __init__ with unknown arguments
        self.default_assumes_defaults = False  # building it took a default (argparse, a default loss)
        self._method_facts: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        base_names = {dotted(base) or "" for base in node.bases}
        self.is_record = ("dataclass" in decorator_names(node)
                          or any(name.rsplit(".", 1)[-1] == "NamedTuple" for name in base_names))
        self.record_fields = [
            stmt.target.id for stmt in node.body
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
        ] if self.is_record else []

    def mro(self) -> list["ClassInfo"]:
        """This class and its project bases, depth first (like a simple MRO), each once."""
        seen: list[ClassInfo] = []
        stack: list[ClassInfo] = [self]
        while stack:
            cls = stack.pop(0)
            if cls in seen:
                continue
            seen.append(cls)
            if cls.bases is _UNSET:
                cls.observer.resolve_bases(cls)
            stack[0:0] = list(cls.bases)
        return seen

    def find_method(self, name: str, after: "ClassInfo | None" = None) -> tuple[ast.AST, "ClassInfo"] | None:
        """The method `name` of this class or of its project bases; with `after`, start past that class."""
        order = self.mro()
        if after is not None and after in order:
            order = order[order.index(after) + 1:]
        for cls in order:
            if name in cls.methods:
                return cls.methods[name], cls
        return None

    def method_facts(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        """(methods of `self` this method calls, attributes of `self` it assigns), read once per method."""
        if name not in self._method_facts:
            method = self.methods[name]
            self._method_facts[name] = (_self_calls(method), _self_assignments(method))
        return self._method_facts[name]

    def __repr__(self) -> str:
        return f"ClassInfo({self.name})"


def attributes_set_outside_init(cls: ClassInfo) -> frozenset[str]:
    """Names X of `self.X = ...` in methods that `__init__` does not call (directly or through other methods of
    `self`), across the class and its project bases: their value at a later call is not known unless the call that
    sets them is seen. Assignments in helpers that `__init__` calls (`self.build_model()`) are part of `__init__`."""
    methods: dict[str, tuple[ast.AST, ClassInfo]] = {}
    for klass in reversed(cls.mro()):
        methods.update({name: (node, klass) for name, node in klass.methods.items()})
    reached: set[str] = set()
    frontier = ["__init__"]
    while frontier:
        name = frontier.pop()
        if name in reached or name not in methods:
            continue
        reached.add(name)
        frontier.extend(methods[name][1].method_facts(name)[0])
    names: set[str] = set()
    for name, (_, klass) in methods.items():
        if name not in reached:
            names |= klass.method_facts(name)[1]
    return frozenset(names)


def _self_calls(method: ast.AST) -> frozenset[str]:
    return frozenset(
        node.func.attr for node in ast.walk(method)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"
    )


def _self_assignments(method: ast.AST) -> frozenset[str]:
    return frozenset(attribute for receiver, attribute in attribute_stores(method) if receiver == "self")