"""Unsafe: the Sigmoid leaves the model; the accuracy, which reads the model's output as probabilities, keeps it."""
import torch
import torch.nn as nn

X, y = torch.randn(512, 8), torch.rand(512, 1).round()
model = nn.Sequential(
    nn.Linear(8, 16),
    nn.ReLU(),
    nn.Linear(16, 1),
    nn.Sigmoid(),  # probabilities out
)
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(100):
    optimizer.zero_grad()
    y_pred = model(X)
    loss = loss_fn(y_pred, y)
    loss.backward()
    optimizer.step()

model.eval()
with torch.no_grad():
    accuracy = ((model(X) > 0.5).float() == y).float().mean()
