"""Purchase orders end to end: the state machine CDK synthesizes, run by moto's interpreter.

Every Lambda task is our real handler (in-process); S3 and DynamoDB are moto; the order
workflow runs in the Tray simulator over real HTTP. Approvals and rejections go through the
review service the review API calls.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.po_pipeline.conftest import unique
from tray_agent.config import get_settings
from tray_agent.domain.reviews import build_review_service
from tray_agent.errors import ConflictError
from tray_agent.models.po_pipeline import IntakeStatus
from tray_agent.models.reviews import ApproveRequest, ReviewItem
from tray_local.po_documents import build_email, make_order, render_pdf

pytestmark = pytest.mark.slow

ACME = ("Acme Manufacturing Inc.", "1200 Industrial Way, Springfield, IL 62701", "purchasing@acme-mfg.com")
BRIGHTLINE = ("Brightline Components Ltd", "7 Mill Lane, Leeds LS1 4AB", "buying@brightline.co.uk")


def clean_order(po_number: str) -> Any:
    return make_order(
        po_number,
        [
            ("WID-1001", "Steel widget, zinc plated", 200, "12.50"),
            ("BRK-220", "Mounting bracket 40 mm", 50, "4.25"),  # Acme's contract price
        ],
        buyer=ACME,
    )


def email_with(*orders: Any) -> bytes:
    return build_email([(f"{o.po_number}.pdf", render_pdf(o), "application/pdf") for o in orders])


def tray_runs(env: Any, intake_id: str) -> list[Any]:
    env.simulator.wait_idle()
    return [e for e in env.simulator.executions() if (e.idempotency_key or "").startswith(f"{intake_id}:")]


def intake(intake_id: str) -> Any:
    from tray_agent.domain.po.queries import build_intake_queries

    return build_intake_queries(get_settings()).get(intake_id)


def _through_api(env: Any, review_id: str, verb: str, body: dict[str, Any]) -> ReviewItem:
    """POST /reviews/{id}/approve|reject through the real API handler, as a reviewer."""
    answer = env.api("POST", f"/reviews/{review_id}/{verb}", body)
    if answer.status == 409:
        raise ConflictError(str(answer.body))
    assert answer.status == 200, answer.body
    return ReviewItem.model_validate(answer.body)


def approve(env: Any, review_id: str, edited: dict[str, Any] | None = None) -> ReviewItem:
    request = ApproveRequest(edited_payload=edited, note="checked with the customer")
    return _through_api(env, review_id, "approve", request.model_dump(exclude_none=True))


def reject(env: Any, review_id: str, reason: str) -> ReviewItem:
    return _through_api(env, review_id, "reject", {"reason": reason})


def test_clean_po_email_triggers_the_order_workflow_with_the_validated_order(po_pipeline: Any) -> None:
    order = clean_order(unique("PO"))
    drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(order))

    ((intake_id, result),) = drop.executions.items()
    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    assert result.output["findings"] == []
    assert po_pipeline.sfn.state_names_entered(result.execution_arn) == [
        "Extract", "Parse", "Validate", "NeedsReview", "Trigger", "Record", "Outcome", "Done",
    ]  # fmt: skip
    (run,) = tray_runs(po_pipeline.env, intake_id)
    assert run.workflow_name == "order_processing"
    assert run.input["expedited"] is False
    sent = run.input["order_data"]
    assert sent["po_number"] == order.po_number
    assert sent["buyer"]["email"] == "purchasing@acme-mfg.com"
    assert [
        (line["sku"], Decimal(line["quantity"]), Decimal(line["unit_price"])) for line in sent["lines"]
    ] == [
        ("WID-1001", Decimal(200), Decimal("12.50")),
        ("BRK-220", Decimal(50), Decimal("4.25")),
    ]
    assert Decimal(sent["total"]) == order.total
    assert sent["source"]["intake_id"] == intake_id
    assert "confidence" not in sent
    record = intake(intake_id)
    assert record.status is IntakeStatus.ORDERED
    assert record.order_execution_id == run.id
    assert record.po_number == order.po_number


def test_repeated_notification_never_processes_the_document_twice(po_pipeline: Any) -> None:
    key = f"inbox/{unique('msg')}.eml"
    body = email_with(clean_order(unique("PO")))
    first = po_pipeline.drop(key, body)
    etag = boto3.client("s3").head_object(Bucket=get_settings().po_bucket, Key=key)["ETag"]

    again = po_pipeline.notify(key, etag=etag, size=len(body))

    (intake_id,) = first.intake["started"]
    assert again.intake == {"started": [], "duplicates": [intake_id], "refused": []}
    assert len(tray_runs(po_pipeline.env, intake_id)) == 1


def test_an_email_with_two_po_pdfs_starts_two_executions(po_pipeline: Any) -> None:
    orders = [clean_order(unique("PO")), clean_order(unique("PO"))]
    drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(*orders))

    assert len(drop.executions) == 2
    assert all(result.succeeded for result in drop.executions.values())
    sent = {tray_runs(po_pipeline.env, i)[0].input["order_data"]["po_number"] for i in drop.executions}
    assert sent == {o.po_number for o in orders}


def test_bare_pdf_drop_is_processed_like_an_attachment(po_pipeline: Any) -> None:
    order = clean_order(unique("PO"))
    drop = po_pipeline.drop(f"inbox/{unique('scan')}.pdf", render_pdf(order))

    ((intake_id, result),) = drop.executions.items()
    assert result.output["outcome"] == "ordered"
    assert result.output["document"]["pdf_key"] == result.output["document"]["key"]  # no copy needed
    assert len(tray_runs(po_pipeline.env, intake_id)) == 1


def _price_discrepancy(po_pipeline: Any) -> tuple[str, Any, Any]:
    order = make_order(
        unique("BL"),
        [
            ("WID-1001", "Steel widget, zinc plated", 100, "11.00"),
            ("CAB-CAT6-5", "Network cable Cat6 shielded, 5 m", 40, "8.90"),
        ],
        buyer=BRIGHTLINE,
    )
    drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(order))
    ((intake_id, paused),) = drop.executions.items()
    return intake_id, paused, order


def test_price_discrepancy_waits_for_review_then_approval_triggers_once(po_pipeline: Any) -> None:
    intake_id, paused, order = _price_discrepancy(po_pipeline)

    assert paused.paused, paused
    assert tray_runs(po_pipeline.env, intake_id) == []
    item = build_review_service(get_settings()).get(intake_id)
    assert item.findings == ["Line 1 (WID-1001): PO says $11.00/unit but the current price is $12.50/unit"]
    assert item.payload["po_number"] == order.po_number
    assert intake(intake_id).status is IntakeStatus.IN_REVIEW

    approved = approve(po_pipeline.env, intake_id)
    result = po_pipeline.wait(intake_id)

    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    (run,) = tray_runs(po_pipeline.env, intake_id)
    assert run.input["order_data"]["review"] == {
        "review_id": intake_id,
        "reviewer": approved.resolved_by,
        "edited": False,
    }
    assert intake(intake_id).status is IntakeStatus.ORDERED
    with pytest.raises(ConflictError):
        approve(po_pipeline.env, intake_id)  # a second approval acts on nothing
    assert len(tray_runs(po_pipeline.env, intake_id)) == 1


def test_approval_with_an_edited_po_sends_the_edited_order(po_pipeline: Any) -> None:
    intake_id, _, _ = _price_discrepancy(po_pipeline)
    edited = build_review_service(get_settings()).get(intake_id).payload
    edited["lines"][0]["unit_price"] = "12.50"
    edited["lines"][0]["amount"] = "1250.00"

    approve(po_pipeline.env, intake_id, edited)
    result = po_pipeline.wait(intake_id)

    assert result.succeeded, result
    (run,) = tray_runs(po_pipeline.env, intake_id)
    assert run.input["order_data"]["lines"][0]["unit_price"] == "12.50"
    assert run.input["order_data"]["review"]["edited"] is True


def test_rejection_records_the_reason_and_triggers_nothing(po_pipeline: Any) -> None:
    intake_id, _, _ = _price_discrepancy(po_pipeline)

    reject(po_pipeline.env, intake_id, "price list expired; customer must reorder at current prices")
    result = po_pipeline.wait(intake_id)

    assert result.succeeded, result
    assert result.output["outcome"] == "rejected"
    assert tray_runs(po_pipeline.env, intake_id) == []
    record = intake(intake_id)
    assert record.status is IntakeStatus.REJECTED
    assert record.reason == "price list expired; customer must reorder at current prices"


def test_duplicate_po_number_for_the_same_buyer_goes_to_review(po_pipeline: Any) -> None:
    order = clean_order(unique("PO"))
    first = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(order))
    (first_id,) = first.executions

    second = po_pipeline.drop(f"inbox/{unique('resent')}.eml", email_with(order))

    ((second_id, paused),) = second.executions.items()
    assert paused.paused
    (finding,) = build_review_service(get_settings()).get(second_id).findings
    assert (
        finding
        == f"PO {order.po_number} from Acme Manufacturing Inc. was already ordered (intake {first_id})"
    )
    reject(po_pipeline.env, second_id, "duplicate")
    po_pipeline.wait(second_id)


def test_corrupt_pdf_is_a_recorded_failure(po_pipeline: Any) -> None:
    drop = po_pipeline.drop(
        f"inbox/{unique('broken')}.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog\n%% cut off"
    )

    ((intake_id, result),) = drop.executions.items()
    assert result.status == "FAILED"
    assert result.error == "PurchaseOrderFailed"
    assert po_pipeline.sfn.state_names_entered(result.execution_arn)[-3:] == ["Record", "Outcome", "Failed"]
    record = intake(intake_id)
    assert record.status is IntakeStatus.FAILED
    assert record.error == "CorruptDocumentError"
    assert "cannot be read" in (record.reason or "")
    assert tray_runs(po_pipeline.env, intake_id) == []


def _pdf(pages: int, *, password: str | None = None, text: str = "Hello") -> bytes:
    from fpdf import FPDF

    pdf: Any = FPDF()
    pdf.set_font("helvetica", size=12)
    for _ in range(pages):
        pdf.add_page()
        pdf.cell(0, 10, text)
    if password:
        pdf.set_encryption(owner_password="owner-secret", user_password=password)
    return bytes(pdf.output())


@pytest.mark.parametrize(
    ("name", "body", "error"),
    [
        ("encrypted", lambda: _pdf(1, password="s3cret"), "EncryptedDocumentError"),
        ("thousands-of-pages", lambda: _pdf(get_settings().po_max_pages + 1), "DocumentTooLargeError"),
        (
            "brochure",
            lambda: _pdf(1, text="Spring catalogue: our new widgets are here"),
            "NotAPurchaseOrderError",
        ),
    ],
)
def test_unreadable_or_non_po_pdfs_fail_with_a_named_error(
    po_pipeline: Any, name: str, body: Any, error: str
) -> None:
    mail = build_email([(f"{name}.pdf", body(), "application/pdf")])
    drop = po_pipeline.drop(f"inbox/{unique(name)}.eml", mail)

    ((intake_id, result),) = drop.executions.items()
    assert result.status == "FAILED"
    record = intake(intake_id)
    assert (record.status, record.error) == (IntakeStatus.FAILED, error)
    assert record.reason


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        (
            "no-pdf.eml",
            lambda: build_email([("prices.zip", b"PK\x03\x04" + b"\0" * 4096, "application/zip")]),
            "the email has no PDF attachment (attachments: prices.zip)",
        ),
        ("plain.eml", lambda: build_email([]), "the email has no PDF attachment"),
        ("photo.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "the file is neither a PDF nor an email"),
    ],
)
def test_documents_without_a_po_are_refused_with_a_reason(
    po_pipeline: Any, name: str, body: Any, reason: str
) -> None:
    key = f"inbox/{unique('drop')}-{name}"
    drop = po_pipeline.drop(key, body())

    assert drop.intake["started"] == []
    (refused_id,) = drop.intake["refused"]
    record = intake(refused_id)
    assert record.status is IntakeStatus.REFUSED
    assert (record.reason or "").startswith(reason)


def test_oversized_file_is_refused_before_it_is_read(po_pipeline: Any) -> None:
    limit = get_settings().po_max_bytes
    drop = po_pipeline.notify(f"inbox/{unique('huge')}.eml", etag="0123abcd", size=limit + 1)

    (refused_id,) = drop.intake["refused"]
    assert intake(refused_id).reason == f"the file is {limit + 1} bytes, the limit is {limit}"


def test_intake_routes_answer_what_became_of_a_dropped_email(po_pipeline: Any, local_env: Any) -> None:
    key = f"inbox/{unique('mixed')}.eml"
    drop = po_pipeline.drop(key, email_with(clean_order(unique("PO"))))
    (intake_id,) = drop.executions

    one = local_env.api("GET", f"/po/intake/{intake_id}")
    listed = local_env.api("GET", "/po/intake", query={"bucket": get_settings().po_bucket, "key": key})
    anonymous = local_env.api("GET", f"/po/intake/{intake_id}", auth=False)

    assert one.status == 200
    assert one.body["status"] == "ordered"
    assert listed.status == 200
    assert [r["intake_id"] for r in listed.body] == [intake_id]
    assert anonymous.status == 401


def test_url_encoded_key_in_the_notice_finds_the_object(po_pipeline: Any) -> None:
    key = f"inbox/{unique('order')} from acme.eml"
    body = email_with(clean_order(unique("PO")))
    put = boto3.client("s3").put_object(Bucket=get_settings().po_bucket, Key=key, Body=body)

    drop = po_pipeline.notify(key.replace(" ", "+"), etag=put["ETag"], size=len(body))

    ((intake_id, result),) = drop.executions.items()
    assert result.output["document"]["key"] == key
    assert intake(intake_id).status is IntakeStatus.ORDERED


@pytest.mark.parametrize(("status", "error"), [(503, "TrayServerError"), (429, "TrayRateLimitedError")])
def test_tray_throttling_and_outages_are_retried_by_the_state_machine_and_order_once(
    po_pipeline: Any, status: int, error: str
) -> None:
    from tray_local.simulator import Fault

    attempts = get_settings().tray_max_attempts  # the Tray client's own retries, all answered `status`
    webhook_path = "/webhooks/2d9b6c30-order-processing"
    po_pipeline.env.simulator.inject_fault(
        Fault(kind="status", status=status, retry_after=0.01, path_prefix=webhook_path, times=attempts + 1)
    )
    delays_before = len(po_pipeline.sfn.retry_delays)

    drop = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(clean_order(unique("PO"))))

    ((intake_id, result),) = drop.executions.items()
    assert result.succeeded, result
    assert result.output["outcome"] == "ordered"
    failures = [  # bare-ARN Lambda tasks record LambdaFunctionFailed events
        e["lambdaFunctionFailedEventDetails"]["error"]
        for e in po_pipeline.sfn.history(result.execution_arn)
        if e["type"] == "LambdaFunctionFailed"
    ]
    assert failures == [error]
    assert po_pipeline.sfn.retry_delays[delays_before:] == [5]  # the Trigger Retry's first interval
    assert len(tray_runs(po_pipeline.env, intake_id)) == 1


def test_a_po_whose_order_failed_can_be_sent_again(po_pipeline: Any) -> None:
    from tray_local.simulator import Fault

    order = clean_order(unique("PO"))
    po_pipeline.env.simulator.inject_fault(  # Tray refuses the order outright (not retryable)
        Fault(kind="status", status=400, path_prefix="/webhooks/2d9b6c30-order-processing", times=1)
    )
    failed = po_pipeline.drop(f"inbox/{unique('msg')}.eml", email_with(order))
    ((failed_id, result),) = failed.executions.items()
    assert result.status == "FAILED"
    assert intake(failed_id).error == "TrayBadRequestError"

    resent = po_pipeline.drop(f"inbox/{unique('resent')}.eml", email_with(order))

    ((resent_id, result),) = resent.executions.items()
    assert result.output["outcome"] == "ordered"  # not held as a duplicate of the failed one
    assert len(tray_runs(po_pipeline.env, resent_id)) == 1


def test_an_invalid_edit_is_refused_and_recorded_never_ordered(po_pipeline: Any) -> None:
    intake_id, _, _ = _price_discrepancy(po_pipeline)
    edited = build_review_service(get_settings()).get(intake_id).payload
    edited["lines"][0]["quantity"] = "a hundred"

    answer = po_pipeline.env.api("POST", f"/reviews/{intake_id}/approve", {"edited_payload": edited})
    assert answer.status == 400, answer.body
    assert "quantity" in answer.body["message"]
    result = po_pipeline.wait(intake_id)

    assert result.status == "FAILED"
    record = intake(intake_id)
    assert (record.status, record.error) == (IntakeStatus.FAILED, "InvalidInputError")
    assert "the edited purchase order is invalid" in (record.reason or "")
    assert tray_runs(po_pipeline.env, intake_id) == []


def test_a_review_nobody_answers_times_out_into_a_recorded_failure(po_pipeline: Any) -> None:
    """The synthesized definition with the Review timeout cut from 7 days to 1 second."""
    import copy

    from tray_agent.models.po_pipeline import DocumentKind, DocumentRef, PoPipelineState, intake_id_for
    from tray_local.po_local import pipeline_definition, synthesized_template

    definition = copy.deepcopy(pipeline_definition(synthesized_template()))
    definition["States"]["Review"]["TimeoutSeconds"] = 1
    arn = po_pipeline.sfn.create_state_machine(unique("po-short-review"), definition)
    order = make_order(unique("BL"), [("WID-1001", "Steel widget", 100, "11.00")], buyer=BRIGHTLINE)
    key, pdf = f"inbox/{unique('scan')}.pdf", render_pdf(order)
    etag = boto3.client("s3").put_object(Bucket=get_settings().po_bucket, Key=key, Body=pdf)["ETag"]
    intake_id = intake_id_for(get_settings().po_bucket, key, etag, None)
    document = DocumentRef(
        bucket=get_settings().po_bucket,
        key=key,
        etag=etag,
        size=len(pdf),
        kind=DocumentKind.PDF,
        filename="x.pdf",
    )

    execution_arn = po_pipeline.sfn.start(arn, PoPipelineState(intake_id=intake_id, document=document).dump())
    paused = po_pipeline.sfn.wait_for(execution_arn)
    assert paused.paused
    deadline = time.monotonic() + 20
    result = paused
    while result.paused and time.monotonic() < deadline:  # nobody answers: the timeout fires
        time.sleep(0.05)
        result = po_pipeline.sfn.wait_for(execution_arn)

    assert result.status == "FAILED"
    record = intake(intake_id)
    assert (record.status, record.error) == (IntakeStatus.FAILED, "States.Timeout")
    assert tray_runs(po_pipeline.env, intake_id) == []


def test_an_approval_whose_delivery_failed_is_delivered_by_approving_again(po_pipeline: Any) -> None:
    """Step Functions refuses SendTaskSuccess once (injected into our own boto3 client): the
    approval is recorded but the execution still waits. Approving again delivers the recorded
    approval (not a new one); the order goes to Tray once, and a third approval acts on nothing."""
    from botocore.exceptions import ClientError

    from tray_agent.data import aws

    intake_id, paused, _order = _price_discrepancy(po_pipeline)
    assert paused.paused, paused
    env = po_pipeline.env
    failures = {"left": 1}

    def states_down(**_: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ClientError(
                {"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendTaskSuccess"
            )

    client = aws.client("stepfunctions")
    client.meta.events.register("before-call.sfn.SendTaskSuccess", states_down)
    try:
        first = env.api("POST", f"/reviews/{intake_id}/approve", {"note": "checked"})
        assert first.status >= 500 and failures["left"] == 0, first.body  # not delivered, said so
    finally:
        client.meta.events.unregister("before-call.sfn.SendTaskSuccess", states_down)
    assert build_review_service(get_settings()).get(intake_id).resolved_by  # the approval is kept
    assert tray_runs(env, intake_id) == []

    again = env.api("POST", f"/reviews/{intake_id}/approve", {})
    assert again.status == 200, again.body
    result = po_pipeline.wait(intake_id)
    assert result.succeeded and result.output["outcome"] == "ordered", result
    assert len(tray_runs(env, intake_id)) == 1
    assert env.api("POST", f"/reviews/{intake_id}/approve", {}).status == 409  # delivered: nothing to do
    assert len(tray_runs(env, intake_id)) == 1
