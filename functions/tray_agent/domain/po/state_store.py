"""Pipeline states past Step Functions' 256 KiB limit travel through S3 by reference.

A 2,000-line order is about 600 KB as JSON: carried in the state it would fail the execution
(``States.DataLimitExceeded``). Every PO handler reads its state with ``load_state`` and returns
it through ``store_state``: when the JSON is larger than ``po_state_inline_max_bytes`` the
purchase order is written to the PO bucket (``po_state_prefix``) under a key named after the
intake, the attempt and the content's hash, and the state keeps only the key. Same content, same
key: a retried step rewrites the same object, and a reference never dangles because the object
is written before the state that names it is returned.

Findings go the same way when the state is still too large with the order offloaded: a
2,000-line PO where every line has a finding or two carries 300-700 KB of them. Only then (small
and merely long orders keep their findings inline, as before) the whole list is written beside
the order (``findings-<hash>.json``) and the state keeps ``findings_ref`` (key, count, codes) and
the first ``po_state_findings_inline_max`` findings, for whoever reads the execution's history.
``resolve`` reads the list back, so every step works on all the findings.

A reviewer's approval of a large order comes back the same way (``ReviewResult.purchase_order_ref``:
the review API wrote the approved, possibly edited, order under the same prefix before it resumed
the execution), and is read back here like the parsed order.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tray_agent.config import Settings
from tray_agent.data.po_documents import DocumentStore
from tray_agent.models.po_pipeline import Finding, FindingsRef, PoPipelineState
from tray_agent.models.purchase_order import PurchaseOrder
from tray_agent.observability import logger


def load_state(event: dict[str, Any], settings: Settings) -> PoPipelineState:
    """The state a handler received, with an offloaded purchase order read back from S3."""
    state = PoPipelineState.model_validate(event)
    return resolve(state, settings)


def resolve(state: PoPipelineState, settings: Settings) -> PoPipelineState:
    if state.purchase_order is None and state.purchase_order_ref is not None:
        state = state.model_copy(update={"purchase_order": read_order(state.purchase_order_ref, settings)})
    review = state.review
    if review is not None and review.purchase_order is None and review.purchase_order_ref is not None:
        approved = read_order(review.purchase_order_ref, settings)
        state = state.model_copy(update={"review": review.model_copy(update={"purchase_order": approved})})
    if state.findings_ref is not None:
        findings = read_findings(state.findings_ref, settings)
        state = state.model_copy(update={"findings": findings, "findings_ref": None})
    return state


def read_findings(ref: FindingsRef, settings: Settings) -> list[Finding]:
    data = DocumentStore(settings.po_bucket).read(ref.key, max_bytes=settings.po_max_bytes * 4)
    return [Finding.model_validate(item) for item in json.loads(data)]


def write_findings(findings: list[Finding], *, prefix: str, settings: Settings) -> str:
    """Store the findings under ``prefix`` + their content hash and return the key."""
    body = json.dumps([f.model_dump(mode="json") for f in findings], separators=(",", ":")).encode()
    key = f"{prefix}findings-{hashlib.sha256(body).hexdigest()[:32]}.json"
    DocumentStore(settings.po_bucket).write_bytes(key, body, content_type="application/json")
    return key


def read_order(key: str, settings: Settings) -> PurchaseOrder:
    # Four times the largest document the parser accepts is far more than any order it yields.
    data = DocumentStore(settings.po_bucket).read(key, max_bytes=settings.po_max_bytes * 4)
    return PurchaseOrder.model_validate_json(data)


def write_order(order: PurchaseOrder, *, prefix: str, settings: Settings) -> str:
    """Store the order under ``prefix`` + its content hash and return the key (same order, same key)."""
    body = order.model_dump_json().encode()
    key = f"{prefix}{hashlib.sha256(body).hexdigest()[:32]}.json"
    DocumentStore(settings.po_bucket).write_bytes(key, body, content_type="application/json")
    return key


def order_prefix(state: PoPipelineState, settings: Settings) -> str:
    """Where this attempt's offloaded orders live: ``state/<intake>/<attempt>/``."""
    return f"{settings.po_state_prefix}{state.intake_id}/{state.attempt}/"


def _size(dumped: dict[str, Any]) -> int:
    return len(json.dumps(dumped, separators=(",", ":")).encode())


def store_state(state: PoPipelineState, settings: Settings) -> dict[str, Any]:
    """The JSON the handler returns: inline when small, the purchase order(s) by reference when not,
    and the findings too when the state is still too large without the orders."""
    dumped = state.dump()
    size = _size(dumped)
    if size <= settings.po_state_inline_max_bytes:
        return dumped
    update: dict[str, Any] = {}
    prefix = order_prefix(state, settings)
    if state.purchase_order is not None:
        update["purchase_order"] = None
        update["purchase_order_ref"] = write_order(state.purchase_order, prefix=prefix, settings=settings)
    review = state.review
    if review is not None and review.purchase_order is not None:
        # The approved order beside the parsed one: both by reference (the same object when the
        # review API already wrote it, as the key is the content's hash).
        key = review.purchase_order_ref or write_order(
            review.purchase_order, prefix=prefix, settings=settings
        )
        update["review"] = review.model_copy(update={"purchase_order": None, "purchase_order_ref": key})
    if update:
        dumped = state.model_copy(update=update).dump()
    if state.findings and _size(dumped) > settings.po_state_inline_max_bytes:
        ref = FindingsRef(
            key=write_findings(state.findings, prefix=prefix, settings=settings),
            count=len(state.findings),
            codes=sorted({f.code.value for f in state.findings}),
        )
        update["findings"] = state.findings[: settings.po_state_findings_inline_max]
        update["findings_ref"] = ref
        dumped = state.model_copy(update=update).dump()
    if not update:
        return dumped
    logger.info(
        "state offloaded to S3",
        intake_id=state.intake_id,
        bytes=size,
        inline_bytes=_size(dumped),
        review="review" in update,
        findings="findings_ref" in update,
    )
    return dumped
