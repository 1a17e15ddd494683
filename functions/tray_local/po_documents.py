"""Purchase-order documents for the demo and the tests: a PO as a PDF (fpdf2), PDFs in an email.

The PDF is an ordinary US-style PO (letterhead, PO number and dates top right, buyer and vendor
blocks, a SKU / Description / Qty / Unit Price / Amount table, totals). Local only: fpdf2 is a
dev dependency.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from email.message import EmailMessage
from typing import Any

from tray_agent.models.purchase_order import Party, PurchaseOrder, PurchaseOrderLine, VendorParty

CENT = Decimal("0.01")


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"${value.quantize(CENT, ROUND_HALF_UP):,.2f}"


def _day(value: date | None) -> str:
    return "" if value is None else f"{value.month:02d}/{value.day:02d}/{value.year}"


def make_order(
    po_number: str,
    lines: list[tuple[str, str, int | str, str]],
    *,
    buyer: tuple[str, str, str] = (
        "Acme Manufacturing Inc.",
        "1200 Industrial Way, Springfield, IL 62701",
        "purchasing@acme-mfg.com",
    ),
    tax_rate: str = "0.08",
    shipping: str = "25.00",
) -> PurchaseOrder:
    """A consistent PO from ``(sku, description, quantity, unit price)`` lines, amounts computed."""
    order_lines = [
        PurchaseOrderLine(
            sku=sku,
            description=description,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            amount=(Decimal(quantity) * Decimal(price)).quantize(CENT, ROUND_HALF_UP),
        )
        for sku, description, quantity, price in lines
    ]
    subtotal = sum((line.amount or Decimal(0) for line in order_lines), Decimal(0))
    tax = (subtotal * Decimal(tax_rate)).quantize(CENT, ROUND_HALF_UP)
    ship = Decimal(shipping)
    return PurchaseOrder(
        po_number=po_number,
        order_date=date(2026, 11, 2),
        delivery_date=date(2026, 11, 20),
        currency="USD",
        buyer=Party(name=buyer[0], address=buyer[1], email=buyer[2]),
        vendor=VendorParty(
            name="Global Industrial Supply Co.", address="55 Commerce Drive, Dayton, OH 45402"
        ),
        ship_to="Warehouse 3, 400 Logistics Blvd, Joliet, IL 60431",
        payment_terms="Net 30",
        lines=order_lines,
        subtotal=subtotal,
        tax=tax,
        shipping=ship,
        total=subtotal + tax + ship,
    )


def _address_lines(address: str | None) -> list[str]:
    parts = (address or "").split(", ")
    return [", ".join(parts[:-1]), parts[-1]] if len(parts) > 2 else parts


def render_pdf(order: PurchaseOrder, *, embedded: list[tuple[str, bytes]] | None = None) -> bytes:
    """The PO as a PDF; ``embedded`` files (``factur-x.xml``...) are attached to it."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf: Any = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("helvetica", size=16, style="B")
    pdf.cell(100, 8, order.buyer.name or "")
    pdf.cell(0, 8, "PURCHASE ORDER", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=10, style="")
    for label, value in (
        ("PO Number:", order.po_number or ""),
        ("Order Date:", _day(order.order_date)),
        ("Delivery Date:", _day(order.delivery_date)),
        ("Payment Terms:", order.payment_terms or ""),
    ):
        pdf.set_x(120)
        pdf.cell(35, 5, label)
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    blocks = (
        (
            10,
            50,
            "Buyer:",
            [order.buyer.name or "", *_address_lines(order.buyer.address), f"Email: {order.buyer.email}"],
        ),
        (110, 50, "Vendor:", [order.vendor.name or "", *_address_lines(order.vendor.address)]),
        (10, 80, "Ship To:", _address_lines(order.ship_to)),
    )
    for x, y, label, texts in blocks:
        pdf.set_xy(x, y)
        pdf.set_font(style="B")
        pdf.cell(80, 5, label, new_x="LEFT", new_y="NEXT")
        pdf.set_font(style="")
        for text in texts:
            pdf.cell(80, 5, text, new_x="LEFT", new_y="NEXT")
    pdf.set_xy(10, 100)
    with pdf.table(
        col_widths=(25, 85, 15, 30, 35),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="ALL",
        v_align="TOP",
        headings_style=FontFace(emphasis="BOLD"),
        line_height=5,
        padding=(1, 1.5),
    ) as table:
        heading = table.row()
        for text in ("SKU", "Description", "Qty", "Unit Price", "Amount"):
            heading.cell(text)
        for line in order.lines:
            row = table.row()
            for text in (
                line.sku or "",
                line.description or "",
                f"{line.quantity.normalize():f}",
                _money(line.unit_price),
                _money(line.amount),
            ):
                row.cell(text)
    pdf.ln(4)
    totals: tuple[tuple[str, Decimal | None], ...] = (
        ("Subtotal", order.subtotal),
        ("Sales Tax", order.tax),
        ("Shipping", order.shipping),
        ("Total", order.total),
    )
    for label, amount in totals:
        if amount is None:
            continue
        pdf.set_x(120)
        pdf.cell(40, 6, label)
        pdf.cell(35, 6, _money(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    for name, data in embedded or []:
        pdf.embed_file(bytes=data, basename=name, desc="structured order data", compress=True)
    return bytes(pdf.output())


def build_email(
    attachments: list[tuple[str, bytes, str]],
    *,
    sender: str = "purchasing@acme-mfg.com",
    subject: str = "Purchase order",
    body: str = "Please find our purchase order attached.",
) -> bytes:
    """A raw MIME message as SES stores it; attachments are ``(filename, bytes, mime type)``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "orders@example.com"
    message["Subject"] = subject
    message["Message-ID"] = "<demo@example.com>"
    message.set_content(body)
    for filename, data, mime_type in attachments:
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
