"""What PyTorch calls do to abstract values: activations, layers, casts, reshapes, factories and loss calls.

A mixin of ModuleObserver (flow.py): the interpreter walks statements and binds names; this part knows torch.
It judges each loss call, and reports the rules that are about usage rather than a loss's contract (LG402,
LG403), and the ones that only matter if the loss is back-propagated (LG401, LG404), once `.backward()` is seen.
A loss computed on an evaluation path (no_grad, after `model.eval()`, a validation step) is judged against its
contract too, with a message that says so: the validation loss is what early stopping and checkpoints read.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Any, Callable

from lossguard.contracts import Kind, LossContract
from lossguard.findings import Finding, Location
from lossguard.judge import Observed, judge
from lossguard.rules import get_rule
from lossguard.static import names as N
from lossguard.static import shapes, tables
from lossguard.static.data import batched, row_of
from lossguard.static.conversions import ConversionLog
from lossguard.static.frame import Frame
from lossguard.static.imports import ImportMap
from lossguard.static.one_hot import STACKING_FUNCTIONS, stacks_class_masks
from lossguard.static.suppressions import is_suppressed
from lossguard.static.syntax import argument_expr, keyword_value, literal_str
from lossguard.static.values import (
    ArgParser, Batches, Choice, Const, DatasetValue, ExternalRef, Instance, LayerList, Loss, LossResult, Module, Number, Opaque, Origin,
    LightningTrainer, Record, RecordType, Tensor, TupleValue, Value,
    is_int, join_all,
)

Args = list[tuple["str | None", Value]]  # (keyword, or "*"/"**" for a starred argument, or None; value)

# Names suggesting a float target is already a distribution (distillation, smoothing, mixup): never LG202.
_SOFT_TARGET_WORDS = ("soft", "prob", "dist", "teacher", "smooth", "mix", "logit", "pred", "score", "weight")
_SHAPE_RULES = frozenset({"LG109", "LG301", "LG302", "LG303", "LG304", "LG305"})
_SHAPE_METHODS = frozenset({
    "view", "reshape", "squeeze", "unsqueeze", "flatten", "transpose", "permute", "t", "resize", "resize_",
    "expand", "repeat", "narrow",
})
_EVALUATION_NOTE = "on an evaluation path: the reported loss is wrong, training itself is not affected"
_DEFAULTS_NOTE = "with the default configuration"


class TorchSemantics:
    # Provided by ModuleObserver.
    path: str
    conversions: ConversionLog
    imports: ImportMap
    enabled: frozenset[str] | None
    lines: list[str]
    locate: Callable[[int], "tuple[int | None, int]"]
    eval: Callable[[ast.AST | None, Frame], Value]
    apply: Callable[..., Value]
    star_externals: list[str]
    column_of: Callable[[int, int], int]
    call_method: Callable[..., Value]

    # ------------------------------------------------------------------ calls of torch names
    def call_qualified(self, qualified: str, call: ast.Call, args: Args, frame: Frame) -> Value:
        name = N.canonical(qualified)
        first = args[0][1] if args else None
        if name in tables.TABLE_MAKERS:
            return tables.Table()
        if name in tables.ARRAY_SPLITS:
            return tables.split_arrays([value for keyword, value in args if keyword is None])
        contract = N.loss_function(name)
        if contract is not None:
            return self.check_loss(contract, call, args, frame, module_form=False, unreduced=_reduction_none(call))
        contract = N.loss_module(name)
        if contract is not None:
            self._check_loss_construction(contract, call, frame)
            return Loss(contract, _reduction_none(call))
        if name in N.ACTIVATION_FUNCTIONS:
            return self._activation(N.ACTIVATION_FUNCTIONS[name], name.rsplit(".", 1)[-1], call, first, dim_position=1)
        if name in N.LOG_FUNCTIONS:
            return self._log(first, call, frame)
        if name in N.ACTIVATION_LAYERS:
            layer = name.rsplit(".", 1)[-1]
            return Module(Tensor(N.ACTIVATION_LAYERS[name], self._origin(call, f"{layer} layer")), keeps_shape=True)
        if name in N.TRANSPARENT_LAYERS:
            return Module(None, passes=True)
        if name in N.LINEAR_LAYERS:
            out = _out_features(call, args)
            what = f"{name.rsplit('.', 1)[-1]} layer with no activation"
            return Module(Tensor(Kind.LOGITS, self._origin(call, what), shape=(None, out)), out, affine=True)
        if name in N.RECURRENT_LAYERS:
            return _recurrent_layer()
        if name in N.SEQUENCE_LAYERS:
            return Module(Tensor(shape=(None, None, None)))
        if name == N.SEQUENTIAL:
            return Module(self._sequential_output(call, args))
        if name in N.MODEL_WRAPPERS:  # a model picked by a branch (a Choice of models) stays that choice
            models = getattr(first, "options", (first,))  # a Choice's alternatives
            # an object given attributes keeps them: read through the wrapper, each is its value or an error
            return first if all(isinstance(model, (Module, Instance)) or _partial_record(model) for model in models) else None
        if name in N.ONE_HOT_FUNCTIONS:
            return Tensor(Kind.ONE_HOT, self._origin(call, "one-hot encoding"), "int64")
        if name in N.NONDIFF_FUNCTIONS:
            return _nondiff(N.NONDIFF_FUNCTIONS[name])
        if name in N.SIZED_FACTORIES:
            shape = shapes.sizes(call.args, lambda expr: self._is_count(expr, frame))
            zeros_at = frame.loop_nesting if name in N.ZERO_FACTORIES else None
            dtype = self._dtype_keyword(call, frame, N.SIZED_FACTORIES[name])
            return _tensor_or_none(Tensor(dtype=dtype, shape=shape, zeros_at=zeros_at))
        if name == N.RANDINT:
            return Tensor(Kind.CLASS_INDICES, dtype=self._dtype_keyword(call, frame, "int64"), shape=_randint_shape(call))
        if name in N.TYPED_CONSTRUCTORS and args and call.args:
            if all(self._is_count(arg, frame) or shapes.literal_int(arg) is not None for arg in call.args):
                # torch.FloatTensor(batch_size): an uninitialised tensor of that size, not a conversion
                return Tensor(dtype=N.TYPED_CONSTRUCTORS[name], shape=shapes.sizes(call.args, lambda e: True))
            return self._cast(first, call.args[0], N.TYPED_CONSTRUCTORS[name], call)
        if name in N.DTYPE_CONSTRUCTORS and args and call.args:
            return self._construct(first, call, frame)
        if name in N.IDENTITY_FUNCTIONS and args:
            return first
        if name in N.PRESERVING_FUNCTIONS and args:
            if not isinstance(first, Tensor):
                return None
            floored = first.floored or (name in N.CLAMP_FUNCTIONS and _has_minimum(call, 1))
            return replace(first, shape=None, classes_last=False, floored=floored)
        if name in N.MEANS and args:
            return _mean_of(first)
        if name in STACKING_FUNCTIONS and stacks_class_masks(call):
            return Tensor(Kind.ONE_HOT, self._origin(call, "one-hot encoding (one equality mask per class)"), "bool")
        if name in N.JOINING_FUNCTIONS and args:
            dim = argument_expr(call, 1, "dim")
            along_batch = dim is None or shapes.literal_int(dim) == 0
            return _joined_tensors(first, stacked=name.endswith("stack"), along_batch=along_batch)
        if name in N.DATA_LOADERS:
            if keyword_value(call, "collate_fn") is not None:
                return Batches(None)  # a collate function of its own makes the batches
            dataset = _argument(args, 0, ("dataset",))
            return Batches(batched(self.sample_of(dataset, frame)))
        if name in N.TENSOR_DATASETS:
            return DatasetValue(TupleValue(tuple(row_of(value) for keyword, value in args if keyword is None)))
        if name in N.DATASET_SPLITS and args:
            return LayerList(first) if name.endswith("random_split") else first
        if name in N.LIGHTNING_TRAINERS:
            return LightningTrainer()
        if name in N.PROGRESS_BARS and args:
            return first  # tqdm(loader) iterates the loader
        if name in N.RECORD_FACTORIES:
            return _record_type(call)
        if name == N.ARGUMENT_PARSER:
            return ArgParser()
        return None

    def _activation(self, kind: Kind, what: str, call: ast.Call, source: Value, dim_position: int) -> Tensor:
        """An activation's output. A softmax over dim 0 normalises over the batch only when the tensor is proven
        batched (rank >= 2): per-sample code (vmap, RL policies) rightly takes it over dim 0 of a 1-D vector."""
        over_batch = False
        if kind in (Kind.DISTRIBUTION, Kind.LOG_DISTRIBUTION):
            dim = argument_expr(call, dim_position, "dim")
            rank = source.shape if isinstance(source, Tensor) else None
            over_batch = dim is not None and shapes.literal_int(dim) == 0 and rank is not None and len(rank) >= 2
        shape = source.shape if isinstance(source, Tensor) else None
        return Tensor(kind, self._origin(call, what), shape=shape, over_batch=over_batch)

    def _log(self, source: Value, call: ast.Call, frame: Frame) -> Value:
        """`torch.log(softmax(...))` / `torch.log(sigmoid(...))`: LG403, and the result is a log-distribution."""
        if not isinstance(source, Tensor) or source.kind not in (Kind.DISTRIBUTION, Kind.PROBABILITIES):
            return None
        if source.origin is None:
            return None  # a mean of probabilities (see _mean_of)
        if frame.on_training_path and not source.floored:  # `log(p.clamp(min=eps))` is the fix, not the pitfall
            activation = "softmax" if source.kind is Kind.DISTRIBUTION else "sigmoid"
            self._report("LG403", get_rule("LG403").render(activation), call, source.origin, frame)
        if source.kind is Kind.DISTRIBUTION:
            return replace(source, kind=Kind.LOG_DISTRIBUTION, origin=self._origin(call, "log of a softmax"))
        return None

    def _construct(self, source: Value, call: ast.Call, frame: Frame) -> Value:
        """torch.tensor / as_tensor / from_numpy: keeps what its data is, with the dtype it is given."""
        dtype = self._dtype_keyword(call, frame, _ABSENT)
        data = call.args[0]
        if dtype is None:
            return None  # a dtype that is not spelled out: nothing is known of the result's dtype
        if dtype is _ABSENT:
            if isinstance(source, Tensor):
                return source
            if isinstance(source, LayerList) and isinstance(source.last, Const):
                number = source.last.value  # torch.tensor([1 for _ in range(n)]): 1-D
                if isinstance(number, (int, float)) and not isinstance(number, bool):
                    return Tensor(dtype="float32" if isinstance(number, float) else "int64", shape=(None,))
            return _tensor_or_none(Tensor(dtype=_literal_dtype(data), shape=_literal_shape(data)))
        if dtype.startswith(("float", "bfloat")):
            cast = self._cast(source, data, dtype, call)
            return replace(cast, shape=cast.shape or _literal_shape(data))
        return self._integer_cast(source if isinstance(source, Tensor) else None, dtype)

    def _sequential_output(self, call: ast.Call, args: Args) -> Value:
        """What the layers return one after the other: an activation after `Linear(h, 1)` keeps its (n, 1) shape,
        a Dropout after the activation passes it on."""
        if not args or any(keyword not in (None, "*") for keyword, _ in args):
            return None
        layers: list[Value] = []
        for (keyword, value), expr in zip(args, call.args):
            if keyword == "*":
                layers = [value.items[-1]] if isinstance(value, TupleValue) and value.items else (
                    [value.last] if isinstance(value, LayerList) else [None])
            elif isinstance(expr, ast.Call) and len(args) == 1:
                layers = [self._ordered_dict_last(expr, value)]
            else:
                layers.append(value)
        output: Value = None
        for layer in layers:
            output = self.call_module(layer, [(None, output)]) if isinstance(layer, Module) else self.layer_output(layer)
        return output

    def _ordered_dict_last(self, call: ast.Call, fallback: Value) -> Value:
        """`nn.Sequential(OrderedDict([("fc", nn.Linear(...)), ("act", nn.Sigmoid())]))`: the last pair's layer."""
        if not (self.qualify(call.func) or "").endswith("OrderedDict"):
            return fallback
        if len(call.args) != 1 or not isinstance(call.args[0], ast.List):
            return None
        pairs = call.args[0].elts
        if not pairs or not isinstance(pairs[-1], ast.Tuple) or len(pairs[-1].elts) != 2:
            return None
        return self.eval(pairs[-1].elts[1], Frame(env={}, reporting=False))

    def layer_output(self, layer: Value) -> Value:
        if isinstance(layer, Module):
            return layer.returns
        if isinstance(layer, Instance):
            result = self.apply(layer, _NO_CALL, [], Frame(env={}, reporting=False))
            return result if isinstance(result, (Tensor, TupleValue)) else None
        return None

    def call_module(self, module: Module, args: Args) -> Value:
        """A layer's output for this input: a Linear keeps the input's leading dims; others are summaries."""
        source = args[0][1] if args and args[0][0] is None else None
        rank = source.shape if isinstance(source, Tensor) else None
        if module.passes:
            return source
        returns = module.returns
        if module.keeps_shape and isinstance(returns, Tensor):
            return replace(returns, shape=rank, classes_last=isinstance(source, Tensor) and source.classes_last)
        if not isinstance(returns, Tensor) or rank is None:
            return returns
        if module.affine:
            return replace(returns, shape=rank[:-1] + (module.affine_out,), classes_last=len(rank) >= 3)
        if returns.shape is not None and len(rank) != len(returns.shape):
            return replace(returns, shape=None)
        return returns

    # ------------------------------------------------------------------ tensor methods
    def tensor_method(self, method: str, base: Value, base_expr: ast.AST | None, call: ast.Call,
                      args: Args, frame: Frame) -> Value:
        if isinstance(base, LossResult):
            return self._loss_result_method(method, base, call, args, frame)
        tensor = base if isinstance(base, Tensor) else None
        if method in N.ACTIVATION_METHODS:
            return self._activation(N.ACTIVATION_METHODS[method], f".{method}()", call, base, dim_position=0)
        if method == "log" and not args:
            return self._log(base, call, frame)
        if method in N.NONDIFF_METHODS:
            return _nondiff(N.NONDIFF_METHODS[method])
        if method == "size" and len(args) == 1 and args[0][0] is None:
            return Number()
        if method == "size" and not args:
            return Opaque()
        if method == "numel" and not args:
            return _element_count(tensor)
        if method in N.FLOAT_CAST_METHODS:
            return self._cast(base, base_expr, N.FLOAT_CAST_METHODS[method], call)
        if method in N.INTEGER_CAST_METHODS:
            return self._integer_cast(tensor, N.INTEGER_CAST_METHODS[method])
        if method in ("to", "type"):
            dtype = self._conversion_dtype(call, frame)
            if dtype is _ABSENT:
                return tensor  # .to(device)
            if dtype is _SOME_FLOAT:  # one of a few float dtypes (`dtype=model.fl_dtype`, set by branches)
                cast = self._cast(base, base_expr, "float32", call)
                return _tensor_or_none(replace(cast, dtype=None))
            if dtype is None:  # a conversion to a dtype not spelled out: what the dtype said is gone
                if tensor is None:
                    return None
                dtype_kind = tensor.kind in (Kind.CLASS_INDICES, Kind.FLOAT_CLASS_INDICES)
                kind = Kind.UNKNOWN if dtype_kind else tensor.kind
                return _tensor_or_none(replace(tensor, dtype=None, kind=kind, origin=None if dtype_kind else tensor.origin))
            if dtype.startswith(("float", "bfloat")):
                return self._cast(base, base_expr, dtype, call)
            return self._integer_cast(tensor, dtype)
        if method in _SHAPE_METHODS:
            return _tensor_or_none(_reshaped(tensor or Tensor(), method, call))
        if method in N.PRESERVING_METHODS and tensor is not None:
            return replace(tensor, floored=True) if method in N.CLAMP_METHODS and _has_minimum(call, 0) else tensor
        if method in N.SCATTER_METHODS and tensor is not None and tensor.zeros_at is not None:
            value = argument_expr(call, 2, "value")
            if value is None:
                value = argument_expr(call, 2, "src")
            if isinstance(value, ast.Constant) and value.value == 1 and len(call.args) + len(call.keywords) == 3:
                one_hot = Tensor(Kind.ONE_HOT, self._origin(call, "one-hot encoding (scatter of 1s into zeros)"),
                                 tensor.dtype, tensor.shape)
                if method == "scatter_" and base_expr is not None:
                    self.rebind(base_expr, one_hot, frame)  # type: ignore[attr-defined]
                return one_hot
            return None
        if method in ("mean",) and tensor is not None:
            return _mean_of(tensor)
        if method in N.FILLING_METHODS and tensor is not None:
            return _tensor_or_none(Tensor(dtype=tensor.dtype, shape=tensor.shape))  # new values, same tensor
        if method in N.TAKING_OTHERS_METADATA and tensor is not None:
            return _tensor_or_none(replace(tensor, shape=None, dtype=None, classes_last=False))
        return None

    def _cast(self, base: Value, base_expr: ast.AST | None, dtype: str, call: ast.Call) -> Tensor:
        """A conversion to `dtype`. A float conversion of something not known to be a distribution is taken as
        float class indices, unless the expression's own name says it is a soft target."""
        floating = dtype.startswith(("float", "bfloat"))
        if isinstance(base, Tensor) and (base.kind is not Kind.UNKNOWN or base.nondiff):
            if floating and base.kind in (Kind.ONE_HOT, Kind.CLASS_INDICES, Kind.FLOAT_CLASS_INDICES):
                origin = self._origin(call, "float conversion")
                seen = self.conversions.of_one_hot if base.kind is Kind.ONE_HOT else self.conversions.of_indices
                seen.add((origin.path, origin.line, origin.column))
            if base.kind in (Kind.CLASS_INDICES, Kind.FLOAT_CLASS_INDICES) and floating:
                # a second float conversion keeps the first as the origin: that is where the indices became float
                first = base.origin if base.kind is Kind.FLOAT_CLASS_INDICES and base.origin is not None else None
                return Tensor(Kind.FLOAT_CLASS_INDICES, first or self._origin(call, "float conversion"), dtype,
                              base.shape, nondiff=base.nondiff)
            return replace(base, dtype=dtype)
        if base is not None and not isinstance(base, (Tensor, LayerList, TupleValue, Const)):
            return Tensor(dtype=dtype)  # an object's conversion (a model's .float()): no class indices
        shape = base.shape if isinstance(base, Tensor) else None
        if floating and base_expr is not None and not _looks_soft(base_expr):
            return Tensor(Kind.FLOAT_CLASS_INDICES, self._origin(call, "float conversion"), dtype, shape)
        return Tensor(dtype=dtype, shape=shape)

    @staticmethod
    def _integer_cast(tensor: Tensor | None, dtype: str) -> Tensor:
        if tensor is not None and tensor.kind is Kind.ONE_HOT:
            return replace(tensor, dtype=dtype)
        shape = tensor.shape if tensor is not None else None
        return Tensor(Kind.CLASS_INDICES if dtype in ("int64", "uint8") else Kind.UNKNOWN, None, dtype, shape)

    def sample_of(self, dataset: Value, frame: Frame) -> Value:
        """What `dataset[i]` holds: a TensorDataset's rows, or what the project's `__getitem__` returns."""
        if isinstance(dataset, DatasetValue):
            return dataset.item
        if isinstance(dataset, Instance) and dataset.cls.find_method("__getitem__") is not None:
            return self.call_method(dataset, "__getitem__", _NO_CALL, [(None, Number())], [None], frame)
        return None

    def _is_count(self, expr: ast.expr, frame: Frame) -> bool:
        """One integer, provably: `x.size(0)`, `x.shape[0]`, `len(data)`, their sums, a name bound to an int."""
        return is_int(self.eval(expr, frame))

    def _dtype_keyword(self, call: ast.Call, frame: Frame, default: Any) -> Any:
        """The `dtype=` of a factory: its dtype name, `default` when absent, None when it is not spelled out
        (`dtype=y.dtype`, a parameter): an unknown dtype is never the factory's default."""
        value = keyword_value(call, "dtype")
        if value is None:
            return default
        kind, dtype = self._dtype_or_device(value, frame)
        return dtype if kind == "dtype" and dtype is not _SOME_FLOAT else None

    def _conversion_dtype(self, call: ast.Call, frame: Frame) -> Any:
        """What `.to(...)` / `.type(...)` converts to: a dtype name, `_ABSENT` for a move to a device only, or
        None when an argument is neither a known dtype nor a device (`.to(pred.dtype)`, `.to(other)`)."""
        result: Any = _ABSENT
        for expr in [*call.args, *(k.value for k in call.keywords if k.arg in ("dtype", None))]:
            kind, dtype = self._dtype_or_device(expr, frame)
            if kind == "dtype":
                result = dtype
            elif kind == "unknown":
                return None
        return result

    def _dtype_or_device(self, expr: ast.AST, frame: Frame) -> tuple[str, str | None]:
        """("dtype", name), ("device", None) or ("unknown", None) for an argument of a conversion."""
        names = {N.DTYPES.get(option.name) for option in _options(self.eval(expr, frame))}
        if len(names) == 1 and None not in names:
            return "dtype", names.pop()
        if names and all(name is not None and name.startswith(("float", "bfloat")) for name in names):
            return "dtype", _SOME_FLOAT
        if isinstance(expr, ast.Constant) and isinstance(expr.value, (str, int)):
            return "device", None  # "cuda", "cpu", 0
        words = " ".join(node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute)
                         else "" for node in ast.walk(expr)).lower()
        if any(word in words for word in _DEVICE_WORDS) and "dtype" not in words:
            return "device", None
        return "unknown", None

    # ------------------------------------------------------------------ the loss call
    def check_loss(
        self, contract: LossContract, call: ast.Call, args: Args, frame: Frame, *,
        module_form: bool, unreduced: bool,
    ) -> LossResult:
        """Judge one loss call; what only matters if it is back-propagated waits in the returned LossResult."""
        if not frame.reporting:
            return LossResult()
        evaluation = frame.in_evaluation
        site = frame.loss_site or call  # a lambda's loss call is reported where the lambda is called
        through = f"computed by the lambda at line {self.location(call).line}" if site is not call else ""
        inp = _argument(args, 0, (contract.input_keyword, "input"))
        tgt = (_argument(args, contract.target_position, (contract.target_keyword,))
               if contract.target_position is not None else None)
        inp_t = inp if isinstance(inp, Tensor) else Tensor()
        tgt_t = tgt if isinstance(tgt, Tensor) else Tensor()
        observed = Observed(
            input_kind=inp_t.kind, target_kind=tgt_t.kind, input_dtype=inp_t.dtype, target_dtype=tgt_t.dtype,
            input_shape=inp_t.shape, target_shape=tgt_t.shape,
            input_requires_grad=False if inp_t.nondiff else None, grad_enabled=True,
            input_class_dim_last=inp_t.classes_last or None, normalised_over_batch=inp_t.over_batch or None,
        )
        loss_name = contract.module if module_form else contract.functional
        pending: list[Finding] = []
        for violation in judge(contract, observed):
            code = violation.code
            origin = (inp_t if violation.subject == "input" else tgt_t).origin
            if code == "LG401":
                finding = None if evaluation else self._make_finding(
                    "LG401", get_rule("LG401").render(loss_name), site, None, frame,
                    detail=_notes(f"the input comes from {inp_t.nondiff}", through))
                if finding:
                    pending.append(finding)
                continue
            if code == "LG305" and (not inp_t.shape or inp_t.shape[0] is not None):
                continue  # a 1-D input is an unbatched sample unless it provably came from a batch
            if evaluation and not code.startswith(("LG1", "LG2", "LG3")):
                continue
            detail = _shapes_seen(inp_t, tgt_t) if code in _SHAPE_RULES else ""
            if code == "LG203" and tgt_t.dtype:
                detail = f"the target is {tgt_t.dtype}"
            finding = self._make_finding(code, get_rule(code).render(loss_name), site, origin, frame,
                                         _notes(detail, through))
            if finding is None:
                continue
            if frame.defer_contracts and not evaluation:
                pending.append(finding)  # a test's expected value: only a loss that is trained counts
            elif not frame.defer_contracts:
                frame.sink.append(finding)  # type: ignore[union-attr]
        waiting_reduction: tuple[Finding, ...] = ()
        if unreduced and not evaluation:
            finding = self._make_finding("LG404", get_rule("LG404").render(loss_name), site, None, frame, through)
            waiting_reduction = (finding,) if finding else ()
        return LossResult(tuple(pending), waiting_reduction)

    def _check_loss_construction(self, contract: LossContract, call: ast.Call, frame: Frame) -> None:
        """LG402: `nn.CrossEntropyLoss(output, target)` passes the tensors as constructor options."""
        positional = [arg for arg in call.args if not isinstance(arg, ast.Starred)]
        if len(positional) >= 2 and not any(_is_literal(arg) for arg in positional[:2]):
            if frame.reporting:
                self._report("LG402", get_rule("LG402").render(contract.module), call, None, frame)

    def _loss_result_method(self, method: str, result: LossResult, call: ast.Call, args: Args,
                            frame: Frame) -> Value:
        if method in N.REDUCING_METHODS:
            return LossResult(result.pending, ())
        if method == "backward":
            self.back_propagate(result, explicit_gradient=bool(args), frame=frame)
        return None

    def back_propagate(self, result: LossResult, *, explicit_gradient: bool, frame: Frame) -> None:
        """`.backward()` reached this loss: what was waiting for it becomes a finding."""
        if not frame.reporting or frame.sink is None:
            return
        frame.sink.extend(result.pending)
        if not explicit_gradient:
            frame.sink.extend(result.unreduced)

    # ------------------------------------------------------------------ findings
    def _report(self, code: str, message: str, node: ast.AST, origin: Origin | None, frame: Frame,
                detail: str = "") -> None:
        finding = self._make_finding(code, message, node, origin, frame, detail)
        if finding is not None and frame.sink is not None:
            frame.sink.append(finding)

    def _make_finding(self, code: str, message: str, node: ast.AST, origin: Origin | None, frame: Frame,
                      detail: str = "") -> Finding | None:
        rule = get_rule(code)
        if not rule.static or (self.enabled is not None and code not in self.enabled):
            return None
        first, last = node.lineno, node.end_lineno or node.lineno  # type: ignore[attr-defined]
        if is_suppressed(code, self.lines, first, last):
            return None
        cell, line = self.locate(first)
        _, end_line = self.locate(last)
        related: list[Location] = []
        notes = [detail] if detail else []
        if origin is not None:
            notes.insert(0, f"{origin.what} at {origin.describe(self.path)}")
            related.append(Location(origin.path, origin.line, origin.column, origin.cell))
        if frame.via is not None and frame.via.path != self.path:
            via_cell = f"cell {frame.via.cell}, " if frame.via.cell is not None else ""
            notes.append(f"reached from {frame.via.path}:{via_cell}{frame.via.line}")
            related.append(frame.via)
        if frame.in_evaluation and code.startswith(("LG1", "LG2", "LG3")):
            notes.append(_EVALUATION_NOTE)
        if frame.assumes_defaults:
            notes.append(_DEFAULTS_NOTE)
        if notes:
            message = f"{message} ({'; '.join(notes)})"
        column = self.column_of(first, node.col_offset) + 1  # type: ignore[attr-defined]
        end_column = self.column_of(last, node.end_col_offset or 0) + 1  # type: ignore[attr-defined]
        return Finding(code, self.path, line, column, end_line, end_column, message, tuple(related), cell)

    def location(self, node: ast.AST) -> Location:
        cell, line = self.locate(node.lineno)  # type: ignore[attr-defined]
        return Location(self.path, line, self.column_of(node.lineno, node.col_offset) + 1, cell)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ helpers
    def qualify(self, expr: ast.AST | None) -> str | None:
        """The qualified name of a dotted expression through the imports (`F.softmax` -> torch's full name)."""
        if expr is None or not isinstance(expr, (ast.Name, ast.Attribute)):
            return None
        qualified = self.imports.qualify(expr)
        if qualified is None and self.imports.star_modules:
            self.load_star_modules()  # type: ignore[attr-defined]
        if qualified is None and self.star_externals:
            from lossguard.static.syntax import dotted

            name = dotted(expr)
            head = name.split(".", 1)[0] if name else None
            for module in self.star_externals:
                candidate = N.canonical(f"{module}.{name}")
                if head and N.is_known(candidate):
                    return candidate
            return None
        return N.canonical(qualified) if qualified else None

    def is_no_grad(self, expr: ast.AST) -> bool:
        """`torch.no_grad()`, `torch.inference_mode()`, `torch.set_grad_enabled(False)`, or the bare decorator."""
        call = expr if isinstance(expr, ast.Call) else None
        qualified = self.qualify(call.func if call else expr)
        if qualified in N.NO_GRAD:
            return True
        if qualified == "torch.set_grad_enabled" and call and call.args:
            value = call.args[0]
            return isinstance(value, ast.Constant) and value.value is False
        return False

    def _origin(self, node: ast.AST, what: str) -> Origin:
        return Origin(self, node, what)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- helpers without state
