"""Event models, settings and the tool registry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tray_agent.config import DEFAULT_WORKFLOWS_FILE, settings_from_env
from tray_agent.domain.agent.registry import ToolInputError, ToolRegistry, UnknownToolError
from tray_agent.errors import ConfigurationError
from tray_agent.models.events import InboundEvent
from tray_agent.models.workflows import WorkflowTrigger

VALID = {
    "id": "evt-1",
    "type": "lead.created",
    "source": "hubspot",
    "occurred_at": "2026-11-20T10:00:00Z",
    "data": {"email": "a@b.co"},
}


def test_a_valid_event_parses() -> None:
    event = InboundEvent.model_validate(VALID)
    assert event.customer_id is None
    assert event.occurred_at.tzinfo is not None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": ""}, "id"),
        ({"type": "Lead Created!"}, "type"),
        ({"occurred_at": "2026-11-20T10:00:00"}, "occurred_at"),  # no timezone
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"data": "not an object"}, "data"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_events_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        InboundEvent.model_validate({**VALID, **change})
    assert field in str(info.value)


def test_settings_read_prefixed_and_openai_variables() -> None:
    settings = settings_from_env(
        {"TRAY_AGENT_DECISIONS_TABLE": "d", "OPENAI_MODEL": "gpt-x", "TRAY_AGENT_TRAY_REGION": "eu"}
    )
    assert settings.decisions_table == "d"
    assert settings.model_configured
    assert settings.tray_region == "eu"
    assert "tray_master_token" not in repr(settings)


def test_invalid_settings_fail_at_cold_start() -> None:
    with pytest.raises(ConfigurationError, match="tray_region"):
        settings_from_env({"TRAY_AGENT_TRAY_REGION": "mars"})


def test_registry_validates_tool_input_before_any_call() -> None:
    registry = ToolRegistry.from_file(DEFAULT_WORKFLOWS_FILE)
    assert registry.validate_input("order_processing", {"order_data": {"id": 1}}) == {
        "order_data": {"id": 1},
        "expedited": False,
    }
    with pytest.raises(ToolInputError, match="order_processing"):
        registry.validate_input("order_processing", {"expedited": True})
    with pytest.raises(UnknownToolError):
        registry.get("launch_missiles")


def test_a_trigger_needs_a_target() -> None:
    with pytest.raises(ValidationError, match="webhook_url or a workflow_id"):
        WorkflowTrigger()
