"""The static observer: an abstract interpreter that follows values from the model to the loss call.

It walks a module's statements in order, keeping for each name what is provably known about its value (an
activation's output, a one-hot target, a model whose forward returns probabilities, a bound loss). At each loss
call it asks the judge whether the observed input and target break the loss's contract. Unknown stays unknown:
branches that disagree, arithmetic, unresolved calls and anything it does not model give `None`, and `None`
never breaks a rule.

Training path only: loss calls under `torch.no_grad()`/`inference_mode()`, after `model.eval()`, in an
`if not self.training:` branch, or in predict/validation methods are not judged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable, Mapping, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from lossguard.contracts import Kind
from lossguard.findings import Finding
from lossguard.static import names as N
from lossguard.static import shapes
from lossguard.static.classes import _UNSET, ClassInfo
from lossguard.static.imports import ImportMap
from lossguard.static.frame import EVAL_MODE, Frame
from lossguard.static.torch_semantics import TorchSemantics
from lossguard.static.values import (
    ClassRef, Function, Instance, LayerList, Loss, LossResult, Module, ModuleRef, Tensor, TupleValue, Value, join,
    join_envs,
)

_MAX_CALL_DEPTH = 4
_MAX_LOOP_NESTING = 4
_TERMINATORS = (cst.Return, cst.Raise, cst.Continue, cst.Break)
# Import roots that are never the project's own code: no file lookup for them.
_EXTERNAL_PACKAGES = frozenset({
    "torch", "numpy", "np", "pandas", "scipy", "sklearn", "torchvision", "torchaudio", "torchtext", "keras",
    "tensorflow", "jax", "transformers", "pytorch_lightning", "lightning", "os", "sys", "math", "random",
    "collections", "typing", "functools", "itertools", "dataclasses", "pathlib", "json", "time", "logging",
})


Locator = Callable[[int], "tuple[int | None, int]"]  # program line -> (notebook cell, line in cell)


def _no_cells(line: int) -> tuple[int | None, int]:
    return None, line


class ModuleObserver(TorchSemantics):
    """Observe one parsed module and collect its findings.

    `enabled` filters rule codes; `reporting` is False for modules read only because a checked file imports
    them; `resolver` finds the project's own modules behind an import (see project.py).
    """

    def __init__(
        self, module: cst.Module, path: str, enabled: frozenset[str] | None = None, *, reporting: bool = True,
        resolver: "Callable[[str, ModuleObserver], Value] | None" = None, locate: Locator = _no_cells,
        lines: list[str] | None = None,
    ) -> None:
        self.module = module
        self.lines = lines if lines is not None else []  # the source, for `# noqa` suppressions
        self.path = path
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None
        self.enabled = enabled
        self.reporting = reporting
        self.resolver = resolver
        self.locate = locate
        self.imports = ImportMap(module)
        self.resolved_imports: dict[str, Value] = {}
        self._globals_state = "new"  # new -> running -> done
        self._functions_done = False
        self.findings: list[Finding] = []
        self.globals_env: dict[str, Value] = {}
        self.stable_globals = _names_bound_once(module.body)
        self.closures: dict[cst.FunctionDef, Mapping[str, Value]] = {}
        self.classes: dict[cst.ClassDef, ClassInfo] = {}
        self.call_stack: list[cst.FunctionDef] = []
        self.call_memo: dict[tuple[object, ...], Value] = {}

    @property
    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        """Line and column of every node, computed on first need: only modules with a finding pay for them."""
        if self._positions is None:
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._positions

    # ------------------------------------------------------------------ driver
    def run(self) -> list[Finding]:
        """Interpret the module body, then every function and method on its own; return the findings."""
        self.ensure_globals()
        if not self._functions_done:
            self._functions_done = True
            for function, owner in self._all_functions():
                self.analyse_standalone(function, owner)
        return self.findings

    def ensure_globals(self) -> None:
        """Interpret the module body once, so its top-level names (classes, defs, models) can be exported."""
        if self._globals_state != "new":
            return
        self._globals_state = "running"
        self._collect_classes()
        top = Frame(env=self.globals_env, reporting=self.reporting, is_module=True)
        self.exec_block(self.module.body, top)
        self._globals_state = "done"

    def export(self, name: str) -> Value:
        """The value of a top-level name as another module imports it (unknown while this module is running)."""
        self.ensure_globals()
        if self._globals_state != "done" or name not in self.stable_globals:
            return None
        return self.globals_env.get(name)

    def _collect_classes(self) -> None:
        observer = self

        class Collector(cst.CSTVisitor):
            def visit_ClassDef(self, node: cst.ClassDef) -> None:
                observer.classes[node] = ClassInfo(node, observer)

        self.module.visit(Collector())
        by_name = {info.name: info for info in self.classes.values()}
        for info in self.classes.values():
            for base in info.node.bases:
                if isinstance(base.value, cst.Name) and base.value.value in by_name:
                    local = by_name[base.value.value]
                    if local is not info:
                        info.local_bases.append(local)

    def _all_functions(self) -> Iterable[tuple[cst.FunctionDef, ClassInfo | None]]:
        found: list[tuple[cst.FunctionDef, ClassInfo | None]] = []
        owners: list[ClassInfo | None] = [None]
        observer = self

        class Collector(cst.CSTVisitor):
            def visit_ClassDef(self, node: cst.ClassDef) -> None:
                owners.append(observer.classes.get(node))

            def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
                owners.pop()

            def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
                found.append((node, owners[-1]))
                owners.append(None)

            def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
                owners.pop()

        self.module.visit(Collector())
        return found

    def analyse_standalone(self, function: cst.FunctionDef, owner: ClassInfo | None) -> None:
        """Interpret a function with unknown arguments (and `self` bound to its class), reporting findings."""
        frame = self._function_frame(function, owner, args=None, reporting=self.reporting)
        self.exec_block(_body(function), frame)

    def _function_frame(
        self, function: cst.FunctionDef, owner: ClassInfo | None, args: dict[str, Value] | None, reporting: bool,
    ) -> Frame:
        env: dict[str, Value] = {}
        params = _parameter_names(function)
        for index, name in enumerate(params):
            env[name] = None
            if index == 0 and owner is not None and not _is_static(function):
                env[name] = Instance(owner)
        if args:
            env.update({k: v for k, v in args.items() if k in env})
        inference = function.name.value in N.INFERENCE_METHODS or any(
            self._is_no_grad(decorator.decorator) for decorator in function.decorators
        )
        return Frame(env=env, reporting=reporting, inference=inference,
                     closure=self.closures.get(function, {}), owner=owner, function_name=function.name.value)

    # ------------------------------------------------------------------ statements
    def exec_block(self, statements: Sequence[cst.BaseStatement | cst.BaseSmallStatement], frame: Frame) -> None:
        for statement in statements:
            self.exec_statement(statement, frame)

    def exec_statement(self, stmt: cst.CSTNode, frame: Frame) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.exec_small(small, frame)
        elif isinstance(stmt, cst.If):
            self.exec_if(stmt, frame)
        elif isinstance(stmt, (cst.For, cst.While)):
            self.exec_loop(stmt, frame)
        elif isinstance(stmt, cst.With):
            self.exec_with(stmt, frame)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            self.exec_try(stmt, frame)
        elif isinstance(stmt, cst.FunctionDef):
            for decorator in stmt.decorators:
                self.eval(decorator.decorator, frame)
            frame.env[stmt.name.value] = Function(stmt, self, None)
            if not frame.is_module:
                self.closures[stmt] = {**frame.closure, **frame.env}
        elif isinstance(stmt, cst.ClassDef):
            frame.env[stmt.name.value] = ClassRef(self.classes[stmt])
        else:
            for name in _assigned_names(stmt):
                frame.env[name] = None

    def exec_small(self, small: cst.BaseSmallStatement, frame: Frame) -> None:
        if isinstance(small, cst.Assign):
            if len(small.targets) == 1 and _parallel_tuple(small.targets[0].target, small.value):
                target, value = small.targets[0].target, small.value
                assert isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List))
                values = [self.eval(e.value, frame) for e in value.elements]
                for element, element_value in zip(target.elements, values):
                    self.bind(element.value, element_value, frame)
                return
            value = self.eval(small.value, frame)
            for target in small.targets:
                self.bind(target.target, value, frame)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.bind(small.target, self.eval(small.value, frame), frame)
        elif isinstance(small, cst.AugAssign):
            self.exec_augassign(small, frame)
        elif isinstance(small, cst.Expr):
            self.eval(small.value, frame)
        elif isinstance(small, cst.Return):
            value = self.eval(small.value, frame) if small.value is not None else None
            if not frame.inference:
                frame.returns.append(value)
            if isinstance(value, LossResult) and frame.function_name == "training_step":
                self.back_propagate(value, explicit_gradient=False, frame=frame)  # Lightning back-propagates it
        elif isinstance(small, cst.Del):
            for name in _assigned_names(small):
                frame.env[name] = None
        elif isinstance(small, (cst.Raise, cst.Assert)):
            for child in _child_expressions(small):
                self.eval(child, frame)

    def exec_augassign(self, node: cst.AugAssign, frame: Frame) -> None:
        value = self.eval(node.value, frame)
        target = node.target
        if isinstance(target, cst.Name):
            current = frame.env.get(target.value)
            if isinstance(current, LayerList) and isinstance(node.operator, cst.AddAssign) and isinstance(value, LayerList):
                frame.env[target.value] = value
                return
        self.bind(target, None, frame)

    def exec_if(self, node: cst.If, frame: Frame) -> None:
        self.eval(node.test, frame)
        training_branch = _training_test(node.test)  # True: body is training-only; False: body is inference-only
        before = dict(frame.env)
        body_inference = frame.inference or training_branch is False
        else_inference = frame.inference or training_branch is True
        self._exec_branch(node.body.body, frame, body_inference)
        after_body = frame.env
        frame.env = before
        orelse = node.orelse
        if isinstance(orelse, cst.If):
            self._with_inference(frame, else_inference, lambda: self.exec_if(orelse, frame))
        elif isinstance(orelse, cst.Else):
            self._exec_branch(orelse.body.body, frame, else_inference)
        after_else = frame.env
        body_ends = _terminates(node.body.body)
        else_ends = orelse is not None and isinstance(orelse, cst.Else) and _terminates(orelse.body.body)
        if body_ends and not else_ends:
            merged = after_else
        elif else_ends and not body_ends:
            merged = after_body
        else:
            merged = join_envs(after_body, after_else)
        self._replace_env(frame, merged)

    def _exec_branch(self, statements: Sequence[cst.BaseStatement], frame: Frame, inference: bool) -> None:
        frame.env = dict(frame.env)
        self._with_inference(frame, inference, lambda: self.exec_block(statements, frame))

    @staticmethod
    def _with_inference(frame: Frame, inference: bool, action: Callable[[], None]) -> None:
        saved = frame.inference
        frame.inference = inference
        try:
            action()
        finally:
            frame.inference = saved

    def _replace_env(self, frame: Frame, env: dict[str, Value]) -> None:
        """Install `env` as the frame's environment; the module body keeps the one globals dict functions read."""
        if frame.is_module:
            if env is not self.globals_env:
                self.globals_env.clear()
                self.globals_env.update(env)
            frame.env = self.globals_env
        else:
            frame.env = env

    def exec_loop(self, node: cst.For | cst.While, frame: Frame) -> None:
        if isinstance(node, cst.For):
            self.eval(node.iter, frame)
        else:
            self.eval(node.test, frame)
        entry = dict(frame.env)
        reporting = frame.reporting
        if frame.loop_nesting < _MAX_LOOP_NESTING:
            # First pass, silent: learn what the end of one iteration feeds back into the next.
            frame.reporting = False
            self._loop_body(node, frame)
            frame.reporting = reporting
            self._replace_env(frame, join_envs(entry, frame.env))
        self._loop_body(node, frame)
        self._replace_env(frame, join_envs(entry, frame.env))
        if node.orelse is not None:
            self.exec_block(node.orelse.body.body, frame)

    def _loop_body(self, node: cst.For | cst.While, frame: Frame) -> None:
        frame.loop_nesting += 1
        try:
            if isinstance(node, cst.For):
                self.bind(node.target, None, frame)
            self.exec_block(node.body.body, frame)
        finally:
            frame.loop_nesting -= 1

    def exec_with(self, node: cst.With, frame: Frame) -> None:
        inference = frame.inference
        for item in node.items:
            self.eval(item.item, frame)
            if self._is_no_grad(item.item):
                inference = True
            if item.asname is not None:
                self.bind(item.asname.name, None, frame)
        self._with_inference(frame, inference, lambda: self.exec_block(node.body.body, frame))

    def exec_try(self, node: cst.Try | cst.TryStar, frame: Frame) -> None:
        entry = dict(frame.env)
        self.exec_block(node.body.body, frame)
        merged = join_envs(entry, frame.env)
        outcomes = [frame.env]
        for handler in node.handlers:
            frame.env = dict(merged)
            if handler.name is not None:
                self.bind(handler.name.name, None, frame)
            self.exec_block(handler.body.body, frame)
            outcomes.append(frame.env)
        if node.orelse is not None:
            frame.env = dict(outcomes[0])
            self.exec_block(node.orelse.body.body, frame)
            outcomes[0] = frame.env
        result = outcomes[0]
        for outcome in outcomes[1:]:
            result = join_envs(result, outcome)
        frame.env = entry
        self._replace_env(frame, result)
        if node.finalbody is not None:
            self.exec_block(node.finalbody.body.body, frame)

    def _is_no_grad(self, expr: cst.BaseExpression) -> bool:
        """`torch.no_grad()`, `torch.inference_mode()`, `torch.set_grad_enabled(False)`, or the bare decorator."""
        call = expr if isinstance(expr, cst.Call) else None
        qualified = self._qualify(call.func if call else expr)
        if qualified in N.NO_GRAD:
            return True
        if qualified == "torch.set_grad_enabled" and call and call.args:
            value = call.args[0].value
            return isinstance(value, cst.Name) and value.value == "False"
        return False

    # ------------------------------------------------------------------ binding
    def bind(self, target: cst.BaseExpression, value: Value, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = value.items if isinstance(value, TupleValue) else ()
            starred = any(isinstance(element, cst.StarredElement) for element in target.elements)
            known = len(items) == len(target.elements) and not starred
            for index, element in enumerate(target.elements):
                self.bind(element.value, items[index] if known else None, frame)
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value, None, frame)
        elif isinstance(target, cst.Attribute):
            self.eval(target.value, frame)
            owner = frame.analysing_init
            if owner is not None and isinstance(target.value, cst.Name) and target.value.value == "self":
                attributes = owner.attributes
                name = target.attr.value
                attributes[name] = join(attributes[name], value) if name in attributes else value
        elif isinstance(target, cst.Subscript):
            self.eval(target, frame)

    def lookup(self, name: str, frame: Frame) -> Value:
        if name in frame.env:
            return frame.env[name]
        if name in frame.closure:
            return frame.closure[name]
        if name in self.stable_globals and name in self.globals_env:
            return self.globals_env.get(name)
        if name in self.imports.aliases:
            return self.resolve_import(self.imports.aliases[name])
        return None

    def resolve_import(self, qualified: str) -> Value:
        """A name imported from the project's own code (`from models import Net`): its value there."""
        if self.resolver is None or qualified.split(".", 1)[0] in _EXTERNAL_PACKAGES:
            return None
        if qualified not in self.resolved_imports:
            self.resolved_imports[qualified] = None  # guards import cycles
            self.resolved_imports[qualified] = self.resolver(qualified, self)
        return self.resolved_imports[qualified]

    # ------------------------------------------------------------------ expressions
    def eval(self, expr: cst.BaseExpression | None, frame: Frame) -> Value:
        if expr is None:
            return None
        if isinstance(expr, cst.Name):
            return self.lookup(expr.value, frame)
        if isinstance(expr, cst.Call):
            return self.eval_call(expr, frame)
        if isinstance(expr, cst.Attribute):
            return self.eval_attribute(expr, frame)
        if isinstance(expr, cst.Subscript):
            return self.eval_subscript(expr, frame)
        if isinstance(expr, cst.IfExp):
            self.eval(expr.test, frame)
            return join(self.eval(expr.body, frame), self.eval(expr.orelse, frame))
        if isinstance(expr, cst.NamedExpr):
            value = self.eval(expr.value, frame)
            self.bind(expr.target, value, frame)
            return value
        if isinstance(expr, cst.List):
            values = [self.eval(element.value, frame) for element in expr.elements]
            if not values:
                return LayerList(None)
            if isinstance(values[-1], (Module, Instance)) and not isinstance(expr.elements[-1], cst.StarredElement):
                return LayerList(values[-1])
            return None
        if isinstance(expr, cst.Tuple):
            items = tuple(self.eval(element.value, frame) for element in expr.elements)
            if any(isinstance(element, cst.StarredElement) for element in expr.elements):
                return None
            return TupleValue(items)
        if isinstance(expr, cst.Comparison):
            for child in _child_expressions(expr):
                self.eval(child, frame)
            return Tensor(nondiff="a comparison", dtype="bool")
        if isinstance(expr, cst.BinaryOperation):
            return _combine_losses(self.eval(expr.left, frame), self.eval(expr.right, frame))
        if isinstance(expr, cst.UnaryOperation):
            operand = self.eval(expr.expression, frame)
            return operand if isinstance(operand, LossResult) else None
        if isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            self.eval_comprehension(expr, frame)
            return None
        if isinstance(expr, cst.Lambda):
            return None
        for child in _child_expressions(expr):
            self.eval(child, frame)
        return None

    def eval_comprehension(self, expr: cst.BaseExpression, frame: Frame) -> None:
        inner = Frame(env=dict(frame.env), reporting=frame.reporting, inference=frame.inference,
                      closure=frame.closure, owner=frame.owner)
        clause = getattr(expr, "for_in", None)
        while clause is not None:
            self.eval(clause.iter, inner)
            self.bind(clause.target, None, inner)
            for condition in clause.ifs:
                self.eval(condition.test, inner)
            clause = clause.inner_for_in
        for part in ("elt", "key", "value"):
            child = getattr(expr, part, None)
            if isinstance(child, cst.BaseExpression):
                self.eval(child, inner)

    def eval_attribute(self, expr: cst.Attribute, frame: Frame) -> Value:
        qualified = self._qualify(expr)
        if qualified is not None:
            return self.resolve_import(qualified)
        base = self.eval(expr.value, frame)
        if isinstance(base, Instance):
            return self.attribute_of(base.cls, expr.attr.value)
        if isinstance(base, ModuleRef):
            return base.observer.export(expr.attr.value)
        return None

    def attribute_of(self, cls: ClassInfo, name: str) -> Value:
        if name in cls.attributes_set_elsewhere:
            return None
        attributes = self.class_attributes(cls)
        if name in attributes:
            return attributes[name]
        method = cls.find_method(name)
        if method is not None:
            return Function(method[0], method[1].observer, method[1])
        return None

    def class_attributes(self, cls: ClassInfo) -> dict[str, Value]:
        """What `__init__` (and the local base classes' `__init__`) stores on self."""
        if cls.observer is not self:
            return cls.observer.class_attributes(cls)
        if cls.attributes is not _UNSET:
            return cls.attributes
        cls.attributes = {}
        for base in cls.local_bases:
            cls.attributes.update(self.class_attributes(base))
        init = cls.methods.get("__init__")
        if init is not None:
            frame = self._function_frame(init, cls, args=None, reporting=False)
            frame.analysing_init = cls
            self.exec_block(_body(init), frame)
        return cls.attributes

    def forward_of(self, cls: ClassInfo) -> Value:
        """What calling an instance returns in training mode: the join of forward's training-path returns."""
        if cls.observer is not self:
            return cls.observer.forward_of(cls)
        if cls.forward_returns is not _UNSET:
            return cls.forward_returns
        cls.forward_returns = None  # guards recursion
        found = cls.find_method("forward")
        if found is None:
            return None
        method, owner = found
        frame = self._function_frame(method, owner, args=None, reporting=False)
        frame.owner = cls
        frame.env[_parameter_names(method)[0]] = Instance(cls)
        self.exec_block(_body(method), frame)
        cls.forward_returns = _join_all(frame.returns)
        return cls.forward_returns

    def eval_subscript(self, expr: cst.Subscript, frame: Frame) -> Value:
        for element in expr.slice:
            if isinstance(element.slice, cst.Index):
                self.eval(element.slice.value, frame)
        if isinstance(expr.value, cst.Call) and self._qualify(expr.value.func) in N.EYE_FUNCTIONS:
            for arg in expr.value.args:
                self.eval(arg.value, frame)
            return Tensor(Kind.ONE_HOT, self._origin(expr, "one-hot encoding (identity-matrix rows)"), None)
        base = self.eval(expr.value, frame)
        if isinstance(base, TupleValue) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
            position = shapes.literal_int(expr.slice[0].slice.value)
            if position is not None and -len(base.items) <= position < len(base.items):
                return base.items[position]
        if not isinstance(base, Tensor):
            return None
        single_index = len(expr.slice) == 1
        if base.kind is Kind.PROBABILITIES or (single_index and base.kind is not Kind.UNKNOWN):
            return replace(base, shape=None)
        return None

    def eval_call(self, call: cst.Call, frame: Frame) -> Value:
        func = call.func
        qualified = self._qualify(func)
        if qualified is not None:
            return self.call_qualified(qualified, call, self._eval_args(call, frame), frame)
        if isinstance(func, cst.Attribute):
            return self.call_method(call, func, frame)
        callee = self.eval(func, frame)
        args = self._eval_args(call, frame)
        return self.apply(callee, call, args, frame)

    def _eval_args(self, call: cst.Call, frame: Frame) -> list[tuple[str | None, Value]]:
        return [(arg.keyword.value if arg.keyword else ("*" if arg.star else None), self.eval(arg.value, frame))
                for arg in call.args]

    def apply(self, callee: Value, call: cst.Call, args: list[tuple[str | None, Value]], frame: Frame) -> Value:
        """Calling a known value: a layer or model returns its output, a loss is checked, a def is interpreted."""
        if isinstance(callee, Loss):
            return self.check_loss(callee.contract, call, args, frame, module_form=True, unreduced=callee.unreduced)
        if isinstance(callee, Module):
            return self.call_module(callee, args)
        if isinstance(callee, Instance):
            return self.forward_of(callee.cls)
        if isinstance(callee, ClassRef):
            return Instance(callee.cls)
        if isinstance(callee, Function):
            return self.call_function(callee, args, frame)
        return None

    def call_method(self, call: cst.Call, func: cst.Attribute, frame: Frame) -> Value:
        method = func.attr.value
        base = self.eval(func.value, frame)
        args = self._eval_args(call, frame)
        if isinstance(base, Instance):
            member = self.attribute_of(base.cls, method)
            if isinstance(member, Function) and member.owner is not None:
                return self.call_function(member, [(None, base), *args], frame)
            if member is None and method in N.MODULE_RETURNS_SELF:
                if isinstance(func.value, cst.Name):
                    self._method_side_effects(func.value.value, base, method, call, args, frame)
                return base  # model = Net().to(device)
            return self.apply(member, call, args, frame)
        if isinstance(base, ModuleRef):
            return self.apply(base.observer.export(method), call, args, frame)
        if method == "forward" and isinstance(base, (Loss, Module)):
            return self.apply(base, call, args, frame)
        if isinstance(func.value, cst.Name):
            self._method_side_effects(func.value.value, base, method, call, args, frame)
        losses = [value for _, value in args if isinstance(value, LossResult)]
        if losses and not isinstance(base, LossResult):
            if method in N.BACKWARD_CALLS:  # accelerator.backward(loss), self.manual_backward(loss)
                for result in losses:
                    self.back_propagate(result, explicit_gradient=False, frame=frame)
                return None
            return losses[0] if method == "scale" and len(args) == 1 else None  # scaler.scale(loss).backward()
        if isinstance(base, (Module, Instance)):
            return base if method in N.MODULE_RETURNS_SELF else None  # model = model.to(device)
        if method in ("eval", "train"):
            return None
        return self.tensor_method(method, base, func.value, call, args, frame)

    def _method_side_effects(
        self, name: str, base: Value, method: str, call: cst.Call,
        args: list[tuple[str | None, Value]], frame: Frame,
    ) -> None:
        """Mutating calls that change what a name holds: appending layers, `model.eval()` / `model.train()`."""
        if method == "eval" and not args:
            frame.env[EVAL_MODE] = True
        elif method == "train":
            switch_off = bool(args) and isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == "False"
            frame.env[EVAL_MODE] = switch_off
        elif isinstance(base, LayerList) and method in ("append", "extend", "insert"):
            if method == "append" and len(args) == 1:
                frame.env[name] = LayerList(args[0][1])
            elif method == "extend" and len(args) == 1 and isinstance(args[0][1], LayerList):
                frame.env[name] = args[0][1]
            else:
                frame.env[name] = LayerList(None)
        elif isinstance(base, Module) and method in ("append", "add_module"):
            layer = args[-1][1] if args else None
            frame.env[name] = Module(self.layer_output(layer))
        elif name in frame.env and method in ("append", "extend", "insert", "add_module"):
            frame.env[name] = None

    # ------------------------------------------------------------------ calls of the analysed source's own defs
    def call_function(self, function: Function, args: list[tuple[str | None, Value]], frame: Frame) -> Value:
        if function.observer is not self:
            return function.observer.call_function(function, args, frame)
        node = function.node
        if node in self.call_stack or len(self.call_stack) >= _MAX_CALL_DEPTH:
            return None
        bound = _bind_arguments(node, args)
        reporting = (self.reporting and frame.reporting and not frame.inference
                     and any(v is not None for v in bound.values()))
        key = (node, function.owner, tuple(sorted(bound.items(), key=lambda item: item[0])), reporting)
        try:
            if key in self.call_memo:
                return self.call_memo[key]
        except TypeError:
            key = None  # an unhashable value: interpret without memoising
        callee_frame = self._function_frame(node, function.owner, args=bound, reporting=reporting)
        self.call_stack.append(node)
        try:
            self.exec_block(_body(node), callee_frame)
        finally:
            self.call_stack.pop()
        result = _join_all(callee_frame.returns)
        if key is not None:
            self.call_memo[key] = result
        return result