_ABSENT: Any = object()  # no dtype was given
_SOME_FLOAT: Any = object()  # one of several float dtypes: which one is not known
_DEVICE_WORDS = ("device", "dev", "gpu", "cuda", "cpu", "rank", "mps", "xla")


def _options(value: Value) -> tuple[Any, ...]:
    """The external names a value may be (`torch.long if c else torch.int` is either)."""
    if isinstance(value, ExternalRef):
        return (value,)
    if isinstance(value, Choice) and all(isinstance(option, ExternalRef) for option in value.options):
        return value.options
    return (ExternalRef(""),)


_NO_CALL = ast.Call(func=ast.Name(id="<layer>", ctx=ast.Load()), args=[], keywords=[], lineno=1, col_offset=0,
                    end_lineno=1, end_col_offset=0)


def _joined_tensors(items: Value, stacked: bool, along_batch: bool) -> Value:
    """`torch.cat(parts)` / `torch.stack(parts)`: what every part holds; concatenating same-rank parts along the
    batch dim keeps the rank (`torch.cat((ones(n), zeros(m)))` is 1-D), stacking adds one."""
    if isinstance(items, LayerList):
        parts: tuple[Value, ...] = (items.last,)
        known_count = False
    elif isinstance(items, TupleValue) and items.items:
        parts = items.items
        known_count = True
    else:
        return None
    if not all(isinstance(part, Tensor) for part in parts):
        return None
    ranks = {len(part.shape) if part.shape is not None else None for part in parts}  # type: ignore[union-attr]
    shape = None
    if known_count and len(ranks) == 1 and None not in ranks:
        tails = {part.shape[1:] for part in parts}  # type: ignore[union-attr, index]
        if stacked:
            shape = (None, *parts[0].shape) if len({part.shape for part in parts}) == 1 else None  # type: ignore[union-attr]
        elif along_batch and len(tails) == 1:
            shape = (None, *tails.pop())
    joined = join_all(parts)
    if not isinstance(joined, Tensor):
        joined = Tensor()
    result = replace(joined, shape=shape, classes_last=False, over_batch=False)
    return result if result != Tensor() else None


