"""One monitor tick over 10,000 executions (10% failed) against the simulator at Tray's 30 req/s.

Figures: wall time of the tick, Tray requests it made (the figure to minimise: 500 a page,
no per-execution GET for successes, retries capped per workflow), and the peak of Python
memory allocated during the tick (tracemalloc; the in-process simulator's share included).
"""

from __future__ import annotations

import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

EXECUTIONS = 10_000
FAILURE_RATE = 0.10
WORKFLOWS = (
    "lead_enrichment",
    "enterprise_lead_routing",
    "order_processing",
    "csm_health_task",
    "employee_provisioning",
    "support_ticket_triage",
    "salesforce_account_upsert",
    "issue_refund",
)
FAILURES = (
    ("HTTP_5XX", "the service returned HTTP 500", "zendesk"),
    ("STEP_TIMEOUT", "operation did not finish within 45 s", "script"),
    ("HTTP_429", "HTTP 429 Too Many Requests", "hubspot"),
)


def run() -> dict[str, float]:
    from tray_agent.domain.monitor.service import build_monitor_service
    from tray_local.demo_monitor import failed_execution, succeeded_execution
    from tray_local.local_env import LocalEnvironment

    rng = random.Random(6)
    with LocalEnvironment.start(simulator_options={"time_factor": 0.01}) as env:
        sim = env.simulator
        start = datetime.now(UTC) - timedelta(minutes=4, seconds=50)
        executions = []
        for index in range(EXECUTIONS):
            workflow = WORKFLOWS[index % len(WORKFLOWS)]
            created = start + timedelta(milliseconds=28 * index)
            if rng.random() < FAILURE_RATE:
                code, message, connector = rng.choice(FAILURES)
                executions.append(
                    failed_execution(
                        sim,
                        workflow,
                        code=code,
                        message=message,
                        connector=connector,
                        created_at=created,
                        retry_after_s=1 if code == "HTTP_429" else None,
                        input={"n": index},
                    )
                )
            else:
                executions.append(succeeded_execution(sim, workflow, created_at=created))
        sim.seed_executions(executions)
        del executions
        service = build_monitor_service(env.settings)
        before = len(sim.calls())
        tracemalloc.start()
        started = time.perf_counter()
        report = service.tick(datetime.now(UTC) + timedelta(seconds=1))
        wall = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tray_requests = len(sim.calls()) - before
        assert report.executions == EXECUTIONS, report.summary()
    return {
        "monitor_10k_wall_s": round(wall, 2),
        "monitor_10k_tray_requests": float(tray_requests),
        "monitor_10k_peak_mb": round(peak / 1024 / 1024, 1),
        "monitor_10k_failures": float(report.failures),
        "monitor_10k_retries": float(sum(len(r.new_execution_ids) for r in report.recoveries)),
        "monitor_10k_rejected_429": float(sim.rejected_429),
    }
