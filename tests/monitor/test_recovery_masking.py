"""A recovery review shows the failed execution's input masked; approval retries with the real one.

The original input is Tray's record of the failed execution; the resolver puts the real values
back where the reviewer left a marker, so the retry never runs with ``[redacted:…]`` in it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.monitor.conftest import MonitorEnv, ago
from tray_agent.domain.monitor.recovery import decision_id_for, review_id_for
from tray_agent.domain.reviews import build_review_service
from tray_agent.errors import InvalidInputError
from tray_agent.models.reviews import ApproveRequest, ReviewStatus
from tray_local.demo_monitor import failed_execution, run_tick

CARD = "4111111111111111"
SSN = "123-45-6789"
KEY = "sk-live-SECRET123abc"
INPUT = {
    "ticket_id": "T-91",
    "priority": "urgent",
    "customer": {"card_number": CARD, "note": f"caller gave SSN {SSN}"},
    "api_key": KEY,
}


def _failed_into_review(env: MonitorEnv) -> tuple[Any, dict[str, Any]]:
    failed = failed_execution(
        env.sim,
        "support_ticket_triage",
        code="SCRIPT_ERROR",
        message="TypeError: cannot read property 'queue' of undefined",
        created_at=ago(minutes=1),
        input=INPUT,
    )
    env.sim.seed_executions([failed])
    assert run_tick()["recoveries"] == {"review": 1}
    answer = env.api.api("GET", f"/reviews/{review_id_for(failed.id)}")
    assert answer.status == 200, answer.body
    return failed, answer.body


def test_the_review_shows_the_input_masked_and_approval_retries_with_the_real_input(
    monitor_env: MonitorEnv,
) -> None:
    env = monitor_env
    failed, item = _failed_into_review(env)
    shown = json.dumps(item)
    assert [raw for raw in (CARD, SSN, KEY) if raw in shown] == []
    assert item["payload"]["input"] == {
        "ticket_id": "T-91",
        "priority": "urgent",
        "customer": {"card_number": "[redacted:card]", "note": "caller gave SSN [redacted:ssn]"},
        "api_key": "[redacted:secret]",
    }

    resolved = build_review_service(env.settings).approve(
        item["review_id"], "ops@corp.example", ApproveRequest(note="retry as is")
    )
    [retry] = env.retries_of(failed.id)
    assert retry.input == INPUT
    assert resolved.resolution_payload is not None
    assert CARD not in json.dumps(resolved.resolution_payload)  # what is stored stays masked
    decision = env.api.api("GET", f"/decisions/{decision_id_for(failed.id)}").body
    assert decision["outcome"] == "triggered"


def test_an_edit_keeps_the_real_values_it_left_masked(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    failed, item = _failed_into_review(env)
    edited = {**item["payload"], "input": {**item["payload"]["input"], "queue": "billing"}}

    build_review_service(env.settings).approve(
        item["review_id"], "ops@corp.example", ApproveRequest(edited_payload=edited)
    )
    [retry] = env.retries_of(failed.id)
    assert retry.input == {**INPUT, "queue": "billing"}


def test_a_marker_with_nothing_behind_it_is_refused_and_nothing_is_retried(monitor_env: MonitorEnv) -> None:
    env = monitor_env
    failed, item = _failed_into_review(env)
    edited = {**item["payload"], "input": {**item["payload"]["input"], "cvv": "[redacted:cvv]"}}
    reviews = build_review_service(env.settings)

    with pytest.raises(InvalidInputError, match=r"\$\.cvv"):
        reviews.approve(item["review_id"], "ops@corp.example", ApproveRequest(edited_payload=edited))
    assert env.retries_of(failed.id) == []
    assert reviews.get(item["review_id"]).status is ReviewStatus.PENDING
