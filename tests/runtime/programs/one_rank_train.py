"""Two-process DDP (gloo, CPU) where each rank has a pitfall of its own: rank 1 feeds softmax output to
cross_entropy, rank 0 an (n, 1) output against an (n,) target (for torchrun + lossguard run)."""

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

dist.init_process_group("gloo")
rank = dist.get_rank()
model = nn.parallel.DistributedDataParallel(nn.Linear(8, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(3):
    optimizer.zero_grad()
    out = model(torch.randn(16, 8))
    labels = torch.randint(0, 3, (16,))
    if rank == 1:
        loss = F.cross_entropy(out.softmax(dim=1), labels)  # LG102 on rank 1 only
    else:
        loss = F.cross_entropy(out, labels) + F.mse_loss(out[:, :1], labels.float())  # LG301 on rank 0 only
    loss.backward()
    optimizer.step()
dist.barrier()
dist.destroy_process_group()
