"""The catalogue: every lossguard rule, its explanation, its fix, and its bad and good examples.

A rule's examples are executable documentation: the test suite runs the static checker on every bad example (it
must report exactly that rule, on the line marked `# LGnnn`) and on every good example (it must report nothing),
and `lossguard explain` prints them. A rule the static checker cannot prove says why in `runtime_only`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One pitfall. `message` is a template over `{loss}` (the loss's name, e.g. `BCEWithLogitsLoss`)."""

    code: str
    name: str
    title: str
    message: str
    why: str
    fix: str
    static: bool = False
    runtime: bool = False
    bad: tuple[str, ...] = ()
    good: tuple[str, ...] = ()
    runtime_only: str = ""
    autofix: str = ""  # `safe`, `unsafe` or `safe+unsafe`: the fixes `lossguard check --fix` has for this rule

    @property
    def fix_availability(self) -> str:
        """What `rules` and `explain` say about fixes: `--fix`, `--unsafe-fixes`, both, or `-`."""
        kinds = self.autofix.split("+") if self.autofix else []
        return " ".join(flag for kind, flag in (("safe", "--fix"), ("unsafe", "--unsafe-fixes")) if kind in kinds) or "-"

    @property
    def detection(self) -> str:
        """`static`, `runtime`, `static+runtime` or `planned`: where lossguard detects this rule today."""
        parts = [name for name, on in (("static", self.static), ("runtime", self.runtime)) if on]
        return "+".join(parts) if parts else "planned"

    def render(self, loss: str) -> str:
        return self.message.format(loss=loss)


_IMPORTS = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def _ex(body: str) -> str:
    """An example program: the usual imports, then the body (dedented by the caller's layout)."""
    return _IMPORTS + body.strip("\n") + "\n"


RULES: tuple[Rule, ...] = (
    # ---------------------------------------------------------------- LG1xx: output activation vs loss
    Rule(
        "LG101", "sigmoid-into-bce-with-logits",
        "Sigmoid output passed to BCEWithLogitsLoss (sigmoid applied twice)",
        "{loss} applies a sigmoid itself, but its input is already the output of a sigmoid",
        "BCEWithLogitsLoss computes sigmoid(input) internally. Given probabilities, it squashes them again into "
        "[0.5, 0.73]: the loss of a positive example can never go below about 0.31, the gradients are about 35x "
        "smaller, and training stalls silently while the loss looks plausible.",
        "Remove the sigmoid from the model's training path and pass the raw logits; apply torch.sigmoid only "
        "when you predict.",
        static=True,
        autofix="safe+unsafe",
        runtime=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())
criterion = nn.BCEWithLogitsLoss()
x, y = torch.randn(8, 10), torch.rand(8, 1).round()
loss = criterion(model(x), y)  # LG101
"""),
            _ex("""
logits = torch.randn(8, 1, requires_grad=True)
y = torch.rand(8, 1).round()
loss = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), y)  # LG101
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1))
criterion = nn.BCEWithLogitsLoss()
x, y = torch.randn(8, 10), torch.rand(8, 1).round()
logits = model(x)
loss = criterion(logits, y)
probabilities = torch.sigmoid(logits)
"""),
        ),
    ),
    Rule(
        "LG102", "softmax-into-cross-entropy",
        "Softmax output passed to CrossEntropyLoss",
        "{loss} applies log_softmax itself, but its input is already the output of a softmax",
        "CrossEntropyLoss is log_softmax followed by NLLLoss. A softmax in front of it squashes the logits into "
        "[0, 1], so the loss has a floor well above 0 and the gradients are several times smaller: the model "
        "trains slowly and plateaus, with no error.",
        "Return logits from the model and pass them to CrossEntropyLoss; apply softmax only for predictions.",
        static=True,
        autofix="safe+unsafe",
        runtime=True,
        bad=(
            _ex("""
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 5)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.fc(x))


