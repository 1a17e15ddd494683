"""A very large order through the whole pipeline (shared by the test and ``make bench``).

The order (PDF plus its Order-X XML beside it in one e-mail) is dropped in the PO inbox; the state
machine CDK synthesizes runs it in moto with our handlers, the Tray simulator receives the order.
What Tray received is counted from the simulator's own records: the lines of every run that took
effect, each line number once.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from tray_agent.models.purchase_order import PurchaseOrder

# Active catalog products (tests/fixtures/catalog.json) sold per piece, with their price for Acme
# and a quantity inside the catalog's range, so a correct order is clean and goes straight to Tray.
PRODUCTS = (
    ("WID-1001", "Steel widget, zinc plated", "12.50", (10, 400)),
    ("CAB-CAT6-5", "Network cable Cat6 shielded, 5 m", "8.90", (1, 500)),
    ("TON-HP-26X", "Toner cartridge black high yield", "89.00", (1, 50)),
    ("BRK-220", "Mounting bracket 40 mm", "4.25", (1, 900)),  # Acme's contract price
)


def large_order(lines: int, po_number: str) -> PurchaseOrder:
    from tray_local.po_documents import make_order

    cycle = itertools.cycle(PRODUCTS)
    rows = []
    for number in range(1, lines + 1):
        sku, description, price, (low, high) = next(cycle)
        quantity = low + number % (high - low + 1)
        rows.append((sku, f"{description} (lot {number})", quantity, price))
    return make_order(po_number, rows, shipping="0")


def render_long_pdf(order: PurchaseOrder) -> bytes:
    """The order printed as ERPs print long orders: a header, then one text row per line (fpdf2's
    bordered tables take half a minute for 2,000 rows; plain rows take a second or two)."""
    from fpdf import FPDF

    pdf: Any = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", size=14, style="B")
    pdf.cell(0, 8, f"PURCHASE ORDER {order.po_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=9, style="")
    for text in (
        f"Order Date: {order.order_date:%m/%d/%Y}" if order.order_date else "",
        f"Buyer: {order.buyer.name}",
        f"Vendor: {order.vendor.name}",
        "",
    ):
        pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    widths = (25, 95, 15, 25, 30)  # rows of 6 mm: 2,000 lines print on 45 pages
    for cells in [("SKU", "Description", "Qty", "Unit Price", "Amount")] + [
        (
            line.sku or "",
            line.description or "",
            f"{line.quantity.normalize():f}",
            f"{line.unit_price:,.2f}",
            f"{line.amount:,.2f}",
        )
        for line in order.lines
    ]:
        for width, text, align in zip(widths, cells, "LLRRR", strict=True):
            pdf.cell(width, 6, text, align=align)
        pdf.ln(6)
    for label, amount in (("Subtotal", order.subtotal), ("Tax", order.tax), ("Total", order.total)):
        pdf.cell(160, 6, label, align="R")
        pdf.cell(30, 6, f"{amount:,.2f}", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def large_order_email(order: PurchaseOrder) -> bytes:
    from tray_local.po_documents import build_email
    from tray_local.po_xml import cii_order

    render_pdf = render_long_pdf

    name = order.po_number or "order"
    return build_email(
        [
            (f"{name}.pdf", render_pdf(order), "application/pdf"),
            (f"{name}.xml", cii_order(order), "application/xml"),
        ]
    )


def lines_received(env: Any, intake_id: str) -> Counter[int]:
    """How often each line number of the order reached Tray in a run that took effect."""
    env.simulator.wait_idle()
    seen: Counter[int] = Counter()
    for record in env.simulator.engine.executions():
        if not (record.idempotency_key or "").startswith(f"{intake_id}:") or not record.took_effect:
            continue
        data = record.input.get("order_data", {})
        first = int(data.get("chunk", {}).get("first_line", 1))
        for offset, _ in enumerate(data.get("lines", [])):
            seen[first + offset] += 1
    return seen


def drop_large_order(pipeline: Any, lines: int) -> tuple[Any, str, PurchaseOrder]:
    order = large_order(lines, f"PO-BIG-{uuid.uuid4().hex[:8].upper()}")
    drop = pipeline.drop(f"inbox/big-{uuid.uuid4().hex[:8]}.eml", large_order_email(order), timeout_s=300)
    ((intake_id, result),) = drop.executions.items()
    return result, intake_id, order


def every_price_off(order: PurchaseOrder) -> PurchaseOrder:
    """The same order with every line priced at 1.00: a finding on each of its lines."""
    from tray_local.po_documents import make_order

    rows = [(line.sku or "", line.description or "", int(line.quantity), "1.00") for line in order.lines]
    return make_order(order.po_number or "", rows, shipping="0")


def review_large_order(env: Any, pipeline: Any, lines: int) -> tuple[int, float]:
    """A ``lines``-line order with a finding on every line: dropped, paused for review, approved
    through the API with three lines corrected, ordered. Lines Tray received exactly once, and the
    seconds from the drop to the recorded outcome (the reviewer answers at once)."""
    import time

    order = every_price_off(large_order(lines, f"PO-BIGREV-{uuid.uuid4().hex[:8].upper()}"))
    started = time.perf_counter()
    drop = pipeline.drop(f"inbox/bigrev-{uuid.uuid4().hex[:8]}.eml", large_order_email(order), timeout_s=300)
    ((intake_id, paused),) = drop.executions.items()
    if not paused.paused:
        raise AssertionError(f"the large order did not pause for review: {paused}")
    edits = {
        str(n): {"unit_price": price, "amount": f"{order.lines[n - 1].quantity * Decimal(price):.2f}"}
        for n, price in ((1, PRODUCTS[0][2]), (2, PRODUCTS[1][2]), (lines, PRODUCTS[(lines - 1) % 4][2]))
    }
    answer = env.api("POST", f"/reviews/{intake_id}/approve", {"edited_payload": {"line_edits": edits}})
    if answer.status != 200:
        raise AssertionError(f"the approval was refused: {answer.body}")
    result = pipeline.wait(intake_id, timeout_s=300)
    elapsed = time.perf_counter() - started
    if not result.succeeded or result.output.get("outcome") != "ordered":
        raise AssertionError(f"the reviewed large order was not ordered: {result}")
    seen = lines_received(env, intake_id)
    return sum(1 for number in range(1, lines + 1) if seen[number] == 1), elapsed


def run_large_order(lines: int, *, review: bool = False) -> tuple[int, float, tuple[int, float] | None]:
    """Lines Tray received exactly once for a ``lines``-line order, and the seconds from the drop
    to the recorded outcome (the bench's figures; starting moto and the simulator not counted);
    with ``review``, the same for an order with a finding on every line (``review_large_order``)."""
    import time

    from tests.po_pipeline.conftest import CATALOG_JSON
    from tray_agent.domain.po.catalog import load_catalog, parse_catalog_file
    from tray_local.local_env import LocalEnvironment
    from tray_local.po_local import LocalPoPipeline

    with LocalEnvironment.start() as env:
        load_catalog(parse_catalog_file(CATALOG_JSON), settings=env.settings)
        with LocalPoPipeline.start(env) as pipeline:
            started = time.perf_counter()
            result, intake_id, _ = drop_large_order(pipeline, lines)
            elapsed = time.perf_counter() - started
            if not result.succeeded:
                raise AssertionError(f"the large order did not succeed: {result}")
            seen = lines_received(env, intake_id)
            reviewed = review_large_order(env, pipeline, lines) if review else None
    return sum(1 for number in range(1, lines + 1) if seen[number] == 1), elapsed, reviewed
