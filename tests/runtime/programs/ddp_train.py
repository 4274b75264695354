"""Two-process DDP (gloo, CPU) training with the same pitfall on every rank (for torchrun + lossguard run)."""

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

dist.init_process_group("gloo")
model = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(8, 1), nn.Sigmoid()))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(3):
    optimizer.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(torch.randn(16, 8)), torch.rand(16, 1).round())  # LG101
    loss.backward()
    optimizer.step()
dist.barrier()
dist.destroy_process_group()
