"""LG102 and LG103 written inline in CrossEntropyLoss's input; LG104 and LG108 get log_softmax instead."""
import torch
import torch.nn as nn
import torch.nn.functional as F

logits = torch.randn(8, 5, requires_grad=True)
classes = torch.randint(0, 5, (8,))
teacher = F.softmax(torch.randn(8, 5), dim=1)

loss = nn.CrossEntropyLoss()(logits, classes)
loss = F.cross_entropy(input=logits, target=classes)
loss = F.nll_loss(torch.log_softmax(logits, dim=1), classes)
loss = F.nll_loss(logits.log_softmax(1), classes, reduction="sum")
loss = F.kl_div(F.log_softmax(logits, dim=1), teacher, reduction="batchmean")
