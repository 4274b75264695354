"""LG402: a loss class given the tensors is constructed first, then called with them; its options stay put."""
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 3))
x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
loss = nn.CrossEntropyLoss()(model(x), y)
loss = nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.1)(model(x), y)
