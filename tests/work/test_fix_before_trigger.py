"""Fix before trigger: a run that would fail on a known constraint is fixed first, or not run.

Salesforce's Industry picklist (seed 000: "SaaS" is not valid, "Technology - SaaS" is) through
the real API handler, the Tray simulator's picklist check and its Platform API metadata.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import new_event, work_key
from tests.work.conftest import runs
from tray_agent.config import get_settings
from tray_agent.data.lessons import LessonsRepository
from tray_local.simulator import SEED_STORIES
from tray_local.simulator.scripts import WorkflowScript

WORKFLOW = "salesforce_account_upsert"


@pytest.fixture
def picklist_env(ledger_env: Any) -> Iterator[Any]:
    ledger_env.simulator.set_script(WORKFLOW, SEED_STORIES[WORKFLOW])  # Tray fails on a bad value
    try:
        yield ledger_env
    finally:
        ledger_env.simulator.set_script(WORKFLOW, WorkflowScript())


def _account(industry: str) -> dict[str, Any]:
    name = f"Acme {uuid.uuid4().hex[:6]}"
    return new_event("account.created", data={"name": name, "industry": industry, "employees": 80})


def test_a_value_outside_the_picklist_is_mapped_before_the_trigger(picklist_env: Any) -> None:
    env = picklist_env
    event = _account("SaaS")
    answer = env.api("POST", "/events", event)
    assert answer.status == 202 and answer.body["status"] == "done", answer.body
    [run] = runs(env, work_key(event["id"]))
    assert run.input["industry"] == "Technology - SaaS"
    assert run.status == "succeeded"  # never triggered just to fail
    decision = env.api("GET", f"/decisions/{answer.body['decision_id']}").body
    assert decision["decision"]["fixes"] == [
        {
            "workflow": WORKFLOW,
            "field": "industry",
            "before": "SaaS",
            "after": "Technology - SaaS",
            "source": "picklist",
        }
    ]
    credits = decision["decision"]["credits"]
    assert credits["spent"] == 4 and credits["avoided"] == 4
    assert credits["avoided_because"] == "fixed before trigger"
    # The daily summary counts what the decision spent and saved.
    today = datetime.now(UTC).date().isoformat()
    credits_today = env.api("GET", f"/summary/{today}").body["credits"]
    assert credits_today["spent"] >= 4 and credits_today["saved_by"]["fixed before trigger"] >= 4
    # The mapping is now a lesson: the next run is fixed from it.
    lessons = LessonsRepository(get_settings().work_table).lessons(WORKFLOW)
    assert lessons.fixes[("industry", "SaaS")] == "Technology - SaaS"


def test_a_value_that_cannot_be_fixed_goes_to_a_person_not_to_tray(picklist_env: Any) -> None:
    env = picklist_env
    event = _account("Crypto")
    answer = env.api("POST", "/events", event)
    assert answer.status == 202 and answer.body["status"] == "in_review", answer.body
    why = env.api("GET", f"/work/{answer.body['work_id']}").body["reason"]
    assert "would fail in Tray" in why and "Crypto" in why, why
    review = env.api("GET", f"/reviews/{answer.body['review_id']}").body
    assert "would fail in Tray" in review["reason"]
    assert runs(env, work_key(event["id"])) == []


def test_a_reviewers_correction_is_applied_before_the_next_trigger(picklist_env: Any) -> None:
    env = picklist_env
    first = _account("Fin Tech")
    held = env.api("POST", "/events", first).body
    assert held["status"] == "in_review"
    review = env.api("GET", f"/reviews/{held['review_id']}").body
    [call] = review["payload"]["calls"]
    corrected = {**call, "input": {**call["input"], "industry": "Financial Services"}}
    approved = env.api(
        "POST", f"/reviews/{held['review_id']}/approve", {"edited_payload": {"calls": [corrected]}}
    )
    assert approved.status == 200, approved.body
    [run] = runs(env, work_key(first["id"]))
    assert run.input["industry"] == "Financial Services" and run.status == "succeeded"

    second = _account("Fin Tech")
    answer = env.api("POST", "/events", second).body
    assert answer["status"] == "done", answer
    [run] = runs(env, work_key(second["id"]))
    assert run.input["industry"] == "Financial Services"
    decision = env.api("GET", f"/decisions/{answer['decision_id']}").body
    assert [fix["source"] for fix in decision["decision"]["fixes"]] == ["review"]


def test_an_ordinary_edit_by_a_reviewer_teaches_nothing(picklist_env: Any) -> None:
    """Only a correction of an invalid constrained value is a lesson; other edits are one-offs."""
    env = picklist_env
    first = _account("Crypto")
    held = env.api("POST", "/events", first).body
    review = env.api("GET", f"/reviews/{held['review_id']}").body
    [call] = review["payload"]["calls"]
    edited = {**call, "input": {**call["input"], "industry": "Retail", "name": "Renamed Ltd"}}
    env.api("POST", f"/reviews/{held['review_id']}/approve", {"edited_payload": {"calls": [edited]}})
    lessons = LessonsRepository(get_settings().work_table).lessons(WORKFLOW)
    assert lessons.fixes == {("industry", "Crypto"): "Retail"}  # the name edit is not a rule
