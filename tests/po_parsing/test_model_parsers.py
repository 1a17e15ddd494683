"""LLM and vision parsers through the real ``openai`` client against the scripted endpoint,
once per endpoint kind (``ENDPOINTS``): a request the provider profile got wrong is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.fixtures.po_corpus.generator import CorpusDocument
from tests.support.fake_openai import ENDPOINTS, FakeOpenAI, ScriptedReply
from tray_agent.config import Settings
from tray_agent.domain.po.parsing import parse_purchase_order
from tray_agent.errors import UpstreamError


@pytest.fixture(params=sorted(ENDPOINTS))
def fake(request: pytest.FixtureRequest) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(endpoint=request.param, api_key="test-key") as server:
        yield server
        assert server.rejections == [], server.rejections


def _settings(fake: FakeOpenAI) -> Settings:
    return Settings.model_validate({"openai_api_key": "test-key", **fake.endpoint.settings_values(fake)})


def _reply_for(document: CorpusDocument, **changes: Any) -> ScriptedReply:
    truth = document.truth.model_dump(mode="json", exclude={"confidence", "warnings", "parser"})
    for line in truth["lines"]:
        for key in ("quantity", "unit_price", "amount"):
            line[key] = float(line[key])
    for key in ("subtotal", "tax", "shipping", "total"):
        truth[key] = None if truth[key] is None else float(truth[key])
    truth["buyer"].setdefault("email", None)
    truth.update(changes)
    return ScriptedReply(content=json.dumps(truth))


def _user_content(request: dict[str, Any]) -> Any:
    return next(message["content"] for message in request["messages"] if message["role"] == "user")


def test_llm_parser_turns_the_structured_reply_into_an_order(
    fake: FakeOpenAI, corpus: dict[str, CorpusDocument]
) -> None:
    document = corpus["reportlab_grid"]
    fake.script(_reply_for(document))
    order = parse_purchase_order(document.pdf, settings=_settings(fake), prefer="llm")

    assert order.parser == "llm"
    assert order.po_number == document.truth.po_number
    assert order.order_date == document.truth.order_date
    assert [line.amount for line in order.lines] == [line.amount for line in document.truth.lines]
    assert order.total == document.truth.total
    assert order.warnings == []
    request = fake.requests[0]
    assert request["model"] == (fake.endpoint.deployment or fake.endpoint.model)
    if fake.endpoint.classic_only:  # JSON mode, the schema in the instructions
        assert request["response_format"] == {"type": "json_object"}
        assert '"po_number"' in request["messages"][-1]["content"]
    else:
        assert request["response_format"]["type"] == "json_schema"
        assert request["response_format"]["json_schema"]["strict"] is True
    assert ("temperature" in request) is not fake.endpoint.reasoning
    text = _user_content(request)
    assert document.truth.po_number in text
    assert document.truth.lines[0].sku in text


def test_llm_result_is_reconciled_like_any_other(fake: FakeOpenAI, corpus: dict[str, CorpusDocument]) -> None:
    document = corpus["fpdf_us"]
    reply = json.loads(_reply_for(document).content or "{}")
    reply["lines"] = reply["lines"][:-1]  # the model dropped a line
    reply["order_date"] = "31/12/2026"  # and ignored the date format
    fake.script(ScriptedReply(content=json.dumps(reply)))
    order = parse_purchase_order(document.pdf, settings=_settings(fake), prefer="llm")
    assert order.order_date is None
    assert any("not a YYYY-MM-DD date" in warning for warning in order.warnings)
    assert any("a line may be missing" in warning for warning in order.warnings)
    assert order.needs_review(0.7)


def _scan_of(document: CorpusDocument) -> bytes:
    """The document rendered to an image and wrapped in a PDF without a text layer, like a scan."""
    from fpdf import FPDF

    from tray_agent.domain.po.parsing.pdf_text import render_pages_png

    image = render_pages_png(document.pdf, settings=Settings(po_vision_dpi=72))[0]
    pdf = FPDF()
    pdf.add_page()
    pdf.image(__import__("io").BytesIO(image), x=0, y=0, w=210)
    return bytes(pdf.output())


def test_scan_goes_to_the_vision_model_with_page_images(
    fake: FakeOpenAI, corpus: dict[str, CorpusDocument]
) -> None:
    document = corpus["fpdf_german"]
    fake.script(_reply_for(document))
    order = parse_purchase_order(_scan_of(document), settings=_settings(fake))  # auto

    assert order.parser == "vision"
    assert order.po_number == document.truth.po_number
    assert order.delivery_date == document.truth.delivery_date
    assert len(order.lines) == len(document.truth.lines)
    content = _user_content(fake.requests[0])
    images = [part["image_url"]["url"] for part in content if part["type"] == "image_url"]
    assert len(images) == 1
    prefix = "data:image/png;base64,"
    assert images[0].startswith(prefix)
    assert base64.b64decode(images[0][len(prefix) :]).startswith(b"\x89PNG\r\n\x1a\n")


def test_auto_asks_the_model_when_the_layout_parse_is_not_confident(fake: FakeOpenAI) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    # A letter-style order without a table: the layout parser finds no lines.
    pdf.multi_cell(
        0, 6, "Hello,\nplease send us 12 boxes of blue pens at 4.50 each, 54.00 in total.\nOrder ref 7781."
    )
    fake.script(
        ScriptedReply(
            content=json.dumps(
                {
                    "po_number": "7781",
                    "order_date": "2026-05-04",
                    "delivery_date": None,
                    "currency": "USD",
                    "buyer": {"name": None, "address": None, "email": None},
                    "vendor": {"name": None, "address": None},
                    "ship_to": None,
                    "payment_terms": None,
                    "lines": [
                        {
                            "sku": None,
                            "description": "blue pens",
                            "quantity": 12,
                            "unit": "box",
                            "unit_price": 4.5,
                            "amount": 54.0,
                        }
                    ],
                    "subtotal": None,
                    "tax": None,
                    "shipping": None,
                    "total": 54.0,
                }
            )
        )
    )
    order = parse_purchase_order(bytes(pdf.output()), settings=_settings(fake))
    assert order.parser == "llm"
    assert order.order_date == date(2026, 5, 4)
    assert order.lines[0].quantity == Decimal(12)
    assert order.warnings == []
    assert "12 boxes of blue pens" in _user_content(fake.requests[0])


def test_model_failure_is_a_named_upstream_error(fake: FakeOpenAI, corpus: dict[str, CorpusDocument]) -> None:
    settings = _settings(fake).model_copy(update={"po_model_max_retries": 1})
    fake.script(ScriptedReply(status=500), ScriptedReply(status=500))
    with pytest.raises(UpstreamError, match="model call failed"):
        parse_purchase_order(corpus["fpdf_us"].pdf, settings=settings, prefer="llm")
    assert len(fake.requests) == 2  # the retry the settings allow, then the named error
    fake.script(ScriptedReply(content="this is not JSON"))
    with pytest.raises(UpstreamError, match="invalid JSON"):
        parse_purchase_order(corpus["fpdf_us"].pdf, settings=settings, prefer="llm")


def test_auto_keeps_the_layout_result_when_the_model_is_down(fake: FakeOpenAI) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, "Purchase Order\nPO Number: 7781\nplease send 12 boxes of blue pens.")
    fake.script(ScriptedReply(status=503))
    settings = _settings(fake).model_copy(update={"po_model_max_retries": 0})
    order = parse_purchase_order(bytes(pdf.output()), settings=settings)
    assert order.parser == "layout"
    assert order.po_number == "7781"
    assert any("model was not reachable" in warning for warning in order.warnings)
    assert order.needs_review(0.7)


def test_vision_says_when_pages_were_left_out(fake: FakeOpenAI, corpus: dict[str, CorpusDocument]) -> None:
    document = corpus["fpdf_multipage"]
    fake.script(_reply_for(document))
    settings = _settings(fake).model_copy(update={"po_vision_max_pages": 1, "po_vision_dpi": 50})
    order = parse_purchase_order(document.pdf, settings=settings, prefer="vision")
    assert len([p for p in _user_content(fake.requests[0]) if p["type"] == "image_url"]) == 1
    assert any(f"first 1 of {document.pages} pages" in warning for warning in order.warnings)
    assert order.needs_review(0.7)
