"""The agent's memory: per-customer context (90 days) and the daily operations summary.

Seed 000, "Give the Agent Context and Memory": the agent remembers that this customer had
three failed orders last week, and keeps a running summary of today's operations, flagging
patterns that suggest systemic issues. Both live in the context table (``data/context.py``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import Field

from tray_agent.clock import Clock, utc_now
from tray_agent.config import Settings
from tray_agent.data.context import ContextRepository
from tray_agent.errors import InvalidInputError
from tray_agent.models.base import Model
from tray_agent.models.decisions import Usage

FAILED_ORDER_TYPES = frozenset({"order.failed", "order.payment_failed", "order.fulfillment_failed"})
TICKET_OPENED_TYPES = frozenset({"ticket.created", "ticket.reopened"})
TICKET_CLOSED_TYPES = frozenset({"ticket.closed", "ticket.solved"})
HEALTH_TYPE = "customer.health_signals"
# Seed 000: "alert_on_failure_rate: 0.1".
FLAG_FAILURE_RATE = 0.1
FLAG_MIN_RUNS = 3
SUMMARY_RETENTION_DAYS = 35
DUPLICATE_WINDOW = timedelta(hours=24)  # a resend of the same event (same occurred_at)
NEAR_DUPLICATE_WINDOW = timedelta(minutes=5)  # the same content again (Settings.duplicate_window_s)
# Submission metadata a sender stamps anew on each resubmission: not the event's content.
_SUBMISSION_KEYS = frozenset(
    {"submitted_at", "submission_id", "form_submission_id", "received_at", "sent_at", "request_id", "nonce"}
)


class MemoryEntry(Model):
    at: datetime
    kind: str  # "event" (with its decision's outcome), "outcome" (e.g. a failed order from the monitor)
    event_type: str | None = None
    outcome: str | None = None
    workflow: str | None = None
    summary: str = ""


class CustomerContext(Model):
    """What the agent knows about a customer, loaded for each of their events."""

    customer_id: str
    failed_orders_7d: int = 0
    open_tickets: int = 0
    events_30d: int = 0
    triggered_30d: int = 0  # events that started a Tray workflow
    last_health: str | None = None  # the latest health-signals assessment, if any
    recent: list[MemoryEntry] = Field(default_factory=list)

    def for_rules(self) -> dict[str, Any]:
        """The flat view the policy rules match on (``context.failed_orders_7d`` ...)."""
        return self.model_dump(mode="json", exclude={"recent"})

    def brief(self) -> dict[str, Any]:
        """What the model reads: the counters and the ten most recent entries."""
        view = self.for_rules()
        view["recent"] = [e.model_dump(mode="json", exclude_none=True) for e in self.recent[:10]]
        return view


class CustomerMemory:
    def __init__(
        self,
        repository: ContextRepository,
        retention: timedelta,
        duplicate_window: timedelta = NEAR_DUPLICATE_WINDOW,
    ) -> None:
        self._repository = repository
        self._retention = retention
        self._duplicate_window = duplicate_window

    @classmethod
    def from_settings(cls, settings: Settings) -> CustomerMemory:
        return cls(
            ContextRepository(settings.context_table),
            timedelta(days=settings.context_retention_days),
            timedelta(seconds=settings.duplicate_window_s),
        )

    def load(self, customer_id: str, now: datetime | None = None) -> CustomerContext:
        now = now or utc_now()
        entries = [
            MemoryEntry.model_validate(item)
            for item in self._repository.customer_entries(customer_id, since=now - self._retention)
        ]
        week, month = now - timedelta(days=7), now - timedelta(days=30)
        failed = sum(
            1
            for e in entries
            if e.at >= week and (e.event_type in FAILED_ORDER_TYPES or e.outcome == "order_failed")
        )
        opened = sum(
            1 for e in entries if e.at >= month and e.event_type in TICKET_OPENED_TYPES and e.kind == "event"
        )
        closed = sum(
            1 for e in entries if e.at >= month and e.event_type in TICKET_CLOSED_TYPES and e.kind == "event"
        )
        return CustomerContext(
            customer_id=customer_id,
            failed_orders_7d=failed,
            open_tickets=max(opened - closed, 0),
            events_30d=sum(1 for e in entries if e.at >= month and e.kind == "event"),
            triggered_30d=sum(1 for e in entries if e.at >= month and e.outcome == "triggered"),
            last_health=next((e.summary for e in entries if e.event_type == HEALTH_TYPE), None),
            recent=entries[:20],
        )

    def remember(
        self,
        customer_id: str,
        *,
        kind: str,
        summary: str,
        event_type: str | None = None,
        outcome: str | None = None,
        workflow: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Add one entry (the agent after each event; the monitor for a failed order, ...)."""
        entry = MemoryEntry(
            at=at or utc_now(),
            kind=kind,
            event_type=event_type,
            outcome=outcome,
            workflow=workflow,
            summary=summary[:500],
        )
        expires_at = int((entry.at + self._retention).timestamp())
        self._repository.put_customer_entry(
            customer_id,
            entry.at,
            uuid.uuid4().hex[:12],
            entry.model_dump(mode="json", exclude_none=True),
            expires_at,
        )

    def first_with_same_content(self, document: dict[str, Any], now: datetime | None = None) -> str | None:
        """The earlier event id with the same content, if any.

        Two claims, one per kind of duplicate: the same content from the same sender (type,
        source, customer, data; not the id, not ``occurred_at``, not submission stamps) within
        the duplicate window, e.g. a form sent twice; and the same event resent under another id
        (``occurred_at`` too) within 24 hours. Events whose data differ never share a claim.
        """
        now = now or utc_now()
        event_id = str(document.get("id"))
        data = document.get("data")
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in _SUBMISSION_KEYS}
        content = {k: document.get(k) for k in ("type", "source", "customer_id")} | {"data": data}
        if self._duplicate_window > timedelta(0):
            earlier = self._claim("content", content, event_id, now, self._duplicate_window)
            if earlier is not None:
                return earlier
        resent = content | {"occurred_at": document.get("occurred_at")}
        return self._claim("event", resent, event_id, now, DUPLICATE_WINDOW)

    def _claim(
        self, kind: str, content: dict[str, Any], event_id: str, now: datetime, window: timedelta
    ) -> str | None:
        digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
        return self._repository.claim_fingerprint(
            f"{kind}:{digest}",
            event_id,
            now=int(now.timestamp()),
            expires_at=int((now + window).timestamp()),
        )


