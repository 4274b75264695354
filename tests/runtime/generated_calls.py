"""Hypothesis strategies for loss calls as training code makes them, right and wrong.

For each wrapped loss: the shapes (batch of 0 to 5, classes, extra dimensions, unbatched forms), dtypes (float32,
float64, bfloat16), reductions and the keyword arguments that change what the loss does (weight, ignore_index,
label_smoothing, pos_weight, beta, delta, log_target, margin, p, eps, swap); an activation in front of the input
(none, sigmoid, softmax, log_softmax, relu, round, a detached copy) so that the guard's producer walk and its
findings take part; targets of the right kind and of the wrong kind, dtype or shape (where PyTorch raises, it must
raise the same with the guard); NaN and infinity; non-contiguous inputs; targets that require grad; grad disabled;
the target passed by keyword; functional and module form. The values come from a seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from lossguard.contracts import LossContract
from tests.runtime.parity import PARITY_DTYPES, loss_module, values_defined

REDUCTIONS = ("mean", "sum", "none")
_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor] | None] = {
    "none": None,
    "sigmoid": torch.sigmoid,
    "softmax": lambda x: x.softmax(1 if x.ndim >= 2 else 0),
    "log_softmax": lambda x: x.log_softmax(1 if x.ndim >= 2 else 0),
    "relu": torch.relu,
    "round": torch.round,
    "detach": lambda x: x.detach(),
}


@dataclass
class LossCall:
    """One generated call: `call()` runs it; `arguments` holds every tensor (the leaves whose gradients count)."""

    contract: LossContract
    form: str
    inputs: tuple
    options: dict
    activation: str = "none"
    target_by_keyword: bool = False
    grad_enabled: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def arguments(self) -> tuple:
        return self.inputs, self.options

    @property
    def values_defined(self) -> bool:
        return values_defined(self.contract.functional, self.inputs)

    def call(self) -> Callable[[], Any] | None:
        """The call as the user writes it; None for a module form that does not take these options."""
        activate = _ACTIVATIONS[self.activation]
        inputs = self.inputs

        def prepared() -> tuple:
            first = activate(inputs[0]) if activate is not None else inputs[0]
            return (first, *inputs[1:])

        if self.form == "module":
            module = loss_module(self.contract, self.options)
            if module is None:
                return None
            run = lambda: module(*prepared())  # noqa: E731
        elif self.target_by_keyword and self.contract.target_position is not None:
            function = getattr(F, self.contract.functional)
            position = self.contract.target_position

            def run() -> Any:
                arguments = prepared()
                return function(*arguments[:position], target=arguments[position], **self.options)
        else:
            function = getattr(F, self.contract.functional)
            run = lambda: function(*prepared(), **self.options)  # noqa: E731
        if self.grad_enabled:
            return run

        def without_grad() -> Any:
            with torch.no_grad():
                return run()
        return without_grad

    def __repr__(self) -> str:
        tensors = ", ".join(_describe(t) for t in self.inputs)
        options = {k: _describe(v) if isinstance(v, torch.Tensor) else v for k, v in self.options.items()}
        return (f"<{self.form} {self.contract.functional}({tensors}) options={options} activation={self.activation}"
                f" target_by_keyword={self.target_by_keyword} grad={self.grad_enabled} {' '.join(self.notes)}>")


def _describe(tensor: Any) -> str:
    if not isinstance(tensor, torch.Tensor):
        return repr(tensor)
    grad = " grad" if tensor.requires_grad else ""
    contiguous = "" if tensor.is_contiguous() else f" strides {tensor.stride()}"
    return f"{str(tensor.dtype)[6:]} {tuple(tensor.shape)}{contiguous}{grad}"


class _Maker:
    """Tensors from one seeded generator, in the kinds losses take."""

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def normal(self, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
        return torch.randn(shape, generator=self.generator).mul(3).to(dtype)

    def unit(self, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
        return torch.rand(shape, generator=self.generator).to(dtype)

    def binary(self, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
        return torch.randint(0, 2, shape, generator=self.generator).to(dtype)

    def sign(self, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
        return (torch.randint(0, 2, shape, generator=self.generator) * 2 - 1).to(dtype)

    def indices(self, shape: tuple, classes: int) -> torch.Tensor:
        return torch.randint(0, max(classes, 1), shape, generator=self.generator)

    def distribution(self, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
        dim = 1 if len(shape) >= 2 else 0
        return torch.randn(shape, generator=self.generator).softmax(dim).to(dtype)


def _float_dtype(draw: Any, dtype: torch.dtype) -> torch.dtype:
    """Mostly the input's dtype; sometimes another float dtype (PyTorch raises for some losses, not others)."""
    return draw(st.sampled_from([dtype] * 4 + list(PARITY_DTYPES)))


