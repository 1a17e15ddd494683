"""The LLM and vision parsers: an OpenAI-compatible structured-output call returning the order.

The LLM reads the page text laid out as on the page (columns kept by spacing); the vision parser
sends rendered pages as images. Both ask for one JSON schema (strict structured output, or JSON
mode with the schema in the prompt, as the provider profile says: ``tray_agent.llm_profiles``)
and validate the reply into ``PurchaseOrder``; what the model got wrong shows up in
reconciliation like any parser's error. ``openai`` is imported lazily: most invocations never reach a model.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tray_agent.config import Settings
from tray_agent.domain.po.parsing.lines import build_lines
from tray_agent.domain.po.parsing.pdf_text import PageText, page_count, render_pages_png
from tray_agent.errors import ConfigurationError, UpstreamError
from tray_agent.models.purchase_order import (
    ParserName,
    Party,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorParty,
)
from tray_agent.observability import logger

MAX_PROMPT_CHARS = 60_000
MODEL_FIELD_CONFIDENCE = 0.8  # the model gives no calibrated score; reconciliation lowers this
INSTRUCTIONS = (
    "You read purchase orders. Extract the order exactly as printed. Dates as YYYY-MM-DD, amounts "
    "as plain numbers without currency signs or thousands separators, the currency as an ISO 4217 "
    "code. The buyer issues the order; the vendor (supplier) receives it. List EVERY line item in "
    "document order, across all pages; never merge or skip lines. Use null for anything not printed."
)

_STRING = {"type": ["string", "null"]}
_NUMBER = {"type": ["number", "null"]}
_LINE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sku", "description", "quantity", "unit", "unit_price", "amount"],
    "properties": {
        "sku": _STRING,
        "description": _STRING,
        "quantity": _NUMBER,
        "unit": _STRING,
        "unit_price": _NUMBER,
        "amount": _NUMBER,
    },
}
ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "po_number",
        "order_date",
        "delivery_date",
        "currency",
        "buyer",
        "vendor",
        "ship_to",
        "payment_terms",
        "lines",
        "subtotal",
        "tax",
        "shipping",
        "total",
    ],
    "properties": {
        "po_number": _STRING,
        "order_date": _STRING,
        "delivery_date": _STRING,
        "currency": _STRING,
        "buyer": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "address", "email"],
            "properties": {"name": _STRING, "address": _STRING, "email": _STRING},
        },
        "vendor": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "address"],
            "properties": {"name": _STRING, "address": _STRING},
        },
        "ship_to": _STRING,
        "payment_terms": _STRING,
        "lines": {"type": "array", "items": _LINE_SCHEMA},
        "subtotal": _NUMBER,
        "tax": _NUMBER,
        "shipping": _NUMBER,
        "total": _NUMBER,
    },
}


def parse_with_llm(pages: list[PageText], *, settings: Settings) -> PurchaseOrder:
    full_text = layout_text(pages)
    text = full_text[:MAX_PROMPT_CHARS]
    messages = [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": f"Purchase order text, laid out as on the page:\n\n{text}"},
    ]
    reply = _structured_call(messages, settings=settings)
    order = order_from_reply(reply, parser="llm")
    if len(full_text) > MAX_PROMPT_CHARS:
        order.warnings.append("the document text was cut to fit the model's prompt: lines may be missing")
    return order


def parse_with_vision(pdf_bytes: bytes, *, settings: Settings) -> PurchaseOrder:
    images = render_pages_png(pdf_bytes, settings=settings)
    content: list[dict[str, Any]] = [
        {"type": "text", "text": "Extract the purchase order shown on these page images."}
    ]
    for image in images:
        encoded = base64.b64encode(image).decode()
        content.append({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}})
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": content},
    ]
    reply = _structured_call(messages, settings=settings)
    order = order_from_reply(reply, parser="vision")
    pages = page_count(pdf_bytes, settings=settings)
    if pages > len(images):
        order.warnings.append(
            f"only the first {len(images)} of {pages} pages were sent to the vision model: "
            "lines may be missing"
        )
    return order


def layout_text(pages: list[PageText]) -> str:
    """Page text with each phrase placed at its column, so the model sees the table's shape."""
    out: list[str] = []
    for page in pages:
        out.append(f"--- page {page.index + 1} ---")
        for line in build_lines(page.words):
            row = ""
            for phrase in line.phrases:
                column = int(phrase.x0 / 4.5)  # about one character of a 9-10 pt font
                row += " " * max(1 if row else 0, column - len(row)) + phrase.text
            out.append(row)
    return "\n".join(out)


