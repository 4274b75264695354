"""`lossguard demo`: train the reference models and their broken twins side by side, print what each costs.

The table shows, per variant, the final loss and accuracy (R^2 for regression), the loss floor the variant can
reach at best, and the codes that the runtime guard (during training) and the static checker (on the variant's
source) report. Twins that PyTorch rejects are listed after it with PyTorch's error next to lossguard's message.
`--plot` draws the learning curves (needs matplotlib: the `plot` extra).
"""

from __future__ import annotations

import math
import os
import time
from typing import Sequence

import click
import torch

from lossguard.reference.data import TASKS
from lossguard.reference.outcomes import Outcome, run_task

# The demo's models are tiny (full batches of 512 rows): one thread is fastest, and several threads on a busy
# machine wait on each other (measured on a shared 2-core VM: ~34 s with one thread, 140-210 s with the default).
DEMO_THREADS = 1

COLUMNS = ("task", "variant", "final loss", "acc / R^2", "loss floor", "runtime", "static")


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0 or math.isclose(value, 0.0, abs_tol=5e-5):
        return "0"
    return f"{value:.4f}"


def _codes(codes: Sequence[str]) -> str:
    return ",".join(codes) if codes else "-"


def table_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, ...]]:
    """One row of `COLUMNS` per outcome."""
    rows = []
    for outcome in outcomes:
        history = outcome.history
        rows.append((
            outcome.task,
            outcome.variant if outcome.expected_code is None else f"{outcome.variant} ({outcome.expected_code})",
            _number(history.final_loss) if history else "raises",
            _number(history.final_metric) if history else "-",
            _number(outcome.floor),
            _codes(outcome.runtime_codes),
            _codes(outcome.static_codes),
        ))
    return rows


def format_table(outcomes: Sequence[Outcome], markdown: bool = False) -> str:
    """The demo's table, aligned for a terminal (or as a Markdown table)."""
    rows = [COLUMNS, *table_rows(outcomes)]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in rows]
        lines.insert(1, "|" + "|".join("---" for _ in COLUMNS) + "|")
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def format_messages(outcomes: Sequence[Outcome]) -> str:
    """PyTorch's error (or warning) and lossguard's message, side by side, for each twin that has one."""
    blocks = []
    for outcome in outcomes:
        torch_said = outcome.torch_error or (f"warning: {outcome.torch_warning}" if outcome.torch_warning else None)
        if outcome.expected_code is None or torch_said is None:
            continue
        lossguard_said = outcome.lossguard_message or _runtime_summary(outcome)
        blocks.append(
            f"{outcome.task} / {outcome.variant} ({outcome.expected_code})\n"
            f"  PyTorch:   {_one_line(torch_said)}\n"
            f"  lossguard: {_one_line(lossguard_said)}"
        )
    return "\n\n".join(blocks)


def _runtime_summary(outcome: Outcome) -> str:
    """The runtime guard's own finding for the twin's pitfall, as its policy `warn` would print it."""
    for finding in outcome.runtime_findings:
        if finding.code == outcome.expected_code:
            return f"{finding.code} {finding.message}. Fix: {finding.hint}"
    return "(nothing reported)"


def _one_line(text: str) -> str:
    """`text` on one line, with absolute paths under the current folder made relative (shorter, and stable)."""
    return " ".join(text.split()).replace(os.getcwd() + os.sep, "")


def _check_plot_path(path: str) -> None:
    """Before minutes of training: matplotlib is there, it can write this format, and the file can be written."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise click.UsageError("--plot needs matplotlib: install it with `pip install 'lossguard[plot]'`") from None
    suffix = os.path.splitext(path)[1][1:].lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix and suffix not in formats:
        raise click.BadParameter(f"matplotlib cannot write .{suffix} files (it writes {', '.join(sorted(formats))})",
                                 param_hint="'--plot'")
    existed = os.path.exists(path)
    try:
        with open(path, "ab"):
            pass
    except OSError as error:
        raise click.BadParameter(f"cannot write {path}: {error.strerror or error}", param_hint="'--plot'") from None
    if not existed:
        os.remove(path)


@click.command("demo")
@click.option("--task", type=click.Choice([*TASKS, "all"]), default="all", show_default=True,
              help="Which task's reference model and twins to train.")
@click.option("--epochs", type=click.IntRange(min=1), default=200, show_default=True,
              help="Full-batch training steps per variant.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the learning curves to this PNG (needs matplotlib).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the data and the initial weights.")
def demo_command(task: str, epochs: int, plot_path: str | None, seed: int) -> None:
    """Train the reference models and their broken twins side by side, and show what each pitfall costs."""
    if plot_path is not None:
        _check_plot_path(plot_path)
    started = time.perf_counter()
    tasks = TASKS if task == "all" else (task,)
    threads = torch.get_num_threads()
    torch.set_num_threads(DEMO_THREADS)
    try:
        outcomes = [outcome for name in tasks for outcome in run_task(name, epochs, seed)]
    finally:
        torch.set_num_threads(threads)
    click.echo(format_table(outcomes))
    messages = format_messages(outcomes)
    if messages:
        click.echo("\nWhat PyTorch says, and what lossguard says:\n\n" + messages)
    if plot_path is not None:
        from lossguard.reference.plot import plot_learning_curves

        plot_learning_curves(outcomes, plot_path)
        click.echo(f"\nlearning curves written to {plot_path}")
    click.echo(f"\n{len(outcomes)} variants, {epochs} epochs each, seed {seed}: "
               f"{time.perf_counter() - started:.1f} s")
