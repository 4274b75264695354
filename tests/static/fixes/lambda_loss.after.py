import torch.nn as nn
import torch.nn.functional as F

score_loss = lambda scores, wanted: F.cross_entropy(scores, wanted)
model = nn.Sequential(nn.Linear(8, 3))
for x, y in loader:
    loss = score_loss(model(x), y.long())
    loss.backward()
