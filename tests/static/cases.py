"""Real code shapes for the static observer: each positive case has a correct twin that must stay silent.

A line ending in `# LGnnn` is where that finding is expected; a case with no marker must produce nothing.
"""

from __future__ import annotations

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"

CASES: dict[str, str] = {}


def case(name: str, body: str, header: str = HEADER) -> None:
    assert name not in CASES, name
    CASES[name] = header + body.strip("\n") + "\n"


# ---------------------------------------------------------------- activation at the end of nn.Sequential
case("sequential-inline-sigmoid-bcewl", """
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
criterion = nn.BCEWithLogitsLoss()
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)  # LG101
    loss.backward()
""")
case("sequential-inline-no-sigmoid-bcewl", """
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
criterion = nn.BCEWithLogitsLoss()
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
""")
case("sequential-sigmoid-gate-in-middle", """
model = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 1))
loss = nn.BCEWithLogitsLoss()(model(x), y)
""")
case("sequential-from-function", """
def build_model(hidden):
    return nn.Sequential(nn.Linear(10, hidden), nn.ReLU(), nn.Linear(hidden, 3), nn.Softmax(dim=1))

model = build_model(32)
criterion = nn.CrossEntropyLoss()
out = model(x)
loss = criterion(out, y)  # LG102
""")
case("sequential-from-function-twin", """
def build_model(hidden):
    return nn.Sequential(nn.Linear(10, hidden), nn.ReLU(), nn.Linear(hidden, 3))

model = build_model(32)
criterion = nn.CrossEntropyLoss()
out = model(x)
loss = criterion(out, y)
""")
case("sequential-from-list-append", """
layers = [nn.Linear(10, 64), nn.ReLU()]
for _ in range(3):
    layers.append(nn.Linear(64, 64))
    layers.append(nn.ReLU())
layers.append(nn.Linear(64, 1))
layers.append(nn.Sigmoid())
model = nn.Sequential(*layers)
loss = nn.BCEWithLogitsLoss()(model(x), y)  # LG101
""")
case("sequential-from-list-append-twin", """
layers = [nn.Linear(10, 64), nn.ReLU()]
for _ in range(3):
    layers.append(nn.Linear(64, 64))
    layers.append(nn.ReLU())
layers.append(nn.Linear(64, 1))
model = nn.Sequential(*layers)
loss = nn.BCEWithLogitsLoss()(model(x), y)
""")
case("sequential-list-conditionally-extended", """
layers = [nn.Linear(10, 1)]
if use_probabilities:
    layers.append(nn.Sigmoid())
model = nn.Sequential(*layers)
loss = nn.BCEWithLogitsLoss()(model(x), y)
""")
case("sequential-ordered-dict", """
from collections import OrderedDict

model = nn.Sequential(OrderedDict([("fc", nn.Linear(10, 5)), ("softmax", nn.Softmax(dim=-1))]))
loss = F.cross_entropy(model(x), y)  # LG102
""")
case("sequential-nested-head", """
head = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())
model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), head)
loss = nn.BCEWithLogitsLoss()(model(x), y)  # LG101
""")

# ---------------------------------------------------------------- classes: layer on self, applied in forward
case("class-self-sigmoid-last", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.fc2 = nn.Linear(32, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        return self.sigmoid(self.fc2(x))


net = Net()
criterion = nn.BCEWithLogitsLoss()
for epoch in range(10):
    for xb, yb in loader:
        pred = net(xb)
        loss = criterion(pred, yb)  # LG101
        loss.backward()
""")
case("class-self-sigmoid-gate", """
class GatedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(10, 10)
        self.act = nn.Sigmoid()
        self.out = nn.Linear(10, 1)

    def forward(self, x):
        x = x * self.act(self.gate(x))
        return self.out(x)


net = GatedNet()
loss = nn.BCEWithLogitsLoss()(net(x), y)
""")
case("class-forward-torch-softmax", """
class Classifier(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(100, 64), nn.ReLU())
        self.head = nn.Linear(64, n_classes)

    def forward(self, x):
        features = self.backbone(x)
        logits = self.head(features)
        probs = F.softmax(logits, dim=1)
        return probs


model = Classifier(10)
loss_fn = nn.CrossEntropyLoss()
loss = loss_fn(model(x), y)  # LG102
""")
case("class-training-flag", """
class Classifier(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.head = nn.Linear(64, n_classes)

    def forward(self, x):
        logits = self.head(x)
        if not self.training:
            return F.softmax(logits, dim=1)
        return logits


model = Classifier(10)
loss = nn.CrossEntropyLoss()(model(x), y)
""")
case("class-training-flag-positive-branch", """
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(64, 1)

    def forward(self, x):
        out = self.head(x)
        if self.training:
            return out
        return torch.sigmoid(out)


model = Classifier()
loss = nn.BCEWithLogitsLoss()(model(x), y)
""")
case("class-predict-method", """
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)
        self.criterion = nn.BCEWithLogitsLoss()

    def forward(self, x):
        return self.fc(x)

    def predict(self, x):
        return torch.sigmoid(self.forward(x))

    def training_step(self, x, y):
        return self.criterion(self(x), y)
""")
case("class-inherits-forward", """
class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 5)
        self.out = nn.LogSoftmax(dim=1)

    def forward(self, x):
        return self.out(self.fc(x))


class Child(Base):
    pass


model = Child()
loss = F.cross_entropy(model(x), y)  # LG103
""")
case("class-log-softmax-nll-is-fine", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)


model = Net()
for data, target in train_loader:
    output = model(data)
    loss = F.nll_loss(output, target)
    loss.backward()
""")
case("class-returns-tuple", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 5)

    def forward(self, x):
        logits = self.fc(x)
        return logits, F.softmax(logits, dim=1)


model = Net()
logits, probs = model(x)
loss = F.cross_entropy(logits, y)
""")

# ---------------------------------------------------------------- Lightning-style training_step
case("lightning-training-step", """
import pytorch_lightning as pl


class LitModel(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(28 * 28, 128), nn.ReLU(), nn.Linear(128, 10), nn.Softmax(dim=1))
        self.loss_fn = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = self.loss_fn(logits, y)  # LG102
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        return self.loss_fn(self(x), y)  # LG102
""")
case("lightning-training-step-twin", """
import pytorch_lightning as pl


class LitModel(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(28 * 28, 128), nn.ReLU(), nn.Linear(128, 10))
        self.loss_fn = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = self.loss_fn(logits, y)
        preds = torch.softmax(logits, dim=1).argmax(dim=1)
        return loss
""")

# ---------------------------------------------------------------- activations in the training loop
case("loop-reassignment", """
for x, y in loader:
    out = model(x)
    out = torch.sigmoid(out)
    loss = criterion_fn(out, y)
    loss = F.binary_cross_entropy_with_logits(out, y)  # LG101
""")
case("loop-reassignment-twin", """
for x, y in loader:
    out = model(x)
    loss = F.binary_cross_entropy_with_logits(out, y)
    out = torch.sigmoid(out)
    accuracy = ((out > 0.5) == y).float().mean()
""")
case("tensor-method-softmax", """
logits = model(x)
loss = F.cross_entropy(logits.softmax(-1), y)  # LG102
""")
case("tensor-method-log-softmax-into-nll", """
logits = model(x)
loss = F.nll_loss(logits.log_softmax(-1), y)
""")
case("f-sigmoid-then-bce", """
out = model(x)
loss = F.binary_cross_entropy(F.sigmoid(out), y)
""")
case("softmax-into-nll", """
out = model(x)
probs = torch.softmax(out, dim=1)
loss = nn.NLLLoss()(probs, y)  # LG104
""")
case("softmax-through-view-and-to", """
out = model(x)
probs = torch.softmax(out, dim=-1).view(-1, n_classes).to(device)
loss = F.cross_entropy(probs, y.view(-1))  # LG102
""")
case("sigmoid-then-arithmetic", """
out = torch.sigmoid(model(x)) * 2 - 1
loss = F.binary_cross_entropy_with_logits(out, y)
""")
case("sigmoid-for-metrics-only", """
criterion = nn.BCEWithLogitsLoss()
for x, y in loader:
    logits = model(x)
    loss = criterion(logits, y)
    loss.backward()
    probs = torch.sigmoid(logits)
    correct += ((probs > 0.5).float() == y).sum()
""")
case("no-grad-validation", """
criterion = nn.BCEWithLogitsLoss()
model.eval()
with torch.no_grad():
    for x, y in val_loader:
        out = torch.sigmoid(model(x))
        val_loss = criterion(out, y)  # LG101
""")
case("inference-mode-block", """
with torch.inference_mode():
    probs = F.softmax(model(x), dim=1)
    loss = F.cross_entropy(probs, y)  # LG102
""")
case("no-grad-decorator", """
@torch.no_grad()
def evaluate(model, loader):
    for x, y in loader:
        probs = torch.softmax(model(x), dim=1)
        total += F.cross_entropy(probs, y).item()  # LG102
""")
case("branches-disagree", """
out = model(x)
if apply_sigmoid:
    out = torch.sigmoid(out)
loss = F.binary_cross_entropy_with_logits(out, y)
""")
case("branches-agree", """
out = model(x)
if flag:
    out = torch.sigmoid(out)
else:
    out = torch.sigmoid(out * 2)
loss = F.binary_cross_entropy_with_logits(out, y)  # LG101
""")
case("names-reused-in-other-function", """
def predict(model, x):
    out = torch.sigmoid(model(x))
    return out


def train_step(model, x, y):
    out = model(x)
    return F.binary_cross_entropy_with_logits(out, y)
