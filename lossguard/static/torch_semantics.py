"""What PyTorch calls do to abstract values: activations, layers, casts, reshapes, factories and loss calls.

A mixin of ModuleObserver (flow.py): the interpreter core walks statements and binds names; this part knows torch.
It judges each loss call, and reports the rules that are about usage rather than a loss's contract (LG402,
LG403), and the ones that only matter if the loss is back-propagated (LG401, LG404), once `.backward()` is seen.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Mapping

import libcst as cst
from libcst.metadata import CodeRange

from lossguard.contracts import Kind, LossContract
from lossguard.findings import Finding, Location
from lossguard.judge import Observed, judge
from lossguard.rules import get_rule
from lossguard.static import names as N
from lossguard.static import shapes
from lossguard.static.frame import Frame
from lossguard.static.imports import ImportMap
from lossguard.static.suppressions import is_suppressed
from lossguard.static.values import (
    Instance, LayerList, Loss, LossResult, Module, Origin, Tensor, TupleValue, Value,
)

if TYPE_CHECKING:
    from lossguard.static.classes import ClassInfo

Args = list[tuple["str | None", Value]]  # (keyword, or "*" for a starred argument, or None; value)

# Names suggesting a float target is already a distribution (distillation, smoothing, mixup): never LG202.
_SOFT_TARGET_WORDS = ("soft", "prob", "dist", "teacher", "smooth", "mix", "logit", "pred", "score", "weight")
_SHAPE_RULES = frozenset({"LG109", "LG301", "LG302", "LG303", "LG304", "LG305"})
_SHAPE_METHODS = frozenset({"view", "reshape", "squeeze", "unsqueeze", "flatten", "transpose", "permute", "t"})


class TorchSemantics:
    # Provided by ModuleObserver.
    path: str
    positions: Mapping[cst.CSTNode, CodeRange]
    imports: ImportMap
    enabled: frozenset[str] | None
    findings: list[Finding]
    lines: list[str]
    locate: Callable[[int], "tuple[int | None, int]"]
    eval: Callable[[cst.BaseExpression | None, Frame], Value]
    apply: Callable[[Value, cst.Call, Args, Frame], Value]
    resolve_import: Callable[[str], Value]
    forward_of: Callable[["ClassInfo"], Value]

    # ------------------------------------------------------------------ calls of torch names
    def call_qualified(self, qualified: str, call: cst.Call, args: Args, frame: Frame) -> Value:
        name = N.canonical(qualified)
        first = args[0][1] if args else None
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
            return Module(Tensor(N.ACTIVATION_LAYERS[name], self._origin(call, f"{layer} layer")))
        if name in N.LINEAR_LAYERS:
            out = _out_features(call)
            what = f"{name.rsplit('.', 1)[-1]} layer with no activation"
            return Module(Tensor(Kind.LOGITS, self._origin(call, what), shape=(None, out)), out, affine=True)
        if name in N.RECURRENT_LAYERS:
            return _recurrent_layer()
        if name in N.SEQUENCE_LAYERS:
            return Module(Tensor(shape=(None, None, None)))
        if name == N.SEQUENTIAL:
            return Module(self._sequential_output(call, args))
        if name in N.MODEL_WRAPPERS:
            return first if isinstance(first, (Module, Instance)) else None
        if name in N.ONE_HOT_FUNCTIONS:
            return Tensor(Kind.ONE_HOT, self._origin(call, "one-hot encoding"), "int64")
        if name in N.NONDIFF_FUNCTIONS:
            return Tensor(nondiff=N.NONDIFF_FUNCTIONS[name])
        if name in N.SIZED_FACTORIES:
            return _tensor_or_none(Tensor(dtype=self._dtype_keyword(call) or N.SIZED_FACTORIES[name],
                                          shape=shapes.sizes(call.args)))
        if name == N.RANDINT:
            return Tensor(Kind.CLASS_INDICES, dtype=self._dtype_keyword(call) or "int64", shape=_randint_shape(call))
        if name in N.TYPED_CONSTRUCTORS and args:
            return self._cast(first, call.args[0].value, N.TYPED_CONSTRUCTORS[name], call)
        if name in N.DTYPE_CONSTRUCTORS and args:
            return self._construct(first, call)
        if name in N.PRESERVING_FUNCTIONS and args:
            return replace(first, shape=None, classes_last=False) if isinstance(first, Tensor) else None
        return self.apply(self.resolve_import(qualified), call, args, frame)

    def _activation(self, kind: Kind, what: str, call: cst.Call, source: Value, dim_position: int) -> Tensor:
        """An activation's output. A softmax over dim 0 normalises over the batch only when the tensor is proven
        batched (rank >= 2): per-sample code (vmap, RL policies) rightly takes it over dim 0 of a 1-D vector."""
        over_batch = False
        if kind in (Kind.DISTRIBUTION, Kind.LOG_DISTRIBUTION):
            dim = _argument_expr(call, dim_position, "dim")
            rank = source.shape if isinstance(source, Tensor) else None
            over_batch = dim is not None and shapes.literal_int(dim) == 0 and rank is not None and len(rank) >= 2
        shape = source.shape if isinstance(source, Tensor) else None
        return Tensor(kind, self._origin(call, what), shape=shape, over_batch=over_batch)

    def _log(self, source: Value, call: cst.Call, frame: Frame) -> Value:
        """`torch.log(softmax(...))` / `torch.log(sigmoid(...))`: LG403, and the result is a log-distribution."""
        if not isinstance(source, Tensor) or source.kind not in (Kind.DISTRIBUTION, Kind.PROBABILITIES):
            return None
        if frame.on_training_path:
            activation = "softmax" if source.kind is Kind.DISTRIBUTION else "sigmoid"
            self._report("LG403", get_rule("LG403").render(activation), call, source.origin)
        if source.kind is Kind.DISTRIBUTION:
            return replace(source, kind=Kind.LOG_DISTRIBUTION, origin=self._origin(call, "log of a softmax"))
        return None

    def _construct(self, source: Value, call: cst.Call) -> Value:
        """torch.tensor / as_tensor / from_numpy: keeps what its data is, with the dtype it is given."""
        dtype = self._dtype_keyword(call)
        data = call.args[0].value
        if dtype is None:
            if isinstance(source, Tensor):
                return source
            return _tensor_or_none(Tensor(dtype=_literal_dtype(data), shape=_literal_shape(data)))
        if dtype.startswith(("float", "bfloat")):
            cast = self._cast(source, data, dtype, call)
            return replace(cast, shape=cast.shape or _literal_shape(data))
        return self._integer_cast(source if isinstance(source, Tensor) else None, dtype)

    def _sequential_output(self, call: cst.Call, args: Args) -> Tensor | None:
        if not args or any(keyword not in (None, "*") for keyword, _ in args):
            return None
        last_arg = call.args[-1]
        keyword, last = args[-1]
        if keyword == "*":
            last = last.last if isinstance(last, LayerList) else None
        elif isinstance(last_arg.value, cst.Call) and len(args) == 1:
            last = self._ordered_dict_last(last_arg.value, last)
        return self.layer_output(last)

    def _ordered_dict_last(self, call: cst.Call, fallback: Value) -> Value:
        """`nn.Sequential(OrderedDict([("fc", nn.Linear(...)), ("act", nn.Sigmoid())]))`: the last pair's layer."""
        func = call.func
        if not (isinstance(func, (cst.Name, cst.Attribute)) and (self._qualify(func) or "").endswith("OrderedDict")):
            return fallback
        if len(call.args) != 1 or not isinstance(call.args[0].value, cst.List):
            return None
        pairs = call.args[0].value.elements
        if not pairs or not isinstance(pairs[-1].value, cst.Tuple) or len(pairs[-1].value.elements) != 2:
            return None
        return self.eval(pairs[-1].value.elements[1].value, Frame(env={}, reporting=False))

    def layer_output(self, layer: Value) -> Tensor | None:
        if isinstance(layer, Module):
            return layer.returns
        if isinstance(layer, Instance):
            result = self.forward_of(layer.cls)
            return result if isinstance(result, Tensor) else None
        return None

    def call_module(self, module: Module, args: Args) -> Value:
        """A layer's output for this input: a Linear keeps the input's leading dims; others are summaries."""
        source = args[0][1] if args and args[0][0] is None else None
        rank = source.shape if isinstance(source, Tensor) else None
        returns = module.returns
        if not isinstance(returns, Tensor) or rank is None:
            return returns
        if module.affine:
            return replace(returns, shape=rank[:-1] + (module.affine_out,), classes_last=len(rank) >= 3)
        if returns.shape is not None and len(rank) != len(returns.shape):
            return replace(returns, shape=None)
        return returns

    # ------------------------------------------------------------------ tensor methods
    def tensor_method(self, method: str, base: Value, base_expr: cst.BaseExpression, call: cst.Call,
                      args: Args, frame: Frame) -> Value:
        if isinstance(base, LossResult):
            return self._loss_result_method(method, base, call, args, frame)
        tensor = base if isinstance(base, Tensor) else None
        if method in N.ACTIVATION_METHODS:
            return self._activation(N.ACTIVATION_METHODS[method], f".{method}()", call, base, dim_position=0)
        if method == "log" and not args:
            return self._log(base, call, frame)
        if method in N.NONDIFF_METHODS:
            return Tensor(nondiff=N.NONDIFF_METHODS[method], shape=None)
        if method in N.FLOAT_CAST_METHODS:
            return self._cast(base, base_expr, N.FLOAT_CAST_METHODS[method], call)
        if method in N.INTEGER_CAST_METHODS:
            return self._integer_cast(tensor, N.INTEGER_CAST_METHODS[method])
        if method in ("to", "type"):
            dtype = self._dtype_argument(call)
            if dtype is None:
                return tensor
            if dtype.startswith(("float", "bfloat")):
                return self._cast(base, base_expr, dtype, call)
            return self._integer_cast(tensor, dtype)
        if method in _SHAPE_METHODS:
            return _tensor_or_none(_reshaped(tensor or Tensor(), method, call))
        if method in N.PRESERVING_METHODS and tensor is not None:
            return tensor
        if method in N.TAKING_OTHERS_METADATA and tensor is not None:
            return _tensor_or_none(replace(tensor, shape=None, dtype=None, classes_last=False))
        return None

    def _cast(self, base: Value, base_expr: cst.BaseExpression, dtype: str, call: cst.Call) -> Tensor:
        """A conversion to `dtype`. A float conversion of something not known to be a distribution is taken as
        float class indices, unless the expression's own name says it is a soft target."""
        floating = dtype.startswith(("float", "bfloat"))
        if isinstance(base, Tensor) and (base.kind is not Kind.UNKNOWN or base.nondiff):
            if base.kind in (Kind.CLASS_INDICES, Kind.FLOAT_CLASS_INDICES) and floating:
                return Tensor(Kind.FLOAT_CLASS_INDICES, self._origin(call, "float conversion"), dtype, base.shape)
            return replace(base, dtype=dtype)
        if base is not None and not isinstance(base, (Tensor, LayerList)):
            return Tensor(dtype=dtype)
        shape = base.shape if isinstance(base, Tensor) else None
        if floating and not _looks_soft(base_expr):
            return Tensor(Kind.FLOAT_CLASS_INDICES, self._origin(call, "float conversion"), dtype, shape)
        return Tensor(dtype=dtype, shape=shape)

    @staticmethod
    def _integer_cast(tensor: Tensor | None, dtype: str) -> Tensor:
        if tensor is not None and tensor.kind is Kind.ONE_HOT:
            return replace(tensor, dtype=dtype)
        shape = tensor.shape if tensor is not None else None
        return Tensor(Kind.CLASS_INDICES if dtype in ("int64", "uint8") else Kind.UNKNOWN, None, dtype, shape)

    def _dtype_keyword(self, call: cst.Call) -> str | None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "dtype":
                return N.DTYPES.get(self._qualify(arg.value) or "")
        return None

    def _dtype_argument(self, call: cst.Call) -> str | None:
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value == "dtype":
                dtype = N.DTYPES.get(self._qualify(arg.value) or "")
                if dtype:
                    return dtype
        return None

    # ------------------------------------------------------------------ the loss call
    def check_loss(
        self, contract: LossContract, call: cst.Call, args: Args, frame: Frame, *,
        module_form: bool, unreduced: bool,
    ) -> LossResult:
        """Judge one loss call; what only matters if it is back-propagated waits in the returned LossResult."""
        if not frame.on_training_path:
            return LossResult()
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
            origin = (inp_t if violation.subject == "input" else tgt_t).origin
            if violation.code == "LG401":
                finding = self._make_finding("LG401", get_rule("LG401").render(loss_name), call, None,
                                             detail=f"the input comes from {inp_t.nondiff}")
                if finding:
                    pending.append(finding)
                continue
            detail = _shapes_seen(inp_t, tgt_t) if violation.code in _SHAPE_RULES else ""
            if violation.code == "LG203" and tgt_t.dtype:
                detail = f"the target is {tgt_t.dtype}"
            self._report(violation.code, get_rule(violation.code).render(loss_name), call, origin, detail)
        waiting_reduction: tuple[Finding, ...] = ()
        if unreduced:
            finding = self._make_finding("LG404", get_rule("LG404").render(loss_name), call, None)
            waiting_reduction = (finding,) if finding else ()
        return LossResult(tuple(pending), waiting_reduction)

    def _check_loss_construction(self, contract: LossContract, call: cst.Call, frame: Frame) -> None:
        """LG402: `nn.CrossEntropyLoss(output, target)` passes the tensors as constructor options."""
        positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
        if len(positional) >= 2 and not any(_is_literal(arg.value) for arg in positional[:2]):
            if frame.reporting:
                self._report("LG402", get_rule("LG402").render(contract.module), call, None)

    def _loss_result_method(self, method: str, result: LossResult, call: cst.Call, args: Args,
                            frame: Frame) -> Value:
        if method in N.REDUCING_METHODS:
            return LossResult(result.pending, ())
        if method == "backward":
            self.back_propagate(result, explicit_gradient=bool(args), frame=frame)
        return None

    def back_propagate(self, result: LossResult, *, explicit_gradient: bool, frame: Frame) -> None:
        """`.backward()` reached this loss: what was waiting for it becomes a finding."""
        if not frame.reporting:
            return
        self.findings.extend(result.pending)
        if not explicit_gradient:
            self.findings.extend(result.unreduced)

    # ------------------------------------------------------------------ findings
    def _report(self, code: str, message: str, node: cst.CSTNode, origin: Origin | None, detail: str = "") -> None:
        finding = self._make_finding(code, message, node, origin, detail)
        if finding is not None:
            self.findings.append(finding)

    def _make_finding(self, code: str, message: str, node: cst.CSTNode, origin: Origin | None,
                      detail: str = "") -> Finding | None:
        rule = get_rule(code)
        if not rule.static or (self.enabled is not None and code not in self.enabled):
            return None
        where = self.positions[node]
        if is_suppressed(code, self.lines, where.start.line, where.end.line):
            return None
        cell, line = self.locate(where.start.line)
        _, end_line = self.locate(where.end.line)
        related: tuple[Location, ...] = ()
        notes = [detail] if detail else []
        if origin is not None:
            notes.insert(0, f"{origin.what} at {origin.describe(self.path)}")
            related = (Location(origin.path, origin.line, origin.column, origin.cell),)
        if notes:
            message = f"{message} ({'; '.join(notes)})"
        return Finding(code, self.path, line, where.start.column + 1, end_line, where.end.column + 1,
                       message, related, cell)

    # ------------------------------------------------------------------ helpers
    def _qualify(self, expr: cst.BaseExpression) -> str | None:
        if not isinstance(expr, (cst.Name, cst.Attribute)):
            return None
        qualified = self.imports.qualify(expr)
        return N.canonical(qualified) if qualified else None

    def _origin(self, node: cst.CSTNode, what: str) -> Origin:
        return Origin(self, node, what)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- helpers without state
