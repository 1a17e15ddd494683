"""Failure callbacks: how soon after Tray's alerting post the fixed run is triggered.

The simulator posts each failure (signed) to the local API bridge, which runs the real API
handler; the figure is the time from the post's start to the ``created_at`` of the first run
the recovery triggered (the retry, the mapped retry, the first chunk), both on the wall clock.
Failures are sent one after another (latency, not queueing), through the Tray client's own
pacing within Tray's 30 req/s:

- live runs of ``salesforce_account_upsert`` failing on the Industry picklist ("SaaS"), posted
  by the simulator's alerting as they fail (the first one looks the picklist up, the rest use
  the remembered mapping);
- seeded transient failures (Zendesk 5xx) and oversized payloads (split into chunks of 200),
  posted with ``deliver_alert``.

Figures: ``callback_to_recovery_p50_ms``, ``callback_to_recovery_p99_ms``,
``callback_recovered_once_ratio`` (failures with exactly the expected runs, 1.0 is right).
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tray_local.simulator import TraySimulator
    from tray_local.simulator.alerting import AlertingDelivery

PICKLIST_RUNS = 20
TRANSIENT_RUNS = 20  # with the 5 chunked: the 25 retries a workflow may spend per interval
CHUNKED_RUNS = 5


def run() -> dict[str, float]:
    import httpx

    from tray_local.api_bridge import ApiBridge
    from tray_local.demo_monitor import failed_execution
    from tray_local.local_env import LocalEnvironment
    from tray_local.simulator import SEED_STORIES

    latencies: list[float] = []
    exact = 0
    with LocalEnvironment.start(simulator_options={"time_factor": 0.01}) as env, ApiBridge() as bridge:
        sim = env.simulator
        sim.set_script("salesforce_account_upsert", SEED_STORIES["salesforce_account_upsert"])
        sim.set_alerting_url(bridge.url("/callbacks/tray-failure"), secret=env.settings.signing_secret)

        def fixed(execution_id: str, sent: datetime, expected_runs: int) -> None:
            nonlocal exact
            retries = [e for e in sim.executions() if e.retry_of == execution_id]
            if not retries:
                raise RuntimeError(f"{execution_id} was not recovered by its callback")
            first = min(r.created_at for r in retries)
            latencies.append(max(0.0, (first - sent).total_seconds() * 1000))
            exact += len(retries) == expected_runs

        for index in range(PICKLIST_RUNS):
            response = httpx.post(
                sim.webhook_url("salesforce_account_upsert"),
                json={"name": f"Acme {index}", "industry": "SaaS"},
                timeout=10,
            )
            failed_id = response.json()["executionId"]
            delivery = _wait_for_delivery(sim, failed_id)
            fixed(failed_id, delivery.sent_wall, 1)

        start = datetime.now(UTC) - timedelta(seconds=30)
        seeded = [
            failed_execution(
                sim,
                "support_ticket_triage",
                code="HTTP_5XX",
                message="Zendesk returned HTTP 500",
                connector="zendesk",
                created_at=start + timedelta(milliseconds=i),
                input={"ticket_id": f"T-{i}"},
            )
            for i in range(TRANSIENT_RUNS)
        ]
        chunked = [
            failed_execution(
                sim,
                "support_ticket_triage",
                code="PAYLOAD_TOO_LARGE",
                message="step data is 7340032 bytes; at most 6291456 (6 MB) may pass between steps",
                created_at=start + timedelta(milliseconds=100 + i),
                input={"ticket_id": f"BULK-{i}", "records": [{"n": n} for n in range(450)]},
            )
            for i in range(CHUNKED_RUNS)
        ]
        sim.seed_executions(seeded + chunked)
        for execution in seeded:
            delivery = sim.deliver_alert(execution.id)
            fixed(execution.id, delivery.sent_wall, 1)
        for execution in chunked:
            delivery = sim.deliver_alert(execution.id)
            fixed(execution.id, delivery.sent_wall, 3)
        sim.wait_idle()
    ordered = sorted(latencies)
    return {
        "callback_to_recovery_p50_ms": round(statistics.median(ordered), 1),
        "callback_to_recovery_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "callback_recovered_once_ratio": round(exact / len(ordered), 4),
    }


def _wait_for_delivery(sim: TraySimulator, execution_id: str, timeout_s: float = 20.0) -> AlertingDelivery:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [d for d in sim.alerting_deliveries() if d.execution_id == execution_id]
        if found:
            return found[0]
        time.sleep(0.005)
    raise RuntimeError(f"no alerting post for {execution_id}")