class WorkflowDay(Model):
    workflow: str
    total: int = 0
    by_outcome: dict[str, int] = Field(default_factory=dict)

    @property
    def failures(self) -> int:
        return self.by_outcome.get("failed", 0)


class SummaryNote(Model):
    at: datetime
    kind: str
    workflow: str | None = None
    outcome: str
    note: str


CREDITS = "credits"  # the summary kind under which decisions count Tray task credits


class CreditsDay(Model):
    """Tray task credits the agent's decisions spent and saved (estimates from each workflow's
    usual run; Tray's own bill is the truth)."""

    spent: int = 0
    saved: int = 0
    saved_by: dict[str, int] = Field(default_factory=dict)  # "duplicate", "fixed before trigger", ...

    @property
    def saved_ratio(self) -> float | None:
        total = self.spent + self.saved
        return round(self.saved / total, 3) if total else None


class ModelSpend(Model):
    """One model's day: calls, tokens and what they cost (``None``: some calls had no known price)."""

    model: str
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    unpriced_requests: int = 0  # requests to a model the prices file does not know


MODEL_SPEND = "model_spend"  # summary counters of the model's spend: model_spend#<model>#<metric>
NANO_USD = 1_000_000_000  # costs are summed as integers (one atomic ADD each)


class DailySummary(Model):
    """GET /summary/{day}: what ran, what failed, and patterns worth flagging."""

    day: str
    totals: dict[str, int] = Field(default_factory=dict)  # by kind ("decision", "execution", ...)
    outcomes: dict[str, int] = Field(default_factory=dict)
    workflows: list[WorkflowDay] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    notes: list[SummaryNote] = Field(default_factory=list)
    model_spend: list[ModelSpend] = Field(default_factory=list)  # per model, when a model was asked
    # Now, not per day: work waiting on an incident, and the incidents holding it (the ledger's).
    held_work: int | None = None
    open_incidents: list[str] = Field(default_factory=list)
    # Patterns over the last days that suggest a systemic issue, as sentences with their evidence.
    patterns: list[str] = Field(default_factory=list)
    credits: CreditsDay = Field(default_factory=CreditsDay)


