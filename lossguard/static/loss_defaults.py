"""A loss parameter's default: in the signature (`loss=nn.CrossEntropyLoss()`), or chosen by a `None` test
(`if criterion is None: self.criterion = nn.CrossEntropyLoss() else: self.criterion = criterion`,
`criterion = criterion or nn.CrossEntropyLoss()`).

A method read on its own sees `self` as `__init__` builds it from unknown arguments, and a function read on its
own has unknown parameters: the default is forgotten (a signature default is not bound, and joining "the default
loss" with "whatever was passed" loses it). When the other branch only passes the parameter through, the default
is what runs when the caller gives nothing; like an argparse default, it is taken "with the default
configuration" (the finding says so). Only a default that is a loss is taken this way, never other objects or
tensors, and only when no call in the module may pass the parameter something else: a call that passes on its own
caller's `None` default passes nothing, and a factory that first fills that default (`critic = critic or
copy.deepcopy(task_loss)`) passes what its own default configuration gives, accepted only when it is a loss of the
same kind. A default every caller overrides never runs.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence, Tuple

from lossguard.static import names as N
from lossguard.static.frame import Frame
from lossguard.static.syntax import (
    argument_expr, assigned_names, decorator_names, keyword_value, parameter_defaults, parameter_names,
)
from lossguard.static.values import Choice, ExternalRef, Function, Loss, Value

if TYPE_CHECKING:
    from lossguard.static.classes import ClassInfo
    from lossguard.static.flow import ModuleObserver


def default_loss_branch(observer: "ModuleObserver", node: ast.If, frame: Frame) -> Sequence[ast.stmt] | None:
    """The None branch of `if P is None: ... else: <P passed through>` when it assigns only losses, else None."""
    tested = _none_test(node.test, frame)
    if tested is None:
        return None
    parameter, is_none = tested
    default, passing = (node.body, node.orelse) if is_none else (node.orelse, node.body)
    targets = _assignment_targets(default)
    if not targets:
        return None
    if passing:
        passed = _assignment_targets(passing, only_from=parameter)
        if passed != targets:
            return None
    elif targets != [parameter]:
        return None  # `if loss is None: loss = nn.MSELoss()` with no else: the parameter itself gets the default
    probe = frame.child(reporting=False, sink=None, sink_id=0)
    values = [observer.eval(statement.value, probe) for statement in default]  # type: ignore[attr-defined]
    if not all(is_loss(value) for value in values) or len({_contract(value) for value in values}) != 1:
        return None  # several targets given different kinds of loss: not one default
    return None if _passed(observer, parameter, frame, values[0]) else default


def default_loss_expression(observer: "ModuleObserver", node: ast.IfExp | ast.BoolOp,
                            frame: Frame) -> ast.expr | None:
    """`D if P is None else P`, `P if P is not None else D`, `P or D`: the expression D (a loss is checked by the
    caller), when P is a parameter the read does not know."""
    if isinstance(node, ast.BoolOp):
        first = node.values[0]
        if isinstance(node.op, ast.Or) and len(node.values) == 2 and isinstance(first, ast.Name):
            return node.values[1] if _unknown_parameter(first.id, frame) else None
        return None
    tested = _none_test(node.test, frame)
    if tested is None:
        return None
    parameter, is_none = tested
    default, passing = (node.body, node.orelse) if is_none else (node.orelse, node.body)
    return default if isinstance(passing, ast.Name) and passing.id == parameter else None


def default_taken(observer: "ModuleObserver", node: ast.IfExp | ast.BoolOp, default: Value, frame: Frame) -> bool:
    """Whether the default loss `default` of `default_loss_expression(node)` is what runs: no call in the module
    passes the parameter something else."""
    tested = node.values[0] if isinstance(node, ast.BoolOp) else _none_test(node.test, frame)
    parameter = tested.id if isinstance(tested, ast.Name) else tested[0] if tested else None
    return parameter is not None and is_loss(default) and not _passed(observer, parameter, frame, default)


def _none_test(test: ast.AST, frame: Frame) -> tuple[str, bool] | None:
    """`P is None` -> (P, True), `P is not None` -> (P, False), for a parameter whose argument is unknown."""
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot))
            and isinstance(test.left, ast.Name) and _unknown_parameter(test.left.id, frame)
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None):
        return test.left.id, isinstance(test.ops[0], ast.Is)
    return None


def _unknown_parameter(name: str, frame: Frame) -> bool:
    return name in frame.unknown_parameters and frame.env.get(name) is None


def signature_loss_defaults(observer: "ModuleObserver", node: ast.AST, owner: "ClassInfo | None",
                            unknown: Iterable[str], defaults: Mapping[str, Value]) -> dict[str, Value]:
    """`def __init__(self, loss=nn.CrossEntropyLoss(reduction="sum"))` read with unknown arguments: the parameters
    whose signature default is a loss and that no call in the module passes, with that default."""
    taken: dict[str, Value] = {}
    for name in unknown:
        value = defaults.get(name)
        if is_loss(value) and not _passed(observer, name, _function_of(observer, node, owner), value):
            taken[name] = value
    return taken


def _passed(observer: "ModuleObserver", parameter: str, frame_or_function: "Frame | _Function | None",
            default: Value) -> bool:
    """Whether a call in the module may pass the parameter something else than None or a loss of the default's
    kind (read once per parameter and kind)."""
    function = (_function_read(observer, frame_or_function) if isinstance(frame_or_function, Frame)
                else frame_or_function)
    if function is None:
        return True
    key = ("passed-in-module", function[1], parameter, _contract(default))
    if key not in observer.call_memo:
        observer.call_memo[key] = _passed_in_module(observer, function, parameter, _contract(default))
    return bool(observer.call_memo[key])


_Function = Tuple[str, ast.AST, int]  # the name it is called by, its def, how many leading parameters calls omit


def _function_read(observer: "ModuleObserver", frame: Frame) -> _Function | None:
    if frame.owner is not None:
        node = frame.owner.methods.get(frame.function_name)
        return _function_of(observer, node, frame.owner) if node is not None else None
    found = [node for node in ast.walk(observer.module)
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == frame.function_name]
    return _function_of(observer, found[0], None) if len(found) == 1 else None  # two defs: which is called?


def _function_of(observer: "ModuleObserver", node: ast.AST, owner: "ClassInfo | None") -> _Function | None:
    name = getattr(node, "name", None)
    if name is None:
        return None
    if owner is None:
        return name, node, 0
    skipped = 0 if "staticmethod" in decorator_names(node) else 1
    return (owner.name if name == "__init__" else name), node, skipped


def _passed_in_module(observer: "ModuleObserver", function: _Function, parameter: str, kind: object) -> bool:
    """Whether some call of the function in its module may pass the parameter something other than None. A factory
    that passes on its own `None` default passes nothing; one that first fills it (`critic = critic or
    nn.MSELoss()`) passes what its own default configuration gives, which must be a loss of the same kind."""
    name, node, skipped = function
    position = parameter_names(node).index(parameter) - skipped if parameter in parameter_names(node) else -1
    pending: list[tuple[ast.AST, ast.AST | None, frozenset[str]]] = [(observer.module, None, frozenset())]
    while pending:
        current, enclosing, none_defaults = pending.pop()
        observer.budget.spend(1)
        for child in ast.iter_child_nodes(current):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                defaults = parameter_defaults(child)
                inner = frozenset(p for p, value in defaults.items()
                                  if isinstance(value, ast.Constant) and value.value is None)
                pending.append((child, child, inner))
                continue
            if isinstance(child, ast.Call) and _calls(child, name):
                given = _given(child, parameter, position)
                if given is _ANYTHING:
                    return True
                if isinstance(given, ast.Name) and given.id in none_defaults and enclosing is not None:
                    if given.id in assigned_names(enclosing) and _contract(
                            _default_configuration_value(observer, enclosing, given.id)) != kind:
                        return True
                elif given is not None and not (isinstance(given, ast.Constant) and given.value is None):
                    return True
            pending.append((child, enclosing, none_defaults))
    return False


def _default_configuration_value(observer: "ModuleObserver", function: ast.AST, name: str) -> Value:
    """What `name` holds at the end of a module-level function read as on its own (unknown arguments, its loss
    parameters at their defaults), without reporting."""
    if function not in getattr(observer.module, "body", ()):
        return None  # a method or a nested function: its context is not read here
    key = ("default-configuration", function, name)
    if key not in observer.call_memo:
        observer.call_memo[key] = None  # guards a factory that reaches itself
        parameters = parameter_names(function)
        caller = Frame(env={}, reporting=False)
        frame = observer.function_frame(Function(function, observer, None), dict.fromkeys(parameters),  # type: ignore
                                        False, caller)
        frame.unknown_parameters = frozenset(parameters)
        observer.take_loss_defaults(Function(function, observer, None), frame)  # type: ignore
        try:
            observer.exec_block(function.body, frame)  # type: ignore[attr-defined]
        except RecursionError:
            frame.env[name] = None
        observer.call_memo[key] = frame.env.get(name)
    return observer.call_memo[key]


def _calls(call: ast.Call, name: str) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == name) or (isinstance(func, ast.Attribute) and func.attr == name)


_ANYTHING: Any = object()  # a `**kwargs` or `*args` in a call may give the parameter anything


def _given(call: ast.Call, parameter: str, position: int) -> Any:
    """The expression the call gives the parameter, None when it gives none, or `_ANYTHING`."""
    if any(keyword.arg is None for keyword in call.keywords):
        return _ANYTHING
    given = argument_expr(call, position, parameter) if position >= 0 else keyword_value(call, parameter)
    if given is None and any(isinstance(arg, ast.Starred) for arg in call.args):
        return _ANYTHING
    return given


def _contract(value: Value) -> object:
    """The loss contract a value stands for (a loss object, class or function), or None."""
    if isinstance(value, Loss):
        return value.contract
    if isinstance(value, ExternalRef):
        name = N.canonical(value.name)
        return N.loss_function(name) or N.loss_module(name)
    if isinstance(value, Choice):
        kinds = {_contract(option) for option in value.options}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def _assignment_targets(block: Sequence[ast.stmt], only_from: str | None = None) -> list[str] | None:
    """The targets (`name`, `self.name`) of a block made only of single assignments; with `only_from`, each must
    assign exactly that name. None when the block holds anything else."""
    targets: list[str] = []
    for statement in block:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            return None
        target = statement.targets[0]
        if isinstance(target, ast.Name):
            targets.append(target.id)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            targets.append(f"{target.value.id}.{target.attr}")
        else:
            return None
        if only_from is not None and not (isinstance(statement.value, ast.Name) and statement.value.id == only_from):
            return None
    return targets


def is_loss(value: Value) -> bool:
    """A loss module instance or class, or a loss function (or a choice among losses of one kind)."""
    return _contract(value) is not None
