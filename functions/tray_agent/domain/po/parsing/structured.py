"""Business-document XML (Factur-X / ZUGFeRD / XRechnung, Order-X, UBL, cXML) into ``PurchaseOrder``.

Many PDFs carry their data exactly, as XML embedded in the file (Factur-X, ZUGFeRD 1 and 2,
XRechnung CII) or sent beside them in the e-mail (Order-X, UBL Order/Invoice, cXML
OrderRequest). Read that, and nothing is guessed.

The maintained Python libraries for these formats (factur-x, drafthorse) build on lxml and
pypdf, about 10 MB the Parse Lambda would ship for what is a fixed mapping of a few dozen
elements; this module maps the elements itself. Elements are matched by local name, so the
namespace versions (CII D16B / D22B, ZUGFeRD 1's ``CrossIndustryDocument``, UBL 2.x) all read
the same way. XML is parsed with defusedxml: no DTDs, no entity expansion (billion laughs), no
external references; the size is bounded by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from tray_agent.domain.po.sanitize import clean_text
from tray_agent.errors import InvalidInputError
from tray_agent.models.purchase_order import (
    OVERALL,
    Party,
    PurchaseOrder,
    PurchaseOrderLine,
    VendorParty,
)

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

PARSER_NAME = "embedded-xml"
# Names the standards give the embedded file; any other XML attachment is read when its root
# element is one we know.
KNOWN_ATTACHMENT_NAMES = frozenset(
    {"factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "order-x.xml", "zugferd_invoice.xml"}
)
MAX_XML_BYTES = 16 * 1024 * 1024  # a 2,000-line Order-X is about 3 MB


class StructuredDataError(InvalidInputError):
    """The XML is not well-formed, is hostile (DTD, entities) or carries no usable order."""


@dataclass(frozen=True, slots=True)
class StructuredOrder:
    order: PurchaseOrder
    format: str  # e.g. "CII CrossIndustryInvoice", "UBL Order", "cXML OrderRequest"
    document_type: str | None  # the document's type code (380 invoice, 220 order, ...)


# -- element helpers (local names, namespaces ignored) -----------------------------------------


def _local(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def _children(element: Element | None, name: str) -> Iterator[Element]:
    if element is None:
        return
    for child in element:
        if _local(child.tag) == name:
            yield child


def _find(element: Element | None, path: str) -> Element | None:
    """The first element along ``a/b/c``; each step may list alternatives ``a|b``, and whole
    paths may be alternatives ``a/b || c/d`` (the first that exists wins)."""
    if " || " in path:
        return next(
            (found for option in path.split(" || ") if (found := _find(element, option)) is not None),
            None,
        )
    current = [element] if element is not None else []
    for step in path.split("/"):
        names = step.split("|")
        current = [child for node in current for name in names for child in _children(node, name)]
        if not current:
            return None
    return current[0]


def _find_all(element: Element | None, path: str) -> list[Element]:
    current = [element] if element is not None else []
    for step in path.split("/"):
        names = step.split("|")
        current = [child for node in current for name in names for child in _children(node, name)]
    return current


def _text(element: Element | None, path: str | None = None) -> str | None:
    node = _find(element, path) if path else element
    if node is None or node.text is None:
        return None
    value = clean_text(" ".join(node.text.split()) if "\n" not in node.text else node.text.strip())
    return value or None


def _decimal(element: Element | None, path: str | None = None) -> Decimal | None:
    value = _text(element, path)
    if value is None:
        return None
    try:
        number = Decimal(value.replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _date(element: Element | None, path: str) -> date | None:
    node = _find(element, path)
    if node is None:
        return None
    # CII: <udt:DateTimeString format="102">20200305</udt:DateTimeString>; UBL: 2020-03-05.
    inner = _find(node, "DateTimeString|DateString")
    value = _text(inner if inner is not None else node)
    return _parse_date(value)


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    value = value.strip()
    for fmt, length in (("%Y%m%d", 8), ("%Y-%m-%d", 10)):
        try:
            return datetime.strptime(value[:length], fmt).date()
        except ValueError:
            continue
    return None


def _join(parts: Iterable[str | None], sep: str = ", ") -> str | None:
    values = [p for p in parts if p]
    return sep.join(values) or None


# -- entry point ---------------------------------------------------------------------------------


def parse_order_xml(data: bytes) -> StructuredOrder | None:
    """The order in a business-document XML, or None when the XML is no format we read.

    Raises ``StructuredDataError`` for XML that is oversized, malformed or hostile.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    if len(data) > MAX_XML_BYTES:
        raise StructuredDataError(
            f"the XML is {len(data)} bytes, the limit is {MAX_XML_BYTES}",
            details={"bytes": len(data), "limit": MAX_XML_BYTES},
        )
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise StructuredDataError(f"the XML was refused: {exc.__class__.__name__}") from exc
    except (ParseError, ValueError) as exc:
        raise StructuredDataError(f"the XML is not well-formed: {exc}") from exc
    name = _local(root.tag)
    if name in ("CrossIndustryInvoice", "CrossIndustryDocument", "SCRDMCCBDACIOMessageStructure"):
        return _cii(root, name)
    if name in ("Invoice", "CreditNote", "Order"):
        return _ubl(root, name)
    if name == "cXML":
        return _cxml(root)
    return None


