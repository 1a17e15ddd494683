"""Structured data first: Factur-X/ZUGFeRD/XRechnung XML embedded in the PDF, Order-X, UBL and
cXML beside it; the text layer only cross-checks; ``--parser layout`` never reads the XML."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tray_agent.config import Settings
from tray_agent.domain.po.parsing import parse_purchase_order
from tray_agent.domain.po.parsing.structured import StructuredDataError, parse_order_xml
from tray_agent.errors import NotAPurchaseOrderError
from tray_local.cli import main
from tray_local.po_documents import build_email, make_order, render_pdf
from tray_local.po_xml import cii_order, cxml_order_request, ubl_order

LINES = [
    ("WID-1001", "Steel widget, zinc plated", 200, "12.50"),
    ("BRK-220", "Mounting bracket 40 mm", 50, "4.25"),
]


@pytest.fixture
def order():  # type: ignore[no-untyped-def]
    return make_order("PO-55120", LINES)


@pytest.mark.parametrize("writer", [cii_order, ubl_order, cxml_order_request])
def test_every_format_maps_to_the_same_order(order, writer) -> None:  # type: ignore[no-untyped-def]
    found = parse_order_xml(writer(order))
    assert found is not None
    read = found.order
    assert read.parser == "embedded-xml"
    assert (read.po_number, read.order_date, read.currency) == ("PO-55120", order.order_date, "USD")
    assert read.buyer.name == "Acme Manufacturing Inc."
    assert read.total == order.total and read.tax == order.tax and read.shipping == order.shipping
    assert [
        (line.sku, line.description, line.quantity, line.unit_price, line.amount) for line in read.lines
    ] == [(line.sku, line.description, line.quantity, line.unit_price, line.amount) for line in order.lines]
    assert read.confidence["overall"] == 1.0


def test_zugferd_1_and_factur_x_invoices_read_by_local_names() -> None:
    v1 = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
 <rsm:HeaderExchangedDocument><ram:ID>RE-1</ram:ID><ram:TypeCode>380</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20130305</udt:DateTimeString></ram:IssueDateTime>
 </rsm:HeaderExchangedDocument>
 <rsm:SpecifiedSupplyChainTradeTransaction>
  <ram:ApplicableSupplyChainTradeAgreement>
   <ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>B-77</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>
   <ram:SellerTradeParty><ram:Name>Lieferant GmbH</ram:Name></ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:Name>Kunden AG Mitte</ram:Name></ram:BuyerTradeParty>
  </ram:ApplicableSupplyChainTradeAgreement>
  <ram:ApplicableSupplyChainTradeSettlement><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:SpecifiedTradeSettlementMonetarySummation>
    <ram:LineTotalAmount currencyID="EUR">198.00</ram:LineTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">37.62</ram:TaxTotalAmount>
    <ram:GrandTotalAmount currencyID="EUR">235.62</ram:GrandTotalAmount>
   </ram:SpecifiedTradeSettlementMonetarySummation>
  </ram:ApplicableSupplyChainTradeSettlement>
  <ram:IncludedSupplyChainTradeLineItem>
   <ram:SpecifiedSupplyChainTradeAgreement><ram:NetPriceProductTradePrice>
     <ram:ChargeAmount currencyID="EUR">9.90</ram:ChargeAmount></ram:NetPriceProductTradePrice>
   </ram:SpecifiedSupplyChainTradeAgreement>
   <ram:SpecifiedSupplyChainTradeDelivery><ram:BilledQuantity unitCode="C62">20</ram:BilledQuantity>
   </ram:SpecifiedSupplyChainTradeDelivery>
   <ram:SpecifiedSupplyChainTradeSettlement><ram:SpecifiedTradeSettlementMonetarySummation>
     <ram:LineTotalAmount currencyID="EUR">198.00</ram:LineTotalAmount>
   </ram:SpecifiedTradeSettlementMonetarySummation></ram:SpecifiedSupplyChainTradeSettlement>
   <ram:SpecifiedTradeProduct><ram:SellerAssignedID>TB100A4</ram:SellerAssignedID>
    <ram:Name>Trennblätter A4</ram:Name></ram:SpecifiedTradeProduct>
  </ram:IncludedSupplyChainTradeLineItem>
 </rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>""".encode()
    found = parse_order_xml(v1)
    assert found is not None and found.format == "CII CrossIndustryDocument"
    read = found.order
    assert read.po_number == "B-77"  # an invoice: its buyer's order reference, not its own number
    assert (str(read.order_date), read.currency, read.total) == ("2013-03-05", "EUR", Decimal("235.62"))
    assert (read.vendor.name, read.buyer.name) == ("Lieferant GmbH", "Kunden AG Mitte")
    ((line),) = read.lines
    assert (line.sku, line.description, line.quantity, line.unit, line.unit_price, line.amount) == (
        "TB100A4",
        "Trennblätter A4",
        Decimal(20),
        "C62",
        Decimal("9.90"),
        Decimal("198.00"),
    )


