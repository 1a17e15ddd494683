"""Intake: a document dropped in the bucket becomes one pipeline execution per PO PDF.

A bare PDF starts one execution; an email (raw MIME, as SES stores it) starts one per PDF
attachment. Anything else is refused with a recorded reason. The execution name is the
intake id, derived from bucket, key, ETag and attachment, so a repeated notification never
processes a document twice.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

from tray_agent.config import Settings
from tray_agent.data.po_documents import DocumentStore
from tray_agent.data.po_intake import IntakeRepository
from tray_agent.data.stepfunctions import StepFunctionsGateway
from tray_agent.errors import ConfigurationError, DocumentTooLargeError, InvalidInputError, NotFoundError
from tray_agent.models.po_pipeline import (
    DocumentKind,
    DocumentRef,
    DroppedObject,
    IntakeRecord,
    IntakeStatus,
    PoPipelineState,
    intake_id_for,
)
from tray_agent.observability import logger, metrics

_MIME_MARKERS = (b"mime-version:", b"content-type:", b"received:", b"from:", b"return-path:")


def document_kind(key: str, head: bytes) -> DocumentKind | None:
    """PDF or email, from the content first and the key's extension second."""
    start = head.lstrip()[:1024]
    if start.startswith(b"%PDF") or key.lower().endswith(".pdf"):
        return DocumentKind.PDF
    lowered = head[:8192].lower()
    if key.lower().endswith(".eml") or any(
        lowered.startswith(m) or b"\n" + m in lowered for m in _MIME_MARKERS
    ):
        return DocumentKind.EMAIL
    return None


