"""Regressions from running lossguard on public PyTorch repositories: each is a minimised, self-written shape.

False positives found there must stay silent; false negatives found there must be reported.
"""

from __future__ import annotations

import json
from pathlib import Path

from lossguard.static.checker import check_paths, check_source

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def codes(source: str) -> list[tuple[str, int]]:
    return sorted((f.code, f.line) for f in check_source(HEAD + source, "regression.py"))


def test_squeeze_of_a_head_whose_width_is_a_parameter_is_not_a_shape_mismatch() -> None:
    # A GAN critic whose output width comes from the constructor: (n, 1) squeezed to (n,) matches an (n,) target.
    assert codes("""
class Critic(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.fc = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.fc(x)


critic = Critic(100, 1)
scores = critic(torch.randn(16, 100))
loss = nn.BCEWithLogitsLoss()(scores.squeeze(), torch.zeros(scores.size(0)))
""") == []


def test_model_moved_to_a_device_is_still_the_model() -> None:
    assert codes("""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)
        self.act = nn.Softmax(dim=1)

    def forward(self, x):
        return self.act(self.fc(x))


device = "cuda" if torch.cuda.is_available() else "cpu"
model = Net().to(device)
loss = nn.CrossEntropyLoss()(model(x), y)
""") == [("LG102", 17)]


def test_model_moved_conditionally_is_still_the_model() -> None:
    assert codes("""
model = nn.Sequential(nn.Linear(8, 3), nn.LogSoftmax(dim=1))
if torch.cuda.is_available():
    model = model.cuda()
model = model.double().train()
loss = nn.CrossEntropyLoss()(model(x), y)
""") == [("LG103", 9)]


def test_wrapped_model_runs_the_wrapped_forward() -> None:
    assert codes("""
net = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
model = nn.DataParallel(net)
compiled = torch.compile(model)
loss = nn.BCEWithLogitsLoss()(compiled(x), y)
""") == [("LG101", 8)]


def test_tuple_returning_discriminator_unpacked_at_the_call_site() -> None:
    # An auxiliary-classifier GAN: forward returns (validity, class scores); the scores went through a Softmax.
    assert codes("""
class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.adv = nn.Sequential(nn.Linear(128, 1), nn.Sigmoid())
        self.aux = nn.Sequential(nn.Linear(128, 10), nn.Softmax(dim=1))

    def forward(self, features):
        return self.adv(features), self.aux(features)


discriminator = Discriminator()
validity, predicted_class = discriminator(features)
loss = nn.BCELoss()(validity, valid) + nn.CrossEntropyLoss()(predicted_class, labels)
""") == [("LG102", 17)]


def _notebook(tmp_path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
             for source in sources]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    return path


def test_notebook_continuation_lines_starting_with_operators_are_not_magics(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path,
        HEAD + "model = nn.Sequential(nn.Linear(10, 3), nn.Softmax(dim=1))\nloss = nn.CrossEntropyLoss()(model(x), y)\n",
        "print('loss %.3f, acc %.3f'\n      % (loss.item(), 0.5))\nok = (acc\n      != 0.5)\n",
    )
    result = check_paths([str(path)])
    assert result.errors == []
    assert [(f.cell, f.line, f.code) for f in result.findings] == [(1, 5, "LG102")]


def test_shape_findings_say_which_shapes_the_source_proves() -> None:
    (finding,) = check_source(HEAD + "model = nn.Linear(4, 1)\nloss = F.mse_loss(model(x), y.view(-1))\n")
    assert finding.code == "LG301" and "input (n, 1), target (n,)" in finding.message


def test_view_as_takes_the_other_tensors_shape() -> None:
    # `pred.view_as(y)` has y's shape, whatever pred's was: no broadcast is provable from pred's (n, 1) head.
    assert codes("""
model = nn.Linear(13, 1)
y = torch.randn(32)
loss = F.mse_loss(model(x).view_as(y), y)
""") == []


def test_reshape_to_another_tensors_shape_is_not_one_dimensional() -> None:
    # A textbook regression loop: `y.reshape(out.shape)` makes the shapes equal; one argument can be a whole shape.
    assert codes("""
net = nn.Sequential(nn.Linear(5, 1))
loss = nn.MSELoss(reduction="none")
for X, y in data_iter:
    out = net(X)
    y = y.reshape(out.shape)
    loss(out, y).mean().backward()
""") == []
