"""Purchase-order reviews: approving resumes the paused execution, rejecting fails it.

Found by ``domain.reviews.build_review_service`` (``RESOLVER_FACTORIES``). The review item
holds the PO as its payload (masked) and the execution's task token; approval sends the
(possibly edited) PO back with SendTaskSuccess, markers and all: the execution holds the parsed
PO and restores the real values itself. Rejection sends ``PurchaseOrderRejectedError``.

Large orders (JSON past ``po_review_inline_max_bytes``, e.g. 2,000 lines) are reviewed **by
reference**: the whole PO would not fit in SendTaskSuccess's 256 KiB output, nor twice in the
state after approval, and a listing of such items would drag megabytes. The item's payload is
then ``{"order_ref", "summary", "flagged_lines", ...}``: the PO's key in the PO bucket, its
totals and counts, and the lines with findings (up to ``po_review_flagged_lines_max``). Edits
are **partial**, by line number (a whole replacement of 2,000 lines is neither needed nor safe
to mix up with the flagged lines shown)::

    {"line_edits": {"17": {"unit_price": "12.50", "amount": "1250.00"}},
     "header_edits": {"buyer": {"name": "Acme Corp"}}}

The API applies them to the stored PO (markers restored from the real values), refuses an
invalid result with a 400 before the item is resolved, writes the approved PO to S3 (its key is
its content's hash) and records that key in the item's resolution; only then does it send
SendTaskSuccess with the key, which the Trigger step reads back (``state_store.resolve``).
"""

from __future__ import annotations

import posixpath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tray_agent.config import Settings
from tray_agent.data.stepfunctions import StepFunctionsGateway
from tray_agent.errors import ConflictError, InvalidInputError, PurchaseOrderRejectedError
from tray_agent.models.po_pipeline import Finding, PoPipelineState, ReviewResult
from tray_agent.models.purchase_order import PurchaseOrder, PurchaseOrderLine
from tray_agent.models.reviews import ReviewItem
from tray_agent.observability import logger
from tray_agent.redaction import check_restorable, restore_masked

ORDER_REF = "order_ref"  # the key that marks a by-reference payload (a PO has no such field)
APPROVED_REF = "approved_order_ref"  # set by the API in the resolution, never by the caller


class LargeOrderEdits(BaseModel):
    """A reviewer's edits to a by-reference PO: changed fields of lines (1-based) and of the header."""

    # A misspelt key must not be ignored (the unedited value would be ordered): 400 naming it.
    model_config = ConfigDict(extra="forbid")

    line_edits: dict[int, dict[str, Any]] = Field(default_factory=dict)
    header_edits: dict[str, Any] = Field(default_factory=dict)


def by_reference(payload: dict[str, Any]) -> bool:
    return ORDER_REF in payload and "lines" not in payload


def review_payload(
    state: PoPipelineState, order: PurchaseOrder, settings: Settings
) -> tuple[dict[str, Any], list[str]]:
    """The review item's payload and findings: the whole PO when small, else a reference and a summary."""
    from tray_agent.domain.po.state_store import order_prefix, write_order
    from tray_agent.domain.po.validation import finding_messages

    findings = [f.message for f in state.findings]
    whole = order.model_dump(mode="json")
    if len(order.model_dump_json().encode()) <= settings.po_review_inline_max_bytes:
        return whole, findings
    # The reference is written before the item that names it (content-addressed: a retried
    # Review step writes the same object).
    ref = state.purchase_order_ref or write_order(
        order, prefix=order_prefix(state, settings), settings=settings
    )
    flagged = sorted(
        {f.line for f in state.findings if f.line is not None and 1 <= f.line <= len(order.lines)}
    )
    shown = flagged[: settings.po_review_flagged_lines_max]
    payload = {
        ORDER_REF: ref,
        "summary": _summary(order, state.findings, len(flagged)),
        "flagged_lines": [{"line": n, **whole["lines"][n - 1]} for n in shown],
        "flagged_lines_omitted": len(flagged) - len(shown),
        "edit_format": (
            "approve with edited_payload {'line_edits': {'<line number>': {<changed fields>}}, "
            "'header_edits': {<changed header fields>}}"
        ),
    }
    # The item stays far below DynamoDB's 400 KB whatever the order (summary counts them all).
    return payload, finding_messages(state.findings, settings.po_review_flagged_lines_max)


def _summary(order: PurchaseOrder, findings: list[Finding], flagged: int) -> dict[str, Any]:
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "po_number": order.po_number,
        "order_date": text(order.order_date),
        "currency": order.currency,
        "buyer": order.buyer.name,
        "vendor": order.vendor.name,
        "line_count": len(order.lines),
        "subtotal": text(order.subtotal),
        "tax": text(order.tax),
        "shipping": text(order.shipping),
        "total": text(order.total),
        "findings": len(findings),
        "finding_codes": sorted({f.code.value for f in findings}),
        "lines_with_findings": flagged,
    }


