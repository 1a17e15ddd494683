"""The one contract passed between the PO pipeline's Step Functions states.

Every state's Lambda reads a ``PoPipelineState`` and returns it, grown by what the step
learned. ``Catch`` clauses put the caught error at ``$.error`` (``{"Error", "Cause"}``) and a
reviewer's approval arrives at ``$.review``; both are fields here, so the state stays one model.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from tray_agent.models.base import Model
from tray_agent.models.purchase_order import PurchaseOrder


def intake_id_for(bucket: str, key: str, etag: str, attachment_index: int | None) -> str:
    """Same object, same content, same attachment → same id (and the same execution name)."""
    source = json.dumps([bucket, key, etag.strip('"'), attachment_index])
    return "po-" + hashlib.sha256(source.encode()).hexdigest()[:40]


class DocumentKind(StrEnum):
    PDF = "pdf"
    EMAIL = "email"


class DocumentRef(Model):
    """Where the PO document came from, and (after Extract) where its PDF is."""

    model_config = ConfigDict(extra="forbid")

    bucket: str
    key: str
    etag: str
    size: int = Field(ge=0)
    kind: DocumentKind
    attachment_index: int | None = Field(default=None, ge=0)  # the n-th PDF of an email
    filename: str
    pdf_key: str | None = None
    pages: int | None = None
    # XML documents sent beside the PDF in the same e-mail (Order-X, UBL, cXML), kept by Extract.
    xml_keys: list[str] = Field(default_factory=list)


class FindingCode(StrEnum):
    PRICE_MISMATCH = "price_mismatch"
    UNKNOWN_SKU = "unknown_sku"
    MISSING_SKU = "missing_sku"
    INACTIVE_PRODUCT = "inactive_product"
    QUANTITY_OUT_OF_RANGE = "quantity_out_of_range"
    UNIT_MISMATCH = "unit_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    TOTALS_MISMATCH = "totals_mismatch"
    DUPLICATE_PO = "duplicate_po"
    MISSING_FIELD = "missing_field"
    LOW_CONFIDENCE = "low_confidence"
    PARSER_WARNING = "parser_warning"


class Finding(Model):
    model_config = ConfigDict(extra="forbid")

    code: FindingCode
    message: str
    line: int | None = None  # 1-based line number on the PO
    sku: str | None = None
    suggestions: list[str] = Field(default_factory=list)  # e.g. the closest catalog SKUs


class FindingsRef(Model):
    """Findings too many for the state (every line of a 2,000-line PO flagged, ~200 bytes each):
    the whole list lives in S3 under ``key``; the state keeps the first few, the count and the codes.
    """

    model_config = ConfigDict(extra="forbid")

    key: str
    count: int = Field(ge=0)
    codes: list[str] = Field(default_factory=list)  # the distinct finding codes, sorted


class StepError(Model):
    """What a ``Catch`` clause puts at ``$.error``."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")

    @property
    def message(self) -> str:
        """The raising step's message (Lambda wraps it in a JSON cause), else the cause itself."""
        try:
            cause: Any = json.loads(self.cause)
        except ValueError:
            return self.cause
        if isinstance(cause, dict) and "errorMessage" in cause:
            return str(cause["errorMessage"])
        return self.cause


class ReviewResult(Model):
    """A reviewer's approval, sent back with SendTaskSuccess: the (possibly edited) PO.

    A large order comes back by reference (SendTaskSuccess's output is limited to 256 KiB): the
    review API wrote the approved order to the PO bucket first, ``state_store.resolve`` reads it.
    """

    model_config = ConfigDict(extra="forbid")

    review_id: str
    reviewer: str | None = None
    edited: bool = False
    purchase_order: PurchaseOrder | None = None
    purchase_order_ref: str | None = None

    @model_validator(mode="after")
    def _an_order(self) -> ReviewResult:
        if self.purchase_order is None and self.purchase_order_ref is None:
            raise ValueError("an approval carries the purchase order or its reference")
        return self


class OrderRef(Model):
    model_config = ConfigDict(extra="forbid")

    workflow: str
    execution_id: str | None


class Outcome(StrEnum):
    ORDERED = "ordered"
    REJECTED = "rejected"  # a reviewer said no
    FAILED = "failed"  # a step failed: corrupt, encrypted, too large, not a PO, Tray down...


class Hold(Model):
    """The PO is waiting for Tray (an outage, a long Retry-After): the Hold state's answer."""

    model_config = ConfigDict(extra="forbid")

    since: datetime  # when the first hold of this attempt began: the hold window counts from here
    count: int = Field(ge=1)  # holds so far in this attempt
    wait_s: int = Field(ge=0)  # the Wait state's SecondsPath: Step Functions wants an integer
    retry_at: datetime
    reason: str


def execution_name_for(intake_id: str, attempt: int) -> str:
    """The first attempt's execution is named after the intake; a re-run's gets ``-r<attempt>``."""
    return intake_id if attempt == 1 else f"{intake_id}-r{attempt}"