""")
case("loss-in-expression", """
out = F.softmax(model(x), dim=1)
loss = F.cross_entropy(out, y) + 0.01 * sum(p.pow(2).sum() for p in model.parameters())  # LG102
""")

# ---------------------------------------------------------------- loss bindings and import aliases
case("alias-tnn", """
import torch.nn as tnn

model = tnn.Sequential(tnn.Linear(3, 1), tnn.Sigmoid())
crit = tnn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]))
loss = crit(model(x), y)  # LG101
""", header="import torch\n")
case("alias-from-import-as", """
from torch.nn import BCEWithLogitsLoss as BCE
from torch.nn import Sigmoid, Linear, Sequential

model = Sequential(Linear(3, 1), Sigmoid())
loss = BCE()(model(x), y)  # LG101
""", header="import torch\n")
case("alias-from-torch-nn-import-functional", """
from torch.nn import functional

probs = functional.softmax(model(x), dim=1)
loss = functional.cross_entropy(probs, y)  # LG102
""", header="import torch\n")
case("alias-internal-module-path", """
from torch.nn.modules.loss import CrossEntropyLoss
from torch.nn.modules.activation import LogSoftmax

head = LogSoftmax(dim=1)
loss = CrossEntropyLoss()(head(model(x)), y)  # LG103
""", header="import torch\n")
case("loss-on-self-attr", """
class Trainer:
    def __init__(self, model):
        self.model = model
        self.criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

    def step(self, x, y):
        probs = F.softmax(self.model(x), dim=-1)
        return self.criterion(probs, y)  # LG102
""")
case("loss-forward-method", """
criterion = nn.CrossEntropyLoss()
loss = criterion.forward(F.log_softmax(model(x), dim=1), y)  # LG103
""")
case("loss-passed-to-function", """
def train_loop(dataloader, model, loss_fn, optimizer):
    for X, y in dataloader:
        pred = model(X)
        loss = loss_fn(pred, y)  # LG102
        loss.backward()


model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.Softmax(dim=1))
loss_fn = nn.CrossEntropyLoss()
train_loop(train_dataloader, model, loss_fn, optimizer)
""")
case("loss-passed-to-function-twin", """
def train_loop(dataloader, model, loss_fn, optimizer):
    for X, y in dataloader:
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()


model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
loss_fn = nn.CrossEntropyLoss()
train_loop(train_dataloader, model, loss_fn, optimizer)
""")
case("global-model-read-in-function", """
model = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())
criterion = nn.BCEWithLogitsLoss()


def train():
    for x, y in loader:
        loss = criterion(model(x), y)  # LG101
        loss.backward()
""")
case("global-rebound-is-unknown", """
model = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())
model = nn.Sequential(nn.Linear(10, 1))
criterion = nn.BCEWithLogitsLoss()


def train():
    for x, y in loader:
        loss = criterion(model(x), y)
""")
case("sigmoid-with-bce-is-fine", """
model = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())
loss = nn.BCELoss()(model(x), y.float())
""")
case("logits-into-bce-class", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        return self.fc(x)


criterion = nn.BCELoss()
loss = criterion(Net()(x), y)  # LG106
""")
case("unknown-model-into-bce", """
loss = nn.BCELoss()(model(x), y)
""")
case("eval-mode-after-training", """
criterion = nn.CrossEntropyLoss()
model.eval()
probs = torch.softmax(model(x), dim=1)
test_loss = criterion(probs, y)  # LG102
""")

# ---------------------------------------------------------------- targets
case("one-hot-target", """
y_onehot = F.one_hot(y, num_classes=10)
loss = F.cross_entropy(model(x), y_onehot.float())  # LG201
""")
case("one-hot-into-nll", """
target = torch.nn.functional.one_hot(labels, 10).to(device)
loss = F.nll_loss(F.log_softmax(model(x), dim=1), target)  # LG201
""")
case("one-hot-torch-eye", """
targets = torch.eye(num_classes)[labels]
loss = nn.CrossEntropyLoss()(model(images), targets)  # LG201
""")
case("one-hot-smoothed-is-soft", """
target = F.one_hot(y, 10).float()
target = target * (1 - eps) + eps / 10
loss = F.cross_entropy(model(x), target)
""")
case("one-hot-mixup-is-soft", """
y1 = F.one_hot(y, 10).float()
y2 = y1[perm]
mixed = lam * y1 + (1 - lam) * y2
loss = F.cross_entropy(model(x_mix), mixed)
""")
case("one-hot-argmax-back", """
y = F.one_hot(labels, 10)
loss = F.cross_entropy(model(x), y.argmax(dim=1))
""")
case("float-target-method", """
criterion = nn.CrossEntropyLoss()
for inputs, labels in loader:
    outputs = model(inputs)
    loss = criterion(outputs, labels.float())  # LG202
""")
case("float-target-constructor", """
labels = torch.FloatTensor(label_list)
loss = F.cross_entropy(model(x), labels)  # LG202
""")
case("float-target-to-dtype", """
target = target.to(device, dtype=torch.float32)
loss = F.nll_loss(F.log_softmax(model(x), 1), target)  # LG202
""")
case("float-target-long-again", """
labels = torch.FloatTensor(label_list)
loss = F.cross_entropy(model(x), labels.long())
""")
case("float-target-soft-names", """
teacher_probs = F.softmax(teacher(x) / T, dim=1)
loss = F.cross_entropy(student(x), teacher_probs.float())
""")
case("float-target-soft-labels-name", """
loss = F.cross_entropy(model(x), soft_labels.float())
""")
case("float-target-for-bce-is-fine", """
loss = F.binary_cross_entropy_with_logits(model(x), y.float())
""")

# ---------------------------------------------------------------- LG105 logits into NLL
case("logits-into-nll", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc(x)


model = Net()
loss = F.nll_loss(model(x), y)  # LG105
""")
case("logits-into-nll-twin", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)


model = Net()
loss = F.nll_loss(model(x), y)
""")

# ---------------------------------------------------------------- LG107 other activations into logits losses
case("sigmoid-into-cross-entropy", """
model = nn.Sequential(nn.Linear(64, 10), nn.Sigmoid())
loss = nn.CrossEntropyLoss()(model(x), y)  # LG107
""")
case("relu-head-into-cross-entropy", """
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10), nn.ReLU())
loss = F.cross_entropy(model(x), y)  # LG107
""")
case("softmax-into-bce-with-logits", """
scores = F.softmax(model(x), dim=-1)
loss = F.binary_cross_entropy_with_logits(scores, y_multi)  # LG107
""")
case("relu-in-the-middle-is-fine", """
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
loss = F.cross_entropy(model(x), y)
""")

# ---------------------------------------------------------------- LG108 KL divergence
case("kl-div-on-probabilities", """
student = F.softmax(student_model(x) / T, dim=1)
teacher = F.softmax(teacher_model(x) / T, dim=1)
loss = F.kl_div(student, teacher, reduction="batchmean")  # LG108
""")
case("kl-div-on-log-probabilities", """
student = F.log_softmax(student_model(x) / T, dim=1)
teacher = F.softmax(teacher_model(x) / T, dim=1)
loss = nn.KLDivLoss(reduction="batchmean")(student, teacher)
""")

# ---------------------------------------------------------------- LG109 single-unit cross-entropy
case("single-unit-cross-entropy", """
model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 1))
loss = nn.CrossEntropyLoss()(model(x), y)  # LG109
""")
case("two-unit-cross-entropy", """
model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 2))
loss = nn.CrossEntropyLoss()(model(x), y)
""")

# ---------------------------------------------------------------- LG203 non-float BCE targets
case("long-targets-into-bce-with-logits", """
criterion = nn.BCEWithLogitsLoss()
for x, y in loader:
    loss = criterion(model(x), y.long())  # LG203
""")
case("int-tensor-target-into-bce", """
y = torch.tensor(labels, dtype=torch.long)
loss = F.binary_cross_entropy(torch.sigmoid(model(x)), y)  # LG203
""")
case("float-targets-into-bce-with-logits", """
criterion = nn.BCEWithLogitsLoss()
for x, y in loader:
    loss = criterion(model(x), y.float())
""")

# ---------------------------------------------------------------- LG301 / LG302 shapes against a one-unit head
case("mse-broadcast", """
model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
for x, y in loader:
    pred = model(x)
    loss = F.mse_loss(pred, y.view(-1))  # LG301
""")
case("mse-shapes-match", """
model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
for x, y in loader:
    pred = model(x)
    loss = F.mse_loss(pred, y.view(-1, 1))
""")
case("mse-squeezed-output", """
model = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
for x, y in loader:
    pred = model(x).squeeze(1)
    loss = nn.L1Loss()(pred, y.view(-1))
""")
case("bce-shape-mismatch", """
model = nn.Sequential(nn.Linear(10, 1))
target = torch.randint(0, 2, (32,)).float()
loss = nn.BCEWithLogitsLoss()(model(torch.randn(32, 10)), target)  # LG302
""")
case("bce-shape-match", """
model = nn.Sequential(nn.Linear(10, 1))
target = torch.randint(0, 2, (32, 1)).float()
loss = nn.BCEWithLogitsLoss()(model(torch.randn(32, 10)), target)
""")

# ---------------------------------------------------------------- LG303 column targets for cross-entropy
case("column-target-cross-entropy", """
model = nn.Sequential(nn.Linear(20, 5))
loss = F.cross_entropy(model(x), y.view(-1, 1))  # LG303
""")
case("column-target-squeezed", """
model = nn.Sequential(nn.Linear(20, 5))
loss = F.cross_entropy(model(x), y.view(-1, 1).squeeze(1))
""")

