"""The layout parser on layouts the generated corpus does not have, in several languages.

Each document is drawn here with fpdf2 at explicit positions, the way other producers lay them out:
values decide the line items, arithmetic confirms the totals, labels the parser has never been
told about a vendor find the parties, and confidence stays below the review threshold for guesses.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tray_agent.config import Settings
from tray_agent.domain.po.parsing import parse_purchase_order
from tray_agent.domain.po.parsing.values import parse_date
from tray_agent.models.purchase_order import PurchaseOrder

Row = tuple[float, float, str] | tuple[float, float, str, float]  # (x mm, y mm, text[, size])


def _pdf(rows: list[Row]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    for row in rows:
        x, y, text = row[0], row[1], row[2]
        pdf.set_font("helvetica", size=row[3] if len(row) == 4 else 9)
        pdf.text(x, y, text)
    return bytes(pdf.output())


def _parse(rows: list[Row], settings: Settings) -> PurchaseOrder:
    return parse_purchase_order(_pdf(rows), settings=settings, prefer="layout")


def test_one_line_table_under_a_paragraph(settings: Settings) -> None:
    rows: list[Row] = [
        (20, 20, "Purchase Order Nr. PO-5521", 14),
        (20, 32, "Please supply the goods below at the agreed prices and deliver them to our"),
        (20, 37, "warehouse in one shipment. Questions go to purchasing, not to the warehouse."),
        (20, 50, "SKU"),
        (50, 50, "Description"),
        (110, 50, "Qty"),
        (130, 50, "Unit Price"),
        (165, 50, "Amount"),
        (20, 56, "WIDGET-A"),
        (50, 56, "Standard widget"),
        (110, 56, "10"),
        (130, 56, "48.00"),
        (165, 56, "480.00"),
        (130, 70, "Total"),
        (165, 70, "480.00"),
    ]
    order = _parse(rows, settings)
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.amount) for ln in order.lines] == [
        ("WIDGET-A", Decimal(10), Decimal("48.00"), Decimal("480.00"))
    ]
    assert order.total == Decimal("480.00")


def _german_invoice() -> list[Row]:
    return [
        (20, 20, "Handelsrechnung Nr. 471102 vom 05.03.2018", 14),
        (20, 35, "Verkäufer:"),
        (20, 40, "Nummer"),
        (45, 40, ": 549910"),
        (20, 45, "Lieferant GmbH"),
        (20, 50, "Lieferantenstraße 20"),
        (20, 55, "80333 München"),
        (20, 65, "Rechnungsempfänger:"),
        (20, 70, "Kunden AG Mitte"),
        (20, 75, "Kundenstraße 15"),
        (20, 80, "69876 Frankfurt"),
        (20, 95, "Pos"),
        (50, 95, "Beschreibung"),
        (90, 95, "Nettopreis"),
        (120, 95, "Menge"),
        (145, 95, "Steuer"),
        (175, 95, "Entgelt"),
        (22, 102, "1"),
        (50, 102, "Trennblätter"),
        (92, 102, "9,90"),
        (120, 102, "20 Stk"),
        (145, 102, "19 % VAT"),
        (178, 102, "198,00"),
        (25, 107, "TB100A4"),
        (50, 107, "A4"),
        (52, 112, "Bruttopreis : 9,90"),
        (22, 122, "2"),
        (50, 122, "Joghurt"),
        (92, 122, "5,50"),
        (120, 122, "50 Stk"),
        (145, 122, "7 % VAT"),
        (178, 122, "275,00"),
        (25, 127, "ARNR2"),
        (50, 127, "Banane"),
        (52, 132, "incl. 7 % VAT"),
        (110, 150, "Positionssumme"),
        (178, 150, "473,00"),
        (110, 155, "Gesamtbetrag der Abschläge"),
        (178, 155, "-0,00"),
        (110, 160, "Steuerbetrag"),
        (179, 160, "56,87"),
        (110, 165, "Bruttosumme"),
        (178, 165, "529,87"),
        (110, 170, "Zahlbetrag"),
        (178, 170, "529,87"),
    ]


def test_german_items_with_detail_rows_units_and_identifiers(settings: Settings) -> None:
    order = _parse(_german_invoice(), settings)
    lines = [(ln.sku, ln.quantity, ln.unit, ln.unit_price, ln.amount) for ln in order.lines]
    assert lines == [
        ("TB100A4", Decimal(20), "Stk", Decimal("9.90"), Decimal("198.00")),
        ("ARNR2", Decimal(50), "Stk", Decimal("5.50"), Decimal("275.00")),
    ]
    assert (order.subtotal, order.tax, order.total) == (
        Decimal("473.00"),
        Decimal("56.87"),
        Decimal("529.87"),
    )
    assert order.confidence["total"] >= settings.review_confidence_threshold  # confirmed by arithmetic


def test_german_parties_and_title_date(settings: Settings) -> None:
    order = _parse(_german_invoice(), settings)
    assert order.vendor.name == "Lieferant GmbH"  # the ID line under the label is not the name
    assert order.buyer.name == "Kunden AG Mitte"
    assert order.order_date == date(2018, 3, 5)


def test_french_totals_above_the_table_and_an_allowance_row(settings: Settings) -> None:
    rows: list[Row] = [
        (20, 20, "Facture FA-2017-0010", 16),
        (20, 32, "Fournisseur :"),
        (60, 32, "Au bon moulin SARL"),
        (20, 37, "Client :"),
        (60, 37, "Ma jolie boutique"),
        (20, 42, "Date de facture :"),
        (60, 42, "13/11/2017"),
        (120, 32, "Total HT"),
        (170, 32, "530,00 EUR"),
        (120, 37, "TVA"),
        (170, 37, "106,00 EUR"),
        (120, 42, "Total TTC"),
        (170, 42, "636,00 EUR"),
        (20, 60, "Description"),
        (90, 60, "Quantité"),
        (120, 60, "Prix unitaire"),
        (165, 60, "Montant"),
        (20, 66, "Huile d'olive"),
        (90, 66, "25 L"),
        (120, 66, "19,80 EUR"),
        (165, 66, "495,00 EUR"),
        (20, 72, "Biscuits aux raisins"),
        (90, 72, "15 pcs"),
        (120, 72, "3,00 EUR"),
        (165, 72, "45,00 EUR"),
        (120, 82, "Remise"),
        (165, 82, "-10,00 EUR"),
    ]
    order = _parse(rows, settings)
    assert [ln.amount for ln in order.lines] == [Decimal("495.00"), Decimal("45.00")]
    assert order.lines[0].unit == "L" and order.lines[1].unit == "pcs"
    assert order.total == Decimal("636.00")  # not the allowance row
    assert order.vendor.name == "Au bon moulin SARL"
    assert order.buyer.name == "Ma jolie boutique"
    assert order.order_date == date(2017, 11, 13)


def test_erp_item_extension_columns_and_stacked_headers(settings: Settings) -> None:
    rows: list[Row] = [
        (20, 20, "PURCHASE ORDER", 14),
        (20, 28, "TO: Northwind Traders"),
        (20, 33, "12 Harbour Road, Leeds"),
        (20, 48, "ITEM"),
        (50, 45, "ITEM"),
        (50, 48, "DESCRIPTION"),
        (115, 45, "ORDER"),
        (115, 48, "QTY"),
        (135, 45, "UNIT"),
        (135, 48, "COST"),
        (170, 48, "EXTENSION"),
        *[
            row
            for i, (code, name, qty, cost) in enumerate(
                [("BX-100", "Cardboard box", 3, "2.50"), ("TP-7", "Packing tape", 12, "1.25")]
            )
            for row in (
                (20, 56 + 6 * i, code),
                (50, 56 + 6 * i, name),
                (117, 56 + 6 * i, f"{qty} x"),
                (135, 56 + 6 * i, cost),
                (172, 56 + 6 * i, f"{qty * Decimal(cost):.2f}"),
            )
        ],
        (135, 75, "ORDER TOTAL"),
        (172, 75, "22.50"),
    ]
    order = _parse(rows, settings)
    assert [(ln.sku, ln.quantity, ln.amount) for ln in order.lines] == [
        ("BX-100", Decimal(3), Decimal("7.50")),
        ("TP-7", Decimal(12), Decimal("15.00")),
    ]
    assert order.buyer.name == "Northwind Traders"
    assert order.total == Decimal("22.50")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24. Januar 2014", date(2014, 1, 24)),
        ("24 janvier 2014", date(2014, 1, 24)),
        ("24 de enero de 2014", date(2014, 1, 24)),
        ("24 gennaio 2014", date(2014, 1, 24)),
        ("24 januari 2014", date(2014, 1, 24)),
        ("January 24, 2014", date(2014, 1, 24)),
    ],
)
def test_spelled_out_dates_in_six_languages(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_spelled_out_date_in_a_title_line(settings: Settings) -> None:
    rows: list[Row] = [
        (20, 20, "Bestellung Nr. B-2014-7 vom 24. Januar 2014", 14),
        (20, 40, "Artikel"),
        (70, 40, "Menge"),
        (100, 40, "Preis"),
        (140, 40, "Betrag"),
        (20, 46, "Schrauben M8"),
        (70, 46, "100"),
        (100, 46, "0,12"),
        (140, 46, "12,00"),
        (100, 56, "Gesamtbetrag"),
        (140, 56, "12,00"),
    ]
    order = _parse(rows, settings)
    assert order.order_date == date(2014, 1, 24)


def _dated(order_date: str, currency_line: str) -> list[Row]:
    return [
        (20, 20, "Purchase Order", 14),
        (20, 30, f"Order date: {order_date}"),
        (20, 35, currency_line),
        (20, 50, "Description"),
        (90, 50, "Qty"),
        (120, 50, "Price"),
        (160, 50, "Amount"),
        (20, 56, "Hex bolts"),
        (90, 56, "4"),
        (120, 56, "2.50"),
        (160, 56, "10.00"),
        (120, 66, "Total"),
        (160, 66, "10.00"),
    ]


def test_day_month_order_from_the_currency(settings: Settings) -> None:
    order = _parse(_dated("11/05/2026", "All prices in GBP"), settings)
    assert order.order_date == date(2026, 5, 11)  # a pound-sterling document writes the day first


def test_ambiguous_day_month_is_said_and_not_trusted(settings: Settings) -> None:
    order = _parse(_dated("11/05/2026", "Thank you"), settings)
    assert order.confidence["order_date"] < settings.review_confidence_threshold
    assert any("day and month" in warning for warning in order.warnings)


def test_day_month_settled_by_another_date(settings: Settings) -> None:
    order = _parse(_dated("11/05/2026", "Deliver by 25/05/2026"), settings)
    assert order.order_date == date(2026, 5, 11)
    assert order.confidence["order_date"] >= settings.review_confidence_threshold


def test_a_guessed_party_is_below_the_review_threshold(settings: Settings) -> None:
    rows: list[Row] = [
        (20, 20, "Purchase Order", 14),
        (20, 30, "Vendor:"),
        (20, 35, "Acme Industrial"),
        (20, 40, "Components Division"),  # may be the rest of the name: not certain
        (20, 45, "12 Main Street"),
        (20, 60, "Description"),
        (90, 60, "Qty"),
        (120, 60, "Price"),
        (160, 60, "Amount"),
        (20, 66, "Hex bolts"),
        (90, 66, "4"),
        (120, 66, "2.50"),
        (160, 66, "10.00"),
    ]
    order = _parse(rows, settings)
    assert order.vendor.name == "Acme Industrial"
    assert order.confidence["vendor"] < settings.review_confidence_threshold
    # No printed total: the total is not invented and the lines are not confirmed as a set.
    assert order.total is None
    assert order.confidence["lines"] < settings.review_confidence_threshold
