"""Each runtime-detectable rule, in a short real training loop: the guard reports exactly that code, at the user's
line; the correct twin of the same loop reports nothing."""

from __future__ import annotations

import inspect
import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard
from lossguard.rules import get_rule

N, D, C = 64, 20, 5


def _x() -> torch.Tensor:
    return torch.randn(N, D)


def _labels() -> torch.Tensor:
    return torch.randint(0, C, (N,))


def _train(model: nn.Module, step, steps: int = 4) -> tuple[list, int]:
    """Train `model` with `step(model) -> loss` for a few steps under a guard; return the findings and the line of
    the loss call (the line of `step`'s source marked `# loss`). A PyTorch error raised by the pitfall itself
    (after the guard reported it) ends the loop early, as it would end a real run."""
    torch.manual_seed(0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    source, first = inspect.getsourcelines(step)
    marked = [first + i for i, text in enumerate(source) if text.rstrip().endswith("# loss")]
    with warnings.catch_warnings(record=True) as caught, lossguard.guard() as g:
        warnings.simplefilter("always")
        for _ in range(steps):
            optimizer.zero_grad()
            try:
                loss = step(model)
            except (RuntimeError, ValueError, IndexError):
                break
            loss.backward()
            optimizer.step()
    reported = [w for w in caught if issubclass(w.category, lossguard.LossGuardWarning)]
    assert len(reported) == len(g.findings)  # once per call site and code, not once per step
    for warning, finding in zip(reported, g.findings):
        assert (warning.filename, warning.lineno) == (finding.path, finding.line)
    return g.findings, marked[0]


def _head(outputs: int, *activation: nn.Module) -> nn.Module:
    return nn.Sequential(nn.Linear(D, 32), nn.ReLU(), nn.Linear(32, outputs), *activation)


# name -> (model, bad step, good step, code). Each step's loss call is on its line marked `# loss`.
def _case(code, model_bad, bad, model_good, good):
    return pytest.param(model_bad, bad, model_good, good, code, id=code)


def _bce_sigmoid(m):
    return nn.BCEWithLogitsLoss()(m(_x()), torch.rand(N, 1).round())  # loss


def _ce(m):
    return nn.CrossEntropyLoss()(m(_x()), _labels())  # loss


def _ce_functional(m):
    return F.cross_entropy(m(_x()), _labels())  # loss


def _nll(m):
    return F.nll_loss(m(_x()), _labels())  # loss


def _bce_probabilities(m):
    return nn.BCELoss()(m(_x()), torch.rand(N, 1).round())  # loss


def _kl(m):
    return F.kl_div(m(_x()), torch.softmax(torch.randn(N, C), 1), reduction="batchmean")  # loss


def _ce_binary_float_targets(m):
    return F.cross_entropy(m(_x()), torch.rand(N, 1).round())  # loss


def _ce_one_hot(m):
    return nn.CrossEntropyLoss()(m(_x()), F.one_hot(_labels(), C).float())  # loss


def _ce_smoothed(m):
    return nn.CrossEntropyLoss()(m(_x()), F.one_hot(_labels(), C).float() * 0.9 + 0.1 / C)  # loss


def _ce_long_one_hot(m):
    return F.cross_entropy(m(_x()), F.one_hot(_labels(), C))  # loss


def _ce_float_labels(m):
    return F.cross_entropy(m(_x()), _labels().float())  # loss


def _bce_long_targets(m):
    return F.binary_cross_entropy_with_logits(m(_x()), torch.randint(0, 2, (N, 1)))  # loss


def _bce_float_targets(m):
    return F.binary_cross_entropy_with_logits(m(_x()), torch.randint(0, 2, (N, 1)).float())  # loss


def _ce_labels_one_to_c(m):
    return F.cross_entropy(m(_x()), _labels() + 1)  # loss


def _ce_void_ignored(m):
    y = _labels()
    y[::7] = 255
    return F.cross_entropy(m(_x()), y, ignore_index=255)  # loss


def _ce_multi_hot(m):
    return F.cross_entropy(m(_x()), (torch.rand(N, C) > 0.5).float().clamp_min(0) + F.one_hot(_labels(), C))  # loss


def _bce_multi_label(m):
    y = (torch.rand(N, C) > 0.5).float()
    return F.binary_cross_entropy_with_logits(m(_x()), y)  # loss


def _hinge_zero_one(m):
    return F.soft_margin_loss(m(_x()), torch.randint(0, 2, (N, 1)).float())  # loss


def _hinge_sign(m):
    return F.soft_margin_loss(m(_x()), torch.randint(0, 2, (N, 1)).float() * 2 - 1)  # loss


def _mse_column(m):
    return F.mse_loss(m(_x()), torch.randn(N))  # loss


def _mse_matched(m):
    return F.mse_loss(m(_x()), torch.randn(N, 1))  # loss


def _bce_vector_target(m):
    return F.binary_cross_entropy_with_logits(m(_x()), torch.rand(N).round())  # loss


def _ce_column_target(m):
    return F.cross_entropy(m(_x()), _labels().view(-1, 1))  # loss


class _Tagger(nn.Module):
    """A token classifier: (n, L, d) -> (n, L, C)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(D, C)

    def forward(self, x):
        return self.fc(x)


def _seq_class_last(m):
    return F.cross_entropy(m(torch.randn(8, 7, D)), torch.randint(0, C, (8, 7)))  # loss


def _seq_class_moved(m):
    return F.cross_entropy(m(torch.randn(8, 7, D)).transpose(1, 2), torch.randint(0, C, (8, 7)))  # loss


def _ce_unbatched(m):
    return F.cross_entropy(m(_x()).squeeze(1), torch.rand(N).round())  # loss


def _bce_unbatched(m):
    return F.binary_cross_entropy_with_logits(m(_x()).squeeze(1), torch.rand(N).round())  # loss


def _l1_rounded_probabilities(m):
    return F.l1_loss(torch.round(torch.sigmoid(m(_x()))), torch.rand(N, 1).round())  # loss


def _ce_rounded(m):
    return F.mse_loss(m(_x()).round(), torch.randint(0, 3, (N, 1)).float())  # loss


CASES = [
    _case("LG101", _head(1, nn.Sigmoid()), _bce_sigmoid, _head(1), _bce_sigmoid),
    _case("LG102", _head(C, nn.Softmax(dim=1)), _ce, _head(C), _ce),
    _case("LG103", _head(C, nn.LogSoftmax(dim=1)), _ce, _head(C, nn.LogSoftmax(dim=1)), _nll),
    _case("LG104", _head(C, nn.Softmax(dim=1)), _nll, _head(C, nn.LogSoftmax(dim=1)), _nll),
    _case("LG105", _head(C), _nll, _head(C, nn.LogSoftmax(dim=1)), _nll),
    _case("LG106", _head(1), _bce_probabilities, _head(1, nn.Sigmoid()), _bce_probabilities),
    _case("LG107", _head(C, nn.Sigmoid()), _ce_functional, _head(C), _ce_functional),
    _case("LG108", _head(C, nn.Softmax(dim=1)), _kl, _head(C, nn.LogSoftmax(dim=1)), _kl),
    _case("LG109", _head(1), _ce_binary_float_targets, _head(1), _bce_float_targets),
    _case("LG201", _head(C), _ce_one_hot, _head(C), _ce_smoothed),
    pytest.param(_head(C), _ce_long_one_hot, _head(C), _ce, "LG201", id="LG201-long"),
    _case("LG202", _head(C), _ce_float_labels, _head(C), _ce_functional),
    _case("LG203", _head(1), _bce_long_targets, _head(1), _bce_float_targets),
    _case("LG204", _head(C), _ce_labels_one_to_c, _head(C), _ce_void_ignored),
    _case("LG205", _head(C), _ce_multi_hot, _head(C), _bce_multi_label),
    _case("LG206", _head(1), _hinge_zero_one, _head(1), _hinge_sign),
    _case("LG301", _head(1), _mse_column, _head(1), _mse_matched),
    _case("LG302", _head(1), _bce_vector_target, _head(1), _bce_float_targets),
    _case("LG303", _head(C), _ce_column_target, _head(C), _ce),
    _case("LG304", _Tagger(), _seq_class_last, _Tagger(), _seq_class_moved),
    _case("LG305", _head(1), _ce_unbatched, _head(1), _bce_unbatched),
    _case("LG401", _head(1), _l1_rounded_probabilities, _head(1), _mse_matched),
    pytest.param(_head(1), _ce_rounded, _head(1), _mse_matched, "LG401", id="LG401-round"),
]


@pytest.mark.parametrize("model_bad, bad, model_good, good, code", CASES)
def test_the_guard_reports_the_pitfall_at_the_users_line(model_bad, bad, model_good, good, code):
    found, line = _train(model_bad, bad)
    assert [(f.code, f.path, f.line) for f in found] == [(code, __file__, line)]
    assert found[0].message.startswith(get_rule(code).render(_loss_name(found[0].message)))


@pytest.mark.parametrize("model_bad, bad, model_good, good, code", CASES)
def test_the_correct_twin_reports_nothing(model_bad, bad, model_good, good, code):
    found, _ = _train(model_good, good)
    assert found == []


def _loss_name(message: str) -> str:
    return message.split(" ", 1)[0]


def test_runtime_rules_are_marked_in_the_catalogue():
    tested = {param.values[-1] for param in CASES}
    marked = {rule.code for rule in lossguard.rules.RULES if rule.runtime}
    assert marked == tested


def test_message_names_the_loss_the_shapes_and_the_producer(quiet):
    model = _head(1, nn.Sigmoid())
    with lossguard.guard() as g:
        nn.BCEWithLogitsLoss()(model(_x()), torch.rand(N, 1).round())
    assert g.findings[0].message == (
        "BCEWithLogitsLoss applies a sigmoid itself, but its input is already the output of a sigmoid "
        "(input float32 (64, 1) from SigmoidBackward0, target float32 (64, 1))"
    )
    text = str(quiet[0].message)
    assert text.startswith("LG101 BCEWithLogitsLoss applies a sigmoid itself")
    assert get_rule("LG101").fix in text


def test_module_and_functional_forms_are_named_as_the_static_checker_names_them(quiet):
    logits = torch.randn(N, C, requires_grad=True)
    with lossguard.guard() as g:
        nn.CrossEntropyLoss()(logits.softmax(1), _labels())
        F.cross_entropy(logits.softmax(1), _labels())
    assert [f.message.split(" ")[0] for f in g.findings] == ["CrossEntropyLoss", "cross_entropy"]


def test_a_loss_module_used_at_two_lines_is_reported_at_each(quiet):
    criterion = nn.CrossEntropyLoss()
    probabilities = torch.randn(N, C, requires_grad=True).softmax(1)
    with lossguard.guard() as g:
        for _ in range(3):
            criterion(probabilities, _labels())
            criterion(probabilities, _labels())
    assert [f.code for f in g.findings] == ["LG102", "LG102"]
    assert g.findings[0].line + 1 == g.findings[1].line


def test_soft_targets_are_never_flagged(quiet):
    logits = torch.randn(N, C, requires_grad=True)
    teacher = torch.randn(N, C)
    with lossguard.guard() as g:
        for _ in range(10):
            one_hot = F.one_hot(_labels(), C).float()
            lam = torch.distributions.Beta(0.4, 0.4).sample()
            F.cross_entropy(logits, lam * one_hot + (1 - lam) * one_hot.flip(0))  # mixup
            F.cross_entropy(logits, one_hot * 0.9 + 0.1 / C)  # label smoothing by hand
            F.cross_entropy(logits, torch.softmax(teacher / 2.0, 1))  # distillation
            F.cross_entropy(logits, _labels(), label_smoothing=0.1)
            F.kl_div(logits.log_softmax(1), torch.softmax(teacher, 1), reduction="batchmean")
    assert g.findings == []


def test_mixup_with_some_batches_unmixed_is_not_flagged(quiet):
    logits = torch.randn(N, C, requires_grad=True)
    with lossguard.guard() as g:
        for step in range(20):
            one_hot = F.one_hot(_labels(), C).float()
            target = one_hot if step % 3 == 0 else 0.7 * one_hot + 0.3 * one_hot.flip(0)
            F.cross_entropy(logits, target)
    assert g.findings == []


def test_metrics_on_detached_or_small_logits_are_not_flagged(quiet):
    logits = torch.randn(N, C, requires_grad=True)
    with lossguard.guard() as g:
        F.cross_entropy(logits.detach(), _labels())  # a metric, grad enabled
        F.mse_loss(logits.detach(), torch.randn(N, C))
        F.binary_cross_entropy_with_logits(torch.rand(8, 1) * 0.5, torch.rand(8, 1).round())  # few, small
        F.cross_entropy(torch.rand(N, C) * 0.01, _labels())  # tiny non-negative logits, rows do not sum to 1
        F.binary_cross_entropy_with_logits(torch.rand(512, 1) * 0.3, torch.rand(512, 1).round())  # biased head
        with torch.no_grad():
            F.cross_entropy(logits, _labels())
    assert g.findings == []


def test_without_grad_fn_value_checks_recognise_softmax_and_log_softmax(quiet):
    logits = torch.randn(N, C)
    with lossguard.guard() as g:
        with torch.no_grad():
            F.cross_entropy(logits.softmax(1), _labels())
            F.cross_entropy(logits.log_softmax(1), _labels())
            F.binary_cross_entropy_with_logits(torch.sigmoid(torch.randn(512, 1)), torch.rand(512, 1).round())
    assert [f.code for f in g.findings] == ["LG102", "LG103", "LG101"]
    assert "no grad_fn; rows sum to 1" in g.findings[0].message


def test_producer_is_found_through_views_and_casts(quiet):
    hidden = torch.randn(N, 1, 1, requires_grad=True)
    with lossguard.guard() as g:
        probabilities = torch.sigmoid(hidden).squeeze(-1).float().view(N, 1).clone()
        F.binary_cross_entropy_with_logits(probabilities, torch.rand(N, 1).round())
        scaled = torch.sigmoid(hidden).squeeze(-1) * 3.0  # a new op: the kind is no longer proven
        F.binary_cross_entropy_with_logits(scaled, torch.rand(N, 1).round())
    assert [f.code for f in g.findings] == ["LG101"]


def test_bfloat16_softmax_rows_are_recognised_within_their_tolerance(quiet):
    probabilities = torch.randn(N, 1000).softmax(1).to(torch.bfloat16)
    assert (probabilities.float().sum(1) - 1).abs().max() > 1e-4
    with lossguard.guard() as g, torch.no_grad():
        F.cross_entropy(probabilities, _labels())
    assert [f.code for f in g.findings] == ["LG102"]


def test_class_indices_are_checked_before_the_kernel_runs():
    logits = torch.randn(N, C, requires_grad=True)
    with lossguard.guard("raise"):
        with pytest.raises(lossguard.LossGuardError, match="LG204.*class indices span \\[0, 255\\] for 5 classes"):
            y = _labels()
            y[0] = 255
            F.cross_entropy(logits, y)
        y[0] = -100  # the default ignore_index
        F.cross_entropy(logits, y)


def test_a_call_site_in_steady_state_is_judged_again_when_its_tensors_change(quiet):
    # Past its value-checked first calls, a site reuses its verdict only while the metadata is the same: the
    # first sigmoid output (a new producer) at a site that saw clean logits for 500 calls is still reported.
    model = nn.Linear(D, 1)
    x, y = torch.randn(N, D), torch.randint(0, 2, (N, 1)).float()
    with lossguard.guard("log") as g:
        for step in range(600):
            logits = model(x)
            batch = torch.sigmoid(logits) if step == 550 else logits
            F.binary_cross_entropy_with_logits(batch, y)
    assert [f.code for f in g.findings] == ["LG101"]


def test_raise_policy_keeps_raising_from_the_steady_state_path():
    logits = torch.randn(N, C, requires_grad=True)
    labels = torch.randint(0, C, (N,))
    with lossguard.guard("raise"):
        for _ in range(300):
            with pytest.raises(lossguard.LossGuardError, match="LG102"):
                F.cross_entropy(logits.softmax(1), labels)


class _SoftmaxFunction(torch.autograd.Function):
    """A hand-written softmax: its output's grad_fn is opaque (`_SoftmaxFunctionBackward`)."""

    @staticmethod
    def forward(ctx, x):
        out = x.softmax(1)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(1, keepdim=True))