# ---------------------------------------------------------------- LG304 class dim last
case("lstm-tagger-class-dim-last", """
class Tagger(nn.Module):
    def __init__(self, vocab, tags):
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        self.lstm = nn.LSTM(64, 128, batch_first=True)
        self.out = nn.Linear(128, tags)

    def forward(self, tokens):
        hidden, _ = self.lstm(self.embed(tokens))
        return self.out(hidden)


model = Tagger(1000, 17)
loss = F.cross_entropy(model(tokens), tags)  # LG304
""")
case("lstm-tagger-flattened", """
class Tagger(nn.Module):
    def __init__(self, vocab, tags):
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        self.lstm = nn.LSTM(64, 128, batch_first=True)
        self.out = nn.Linear(128, tags)

    def forward(self, tokens):
        hidden, _ = self.lstm(self.embed(tokens))
        return self.out(hidden)


model = Tagger(1000, 17)
logits = model(tokens)
loss = F.cross_entropy(logits.view(-1, 17), tags.view(-1))
""")
case("lstm-tagger-transposed", """
lstm = nn.LSTM(64, 128, batch_first=True)
head = nn.Linear(128, 17)
output, (h, c) = lstm(embedded)
logits = head(output)
loss = F.cross_entropy(logits.transpose(1, 2), tags)
""")
case("lstm-last-step-is-2d", """
lstm = nn.LSTM(64, 128, batch_first=True)
head = nn.Linear(128, 5)
output, _ = lstm(embedded)
logits = head(output[:, -1])
loss = F.cross_entropy(logits, labels)
""")

# ---------------------------------------------------------------- LG305 unbatched cross-entropy
case("squeezed-logits-float-target-cross-entropy", """
model = nn.Sequential(nn.Linear(10, 1))
for x, y in loader:
    logits = model(x).squeeze(1)
    loss = F.cross_entropy(logits, y.float())  # LG305
""")
case("squeezed-logits-bce-with-logits", """
model = nn.Sequential(nn.Linear(10, 1))
for x, y in loader:
    logits = model(x).squeeze(1)
    loss = F.binary_cross_entropy_with_logits(logits, y.float())
""")

# ---------------------------------------------------------------- LG306 softmax over the batch
case("log-softmax-over-batch", """
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5))
log_probs = F.log_softmax(model(x), dim=0)
loss = F.nll_loss(log_probs, y)  # LG306
""")
case("log-softmax-dim0-of-an-unknown-rank", """
log_probs = F.log_softmax(policy(state), dim=0)
loss = F.nll_loss(log_probs, action)
""")
case("log-softmax-over-classes", """
log_probs = F.log_softmax(model(x), dim=1)
loss = F.nll_loss(log_probs, y)
""")
case("softmax-dim0-of-a-1d-vector", """
logits = torch.randn(10)
probs = F.softmax(logits, dim=0)
action = torch.multinomial(probs, 1)
""")

# ---------------------------------------------------------------- LG401 non-differentiable prediction
case("argmax-into-loss", """
criterion = nn.MSELoss()
for x, y in loader:
    pred = model(x).argmax(dim=1).float()
    loss = criterion(pred, y)  # LG401
    loss.backward()
""")
case("threshold-into-loss", """
for x, y in loader:
    pred = (torch.sigmoid(model(x)) > 0.5).float()
    loss = F.binary_cross_entropy(pred, y)  # LG401
    optimizer.zero_grad()
    (loss * 1.0).backward()
""")
case("argmax-metric-not-backpropagated", """
for x, y in loader:
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    error = F.l1_loss(logits.argmax(dim=1).float(), y.float())
    print(error.item())
""")

# ---------------------------------------------------------------- LG402 loss class called with tensors
case("loss-class-called-with-tensors", """
loss = nn.CrossEntropyLoss(model(x), y)  # LG402
""")
case("loss-class-with-weight-tensor", """
criterion = nn.CrossEntropyLoss(class_weights)
loss = criterion(model(x), y)
""")
case("loss-class-with-literal-positional", """
criterion = nn.BCELoss(None, True)
loss = criterion(torch.sigmoid(model(x)), y)
""")

# ---------------------------------------------------------------- LG403 manual log of softmax / sigmoid
case("log-of-softmax", """
probs = F.softmax(model(x), dim=1)
loss = F.nll_loss(torch.log(probs), y)  # LG403
""")
case("log-of-sigmoid-bce-by-hand", """
p = torch.sigmoid(model(x))
loss = -(y * p.log() + (1 - y) * torch.log(1 - p)).mean()  # LG403
""")
case("log-softmax-instead", """
log_probs = F.log_softmax(model(x), dim=1)
loss = F.nll_loss(log_probs, y)
""")
case("log-with-epsilon", """
probs = F.softmax(model(x), dim=1)
loss = F.nll_loss(torch.log(probs + 1e-8), y)
""")

# ---------------------------------------------------------------- LG404 unreduced loss to backward
case("unreduced-loss-backward", """
criterion = nn.BCEWithLogitsLoss(reduction="none")
for x, y in loader:
    loss = criterion(model(x), y)  # LG404
    loss.backward()
""")
case("unreduced-loss-weighted-then-reduced", """
criterion = nn.BCEWithLogitsLoss(reduction="none")
for x, y, w in loader:
    loss = criterion(model(x), y)
    (loss * w).mean().backward()
""")
case("unreduced-functional-with-explicit-gradient", """
loss = F.mse_loss(model(x), y, reduction="none")
loss.backward(torch.ones_like(loss))
""")
case("unreduced-functional-backward", """
loss = F.mse_loss(model(x), y, reduction="none")  # LG404
accelerator.backward(loss)
""")
case("softmax-dim0-per-sample-under-vmap", """
def per_sample_loss(logits, label):
    return F.cross_entropy(logits.softmax(0), label)  # LG102
""")
case("log-softmax-dim0-of-a-batched-head", """
head = nn.Linear(64, 10)
loss = F.nll_loss(F.log_softmax(head(features), dim=0), labels)  # LG306
""")


# ---------------------------------------------------------------- objects that receive their model or loss later
case("init-helper-builds-layers", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.build_model()

    def build_model(self):
        self.fc = nn.Linear(16, 4)
        self.act = nn.Softmax(dim=1)

    def forward(self, x):
        return self.act(self.fc(x))


model = Net()
loss = nn.CrossEntropyLoss()(model(x), y)  # LG102
""")
case("init-helper-builds-layers-twin", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.build_model()

    def build_model(self):
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x)


model = Net()
loss = nn.CrossEntropyLoss()(model(x), y)
""")
case("setter-assigns-loss", """
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
        self.loss_op = None

    def add_loss_op(self, loss):
        self.loss_op = loss

    def step(self, x, y):
        return self.loss_op(self.head(x), y)  # LG101


model = Model()
model.add_loss_op(nn.BCEWithLogitsLoss())
model.step(x, y)
""")
case("setter-assigns-loss-twin", """
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
        self.loss_op = None

    def add_loss_op(self, loss):
        self.loss_op = loss

    def step(self, x, y):
        return self.loss_op(self.head(x), y)


model = Model()
model.add_loss_op(nn.BCELoss())
model.step(x, y)
""")
case("trainer-receives-model-and-loss", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(32, 10)
        self.out = nn.Softmax(dim=-1)

    def forward(self, x):
        return self.out(self.body(x))


class Trainer:
    def __init__(self, model, criterion, optimizer=None):
        self.model = model
        self.criterion = criterion
        self.optimizer = optimizer

    def train_epoch(self, loader):
        for x, y in loader:
            self.optimizer.zero_grad()
            out = self.model(x)
            loss = self.criterion(out, y)  # LG102
            loss.backward()

    def fit(self, loader, epochs):
        for _ in range(epochs):
            self.train_epoch(loader)


trainer = Trainer(Net(), nn.CrossEntropyLoss())
trainer.fit(train_loader, 10)
""")
case("trainer-receives-model-and-loss-twin", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(32, 10)
        self.out = nn.Softmax(dim=-1)

    def forward(self, x):
        return self.body(x)

    def predict(self, x):
        return self.out(self.forward(x))


class Trainer:
    def __init__(self, model, criterion):
        self.model = model
        self.criterion = criterion

    def train_epoch(self, loader):
        for x, y in loader:
            loss = self.criterion(self.model(x), y)
            loss.backward()


trainer = Trainer(Net(), nn.CrossEntropyLoss())
trainer.train_epoch(train_loader)
""")
case("self-call-forms", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))

    def loss_a(self, x, y):
        return F.binary_cross_entropy_with_logits(self.__call__(x), y)  # LG101

    def loss_b(self, x, y):
        return F.binary_cross_entropy_with_logits(self.forward(x), y)  # LG101


class Child(Net):
    def forward(self, x):
        return super().forward(x)

    def loss_c(self, x, y):
        return F.binary_cross_entropy_with_logits(self(x), y)  # LG101
""")
case("self-call-forms-twin", """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc(x)

    def loss_a(self, x, y):
        return F.binary_cross_entropy_with_logits(self.__call__(x), y)


class Child(Net):
    def forward(self, x):
        return super().forward(x)

    def loss_c(self, x, y):
        return F.binary_cross_entropy_with_logits(self(x), y)
""")

# ---------------------------------------------------------------- containers
case("dict-output-constant-keys", """
class LaneNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.exist_head = nn.Linear(64, 4)
        self.seg_head = nn.Conv2d(64, 5, 1)

    def forward(self, x):
        h = x
        return {"exist": torch.sigmoid(self.exist_head(h)), "seg": self.seg_head(h)}


model = LaneNet()
criterion = nn.BCEWithLogitsLoss()
for x, y in loader:
    out = model(x)
    loss = criterion(out["exist"], y)  # LG101
    loss.backward()
""")
case("dict-output-constant-keys-twin", """
class LaneNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.exist_head = nn.Linear(64, 4)

    def forward(self, x):
        logits = self.exist_head(x)
        return {"exist": logits, "prob": torch.sigmoid(logits)}