def test_hostile_and_broken_xml_is_refused_by_name() -> None:
    laughs = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<Order>&lol2;</Order>"""
    external = (
        b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Order>&e;</Order>"""
    )
    for hostile in (laughs, external, b"<Order><unclosed></Order>"):
        with pytest.raises(StructuredDataError):
            parse_order_xml(hostile)
    assert parse_order_xml(b"<Catalog/>") is None  # well-formed, but no order format we read


def test_pdf_with_embedded_xml_is_read_exactly_and_cross_checked(order, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pdf = render_pdf(order, embedded=[("factur-x.xml", cii_order(order))])
    read = parse_purchase_order(pdf, settings=Settings())
    assert read.parser == "embedded-xml" and read.source_format == "Order-X"
    assert read.total == order.total and len(read.lines) == 2
    assert read.cross_check == []  # the printed text agrees
    # --parser layout is the text layer only, never the embedded data.
    assert parse_purchase_order(pdf, settings=Settings(), prefer="layout").parser == "layout"
    # A printed total that contradicts the data is reported, and sends the PO to review.
    tampered = make_order("PO-55120", [("WID-1001", "Steel widget, zinc plated", 900, "12.50"), LINES[1]])
    lying = render_pdf(tampered, embedded=[("factur-x.xml", cii_order(order))])
    checked = parse_purchase_order(lying, settings=Settings())
    assert checked.total == order.total
    assert any(note.startswith("total:") for note in checked.cross_check), checked.cross_check
    assert checked.needs_review(0.7)


def test_embedded_xml_parser_needs_structured_data(order) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAPurchaseOrderError, match="no readable structured data"):
        parse_purchase_order(render_pdf(order), settings=Settings(), prefer="embedded-xml")


def test_hostile_embedded_xml_falls_back_to_the_text_with_a_warning(order) -> None:  # type: ignore[no-untyped-def]
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa">]><Order>&a;</Order>'
    read = parse_purchase_order(render_pdf(order, embedded=[("order-x.xml", bomb)]), settings=Settings())
    assert read.parser == "layout"
    assert any("order-x.xml was not read" in warning for warning in read.warnings)


@pytest.mark.parametrize(
    ("writer", "name"), [(ubl_order, "PO-55120.xml"), (cxml_order_request, "order.cxml")]
)
def test_cli_reads_the_xml_beside_the_pdf_in_an_email(order, writer, name, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "order.eml"
    path.write_bytes(
        build_email(
            [("PO-55120.pdf", render_pdf(order), "application/pdf"), (name, writer(order), "application/xml")]
        )
    )
    assert main(["parse-po", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["parser"] == "embedded-xml" and printed["po_number"] == "PO-55120"
    assert Decimal(printed["total"]) == order.total
    assert main(["parse-po", str(path), "--json", "--parser", "layout"]) == 0
    assert json.loads(capsys.readouterr().out)["parser"] == "layout"
