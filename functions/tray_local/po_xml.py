# ruff: noqa: E501 -- XML templates read best one element per line, whatever their length
"""Structured order documents for the demo and the tests: Order-X / Factur-X (CII), UBL Order, cXML.

Written from a ``PurchaseOrder`` the way ERPs and procurement suites write them, so the pipeline
can be tested on a PDF with its XML embedded, or an e-mail with the XML beside the PDF.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from tray_agent.models.purchase_order import PurchaseOrder

RSM = "urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"


def _t(value: object) -> str:
    return escape("" if value is None else str(value))


def cii_order(
    order: PurchaseOrder, *, root: str = "SCRDMCCBDACIOMessageStructure", type_code: str = "220"
) -> bytes:
    """An Order-X order (or, with ``root="CrossIndustryInvoice"``, a Factur-X-like invoice)."""
    day = order.order_date.strftime("%Y%m%d") if order.order_date else ""
    lines = []
    for number, line in enumerate(order.lines, start=1):
        buyer_id = (
            f"<ram:BuyerAssignedID>{_t(line.buyer_sku)}</ram:BuyerAssignedID>" if line.buyer_sku else ""
        )
        lines.append(
            "<ram:IncludedSupplyChainTradeLineItem>"
            f"<ram:AssociatedDocumentLineDocument><ram:LineID>{number}</ram:LineID></ram:AssociatedDocumentLineDocument>"
            f"<ram:SpecifiedTradeProduct><ram:SellerAssignedID>{_t(line.sku)}</ram:SellerAssignedID>{buyer_id}"
            f"<ram:Name>{_t(line.description)}</ram:Name></ram:SpecifiedTradeProduct>"
            "<ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice>"
            f"<ram:ChargeAmount>{_t(line.unit_price)}</ram:ChargeAmount></ram:NetPriceProductTradePrice>"
            "</ram:SpecifiedLineTradeAgreement>"
            f'<ram:SpecifiedLineTradeDelivery><ram:RequestedQuantity unitCode="C62">{_t(line.quantity)}'
            "</ram:RequestedQuantity></ram:SpecifiedLineTradeDelivery>"
            "<ram:SpecifiedLineTradeSettlement><ram:SpecifiedTradeSettlementLineMonetarySummation>"
            f"<ram:LineTotalAmount>{_t(line.amount)}</ram:LineTotalAmount>"
            "</ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>"
            "</ram:IncludedSupplyChainTradeLineItem>"
        )
    charges = f"<ram:ChargeTotalAmount>{_t(order.shipping)}</ram:ChargeTotalAmount>" if order.shipping else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rsm:{root} xmlns:rsm="{RSM}" xmlns:ram="{RAM}" xmlns:udt="{UDT}">'
        f"<rsm:ExchangedDocument><ram:ID>{_t(order.po_number)}</ram:ID><ram:TypeCode>{type_code}</ram:TypeCode>"
        f'<ram:IssueDateTime><udt:DateTimeString format="102">{day}</udt:DateTimeString></ram:IssueDateTime>'
        "</rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>"
        + "".join(lines)
        + "<ram:ApplicableHeaderTradeAgreement>"
        f"<ram:SellerTradeParty><ram:Name>{_t(order.vendor.name)}</ram:Name></ram:SellerTradeParty>"
        f"<ram:BuyerTradeParty><ram:Name>{_t(order.buyer.name)}</ram:Name>"
        f"<ram:PostalTradeAddress><ram:LineOne>{_t(order.buyer.address)}</ram:LineOne></ram:PostalTradeAddress>"
        f"<ram:URIUniversalCommunication><ram:URIID>{_t(order.buyer.email)}</ram:URIID></ram:URIUniversalCommunication>"
        "</ram:BuyerTradeParty></ram:ApplicableHeaderTradeAgreement><ram:ApplicableHeaderTradeDelivery/>"
        f"<ram:ApplicableHeaderTradeSettlement><ram:OrderCurrencyCode>{_t(order.currency)}</ram:OrderCurrencyCode>"
        f"<ram:SpecifiedTradePaymentTerms><ram:Description>{_t(order.payment_terms)}</ram:Description>"
        "</ram:SpecifiedTradePaymentTerms><ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        f"<ram:LineTotalAmount>{_t(order.subtotal)}</ram:LineTotalAmount>{charges}"
        f"<ram:TaxTotalAmount>{_t(order.tax)}</ram:TaxTotalAmount>"
        f"<ram:GrandTotalAmount>{_t(order.total)}</ram:GrandTotalAmount>"
        "</ram:SpecifiedTradeSettlementHeaderMonetarySummation></ram:ApplicableHeaderTradeSettlement>"
        f"</rsm:SupplyChainTradeTransaction></rsm:{root}>"
    ).encode()


def ubl_order(order: PurchaseOrder) -> bytes:
    cur = quoteattr(order.currency or "")
    lines = "".join(
        f'<cac:OrderLine><cac:LineItem><cbc:ID>{n}</cbc:ID><cbc:Quantity unitCode="C62">{_t(item.quantity)}</cbc:Quantity>'
        f"<cbc:LineExtensionAmount currencyID={cur}>{_t(item.amount)}</cbc:LineExtensionAmount>"
        f"<cac:Price><cbc:PriceAmount currencyID={cur}>{_t(item.unit_price)}</cbc:PriceAmount></cac:Price>"
        f"<cac:Item><cbc:Name>{_t(item.description)}</cbc:Name>"
        + (
            f"<cac:BuyersItemIdentification><cbc:ID>{_t(item.buyer_sku)}</cbc:ID></cac:BuyersItemIdentification>"
            if item.buyer_sku
            else ""
        )
        + f"<cac:SellersItemIdentification><cbc:ID>{_t(item.sku)}</cbc:ID></cac:SellersItemIdentification>"
        "</cac:Item></cac:LineItem></cac:OrderLine>"
        for n, item in enumerate(order.lines, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2" '
        'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        f"<cbc:ID>{_t(order.po_number)}</cbc:ID><cbc:IssueDate>{_t(order.order_date)}</cbc:IssueDate>"
        f"<cbc:DocumentCurrencyCode>{_t(order.currency)}</cbc:DocumentCurrencyCode>"
        f"<cac:BuyerCustomerParty><cac:Party><cac:PartyName><cbc:Name>{_t(order.buyer.name)}</cbc:Name></cac:PartyName>"
        f"<cac:Contact><cbc:ElectronicMail>{_t(order.buyer.email)}</cbc:ElectronicMail></cac:Contact></cac:Party></cac:BuyerCustomerParty>"
        f"<cac:SellerSupplierParty><cac:Party><cac:PartyName><cbc:Name>{_t(order.vendor.name)}</cbc:Name></cac:PartyName></cac:Party></cac:SellerSupplierParty>"
        f"<cac:TaxTotal><cbc:TaxAmount currencyID={cur}>{_t(order.tax)}</cbc:TaxAmount></cac:TaxTotal>"
        f"<cac:AnticipatedMonetaryTotal><cbc:LineExtensionAmount currencyID={cur}>{_t(order.subtotal)}</cbc:LineExtensionAmount>"
        + (
            f"<cbc:ChargeTotalAmount currencyID={cur}>{_t(order.shipping)}</cbc:ChargeTotalAmount>"
            if order.shipping
            else ""
        )
        + f"<cbc:PayableAmount currencyID={cur}>{_t(order.total)}</cbc:PayableAmount></cac:AnticipatedMonetaryTotal>"
        + lines
        + "</Order>"
    ).encode()


def cxml_order_request(order: PurchaseOrder) -> bytes:
    cur = quoteattr(order.currency or "")
    items = "".join(
        f'<ItemOut quantity="{_t(item.quantity)}" lineNumber="{n}"><ItemID><SupplierPartID>{_t(item.sku)}</SupplierPartID>'
        + (f"<BuyerPartID>{_t(item.buyer_sku)}</BuyerPartID>" if item.buyer_sku else "")
        + f"</ItemID><ItemDetail><UnitPrice><Money currency={cur}>{_t(item.unit_price)}</Money></UnitPrice>"
        f'<Description xml:lang="en">{_t(item.description)}</Description><UnitOfMeasure>EA</UnitOfMeasure></ItemDetail></ItemOut>'
        for n, item in enumerate(order.lines, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<cXML payloadID="1@example.com" timestamp="2026-11-02T10:00:00Z">'
        f'<Header><From><Credential domain="NetworkID"><Identity>{_t(order.buyer.name)}</Identity></Credential></From>'
        f'<To><Credential domain="NetworkID"><Identity>{_t(order.vendor.name)}</Identity></Credential></To></Header>'
        f"<Request><OrderRequest><OrderRequestHeader orderID={quoteattr(order.po_number or '')} "
        f'orderDate="{_t(order.order_date)}T09:00:00+00:00" type="new">'
        f"<Total><Money currency={cur}>{_t(order.total)}</Money></Total>"
        f'<BillTo><Address><Name xml:lang="en">{_t(order.buyer.name)}</Name><Email>{_t(order.buyer.email)}</Email></Address></BillTo>'
        + (
            f'<Shipping><Money currency={cur}>{_t(order.shipping)}</Money><Description xml:lang="en">freight</Description></Shipping>'
            if order.shipping
            else ""
        )
        + (
            f'<Tax><Money currency={cur}>{_t(order.tax)}</Money><Description xml:lang="en">tax</Description></Tax>'
            if order.tax
            else ""
        )
        + "</OrderRequestHeader>"
        + items
        + "</OrderRequest></Request></cXML>"
    ).encode()
