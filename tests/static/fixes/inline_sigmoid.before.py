"""LG101 written inline: the functional and the module form, a tensor method, and a call over several lines."""
import torch
import torch.nn as nn
import torch.nn.functional as F

logits = torch.randn(8, 1, requires_grad=True)
labels = torch.rand(8, 1).round()
criterion = nn.BCEWithLogitsLoss()

loss = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), labels)
loss = criterion(logits.sigmoid(), labels)
loss = criterion(
    torch.sigmoid(logits),  # the model already ends in a sigmoid? no: this one
    labels,
)
probabilities = torch.sigmoid(logits)  # predictions keep their sigmoid