model = LaneNet()
criterion = nn.BCEWithLogitsLoss()
for x, y in loader:
    out = model(x)
    loss = criterion(out["exist"], y)
    loss.backward()
""")
case("dict-filled-item-by-item", """
def forward(x, head):
    out = {}
    out["logits"] = head(x)
    out["prob"] = F.softmax(out["logits"], dim=1)
    out.update(aux=torch.sigmoid(out["logits"]))
    return out


head = nn.Linear(16, 3)
result = forward(x, head)
loss = F.cross_entropy(result["prob"], y) + F.binary_cross_entropy_with_logits(result["aux"], t)  # LG102 LG101
ok = F.cross_entropy(result["logits"], y)
""")
case("namedtuple-and-dataclass-outputs", """
from collections import namedtuple
from dataclasses import dataclass

Output = namedtuple("Output", ["logits", "probs"])


@dataclass
class Prediction:
    scores: torch.Tensor
    probs: torch.Tensor


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        logits = self.fc(x)
        return Output(logits, F.softmax(logits, dim=1))

    def predict(self, x):
        logits = self.fc(x)
        return Prediction(scores=logits, probs=torch.sigmoid(logits))


model = Net()
out = model(x)
a = F.cross_entropy(out.probs, y)  # LG102
b = F.cross_entropy(out.logits, y)
c = F.cross_entropy(out[1], y)  # LG102
p = model.predict(x)
d = F.binary_cross_entropy_with_logits(p.probs, t)  # LG101
e = F.binary_cross_entropy_with_logits(p.scores, t)
""")
case("list-and-tuple-indexed", """
def heads(x):
    z = lin(x)
    return [z, torch.sigmoid(z)], (z, F.log_softmax(z, dim=1))


lin = nn.Linear(8, 3)
pair, other = heads(x)
l1 = F.binary_cross_entropy_with_logits(pair[1], t)  # LG101
l2 = F.binary_cross_entropy_with_logits(pair[0], t)
l3 = F.cross_entropy(other[-1], y)  # LG103
""")

# ---------------------------------------------------------------- how losses are made
case("loss-moved-to-device", """
model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
criterion = nn.BCEWithLogitsLoss().cuda()
other = nn.BCEWithLogitsLoss().to(device)
loss = criterion(model(x), y)  # LG101
loss2 = other(model(x), y)  # LG101
""")
case("loss-registry-constant-key", """
LOSSES = {"ce": nn.CrossEntropyLoss, "bce": nn.BCEWithLogitsLoss}
model = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1))
criterion = LOSSES["ce"]()
loss = criterion(model(x), y)  # LG102
""")
case("loss-registry-unknown-key-disagrees", """
LOSSES = {"ce": nn.CrossEntropyLoss, "nll": nn.NLLLoss}
model = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1))
criterion = LOSSES[name]()
loss = criterion(model(x), y)
""")
case("loss-by-getattr", """
criterion = getattr(nn, "CrossEntropyLoss")()
model = nn.Sequential(nn.Linear(8, 3), nn.LogSoftmax(dim=1))
loss = criterion(model(x), y)  # LG103
""")
case("loss-class-attribute-default", """
class Task:
    loss_cls = nn.BCEWithLogitsLoss
    DEFAULT_LOSS = nn.BCEWithLogitsLoss

    def __init__(self, model, loss=None):
        self.model = model
        self.criterion = loss or self.DEFAULT_LOSS()
        self.other = self.loss_cls()

    def step(self, x, y):
        out = self.model(x)
        return self.criterion(out, y) + self.other(out, y)  # LG101 LG101


task = Task(nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()))
task.step(x, y)
""")
case("loss-default-if-none", """
class Task:
    def __init__(self, model, loss=None):
        self.model = model
        self.criterion = loss if loss is not None else nn.CrossEntropyLoss()

    def step(self, x, y):
        return self.criterion(self.model(x), y)  # LG102


task = Task(nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1)))
task.step(x, y)
given = Task(nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1)), nn.NLLLoss())
""")
case("loss-function-passed-as-value", """
def loss_fn(outputs, labels):
    return nn.CrossEntropyLoss()(outputs, labels)  # LG102


def train(model, loader, loss_function):
    for x, y in loader:
        loss = loss_function(model(x), y)
        loss.backward()


net = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1))
train(net, loader, loss_fn)
""")
case("loss-chosen-by-argparse-default", """
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--loss", default="bce", choices=["bce", "mse"])
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()
model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
if args.loss == "bce":
    criterion = nn.BCEWithLogitsLoss()
elif args.loss == "mse":
    criterion = nn.MSELoss()
loss = criterion(model(x), y)  # LG101
""")

# ---------------------------------------------------------------- branches
case("branches-agree-on-two-models", """
class D1(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=1))

    def forward(self, x):
        return self.net(x)


class D2(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4), nn.Softmax(dim=1))

    def forward(self, x):
        return self.net(x)


disc = D1() if small else D2()
loss = F.cross_entropy(disc(x), y)  # LG102
""")
case("branches-disagree-on-two-models", """
class D1(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=1))

    def forward(self, x):
        return self.net(x)


class D2(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(8, 4)

    def forward(self, x):
        return self.net(x)


if small:
    disc = D1()
else:
    disc = D2()
loss = F.cross_entropy(disc(x), y)
""")
case("branch-wrapper-keeps-model", """
model = nn.Sequential(nn.Linear(8, 3), nn.LogSoftmax(dim=1))
if qat:
    model = torch.quantization.prepare_qat(model)
elif compile_model:
    model = torch.compile(model)
loss = nn.CrossEntropyLoss()(model(x), y)  # LG103
""")

# ---------------------------------------------------------------- where code lives
case("defined-under-main-guard", """
if __name__ == "__main__":
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)

    def train(model):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)  # LG102
            loss.backward()

    train(Net())
""")
case("defined-in-cross-validation-loop", """
for fold in range(5):
    model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
    criterion = nn.BCEWithLogitsLoss()

    def run_fold():
        for x, y in loader:
            loss = criterion(model(x), y)  # LG101
            loss.backward()

    run_fold()
""")
case("closure-over-a-model", """
def make_step(model, criterion):
    def step(x, y):
        loss = criterion(model(x), y)  # LG102
        loss.backward()
        return loss
    return step


step = make_step(nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1)), nn.CrossEntropyLoss())
with open("log.txt") as log:
    for x, y in loader:
        step(x, y)
""")

# ---------------------------------------------------------------- evaluation paths
case("validation-loop-after-eval", """
model = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1))
criterion = nn.CrossEntropyLoss()


def evaluate(loader):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for x, y in loader:
            total += criterion(model(x), y).item()  # LG102
    return total
""")
case("validation-metrics-only-twin", """
model = nn.Linear(8, 3)
criterion = nn.CrossEntropyLoss()


def evaluate(loader):
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            val_loss = criterion(out, y)
            probs = F.softmax(out, dim=1)
            accuracy = (probs.argmax(1) == y).float().mean()
""")
case("lg305-unbatched-literal-sample-is-fine", """
scores = torch.tensor([0.2, 1.5, -0.3])
target = torch.tensor([0.0, 1.0, 0.0])
print(F.cross_entropy(scores, target))
""")
case("loss-chosen-by-a-factory-with-an-argparse-default", """
import argparse


def get_criterion(name):
    if name == "ce":
        return nn.CrossEntropyLoss()
    return nn.NLLLoss()


parser = argparse.ArgumentParser()
parser.add_argument("--criterion", type=str, default="ce")
opts = parser.parse_args()
model = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1))
criterion = get_criterion(opts.criterion)
loss = criterion(model(x), y)  # LG102
""")
case("argparse-default-decides-inside-a-function-taking-objects", """
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--act", default="softmax")
args = parser.parse_args()


def build(trainer_state, name):
    if name == "softmax":
        trainer_state["model"] = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
    return trainer_state


state = build({}, args.act)
loss = F.cross_entropy(state["model"](x), y)  # LG102
""")

# ---------------------------------------------------------------- found on the labelled real-code set
case("sequential-sigmoid-keeps-the-head-shape", """
D = nn.Sequential(nn.Linear(256, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1), nn.Sigmoid())
criterion = nn.BCELoss()
for images, _ in loader:
    real_labels = torch.ones(images.size(0))
    d_loss = criterion(D(images), real_labels)  # LG302
    g_loss = criterion(D(images).squeeze(1), real_labels)
""")
case("sequential-dropout-after-the-head", """
model = nn.Sequential(nn.Linear(16, 4), nn.Softmax(dim=1), nn.Dropout(0.1))
loss = F.cross_entropy(model(x), y)  # LG102
""")
case("relativistic-difference-of-raw-scores-into-bce", """
disc = nn.Sequential(nn.Linear(64, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
criterion = nn.BCELoss()
real_out, fake_out = disc(real), disc(fake)
d_loss = criterion(real_out - torch.mean(fake_out), ones)  # LG106
ok = nn.BCEWithLogitsLoss()(real_out - torch.mean(fake_out), ones)
""")
case("temperature-scaled-probabilities-stay-unknown", """
teacher = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1))
loss = nn.BCELoss()(0.5 * teacher(x) + 0.5 * prior, soft)
""")
case("decoder-outputs-concatenated", """
class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(32, 100)

    def forward(self, h, steps):
        decoded = []
        for _ in range(steps):
            decoded.append(F.log_softmax(self.out(h), dim=1))
        return torch.cat(decoded)


decoder = Decoder()
loss = nn.CrossEntropyLoss()(decoder(h, 5), targets)  # LG103
""")
case("resized-softmax-output", """
class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return F.softmax(self.fc(x))


