"""A simulated business day, run twice: through the agent, and through Tray's default policy.

One seeded day of deliveries (leads with spam and duplicates, CRM accounts with picklist values
people type, orders, tickets, alerts, hires, refunds) and the day's trouble, on one virtual
clock (``tray_agent.clock.use_clock``), against the Tray simulator:

- Clearbit answering 5xx on a few percent of enrichments all day, and three 10-minute 429
  bursts (Retry-After 10 s); order steps timing out now and then;
- NetSuite down for 20 minutes; Slack's and Salesforce's OAuth refresh failing for 40 and 45
  minutes until someone re-authenticates; the ticket workflow disabled for an hour;
- senders redelivering (same id) and forms submitted twice (same content, new id).

**The agent's day**: each delivery goes, signed, through the real API handler; each failed run
reaches the callback endpoint as Tray's alerting workflow posts it (delivered in order by the
driver, so the day replays exactly); the monitor handler ticks every 5 minutes (the sweeper
after it). **The baseline day** (a rule-only integration under Tray's default policy): every
delivery triggers its workflow directly, duplicates and spam included, and every failed run is
retried 3 times, 40 s apart, with the same input.

Tray's bill is the simulator's (a task credit per step run, loops and checks included).
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DAY_START = datetime(2026, 11, 30, tzinfo=UTC)
TICK_S = 300
RETRY_GAP_S = 40  # Tray's default: 3 retries, 40 s apart
FLAP_WINDOW = timedelta(hours=1)  # a workflow's alert raised again within an hour of clearing: a flap
BASELINE_RETRIES = 3

# Error codes whose cause is outside anyone's reach until it ends (a service, a login, a switch).
CAUSE_OUTAGE, CAUSE_AUTH, CAUSE_DISABLED = "SERVICE_UNAVAILABLE", "AUTH_REFRESH_FAILED", "WORKFLOW_DISABLED"
WAITING_CAUSES = {CAUSE_OUTAGE, CAUSE_AUTH, CAUSE_DISABLED}

# What a rule-only integration wires each event type to (the baseline triggers these).
BASELINE_ROUTES = {
    "lead.created": "lead_enrichment",
    "account.updated": "salesforce_account_upsert",
    "order.created": "order_processing",
    "ticket.created": "support_ticket_triage",
    "alert.raised": "ops_alert_notification",
    "employee.hired": "employee_provisioning",
    "refund.requested": "issue_refund",
}

INDUSTRIES_VALID = [
    "Banking",
    "Consulting",
    "Education",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Technology - Hardware",
    "Technology - SaaS",
    "Technology - Services",
]
# What people type into a CRM: clear aliases a careful person would map, and values nobody can.
INDUSTRIES_TYPED = ["SaaS", "banking", "Healthcar", "retail", "consulting", "Manufacturing "]
INDUSTRIES_UNKNOWN = ["Crypto", "Telecom", "Space", "Non-profit"]
SPAM_TEXTS = [
    "Boost your SEO ranking in 7 days, guaranteed first page",
    "We sell verified email lists of 2 million CEOs",
    "Guest post opportunity on our high DA blog network",
    "Crypto investment opportunity with 40% monthly returns",
    "Cheap Rolex watches, lowest price online",
    "Earn $5000 a week working from home, no experience",
]
COMPANIES = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Wayne Ent",
    "Stark Labs",
    "Acme",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Pied Piper",
]
FIRST = ["ann", "bob", "chen", "dana", "eli", "fatima", "gus", "hana", "ivan", "jo", "kim", "li"]


@dataclass(order=True)
class Happening:
    at: datetime
    order: int
    kind: str = field(compare=False)  # "delivery" | "fault" | "tick"
    payload: Any = field(compare=False, default=None)


@dataclass
class Day:
    deliveries: list[tuple[datetime, dict[str, Any]]]
    faults: list[tuple[datetime, str, Callable[[Any], None]]]
    start: datetime
    end: datetime

    @property
    def redeliveries(self) -> int:
        return len(self.deliveries) - len({event["id"] for _, event in self.deliveries})


def make_day(seed: int, deliveries: int = 2000, hours: float = 24.0, start: datetime = DAY_START) -> Day:
    """A seeded day: arrival times weighted to business hours, the mix and the trouble above."""
    rng = random.Random(seed)
    end = start + timedelta(hours=hours)
    span = (end - start).total_seconds()

    def arrival() -> datetime:
        if hours >= 20 and rng.random() < 0.8:  # most of a business day's traffic, 08:00-18:00
            return start + timedelta(hours=8 + rng.random() * 10)
        return start + timedelta(seconds=rng.random() * span)

    originals: list[tuple[datetime, dict[str, Any]]] = []
    for index in range(int(deliveries * 0.93)):
        at = arrival()
        originals.append((at, _event(rng, index, at)))
    originals.sort(key=lambda pair: pair[0])
    extra: list[tuple[datetime, dict[str, Any]]] = []
    for _ in range(deliveries - len(originals)):
        at, event = rng.choice(originals)
        if rng.random() < 0.7:  # a sender's redelivery: the same event, seconds to minutes later
            extra.append((at + timedelta(seconds=rng.uniform(5, 180)), event))
        elif event["type"] == "lead.created":  # a form submitted twice: same content, a new id
            twin = {**event, "id": f"evt-{uuid.UUID(int=rng.getrandbits(128))}"}
            extra.append((at + timedelta(seconds=rng.uniform(2, 60)), twin))
        else:
            extra.append((at + timedelta(seconds=rng.uniform(5, 180)), event))
    all_deliveries = sorted(originals + extra, key=lambda pair: pair[0])
    return Day(deliveries=all_deliveries, faults=_trouble(start, hours), start=start, end=end)


def _event(rng: random.Random, index: int, at: datetime) -> dict[str, Any]:
    roll = rng.random()
    company = rng.choice(COMPANIES)
    domain = company.lower().replace(" ", "") + rng.choice([".com", ".io", ".co.uk", ".de"])
    person = f"{rng.choice(FIRST)}.{index}"
    event: dict[str, Any] = {
        "id": f"evt-{uuid.UUID(int=rng.getrandbits(128))}",
        "source": "hubspot",
        "occurred_at": at.isoformat(),
        "customer_id": f"cust-{rng.randrange(300):04d}",
    }
    if roll < 0.40:
        data: dict[str, Any] = {
            "email": f"{person}@{domain}",
            "company": company,
            "employees": rng.choice([5, 12, 40, 80, 150, 420]),
        }
        spam = rng.random()
        if spam < 0.07:  # a throwaway address from a disposable-mail provider
            data["email"] = f"{person}@{_disposable(rng)}"
        elif spam < 0.12:  # spam text from an ordinary-looking address
            data["message"] = rng.choice(SPAM_TEXTS)
            data["email"] = f"sales{index}@{rng.choice(['growthhub', 'leadsy', 'rankup'])}{index % 7}.com"
        event.update(type="lead.created", source="website_form", data=data)
        event.pop("customer_id")
    elif roll < 0.48:
        typed = rng.random()
        industry = (
            rng.choice(INDUSTRIES_VALID)
            if typed < 0.82
            else rng.choice(INDUSTRIES_TYPED)
            if typed < 0.96
            else rng.choice(INDUSTRIES_UNKNOWN)
        )
        event.update(
            type="account.updated",
            data={"name": f"{company} {index}", "industry": industry, "employees": rng.randrange(5, 5000)},
        )
    elif roll < 0.68:
        lines = [
            {"sku": f"SKU-{rng.randrange(900)}", "qty": rng.randrange(1, 20)}
            for _ in range(rng.randrange(1, 6))
        ]
        event.update(
            type="order.created",
            data={"order_id": f"ORD-{index}", "lines": lines, "total": rng.randrange(50, 9000)},
        )
    elif roll < 0.88:
        event.update(
            type="ticket.created", data={"ticket_id": f"T-{index}", "subject": "Cannot sync contacts"}
        )
    elif roll < 0.93:
        severity = rng.choice(["info", "info", "warning", "critical"])
        event.update(
            type="alert.raised", source="datadog", data={"severity": severity, "title": f"disk {index}"}
        )
    elif roll < 0.96:
        event.update(type="ticket.closed", data={"ticket_id": f"T-{index - 1}"})
    elif roll < 0.98:
        event.update(
            type="employee.hired",
            source="bamboohr",
            data={
                "email": f"{person}@ourco.com",
                "role": "engineer",
                "department": "engineering",
                "seniority": "mid",
            },
        )
    else:
        event.update(
            type="refund.requested",
            source="stripe",
            data={"amount": rng.choice([20, 90, 400, 2500]), "currency": "USD", "reason": "duplicate charge"},
        )
    return event


_DISPOSABLE: list[str] = []


def _disposable(rng: random.Random) -> str:
    if not _DISPOSABLE:
        from disposable_email_domains import blocklist

        _DISPOSABLE.extend(sorted(blocklist))
    return rng.choice(_DISPOSABLE)


def _trouble(start: datetime, hours: float) -> list[tuple[datetime, str, Callable[[Any], None]]]:
    """The day's faults, as (when, name, apply(simulator)). Scaled into a shorter test day."""
    from tray_local.simulator.scripts import ACCOUNT_STEPS, LEAD_STEPS, ORDER_STEPS, WorkflowScript

    def at(hour: float) -> datetime:
        return start + timedelta(hours=hour * hours / 24)

    clearbit_5xx = WorkflowScript(
        steps=LEAD_STEPS,
        failure_rate=0.04,
        fail_after_steps=1,
        error_code="CONNECTOR_ERROR",
        service_code="HTTP_502",
        error_message="Clearbit returned HTTP 502: upstream error",
    )
    clearbit_429 = WorkflowScript(
        steps=LEAD_STEPS,
        failure_rate=0.5,
        fail_after_steps=1,
        error_code="HTTP_429",
        error_message="Clearbit returned HTTP 429 Too Many Requests",
        retry_after_s=10,
    )
    orders = WorkflowScript(
        steps=ORDER_STEPS,
        failure_rate=0.02,
        fail_after_steps=2,
        error_code="STEP_TIMEOUT",
        error_message="step post_to_accounting timed out after 45 s",
    )
    accounts = WorkflowScript(steps=ACCOUNT_STEPS, picklist_fields={"industry": "Account.Industry"})

    from tray_local.simulator.engine import ConnectorFault

    # The same Clearbit trouble for leads enriched in bulk (batched): per record, inside the loop.
    clearbit_5xx_loop = ConnectorFault(
        rate=0.04,
        code="CONNECTOR_ERROR",
        service_code="HTTP_502",
        message="Clearbit returned HTTP 502: upstream error",
    )
    clearbit_429_loop = ConnectorFault(
        rate=0.5, code="HTTP_429", retry_after_s=10, message="Clearbit returned HTTP 429 Too Many Requests"
    )

    def clearbit(single: Any, loop: Any) -> Callable[[Any], None]:
        def apply(sim: Any) -> None:
            sim.set_script("lead_enrichment", single)
            sim.set_connector_fault("clearbit", loop)

        return apply

    def setup(sim: Any) -> None:
        clearbit(clearbit_5xx, clearbit_5xx_loop)(sim)
        sim.set_script("order_processing", orders)
        sim.set_script("salesforce_account_upsert", accounts)

    faults: list[tuple[datetime, str, Callable[[Any], None]]] = [(start, "setup", setup)]
    for hour in (9.5, 12.25, 16.0):  # three 10-minute bursts of Clearbit 429s
        faults.append((at(hour), "clearbit 429 burst", clearbit(clearbit_429, clearbit_429_loop)))
        faults.append((at(hour + 1 / 6), "clearbit 429 over", clearbit(clearbit_5xx, clearbit_5xx_loop)))
    faults += [
        (at(10.0), "slack auth expired", lambda sim: sim.expire_authentication("auth-slack-ops")),
        (
            at(10.0 + 40 / 60),
            "slack re-authenticated",
            lambda sim: sim.restore_authentication("auth-slack-ops"),
        ),
        (at(11.0), "netsuite outage", lambda sim: sim.start_outage(service="netsuite")),
        (at(11.0 + 20 / 60), "netsuite back", lambda sim: sim.end_outage(service="netsuite")),
        (at(13.0), "tickets disabled", lambda sim: sim.disable_workflow("support_ticket_triage")),
        (at(14.0), "tickets enabled", lambda sim: sim.enable_workflow("support_ticket_triage")),
        (at(15.0), "salesforce auth expired", lambda sim: sim.expire_authentication("auth-salesforce-prod")),
        (
            at(15.75),
            "salesforce re-authenticated",
            lambda sim: sim.restore_authentication("auth-salesforce-prod"),
        ),
    ]
    return sorted(faults, key=lambda fault: fault[0])


