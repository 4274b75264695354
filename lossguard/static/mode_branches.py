"""Branches on a mode attribute: `if self.task == "segment":` in a method read on its own.

`self` there is the instance `__init__` builds from unknown arguments, so what `__init__` chose by the same mode
(`if task == "segment": self.loss_func = ...`) is a join of every mode's choice, and a finding that only one mode's
loss makes is lost. When the attribute is set once in the class, by a top-level statement of `__init__`, straight
from one of its parameters (`self.task = task`), the branch runs only on an instance built with that parameter
equal to the constant: the branch body is read with that instance instead.
"""

from __future__ import annotations

import ast
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from lossguard.static.frame import Frame
from lossguard.static.syntax import assigned_names, attribute_stores, parameter_names
from lossguard.static.values import Const, Instance

if TYPE_CHECKING:
    from lossguard.static.classes import ClassInfo
    from lossguard.static.flow import ModuleObserver


@contextmanager
def self_for_mode(observer: "ModuleObserver", test: ast.AST, frame: Frame) -> Iterator[None]:
    """Inside the block, `self` is the instance built for the mode that `test` checks; afterwards it is the
    instance it was, unless the block changed it."""
    refined = _mode_instance(observer, test, frame)
    if refined is None:
        yield
        return
    name, original, instance = refined
    frame.env[name] = instance
    try:
        yield
    finally:
        if frame.env.get(name) is instance:
            frame.env[name] = original


def _mode_instance(observer: "ModuleObserver", test: ast.AST,
                   frame: Frame) -> tuple[str, Instance, Instance] | None:
    """(self's name, the instance it is, the instance built for the tested mode), when the test is a mode test."""
    name = frame.self_name
    original = frame.env.get(name) if name else None
    if name is None or not isinstance(original, Instance) or original != original.cls.default_instance:
        return None
    tested = _attribute_equals_constant(test, name)
    if tested is None:
        return None
    attribute, value = tested
    present, known = original.field(attribute)
    if not present or known is not None:
        return None
    parameter = _mode_parameter(original.cls, attribute)
    if parameter is None:
        return None
    built = observer.construct(original.cls, [(parameter, Const(value))], Frame(env={}, reporting=False),
                               unknown_arguments=True)
    return (name, original, built) if isinstance(built, Instance) else None


def _attribute_equals_constant(test: ast.AST, self_name: str) -> tuple[str, object] | None:
    """`self.task == "segment"` (either way round, or as one operand of an `and`) -> ("task", "segment")."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        found = [tested for tested in (_attribute_equals_constant(v, self_name) for v in test.values) if tested]
        return found[0] if len(found) == 1 else None
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return None
    for side, other in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
        if (isinstance(side, ast.Attribute) and isinstance(side.value, ast.Name) and side.value.id == self_name
                and isinstance(other, ast.Constant) and isinstance(other.value, (str, int))
                and not isinstance(other.value, bool)):
            return side.attr, other.value
    return None


def _mode_parameter(cls: "ClassInfo", attribute: str) -> str | None:
    """The `__init__` parameter the attribute is a copy of, when that copy is its only assignment in the class."""
    found = cls.find_method("__init__")
    if found is None:
        return None
    init = found[0]
    parameters = parameter_names(init)[1:]
    copies = [statement for statement in init.body  # type: ignore[attr-defined]
              if isinstance(statement, ast.Assign) and len(statement.targets) == 1
              and _is_self_attribute(statement.targets[0], attribute, parameter_names(init)[:1])
              and isinstance(statement.value, ast.Name) and statement.value.id in parameters]
    if len(copies) != 1 or _assignments(cls, attribute) != 1:
        return None
    parameter = copies[0].value.id  # type: ignore[attr-defined]
    return None if parameter in assigned_names(init) else parameter


def _assignments(cls: "ClassInfo", attribute: str) -> int:
    """How many statements of the class and its project bases assign `self.<attribute>` (any receiver name)."""
    count = 0
    for klass in cls.mro():
        for method in klass.methods.values():
            if any(isinstance(node, ast.Call) and _sets_attribute_dynamically(node) for node in ast.walk(method)):
                return 2  # setattr(self, name, ...): any attribute may change
            receiver = parameter_names(method)[:1]
            count += sum(1 for name, stored in attribute_stores(method) if name in receiver and stored == attribute)
    return count


def _is_self_attribute(target: ast.AST, attribute: str, receiver: list[str]) -> bool:
    return (isinstance(target, ast.Attribute) and target.attr == attribute and isinstance(target.value, ast.Name)
            and target.value.id in receiver)


def _sets_attribute_dynamically(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "setattr"