scorer = Scorer()
criterion = nn.CrossEntropyLoss()
out = scorer(x).resize(1, 4)
loss = criterion(out, y)  # LG102
""")
case("loss-as-a-constructor-default", """
class PairLoss(nn.Module):
    def __init__(self, loss=nn.CrossEntropyLoss(reduction="sum")):
        super().__init__()
        self.loss = loss

    def forward(self, scores, target):
        probs = torch.softmax(scores, dim=-1)
        total = 0
        for row in probs:
            total = total + self.loss(row, target)  # LG102
        return total


criterion = PairLoss()
loss = criterion(scores, y)
""")
case("loop-over-the-rows-of-logits", """
logits = nn.Linear(8, 3)(x)
for row in logits:
    loss = F.cross_entropy(row, y)
""")
case("gan-labels-sized-by-the-batch", """
class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.dis = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid())

    def forward(self, x):
        return self.dis(x)


D = Discriminator().to(device)
criterion = nn.BCELoss()
for img, _ in loader:
    num_img = img.size(0)
    real_label = torch.ones(num_img).to(device)
    fake_label = torch.zeros(len(img))
    d_loss = criterion(D(img), real_label) + criterion(D(fake), fake_label)  # LG302 LG302
    g_loss = criterion(D(fake).squeeze(1), real_label)
    shape_known = criterion(D(img), torch.ones(img.shape[0], 1))
""")
case("gan-labels-from-a-comprehension-and-a-sized-constructor", """
disc = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())
real_label = torch.tensor([1 for _ in range(x.shape[0])]).float()
fake_label = torch.FloatTensor(x.size(0)).fill_(0)
d_real = nn.BCELoss()(disc(x), real_label)  # LG302
d_fake = nn.BCELoss()(disc(x), fake_label)  # LG302
""")
case("loss-picked-by-the-models-class-count", """
class Seg(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.n_classes = n_classes
        self.head = nn.Conv2d(8, n_classes, 1)

    def forward(self, x):
        return torch.sigmoid(self.head(x))


def train_net(net, loader):
    if net.n_classes > 1:
        criterion = nn.CrossEntropyLoss()
    else:
        criterion = nn.BCEWithLogitsLoss()
    for imgs, masks in loader:
        loss = criterion(net(imgs), masks)  # LG101
        loss.backward()


train_net(net=Seg(n_classes=1), loader=loader)
""")

# ---------------------------------------------------------------- data pipelines
case("dataset-one-hot-targets-through-a-loader", """
from torch.utils.data import DataLoader, Dataset


class Digits(Dataset):
    def __init__(self, images, labels):
        self.images = images
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return self.images[idx], F.one_hot(self.labels[idx], num_classes=10).float()


model = nn.Linear(64, 10)
loader = DataLoader(Digits(x, y), batch_size=32, shuffle=True)
for step, (images, targets) in enumerate(loader):
    loss = nn.CrossEntropyLoss()(model(images), targets)  # LG201
    loss.backward()
""")
case("dataset-class-index-targets-through-a-loader-twin", """
from torch.utils.data import DataLoader, Dataset


class Digits(Dataset):
    def __init__(self, images, labels):
        self.images = images
        self.labels = labels

    def __getitem__(self, idx):
        return self.images[idx], self.labels[idx]


model = nn.Linear(64, 10)
for images, targets in DataLoader(Digits(x, y), batch_size=32):
    loss = nn.CrossEntropyLoss()(model(images), targets)
    loss.backward()
""")
case("tensor-dataset-scalar-targets-against-a-column-output", """
from torch.utils.data import DataLoader, TensorDataset, random_split

features = torch.randn(500, 8)
prices = torch.randn(500)
train_set, val_set = random_split(TensorDataset(features, prices), [400, 100])
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
criterion = nn.MSELoss()
for xb, yb in DataLoader(train_set, batch_size=16):
    loss = criterion(model(xb), yb)  # LG301
    loss.backward()
for xb, yb in DataLoader(val_set, batch_size=16):
    fine = criterion(model(xb).squeeze(1), yb)
""")
case("dataset-float-label-into-bce-head", """
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm


class Reviews(Dataset):
    def __init__(self, texts, labels):
        self.texts = texts
        self.labels = labels

    def __getitem__(self, i):
        return {"x": self.texts[i], "y": float(self.labels[i])}


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))


model = Classifier()
for batch in tqdm(DataLoader(Reviews(texts, labels), batch_size=64)):
    loss = F.binary_cross_entropy(model(batch["x"]), batch["y"])  # LG302
    loss.backward()
""")
case("dataset-with-its-own-collate-and-python-comparisons", """
from torch.utils.data import DataLoader, Dataset


class Faces(Dataset):
    def __getitem__(self, ix):
        row = self.df.iloc[ix]
        return row.image, row.age, row.gender == "Female"

    def collate_fn(self, batch):
        images, ages, genders = zip(*batch)
        return torch.stack(images), torch.tensor(ages).float(), torch.tensor(genders).float()


head = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())
data = Faces()
for ims, age, gender in DataLoader(data, batch_size=32, collate_fn=data.collate_fn):
    loss = nn.BCELoss()(head(ims).squeeze(), gender)
for ims, age, gender in DataLoader(data, batch_size=32):
    loss = nn.BCELoss()(head(ims).squeeze(), gender)
""")
case("variable-wrapped-gan-labels", """
from torch.autograd import Variable

D = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())
labels = Variable(torch.ones(x.size(0)))
loss = nn.BCELoss()(D(Variable(x)), labels)  # LG302
""")
case("domain-labels-concatenated", """
adversary = nn.Sequential(nn.Linear(256, 1), nn.Sigmoid())
source = torch.ones(labels.size(0)).float()
target = torch.zeros(inputs.size(0) - labels.size(0)).float()
domain = torch.cat((source, target), dim=0)
loss = nn.BCELoss()(adversary(features), domain)  # LG302
fine = nn.BCELoss()(adversary(features).squeeze(1), domain)
""")
case("inference-call-with-a-size-skips-the-training-branch", """
class SegmentationModule(nn.Module):
    def __init__(self, decoder, crit):
        super().__init__()
        self.decoder = decoder
        self.crit = crit

    def forward(self, batch, seg_size=None):
        if seg_size is None:
            pred = self.decoder(batch["img"])
            return self.crit(pred, batch["label"])
        return self.decoder(batch["img"])


module = SegmentationModule(nn.Sequential(nn.Conv2d(8, 150, 1), nn.Softmax(dim=1)), nn.NLLLoss())
module.eval()
with torch.no_grad():
    scores = module({"img": img}, seg_size=img.shape[1:])
""")
case("one-hot-written-into-zeros-in-a-loader", """
from torch.utils.data import DataLoader, Dataset


def load(files):
    images, labels = [], []
    for path, category in files:
        label = [0] * 8
        label[CLASSES.index(category)] = 1
        labels.append(torch.tensor(label, dtype=torch.float))
        images.append(read(path))
    return images, labels


class Weather(Dataset):
    def __init__(self):
        self.images, self.labels = load(FILES)

    def __getitem__(self, idx):
        return self.images[idx], self.labels[idx]


model = nn.Linear(32, 8)
for x, y in DataLoader(Weather(), batch_size=16):
    loss = nn.CrossEntropyLoss()(model(x), y)  # LG201
""")
case("one-hot-by-scatter", """
target = torch.zeros(y.size(0), 10).scatter_(1, y.unsqueeze(1), 1)
loss = F.cross_entropy(logits, target)  # LG201
multi = torch.zeros(10)
for c in positives:
    multi[c] = 1
other = F.cross_entropy(logits, multi)
smoothed = torch.zeros(y.size(0), 10).scatter_(1, y.unsqueeze(1), 0.9)
soft = F.cross_entropy(logits, smoothed)
""")
case("lightning-fit-runs-the-steps-on-the-loaders-batches", """
import pytorch_lightning as pl
from torch.utils.data import DataLoader, TensorDataset


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 4))
        self.loss = nn.CrossEntropyLoss()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.loss(self.net(x), y)  # LG202

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", self.loss(self.net(x), y))  # LG202


features = torch.randn(100, 16)
labels = torch.from_numpy(raw_labels).float()
loader = DataLoader(TensorDataset(features, labels), batch_size=10)
trainer = pl.Trainer(max_epochs=3)
trainer.fit(Classifier(), train_dataloaders=loader, val_dataloaders=loader)
""")
case("pseudo-labels-from-argmax-cast-to-float", """
pseudo = torch.argmax(teacher(x), dim=1).float()
loss = nn.CrossEntropyLoss()(student(x), pseudo)  # LG202
fine = nn.CrossEntropyLoss()(student(x), teacher(x).argmax(1))
""")
case("head-width-from-a-named-constant", """
NUM_OUTPUTS = 1
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, NUM_OUTPUTS))
targets = torch.randn(x.size(0))
loss = nn.MSELoss()(model(x), targets)  # LG301
""")
case("dtypes-that-are-not-spelled-out-are-unknown", """
def targets(scores, dt):
    t = torch.zeros((4, 10), dtype=dt)
    return nn.CrossEntropyLoss()(scores.view(-1, 3), t.view(-1))


