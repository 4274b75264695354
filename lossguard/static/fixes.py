"""Fixes: from a finding and the libcst tree of its file to an edit of the source, decided syntactically.

A fix is offered only when the source itself proves it right: the activation, one-hot or dtype conversion to undo
must be written in the loss call's own argument (and be the other end of the finding's flow, `related`), a renamed
loss must have no use the checker did not report, a removed model layer must leave every other use of the model's
output computing the same values. Anything less certain gets no fix: a wrong fix is worse than none.

Each fix is a set of node replacements. A replacement is rendered by libcst (so the replaced node keeps its own
formatting and comments) and spliced into the source text at the node's position, so every byte outside the
replaced nodes stays as it was, also inside a notebook cell.

Safe fixes keep the program's values, or make a crashing program run, and change nothing outside the loss call;
unsafe fixes change what a model returns (its callers in the same file are adjusted to keep their values).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Optional, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from lossguard.findings import Finding
from lossguard.rules import RULES

_SIGMOID = frozenset({"torch.sigmoid", "torch.nn.functional.sigmoid", "torch.special.expit"})
_SOFTMAX = frozenset({"torch.softmax", "torch.nn.functional.softmax", "torch.special.softmax"})
_LOG_SOFTMAX = frozenset({"torch.log_softmax", "torch.nn.functional.log_softmax", "torch.special.log_softmax"})
_ACTIVATION_FUNCTIONS = {"sigmoid": _SIGMOID, "softmax": _SOFTMAX, "log_softmax": _LOG_SOFTMAX}
_ACTIVATION_LAYERS = {
    "torch.nn.Sigmoid": "sigmoid", "torch.nn.Softmax": "softmax", "torch.nn.LogSoftmax": "log_softmax",
}
# Which activation a rule's finding undoes: written inline in the loss input (safe), or the model's last (unsafe).
_UNWRAPPED = {"LG101": "sigmoid", "LG102": "softmax", "LG103": "log_softmax"}
_TO_LOG_SOFTMAX = frozenset({"LG104", "LG108"})
_BCE_LOSS = frozenset({"torch.nn.BCELoss", "torch.nn.modules.loss.BCELoss"})
_BCE_FUNCTION = "torch.nn.functional.binary_cross_entropy"
_ONE_HOT = "torch.nn.functional.one_hot"
_DTYPE_METHODS = frozenset({"float", "double", "half", "bfloat16", "long", "int", "to", "type"})
_FLOAT_METHODS = frozenset({"float", "double", "half", "bfloat16"})
# Methods of a model that do not hand its output to anyone: using them leaves a removed layer unobserved.
_MODEL_HOUSEKEEPING = frozenset({
    "parameters", "named_parameters", "train", "eval", "to", "cuda", "cpu", "zero_grad", "state_dict",
    "load_state_dict", "modules", "named_modules", "children", "buffers", "requires_grad_", "apply", "float",
    "double", "half", "share_memory",
})
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # lines as libcst counts them
_SHAPES = re.compile(r"input \(([^()]*)\), target \(([^()]*)\)")

# Codes with a fix of each kind, as the catalogue declares them (`rules` and `explain` show it).
SAFE_FIX_CODES = frozenset(rule.code for rule in RULES if "safe" in rule.autofix.split("+"))
UNSAFE_FIX_CODES = frozenset(rule.code for rule in RULES if "unsafe" in rule.autofix.split("+"))

Position = tuple[int, int]  # (1-based line, 0-based column) in the program text


@dataclass(frozen=True)
class Edit:
    """Replace the program text from `start` to `end` by `text`."""

    start: Position
    end: Position
    text: str


@dataclass(frozen=True)
class Fix:
    code: str
    safe: bool
    title: str
    edits: tuple[Edit, ...]


_Removal = tuple[list[Edit], Callable[[cst.Call], cst.BaseExpression], list[cst.Call]]
ProgramLine = Callable[[Optional[int], int], int]  # (notebook cell, line in cell) -> line of the program


def _same_line(cell: int | None, line: int) -> int:
    return line


class _Tree:
    """The parsed program with the metadata the fixes need: positions and the qualified names of expressions."""

    def __init__(self, source: str) -> None:
        wrapper = MetadataWrapper(_parse_on_large_stack(source), unsafe_skip_copy=True)
        self.module = wrapper.module
        self.positions: Mapping[cst.CSTNode, CodeRange] = wrapper.resolve(PositionProvider)
        self.imports: dict[str, set[str]] = {}  # local name -> the dotted names imports bind it to
        self.calls: dict[tuple[Position, Position], cst.Call] = {}
        self.names: dict[str, list[cst.Name]] = {}
        self.attributes: dict[str, list[cst.Attribute]] = {}
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self._rebinding: dict[str, bool] = {}
        tree = self

        class Index(cst.CSTVisitor):
            def __init__(self) -> None:
                self.stack: list[cst.CSTNode] = []

            def on_visit(self, node: cst.CSTNode) -> bool:
                if self.stack:
                    tree.parents[node] = self.stack[-1]
                self.stack.append(node)
                if isinstance(node, cst.Call):
                    where = tree.positions[node]
                    tree.calls[((where.start.line, where.start.column), (where.end.line, where.end.column))] = node
                elif isinstance(node, cst.Name):
                    tree.names.setdefault(node.value, []).append(node)
                elif isinstance(node, cst.Attribute):
                    tree.attributes.setdefault(node.attr.value, []).append(node)
                elif isinstance(node, (cst.Import, cst.ImportFrom)):
                    tree._record_import(node)
                return True

            def on_leave(self, original_node: cst.CSTNode) -> None:
                self.stack.pop()

        self.module.visit(Index())

    def _record_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.ImportFrom):
            if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
                return
            base = self.module.code_for_node(node.module)
            for alias in node.names:
                local = alias.asname.name.value if alias.asname else alias.name.value
                self.imports.setdefault(local, set()).add(f"{base}.{self.module.code_for_node(alias.name)}")
            return
        for alias in node.names:
            dotted = self.module.code_for_node(alias.name)
            if alias.asname:
                self.imports.setdefault(alias.asname.name.value, set()).add(dotted)
            else:  # `import torch.nn` binds `torch`
                self.imports.setdefault(dotted.split(".")[0], set()).add(dotted.split(".")[0])

    def qualified(self, node: cst.CSTNode) -> set[str]:
        """The dotted name `node` (`F.softmax`, `nn.BCELoss`) denotes through the file's imports, or nothing.

        An alias imported twice differently, or bound by anything but an import, denotes nothing: a cheap alias
        map, not libcst's QualifiedNameProvider, which costs a scope analysis of the whole file.
        """
        parts: list[str] = []
        while isinstance(node, cst.Attribute):
            parts.insert(0, node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name) or len(self.imports.get(node.value, ())) != 1 or self._rebound(node.value):
            return set()
        (base,) = self.imports[node.value]
        return {".".join([base, *parts])}

    def _rebound(self, name: str) -> bool:
        """Whether `name` is bound by anything other than an import (an assignment, a parameter, a loop, ...)."""
        if name not in self._rebinding:
            self._rebinding[name] = any(self._binds(occurrence) for occurrence in self.names.get(name, []))
        return self._rebinding[name]

    def _binds(self, name: cst.Name) -> bool:
        parent = self.parent(name)
        if isinstance(parent, cst.AsName):
            return not isinstance(self.parent(parent), cst.ImportAlias)
        if isinstance(parent, (cst.Attribute, cst.ImportAlias)):
            return False  # `x.F` is an attribute; `import F` is the import itself
        return isinstance(parent, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.Param, cst.For, cst.CompFor,
                                   cst.NamedExpr, cst.FunctionDef, cst.ClassDef, cst.Element, cst.StarredElement,
                                   cst.Global, cst.Nonlocal, cst.NameItem, cst.MatchAs, cst.MatchStar))

    def span(self, node: cst.CSTNode) -> tuple[Position, Position]:
        where = self.positions[node]
        return (where.start.line, where.start.column), (where.end.line, where.end.column)

    def replace(self, old: cst.CSTNode, new: cst.CSTNode) -> Edit:
        """An edit replacing `old` by `new`. A node's position excludes its own parentheses, which stay in the
        text: `new` is rendered without parentheses of its own then."""
        start, end = self.span(old)
        if getattr(old, "lpar", None) and getattr(new, "lpar", None):
            new = new.with_changes(lpar=[], rpar=[])
        return Edit(start, end, self.module.code_for_node(new))

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)


_PARSER_STACK = 256 * 1024 * 1024


def _parse_on_large_stack(source: str) -> cst.Module:
    """libcst's parse of source Python already accepted, on a thread with a large stack: libcst's native parser
    recurses deeper than Python's, and the deepest code Python accepts must not overflow the process's stack."""
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(cst.parse_module(source))
        except BaseException as error:  # handed back to the caller's thread
            outcome.append(error)

    previous = threading.stack_size(_PARSER_STACK)
    try:
        worker = threading.Thread(target=target, name="lossguard-fix-parse")
        worker.start()
    finally:
        threading.stack_size(previous)
    worker.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------- reading calls
def _argument(call: cst.Call, position: int, keyword: str) -> cst.Arg | None:
    positional = [arg for arg in call.args if arg.keyword is None]
    if any(arg.star for arg in call.args):
        return None
    if len(positional) > position:
        return positional[position]
    return next((arg for arg in call.args if arg.keyword is not None and arg.keyword.value == keyword), None)


def _activation(tree: _Tree, expression: cst.BaseExpression) -> tuple[str, cst.BaseExpression] | None:
    """(`sigmoid`/`softmax`/`log_softmax`, what it is applied to) when `expression` is one activation call."""
    if not isinstance(expression, cst.Call):
        return None
    qualified = tree.qualified(expression.func)
    for name, spellings in _ACTIVATION_FUNCTIONS.items():
        if qualified & spellings:
            inner = _argument(expression, 0, "input")
            return (name, inner.value) if inner is not None else None
    func = expression.func
    if (isinstance(func, cst.Attribute) and func.attr.value in _ACTIVATION_FUNCTIONS
            and not any(q.startswith("torch") for q in qualified)
            and not (isinstance(func.value, cst.Name) and func.value.value == "self")):  # `self.softmax`: a layer
        return func.attr.value, func.value
    return None


def _within(tree: _Tree, node: cst.CSTNode, point: Position) -> bool:
    start, end = tree.span(node)
    return start <= point <= end


def _method_call(value: cst.BaseExpression, method: str, args: Sequence[cst.Arg] = ()) -> cst.Call:
    if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) and not value.lpar:
        value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.Call(func=cst.Attribute(value=value, attr=cst.Name(method)), args=list(args))


# ---------------------------------------------------------------------------------------------- the planner
class _Planner:
    def __init__(self, tree: _Tree, findings: Sequence[Finding], program_line: ProgramLine) -> None:
        self.tree = tree
        self.findings = findings
        self.program_line = program_line
        self.reported_calls: dict[str, set[cst.Call]] = {}
        for finding in findings:
            call = self.call_of(finding)
            if call is not None:
                self.reported_calls.setdefault(finding.code, set()).add(call)

    def call_of(self, finding: Finding) -> cst.Call | None:
        start = (self.program_line(finding.cell, finding.line), finding.column - 1)
        end = (self.program_line(finding.cell, finding.end_line), finding.end_column - 1)
        return self.tree.calls.get((start, end))

    def related_point(self, finding: Finding) -> Position | None:
        """Where the flow starts, when it starts in this same file."""
        if len(finding.related) != 1 or finding.related[0].path != finding.path:
            return None
        origin = finding.related[0]
        return self.program_line(origin.cell, origin.line), origin.column - 1

    # -------------------------------------------------------------- safe fixes
    def safe_fix(self, finding: Finding) -> Fix | None:
        call = self.call_of(finding)
        if call is None:
            return None
        code = finding.code
        if code in _UNWRAPPED or code in _TO_LOG_SOFTMAX:
            return self._fix_inline_activation(finding, call)
        if code == "LG106":
            return self._fix_bce_loss(call)
        if code in ("LG201", "LG202"):
            return self._fix_target(finding, call)
        if code in ("LG301", "LG302", "LG303"):
            return self._fix_shape(finding, call)
        if code == "LG402":
            return self._fix_construct_then_call(call)
        return None

    def _fix_construct_then_call(self, call: cst.Call) -> Fix | None:
        """`nn.CrossEntropyLoss(out, y, reduction="sum")` -> `nn.CrossEntropyLoss(reduction="sum")(out, y)`."""
        positional = [arg for arg in call.args if arg.keyword is None]
        if len(positional) != 2 or any(arg.star for arg in call.args):
            return None
        options = [arg for arg in call.args if arg.keyword is not None]
        if options:
            options[-1] = options[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        tensors = [*positional[:-1], positional[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
        constructed = call.with_changes(args=options, lpar=[], rpar=[])
        new = cst.Call(func=constructed, args=tensors)
        return Fix("LG402", True, "construct the loss, then call it with the tensors", (self.tree.replace(call, new),))

    def _input(self, call: cst.Call) -> cst.Arg | None:
        return _argument(call, 0, "input")

    def _target(self, call: cst.Call) -> cst.Arg | None:
        return _argument(call, 1, "target")

    def _fix_inline_activation(self, finding: Finding, call: cst.Call) -> Fix | None:
        argument = self._input(call)
        origin = self.related_point(finding)
        if argument is None or origin is None:
            return None
        activation = self._value_read_only_here(argument.value, finding.code, self._input)
        if activation is None or not _within(self.tree, activation, origin):
            return None
        found = _activation(self.tree, activation)
        if found is None:
            return None
        name, inner = found
        if finding.code in _UNWRAPPED:
            if name != _UNWRAPPED[finding.code]:
                return None
            edit = self.tree.replace(activation, inner)
            return Fix(finding.code, True, f"remove the {name} from the loss input", (edit,))
        if name != "softmax" or not isinstance(activation, cst.Call) or not isinstance(activation.func, cst.Attribute):
            return None  # `softmax(x)` imported by name: renaming it would need a new import
        renamed = activation.func.with_changes(attr=cst.Name("log_softmax"))
        return Fix(finding.code, True, "use log_softmax instead of softmax",
                   (self.tree.replace(activation.func, renamed),))

    def _fix_bce_loss(self, call: cst.Call) -> Fix | None:
        title = "use BCEWithLogitsLoss, which takes logits"
        func = call.func
        if isinstance(func, cst.Call):  # nn.BCELoss(...)(logits, y)
            edit = self._rename_bce_constructor(func)
            return Fix("LG106", True, title, (edit,)) if edit else None
        if _BCE_FUNCTION in self.tree.qualified(func):
            if not isinstance(func, cst.Attribute):
                return None
            edit = self.tree.replace(func, func.with_changes(attr=cst.Name("binary_cross_entropy_with_logits")))
            return Fix("LG106", True, "use binary_cross_entropy_with_logits, which takes logits", (edit,))
        constructor = self._sole_binding(func)
        if constructor is None:
            return None
        uses = self._uses(func)
        reported = self.reported_calls.get("LG106", set())
        if not uses or not all(isinstance(self.tree.parent(use), cst.Call) and self.tree.parent(use) in reported
                                and self.tree.parent(use).func is use for use in uses):
            return None
        edit = self._rename_bce_constructor(constructor)
        return Fix("LG106", True, title, (edit,)) if edit else None

    def _rename_bce_constructor(self, constructor: cst.Call) -> Edit | None:
        func = constructor.func
        if not isinstance(func, cst.Attribute) or not (self.tree.qualified(func) & _BCE_LOSS):
            return None
        return self.tree.replace(func, func.with_changes(attr=cst.Name("BCEWithLogitsLoss")))

    def _sole_binding(self, reference: cst.BaseExpression) -> cst.Call | None:
        """The constructor call when `reference` (`criterion`, `self.criterion`) is bound once in the file."""
        bindings = [node for node in self._all_mentions(reference) if self._bound_value(node) is not None]
        if len(bindings) != 1:
            return None
        value = self._bound_value(bindings[0])
        return value if isinstance(value, cst.Call) else None

    def _all_mentions(self, reference: cst.BaseExpression) -> list[cst.CSTNode]:
        """Every occurrence of the name (or `self.` attribute) in its scope: the function it is used in, nested
        functions included (a closure's use is a use), or the whole file for a module-level name."""
        if isinstance(reference, cst.Name):
            scope = self._function_of(reference)
            names = [name for name in self.tree.names.get(reference.value, [])
                     if not isinstance(self.tree.parent(name), cst.Attribute) or self.tree.parent(name).value is name]
            local = [name for name in names if scope is None or _inside(self.tree, name, scope)]
            if any(self._bound_value(name) is not None for name in local):
                return local
            return names  # read, never bound, in the function: a global
        if isinstance(reference, cst.Attribute) and isinstance(reference.value, cst.Name) \
                and reference.value.value == "self":
            return list(self.tree.attributes.get(reference.attr.value, []))
        return []

    def _function_of(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        """The function whose local `node` is, or None at module level (or when `global`/`nonlocal` say so)."""
        parent = self.tree.parent(node)
        while parent is not None and not isinstance(parent, cst.FunctionDef):
            parent = self.tree.parent(parent)
        if parent is None or not isinstance(node, cst.Name):
            return None
        occurrences = self.tree.names.get(node.value, [])
        declared = any(isinstance(self.tree.parent(name), cst.NameItem) for name in occurrences)  # global/nonlocal
        return None if declared else parent

    def _bound_value(self, node: cst.CSTNode) -> cst.BaseExpression | None:
        parent = self.tree.parent(node)
        if isinstance(parent, cst.AssignTarget) and isinstance(self.tree.parent(parent), cst.Assign):
            assign = self.tree.parent(parent)
            return assign.value if len(assign.targets) == 1 else None
        if isinstance(parent, cst.AnnAssign) and parent.target is node:
            return parent.value
        return None

    def _uses(self, reference: cst.BaseExpression) -> list[cst.CSTNode] | None:
        """Every mention of the name that is not its binding; None when one is something other than a load."""
        mentions = self._all_mentions(reference)
        if isinstance(reference, cst.Attribute) and not all(
                isinstance(m, cst.Attribute) and isinstance(m.value, cst.Name) and m.value.value == "self"
                for m in mentions):
            return None
        return [mention for mention in mentions if self._bound_value(mention) is None]

    def _fix_target(self, finding: Finding, call: cst.Call) -> Fix | None:
        argument = self._target(call)
        if argument is None:
            return None
        target = argument.value
        if finding.code == "LG202":
            if (isinstance(target, cst.Call) and not target.args and isinstance(target.func, cst.Attribute)
                    and target.func.attr.value in _FLOAT_METHODS):
                new: cst.BaseExpression = target.with_changes(func=target.func.with_changes(attr=cst.Name("long")))
            else:
                new = _method_call(target, "long")
            return Fix("LG202", True, "convert the class indices with .long()", (self.tree.replace(target, new),))
        origin = self.related_point(finding)
        target = self._value_read_only_here(target, "LG201", self._target)
        if origin is None or target is None or not _within(self.tree, target, origin):
            return None
        indices = self._one_hot_indices(target)
        if indices is None:
            return None
        return Fix("LG201", True, "pass the class indices instead of their one-hot encoding",
                   (self.tree.replace(target, indices),))

    def _one_hot_indices(self, target: cst.BaseExpression) -> cst.BaseExpression | None:
        """`y` for `F.one_hot(y, ...)`, also followed by dtype conversions (`.float()`, `.to(...)`)."""
        while (isinstance(target, cst.Call) and isinstance(target.func, cst.Attribute)
               and target.func.attr.value in _DTYPE_METHODS):
            target = target.func.value
        if isinstance(target, cst.Call) and _ONE_HOT in self.tree.qualified(target.func):
            indices = _argument(target, 0, "tensor")
            return indices.value if indices is not None else None
        return None

    def _fix_shape(self, finding: Finding, call: cst.Call) -> Fix | None:
        """The hint's reshape of the target, only when the message proves both shapes (the batch may be `n`)."""
        match = _SHAPES.search(finding.message)
        argument = self._target(call)
        if match is None or argument is None:
            return None
        input_shape, target_shape = (_dims(text) for text in match.groups())
        if input_shape is None or target_shape is None:
            return None
        target = argument.value
        column = len(input_shape) == 2 and input_shape[1] == "1" and len(target_shape) == 1
        if finding.code in ("LG301", "LG302") and column:
            new: cst.BaseExpression = _method_call(target, "unsqueeze", [cst.Arg(cst.Integer("1"))])
            title = "give the target the input's shape (n, 1)"
        elif finding.code in ("LG301", "LG302") and len(input_shape) == 1 and target_shape[1:] == ["1"]:
            new = _method_call(target, "squeeze", [cst.Arg(cst.Integer("1"))])
            title = "give the target the input's shape (n,)"
        elif finding.code == "LG303" and len(input_shape) == 2 and target_shape[1:] == ["1"]:
            new = _strip_unsqueeze(target) or _method_call(target, "squeeze", [cst.Arg(cst.Integer("1"))])
            title = "make the class-index target one-dimensional"
        else:
            return None
        return Fix(finding.code, True, title, (self.tree.replace(target, new),))

    # -------------------------------------------------------------- unsafe fixes
    def unsafe_fix(self, finding: Finding) -> Fix | None:
        """Remove the model's trailing activation, and re-apply it wherever else in the file the model is called."""
        if finding.code not in _UNWRAPPED:
            return None
        call = self.call_of(finding)
        origin = self.related_point(finding)
        argument = self._input(call) if call is not None else None
        if argument is None or origin is None:
            return None
        model_call = argument.value
        if isinstance(model_call, cst.Name):  # `y_pred = model(X)` then `loss_fn(y_pred, y)`
            model_call = self._sole_binding(model_call)
        if not isinstance(model_call, cst.Call) or not isinstance(model_call.func, cst.Name):
            return None
        model = model_call.func
        constructor = self._model_constructor(model)
        if constructor is None:
            return None
        removal = self._trailing_layer_removal(constructor, origin, _UNWRAPPED[finding.code])
        if removal is None:
            return None
        removal_edits, reapply, inner_calls = removal
        uses = self._uses(model)
        if uses is None:
            return None
        reported = self.reported_calls.get(finding.code, set())
        edits = [*removal_edits, *(self.tree.replace(call, reapply(call)) for call in inner_calls)]
        unwrapped = 0
        for use in uses:
            parent = self.tree.parent(use)
            if isinstance(parent, cst.Call) and parent.func is use:
                if self._feeds_only_reported_losses(parent, reported):
                    unwrapped += 1
                    continue
                edits.append(self.tree.replace(parent, reapply(parent)))
            elif isinstance(parent, cst.Attribute) and parent.attr.value in _MODEL_HOUSEKEEPING:
                continue
            else:
                return None  # the model goes somewhere this file cannot follow
        if unwrapped == 0:
            return None
        return Fix(finding.code, False, "remove the model's trailing activation and apply it where predictions are "
                                        "made", tuple(edits))

    def _model_constructor(self, model: cst.Name) -> cst.Call | None:
        """What `model` is built from, when bound once (`model = nn.Sequential(...).to(device)`), rebinding it to
        itself through housekeeping methods aside (`model = model.to(device)`)."""
        values = [self._bound_value(node) for node in self._all_mentions(model)]
        built = [value for value in values if value is not None and not _housekeeping_of(value, model.value)]
        if len(built) != 1 or not isinstance(built[0], cst.Call):
            return None
        constructor = built[0]
        while (isinstance(constructor.func, cst.Attribute) and constructor.func.attr.value in _MODEL_HOUSEKEEPING
               and isinstance(constructor.func.value, cst.Call)):
            constructor = constructor.func.value
        return constructor

    def _is_reported_input(self, expression: cst.BaseExpression, reported: set[cst.Call],
                           argument_of: Callable[[cst.Call], cst.Arg | None] | None = None) -> bool:
        """Whether `expression` is the input (or the argument `argument_of` picks) of a reported loss call."""
        argument_of = argument_of or self._input
        argument = self.tree.parent(expression)
        call = self.tree.parent(argument) if isinstance(argument, cst.Arg) else None
        return (isinstance(call, cst.Call) and call in reported and argument_of(call) is not None
                and argument_of(call).value is expression)

    def _value_read_only_here(self, expression: cst.BaseExpression, code: str,
                              argument_of: Callable[[cst.Call], cst.Arg | None]) -> cst.BaseExpression | None:
        """The expression to fix for a loss argument: itself, or, for a name, the value it is bound to once when
        every read of the name is that argument of a call reported with `code` (`probs = F.softmax(...)` read only
        by `F.nll_loss(probs, y)`): changing the binding then changes nothing else."""
        if not isinstance(expression, cst.Name):
            return expression
        mentions = self._all_mentions(expression)
        values = [self._bound_value(mention) for mention in mentions]
        bound = [value for value in values if value is not None]
        reads = [mention for mention, value in zip(mentions, values) if value is None]
        reported = self.reported_calls.get(code, set())
        if len(bound) != 1 or not reads or not all(self._is_reported_input(read, reported, argument_of)
                                                    for read in reads):
            return None
        return bound[0]

    def _feeds_only_reported_losses(self, model_call: cst.Call, reported: set[cst.Call]) -> bool:
        """The model's output goes only to reported loss inputs: directly, or through one name bound once to it
        (`y_pred = model(X)` then `loss_fn(y_pred, y)`)."""
        if self._is_reported_input(model_call, reported):
            return True
        parent = self.tree.parent(model_call)
        if not (isinstance(parent, cst.Assign) and len(parent.targets) == 1
                and isinstance(parent.targets[0].target, cst.Name)):
            return False
        name = parent.targets[0].target
        if self._sole_binding(name) is not model_call:
            return False
        uses = self._uses(name)
        return bool(uses) and all(self._is_reported_input(use, reported) for use in uses)

    def _trailing_layer_removal(
        self, constructor: cst.Call, origin: Position, activation: str,
    ) -> _Removal | None:
        """The edits removing the model's last activation, how to re-apply it to a call of the model, and the calls
        of the model from inside its own class (`self(x)` in `predict`) that need it re-applied too."""
        if "torch.nn.Sequential" in self.tree.qualified(constructor.func):
            return self._from_sequential(constructor, origin, activation)
        if isinstance(constructor.func, cst.Name):  # its arguments go to __init__, not to forward
            return self._from_forward(constructor.func.value, origin, activation)
        return None

    def _from_sequential(self, sequential: cst.Call, origin: Position, activation: str) -> _Removal | None:
        layers = list(sequential.args)
        if len(layers) < 2 or any(arg.keyword or arg.star for arg in layers):
            return None
        last = layers[-1].value
        if not isinstance(last, cst.Call) or self.tree.span(last)[0] != origin:
            return None
        kind = self._layer_kind(last)
        if kind != activation:
            return None
        edit = self.tree.replace(sequential, sequential.with_changes(args=_without_last(layers)))
        return [edit], self._reapply_layer(last), []

    def _layer_kind(self, layer: cst.Call) -> str | None:
        for qualified in self.tree.qualified(layer.func):
            if qualified in _ACTIVATION_LAYERS:
                return _ACTIVATION_LAYERS[qualified]
        return None

    def _reapply_layer(self, layer: cst.Call) -> Callable[[cst.Call], cst.BaseExpression]:
        """Wrap a model call so it computes what it computed with the layer: `nn.Sigmoid()(model(x))`."""
        def reapply(model_call: cst.Call) -> cst.BaseExpression:
            return cst.Call(func=layer, args=[cst.Arg(model_call)])
        return reapply

    def _from_forward(self, class_name: str, origin: Position, activation: str) -> _Removal | None:
        """`return self.act(h)` / `return torch.sigmoid(h)` at the end of `forward` of a class used only here."""
        definitions = [name for name in self.tree.names.get(class_name, [])
                       if isinstance(self.tree.parent(name), cst.ClassDef)]
        if len(definitions) != 1 or len(self.tree.names.get(class_name, [])) != 2:
            return None  # subclassed, referenced or instantiated elsewhere: other outputs would change
        klass = self.tree.parent(definitions[0])
        forward = next((s for s in klass.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "forward"),
                       None)
        if forward is None or not isinstance(forward.body, cst.IndentedBlock) or klass.decorators:
            return None
        self_calls = self._self_calls(klass, forward)
        if self_calls is None:
            return None
        returns = _returns(forward)
        statements = forward.body.body
        last = statements[-1]
        if len(returns) != 1 or not (isinstance(last, cst.SimpleStatementLine) and last.body[0] is returns[0]):
            return None
        value = returns[0].value
        assignment = _assigned_just_before(statements, value)  # `x = self.act(x)` then `return x`
        if assignment is not None:
            value = assignment.value
        if not isinstance(value, cst.Call):
            return None
        found = _activation(self.tree, value)
        layer_call = None
        if found is not None:
            if not _within(self.tree, value, origin):
                return None
            name, inner = found
        elif (isinstance(value.func, cst.Attribute) and isinstance(value.func.value, cst.Name)
              and value.func.value.value == "self" and len(value.args) == 1 and not value.args[0].keyword):
            layer_call = self._self_layer(klass, value.func.attr.value)
            if layer_call is None or self.tree.span(layer_call)[0] != origin:
                return None
            name, inner = self._layer_kind(layer_call), value.args[0].value
        else:
            return None
        if name != activation:
            return None
        edit = self.tree.replace(value, inner)
        if assignment is not None and _same_name(assignment.targets[0].target, inner):
            edit = self._delete_line(statements[-2])  # `x = self.act(x)` would become `x = x`
        if layer_call is not None:
            return [edit], self._reapply_layer(layer_call), self_calls
        activation_call = value

        def reapply(model_call: cst.Call) -> cst.BaseExpression:
            if isinstance(activation_call.func, cst.Attribute) and activation_call.func.value is inner:
                return activation_call.with_changes(func=activation_call.func.with_changes(value=model_call))
            arguments = list(activation_call.args)
            position = next(i for i, arg in enumerate(arguments) if arg.value is inner)
            arguments[position] = arguments[position].with_changes(value=model_call)
            return activation_call.with_changes(args=arguments)
        return [edit], reapply, self_calls

    def _self_layer(self, klass: cst.ClassDef, attribute: str) -> cst.Call | None:
        """The layer `self.<attribute>` is bound to, once, in the class; used nowhere but where it is read."""
        mentions = [a for a in self.tree.attributes.get(attribute, []) if _inside(self.tree, a, klass)]
        if len(mentions) != len(self.tree.attributes.get(attribute, [])) or len(mentions) != 2:
            return None
        values = [self._bound_value(m) for m in mentions]
        bound = [v for v in values if v is not None]
        if len(bound) != 1 or not isinstance(bound[0], cst.Call) or self._layer_kind(bound[0]) is None:
            return None
        return bound[0]

    def _delete_line(self, statement: cst.SimpleStatementLine) -> Edit:
        """Remove a statement that has its lines to itself (its trailing comment goes with it)."""
        (start, _), (end, _) = self.tree.span(statement)
        return Edit((start, 0), (end + 1, 0), "")

    def _self_calls(self, klass: cst.ClassDef, forward: cst.FunctionDef) -> list[cst.Call] | None:
        """The calls `self(x)` / `self.forward(x)` in the class's other methods (`predict`, metrics): they read
        forward's output and get the activation back. None when one cannot be followed (in forward itself, or
        `self.forward` not called on the spot)."""
        calls = []
        for name in self.tree.names.get("self", []):
            if not _inside(self.tree, name, klass):
                continue
            parent = self.tree.parent(name)
            if isinstance(parent, cst.Call) and parent.func is name:
                call = parent
            elif isinstance(parent, cst.Attribute) and parent.value is name and parent.attr.value in ("forward",
                                                                                                     "__call__"):
                call = self.tree.parent(parent)
                if not (isinstance(call, cst.Call) and call.func is parent):
                    return None
            else:
                continue
            if _inside(self.tree, call, forward):
                return None
            calls.append(call)
        return calls


def _assigned_just_before(statements: Sequence[cst.BaseStatement],
                          returned: cst.BaseExpression | None) -> cst.Assign | None:
    """The assignment `x = ...` right before `return x` (alone on its line): the value forward returns."""
    if not isinstance(returned, cst.Name) or len(statements) < 2:
        return None
    previous = statements[-2]
    if not (isinstance(previous, cst.SimpleStatementLine) and len(previous.body) == 1
            and isinstance(previous.body[0], cst.Assign) and len(previous.body[0].targets) == 1
            and _same_name(previous.body[0].targets[0].target, returned)):
        return None
    return previous.body[0]


def _same_name(a: cst.CSTNode, b: cst.CSTNode) -> bool:
    return isinstance(a, cst.Name) and isinstance(b, cst.Name) and a.value == b.value


def _housekeeping_of(value: cst.BaseExpression, name: str) -> bool:
    """`model.to(device)` / `model.cuda()` for `name` = `model`: the same module handed back."""
    return (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in _MODEL_HOUSEKEEPING and isinstance(value.func.value, cst.Name)
            and value.func.value.value == name)


def _without_last(layers: list[cst.Arg]) -> list[cst.Arg]:
    """The layers but the last, laid out as before: one per line keeps a trailing comma before the `)` line (the
    removed layer's comment goes with it); on one line, `Sequential(a, b)` becomes `Sequential(a)`."""
    previous, removed = layers[-2], layers[-1]
    previous_after = previous.comma.whitespace_after if isinstance(previous.comma, cst.Comma) else None
    if not isinstance(previous_after, cst.ParenthesizedWhitespace):
        return [*layers[:-2], previous.with_changes(comma=removed.comma)]
    tail = removed.comma.whitespace_after if isinstance(removed.comma, cst.Comma) else removed.whitespace_after_arg
    if isinstance(tail, cst.ParenthesizedWhitespace):
        tail = tail.with_changes(first_line=previous_after.first_line)
    return [*layers[:-2], previous.with_changes(comma=previous.comma.with_changes(whitespace_after=tail))]


def _inside(tree: _Tree, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = tree.parent(node)
    return False


def _returns(function: cst.FunctionDef) -> list[cst.Return]:
    found: list[cst.Return] = []

    class Collector(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_Return(self, node: cst.Return) -> None:
            found.append(node)

    function.visit(Collector())
    return found


def _dims(text: str) -> list[str] | None:
    """`n, 1` -> ["n", "1"]; None when a size is unknown (`?`) or the text is not a shape."""
    dims = [part.strip() for part in text.split(",") if part.strip()]
    if not dims or any(not (d.isdigit() or d == "n") for d in dims):
        return None
    return dims


def _strip_unsqueeze(target: cst.BaseExpression) -> cst.BaseExpression | None:
    """`y` for `y.unsqueeze(1)` (a column built from a 1-D target: removing it gives the 1-D target back)."""
    if (isinstance(target, cst.Call) and isinstance(target.func, cst.Attribute)
            and target.func.attr.value == "unsqueeze" and len(target.args) == 1
            and isinstance(target.args[0].value, cst.Integer) and target.args[0].value.value == "1"):
        return target.func.value
    return None


# ---------------------------------------------------------------------------------------------- public API
@dataclass(frozen=True)
class PlannedFix:
    finding: Finding
    fix: Fix


def plan_fixes(source: str, findings: Iterable[Finding], *, unsafe: bool = True,
               program_line: ProgramLine = _same_line) -> list[PlannedFix]:
    """The fix of each finding of one program that has one (a safe one if any, else an unsafe one if allowed).

    `findings` are the program's findings (all of them: whether a rename is safe depends on the others);
    `program_line` maps a notebook finding's (cell, line) to the line of the joined program.
    """
    findings = list(findings)
    if not findings:
        return []
    tree = _Tree(source)
    planner = _Planner(tree, findings, program_line)
    planned = []
    for finding in findings:
        fix = planner.safe_fix(finding)
        if fix is None and unsafe:
            fix = planner.unsafe_fix(finding)
        if fix is not None:
            planned.append(PlannedFix(finding, fix))
    return planned


def apply_edits(text: str, edits: Iterable[Edit], first_line: int = 1) -> str:
    """`text` (whose first line is line `first_line` of the program) with non-overlapping edits applied."""
    lines = _LINES.findall(text)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position: Position) -> int:
        line, column = position
        return offsets[line - first_line] + column

    result = text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        result = result[: offset(edit.start)] + edit.text + result[offset(edit.end):]
    return result


def non_overlapping(planned: Iterable[PlannedFix]) -> list[PlannedFix]:
    """The fixes to apply together in one pass: the first of each group whose edits overlap or repeat."""
    chosen: list[PlannedFix] = []
    taken: list[tuple[Position, Position]] = []
    for item in planned:
        spans = [(edit.start, edit.end) for edit in item.fix.edits]
        if any(start < other_end and other_start < end or (start, end) == (other_start, other_end)
               for start, end in spans for other_start, other_end in taken):
            continue
        chosen.append(item)
        taken.extend(spans)
    return chosen