def _finish(order: PurchaseOrder) -> PurchaseOrder:
    """Data from a structured document is exact: every present field is fully confident."""
    fields = ["po_number", "order_date", "currency", "buyer", "vendor", "total", "lines"]
    confidence = {f: 1.0 for f in fields if _present(getattr(order, f))}
    confidence[OVERALL] = 1.0 if order.lines or order.total is not None else 0.5
    return order.model_copy(update={"confidence": confidence, "parser": PARSER_NAME})


def _present(value: object) -> bool:
    if isinstance(value, Party | VendorParty):
        return bool(value.name)
    if isinstance(value, list):
        return bool(value)
    return value is not None


# -- UN/CEFACT Cross Industry (Factur-X, ZUGFeRD 1/2, XRechnung CII, Order-X) --------------------


def _cii(root: Element, name: str) -> StructuredOrder:
    header = _find(root, "ExchangedDocument|HeaderExchangedDocument")
    transaction = _find(root, "SupplyChainTradeTransaction|SpecifiedSupplyChainTradeTransaction")
    agreement = _find(transaction, "ApplicableHeaderTradeAgreement|ApplicableSupplyChainTradeAgreement")
    delivery = _find(transaction, "ApplicableHeaderTradeDelivery|ApplicableSupplyChainTradeDelivery")
    settlement = _find(transaction, "ApplicableHeaderTradeSettlement|ApplicableSupplyChainTradeSettlement")
    type_code = _text(header, "TypeCode")
    is_order = name == "SCRDMCCBDACIOMessageStructure" or type_code in {"220", "230", "231"}
    document_id = _text(header, "ID")
    buyer_order = _text(agreement, "BuyerOrderReferencedDocument/IssuerAssignedID")
    currency = _text(settlement, "InvoiceCurrencyCode|OrderCurrencyCode|TaxCurrencyCode")
    summation = _find(
        settlement,
        "SpecifiedTradeSettlementHeaderMonetarySummation|SpecifiedTradeSettlementMonetarySummation",
    )
    seller = _find(agreement, "SellerTradeParty")
    buyer = _find(agreement, "BuyerTradeParty")
    line_total = _decimal(summation, "LineTotalAmount")
    charges = _decimal(summation, "ChargeTotalAmount") or Decimal(0)
    allowances = _decimal(summation, "AllowanceTotalAmount") or Decimal(0)
    lines = [
        line
        for item in _find_all(transaction, "IncludedSupplyChainTradeLineItem")
        if (line := _cii_line(item)) is not None
    ]
    order = PurchaseOrder(
        po_number=document_id if is_order else buyer_order,
        order_date=_date(header, "IssueDateTime"),
        delivery_date=_date(
            delivery,
            "ActualDeliverySupplyChainEvent/OccurrenceDateTime || "
            "RequestedDeliverySupplyChainEvent/OccurrenceDateTime",
        ),
        currency=currency,
        buyer=Party(
            name=_text(buyer, "Name"),
            address=_cii_address(buyer),
            email=_text(buyer, "URIUniversalCommunication/URIID")
            or _text(buyer, "DefinedTradeContact/EmailURIUniversalCommunication/URIID"),
        ),
        vendor=VendorParty(name=_text(seller, "Name"), address=_cii_address(seller)),
        ship_to=_cii_party_block(_find(delivery, "ShipToTradeParty")),
        payment_terms=_text(settlement, "SpecifiedTradePaymentTerms/Description"),
        lines=lines,
        subtotal=line_total if line_total is not None else _decimal(summation, "TaxBasisTotalAmount"),
        tax=_tax_in(summation, "TaxTotalAmount", currency),
        # The model has no allowances field: document-level charges net of allowances sit here,
        # so lines + this + tax = total holds as the standard defines it.
        shipping=(charges - allowances) if line_total is not None and charges != allowances else None,
        total=_decimal(summation, "GrandTotalAmount"),
    )
    kind = "Order-X" if name == "SCRDMCCBDACIOMessageStructure" else f"CII {name}"
    return StructuredOrder(order=_finish(order), format=kind, document_type=type_code)