pred = torch.randn(100, requires_grad=True)
label = torch.randint(0, 2, (100,))
fine = nn.BCEWithLogitsLoss()(pred, label.to(pred.dtype))
also = nn.BCEWithLogitsLoss()(pred, label.to(device).float())
mixed = torch.zeros(4, dtype=torch.long if wide else torch.int64)
ok = nn.CrossEntropyLoss()(torch.randn(4, 3), mixed)
wrong = nn.BCEWithLogitsLoss()(pred, label.to(device))  # LG203
""")
case("mask-dtype-chosen-by-the-class-count", """
masks = batch["mask"].float()
mask_type = torch.float32 if net.n_classes == 1 else torch.long
masks = masks.to(device=device, dtype=mask_type)
loss = nn.CrossEntropyLoss()(net(images), masks)
""")
case("relativistic-difference-of-probabilities-into-bce", """
disc = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())
hr_out, sr_out = disc(hr), disc(sr)
d_loss = nn.BCELoss()(hr_out - torch.mean(sr_out), real)  # LG106
g_loss = nn.BCELoss()(sr_out - hr_out.mean(), real)  # LG106
fine = nn.BCELoss()(torch.sigmoid(hr_logits - sr_logits.mean()), real)
""")
case("class-indices-written-through-a-mask-are-not-one-hot", """
labels = torch.zeros(len(df), dtype=torch.long)
labels[df.species == "versicolor"] = 1
labels[df.species == "virginica"] = 2
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
loss = nn.CrossEntropyLoss()(model(features), labels)
""")
case("branch-on-the-output-width", """
def fit(model, x, y):
    pred = model(x)
    if len(pred.shape) == 2 and pred.shape[1] > 1:
        loss = nn.CrossEntropyLoss()(pred, y)  # LG102
    else:
        loss = nn.MSELoss()(pred.squeeze(1), y.float())
    return loss


fit(nn.Sequential(nn.Linear(10, 1), nn.Sigmoid()), x, y)
fit(nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1)), x, y)
""")
# ---------------------------------------------------------------- a recursive method keeps the layers of `self`
case("recursive-tree-walk-keeps-the-head", """
class TreeNet(nn.Module):
    def __init__(self, vocab, width, classes):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.out = nn.Linear(width, classes)

    def encode(self, node):
        states = {}
        if node.leaf:
            states[node] = self.embed(node.token)
        else:
            states.update(self.encode(node.left))
            states.update(self.encode(node.right))
            states[node] = torch.tanh(states[node.left] + states[node.right])
        return states

    def forward(self, trees):
        rows = []
        for tree in trees:
            rows.extend(self.encode(tree.root).values())
        return F.log_softmax(self.out(torch.cat(rows)), dim=1)


model = TreeNet(1000, 32, 5)
criterion = nn.CrossEntropyLoss()
for batch, labels in batches:
    loss = criterion(model(batch), labels)  # LG103
    loss.backward()
""")
case("recursive-method-that-swaps-a-layer-is-not-followed", """
class TreeNet(nn.Module):
    def __init__(self, vocab, width, classes):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.out = nn.Sequential(nn.Linear(width, classes), nn.LogSoftmax(dim=1))

    def encode(self, node):
        if node.leaf:
            self.out = nn.Linear(32, 5)
            return self.embed(node.token)
        return torch.tanh(self.encode(node.left) + self.encode(node.right))

    def forward(self, trees):
        rows = []
        for tree in trees:
            rows.append(self.encode(tree.root))
        return self.out(torch.cat(rows))


model = TreeNet(1000, 32, 5)
criterion = nn.CrossEntropyLoss()
for batch, labels in batches:
    loss = criterion(model(batch), labels)
    loss.backward()
""")
# ---------------------------------------------------------------- a guard that keeps empty batches from the loss
case("empty-batch-guard-decides-the-branch", """
def skip_empty(loss_func):
    def wrapped(input, target, *, reduction="mean"):
        if target.numel() == 0 and reduction == "mean":
            return input.sum() * 0.0
        return loss_func(input, target, reduction=reduction)
    return wrapped


cross_entropy = skip_empty(F.cross_entropy)


def losses(logits, proposals):
    classes = torch.cat([p.classes for p in proposals]) if len(proposals) else torch.empty(0)
    return cross_entropy(logits, classes)


empty = losses(torch.randn(0, 100, requires_grad=True), [])
empty.backward()
""")
case("empty-batch-guard-passes-a-real-float-target", """
def skip_empty(loss_func):
    def wrapped(input, target, *, reduction="mean"):
        if target.numel() == 0 and reduction == "mean":
            return input.sum() * 0.0
        return loss_func(input, target, reduction=reduction)  # LG202
    return wrapped


cross_entropy = skip_empty(F.cross_entropy)
labels = torch.empty(8).random_(0, 10)
loss = cross_entropy(torch.randn(8, 10, requires_grad=True), labels)
loss.backward()
""")


# ---------------------------------------------------------------- a mode attribute picks the loss (issue 8, LG2xx)
case("mode-attribute-picks-a-lambda-loss", """
class DenseHead(nn.Module):
    def __init__(self, kind, width, n_labels=4):
        super().__init__()
        self.kind = kind
        if kind == "labels":
            self.proj = nn.Conv2d(width, n_labels, 1)
            self.criterion = lambda scores, wanted: F.cross_entropy(scores, wanted, reduction="none")
        else:
            self.proj = nn.Conv2d(width, 1, 1)
            self.criterion = lambda scores, wanted: (scores - wanted).abs()

    def forward(self, feats, wanted=None):
        scores = self.proj(feats)
        if self.kind == "labels" and wanted is not None:
            return self.criterion(scores, torch.stack(list(wanted)).float()).mean()  # LG202
        if self.kind == "depth" and wanted is not None:
            return self.criterion(scores[:, 0], torch.stack(list(wanted)).float()).mean()
        return scores
""")
case("mode-attribute-picks-a-lambda-loss-twin", """
class DenseHead(nn.Module):
    def __init__(self, kind, width, n_labels=4):
        super().__init__()
        self.kind = kind
        if kind == "labels":
            self.proj = nn.Conv2d(width, n_labels, 1)
            self.criterion = lambda scores, wanted: F.cross_entropy(scores, wanted, reduction="none")
        else:
            self.proj = nn.Conv2d(width, 1, 1)
            self.criterion = lambda scores, wanted: (scores - wanted).abs()

    def forward(self, feats, wanted=None):
        scores = self.proj(feats)
        if self.kind == "labels" and wanted is not None:
            return self.criterion(scores, torch.stack(list(wanted)).long()).mean()
        if self.kind == "depth" and wanted is not None:
            return self.criterion(scores[:, 0], torch.stack(list(wanted)).float()).mean()
        return scores
""")
case("mode-attribute-changed-after-init-decides-nothing", """
class DenseHead(nn.Module):
    def __init__(self, kind, width):
        super().__init__()
        self.kind = kind
        if kind == "labels":
            self.criterion = lambda scores, wanted: F.cross_entropy(scores, wanted)
        else:
            self.criterion = lambda scores, wanted: (scores - wanted).abs()

    def switch(self, kind):
        self.kind = kind

    def forward(self, scores, wanted):
        if self.kind == "labels":
            return self.criterion(scores, wanted.float())
        return scores
""")
case("lambda-loss-reported-where-it-is-called", """
score_loss = lambda scores, wanted: F.cross_entropy(scores, wanted)
model = nn.Sequential(nn.Linear(8, 3))
for x, y in loader:
    loss = score_loss(model(x), y.float())  # LG202
    loss.backward()
""")
case("lambda-loss-with-its-parameters-swapped-is-reported-inside", """
score_loss = lambda wanted, scores: F.cross_entropy(scores, wanted)  # LG202
model = nn.Sequential(nn.Linear(8, 3))
for x, y in loader:
    loss = score_loss(y.float(), model(x))
    loss.backward()
""")
case("lambda-loss-reported-where-it-is-called-twin", """
score_loss = lambda scores, wanted: F.cross_entropy(scores, wanted)
model = nn.Sequential(nn.Linear(8, 3))
for x, y in loader:
    loss = score_loss(model(x), y.long())
    loss.backward()
""")


# ---------------------------------------------------------------- a loss parameter's default, chosen by a None test
case("loss-default-chosen-by-a-none-test", """
class AgreementLoss(nn.Module):
    def __init__(self, critic_loss, weight=2.0):
        super().__init__()
        if critic_loss is None:
            self.critic_loss = nn.CrossEntropyLoss()
        else:
            self.critic_loss = critic_loss
        self.weight = weight

    def forward(self, student_scores, critic_scores):
        guessed = student_scores.argmax(dim=1).float()
        return self.weight * self.critic_loss(critic_scores, guessed)  # LG202
""")
case("loss-default-chosen-by-a-none-test-twin", """
class AgreementLoss(nn.Module):
    def __init__(self, critic_loss, weight=2.0):
        super().__init__()
        if critic_loss is None:
            self.critic_loss = nn.CrossEntropyLoss()
        else:
            self.critic_loss = critic_loss
        self.weight = weight

    def forward(self, student_scores, critic_scores):
        guessed = student_scores.argmax(dim=1)
        return self.weight * self.critic_loss(critic_scores, guessed)
""")
case("loss-default-in-a-conditional-expression", """
def fit_epoch(net, batches, criterion=None):
    criterion = nn.NLLLoss() if criterion is None else criterion
    for x, y in batches:
        loss = criterion(F.log_softmax(net(x), dim=1), y.float())  # LG202
        loss.backward()
""")
case("loss-default-in-an-or", """
def fit_epoch(net, batches, criterion=None):
    criterion = criterion or nn.NLLLoss()
    for x, y in batches:
        loss = criterion(F.log_softmax(net(x), dim=1), y.float())  # LG202
        loss.backward()
""")
case("loss-default-in-an-or-twin", """
def fit_epoch(net, batches, criterion=None):
    criterion = criterion or nn.MSELoss()
    for x, y in batches:
        loss = criterion(net(x), y.float())
        loss.backward()
