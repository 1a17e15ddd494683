"""Demo section: inbound events through the API handler → decisions → the Tray simulator."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from tray_local.local_env import LocalEnvironment


def _event(event_type: str, data: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"demo-{uuid.uuid4().hex[:8]}",
        "type": event_type,
        "source": "demo",
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": data,
    }


def run(env: LocalEnvironment) -> None:
    print("\n=== Inbound events → decisions → Tray ===")
    lead = _event("lead.created", {"email": "ann@smallco.io", "company": "SmallCo", "employees": 40})
    cases: list[tuple[str, Any]] = [
        ("a new lead", lead),
        ("the same lead again (duplicate delivery)", lead),
        (
            "an enterprise-size lead",
            _event("lead.created", {"email": "cfo@bigbank.com", "company": "Big Bank", "employees": 5000}),
        ),
        (
            "an obvious spam lead",
            _event("lead.created", {"email": "win@mailinator.com", "company": "Free $$$"}),
        ),
        ("an order", _event("order.created", {"order_id": "ORD-1001", "total": 2500.0, "currency": "USD"})),
        ("malformed JSON", '{"id": "broken", "type": '),
    ]
    for title, body in cases:
        before = {e.id for e in env.simulator.executions()}
        answer = env.api("POST", "/events", body)
        env.simulator.wait_idle()
        new_runs = [e for e in env.simulator.executions() if e.id not in before]
        print(f"\n- {title}: HTTP {answer.status}")
        if answer.status == 202:
            decision = env.api("GET", f"/decisions/{answer.body['decision_id']}").body
            action = f"{answer.body['action']} {answer.body.get('workflow') or ''}".strip()
            rule, outcome = decision["decision"]["rule"], decision["outcome"]
            print(f"  decision {answer.body['decision_id'][:8]}…: {action} (rule {rule}, outcome {outcome})")
            print(f"  reason: {answer.body['reason']}")
        else:
            print(f"  refused: {answer.body['error']}: {answer.body['message']}")
        if new_runs:
            for execution in new_runs:
                print(
                    f"  Tray simulator ran {execution.workflow_name} → {execution.status}"
                    f" (execution {execution.id}) input={json.dumps(execution.input)}"
                )
        else:
            print("  Tray simulator: no new execution")