# ---------------------------------------------------------------------- module-level helpers
def _body(function: cst.FunctionDef) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    body = function.body
    return body.body if isinstance(body, cst.IndentedBlock) else body.body


def _parameter_names(function: cst.FunctionDef) -> list[str]:
    params = function.params
    ordered = [*params.posonly_params, *params.params]
    names = [p.name.value for p in ordered]
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    names += [p.name.value for p in params.kwonly_params]
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return names


def _positional_parameter_names(function: cst.FunctionDef) -> list[str]:
    params = function.params
    return [p.name.value for p in (*params.posonly_params, *params.params)]


def _is_static(function: cst.FunctionDef) -> bool:
    return any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in function.decorators)


def _bind_arguments(function: cst.FunctionDef, args: list[tuple[str | None, Value]]) -> dict[str, Value]:
    """Argument values by parameter name; a starred argument makes every later position unknown."""
    positional = _positional_parameter_names(function)
    bound: dict[str, Value] = {}
    index = 0
    for keyword, value in args:
        if keyword == "*":
            break
        if keyword is None:
            if index < len(positional):
                bound[positional[index]] = value
            index += 1
        elif keyword in _parameter_names(function):
            bound[keyword] = value
    return bound


def _combine_losses(left: Value, right: Value) -> Value:
    """`loss_a + 0.1 * loss_b`: arithmetic on losses is still a loss, carrying what waits for `.backward()`."""
    results = [value for value in (left, right) if isinstance(value, LossResult)]
    if not results:
        return None
    pending = tuple(dict.fromkeys(f for result in results for f in result.pending))
    unreduced = tuple(dict.fromkeys(f for result in results for f in result.unreduced))
    return LossResult(pending, unreduced)


