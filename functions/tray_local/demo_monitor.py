"""Demo section: one monitor tick over the simulator's executions, the seed stories among them.

Also the helpers the CLI, the tests and the benchmark share: an EventBridge scheduled event and
historical executions to seed into the simulator.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tray_agent.tray import Execution
from tray_local.apigw import LambdaContext

if TYPE_CHECKING:
    from tray_local.local_env import LocalEnvironment
    from tray_local.simulator import TraySimulator


def scheduled_event(moment: datetime | None = None, *, rule: str = "tray-agent-monitor") -> dict[str, Any]:
    """What EventBridge sends a target of a ``rate(5 minutes)`` rule."""
    moment = moment or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule}"],
        "detail": {},
    }


def run_tick(moment: datetime | None = None, context: Any = None) -> dict[str, Any]:
    """Invoke the monitor Lambda handler in-process, as EventBridge would."""
    from tray_agent.handlers import monitor

    # EventBridge times are whole seconds: round up so "now" covers runs started this second.
    moment = moment or datetime.now(UTC) + timedelta(seconds=1)
    result: dict[str, Any] = monitor.handler(scheduled_event(moment), context or LambdaContext())
    return result


def failed_execution(
    sim: TraySimulator,
    workflow: str,
    *,
    code: str,
    message: str,
    created_at: datetime,
    connector: str = "script",
    service_code: str | None = None,
    retry_after_s: float | None = None,
    details: dict[str, Any] | None = None,
    input: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Execution:
    error = {
        "code": code,
        "message": message,
        "step": "run",
        "connector": connector,
        "serviceCode": service_code,
        "retryAfter": retry_after_s,
        "details": details or {},
    }
    return Execution.model_validate(
        {
            "id": f"exec-{uuid.uuid4().hex[:16]}",
            "workflowId": sim.workflow_id(workflow),
            "workflowName": workflow,
            "status": "failed",
            "input": input or {},
            "error": error,
            "steps": [
                {
                    "name": "trigger",
                    "connector": "webhook",
                    "status": "succeeded",
                    "logs": ["trigger finished"],
                },
                {
                    "name": "run",
                    "connector": connector,
                    "status": "failed",
                    "logs": [f"run failed: {code}: {message}"],
                    "error": error,
                },
            ],
            "createdAt": created_at,
            "finishedAt": created_at + timedelta(seconds=2),
            "idempotencyKey": idempotency_key,
        }
    )


def succeeded_execution(
    sim: TraySimulator, workflow: str, *, created_at: datetime, connector: str = "script"
) -> Execution:
    return Execution.model_validate(
        {
            "id": f"exec-{uuid.uuid4().hex[:16]}",
            "workflowId": sim.workflow_id(workflow),
            "workflowName": workflow,
            "status": "succeeded",
            "input": {},
            "output": {"ok": True},
            "steps": [
                {"name": "trigger", "connector": "webhook", "status": "succeeded"},
                {"name": "run", "connector": connector, "status": "succeeded"},
            ],
            "createdAt": created_at,
            "finishedAt": created_at + timedelta(seconds=1),
        }
    )


def clearbit_story(
    sim: TraySimulator,
    *,
    runs: int,
    since: datetime,
    until: datetime,
    failure_rate: float = 0.15,
    seed: int = 1,
) -> Iterator[Execution]:
    """Lead enrichment runs where Clearbit answers 502 on ``failure_rate`` of them (seed 000)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not security
    span = (until - since).total_seconds()
    failures = round(runs * failure_rate)
    failing = set(rng.sample(range(runs), failures))
    for index in range(runs):
        created = since + timedelta(seconds=span * index / runs)
        if index in failing:
            yield failed_execution(
                sim,
                "lead_enrichment",
                code="CONNECTOR_ERROR",
                message="Clearbit returned HTTP 502: upstream enrichment service error",
                service_code="HTTP_502",
                connector="clearbit",
                created_at=created,
                input={"email": f"lead{index}@example.com", "source": "web"},
            )
        else:
            yield succeeded_execution(sim, "lead_enrichment", created_at=created, connector="clearbit")


def run(env: LocalEnvironment) -> None:
    import httpx

    from tray_agent.domain.monitor.service import build_monitor_service
    from tray_local.simulator import SEED_STORIES

    sim = env.simulator
    now = datetime.now(UTC)
    print("\n== Execution monitor: one tick over the last five minutes of Tray executions")
    seeded = sim.seed_executions(clearbit_story(sim, runs=200, since=now - timedelta(minutes=4), until=now))
    sim.set_script("salesforce_account_upsert", SEED_STORIES["salesforce_account_upsert"])
    sim.set_script("csm_health_task", SEED_STORIES["csm_health_task"])
    with httpx.Client(timeout=10) as client:
        client.post(sim.webhook_url("salesforce_account_upsert"), json={"name": "Acme", "industry": "SaaS"})
        brief = {"customer_id": "c-1", "risk_level": "high", "brief": "usage down 40%"}
        client.post(sim.webhook_url("csm_health_task"), json=brief)
    print(f"   seeded {seeded} lead enrichment runs (Clearbit failing 15%),")
    print("   ran an account upsert with Industry 'SaaS' and a CSM task whose Salesforce auth expired")
    report = build_monitor_service(env.settings).tick(datetime.now(UTC) + timedelta(seconds=1))
    print(f"   tick: {report.executions} executions, {report.pages} page(s), {report.failures} failed")
    print("   failure rates (tick):")
    for health in report.health:
        flag = "  <- ALERT" if health.alert_open else ""
        rate = f"{health.tick_failures}/{health.tick_runs} ({health.tick_rate:.0%})"
        print(f"     {health.workflow_name:<28} {rate:>14}{flag}")
    for alert in report.alerts:
        print(f"   alert [{alert.severity}] {alert.title}")
    counts: dict[str, int] = {}
    for recovery in report.recoveries:
        counts[recovery.action.value] = counts.get(recovery.action.value, 0) + 1
        if recovery.workflow_name != "lead_enrichment":
            print(f"   recovery: {recovery.workflow_name}: {recovery.action.value}: {recovery.detail}")
    clearbit = [r for r in report.recoveries if r.workflow_name == "lead_enrichment"]
    if clearbit:
        first = clearbit[0]
        print(f"   recovery: lead_enrichment: {len(clearbit)} x {first.action.value}: {first.detail}")
    print(f"   recoveries by action: {counts}; queued for the next tick: {report.queued}")
    for execution in sim.executions():
        if execution.retry_of and execution.workflow_name == "salesforce_account_upsert":
            industry = execution.input.get("industry")
            print(f"   picklist fix: the retry ran with industry={industry!r} and {execution.status}")
