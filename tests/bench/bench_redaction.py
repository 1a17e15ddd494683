"""What masking costs on the write path (every decision and review is masked before it is stored).

- ``redaction_record_us_p50/p99``: ``mask_decision_record`` on a typical record (a lead's data,
  one call, two LLM tool calls with JSON results, a reason; 5.7 kB as JSON), 2,000 times.
  Target: p50 <= 1 ms, well under the DynamoDB put it precedes.
- ``redaction_text_mb_per_s``: ``mask_text`` over 1 MB of mixed free text (e-mail bodies with
  order numbers, dates, amounts and a few cards, SSNs and IBANs). Target: >= 2 MB/s, so a
  maximum-size (1 MB) event is masked in well under a second.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import UTC, datetime

from tray_agent.models.decisions import (
    Decision,
    DecisionAction,
    DecisionRecord,
    Outcome,
    ToolCallRecord,
    WorkflowCall,
)
from tray_agent.redaction import mask_decision_record, mask_text

RECORDS = 2_000


def _record() -> DecisionRecord:
    data = {
        "email": "ann@smallco.io",
        "company": "SmallCo",
        "employees": 120,
        "message": "We ordered PO-2024-000123 on 2024-01-15 for $12,500.00; please call +1 555 123 4567.",
        "billing": {"card_number": "4111111111111111", "iban": "DE89370400440532013000", "zip": "62701"},
        "items": [{"sku": f"WID-{n}", "qty": n, "price": "12.50"} for n in range(20)],
    }
    return DecisionRecord(
        decision_id="d",
        event_id="e",
        event_type="lead.created",
        source="hubspot",
        created_at=datetime.now(UTC),
        inputs={"data": data, "context": {"open_tickets": 2, "summary": "renewal in 30 days"}},
        decision=Decision(
            action=DecisionAction.TRIGGER,
            calls=[WorkflowCall(workflow="lead_enrichment", input=data)],
            reason="company has 120 employees: standard route",
            brain="llm",
            tool_calls=[
                ToolCallRecord(
                    name="get_customer_context",
                    arguments={"customer_id": "c-1"},
                    ok=True,
                    result=json.dumps({"orders": data["items"], "note": "card 4111 1111 1111 1111"}),
                ),
                ToolCallRecord(name="lead_enrichment", arguments=data, ok=True, result='{"status": "ok"}'),
            ],
        ),
        outcome=Outcome.TRIGGERED,
    )


def _text(rng: random.Random, size: int) -> str:
    parts = [
        "Hello team, please process PO-{n} dated 2024-{m:02d}-{d:02d} for ${n},{d:03d}.50 ",
        "ship to Warehouse {d}, 400 Logistics Blvd, call +44 20 7946 {n:04d}. ",
        "Order {n}{n}{n} qty {m} {d} {n} confirmed. ",
        "Card on file 4111 1111 1111 1111, SSN 123-45-6789, IBAN GB82 WEST 1234 5698 7654 32. ",
        "Regards, Ann. ",
    ]
    out: list[str] = []
    length = 0
    while length < size:
        piece = rng.choice(parts).format(
            n=rng.randint(1000, 9999), m=rng.randint(1, 12), d=rng.randint(1, 28)
        )
        out.append(piece)
        length += len(piece)
    return "".join(out)


def run() -> dict[str, float]:
    record = _record()
    timings: list[float] = []
    for _ in range(RECORDS):
        started = time.perf_counter()
        mask_decision_record(record)
        timings.append((time.perf_counter() - started) * 1e6)
    timings.sort()
    text = _text(random.Random(7), 1_000_000)
    started = time.perf_counter()
    masked = mask_text(text)
    elapsed = time.perf_counter() - started
    assert "4111 1111 1111 1111" not in masked
    return {
        "redaction_record_us_p50": round(statistics.median(timings), 1),
        "redaction_record_us_p99": round(timings[int(len(timings) * 0.99) - 1], 1),
        "redaction_text_mb_per_s": round(len(text) / 1e6 / elapsed, 2),
    }
