"""The pitfall happens only in workers started by torch.multiprocessing.spawn (for `lossguard run --strict`)."""

import torch
import torch.multiprocessing as mp
import torch.nn.functional as F


def train(index: int) -> None:
    logits = torch.randn(16, 3, requires_grad=True)
    F.nll_loss(logits.softmax(dim=1), torch.randint(0, 3, (16,))).backward()  # LG104


if __name__ == "__main__":
    mp.spawn(train, nprocs=1)
