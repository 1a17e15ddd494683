"""The layout parser on every generated layout, and on the real documents in shared/samples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.fixtures.po_corpus.generator import LAYOUTS, CorpusDocument
from tests.fixtures.po_corpus.samples import SAMPLES_DIR
from tray_agent.config import Settings
from tray_agent.domain.po.parsing import parse_purchase_order

LAYOUT_NAMES = [layout.name for layout in LAYOUTS]


def test_corpus_has_eight_visibly_different_layouts(corpus: dict[str, CorpusDocument]) -> None:
    assert len(corpus) == len(LAYOUTS) >= 8
    assert len({document.pdf[:2000] for document in corpus.values()}) == len(corpus)
    assert corpus["fpdf_multipage"].pages >= 2


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_layout_parser_reads_every_field(
    layout: str, corpus: dict[str, CorpusDocument], settings: Settings
) -> None:
    document = corpus[layout]
    truth = document.truth
    order = parse_purchase_order(document.pdf, settings=settings, prefer="layout")

    assert order.parser == "layout"
    assert order.po_number == truth.po_number
    assert order.order_date == truth.order_date
    assert order.delivery_date == truth.delivery_date
    assert order.currency == truth.currency
    assert order.buyer.name == truth.buyer.name
    assert order.vendor.name == truth.vendor.name
    assert order.total == truth.total
    assert order.subtotal == truth.subtotal
    assert len(order.lines) == len(truth.lines)
    for parsed, expected in zip(order.lines, truth.lines, strict=True):
        assert parsed.sku == expected.sku
        assert parsed.quantity == expected.quantity
        assert parsed.unit_price == expected.unit_price
        assert parsed.amount == expected.amount
        assert parsed.description == expected.description
    assert order.warnings == []
    assert order.overall_confidence >= settings.review_confidence_threshold
    assert not order.needs_review(settings.review_confidence_threshold)


def test_multiline_descriptions_and_parties(corpus: dict[str, CorpusDocument], settings: Settings) -> None:
    document = corpus["reportlab_swiss"]
    order = parse_purchase_order(document.pdf, settings=settings, prefer="layout")
    wrapped = [line for line in document.truth.lines if len(line.description or "") > 42]
    assert wrapped, "the corpus seed should include a description that wraps"
    assert {line.description for line in order.lines} == {line.description for line in document.truth.lines}
    assert order.buyer.email == document.truth.buyer.email
    assert order.vendor.address is not None and document.truth.vendor.address is not None
    assert order.vendor.address.split(",")[0] in document.truth.vendor.address
    assert order.payment_terms == document.truth.payment_terms


def test_european_layouts_keep_thousands_and_decimals_apart(
    corpus: dict[str, CorpusDocument], settings: Settings
) -> None:
    for layout in ("fpdf_german", "fpdf_french"):
        order = parse_purchase_order(corpus[layout].pdf, settings=settings, prefer="layout")
        assert order.total == corpus[layout].truth.total
        assert order.total is not None and order.total > Decimal(1000)


def _sample(relative: str) -> bytes:
    path = SAMPLES_DIR / relative
    assert path.is_file(), f"shared samples are expected beside the repository: {path}"
    return path.read_bytes()


def test_real_order_x_purchase_order(settings: Settings) -> None:
    # The text layer (this file tests the layout parser; the embedded Order-X has its own tests).
    order = parse_purchase_order(
        _sample("order-x/facturx-ts/ORDER-X_EX11_ORDER_PICK-UP-BASIC.pdf"), settings=settings, prefer="layout"
    )
    assert order.po_number == "1861728"
    assert order.order_date == date(2020, 1, 9)
    assert order.currency == "EUR"
    assert order.vendor.name == "DMBP NANTES DISPANO ROUX - 1535"
    assert order.buyer.name == "AMBERIEU EN BUGEY CEDEO"
    assert [(line.quantity, line.unit_price, line.amount) for line in order.lines] == [
        (Decimal("4.05"), Decimal("18.74"), Decimal("75.93")),
        (Decimal("5.00"), Decimal("89.03"), Decimal("445.15")),
        (Decimal("5.00"), Decimal("208.02"), Decimal("1040.10")),
    ]


def test_order_x_price_per_base_quantity_is_read_and_sent_to_review(settings: Settings) -> None:
    # Line 2 is priced 20.00 per 2 units: read as printed, and flagged because 10 x 20 != 100.
    order = parse_purchase_order(
        _sample("order-x/mustangproject/ORDER-X_EX01_ORDER_FULL_DATA-COMFORT.pdf"), settings=settings
    )
    assert order.po_number == "PO123456789"
    assert order.delivery_date == date(2020, 4, 15)
    assert order.total == Decimal("360.00")
    assert [(line.quantity, line.unit_price, line.amount) for line in order.lines] == [
        (Decimal("6.00"), Decimal("10.00"), Decimal("60.00")),
        (Decimal("10.00"), Decimal("20.00"), Decimal("100.00")),
        (Decimal("6.00"), Decimal("25.00"), Decimal("150.00")),
    ]
    assert any(warning.startswith("line 2:") for warning in order.warnings)
    assert order.needs_review(settings.review_confidence_threshold)


def test_real_invoice_table_with_sections_and_notes(settings: Settings) -> None:
    order = parse_purchase_order(
        _sample("invoice2data/AzureInterior.pdf"), settings=settings, prefer="layout"
    )
    assert order.order_date == date(2023, 3, 20)
    assert order.currency == "USD"
    assert order.total == Decimal("279.84")
    assert [line.amount for line in order.lines] == [
        Decimal("42.00"),
        Decimal("70.00"),
        Decimal("0.90"),
        Decimal("150.00"),
    ]
    assert [line.quantity for line in order.lines] == [
        Decimal("1.00"),
        Decimal("1.00"),
        Decimal("1.00"),
        Decimal("15.00"),
    ]
    # The olive oil line carries a 10 % discount: quantity x price != amount, so it goes to review.
    assert any(warning.startswith("line 3:") for warning in order.warnings)


def test_repeated_total_label_resolves_to_the_amount_that_adds_up(settings: Settings) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.cell(0, 6, "Purchase Order  PO Number: PO-77", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    rows = (
        ("SKU", "Description", "Qty", "Unit Price", "Amount"),
        ("A-1", "Bolts", "10", "4.00", "40.00"),
        ("B-2", "Nuts", "20", "3.00", "60.00"),
    )
    for row in rows:
        for width, text in zip((30, 70, 20, 30, 30), row, strict=True):
            pdf.cell(width, 6, text)
        pdf.ln()
    for label, value in (("Subtotal", "100.00"), ("Tax", "20.00"), ("Total", "120.00")):
        pdf.set_x(120)
        pdf.cell(40, 6, label)
        pdf.cell(30, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.cell(0, 6, "Payment schedule", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(120)
    pdf.cell(40, 6, "Total")  # the first of two instalments, printed after the order total
    pdf.cell(30, 6, "60.00", align="R")
    order = parse_purchase_order(bytes(pdf.output()), settings=settings, prefer="layout")
    assert [line.amount for line in order.lines] == [Decimal("40.00"), Decimal("60.00")]
    assert order.total == Decimal("120.00")
    assert order.warnings == []
