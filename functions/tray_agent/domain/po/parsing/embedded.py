"""Structured data first: the XML in (or beside) the PDF, cross-checked against the text layer."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tray_agent.config import Settings
from tray_agent.domain.po.parsing.structured import (
    KNOWN_ATTACHMENT_NAMES,
    StructuredDataError,
    StructuredOrder,
    parse_order_xml,
)
from tray_agent.models.purchase_order import PurchaseOrder
from tray_agent.observability import logger


def find_structured(
    pdf_files: Sequence[tuple[str, bytes]], beside: Sequence[tuple[str, bytes]] = ()
) -> tuple[StructuredOrder | None, list[str]]:
    """The first readable business document: XML beside the PDF (an Order-X or cXML sent with
    it is the order itself), then the PDF's own embedded XML, known names first.

    Returns the order (or None) and warnings about XML that was refused (malformed, hostile).
    """
    embedded = sorted(pdf_files, key=lambda item: item[0].lower() not in KNOWN_ATTACHMENT_NAMES)
    candidates = [*beside, *(f for f in embedded if _looks_like_xml(f[0], f[1]))]
    warnings: list[str] = []
    for name, data in candidates:
        try:
            found = parse_order_xml(data)
        except StructuredDataError as exc:
            warnings.append(f"the XML {name or '(unnamed)'} was not read: {exc.message}")
            continue
        if found is not None and (found.order.lines or found.order.total is not None):
            logger.info("structured data found", format=found.format, lines=len(found.order.lines))
            return found, warnings
    return None, warnings


def _looks_like_xml(name: str, data: bytes) -> bool:
    return name.lower().endswith(".xml") or data.lstrip()[:5] in (b"<?xml", b"\xef\xbb\xbf<?x")


def cross_check(structured: PurchaseOrder, text: PurchaseOrder, *, settings: Settings) -> list[str]:
    """Where the text layer read something else than the structured data says.

    Only values the text parser was confident about count: a field it could not find (or
    guessed) is no evidence against exact data.
    """
    threshold = settings.review_confidence_threshold
    notes: list[str] = []

    def confident(field: str) -> bool:
        return text.confidence.get(field, 0.0) >= threshold

    pairs: list[tuple[str, object, object]] = [
        ("po_number", structured.po_number, text.po_number),
        ("order_date", structured.order_date, text.order_date),
        ("currency", structured.currency, text.currency),
        ("total", structured.total, text.total),
        ("buyer", _norm(structured.buyer.name), _norm(text.buyer.name)),
        ("vendor", _norm(structured.vendor.name), _norm(text.vendor.name)),
    ]
    for field, exact, read in pairs:
        if exact is None or read is None or not confident(field):
            continue
        if _differs(exact, read):
            notes.append(f"{field}: the embedded data says {exact}, the printed text {read}")
    if text.lines and confident("lines") and len(text.lines) != len(structured.lines):
        notes.append(
            f"lines: the embedded data has {len(structured.lines)}, the printed text {len(text.lines)}"
        )
    return notes


def _norm(name: str | None) -> str | None:
    return " ".join(name.lower().split()) if name else None


def _differs(exact: object, read: object) -> bool:
    if isinstance(exact, Decimal) and isinstance(read, Decimal):
        return exact.compare(read) != 0
    return exact != read


def merge(structured: StructuredOrder, text: PurchaseOrder | None, *, settings: Settings) -> PurchaseOrder:
    """The structured order, with the cross-check recorded; a printed total that contradicts the
    embedded one is a warning (someone may read the paper and not the data)."""
    order = structured.order.model_copy(update={"source_format": structured.format})
    if text is None:
        return order
    notes = cross_check(order, text, settings=settings)
    warnings = list(order.warnings)
    if any(note.startswith("total:") for note in notes):
        warnings.append("the printed total differs from the embedded data: check which one is meant")
    return order.model_copy(update={"cross_check": notes, "warnings": warnings})
