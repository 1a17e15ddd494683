"""Customer health from the ordinary events the agent already receives.

Each event that says something about a customer's health leaves a signal in the customer's
memory, bucketed by the day it happened (data/health.py): tickets opened (and their
sentiment), failed or late payments, usage reports, NPS answers, renewal dates. An assessment
compares the last ``RECENT_DAYS`` with the customer's own earlier baseline and explains itself:
each signal's contribution, its trend, the events it rests on, and the combination that
crossed. One signal alone never makes a risk; a combination does.

Crossing into risk opens a risk episode (a conditional write: one per episode, not per event)
and starts the CSM task through the ledger, with the written brief and a check-in follow-up.
An episode closes when the score falls back under half the threshold; only then can a new one
open. Assessments run when a signal arrives and once a day for every customer with signals.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from statistics import mean
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tray_agent.clock import Clock, utc_now
from tray_agent.data.health import HealthRepository
from tray_agent.models.decisions import Decision, DecisionAction, WorkflowCall
from tray_agent.models.followups import FollowUpPlan, HealthAssessment, SignalContribution
from tray_agent.models.work import WorkItem, WorkKind
from tray_agent.observability import logger

if TYPE_CHECKING:
    from tray_agent.domain.agent.work import WorkEngine

RECENT_DAYS = 14
BASELINE_DAYS = 60
EPISODE_NAMESPACE = uuid.UUID("9d2b6e41-7c3f-4a15-b8e0-5f1a2c3d4e57")
TICKET_TYPES = frozenset({"ticket.created", "ticket.reopened"})
PAYMENT_FAILED_TYPES = frozenset({"payment.failed", "invoice.payment_failed", "order.payment_failed"})
PAYMENT_LATE_TYPES = frozenset({"payment.late", "invoice.overdue"})
USAGE_TYPES = frozenset({"usage.reported", "product.usage"})
NPS_TYPES = frozenset({"nps.responded", "survey.nps"})
RENEWAL_TYPES = frozenset({"order.created", "order.placed", "contract.signed", "contract.renewed"})
NEGATIVE = frozenset({"negative", "angry", "frustrated", "very_negative"})


class Signal(BaseModel):
    day: date
    signal: str  # ticket | payment_failed | payment_late | usage | nps | renewal
    event_id: str
    event_type: str
    value: float | None = None
    negative: bool = False
    renewal: str | None = None  # the renewal date (ISO) a contract or order carries


def signals_from_event(event: dict[str, Any]) -> list[Signal]:
    """The health signals an ordinary event carries (most carry none)."""
    event_type = str(event.get("type", ""))
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    assert isinstance(data, dict)
    try:
        day = datetime.fromisoformat(str(event.get("occurred_at"))).date()
    except ValueError:
        day = utc_now().date()
    base = {"day": day, "event_id": str(event.get("id")), "event_type": event_type}
    found: list[Signal] = []
    if event_type in TICKET_TYPES:
        sentiment = data.get("sentiment")
        negative = (isinstance(sentiment, str) and sentiment.lower() in NEGATIVE) or (
            isinstance(sentiment, int | float) and sentiment < -0.3
        )
        found.append(Signal(signal="ticket", negative=negative, **base))
    elif event_type in PAYMENT_FAILED_TYPES:
        found.append(Signal(signal="payment_failed", **base))
    elif event_type in PAYMENT_LATE_TYPES:
        found.append(Signal(signal="payment_late", **base))
    elif event_type in USAGE_TYPES:
        value = next((data[k] for k in ("active_users", "usage", "sessions", "value") if k in data), None)
        if isinstance(value, int | float):
            found.append(Signal(signal="usage", value=float(value), **base))
    elif event_type in NPS_TYPES and isinstance(data.get("score"), int | float):
        found.append(Signal(signal="nps", value=float(data["score"]), **base))
    if event_type in RENEWAL_TYPES and isinstance(data.get("renewal_date"), str):
        found.append(Signal(signal="renewal", renewal=data["renewal_date"], **base))
    return found


def _cite(s: Signal) -> str:
    extra = f" value {s.value:g}" if s.value is not None else ""
    extra += " (negative)" if s.negative else ""
    return f"{s.day.isoformat()} {s.event_type} {s.event_id}{extra}"


def _tickets(tickets: list[Signal], recent_from: date) -> SignalContribution | None:
    recent = [s for s in tickets if s.day >= recent_from]
    older = [s for s in tickets if s.day < recent_from]
    base_days = max((recent_from - older[0].day).days, RECENT_DAYS) if older else BASELINE_DAYS - RECENT_DAYS
    base_rate = len(older) / base_days
    recent_rate = len(recent) / RECENT_DAYS
    if len(recent) < 3 or recent_rate < 2 * base_rate:
        return None
    negative = sum(1 for s in recent if s.negative)
    return SignalContribution(
        signal="support tickets rising",
        weight=0.3 + (0.1 if negative * 2 >= len(recent) else 0.0),
        trend=f"{len(recent)} tickets in the last {RECENT_DAYS} days ({recent_rate * 7:.1f}/week) "
        f"against {base_rate * 7:.1f}/week before; {negative} with negative sentiment",
        evidence=[_cite(s) for s in recent],
    )


def _usage(usage: list[Signal], recent_from: date) -> SignalContribution | None:
    base_usage = [s for s in usage if s.day < recent_from]
    recent_usage = [s for s in usage if s.day >= recent_from]
    if not base_usage or not recent_usage:
        return None
    baseline = mean(s.value or 0.0 for s in base_usage)
    latest = recent_usage[-1].value or 0.0
    if baseline <= 0 or latest > 0.75 * baseline:
        return None
    drop = 1 - latest / baseline
    return SignalContribution(
        signal="product usage falling",
        weight=0.4 if drop >= 0.5 else 0.3,
        trend=f"latest usage {latest:g} is {drop:.0%} under the customer's baseline {baseline:.1f}",
        evidence=[_cite(s) for s in [*base_usage[-2:], *recent_usage]],
    )


def _billing(by_kind: dict[str, list[Signal]], today: date) -> SignalContribution | None:
    failed = [s for s in by_kind["payment_failed"] if s.day >= today - timedelta(days=30)]
    late = [s for s in by_kind["payment_late"] if s.day >= today - timedelta(days=30)]
    if not failed and not late:
        return None
    return SignalContribution(
        signal="billing trouble",
        weight=0.3 if failed else 0.15,
        trend=f"{len(failed)} failed and {len(late)} late payments in the last 30 days",
        evidence=[_cite(s) for s in [*failed, *late]],
    )


def _nps(answers: list[Signal], today: date) -> SignalContribution | None:
    recent = [s for s in answers if s.day >= today - timedelta(days=90)]
    if not recent or (recent[-1].value or 0.0) > 6:
        return None
    score = recent[-1].value or 0.0
    return SignalContribution(
        signal="detractor NPS",
        weight=0.25 if score <= 3 else 0.2,
        trend=f"latest NPS answer {score:g} (a detractor)",
        evidence=[_cite(recent[-1])],
    )


def _renewal(renewals: list[Signal], today: date) -> SignalContribution | None:
    if not renewals:
        return None
    try:
        renewal_on = date.fromisoformat(str(renewals[-1].renewal)[:10])
    except ValueError:
        return None
    if not 0 <= (renewal_on - today).days <= 60:
        return None
    return SignalContribution(
        signal="renewal soon",
        weight=0.1,
        trend=f"renewal on {renewal_on.isoformat()}, in {(renewal_on - today).days} days",
        evidence=[_cite(renewals[-1])],
    )


def assess(customer_id: str, signals: list[Signal], now: datetime, threshold: float) -> HealthAssessment:
    """The explainable assessment: contributions against the customer's own baseline."""
    today = now.date()
    recent_from = today - timedelta(days=RECENT_DAYS - 1)
    by_kind: dict[str, list[Signal]] = defaultdict(list)
    for s in sorted(signals, key=lambda s: s.day):
        if s.day <= today:
            by_kind[s.signal].append(s)
    found = [
        _tickets(by_kind["ticket"], recent_from),
        _usage(by_kind["usage"], recent_from),
        _billing(by_kind, today),
        _nps(by_kind["nps"], today),
    ]
    parts = [p for p in found if p is not None]
    renewal = _renewal(by_kind["renewal"], today) if parts else None  # it amplifies, never alone
    if renewal is not None:
        parts.append(renewal)
    score = round(sum(p.weight for p in parts), 3)
    kinds = [p.signal for p in parts if p.signal != "renewal soon"]
    at_risk = score >= threshold and len(kinds) >= 2
    if at_risk:
        combination = " + ".join(kinds) + f" together reach {score:.2f} (threshold {threshold:.2f})"
        level = "high" if score >= threshold + 0.3 else "medium"
    elif parts:
        why = "one signal alone is not a risk" if len(kinds) < 2 else f"under the threshold {threshold:.2f}"
        combination = f"{' + '.join(kinds)} ({score:.2f}): {why}"
        level = "watch"
    else:
        combination = "no signal departs from the customer's baseline"
        level = "healthy"
    return HealthAssessment(
        customer_id=customer_id,
        at=now,
        score=score,
        at_risk=at_risk,
        level=level,
        contributions=parts,
        combination=combination,
    )


