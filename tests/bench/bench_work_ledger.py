"""The work ledger under faults: the fault-injection matrix, and held work drained after recovery.

Figures:
- ``fault_matrix_cases``, ``fault_matrix_lost_items``, ``fault_matrix_duplicate_tray_runs``,
  ``fault_matrix_5xx``: every storage and Tray call of the event and approval paths failing in
  turn (tests/work/fault_matrix.py), each case redelivered and swept with the fault gone;
- ``held_items_drained_after_recovery_ratio``: events held behind a Tray outage, a disabled
  workflow and refused credentials, then recovered: the share that ran exactly once;
- ``held_items_escalations_per_incident``: escalations sent per incident (1.0 is right).
"""

from __future__ import annotations

from typing import Any

HELD_PER_SCENARIO = 10


def run() -> dict[str, float]:
    from tests.work.conftest import fresh_ledger, sweep
    from tests.work.fault_matrix import LEASE_S, run_matrix
    from tray_local.local_env import LocalEnvironment

    with LocalEnvironment.start() as env:
        with fresh_ledger(
            env, TRAY_AGENT_WORK_LEASE_S=str(LEASE_S), TRAY_AGENT_TRAY_TIMEOUT_S="1.0"
        ) as ready:
            results = run_matrix(ready, sweep)
        with fresh_ledger(env) as ready:
            drained, held, escalations, incidents = _held_then_recovered(ready, sweep)
    return {
        "fault_matrix_cases": len(results),
        "fault_matrix_lost_items": sum(1 for r in results if r.lost),
        "fault_matrix_duplicate_tray_runs": sum(r.duplicate_runs for r in results),
        "fault_matrix_5xx": sum(r.server_errors for r in results),
        "held_items_drained_after_recovery_ratio": round(drained / held, 4) if held else 0.0,
        "held_items_escalations_per_incident": round(escalations / incidents, 4) if incidents else 0.0,
    }


def _held_then_recovered(env: Any, sweep: Any) -> tuple[int, int, int, int]:
    from tests.conftest import new_event, work_key
    from tray_local.simulator import Fault

    def lead() -> dict[str, Any]:
        return new_event()  # each a different lead: identical ones would be near-duplicates

    scenarios = [
        ("outage", env.simulator.start_outage, env.simulator.end_outage),
        (
            "disabled",
            lambda: env.simulator.disable_workflow("lead_enrichment"),
            lambda: env.simulator.enable_workflow("lead_enrichment"),
        ),
        (
            "credentials",
            lambda: env.simulator.inject_fault(
                Fault(kind="status", status=401, path_prefix="/webhooks/", times=10**6)
            ),
            env.simulator._faults.clear,
        ),
    ]
    held_events: list[dict[str, Any]] = []
    incident_ids: set[str] = set()
    for _name, fail, recover in scenarios:
        fail()
        batch = [lead() for _ in range(HELD_PER_SCENARIO)]
        for event in batch:
            answer = env.api("POST", "/events", event)
            if answer.status == 202 and answer.body.get("status") == "held":
                held_events.append(event)
        incident_ids |= {i["incident_id"] for i in env.api("GET", "/incidents").body}
        sweep()  # still failing: the probe is refused, nothing drains
        recover()
        sweep()
    escalated = sum(
        1
        for incident_id in incident_ids
        if (found := _incident(env, incident_id)) is not None and found.escalated_at is not None
    )
    drained = 0
    for event in held_events:
        env.simulator.wait_idle()
        effective = [
            e
            for e in env.simulator.executions()
            if (e.idempotency_key or "").startswith(work_key(event["id"])) and e.status != "failed"
        ]
        drained += len(effective) == 1
    return drained, len(held_events), escalated, len(incident_ids)


def _incident(env: Any, incident_id: str) -> Any:
    from tray_agent.domain.agent.service import build_work_repository

    return build_work_repository(env.settings).incident(incident_id)
