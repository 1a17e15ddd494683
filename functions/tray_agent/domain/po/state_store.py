"""Pipeline states past Step Functions' 256 KiB limit travel through S3 by reference.

A 2,000-line order is about 600 KB as JSON: carried in the state it would fail the execution
(``States.DataLimitExceeded``). Every PO handler reads its state with ``load_state`` and returns
it through ``store_state``: when the JSON is larger than ``po_state_inline_max_bytes`` the
purchase order is written to the PO bucket (``po_state_prefix``) under a key named after the
intake, the attempt and the content's hash, and the state keeps only the key. Same content, same
key: a retried step rewrites the same object, and a reference never dangles because the object
is written before the state that names it is returned.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tray_agent.config import Settings
from tray_agent.data.po_documents import DocumentStore
from tray_agent.models.po_pipeline import PoPipelineState
from tray_agent.models.purchase_order import PurchaseOrder
from tray_agent.observability import logger


def load_state(event: dict[str, Any], settings: Settings) -> PoPipelineState:
    """The state a handler received, with an offloaded purchase order read back from S3."""
    state = PoPipelineState.model_validate(event)
    return resolve(state, settings)


def resolve(state: PoPipelineState, settings: Settings) -> PoPipelineState:
    if state.purchase_order is not None or state.purchase_order_ref is None:
        return state
    # Ten times the inline limit is far more than any order the parser accepts (po_max_pages).
    data = DocumentStore(settings.po_bucket).read(
        state.purchase_order_ref, max_bytes=settings.po_max_bytes * 4
    )
    order = PurchaseOrder.model_validate_json(data)
    return state.model_copy(update={"purchase_order": order})


def store_state(state: PoPipelineState, settings: Settings) -> dict[str, Any]:
    """The JSON the handler returns: inline when small, the purchase order by reference when not."""
    dumped = state.dump()
    size = len(json.dumps(dumped, separators=(",", ":")).encode())
    if size <= settings.po_state_inline_max_bytes or state.purchase_order is None:
        return dumped
    body = state.purchase_order.model_dump_json().encode()
    digest = hashlib.sha256(body).hexdigest()[:32]
    key = f"{settings.po_state_prefix}{state.intake_id}/{state.attempt}/{digest}.json"
    DocumentStore(settings.po_bucket).write_bytes(key, body, content_type="application/json")
    logger.info("state offloaded to S3", intake_id=state.intake_id, bytes=size, order_bytes=len(body))
    return state.model_copy(update={"purchase_order": None, "purchase_order_ref": key}).dump()