""")
case("none-test-that-does-more-than-pass-the-argument-decides-nothing", """
def fit_epoch(net, batches, criterion=None):
    if criterion is None:
        criterion = nn.CrossEntropyLoss()
    else:
        criterion = make_wrapped(criterion)
    for x, y in batches:
        loss = criterion(net(x), y.float())
        loss.backward()
""")
case("none-test-with-a-tensor-default-decides-nothing", """
def step(net, x, labels=None):
    if labels is None:
        labels = torch.zeros(x.size(0))
    return F.cross_entropy(net(x), labels)
""")
case("loss-default-with-the-argument-given-is-the-argument", """
def fit_epoch(net, batches, criterion=None):
    criterion = nn.CrossEntropyLoss() if criterion is None else criterion
    for x, y in batches:
        loss = criterion(net(x), y.float())
        loss.backward()


fit_epoch(nn.Sequential(nn.Linear(4, 1)), loader, nn.BCEWithLogitsLoss())
""")
case("loss-default-passed-on-by-a-factory", """
class AgreementLoss(nn.Module):
    def __init__(self, critic_loss):
        super().__init__()
        self.critic_loss = nn.CrossEntropyLoss() if critic_loss is None else critic_loss

    def forward(self, student_scores, critic_scores):
        return self.critic_loss(critic_scores, student_scores.argmax(dim=1).float())  # LG202


def make_agreement(critic_loss=None):
    return AgreementLoss(critic_loss=critic_loss)
""")
case("loss-default-every-construction-overrides", """
class AgreementLoss(nn.Module):
    def __init__(self, critic_loss):
        super().__init__()
        self.critic_loss = nn.CrossEntropyLoss() if critic_loss is None else critic_loss

    def forward(self, student_scores, critic_scores):
        return self.critic_loss(critic_scores, student_scores.argmax(dim=1).float())


agreement = AgreementLoss(nn.MSELoss())
""")
case("float-cast-of-class-indices-shaped-like-the-input-is-probabilities", """
net = nn.Sequential(nn.Linear(8, 5))
votes = torch.randint(0, 5, (64, 5)).float()
loss = F.cross_entropy(net(x), votes)
wrong = F.cross_entropy(net(x), torch.randint(0, 5, (64,)).float())  # LG202
""")
case("loss-default-overridden-by-a-factory-default", """
class AgreementLoss(nn.Module):
    def __init__(self, critic_loss):
        super().__init__()
        self.critic_loss = nn.CrossEntropyLoss() if critic_loss is None else critic_loss

    def forward(self, student_scores, critic_scores):
        return self.critic_loss(critic_scores, student_scores.argmax(dim=1).float())


def make_agreement(critic_loss=None):
    critic_loss = critic_loss or nn.MSELoss()
    return AgreementLoss(critic_loss=critic_loss)
""")
case("float-cast-of-a-mask-column-is-not-probabilities", """
net = nn.Sequential(nn.Linear(8, 5))
mask = torch.randint(0, 5, (64, 1)).float()
loss = F.cross_entropy(net(x), mask)  # LG202
""")
case("loss-default-in-the-signature", """
class MatchingLoss(nn.Module):
    def __init__(self, loss=nn.CrossEntropyLoss(reduction="sum")):
        super().__init__()
        self.loss = loss

    def forward(self, affinity):
        total = 0
        for scores in torch.softmax(affinity, -1):
            total += self.loss(scores, torch.arange(scores.shape[0]))  # LG102
        return total
""")
case("loss-default-in-the-signature-twin", """
class MatchingLoss(nn.Module):
    def __init__(self, loss=nn.CrossEntropyLoss(reduction="sum")):
        super().__init__()
        self.loss = loss

    def forward(self, affinity):
        total = 0
        for scores in affinity:
            total += self.loss(scores, torch.arange(scores.shape[0]))
        return total
""")
case("loss-default-in-the-signature-always-replaced", """
class MatchingLoss(nn.Module):
    def __init__(self, loss=nn.CrossEntropyLoss(reduction="sum")):
        super().__init__()
        self.loss = loss

    def forward(self, affinity):
        total = 0
        for scores in torch.softmax(affinity, -1):
            total += self.loss(scores, torch.arange(scores.shape[0]))
        return total


def ranking_loss(scores, order):
    return (scores.gather(1, order[:, None]) - scores.max(1).values).abs().sum()


matching = MatchingLoss(loss=ranking_loss)
""")
case("loss-default-filled-by-a-factory-with-the-same-loss", """
import copy


class AgreementLoss(nn.Module):
    def __init__(self, critic_loss):
        super().__init__()
        if critic_loss is None:
            self.critic_loss = nn.CrossEntropyLoss()
        else:
            self.critic_loss = critic_loss

    def forward(self, student_scores, critic_scores):
        return self.critic_loss(critic_scores, student_scores.argmax(dim=1).float())  # LG202


def make_agreement(width=None, task_loss=None, critic_loss=None):
    if width is None:
        raise ValueError("width is required")
    if task_loss is None:
        task_loss = nn.CrossEntropyLoss()
    if critic_loss is None:
        critic_loss = copy.deepcopy(task_loss)
    return AgreementLoss(critic_loss=critic_loss), task_loss
""")
case("copied-model-keeps-its-activation", """
import copy

student = nn.Sequential(nn.Linear(16, 4), nn.Softmax(dim=1))
teacher = copy.deepcopy(student)
loss = nn.CrossEntropyLoss()(teacher(x), y)  # LG102
""")


# ---------------------------------------------------------------- constants assigned to an unknown options object
# `run_gan(opts)` is read on its own: `opts` is unknown, but the constant it is given picks the critic's last layer;
# its width is unknown, so the output is (n, ?): still never the shape of the 1-D labels, which BCELoss rejects.
_OPTIONS_RUNNER = """
def last_layer(name):
    if name == "sigmoid":
        return nn.Sigmoid()
    return None


class Critic(nn.Module):
    def __init__(self, width, act):
        super().__init__()
        self.fc = nn.Linear(128, width)
        self.act = act

    def forward(self, x):
        h = self.fc(x)
        return h if self.act is None else self.act(h)


class Runner:
    def __init__(self, opts):
        self.critic = Critic(opts.width, last_layer(opts.final))

    def fit(self, batches):
        bce = nn.BCELoss()
        for x in batches:
            n = x.size(0)
            ones = torch.FloatTensor(n).fill_(1.0)
            loss = bce(self.critic(x){squeeze}, ones){marker}
            loss.backward()


def reset(opts):
    opts.final = input()


def run_gan(opts):
    opts.final = "sigmoid"
{reset}    Runner(opts).fit(loader)
"""
case("options-object-given-a-constant-picks-the-last-layer",
     _OPTIONS_RUNNER.format(squeeze="", marker="  # LG302", reset=""))
case("options-object-given-a-constant-output-squeezed",
     _OPTIONS_RUNNER.format(squeeze=".squeeze(1)", marker="", reset=""))
case("options-object-attribute-changed-by-a-helper",
     _OPTIONS_RUNNER.format(squeeze="", marker="", reset="    reset(opts)\n"))


# ---------------------------------------------------------------- an option changed on one branch after parse_args
_CHANGED_OPTION = """
import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--loss", default="bce")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
if os.environ.get("SEED"):
    args.{changed} = {value}
model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
criterion = nn.BCEWithLogitsLoss() if args.loss == "bce" else nn.MSELoss()
loss = criterion(model(x), y){marker}
"""
case("option-changed-on-one-branch-others-keep-their-defaults",
     _CHANGED_OPTION.format(changed="seed", value="int(os.environ['SEED'])", marker="  # LG101"))
case("option-deciding-the-loss-changed-on-one-branch",
     _CHANGED_OPTION.format(changed="loss", value='"mse"', marker=""))


# ---------------------------------------------------------------- a target column of a CSV file, split by scikit-learn
_TABLE_TARGET = """
import pandas as pd
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset


class Rows(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


frame = pd.read_csv("houses.csv").dropna().reset_index(drop=True)
features = torch.FloatTensor(frame.drop(columns=["price"]).values)
prices = torch.FloatTensor(frame[{column}].values)
x_train, x_test, y_train, y_test = train_test_split(features, prices, test_size=0.2)
model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 1))
for xb, yb in DataLoader(Rows(x_train, y_train), batch_size=64):
    loss = nn.MSELoss()(model(xb), yb){marker}
    loss.backward()
"""
case("table-column-target-split-into-a-dataset", _TABLE_TARGET.format(column='"price"', marker="  # LG301"))
case("table-column-list-target-keeps-two-dims", _TABLE_TARGET.format(column='["price"]', marker=""))
case("table-row-subset-by-unknown-method", _TABLE_TARGET.format(column='"price"', marker="").replace(
    '.dropna()', '.pivot(index="id")'))
case("options-object-handed-to-a-library-call",
     _OPTIONS_RUNNER.format(squeeze="", marker="", reset="    opts.merge_from_file(path)\n"))


# ---------------------------------------------------------------- one-hot masks stacked per class; Lightning's setup(stage)
_CLASS_MASKS = """
import numpy as np
from torch.utils.data import DataLoader, Dataset


class Tiles(Dataset):
    def __init__(self, maps, n_classes=6):
        self.maps = maps
        self.n_classes = n_classes

    def __len__(self):
        return len(self.maps)

    def target(self, label_map):
        return {target}

    def __getitem__(self, i):
        image, label_map = self.maps[i]
        return torch.as_tensor(image, dtype=torch.float32), torch.as_tensor(self.target(label_map){dtype})


segmenter = nn.Conv2d(3, 6, kernel_size=1)
criterion = nn.CrossEntropyLoss()
for image, mask in DataLoader(Tiles(maps), batch_size=8):
    loss = criterion(segmenter(image), mask){marker}
    loss.backward()
