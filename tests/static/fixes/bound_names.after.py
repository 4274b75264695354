"""A pitfall bound to a name that only the loss reads: the binding is fixed, nothing else reads it."""
import torch
import torch.nn as nn
import torch.nn.functional as F

logits = torch.randn(8, 5, requires_grad=True)
classes = torch.randint(0, 5, (8,))
teacher = torch.randn(8, 5)


def step(logits, classes):
    probabilities = logits  # read by the loss only
    return F.cross_entropy(probabilities, classes)


def nll_step(logits, classes):
    probabilities = logits.log_softmax(dim=1)
    return F.nll_loss(probabilities, classes)


def one_hot_step(logits, classes):
    targets = classes
    return nn.CrossEntropyLoss()(logits, targets)


def distil(student_logits):
    student = F.log_softmax(student_logits / 2.0, dim=1)
    return F.kl_div(student, F.softmax(teacher / 2.0, dim=1), reduction="batchmean")
