"""Expressions: names, attributes, subscripts, containers, conditions and the few builtins that matter.

A mixin of ModuleObserver (flow.py). Values are looked up the way Python would: the function's own names, the
enclosing function's, the module's globals (only those bound once, unless the module body is running right now),
its imports (the project's own modules through the resolver, anything else as an `ExternalRef`), and star imports.
Containers with constant keys and indices keep their items, so `out["probs"]`, `outputs.logits` and `result[0]`
are followed. Expressions nested deeper than real code nests are unknown rather than a deep recursion.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Mapping

from lossguard.contracts import Kind
from lossguard.static import names as N
from lossguard.static import tables
from lossguard.static.data import iteration_item, row_of
from lossguard.static.frame import Frame
from lossguard.static.loss_defaults import default_loss_expression, default_taken
from lossguard.static.values import (
    Choice, Const, DatasetValue, DictValue, Enumerated, Function, LayerList, LossResult, MAX_CHOICES, MAX_ITEMS,
    Number, Opaque, Record, SuperRef, Tensor, TupleValue, Value, constant_key, from_default, is_int, is_none, join,
    join_all, truth,
)

if TYPE_CHECKING:
    from lossguard.static.budget import Budget
    from lossguard.static.imports import ImportMap

MAX_EXPRESSION_DEPTH = 80
_BUILTINS = frozenset({
    "getattr", "dict", "super", "list", "tuple", "len", "int", "float", "enumerate", "iter", "next",
})


class Expressions:
    imports: "ImportMap"
    budget: "Budget"
    globals_env: dict[str, Value]
    stable_globals: frozenset[str]
    closures: dict[ast.AST, Mapping[str, Value]]
    eval_call: Callable[[ast.Call, Frame], Value]
    bind: Callable[[ast.AST, Value, Frame], None]
    attribute_of: Callable[[Value, str, Frame], Value]
    resolve_name: Callable[[str], Value]
    star_lookup: Callable[[str], Value]
    qualify: Callable[[ast.AST], "str | None"]
    _origin: Callable[[ast.AST, str], Any]
    module_running: bool
    reporting: bool
    runs_as_program: bool
    path: str
    _depth: int

    def eval(self, expr: ast.AST | None, frame: Frame) -> Value:
        if expr is None:
            return None
        self._depth += 1
        try:
            if self._depth > MAX_EXPRESSION_DEPTH:
                return None
            return self._eval(expr, frame)
        finally:
            self._depth -= 1

    def _eval(self, expr: ast.AST, frame: Frame) -> Value:
        if isinstance(expr, ast.Name):
            return self.lookup(expr.id, frame)
        if isinstance(expr, ast.Call):
            return self.eval_call(expr, frame)
        if isinstance(expr, ast.Attribute):
            return self.attribute_of(self.eval(expr.value, frame), expr.attr, frame)
        if isinstance(expr, ast.Constant):
            return Const(expr.value) if isinstance(expr.value, (str, int, float, bool, type(None))) else None
        if isinstance(expr, ast.Subscript):
            return self.eval_subscript(expr, frame)
        if isinstance(expr, ast.IfExp):
            decided = self.condition(expr.test, frame)
            if decided is not None:
                return self.eval(expr.body if decided else expr.orelse, frame)
            if self._takes_loss_default(expr, frame):
                return self.eval(default_loss_expression(self, expr, frame), frame)
            return join(self.eval(expr.body, frame), self.eval(expr.orelse, frame))
        if isinstance(expr, ast.BoolOp):
            if self._takes_loss_default(expr, frame):
                return self.eval(default_loss_expression(self, expr, frame), frame)
            return self.eval_boolop(expr, frame)
        if isinstance(expr, ast.NamedExpr):
            value = self.eval(expr.value, frame)
            self.bind(expr.target, value, frame)
            return value
        if isinstance(expr, (ast.List, ast.Tuple)):
            return self.eval_sequence(expr, frame)
        if isinstance(expr, ast.Dict):
            return self.eval_dict(expr, frame)
        if isinstance(expr, ast.Compare):
            return self.eval_compare(expr, frame)
        if isinstance(expr, ast.BinOp):
            return self.eval_binop(expr, frame)
        if isinstance(expr, ast.UnaryOp):
            operand = self.eval(expr.operand, frame)
            if isinstance(expr.op, ast.Not):
                known = truth(operand)
                return Const(not known) if known is not None else None
            if isinstance(operand, Const) and isinstance(expr.op, (ast.USub, ast.UAdd)):
                number = operand.value
                if isinstance(number, (int, float)) and not isinstance(number, bool):
                    return Const(-number if isinstance(expr.op, ast.USub) else number)
            return operand if isinstance(operand, LossResult) else None
        if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            element = self.eval_comprehension(expr, frame)
            return LayerList(element) if isinstance(expr, ast.ListComp) and element is not None else None
        if isinstance(expr, ast.Lambda):
            self.closures[expr] = {**frame.closure, **frame.env}
            return Function(expr, self, None)  # type: ignore[arg-type]
        for child in ast.iter_child_nodes(expr):
            if isinstance(child, ast.expr):
                self.eval(child, frame)
        return None

    def _takes_loss_default(self, expr: ast.IfExp | ast.BoolOp, frame: Frame) -> bool:
        """`criterion or nn.CrossEntropyLoss()` with an unknown `criterion` parameter: the default loss, assumed."""
        default = default_loss_expression(self, expr, frame)  # type: ignore[arg-type]
        if default is None:
            return False
        value = self.eval(default, frame.child(reporting=False, sink=None, sink_id=0))
        if not default_taken(self, expr, value, frame):  # type: ignore[arg-type]
            return False
        frame.assumes_defaults = True
        return True

    # ------------------------------------------------------------------ names
    def lookup(self, name: str, frame: Frame) -> Value:
        if name in frame.env:
            return frame.env[name]
        if name in frame.closure:
            return frame.closure[name]
        if name in self.globals_env and (self.module_running or name in self.stable_globals):
            return self.globals_env[name]
        if name in self.imports.aliases:
            return self.resolve_name(name)
        if self.imports.star_modules and not name.startswith("_"):
            return self.star_lookup(name)
        if name == "__name__":  # the file under analysis runs as the program; a module it imports does not, even
            return Const("__main__" if self.runs_as_program else self.path)  # one the same run checks too
        return None

    def is_unbound(self, name: str, frame: Frame) -> bool:
        """True for a builtin name: nothing in the program binds it."""
        return (name not in frame.env and name not in frame.closure and name not in self.globals_env
                and name not in self.imports.aliases and name in _BUILTINS)

    # ------------------------------------------------------------------ conditions
    def condition(self, test: ast.AST, frame: Frame) -> bool | None:
        """Evaluate a condition; its truth when the values prove it. A truth that rests on an argparse default
        marks the frame: what it decides holds "with the default configuration"."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self.condition(test.operand, frame)
            return None if inner is None else not inner
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left = self.eval(test.left, frame)
            right = self.eval(test.comparators[0], frame)
            decided = _compare(test.ops[0], left, right)
            if decided is not None and (from_default(left) or from_default(right)):
                frame.assumes_defaults = True
            return decided
        if isinstance(test, ast.BoolOp):
            value = self.eval_boolop(test, frame)
        else:
            value = self.eval(test, frame)
        decided = truth(value)
        if decided is not None and from_default(value):
            frame.assumes_defaults = True
        return decided

    def eval_boolop(self, expr: ast.BoolOp, frame: Frame) -> Value:
        """`a or b` is `a` when `a` is truthy, else `b` (`loss or self.DEFAULT_LOSS()`); `and` the reverse."""
        stop_when = isinstance(expr.op, ast.Or)
        candidates: list[Value] = []
        for operand in expr.values:
            value = self.eval(operand, frame)
            known = truth(value)
            if known is not None and from_default(value):
                frame.assumes_defaults = True
            if known is stop_when:
                candidates.append(value)
                return join_all(candidates) if len(candidates) > 1 else value
            if known is None:
                candidates.append(value)
        if not candidates:  # every operand known and none stopped: the last one is the value
            return value
        return join_all(candidates) if len(candidates) > 1 else candidates[0]

    def eval_compare(self, expr: ast.Compare, frame: Frame) -> Value:
        values = [self.eval(expr.left, frame), *(self.eval(c, frame) for c in expr.comparators)]
        if len(expr.ops) == 1:
            decided = _compare(expr.ops[0], values[0], values[1])
            if decided is not None:
                return Const(decided, from_default(values[0]) or from_default(values[1]))
        if any(isinstance(value, Tensor) for value in values):
            return Tensor(nondiff="a comparison", dtype="bool")  # a mask: no gradient flows through it
        return None  # two unknowns compared may be plain Python values

    # ------------------------------------------------------------------ containers
    def eval_sequence(self, expr: ast.List | ast.Tuple, frame: Frame) -> Value:
        is_list = isinstance(expr, ast.List)
        items: list[Value] = []
        for element in expr.elts:
            if isinstance(element, ast.Starred):
                spread = self.eval(element.value, frame)
                if isinstance(spread, TupleValue):
                    items.extend(spread.items)
                    continue
                for rest in expr.elts[expr.elts.index(element) + 1:]:
                    self.eval(rest, frame)
                last = expr.elts[-1]
                if is_list and not isinstance(last, ast.Starred):
                    return LayerList(self.eval(last, frame))
                return LayerList(spread.last) if isinstance(spread, LayerList) and last is element else None
            items.append(self.eval(element, frame))
        if len(items) > MAX_ITEMS:
            return None
        return TupleValue(tuple(items), is_list)

    def eval_dict(self, expr: ast.Dict, frame: Frame) -> Value:
        result: DictValue | None = DictValue(())
        for key_expr, value_expr in zip(expr.keys, expr.values):
            value = self.eval(value_expr, frame)
            if key_expr is None:  # {**other}
                result = merge(result, value)
                continue
            key = constant_key(self.eval(key_expr, frame))
            if result is not None:
                result = result.with_item(key, value) if key is not None else None
        return result

    def eval_subscript(self, expr: ast.Subscript, frame: Frame) -> Value:
        if isinstance(expr.value, ast.Call) and self.qualify(expr.value.func) in N.EYE_FUNCTIONS:
            for arg in expr.value.args:
                self.eval(arg, frame)
            self.eval(expr.slice, frame)
            return Tensor(Kind.ONE_HOT, self._origin(expr, "one-hot encoding (identity-matrix rows)"), None)
        base = self.eval(expr.value, frame)
        index = self.eval(expr.slice, frame)
        if isinstance(base, TupleValue) and isinstance(expr.value, ast.Attribute) and expr.value.attr == "shape":
            return self.item_of(base, index, expr, frame)  # a known shape: x.shape[1] is its size
        if isinstance(expr.value, ast.Attribute) and expr.value.attr == "shape" and isinstance(index, Const):
            return Number()  # x.shape[0]
        if isinstance(base, Opaque):
            return Opaque()  # x.shape[1:]
        return self.item_of(base, index, expr, frame)

    def item_of(self, base: Value, index: Value, expr: ast.Subscript, frame: Frame) -> Value:
        if isinstance(base, Choice):
            return join_all(self.item_of(option, index, expr, frame) for option in base.options)
        key = constant_key(index)
        if from_default(index):
            frame.assumes_defaults = True
        if isinstance(base, tables.Table):
            return tables.table_item(base, index)
        if isinstance(base, DictValue):
            if key is not None:
                return base.get(key)
            values = [value for _, value in base.items]
            return join_all(values) if 0 < len(values) <= MAX_CHOICES else None
        position = key if isinstance(key, int) else None
        if (isinstance(base, Record) and not base.partial and position is not None
                and -len(base.fields) <= position < len(base.fields)):
            return base.fields[position][1]
        if isinstance(base, TupleValue):
            if position is not None and -len(base.items) <= position < len(base.items):
                return base.items[position]
            return None
        if isinstance(base, LayerList) and not isinstance(expr.slice, ast.Slice):
            return base.last  # every item of a list built in a loop is made the same way
        if isinstance(base, DatasetValue) and (position is not None or isinstance(index, Number) or index is None):
            return base.item
        if not isinstance(base, Tensor):
            return None
        if isinstance(index, Number) or (isinstance(key, int) and not isinstance(expr.slice, ast.Slice)):
            return row_of(base)  # labels[idx] in a Dataset's __getitem__
        single_index = not isinstance(expr.slice, ast.Tuple)
        if base.kind is Kind.PROBABILITIES or (single_index and base.kind is not Kind.UNKNOWN):
            return replace(base, shape=None)
        return None

    def eval_binop(self, expr: ast.BinOp, frame: Frame) -> Value:
        left, right = self.eval(expr.left, frame), self.eval(expr.right, frame)
        return self.arithmetic(expr.op, left, right, expr.left, expr.right, expr, frame)

    def arithmetic(self, op: ast.operator, left: Value, right: Value, left_expr: ast.AST, right_expr: ast.AST,
                   node: ast.AST, frame: Frame) -> Value:
        """`left op right`, for `a op b` and `a op= b` alike."""
        if isinstance(op, ast.Add) and isinstance(left, (TupleValue, LayerList)) and isinstance(right, (TupleValue, LayerList)):
            return _concatenate(left, right)
        if is_int(left) and is_int(right) and isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
            return Number()  # n_source + n_target, batch_size * 2
        if isinstance(op, ast.Mult) and (is_int(left) or is_int(right)):
            zeros = _zeros_list(left_expr if is_int(right) else right_expr)
            if zeros is not None:  # [0] * num_classes: a one-hot row once a single 1 is written into it
                count = right if is_int(right) else left
                size = count.value if isinstance(count, Const) else None
                return Tensor(dtype="list", shape=(size,), zeros_at=frame.loop_nesting)
        if isinstance(op, _AFFINE_OPERATORS):
            shifted = _shifted_logits(left, right) or _shifted_logits(right, left)
            if shifted is not None:
                return shifted
        if isinstance(op, ast.Sub) and _probabilities(left) and _probabilities(right):
            # relativistic GAN losses: p_real - mean(p_fake) lies in [-1, 1], no probability any more
            return Tensor(Kind.LOGITS, self._origin(node, "a difference of two probabilities"))
        return _combine_losses(left, right)

    def eval_comprehension(self, expr: ast.AST, frame: Frame) -> Value:
        """Read a comprehension in its own scope; the value of its element (every item is made the same way)."""
        inner = frame.child()
        for generator in getattr(expr, "generators", ()):
            self.eval(generator.iter, inner)
            self.bind(generator.target, None, inner)
            for condition in generator.ifs:
                self.eval(condition, inner)
        element: Value = None
        for part in ("elt", "key", "value"):
            child = getattr(expr, part, None)
            if isinstance(child, ast.expr):
                element = self.eval(child, inner)
        return element

    # ------------------------------------------------------------------ builtins
    def call_builtin(self, name: str, call: ast.Call, args: list[tuple[str | None, Value]], frame: Frame) -> Value:
        if name == "getattr" and len(args) >= 2 and isinstance(args[1][1], Const):
            attribute = args[1][1].value
            if isinstance(attribute, str):
                found = self.attribute_of(args[0][1], attribute, frame)
                return found if found is not None or len(args) == 2 else join(found, args[2][1])
            return None
        if name == "dict":
            result: DictValue | None = DictValue(())
            for keyword, value in args:
                if keyword is None and len(args) == 1:
                    return value if isinstance(value, DictValue) else None
                if keyword in (None, "*"):
                    return None
                result = merge(result, value) if keyword == "**" else (
                    result.with_item(keyword, value) if result is not None else None)
            return result
        if name == "super":
            owner = frame.owner
            self_value = frame.env.get(frame.self_name) if frame.self_name else None
            return SuperRef(owner, self_value) if owner is not None else None
        if name == "len" and args and isinstance(args[0][1], TupleValue) and args[0][0] is None:
            return Const(len(args[0][1].items))  # len(x.shape) of a known rank
        if name in ("len", "int"):
            return Number()
        if name == "float":
            return Number(is_float=True)
        if name == "enumerate" and args:
            return Enumerated(args[0][1])
        if name == "iter" and args:
            return args[0][1]
        if name == "next" and args:
            return iteration_item(args[0][1])
        if name in ("list", "tuple") and len(args) == 1 and isinstance(args[0][1], TupleValue):
            return TupleValue(args[0][1].items, name == "list")
        return None