def _structured_call(messages: list[Any], *, settings: Settings) -> dict[str, Any]:
    if not settings.model_configured:
        raise ConfigurationError("no model is configured (openai_model is empty)")
    import openai

    from tray_agent.llm_profiles import profile_for

    profile = profile_for(settings)  # which parameters this endpoint accepts
    client = profile.client(
        settings,
        settings.openai_api_key,
        timeout=settings.po_model_timeout_s,
        max_retries=settings.po_model_max_retries,
    )
    request = profile.structured_kwargs(messages, name="purchase_order", schema=ORDER_SCHEMA)
    try:
        completion = client.chat.completions.create(**request)
    except openai.APIError as exc:
        raise UpstreamError(f"the model call failed: {exc.__class__.__name__}") from exc
    content = completion.choices[0].message.content if completion.choices else None
    usage = completion.usage
    logger.info(
        "model read a purchase order",
        extra={
            "model": settings.openai_model,
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
        },
    )
    if not content:
        raise UpstreamError("the model returned no content")
    try:
        reply = json.loads(content)
    except json.JSONDecodeError as exc:
        raise UpstreamError("the model returned invalid JSON") from exc
    if not isinstance(reply, dict):
        raise UpstreamError("the model returned JSON that is not an object")
    return reply


def order_from_reply(reply: dict[str, Any], *, parser: ParserName) -> PurchaseOrder:
    """A ``PurchaseOrder`` from the model's JSON; unreadable values become None plus a warning."""
    warnings: list[str] = []

    def text(value: Any) -> str | None:
        return str(value).strip() or None if value is not None else None

    def number(value: Any, field: str) -> Decimal | None:
        if value is None or isinstance(value, bool):
            return None
        try:
            return Decimal(str(value).replace(",", "")) if isinstance(value, str) else Decimal(str(value))
        except InvalidOperation:
            warnings.append(f"the model's {field} {value!r} is not a number")
            return None

    def day(value: Any, field: str) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            warnings.append(f"the model's {field} {value!r} is not a YYYY-MM-DD date")
            return None

    lines: list[PurchaseOrderLine] = []
    for number_in_order, item in enumerate(reply.get("lines") or [], start=1):
        raw = item if isinstance(item, dict) else {}
        quantity = number(raw.get("quantity"), f"line {number_in_order} quantity")
        if quantity is None:
            warnings.append(f"line {number_in_order}: the model found no quantity")
            quantity = Decimal(0)
        lines.append(
            PurchaseOrderLine(
                sku=text(raw.get("sku")),
                description=text(raw.get("description")),
                quantity=quantity,
                unit=text(raw.get("unit")),
                unit_price=number(raw.get("unit_price"), f"line {number_in_order} unit price"),
                amount=number(raw.get("amount"), f"line {number_in_order} amount"),
            )
        )
    buyer = _object(reply.get("buyer"))
    vendor = _object(reply.get("vendor"))
    currency = text(reply.get("currency"))
    order = PurchaseOrder(
        po_number=text(reply.get("po_number")),
        order_date=day(reply.get("order_date"), "order date"),
        delivery_date=day(reply.get("delivery_date"), "delivery date"),
        currency=currency.upper() if currency else None,
        buyer=Party(
            name=text(buyer.get("name")), address=text(buyer.get("address")), email=text(buyer.get("email"))
        ),
        vendor=VendorParty(name=text(vendor.get("name")), address=text(vendor.get("address"))),
        ship_to=text(reply.get("ship_to")),
        payment_terms=text(reply.get("payment_terms")),
        lines=lines,
        subtotal=number(reply.get("subtotal"), "subtotal"),
        tax=number(reply.get("tax"), "tax"),
        shipping=number(reply.get("shipping"), "shipping"),
        total=number(reply.get("total"), "total"),
        warnings=warnings,
        parser=parser,
    )
    order.confidence.update(
        {
            name: MODEL_FIELD_CONFIDENCE if getattr(order, name) not in (None, []) else 0.0
            for name in ("po_number", "order_date", "delivery_date", "currency", "lines", "total")
        }
    )
    return order


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
