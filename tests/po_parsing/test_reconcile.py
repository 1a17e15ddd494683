from __future__ import annotations

from decimal import Decimal

from tray_agent.domain.po.parsing.reconcile import reconcile
from tray_agent.models.purchase_order import OVERALL, PurchaseOrder, PurchaseOrderLine

THRESHOLD = 0.7


def _order(**changes: object) -> PurchaseOrder:
    base = PurchaseOrder(
        po_number="PO-1",
        lines=[
            PurchaseOrderLine(
                sku="A", quantity=Decimal(3), unit_price=Decimal("2.50"), amount=Decimal("7.50")
            ),
            PurchaseOrderLine(
                sku="B", quantity=Decimal(10), unit_price=Decimal("1.25"), amount=Decimal("12.50")
            ),
        ],
        subtotal=Decimal("20.00"),
        tax=Decimal("1.60"),
        shipping=Decimal("5.00"),
        total=Decimal("26.60"),
        confidence={"po_number": 0.95, "lines": 0.95, "total": 0.95},
    )
    return base.model_copy(update=changes)


def test_consistent_order_passes_without_warnings() -> None:
    order = reconcile(_order())
    assert order.warnings == []
    assert order.confidence[OVERALL] == 0.95
    assert not order.needs_review(THRESHOLD)


def test_line_arithmetic_mismatch_is_a_warning_that_sends_to_review() -> None:
    lines = [
        PurchaseOrderLine(sku="A", quantity=Decimal(3), unit_price=Decimal("2.50"), amount=Decimal("8.50")),
        PurchaseOrderLine(sku="B", quantity=Decimal(10), unit_price=Decimal("1.25"), amount=Decimal("11.50")),
    ]
    order = reconcile(_order(lines=lines))
    assert order.warnings == [
        "line 1: quantity 3 x unit price 2.50 = 7.50, but the amount is 8.50",
        ("line 2: quantity 10 x unit price 1.25 = 12.50, but the amount is 11.50"),
    ]
    assert order.confidence["lines"] <= 0.3
    assert order.needs_review(THRESHOLD)


def test_missing_line_shows_as_a_subtotal_mismatch() -> None:
    order = _order()
    order = reconcile(order.model_copy(update={"lines": order.lines[:1]}))
    assert any("a line may be missing" in warning for warning in order.warnings)
    assert order.overall_confidence <= 0.3
    assert order.needs_review(THRESHOLD)


def test_missing_line_without_subtotal_shows_against_the_total() -> None:
    order = _order(subtotal=None)
    order = reconcile(order.model_copy(update={"lines": order.lines[1:]}))
    assert any("but the total is 26.60" in warning for warning in order.warnings)
    assert order.needs_review(THRESHOLD)


def test_totals_that_do_not_add_up() -> None:
    order = reconcile(_order(total=Decimal("30.00")))
    assert order.warnings == ["subtotal 20.00 + tax 1.60 + shipping 5.00 = 26.60, but the total is 30.00"]
    assert order.confidence["total"] <= 0.3


def test_rounding_within_a_cent_is_accepted() -> None:
    line = PurchaseOrderLine(quantity=Decimal(3), unit_price=Decimal("0.333"), amount=Decimal("1.00"))
    order = reconcile(
        _order(lines=[line], subtotal=Decimal("1.00"), tax=None, shipping=None, total=Decimal("1.00"))
    )
    assert order.warnings == []


def test_empty_order_and_missing_prices_are_flagged() -> None:
    assert "no line items were found" in reconcile(_order(lines=[])).warnings
    line = PurchaseOrderLine(quantity=Decimal(2), unit_price=None, amount=Decimal("4.00"))
    order = reconcile(
        _order(lines=[line], subtotal=Decimal("4.00"), tax=None, shipping=None, total=Decimal("4.00"))
    )
    assert order.warnings == ["line 1: no unit price"]
    assert reconcile(_order(total=None, subtotal=None)).warnings == [
        "no order total was found to check the lines against"
    ]
