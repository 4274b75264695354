"""Patch the `torch.nn.functional` loss functions with checking wrappers, and restore them exactly.

Every `nn` loss module's `forward` looks its functional form up on `torch.nn.functional` at call time, so wrapping
the functions covers the module form and the functional form with one patch each.

A wrapper chains onto whatever was installed before it (another tool's wrapper included) and calls it with the
original arguments, untouched. It carries `__script_if_tracing_wrapper` / `__original_fn`, the attributes PyTorch
itself uses for `torch.jit._script_if_tracing`: `torch.jit.script` then compiles the function underneath, and
TorchDynamo traces that function instead of the wrapper. Scripted and compiled code is therefore not checked, and
the wrapper adds no graph break and no guard to a compiled graph.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

import torch.nn.functional as F

from lossguard.contracts import CONTRACTS, LossContract

# Called as check(contract, args, kwargs) before the wrapped loss runs. It must not modify its arguments.
Checker = Callable[[LossContract, tuple, dict], None]

_installed: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {}  # name -> (previous, our wrapper)


def wrapped_contracts() -> tuple[LossContract, ...]:
    """The contracts whose functional form exists in this torch version (all of them since torch 1.10)."""
    return tuple(c for c in CONTRACTS if callable(getattr(F, c.functional, None)))


def _make_wrapper(contract: LossContract, previous: Callable[..., Any], check: Checker) -> Callable[..., Any]:
    from lossguard.runtime.report import SIZE_WARNING_LOSSES, call_with_warnings_at_caller, may_warn

    warns = contract.functional in SIZE_WARNING_LOSSES

    @functools.wraps(previous)
    def loss_with_guard(*args: Any, **kwargs: Any) -> Any:
        check(contract, args, kwargs)
        if warns and may_warn(contract.functional, contract.target_position, args, kwargs):  # at the user's line
            return call_with_warnings_at_caller(previous, args, kwargs, sys._getframe(1))
        return previous(*args, **kwargs)

    setattr(loss_with_guard, "__script_if_tracing_wrapper", True)
    setattr(loss_with_guard, "__original_fn", previous)
    setattr(loss_with_guard, "__lossguard_contract__", contract)
    return loss_with_guard


def patch(check: Checker) -> None:
    """Install a wrapper around each loss function; calling it again while installed does nothing."""
    if _installed:
        return
    for contract in wrapped_contracts():
        previous = getattr(F, contract.functional)
        wrapper = _make_wrapper(contract, previous, check)
        _installed[contract.functional] = (previous, wrapper)
        setattr(F, contract.functional, wrapper)


def unpatch() -> None:
    """Put back what was there before `patch`, for each function where our wrapper is still the one installed.

    Where someone wrapped our wrapper in turn, removing ours would drop theirs too, so that function keeps its
    chain (ours then sees no active guard and only forwards the call).
    """
    for name, (previous, wrapper) in list(_installed.items()):
        if getattr(F, name, None) is wrapper:
            setattr(F, name, previous)
        del _installed[name]


def is_patched() -> bool:
    return bool(_installed)
