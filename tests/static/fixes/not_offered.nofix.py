"""No fix is offered where the source cannot prove one right: each case here stays as it is."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.functional import softmax


def evaluate(model):
    return model


logits = torch.randn(8, 5, requires_grad=True)
classes = torch.randint(0, 5, (8,))
probabilities = F.softmax(logits, dim=1)
loss = F.cross_entropy(probabilities, classes)  # the softmax is bound to a name that other code reads too
confidence = probabilities.max(dim=1).values
loss = F.nll_loss(softmax(logits, dim=1), classes)  # log_softmax would need a new import

net = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())
loss = nn.BCEWithLogitsLoss()(net(torch.randn(8, 10)), torch.rand(8, 1).round())
evaluate(net)  # the model's output goes where this file cannot follow it

criterion = nn.BCELoss()
head = nn.Linear(10, 1)
loss = criterion(head(torch.randn(8, 10)), torch.rand(8, 1).round())
print(criterion)  # a use of the loss that is not a reported call

regressor = nn.Linear(13, 1)
loss = F.mse_loss(regressor(torch.randn(32, 13)), torch.randn(32, 13).sum(dim=1, keepdim=False).view(32, -1, 1))
