"""ClassInfo: a class of the analysed source, with the facts the observer derives from it lazily.

A model's summary comes from its class: the layers `__init__` stores on `self` and what `forward` returns in
training mode. Both are computed on first use by the observer and cached here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import libcst as cst

if TYPE_CHECKING:
    from lossguard.static.flow import ModuleObserver

_UNSET: Any = object()


class ClassInfo:
    """Identity-hashed, so abstract values can refer to it."""

    def __init__(self, node: cst.ClassDef, observer: "ModuleObserver") -> None:
        self.node = node
        self.name = node.name.value
        self.observer = observer
        self.methods: dict[str, cst.FunctionDef] = {
            stmt.name.value: stmt for stmt in node.body.body if isinstance(stmt, cst.FunctionDef)
        }
        self.local_bases: list[ClassInfo] = []  # filled by the observer once all classes are known
        self.attributes: Any = _UNSET  # dict[str, Value] after __init__ has been analysed
        self.forward_returns: Any = _UNSET  # Value after forward has been analysed
        self.attributes_set_elsewhere = _attributes_assigned_outside_init(self.methods)

    def find_method(self, name: str) -> tuple[cst.FunctionDef, ClassInfo] | None:
        """The method `name` of this class or of its local bases (depth first, like a simple MRO)."""
        if name in self.methods:
            return self.methods[name], self
        for base in self.local_bases:
            found = base.find_method(name)
            if found:
                return found
        return None

    def __repr__(self) -> str:
        return f"ClassInfo({self.name})"


def _attributes_assigned_outside_init(methods: dict[str, cst.FunctionDef]) -> frozenset[str]:
    """Names X of `self.X = ...` in methods other than `__init__`: their value at a later call is not known."""
    names: set[str] = set()

    class Collector(cst.CSTVisitor):
        def _target(self, target: cst.BaseExpression) -> None:
            if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self":
                names.add(target.attr.value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                for element in target.elements:
                    self._target(element.value)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            self._target(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            self._target(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._target(node.target)

    for name, method in methods.items():
        if name != "__init__":
            method.visit(Collector())
    return frozenset(names)
