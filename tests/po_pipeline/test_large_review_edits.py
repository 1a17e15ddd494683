"""Partial edits to a by-reference PO and the review payload's two shapes (no AWS needed)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tray_agent.config import Settings
from tray_agent.domain.po.review import LargeOrderEdits, apply_edits, by_reference, review_payload
from tray_agent.errors import InvalidInputError
from tray_agent.models.po_pipeline import DocumentKind, DocumentRef, Finding, FindingCode, PoPipelineState
from tray_agent.models.purchase_order import PurchaseOrder
from tray_agent.redaction import mask_text
from tray_local.po_documents import make_order

IBAN = "DE89370400440532013000"  # the standard example IBAN: its checksum is valid, so it is masked


def _order(lines: int = 3) -> PurchaseOrder:
    rows = [("WID-1001", f"Steel widget lot {n}", 10, "12.50") for n in range(1, lines + 1)]
    rows[1] = ("WID-1001", f"Widget, pay to {IBAN}", 10, "12.50")
    return make_order("PO-EDIT-1", rows)


def _state(order: PurchaseOrder, findings: list[Finding]) -> PoPipelineState:
    document = DocumentRef(bucket="b", key="k", etag="e", size=1, kind=DocumentKind.PDF, filename="x.pdf")
    return PoPipelineState(
        intake_id="po-x",
        document=document,
        purchase_order=order,
        findings=findings,
        needs_review=True,
        purchase_order_ref="state/po-x/1/abc.json",
    )


def test_edits_change_only_the_named_fields_of_the_named_lines() -> None:
    order = _order()
    edited = apply_edits(order, LargeOrderEdits(line_edits={3: {"quantity": "4", "amount": "50.00"}}))
    assert (edited.lines[2].quantity, edited.lines[2].amount) == (Decimal(4), Decimal("50.00"))
    assert edited.lines[2].sku == "WID-1001" and edited.lines[2].unit_price == Decimal("12.50")
    assert edited.lines[:2] == order.lines[:2]


def test_a_mask_left_in_an_edited_line_takes_the_real_value_back() -> None:
    order = _order()
    shown = mask_text(order.lines[1].description)
    assert IBAN not in shown
    edited = apply_edits(order, LargeOrderEdits(line_edits={2: {"description": shown + " (checked)"}}))
    assert edited.lines[1].description == f"Widget, pay to {IBAN} (checked)"


def test_a_party_is_merged_field_by_field() -> None:
    order = _order()
    edited = apply_edits(order, LargeOrderEdits(header_edits={"buyer": {"name": "Acme Corp"}}))
    assert edited.buyer.name == "Acme Corp"
    assert edited.buyer.address == order.buyer.address


@pytest.mark.parametrize(
    ("edits", "named"),
    [
        (LargeOrderEdits(line_edits={4: {"quantity": "1"}}), "line 4 does not exist"),
        (LargeOrderEdits(line_edits={0: {"quantity": "1"}}), "line 0 does not exist"),
        (LargeOrderEdits(line_edits={1: {"qty": "1"}}), "unknown field(s) qty"),
        (LargeOrderEdits(line_edits={1: {"quantity": "lots"}}), "quantity"),
        (LargeOrderEdits(header_edits={"lines": []}), "lines are edited with line_edits"),
        (LargeOrderEdits(line_edits={1: {"description": "[redacted:iban]"}}), "the original has no"),
    ],
)
def test_edits_that_cannot_apply_are_refused_naming_the_problem(edits: LargeOrderEdits, named: str) -> None:
    with pytest.raises(InvalidInputError, match=named.replace("(", r"\(").replace(")", r"\)")):
        apply_edits(_order(), edits)


def test_a_small_order_is_reviewed_inline_exactly_as_before() -> None:
    order = _order()
    finding = Finding(code=FindingCode.PRICE_MISMATCH, message="Line 2: price", line=2)
    payload, findings = review_payload(_state(order, [finding]), order, Settings())
    assert payload == order.model_dump(mode="json")
    assert findings == ["Line 2: price"] and not by_reference(payload)


def test_a_large_order_is_reviewed_by_reference_with_a_summary_and_its_flagged_lines() -> None:
    order = _order(lines=40)
    findings = [
        Finding(code=FindingCode.PRICE_MISMATCH, message=f"Line {n}: price", line=n) for n in (5, 2, 5, 30)
    ]
    settings = Settings(po_review_inline_max_bytes=1024, po_review_flagged_lines_max=2)
    payload, shown = review_payload(_state(order, findings), order, settings)
    assert by_reference(payload) and payload["order_ref"] == "state/po-x/1/abc.json"
    assert payload["summary"]["line_count"] == 40 and payload["summary"]["lines_with_findings"] == 3
    assert payload["summary"]["total"] == f"{order.total}"
    assert [line["line"] for line in payload["flagged_lines"]] == [2, 5]
    assert payload["flagged_lines"][1]["description"] == "Steel widget lot 5"
    assert payload["flagged_lines_omitted"] == 1
    assert shown == ["Line 5: price", "Line 2: price", "... and 2 more finding(s)"]
