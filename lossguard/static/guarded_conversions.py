"""A conversion guarded by its own test: `if x.dtype != dt: x = x.to(dtype=dt)`, however the test is extended.

Training loops move each batch only when it is not already where it should be:

    if str(label.device) != device or label.dtype != model.fl_dtype:
        label = label.to(device=device, dtype=model.fl_dtype)

When the body does not run, every part of the test is false, so `label.dtype == model.fl_dtype`: the conversion
would have returned `label` unchanged (a move between devices changes no value the observer follows). So, for the
values it follows, the `if` is the conversion itself, and reading its body as unconditional is exact. Without this
the branch that skips the body joins an unknown target and the conversion's dtype is lost after the `if`.
"""

from __future__ import annotations

import ast

_CONVERSIONS = frozenset({"to", "type"})
_MOVE_KEYWORDS = frozenset({"device", "non_blocking", "copy", "memory_format"})


def converts_unless_converted(node: ast.If) -> bool:
    """True for an `if` without `else` whose body only converts names in place (`x = x.to(...)`, also as a tuple
    assignment), where each conversion to a dtype is guarded by `x.dtype != <the same dtype>` in the test (the
    test itself, or one operand of its top-level `or`)."""
    if node.orelse or not node.body:
        return False
    guards = _dtype_guards(node.test)
    for statement in node.body:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            return False
        target, value = statement.targets[0], statement.value
        pairs = (list(zip(target.elts, value.elts)) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                 and len(target.elts) == len(value.elts) else [(target, value)])
        if not all(_guarded_conversion(name, converted, guards) for name, converted in pairs):
            return False
    return True


def _guarded_conversion(target: ast.AST, value: ast.AST, guards: set[tuple[str, str]]) -> bool:
    if not (isinstance(target, ast.Name) and isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr in _CONVERSIONS and isinstance(value.func.value, ast.Name)
            and value.func.value.id == target.id):
        return False
    call = value
    dtypes = [k.value for k in call.keywords if k.arg == "dtype"]
    if any(k.arg is None or (k.arg != "dtype" and k.arg not in _MOVE_KEYWORDS) for k in call.keywords):
        return False
    if call.args:
        if len(call.args) != 1 or dtypes or isinstance(call.args[0], ast.Starred):
            return False
        dtypes = [call.args[0]]  # `.to(dt)` / `.type(dt)`: guarded by the test only if `dt` is what it compares
    return all((target.id, ast.dump(dtype)) in guards for dtype in dtypes)


def _dtype_guards(test: ast.AST) -> set[tuple[str, str]]:
    """(name, dumped dtype expression) for each `name.dtype != expr` (either side) the test is an `or` of."""
    operands = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or) else [test]
    guards: set[tuple[str, str]] = set()
    for operand in operands:
        if not (isinstance(operand, ast.Compare) and len(operand.ops) == 1 and isinstance(operand.ops[0], ast.NotEq)):
            continue
        left, right = operand.left, operand.comparators[0]
        for side, other in ((left, right), (right, left)):
            if (isinstance(side, ast.Attribute) and side.attr == "dtype" and isinstance(side.value, ast.Name)):
                guards.add((side.value.id, ast.dump(other)))
    return guards
