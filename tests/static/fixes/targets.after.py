"""LG202: class indices become long at the loss call; LG201: an inline one-hot gives way to its indices."""
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(20, 5))
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
labels = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2], dtype=torch.float32)
criterion = nn.CrossEntropyLoss()

loss = F.cross_entropy(model(x), y.long())
loss = criterion(model(x), labels.long())
loss = criterion(model(x), y)
