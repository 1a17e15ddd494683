"""The classifier on seed 001's error codes: every class of the recovery table, from code,
message or step logs alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tray_agent.domain.monitor.classify import classify
from tray_agent.domain.monitor.recovery import best_match, largest_list
from tray_agent.domain.monitor.scan import chain_of
from tray_agent.models.monitor import FailureClass
from tray_agent.tray import Execution
from tray_local.simulator import SALESFORCE_PICKLISTS

PICKLIST_MESSAGE = (
    "FIELD_CUSTOM_VALIDATION_EXCEPTION: Industry: bad value for restricted picklist field: SaaS"
)


def _failed(error: dict[str, Any] | None, logs: list[str] | None = None, key: str | None = None) -> Execution:
    return Execution.model_validate(
        {
            "id": "exec-1",
            "workflowId": "wf-x",
            "status": "failed",
            "error": error,
            "steps": [{"name": "run", "connector": "zendesk", "status": "failed", "logs": logs or []}],
            "createdAt": datetime.now(UTC),
            "idempotencyKey": key,
        }
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"code": "HTTP_429", "message": "rate limit exceeded", "retryAfter": 30}, FailureClass.RATE_LIMITED),
        ({"code": "CONNECTOR_ERROR", "message": "HubSpot: 429 Too Many Requests"}, FailureClass.RATE_LIMITED),
        ({"code": "STEP_TIMEOUT", "message": "did not finish within 45 s"}, FailureClass.TRANSIENT),
        ({"code": "SERVICE_UNAVAILABLE", "message": "NetSuite 503"}, FailureClass.TRANSIENT),
        (
            {"code": "CONNECTOR_ERROR", "message": "Clearbit 502", "serviceCode": "HTTP_502"},
            FailureClass.TRANSIENT,
        ),
        (
            {"code": "CONNECTOR_ERROR", "message": "read ECONNRESET: connection reset by peer"},
            FailureClass.TRANSIENT,
        ),
        (
            {
                "code": "CONNECTOR_ERROR",
                "message": PICKLIST_MESSAGE,
                "serviceCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                "details": {"field": "Account.Industry", "value": "SaaS"},
            },
            FailureClass.DATA_MISMATCH,
        ),
        ({"code": "PAYLOAD_TOO_LARGE", "message": "step data over 6 MB"}, FailureClass.PAYLOAD_TOO_LARGE),
        ({"code": "AUTH_REFRESH_FAILED", "message": "for authentication 'Slack (Ops)'"}, FailureClass.AUTH),
        ({"code": "CONNECTOR_ERROR", "message": "HTTP 401 Unauthorized"}, FailureClass.AUTH),
        ({"code": "WORKFLOW_DISABLED", "message": "workflow is not enabled"}, FailureClass.DISABLED),
        ({"code": "SCRIPT_ERROR", "message": "TypeError"}, FailureClass.UNKNOWN),
        (None, FailureClass.UNKNOWN),
    ],
)
def test_each_error_is_classified(error: dict[str, Any] | None, expected: FailureClass) -> None:
    assert classify(_failed(error)).failure_class is expected


def test_details_come_from_the_message_when_the_error_has_none() -> None:
    picklist = classify(
        _failed(
            {
                "code": "CONNECTOR_ERROR",
                "message": PICKLIST_MESSAGE,
            }
        )
    )
    assert (picklist.field, picklist.value) == ("Industry", "SaaS")
    auth = classify(_failed({"code": "AUTH_REFRESH_FAILED", "message": "for authentication 'Slack (Ops)'"}))
    assert auth.auth_name == "Slack (Ops)"
    logs_only = classify(_failed({"code": "CONNECTOR_ERROR", "message": "failed"}, logs=["connection reset"]))
    assert logs_only.failure_class is FailureClass.TRANSIENT and logs_only.service == "zendesk"
    assert classify(_failed({"code": "HTTP_429", "message": "x", "retryAfter": 12})).retry_after_s == 12


def test_picklist_values_are_matched_only_when_unambiguous() -> None:
    industries = SALESFORCE_PICKLISTS["Account.Industry"]
    assert best_match("SaaS", industries) == "Technology - SaaS"
    assert best_match("banking", industries) == "Banking"
    assert best_match("Healthcar", industries) == "Healthcare"
    assert best_match("Technology", industries) is None  # three candidates: a person decides
    assert best_match("Crypto", industries) is None
    assert largest_list({"a": [1], "records": [1, 2, 3], "b": "x"}) == "records"
    assert largest_list({"a": 1}) is None


def test_chains_and_agent_events_are_read_from_idempotency_keys() -> None:
    assert chain_of(_failed(None, key="monitor:exec-root:2")) == ("exec-root", 2, None)
    assert chain_of(_failed(None, key="monitor:exec-root:1:c3")) == ("exec-root.c3", 0, None)
    work = "event-" + "0" * 32
    assert chain_of(_failed(None, key=f"{work}.a1.0")) == ("exec-1", 0, work)
    assert chain_of(_failed(None)) == ("exec-1", 0, None)