def _join_all(values: list[Value]) -> Value:
    if not values:
        return None
    result = values[0]
    for value in values[1:]:
        result = join(result, value)
    return result


def _training_test(test: cst.BaseExpression) -> bool | None:
    """True for `self.training`, False for `not self.training` / `self.training is False`, else None."""
    def is_training(node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Attribute) and node.attr.value == "training"

    if is_training(test):
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and is_training(test.expression):
        return False
    if isinstance(test, cst.Comparison) and is_training(test.left) and len(test.comparisons) == 1:
        comparison = test.comparisons[0]
        if isinstance(comparison.comparator, cst.Name) and comparison.comparator.value in ("True", "False"):
            positive = isinstance(comparison.operator, (cst.Is, cst.Equal))
            return positive == (comparison.comparator.value == "True")
    return None


def _terminates(statements: Sequence[cst.BaseStatement]) -> bool:
    if not statements:
        return False
    last = statements[-1]
    return isinstance(last, cst.SimpleStatementLine) and any(isinstance(s, _TERMINATORS) for s in last.body)


def _parallel_tuple(target: cst.BaseExpression, value: cst.BaseExpression) -> bool:
    return (
        isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List))
        and len(target.elements) == len(value.elements)
        and not any(isinstance(e, cst.StarredElement) for e in (*target.elements, *value.elements))
    )