def _tax_in(element: Element | None, name: str, currency: str | None) -> Decimal | None:
    """The tax amount in the document's currency (a second one may be in the tax currency)."""
    amounts = list(_children(element, name))
    for node in amounts:
        if currency is None or node.get("currencyID") in (None, currency):
            return _decimal(node)
    return _decimal(amounts[0]) if amounts else None


def _cii_address(party: Element | None) -> str | None:
    address = _find(party, "PostalTradeAddress")
    if address is None:
        return None
    city = _join([_text(address, "PostcodeCode"), _text(address, "CityName")], " ")
    return _join(
        [
            _text(address, "LineOne"),
            _text(address, "LineTwo"),
            _text(address, "LineThree"),
            city,
            _text(address, "CountryID"),
        ]
    )


def _cii_party_block(party: Element | None) -> str | None:
    if party is None:
        return None
    return _join([_text(party, "Name"), _cii_address(party)])


def _cii_line(item: Element) -> PurchaseOrderLine | None:
    product = _find(item, "SpecifiedTradeProduct")
    agreement = _find(item, "SpecifiedLineTradeAgreement|SpecifiedSupplyChainTradeAgreement")
    delivery = _find(item, "SpecifiedLineTradeDelivery|SpecifiedSupplyChainTradeDelivery")
    settlement = _find(item, "SpecifiedLineTradeSettlement|SpecifiedSupplyChainTradeSettlement")
    quantity_node = _find(delivery, "BilledQuantity|RequestedQuantity|AgreedQuantity")
    quantity = _decimal(quantity_node)
    if quantity is None:
        return None
    price_node = _find(agreement, "NetPriceProductTradePrice")
    unit_price = _decimal(price_node, "ChargeAmount")
    amount = _decimal(
        settlement,
        "SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount || "
        "SpecifiedTradeSettlementMonetarySummation/LineTotalAmount",
    )
    return PurchaseOrderLine(
        sku=_text(product, "SellerAssignedID"),
        buyer_sku=_text(product, "BuyerAssignedID"),
        description=_text(product, "Name"),
        quantity=quantity,
        unit=quantity_node.get("unitCode") if quantity_node is not None else None,
        unit_price=unit_price,
        amount=amount,
    )


# -- OASIS UBL 2 (Invoice, CreditNote, Order; XRechnung UBL, Peppol) -----------------------------


def _ubl(root: Element, name: str) -> StructuredOrder:
    currency = _text(root, "DocumentCurrencyCode")
    if name == "Order":
        seller = _find(root, "SellerSupplierParty/Party")
        buyer = _find(root, "BuyerCustomerParty/Party")
        totals = _find(root, "AnticipatedMonetaryTotal")
        items: list[Element | None] = [_find(line, "LineItem") for line in _find_all(root, "OrderLine")]
    else:
        seller = _find(root, "AccountingSupplierParty/Party")
        buyer = _find(root, "AccountingCustomerParty/Party")
        totals = _find(root, "LegalMonetaryTotal")
        items = [item for item in _find_all(root, "InvoiceLine|CreditNoteLine")]
    lines = [line for item in items if item is not None and (line := _ubl_line(item)) is not None]
    delivery = _find(root, "Delivery")
    order = PurchaseOrder(
        po_number=_text(root, "ID") if name == "Order" else _text(root, "OrderReference/ID"),
        order_date=_parse_date(_text(root, "IssueDate")),
        delivery_date=_parse_date(
            _text(delivery, "RequestedDeliveryPeriod/EndDate")
            or _text(delivery, "RequestedDeliveryPeriod/StartDate")
            or _text(delivery, "ActualDeliveryDate")
        ),
        currency=currency,
        buyer=Party(
            name=_ubl_party_name(buyer),
            address=_ubl_address(_find(buyer, "PostalAddress")),
            email=_text(buyer, "Contact/ElectronicMail"),
        ),
        vendor=VendorParty(
            name=_ubl_party_name(seller), address=_ubl_address(_find(seller, "PostalAddress"))
        ),
        ship_to=_ubl_address(_find(delivery, "DeliveryLocation/Address || DeliveryAddress")),
        payment_terms=_text(root, "PaymentTerms/Note"),
        lines=lines,
        subtotal=_decimal(totals, "LineExtensionAmount") or _decimal(totals, "TaxExclusiveAmount"),
        tax=_tax_in(_find(root, "TaxTotal"), "TaxAmount", currency),
        shipping=_decimal(totals, "ChargeTotalAmount") or None,
        total=_decimal(totals, "PayableAmount") or _decimal(totals, "TaxInclusiveAmount"),
    )
    type_code = _text(root, "InvoiceTypeCode|CreditNoteTypeCode|OrderTypeCode")
    return StructuredOrder(order=_finish(order), format=f"UBL {name}", document_type=type_code)


