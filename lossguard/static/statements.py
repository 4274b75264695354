"""Statements: how the observer walks a block, binds names and joins what branches, loops and handlers leave.

A mixin of ModuleObserver (flow.py). Branches decided by a known condition (`if loss is None:` with a known
argument, `if args.loss == "ce":` with an argparse default) run alone; others run on copies of the environment
that are joined afterwards, keeping the facts both agree on. A loop body is read twice (what one iteration
leaves for the next is joined in), up to a fixed nesting, and only while the work budget lasts.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, Callable, Sequence

from lossguard.contracts import Kind
from lossguard.static.data import iteration_item
from lossguard.static.frame import EVAL_MODE, Frame
from lossguard.static.guarded_conversions import converts_unless_converted
from lossguard.static.loss_defaults import default_loss_branch
from lossguard.static.mode_branches import self_for_mode
from lossguard.static.syntax import FunctionNode, assigned_names
from lossguard.static.values import (
    Const, DictValue, Function, Instance, LayerList, LossResult, Record, Tensor, TupleValue, Value, constant_key, is_constant,
    join_envs,
)

if TYPE_CHECKING:
    from lossguard.static.budget import Budget

MAX_LOOP_NESTING = 3
MAX_BLOCK_NESTING = 40
_TRY_STAR = getattr(ast, "TryStar", ast.Try)
_MATCH = getattr(ast, "Match", ())  # Python 3.10+


class Statements:
    budget: "Budget"
    closures: dict[ast.AST, dict[str, Value]]
    eval: Callable[[ast.AST | None, Frame], Value]
    condition: Callable[[ast.AST, Frame], "bool | None"]
    arithmetic: Callable[..., Value]
    is_no_grad: Callable[[ast.AST], bool]
    back_propagate: Callable[..., None]
    _origin: Callable[[ast.AST, str], Any]
    class_ref: Callable[[ast.ClassDef], Value]
    globals_env: dict[str, Value]

    def exec_block(self, statements: Sequence[ast.stmt], frame: Frame) -> None:
        frame.block_nesting += 1
        try:
            if frame.block_nesting > MAX_BLOCK_NESTING:  # deeper than real code nests: what it binds is unknown
                for statement in statements:
                    for name in assigned_names(statement):
                        frame.env[name] = None
                return
            for statement in statements:
                self.budget.spend(1)
                self.exec_statement(statement, frame)
                if frame.stopped:
                    return
        finally:
            frame.block_nesting -= 1

    def exec_statement(self, stmt: ast.stmt, frame: Frame) -> None:
        if isinstance(stmt, ast.Assign):
            self.exec_assign(stmt, frame)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.bind(stmt.target, self.eval(stmt.value, frame), frame)
        elif isinstance(stmt, ast.AugAssign):
            self.exec_augassign(stmt, frame)
        elif isinstance(stmt, ast.Expr):
            self.eval(stmt.value, frame)
        elif isinstance(stmt, ast.Return):
            self.exec_return(stmt, frame)
        elif isinstance(stmt, ast.If):
            self.exec_if(stmt, frame)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            self.exec_loop(stmt, frame)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            self.exec_with(stmt, frame)
        elif isinstance(stmt, (ast.Try, _TRY_STAR)):
            self.exec_try(stmt, frame)
        elif isinstance(stmt, FunctionNode):
            for decorator in stmt.decorator_list:
                self.eval(decorator, frame)
            frame.env[stmt.name] = Function(stmt, self, None)  # type: ignore[arg-type]
            if not frame.is_module:
                self.closures[stmt] = {**frame.closure, **frame.env}
        elif isinstance(stmt, ast.ClassDef):
            for decorator in stmt.decorator_list:
                self.eval(decorator, frame)
            frame.env[stmt.name] = self.class_ref(stmt)
        elif isinstance(stmt, _MATCH):
            self.exec_match(stmt, frame)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    frame.env[target.id] = None
        elif isinstance(stmt, (ast.Raise, ast.Assert)):
            for child in ast.iter_child_nodes(stmt):
                self.eval(child, frame)
            frame.stopped = isinstance(stmt, ast.Raise)
        elif isinstance(stmt, (ast.Break, ast.Continue)):
            frame.stopped = True

    # ------------------------------------------------------------------ assignments
    def exec_assign(self, node: ast.Assign, frame: Frame) -> None:
        target, value = node.targets[0], node.value
        if len(node.targets) == 1 and _parallel_tuple(target, value):
            assert isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
            values = [self.eval(element, frame) for element in value.elts]
            for element, element_value in zip(target.elts, values):
                self.bind(element, element_value, frame)
            return
        result = self.eval(value, frame)
        for each in node.targets:
            self.bind(each, result, frame)

    def exec_augassign(self, node: ast.AugAssign, frame: Frame) -> None:
        value = self.eval(node.value, frame)
        current = self.eval(node.target, frame)
        self.bind(node.target, self.arithmetic(node.op, current, value, node.target, node.value, node, frame), frame)

    def bind(self, target: ast.AST, value: Value, frame: Frame) -> None:
        """Assign `value` to a target: a name, an unpacking, an object's attribute, a dict's or list's item."""
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items: tuple[Value, ...] = ()
            if isinstance(value, TupleValue):
                items = value.items
            elif isinstance(value, Record) and not value.partial:
                items = tuple(item for _, item in value.fields)
            elif isinstance(value, LayerList):  # `train, val = random_split(...)`: every item made the same way
                items = (value.last,) * len(target.elts)
            starred = any(isinstance(element, ast.Starred) for element in target.elts)
            known = len(items) == len(target.elts) and not starred
            for index, element in enumerate(target.elts):
                self.bind(element, items[index] if known else None, frame)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None, frame)
        elif isinstance(target, ast.Attribute):
            self.rebind(target, value, frame)  # `obj.attr = value`: the object, changed, goes back where it was
        elif isinstance(target, ast.Subscript):
            owner = self.eval(target.value, frame)
            key = self.eval(target.slice, frame)
            if isinstance(owner, DictValue):
                known_key = constant_key(key)
                self.rebind(target.value, owner.with_item(known_key, value) if known_key is not None else None, frame)
            elif isinstance(owner, TupleValue) and owner.is_list:
                self.rebind(target.value, None, frame)
            elif isinstance(owner, Tensor) and _is_one(value):
                self.rebind(target.value, self._one_written(owner, target, frame), frame)

    def _one_written(self, owner: Tensor, target: ast.AST, frame: Frame) -> Value:
        """`label = [0] * C; label[c] = 1` or `z = torch.zeros(n, C); z[i, c] = 1`: one 1 written into zeros made in the
        same iteration, whose last dimension is a literal class count, is one-hot; a second 1 makes it multi-hot
        (unknown). A 1-D tensor of zeros sized by its samples (`y = torch.zeros(n, dtype=torch.long); y[mask] = 1`)
        holds class indices, not one-hot rows: its size is not a literal, or it is not a list."""
        last = owner.shape[-1] if owner.shape else None
        one_hot_row = last is not None and last >= 2 and (len(owner.shape or ()) >= 2 or owner.dtype == _LIST_ZEROS)
        if owner.zeros_at is not None and owner.zeros_at == frame.loop_nesting and one_hot_row:
            return Tensor(Kind.ONE_HOT, self._origin(target, "one-hot encoding (a 1 written into zeros)"),
                          owner.dtype, owner.shape)
        if owner.kind is Kind.ONE_HOT:
            return Tensor(dtype=owner.dtype, shape=owner.shape) if owner.dtype or owner.shape else None
        return owner

    def rebind(self, expr: ast.AST, value: Value, frame: Frame) -> None:
        """Store a changed object back where it came from: `model`, `self.trainer`, `out["probs"]`."""
        if isinstance(expr, ast.Name):
            if expr.id in frame.env or not frame.is_module or expr.id in self.globals_env:
                frame.env[expr.id] = value
        elif isinstance(expr, ast.Attribute):
            owner = self.eval(expr.value, frame)
            if isinstance(owner, Instance):
                self.rebind(expr.value, owner.with_field(expr.attr, value), frame)
            elif isinstance(owner, Record):  # `args.loss = "bce"` after parse_args
                self.rebind(expr.value, owner.with_field(expr.attr, value), frame)
            elif isinstance(expr.value, ast.Name) and is_constant(value) and (
                    owner is None or (isinstance(owner, Tensor) and not isinstance(value, Const))):
                # an unknown object given constant attributes; or given a dtype after `model = model.half()` of an
                # unknown object, which was only guessed to be a tensor (a tensor's own `x.requires_grad = True`
                # keeps it a tensor)
                self.rebind(expr.value, Record(((expr.attr, value),), partial=True), frame)
        elif isinstance(expr, ast.Subscript):
            owner = self.eval(expr.value, frame)
            key = constant_key(self.eval(expr.slice, frame))
            if isinstance(owner, DictValue) and key is not None:
                self.rebind(expr.value, owner.with_item(key, value), frame)

    def exec_return(self, node: ast.Return, frame: Frame) -> None:
        value = self.eval(node.value, frame) if node.value is not None else None
        frame.stopped = True
        if not frame.inference_branch:
            frame.returns.append(value)
        if frame.function_name == "training_step":  # Lightning back-propagates what training_step returns
            returned = value.get("loss") if isinstance(value, DictValue) else value
            if isinstance(returned, LossResult):
                self.back_propagate(returned, explicit_gradient=False, frame=frame)

    # ------------------------------------------------------------------ branches
    def exec_if(self, node: ast.If, frame: Frame) -> None:
        decided = self.condition(node.test, frame)
        if decided is not None:
            self.exec_block(node.body if decided else node.orelse, frame)
            return
        if converts_unless_converted(node):  # `if x.dtype != dt: x = x.to(dtype=dt)` is the conversion itself
            self.exec_block(node.body, frame)
            return
        default = default_loss_branch(self, node, frame)  # type: ignore[arg-type]
        if default is not None:
            frame.assumes_defaults = True
            self.exec_block(default, frame)
            return
        training_branch = _training_test(node.test)  # True: body is training-only; False: body is inference-only
        before = dict(frame.env)
        with self_for_mode(self, node.test, frame):  # type: ignore[arg-type]
            self._exec_branch(node.body, frame, training_branch is False)
        after_body, body_ends = frame.env, frame.stopped
        frame.env, frame.stopped = dict(before), False
        self._exec_branch(node.orelse, frame, training_branch is True)
        after_else, else_ends = frame.env, frame.stopped
        frame.stopped = body_ends and else_ends
        if body_ends and not else_ends:
            merged = after_else
        elif else_ends and not body_ends:
            merged = after_body
        else:
            merged = join_envs(after_body, after_else)
        self._replace_env(frame, merged)

    def _exec_branch(self, statements: Sequence[ast.stmt], frame: Frame, inference_only: bool) -> None:
        frame.env = dict(frame.env)
        saved = (frame.inference_branch, frame.evaluation)
        if inference_only:
            frame.inference_branch = frame.evaluation = True
        try:
            self.exec_block(statements, frame)
        finally:
            frame.inference_branch, frame.evaluation = saved

    def _replace_env(self, frame: Frame, env: dict[str, Value]) -> None:
        """Install `env` as the frame's environment; the module body keeps the one globals dict functions read."""
        if frame.is_module:
            if env is not self.globals_env:
                self.globals_env.clear()
                self.globals_env.update(env)
            frame.env = self.globals_env
        else:
            frame.env = env

    def exec_match(self, node: ast.AST, frame: Frame) -> None:
        self.eval(node.subject, frame)
        entry = dict(frame.env)
        outcomes: list[dict[str, Value]] = []
        exhaustive = False
        for case in node.cases:
            frame.env = dict(entry)
            for child in ast.walk(case.pattern):
                name = getattr(child, "name", None) or getattr(child, "rest", None)
                if isinstance(name, str):
                    frame.env[name] = None
            if case.guard is not None:
                self.eval(case.guard, frame)
            self.exec_block(case.body, frame)
            if not frame.stopped:
                outcomes.append(frame.env)
            frame.stopped = False
            exhaustive = exhaustive or (isinstance(case.pattern, ast.MatchAs) and case.pattern.pattern is None
                                        and case.guard is None)
        if not exhaustive:
            outcomes.append(entry)
        merged = outcomes[0] if outcomes else entry
        for outcome in outcomes[1:]:
            merged = join_envs(merged, outcome)
        frame.env = entry
        self._replace_env(frame, merged)

    # ------------------------------------------------------------------ loops, with, try
    def exec_loop(self, node: ast.For | ast.AsyncFor | ast.While, frame: Frame) -> None:
        if isinstance(node, ast.While):
            if self.condition(node.test, frame) is False:
                self.exec_block(node.orelse, frame)
                return
            items: Value = None
        else:
            items = iteration_item(self.eval(node.iter, frame))
        entry = dict(frame.env)
        reporting = frame.reporting
        if frame.loop_nesting < MAX_LOOP_NESTING and not self.budget.exhausted:
            # First pass, silent: learn what the end of one iteration feeds back into the next.
            frame.reporting = False
            try:
                self._loop_body(node, items, frame)
            finally:
                frame.reporting = reporting
            self._replace_env(frame, join_envs(entry, frame.env))
        self._loop_body(node, items, frame)
        self._replace_env(frame, join_envs(entry, frame.env))
        self.exec_block(node.orelse, frame)
        frame.stopped = False  # the loop may run zero times, or end early: what follows it runs

    def _loop_body(self, node: ast.For | ast.AsyncFor | ast.While, items: Value, frame: Frame) -> None:
        frame.loop_nesting += 1
        try:
            if not isinstance(node, ast.While):
                self.bind(node.target, items, frame)
            self.exec_block(node.body, frame)
        finally:
            frame.loop_nesting -= 1
            frame.stopped = False

    def exec_with(self, node: ast.With | ast.AsyncWith, frame: Frame) -> None:
        evaluation = frame.evaluation
        for item in node.items:
            self.eval(item.context_expr, frame)
            if self.is_no_grad(item.context_expr):
                evaluation = True
            if item.optional_vars is not None:
                self.bind(item.optional_vars, None, frame)
        saved = frame.evaluation
        frame.evaluation = evaluation
        try:
            self.exec_block(node.body, frame)
        finally:
            frame.evaluation = saved

    def exec_try(self, node: ast.Try, frame: Frame) -> None:
        entry = dict(frame.env)
        self.exec_block(node.body, frame)
        frame.stopped = False
        merged = join_envs(entry, frame.env)
        outcomes = [frame.env]
        for handler in node.handlers:
            frame.env = dict(merged)
            if handler.name is not None:
                frame.env[handler.name] = None
            self.exec_block(handler.body, frame)
            frame.stopped = False
            outcomes.append(frame.env)
        if node.orelse:
            frame.env = dict(outcomes[0])
            self.exec_block(node.orelse, frame)
            frame.stopped = False
            outcomes[0] = frame.env
        result = outcomes[0]
        for outcome in outcomes[1:]:
            result = join_envs(result, outcome)
        frame.env = entry
        self._replace_env(frame, result)
        self.exec_block(node.finalbody, frame)

    def switch_mode(self, call: ast.Call, method: str, frame: Frame) -> None:
        """`model.eval()` puts what follows on an evaluation path; `model.train()` takes it back."""
        if method == "eval" and not call.args:
            frame.env[EVAL_MODE] = True
        elif method == "train":
            argument = call.args[0] if call.args else None
            frame.env[EVAL_MODE] = isinstance(argument, ast.Constant) and argument.value is False


# ---------------------------------------------------------------------- helpers without state
_LIST_ZEROS = "list"  # the dtype mark of `[0] * C` (a Python list of zeros)


def _is_one(value: Value) -> bool:
    from lossguard.static.values import Const

    return isinstance(value, Const) and not isinstance(value.value, str) and value.value == 1


def _parallel_tuple(target: ast.AST, value: ast.AST) -> bool:
    return (
        isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts)
        and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))
    )


def _training_test(test: ast.AST) -> bool | None:
    """True for `self.training`, False for `not self.training` / `self.training is False`, else None."""
    def is_training(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "training"

    if is_training(test):
        return True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and is_training(test.operand):
        return False
    if isinstance(test, ast.Compare) and is_training(test.left) and len(test.ops) == 1:
        comparator = test.comparators[0]
        if isinstance(comparator, ast.Constant) and isinstance(comparator.value, bool):
            positive = isinstance(test.ops[0], (ast.Is, ast.Eq))
            return positive == comparator.value
    return None

