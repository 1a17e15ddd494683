"""Demo section: work that is never lost — held while Tray fails, drained once when it recovers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tray_local.local_env import LocalEnvironment


def run(env: LocalEnvironment) -> None:
    from tray_agent.config import get_settings
    from tray_agent.domain.agent.service import build_sweeper

    print("\n=== Work that is never lost: Tray goes down, the work waits, then runs once ===")
    env.simulator.start_outage(status=503)
    leads = [
        {
            "id": f"demo-held-{uuid.uuid4().hex[:8]}",
            "type": "lead.created",
            "source": "demo",
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"email": f"lead{n}@smallco.io", "company": f"Held Co {n}", "employees": 20},
        }
        for n in range(3)
    ]
    try:
        for lead in leads:
            answer = env.api("POST", "/events", lead)
            print(
                f"- lead {lead['id']}: HTTP {answer.status}, {answer.body['status']}: {answer.body['reason']}"
            )
        for incident in env.api("GET", "/incidents").body:
            print(f"  incident {incident['key']}: {incident['reason']} (escalated once)")
        print(f"  held work: {len(env.api('GET', '/work', query={'state': 'held'}).body)} item(s)")
        print("  a sender redelivers the first lead:", env.api("POST", "/events", leads[0]).body["status"])
    finally:
        env.simulator.end_outage()
    print("- Tray answers again; a minute later the sweeper (on the monitor's schedule) probes and drains:")
    report = build_sweeper(get_settings()).sweep(datetime.now(UTC) + timedelta(minutes=1))
    print(f"  probes {report.probes}, incidents closed {report.incidents_closed}, drained {report.drained}")
    env.simulator.wait_idle()
    for lead in leads:
        work = env.api("POST", "/events", lead).body
        runs = [
            e
            for e in env.simulator.executions()
            if (e.idempotency_key or "").startswith(work["work_id"]) and e.status != "failed"
        ]
        print(f"  {lead['id']}: {work['status']}, Tray runs: {len(runs)}")
