"""Patching the torch.nn.functional losses in place: same objects, restored exactly, under other wrappers too."""

from __future__ import annotations

import functools
import inspect

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard
from lossguard.contracts import CONTRACTS
from lossguard.runtime import wrap


def test_every_contract_loss_keeps_its_identity_signature_and_source_and_gets_its_code_back():
    originals = {c.functional: getattr(F, c.functional) for c in CONTRACTS}
    codes = {name: function.__code__ for name, function in originals.items()}
    signatures = {name: inspect.signature(function) for name, function in originals.items()}
    sources = {name: inspect.getsource(function) for name, function in originals.items()}
    handle = lossguard.install()
    for name, function in originals.items():
        assert getattr(F, name) is function and function.__code__ is not codes[name]
        assert inspect.signature(function) == signatures[name] and inspect.getsource(function) == sources[name]
        assert function.__code__.co_filename == codes[name].co_filename
    handle.uninstall()
    assert {name: getattr(F, name) for name in originals} == originals
    assert all(function.__code__ is codes[name] for name, function in originals.items())


def test_a_reference_taken_before_installing_is_checked(quiet):
    from torch.nn.functional import mse_loss  # as libraries import it, long before anyone installs a guard

    with lossguard.guard() as g:
        mse_loss(torch.randn(4, 1, requires_grad=True), torch.randn(4))
    assert [f.code for f in g.findings] == ["LG301"]


def test_a_wrapper_put_over_the_loss_before_installing_is_kept_and_the_loss_under_it_checked(quiet):
    original, code = F.mse_loss, F.mse_loss.__code__
    calls = []

    @functools.wraps(original)
    def theirs(*args, **kwargs):
        calls.append("theirs")
        return original(*args, **kwargs)

    F.mse_loss = theirs
    try:
        with lossguard.guard() as g:
            assert F.mse_loss is theirs
            F.mse_loss(torch.randn(4, 1, requires_grad=True), torch.randn(4))
        assert F.mse_loss is theirs and calls == ["theirs"] and [f.code for f in g.findings] == ["LG301"]
        assert original.__code__ is code and not wrap.is_patched()
    finally:
        F.mse_loss = original


def test_a_replacement_that_is_not_a_wrapper_is_left_alone(quiet):
    original = F.l1_loss
    F.l1_loss = lambda input, target, **kwargs: (input - target).abs().mean()
    try:
        with lossguard.guard() as g:
            F.l1_loss(torch.randn(4, 1, requires_grad=True), torch.randn(4))
        assert g.findings == []
    finally:
        F.l1_loss = original


def test_nested_installs_patch_once_and_the_last_uninstall_restores():
    code = F.cross_entropy.__code__
    outer = lossguard.install("log")
    inner = lossguard.install("raise")
    assert wrap.is_patched() and F.cross_entropy.__code__ is not code
    inner.uninstall()
    inner.uninstall()  # idempotent
    assert wrap.is_patched()
    outer.uninstall()
    assert F.cross_entropy.__code__ is code and not wrap.is_patched()


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