def _timeline(day: Day, *, ticks: bool) -> list[Happening]:
    counter = itertools.count()
    happenings = [Happening(at, next(counter), "fault", (name, apply)) for at, name, apply in day.faults]
    happenings += [Happening(at, next(counter), "delivery", event) for at, event in day.deliveries]
    if ticks:
        moment = day.start + timedelta(seconds=TICK_S)
        # The day, then two more hours for what is still held or queued to settle.
        while moment <= day.end + timedelta(hours=2):
            happenings.append(Happening(moment, next(counter), "tick"))
            moment += timedelta(seconds=TICK_S)
    heapq.heapify(happenings)
    return happenings


# -- the agent's day ---------------------------------------------------------------------------------
@dataclass
class DayResult:
    figures: dict[str, float]
    problems: list[str]  # work lost or left moving: must be empty
    notes: list[str] = field(default_factory=list)  # what was slow or unfixed, credits, alerts


def run_agent_day(day: Day) -> DayResult:
    from tray_agent.clock import VirtualClock, use_clock
    from tray_local.demo_monitor import run_tick
    from tray_local.local_env import LocalEnvironment
    from tray_local.simulator.alerting import failure_payload

    clock = VirtualClock(day.start)
    started = time.perf_counter()
    answers: dict[str, dict[str, Any]] = {}
    statuses: Counter[int] = Counter()
    alerts: list[tuple[datetime, str]] = []
    with (
        use_clock(clock),
        LocalEnvironment.start(
            simulator_options={"time_factor": 0.0, "seed": 7},
            # Non-urgent leads wait for one bulk run (an operator's choice: up to 15 minutes later).
            extra_env={"TRAY_AGENT_ALERTS_TOPIC_ARN": "", "TRAY_AGENT_BATCHING_ENABLED": "true"},
        ) as env,
    ):
        topic = _alerts_topic(env)
        with env.reconfigured(TRAY_AGENT_ALERTS_TOPIC_ARN=topic.arn):
            sim = env.simulator
            seen_failed: set[str] = set()

            def callbacks() -> None:
                """Tray's alerting workflow: each newly failed run posted to us, in order."""
                while True:
                    fresh = [
                        r for r in sim.engine.executions() if r.status == "failed" and r.id not in seen_failed
                    ]
                    if not fresh:
                        return
                    for record in sorted(fresh, key=lambda r: r.created_at):
                        seen_failed.add(record.id)
                        answer = env.api("POST", "/callbacks/tray-failure", failure_payload(record))
                        statuses[answer.status] += 1

            timeline = _timeline(day, ticks=True)
            while timeline:
                happening = heapq.heappop(timeline)
                clock.set(happening.at)
                if happening.kind == "fault":
                    happening.payload[1](sim)
                elif happening.kind == "delivery":
                    event = happening.payload
                    answer = env.api("POST", "/events", event)
                    statuses[answer.status] += 1
                    if answer.status == 202:
                        answers[event["id"]] = answer.body
                else:
                    report = run_tick(clock())
                    alerts += [(clock(), a) for a in report.get("alerts", [])]
                sim.wait_idle()
                callbacks()
            escalations = topic.escalations()
            figures, problems, notes = _agent_figures(
                env, day, answers=answers, statuses=statuses, alerts=alerts, escalations=escalations
            )
    figures["simday_wall_s"] = round(time.perf_counter() - started, 1)
    return DayResult(figures, problems, notes)