model = Classifier()
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
loss = criterion(model(x), y)  # LG102
"""),
            _ex("""
logits = torch.randn(8, 5, requires_grad=True)
y = torch.randint(0, 5, (8,))
loss = F.cross_entropy(logits.softmax(dim=-1), y)  # LG102
"""),
        ),
        good=(
            _ex("""
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 5)

    def forward(self, x):
        return self.fc(x)

    def predict_proba(self, x):
        return torch.softmax(self.forward(x), dim=1)


model = Classifier()
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
loss = criterion(model(x), y)
"""),
        ),
    ),
    Rule(
        "LG103", "log-softmax-into-cross-entropy",
        "LogSoftmax output passed to CrossEntropyLoss",
        "{loss} applies log_softmax itself, but its input is already the output of a log_softmax",
        "CrossEntropyLoss already applies log_softmax. Because log_softmax is idempotent the value is the same, "
        "so training works, but the model is confused about its own output: whoever reads it expects logits, "
        "and switching the loss later (or reusing the model) breaks silently.",
        "Drop the LogSoftmax and keep CrossEntropyLoss, or keep the LogSoftmax and use NLLLoss.",
        static=True,
        autofix="safe+unsafe",
        runtime=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5), nn.LogSoftmax(dim=1))
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
loss = nn.CrossEntropyLoss()(model(x), y)  # LG103
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5), nn.LogSoftmax(dim=1))
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
loss = nn.NLLLoss()(model(x), y)
"""),
        ),
    ),
    Rule(
        "LG104", "softmax-into-nll",
        "Softmax (not log-softmax) output passed to NLLLoss",
        "{loss} expects log-probabilities, but its input is the output of a softmax",
        "NLLLoss only picks -input[i, y_i]; it applies no logarithm. Given probabilities it computes -mean(p_y): "
        "a negative loss bounded below by -1, whose gradient ignores how wrong the other classes are.",
        "Use log_softmax instead of softmax, or pass logits to CrossEntropyLoss.",
        static=True,
        autofix="safe",
        runtime=True,
        bad=(
            _ex("""
logits = torch.randn(8, 5, requires_grad=True)
y = torch.randint(0, 5, (8,))
probabilities = F.softmax(logits, dim=1)
loss = F.nll_loss(probabilities, y)  # LG104
"""),
        ),
        good=(
            _ex("""
logits = torch.randn(8, 5, requires_grad=True)
y = torch.randint(0, 5, (8,))
loss = F.nll_loss(F.log_softmax(logits, dim=1), y)
"""),
        ),
    ),
    Rule(
        "LG105", "logits-into-nll",
        "Raw logits passed to NLLLoss",
        "{loss} expects log-probabilities, but its input is raw logits",
        "NLLLoss applies no log_softmax. Raw logits make the loss unbounded below: the model lowers it by "
        "growing one logit without limit instead of learning the classes.",
        "Apply log_softmax(dim=1) before NLLLoss, or use CrossEntropyLoss on the logits.",
        runtime=True,
        static=True,
        bad=(
            _ex("""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc(x)


model = Net()
x, y = torch.randn(8, 128), torch.randint(0, 10, (8,))
loss = F.nll_loss(model(x), y)  # LG105
"""),
        ),
        good=(
            _ex("""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)


model = Net()
x, y = torch.randn(8, 128), torch.randint(0, 10, (8,))
loss = F.nll_loss(model(x), y)
"""),
        ),
    ),
    Rule(
        "LG106", "logits-into-bce",
        "Raw logits passed to BCELoss",
        "{loss} expects probabilities in [0, 1], but its input is raw logits with no sigmoid",
        "BCELoss takes probabilities. With logits it raises 'all elements of input should be between 0 and 1' "
        "as soon as one value leaves [0, 1], or, worse, computes a meaningless loss while they happen to stay "
        "inside.",
        "Use BCEWithLogitsLoss on the logits: it applies the sigmoid in a numerically stable way.",
        static=True,
        autofix="safe",
        runtime=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
criterion = nn.BCELoss()
x, y = torch.randn(8, 10), torch.rand(8, 1).round()
loss = criterion(model(x), y)  # LG106
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())
criterion = nn.BCELoss()
x, y = torch.randn(8, 10), torch.rand(8, 1).round()
loss = criterion(model(x), y)
"""),
        ),
    ),
    Rule(
        "LG107", "activation-into-logits-loss",
        "Another activation's output passed to a loss that expects logits",
        "{loss} expects logits, but its input went through an activation that changes their range",
        "A sigmoid or ReLU before CrossEntropyLoss, or a softmax before BCEWithLogitsLoss, restricts the "
        "range of the values the loss treats as logits, so the loss cannot approach 0 and the gradients are "
        "distorted, with no error.",
        "Pass raw logits; choose the loss that matches the task (CrossEntropyLoss for one class among C, "
        "BCEWithLogitsLoss for independent binary labels).",
        runtime=True,
        static=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(64, 10), nn.Sigmoid())
x, y = torch.randn(8, 64), torch.randint(0, 10, (8,))
loss = nn.CrossEntropyLoss()(model(x), y)  # LG107
"""),
            _ex("""
logits = torch.randn(8, 4, requires_grad=True)
labels = torch.randint(0, 2, (8, 4)).float()
loss = F.binary_cross_entropy_with_logits(F.softmax(logits, dim=1), labels)  # LG107
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
x, y = torch.randn(8, 64), torch.randint(0, 10, (8,))
loss = nn.CrossEntropyLoss()(model(x), y)
"""),
        ),
    ),
    Rule(
        "LG108", "probabilities-into-kl-div",
        "Probabilities passed as the input of KLDivLoss",
        "{loss} expects log-probabilities as its input, but it got probabilities",
        "KLDivLoss(input, target) computes target * (log(target) - input): the input must already be "
        "log-probabilities. Given probabilities, the result is not a divergence (it can be negative).",
        "Pass log_softmax(...) as the input, and use reduction='batchmean'.",
        runtime=True,
        static=True,
        autofix="safe",
        bad=(
            _ex("""
student_logits = torch.randn(8, 5, requires_grad=True)
teacher_logits = torch.randn(8, 5)
student = F.softmax(student_logits, dim=1)
teacher = F.softmax(teacher_logits, dim=1)
loss = F.kl_div(student, teacher, reduction="batchmean")  # LG108
"""),
        ),
        good=(
            _ex("""
student_logits = torch.randn(8, 5, requires_grad=True)
teacher_logits = torch.randn(8, 5)
student = F.log_softmax(student_logits, dim=1)
teacher = F.softmax(teacher_logits, dim=1)
loss = F.kl_div(student, teacher, reduction="batchmean")
"""),
        ),
    ),
    Rule(
        "LG109", "single-unit-cross-entropy",
        "CrossEntropyLoss on a single output unit",
        "{loss} needs one logit per class, but the input has a single unit, so the loss is always 0",
        "With one unit, log_softmax over one value is always 0: the loss and its gradient are 0 and nothing "
        "trains, silently.",
        "For a binary task use one unit with BCEWithLogitsLoss and float targets of shape (n, 1); otherwise "
        "give the head C >= 2 outputs.",
        runtime=True,
        static=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 1))
