"""Near-duplicates: the same content from the same sender within the window, under a new id.

Through the real API handler (moto, the Tray simulator), and the memory's claims on moto with
an injected clock for the window's edges.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.agent.conftest import customer, decision, runs_for
from tests.conftest import new_event, work_key
from tray_agent.data.context import ContextRepository
from tray_agent.domain.agent.memory import CustomerMemory


def _form(**extra: Any) -> dict[str, Any]:
    person = uuid.uuid4().hex[:8]
    return {
        "email": f"lea.{person}@northwind-trading.com",
        "name": "Léa Martin",
        "company": "Northwind Trading",
        "employees": 35,
        "message": "Could we see a demo next week?",
        **extra,
    }


def _again(event: dict[str, Any], seconds: float, **changes: Any) -> dict[str, Any]:
    """The sender's resubmission: a new id and a later occurred_at."""
    later = datetime.fromisoformat(event["occurred_at"]) + timedelta(seconds=seconds)
    return {**event, "id": f"evt-{uuid.uuid4()}", "occurred_at": later.isoformat(), **changes}


def test_a_form_submitted_twice_seconds_apart_runs_once(local_env: Any) -> None:
    first = new_event(source="webform", data=_form())
    second = _again(first, 4)
    assert local_env.api("POST", "/events", first).body["action"] == "trigger"
    answer = local_env.api("POST", "/events", second)
    assert answer.status == 202, answer.body
    assert answer.body["action"] == "ignore"
    assert f"duplicate of event {first['id']}" in answer.body["reason"]
    assert decision(local_env, answer.body["decision_id"])["outcome"] == "ignored"
    assert len(runs_for(local_env, work_key(first["id"]))) == 1
    assert runs_for(local_env, work_key(second["id"])) == []


def test_submission_stamps_do_not_make_a_resubmission_new(local_env: Any) -> None:
    data = _form()
    first = new_event(source="webform", data={**data, "submission_id": "s-1", "submitted_at": "10:00:01"})
    second = _again(first, 6, data={**data, "submission_id": "s-2", "submitted_at": "10:00:07"})
    assert local_env.api("POST", "/events", first).body["action"] == "trigger"
    answer = local_env.api("POST", "/events", second)
    assert f"duplicate of event {first['id']}" in answer.body["reason"]


def test_different_content_from_the_same_sender_is_never_merged(local_env: Any) -> None:
    data = _form()
    first = new_event(source="webform", data=data)
    other_message = _again(first, 3, data={**data, "message": "Also: do you support SSO?"})
    other_size = _again(first, 5, data={**data, "employees": 36})
    other_source = _again(first, 7, source="hubspot")
    for event in (first, other_message, other_size, other_source):
        answer = local_env.api("POST", "/events", event)
        assert answer.body["action"] == "trigger", answer.body
        assert len(runs_for(local_env, work_key(event["id"]))) == 1


def test_two_orders_of_one_customer_are_two_orders(local_env: Any) -> None:
    cid = customer()
    first = new_event(
        "order.created", customer_id=cid, source="shopify", data={"order_id": "o-1", "total": 20}
    )
    second = _again(first, 2, data={"order_id": "o-2", "total": 20})
    same_order_again = _again(first, 3)
    assert local_env.api("POST", "/events", first).body["action"] == "trigger"
    assert local_env.api("POST", "/events", second).body["action"] == "trigger"
    answer = local_env.api("POST", "/events", same_order_again)
    assert f"duplicate of event {first['id']}" in answer.body["reason"]
    assert runs_for(local_env, work_key(same_order_again["id"])) == []


def test_a_window_of_zero_turns_near_duplicates_off(local_env: Any) -> None:
    first = new_event(source="webform", data=_form())
    with local_env.reconfigured(TRAY_AGENT_DUPLICATE_WINDOW_S="0"):
        assert local_env.api("POST", "/events", first).body["action"] == "trigger"
        answer = local_env.api("POST", "/events", _again(first, 4))
        assert answer.body["action"] == "trigger"  # the sender meant it: it runs
        resent = local_env.api("POST", "/events", _again(first, 0))  # the same event, same occurred_at
        assert f"duplicate of event {first['id']}" in resent.body["reason"]


def _memory(env: Any, window_s: int) -> CustomerMemory:
    return CustomerMemory(
        ContextRepository(env.settings.context_table), timedelta(days=90), timedelta(seconds=window_s)
    )


def test_the_window_is_measured_from_the_first_and_a_resend_counts_for_a_day(local_env: Any) -> None:
    memory = _memory(local_env, window_s=120)
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    first = new_event(source="webform", data=_form())
    assert memory.first_with_same_content(first, now=t0) is None
    assert memory.first_with_same_content(first, now=t0 + timedelta(seconds=30)) is None  # its own redelivery
    inside = _again(first, 90)
    assert memory.first_with_same_content(inside, now=t0 + timedelta(seconds=90)) == first["id"]
    after = _again(first, 200)
    assert memory.first_with_same_content(after, now=t0 + timedelta(seconds=200)) is None
    resent = _again(first, 0)  # same occurred_at: the same event under another id, an hour on
    assert memory.first_with_same_content(resent, now=t0 + timedelta(hours=1)) == first["id"]