def _recurrent_layer() -> Module:
    """LSTM/GRU/RNN: calling one returns (output, state), output of rank 3."""
    return Module(TupleValue((Tensor(shape=(None, None, None)), None)))


def _record_type(call: ast.Call) -> Value:
    """`namedtuple("Out", ["logits", "probs"])`, `namedtuple("Out", "logits probs")`, `NamedTuple("Out", [...])`."""
    if len(call.args) < 2:
        return None
    fields = call.args[1]
    text = literal_str(fields)
    if text is not None:
        return RecordType(tuple(text.replace(",", " ").split()))
    if isinstance(fields, (ast.List, ast.Tuple)):
        names = []
        for element in fields.elts:
            if isinstance(element, ast.Tuple) and element.elts:
                element = element.elts[0]
            name = literal_str(element)
            if name is None:
                return None
            names.append(name)
        return RecordType(tuple(names))
    return None


def _shapes_seen(inp: Tensor, tgt: Tensor) -> str:
    """`input (n, 1), target (n,)`: the shapes the source proves, `?` for a size it does not."""
    def text(shape: tuple[int | None, ...] | None) -> str:
        if shape is None:
            return "of unknown shape"
        sizes = ["n" if size is None and index == 0 else "?" if size is None else str(size)
                 for index, size in enumerate(shape)]
        return f"({sizes[0]},)" if len(sizes) == 1 else f"({', '.join(sizes)})"

    return f"input {text(inp.shape)}, target {text(tgt.shape)}"