class PoPipelineState(Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    intake_id: str
    document: DocumentRef
    attempt: int = Field(default=1, ge=1)  # 1, then 2, 3... for each re-run of a failed PO
    purchase_order: PurchaseOrder | None = None
    findings: list[Finding] = Field(default_factory=list)
    needs_review: bool = False
    review: ReviewResult | None = None
    order: OrderRef | None = None
    error: StepError | None = None
    hold: Hold | None = None
    outcome: Outcome | None = None
    # Large orders: the parsed/approved PO lives in S3 and the state carries only its key, so no
    # state passes Step Functions' 256 KiB limit (see domain/po/state_store.py).
    purchase_order_ref: str | None = None
    # Chunks of the order Tray has acknowledged in this attempt (a retried Trigger skips them).
    order_chunks: list[OrderRef] = Field(default_factory=list)
    # Set only between steps, when the findings were offloaded too: ``findings`` then holds the
    # first few and ``state_store.resolve`` reads the whole list back (in a step, always None).
    findings_ref: FindingsRef | None = None

    @property
    def attempt_key(self) -> str:
        """Tray's idempotency key for this attempt's order: the same however often Trigger re-runs
        within the attempt (a retry, a return from a hold), a new one for a re-run of a failed PO.
        """
        base = f"{self.intake_id}:order"
        return base if self.attempt == 1 else f"{base}:{self.attempt}"

    def approved_order(self) -> PurchaseOrder:
        """What goes to Tray: the reviewer's (possibly edited) PO, else the parsed one.

        Reviewers see the PO masked (a vendor IBAN reads ``[redacted:iban]``); what they left
        masked is put back here from the parsed PO this execution carries, so the order holds
        the real values.
        """
        # Here, not at the top: the API imports these models at cold start, the redaction rules
        # (dozens of compiled patterns) only where a reviewed PO goes to Tray.
        from tray_agent.redaction import contains_marker, restore_masked

        if self.review is not None:
            reviewed = self.review.purchase_order
            if reviewed is None:  # by reference and not read back (state_store.resolve does)
                raise ValueError("the approved purchase order was not read back from S3")
            if self.purchase_order is None:
                return reviewed
            edited = reviewed.model_dump(mode="json")
            if not contains_marker(edited):
                return reviewed
            original = self.purchase_order.model_dump(mode="json")
            return PurchaseOrder.model_validate(restore_masked(edited, original))
        if self.purchase_order is None:
            raise ValueError("the state holds no purchase order yet")
        return self.purchase_order

    def final_order(self) -> PurchaseOrder | None:
        """The approved order when there is one (see ``approved_order``), else None."""
        return None if self.review is None and self.purchase_order is None else self.approved_order()

    def dump(self) -> dict[str, Any]:
        """The JSON Step Functions passes on to the next state."""
        return self.model_dump(mode="json", by_alias=True)


class ReviewTaskInput(Model):
    """The review state's payload: the task token to resume with, and the state so far."""

    model_config = ConfigDict(extra="forbid")

    task_token: str = Field(min_length=1)
    state: PoPipelineState


class IntakeStatus(StrEnum):
    REFUSED = "refused"  # never started: no PDF in the email, not a document we read, too big
    STARTED = "started"
    IN_REVIEW = "in_review"
    HELD = "held"  # waiting for Tray to recover (or for a long Retry-After): orders by itself
    ORDERED = "ordered"
    REJECTED = "rejected"
    FAILED = "failed"


class Rerun(Model):
    """One re-run of a failed PO: who asked, when, and what the failed attempt had said."""

    model_config = ConfigDict(extra="ignore")

    attempt: int
    execution_name: str
    requested_by: str
    requested_at: datetime
    previous_error: str | None = None
    previous_reason: str | None = None


class RerunAnswer(Model):
    """``POST /po/intake/{id}/rerun``'s answer."""

    model_config = ConfigDict(extra="forbid")

    intake_id: str
    attempt: int
    execution_name: str
    status: IntakeStatus


class IntakeRecord(Model):
    """What happened to one dropped document (or one PDF of an email): the audit a person reads."""

    model_config = ConfigDict(extra="ignore")

    intake_id: str
    object_key: str  # "bucket/key": every record of one dropped object shares it
    bucket: str
    key: str
    filename: str | None = None
    attachment_index: int | None = None
    status: IntakeStatus
    reason: str | None = None  # why it was refused, failed or rejected, in words
    error: str | None = None  # the named error, for failures
    findings: list[str] = Field(default_factory=list)
    po_number: str | None = None
    buyer: str | None = None
    review_id: str | None = None
    order_execution_id: str | None = None
    # Written before Trigger calls Tray: an attempt whose order may have reached Tray (a timeout,
    # a crash after sending) looks for the run carrying this key before it ever sends again.
    order_attempt_key: str | None = None
    order_sent_at: datetime | None = None
    # Where the document is, so a failed PO can be re-run from it (absent on older records).
    document: DocumentRef | None = None
    attempt: int = 1
    execution_name: str | None = None  # the Step Functions execution of the current attempt
    held_since: datetime | None = None  # set while held (status "held"), kept afterwards
    hold_count: int = 0  # how often the current attempt was held
    retry_at: datetime | None = None  # while held: when Trigger runs again
    reruns: list[Rerun] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class DroppedObject(Model):
    """An object-created notice, whichever way it came (EventBridge or an S3 notification)."""

    model_config = ConfigDict(extra="ignore")

    bucket: str
    key: str
    etag: str
    size: int = Field(ge=0)

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> list[DroppedObject]:
        """EventBridge ``Object Created`` (one object) or S3 notification ``Records`` (several)."""
        from urllib.parse import unquote_plus

        if "detail" in event:
            detail = event["detail"]
            obj = detail["object"]
            return [
                cls(
                    bucket=detail["bucket"]["name"],
                    key=obj["key"],
                    etag=obj.get("etag", ""),
                    size=obj.get("size", 0),
                )
            ]
        return [
            cls(
                bucket=record["s3"]["bucket"]["name"],
                key=unquote_plus(record["s3"]["object"]["key"]),
                etag=record["s3"]["object"].get("eTag", ""),
                size=record["s3"]["object"].get("size", 0),
            )
            for record in event.get("Records", [])
            if record.get("eventName", "").startswith("ObjectCreated")
        ]
