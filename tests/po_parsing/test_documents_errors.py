"""Bad input raises named errors from the tree, never a random exception."""

from __future__ import annotations

import io

import pytest

from tray_agent.config import Settings
from tray_agent.domain.po.parsing import parse_purchase_order
from tray_agent.errors import (
    CorruptDocumentError,
    DocumentTooLargeError,
    EncryptedDocumentError,
    InvalidInputError,
)


def _pdf(pages: int = 1, text: str = "Purchase Order PO-1") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for _ in range(pages):
        pdf.add_page()
        pdf.cell(text=text)
    return bytes(pdf.output())


def test_errors_belong_to_the_invalid_input_branch() -> None:
    for error in (CorruptDocumentError, EncryptedDocumentError, DocumentTooLargeError):
        assert issubclass(error, InvalidInputError)
    assert DocumentTooLargeError("x").http_status == 413


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, this is not a PDF", b"\x89PNG\r\n\x1a\n" + bytes(200), b"%PDF-1.7\n% broken body\n%%EOF"],
    ids=["empty", "text", "png", "header-only"],
)
def test_corrupt_input(data: bytes, settings: Settings) -> None:
    with pytest.raises(CorruptDocumentError):
        parse_purchase_order(data, settings=settings)


def test_truncated_pdf_is_corrupt(settings: Settings) -> None:
    data = _pdf()
    with pytest.raises(CorruptDocumentError, match="cannot be read"):
        parse_purchase_order(data[: len(data) // 3], settings=settings)


def test_encrypted_pdf(settings: Settings) -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    document = canvas.Canvas(buffer, encrypt=StandardEncryption("secret", canPrint=0))
    document.drawString(72, 720, "Purchase Order PO-1")
    document.showPage()
    document.save()
    with pytest.raises(EncryptedDocumentError, match="password"):
        parse_purchase_order(buffer.getvalue(), settings=settings)


def test_thousands_of_pages_are_refused_before_any_is_read() -> None:
    data = _pdf(pages=2500, text="x")
    with pytest.raises(DocumentTooLargeError, match="2500 pages") as raised:
        parse_purchase_order(data, settings=Settings(po_max_pages=200))
    assert raised.value.details == {"pages": 2500, "limit": 200}


def test_oversized_file_is_refused() -> None:
    data = _pdf()
    with pytest.raises(DocumentTooLargeError, match="bytes"):
        parse_purchase_order(data, settings=Settings(po_max_bytes=len(data) - 1))


def test_pdf_without_text_layer_and_without_model_is_an_empty_order_for_review(settings: Settings) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 40)  # drawn, not written: a page with no text layer, as a scan has
    order = parse_purchase_order(bytes(pdf.output()), settings=settings)
    assert order.lines == []
    assert order.overall_confidence == 0.0
    assert order.warnings and "no text layer" in order.warnings[0]
    assert order.needs_review(settings.review_confidence_threshold)


def test_damaged_documents_parse_or_raise_named_errors_only(settings: Settings) -> None:
    """Seeded byte flips, truncations and overwritten ranges: an order or a TrayAgentError."""
    import random

    from tests.fixtures.po_corpus.generator import build_corpus
    from tray_agent.errors import TrayAgentError

    rng = random.Random(20261122)
    originals = [document.pdf for document in build_corpus(seed=3, per_layout=1)[:4]]
    outcomes = {"parsed": 0, "refused": 0}
    for _ in range(40):
        data = bytearray(rng.choice(originals))
        if rng.random() < 0.5:
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            data = data[: rng.randrange(len(data))]
        try:
            parse_purchase_order(bytes(data), settings=settings, prefer="layout")
            outcomes["parsed"] += 1
        except TrayAgentError:
            outcomes["refused"] += 1
    assert outcomes["parsed"] > 0 and outcomes["refused"] > 0
