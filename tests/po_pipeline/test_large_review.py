"""A 2,000-line PO through human review (issue 14, point 5): reference, summary, partial edits.

The real state machine (CDK-synthesized, in moto, 256 KiB enforced on every state and on
SendTaskSuccess's output by ``sfn_local``), the real API handler for the reviewer's calls and
the Tray simulator receiving the order: the review item keeps the PO in S3 and a summary, an
approval with a few edited lines orders all 2,000 lines exactly once with the edits applied,
a rejection orders nothing.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import boto3

from tests.po_pipeline.conftest import unique
from tests.po_pipeline.large_orders import PRODUCTS, large_order, large_order_email, lines_received
from tests.po_pipeline.test_pipeline_e2e import intake, tray_runs
from tray_agent.config import get_settings
from tray_agent.domain.reviews import build_review_service
from tray_agent.models.po_pipeline import IntakeStatus
from tray_local.po_documents import make_order

LINES = 2000
DISCREPANT = (7, 778, 1500, 1999)  # lines priced at 1.00 instead of the catalog price


def _order_with_discrepancies() -> Any:
    base = large_order(LINES, unique("PO-BIGREV"))
    rows = [
        (
            line.sku or "",
            line.description or "",
            int(line.quantity),
            "1.00" if n in DISCREPANT else f"{line.unit_price}",
        )
        for n, line in enumerate(base.lines, start=1)
    ]
    return make_order(base.po_number or "", rows, shipping="0")


def _drop_into_review(po_pipeline: Any) -> tuple[str, Any]:
    order = _order_with_discrepancies()
    drop = po_pipeline.drop(f"inbox/{unique('bigrev')}.eml", large_order_email(order), timeout_s=300)
    ((intake_id, paused),) = drop.executions.items()
    assert paused.paused, paused
    return intake_id, order


def _lines_sent(env: Any, intake_id: str) -> dict[int, dict[str, Any]]:
    """Every line Tray received in a run that took effect, by its line number on the PO."""
    env.simulator.wait_idle()
    sent: dict[int, dict[str, Any]] = {}
    for run in env.simulator.engine.executions():
        if not (run.idempotency_key or "").startswith(f"{intake_id}:") or not run.took_effect:
            continue
        data = run.input["order_data"]
        first = int(data.get("chunk", {}).get("first_line", 1))
        for offset, line in enumerate(data["lines"]):
            sent[first + offset] = line
    return sent


def _stored_item_bytes(review_id: str) -> int:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(get_settings().reviews_table)
    record = table.get_item(Key={"review_id": review_id})["Item"]
    # DynamoDB counts attribute names and values (UTF-8); JSON of the record is an upper bound.
    return len(json.dumps(record, default=str).encode())


def test_a_2000_line_po_in_review_is_approved_with_edits_and_ordered_whole(po_pipeline: Any) -> None:
    env = po_pipeline.env
    intake_id, order = _drop_into_review(po_pipeline)
    assert tray_runs(env, intake_id) == []
    assert intake(intake_id).status is IntakeStatus.IN_REVIEW

    # The item holds a reference and a summary, far below DynamoDB's 400 KB item limit.
    assert _stored_item_bytes(intake_id) < 400 * 1024
    assert _stored_item_bytes(intake_id) < 64 * 1024
    item = build_review_service(get_settings()).get(intake_id)
    assert "lines" not in item.payload
    summary = item.payload["summary"]
    assert summary["line_count"] == LINES and summary["po_number"] == order.po_number
    assert summary["total"] == f"{order.total}" and "price_mismatch" in summary["finding_codes"]
    assert [line["line"] for line in item.payload["flagged_lines"]] == list(DISCREPANT)
    stored = boto3.client("s3", region_name="us-east-1").get_object(
        Bucket=get_settings().po_bucket, Key=item.payload["order_ref"]
    )
    assert len(json.loads(stored["Body"].read())["lines"]) == LINES

    # The queue lists it promptly, with the summary.
    started = time.perf_counter()
    listed = env.api("GET", "/reviews", query={"status": "pending"})
    assert listed.status == 200, listed.body
    assert time.perf_counter() - started < 2
    (mine,) = [entry for entry in listed.body if entry["review_id"] == intake_id]
    assert mine["payload"]["summary"]["line_count"] == LINES

    # Edits that cannot be applied are refused before anything is resolved.
    for bad, named in (
        ({"lines": []}, "partial edits"),
        ({"line_edits": {"2001": {"unit_price": "1"}}}, "line 2001 does not exist"),
        ({"line_edits": {"7": {"unit_prise": "12.50"}}}, "unit_prise"),
        ({"line_edits": {"7": {"quantity": "a dozen"}}}, "quantity"),
        (
            {"line_edits": {"7": {"unit_price": "12.50"}}, "approved_order_ref": "state/x.json"},
            "approved_order_ref",
        ),
    ):
        answer = env.api("POST", f"/reviews/{intake_id}/approve", {"edited_payload": bad})
        assert answer.status == 400, (bad, answer.body)
        assert named in answer.body["message"], (named, answer.body)
    assert build_review_service(get_settings()).get(intake_id).status.value == "pending"

    # Approve with three corrected lines (by line number) through the API.
    original = {n: order.lines[n - 1] for n in DISCREPANT}
    price = {n: Decimal(PRODUCTS[(n - 1) % len(PRODUCTS)][2]) for n in DISCREPANT}
    edits = {
        "7": {"unit_price": f"{price[7]}", "amount": f"{original[7].quantity * price[7]:.2f}"},
        "778": {"unit_price": f"{price[778]}", "amount": f"{original[778].quantity * price[778]:.2f}"},
        "1500": {"quantity": "3", "unit_price": f"{price[1500]}", "amount": f"{3 * price[1500]:.2f}"},
    }
    answer = env.api(
        "POST",
        f"/reviews/{intake_id}/approve",
        {"edited_payload": {"line_edits": edits}, "note": "fixed prices"},
    )
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "approved"
    approved_ref = answer.body["resolution_payload"]["approved_order_ref"]
    assert approved_ref != item.payload["order_ref"]

    result = po_pipeline.wait(intake_id, timeout_s=300)
    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    assert intake(intake_id).status is IntakeStatus.ORDERED

    seen = lines_received(env, intake_id)
    assert sorted(seen) == list(range(1, LINES + 1)) and set(seen.values()) == {1}  # none lost, none twice
    sent = _lines_sent(env, intake_id)
    assert Decimal(sent[7]["unit_price"]) == price[7]
    assert Decimal(sent[778]["unit_price"]) == price[778]
    assert (Decimal(sent[1500]["quantity"]), Decimal(sent[1500]["unit_price"])) == (3, price[1500])
    assert Decimal(sent[1999]["unit_price"]) == Decimal("1.00")  # approved as it was
    for n in (1, 2, 1000, 2000):  # untouched lines go as parsed
        assert Decimal(sent[n]["quantity"]) == order.lines[n - 1].quantity
        assert sent[n]["sku"] == order.lines[n - 1].sku
    runs = tray_runs(env, intake_id)
    assert all(run.input["order_data"]["review"]["edited"] is True for run in runs)
    # A second approval acts on nothing.
    again = env.api("POST", f"/reviews/{intake_id}/approve", {})
    assert again.status == 409, again.body
    assert len(tray_runs(env, intake_id)) == len(runs)


def test_a_2000_line_po_rejected_in_review_orders_nothing(po_pipeline: Any) -> None:
    env = po_pipeline.env
    intake_id, _ = _drop_into_review(po_pipeline)

    answer = env.api("POST", f"/reviews/{intake_id}/reject", {"reason": "prices are from last year's list"})
    assert answer.status == 200, answer.body
    result = po_pipeline.wait(intake_id, timeout_s=300)

    assert result.succeeded, result
    assert result.output["outcome"] == "rejected"
    assert tray_runs(env, intake_id) == []
    record = intake(intake_id)
    assert (record.status, record.reason) == (IntakeStatus.REJECTED, "prices are from last year's list")
