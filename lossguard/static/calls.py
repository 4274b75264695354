"""Calls: the project's own functions, classes and objects, with summaries memoised by argument values.

A mixin of ModuleObserver (flow.py). Calling a function of the analysed project re-reads its body with the
arguments of that call, once per distinct set of argument values (memoised), up to a fixed depth and within the
checked file's work budget (budget.py); what a call could not be read for is unknown, and the objects it was
given are forgotten, since it may have changed them.

Objects are values too: constructing `Trainer(Net(), nn.CrossEntropyLoss())` runs `__init__` (and the helper
methods it calls) on a fresh instance and keeps the attributes it stored; a method called on an instance sees that
instance's attributes and hands back what it changed (`trainer.set_criterion(...)`, `self.build_model()`), which
is stored where the instance came from. Attributes that methods the constructor does not call assign are unknown
on a new instance until a call that sets them is seen.
"""

from __future__ import annotations

import ast
import itertools
from typing import TYPE_CHECKING, Any, Callable, Mapping

from lossguard.findings import Location
from lossguard.static import names as N
from lossguard.static import tables
from lossguard.static.classes import _UNSET, ClassInfo, attributes_set_outside_init
from lossguard.static.frame import Frame
from lossguard.static.loss_defaults import signature_loss_defaults
from lossguard.static.syntax import (
    decorator_names, names_written_through, parameter_defaults, parameter_names, positional_parameter_names,
)
from lossguard.static.values import (
    MAX_ITEMS, ArgParser, Choice, ClassRef, Const, DictValue, ExternalRef, Function, Instance, LayerList,
    LightningTrainer, Loss, Number, Opaque,
    LossResult, Module, ModuleRef, Record, RecordType, SuperRef, Tensor, TupleValue, Value, bounded, constant_key, join_all,
)

if TYPE_CHECKING:
    from lossguard.static.budget import Budget

Args = list[tuple["str | None", Value]]
Exprs = list["ast.AST | None"]

MAX_CALL_DEPTH = 5
_TEMPORARY_SINKS = itertools.count(1)


