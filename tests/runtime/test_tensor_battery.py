"""Every wrapped loss, fed the tensors real programs pass (and some they should not): sparse (COO, CSR), complex,
0-d, empty batches, meta, nested, tensor subclasses (with and without `__torch_function__`), non-contiguous
(transposed, strided, expanded), channels-last, targets that require grad, integer, bool and half tensors. With the
guard: no crash, no internal error, no warning of the guard's own, the same values and gradients, and PyTorch's
own exception where it raises (parity.py compares). The checks run where the layout allows them."""

from __future__ import annotations

import sys
import warnings
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lossguard
from lossguard.runtime import wrap
from tests.runtime.parity import difference, loss_module, values_defined

N, C = 4, 3
pytestmark = pytest.mark.usefixtures("one_thread")
CONTRACTS = wrap.wrapped_contracts()


class PlainSubclass(torch.Tensor):
    """A tensor subclass that adds nothing."""


class CountingTensor(torch.Tensor):
    """A subclass whose `__torch_function__` sees every function and attribute read (as logging wrappers do)."""

    seen: list[str] = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.seen.append(getattr(func, "__name__", repr(func)))
        return super().__torch_function__(func, types, args, kwargs or {})


class StrictTensor(torch.Tensor):
    """A subclass that, while `strict`, refuses every function but the losses, reads of its metadata included."""

    strict = False

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if cls.strict and getattr(func, "__module__", "") != "torch.nn.functional":
            raise NotImplementedError(f"StrictTensor does not support {func}")
        with torch._C.DisableTorchFunctionSubclass():
            return func(*args, **(kwargs or {}))


def _base(name: str, spatial: bool) -> tuple | None:
    """Valid arguments of each loss: (N, C) tensors, or (N, C, 2, 2) where the loss takes images."""
    g = torch.Generator().manual_seed(sum(map(ord, name)))
    shape = (N, C, 2, 2) if spatial else (N, C)
    x = torch.randn(shape, generator=g)
    labels = torch.randint(0, C, (N, *shape[2:]), generator=g)
    binary = torch.randint(0, 2, shape, generator=g).float()
    sign = binary * 2 - 1
    if name in ("cross_entropy", "nll_loss"):
        return x, labels
    if spatial and name not in _ELEMENTWISE:
        return None
    return {
        "multi_margin_loss": (x, labels),
        "multilabel_margin_loss": (x, torch.where(binary > 0, labels[:, None], -1)),
        "binary_cross_entropy": (torch.rand(shape, generator=g), binary),
        "kl_div": (x.log_softmax(1), torch.rand(shape, generator=g).softmax(1)),
        "hinge_embedding_loss": (x, sign),
        "soft_margin_loss": (x, sign),
        "margin_ranking_loss": (x[:, 0], x[:, 1], sign[:, 0]),
        "cosine_embedding_loss": (x, torch.randn(shape, generator=g), sign[:, 0]),
        "triplet_margin_loss": (x, torch.randn(shape, generator=g), torch.randn(shape, generator=g)),
    }.get(name, (x, binary if "binary" in name or "multilabel" in name else torch.randn(shape, generator=g)))


_ELEMENTWISE = {"binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss",
                "huber_loss", "kl_div", "hinge_embedding_loss", "soft_margin_loss"}


def _csr(t: torch.Tensor) -> torch.Tensor | None:
    if t.ndim != 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Sparse CSR tensor support is in beta state"
        return t.to_sparse_csr()


def _nested(t: torch.Tensor) -> torch.Tensor | None:
    if t.ndim < 1 or t.shape[0] < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "The PyTorch API of nested tensors is in prototype stage"
        return torch.nested.nested_tensor([t[:1], t[1:]])


def _floats(change: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor | None]:
    return lambda t: change(t) if t.is_floating_point() else None


def _inference(t: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return t.clone()


TRANSFORMS: dict[str, Callable[[torch.Tensor], torch.Tensor | None]] = {
    "sparse COO": lambda t: t.to_sparse(),
    "sparse CSR": _csr,
    "complex": _floats(lambda t: t.to(torch.complex64)),
    "0-d": lambda t: t.reshape(-1)[0].clone(),
    "empty batch": lambda t: t[:0].clone(),
    "meta": lambda t: t.to("meta"),
    "nested": _nested,
    "subclass": lambda t: t.as_subclass(PlainSubclass),
    "__torch_function__ subclass": lambda t: t.as_subclass(CountingTensor),
    "strict __torch_function__ subclass": lambda t: t.as_subclass(StrictTensor),
    "transposed layout": lambda t: t.mT.contiguous().mT if t.ndim >= 2 else None,
    "transposed": lambda t: t.mT if t.ndim >= 2 else None,
    "strided": lambda t: torch.stack([t, t], -1)[..., 0],
    "expanded": lambda t: t[:1].expand_as(t) if t.ndim >= 1 and len(t) else None,
    "channels-last": lambda t: t.contiguous(memory_format=torch.channels_last) if t.ndim == 4 else None,
    "requires grad": _floats(lambda t: t.clone().requires_grad_()),
    "integer": lambda t: t.round().long(),
    "bool": lambda t: t > 0,
    "half": _floats(lambda t: t.half()),
    "inference tensor": _inference,
}


def _arguments(name: str, transform: str, position: str, spatial: bool) -> tuple | None:
    """The base arguments with the transform applied to the target or to every tensor; the input a leaf that
    requires grad where it can. None where the transform does not apply."""
    base = list(_base(name, spatial))
    chosen = {"target": [len(base) - 1], "all": range(len(base))}[position]
    changed = False
    for index in chosen:
        new = TRANSFORMS[transform](base[index])
        if new is not None:
            base[index], changed = new, True
    if not changed:
        return None
    first = base[0]
    if transform != "requires grad" and (first.is_floating_point() or first.is_complex()):
        try:
            first.requires_grad_()
        except RuntimeError:  # a view, an inference tensor: it stays as it is
            pass
    return tuple(base)


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.functional for c in CONTRACTS])
def test_the_guard_survives_every_kind_of_tensor(contract, transform):
    # The target alone, or every tensor (the input alone is in "every tensor" for the losses without a target);
    # (n, c) tensors, and (n, c, 2, 2) where the loss takes images; the module form with every tensor changed.
    name, tried, failures = contract.functional, 0, []
    for spatial in (False, True):
        for position in ("target", "all"):
            inputs = _arguments(name, transform, position, spatial) if _base(name, spatial) else None
            if inputs is None:
                continue
            calls = [("functional", getattr(F, name))]
            if position == "all":
                calls.append(("module", loss_module(contract, {})))
            for form, call in calls:
                tried += 1
                found = difference(_strictly(call, inputs), (inputs, {}), values_defined(name, inputs))
                if found is not None:
                    failures.append(f"{form}, {position}{' (n, c, 2, 2)' if spatial else ''}: {found}")
    if not tried:
        pytest.skip("the transform does not apply to this loss")
    assert failures == []