def _leaf(draw: Any, tensor: torch.Tensor, grad: bool, notes: list[str]) -> torch.Tensor:
    """A leaf, sometimes laid out non-contiguously (same values), sometimes holding a NaN or an infinity."""
    if tensor.numel() and tensor.is_floating_point() and draw(st.integers(0, 9)) == 0:
        tensor = tensor.clone()
        tensor.view(-1)[0] = draw(st.sampled_from([float("nan"), float("inf"), -float("inf")]))
        notes.append("special value")
    if tensor.ndim >= 2 and draw(st.booleans()):
        tensor = tensor.mT.contiguous().mT
        notes.append("non-contiguous")
    return tensor.requires_grad_(grad and (tensor.is_floating_point() or tensor.is_complex()))


def _target_shape(draw: Any, shape: tuple) -> tuple:
    """Mostly the expected shape; sometimes the (n, 1)/(n,) pitfall, a broadcast, or a plain mismatch."""
    choice = draw(st.integers(0, 23))
    if choice == 0:
        return (*shape, 1)
    if choice == 1 and shape and shape[-1] == 1:
        return shape[:-1]
    if choice == 2 and shape:
        return (1, *shape[1:])
    if choice == 3 and shape:
        return (shape[0] + 1, *shape[1:])
    return shape


@st.composite
def loss_calls(draw: Any, contract: LossContract) -> LossCall:
    maker = _Maker(draw(st.integers(0, 2**31 - 1)))
    dtype = draw(st.sampled_from(PARITY_DTYPES))
    grad = draw(st.booleans())
    notes: list[str] = []
    name = contract.functional
    builder = _BUILDERS[name]
    inputs, options = builder(draw, maker, dtype, grad, notes)
    form = draw(st.sampled_from(["functional", "module"]))
    activation = draw(st.sampled_from(list(_ACTIVATIONS)))
    return LossCall(contract, form, inputs, options, activation=activation,
                    target_by_keyword=form == "functional" and draw(st.booleans()),
                    grad_enabled=draw(st.integers(0, 4)) > 0, notes=notes)


def _reduction(draw: Any, extra: tuple = ()) -> dict:
    return {"reduction": draw(st.sampled_from(REDUCTIONS + extra))} if draw(st.booleans()) else {}


