"""Shared fixtures: one local environment (moto + Tray simulator) per test process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")


@pytest.fixture(scope="session")
def local_env() -> Iterator[Any]:
    """moto (in-process) and the Tray simulator (real HTTP on 127.0.0.1), shared by a process.

    Tests stay independent by using unique event ids (see ``new_event``), never by resetting.
    """
    from tray_local.local_env import LocalEnvironment

    with LocalEnvironment.start() as env:
        yield env


def _tag() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def new_event(event_type: str = "lead.created", **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": f"evt-{uuid.uuid4()}",
        "type": event_type,
        "source": "hubspot",
        "occurred_at": datetime.now(UTC).isoformat(),
        # Each call is another lead (its own campaign tag): the same content from the same sender
        # within minutes would be a near-duplicate, which is not what most tests are about.
        "data": {"email": "ann@smallco.io", "company": "SmallCo", "employees": 12, "utm_campaign": _tag()},
    }
    event.update(overrides)
    return event


def work_key(origin_id: str, kind: str = "event") -> str:
    """The prefix of every Tray attempt key the agent uses for one event's (or situation's) work."""
    from tray_agent.models.work import WorkKind, work_id_for

    return work_id_for(WorkKind(kind), origin_id) + "."


def business_input(run: Any) -> dict[str, Any]:
    """A run's input without the attempt key the agent adds for the processed-ids check."""
    return {k: v for k, v in run.input.items() if k != "tray_agent_attempt_key"}