# ---------------------------------------------------------------------- helpers without state
_AFFINE_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_ORDER = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}


def _shifted_logits(logits: Value, other: Value) -> Tensor | None:
    """Raw scores shifted or scaled (`d_real - d_fake.mean()`, `logits / temperature`) are still raw scores: any
    real value. Only a constant or a value not known to be an activation's output is combined this way."""
    if not isinstance(logits, Tensor) or logits.kind is not Kind.LOGITS:
        return None
    if isinstance(other, Const) and isinstance(other.value, (int, float)) and not isinstance(other.value, bool):
        return Tensor(Kind.LOGITS, logits.origin, logits.dtype, logits.shape)
    if other is None or (isinstance(other, Tensor) and other.kind in (Kind.UNKNOWN, Kind.LOGITS)):
        return Tensor(Kind.LOGITS, logits.origin, logits.dtype)
    return None


def _probabilities(value: Value) -> bool:
    return isinstance(value, Tensor) and value.kind is Kind.PROBABILITIES


def _zeros_list(expr: ast.AST) -> str | None:
    """The dtype of `[0]` / `[0.0]` (a list literal of one zero), else None."""
    if isinstance(expr, ast.List) and len(expr.elts) == 1 and isinstance(expr.elts[0], ast.Constant):
        zero = expr.elts[0].value
        if zero == 0 and type(zero) in (int, float):
            return "int64" if type(zero) is int else "float32"
    return None