@dataclass
class _Topic:
    arn: str
    queue_url: str

    def escalations(self) -> list[dict[str, Any]]:
        import json

        import boto3

        sqs = boto3.client("sqs", region_name="us-east-1")
        found: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return found
            for message in messages:
                body = json.loads(message["Body"])
                found.append(body)
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def _alerts_topic(env: Any) -> _Topic:
    import boto3

    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    arn = sns.create_topic(Name="simday-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="simday-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    return _Topic(arn, queue_url)


def _chains(records: list[Any]) -> dict[str, list[Any]]:
    """Each execution's later runs of the same work: its retries (transitively) and, for the
    agent, the runs of the same work item (a held item's new attempt, keyed ``<work id>.a<n>``)."""
    by_id = {r.id: r for r in records}
    children: dict[str, list[Any]] = {}
    for record in records:
        if record.retry_of:
            children.setdefault(record.retry_of, []).append(record)
    by_work: dict[str, list[Any]] = {}
    for record in records:
        key = _work_of(record)
        if key:
            by_work.setdefault(key, []).append(record)
    later: dict[str, list[Any]] = {}
    for record in records:
        found, stack = [], [record.id]
        while stack:
            for child in children.get(stack.pop(), []):
                found.append(child)
                stack.append(child.id)
        key = _work_of(record)
        if key:
            found += [r for r in by_work[key] if r.id != record.id and r.created_at >= record.created_at]
        later[record.id] = [r for r in found if r.id in by_id]
    return later


def _work_of(record: Any) -> str | None:
    key = record.input.get("tray_agent_attempt_key") or record.idempotency_key or ""
    return key.split(".a")[0] if key.startswith(("event-", "situation-", "recovery-")) else None


def _fix_times(
    records: list[Any], cause_end: Callable[[Any], datetime]
) -> list[tuple[Any, float | None, float | None]]:
    """(failed run, seconds to its fix from the failure, seconds from when it could be fixed).

    A bulk run (batched leads) that failed is fixed when each of its records' work has run since;
    a record that failed inside a successful bulk run is a failure of its own, fixed by its own run.
    """
    later = _chains(records)
    by_work: dict[str, list[Any]] = {}
    for record in records:
        key = _work_of(record)
        if key:
            by_work.setdefault(key, []).append(record)
    out = []
    for record in records:
        failed_at = record.finished_at or record.created_at
        for work_id in _failed_bulk_records(record):
            fixes = [r.created_at for r in by_work.get(work_id, []) if r.status == "succeeded"]
            fixed_at = min((at for at in fixes if at >= failed_at), default=None)
            gap = None if fixed_at is None else (fixed_at - failed_at).total_seconds()
            out.append((_BulkRecordFailure(record, work_id), gap, gap))
        if record.status != "failed" or record.retry_of:
            continue  # a chain is judged by its first failure
        if _bulk_work_ids(record):
            item_fixes = [
                min(
                    (
                        r.created_at
                        for r in by_work.get(w, [])
                        if r.status == "succeeded" and r.created_at >= failed_at
                    ),
                    default=None,
                )
                for w in _bulk_work_ids(record)
            ]
            fixes = [] if None in item_fixes else [max(at for at in item_fixes if at is not None)]
        else:
            fixes = [r.created_at for r in later[record.id] if r.status == "succeeded"]
        if not fixes:
            out.append((record, None, None))
            continue
        fixed_at = min(fixes)
        fixable_at = max(failed_at, cause_end(record))
        out.append((record, (fixed_at - failed_at).total_seconds(), (fixed_at - fixable_at).total_seconds()))
    return out


@dataclass
class _BulkRecordFailure:
    """One record's failure inside a bulk run that succeeded for the others."""

    run: Any
    work_id: str

    @property
    def error(self) -> dict[str, Any]:
        return {"code": "RECORD_FAILED"}

    @property
    def workflow_name(self) -> str:
        return f"{self.run.workflow_name} (a record)"

    @property
    def finished_at(self) -> datetime:
        return self.run.finished_at or self.run.created_at

    @property
    def created_at(self) -> datetime:
        return self.run.created_at


def _bulk_work_ids(record: Any) -> list[str]:
    rows = record.input.get("records") if isinstance(record.input, dict) else None
    if not isinstance(rows, list):
        return []
    return [str(r["record_id"]) for r in rows if isinstance(r, dict) and r.get("record_id")]


def _failed_bulk_records(record: Any) -> list[str]:
    if record.status != "succeeded" or not _bulk_work_ids(record):
        return []
    rows = (record.output or {}).get("records")
    if not isinstance(rows, list):
        return []
    return [
        str(r["record_id"])
        for r in rows
        if isinstance(r, dict) and r.get("record_id") and r.get("status") not in (None, "succeeded", "ok")
    ]


def _cause(record: Any) -> str:
    code = (record.error or {}).get("code", "")
    return code if code in WAITING_CAUSES else "recoverable"


def _cause_end_for(day: Day) -> Callable[[Any], datetime]:
    ends = {name: at for at, name, _ in day.faults}
    by_cause = {
        CAUSE_OUTAGE: [ends["netsuite back"]],
        CAUSE_AUTH: [ends["slack re-authenticated"], ends["salesforce re-authenticated"]],
        CAUSE_DISABLED: [ends["tickets enabled"]],
    }

    def cause_end(record: Any) -> datetime:
        failed_at = record.finished_at or record.created_at
        candidates = [end for end in by_cause.get(_cause(record), []) if end >= failed_at]
        return min(candidates) if candidates else failed_at

    return cause_end


def _agent_figures(
    env: Any,
    day: Day,
    *,
    answers: dict[str, dict[str, Any]],
    statuses: Counter[int],
    alerts: list[tuple[datetime, str]],
    escalations: list[dict[str, Any]],
) -> tuple[dict[str, float], list[str], list[str]]:
    import boto3

    from tray_agent.models.work import MOVING_STATES, WorkState

    sim = env.simulator
    records = sim.engine.executions()
    fixes = _fix_times(records, _cause_end_for(day))
    recoverable = [f for f in fixes if _cause(f[0]) == "recoverable"]
    waiting = [f for f in fixes if _cause(f[0]) != "recoverable"]
    problems: list[str] = []
    notes: list[str] = []
    ledger = env.api  # the ledger, as a person reads it
    lost = 0
    states: Counter[str] = Counter()
    for event_id, answer in answers.items():
        work = ledger("GET", f"/work/{answer['work_id']}")
        if work.status != 200:
            lost += 1
            problems.append(f"{event_id}: no work item ({work.status})")
            continue
        state = WorkState(work.body["state"])
        states[state.value] += 1
        if state in MOVING_STATES:
            lost += 1
            problems.append(f"{event_id}: still {state.value} at the end of the day")
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(env.settings.work_table)
    from tray_agent.data.aws import all_items

    incidents = [i for i in all_items(table.scan) if str(i["work_id"]).startswith("incident#")]
    circuits = [e for e in escalations if e.get("kind") == "circuit_opened"]
    escalated = [
        e for e in escalations if e.get("kind") in ("escalation", "circuit_opened") or "incident_id" in e
    ]
    raised = [(at, key) for at, key in alerts if key.startswith("raised:")]
    flaps = _flaps(alerts)
    for record, to_fix, _ in fixes:
        if to_fix is None or (_cause(record) == "recoverable" and to_fix > 30):
            code = (record.error or {}).get("code")
            at = (record.finished_at or record.created_at).strftime("%H:%M:%S")
            fixed = "never fixed" if to_fix is None else f"fixed after {to_fix:.0f} s"
            notes.append(f"{record.workflow_name} failed {code} at {at}: {fixed}")
    credits_by: Counter[str] = Counter()
    for record in records:
        credits_by[record.workflow_name] += record.task_credits
    notes.append(f"credits by workflow: {dict(credits_by.most_common())}")
    notes.append(f"alerts: {[(at.strftime('%H:%M'), key) for at, key in alerts]}")
    within = [f for f in recoverable if f[1] is not None and f[1] <= 30]
    fixed_in_day = [f for f in fixes if f[1] is not None]
    credits = sim.task_credits()
    figures = {
        "simday_deliveries": float(len(day.deliveries)),
        "simday_tray_runs": float(len(records)),
        "simday_recoverable_failures": float(len(recoverable)),
        "simday_recoverable_fixed_within_30s_ratio": _ratio(len(within), len(recoverable)),
        "simday_recoverable_fix_p50_s": _pct([f[1] for f in recoverable if f[1] is not None], 50),
        "simday_failures_waiting_on_a_cause": float(len(waiting)),
        "simday_waiting_fixed_after_cause_end_p50_s": _pct([f[2] for f in waiting if f[2] is not None], 50),
        "simday_all_failures_fixed_within_30s_of_failing_ratio": _ratio(
            sum(1 for f in fixes if f[1] is not None and f[1] <= 30), len(fixes)
        ),
        "simday_recoverable_fixed_in_day_ratio": _ratio(
            sum(1 for f in recoverable if f[1] is not None), len(recoverable)
        ),
        "simday_all_failures_fixed_in_day_ratio": _ratio(len(fixed_in_day), len(fixes)),
        "simday_lost_work_items": float(lost),
        "simday_5xx_answers": float(sum(n for status, n in statuses.items() if status >= 500)),
        "simday_agent_task_credits": float(credits),
        "simday_incidents": float(len(incidents) + len(circuits)),
        "simday_escalations_per_incident": _ratio(len(escalated), len(incidents) + len(circuits)),
        "simday_alerts_raised": float(len(raised)),
        "simday_alert_flaps": float(flaps),
        "simday_work_in_review": float(states.get("in_review", 0)),
        "simday_work_ignored": float(states.get("ignored", 0)),
    }
    return figures, problems, notes


def _flaps(alerts: list[tuple[datetime, str]]) -> int:
    """A raise for a workflow within ``FLAP_WINDOW`` of that workflow's alert clearing."""
    last_cleared: dict[str, datetime] = {}
    flaps = 0
    for at, entry in alerts:
        kind, _, key = entry.partition(":")
        workflow = key.split(":")[0]
        if kind == "cleared":
            last_cleared[workflow] = at
        elif kind == "raised" and workflow in last_cleared and at - last_cleared[workflow] <= FLAP_WINDOW:
            flaps += 1
    return flaps


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))], 1)


