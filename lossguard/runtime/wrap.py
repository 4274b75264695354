"""Put the check in front of the `torch.nn.functional` loss functions, without replacing them.

The functions stay the very objects PyTorch defined: only their `__code__` is swapped for a small forwarder with
the same parameters, which calls the check and then a copy of the function made from the original code (same
globals, defaults and name). `uninstall` puts the original code back. Everything that holds or looks up the
function by identity or by name therefore sees PyTorch's function, by construction:

- `__torch_function__` dispatch: the copy runs PyTorch's own body, whose `handle_torch_function(cross_entropy, ...)`
  looks up the module global, which is still the original function;
- pickling (`torch.save` of a module holding `loss_fn=F.cross_entropy`): pickle finds the function by its module
  and name and gets the same object, before, during and after installation;
- `torch.fx.symbolic_trace` and TorchDynamo record the original function as a node's target;
- `from torch.nn.functional import cross_entropy`, done before or after installing, is checked as well.

The forwarder's code says it lives in `torch/nn/functional.py` on the `def` line of the original, so frames,
`inspect.getsource` and `inspect.signature` read like PyTorch's (TorchScript compiles the original source).
Every `nn` loss module's `forward` calls these functions, so the module form is covered by the same swap.
"""

from __future__ import annotations

import functools
import inspect
import types
import warnings
from typing import Any, Callable

import torch.nn.functional as F

from lossguard.contracts import CONTRACTS, LossContract

# Called as check(contract, arguments) before the loss runs, `arguments` being every parameter in order. It
# returns None, or a function that the loss's output is passed through (and that returns it unchanged).
Checker = Callable[[LossContract, tuple], Any]

_CHECK, _CONTRACT, _ORIGINAL, _AFTER = "__lossguard_check__", "__lossguard_contract__", "__lossguard_original__", \
    "__lossguard_after"


_installed: dict[str, tuple[types.FunctionType, types.CodeType]] = {}  # name -> (PyTorch's function, its code)


def wrapped_contracts() -> tuple[LossContract, ...]:
    """The contracts whose functional form exists in this torch version (all of them since torch 1.10)."""
    return tuple(c for c in CONTRACTS if callable(getattr(F, c.functional, None)))


def torch_function(name: str) -> types.FunctionType | None:
    """PyTorch's own `torch.nn.functional.<name>`, found through any `functools.wraps` wrappers put over it."""
    found = inspect.unwrap(getattr(F, name), stop=lambda f: _is_torch_loss(f, name))
    return found if _is_torch_loss(found, name) else None


def _is_torch_loss(candidate: Any, name: str) -> bool:
    return (type(candidate) is types.FunctionType and candidate.__name__ == name
            and candidate.__module__ == F.__name__ and not candidate.__closure__)


def _forwarder_code(function: types.FunctionType, contract: LossContract, original: types.FunctionType,
                    check: Checker) -> types.CodeType | None:
    """A code object with `function`'s parameters that returns `original(...)` after `check(contract, ...)`;
    None for a signature the losses do not have (positional-only, *args, **kwargs): that loss is left alone."""
    code = function.__code__
    positional = code.co_varnames[:code.co_argcount]
    keyword_only = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_posonlyargcount:
        return None
    body = _forwarder_template(function.__name__, positional, keyword_only, code.co_filename)
    slots = {_CHECK: check, _CONTRACT: contract, _ORIGINAL: original}
    names = {"co_name": code.co_name}
    if hasattr(code, "co_qualname"):  # Python >= 3.11
        names["co_qualname"] = code.co_qualname
    return body.replace(co_consts=tuple(slots.get(c, c) if isinstance(c, str) else c for c in body.co_consts),
                        co_firstlineno=code.co_firstlineno, **names)


@functools.lru_cache(maxsize=None)
def _forwarder_template(name: str, positional: tuple[str, ...], keyword_only: tuple[str, ...],
                        filename: str) -> types.CodeType:
    """The forwarder's code with string slots for the check, the contract and the original; compiled once per
    loss, not at every installation (compiling is the slow part, and silencing its warning resets the warnings
    module's once-per-location registries)."""
    parameters = ", ".join([*positional, *(["*", *keyword_only] if keyword_only else [])])
    call = f'"{_ORIGINAL}"({", ".join([*positional, *(f"{k}={k}" for k in keyword_only)])})'
    everything = ", ".join([*positional, *keyword_only]) + ","
    handed = (f'"{_ORIGINAL}", ({"".join(f"{p}, " for p in positional)}), '
              f'{{{", ".join(f"{k!r}: {k}" for k in keyword_only)}}}')
    # One line, so that every instruction maps to the `def` line of the original in tracebacks. The check returns
    # None (call the original), or a function that makes the call itself (to hook its output for LG401, or to
    # move PyTorch's own warnings to the user's line): it gets the original and the arguments.
    source = (f"def {name}({parameters}): return {call} if ({_AFTER} := "
              f'"{_CHECK}"("{_CONTRACT}", ({everything}))) is None else {_AFTER}({handed})')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "'str' object is not callable": the strings are slots
        module = compile(source, filename, "exec")
    return next(c for c in module.co_consts if isinstance(c, types.CodeType))


def _copy(function: types.FunctionType) -> types.FunctionType:
    """The function as PyTorch defined it, under a new identity: same code, globals, defaults and name."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__, copy.__doc__, copy.__module__ = function.__qualname__, function.__doc__, function.__module__
    return copy


def patch(check: Checker) -> None:
    """Put the check in front of each loss function; calling it again while installed does nothing."""
    if _installed:
        return
    for contract in wrapped_contracts():
        function = torch_function(contract.functional)
        if function is None:  # replaced by something that is not a wrapper of PyTorch's function: leave it
            continue
        forwarder = _forwarder_code(function, contract, _copy(function), check)
        if forwarder is None:
            continue
        _installed[contract.functional] = (function, function.__code__)
        function.__code__ = forwarder


def unpatch() -> None:
    """Give each patched function its own code back."""
    for name, (function, code) in list(_installed.items()):
        function.__code__ = code
        del _installed[name]


def is_patched() -> bool:
    return bool(_installed)