class OperationsSummary:
    """The running daily operations summary, written by the agent and by the monitor.

    ``record(day, kind, workflow, outcome, note)``: ``kind`` says who saw it ("decision" for
    the agent, "execution" for the monitor, ...); ``outcome`` is free text such as
    "triggered", "ignored", "failed", "succeeded", "retried"; a ``note`` is kept verbatim
    (keep it short and free of personal data).
    """

    def __init__(
        self, settings: Settings, repository: ContextRepository | None = None, clock: Clock = utc_now
    ) -> None:
        self._repository = repository or ContextRepository(settings.context_table)
        self._clock = clock

    def record(
        self,
        day: date | str | None,
        kind: str,
        workflow: str | None,
        outcome: str,
        note: str | None = None,
        *,
        count: int = 1,
    ) -> None:
        """Count ``count`` occurrences (one atomic ADD) and keep the note, if any."""
        now = self._clock()
        day_key = _day_key(day or now.date())
        expires_at = int((now + timedelta(days=SUMMARY_RETENTION_DAYS)).timestamp())
        counter = f"{_clean(kind)}#{_clean(workflow or '-')}#{_clean(outcome)}"
        if count > 0:
            self._repository.add_to_counter(day_key, counter, expires_at, amount=count)
        if note:
            self._repository.put_note(
                day_key,
                now,
                uuid.uuid4().hex[:8],
                {
                    "at": now.isoformat(),
                    "kind": kind,
                    "workflow": workflow,
                    "outcome": outcome,
                    "note": note[:500],
                },
                expires_at,
            )

    def record_customer_failure(
        self, customer_id: str, workflow: str | None, day: date | str | None = None
    ) -> None:
        """One failed (or held) piece of work for a customer: repeated ones are a pattern."""
        now = self._clock()
        expires_at = int((now + timedelta(days=SUMMARY_RETENTION_DAYS)).timestamp())
        counter = f"customer#{_clean(customer_id)}#{_clean(workflow or '-')}"
        self._repository.add_pattern_counter(_day_key(day or now.date()), counter, expires_at)

    def customer_failures(self, day: date | str) -> dict[tuple[str, str], int]:
        """(customer, workflow) → failures that day."""
        found: dict[tuple[str, str], int] = {}
        for item in self._repository.summary_items(_day_key(day)):
            sk = str(item["sk"])
            if sk.startswith("pattern#customer#"):
                customer, _, workflow = sk.removeprefix("pattern#customer#").partition("#")
                found[(customer, workflow)] = int(item.get("count", 0))
        return found

    def record_model_spend(self, usage: Usage, day: date | str | None = None) -> None:
        """Add one decision's model usage to the day (tokens always; cost only when priced)."""
        if usage.requests <= 0:
            return
        now = self._clock()
        day_key = _day_key(day or now.date())
        expires_at = int((now + timedelta(days=SUMMARY_RETENTION_DAYS)).timestamp())
        metrics = {
            "requests": usage.requests,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
        }
        if usage.estimated_cost_usd is None:
            metrics["unpriced_requests"] = usage.requests
        else:
            metrics["cost_nano_usd"] = round(usage.estimated_cost_usd * NANO_USD)
        for metric, amount in metrics.items():
            if amount:
                counter = f"{MODEL_SPEND}#{_clean(usage.model or 'unknown')}#{metric}"
                self._repository.add_to_counter(day_key, counter, expires_at, amount=amount)

    def read(self, day: date | str) -> DailySummary:
        day_key = _day_key(day)
        totals: dict[str, int] = defaultdict(int)
        outcomes: dict[str, int] = defaultdict(int)
        workflows: dict[str, WorkflowDay] = {}
        notes: list[SummaryNote] = []
        credits = CreditsDay()
        spend: dict[str, dict[str, int]] = {}
        for item in self._repository.summary_items(day_key):
            sk = str(item["sk"])
            if sk.startswith("count#"):
                kind, workflow, outcome = sk.removeprefix("count#").split("#", 2)
                count = int(item.get("count", 0))
                if kind == CREDITS:  # task credits, not occurrences: counted apart
                    if outcome == "spent":
                        credits.spent += count
                    else:
                        credits.saved += count
                        credits.saved_by[workflow] = credits.saved_by.get(workflow, 0) + count
                    continue
                if kind == MODEL_SPEND:  # workflow: the model, outcome: the metric
                    spend.setdefault(workflow, {})[outcome] = count
                    continue
                totals[kind] += count
                outcomes[outcome] += count
                if workflow != "-":
                    day_of = workflows.setdefault(workflow, WorkflowDay(workflow=workflow))
                    day_of.total += count
                    day_of.by_outcome[outcome] = day_of.by_outcome.get(outcome, 0) + count
            elif sk.startswith("note#"):
                notes.append(
                    SummaryNote.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})
                )
        flags = [
            f"{w.workflow}: {w.failures} of {w.total} failed today ({w.failures / w.total:.0%})"
            for w in sorted(workflows.values(), key=lambda w: w.workflow)
            if w.total >= FLAG_MIN_RUNS and w.failures / w.total >= FLAG_FAILURE_RATE
        ]
        notes.sort(key=lambda n: n.at, reverse=True)
        return DailySummary(
            day=day_key,
            totals=dict(totals),
            outcomes=dict(outcomes),
            workflows=sorted(workflows.values(), key=lambda w: w.workflow),
            flags=flags,
            notes=notes[:50],
            credits=credits,
            model_spend=[_model_spend(model, metrics) for model, metrics in sorted(spend.items())],
        )


def _day_key(day: date | str) -> str:
    text = day.isoformat() if isinstance(day, date) else day
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise InvalidInputError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def _model_spend(model: str, metrics: dict[str, int]) -> ModelSpend:
    unpriced = metrics.get("unpriced_requests", 0)
    return ModelSpend(
        model=model,
        requests=metrics.get("requests", 0),
        prompt_tokens=metrics.get("prompt_tokens", 0),
        completion_tokens=metrics.get("completion_tokens", 0),
        # Part of the day unpriced: the total is unknown, not the priced part passed off as all.
        cost_usd=None if unpriced else metrics.get("cost_nano_usd", 0) / NANO_USD,
        unpriced_requests=unpriced,
    )


def _clean(part: str) -> str:
    return part.replace("#", "_")[:100]