# -- the baseline day ---------------------------------------------------------------------------------
def run_baseline_day(day: Day) -> dict[str, float]:
    """Every delivery triggered as it comes; every failed run retried 3 times, 40 s apart."""
    import httpx

    from tray_agent.clock import VirtualClock, use_clock
    from tray_local.simulator import TraySimulator

    clock = VirtualClock(day.start)
    unlimited = {"rate_limit_rps": 10_000, "burst": 10_000}  # the baseline is not judged on pacing
    with (
        use_clock(clock),
        TraySimulator(time_factor=0.0, seed=7, **unlimited) as sim,  # type: ignore[arg-type]
        httpx.Client(timeout=30) as client,
    ):
        timeline = _timeline(day, ticks=False)
        counter = itertools.count(10**9)
        while timeline:
            happening = heapq.heappop(timeline)
            clock.set(happening.at)
            if happening.kind == "fault":
                happening.payload[1](sim)
                continue
            if happening.kind == "delivery":
                event = happening.payload
                workflow = BASELINE_ROUTES.get(event["type"])
                if workflow is None:
                    continue
                run_input, tries = dict(event["data"]), 0
            else:
                workflow, run_input, tries = happening.payload
            response = client.post(sim.webhook_url(workflow), json=run_input)
            execution_id = response.json().get("executionId") if response.content else None
            sim.wait_idle()
            record = sim.engine.execution(execution_id) if execution_id else None
            failed = record is None or record.status == "failed"
            if failed and tries < BASELINE_RETRIES:
                again = Happening(
                    clock() + timedelta(seconds=RETRY_GAP_S),
                    next(counter),
                    "retry",
                    (workflow, run_input, tries + 1),
                )
                heapq.heappush(timeline, again)
        credits = sim.task_credits()
        records = sim.engine.executions()
    credits_by: Counter[str] = Counter()
    for record in records:
        credits_by[record.workflow_name] += record.task_credits
    print(f"   baseline credits by workflow: {dict(credits_by.most_common())}", flush=True)
    failed_first = 0
    fixed = 0
    # The baseline's retries are new runs of the same input: a failure is fixed when a run of the
    # same workflow with the same input succeeds within its retries.
    by_input: dict[tuple[str, str], list[Any]] = {}
    for record in records:
        by_input.setdefault((record.workflow_name, repr(sorted(record.input.items()))), []).append(record)
    for runs in by_input.values():
        runs.sort(key=lambda r: r.created_at)
        if runs[0].status == "failed":
            failed_first += 1
            fixed += any(r.status == "succeeded" for r in runs[1:])
    return {
        "simday_baseline_task_credits": float(credits),
        "simday_baseline_tray_runs": float(len(records)),
        "simday_baseline_fixed_in_day_ratio": _ratio(fixed, failed_first),
    }


def run_day(seed: int = 20261130, deliveries: int = 2000, hours: float = 24.0) -> DayResult:
    day = make_day(seed, deliveries, hours)
    agent = run_agent_day(day)
    baseline = run_baseline_day(day)
    figures = {**agent.figures, **baseline}
    figures["simday_credits_vs_tray_default_ratio"] = round(
        agent.figures["simday_agent_task_credits"] / max(1.0, baseline["simday_baseline_task_credits"]), 4
    )
    figures["simday_redeliveries"] = float(day.redeliveries)
    return DayResult(figures, agent.problems, agent.notes)


def main() -> int:
    """``python -m tests.bench.simday --deliveries N --hours H --seed S``: the figures as JSON.

    A process of its own: a day installs its own clock, environment and moto state.
    """
    import argparse
    import json
    import os
    import sys

    parser = argparse.ArgumentParser(prog="python -m tests.bench.simday")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    result = run_day(seed=args.seed, deliveries=args.deliveries, hours=args.hours)
    sys.stdout.write(
        json.dumps({"figures": result.figures, "problems": result.problems, "notes": result.notes})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
