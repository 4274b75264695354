"""Train a task's reference model and its twins on the same data, and record what each does and what lossguard says.

For every variant this runs both observers for real: the training runs under the runtime guard (policy `log`,
so the run goes on exactly as without it), and the static checker reads the variant's source (`models.py` for
the references, the twin's function in `twins.py` for a twin). A twin that PyTorch rejects is run twice more,
once bare to keep PyTorch's own error, and once under policy `raise` to keep lossguard's message, so the two
can be shown side by side.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from lossguard.findings import Finding
from lossguard.reference import floors, models, twins
from lossguard.reference.data import Dataset, make_data
from lossguard.reference.training import History, fit_reference, seeded

REFERENCE = "reference"


@dataclass
class Outcome:
    """One variant's run. `history` is None when PyTorch raised (`torch_error` says what)."""

    task: str
    variant: str
    expected_code: str | None
    history: History | None
    floor: float | None
    runtime_codes: list[str] = field(default_factory=list)
    runtime_findings: list[Finding] = field(default_factory=list)
    static_codes: list[str] = field(default_factory=list)
    torch_error: str | None = None
    torch_warning: str | None = None
    lossguard_message: str | None = None


def run_task(task: str, epochs: int, seed: int = 0) -> list[Outcome]:
    """The reference model then each twin of `task`, all on the same seeded data and initial weights."""
    data = make_data(task, seed=seed)
    outcomes = [_run_reference(data, epochs, seed)]
    outcomes += [_run_twin(twin, data, epochs, seed) for twin in twins.twins_for(task)]
    return outcomes


def _run_reference(data: Dataset, epochs: int, seed: int) -> Outcome:
    outcome = Outcome(data.task, REFERENCE, None, None, floors.zero(data), static_codes=static_codes_of_models())
    with _guarded(outcome):
        _, outcome.history = fit_reference(data, epochs, seed)
    return outcome


def _run_twin(twin: twins.Twin, data: Dataset, epochs: int, seed: int) -> Outcome:
    outcome = Outcome(
        data.task, twin.name, twin.code, None, twin.floor(data) if twin.floor else None,
        static_codes=static_codes_of_twins().get(twin.name, []),
    )
    with _guarded(outcome):
        with seeded(seed):
            outcome.history = twin.train(data, epochs)
    if outcome.torch_error is not None:
        outcome.lossguard_message = _lossguard_refusal(twin, data, seed)
    return outcome


@contextlib.contextmanager
def _guarded(outcome: Outcome) -> Iterator[None]:
    """Run the block under the runtime guard (policy `log`), recording its codes, PyTorch's error and warning."""
    guard = _runtime_guard("log")
    recorder = None
    with contextlib.ExitStack() as stack:
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.simplefilter("always")
        if guard is not None:
            stack.enter_context(_quiet_lossguard_logger())
            recorder = stack.enter_context(guard)
        try:
            yield
        except Exception as error:  # the twins PyTorch rejects
            outcome.torch_error = f"{type(error).__name__}: {error}"
    if recorder is None:
        outcome.runtime_codes = ["n/a"]
    else:
        outcome.runtime_findings = list(recorder.findings)
        outcome.runtime_codes = sorted({finding.code for finding in recorder.findings})
    torch_warnings = [str(w.message) for w in caught if not _is_lossguard_warning(w.category)]
    outcome.torch_warning = torch_warnings[0] if torch_warnings else None


@contextlib.contextmanager
def _quiet_lossguard_logger() -> Iterator[None]:
    """Policy `log` logs each finding; the demo prints its own table, so keep those records off stderr."""
    logger = logging.getLogger("lossguard")
    handler, propagate = logging.NullHandler(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _lossguard_refusal(twin: twins.Twin, data: Dataset, seed: int) -> str | None:
    """lossguard's message for a twin under policy `raise` (it stops the loss before PyTorch's error)."""
    guard = _runtime_guard("raise")
    if guard is None:
        return None
    import lossguard

    try:
        with guard, seeded(seed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            twin.train(data, 1)
    except lossguard.LossGuardError as error:
        return str(error)
    except Exception:  # PyTorch's own error: the guard let the call through
        return None
    return None


def _runtime_guard(policy: str):  # -> the guard's context manager, or None without the runtime guard
    try:
        import lossguard

        return lossguard.guard(policy=policy)
    except (ImportError, AttributeError):
        return None


def _is_lossguard_warning(category: type) -> bool:
    return any(klass.__module__.startswith("lossguard") for klass in category.__mro__)


def _static_findings(path: Path):  # -> list[Finding], or None without the static checker
    try:
        import lossguard

        check_source = lossguard.check_source
    except (ImportError, AttributeError):
        return None
    return check_source(path.read_text(encoding="utf-8"), path=str(path))


@lru_cache(maxsize=None)
def _static_codes_of_models() -> tuple[str, ...]:
    findings = _static_findings(Path(models.__file__))
    return tuple(sorted({f.code for f in findings})) if findings is not None else ("n/a",)


def static_codes_of_models() -> list[str]:
    """The codes the static checker reports on `models.py` (the reference models): none, if they are right."""
    return list(_static_codes_of_models())


@lru_cache(maxsize=None)
def _static_codes_of_twins() -> tuple[tuple[str, tuple[str, ...]], ...]:
    findings = _static_findings(Path(twins.__file__))
    ranges = twins.twin_line_ranges()
    if findings is None:
        return tuple((name, ("n/a",)) for name in ranges)
    return tuple(
        (name, tuple(sorted({f.code for f in findings if f.line in lines}))) for name, lines in ranges.items()
    )


def static_codes_of_twins() -> dict[str, list[str]]:
    """Each twin's static codes: the static checker runs once on `twins.py`; findings go to the enclosing twin."""
    return {name: list(codes) for name, codes in _static_codes_of_twins()}
