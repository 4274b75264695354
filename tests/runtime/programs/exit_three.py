"""A training script with a pitfall that exits with status 3 (for `lossguard run`)."""

import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

print("argv", sys.argv[1:], __name__)
model = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1))
for _ in range(3):
    loss = F.cross_entropy(model(torch.randn(16, 8)), torch.randint(0, 3, (16,)))  # LG102
    loss.backward()
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
