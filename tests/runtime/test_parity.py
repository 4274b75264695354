"""Parity as a property: for every wrapped loss, in functional and module form, the guard changes no output, no
gradient and no exception, on PyTorch's own OpInfo samples and on hypothesis-generated calls (see parity.py).

Seeded and bounded for CI: LOSSGUARD_PARITY_EXAMPLES generated calls per loss (default 100), LOSSGUARD_PARITY_SEED
picks other ones (derandomised by default); bench/runtime_parity.py is the long run by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lossguard.runtime import wrap
from tests.runtime.parity import difference

hypothesis = pytest.importorskip("hypothesis")
from tests.runtime.generated_calls import loss_calls  # noqa: E402  (needs hypothesis)

EXAMPLES = int(os.environ.get("LOSSGUARD_PARITY_EXAMPLES", "100"))
SEED = os.environ.get("LOSSGUARD_PARITY_SEED")
ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = wrap.wrapped_contracts()
pytestmark = pytest.mark.usefixtures("one_thread")


def _settings(test):
    test = hypothesis.settings(max_examples=EXAMPLES, derandomize=SEED is None, deadline=None, database=None,
                               suppress_health_check=list(hypothesis.HealthCheck))(test)
    return hypothesis.seed(int(SEED))(test) if SEED is not None else test


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.functional for c in CONTRACTS])
def test_generated_calls_give_the_same_result_with_the_guard(contract):
    @_settings
    @hypothesis.given(generated=loss_calls(contract))
    def same_with_the_guard(generated):
        call = generated.call()
        hypothesis.assume(call is not None)
        found = difference(call, generated.arguments, generated.values_defined)
        assert found is None, f"{generated!r}: {found}"

    same_with_the_guard()


def test_pytorchs_opinfo_samples_give_the_same_result_with_the_guard():
    # In a process of its own: importing torch's internal test suite changes global flags of torch. That suite
    # needs expecttest (a dev dependency).
    pytest.importorskip("expecttest")
    done = subprocess.run([sys.executable, "-m", "tests.runtime.parity"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["failures"] == []
    for contract in CONTRACTS:  # every wrapped loss has OpInfo samples, in both forms
        covered = report["covered"][contract.functional]
        assert covered["functional"] > 0 and covered["module"] > 0, (contract.functional, covered)
