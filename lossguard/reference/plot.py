"""The demo's picture: learning curves of each reference model against its twins (needs matplotlib).

One row per task: the training loss on the left, with each twin's loss floor as a dashed line of its colour, and
accuracy (R^2 for regression) on the right. Twins PyTorch rejects have no curve; the legend says they raise.
"""

from __future__ import annotations

from typing import Sequence

from lossguard.reference.outcomes import REFERENCE, Outcome

_TWIN_COLOURS = ("tab:red", "tab:orange", "tab:purple", "tab:green", "tab:brown")


def plot_learning_curves(outcomes: Sequence[Outcome], path: str) -> None:
    """Write the learning curves of `outcomes` (as returned by `run_task`) to the PNG file `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(outcome.task for outcome in outcomes))
    figure, axes = plt.subplots(len(tasks), 2, figsize=(10, 2.9 * len(tasks)), squeeze=False)
    for row, task in enumerate(tasks):
        loss_axis, metric_axis = axes[row]
        twins = [o for o in outcomes if o.task == task and o.variant != REFERENCE]
        colours = dict(zip((o.variant for o in twins), _TWIN_COLOURS))
        for outcome in (o for o in outcomes if o.task == task):
            colour = colours.get(outcome.variant, "black")
            label = outcome.variant if outcome.expected_code is None else f"{outcome.variant} ({outcome.expected_code})"
            if outcome.history is None:
                loss_axis.plot([], [], color=colour, linestyle=":", label=f"{label}: raises")
                continue
            epochs = range(1, len(outcome.history.loss) + 1)
            width = 2.2 if outcome.variant == REFERENCE else 1.5
            loss_axis.plot(epochs, outcome.history.loss, color=colour, linewidth=width, label=label)
            metric_axis.plot(epochs, outcome.history.metric, color=colour, linewidth=width, label=label)
            if outcome.variant != REFERENCE and outcome.floor:
                loss_axis.axhline(outcome.floor, color=colour, linestyle="--", linewidth=0.9)
        loss_axis.set_title(f"{task}: training loss (dashed: the twin's floor)", fontsize=10)
        metric_name = "R^2" if task == "regression" else "accuracy"
        metric_axis.set_title(f"{task}: {metric_name}", fontsize=10)
        # A fixed scale (down to chance for classifiers) so that curves near 1 are not blown up into noise.
        metric_axis.set_ylim(-0.1 if task == "regression" else 0.3, 1.03)
        for axis in (loss_axis, metric_axis):
            axis.set_xlabel("epoch", fontsize=8)
            axis.tick_params(labelsize=8)
            axis.grid(alpha=0.3)
        loss_axis.legend(fontsize=7, loc="upper right")
    figure.suptitle("lossguard demo: reference models (black) vs their broken twins", fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
