"""The PO pipeline's steps, one per Step Functions state, all on ``PoPipelineState``.

Extract → Parse → Validate → (Review) → Trigger → Record. Each step raises named errors
(``errors.py``, ``tray/errors.py``) so the state machine's Retry/Catch clauses can match them;
Record turns whatever happened (an order, a rejection, a caught error) into the intake record.
Never logs a PDF's text or a buyer's details: ids, counts and error names only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property, wraps
from typing import ParamSpec, TypeVar

from tray_agent.config import Settings
from tray_agent.data.aws import transient_storage_errors
from tray_agent.data.catalog import CatalogRepository
from tray_agent.data.po_corrections import CorrectionsRepository
from tray_agent.data.po_documents import DocumentStore
from tray_agent.data.po_intake import IntakeRepository
from tray_agent.domain.po.corrections import apply as apply_corrections
from tray_agent.domain.po.corrections import learn as learn_corrections
from tray_agent.domain.po.validation import CatalogView, buyer_key, finding_messages, validate_order
from tray_agent.errors import (
    DuplicatePurchaseOrderError,
    NotAPurchaseOrderError,
    PurchaseOrderHoldExpiredError,
    PurchaseOrderRejectedError,
)
from tray_agent.models.decisions import WorkflowCall
from tray_agent.models.po_pipeline import (
    DocumentKind,
    Hold,
    IntakeRecord,
    IntakeStatus,
    OrderRef,
    Outcome,
    PoPipelineState,
    ReviewTaskInput,
    execution_name_for,
)
from tray_agent.models.purchase_order import PurchaseOrder
from tray_agent.models.reviews import ReviewKind
from tray_agent.observability import logger, metrics

ORDER_WORKFLOW = "order_processing"

_CLOCK_SKEW = timedelta(minutes=1)  # between our clock and Tray's, when looking for an earlier run
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _step(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """A state's work: AWS throttling or 5xx past botocore's retries leaves as TransientStorageError,
    the name the state machine retries with backoff (a good PO never fails on one DynamoDB blip).
    """

    @wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with transient_storage_errors():
            return method(*args, **kwargs)

    return wrapper


class PoPipeline:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    # -- collaborators, built on first use (each Lambda needs only its own) --------------------

    @cached_property
    def _documents(self) -> DocumentStore:
        return DocumentStore(self._settings.po_bucket)

    @cached_property
    def _intakes(self) -> IntakeRepository:
        return IntakeRepository(
            self._settings.po_intake_table, retention=timedelta(days=self._settings.decision_retention_days)
        )

    @cached_property
    def _corrections(self) -> CorrectionsRepository:
        return CorrectionsRepository(self._settings.po_intake_table)

    @cached_property
    def _catalog(self) -> CatalogRepository:
        return CatalogRepository(self._settings.catalog_table)

    # -- the steps ------------------------------------------------------------------------------

    @_step
    def extract(self, state: PoPipelineState) -> PoPipelineState:
        """The PO's PDF, checked (corrupt, encrypted, too large, too many pages) and kept."""
        from tray_agent.domain.po.parsing import extract_pdfs_from_email
        from tray_agent.domain.po.parsing.email_intake import extract_xml_from_email, xml_beside
        from tray_agent.domain.po.parsing.pdf_text import page_count

        document = state.document
        data = self._documents.read(document.key, max_bytes=self._settings.po_max_bytes)
        pdf_key = document.key
        xml_keys: list[str] = []
        if document.kind is DocumentKind.EMAIL:
            raw = data
            pdfs = extract_pdfs_from_email(raw, max_bytes=self._settings.po_max_bytes)
            index = document.attachment_index or 0
            if index >= len(pdfs):
                raise NotAPurchaseOrderError(f"the email has no PDF attachment number {index + 1}")
            data = pdfs[index][1]
            pdf_key = f"{self._settings.po_work_prefix}{state.intake_id}.pdf"
            # Structured order data sent beside the PDF (Order-X, UBL, cXML) is kept for Parse.
            beside = xml_beside(pdfs[index][0], len(pdfs), extract_xml_from_email(raw))
            for number, (_, xml) in enumerate(beside[: self._settings.po_max_attachments], start=1):
                key = f"{self._settings.po_work_prefix}{state.intake_id}-{number}.xml"
                self._documents.write_bytes(key, xml, content_type="application/xml")
                xml_keys.append(key)
        pages = page_count(data, settings=self._settings)  # raises the named document errors
        if pdf_key != document.key:
            self._documents.write_pdf(pdf_key, data)
        logger.info(
            "document extracted", intake_id=state.intake_id, pages=pages, bytes=len(data), xml=len(xml_keys)
        )
        return state.model_copy(
            update={
                "document": document.model_copy(
                    update={"pdf_key": pdf_key, "pages": pages, "xml_keys": xml_keys}
                )
            }
        )

    @_step
    def parse(self, state: PoPipelineState) -> PoPipelineState:
        from tray_agent.domain.po.parsing import parse_purchase_order

        if state.document.pdf_key is None:
            raise NotAPurchaseOrderError("the document was not extracted")
        data = self._documents.read(state.document.pdf_key, max_bytes=self._settings.po_max_bytes)
        beside = [
            (key, self._documents.read(key, max_bytes=self._settings.po_max_bytes))
            for key in state.document.xml_keys
        ]
        order = parse_purchase_order(data, settings=self._settings, beside=beside)
        # Reviewers' earlier corrections for this customer (its part numbers → our SKUs, names).
        remembered = self._corrections.get(buyer_key(order))
        order = apply_corrections(order, remembered["skus"], remembered["names"])
        if not order.lines and not order.po_number:
            raise NotAPurchaseOrderError(f"no purchase order found in {state.document.filename}")
        logger.info(
            "purchase order parsed",
            intake_id=state.intake_id,
            parser=order.parser,
            lines=len(order.lines),
            source_format=order.source_format,
            cross_check=len(order.cross_check),
            confidence=order.overall_confidence,
            warnings=len(order.warnings),
        )
        return state.model_copy(update={"purchase_order": order})

    @_step
    def validate(self, state: PoPipelineState) -> PoPipelineState:
        order = _order(state)
        skus = {line.sku.upper() for line in order.lines if line.sku}
        view = CatalogView(
            pricing={sku: self._catalog.pricing(sku) for sku in sorted(skus)},
            # Scanned once per step, not once per line: 2,000 unknown SKUs each ask for suggestions.
            products=cache(self._catalog.products),
            rules=self._catalog.rules(),
        )
        owner = self._intakes.po_number_owner(buyer_key(order), order.po_number) if order.po_number else None
        findings = validate_order(
            order,
            view,
            confidence_threshold=self._settings.review_confidence_threshold,
            already_ordered_by=owner if owner != state.intake_id else None,
        )
        logger.info(
            "purchase order validated",
            intake_id=state.intake_id,
            findings=len(findings),
            codes=sorted({f.code.value for f in findings}),
        )
        return state.model_copy(update={"findings": findings, "needs_review": bool(findings)})

    @_step
    def file_review(self, request: ReviewTaskInput) -> str:
        """File the review item holding the task token; the execution waits for its answer."""
        from tray_agent.data.reviews import ReviewsRepository
        from tray_agent.domain.po.review import review_payload
        from tray_agent.domain.reviews import ReviewService

        state = request.state
        order = _order(state)
        # A large order is filed by reference (its S3 key, a summary, the flagged lines).
        payload, findings = review_payload(state, order, self._settings)
        retention = timedelta(days=self._settings.decision_retention_days)
        # Filing needs no resolvers: approving and rejecting happen through the review API.
        reviews = ReviewService(ReviewsRepository(self._settings.reviews_table, retention=retention), {})
        item = reviews.file(
            kind=ReviewKind.PURCHASE_ORDER,
            # A re-run files its own item: the first attempt's review stays in the audit trail.
            review_id=execution_name_for(state.intake_id, state.attempt),
            title=f"PO {order.po_number or '(no number)'} from {order.buyer.name or 'an unknown buyer'}",
            reason=f"{len(state.findings)} finding(s) need a decision before the order is placed",
            findings=findings,
            payload=payload,
            customer_id=buyer_key(order),
            task_token=request.task_token,
        )
        self._save(state, IntakeStatus.IN_REVIEW, review_id=item.review_id)
        metrics.add_metric(name="PurchaseOrdersToReview", unit="Count", value=1)
        return item.review_id

    @_step
    def trigger(self, state: PoPipelineState) -> PoPipelineState:
        """Claim the buyer's PO number, then run the Tray order workflow once (idempotency key)."""
        from tray_agent.domain.agent.registry import ToolRegistry
        from tray_agent.domain.agent.runner import WorkflowRunner
        from tray_agent.tray import get_tray_clients
        from tray_agent.tray.errors import TrayRateLimitedError, TrayRetryLaterError

        order = state.approved_order()
        if order.po_number:
            other = self._intakes.claim_po_number(buyer_key(order), order.po_number, state.intake_id)
            if other is not None:
                raise DuplicatePurchaseOrderError(
                    f"PO {order.po_number} was already ordered (intake {other})"
                )
        runner = WorkflowRunner(
            ToolRegistry.from_file(self._settings.workflows_file), get_tray_clients(self._settings)
        )
        # One key per attempt: a Trigger re-entered after a retry or a hold, whatever happened to
        # the earlier call, is the same order to Tray; only a re-run of a failed PO is a new one.
        key = state.attempt_key
        # A large order goes as several runs (Tray: 1 MB webhook bodies, 6 MB between steps),
        # each with its own key derived from the attempt's: a resent chunk is the same run.
        chunks = order_chunks(
            order_data(state, order),
            key,
            max_lines=self._settings.po_trigger_chunk_max_lines,
            max_bytes=self._settings.po_trigger_chunk_max_bytes,
        )
        sent_before = self._intakes.mark_order_sending(state.intake_id, key, datetime.now(UTC))
        refs: list[OrderRef] = []
        for chunk_key, data in chunks:
            call = WorkflowCall(workflow=ORDER_WORKFLOW, input={"order_data": data, "expedited": False})
            found = None
            if sent_before is not None:
                # An earlier send of this attempt may have reached Tray: find its run before
                # resending (workflows whose payload carries the key; else the idempotency key).
                found = runner.find(call, attempt_key=chunk_key, since=sent_before - _CLOCK_SKEW)
                if found is not None:
                    logger.info(
                        "earlier order found", intake_id=state.intake_id, execution_id=found.execution_id
                    )
            try:
                ref = found or runner.run(call, idempotency_key=chunk_key)
            except TrayRateLimitedError as exc:
                limit = self._settings.po_trigger_max_retry_after_s
                if exc.retry_after_s is not None and exc.retry_after_s > limit:
                    # Longer than the Trigger step's retries should wait: the Hold state honours it.
                    raise TrayRetryLaterError.from_rate_limited(exc) from exc
                raise
            refs.append(OrderRef(workflow=ref.workflow, execution_id=ref.execution_id))
        metrics.add_metric(name="PurchaseOrdersOrdered", unit="Count", value=1)
        if len(refs) > 1:
            logger.info("order sent in chunks", intake_id=state.intake_id, chunks=len(refs))
        return state.model_copy(update={"order": refs[0], "order_chunks": refs if len(refs) > 1 else []})

    @_step
    def hold(self, state: PoPipelineState) -> PoPipelineState:
        """Tray cannot take the order now: hold the PO (recorded), and say how long to wait.

        The wait is Tray's Retry-After when it gave one, else a backoff doubling from
        ``po_hold_backoff_base_s`` up to ``po_hold_backoff_max_s``. Past ``po_hold_window_s``
        since the first hold (or when Tray asks to wait beyond it) the PO fails with the reason.
        """
        from tray_agent.tray.errors import TrayRetryLaterError

        if state.error is None:
            raise ValueError("the Hold state needs the caught error at $.error")
        now = datetime.now(UTC)
        previous = state.hold
        since = previous.since if previous is not None else now
        count = previous.count + 1 if previous is not None else 1
        deadline = since + timedelta(seconds=self._settings.po_hold_window_s)
        what = f"{state.error.error}: {state.error.message}"
        retry_after = TrayRetryLaterError.retry_after_from_message(state.error.message)
        remaining_s = (deadline - now).total_seconds()
        if retry_after is not None:
            wait_s = math.ceil(retry_after)
            expired = wait_s > remaining_s  # Tray will not take it before the window closes
        else:
            base, ceiling = self._settings.po_hold_backoff_base_s, self._settings.po_hold_backoff_max_s
            backoff = min(ceiling, base * 2 ** min(count - 1, 30))
            wait_s = max(1, min(backoff, math.ceil(remaining_s)))  # the last try at the window's end
            expired = remaining_s <= 0
        if expired:
            window = _duration(timedelta(seconds=self._settings.po_hold_window_s))
            raise PurchaseOrderHoldExpiredError(
                f"Tray could not take the order within the hold window of {window} "
                f"(held {count - 1} time(s) for {_duration(now - since)}); last error {what}"
            )
        retry_at = now + timedelta(seconds=wait_s)
        hold = Hold(
            since=since,
            count=count,
            wait_s=wait_s,
            retry_at=retry_at,
            reason=f"waiting for Tray ({what}); next try at {retry_at.isoformat(timespec='seconds')}",
        )
        held = state.model_copy(update={"hold": hold, "error": None})
        self._save(held, IntakeStatus.HELD, reason=hold.reason)
        metrics.add_metric(name="PurchaseOrdersHeld", unit="Count", value=1)
        logger.warning(
            "purchase order held",
            intake_id=state.intake_id,
            attempt=state.attempt,
            error=state.error.error,
            holds=count,
            wait_s=wait_s,
        )
        return held

    @_step
    def record(self, state: PoPipelineState) -> PoPipelineState:
        """The outcome, whatever happened: ordered, rejected by a reviewer, or failed (and why)."""
        if state.error is not None and state.error.error == PurchaseOrderRejectedError.__name__:
            outcome, status, reason = Outcome.REJECTED, IntakeStatus.REJECTED, state.error.message
        elif state.error is not None:
            outcome, status, reason = Outcome.FAILED, IntakeStatus.FAILED, state.error.message
        elif state.order is not None:
            outcome, status, reason = Outcome.ORDERED, IntakeStatus.ORDERED, None
        else:
            outcome, status, reason = (
                Outcome.FAILED,
                IntakeStatus.FAILED,
                "the pipeline ended without an order",
            )
        order = state.final_order()
        if outcome is Outcome.ORDERED and state.review is not None and state.review.edited:
            self._learn(state)
        if outcome is not Outcome.ORDERED and order is not None and order.po_number:
            # A failed trigger may have claimed the number: a corrected resend must not be a duplicate.
            self._intakes.release_po_number(buyer_key(order), order.po_number, state.intake_id)
        self._save(
            state,
            status,
            reason=reason,
            error=state.error.error if state.error and outcome is Outcome.FAILED else None,
        )
        logger.info(
            "purchase order outcome",
            intake_id=state.intake_id,
            outcome=outcome.value,
            error=state.error.error if state.error else None,
        )
        return state.model_copy(update={"outcome": outcome})

    def _learn(self, state: PoPipelineState) -> None:
        """Remember what the reviewer corrected, for this customer's next orders."""
        if state.purchase_order is None:
            return
        skus, names = learn_corrections(state.purchase_order, state.approved_order())
        if skus or names:
            self._corrections.remember(
                buyer_key(state.purchase_order), skus=skus, names=names, source=state.intake_id
            )
            logger.info(
                "reviewer corrections remembered", intake_id=state.intake_id, skus=len(skus), names=len(names)
            )

    def _save(
        self,
        state: PoPipelineState,
        status: IntakeStatus,
        *,
        reason: str | None = None,
        error: str | None = None,
        review_id: str | None = None,
    ) -> None:
        existing = self._intakes.get(state.intake_id)
        sent = existing if existing and existing.order_attempt_key == state.attempt_key else None
        now = datetime.now(UTC)
        order = state.final_order()
        document = state.document
        self._intakes.save(
            IntakeRecord(
                intake_id=state.intake_id,
                object_key=f"{document.bucket}/{document.key}",
                bucket=document.bucket,
                key=document.key,
                filename=document.filename,
                attachment_index=document.attachment_index,
                status=status,
                reason=reason,
                error=error,
                # At most as many as the review item shows, then how many more (DynamoDB: 400 KB).
                findings=finding_messages(state.findings, self._settings.po_review_flagged_lines_max),
                po_number=order.po_number if order else None,
                buyer=order.buyer.name if order else None,
                review_id=review_id
                or (state.review.review_id if state.review else None)
                or (existing.review_id if existing else None),
                order_execution_id=state.order.execution_id if state.order else None,
                order_attempt_key=sent.order_attempt_key if sent else None,
                order_sent_at=sent.order_sent_at if sent else None,
                document=state.document.model_copy(update={"pdf_key": None, "pages": None}),
                attempt=state.attempt,
                execution_name=execution_name_for(state.intake_id, state.attempt),
                held_since=state.hold.since if state.hold else None,
                hold_count=state.hold.count if state.hold else 0,
                retry_at=state.hold.retry_at if state.hold and status is IntakeStatus.HELD else None,
                reruns=existing.reruns if existing else [],
                created_at=existing.created_at if existing else now,
                updated_at=now,
            )
        )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _order(state: PoPipelineState) -> PurchaseOrder:
    if state.purchase_order is None:
        raise NotAPurchaseOrderError("the state holds no parsed purchase order")
    return state.purchase_order