def _concatenate(left: TupleValue | LayerList, right: TupleValue | LayerList) -> Value:
    if isinstance(left, TupleValue) and isinstance(right, TupleValue):
        return TupleValue(left.items + right.items, left.is_list)
    if isinstance(right, TupleValue):
        return LayerList(right.items[-1]) if right.items else left
    return LayerList(right.last)


def _combine_losses(left: Value, right: Value) -> Value:
    """`loss_a + 0.1 * loss_b`: arithmetic on losses is still a loss, carrying what waits for `.backward()`."""
    results = [value for value in (left, right) if isinstance(value, LossResult)]
    if not results:
        return None
    pending = tuple(dict.fromkeys(f for result in results for f in result.pending))
    unreduced = tuple(dict.fromkeys(f for result in results for f in result.unreduced))
    return LossResult(pending, unreduced)


def merge(result: DictValue | None, other: Value) -> DictValue | None:
    """`{**result, **other}` when both are known dicts."""
    if result is None or not isinstance(other, DictValue):
        return None
    for key, value in other.items:
        result = result.with_item(key, value) if result is not None else None
    return result


def _compare(op: ast.cmpop, left: Value, right: Value) -> bool | None:
    """The outcome of `left op right` when both sides are known constants or `None` tests."""
    if isinstance(op, (ast.Is, ast.IsNot)):
        checked = right if isinstance(left, Const) and left.value is None and not isinstance(right, Const) else left
        other = right if checked is left else left
        if isinstance(other, Const) and other.value is None:
            outcome = is_none(checked)
            if outcome is None:
                return None
            return outcome if isinstance(op, ast.Is) else not outcome
        return None
    if isinstance(left, Const) and isinstance(right, Const):
        try:
            if isinstance(op, ast.Eq):
                return bool(left.value == right.value)
            if isinstance(op, ast.NotEq):
                return bool(left.value != right.value)
            numbers = all(isinstance(v.value, (int, float)) and not isinstance(v.value, bool) for v in (left, right))
            if numbers and isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
                return bool(_ORDER[type(op)](left.value, right.value))
        except Exception:  # noqa: BLE001 - a constant whose comparison raises decides nothing
            return None
    if isinstance(op, (ast.In, ast.NotIn)) and isinstance(left, Const) and isinstance(right, TupleValue):
        if all(isinstance(item, Const) for item in right.items):
            found = any(item.value == left.value for item in right.items)  # type: ignore[union-attr]
            return found if isinstance(op, ast.In) else not found
    return None