def apply_edits(order: PurchaseOrder, edits: LargeOrderEdits) -> PurchaseOrder:
    """The stored PO with the reviewer's edits; markers they left take the real values back."""
    data = order.model_dump(mode="json")
    lines: list[dict[str, Any]] = data["lines"]
    line_fields = set(PurchaseOrderLine.model_fields)
    header_fields = set(PurchaseOrder.model_fields) - {"lines"}
    for number, fields in sorted(edits.line_edits.items()):
        if not 1 <= number <= len(lines):
            raise InvalidInputError(
                f"line_edits: line {number} does not exist (the order has {len(lines)} lines)",
                details={"line": number},
            )
        unknown = sorted(set(fields) - line_fields)
        if unknown:
            raise InvalidInputError(
                f"line_edits[{number}]: unknown field(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(line_fields))}"
            )
        original = lines[number - 1]
        lines[number - 1] = {**original, **restore_masked(fields, original)}
    unknown = sorted(set(edits.header_edits) - header_fields)
    if unknown:
        raise InvalidInputError(
            f"header_edits: unknown field(s) {', '.join(unknown)}; lines are edited with line_edits"
        )
    for name, value in restore_masked(edits.header_edits, data).items():
        current = data.get(name)
        # A party is merged field by field: {"buyer": {"name": …}} keeps the buyer's address.
        data[name] = {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
    try:
        return PurchaseOrder.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(f"the edited purchase order is invalid: {_problems(exc)}") from exc


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])


class PurchaseOrderReviewResolver:
    # An approval whose SendTaskSuccess failed is delivered again by a repeated approve (reviews.py):
    # the paused execution resumes at most once, since Step Functions refuses a used task token.
    redelivers_approval = True

    def __init__(self, stepfunctions: StepFunctionsGateway, settings: Settings | None = None) -> None:
        self._sfn = stepfunctions
        self._settings = settings

    def validate(self, item: ReviewItem, payload: dict[str, Any]) -> dict[str, Any]:
        """Refuse, before anything is resolved, a mask marker the pipeline could not put back.

        The item shows the PO masked; the paused execution still carries the parsed PO and puts
        the real values back where the reviewer left a marker (``PoPipelineState.approved_order``).
        So every marker must sit where the masked payload shows it. The payload goes on with its
        markers: the raw values never pass through the review API.

        A by-reference PO: the edits are applied to the stored PO here, and the approved PO is
        written to S3 before the item is resolved (see the module's docstring).
        """
        if by_reference(item.payload):
            return self._validate_large(item, payload)
        check_restorable(payload, item.payload)
        return payload

    def _validate_large(self, item: ReviewItem, payload: dict[str, Any]) -> dict[str, Any]:
        from tray_agent.domain.po.state_store import read_order, write_order

        if payload == item.payload:
            return payload  # approved as shown: the stored PO goes on unchanged
        if "lines" in payload:
            raise InvalidInputError(
                f"review {item.review_id} holds a large order by reference: send partial edits "
                "{'line_edits': {'<line number>': {<changed fields>}}, 'header_edits': {...}}, "
                "not a whole purchase order"
            )
        try:
            edits = LargeOrderEdits.model_validate(payload)
        except ValidationError as exc:
            raise InvalidInputError(f"the edits are invalid: {_problems(exc)}") from exc
        settings = self._require_settings()
        ref = str(item.payload[ORDER_REF])
        edited = apply_edits(read_order(ref, settings), edits)
        # Beside the parsed order, under the same attempt's prefix; content-addressed, so a
        # repeated approval (a lost answer, a retry) names the same object.
        approved = write_order(edited, prefix=posixpath.dirname(ref) + "/", settings=settings)
        logger.info(
            "large purchase order edited",
            review_id=item.review_id,
            lines_edited=len(edits.line_edits),
            header_fields_edited=len(edits.header_edits),
        )
        return {**edits.model_dump(mode="json"), APPROVED_REF: approved}

    def on_approve(self, item: ReviewItem, payload: dict[str, Any]) -> None:
        token = _token(item)
        if by_reference(item.payload):
            approved = payload.get(APPROVED_REF)
            result = ReviewResult(
                review_id=item.review_id,
                reviewer=item.resolved_by,
                edited=approved is not None,
                purchase_order_ref=str(approved or item.payload[ORDER_REF]),
            )
        else:
            try:
                order = PurchaseOrder.model_validate(payload)
            except ValidationError as exc:
                # The item is already resolved: fail the execution so it records why, and tell the caller.
                problems = _problems(exc)
                self._sfn.send_task_failure(
                    token, InvalidInputError.__name__, f"the edited purchase order is invalid: {problems}"
                )
                raise InvalidInputError(f"the edited purchase order is invalid: {problems}") from exc
            result = ReviewResult(
                review_id=item.review_id,
                reviewer=item.resolved_by,
                edited=payload != item.payload,
                purchase_order=order,
            )
        self._sfn.send_task_success(token, result.model_dump(mode="json"))
        logger.info(
            "purchase order review approved",
            review_id=item.review_id,
            edited=result.edited,
            by_reference=result.purchase_order_ref is not None,
        )

    def on_reject(self, item: ReviewItem, reason: str) -> None:
        self._sfn.send_task_failure(_token(item), PurchaseOrderRejectedError.__name__, reason)
        logger.info("purchase order review rejected", review_id=item.review_id)

    def _require_settings(self) -> Settings:
        if self._settings is None:
            raise ConflictError("large-order reviews need the PO bucket's settings")
        return self._settings


def _token(item: ReviewItem) -> str:
    if not item.task_token:
        raise ConflictError(f"review {item.review_id} holds no task token to resume")
    return item.task_token


def build_resolver(settings: Settings) -> PurchaseOrderReviewResolver:
    return PurchaseOrderReviewResolver(StepFunctionsGateway(), settings)
