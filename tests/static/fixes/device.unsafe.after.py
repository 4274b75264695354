"""Unsafe, as real scripts write it: the model moves to a device, the loss reads a name bound to its output."""
import torch
import torch.nn as nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 5)).to(device)
model = model.to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())
x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
model.train()
outputs = model(x.to(device))
loss = criterion(outputs, y)
loss.backward()
optimizer.step()
scores = nn.LogSoftmax(dim=1)(model(x)).exp()
