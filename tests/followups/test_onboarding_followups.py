"""Onboarding follow-ups (issue 12): scheduled after provisioning, fired by the clock, once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import new_event
from tray_agent.clock import utc_now
from tray_local.schedule_pump import pump
from tray_local.simulator.scripts import WorkflowScript

CHECK = "account_activity_check"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def watchers(local_env: Any) -> Iterator[tuple[Any, Clock]]:
    from tray_agent.handlers import api

    local_env.api("GET", "/health")  # the API's services exist (the engine the handlers share)
    followups = api._service().engine.followups
    clock = Clock()
    followups.use_clock(clock)
    try:
        yield followups, clock
    finally:
        followups.use_clock(utc_now)
        local_env.simulator.set_script(CHECK, WorkflowScript(output={"inactive": [], "never_signed_in": []}))


def hire(local_env: Any, **data: Any) -> tuple[str, dict[str, Any]]:
    email = f"new-{uuid.uuid4().hex[:8]}@example.org"
    event = new_event(
        "employee.hired",
        source="bamboohr",
        data={
            "email": email,
            "role": "Software Engineer",
            "department": "engineering",
            "seniority": "junior",
            "manager_email": "lead@example.org",
            **data,
        },
    )
    answer = local_env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    return email, answer.body


def follow_ups(local_env: Any, email: str) -> list[dict[str, Any]]:
    answer = local_env.api("GET", "/follow-ups", query={"person": email})
    assert answer.status == 200, answer.body
    result: list[dict[str, Any]] = answer.body
    return result


def runs_for(local_env: Any, workflow: str, email: str) -> list[Any]:
    return [r for r in local_env.simulator.runs(workflow) if r.input.get("employee_email") == email]


def test_one_inactive_account_three_days_later_nudges_for_that_tool(local_env: Any, watchers: Any) -> None:
    _, clock = watchers
    email, accepted = hire(local_env)
    assert accepted["workflow"] == "employee_provisioning"
    [pending] = follow_ups(local_env, email)
    assert pending["check"] == "accounts_active" and pending["state"] == "received"
    assert datetime.fromisoformat(pending["due_at"]) - clock.now > timedelta(days=2, hours=23)

    local_env.simulator.set_script(
        CHECK, WorkflowScript(output={"inactive": [], "never_signed_in": ["github"]})
    )
    fired = pump(local_env.settings, clock.advance(days=1))
    assert pending["work_id"] not in [f["work_id"] for f in fired]  # not due yet
    fired = pump(local_env.settings, clock.advance(days=2, minutes=1))
    assert pending["work_id"] in [f["work_id"] for f in fired]

    [nudge] = runs_for(local_env, "onboarding_nudge", email)
    assert nudge.input["tools"] == ["github"]
    assert [i["tool"] for i in nudge.input["instructions"]] == ["github"]
    assert "SSH key" in nudge.input["instructions"][0]["steps"]
    views = follow_ups(local_env, email)
    assert [v["state"] for v in views] == ["done", "received"]  # the second look is scheduled

    # A second miss three days later escalates to the manager.
    pump(local_env.settings, clock.advance(days=3, minutes=1))
    [escalation] = runs_for(local_env, "onboarding_escalation", email)
    assert escalation.input["manager_email"] == "lead@example.org"
    assert escalation.input["tools"] == ["github"]
    assert len(runs_for(local_env, "onboarding_nudge", email)) == 1


def test_all_accounts_active_does_nothing(local_env: Any, watchers: Any) -> None:
    _, clock = watchers
    email, _ = hire(local_env)
    [_pending] = follow_ups(local_env, email)
    pump(local_env.settings, clock.advance(days=3, minutes=1))
    [done] = follow_ups(local_env, email)
    assert done["state"] == "ignored" and "active and signed in" in (done["reason"] or "")
    assert runs_for(local_env, "onboarding_nudge", email) == []
    assert len(runs_for(local_env, CHECK, email)) == 1


def test_hire_cancelled_cancels_the_follow_up_and_its_schedule(local_env: Any, watchers: Any) -> None:
    from tray_agent.data.schedules import SchedulesRepository

    _, clock = watchers
    email, _ = hire(local_env)
    [pending] = follow_ups(local_env, email)
    settings = local_env.settings
    schedules = SchedulesRepository(
        settings.followup_schedule_group, settings.followup_target_arn, settings.followup_role_arn
    )
    assert schedules.get(pending["work_id"]) is not None
    answer = local_env.api(
        "POST", "/events", new_event("hire.cancelled", source="bamboohr", data={"email": email})
    )
    assert answer.status == 202, answer.body
    [cancelled] = follow_ups(local_env, email)
    assert cancelled["state"] == "rejected" and cancelled["reason"].startswith("cancelled: hire.cancelled")
    assert schedules.get(pending["work_id"]) is None
    fired = pump(local_env.settings, clock.advance(days=4))
    assert pending["work_id"] not in [f["work_id"] for f in fired]
    assert runs_for(local_env, CHECK, email) == []


def test_a_schedule_firing_twice_checks_once(local_env: Any, watchers: Any) -> None:
    from tray_agent.handlers import followups as handler
    from tray_local.apigw import LambdaContext

    _, clock = watchers
    email, _ = hire(local_env)
    [pending] = follow_ups(local_env, email)
    clock.advance(days=3, minutes=1)
    first = handler.handler({"work_id": pending["work_id"]}, LambdaContext())
    second = handler.handler({"work_id": pending["work_id"]}, LambdaContext())
    assert first == second and first["state"] == "ignored"
    assert len(runs_for(local_env, CHECK, email)) == 1


def test_a_follow_up_fired_early_waits_for_its_time(local_env: Any, watchers: Any) -> None:
    followups, clock = watchers
    email, _ = hire(local_env)
    [pending] = follow_ups(local_env, email)
    clock.advance(hours=1)
    assert followups.fire(pending["work_id"]).state.value == "received"
    assert runs_for(local_env, CHECK, email) == []


def test_listing_needs_a_customer_or_a_person(local_env: Any) -> None:
    answer = local_env.api("GET", "/follow-ups")
    assert answer.status == 400 and "customer" in str(answer.body)


def test_a_lost_schedule_is_fired_by_the_daily_job_from_the_ledger(local_env: Any, watchers: Any) -> None:
    """Nothing lives in memory or only in the schedule: the ledger's due items fire anyway."""
    from tray_agent.data.schedules import SchedulesRepository

    followups, clock = watchers
    email, _ = hire(local_env)
    [pending] = follow_ups(local_env, email)
    settings = local_env.settings
    SchedulesRepository(
        settings.followup_schedule_group, settings.followup_target_arn, settings.followup_role_arn
    ).delete(pending["work_id"])
    assert pending["work_id"] not in [w.work_id for w in followups.fire_due(clock.advance(days=2))]
    fired = followups.fire_due(clock.advance(days=1, minutes=1))
    assert pending["work_id"] in [w.work_id for w in fired]
    [done] = follow_ups(local_env, email)
    assert done["state"] == "ignored"
