"""A 2,000-line PO where every line has a finding, or two, through review (issue 14, point 5).

The worst case for the state: with the order offloaded, the findings alone are 300-700 KB. The
real state machine (CDK-synthesized, in moto; ``sfn_local`` refuses any state input, Lambda output
or SendTaskSuccess output past 256 KiB), the real API handler for the reviewer and the Tray
simulator: the PO goes to review, a rejection ends it with nothing ordered, an approval with edits
orders every line exactly once; the review item and the intake record stay under DynamoDB's 400 KB.
The state store's own rules (when findings leave the state, and how they come back) are checked
without the state machine at the end.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.po_pipeline.conftest import unique
from tests.po_pipeline.large_orders import large_order, large_order_email, lines_received
from tests.po_pipeline.test_pipeline_e2e import intake, tray_runs
from tray_agent.config import Settings, get_settings
from tray_agent.domain.po.state_store import load_state, store_state
from tray_agent.domain.reviews import build_review_service
from tray_agent.models.po_pipeline import (
    DocumentKind,
    DocumentRef,
    Finding,
    FindingCode,
    IntakeStatus,
    PoPipelineState,
)
from tray_agent.models.purchase_order import PurchaseOrder
from tray_local.po_documents import make_order
from tray_local.sfn_local import STATE_DATA_LIMIT_BYTES

LINES = 2000
DYNAMODB_ITEM_LIMIT = 400 * 1024
EDITED = (1, 1000, 2000)  # the lines the reviewer corrects when approving

# Two findings on every line: priced at 1.00 and ordered outside the product's quantity range.
OUT_OF_RANGE = (
    ("WID-1001", "Steel widget, zinc plated", 5),  # minimum 10
    ("CAB-CAT6-5", "Network cable Cat6 shielded, 5 m", 600),  # maximum 500
    ("TON-HP-26X", "Toner cartridge black high yield", 60),  # maximum 50
)


def _buyer() -> tuple[str, str, str]:
    # A buyer of its own: what a reviewer corrects here is not applied to other tests' orders.
    domain = unique("buyer").lower()
    return (f"Buyer {domain}", "1 Main Street, Springfield, IL 62701", f"purchasing@{domain}.example.com")


def _every_sku_unknown() -> PurchaseOrder:
    """One finding per line, the longest kind: an unknown SKU with its closest catalog matches."""
    base = large_order(LINES, unique("PO-ALLSKU"))
    rows = [
        (f"{line.sku}-X", line.description or "", int(line.quantity), f"{line.unit_price}")
        for line in base.lines
    ]
    return make_order(base.po_number or "", rows, buyer=_buyer(), shipping="0")


def _every_line_twice() -> PurchaseOrder:
    rows = [
        (sku, f"{description} (lot {n})", quantity, "1.00")
        for n, (sku, description, quantity) in (
            (n, OUT_OF_RANGE[(n - 1) % len(OUT_OF_RANGE)]) for n in range(1, LINES + 1)
        )
    ]
    return make_order(unique("PO-ALLTWICE"), rows, buyer=_buyer(), shipping="0")


VARIANTS = {
    "every_sku_unknown": (_every_sku_unknown, 1, {"unknown_sku"}),
    "two_findings_per_line": (_every_line_twice, 2, {"price_mismatch", "quantity_out_of_range"}),
}


def _state_events(po_pipeline: Any, intake_id: str) -> list[tuple[Any, dict[str, Any]]]:
    """Every Lambda call this execution made, with the pipeline state it was given."""
    calls = []
    for call in po_pipeline.sfn.invocations:
        event = call.event if isinstance(call.event, dict) else {}
        state = event.get("state", event)  # the Review task's input wraps the state
        if state.get("intake_id") == intake_id:
            calls.append((call, event))
    return calls


def _item_bytes(table_name: str, key: dict[str, str]) -> int:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(table_name)
    record = table.get_item(Key=key)["Item"]
    # DynamoDB counts attribute names and values (UTF-8); JSON of the record is an upper bound.
    return len(json.dumps(record, default=str).encode())


def _into_review(po_pipeline: Any, variant: str) -> tuple[str, PurchaseOrder, int]:
    build, per_line, codes = VARIANTS[variant]
    order = build()
    drop = po_pipeline.drop(f"inbox/{unique('allfind')}.eml", large_order_email(order), timeout_s=300)
    ((intake_id, paused),) = drop.executions.items()
    assert paused.paused, paused
    settings = get_settings()
    assert tray_runs(po_pipeline.env, intake_id) == []
    assert intake(intake_id).status is IntakeStatus.IN_REVIEW

    # The Review task was given the state with the order and the findings by reference.
    (review_state,) = [e["state"] for _, e in _state_events(po_pipeline, intake_id) if "task_token" in e]
    ref = review_state["findings_ref"]
    assert ref["count"] >= per_line * LINES and codes <= set(ref["codes"])
    assert len(review_state["findings"]) == settings.po_state_findings_inline_max
    assert review_state["purchase_order"] is None and review_state["purchase_order_ref"]
    stored = boto3.client("s3", region_name="us-east-1").get_object(Bucket=settings.po_bucket, Key=ref["key"])
    body = stored["Body"].read()
    assert len(json.loads(body)) == ref["count"] and len(body) > STATE_DATA_LIMIT_BYTES  # the hole it closes

    # The review item counts every finding, lists the first ones, shows the flagged lines: < 400 KB.
    item = build_review_service(settings).get(intake_id)
    summary = item.payload["summary"]
    assert summary["findings"] == ref["count"] and summary["lines_with_findings"] == LINES
    assert codes <= set(summary["finding_codes"])
    limit = settings.po_review_flagged_lines_max
    assert len(item.payload["flagged_lines"]) == limit
    assert item.payload["flagged_lines_omitted"] == LINES - limit
    assert len(item.findings) == limit + 1
    assert item.findings[-1] == f"... and {ref['count'] - limit} more finding(s)"
    assert _item_bytes(settings.reviews_table, {"review_id": intake_id}) < DYNAMODB_ITEM_LIMIT
    assert _item_bytes(settings.po_intake_table, {"intake_id": intake_id}) < DYNAMODB_ITEM_LIMIT
    return intake_id, order, int(ref["count"])


def _states_within_limit(po_pipeline: Any, intake_id: str) -> None:
    calls = _state_events(po_pipeline, intake_id)
    assert [c.function_name for c, _ in calls if c.error_type is not None] == []
    sizes = [len(json.dumps(e, separators=(",", ":")).encode()) for _, e in calls]
    assert len(calls) >= 5 and max(sizes) < STATE_DATA_LIMIT_BYTES, sizes


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_line_flagged_goes_to_review_and_is_approved_with_edits_every_line_once(
    po_pipeline: Any, variant: str
) -> None:
    env = po_pipeline.env
    intake_id, order, count = _into_review(po_pipeline, variant)

    # The reviewer corrects three lines: SKU, quantity, price and amount, by line number.
    edits: dict[str, dict[str, str]] = {}
    for n in EDITED:
        line = order.lines[n - 1]
        sku = (line.sku or "").removesuffix("-X")
        edits[str(n)] = {"sku": sku, "quantity": "20", "unit_price": "9.00", "amount": "180.00"}
    answer = env.api(
        "POST", f"/reviews/{intake_id}/approve", {"edited_payload": {"line_edits": edits}, "note": "checked"}
    )
    assert answer.status == 200, answer.body

    result = po_pipeline.wait(intake_id, timeout_s=300)
    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    assert result.output["findings_ref"]["count"] == count  # the final state still names them all
    record = intake(intake_id)
    assert record.status is IntakeStatus.ORDERED
    assert len(record.findings) == get_settings().po_review_flagged_lines_max + 1
    _states_within_limit(po_pipeline, intake_id)

    seen = lines_received(env, intake_id)
    assert sorted(seen) == list(range(1, LINES + 1)) and set(seen.values()) == {1}  # none lost, none twice
    sent: dict[int, dict[str, Any]] = {}
    for run in tray_runs(env, intake_id):
        data = run.input["order_data"]
        first = int(data.get("chunk", {}).get("first_line", 1))
        sent.update({first + i: line for i, line in enumerate(data["lines"])})
    for n in EDITED:
        assert sent[n]["sku"] == edits[str(n)]["sku"]
        assert (Decimal(sent[n]["quantity"]), Decimal(sent[n]["unit_price"])) == (20, Decimal("9.00"))
    assert sent[2]["sku"] == order.lines[1].sku  # approved as parsed
    assert Decimal(sent[2]["unit_price"]) == order.lines[1].unit_price
    _item_bytes_safe(intake_id)  # both records still under the limit after the outcome


def _item_bytes_safe(intake_id: str) -> list[int]:
    settings = get_settings()
    sizes = [
        _item_bytes(settings.reviews_table, {"review_id": intake_id}),
        _item_bytes(settings.po_intake_table, {"intake_id": intake_id}),
    ]
    assert max(sizes) < DYNAMODB_ITEM_LIMIT, sizes
    return sizes


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_line_flagged_rejected_in_review_orders_nothing(po_pipeline: Any, variant: str) -> None:
    env = po_pipeline.env
    intake_id, _, count = _into_review(po_pipeline, variant)

    answer = env.api("POST", f"/reviews/{intake_id}/reject", {"reason": "not our catalog"})
    assert answer.status == 200, answer.body
    result = po_pipeline.wait(intake_id, timeout_s=300)

    assert result.succeeded, result
    assert result.output["outcome"] == "rejected"
    assert result.output["findings_ref"]["count"] == count
    assert tray_runs(env, intake_id) == []
    record = intake(intake_id)
    assert (record.status, record.reason) == (IntakeStatus.REJECTED, "not our catalog")
    _states_within_limit(po_pipeline, intake_id)
    _item_bytes_safe(intake_id)


# -- the state store's rules, without the state machine -------------------------------------------


def _state(lines: int, findings_per_line: int) -> PoPipelineState:
    order = make_order("PO-STORE-1", [("WID-1001", f"Widget lot {n}", 10, "12.50") for n in range(lines)])
    findings = [
        Finding(code=FindingCode.PRICE_MISMATCH, message=f"Line {n}: price {k}", line=n, sku="WID-1001")
        for n in range(1, lines + 1)
        for k in range(findings_per_line)
    ]
    document = DocumentRef(bucket="b", key="k", etag="e", size=1, kind=DocumentKind.PDF, filename="x.pdf")
    return PoPipelineState(
        intake_id=unique("po-store"), document=document, purchase_order=order, findings=findings
    )


def test_a_small_state_is_returned_exactly_as_before() -> None:
    state = _state(lines=3, findings_per_line=2)
    assert store_state(state, Settings()) == state.dump()  # no S3 touched: there is none here


def test_findings_leave_the_state_only_when_it_is_too_large_without_the_order(local_env: Any) -> None:
    settings = get_settings()
    s3 = boto3.client("s3", region_name="us-east-1")
    if settings.po_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=settings.po_bucket)

    # Long, few findings: the order goes by reference, the findings stay inline.
    few = _state(lines=2000, findings_per_line=0)
    few = few.model_copy(update={"findings": few.findings + _state(5, 1).findings})
    stored = store_state(few, settings)
    assert stored["purchase_order_ref"] and stored["findings_ref"] is None and len(stored["findings"]) == 5

    # Every line flagged twice: the findings go too, the first few, their count and codes stay.
    many = _state(lines=2000, findings_per_line=2)
    stored = store_state(many, settings)
    assert len(json.dumps(stored).encode()) < settings.po_state_inline_max_bytes
    ref = stored["findings_ref"]
    assert (ref["count"], ref["codes"]) == (4000, ["price_mismatch"])
    inline = settings.po_state_findings_inline_max
    assert stored["findings"] == [f.model_dump(mode="json") for f in many.findings[:inline]]
    assert store_state(many, settings)["findings_ref"]["key"] == ref["key"]  # same content, same key

    # The next step reads them all back, and stores them again under the same key.
    loaded = load_state(stored, settings)
    assert loaded.findings == many.findings and loaded.findings_ref is None
    assert loaded.purchase_order == many.purchase_order
    assert store_state(loaded, settings)["findings_ref"]["key"] == ref["key"]