def _child_expressions(node: cst.CSTNode) -> list[cst.BaseExpression]:
    """The nearest expressions inside `node` (not inside nested expressions), to look for loss calls in them."""
    found: list[cst.BaseExpression] = []
    for child in node.children:
        if isinstance(child, cst.BaseExpression):
            found.append(child)
        elif not isinstance(child, (cst.BaseSuite, cst.BaseStatement)):
            found.extend(_child_expressions(child))
    return found


def _assigned_names(node: cst.CSTNode) -> set[str]:
    """Every plain name bound anywhere inside `node` (assignments, loop and with targets, walrus, imports)."""
    names: set[str] = set()

    class Collector(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            names.add(name.value)

    node.visit(Collector())
    return names


def _names_bound_once(body: Sequence[cst.BaseStatement]) -> frozenset[str]:
    """Module-level names bound exactly once, outside loops: functions may read them as known globals."""
    counts: dict[str, int] = {}
    observer_counts = counts

    def bump(name: str, times: int = 1) -> None:
        observer_counts[name] = observer_counts.get(name, 0) + times

    def targets(expr: cst.BaseExpression, times: int) -> None:
        if isinstance(expr, cst.Name):
            bump(expr.value, times)
        elif isinstance(expr, (cst.Tuple, cst.List)):
            for element in expr.elements:
                targets(element.value, times)
        elif isinstance(expr, cst.StarredElement):
            targets(expr.value, times)

    def walk(statements: Sequence[cst.CSTNode], times: int) -> None:
        for stmt in statements:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for target in small.targets:
                            targets(target.target, times)
                    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                        targets(small.target, 2)
                    elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                        for alias in small.names:
                            local = alias.asname.name if alias.asname else alias.name
                            if isinstance(local, cst.Name):
                                bump(local.value, times)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                bump(stmt.name.value, times)
            elif isinstance(stmt, (cst.For, cst.While)):
                if isinstance(stmt, cst.For):
                    targets(stmt.target, 2)
                walk(stmt.body.body, 2)
                if stmt.orelse:
                    walk(stmt.orelse.body.body, 2)
            elif isinstance(stmt, cst.If):
                walk(stmt.body.body, times)
                orelse = stmt.orelse
                while orelse is not None:
                    walk(orelse.body.body, times)
                    orelse = orelse.orelse if isinstance(orelse, cst.If) else None
            elif isinstance(stmt, (cst.With, cst.Try, cst.TryStar)):
                walk(stmt.body.body, times)
                for handler in getattr(stmt, "handlers", ()):
                    walk(handler.body.body, times)
            else:
                for name in _assigned_names(stmt):
                    bump(name, 2)

    walk(body, 1)
    return frozenset(name for name, count in counts.items() if count == 1)
