"""Structured data, large orders, reviewers' corrections and hostile documents, end to end.

The state machine CDK synthesizes runs in moto with our handlers in-process; S3 and DynamoDB are
moto; the order workflow runs in the Tray simulator over real HTTP.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.po_parsing.hostile_pdfs import bomb_pdf, filtered_page_pdf, lzw_zeros
from tests.po_pipeline.conftest import unique
from tests.po_pipeline.large_orders import drop_large_order, lines_received
from tests.po_pipeline.test_pipeline_e2e import ACME, approve, intake, tray_runs
from tray_agent.config import get_settings
from tray_agent.domain.reviews import build_review_service
from tray_agent.models.po_pipeline import IntakeStatus
from tray_local.po_documents import build_email, make_order, render_pdf
from tray_local.po_xml import cii_order, cxml_order_request, ubl_order

pytestmark = pytest.mark.slow


def _order(po_number: str, sku: str = "WID-1001") -> Any:
    return make_order(po_number, [(sku, "Steel widget, zinc plated", 200, "12.50")], buyer=ACME)


def test_pdf_with_embedded_factur_x_is_ordered_from_its_data(po_pipeline: Any) -> None:
    order = _order(unique("PO"))
    pdf = render_pdf(order, embedded=[("factur-x.xml", cii_order(order))])
    drop = po_pipeline.drop(f"inbox/{unique('doc')}.pdf", pdf)

    ((intake_id, result),) = drop.executions.items()
    assert result.succeeded, result
    assert intake(intake_id).status is IntakeStatus.ORDERED
    (run,) = tray_runs(po_pipeline.env, intake_id)
    sent = run.input["order_data"]
    assert sent["po_number"] == order.po_number and Decimal(sent["total"]) == order.total
    assert sent["source_format"] == "Order-X" and sent["cross_check"] == []


@pytest.mark.parametrize("writer", [ubl_order, cxml_order_request])
def test_email_with_the_order_xml_beside_the_pdf(po_pipeline: Any, writer: Any) -> None:
    order = _order(unique("PO"))
    name = order.po_number
    raw = build_email(
        [
            (f"{name}.pdf", render_pdf(order), "application/pdf"),
            (f"{name}.xml", writer(order), "application/xml"),
        ]
    )
    drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", raw)

    ((intake_id, result),) = drop.executions.items()
    assert result.succeeded, result
    (run,) = tray_runs(po_pipeline.env, intake_id)
    assert run.input["order_data"]["source_format"] in ("UBL Order", "cXML OrderRequest")
    assert run.input["order_data"]["lines"][0]["sku"] == "WID-1001"


@pytest.mark.parametrize(
    "bomb",
    [
        lambda: bomb_pdf(512 << 20),
        lambda: filtered_page_pdf(
            lzw_zeros(512 << 20).hex().encode() + b">", b"[/ASCIIHexDecode /LZWDecode]"
        ),
    ],
    ids=["flate", "hex-lzw"],
)
def test_a_bomb_ends_as_a_recorded_refusal_not_a_crash(po_pipeline: Any, bomb: Any) -> None:
    drop = po_pipeline.drop(f"inbox/{unique('bomb')}.pdf", bomb())

    ((intake_id, result),) = drop.executions.items()
    assert not result.succeeded
    record = intake(intake_id)
    assert record.status is IntakeStatus.FAILED
    assert record.error == "DecompressionBombError"
    assert "decompression bomb" in (record.reason or "")
    assert tray_runs(po_pipeline.env, intake_id) == []


def test_a_reviewers_sku_correction_is_applied_to_the_customers_next_order(po_pipeline: Any) -> None:
    # Acme prints its own part number; a reviewer maps it to our SKU once.
    first = _order(unique("PO"), sku="ACME-77-W")
    drop = po_pipeline.drop(f"inbox/{unique('msg')}.pdf", render_pdf(first))
    ((intake_id, paused),) = drop.executions.items()
    assert paused.paused, paused
    edited = build_review_service(get_settings()).get(intake_id).payload
    edited["lines"][0]["sku"] = "WID-1001"
    approve(po_pipeline.env, intake_id, edited)
    assert po_pipeline.wait(intake_id).succeeded

    second = _order(unique("PO"), sku="ACME-77-W")
    drop = po_pipeline.drop(f"inbox/{unique('msg')}.pdf", render_pdf(second))
    ((next_id, result),) = drop.executions.items()
    assert result.succeeded, result  # no review this time: the correction was applied
    (run,) = tray_runs(po_pipeline.env, next_id)
    sent = run.input["order_data"]
    assert sent["lines"][0]["sku"] == "WID-1001" and sent["lines"][0]["buyer_sku"] == "ACME-77-W"
    assert sent["corrections_applied"] == [
        "line 1: customer part ACME-77-W is our SKU WID-1001 (a reviewer's correction)"
    ]


def test_a_2000_line_order_is_ordered_whole_through_the_state_machine(po_pipeline: Any) -> None:
    started = time.perf_counter()
    result, intake_id, _ = drop_large_order(po_pipeline, 2000)
    elapsed = time.perf_counter() - started

    assert result.succeeded, result
    assert intake(intake_id).status is IntakeStatus.ORDERED
    seen = lines_received(po_pipeline.env, intake_id)
    assert sorted(seen) == list(range(1, 2001)) and set(seen.values()) == {1}  # none lost, none twice
    runs = tray_runs(po_pipeline.env, intake_id)
    chunks = sorted(run.input["order_data"]["chunk"]["index"] for run in runs)
    assert chunks == [1, 2, 3, 4]  # 500 lines per Tray run
    assert all(run.idempotency_key.startswith(f"{intake_id}:order:chunk:") for run in runs)
    # The state went through S3 by reference: the offloaded order is there.
    s3 = boto3.client("s3", region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket=get_settings().po_bucket, Prefix=f"state/{intake_id}/")
    assert listed.get("KeyCount", 0) >= 1
    assert elapsed < 120
