"""A PO in review is shown masked, yet the order placed on approval carries the real values.

The vendor's IBAN in the payment terms reads ``[redacted:iban]`` in the review item; the paused
execution still holds the parsed PO, and approval (as is, or edited with the marker left in)
orders with the real IBAN. A marker where the PO had no masked value is refused before anything
is resolved, and the execution keeps waiting.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.po_pipeline.conftest import unique
from tests.po_pipeline.test_pipeline_e2e import BRIGHTLINE, email_with, tray_runs
from tray_local.po_documents import make_order

pytestmark = pytest.mark.slow

IBAN = "DE89 3704 0044 0532 0130 00"
TERMS = f"Net 30, wire to IBAN {IBAN}"


def _po_with_iban_in_review(po_pipeline: Any) -> tuple[str, dict[str, Any]]:
    order = make_order(
        unique("BL"),
        [("WID-1001", "Steel widget, zinc plated", 100, "11.00")],  # under the catalog price: review
        buyer=BRIGHTLINE,
    ).model_copy(update={"payment_terms": TERMS})
    drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(order))
    ((intake_id, paused),) = drop.executions.items()
    assert paused.paused, paused
    item = po_pipeline.env.api("GET", f"/reviews/{intake_id}")
    assert item.status == 200, item.body
    return intake_id, item.body


def _approve(po_pipeline: Any, intake_id: str, body: dict[str, Any]) -> Any:
    return po_pipeline.env.api("POST", f"/reviews/{intake_id}/approve", body)


def test_the_reviewer_sees_the_iban_masked_and_approval_orders_with_the_real_one(po_pipeline: Any) -> None:
    intake_id, item = _po_with_iban_in_review(po_pipeline)
    assert item["payload"]["payment_terms"] == "Net 30, wire to IBAN [redacted:iban]"
    assert IBAN not in json.dumps(item)

    approved = _approve(po_pipeline, intake_id, {"note": "terms checked"})
    assert approved.status == 200, approved.body
    assert IBAN not in json.dumps(approved.body)
    result = po_pipeline.wait(intake_id)

    assert result.succeeded, result
    (run,) = tray_runs(po_pipeline.env, intake_id)
    assert run.input["order_data"]["payment_terms"] == TERMS
    assert run.input["order_data"]["review"]["edited"] is False


def test_an_edit_that_keeps_the_marker_orders_the_edit_with_the_real_iban(po_pipeline: Any) -> None:
    intake_id, item = _po_with_iban_in_review(po_pipeline)
    edited = item["payload"]
    edited["lines"][0]["unit_price"] = "12.50"
    edited["lines"][0]["amount"] = "1250.00"
    edited["payment_terms"] = "Net 45, wire to IBAN [redacted:iban]"

    approved = _approve(po_pipeline, intake_id, {"edited_payload": edited})
    assert approved.status == 200, approved.body
    assert IBAN not in json.dumps(approved.body)  # the stored resolution is masked too
    result = po_pipeline.wait(intake_id)

    assert result.succeeded, result
    (run,) = tray_runs(po_pipeline.env, intake_id)
    sent = run.input["order_data"]
    assert sent["payment_terms"] == f"Net 45, wire to IBAN {IBAN}"
    assert sent["lines"][0]["unit_price"] == "12.50"
    assert sent["review"]["edited"] is True


def test_a_marker_with_nothing_to_restore_is_refused_and_the_po_still_waits(po_pipeline: Any) -> None:
    intake_id, item = _po_with_iban_in_review(po_pipeline)
    edited = item["payload"]
    edited["ship_to"] = "[redacted:iban]"

    refused = _approve(po_pipeline, intake_id, {"edited_payload": edited})
    assert refused.status == 400, refused.body
    assert "$.ship_to" in refused.body["message"]
    assert po_pipeline.env.api("GET", f"/reviews/{intake_id}").body["status"] == "pending"
    assert tray_runs(po_pipeline.env, intake_id) == []

    approved = _approve(po_pipeline, intake_id, {})  # the reviewer tries again, unedited
    assert approved.status == 200, approved.body
    assert po_pipeline.wait(intake_id).succeeded
    (run,) = tray_runs(po_pipeline.env, intake_id)
    assert run.input["order_data"]["payment_terms"] == TERMS