def attachment_names(raw: bytes) -> list[str]:
    """The names (or types) of an email's attachments, for a refusal's reason."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    names = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            names.append(filename or part.get_content_type())
    return names


@dataclass
class IntakeResult:
    started: list[str] = field(default_factory=list)  # intake ids whose execution started now
    duplicates: list[str] = field(default_factory=list)  # already started or finished before
    refused: list[IntakeRecord] = field(default_factory=list)


class PoIntakeService:
    def __init__(
        self,
        settings: Settings,
        documents: DocumentStore,
        intakes: IntakeRepository,
        stepfunctions: StepFunctionsGateway,
    ) -> None:
        self._settings = settings
        self._documents = documents
        self._intakes = intakes
        self._sfn = stepfunctions

    def receive(self, dropped: DroppedObject) -> IntakeResult:
        result = IntakeResult()
        log: dict[str, object] = {"bucket": dropped.bucket, "key": dropped.key, "bytes": dropped.size}
        if not dropped.key.startswith(self._settings.po_inbox_prefix):
            logger.info("object outside the inbox prefix ignored", extra=log)
            return result
        if dropped.size > self._settings.po_max_bytes:
            result.refused.append(
                self._refuse(
                    dropped, f"the file is {dropped.size} bytes, the limit is {self._settings.po_max_bytes}"
                )
            )
            return result
        try:
            data, dropped = self._read(dropped)
        except (DocumentTooLargeError, NotFoundError) as exc:
            result.refused.append(self._refuse(dropped, exc.message))
            return result
        kind = document_kind(dropped.key, data[:8192])
        if kind is DocumentKind.PDF:
            self._start(dropped, DocumentKind.PDF, None, dropped.key.rsplit("/", 1)[-1], result)
        elif kind is DocumentKind.EMAIL:
            self._start_email(dropped, data, result)
        else:
            result.refused.append(
                self._refuse(dropped, "the file is neither a PDF nor an email (MIME) message")
            )
        log.update(
            kind=kind.value if kind else None,
            started=len(result.started),
            duplicates=len(result.duplicates),
            refused=len(result.refused),
        )
        logger.info("document received", extra=log)
        return result

    def _read(self, dropped: DroppedObject) -> tuple[bytes, DroppedObject]:
        """The object's bytes; a key that arrived URL-encoded ("a+b.eml") is tried decoded too."""
        limit = self._settings.po_max_bytes
        try:
            return self._documents.read(dropped.key, max_bytes=limit), dropped
        except NotFoundError:
            decoded = unquote_plus(dropped.key)
            if decoded == dropped.key:
                raise
            return self._documents.read(decoded, max_bytes=limit), dropped.model_copy(update={"key": decoded})

    def _start_email(self, dropped: DroppedObject, raw: bytes, result: IntakeResult) -> None:
        from tray_agent.domain.po.parsing import extract_pdfs_from_email

        try:
            pdfs = extract_pdfs_from_email(raw, max_bytes=self._settings.po_max_bytes)
        except InvalidInputError as exc:  # unparseable MIME, too large: refused, never a crash
            result.refused.append(self._refuse(dropped, exc.message))
            return
        if not pdfs:
            others = attachment_names(raw)
            listed = f" (attachments: {', '.join(others[:10])})" if others else ""
            result.refused.append(self._refuse(dropped, f"the email has no PDF attachment{listed}"))
            return
        limit = self._settings.po_max_attachments
        for index, (filename, _) in enumerate(pdfs[:limit]):
            self._start(dropped, DocumentKind.EMAIL, index, filename, result)
        if len(pdfs) > limit:
            result.refused.append(
                self._refuse(
                    dropped,
                    f"the email has {len(pdfs)} PDF attachments; only the first {limit} were processed",
                    attachment_index=limit,
                )
            )

    def _start(
        self,
        dropped: DroppedObject,
        kind: DocumentKind,
        attachment_index: int | None,
        filename: str,
        result: IntakeResult,
    ) -> None:
        arn = self._settings.po_state_machine_arn
        if not arn:
            raise ConfigurationError("po_state_machine_arn is not configured")
        intake_id = intake_id_for(dropped.bucket, dropped.key, dropped.etag, attachment_index)
        existing = self._intakes.get(intake_id)
        if existing is not None and existing.status is not IntakeStatus.STARTED:
            result.duplicates.append(intake_id)
            return
        document = DocumentRef(
            bucket=dropped.bucket,
            key=dropped.key,
            etag=dropped.etag,
            size=dropped.size,
            kind=kind,
            attachment_index=attachment_index,
            filename=filename,
        )
        if existing is None:
            record = self._record(
                dropped,
                intake_id,
                IntakeStatus.STARTED,
                filename=filename,
                attachment_index=attachment_index,
            )
            # The document travels with the record so a failed PO can be re-run from it.
            self._intakes.save(record.model_copy(update={"document": document, "execution_name": intake_id}))
        state = PoPipelineState(intake_id=intake_id, document=document)
        # The input is deterministic, so StartExecution is idempotent for a running execution too.
        if self._sfn.start_execution(arn, intake_id, state.dump()) is None:
            result.duplicates.append(intake_id)
            return
        metrics.add_metric(name="PurchaseOrdersReceived", unit="Count", value=1)
        result.started.append(intake_id)

    def _refuse(
        self, dropped: DroppedObject, reason: str, attachment_index: int | None = None
    ) -> IntakeRecord:
        intake_id = intake_id_for(dropped.bucket, dropped.key, dropped.etag, attachment_index)
        record = self._record(
            dropped, intake_id, IntakeStatus.REFUSED, reason=reason, attachment_index=attachment_index
        )
        self._intakes.save(record)
        metrics.add_metric(name="PurchaseOrdersRefused", unit="Count", value=1)
        logger.info("document refused", intake_id=intake_id, key=dropped.key, reason=reason)
        return record

    @staticmethod
    def _record(
        dropped: DroppedObject,
        intake_id: str,
        status: IntakeStatus,
        *,
        reason: str | None = None,
        filename: str | None = None,
        attachment_index: int | None = None,
    ) -> IntakeRecord:
        now = datetime.now(UTC)
        return IntakeRecord(
            intake_id=intake_id,
            object_key=f"{dropped.bucket}/{dropped.key}",
            bucket=dropped.bucket,
            key=dropped.key,
            filename=filename or dropped.key.rsplit("/", 1)[-1],
            attachment_index=attachment_index,
            status=status,
            reason=reason,
            created_at=now,
            updated_at=now,
        )


def build_intake_service(settings: Settings) -> PoIntakeService:
    return PoIntakeService(
        settings,
        DocumentStore(settings.po_bucket),
        IntakeRepository(
            settings.po_intake_table, retention=timedelta(days=settings.decision_retention_days)
        ),
        StepFunctionsGateway(),
    )
