"""Workers started by torch.multiprocessing.spawn, each with a pitfall (for `lossguard run`)."""

import torch
import torch.multiprocessing as mp
import torch.nn as nn


def worker(index):
    model = nn.Sequential(nn.Linear(8, 3), nn.LogSoftmax(dim=1))
    loss = nn.CrossEntropyLoss()(model(torch.randn(16, 8)), torch.randint(0, 3, (16,)))  # LG103
    loss.backward()


if __name__ == "__main__":
    mp.spawn(worker, nprocs=2)
