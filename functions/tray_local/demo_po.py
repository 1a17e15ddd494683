"""Demo section: purchase orders by email → the synthesized state machine → Tray or a reviewer.

Drops emails into the (moto) PO bucket, runs them through the state machine CDK synthesizes
(moto's interpreter, our handlers in-process), and shows the parsed PO, the findings, what
reached the Tray simulator, and the recorded outcome of what was refused or failed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tray_agent.domain.po.catalog import load_catalog, parse_catalog_file
from tray_agent.domain.po.queries import build_intake_queries
from tray_agent.domain.reviews import build_review_service
from tray_agent.models.po_pipeline import PoPipelineState
from tray_agent.models.reviews import ApproveRequest
from tray_agent.observability import logger
from tray_local.local_env import LocalEnvironment
from tray_local.po_documents import build_email, make_order, render_pdf
from tray_local.po_local import Drop, LocalPoPipeline

CATALOG_FILE = Path(__file__).with_name("demo_catalog.csv")


def _show_state(output: dict[str, Any] | None) -> None:
    if not output:
        return
    state = PoPipelineState.model_validate(output)
    order = state.purchase_order
    if order is not None:
        print(
            f"  parsed PO {order.po_number} from {order.buyer.name} ({order.parser} parser, confidence "
            f"{order.overall_confidence:.2f}): {len(order.lines)} lines, total {order.currency} {order.total}"
        )
        for number, line in enumerate(order.lines, start=1):
            print(
                f"    {number}. {line.sku:<12} {line.quantity:>6} x {line.unit_price:>8}  = {line.amount:>9}"
            )
    if state.findings:
        print("  findings:")
        for finding in state.findings:
            print(f"    - {finding.message}")
    elif order is not None:
        print("  findings: none, the PO is clean")


def _show_tray(env: LocalEnvironment, before: set[str]) -> None:
    env.simulator.wait_idle()
    runs = [e for e in env.simulator.executions() if e.id not in before]
    if not runs:
        print("  Tray simulator: nothing triggered")
    for run in runs:
        data = run.input.get("order_data", {})
        lines = [(line["sku"], line["quantity"], line["unit_price"]) for line in data.get("lines", [])]
        print(f"  Tray simulator ran {run.workflow_name} → {run.status} (execution {run.id})")
        print(f"    order_data: PO {data.get('po_number')}, lines {json.dumps(lines)}")
        print(f"    total {data.get('total')}, review {json.dumps(data.get('review'))}")


def _show_drop(env: LocalEnvironment, drop: Drop) -> None:
    queries = build_intake_queries(env.settings)
    for record in queries.for_object(env.settings.po_bucket, drop.key):
        where = f"{record.filename}" + (
            f" (attachment {record.attachment_index + 1})" if record.attachment_index is not None else ""
        )
        reason = f": {record.reason}" if record.reason else ""
        error = f" [{record.error}]" if record.error else ""
        print(f"  intake {record.intake_id[:15]}… {where} → {record.status.value}{error}{reason}")


def run(env: LocalEnvironment) -> None:
    # The logger may predate the demo's POWERTOOLS_LOG_LEVEL (a CLI module imported it first).
    logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"))
    try:
        _run(env)
    finally:
        logger.clear_state()  # the handlers' Lambda context keys must not follow later sections


def _run(env: LocalEnvironment) -> None:
    print("\n=== Purchase orders: email → S3 → Step Functions → Tray (or a reviewer) ===")
    catalog = parse_catalog_file(CATALOG_FILE)
    load_catalog(catalog, settings=env.settings)
    print(f"catalog loaded: {len(catalog.products)} products, {len(catalog.contract_prices)} contract prices")
    print("synthesizing the CDK app for the state machine definition (about ten seconds)…")
    with LocalPoPipeline.start(env) as pipeline:
        clean = make_order(
            "PO-2026-0412",
            [
                ("WID-1001", "Steel widget, zinc plated", 200, "12.50"),
                ("BRK-220", "Mounting bracket 40 mm", 50, "4.25"),  # Acme's contract price
                ("TON-HP-26X", "Toner cartridge black high yield", 4, "89.00"),
            ],
        )
        print("\n- an email from Acme with a clean PO attached")
        before = {e.id for e in env.simulator.executions()}
        mail = build_email([("PO-2026-0412.pdf", render_pdf(clean), "application/pdf")])
        drop = pipeline.drop("inbox/acme-0412.eml", mail)
        for result in drop.executions.values():
            _show_state(result.output)
        _show_tray(env, before)
        _show_drop(env, drop)

        print("\n- the same S3 notification delivered again")
        again = pipeline.notify(drop.key, etag=drop_etag(env, drop.key), size=len(mail))
        started, skipped = len(again.intake["started"]), len(again.intake["duplicates"])
        print(f"  intake: {started} started, {skipped} duplicate(s) skipped: the document is processed once")

        print("\n- a PO from Brightline with an outdated price")
        discrepancy = make_order(
            "BL-77812",
            [
                ("WID-1001", "Steel widget, zinc plated", 100, "11.00"),
                ("CAB-CAT6-5", "Network cable Cat6 shielded, 5 m", 40, "8.90"),
            ],
            buyer=("Brightline Components Ltd", "7 Mill Lane, Leeds LS1 4AB", "buying@brightline.co.uk"),
        )
        before = {e.id for e in env.simulator.executions()}
        mail = build_email(
            [("BL-77812.pdf", render_pdf(discrepancy), "application/pdf")], sender="buying@brightline.co.uk"
        )
        drop = pipeline.drop("inbox/brightline-77812.eml", mail)
        (intake_id, paused), *_ = drop.executions.items()
        print(f"  execution {paused.status}, paused for a review: {paused.paused}")
        _show_state(paused.output or _input_of(pipeline, paused.execution_arn))
        item = build_review_service(env.settings).get(intake_id)
        print(f"  review filed: {item.title}: {item.reason}")
        for finding in item.findings:
            print(f"    - {finding}")
        _show_tray(env, before)
        print("  a reviewer approves (the customer confirmed the old price)…")
        _approve(env, intake_id, ApproveRequest(note="customer confirmed the quoted price"))
        result = pipeline.wait(intake_id)
        print(f"  execution {result.status}, outcome {result.output['outcome'] if result.output else None}")
        _show_tray(env, before)

        print("\n- documents that are not purchase orders we can read")
        refusals = [
            (
                "inbox/no-pdf.eml",
                build_email([("prices.zip", b"PK\x03\x04" + b"\0" * 64, "application/zip")]),
            ),
            ("inbox/broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%% truncated in transit"),
            ("inbox/photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32),
        ]
        for key, body in refusals:
            drop = pipeline.drop(key, body)
            print(f"  {key}:")
            _show_drop(env, drop)


def _approve(env: LocalEnvironment, review_id: str, request: ApproveRequest) -> None:
    """Through the review API, as a reviewer would."""
    answer = env.api("POST", f"/reviews/{review_id}/approve", request.model_dump(exclude_none=True))
    print(f"  POST /reviews/{review_id[:15]}…/approve → HTTP {answer.status}")


def _input_of(pipeline: LocalPoPipeline, execution_arn: str) -> dict[str, Any]:
    """The state as it entered the Review task (a paused execution has no output yet)."""
    for event in reversed(pipeline.sfn.history(execution_arn)):
        if event["type"] == "TaskStateEntered" and event["stateEnteredEventDetails"]["name"] == "Review":
            state: dict[str, Any] = json.loads(event["stateEnteredEventDetails"]["input"])
            return state
    return {}


def drop_etag(env: LocalEnvironment, key: str) -> str:
    import boto3

    return str(boto3.client("s3").head_object(Bucket=env.settings.po_bucket, Key=key)["ETag"])