x, y = torch.randn(8, 20), torch.randint(0, 2, (8,))
loss = nn.CrossEntropyLoss()(model(x), y)  # LG109
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 1))
x, y = torch.randn(8, 20), torch.randint(0, 2, (8, 1))
loss = nn.BCEWithLogitsLoss()(model(x), y.float())
"""),
        ),
    ),
    # ---------------------------------------------------------------- LG2xx: targets
    Rule(
        "LG201", "one-hot-targets",
        "One-hot targets passed to CrossEntropyLoss / NLLLoss",
        "{loss} expects class indices as its target, but it got one-hot vectors",
        "A long one-hot target raises 'Expected floating point type for target with class probabilities'; a "
        "float one-hot target is read as class probabilities: the value matches, but `weight` is normalised "
        "differently and `ignore_index` raises. NLLLoss rejects one-hot targets outright.",
        "Pass the class indices themselves: a long tensor of shape (n,) (`y`, or `one_hot.argmax(dim=1)`).",
        static=True,
        autofix="safe",
        runtime=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 5))
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
target = F.one_hot(y, num_classes=5).float()
loss = nn.CrossEntropyLoss()(model(x), target)  # LG201
"""),
            _ex("""
import numpy as np

model = nn.Sequential(nn.Linear(20, 5))
x, labels = torch.randn(8, 20), np.random.randint(0, 5, size=8)
y = torch.tensor(np.eye(5)[labels])
loss = F.cross_entropy(model(x), y)  # LG201
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 5))
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
smoothed = F.one_hot(y, num_classes=5).float() * 0.9 + 0.1 / 5
loss = nn.CrossEntropyLoss()(model(x), smoothed)
"""),
        ),
    ),
    Rule(
        "LG202", "float-class-indices",
        "Float (or int32) class indices passed to CrossEntropyLoss / NLLLoss",
        "{loss} expects class indices of dtype long, but the target is floating point",
        "Class-index targets must be int64 (long). Float indices raise 'expected target dtype to be Long or "
        "Byte, but got Float'; the common 'fix' of reshaping them to the input's shape turns them into class "
        "probabilities and computes a wrong loss silently.",
        "Convert the target with `.long()` (and keep its shape (n,)).",
        static=True,
        autofix="safe",
        runtime=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 5))
