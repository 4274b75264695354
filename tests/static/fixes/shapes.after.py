"""LG301, LG302, LG303: the target gets the input's shape, as the hints say, when both shapes are proven."""
import torch
import torch.nn as nn
import torch.nn.functional as F

regressor = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 1))
x, prices = torch.randn(32, 13), torch.randn(32, 1)
loss = F.mse_loss(regressor(x), prices.view(-1).unsqueeze(1))

scorer = nn.Sequential(nn.Linear(10, 1))
features, spam = torch.randn(32, 10), torch.randint(0, 2, (32,)).float()
loss = nn.BCEWithLogitsLoss()(scorer(features), spam.unsqueeze(1))

classifier = nn.Sequential(nn.Linear(20, 5))
inputs, classes = torch.randn(8, 20), torch.randint(0, 5, (8,))
loss = F.cross_entropy(classifier(inputs), classes)
