from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.fixtures.po_corpus.generator import CorpusDocument
from tray_agent.domain.po.parsing import extract_pdfs_from_email
from tray_agent.errors import DocumentTooLargeError
from tray_local.cli import main

JSON_KEYS = {
    "po_number", "order_date", "delivery_date", "currency", "buyer", "vendor", "ship_to", "payment_terms",
    "lines", "subtotal", "tax", "shipping", "total", "confidence", "warnings", "parser",
    "source_format", "cross_check", "corrections_applied",  # issue 14: structured data, corrections
}  # fmt: skip


def _email(*attachments: tuple[str, str, bytes]) -> bytes:
    message = EmailMessage()
    message["From"] = "buyer@example.com"
    message["To"] = "orders@example.com"
    message["Subject"] = "PO attached"
    message.set_content("Please find our purchase order attached.")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def test_extracts_every_pdf_attachment_and_nothing_else(corpus: dict[str, CorpusDocument]) -> None:
    first, second = corpus["fpdf_us"].pdf, corpus["reportlab_grid"].pdf
    raw = _email(
        ("logo.png", "image/png", b"\x89PNG\r\n\x1a\nxx"),
        ("PO-1.pdf", "application/pdf", first),
        ("scan.PDF", "application/octet-stream", second),  # mislabelled type, PDF by name
        ("terms.txt", "text/plain", b"net 30"),
    )
    assert extract_pdfs_from_email(raw) == [("PO-1.pdf", first), ("scan.PDF", second)]


def test_pdf_inside_a_forwarded_message(corpus: dict[str, CorpusDocument]) -> None:
    inner = EmailMessage()
    inner["Subject"] = "PO 4711"
    inner.set_content("see attachment")
    inner.add_attachment(corpus["fpdf_us"].pdf, maintype="application", subtype="pdf", filename="po.pdf")
    outer = EmailMessage()
    outer["Subject"] = "Fwd: PO 4711"
    outer.set_content("forwarding the customer's order")
    outer.add_attachment(inner)  # message/rfc822
    assert extract_pdfs_from_email(outer.as_bytes()) == [("po.pdf", corpus["fpdf_us"].pdf)]


def test_email_without_pdf_and_oversized_email() -> None:
    raw = _email(("notes.txt", "text/plain", b"no order here"))
    assert extract_pdfs_from_email(raw) == []
    with pytest.raises(DocumentTooLargeError):
        extract_pdfs_from_email(raw, max_bytes=100)


def test_cli_prints_the_order_as_json(
    tmp_path: Path, corpus: dict[str, CorpusDocument], capsys: pytest.CaptureFixture[str]
) -> None:
    document = corpus["fpdf_german"]
    path = tmp_path / "order.pdf"
    path.write_bytes(document.pdf)
    assert main(["parse-po", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == JSON_KEYS
    assert set(printed["buyer"]) == {"name", "address", "email"}
    assert set(printed["vendor"]) == {"name", "address"}
    assert printed["po_number"] == document.truth.po_number
    assert printed["order_date"] == document.truth.order_date.isoformat()  # type: ignore[union-attr]
    assert printed["parser"] == "layout"
    assert [line["amount"] for line in printed["lines"]] == [
        str(line.amount) for line in document.truth.lines
    ]


def test_cli_reads_the_pdf_inside_an_eml(
    tmp_path: Path, corpus: dict[str, CorpusDocument], capsys: pytest.CaptureFixture[str]
) -> None:
    document = corpus["fpdf_french"]
    path = tmp_path / "inbound.eml"
    path.write_bytes(_email(("bon-de-commande.pdf", "application/pdf", document.pdf)))
    assert main(["parse-po", str(path)]) == 0
    out = capsys.readouterr().out
    assert "bon-de-commande.pdf" in out
    assert f"PO number:     {document.truth.po_number}" in out
    assert "NEEDS REVIEW" not in out


def test_cli_reports_named_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "inbound.eml"
    path.write_bytes(_email(("notes.txt", "text/plain", b"no order here")))
    assert main(["parse-po", str(path), "--json"]) == 2
    assert "NotAPurchaseOrderError" in capsys.readouterr().err
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 garbage")
    assert main(["parse-po", str(broken)]) == 2
    assert "CorruptDocumentError" in capsys.readouterr().err