def order_data(state: PoPipelineState, order: PurchaseOrder) -> dict[str, object]:
    """The order as the Tray workflow receives it: the validated PO plus where it came from."""
    data: dict[str, object] = order.model_dump(mode="json", exclude={"confidence", "warnings", "parser"})
    data["source"] = {
        "intake_id": state.intake_id,
        # For workflows that check processed ids in Data Storage: the same per attempt.
        "attempt": state.attempt,
        "attempt_key": state.attempt_key,
        "bucket": state.document.bucket,
        "key": state.document.key,
        "filename": state.document.filename,
    }
    if state.review is not None:
        data["review"] = {
            "review_id": state.review.review_id,
            "reviewer": state.review.reviewer,
            "edited": state.review.edited,
        }
    return data


def order_chunks(
    data: dict[str, object], key: str, *, max_lines: int, max_bytes: int
) -> list[tuple[str, dict[str, object]]]:
    """The order as Tray runs: one (with the attempt key) when it fits, else consecutive slices
    of its lines, each whole header plus ``chunk`` (index, count, first line, its key).

    Keys are ``<attempt key>:chunk:<i>-of-<n>``: derived from the attempt's, so a retried Trigger
    sends the very same chunks under the very same keys and Tray's processed-ids check drops what
    it already has; no line is lost (the slices cover every line once) or duplicated.
    """
    import json

    lines = data.get("lines")
    size = len(json.dumps(data, separators=(",", ":"), default=str).encode())
    if not isinstance(lines, list) or (len(lines) <= max_lines and size <= max_bytes):
        return [(key, data)]
    header_size = size - len(json.dumps(lines, separators=(",", ":"), default=str).encode())
    budget = max(1, max_bytes - header_size - 512)  # room for the chunk's own fields
    slices: list[list[object]] = [[]]
    used = 0
    for line in lines:
        line_size = len(json.dumps(line, separators=(",", ":"), default=str).encode()) + 1
        if slices[-1] and (len(slices[-1]) >= max_lines or used + line_size > budget):
            slices.append([])
            used = 0
        slices[-1].append(line)
        used += line_size
    count = len(slices)
    chunks: list[tuple[str, dict[str, object]]] = []
    first = 1
    for index, part in enumerate(slices, start=1):
        chunk_key = f"{key}:chunk:{index}-of-{count}"
        info = {"index": index, "count": count, "first_line": first, "lines": len(part), "key": chunk_key}
        chunks.append((chunk_key, {**data, "lines": part, "chunk": info}))
        first += len(part)
    return chunks


def build_pipeline(settings: Settings) -> PoPipeline:
    return PoPipeline(settings)