class Calls:
    budget: "Budget"
    current_call: ast.Call | None
    defaults_memo: dict[ast.AST, dict[str, Value]]
    recursion_writes: dict[ast.AST, frozenset[str]]
    path: str
    test_file: bool
    call_stack: list[ast.AST]
    call_memo: dict[tuple[Any, ...], tuple[Value, dict[int, Value]]]
    closures: dict[ast.AST, Mapping[str, Value]]
    classes: dict[ast.ClassDef, ClassInfo]
    globals_env: dict[str, Value]
    eval: Callable[[ast.AST | None, Frame], Value]
    exec_block: Callable[[list[ast.stmt], Frame], None]
    rebind: Callable[[ast.AST, Value, Frame], None]
    is_unbound: Callable[[str, Frame], bool]
    call_builtin: Callable[..., Value]
    check_loss: Callable[..., Value]
    call_module: Callable[[Module, Args], Value]
    call_qualified: Callable[..., Value]
    tensor_method: Callable[..., Value]
    layer_output: Callable[[Value], Value]
    back_propagate: Callable[..., None]
    switch_mode: Callable[[ast.Call, str, Frame], None]
    is_no_grad: Callable[[ast.AST], bool]
    export: Callable[[str], Value]
    location: Callable[[ast.AST], Location]

    # ------------------------------------------------------------------ call expressions
    def eval_call(self, call: ast.Call, frame: Frame) -> Value:
        func = call.func
        if isinstance(func, ast.Attribute):
            base = self.eval(func.value, frame)
            args, exprs = self.eval_args(call, frame)
            self.current_call = call
            result = self.call_method(base, func.attr, call, args, exprs, frame)
            if not isinstance(base, (Instance, ClassRef, ModuleRef, SuperRef)):
                keeps_receiver = func.attr in N.MODULE_RETURNS_SELF or func.attr in N.MODULE_READS
                receiver: Exprs = [None if keeps_receiver else func.value]
                self._forget_partial_records([*receiver, *exprs], [base, *(value for _, value in args)], frame)
            return result
        if isinstance(func, ast.Name) and self.is_unbound(func.id, frame):
            args, exprs = self.eval_args(call, frame)
            result = self.call_builtin(func.id, call, args, frame)
            if func.id not in _READING_BUILTINS:
                self._forget_partial_records(exprs, [value for _, value in args], frame)
            return result
        callee = self.eval(func, frame)
        args, exprs = self.eval_args(call, frame)
        self.current_call = call
        result = self.apply(callee, call, args, frame, exprs)
        reads_only = callee is None and isinstance(func, ast.Name) and func.id in _READING_BUILTINS
        if not isinstance(callee, (Function, ClassRef, Instance)) and not reads_only:
            self._forget_partial_records(exprs, [value for _, value in args], frame)
        return result

    def _forget_partial_records(self, exprs: Exprs, values: list[Value], frame: Frame) -> None:
        """An unknown object given constant attributes, handed to code that is not read (its own methods, a
        library's function, `setattr`), may have been changed there: what was known of it is forgotten."""
        for expr, value in zip(exprs, values):
            if isinstance(value, Record) and value.partial and expr is not None:
                self.rebind(expr, None, frame)

    def eval_args(self, call: ast.Call, frame: Frame) -> tuple[Args, Exprs]:
        args: Args = []
        exprs: Exprs = []
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                args.append(("*", self.eval(arg.value, frame)))
                exprs.append(None)
            else:
                args.append((None, self.eval(arg, frame)))
                exprs.append(arg)
        for keyword in call.keywords:
            args.append((keyword.arg or "**", self.eval(keyword.value, frame)))
            exprs.append(keyword.value)
        return args, exprs

    def apply(self, callee: Value, call: ast.Call, args: Args, frame: Frame, exprs: Exprs | None = None) -> Value:
        """Calling a known value: a layer or model returns its output, a loss is checked, a def is re-read."""
        exprs = exprs if exprs is not None else [None] * len(args)
        if isinstance(callee, Loss):
            return self.check_loss(callee.contract, call, args, frame, module_form=True, unreduced=callee.unreduced)
        if isinstance(callee, Module):
            return self.call_module(callee, args)
        if isinstance(callee, Instance):
            found = callee.cls.find_method("forward") or callee.cls.find_method("__call__")
            if found is None:
                return None
            method = Function(found[0], found[1].observer, found[1])
            return self.call_function(method, [(None, callee), *args], frame, [call.func, *exprs])
        if isinstance(callee, ClassRef):
            return self.construct(callee.cls, args, frame)
        if isinstance(callee, Function):
            if not (_forwards_in_order(callee.node) and callee.observer is self):
                return self.call_function(callee, args, frame, exprs)
            saved, frame.loss_site = frame.loss_site, call
            try:
                return self.call_function(callee, args, frame, exprs)
            finally:
                frame.loss_site = saved
        if isinstance(callee, ExternalRef):
            return self.call_qualified(callee.name, call, args, frame)
        if isinstance(callee, RecordType):
            return _record(callee.names, args)
        if isinstance(callee, Choice):
            return self.each_option(callee, lambda option: self.apply(option, call, args, frame, exprs), frame)
        return None

    def each_option(self, choice: Choice, invoke: Callable[[Value], Value], frame: Frame) -> Value:
        """Call every alternative; keep the findings all of them make, and join what they return."""
        if not frame.reporting or frame.sink is None:
            return join_all(invoke(option) for option in choice.options)
        main_sink, main_id = frame.sink, frame.sink_id
        kept: list[list[Any]] = []
        results: list[Value] = []
        try:
            for option in choice.options:
                frame.sink, frame.sink_id = [], -next(_TEMPORARY_SINKS)
                results.append(invoke(option))
                kept.append(frame.sink)
        finally:
            frame.sink, frame.sink_id = main_sink, main_id
        common = set.intersection(*({_finding_key(f) for f in found} for found in kept)) if kept else set()
        main_sink.extend(f for f in kept[0] if _finding_key(f) in common)
        return join_all(results)

    # ------------------------------------------------------------------ methods
    def call_method(self, base: Value, method: str, call: ast.Call, args: Args, exprs: Exprs, frame: Frame) -> Value:
        receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
        if isinstance(base, Choice):
            return self.each_option(base, lambda option: self.call_method(option, method, call, args, exprs, frame),
                                    frame)
        if isinstance(base, ExternalRef):
            return self.call_qualified(f"{base.name}.{method}", call, args, frame)
        if isinstance(base, ModuleRef):
            return self.apply(base.observer.export(method), call, args, frame, exprs)
        if isinstance(base, Instance):
            found, value = self._instance_method(base, method, call, args, exprs, frame, receiver)
            if found:
                return value
        elif isinstance(base, SuperRef):
            located = base.cls.find_method(method, after=base.cls)
            if located is not None:
                function = Function(located[0], located[1].observer, located[1])
                self_expr = ast.Name(id=frame.self_name or "self", ctx=ast.Load())
                return self.call_function(function, [(None, base.self_value), *args], frame, [self_expr, *exprs])
            return None
        elif isinstance(base, ClassRef):
            member = self.class_member(base.cls, method)
            if isinstance(member, Function) and "classmethod" in decorator_names(member.node):
                return self.call_function(member, [(None, base), *args], frame, [receiver, *exprs])
            return self.apply(member, call, args, frame, exprs)
        elif isinstance(base, Function) and method == "__call__":
            return self.apply(base, call, args, frame, exprs)
        elif isinstance(base, DictValue):
            return self._dict_method(base, method, args, receiver, frame)
        elif isinstance(base, (TupleValue, LayerList)):
            return self._list_method(base, method, args, receiver, frame)
        elif isinstance(base, ArgParser):
            return self._argparse_method(base, method, call, args, receiver, frame)
        elif isinstance(base, LightningTrainer):
            return self._lightning_fit(method, args, frame)
        elif isinstance(base, (tables.Table, tables.Column)):
            return tables.table_method(base, method)
        if method == "forward" and isinstance(base, (Loss, Module)):
            return self.apply(base, call, args, frame, exprs)
        if isinstance(base, Module) and method in ("append", "add_module") and receiver is not None:
            layer = args[-1][1] if args else None
            self.rebind(receiver, Module(self.layer_output(layer)), frame)
            return None
        losses = [value for _, value in args if isinstance(value, LossResult)]
        if losses and not isinstance(base, LossResult):
            if method in N.BACKWARD_CALLS:  # accelerator.backward(loss), self.manual_backward(loss)
                for result in losses:
                    self.back_propagate(result, explicit_gradient=False, frame=frame)
                return None
            return losses[0] if method == "scale" and len(args) == 1 else None  # scaler.scale(loss).backward()
        if method in ("eval", "train") and not isinstance(base, (Tensor, LossResult)):
            self.switch_mode(call, method, frame)
        if isinstance(base, (Module, Instance, Loss)) or (isinstance(base, Record) and base.partial):
            return base if method in N.MODULE_RETURNS_SELF else None  # model = model.to(device)
        if method in ("eval", "train"):
            return None
        return self.tensor_method(method, base, receiver, call, args, frame)

    def _instance_method(self, instance: Instance, method: str, call: ast.Call, args: Args, exprs: Exprs,
                         frame: Frame, receiver: ast.AST | None) -> tuple[bool, Value]:
        present, field = instance.field(method)
        if present:
            return True, self.apply(field, call, args, frame, exprs)  # self.criterion(out, y)
        member = self.class_member(instance.cls, method)
        if isinstance(member, Function) and member.owner is not None:
            decorators = decorator_names(member.node)
            if "staticmethod" in decorators:
                return True, self.call_function(member, args, frame, exprs)
            first: Value = ClassRef(instance.cls) if "classmethod" in decorators else instance
            return True, self.call_function(member, [(None, first), *args], frame, [receiver, *exprs])
        if member is not None:
            return True, self.apply(member, call, args, frame, exprs)
        if method == "__call__":
            return True, self.apply(instance, call, args, frame, exprs)
        return False, None

    def _dict_method(self, base: DictValue, method: str, args: Args, receiver: ast.AST | None, frame: Frame) -> Value:
        from lossguard.static.expressions import merge

        if method == "get" and args:
            key = constant_key(args[0][1])
            if key is None:
                return None
            found = base.get(key)
            if any(k == key for k, _ in base.items) or len(args) == 1:
                return found
            return args[1][1]
        if method == "update" and receiver is not None:
            updated: DictValue | None = base
            for keyword, value in args:
                if keyword is None:
                    updated = merge(updated, value)
                elif keyword in ("*", "**"):
                    updated = merge(updated, value) if keyword == "**" else None
                elif updated is not None:
                    updated = updated.with_item(keyword, value)
            self.rebind(receiver, updated, frame)
            return None
        if method in ("pop", "setdefault", "clear", "popitem") and receiver is not None:
            self.rebind(receiver, None, frame)
        return None

    def _list_method(self, base: TupleValue | LayerList, method: str, args: Args, receiver: ast.AST | None,
                     frame: Frame) -> Value:
        if receiver is None or (isinstance(base, TupleValue) and not base.is_list):
            return None
        value = args[0][1] if len(args) == 1 and args[0][0] is None else None
        if method == "append" and len(args) == 1:
            grown: Value = (TupleValue(base.items + (value,), True) if isinstance(base, TupleValue)
                            and len(base.items) < MAX_ITEMS else LayerList(value))
            self.rebind(receiver, grown, frame)
        elif method == "extend" and len(args) == 1:
            if isinstance(value, TupleValue) and isinstance(base, TupleValue):
                self.rebind(receiver, bounded(TupleValue(base.items + value.items, True)), frame)
            elif isinstance(value, (TupleValue, LayerList)):
                last = value.last if isinstance(value, LayerList) else (value.items[-1] if value.items else None)
                self.rebind(receiver, LayerList(last) if last is not None else base, frame)
            else:
                self.rebind(receiver, LayerList(None), frame)
        elif method in ("insert", "pop", "remove", "reverse", "sort", "clear"):
            self.rebind(receiver, LayerList(None) if method == "insert" else None, frame)
        return None

    def _lightning_fit(self, method: str, args: Args, frame: Frame) -> Value:
        """`trainer.fit(model, train_loader, val_loader)` (or `datamodule=`): the model's steps on those batches."""
        from lossguard.static.data import iteration_item
        from lossguard.static.torch_semantics import _NO_CALL, _argument

        if method not in ("fit", "validate", "test"):
            return None
        model = _argument(args, 0, ("model",))
        if not isinstance(model, Instance):
            return None
        loaders = {"fit": [("training_step", 1, ("train_dataloaders", "train_dataloader"), "train_dataloader"),
                           ("validation_step", 2, ("val_dataloaders",), "val_dataloader")],
                   "validate": [("validation_step", 1, ("dataloaders",), "val_dataloader")],
                   "test": [("test_step", 1, ("dataloaders",), "test_dataloader")]}[method]
        datamodule = _argument(args, None, ("datamodule",))
        model = self._lightning_setup(model, method, frame)
        if isinstance(datamodule, Instance):
            datamodule = self._lightning_setup(datamodule, method, frame)
        if not isinstance(model, Instance):
            return None
        for step, position, keywords, hook in loaders:
            loader = _argument(args, position, keywords)
            if loader is None and isinstance(datamodule, Instance):
                loader = self.call_method(datamodule, hook, _NO_CALL, [], [], frame)
            batch = iteration_item(loader)
            if batch is not None:
                self.call_method(model, step, _NO_CALL, [(None, batch), (None, Number())], [None, None], frame)
        return None

    def _lightning_setup(self, instance: Instance, stage: str, frame: Frame) -> Value:
        """The Trainer calls `setup(stage)` on the model and the datamodule before it asks for any dataloader:
        datasets (and sometimes losses) that `setup` assigns are there when the steps run."""
        member = self.class_member(instance.cls, "setup")
        if not isinstance(member, Function) or member.owner is None or "staticmethod" in decorator_names(member.node):
            return instance
        _, changed = self.summarise(member, [(None, instance), (None, Const(stage))], frame)
        return changed.get(0, instance)

    def _argparse_method(self, base: ArgParser, method: str, call: ast.Call, args: Args, receiver: ast.AST | None,
                         frame: Frame) -> Value:
        if method == "add_argument" and receiver is not None:
            dest = _option_destination(call)
            if dest is not None:
                defaults = tuple((k, v) for k, v in base.defaults if k != dest) + ((dest, _option_default(call)),)
                self.rebind(receiver, ArgParser(defaults[-MAX_ITEMS:]), frame)
            return None
        if method == "parse_args":
            return Record(base.defaults, from_defaults=True)
        if method == "parse_known_args":
            return TupleValue((Record(base.defaults, from_defaults=True), None))
        return None

    # ------------------------------------------------------------------ attributes
    def attribute_of(self, base: Value, name: str, frame: Frame) -> Value:
        if isinstance(base, ExternalRef):
            return ExternalRef(N.canonical(f"{base.name}.{name}"))
        if isinstance(base, ModuleRef):
            return base.observer.export(name)
        if isinstance(base, Instance):
            present, field = base.field(name)
            if present:
                return field
            member = self.class_member(base.cls, name)
            if isinstance(member, Function) and member.owner is not None:
                return Function(member.node, member.observer, member.owner, bound=base)
            return member
        if isinstance(base, ClassRef):
            return self.class_member(base.cls, name)
        if isinstance(base, Record):
            return base.get(name)
        if isinstance(base, (tables.Table, tables.Column)):
            return tables.table_attribute(base, name)
        if isinstance(base, Choice):
            return join_all(self.attribute_of(option, name, frame) for option in base.options)
        if isinstance(base, Tensor) and name == "data":
            return base
        if isinstance(base, Tensor) and name == "shape" and base.shape is not None:
            return TupleValue(tuple(Const(size) if size is not None else Number() for size in base.shape))
        if name == "shape" and (base is None or isinstance(base, Tensor)):
            return Opaque()
        return None

    def class_member(self, cls: ClassInfo, name: str) -> Value:
        """A class attribute or method of `cls` or its project bases, in method resolution order."""
        for klass in cls.mro():
            attributes = klass.observer.class_attributes(klass)
            if name in attributes:
                return attributes[name]
            if name in klass.methods:
                return Function(klass.methods[name], klass.observer, klass)
        return None

    def class_attributes(self, cls: ClassInfo) -> dict[str, Value]:
        """The class body's own assignments (`loss_cls = nn.BCEWithLogitsLoss`), read once."""
        if cls.class_attributes is not _UNSET:
            return cls.class_attributes
        cls.class_attributes = {}
        frame = Frame(env={}, reporting=False)
        for statement in cls.node.body:
            if isinstance(statement, ast.Assign):
                value = self.eval(statement.value, frame)
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        frame.env[target.id] = value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None and isinstance(statement.target, ast.Name):
                frame.env[statement.target.id] = self.eval(statement.value, frame)
        cls.class_attributes = {name: value for name, value in frame.env.items() if name not in cls.methods}
        return cls.class_attributes

    def resolve_bases(self, cls: ClassInfo) -> None:
        cls.bases = []
        by_name = {info.name: info for info in self.classes.values()}
        frame = Frame(env={}, reporting=False)
        for base in cls.node.bases:
            value = self.eval(base, frame)
            if isinstance(value, ClassRef):
                cls.bases.append(value.cls)
            elif isinstance(base, ast.Name) and base.id in by_name and by_name[base.id] is not cls:
                cls.bases.append(by_name[base.id])

    # ------------------------------------------------------------------ objects
    def construct(self, cls: ClassInfo, args: Args, frame: Frame, unknown_arguments: bool = False) -> Value:
        """A new instance: `__init__` read with these arguments; a record class binds its fields in order."""
        init = cls.find_method("__init__")
        if init is None:
            record = _record(tuple(cls.record_fields), args) if cls.is_record else None
            return Instance(cls, record.fields if isinstance(record, Record) else ())
        function = Function(init[0], init[1].observer, init[1])
        fresh = Instance(cls, ())
        result, changed = self.summarise(function, [(None, fresh), *args], frame, unknown_arguments)
        if result is _CUT:
            return None
        if _ASSUMED_DEFAULTS in changed:
            frame.assumes_defaults = True
        instance = changed.get(0, fresh)
        if not isinstance(instance, Instance):
            return None
        for name in self._outside_init(cls):
            present, _ = instance.field(name)
            if present:
                instance = instance.with_field(name, None) or instance
        return instance

    def default_instance(self, cls: ClassInfo) -> Value:
        """`self` of a method read on its own: the instance `__init__` builds from unknown arguments."""
        if cls.default_instance is _UNSET:
            cls.default_instance = None
            building = Frame(env={}, reporting=False)
            cls.default_instance = self.construct(cls, [], building, unknown_arguments=True)
            cls.default_assumes_defaults = building.assumes_defaults  # a default loss was taken (loss_defaults.py)
        return cls.default_instance

    @staticmethod
    def _outside_init(cls: ClassInfo) -> frozenset[str]:
        cached = getattr(cls, "_outside_init", None)
        if cached is None:
            cached = attributes_set_outside_init(cls)
            cls._outside_init = cached  # type: ignore[attr-defined]
        return cached

    # ------------------------------------------------------------------ functions
    def call_function(self, function: Function, args: Args, frame: Frame, exprs: Exprs) -> Value:
        """Re-read `function` with these arguments; store the objects it changed back into the caller's names."""
        if function.bound is not None:
            args = [(None, function.bound), *args]
            exprs = [None, *exprs]
        result, changed = self.summarise(function, args, frame)
        if _ASSUMED_DEFAULTS in changed:  # the callee decided something on an argparse default
            frame.assumes_defaults = True
        for index, value in changed.items():
            expr = exprs[index] if 0 <= index < len(exprs) else None
            if expr is not None:
                self.rebind(expr, value, frame)
        return None if result is _CUT else result

    def summarise(self, function: Function, args: Args, frame: Frame,
                  unknown_arguments: bool = False) -> tuple[Value, dict[int, Value]]:
        """(what the call returns, {argument index: the object it holds after the call, if changed})."""
        observer = function.observer
        if observer is not self:
            via = frame.via or (self.location_of_call(frame) if frame.reporting else None)
            saved = frame.via
            frame.via = via
            try:
                return observer.summarise(function, args, frame, unknown_arguments)  # type: ignore[attr-defined]
            finally:
                frame.via = saved
        node = function.node
        if node in self.call_stack:
            return _CUT, self._written_by_recursion(node, args)
        if len(self.call_stack) >= MAX_CALL_DEPTH or self.budget.exhausted:
            return _CUT, _forgotten(args)
        bound = self._bind(node, args, unknown_arguments)
        reporting = frame.reporting
        key = (node, function.owner, tuple(sorted((k, v) for k, (v, _) in bound.items())), reporting,
               frame.sink_id if reporting else 0, frame.in_evaluation, frame.assumes_defaults,
               frame.loss_site if isinstance(node, ast.Lambda) else None)
        try:
            cached = self.call_memo.get(key)
        except TypeError:
            key, cached = None, None  # an unhashable value: read without memoising
        if cached is not None:
            return cached
        arguments = key[:3] + key[5:] if key is not None else None  # the call's arguments, read silently or not
        if not self.budget.may_read(id(node), arguments):
            return _CUT, _forgotten(args)
        self.budget.spend(10)
        callee = self.function_frame(function, {k: v for k, (v, _) in bound.items()}, reporting, frame)
        if unknown_arguments:
            callee.unknown_parameters = frozenset(name for name, (_, index) in bound.items() if index is None)
            self.take_loss_defaults(function, callee)
        self.call_stack.append(node)
        try:
            if isinstance(node, ast.Lambda):
                callee.returns.append(self.eval(node.body, callee))
            else:
                self.exec_block(node.body, callee)  # type: ignore[attr-defined]
        finally:
            self.call_stack.pop()
        result = join_all(callee.returns) if callee.returns else None
        changed: dict[int, Value] = {}
        for name, (value, index) in bound.items():
            if index is not None and isinstance(value, _CHANGEABLE) and callee.env.get(name) != value:
                changed[index] = callee.env.get(name)
        if callee.assumes_defaults and not frame.assumes_defaults:
            changed[_ASSUMED_DEFAULTS] = None
        summary = (result, changed)
        if key is not None:
            self.call_memo[key] = summary
        return summary

    def _written_by_recursion(self, node: ast.AST, args: Args) -> dict[int, Value]:
        """A recursive call is not re-read: the objects it is given become unknown, except those its text never
        changes in place (a tree walk `self.propagate(node.left)` keeps `self`, so its layers stay known). The
        outer read of the same function applies the changes it makes anyway."""
        written = self.recursion_writes.get(node)
        if written is None:
            written = self.recursion_writes[node] = names_written_through(node)
        bound = self._bind(node, args, unknown_arguments=True)
        kept = {index for name, (_, index) in bound.items() if index is not None and name not in written}
        return _forgotten(args, kept)

    def _bind(self, node: ast.AST, args: Args, unknown_arguments: bool) -> dict[str, tuple[Value, int | None]]:
        """Argument values by parameter name, with the index of the argument each came from; parameters not
        given take their default (`loss=None` is the constant None), unless the arguments are all unknown."""
        names = parameter_names(node)
        positional = positional_parameter_names(node)
        bound: dict[str, tuple[Value, int | None]] = {}
        position = 0
        starred = False
        for index, (keyword, value) in enumerate(args):
            if keyword == "*":
                starred = True
                break
            if keyword == "**":
                starred = True
                continue
            if keyword is None:
                if position < len(positional):
                    bound[positional[position]] = (value, index)
                position += 1
            elif keyword in names:
                bound[keyword] = (value, index)
        for name in names:
            if name not in bound:
                bound[name] = (None, None)
        if not unknown_arguments and not starred:
            for name, default in self._defaults(node).items():
                if bound[name][1] is None:
                    bound[name] = (default, None)
        return bound

    def _defaults(self, node: ast.AST) -> dict[str, Value]:
        cached = self.defaults_memo.get(node)
        if cached is None:
            frame = Frame(env={}, reporting=False)
            cached = {name: self.eval(expr, frame) for name, expr in parameter_defaults(node).items()}
            self.defaults_memo[node] = cached
        return cached

    def function_frame(self, function: Function, env: dict[str, Value], reporting: bool, caller: Frame) -> Frame:
        node = function.node
        name = getattr(node, "name", "<lambda>")
        evaluation = caller.in_evaluation or name in N.INFERENCE_METHODS or any(
            self.is_no_grad(decorator) for decorator in getattr(node, "decorator_list", ()))
        params = parameter_names(node)
        is_method = function.owner is not None and "staticmethod" not in decorator_names(node)
        return Frame(
            env=dict(env), reporting=reporting, sink=caller.sink, sink_id=caller.sink_id, evaluation=evaluation,
            closure=self.closures.get(node, {}), owner=function.owner, function_name=name,
            self_name=params[0] if is_method and params else None, via=caller.via,
            assumes_defaults=caller.assumes_defaults,
            loss_site=caller.loss_site if isinstance(node, ast.Lambda) else None,
            # a test's own code computes expected values; a model's or a loss module's code in a test file trains
            defer_contracts=caller.defer_contracts or (self.test_file and function.owner is None
                                                       and name.startswith(("test", "_test"))),
        )

    def analyse_standalone(self, node: ast.AST, owner: ClassInfo | None, sink: list[Any]) -> None:
        """Read a function with unknown arguments (and `self` the instance `__init__` builds), reporting findings."""
        env: dict[str, Value] = {name: None for name in parameter_names(node)}
        params = parameter_names(node)
        decorators = decorator_names(node)
        if owner is not None and params and "staticmethod" not in decorators:
            env[params[0]] = ClassRef(owner) if "classmethod" in decorators else self.default_instance(owner)
        top = Frame(env={}, reporting=self.reporting, sink=sink, sink_id=id(sink))  # type: ignore[attr-defined]
        frame = self.function_frame(Function(node, self, owner), env, self.reporting, top)  # type: ignore[arg-type]
        frame.unknown_parameters = frozenset(name for name in params if env[name] is None)
        self.take_loss_defaults(Function(node, self, owner), frame)  # type: ignore[arg-type]
        if owner is not None and params and env[params[0]] is owner.default_instance:
            frame.assumes_defaults = frame.assumes_defaults or owner.default_assumes_defaults
        try:
            self.exec_block(node.body, frame)  # type: ignore[attr-defined]
        except RecursionError:
            pass  # deeper than this interpreter goes: the rest of this function is unknown

    def take_loss_defaults(self, function: Function, frame: Frame) -> None:
        """Unknown parameters whose signature default is a loss take it, with the default configuration."""
        taken = signature_loss_defaults(self, function.node, function.owner, sorted(frame.unknown_parameters),
                                        self._defaults(function.node))  # type: ignore[arg-type]
        if taken:
            frame.env.update(taken)
            frame.unknown_parameters = frame.unknown_parameters - taken.keys()
            frame.assumes_defaults = True

    def location_of_call(self, frame: Frame) -> Location | None:
        node = self.current_call
        return self.location(node) if node is not None else None