criterion = nn.CrossEntropyLoss()
x, labels = torch.randn(8, 20), [0, 1, 2, 3, 4, 0, 1, 2]
y = torch.tensor(labels, dtype=torch.float32)
loss = criterion(model(x), y)  # LG202
"""),
            _ex("""
model = nn.Sequential(nn.Linear(20, 5))
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
loss = F.cross_entropy(model(x), y.float())  # LG202
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 5))
criterion = nn.CrossEntropyLoss()
x, labels = torch.randn(8, 20), [0, 1, 2, 3, 4, 0, 1, 2]
y = torch.tensor(labels, dtype=torch.long)
loss = criterion(model(x), y)
"""),
        ),
    ),
    Rule(
        "LG203", "non-float-binary-targets",
        "Integer, bool or double targets passed to BCEWithLogitsLoss / BCELoss",
        "{loss} expects float targets of the input's dtype, but the target has another dtype",
        "Binary cross-entropy needs float targets: long or bool targets raise ('result type Float can't be "
        "cast to the desired output type Long'), and BCELoss also rejects float64 targets with float32 input.",
        "Convert the target with `.float()` (or `.to(logits.dtype)`).",
        runtime=True,
        static=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1))
criterion = nn.BCEWithLogitsLoss()
x, y = torch.randn(8, 10), torch.randint(0, 2, (8, 1))
loss = criterion(model(x), y.long())  # LG203
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1))
criterion = nn.BCEWithLogitsLoss()
x, y = torch.randn(8, 10), torch.randint(0, 2, (8, 1))
loss = criterion(model(x), y.float())
"""),
        ),
    ),
    Rule(
        "LG204", "class-index-out-of-range",
        "Class index outside [0, C)",
        "{loss} got a class index outside [0, C) for the input's C classes",
        "Labels numbered 1..C, a 255 'void' label or -1 padding fall outside the C classes. On CPU this raises "
        "'Target 5 is out of bounds'; on CUDA it is an asynchronous device-side assert reported far from the "
        "cause.",
        "Remap the labels to 0..C-1, or pass the padding value as `ignore_index`.",
        runtime_only="the label values come from data, not from source",
        runtime=True,
    ),
    Rule(
        "LG205", "multi-hot-targets",
        "Multi-hot or unnormalised targets passed to CrossEntropyLoss",
        "{loss} reads float targets as class probabilities, but these rows do not sum to 1",
        "With float targets of the input's shape, CrossEntropyLoss treats each row as a probability "
        "distribution. Multi-hot rows (several 1s) or unnormalised scores give a loss that is not a "
        "cross-entropy, silently.",
        "For multi-label tasks use BCEWithLogitsLoss with float 0/1 targets; otherwise normalise the rows.",
        runtime_only="whether rows sum to 1 depends on the data",
        runtime=True,
    ),
    Rule(
        "LG206", "zero-one-targets-for-sign-loss",
        "0/1 targets passed to a loss that expects -1/+1",
        "{loss} expects targets of -1 or +1, but got 0/1",
        "HingeEmbeddingLoss, SoftMarginLoss, MarginRankingLoss and CosineEmbeddingLoss read the target's sign. "
        "A 0 is not -1: those pairs are treated wrongly, silently.",
        "Map the labels with `2 * y - 1`.",
        runtime_only="the label values come from data, not from source",
        runtime=True,
    ),
    # ---------------------------------------------------------------- LG3xx: shapes
    Rule(
        "LG301", "broadcast-regression-shapes",
        "Regression output and target of different shapes that broadcast",
        "{loss} got an input and a target of different shapes that broadcast into a matrix",
        "An (n, 1) output against an (n,) target broadcasts to (n, n): every prediction is compared with every "
        "target. PyTorch only warns, then the model learns to predict the mean.",
        "Make the shapes equal: `target.view(-1, 1)` (or `output.squeeze(1)`).",
        runtime=True,
        static=True,
        autofix="safe",
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
x, y = torch.randn(32, 13), torch.randn(32, 1)
loss = F.mse_loss(model(x), y.view(-1))  # LG301
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
x, y = torch.randn(32, 13), torch.randn(32)
loss = F.mse_loss(model(x), y.view(-1, 1))
"""),
        ),
    ),
    Rule(
        "LG302", "binary-shape-mismatch",
        "Binary cross-entropy input and target of different shapes",
        "{loss} needs the target to have exactly the input's shape",
        "BCEWithLogitsLoss and BCELoss compare element by element and raise 'Target size must be the same as "
        "input size' when an (n, 1) output meets an (n,) target.",
        "Make the shapes equal: `target.view(-1, 1).float()` or `output.squeeze(1)`.",
        runtime=True,
        static=True,
        autofix="safe",
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1))
x, y = torch.randn(32, 10), torch.randint(0, 2, (32,)).float()
loss = nn.BCEWithLogitsLoss()(model(x), y)  # LG302
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1))
x, y = torch.randn(32, 10), torch.randint(0, 2, (32,)).float()
loss = nn.BCEWithLogitsLoss()(model(x), y.unsqueeze(1))
"""),
        ),
    ),
    Rule(
        "LG303", "column-target-for-cross-entropy",
        "Target of shape (n, 1) passed to CrossEntropyLoss",
        "{loss} expects class indices of shape (n,), but the target has an extra dimension of size 1",
        "Class-index targets have one dimension fewer than the input. An (n, 1) target raises '0D or 1D target "
        "tensor expected, multi-target not supported'.",
        "Use `target.squeeze(1)` (or `target.view(-1)`).",
        runtime=True,
        static=True,
        autofix="safe",
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 5))
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
loss = F.cross_entropy(model(x), y.view(-1, 1))  # LG303
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(20, 5))
x, y = torch.randn(8, 20), torch.randint(0, 5, (8, 1))
loss = F.cross_entropy(model(x), y.squeeze(1))
"""),
        ),
    ),
    Rule(
        "LG304", "class-dim-last",
        "Sequence logits with the class dimension last passed to CrossEntropyLoss",
        "{loss} expects the class dimension at dim 1, but the input's classes are in the last dimension",
        "For inputs of shape (n, C, d1, ...) the classes are at dim 1. A (batch, length, classes) tensor raises "
        "when length != classes, and silently treats positions as classes when they are equal.",
        "Use `logits.transpose(1, 2)`, or flatten both: `logits.view(-1, C)` and `target.view(-1)`.",
        runtime=True,
        static=True,
        bad=(
            _ex("""
