"""LG106: a BCELoss whose every use gets logits becomes BCEWithLogitsLoss, keeping its keyword arguments."""
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1))
weights = torch.ones(1)
criterion = nn.BCEWithLogitsLoss(weight=weights, reduction="sum")
x, y = torch.randn(8, 10), torch.rand(8, 1).round()
loss = criterion(model(x), y)
validation_loss = criterion(model(x[:4]), y[:4])
loss = F.binary_cross_entropy_with_logits(model(x), y)
loss = nn.BCEWithLogitsLoss()(model(x), y)