def _recurrent_layer() -> Module:
    """LSTM/GRU/RNN: calling one returns (output, state), output of rank 3."""
    return Module(TupleValue((Tensor(shape=(None, None, None)), None)))


def _shapes_seen(inp: Tensor, tgt: Tensor) -> str:
    """`input (n, 1), target (n,)`: the shapes the source proves, `?` for a size it does not."""
    def text(shape: tuple[int | None, ...] | None) -> str:
        if shape is None:
            return "of unknown shape"
        sizes = ["n" if size is None and index == 0 else "?" if size is None else str(size)
                 for index, size in enumerate(shape)]
        return f"({sizes[0]},)" if len(sizes) == 1 else f"({', '.join(sizes)})"

    return f"input {text(inp.shape)}, target {text(tgt.shape)}"


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


def _argument_expr(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    return positional[position] if position < len(positional) else None


def _reduction_none(call: cst.Call) -> bool:
    value = _argument_expr(call, 99, "reduction")
    return isinstance(value, cst.SimpleString) and value.evaluated_value == "none"


def _out_features(call: cst.Call) -> int | None:
    value = _argument_expr(call, 1, "out_features")
    return shapes.literal_int(value) if value is not None else None


def _randint_shape(call: cst.Call) -> tuple[int | None, ...] | None:
    size = _argument_expr(call, 99, "size")
    if size is None:
        positional = [arg.value for arg in call.args if arg.keyword is None]
        size = positional[-1] if positional and isinstance(positional[-1], (cst.Tuple, cst.List)) else None
    return shapes.sizes([cst.Arg(size)]) if size is not None else None


def _reshaped(tensor: Tensor, method: str, call: cst.Call) -> Tensor:
    """The tensor after a shape method: kinds survive, the class-dim-last evidence does not (except squeeze)."""
    dim_expr = _argument_expr(call, 0, "dim")
    dim = shapes.literal_int(dim_expr) if dim_expr is not None else None
    if method in ("view", "reshape"):
        shape = shapes.sizes(call.args)
    elif method == "squeeze":
        shape = shapes.squeeze(tensor.shape, dim)
    elif method == "unsqueeze":
        shape = shapes.unsqueeze(tensor.shape, dim)
    elif method == "flatten":
        start = _argument_expr(call, 0, "start_dim")
        shape = shapes.flatten(tensor.shape, shapes.literal_int(start) if start is not None else 0)
    else:
        shape = None
    keeps_classes_last = method in ("squeeze", "unsqueeze") and shape is not None and len(shape) >= 3
    return replace(tensor, shape=shape, classes_last=tensor.classes_last and keeps_classes_last)


def _literal_shape(data: cst.BaseExpression) -> tuple[int | None, ...] | None:
    """[1, 0, 1] -> (3,); [[...], [...]] -> (2, k) when every row is a list literal of the same length."""
    if not isinstance(data, (cst.List, cst.Tuple)) or not data.elements:
        return None
    items = [element.value for element in data.elements]
    if any(isinstance(element, cst.StarredElement) for element in data.elements):
        return None
    if all(isinstance(item, (cst.Integer, cst.Float, cst.UnaryOperation)) for item in items):
        return (len(items),)
    rows = [_literal_shape(item) for item in items]
    if all(row is not None and len(row) == 1 for row in rows) and len({row for row in rows}) == 1:
        return (len(items), rows[0][0])  # type: ignore[index]
    return None


def _literal_dtype(data: cst.BaseExpression) -> str | None:
    numbers = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.List, cst.Tuple)):
            stack.extend(element.value for element in node.elements)
        elif isinstance(node, cst.UnaryOperation):
            stack.append(node.expression)
        elif isinstance(node, (cst.Integer, cst.Float)):
            numbers.append(node)
        else:
            return None
    if not numbers:
        return None
    return "float32" if any(isinstance(n, cst.Float) for n in numbers) else "int64"


def _is_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)):
        return True
    return isinstance(expr, cst.Name) and expr.value in ("None", "True", "False")


def _looks_soft(expr: cst.BaseExpression) -> bool:
    """True when the cast expression's names suggest a soft target (teacher_probs.float(), soft_labels.float())."""
    text = cst.Module(body=[]).code_for_node(expr).lower()
    return any(word in text for word in _SOFT_TARGET_WORDS)
