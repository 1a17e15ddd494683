"""Follow-ups the agent schedules itself, and customer health assessments.

A follow-up is a work item of kind ``followup`` (the ledger, models/work.py) whose id is derived
from the work that scheduled it and its check, so scheduling it twice records it once. Its due
time is its lease expiry: when it is due, the schedule fires it, and the sweeper finds it too.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from tray_agent.errors import InvalidInputError
from tray_agent.models.base import Model

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_FOLLOW_UP_S = 90 * 86400  # memory keeps 90 days; a later check would have nothing to compare


def parse_after(value: str | int | float) -> float:
    """``"3d"``, ``"72h"``, ``"30m"`` or seconds, as seconds (1 s .. 90 days)."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration such as '3d', '72h' or '30m'")
        seconds = float(int(match.group(1)) * _UNIT_S[match.group(2)])
    if not 1 <= seconds <= MAX_FOLLOW_UP_S:
        raise ValueError(f"a follow-up is due between 1 s and 90 days later, not {seconds:.0f} s")
    return seconds


class FollowUpPlan(Model):
    """A later check a decision asks for: ``after`` this long, run ``check``; ``then`` says what to do."""

    model_config = ConfigDict(frozen=True)

    after_s: float = Field(gt=0, le=MAX_FOLLOW_UP_S)
    check: str  # a registered check: domain/agent/followups.py CHECKS
    then: dict[str, Any] = Field(default_factory=dict)  # e.g. {"workflow": ..., "escalate_workflow": ...}
    input: dict[str, Any] = Field(default_factory=dict)  # what the check is about (person, tools ...)
    customer_id: str | None = None
    person: str | None = None  # whom it is about (an e-mail), for listing and cancelling
    miss: int = Field(default=1, ge=1, le=5)  # the how-manieth look (a second miss escalates)

    @field_validator("check")
    @classmethod
    def _bounded(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", value):
            raise ValueError(f"{value!r} is not a check name")
        return value


class FollowUpView(Model):
    """``GET /follow-ups``: one follow-up, where it stands."""

    work_id: str
    check: str
    due_at: datetime
    state: str
    customer_id: str | None = None
    person: str | None = None
    scheduled_by: str  # the work that asked for it
    miss: int = 1
    reason: str | None = None


class SignalContribution(Model):
    """One signal's part in an assessment, with its trend and the events it rests on."""

    signal: str
    weight: float
    trend: str
    evidence: list[str] = Field(default_factory=list)  # "2026-11-03 ticket.created evt-…"


class HealthAssessment(Model):
    customer_id: str
    at: datetime
    score: float
    at_risk: bool
    level: str  # "healthy" | "watch" | "medium" | "high"
    contributions: list[SignalContribution] = Field(default_factory=list)
    combination: str = ""  # why it crossed (or why not)
    episode_id: str | None = None
    new_episode: bool = False
    work_id: str | None = None  # the CSM task's work, when this assessment opened an episode

    def brief(self) -> str:
        """The written brief the CSM reads: every contribution with its trend and evidence."""
        lines = [
            f"Churn risk for {self.customer_id} ({self.level}, score {self.score:.2f}): {self.combination}."
        ]
        for part in self.contributions:
            lines.append(f"- {part.signal} (+{part.weight:.2f}): {part.trend}.")
            lines.extend(f"  · {cited}" for cited in part.evidence[:8])
        lines.append("Suggested: review the open tickets and billing, then call the sponsor.")
        return "\n".join(lines)


def due(after_s: float, now: datetime) -> datetime:
    return now + timedelta(seconds=after_s)


def followup_plan_from(spec: dict[str, Any], *, customer_id: str | None, person: str | None) -> FollowUpPlan:
    """A plan from the rules' or the LLM's ``{after, check, then, input}`` (after: '3d', '72h', seconds)."""
    try:
        return FollowUpPlan(
            after_s=parse_after(spec.get("after", "")),
            check=str(spec.get("check", "")),
            then=dict(spec.get("then") or {}),
            input=dict(spec.get("input") or {}),
            customer_id=customer_id,
            person=person,
        )
    except ValueError as exc:
        raise InvalidInputError(f"bad follow-up: {exc}") from exc
