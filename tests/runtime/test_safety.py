"""The guard never changes a result, and steps aside where it must: autocast, torch.func, meta tensors."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard

N, C = 16, 4


def _data():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(N, C, generator=g)
    labels = torch.randint(0, C, (N,), generator=g)
    labels[0] = 2
    soft = torch.softmax(torch.randn(N, C, generator=g), 1)
    binary = torch.randint(0, 2, (N, C), generator=g).float()
    sign = binary * 2 - 1
    weight = torch.rand(C, generator=g) + 0.5
    other = torch.randn(N, C, generator=g)
    return logits, labels, soft, binary, sign, weight, other


def _calls():
    """(name, callable(input) -> loss) for every wrapped loss, module and functional, with contract keywords."""
    _, labels, soft, binary, sign, weight, other = _data()
    masked = labels.clone()
    masked[::3] = -1
    first_sign = sign[:, 0]
    return [
        ("cross_entropy", lambda x: F.cross_entropy(x, labels)),
        ("cross_entropy kw", lambda x: F.cross_entropy(x, masked, weight=weight, ignore_index=-1, reduction="sum",
                                                        label_smoothing=0.2)),
        ("CrossEntropyLoss soft", lambda x: nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1)(x, soft)),
        ("CrossEntropyLoss none", lambda x: nn.CrossEntropyLoss(reduction="none", ignore_index=-1)(x, masked)),
        ("nll_loss", lambda x: F.nll_loss(x.log_softmax(1), labels, weight=weight)),
        ("NLLLoss", lambda x: nn.NLLLoss(ignore_index=-1, reduction="sum")(x.log_softmax(1), masked)),
        ("bce_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, binary, pos_weight=weight)),
        ("BCEWithLogitsLoss", lambda x: nn.BCEWithLogitsLoss(weight=weight, reduction="none")(x, binary)),
        ("binary_cross_entropy", lambda x: F.binary_cross_entropy(torch.sigmoid(x), binary, weight=weight)),
        ("BCELoss", lambda x: nn.BCELoss(reduction="sum")(torch.sigmoid(x), binary)),
        ("mse_loss", lambda x: F.mse_loss(x, other)),
        ("MSELoss", lambda x: nn.MSELoss(reduction="none")(x, other)),
        ("l1_loss", lambda x: F.l1_loss(x, other)),
        ("L1Loss", lambda x: nn.L1Loss(reduction="sum")(x, other)),
        ("smooth_l1_loss", lambda x: F.smooth_l1_loss(x, other, beta=0.5)),
        ("SmoothL1Loss", lambda x: nn.SmoothL1Loss(beta=2.0)(x, other)),
        ("huber_loss", lambda x: F.huber_loss(x, other, delta=0.3)),
        ("HuberLoss", lambda x: nn.HuberLoss(delta=2.0, reduction="sum")(x, other)),
        ("kl_div", lambda x: F.kl_div(x.log_softmax(1), soft, reduction="batchmean")),
        ("KLDivLoss log_target", lambda x: nn.KLDivLoss(reduction="sum", log_target=True)(x.log_softmax(1),
                                                                                           soft.log())),
        ("hinge_embedding_loss", lambda x: F.hinge_embedding_loss(x, sign, margin=0.5)),
        ("HingeEmbeddingLoss", lambda x: nn.HingeEmbeddingLoss()(x, sign)),
        ("soft_margin_loss", lambda x: F.soft_margin_loss(x, sign)),
        ("SoftMarginLoss", lambda x: nn.SoftMarginLoss(reduction="none")(x, sign)),
        ("margin_ranking_loss", lambda x: F.margin_ranking_loss(x[:, 0], x[:, 1], first_sign, margin=0.1)),
        ("MarginRankingLoss", lambda x: nn.MarginRankingLoss()(x[:, 0], x[:, 1], first_sign)),
        ("cosine_embedding_loss", lambda x: F.cosine_embedding_loss(x, other, first_sign)),
        ("CosineEmbeddingLoss", lambda x: nn.CosineEmbeddingLoss(margin=0.2)(x, other, first_sign)),
        ("multi_margin_loss", lambda x: F.multi_margin_loss(x, labels, weight=weight)),
        ("MultiMarginLoss", lambda x: nn.MultiMarginLoss(p=2)(x, labels)),
        ("multilabel_margin_loss", lambda x: F.multilabel_margin_loss(x, torch.where(binary > 0, labels[:, None],
                                                                                       -1).long())),
        ("multilabel_soft_margin_loss", lambda x: F.multilabel_soft_margin_loss(x, binary, weight=weight)),
        ("MultiLabelSoftMarginLoss", lambda x: nn.MultiLabelSoftMarginLoss()(x, binary)),
        ("triplet_margin_loss", lambda x: F.triplet_margin_loss(x, other, other.flip(0))),
        ("TripletMarginLoss", lambda x: nn.TripletMarginLoss(margin=0.5, p=1)(x, other, other.flip(0))),
    ]


def _value_and_grad(call):
    x = _data()[0].clone().requires_grad_(True)
    loss = call(x)
    loss.sum().backward()
    return loss.detach(), x.grad


@pytest.mark.parametrize("name, call", _calls(), ids=[name for name, _ in _calls()])
def test_loss_values_and_gradients_are_bit_identical_with_the_guard(name, call, quiet):
    expected_loss, expected_grad = _value_and_grad(call)
    with lossguard.guard():
        for _ in range(3):  # value-checked calls included
            loss, grad = _value_and_grad(call)
    assert torch.equal(loss, expected_loss) and torch.equal(grad, expected_grad)
    assert not [w for w in quiet if "internal error" in str(w.message)]


def test_autocast_bfloat16_on_cpu_is_checked_and_unchanged(quiet):
    model = nn.Sequential(nn.Linear(8, C))
    x, y = torch.randn(N, 8), torch.randint(0, C, (N,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = F.cross_entropy(model(x), y)
    with lossguard.guard() as g, torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(F.cross_entropy(model(x), y), expected)
        F.binary_cross_entropy(torch.sigmoid(nn.Linear(8, 1)(x)), torch.rand(N, 1).round())  # float32 target
        F.cross_entropy(model(x).softmax(1), y)
    assert [f.code for f in g.findings] == ["LG102"]
    assert "input float32" in g.findings[0].message or "input bfloat16" in g.findings[0].message


def test_torch_func_transforms_are_left_alone(quiet):
    from torch.func import grad, vmap

    x, y = torch.randn(N, C), torch.randint(0, C, (N,))

    def per_sample(xi, yi):
        return F.cross_entropy(xi.softmax(0), yi)  # a pitfall, but inside a transform the guard steps aside

    with lossguard.guard() as g:
        vmapped = vmap(per_sample)(x, y)
        gradient = grad(lambda t: F.cross_entropy(t, y))(x)
    assert g.findings == []
    assert torch.equal(vmapped, torch.stack([per_sample(a, b) for a, b in zip(x, y)]))
    assert gradient.shape == x.shape


def test_meta_tensors_get_shape_checks_but_no_value_checks(quiet):
    logits = torch.randn(N, C, device="meta", requires_grad=True)
    with lossguard.guard() as g:
        F.cross_entropy(logits, torch.randint(0, C, (N,)).to("meta") + C)  # out of range, invisible on meta
        F.mse_loss(torch.randn(N, 1, device="meta", requires_grad=True), torch.randn(N, device="meta"))
    assert [f.code for f in g.findings] == ["LG301"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_steady_state_calls_on_cuda_do_not_synchronise(quiet):
    model = nn.Linear(8, C).cuda()
    x, y = torch.randn(N, 8, device="cuda"), torch.randint(0, C, (N,), device="cuda")
    def step():
        F.cross_entropy(model(x), y).backward()
        nn.BCEWithLogitsLoss()(model(x)[:, :1], (y[:, None] > 1).float())

    with lossguard.guard() as g:  # default sampling: the first 8 calls of each site are value-checked
        for _ in range(8):
            step()
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            for _ in range(50):
                step()
        finally:
            torch.cuda.set_sync_debug_mode(0)
    assert g.findings == []