# ---------------------------------------------------------------------- helpers without state
_CUT: Any = object()  # a call that was not read (depth, recursion, budget)
_CHANGEABLE = (Instance, DictValue, Record)  # argument values a call can change in place


def _forgotten(args: Args, kept: "set[int] | frozenset[int]" = frozenset()) -> dict[int, Value]:
    """What a call that was not read leaves of its arguments: every object it could have changed is unknown."""
    return {i: None for i, (_, value) in enumerate(args) if isinstance(value, _CHANGEABLE) and i not in kept}
# Builtins that only read their arguments: an object given attributes keeps them (`type(model).__name__`).
_READING_BUILTINS = frozenset({
    "type", "str", "repr", "len", "isinstance", "issubclass", "hasattr", "getattr", "id", "hash", "print", "bool",
    "format", "callable",
})
_ASSUMED_DEFAULTS = -1  # in a summary's changes: the call's outcome rests on an argparse default


def _forwards_in_order(node: ast.AST) -> bool:
    """`lambda logits, targets: F.cross_entropy(logits, targets, ...)`: a lambda that hands its first two parameters,
    in order, to one call; a finding on that call is a finding on the lambda's call, with the same arguments."""
    if not isinstance(node, ast.Lambda) or not isinstance(node.body, ast.Call):
        return False
    parameters = [a.arg for a in (*node.args.posonlyargs, *node.args.args)][:2]
    passed = node.body.args[:2]
    return len(parameters) == 2 == len(passed) and all(
        isinstance(arg, ast.Name) and arg.id == name for arg, name in zip(passed, parameters))