def _mean_of(value: Value) -> Value:
    """The mean of probabilities is a probability, of raw scores a raw score; of anything else, unknown. It has no
    origin of its own: `torch.log(d_out.mean())` is not the `log(sigmoid(x))` that LG403 is about."""
    if isinstance(value, Tensor) and value.kind in (Kind.PROBABILITIES, Kind.LOGITS):
        return Tensor(value.kind, None, value.dtype)
    return None


def _nondiff(operation: str) -> Tensor:
    """A tensor that cuts the autograd graph; an argmax/argmin is a class index as well (pseudo-labels)."""
    if operation in ("argmax", "argmin"):
        return Tensor(Kind.CLASS_INDICES, dtype="int64", nondiff=operation)
    return Tensor(nondiff=operation)


def _notes(*notes: str) -> str:
    return "; ".join(note for note in notes if note)


def _partial_record(value: Value) -> bool:
    return isinstance(value, Record) and value.partial


def _tensor_or_none(tensor: Tensor) -> Tensor | None:
    return None if tensor == Tensor() else tensor


def _argument(args: Args, position: int | None, keywords: tuple[str, ...]) -> Value:
    for keyword, value in args:
        if keyword in keywords:
            return value
    if any(keyword == "*" for keyword, _ in args):
        return None
    positional = [value for keyword, value in args if keyword is None]
    if position is not None and position < len(positional):
        return positional[position]
    return None