lstm = nn.LSTM(64, 128, batch_first=True)
head = nn.Linear(128, 17)
embedded, tags = torch.randn(4, 9, 64), torch.randint(0, 17, (4, 9))
output, _ = lstm(embedded)
loss = F.cross_entropy(head(output), tags)  # LG304
"""),
        ),
        good=(
            _ex("""
lstm = nn.LSTM(64, 128, batch_first=True)
head = nn.Linear(128, 17)
embedded, tags = torch.randn(4, 9, 64), torch.randint(0, 17, (4, 9))
output, _ = lstm(embedded)
loss = F.cross_entropy(head(output).transpose(1, 2), tags)
"""),
        ),
    ),
    Rule(
        "LG305", "unbatched-cross-entropy",
        "1-D logits with a float target passed to CrossEntropyLoss",
        "{loss} got a 1-D input with a float target of the same shape: it is read as one distribution over "
        "the whole batch",
        "A 1-D input is an unbatched sample: CrossEntropyLoss computes one softmax over the batch dimension, "
        "which is not a per-sample loss.",
        "For a binary task use BCEWithLogitsLoss on the (n,) logits with float targets; otherwise keep the "
        "batch dimension.",
        runtime=True,
        static=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1))
x, y = torch.randn(8, 10), torch.randint(0, 2, (8,))
logits = model(x).squeeze(1)
loss = F.cross_entropy(logits, y.float())  # LG305
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1))
x, y = torch.randn(8, 10), torch.randint(0, 2, (8,))
logits = model(x).squeeze(1)
loss = F.binary_cross_entropy_with_logits(logits, y.float())
"""),
        ),
    ),
    Rule(
        "LG306", "softmax-over-batch",
        "Softmax over the batch dimension, or with no dim",
        "softmax with dim=0 (or no dim) normalises over the batch, not over the classes",
        "A softmax over dim 0 makes each class sum to 1 across the batch; without `dim` PyTorch guesses and "
        "warns. Either way the rows are not class distributions.",
        "Pass `dim=-1` (or the class dimension) explicitly.",
        static=True,
        bad=(
            _ex("""
logits = torch.randn(8, 5, requires_grad=True)
y = torch.randint(0, 5, (8,))
loss = F.nll_loss(F.log_softmax(logits, dim=0), y)  # LG306
"""),
        ),
        good=(
            _ex("""
logits = torch.randn(8, 5, requires_grad=True)
y = torch.randint(0, 5, (8,))
loss = F.nll_loss(F.log_softmax(logits, dim=1), y)
"""),
        ),
    ),
    # ---------------------------------------------------------------- LG4xx: graph and usage
    Rule(
        "LG401", "non-differentiable-prediction",
        "Non-differentiable prediction passed to a loss",
        "{loss} got an input that does not require grad while grad is enabled: backward will fail or do nothing",
        "argmax, round, comparisons and .item() cut the autograd graph. backward() then raises 'element 0 of "
        "tensors does not require grad', or the parameters never get a gradient.",
        "Pass the raw model output (logits) to the loss; use argmax/round only for metrics.",
        runtime=True,
        static=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 3))
