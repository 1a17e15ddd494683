"""``parse_purchase_order``: pick the parser for a PDF, reconcile whatever it returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from tray_agent.config import Settings
from tray_agent.domain.po.parsing.embedded import find_structured, merge
from tray_agent.domain.po.parsing.layout import parse_layout
from tray_agent.domain.po.parsing.model_parsers import parse_with_llm, parse_with_vision
from tray_agent.domain.po.parsing.pdf_text import (
    MIN_TEXT_CHARS_PER_PAGE,
    PageText,
    embedded_files,
    extract_pages,
    page_count,
)
from tray_agent.domain.po.parsing.reconcile import reconcile
from tray_agent.domain.po.parsing.structured import StructuredOrder
from tray_agent.domain.po.sanitize import clean_model
from tray_agent.errors import NotAPurchaseOrderError, UpstreamError
from tray_agent.models.purchase_order import OVERALL, PurchaseOrder
from tray_agent.observability import logger, tracer

CROSS_CHECK_MAX_PAGES = 6  # longer documents are cross-checked on their first and last page
Preference = Literal["auto", "layout", "llm", "vision", "embedded-xml"]


@tracer.capture_method(capture_response=False)
def parse_purchase_order(
    pdf_bytes: bytes,
    *,
    settings: Settings,
    prefer: Preference = "auto",
    beside: Sequence[tuple[str, bytes]] = (),
) -> PurchaseOrder:
    """Read a purchase order from a PDF (and the XML sent beside it), structured data first.

    ``auto`` and ``embedded-xml``: XML beside the PDF (``beside``: Order-X, UBL, cXML from the
    same e-mail) or embedded in it (Factur-X, ZUGFeRD, XRechnung) is read exactly, and the text
    layer only cross-checks it; ``embedded-xml`` fails when there is none. ``layout``, ``llm``
    and ``vision`` never look at structured data. Every string in the result is safe to encode.
    """
    return clean_model(_parse(pdf_bytes, settings=settings, prefer=prefer, beside=beside))


def _parse(
    pdf_bytes: bytes, *, settings: Settings, prefer: Preference, beside: Sequence[tuple[str, bytes]]
) -> PurchaseOrder:
    """Read a purchase order from a PDF.

    ``auto``: the layout parser when the PDF has a usable text layer; if its result is not
    confident and a model is configured, the LLM; without a text layer, the vision model if one is
    configured, else an empty order with a warning and zero confidence (so it goes to review).
    Raises the named ``InvalidInputError`` subclasses for corrupt, encrypted or oversized input,
    and ``UpstreamError`` when the model that must answer (llm, vision, or a scan in auto) fails;
    in auto with a text layer a model outage keeps the layout result, with a warning.
    """
    xml_warnings: list[str] = []
    if prefer in ("auto", "embedded-xml"):
        structured, xml_warnings = find_structured(embedded_files(pdf_bytes, settings=settings), beside)
        if structured is not None:
            return _structured(structured, pdf_bytes, settings=settings)
        if prefer == "embedded-xml":
            raise NotAPurchaseOrderError(
                "the PDF carries no readable structured data (Factur-X, ZUGFeRD, XRechnung) "
                "and none was sent beside it" + (f": {'; '.join(xml_warnings)}" if xml_warnings else "")
            )
    order = _text_layer(pdf_bytes, settings=settings, prefer=prefer)
    if xml_warnings:
        return order.model_copy(update={"warnings": [*order.warnings, *xml_warnings]})
    return order


def _structured(structured: StructuredOrder, pdf_bytes: bytes, *, settings: Settings) -> PurchaseOrder:
    """The structured order, reconciled, cross-checked against the text layer when there is one.

    A long document is cross-checked on its first and last pages only (header, parties, total):
    the data is exact already, and reading 40 pages of lines again would only cost time.
    """
    pages_in_pdf = page_count(pdf_bytes, settings=settings)
    only = None if pages_in_pdf <= CROSS_CHECK_MAX_PAGES else [0, -1]
    pages = extract_pages(pdf_bytes, settings=settings, only=only)
    text = reconcile(parse_layout(pages)) if has_text_layer(pages) else None
    if text is not None and only is not None:
        text = text.model_copy(update={"lines": [], "confidence": {**text.confidence, "lines": 0.0}})
    return reconcile(merge(structured, text, settings=settings))


def _text_layer(pdf_bytes: bytes, *, settings: Settings, prefer: Preference) -> PurchaseOrder:
    pages = extract_pages(pdf_bytes, settings=settings)
    has_text = has_text_layer(pages)
    logger.info(
        "parsing purchase order",
        extra={"bytes": len(pdf_bytes), "pages": len(pages), "text_layer": has_text, "prefer": prefer},
    )
    choice = prefer if prefer not in ("auto", "embedded-xml") else _choose(has_text, settings)
    if choice == "none":
        return PurchaseOrder(
            confidence={OVERALL: 0.0},
            warnings=["the PDF has no text layer (a scan?) and no vision model is configured"],
            parser="layout",
        )
    if prefer == "auto" and choice == "layout" and settings.model_configured:
        return _layout_then_model(pages, settings=settings)
    if choice == "llm":
        return reconcile(parse_with_llm(pages, settings=settings))
    if choice == "vision":
        return reconcile(parse_with_vision(pdf_bytes, settings=settings))
    return reconcile(parse_layout(pages))


def _layout_then_model(pages: list[PageText], *, settings: Settings) -> PurchaseOrder:
    layout = reconcile(parse_layout(pages))
    if layout.overall_confidence >= settings.review_confidence_threshold:
        return layout
    logger.info(
        "layout parse not confident, asking the model", extra={"confidence": layout.overall_confidence}
    )
    try:
        llm = reconcile(parse_with_llm(pages, settings=settings))
    except UpstreamError as exc:
        # The layout result is already headed for review; an outage must not lose it.
        logger.warning("model unavailable, keeping the layout parse", extra={"error": exc.message})
        warning = f"the model was not reachable: {exc.message}"
        return layout.model_copy(update={"warnings": [*layout.warnings, warning]})
    return llm if llm.overall_confidence >= layout.overall_confidence else layout


def _choose(has_text: bool, settings: Settings) -> str:
    if has_text:
        return "layout"
    return "vision" if settings.model_configured else "none"


def has_text_layer(pages: list[PageText]) -> bool:
    return any(page.char_count >= MIN_TEXT_CHARS_PER_PAGE for page in pages)
