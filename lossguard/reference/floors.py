"""Loss floors: the lowest value a loss can take on a data set when a pitfall restricts what it is given.

Each floor is the infimum over *every* output the broken model could produce, not over what one training run
reached: it is what the pitfall makes unreachable. The correct combinations all have floor 0 (a cross-entropy on
logits goes to 0 as the logits grow; MSE on matching shapes is 0 at a perfect fit). The tests check each formula
against a direct numerical minimisation of the real loss.
"""

from __future__ import annotations

import math

from lossguard.reference.data import Dataset


def softplus(value: float) -> float:
    return math.log1p(math.exp(value))


def zero(data: Dataset) -> float:
    """A loss whose infimum is 0: the correct combinations, and float one-hot targets (read as probabilities)."""
    return 0.0


def double_sigmoid(data: Dataset) -> float:
    """BCEWithLogitsLoss given p = sigmoid(z) in (0, 1) instead of z.

    The loss of a positive is softplus(-p) >= softplus(-1) ~= 0.313; of a negative, softplus(p) >= softplus(0) =
    log 2 ~= 0.693 (the best a negative can get is p -> 0, read as the logit 0, i.e. probability 1/2).
    """
    positives = float(data.labels.float().mean())
    return positives * softplus(-1.0) + (1.0 - positives) * softplus(0.0)


def softmax_into_cross_entropy(data: Dataset) -> float:
    """CrossEntropyLoss given softmax rows p instead of logits: log(1 + (C - 1)/e) ~= 0.55 for C = 3.

    CE(p, y) = logsumexp(p) - p_y decreases whenever mass moves from another class to y, so its minimum over the
    simplex is at p = onehot(y): -1 + log(e + C - 1).
    """
    return math.log1p((data.n_classes - 1) / math.e)


def softmax_into_nll(data: Dataset) -> float:
    """NLLLoss given probabilities instead of log-probabilities computes -mean(p_y), which tends to -1."""
    return -1.0


def broadcast_mse(data: Dataset) -> float:
    """MSE of (n, 1) outputs against (n,) targets averages (y_hat_i - y_j)^2 over all n x n pairs.

    For each i the best y_hat_i is mean(y), so the floor is the variance of the targets: the loss of predicting
    the mean for everyone (R^2 = 0 at best).
    """
    return float(data.labels.double().var(unbiased=False))