def _reduction_none(call: ast.Call) -> bool:
    return literal_str(keyword_value(call, "reduction")) == "none"


def _out_features(call: ast.Call, args: Args) -> int | None:
    """The literal `out_features`, or a constant the source binds it to (`num_classes = 1`, an argparse default)."""
    value = argument_expr(call, 1, "out_features")
    literal = shapes.literal_int(value) if value is not None else None
    if literal is not None:
        return literal
    known = _argument(args, 1, ("out_features",))
    return known.value if isinstance(known, Const) and type(known.value) is int and known.value > 0 else None


def _randint_shape(call: ast.Call) -> tuple[int | None, ...] | None:
    size = keyword_value(call, "size")
    if size is None:
        positional = call.args
        size = positional[-1] if positional and isinstance(positional[-1], (ast.Tuple, ast.List)) else None
    return shapes.sizes([size]) if size is not None else None


def _reshaped(tensor: Tensor, method: str, call: ast.Call) -> Tensor:
    """The tensor after a shape method: kinds survive, the class-dim-last evidence does not (except squeeze)."""
    dim_expr = argument_expr(call, 0, "dim")
    dim = shapes.literal_int(dim_expr) if dim_expr is not None else None
    if method in ("view", "reshape"):
        shape = shapes.sizes(call.args) if not call.keywords else None
    elif method == "squeeze":
        shape = shapes.squeeze(tensor.shape, dim)
    elif method == "unsqueeze":
        shape = shapes.unsqueeze(tensor.shape, dim)
    elif method == "flatten":
        start = argument_expr(call, 0, "start_dim")
        shape = shapes.flatten(tensor.shape, shapes.literal_int(start) if start is not None else 0)
    else:
        shape = None
    keeps_classes_last = method in ("squeeze", "unsqueeze") and shape is not None and len(shape) >= 3
    return replace(tensor, shape=shape, classes_last=tensor.classes_last and keeps_classes_last)


