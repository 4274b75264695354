"""Unsafe: the softmax at the end of `forward` goes; the one other call of the model gets it back."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 5)

    def forward(self, x):
        hidden = self.fc(x)
        return hidden  # class probabilities


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 3)
        self.act = nn.LogSoftmax(dim=1)

    def forward(self, x):
        return self.fc(x)


model = Classifier()
tagger = Tagger()
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
loss = nn.CrossEntropyLoss()(model(x), y)
loss = loss + nn.CrossEntropyLoss()(tagger(x), y % 3)
predicted = F.softmax(model(x), dim=1).argmax(dim=1)
