"""Pure units: the policy's first pass, the guardrails' verdicts, redaction. No AWS, no Tray."""

from __future__ import annotations

from typing import Any

import pytest

from tray_agent.config import DEFAULT_RULES_FILE, DEFAULT_WORKFLOWS_FILE
from tray_agent.domain.agent.guardrails import Guardrails, redact
from tray_agent.domain.agent.policy import PolicyBrain
from tray_agent.domain.agent.registry import ToolRegistry
from tray_agent.models.decisions import Decision, DecisionAction, WorkflowCall


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    return ToolRegistry.from_file(DEFAULT_WORKFLOWS_FILE)


@pytest.fixture(scope="module")
def policy(registry: ToolRegistry) -> PolicyBrain:
    return PolicyBrain.from_file(DEFAULT_RULES_FILE, known_workflows=registry.__contains__)


def doc(event_type: str, **data: Any) -> dict[str, Any]:
    return {"id": "e", "type": event_type, "source": "s", "data": data, "context": {}}


def test_first_pass_catches_spam_noise_and_unknown_types_but_leaves_the_rest_to_the_model(
    policy: PolicyBrain,
) -> None:
    assert policy.screen(doc("lead.created", email="a@yopmail.com")).rule == "spam-lead"  # type: ignore[union-attr]
    assert policy.screen(doc("alert.raised", severity="info")).rule == "info-alert"  # type: ignore[union-attr]
    unknown = policy.screen(doc("calendar.synced"))
    assert unknown is not None and unknown.action is DecisionAction.IGNORE and unknown.rule is None
    assert policy.screen(doc("lead.created", email="a@real.io", employees=40)) is None
    assert policy.screen(doc("order.created", order_id="1")) is None


def _decision(workflow: str, confidence: float = 0.9, **input: Any) -> Decision:
    return Decision(
        action=DecisionAction.TRIGGER,
        calls=[WorkflowCall(workflow=workflow, input=input)],
        reason="r",
        confidence=confidence,
    )


def test_guardrails_hold_approval_tools_low_confidence_unknown_and_invalid(registry: ToolRegistry) -> None:
    guard = Guardrails(registry, confidence_threshold=0.7)
    ok = guard.check(_decision("order_processing", order_data={"id": 1}))
    assert ok.execute and ok.calls[0].input == {"order_data": {"id": 1}, "expedited": False}  # schema default
    refund = guard.check(_decision("issue_refund", customer_id="c", amount=5, currency="EUR"))
    assert not refund.execute and "requires human approval" in (refund.held_because or "")
    low = guard.check(_decision("order_processing", confidence=0.5, order_data={}))
    assert not low.execute and "below the 0.70 threshold" in (low.held_because or "")
    unknown = guard.check(_decision("wire_money"))
    assert not unknown.execute and "not a registered workflow" in (unknown.held_because or "")
    invalid = guard.check(_decision("csm_health_task", customer_id="c"))
    assert not invalid.execute and "input for workflow 'csm_health_task' is invalid" in (
        invalid.held_because or ""
    )
    ignore = guard.check(Decision(action=DecisionAction.IGNORE, reason="spam"))
    assert not ignore.execute and ignore.held_because is None


def test_redaction_masks_secrets_and_personal_identifiers_and_cuts_long_text() -> None:
    data = {
        "email": "ann@x.io",
        "password": "hunter2",
        "nested": {"apiKey": "k", "card_number": "4111", "notes": "n" * 5000},
        "items": [{"ssn": "123-45-6789"}],
    }
    clean = redact(data)
    assert clean["email"] == "ann@x.io"  # tools need it
    assert clean["password"] == clean["nested"]["apiKey"] == "[redacted:secret]"
    assert clean["nested"]["card_number"] == "[redacted:card]"
    assert clean["items"][0]["ssn"] == "[redacted:ssn]"
    assert len(clean["nested"]["notes"]) < 2100
    assert data["password"] == "hunter2"  # a copy, the event itself is untouched
