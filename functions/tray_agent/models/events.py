"""Inbound business events and the API's answer to them."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field

from tray_agent.models.base import Model
from tray_agent.models.decisions import DecisionAction

_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
MAX_ID_LENGTH = 256


def _no_control_characters(value: str) -> str:
    # Any other Unicode is welcome (senders use emoji and CJK ids); control characters are not
    # ids, and they break log lines and terminals. Lone surrogates never get this far: the API
    # refuses them while parsing the body.
    if found := _CONTROL_CHARACTERS.search(value):
        raise ValueError(f"must not contain control characters (U+{ord(found.group()):04X})")
    return value


# A sender's identifier: 1-256 characters (code points) of any Unicode except control characters.
ExternalId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_ID_LENGTH,
        # Documented (not enforced by this pattern: the validator below names the character).
        json_schema_extra={"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"},
    ),
    AfterValidator(_no_control_characters),
]


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


class InboundEvent(Model):
    """A business event from a machine sender (CRM, shop, helpdesk, alerting, Tray callbacks)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: ExternalId = Field(description="Sender's unique id, any Unicode; the idempotency key")
    type: str = Field(
        min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_.-]*$", description="e.g. lead.created"
    )
    source: str = Field(min_length=1, max_length=100, description="Sending system, e.g. hubspot")
    # Text only: pydantic would take a number as Unix seconds, which the contract does not promise.
    occurred_at: Annotated[AwareDatetime, BeforeValidator(_iso_text)] = Field(
        description="When it happened, ISO 8601 with a timezone"
    )
    customer_id: ExternalId | None = None
    data: dict[str, Any] = Field(default_factory=dict, description="The event's payload")


class EventAccepted(Model):
    """202 answer: what the agent decided, and the Tray execution it started, if any."""

    decision_id: str
    action: DecisionAction
    workflow: str | None = None
    execution_id: str | None = None
    reason: str | None = None
    brain: str | None = None  # "policy" or "llm"
    review_id: str | None = None  # set when the decision waits for a person
    status: str | None = None  # the work's state: done, held, in_review, acting, ignored, failed …
    work_id: str | None = None  # GET /work/{work_id}: where the work is, its attempts and incident


class ErrorBody(Model):
    error: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