def test_opaque_producers_are_judged_by_their_values(quiet):
    from torch.utils.checkpoint import checkpoint

    torch._dynamo.reset()
    compiled_softmax = torch.compile(nn.Sequential(nn.Linear(D, C), nn.Softmax(dim=1)), backend="aot_eager")
    compiled_logits = torch.compile(nn.Sequential(nn.Linear(D, C)), backend="aot_eager")
    head = nn.Linear(D, 1)
    x = _x()
    with lossguard.guard() as g:
        # The compiled model's output comes from CompiledFunctionBackward.
        F.cross_entropy(compiled_softmax(x), _labels())  # compiled
        F.cross_entropy(_SoftmaxFunction.apply(torch.randn(N, C, requires_grad=True)), _labels())  # custom function
        wide = torch.randn(512, D) * 4
        sigmoid = checkpoint(lambda t: torch.sigmoid(head(t)), wide, use_reentrant=True)  # CheckpointFunctionBackward
        F.binary_cross_entropy_with_logits(sigmoid, torch.rand(512, 1).round())  # checkpointed
        F.cross_entropy(compiled_logits(x), _labels())  # genuine logits from a compiled model: nothing to report
    torch._dynamo.reset()
    assert [(f.code, f.line) for f in g.findings] == [("LG102", _line("compiled")), ("LG102", _line("custom function")),
                                                      ("LG101", _line("checkpointed"))]
    assert "from CompiledFunctionBackward" in g.findings[0].message and "rows sum to 1" in g.findings[0].message