class SweepReport(BaseModel):
    customers: int = 0
    assessments: int = 0
    at_risk: int = 0
    tasks_started: int = 0
    deferred: int = 0  # crossed, but the sweep's Tray budget was spent: the next sweep starts them


class CustomerHealth:
    def __init__(
        self,
        repository: HealthRepository,
        engine: WorkEngine,
        *,
        threshold: float,
        recheck_days: int,
        retention: timedelta,
        write_brief: Callable[[HealthAssessment], str | None] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._repository = repository
        self._engine = engine
        self._threshold = threshold
        self._recheck_days = recheck_days
        self._retention = retention
        self._write_brief = write_brief  # the LLM brain, when configured; else the policy brief
        self._clock = clock
        self.assessments = 0  # for the figures: how many assessments this instance ran

    def use_clock(self, clock: Clock) -> None:
        self._clock = clock

    def observe(self, event: dict[str, Any]) -> HealthAssessment | None:
        """Remember the event's signals; assess the customer if it carried any."""
        customer_id = event.get("customer_id")
        signals = signals_from_event(event)
        if not customer_id or not signals:
            return None
        for s in signals:
            expires = int((datetime.combine(s.day, datetime.min.time()) + self._retention).timestamp())
            self._repository.put_signal(
                str(customer_id),
                day=s.day,
                signal=s.signal,
                event_id=s.event_id,
                doc=s.model_dump(mode="json"),
                expires_at=expires,
            )
        return self.assess_and_act(str(customer_id))

    def assessment(self, customer_id: str, now: datetime | None = None) -> HealthAssessment:
        now = now or self._clock()
        since = now.date() - timedelta(days=BASELINE_DAYS + 30)
        signals = [Signal.model_validate(item) for item in self._repository.signals(customer_id, since)]
        self.assessments += 1
        return assess(customer_id, signals, now, self._threshold)

    def assess_and_act(self, customer_id: str, *, may_start_task: bool = True) -> HealthAssessment:
        now = self._clock()
        result = self.assessment(customer_id, now)
        episode = self._repository.episode(customer_id)
        is_open = episode is not None and episode.get("status") == "open"
        if is_open and episode is not None and result.score < self._threshold / 2:
            self._repository.close_episode(customer_id, str(episode["episode_id"]), now)
            logger.info("risk episode closed", customer_id=customer_id, score=result.score)
            return result
        if is_open and episode is not None:
            result.episode_id = str(episode["episode_id"])
            return result  # the same episode: no second task
        if not result.at_risk or not may_start_task:
            return result
        episode_id = str(uuid.uuid5(EPISODE_NAMESPACE, f"{customer_id}|{now.isoformat()}"))
        expires = int((now + self._retention).timestamp())
        if not self._repository.open_episode(customer_id, episode_id, now, result.score, expires):
            current = self._repository.episode(customer_id) or {}
            result.episode_id = str(current.get("episode_id") or "") or None
            return result  # another assessment opened it a moment ago
        result.episode_id, result.new_episode = episode_id, True
        result.work_id = self._start_task(result).work_id
        return result

    def _start_task(self, result: HealthAssessment) -> WorkItem:
        """The CSM task through the ledger (one work item per episode), with a check-in follow-up."""
        written = self._write_brief(result) if self._write_brief else None
        brief = written or result.brief()
        decision = Decision(
            action=DecisionAction.TRIGGER,
            calls=[
                WorkflowCall(
                    workflow="csm_health_task",
                    input={
                        "customer_id": result.customer_id,
                        "risk_level": "high" if result.level == "high" else "medium",
                        "brief": brief[:8000],
                        "check_in_within_days": min(self._recheck_days, 30),
                    },
                )
            ],
            reason=f"churn risk for {result.customer_id}: {result.combination}",
            rule="health.accumulated",
            brain="llm" if written else "policy",
            follow_ups=[
                FollowUpPlan(
                    after_s=self._recheck_days * 86400.0,
                    check="health_recheck",
                    input={"customer_id": result.customer_id, "episode_id": result.episode_id},
                    customer_id=result.customer_id,
                )
            ],
        )
        logger.info("risk episode opened", customer_id=result.customer_id, score=result.score)
        return self._engine.accept(
            WorkKind.SITUATION,
            f"health:{result.customer_id}:{result.episode_id}",
            {"id": result.episode_id, "type": "customer.health_risk", "customer_id": result.customer_id},
            event_type="customer.health_risk",
            source="tray-agent-health",
            customer_id=result.customer_id,
            decision=decision,
            inputs={"assessment": result.model_dump(mode="json", exclude={"work_id"})},
        )

    def recheck(self, work: WorkItem, plan: FollowUpPlan) -> Decision:
        """The check-in follow-up: recovered → the episode closes; still at risk → the task stands."""
        customer_id = str(plan.input.get("customer_id") or work.customer_id)
        result = self.assessment(customer_id)
        if not result.at_risk:
            self._repository.close_episode(customer_id, str(plan.input.get("episode_id")), self._clock())
            return Decision(
                action=DecisionAction.IGNORE,
                reason=f"check-in: {customer_id} recovered ({result.combination}); the episode is closed",
                rule="followup.health_recheck",
            )
        return Decision(
            action=DecisionAction.IGNORE,
            reason=f"check-in: {customer_id} is still at risk ({result.combination}); the CSM task stands",
            rule="followup.health_recheck",
        )

    def sweep(self, max_tasks: int) -> SweepReport:
        """The daily pass over every customer with signals; at most ``max_tasks`` new CSM tasks."""
        report = SweepReport()
        since = self._clock().date() - timedelta(days=BASELINE_DAYS)
        for customer_id in self._repository.active_customers(since):
            report.customers += 1
            budget_left = report.tasks_started < max_tasks
            result = self.assess_and_act(customer_id, may_start_task=budget_left)
            report.assessments += 1
            report.at_risk += int(result.at_risk)
            report.tasks_started += int(result.new_episode)
            report.deferred += int(result.at_risk and not budget_left and result.episode_id is None)
        logger.info("health sweep done", **report.model_dump())
        return report
