"""A module run with `lossguard run -m pkg.train`."""

import sys

import torch
import torch.nn.functional as F

print("argv", sys.argv[1:], __name__)
F.mse_loss(torch.randn(8, 1, requires_grad=True), torch.randn(8))  # LG301