def _ubl_party_name(party: Element | None) -> str | None:
    return _text(party, "PartyName/Name") or _text(party, "PartyLegalEntity/RegistrationName")


def _ubl_address(address: Element | None) -> str | None:
    if address is None:
        return None
    city = _join([_text(address, "PostalZone"), _text(address, "CityName")], " ")
    return _join(
        [
            _text(address, "StreetName"),
            _text(address, "AdditionalStreetName"),
            city,
            _text(address, "Country/IdentificationCode"),
        ]
    )


def _ubl_line(item: Element) -> PurchaseOrderLine | None:
    quantity_node = _find(item, "Quantity|InvoicedQuantity|CreditedQuantity")
    quantity = _decimal(quantity_node)
    if quantity is None:
        return None
    product = _find(item, "Item")
    amount = _decimal(item, "LineExtensionAmount")
    if quantity == 0 and not amount:
        return None  # a section heading or a note some producers write as a line
    price = _decimal(item, "Price/PriceAmount")
    base = _decimal(item, "Price/BaseQuantity")
    if price is not None and base not in (None, Decimal(0), Decimal(1)):
        assert base is not None
        per_unit = price / base
        # Some producers write the line's quantity as the base quantity while the price is
        # already per unit: the line's own amount decides which reading is meant.
        if amount is None or abs(per_unit * quantity - amount) <= abs(price * quantity - amount):
            price = per_unit
    return PurchaseOrderLine(
        sku=_text(product, "SellersItemIdentification/ID"),
        buyer_sku=_text(product, "BuyersItemIdentification/ID"),
        description=_text(product, "Name") or _text(product, "Description"),
        quantity=quantity,
        unit=quantity_node.get("unitCode") if quantity_node is not None else None,
        unit_price=price,
        amount=amount,
    )


# -- cXML OrderRequest (Ariba, Coupa, SAP procurement) ------------------------------------------


def _cxml(root: Element) -> StructuredOrder | None:
    request = _find(root, "Request/OrderRequest")
    if request is None:
        return None
    header = _find(request, "OrderRequestHeader")
    if header is None:
        return None
    total = _find(header, "Total/Money")
    bill_to = _find(header, "BillTo/Address")
    ship_to = _find(header, "ShipTo/Address")
    lines = [line for item in _find_all(request, "ItemOut") if (line := _cxml_line(item)) is not None]
    items = _find_all(request, "ItemOut")
    first_delivery = _parse_date(items[0].get("requestedDeliveryDate")) if items else None
    order = PurchaseOrder(
        po_number=header.get("orderID"),
        order_date=_parse_date(header.get("orderDate")),
        delivery_date=first_delivery,
        currency=total.get("currency") if total is not None else None,
        buyer=Party(
            name=_text(bill_to, "Name") or _text(root, "Header/From/Credential/Identity"),
            address=_cxml_address(bill_to),
            email=_text(bill_to, "Email"),
        ),
        vendor=VendorParty(name=_text(root, "Header/To/Credential/Identity")),
        ship_to=_join([_text(ship_to, "Name"), _cxml_address(ship_to)]),
        payment_terms=_cxml_terms(_find(header, "PaymentTerm")),
        lines=lines,
        tax=_decimal(header, "Tax/Money"),
        shipping=_decimal(header, "Shipping/Money"),
        total=_decimal(total),
    )
    if order.total is not None and order.tax is None and order.shipping is None:
        order = order.model_copy(update={"subtotal": order.total})
    return StructuredOrder(order=_finish(order), format="cXML OrderRequest", document_type=header.get("type"))


def _cxml_terms(term: Element | None) -> str | None:
    if term is None:
        return None
    days = term.get("payInNumberOfDays")
    return f"Net {days}" if days else _text(term)


def _cxml_address(address: Element | None) -> str | None:
    postal = _find(address, "PostalAddress")
    if postal is None:
        return None
    city = _join([_text(postal, "PostalCode"), _text(postal, "City")], " ")
    streets = [_text(street) for street in _children(postal, "Street")]
    return _join([*streets, city, _text(postal, "Country")])


def _cxml_line(item: Element) -> PurchaseOrderLine | None:
    try:
        quantity = Decimal(item.get("quantity", ""))
    except InvalidOperation:
        return None
    detail = _find(item, "ItemDetail")
    price = _decimal(detail, "UnitPrice/Money")
    return PurchaseOrderLine(
        sku=_text(item, "ItemID/SupplierPartID"),
        buyer_sku=_text(item, "ItemID/BuyerPartID"),
        description=_text(detail, "Description"),
        quantity=quantity,
        unit=_text(detail, "UnitOfMeasure"),
        unit_price=price,
        amount=(price * quantity) if price is not None else None,
    )