def _finding_key(finding: Any) -> tuple[Any, ...]:
    return (finding.code, finding.path, finding.line, finding.column)


def _record(names: tuple[str, ...], args: Args) -> Value:
    values: dict[str, Value] = {}
    position = 0
    for keyword, value in args:
        if keyword in ("*", "**"):
            return None
        if keyword is None:
            if position < len(names):
                values[names[position]] = value
            position += 1
        elif keyword in names:
            values[keyword] = value
    return Record(tuple((name, values.get(name)) for name in names))


def _option_destination(call: ast.Call) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "dest" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
            return keyword.value.value
    flags = [arg.value for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    long_flags = [flag for flag in flags if flag.startswith("--")]
    chosen = long_flags[0] if long_flags else (flags[0] if flags else None)
    if chosen is None:
        return None
    return chosen.lstrip("-").replace("-", "_")


def _option_default(call: ast.Call) -> Value:
    """The option's default as argparse applies it, marked as a default: a literal, False/True for store flags."""
    values = {keyword.arg: keyword.value for keyword in call.keywords}
    if "default" in values:
        default = values["default"]
        if isinstance(default, ast.Constant) and isinstance(default.value, (str, int, float, bool, type(None))):
            return Const(default.value, from_default=True)
        return None
    if values.get("required") is not None:
        return None
    action = values.get("action")
    if isinstance(action, ast.Constant) and action.value in ("store_true", "store_false"):
        return Const(action.value == "store_false", from_default=True)
    return Const(None, from_default=True)