def _literal_shape(data: ast.AST) -> tuple[int | None, ...] | None:
    """[1, 0, 1] -> (3,); [[...], [...]] -> (2, k) when every row is a list literal of the same length."""
    if not isinstance(data, (ast.List, ast.Tuple)) or not data.elts:
        return None
    items = data.elts
    if any(isinstance(element, ast.Starred) for element in items):
        return None
    if all(isinstance(item, (ast.Constant, ast.UnaryOp)) for item in items):
        return (len(items),)
    rows = [_literal_shape(item) for item in items]
    if all(row is not None and len(row) == 1 for row in rows) and len({row for row in rows}) == 1:
        return (len(items), rows[0][0])  # type: ignore[index]
    return None


def _literal_dtype(data: ast.AST) -> str | None:
    numbers = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.List, ast.Tuple)):
            stack.extend(node.elts)
        elif isinstance(node, ast.UnaryOp):
            stack.append(node.operand)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            numbers.append(node.value)
        else:
            return None
    if not numbers:
        return None
    return "float32" if any(isinstance(n, float) for n in numbers) else "int64"


def _is_literal(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Constant)


def _looks_soft(expr: ast.AST) -> bool:
    """True when the cast expression's names suggest a soft target (teacher_probs.float(), soft_labels.float())."""
    words = []
    for node in ast.walk(expr):
        if isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            words.append(node.value)
    text = " ".join(words).lower()
    return any(word in text for word in _SOFT_TARGET_WORDS)


def _element_count(tensor: Tensor | None) -> Value:
    """`x.numel()`: a constant when the sizes are known, 0 as soon as one size is 0 (`torch.empty(0)`), which
    decides the `if target.numel() == 0: return ...` guards that keep empty batches away from a loss."""
    shape = tensor.shape if tensor is not None else None
    if shape is None:
        return Number()
    if 0 in shape:
        return Const(0)
    if all(isinstance(size, int) for size in shape):
        count = 1
        for size in shape:
            count *= size  # type: ignore[operator]
        return Const(count)
    return Number()


def _has_minimum(call: ast.Call, position: int) -> bool:
    """Whether a clamp is given a lower bound (`min=eps`, or positionally) that is not the literal None."""
    bound = argument_expr(call, position, "min")
    return bound is not None and not (isinstance(bound, ast.Constant) and bound.value is None)
