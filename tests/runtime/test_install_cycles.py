"""Installing and removing the guard any number of times, nested, in any order, leaves torch exactly as it was: every
wrapped function is the original object again, and a loss called in between is checked while a guard is active."""

from __future__ import annotations

import inspect
import random
import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard
from lossguard.runtime import api, wrap

CYCLES = 1_000


def _originals() -> dict[str, object]:
    """Each wrapped function's identity and code (the guard swaps the code of PyTorch's own function object), and
    everything else a function carries, each by identity; the `forward` of each loss module as well."""
    found: dict[str, object] = {}
    for contract in wrap.wrapped_contracts():
        function = getattr(F, contract.functional)
        found[contract.functional] = (function, function.__code__, function.__defaults__, function.__kwdefaults__,
                                      function.__globals__, function.__dict__, function.__closure__,
                                      function.__annotations__, function.__doc__, function.__name__,
                                      function.__qualname__, function.__module__)
        found[contract.module] = (getattr(nn, contract.module).forward,)
    return found


def _changed(originals: dict[str, object]) -> list[str]:
    return [name for name, now in _originals().items()
            if any(a is not b for a, b in zip(now, originals[name]))]  # type: ignore[call-overload]


def test_install_uninstall_and_guard_nested_and_repeated_restore_every_function() -> None:
    originals = _originals()
    filters, signature = len(warnings.filters), inspect.signature(F.cross_entropy)
    rng = random.Random(12)
    logits, target = torch.randn(4, 3), torch.tensor([0, 2, 1, 0])
    expected = F.cross_entropy(logits, target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cycle in range(CYCLES):
            handles = [lossguard.install(policy=rng.choice(["warn", "log"])) for _ in range(rng.randint(1, 3))]
            with lossguard.guard("log") as inner:
                assert F.cross_entropy is originals["cross_entropy"][0]  # the same object: pickling, dispatch
                assert F.cross_entropy.__code__ is not originals["cross_entropy"][1]  # with the checking code
                if cycle % 25 == 0:  # a loss through the chain of wrappers: the same value
                    assert torch.equal(F.cross_entropy(logits, target), expected)
                if rng.random() < 0.5:
                    with lossguard.guard("log"):
                        handles.append(lossguard.install("log"))
            assert not inner.active
            rng.shuffle(handles)  # removed in any order, some twice, or all at once
            for handle in handles[: rng.randint(0, len(handles))]:
                handle.uninstall()
                if rng.random() < 0.2:
                    handle.uninstall()
            if rng.random() < 0.5 or cycle == CYCLES - 1:
                lossguard.uninstall()
            else:
                for handle in handles:
                    handle.uninstall()
            assert _changed(originals) == [], f"cycle {cycle}: not restored: {_changed(originals)}"
            assert not wrap.is_patched() and api._handles == [] and api._monitor is None
    assert len(warnings.filters) == filters and inspect.signature(F.cross_entropy) == signature


@pytest.mark.parametrize("nesting", [1, 5])
def test_a_guard_left_by_an_exception_is_still_removed(nesting: int) -> None:
    originals = _originals()
    for _ in range(200):
        with pytest.raises(RuntimeError):
            for _ in range(nesting):
                lossguard.install("log")
            with lossguard.guard("log"):
                raise RuntimeError("training failed")
        lossguard.uninstall()
        assert _changed(originals) == [] and not wrap.is_patched()


def test_installing_again_does_not_show_the_programs_warnings_again() -> None:
    # Each installation compiled the forwarders under warnings.catch_warnings, which resets every once-per-location
    # registry of the process: a warning shown once was shown again after every install.
    lossguard.install().uninstall()  # the first installation may compile

    def program_warns() -> None:
        warnings.warn("the program's own warning", UserWarning)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(3):
            program_warns()
            with lossguard.guard():
                program_warns()
    assert len(caught) == 1