def _class_indices(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str],
                   with_extra_dims: bool, probabilities: bool) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(input, target, classes) for the class-index losses: batched or not, indices or probabilities."""
    classes = draw(st.integers(1, 5))
    batch = draw(st.integers(0, 5))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) if with_extra_dims else ()
    unbatched = draw(st.integers(0, 5)) == 0
    shape = (classes,) if unbatched else (batch, classes, *extra)
    inp = _leaf(draw, maker.normal(shape, dtype), grad, notes)
    if probabilities and draw(st.integers(0, 3)) == 0:
        target_dtype = _float_dtype(draw, dtype)
        kind = draw(st.sampled_from(["distribution", "one-hot", "multi-hot"]))
        notes.append(f"{kind} target")
        if kind == "distribution":
            target = maker.distribution(shape, target_dtype)
        elif kind == "one-hot":
            index = maker.indices(shape[:1] + shape[2:] if not unbatched else (), classes)
            target = F.one_hot(index, classes).movedim(-1, 1 if not unbatched else 0).contiguous().to(target_dtype)
        else:
            target = maker.binary(shape, target_dtype)
        return inp, _leaf(draw, target, grad and draw(st.booleans()), notes), classes
    target_shape = () if unbatched else (batch, *extra)
    target = maker.indices(target_shape, classes)
    if target.numel() and draw(st.integers(0, 5)) == 0:
        target.view(-1)[0] = draw(st.sampled_from([-100, -1, classes, classes + 3]))
        notes.append("odd class index")
    target_dtype = draw(st.sampled_from([torch.int64] * 6 + [torch.int32, torch.uint8, torch.float32]))
    if target_dtype is torch.uint8:
        target = target.clamp(min=0)
    return inp, target.to(target_dtype), classes


def _weight(draw: Any, maker: _Maker, dtype: torch.dtype, size: int) -> dict:
    """A class weight, mostly of the right size."""
    if not draw(st.booleans()):
        return {}
    return {"weight": maker.unit((size + (draw(st.integers(0, 7)) == 0),), dtype) + 0.5}


def _ignore_index(draw: Any) -> dict:
    """An ignore_index, as a Python int, a 0-d tensor or a NumPy integer (PyTorch takes all three)."""
    if not draw(st.booleans()):
        return {}
    kind = draw(st.sampled_from([int, int, torch.tensor, np.int64]))
    return {"ignore_index": kind(draw(st.sampled_from([-100, -1, 0])))}


def _cross_entropy(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str]) -> tuple:
    inp, target, classes = _class_indices(draw, maker, dtype, grad, notes, True, probabilities=True)
    options = {**_weight(draw, maker, dtype, classes), **_reduction(draw)}
    options.update(_ignore_index(draw))
    if draw(st.booleans()):
        options["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 0.5]))
    return (inp, target), options


def _nll_loss(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str]) -> tuple:
    inp, target, classes = _class_indices(draw, maker, dtype, grad, notes, True, probabilities=False)
    options = {**_weight(draw, maker, dtype, classes), **_reduction(draw)}
    options.update(_ignore_index(draw))
    return (inp, target), options


def _multi_margin_loss(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str]) -> tuple:
    inp, target, classes = _class_indices(draw, maker, dtype, grad, notes, False, probabilities=False)
    options = {**_weight(draw, maker, dtype, classes), **_reduction(draw)}
    if draw(st.booleans()):
        options["p"] = draw(st.sampled_from([1, 2]))
    if draw(st.booleans()):
        options["margin"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
    return (inp, target), options


def _multilabel_margin_loss(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str]) -> tuple:
    classes = draw(st.integers(1, 5))
    shape = (classes,) if draw(st.integers(0, 4)) == 0 else (draw(st.integers(0, 5)), classes)
    inp = _leaf(draw, maker.normal(shape, dtype), grad, notes)
    target = torch.randint(-1, classes + (draw(st.integers(0, 5)) == 0), shape, generator=maker.generator)
    target = target.to(draw(st.sampled_from([torch.int64] * 5 + [torch.int32, torch.float32])))
    return (inp, target), _reduction(draw)


def _elementwise_shape(draw: Any) -> tuple:
    batch = draw(st.integers(0, 5))
    return (batch, *draw(st.lists(st.integers(1, 4), max_size=3)))


def _elementwise(target_kinds: tuple[str, ...], extra_options: Callable[[Any, _Maker, torch.dtype, tuple], dict],
                 input_kinds: tuple[str, ...] = ("normal",)) -> Callable[..., tuple]:
    """A builder for the losses that compare input and target element by element."""
    def build(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str]) -> tuple:
        shape = _elementwise_shape(draw)
        inp = _leaf(draw, getattr(maker, draw(st.sampled_from(input_kinds)))(shape, dtype), grad, notes)
        kind = draw(st.sampled_from(target_kinds))
        target_dtype = _float_dtype(draw, dtype)
        target_shape = _target_shape(draw, shape)
        if kind == "integer":
            target = maker.binary(target_shape, torch.int64)
        else:
            target = getattr(maker, kind)(target_shape, target_dtype)
        target = _leaf(draw, target, grad and draw(st.booleans()), notes)
        notes.append(f"{kind} target")
        return (inp, target), {**extra_options(draw, maker, dtype, shape), **_reduction(draw)}
    return build


def _no_options(draw: Any, maker: _Maker, dtype: torch.dtype, shape: tuple) -> dict:
    return {}


def _bce_options(draw: Any, maker: _Maker, dtype: torch.dtype, shape: tuple) -> dict:
    return _weight(draw, maker, dtype, shape[-1]) if len(shape) >= 1 else {}


def _bce_with_logits_options(draw: Any, maker: _Maker, dtype: torch.dtype, shape: tuple) -> dict:
    options = _bce_options(draw, maker, dtype, shape)
    if len(shape) >= 1 and draw(st.booleans()):
        options["pos_weight"] = maker.unit((shape[-1],), dtype) + 0.5
    return options


def _keyword(name: str, values: list) -> Callable[..., dict]:
    def options(draw: Any, maker: _Maker, dtype: torch.dtype, shape: tuple) -> dict:
        return {name: draw(st.sampled_from(values))} if draw(st.booleans()) else {}
    return options


def _kl_div(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str]) -> tuple:
    (inp, target), options = _elementwise(("distribution", "unit", "normal"), _no_options)(
        draw, maker, dtype, grad, notes)
    options.update(_reduction(draw, ("batchmean",)))
    if draw(st.booleans()):
        options["log_target"] = draw(st.booleans())
    return (inp, target), options


def _pair(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str], features: bool) -> tuple:
    """(input1, input2, target) of margin_ranking_loss (features=False) and cosine_embedding_loss."""
    batch = draw(st.integers(0, 5))
    unbatched = features and draw(st.integers(0, 4)) == 0
    shape = ((draw(st.integers(1, 4)),) if unbatched else (batch, draw(st.integers(1, 4)))) if features else (batch,)
    first = _leaf(draw, maker.normal(shape, dtype), grad, notes)
    second = _leaf(draw, maker.normal(shape, _float_dtype(draw, dtype)), grad and draw(st.booleans()), notes)
    target_shape = () if unbatched else _target_shape(draw, (batch,))
    kind = draw(st.sampled_from(["sign", "sign", "binary"]))
    target = getattr(maker, kind)(target_shape, _float_dtype(draw, dtype))
    options = _reduction(draw)
    if draw(st.booleans()):
        options["margin"] = draw(st.sampled_from([0.0, 0.2, 1.0]))
    return (first, second, target), options


def _margin_ranking_loss(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str]) -> tuple:
    return _pair(draw, maker, dtype, grad, notes, features=False)


def _cosine_embedding_loss(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str]) -> tuple:
    return _pair(draw, maker, dtype, grad, notes, features=True)


def _triplet_margin_loss(draw: Any, maker: _Maker, dtype: torch.dtype, grad: bool, notes: list[str]) -> tuple:
    shape = (draw(st.integers(0, 5)), draw(st.integers(1, 4)))
    if draw(st.integers(0, 4)) == 0:
        shape = shape[1:]
    tensors = tuple(_leaf(draw, maker.normal(shape, dtype), grad and draw(st.booleans()), notes) for _ in range(3))
    options = _reduction(draw)
    for name, values in (("margin", [0.0, 1.0, 2.0]), ("p", [1.0, 2.0, 3.0]), ("eps", [1e-6, 1e-3]),
                         ("swap", [False, True])):
        if draw(st.booleans()):
            options[name] = draw(st.sampled_from(values))
    return tensors, options


_BUILDERS: dict[str, Callable[..., tuple]] = {
    "cross_entropy": _cross_entropy,
    "nll_loss": _nll_loss,
    "multi_margin_loss": _multi_margin_loss,
    "multilabel_margin_loss": _multilabel_margin_loss,
    "binary_cross_entropy": _elementwise(("binary", "binary", "unit", "unit", "normal", "integer"), _bce_options,
                                         ("unit", "unit", "unit", "normal")),
    "binary_cross_entropy_with_logits": _elementwise(("binary", "binary", "unit", "unit", "normal", "integer"),
                                                     _bce_with_logits_options),
    "mse_loss": _elementwise(("normal", "normal", "integer"), _no_options),
    "l1_loss": _elementwise(("normal", "normal", "integer"), _no_options),
    "smooth_l1_loss": _elementwise(("normal", "normal", "integer"), _keyword("beta", [0.0, 0.5, 1.0, 2.0])),
    "huber_loss": _elementwise(("normal", "normal", "integer"), _keyword("delta", [0.5, 1.0, 2.0])),
    "kl_div": _kl_div,
    "hinge_embedding_loss": _elementwise(("sign", "sign", "binary"), _keyword("margin", [0.5, 1.0, 2.0])),
    "soft_margin_loss": _elementwise(("sign", "sign", "binary"), _no_options),
    "multilabel_soft_margin_loss": _elementwise(("binary", "binary", "unit"), _bce_options),
    "margin_ranking_loss": _margin_ranking_loss,
    "cosine_embedding_loss": _cosine_embedding_loss,
    "triplet_margin_loss": _triplet_margin_loss,
}