"""
case("class-masks-stacked-per-class-into-cross-entropy", _CLASS_MASKS.format(
    target="np.stack([label_map == k for k in range(self.n_classes)], axis=0)", dtype=", dtype=torch.float32",
    marker="  # LG201"))
case("class-masks-stacked-with-torch-and-cast-per-mask", _CLASS_MASKS.format(
    target="torch.stack([(torch.from_numpy(label_map) == k).float() for k in (0, 1, 2, 3, 4, 5)])", dtype="",
    marker="  # LG201"))
case("class-masks-label-map-kept-as-indices", _CLASS_MASKS.format(
    target="label_map", dtype=", dtype=torch.long", marker=""))
case("class-masks-stacked-then-argmax-before-the-loss", _CLASS_MASKS.format(
    target="np.stack([label_map == k for k in range(self.n_classes)]).argmax(0)", dtype=", dtype=torch.long",
    marker=""))
case("class-masks-from-a-collection-that-may-repeat", _CLASS_MASKS.format(
    target="np.stack([label_map == k for k in self.palette], axis=0)", dtype=", dtype=torch.long", marker=""))

_DATAMODULE_SETUP = """
import pytorch_lightning as pl
from torch.utils.data import DataLoader, Dataset


class Patches(Dataset):
    def __init__(self, items, n_classes):
        self.items = items
        self.n_classes = n_classes

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        pixels, label = self.items[i]
        return torch.as_tensor(pixels, dtype=torch.float32), {label}


class PatchData(pl.LightningDataModule):
    def __init__(self, items, n_classes=4):
        super().__init__()
        self.items = items
        self.n_classes = n_classes
        self.fit_set = None

    def setup(self, stage=None):
        if stage == "fit":
            self.fit_set = Patches(self.items, self.n_classes)

    def train_dataloader(self):
        return DataLoader(self.fit_set, batch_size=16, shuffle=True)


class PatchClassifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(64, 4)

    def setup(self, stage=None):
        self.objective = {loss}

    def training_step(self, batch, batch_idx):
        pixels, label = batch
        return self.objective(self.head(pixels), label){marker}


pl.Trainer(max_epochs=3).fit(PatchClassifier(), datamodule=PatchData(items))
"""
case("datamodule-setup-builds-a-dataset-of-one-hot-rows", _DATAMODULE_SETUP.format(
    label="F.one_hot(torch.tensor(label), 4).float()", loss="nn.CrossEntropyLoss()", marker="  # LG201"))
case("datamodule-setup-builds-a-dataset-of-class-indices", _DATAMODULE_SETUP.format(
    label="torch.tensor(label)", loss="nn.CrossEntropyLoss()", marker=""))
case("lightning-module-setup-assigns-a-loss-for-sigmoid-outputs", _DATAMODULE_SETUP.format(
    label="torch.tensor(label, dtype=torch.float32)", loss="nn.BCEWithLogitsLoss()", marker="  # LG101").replace(
    "self.head = nn.Linear(64, 4)", "self.head = nn.Sequential(nn.Linear(64, 4), nn.Sigmoid())"))
case("lightning-module-setup-assigns-a-loss-for-logits", _DATAMODULE_SETUP.format(
    label="torch.tensor(label, dtype=torch.float32)", loss="nn.BCEWithLogitsLoss()", marker=""))

_AUGMENTED_MASKS = """
import numpy as np


def encode(label_map, classes, augment=None):
    masks = np.stack([label_map == k for k in range(classes)], axis=0)
    if augment is not None:
        masks = augment(masks)
    return torch.as_tensor({masks}, dtype={dtype})


def epoch(net, pairs, augment):
    criterion = nn.CrossEntropyLoss()
    for image, label_map in pairs:
        loss = criterion(net(image), encode(label_map, 5, augment)){marker}
        loss.backward()


net = nn.Conv2d(3, 5, kernel_size=3, padding=1)
epoch(net, train_pairs, random_flips)
epoch(net, val_pairs, None)
"""
case("class-masks-through-an-unread-augmentation-on-one-path", _AUGMENTED_MASKS.format(
    masks="masks", dtype="torch.float32", marker="  # LG201"))
case("class-masks-through-an-unread-augmentation-back-to-indices", _AUGMENTED_MASKS.format(
    masks="masks.argmax(0)", dtype="torch.long", marker=""))


# ---------------------------------------------------------------- (lg2-fl) a dtype held in a model attribute, a guarded conversion
# The precision a run trains in is kept on the model (`net.run_dtype = torch.float16`) by the function that builds
# it; each batch is moved only when it is not already there (`if yb.dtype != net.run_dtype: yb = yb.to(...)`).
_MODEL_DTYPE = """
import torchvision


def build(precision):
    net = torchvision.models.resnet18(num_classes=5)
    if precision == "half":
        net = net.half()
        net.run_dtype = torch.float16
    else:
        net = net.double()
        net.run_dtype = {second}
    return net


def batch_loss(net, loss_fn, xb, yb):
    if {test}:
        yb = yb.to(device="cpu", dtype=net.run_dtype)
    return loss_fn(net(xb), yb){marker}


net = build(settings["precision"])
{between}loss_fn = nn.CrossEntropyLoss()
for xb, yb in loader:
    batch_loss(net, loss_fn, xb, yb).backward()
"""
_GUARD = 'str(yb.device) != "cpu" or yb.dtype != net.run_dtype'
case("model-dtype-attribute-float-branches-guarded-label-cast",
     _MODEL_DTYPE.format(second="torch.float64", test=_GUARD, between="", marker="  # LG202"))
case("model-dtype-attribute-one-branch-keeps-integer-labels",
     _MODEL_DTYPE.format(second="torch.long", test=_GUARD, between="", marker=""))
case("model-dtype-attribute-cast-guarded-only-by-the-device",
     _MODEL_DTYPE.format(second="torch.float64", test='str(yb.device) != "cpu"', between="", marker=""))
case("model-dtype-attribute-kept-through-module-reads-and-wrappers",
     _MODEL_DTYPE.format(second="torch.float64", test=_GUARD, marker="  # LG202", between=(
         "net = nn.DataParallel(net.cuda())\n"
         "net.train()\n"
         "print(type(net).__name__, sum(p.numel() for p in net.parameters()))\n")))
case("model-dtype-attribute-forgotten-after-an-unknown-method",
     _MODEL_DTYPE.format(second="torch.float64", test=_GUARD, marker="", between="net.load_weights(path)\n"))


# ---------------------------------------------------------------- (lg2-fl) a command-line namespace of many options
# Large research scripts declare more options than an abstract value keeps (values.MAX_ITEMS); the script then adds
# attributes of its own (`args.device = ...`), some only on one path.
def _many_options(first: str, late: str, added: str) -> str:
    filler = "".join(f'parser.add_argument("--opt-{i}", type=int, default={i})\n' for i in range(70))
    return (
        "import argparse\nimport os\n\nparser = argparse.ArgumentParser()\n"
        f'parser.add_argument("--{first}", default="bce")\n{filler}'
        f'parser.add_argument("--{late}", default="bce")\n'
        "args = parser.parse_args()\n"
        f"{added}"
        "model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())\n"
        "criterion = nn.BCEWithLogitsLoss() if args.loss == \"bce\" else nn.MSELoss()\n"
    )


case("namespace-past-the-bound-keeps-its-late-options",
     _many_options("head", "loss", 'args.device = "cpu"\nif os.environ.get("RUN_URL"):\n'
                   '    args.run_url = os.environ["RUN_URL"]\n')
     + "loss = criterion(model(x), y)  # LG101\n", header=HEADER)
case("namespace-past-the-bound-forgets-its-oldest-option",
     _many_options("loss", "head", 'args.device = "cpu"\n') + "loss = criterion(model(x), y)\n", header=HEADER)


# ---------------------------------------------------------------- (lg2-fl) a helper called in a loop with many argument sets
# A loop body is read twice (silently, then reporting); each distinct argument set of a helper is one share of its
# work budget (budget.READS_PER_FUNCTION), whichever pass reads it.
def _steps_in_a_loop(sets: int, marker: str) -> str:
    calls = "".join(f"    train_step(nn.Linear(4, {k}), x, y)\n" for k in range(1, sets))
    return (
        "def train_step(model, x, y):\n"
        f"    loss = nn.BCEWithLogitsLoss()(model(x), y){marker}\n"
        "    loss.backward()\n\n\n"
        f"for x, y in loader:\n{calls}"
        "    train_step(nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()), x, y)\n"
    )


case("helper-in-a-loop-read-silently-then-reporting-with-five-argument-sets", _steps_in_a_loop(5, "  # LG101"))
case("helper-in-a-loop-past-its-share-of-argument-sets", _steps_in_a_loop(9, ""))
case("tensor-given-requires-grad-stays-a-float-target", """
for x, y in loader:
    target = y.float()
    target.requires_grad = False
    loss = nn.CrossEntropyLoss()(model(x), target)  # LG202
""")


# ---------------------------------------------------------------- LG403: a probability clamped from below is the fix
case("log-of-probabilities-clamped-from-below", """
class MultiLabelFocal(nn.Module):
    def __init__(self, eps=1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, logits, y):
        p = torch.sigmoid(logits)
        positive = y * torch.log(p.clamp(min=self.eps))
        negative = (1 - y) * torch.log(torch.clamp(1 - p, self.eps))
        both = p.clamp(1e-7, 1 - 1e-7).log()
        return -(positive + negative + both).mean()


loss = MultiLabelFocal()(model(x), y)
loss.backward()
""")
case("log-of-probabilities-clamped-only-from-above", """
p = torch.sigmoid(model(x))
loss = -(y * torch.log(p.clamp(max=1.0))).mean()  # LG403
loss.backward()
""")
