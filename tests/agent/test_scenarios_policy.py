"""The seed's five scenarios end to end on the policy brain (no model configured).

Real API handler in-process, moto, and the Tray simulator over real HTTP.
"""

from __future__ import annotations

from typing import Any

from tests.agent.conftest import customer, decision, runs_for
from tests.conftest import business_input, new_event, work_key


def test_scenario_1_fintech_series_b_goes_enterprise_with_a_briefing_note(local_env: Any) -> None:
    event = new_event(
        data={
            "email": "cto@ledgerly.io",
            "company": "Ledgerly",
            "employees": 200,
            "industry": "fintech",
            "funding_stage": "series_b",
        }
    )
    answer = local_env.api("POST", "/events", event)
    assert answer.status == 202, answer.body
    assert answer.body["workflow"] == "enterprise_lead_routing"
    [run] = runs_for(local_env, work_key(event["id"]))
    assert run.workflow_name == "enterprise_lead_routing"
    assert "fast-growing fintech company (200 employees)" in run.input["briefing_note"]
    assert run.input["enrichment_sources"] == ["clearbit", "crunchbase", "pitchbook"]
    assert decision(local_env, answer.body["decision_id"])["decision"]["rule"] == "strategic-growth-lead"


def test_scenario_1_obvious_spam_is_dropped_before_any_tray_task(local_env: Any) -> None:
    event = new_event(data={"email": "deals@yopmail.com", "company": "x", "message": "cheap backlinks"})
    answer = local_env.api("POST", "/events", event)
    assert answer.body["action"] == "ignore"
    assert "spam" in answer.body["reason"]
    assert runs_for(local_env, work_key(event["id"])) == []


def test_scenario_2_three_failed_orders_last_week_get_the_expedited_path(local_env: Any) -> None:
    cid = customer()
    normal = new_event(
        "order.created", customer_id=cid, source="shopify", data={"order_id": "o-0", "total": 10}
    )
    assert local_env.api("POST", "/events", normal).body["decision_id"]
    assert runs_for(local_env, work_key(normal["id"]))[0].input["expedited"] is False
    for n in range(3):
        failed = new_event(
            "order.failed", customer_id=cid, source="shopify", data={"order_id": f"o-{n}", "error": "x"}
        )
        answer = local_env.api("POST", "/events", failed)
        assert answer.body["action"] == "ignore"  # remembered, no Tray run
        assert runs_for(local_env, work_key(failed["id"])) == []
    order = new_event(
        "order.created", customer_id=cid, source="shopify", data={"order_id": "o-4", "total": 99}
    )
    answer = local_env.api("POST", "/events", order)
    assert answer.status == 202, answer.body
    assert "3 failed orders" in answer.body["reason"]
    [run] = runs_for(local_env, work_key(order["id"]))
    assert business_input(run) == {"order_data": {"order_id": "o-4", "total": 99}, "expedited": True}
    record = decision(local_env, answer.body["decision_id"])
    assert record["inputs"]["context"]["failed_orders_7d"] == 3


def test_scenario_3_churn_signals_together_trigger_the_csm_task_with_a_brief(local_env: Any) -> None:
    cid = customer()
    signals = {"ticket_frequency_change_pct": 120, "usage_change_pct": -35, "renewal_in_days": 12}
    event = new_event("customer.health_signals", customer_id=cid, source="warehouse", data=signals)
    answer = local_env.api("POST", "/events", event)
    assert answer.body["workflow"] == "csm_health_task"
    [run] = runs_for(local_env, work_key(event["id"]))
    assert run.input["risk_level"] == "high"
    assert run.input["customer_id"] == cid
    brief = run.input["brief"]
    assert "tickets up 120%" in brief and "usage -35%" in brief and "renewal in 12 days" in brief

    one_signal = dict(signals, usage_change_pct=4)  # a single bad metric is not a churn risk
    calm = new_event("customer.health_signals", customer_id=cid, source="warehouse", data=one_signal)
    answer = local_env.api("POST", "/events", calm)
    assert answer.body["action"] == "ignore"
    assert runs_for(local_env, work_key(calm["id"])) == []


def test_scenario_4_role_department_seniority_pick_tools_and_permissions(local_env: Any) -> None:
    junior = new_event(
        "employee.hired",
        source="bamboohr",
        data={
            "email": "jo@corp.io",
            "role": "Software Engineer",
            "department": "engineering",
            "seniority": "junior",
        },
    )
    director = new_event(
        "employee.hired",
        source="bamboohr",
        data={
            "email": "mo@corp.io",
            "role": "Marketing Director",
            "department": "marketing",
            "seniority": "director",
        },
    )
    for event in (junior, director):
        assert local_env.api("POST", "/events", event).body["workflow"] == "employee_provisioning"
    [junior_run] = runs_for(local_env, work_key(junior["id"]))
    [director_run] = runs_for(local_env, work_key(director["id"]))
    assert "aws" in junior_run.input["tools"]
    assert junior_run.input["permissions"]["aws"] == "read"  # a junior engineer gets no AWS admin
    assert "marketo" not in junior_run.input["tools"]
    assert director_run.input["permissions"]["marketo"] == "admin"
    assert "aws" not in director_run.input["tools"]


def test_scenario_5_duplicate_and_irrelevant_events_are_ignored_with_a_reason(local_env: Any) -> None:
    first = new_event(data={"email": "ann@dupe.io", "company": "Dupe", "employees": 40})
    again = dict(first, id=first["id"] + "-resent")  # same content, another id
    assert local_env.api("POST", "/events", first).body["action"] == "trigger"
    answer = local_env.api("POST", "/events", again)
    assert answer.body["action"] == "ignore"
    assert f"duplicate of event {first['id']}" in answer.body["reason"]
    assert runs_for(local_env, work_key(again["id"])) == []

    irrelevant = new_event("newsletter.opened", source="mailchimp", data={"campaign": "nov"})
    answer = local_env.api("POST", "/events", irrelevant)
    assert answer.body["action"] == "ignore"
    assert "no rule handles event type 'newsletter.opened'" in answer.body["reason"]
    assert decision(local_env, answer.body["decision_id"])["outcome"] == "ignored"
    assert runs_for(local_env, work_key(irrelevant["id"])) == []
