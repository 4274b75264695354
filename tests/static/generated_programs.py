"""Training programs assembled from random combinations of the shapes the checker follows, each with its answer known
by construction: the model's last activation and the loss decide the code (or silence), and the line of the loss
call is where it must be reported.

The pieces: the model (an `nn.Sequential`, inline or built from a list, a class with `forward` in four styles
returning a tensor, a dict or a tuple, a factory function; defined in the checked file or imported from `models.py`;
moved with `.to(device)`, wrapped in `nn.DataParallel` or `torch.compile`, or not), the model called as `model(x)`,
`model.forward(x)` or through a `predict(model, x)` helper, its activation (at the end of the model, applied to its
output at the call site as a function or a tensor method, or none; the output reshaped or moved, or not; the target
made one-hot, float or integer, or not), the loss (a module bound to a name, made by a factory function, taken from
a registry of classes or of instances, constructed inline, functional, stored on `self`, a trainer's class attribute
or set by a setter; with a `reduction` or not; called directly or through `.forward`, with positional or keyword
arguments), where the loss is called (in training, under `torch.no_grad()` or after `model.eval()`; the training
loop, nested in an epoch loop or not, a helper function, a trainer class's method, a helper imported from
`engine.py`, the model's own Lightning `training_step` or `validation_step`), where the training code runs (top
level, `main()`, under `if __name__ == "__main__":`), and branches picking between two models or two losses that
agree or disagree (a disagreement leaves the value unknown: only a finding both alternatives have is reported).

Out of reach, so not generated: a top-level name rebound in an imported module (`model = Net()` then
`model = model.to(device)` in `models.py`) is not exported (only names bound once are), so the importer sees an
unknown model.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass, field

# (layer form, functional form and tensor method form with {} for the tensor)
ACTIVATIONS: dict[str | None, tuple[str, str, str] | None] = {
    None: None,
    "softmax": ("nn.Softmax(dim=1)", "F.softmax({}, dim=1)", "{}.softmax(dim=1)"),
    "log_softmax": ("nn.LogSoftmax(dim=1)", "F.log_softmax({}, dim=1)", "{}.log_softmax(dim=1)"),
    "sigmoid": ("nn.Sigmoid()", "torch.sigmoid({})", "{}.sigmoid()"),
}
# (module constructor, functional name)
LOSSES = {
    "ce": ("nn.CrossEntropyLoss()", "F.cross_entropy"),
    "nll": ("nn.NLLLoss()", "F.nll_loss"),
    "bce": ("nn.BCELoss()", "F.binary_cross_entropy"),
    "bcewl": ("nn.BCEWithLogitsLoss()", "F.binary_cross_entropy_with_logits"),
}
# What the checker must say for (last activation, loss): the contracts of PITFALLS.md.
EXPECTED: dict[tuple[str | None, str], str | None] = {
    (None, "ce"): None, (None, "bcewl"): None, (None, "nll"): "LG105", (None, "bce"): "LG106",
    ("softmax", "ce"): "LG102", ("softmax", "nll"): "LG104", ("log_softmax", "ce"): "LG103",
    ("log_softmax", "nll"): None, ("sigmoid", "bcewl"): "LG101", ("sigmoid", "bce"): None,
}
MODEL_FORMS = ["sequential", "class", "factory"]
PLACEMENTS = ["in_model", "at_call"]
LOSS_FORMS = ["name", "immediate", "functional", "registry", "self", "factory", "class_registry", "class_attribute",
              "setter"]
TRAINER_ONLY = ("self", "class_attribute", "setter")  # loss forms that live on a trainer
ARGUMENTS = {"positional": "(out, y)", "keywords": "(input=out, target=y)", "target_keyword": "(out, target=y)"}
MODEL_CALLS = {"call": "{}(x)", "forward": "{}.forward(x)", "predict": "predict({}, x)"}
PREDICT = ["def predict(model, x):", "    return model(x)", ""]
BOUND_TO_A_NAME = ("name", "factory", "class_registry")  # each ends as `criterion = ...` at the top
CALL_SITES = ["loop", "helper", "trainer", "module", "lightning"]  # lightning: the model's own training_step
BRANCHES = [None, "agree", "disagree"]
ENTRIES = ["top", "main_function", "dunder_main"]  # where the training code runs
MOVES = [None, "model.to(device)", "nn.DataParallel(model)", "torch.compile(model)"]  # what is done to the model
RESHAPES = [None, "{}.view(-1, 4)", "{}.to(device)", "{}.reshape(x.size(0), -1)"]  # done to its output
# Training, or an evaluation path (the same contracts hold there: the reported loss is wrong).
PHASES = ["train", "no_grad", "eval_mode"]
# What is done to the target at the call site, per loss, and the code it must get.
TARGETS: dict[str, list[tuple[str | None, str | None]]] = {
    "ce": [(None, None), ("F.one_hot(y, 4)", "LG201"), ("y.float()", "LG202")],
    "nll": [(None, None), ("F.one_hot(y, 4)", "LG201"), ("y.float()", "LG202")],
    "bce": [(None, None), ("y.float()", None), ("y.long()", "LG203")],
    "bcewl": [(None, None), ("y.float()", None), ("y.long()", "LG203")],
}
MARK = "  # LOSS-CALL"
CONDITION = "len(sys.argv) > 2"  # nothing the checker can decide


@dataclass
class Program:
    """The files of one program (`checked`, `train.py` or `train.ipynb`, is the one checked) and the findings
    expected, as (file, cell, line, code): at the line marked with MARK in `loss_file`."""

    choices: dict[str, object]
    files: dict[str, str] = field(default_factory=dict)
    expected_code: str | None = None  # from the model's activation and the loss
    target_code: str | None = None  # from the target
    loss_file: str = "train.py"
    checked: str = "train.py"

    def expected(self) -> list[tuple[str, int | None, int, str]]:
        codes = sorted(code for code in (self.expected_code, self.target_code) if code)
        if not codes:
            return []
        cell, line = None, 0
        if self.loss_file.endswith(".ipynb"):
            cells = json.loads(self.files[self.loss_file])["cells"]
            cell, line = next((c, i) for c, content in enumerate(cells, 1)
                              for i, text in enumerate(content["source"], 1) if text.rstrip("\n").endswith(MARK))
        else:
            line = next(i for i, text in enumerate(self.files[self.loss_file].splitlines(), 1) if text.endswith(MARK))
        return [(self.loss_file, cell, line, code) for code in codes]


def as_notebook(source: str) -> str:
    """The module as an nbformat 4 notebook: a new code cell at each blank line before an unindented line."""
    cells: list[list[str]] = [[]]
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if line == "" and i + 1 < len(lines) and lines[i + 1][:1] not in ("", " ") and cells[-1]:
            cells.append([])
        elif line or cells[-1]:
            cells[-1].append(line + "\n")
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": cell}
        for cell in cells if cell]})


def _layers(activation: str | None) -> str:
    spec = ACTIVATIONS[activation]
    return "nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)" + (f", {spec[0]}" if spec else "")


CLASS_STYLES = ["layer", "functional", "sequential_attribute", "inherited"]
OUTPUTS = ["tensor", "dict", "tuple"]  # what a class's forward returns; the call site takes the logits out of it
TAKE_OUTPUT = {"tensor": "{}", "dict": '{}["logits"]', "tuple": "{}[0]"}


def _class(name: str, activation: str | None, style: str, output: str, parent: str = "nn.Module",
           methods: tuple[str, ...] = ()) -> list[str]:
    """A model class; `methods` are added to the class `name` (the subclass, in the inherited style)."""
    spec = ACTIVATIONS[activation]
    returned = {"tensor": "x", "dict": '{"logits": x, "features": h}', "tuple": "x, h"}[output]
    if style == "sequential_attribute":
        return [f"class {name}({parent}):", "    def __init__(self):", "        super().__init__()",
                f"        self.net = nn.Sequential({_layers(activation)})", "", "    def forward(self, x):",
                "        h = x", "        x = self.net(x)", f"        return {returned}", "", *methods]
    base = f"{name}Base" if style == "inherited" else name
    lines = [f"class {base}({parent}):", "    def __init__(self):", "        super().__init__()",
             "        self.hidden = nn.Linear(8, 16)", "        self.head = nn.Linear(16, 4)"]
    if spec and style != "functional":
        lines.append(f"        self.out = {spec[0]}")
    lines += ["", "    def forward(self, x):", "        h = torch.relu(self.hidden(x))", "        x = self.head(h)"]
    if spec:
        lines.append("        x = " + (spec[1].format("x") if style == "functional" else "self.out(x)"))
    lines += [f"        return {returned}", ""]
    if style == "inherited":
        lines += ["", f"class {name}({base}):", "    def __init__(self):", "        super().__init__()", ""]
    return lines + list(methods)


def _model(form: str, activations: tuple[str | None, str | None], branch: bool, rng: random.Random,
           output: str) -> list[str]:
    """The lines that define and bind `model`; with `branch`, a condition picks between two activations."""
    first, second = activations
    if form == "sequential":
        if not branch and rng.random() < 0.4:  # built from a list
            append = [f"layers.append({ACTIVATIONS[first][0]})"] if ACTIVATIONS[first] else []  # type: ignore[index]
            return ["layers = [nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)]", *append,
                    "model = nn.Sequential(*layers)", ""]
        if not branch:
            return [f"model = nn.Sequential({_layers(first)})", ""]
        return [f"if {CONDITION}:", f"    model = nn.Sequential({_layers(first)})", "else:",
                f"    model = nn.Sequential({_layers(second)})", ""]
    if form == "class":
        lines = _class("Net", first, rng.choice(CLASS_STYLES), output)
        if not branch:
            return lines + ["model = Net()", ""]
        return lines + _class("OtherNet", second, rng.choice(CLASS_STYLES), output) + [
            f"model = Net() if {CONDITION} else OtherNet()", ""]
    lines = ["def build_model():"]
    if branch:
        lines += [f"    if {CONDITION}:", f"        return nn.Sequential({_layers(first)})"]
    return lines + [f"    return nn.Sequential({_layers(second)})", "", "model = build_model()", ""]


def _loss_call(loss_form: str, loss: str, criterion: str, registry: str, forward: bool, arguments: str) -> str:
    module, functional = LOSSES[loss]
    if loss_form in BOUND_TO_A_NAME or loss_form in TRAINER_ONLY:
        loss_form = "name"
    if forward:
        criterion += ".forward"
    called = {"name": criterion, "immediate": module, "functional": functional, "registry": f'{registry}["main"]'}
    return called[loss_form] + ARGUMENTS[arguments]


def _step_body(indent: str, model: str, call: str, at_call: str | None, take: str, reshape: str | None,
               phase: str, target: str | None, model_call: str) -> list[str]:
    before = []
    if phase == "no_grad":
        before, indent = [f"{indent}with torch.no_grad():"], indent + "    "
    elif phase == "eval_mode":
        before = [f"{indent}{model}.eval()"]
    lines = [*before, f"{indent}out = {take.format(MODEL_CALLS[model_call].format(model))}"]
    if at_call:
        lines.append(f"{indent}out = {at_call.format('out')}")
    if reshape:
        lines.append(f"{indent}out = {reshape.format('out')}")
    if target:
        lines.append(f"{indent}y = {target}")
    lines.append(f"{indent}loss = {call}{MARK}")
    ending = {"train": [f"{indent}loss.backward()"], "lightning": []}.get(phase, [f"{indent}print(loss.item())"])
    return lines + ending


def generate(rng: random.Random) -> Program:
    model_form, placement = rng.choice(MODEL_FORMS), rng.choice(PLACEMENTS)
    loss_form, call_site, branch = rng.choice(LOSS_FORMS), rng.choice(CALL_SITES), rng.choice(BRANCHES)
    activation, loss = rng.choice(sorted(EXPECTED, key=str))
    if loss_form in TRAINER_ONLY and call_site != "trainer":
        loss_form = "name"
    if placement == "at_call" or call_site == "lightning":
        branch = None  # the branch is between models; an activation at the call site is the same on both paths
    if call_site == "lightning":  # the model is the checked file's own LightningModule, as it is
        model_form = "class"
        loss_form = "name" if loss_form in TRAINER_ONLY else loss_form
    model_elsewhere, moved, entry = rng.random() < 0.3, rng.choice(MOVES), rng.choice(ENTRIES)
    if call_site == "lightning":
        model_elsewhere, moved = False, None
    reshape, phase = rng.choice(RESHAPES), rng.choice(PHASES)
    forward = loss_form in (*BOUND_TO_A_NAME, *TRAINER_ONLY) and rng.random() < 0.3
    arguments_style, model_call = rng.choice(sorted(ARGUMENTS)), rng.choice(sorted(MODEL_CALLS))
    target, target_code = rng.choice(TARGETS[loss]) if rng.random() < 0.4 else (None, None)
    choices = dict(model=model_form, placement=placement, loss_form=loss_form, call_site=call_site, branch=branch,
                   activation=activation, loss=loss, model_elsewhere=model_elsewhere, moved=moved, entry=entry,
                   reshape=reshape, phase=phase, forward=forward, target=target,
                   arguments=arguments_style, model_call=model_call)
    program = Program(choices, target_code=target_code)

    in_model = activation if placement == "in_model" else None
    at_call = ACTIVATIONS[activation][rng.choice([1, 2])] if placement == "at_call" and activation else None
    other = in_model
    if branch == "disagree":
        other = rng.choice([a for a in ACTIVATIONS if a != in_model])
    output = rng.choice(OUTPUTS) if model_form == "class" else "tensor"
    choices["output"] = output
    take = TAKE_OUTPUT[output]
    if call_site == "lightning":
        call = _loss_call(loss_form, loss, "criterion", "LOSSES", forward, arguments_style)
        method = "training_step" if phase == "train" else "validation_step"
        body = _step_body("        ", "self", call, at_call, take, reshape, "lightning", target, model_call)
        methods = ("", f"    def {method}(self, batch, batch_idx):", "        x, y = batch", *body,
                   "        return loss", "")
        definitions = [*_class("Net", in_model, rng.choice(CLASS_STYLES), output, "pl.LightningModule", methods),
                       "model = Net()", ""]
    else:
        definitions = _model(model_form, (in_model, other), branch is not None, rng, output)
    program.expected_code = EXPECTED[(activation, loss)] if branch != "disagree" else None
    other_loss = loss
    if loss_form == "name" and rng.random() < 0.3:  # the loss picked by a branch too
        # Each alternative is judged; a finding both agree on (the same code at the same call) is reported.
        known = [other for other in sorted(LOSSES) if (activation, other) in EXPECTED
                 and target in [transform for transform, _ in TARGETS[other]]]
        other_loss = rng.choice(known) if rng.random() < 0.5 else loss
        choices["loss_branch"] = "agree" if other_loss == loss else "disagree"
        if other_loss != loss:
            if EXPECTED[(activation, other_loss)] != program.expected_code:
                program.expected_code = None
            if dict(TARGETS[other_loss])[target] != program.target_code:
                program.target_code = None

    header = ["import sys", "import torch", "import torch.nn as nn", "import torch.nn.functional as F",
              *(["import pytorch_lightning as pl"] if call_site == "lightning" else []), ""]
    main = list(header)
    if model_elsewhere:
        program.files["models.py"] = "\n".join(header + definitions)
        main += ["from models import model", ""]
    else:
        main += definitions
    if moved:
        main += [f"model = {moved}"]
    main.insert(len(header), 'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")')

    loss_class, arguments = LOSSES[loss][0][:-2], '(reduction="sum")' if rng.random() < 0.3 else "()"
    module_constructor = loss_class + arguments
    if loss_form == "name" and other_loss != loss or "loss_branch" in choices:
        main += [f"if {CONDITION}:", f"    criterion = {module_constructor}", "else:",
                 f"    criterion = {LOSSES[other_loss][0]}"]
    elif loss_form == "name":
        main.append(f"criterion = {module_constructor}")
    elif loss_form == "factory":
        main += ["def make_loss():", f"    return {module_constructor}", "", "criterion = make_loss()"]
    elif loss_form == "class_registry":
        main += [f'LOSSES = {{"main": {loss_class}, "aux": nn.MSELoss}}', f'criterion = LOSSES["main"]{arguments}']
    elif loss_form == "registry":
        main.append(f'LOSSES = {{"main": {module_constructor}, "aux": nn.MSELoss()}}')
    passed = {"registry": ["LOSSES"]}.get(loss_form, ["criterion"] if loss_form in BOUND_TO_A_NAME else [])
    if model_call == "predict" and call_site != "module":
        main += ["", *PREDICT]
    step = functools.partial(_step_body, at_call=at_call, take=take, reshape=reshape, phase=phase, target=target,
                             model_call=model_call)

    if call_site == "lightning":
        main += ["", "trainer = pl.Trainer(max_epochs=1)", "trainer.fit(model, loader)"]
    elif call_site == "loop":
        call = _loss_call(loss_form, loss, "criterion", "LOSSES", forward, arguments_style)
        loop = ["for x, y in loader:", *step("    ", "model", call)]
        if rng.random() < 0.5:
            loop = ["for epoch in range(3):", *("    " + line for line in loop)]
        main += ["", *loop]
    elif call_site in ("helper", "module"):
        parameters = ["model", *(["losses"] if loss_form == "registry" else passed), "x", "y"]
        call = _loss_call(loss_form, loss, "criterion", "losses", forward, arguments_style)
        helper = [f"def train_step({', '.join(parameters)}):",
                  *step("    ", "model", call), "    return loss", ""]
        if model_call == "predict" and call_site == "module":
            helper = PREDICT + helper
        if call_site == "module":
            program.files["engine.py"] = "\n".join(header + helper)
            program.loss_file = "engine.py"
            main.insert(len(header), "from engine import train_step")
        else:
            main += ["", *helper]
        main += ["", "for x, y in loader:", f"    train_step(model, {', '.join(passed + ['x', 'y'])})"]
    else:  # a trainer class
        init = ["class Trainer:"]
        if loss_form == "class_attribute":
            init.append(f"    criterion = {module_constructor}")
        init += [f"    def __init__(self, {', '.join(['model', *passed])}):", "        self.model = model"]
        if loss_form == "self":
            init.append(f"        self.criterion = {module_constructor}")
        elif passed:
            init.append(f"        self.criterion = {passed[0]}")
        if loss_form == "setter":
            init += ["", "    def set_criterion(self, criterion):", "        self.criterion = criterion"]
        call = _loss_call(loss_form, loss, "self.criterion", "self.criterion", forward, arguments_style)
        main += ["", *init, "", "    def step(self, x, y):",
                 *step("        ", "self.model", call),
                 "        return loss", "", f"trainer = Trainer({', '.join(['model', *passed])})",
                 *([f"trainer.set_criterion({module_constructor})"] if loss_form == "setter" else []),
                 "for x, y in loader:", "    trainer.step(x, y)"]
    if entry != "top":  # the code from the last blank line on runs in `main()` or under `if __name__ == ...`
        start = len(main) - main[::-1].index("")
        body = ["    " + line if line else line for line in main[start:]]
        main[start:] = (["def main():", *body, "", 'if __name__ == "__main__":', "    main()"]
                        if entry == "main_function" else ['if __name__ == "__main__":', *body])
    program.files["train.py"] = "\n".join(main) + "\n"
    if rng.random() < 0.2:  # the training script as a notebook
        choices["notebook"] = True
        program.files["train.ipynb"] = as_notebook(program.files.pop("train.py"))
        program.checked = "train.ipynb"
        if program.loss_file == "train.py":
            program.loss_file = "train.ipynb"
    return program
