"""One process of a hand-made distributed job (RANK set by the caller), with a pitfall."""

import torch
import torch.nn.functional as F

logits = torch.randn(16, 3, requires_grad=True)
F.cross_entropy(logits.softmax(dim=1), torch.randint(0, 3, (16,))).backward()  # LG102
