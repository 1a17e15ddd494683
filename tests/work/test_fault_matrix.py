"""Every storage call and Tray call of the event and approval paths fails in turn: nothing is lost,
nothing runs twice, and no answer is a 500."""

from __future__ import annotations

from typing import Any

from tests.work.conftest import fresh_ledger, sweep
from tests.work.fault_matrix import LEASE_S, run_matrix


def test_fault_matrix_loses_nothing_and_runs_nothing_twice(local_env: Any) -> None:
    with fresh_ledger(
        local_env, TRAY_AGENT_WORK_LEASE_S=str(LEASE_S), TRAY_AGENT_TRAY_TIMEOUT_S="1.0"
    ) as env:
        results = run_matrix(env, sweep)
    lost = [r for r in results if r.lost]
    duplicated = [r for r in results if r.duplicate_runs]
    errors = [r for r in results if r.server_errors]
    assert not lost, lost
    assert not duplicated, duplicated
    assert not errors, errors
    assert len(results) >= 60, len(results)
