"""LG102 and LG103 written inline in CrossEntropyLoss's input; LG104 and LG108 get log_softmax instead."""
import torch
import torch.nn as nn
import torch.nn.functional as F

logits = torch.randn(8, 5, requires_grad=True)
classes = torch.randint(0, 5, (8,))
teacher = F.softmax(torch.randn(8, 5), dim=1)

loss = nn.CrossEntropyLoss()(F.softmax(logits, dim=1), classes)
loss = F.cross_entropy(input=logits.log_softmax(dim=-1), target=classes)
loss = F.nll_loss(torch.softmax(logits, dim=1), classes)
loss = F.nll_loss(logits.softmax(1), classes, reduction="sum")
loss = F.kl_div(F.softmax(logits, dim=1), teacher, reduction="batchmean")
