"""The pitfall happens only in a forked worker process (for `lossguard run --strict`)."""

import multiprocessing

import torch
import torch.nn.functional as F


def train() -> None:
    logits = torch.randn(16, 3, requires_grad=True)
    F.cross_entropy(logits.softmax(dim=1), torch.randint(0, 3, (16,))).backward()  # LG102


if __name__ == "__main__":
    worker = multiprocessing.get_context("fork").Process(target=train)
    worker.start()
    worker.join()
    print("worker exit", worker.exitcode)
