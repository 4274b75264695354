"""Patching torch.nn.functional: chained, restored exactly, invisible to TorchScript and torch.compile."""

from __future__ import annotations

import functools

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard
from lossguard.contracts import CONTRACTS
from lossguard.runtime import wrap


def test_every_contract_loss_is_wrapped_and_restored_exactly():
    originals = {c.functional: getattr(F, c.functional) for c in CONTRACTS}
    handle = lossguard.install()
    for name, original in originals.items():
        wrapper = getattr(F, name)
        assert wrapper is not original and wrapper.__wrapped__ is original
        assert wrapper.__name__ == original.__name__ and wrapper.__doc__ == original.__doc__
    handle.uninstall()
    assert {name: getattr(F, name) for name in originals} == originals


def test_wrapping_chains_onto_what_is_installed_and_leaves_a_later_wrapper_in_place(quiet):
    original = F.mse_loss
    calls = []

    @functools.wraps(original)
    def theirs(*args, **kwargs):
        calls.append("theirs")
        return original(*args, **kwargs)

    F.mse_loss = theirs
    try:
        with lossguard.guard() as g:
            assert F.mse_loss.__wrapped__ is theirs
            F.mse_loss(torch.randn(4, 1, requires_grad=True), torch.randn(4))
        assert F.mse_loss is theirs and calls == ["theirs"] and [f.code for f in g.findings] == ["LG301"]

        handle = lossguard.install()
        ours = F.mse_loss

        @functools.wraps(ours)
        def later(*args, **kwargs):
            return ours(*args, **kwargs)

        F.mse_loss = later
        handle.uninstall()
        assert F.mse_loss is later  # not ours to remove: the later wrapper keeps its chain
        F.mse_loss(torch.randn(4, 1, requires_grad=True), torch.randn(4))  # ours now only forwards
    finally:
        F.mse_loss = original


def test_nested_installs_patch_once_and_the_last_uninstall_restores():
    original = F.cross_entropy
    outer = lossguard.install("log")
    inner = lossguard.install("raise")
    assert wrap.is_patched() and F.cross_entropy.__wrapped__ is original
    inner.uninstall()
    inner.uninstall()  # idempotent
    assert wrap.is_patched()
    outer.uninstall()
    assert F.cross_entropy is original and not wrap.is_patched()


def test_torch_jit_script_of_a_loss_module_and_function_still_works():
    logits, y = torch.randn(8, 5), torch.randint(0, 5, (8,))
    with lossguard.guard():
        scripted = torch.jit.script(nn.CrossEntropyLoss(label_smoothing=0.1))

        @torch.jit.script
        def bce(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return F.binary_cross_entropy_with_logits(x, t)

        value = scripted(logits, y)
        bce(torch.randn(4, 1), torch.rand(4, 1))
    assert torch.equal(value, F.cross_entropy(logits, y, label_smoothing=0.1))


def _compile_available() -> bool:
    try:
        torch.compile(lambda x: x + 1, backend="eager", fullgraph=True)(torch.ones(1))
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _compile_available(), reason="torch.compile is unavailable here")
def test_torch_compile_fullgraph_of_forward_and_loss_has_no_graph_break_and_no_recompile(quiet):
    import torch._dynamo

    torch._dynamo.reset()
    model = nn.Sequential(nn.Linear(10, 5), nn.Softmax(dim=1))  # even with a pitfall inside
    criterion = nn.CrossEntropyLoss()

    def step(x, y):
        return criterion(model(x), y) + F.mse_loss(model(x), torch.zeros_like(model(x)))

    x, y = torch.randn(8, 10), torch.randint(0, 5, (8,))
    compiled = torch.compile(step, backend="aot_eager", fullgraph=True)
    with lossguard.guard() as g, torch._dynamo.config.patch(error_on_recompile=True):
        first = compiled(x, y)
        second = compiled(x, y)
    assert torch.equal(first, second) and torch.equal(first, step(x, y))
    assert g.findings == []  # compiled code is not checked, and the guard changes nothing inside it
    torch._dynamo.reset()