x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
prediction = model(x).argmax(dim=1).float()
loss = F.mse_loss(prediction, y.float())  # LG401
loss.backward()
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 3))
x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
logits = model(x)
loss = F.cross_entropy(logits, y)
loss.backward()
accuracy = (logits.argmax(dim=1) == y).float().mean()
"""),
        ),
    ),
    Rule(
        "LG402", "loss-class-called-with-tensors",
        "Loss class constructed with tensors instead of called with them",
        "{loss} is a class: `{loss}(output, target)` constructs it with the tensors as options",
        "`nn.CrossEntropyLoss(out, y)` passes the tensors as `weight` and `size_average`, which raises "
        "'Boolean value of Tensor with more than one value is ambiguous' or builds a wrong loss.",
        "Construct then call: `nn.CrossEntropyLoss()(output, target)`, or use the functional form.",
        static=True,
        autofix="safe",
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 3))
x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
loss = nn.CrossEntropyLoss(model(x), y)  # LG402
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 3))
x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
loss = nn.CrossEntropyLoss()(model(x), y)
"""),
        ),
    ),
    Rule(
        "LG403", "manual-log-of-activation",
        "log of a softmax or sigmoid computed by hand",
        "torch.log of a softmax/sigmoid underflows to -inf for confident predictions",
        "softmax and sigmoid round small probabilities to 0; their log is then -inf and the loss becomes inf "
        "or NaN.",
        "Use log_softmax / logsigmoid, or a loss that takes logits (CrossEntropyLoss, BCEWithLogitsLoss).",
        static=True,
        bad=(
            _ex("""
logits = torch.randn(8, 5, requires_grad=True)
y = torch.randint(0, 5, (8,))
probabilities = F.softmax(logits, dim=1)
loss = F.nll_loss(torch.log(probabilities), y)  # LG403
"""),
        ),
        good=(
            _ex("""
logits = torch.randn(8, 5, requires_grad=True)
y = torch.randint(0, 5, (8,))
loss = F.nll_loss(F.log_softmax(logits, dim=1), y)
"""),
        ),
    ),
    Rule(
        "LG404", "unreduced-loss-backward",
        "Unreduced loss passed to backward()",
        "{loss} with reduction='none' returns one value per element; backward() needs a scalar",
        "backward() on a non-scalar raises 'grad can be implicitly created only for scalar outputs'.",
        "Reduce first: `loss.mean().backward()` (or weight then sum).",
        static=True,
        bad=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1))
