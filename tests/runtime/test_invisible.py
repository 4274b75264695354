"""The guard is invisible to PyTorch's own machinery: `__torch_function__` dispatch, pickling, `torch.jit.trace`,
`torch.fx` and `torch.compile` give the same results and programs with the guard installed as without it."""

from __future__ import annotations

import io
import pickle
import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard

N, C = 8, 3

# Handlers keyed by PyTorch's functions, the way tensor subclasses and tensor-likes register them.
HANDLED = {F.mse_loss: lambda *args, **kwargs: 123.0, F.l1_loss: lambda *args, **kwargs: -1.0}


class ScoredTensor(torch.Tensor):
    """A tensor subclass that overrides two losses and leaves every other function to torch."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in HANDLED:
            return HANDLED[func](*args, **(kwargs or {}))
        return super().__torch_function__(func, types, args, kwargs or {})


class TensorLike:
    """Not a tensor at all: only what its handler table names works on it."""

    def __init__(self, value: float) -> None:
        self.value = value

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func not in HANDLED:
            return NotImplemented
        return HANDLED[func](*args, **(kwargs or {}))


def _dispatched():
    prediction = torch.randn(N, 1).as_subclass(ScoredTensor)
    target = torch.randn(N, 1)
    return (F.mse_loss(prediction, target), nn.MSELoss()(prediction, target), F.l1_loss(TensorLike(1.0), target),
            float(F.cross_entropy(torch.randn(N, C).as_subclass(ScoredTensor), torch.randint(0, C, (N,)))))


def test_torch_function_dispatch_sees_pytorchs_function(quiet):
    expected = _dispatched()
    assert expected[:3] == (123.0, 123.0, -1.0)
    with lossguard.guard():
        assert _dispatched()[:3] == expected[:3]


def test_a_handler_table_built_while_the_guard_is_installed_still_matches(quiet):
    with lossguard.guard():
        table = {F.huber_loss: lambda *args, **kwargs: 7.0}

        class Late(TensorLike):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return table[func](*args, **(kwargs or {})) if func in table else NotImplemented

        assert F.huber_loss(Late(0.0), torch.zeros(2)) == 7.0
    assert F.huber_loss(Late(0.0), torch.zeros(2)) == 7.0


class Classifier(nn.Module):
    def __init__(self, loss_fn=F.cross_entropy) -> None:
        super().__init__()
        self.fc = nn.Linear(4, C)
        self.loss_fn = loss_fn

    def forward(self, x, y):
        return self.loss_fn(self.fc(x), y)


class LookedUpClassifier(Classifier):
    """Looks the loss up on torch.nn.functional at call time, as nn.CrossEntropyLoss does."""

    def forward(self, x, y):
        return F.cross_entropy(self.fc(x), y)


def _saved_and_loaded(module: nn.Module) -> nn.Module:
    buffer = io.BytesIO()
    torch.save(module, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


def test_torch_save_of_a_module_holding_a_loss_function_before_during_and_after_installing(quiet):
    before = Classifier()
    assert _saved_and_loaded(before).loss_fn is F.cross_entropy
    with lossguard.guard():
        assert _saved_and_loaded(before).loss_fn is F.cross_entropy  # a reference taken before install()
        during = Classifier(loss_fn=nn.functional.cross_entropy)
        assert _saved_and_loaded(during).loss_fn is F.cross_entropy
        pickled_during = pickle.dumps(during.loss_fn)
    assert _saved_and_loaded(during).loss_fn is F.cross_entropy  # taken while installed, saved after
    assert pickle.loads(pickled_during) is F.cross_entropy


def _ops(traced: torch.jit.ScriptModule) -> list[str]:
    return [node.kind() for node in traced.inlined_graph.nodes()]


def test_jit_trace_records_no_guard_op_and_warns_about_nothing_of_the_guards(quiet):
    model = LookedUpClassifier()
    x, y = torch.randn(N, 4), torch.randint(0, C, (N,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _ops(torch.jit.trace(model, (x, y)))
    with warnings.catch_warnings(record=True) as caught, lossguard.guard() as g:
        warnings.simplefilter("always")
        traced = torch.jit.trace(model, (x, y))  # check_trace runs the model again and compares
    assert _ops(traced) == expected
    assert not [w for w in caught if "lossguard" in w.filename or issubclass(w.category, torch.jit.TracerWarning)]
    assert g.findings == []
    assert torch.equal(traced(x, y), model(x, y))


def test_fx_symbolic_trace_targets_pytorchs_function(quiet):
    with lossguard.guard():
        graph = torch.fx.symbolic_trace(LookedUpClassifier()).graph
    targets = [node.target for node in graph.nodes if node.op == "call_function"]
    assert targets == [F.cross_entropy]


def _compile_available() -> bool:
    try:
        torch.compile(lambda x: x + 1, backend="eager", fullgraph=True)(torch.ones(1))
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _compile_available(), reason="torch.compile is unavailable here")
@pytest.mark.parametrize("backend", ["eager", "aot_eager"])
def test_a_compiled_step_gets_the_same_graph_and_result_and_is_not_checked(backend, quiet):
    import torch._dynamo

    graphs = []

    def recording(gm, inputs):
        graphs.append(gm.code)
        return torch._dynamo.lookup_backend(backend)(gm, inputs)

    model = nn.Sequential(nn.Linear(4, C), nn.Softmax(dim=1))  # a pitfall inside the compiled region

    def step(x, y):
        return F.cross_entropy(model(x), y) + nn.MSELoss()(model(x), torch.zeros(N, C))

    x, y = torch.randn(N, 4), torch.randint(0, C, (N,))
    torch._dynamo.reset()
    expected = torch.compile(step, backend=recording, fullgraph=True)(x, y)
    torch._dynamo.reset()
    with lossguard.guard() as g:
        compiled = torch.compile(step, backend=recording, fullgraph=True)
        first, second = compiled(x, y), compiled(x, y)
    torch._dynamo.reset()
    assert graphs[0] == graphs[1] and len(graphs) == 2  # the same graph, and no recompile
    assert torch.equal(first, expected) and torch.equal(second, expected)
    assert g.findings == []