def _line(marker: str) -> int:
    """The line of this file that ends with the comment `# <marker>`."""
    with open(__file__) as source:
        return next(number for number, line in enumerate(source, 1) if line.rstrip().endswith(f"# {marker}"))


def _mixup(one_hot: torch.Tensor) -> torch.Tensor:
    lam = 0.7
    return lam * one_hot + (1 - lam) * one_hot.flip(0)


def test_mixup_whose_first_batches_are_unmixed_is_not_reported_and_never_stops_training(quiet):
    model = _head(C)
    criterion = nn.CrossEntropyLoss()
    with lossguard.guard("raise") as g:
        for step in range(12):  # batches 0-3 happen to be unmixed (probability 0.5 per batch), later ones mixed
            one_hot = F.one_hot(_labels(), C).float()
            criterion(model(_x()), one_hot if step < 4 or step % 2 else _mixup(one_hot)).backward()
    assert g.findings == []


def test_float_one_hot_targets_for_a_whole_run_are_reported_at_its_end_without_stopping_it(quiet):
    model = _head(C)
    with lossguard.guard("raise") as g:
        for _ in range(10):
            F.cross_entropy(model(_x()), F.one_hot(_labels(), C).float()).backward()  # one-hot
    assert [(f.code, f.line) for f in g.findings] == [("LG201", _line("one-hot"))]
    assert [str(w.message)[:5] for w in quiet] == ["LG201"]


def test_a_rounded_metric_that_is_only_logged_is_not_reported(quiet):
    model = _head(1)
    y = torch.rand(N, 1).round()
    with lossguard.guard() as g:
        for _ in range(3):
            logits = model(_x())
            loss = F.binary_cross_entropy_with_logits(logits, y)
            error_rate = F.l1_loss(torch.round(torch.sigmoid(logits)), y)  # grad enabled, only logged
            loss.backward()
            float(error_rate)
    assert g.findings == []


def test_deliberate_broadcasts_are_not_the_column_target_pitfall(quiet):
    features = torch.randn(16, 8, requires_grad=True)
    with lossguard.guard() as g:
        F.mse_loss(features, features.detach().mean(0))  # a centre loss: (16, 8) against (8,)
        F.mse_loss(torch.randn(16, 1, requires_grad=True), torch.tensor(0.5))  # a 0-d target
        F.l1_loss(features, torch.zeros(1, 8))  # (16, 8) against (1, 8)
        F.mse_loss(torch.randn(16, 1, requires_grad=True), torch.randn(1))  # (16, 1) against (1,)
    assert g.findings == []
