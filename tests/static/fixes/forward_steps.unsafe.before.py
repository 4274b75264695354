"""Unsafe, forward written step by step: `h = self.out(h)` then `return h`; the model built with arguments."""
import torch
import torch.nn as nn


class FlowerNet(nn.Module):
    def __init__(self, n_features, n_classes, hidden=16):
        super().__init__()
        self.hidden = nn.Linear(n_features, hidden)
        self.head = nn.Linear(hidden, n_classes)
        self.out = nn.LogSoftmax(dim=1)

    def forward(self, h):
        h = torch.relu(self.hidden(h))
        h = self.head(h)
        h = self.out(h)  # log-probabilities
        return h


class SpamNet(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        scores = self.linear(x)
        probabilities = torch.sigmoid(scores)
        return probabilities


flowers = FlowerNet(n_features=4, n_classes=3)
spam = SpamNet(10)
features, species = torch.randn(30, 4), torch.randint(0, 3, (30,))
loss = nn.CrossEntropyLoss()(flowers(features), species)
emails, labels = torch.randn(30, 10), torch.rand(30, 1).round()
loss = loss + nn.BCEWithLogitsLoss()(spam(emails), labels)
with torch.no_grad():
    predicted_species = torch.max(flowers(features), dim=1).indices
    flagged = spam(emails) > 0.5