criterion = nn.BCEWithLogitsLoss(reduction="none")
x, y = torch.randn(8, 10), torch.rand(8, 1).round()
loss = criterion(model(x), y)  # LG404
loss.backward()
"""),
        ),
        good=(
            _ex("""
model = nn.Sequential(nn.Linear(10, 1))
criterion = nn.BCEWithLogitsLoss(reduction="none")
x, y, weights = torch.randn(8, 10), torch.rand(8, 1).round(), torch.rand(8, 1)
loss = criterion(model(x), y)
(loss * weights).mean().backward()
"""),
        ),
    ),
)

BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}


def get_rule(code: str) -> Rule:
    """The rule with this code; KeyError names the unknown code."""
    try:
        return BY_CODE[code.upper()]
    except KeyError:
        raise KeyError(f"unknown rule code {code!r}") from None


def select_codes(select: list[str] | None, ignore: list[str] | None) -> frozenset[str]:
    """The codes enabled by `--select`/`--ignore`, each given as a code or a prefix such as `LG1`.

    Raises ValueError naming the first selector that matches no rule, so a typo is an error, not silence.
    """
    def expand(selectors: list[str]) -> set[str]:
        codes: set[str] = set()
        for selector in selectors:
            wanted = selector.strip().upper()
            matched = {code for code in BY_CODE if code.startswith(wanted)} if wanted != "ALL" else set(BY_CODE)
            if not matched:
                raise ValueError(f"{selector!r} matches no rule code")
            codes |= matched
        return codes

    enabled = expand(select) if select else set(BY_CODE)
    return frozenset(enabled - expand(ignore or []))
