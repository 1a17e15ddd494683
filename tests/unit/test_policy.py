"""The policy brain: rules file semantics, no AWS, no Tray."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tray_agent.config import DEFAULT_RULES_FILE, DEFAULT_WORKFLOWS_FILE
from tray_agent.domain.agent.policy import PolicyBrain, Rule, lookup
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.errors import ConfigurationError
from tray_agent.models.decisions import DecisionAction


@pytest.fixture(scope="module")
def policy() -> PolicyBrain:
    registry = ToolRegistry.from_file(DEFAULT_WORKFLOWS_FILE)
    return PolicyBrain.from_file(DEFAULT_RULES_FILE, known_workflows=registry.__contains__)


def lead(**data: Any) -> dict[str, Any]:
    return {"id": "e1", "type": "lead.created", "source": "hubspot", "data": data}


def test_spam_lead_is_ignored_with_the_reason(policy: PolicyBrain) -> None:
    decision = policy.decide(lead(email="bot@mailinator.com", company="Spam"))
    assert decision.action is DecisionAction.IGNORE
    assert decision.rule == "spam-lead"
    assert "bot@mailinator.com" in decision.reason
    assert decision.calls == []


def test_large_company_goes_to_enterprise_routing_with_mapped_input(policy: PolicyBrain) -> None:
    decision = policy.decide(lead(email="cfo@bigbank.com", company="Big Bank", employees=1200))
    assert decision.action is DecisionAction.TRIGGER
    assert decision.first_workflow == "enterprise_lead_routing"
    call_input = decision.calls[0].input
    assert call_input["email"] == "cfo@bigbank.com"
    assert call_input["company"] == "Big Bank"
    assert "1200 employees" in call_input["briefing_note"]


def test_ordinary_lead_gets_standard_enrichment(policy: PolicyBrain) -> None:
    decision = policy.decide(lead(email="ann@smallco.io", company="SmallCo", employees=12))
    assert decision.first_workflow == "lead_enrichment"
    assert decision.calls[0].input == {
        "email": "ann@smallco.io",
        "source": "hubspot",
        "company": "SmallCo",
        "priority": "normal",
    }


def test_missing_fields_are_left_out_of_the_input_not_sent_as_null(policy: PolicyBrain) -> None:
    decision = policy.decide(lead(email="ann@smallco.io"))
    assert "company" not in decision.calls[0].input


def test_unknown_event_type_is_ignored_with_a_reason(policy: PolicyBrain) -> None:
    decision = policy.decide({"type": "weather.report", "data": {}})
    assert decision.action is DecisionAction.IGNORE
    assert decision.rule is None
    assert "weather.report" in decision.reason


def test_order_passes_the_whole_order_object(policy: PolicyBrain) -> None:
    order = {"order_id": "ORD-1", "lines": [{"sku": "A", "qty": 1}]}
    decision = policy.decide({"type": "order.created", "source": "shopify", "data": order})
    assert decision.calls[0].input == {"order_data": order, "expedited": False}


def test_fields_of_unexpected_type_do_not_match_and_do_not_crash(policy: PolicyBrain) -> None:
    decision = policy.decide(lead(email="ann@smallco.io", employees="a lot"))
    assert decision.first_workflow == "lead_enrichment"


def test_lookup_walks_dicts_and_lists() -> None:
    document = {"data": {"lines": [{"sku": "A"}, {"sku": "B"}]}}
    assert lookup(document, "data.lines.1.sku") == "B"
    assert lookup(document, "data.lines.5.sku") is not None  # the missing marker, not an exception


def test_rules_naming_unknown_workflows_are_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(
        '{"rules": [{"name": "r", "when": {"event_type": "x"},'
        ' "then": {"action": "trigger", "workflow": "nope", "reason": "r"}}]}'
    )
    with pytest.raises(ConfigurationError, match="nope"):
        PolicyBrain.from_file(rules, known_workflows=lambda name: False)


def test_bad_regex_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="bad pattern"):
        Rule.model_validate(
            {
                "name": "r",
                "when": {"any": [{"path": "data.x", "op": "matches", "value": "("}]},
                "then": {"action": "ignore", "reason": "r"},
            }
        )