def _strictly(call: Callable[..., Any], inputs: tuple) -> Callable[[], Any]:
    """The call, with StrictTensor refusing what it does not know while the loss runs."""
    def run() -> Any:
        StrictTensor.strict = True
        try:
            return call(*inputs)
        finally:
            StrictTensor.strict = False
    return run


def test_a_torch_function_subclass_never_sees_the_guards_reads(quiet):
    logits = torch.randn(N, C, requires_grad=True).as_subclass(CountingTensor)
    labels = torch.randint(0, C, (N,)).as_subclass(CountingTensor)
    CountingTensor.seen = []
    F.cross_entropy(logits, labels)
    without = list(CountingTensor.seen)
    with lossguard.guard(first_calls=1, sample_every=1):
        CountingTensor.seen = []
        F.cross_entropy(logits, labels)
    assert CountingTensor.seen == without == ["cross_entropy"]


def test_a_subclass_call_is_reported_once_at_the_users_line_not_again_from_its_handler(quiet):
    # The subclass's __torch_function__ calls the loss again (through super()): that is the same call.
    logits = torch.randn(N, C, requires_grad=True).as_subclass(CountingTensor)
    with lossguard.guard() as handle:
        line = sys._getframe().f_lineno + 1
        F.cross_entropy(logits.softmax(dim=1), torch.randint(0, C, (N,)))
    assert [(f.code, f.path, f.line) for f in handle.findings] == [("LG102", __file__, line)]


def test_a_subclass_still_gets_the_shape_checks(quiet):
    with lossguard.guard() as handle:
        _strictly(F.mse_loss, (torch.randn(N, 1).as_subclass(StrictTensor), torch.randn(N).as_subclass(StrictTensor)))()
    assert [f.code for f in handle.findings] == ["LG301"]


def test_sparse_targets_get_the_shape_checks_and_no_value_checks(quiet):
    # A sparse one-hot target is not read (no kernel for the statistics): no LG201, and no internal error; its
    # shape is still judged.
    logits = torch.randn(N, C, requires_grad=True)
    one_hot = torch.eye(C)[torch.randint(0, C, (N,))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with lossguard.guard() as handle:
            for _ in range(4):
                F.cross_entropy(logits, one_hot.to_sparse())
    assert handle.findings == []
    with lossguard.guard() as handle, pytest.raises(RuntimeError, match="unsupported for Sparse"):
        F.mse_loss(torch.randn(N, 1, requires_grad=True), torch.randn(N).to_sparse())
    assert [f.code for f in handle.findings] == ["LG301"]


def test_a_complex_target_is_not_read_as_real(quiet):
    # Reading it with .float() warned "Casting complex values to real discards the imaginary part".
    logits, target = torch.randn(N, C, dtype=torch.complex64), torch.randn(N, C, dtype=torch.complex64)
    with lossguard.guard(sample_every=1):
        with pytest.raises(RuntimeError):
            F.cross_entropy(logits, target)
    assert not [w for w in quiet if "imaginary" in str(w.message)]


@pytest.mark.parametrize("ignored", [torch.tensor(-1), np.int64(-1), np.int32(-1)],
                         ids=["0-d tensor", "numpy int64", "numpy int32"])
def test_ignore_index_as_pytorch_takes_it(ignored: Any, quiet):
    # PyTorch takes any integer for ignore_index; read as -100, the padding -1 was a false LG204.
    logits, labels = torch.randn(N, C, requires_grad=True), torch.tensor([0, -1, 2, -1])
    with lossguard.guard("raise", sample_every=1) as handle:
        F.cross_entropy(logits, labels, ignore_index=ignored)
        F.nll_loss(logits.log_softmax(1), labels, ignore_index=ignored)
    assert handle.findings == []


def test_a_nested_tensor_is_left_to_pytorch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nested = torch.nested.nested_tensor([torch.randn(2, C), torch.randn(3, C)])
        with lossguard.guard(), pytest.raises(RuntimeError):
            F.mse_loss(nested, nested)
    assert not [w for w in caught if "internal error" in str(w.message)]
